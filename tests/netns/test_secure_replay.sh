#!/bin/bash
# tests/netns/test_secure_replay.sh: captured secure-mode datagrams replayed
# into the daemons with scapy (secure_replay.py) are all refused and counted.
#
#   ns A                                              ns B
#   gresecd ── gre1 11.11.1.1/30 ┄┄ UDP 51947 ┄┄ gre1 11.11.1.2/30 ── gresecd
#   veth0 10.0.0.1/24 fd00::1/64 ──────────── veth0 10.0.0.2/24 fd00::2/64
#
# For IPv4 and IPv6 underlays: tcpdump records everything between the sites
# from before the handshake (initiation, response, data, keepalives); then
# every datagram is resent from its own source to its own destination.  Data
# messages must fail the replay window ("replay"), the initiation its
# timestamp check ("replay"), the response finds no handshake waiting
# ("no_session"); nothing of it reaches the tunnel interface (rx_packets grows
# at most by the new datagrams a second capture sees meanwhile), no new
# session or handshake answer comes of it, and the tunnel keeps working.
# The same data resent from another address of A must not move B's
# endpoint (only authenticated packets do); nor must an old initiation
# replayed while the receiver waits for the answer to its own.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
command -v tcpdump >/dev/null 2>&1 || skip "$(basename "$0") needs tcpdump"
require_scapy
setup_test

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"

. "$NETNS_DIR/secure_lib.sh"
secure_keys

# refused NS SOCK: "replay no_session rate_limited handshake bad_mac rx_packets"
refused()
{
	gresec_json "$1" "$2" gre1 | "$PY" -c '
import json, sys
t = json.load(sys.stdin)["tunnels"][0]
d = t["drops"]
print(d["replay"], d["no_session"], d["rate_limited"], d["handshake"], d["bad_mac"], t["rx_packets"])'
}

# counted NS SOCK BEFORE N: replay + no_session + rate_limited grew by >= N.
counted()
{
	local now b
	read -r -a now <<<"$(refused "$1" "$2")"
	read -r -a b <<<"$3"
	[ $((now[0] + now[1] + now[2] - b[0] - b[1] - b[2])) -ge "$4" ]
}

# nmsg SUMMARY_JSON SRC>DST TYPE: how many messages of TYPE went SRC -> DST.
nmsg()
{
	"$PY" -c '
import json, sys
print(json.loads(sys.argv[1])["directions"].get(sys.argv[2], {}).get(sys.argv[3], 0))' "$1" "$2" "$3"
}

# replay_into LABEL NS_FROM SRC NS_TO SOCK_TO LOG_TO N_DATA N_INIT N_RESP
replay_into()
{
	local label=$1 from=$2 src=$3 to=$4 sock=$5 log=$6 ndata=$7 ninit=$8 nresp=$9
	local before after out total answered_before answered_after fresh
	local -a b a

	# The kernels' own IPv6 chatter (router solicitations, MLD) may cross
	# the tunnel meanwhile: a second capture tells it from the replays.
	capture_start "$to" "$TMPD/during.pcap" udp port 51947
	before=$(refused "$to" "$sock")
	answered_before=$(grep -c 'initiation answered\|session established' "$log")
	out=$(ip netns exec "$from" "$PY" "$NETNS_DIR/secure_replay.py" replay "$PCAP" --src "$src")
	total=$(echo "$out" | json_get total)
	echo "# $label: resent $out"
	check_eq "$label: every captured datagram from $src resent" "$total" $((ndata + ninit + nresp))
	wait_for counted "$to" "$sock" "$before" "$total"
	after=$(refused "$to" "$sock")
	capture_stop
	fresh=$("$PY" "$NETNS_DIR/secure_replay.py" fresh "$PCAP" "$TMPD/during.pcap" --src "$src" |
		json_get fresh)
	read -r -a b <<<"$before"
	read -r -a a <<<"$after"
	echo "# $label: replay +$((a[0] - b[0])), no_session +$((a[1] - b[1])), rate_limited +$((a[2] - b[2])), handshake +$((a[3] - b[3])), bad_mac +$((a[4] - b[4]))"
	check "$label: replay + no_session + rate_limited grew by >= $total (all resent: $ndata data, $ninit initiations, $nresp responses)" \
		test $((a[0] + a[1] + a[2] - b[0] - b[1] - b[2])) -ge "$total"
	check "$label: replay counter grew by >= $ndata data + $ninit initiations (+$((a[0] - b[0])))" \
		test $((a[0] - b[0])) -ge $((ndata + ninit))
	check "$label: rx_packets grew only by new traffic, not by replays (+$((a[5] - b[5])), $fresh new datagrams from $src meanwhile)" \
		test $((a[5] - b[5])) -le "${fresh:-0}"
	check_eq "$label: no handshake or bad_mac drops from genuine old messages" \
		"$((a[3] - b[3])) $((a[4] - b[4]))" "0 0"
	answered_after=$(grep -c 'initiation answered\|session established' "$log")
	check_eq "$label: no handshake answered or session made from the replay" \
		"$answered_after" "$answered_before"
}

