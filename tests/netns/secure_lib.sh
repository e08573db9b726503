# tests/netns/secure_lib.sh: helpers shared by the secure-mode namespace
# tests (test_secure.sh, test_secure_replay.sh).  Sourced after lib.sh,
# require_root_netns, setup_test and make_pair "$A" "$B".

# secure_keys: key pairs for A, B and a third key nobody uses ("wrong"), in
# $TMPD/{a,b,wrong}.key (mode 0600), their public keys in PUB_A, PUB_B,
# PUB_WRONG, and two different pre-shared keys $TMPD/psk1, $TMPD/psk2.
secure_keys()
{
	local k

	for k in a b wrong; do
		(umask 077 && "$GRESEC" genkey >"$TMPD/$k.key") || fail "gresec genkey"
	done
	PUB_A=$("$GRESEC" pubkey <"$TMPD/a.key") || fail "gresec pubkey a"
	PUB_B=$("$GRESEC" pubkey <"$TMPD/b.key") || fail "gresec pubkey b"
	PUB_WRONG=$("$GRESEC" pubkey <"$TMPD/wrong.key") || fail "gresec pubkey wrong"
	(umask 077 && "$GRESEC" genpsk >"$TMPD/psk1" && "$GRESEC" genpsk >"$TMPD/psk2") ||
		fail "gresec genpsk"
}

# write_sconf FILE TYPE LOCAL REMOTE ADDRS PEERS KEY PEERPUB EXTRA: one secure
# tunnel "gre1" (LOCAL / REMOTE / PEERS may be empty: left out).
write_sconf()
{
	local file=$1 type=$2 local_ul=$3 remote_ul=$4 addrs=$5 peers=$6 key=$7 pub=$8 extra=$9

	{
		conf_daemon "$file"
		echo 'tunnels = ( {'
		echo '  name = "gre1"; mode = "secure"; type = "'"$type"'";'
		[ -n "$local_ul" ] && echo '  local = "'"$local_ul"'";'
		[ -n "$remote_ul" ] && echo '  remote = "'"$remote_ul"'";'
		echo "  address = ( $addrs );"
		[ -n "$peers" ] && echo "  peer_address = ( $peers );"
		echo '  private_key_file = "'"$key"'";'
		echo '  peer_public_key = "'"$pub"'";'
		[ -n "$extra" ] && echo "  $extra"
		echo '} );'
	} >"$file"
}

# start_a CONF / start_b CONF: gresecd in A / B; PID_, SOCK_, LOG_ A / B.
start_a() { start_gresecd "$A" "$1"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK LOG_A=$GRESECD_LOG; }
start_b() { start_gresecd "$B" "$1"; PID_B=$GRESECD_PID SOCK_B=$GRESECD_SOCK LOG_B=$GRESECD_LOG; }

# stop_both LABEL: SIGTERM both daemons; each exits 0; gre1 is gone.
stop_both()
{
	local st
	stop_gresecd "$PID_A"; st=$?
	check_eq "$1: gresecd in A exits 0 on SIGTERM" "$st" 0
	stop_gresecd "$PID_B"; st=$?
	check_eq "$1: gresecd in B exits 0 on SIGTERM" "$st" 0
	check "$1: gre1 gone from A and B" eval 'link_gone "$A" gre1 && link_gone "$B" gre1'
}

# state_is NS SOCK STATE: gre1's state in `gresec show` is STATE.
state_is() { [ "$(tunnel_field "$1" "$2" gre1 state)" = "$3" ]; }
established_both() { state_is "$A" "$SOCK_A" established && state_is "$B" "$SOCK_B" established; }

# capture_start NS FILE FILTER...: tcpdump on veth0 in NS, running when it
# returns (one capture at a time: CAP_PID).  --immediate-mode: without it
# libpcap hands packets over in blocks up to 1 s late, and a capture stopped
# right after the traffic misses them.
capture_start()
{
	local ns=$1 file=$2
	shift 2
	ip netns exec "$ns" tcpdump -i veth0 -n -U --immediate-mode -s 0 -w "$file" "$@" >"$file.err" 2>&1 &
	CAP_PID=$!
	BG_PIDS+=("$CAP_PID")
	wait_for grep -qs "listening on" "$file.err" || fail "tcpdump in $ns did not start"
}

# capture_stop: stop the capture; every packet seen by then is written.
capture_stop()
{
	sleep 0.3
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
}

# pcap_count FILE: the number of packets in a capture.
pcap_count() { tcpdump -n -r "$1" 2>/dev/null | wc -l; }

# pcap_has FILE HEX: the capture's bytes contain HEX somewhere.
pcap_has()
{
	"$PY" -c 'import sys; sys.exit(0 if bytes.fromhex(sys.argv[2]) in open(sys.argv[1], "rb").read() else 1)' \
		"$1" "$2"
}
