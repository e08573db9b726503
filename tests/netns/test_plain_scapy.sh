#!/bin/bash
# tests/netns/test_plain_scapy.sh: gresecd (plain) against an independent
# GRE endpoint written with scapy, checked on the wire with tshark.
#
#   ns D                                   ns S
#   gresecd ── gre1 11.11.1.1/30           scapy_peer.py / scapy_malformed.py
#              fd11::1/64                  (hand-made GRE on raw sockets)
#   veth0 10.0.0.1/24 ────────────── veth0 10.0.0.2/24, 10.0.0.3/24 (stranger)
#                                          tshark -i veth0
#
# Run 1: key 42 + checksum + sequence; run 2: no options.  Each run: echo
# through the tunnel in both families with every returned GRE packet checked,
# tshark's decoding of the capture, malformed input dropped and counted,
# daemon alive, exit 0 on SIGTERM.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
require_scapy
require_tshark
setup_test

D=$(ns_name d)
S=$(ns_name s)
make_pair "$D" "$S"
STRANGER=10.0.0.3
ip -n "$S" addr add "$STRANGER/24" dev veth0 || fail "second address in $S"

# S's kernel has no GRE: a raw protocol-47 socket held open for the whole
# test keeps it from answering the daemon with ICMP protocol unreachable,
# also for packets the daemon sends while no scapy script runs (IPv6 MLD or
# router solicitations the daemon's kernel sends over gre1 on its own).
# It logs what it sees: GRE flags and protocol type.
ip netns exec "$S" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
print("listening", flush=True)
while True:
    d = s.recv(65535)
    h = (d[0] & 15) * 4
    print("%d bytes from %s: GRE %s" % (len(d), socket.inet_ntoa(d[12:16]), d[h:h + 4].hex()),
          flush=True)
' >"$TMPD/gre-sink.log" 2>&1 &
BG_PIDS+=($!)
wait_for grep -q listening "$TMPD/gre-sink.log" || fail "GRE sink in $S did not start"

# start_capture FILE: tshark on S's veth0 until stop_capture.
start_capture()
{
	CAP_FILE=$1
	ip netns exec "$S" tshark -q -i veth0 -f "ip proto 47 or icmp" -w "$CAP_FILE" \
		>"$CAP_FILE.log" 2>&1 &
	CAP_PID=$!
	BG_PIDS+=("$CAP_PID")
	wait_for grep -q "Capturing on" "$CAP_FILE.log" ||
		fail "tshark did not start: $(cat "$CAP_FILE.log")"
	sleep 0.3
}

stop_capture()
{
	sleep 0.3
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
}

# run_py LABEL SCRIPT ARGS...: a python check in S; its ok/not ok lines
# count towards ours.
run_py()
{
	local label=$1 out rc
	shift
	out=$(ip netns exec "$S" timeout 90 "$PY" "$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	N_OK=$((N_OK + $(printf '%s\n' "$out" | grep -c '^ok - ')))
	N_FAIL=$((N_FAIL + $(printf '%s\n' "$out" | grep -c '^not ok - ')))
	if [ "$rc" -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok - '; then
		not_ok "$label: $(basename "$1") exited with status $rc"
	fi
	PY_OUT=$out
}

# run LABEL OPTIONS_CONF PY_OPTS...
run()
{
	local label=$1 opts=$2 conf="$TMPD/$1.conf" st
	shift 2

	echo "# ---- $label ----"
	{
		conf_daemon "$conf"
		cat <<EOF
tunnels = ( {
  name = "gre1"; mode = "plain"; type = "gre";
  local = "10.0.0.1"; remote = "10.0.0.2";
  address = ( "11.11.1.1/30", "fd11::1/64" );
  peer_address = ( "11.11.1.2", "fd11::2" );
  $opts
} );
EOF
	} >"$conf"
	start_gresecd "$D" "$conf"
	local pid=$GRESECD_PID sock=$GRESECD_SOCK
	wait_for no_tentative "$D" gre1
	local mtu
	mtu=$(link_field "$D" gre1 mtu)

	start_capture "$TMPD/$label.pcapng"
	run_py "$label echo" "$NETNS_DIR/scapy_peer.py" echo \
		--daemon 10.0.0.1 --me 10.0.0.2 --inner-daemon 11.11.1.1 --inner-me 11.11.1.2 \
		--inner6-daemon fd11::1 --inner6-me fd11::2 --mtu "$mtu" --seq-start 1 "$@"
	stop_capture
	run_py "$label tshark" "$NETNS_DIR/scapy_peer.py" pcap "$TMPD/$label.pcapng" \
		--daemon 10.0.0.1 --me 10.0.0.2 "$@"

	run_py "$label malformed" "$NETNS_DIR/scapy_malformed.py" \
		--daemon 10.0.0.1 --me 10.0.0.2 --stranger "$STRANGER" \
		--inner-daemon 11.11.1.1 --inner-me 11.11.1.2 \
		--gresec "$GRESEC" --sock "$sock" --tunnel gre1 --seq-start 1000 "$@"

	check "$label: gresecd still running after malformed input" kill -0 "$pid"
	stop_gresecd "$pid"; st=$?
	check_eq "$label: gresecd exits 0 on SIGTERM" "$st" 0
	check "$label: gre1 removed after SIGTERM" link_gone "$D" gre1
}

run kcs 'key = 42; checksum = true; sequence = true;' --key 42 --csum --seq
run plain ''

finish