replay_case()
{
	local ul=$1 la lb sum ndata_ab ninit_ab nresp_ab ndata_ba ninit_ba nresp_ba got ep
	local ca="$TMPD/v$1-a.conf" cb="$TMPD/v$1-b.conf"

	if [ "$ul" = 4 ]; then la=$UL4_A lb=$UL4_B; else la=$UL6_A lb=$UL6_B; fi
	echo "# ---- replay over IPv$ul ----"
	write_sconf "$ca" gre "$la" "$lb" '"11.11.1.1/30", "fd11::1/64"' '"11.11.1.2", "fd11::2"' \
		"$TMPD/a.key" "$PUB_B"
	write_sconf "$cb" gre "$lb" "" '"11.11.1.2/30", "fd11::2/64"' '"11.11.1.1", "fd11::1"' \
		"$TMPD/b.key" "$PUB_A"
	PCAP="$TMPD/v$ul.pcap"
	# From before the first message, so the handshake is on record.
	capture_start "$A" "$PCAP" udp port 51947
	start_b "$cb"          # B has no remote: A initiates, B answers
	start_a "$ca"
	wait_for established_both
	check "v$ul: session established" established_both
	check "v$ul: ping IPv4 A -> B" pings "$A" 11.11.1.2 10
	check "v$ul: ping IPv6 B -> A" pings "$B" fd11::1 10
	capture_stop

	sum=$("$PY" "$NETNS_DIR/secure_replay.py" summary "$PCAP")
	echo "# v$ul: captured $sum"
	ndata_ab=$(nmsg "$sum" "$la>$lb" 4) ninit_ab=$(nmsg "$sum" "$la>$lb" 1) nresp_ab=$(nmsg "$sum" "$la>$lb" 2)
	ndata_ba=$(nmsg "$sum" "$lb>$la" 4) ninit_ba=$(nmsg "$sum" "$lb>$la" 1) nresp_ba=$(nmsg "$sum" "$lb>$la" 2)
	check "v$ul: capture holds A's initiation, B's response and data both ways" \
		test "$ninit_ab" -ge 1 -a "$nresp_ba" -ge 1 -a "$ndata_ab" -ge 10 -a "$ndata_ba" -ge 10
	got=$(tunnel_field "$B" "$SOCK_B" gre1 endpoint)
	ep_b=$got

	# Everything A sent, into B; everything B sent, into A.
	replay_into "v$ul A->B" "$A" "$la" "$B" "$SOCK_B" "$LOG_B" "$ndata_ab" "$ninit_ab" "$nresp_ab"
	replay_into "v$ul B->A" "$B" "$lb" "$A" "$SOCK_A" "$LOG_A" "$ndata_ba" "$ninit_ba" "$nresp_ba"

	# A's data again, from another of A's addresses: B must not follow it.
	if [ "$ul" = 4 ]; then other=10.0.0.77; ip -n "$A" addr add "$other/24" dev veth0
	else other=fd00::77; ip -n "$A" addr add "$other/64" dev veth0 nodad; fi
	before=$(refused "$B" "$SOCK_B")
	ip netns exec "$A" "$PY" "$NETNS_DIR/secure_replay.py" replay "$PCAP" --src "$la" \
		--types 4 --as "$other" >/dev/null
	wait_for counted "$B" "$SOCK_B" "$before" "$ndata_ab"
	check "v$ul: A's data resent from $other counted as replays" \
		counted "$B" "$SOCK_B" "$before" "$ndata_ab"
	got=$(tunnel_field "$B" "$SOCK_B" gre1 endpoint)
	check_eq "v$ul: B's endpoint did not move to the replaying address" "$got" "$ep_b"
	case "$got" in
	*"$la"*) ok "v$ul: B's endpoint is still A's address ($got)" ;;
	*) not_ok "v$ul: B's endpoint '$got' is not A's $la" ;;
	esac
	if [ "$ul" = 4 ]; then ip -n "$A" addr del "$other/24" dev veth0
	else ip -n "$A" addr del "$other/64" dev veth0; fi

	# The tunnel is unharmed.
	check "v$ul: still established on both sides" established_both
	check "v$ul: ping A -> B after the replays" pings "$A" 11.11.1.2 3
	check "v$ul: ping B -> A after the replays" pings "$B" 11.11.1.1 3
	check "v$ul: gresecd in A and B still running" kill -0 "$PID_A" "$PID_B"
	stop_both "v$ul"
}

# An old initiation replayed while the receiver waits for the answer to its
# own: when initiations cross, the end with the larger public key (W) keeps
# its own and re-sends it to the peer's address, so a replayed initiation
# must be refused before that decision, or it would move W's endpoint to the
# replaying address and start a handshake there.
pending_case()
{
	local w ns_w ns_l sock_w log_w pid_l conf_w conf_l ul_w ul_l before after got n
	local ca="$TMPD/pend-a.conf" cb="$TMPD/pend-b.conf"

	echo "# ---- replayed initiation while a handshake is pending ----"
	w=$("$PY" -c 'import base64, sys
a, b = (base64.b64decode(k) for k in sys.argv[1:])
print("A" if a > b else "B")' "$PUB_A" "$PUB_B")
	T='keepalive_timeout = 1; rekey_after_time = 3;'
	write_sconf "$ca" gre "$UL4_A" "$UL4_B" '"11.11.1.1/30"' '"11.11.1.2"' "$TMPD/a.key" "$PUB_B" "$T"
	write_sconf "$cb" gre "$UL4_B" "$UL4_A" '"11.11.1.2/30"' '"11.11.1.1"' "$TMPD/b.key" "$PUB_A" "$T"
	PCAP="$TMPD/pend.pcap"
	capture_start "$A" "$PCAP" udp port 51947
	if [ "$w" = A ]; then
		start_a "$ca"; start_b "$cb"
		ns_w=$A ns_l=$B sock_w=$SOCK_A log_w=$LOG_A pid_l=$PID_B ul_w=$UL4_A ul_l=$UL4_B
		dst_w=11.11.1.1 dst_l=11.11.1.2
	else
		start_b "$cb"; start_a "$ca"
		ns_w=$B ns_l=$A sock_w=$SOCK_B log_w=$LOG_B pid_l=$PID_A ul_w=$UL4_B ul_l=$UL4_A
		dst_w=11.11.1.2 dst_l=11.11.1.1
	fi
	echo "# the larger public key is $w's"
	check "pending: the tunnel comes up" pings "$ns_w" "$dst_l" 3
	capture_stop
	n=$("$PY" "$NETNS_DIR/secure_replay.py" summary "$PCAP")
	check "pending: the capture holds an initiation from the other side" \
		test "$(nmsg "$n" "$ul_l>$ul_w" 1)" -ge 1
	# The other side goes away; W keeps sending, so it starts handshakes
	# nobody answers (one every 5 s).
	kill -KILL "$pid_l"
	wait "$pid_l" 2>/dev/null
	ip netns exec "$ns_w" ping -q -i 0.2 -c 60 -W 1 "$dst_l" >/dev/null 2>&1 &
	local ping_pid=$!
	BG_PIDS+=("$ping_pid")
	n=$(grep -c 'sending handshake initiation' "$log_w")
	WAIT_TIMEOUT=15 wait_for eval '[ "$(grep -c "sending handshake initiation" "$log_w")" -gt "$n" ]'
	check "pending: $w started a handshake the dead peer does not answer" \
		test "$(grep -c 'sending handshake initiation' "$log_w")" -gt "$n"
	before=$(tunnel_field "$ns_w" "$sock_w" gre1 drops.replay)
	ip -n "$ns_l" addr add 10.0.0.77/24 dev veth0
	ip netns exec "$ns_l" "$PY" "$NETNS_DIR/secure_replay.py" replay "$PCAP" --src "$ul_l" \
		--types 1 --as 10.0.0.77 >/dev/null
	wait_for eval '[ "$(tunnel_field "$ns_w" "$sock_w" gre1 drops.replay)" -gt "$before" ]'
	after=$(tunnel_field "$ns_w" "$sock_w" gre1 drops.replay)
	check "pending: the replayed initiation is counted as a replay ($before -> $after)" \
		test "$after" -gt "$before"
	got=$(tunnel_field "$ns_w" "$sock_w" gre1 endpoint)
	check_eq "pending: $w's endpoint stays at the real peer" "$got" "$ul_l:51947"
	check "pending: $w sent nothing to the replaying address" \
		eval '! grep -q "10.0.0.77" "$log_w"'
	kill "$ping_pid" 2>/dev/null
	wait "$ping_pid" 2>/dev/null
	ip -n "$ns_l" addr del 10.0.0.77/24 dev veth0
	stop_gresecd "$( [ "$w" = A ] && echo "$PID_A" || echo "$PID_B")"
	check_eq "pending: gresecd in $w exits 0 on SIGTERM" "$?" 0
}

replay_case 4
replay_case 6
pending_case

finish
