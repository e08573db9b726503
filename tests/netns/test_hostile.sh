#!/bin/bash
# tests/netns/test_hostile.sh: gresecd under hostile traffic.
#
#   ns A                                  ns B                              ns M (attacker)
#   gresecd ── veth0 10.0.0.1 ────── veth0 10.0.0.2 ── gresecd
#   gre1 (secure) 11.11.1.1/30             gre1 11.11.1.2/30
#   pl1 (plain)   11.11.2.1/30             pl1  11.11.2.2/30
#                                          veth1 10.0.9.2 ──────────── veth0 10.0.9.1
#
# - Handshake-initiation floods at B's UDP port from M (tests/tools/flood,
#   sendmmsg), HOSTILE_FLOOD_SECONDS in all (default 30), a third each:
#   bogus mac1, valid mac1 with unknown keys (answered with cookie replies,
#   counted by the flooder; the Diffie-Hellman work stays bounded), and valid
#   mac1 from spoofed sources.  Meanwhile a ping and a TCP stream run through
#   the secure tunnel: pings must still be answered; loss and throughput
#   are printed against a quiet run,
#   and B's CPU seconds and peak RSS (VmHWM) are printed and bounded.
# - Replay of the whole captured session (both directions): every datagram
#   is dropped and counted, nothing reaches the tunnel interface.
# - Undersized, oversized, bad-type, unknown-index and forged data datagrams:
#   each counted under its reason, exactly.
# - Plain mode: GRE from addresses that are no tunnel's remote: unknown_source.
# - SIGKILL of A (the initiator) during traffic (core dumps off: core limit
#   0), restart: the session is back and traffic flows.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

FLOOD="$top_builddir/tests/tools/flood"
FLOOD_SECONDS=${HOSTILE_FLOOD_SECONDS:-30}
PORT=51947

require_root_netns
[ -x "$FLOOD" ] || { echo "flood not built at $FLOOD (make check builds it)" >&2; exit 99; }
command -v tcpdump >/dev/null 2>&1 || skip "$(basename "$0") needs tcpdump"
setup_test

A=$(ns_name a)
B=$(ns_name b)
M=$(ns_name m)
make_pair "$A" "$B"
ip netns add "$M" || fail "ip netns add $M"
TEST_NAMESPACES+=("$M")
ip -n "$M" link set lo up &&
	ip -n "$M" link add veth0 type veth peer name veth1 netns "$B" &&
	ip -n "$M" addr add 10.0.9.1/24 dev veth0 && ip -n "$B" addr add 10.0.9.2/24 dev veth1 &&
	ip -n "$M" link set veth0 up && ip -n "$B" link set veth1 up &&
	ip -n "$M" route add default via 10.0.9.2 &&
	ip -n "$B" route add 10.0.10.0/24 via 10.0.9.1 || fail "attacker link"
# Spoofed sources come from 10.0.10.0/24, which B routes via M (M drops what
# B sends there), as an attacker's forged addresses are routed on the Internet.
wait_for nsx "$M" ping -c1 -W1 -q "$UL4_B" >/dev/null || fail "M cannot reach B"

make_keys a b

# write_conf FILE LOCAL REMOTE N(1|2) KEY PEERPUB SECURE_REMOTE(yes|no):
# secure gre1 + plain pl1.  B's gre1 has no remote: a pure responder, so
# every handshake in the capture below was sent to a daemon that was up.
write_conf()
{
	local file=$1 lo=$2 re=$3 n=$4 key=$5 pub=$6 sre=$7 peer=$((3 - $4))

	{
		conf_daemon "$file"
		echo 'tunnels = ( {'
		echo '  name = "gre1"; mode = "secure"; type = "gre";'
		echo "  local = \"$lo\"; port = $PORT; remote_port = $PORT;"
		[ "$sre" = yes ] && echo "  remote = \"$re\";"
		echo "  address = ( \"11.11.1.$n/30\" ); peer_address = \"11.11.1.$peer\";"
		echo "  private_key_file = \"$key\"; peer_public_key = \"$pub\";"
		echo '}, {'
		echo '  name = "pl1"; mode = "plain"; type = "gre";'
		echo "  local = \"$lo\"; remote = \"$re\";"
		echo "  address = ( \"11.11.2.$n/30\" ); peer_address = \"11.11.2.$peer\";"
		echo '} );'
	} >"$file"
}
CA="$TMPD/a.conf" CB="$TMPD/b.conf"
write_conf "$CA" "$UL4_A" "$UL4_B" 1 "$TMPD/a.key" "$PUB_B" yes
write_conf "$CB" "$UL4_B" "$UL4_A" 2 "$TMPD/b.key" "$PUB_A" no

# field NS SOCK TUNNEL PATH
field() { gresec_json "$1" "$2" "$3" | json_get "tunnels.$3.$4"; }
drops_all() { field "$1" "$2" gre1 drops_total; }
state_is() { [ "$(field "$1" "$2" gre1 state)" = "$3" ]; }
established_both() { state_is "$A" "$SOCK_A" established && state_is "$B" "$SOCK_B" established; }

# proc_stat PID: "VmHWM_kB VmRSS_kB cpu_seconds fds"
proc_stat()
{
	local pid=$1 hwm rss ticks
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
	echo "$hwm $rss $(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }') \
$(ls "/proc/$pid/fd" | wc -l)"
}

# traffic SECONDS TAG: a ping (every 50 ms) and a TCP stream A -> B through
# gre1 for SECONDS, in the background; traffic_result TAG waits for them and
# sets T_TX T_RX (pings sent, answered) and T_MBIT (TCP throughput).
traffic()
{
	local secs=$1 tag=$2
	nsx "$B" "$PY" -c '
import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("11.11.1.2", 5001)); l.listen(1); l.settimeout(30)
open(sys.argv[1] + ".ready", "w").close()
c, _ = l.accept(); c.settimeout(30)
n, t0 = 0, time.monotonic()
try:
    while True:
        b = c.recv(1 << 20)
        if not b:
            break
        n += len(b)
except socket.timeout:
    pass
open(sys.argv[1], "w").write("%.1f\n" % (n * 8 / max(time.monotonic() - t0, 1e-3) / 1e6))
' "$TMPD/$tag.tcp" &
	TRAFFIC_PIDS=($!)
	wait_for test -e "$TMPD/$tag.tcp.ready" || fail "TCP receiver did not start"
	nsx "$A" "$PY" -c '
import socket, sys, time
s = socket.create_connection(("11.11.1.2", 5001), timeout=30)
end, buf = time.monotonic() + float(sys.argv[1]), bytes(65536)
try:
    while time.monotonic() < end:
        s.send(buf)
except OSError:
    pass
s.close()
' "$secs" &
	TRAFFIC_PIDS+=($!)
	nsx "$A" ping -q -i 0.05 -w "$secs" -W 1 11.11.1.2 >"$TMPD/$tag.ping" 2>&1 &
	TRAFFIC_PIDS+=($!)
}

traffic_result()
{
	local tag=$1 pid
	for pid in "${TRAFFIC_PIDS[@]}"; do wait "$pid"; done
	read -r T_TX T_RX <<<"$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' "$TMPD/$tag.ping")"
	T_TX=${T_TX:-0} T_RX=${T_RX:-0}
	T_MBIT=$(cat "$TMPD/$tag.tcp" 2>/dev/null || echo 0)
}

# ---- start, with the first session captured for the replay ----
start_gresecd "$B" "$CB"; PID_B=$GRESECD_PID SOCK_B=$GRESECD_SOCK
ip netns exec "$B" tcpdump -i veth0 -U -s 0 -w "$TMPD/session.pcap" udp port $PORT >/dev/null 2>&1 &
TCPDUMP_PID=$!
BG_PIDS+=("$TCPDUMP_PID")
sleep 1
start_gresecd "$A" "$CA"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK
wait_for established_both || fail "no secure session"
check "ping through the secure tunnel" pings "$A" 11.11.1.2 10
sleep 0.5
kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null

# ---- quiet run, then three floods, each with the same traffic ----
PHASE=$((FLOOD_SECONDS / 3)); [ "$PHASE" -ge 2 ] || PHASE=2
"$PY" "$NETNS_DIR/hostile_msgs.py" bogus 1024 "$TMPD/bogus.bin" || fail "bogus templates"
"$PY" "$NETNS_DIR/hostile_msgs.py" mac1 "$PUB_B" 1024 "$TMPD/mac1.bin" || fail "mac1 templates"

# udp_rcvbuf_errors NS: datagrams the kernel dropped on full UDP socket buffers.
udp_rcvbuf_errors() { nsx "$1" awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp; }

# phase TAG [FLOOD ARGS...]: PHASE seconds of ping + TCP through gre1, with
# the flooder in M running alongside when FLOOD ARGS are given.  Prints a
# "# ..." line; sets P_LOSS (ping loss %) and P_MBIT.
phase()
{
	local tag=$1 e0 e1 loss
	shift
	e0=$(udp_rcvbuf_errors "$B")
	traffic "$PHASE" "$tag"
	if [ $# -gt 0 ]; then
		nsx "$M" "$FLOOD" --dst "$UL4_B:$PORT" --duration "$PHASE" --stats "$TMPD/flood-$tag.json" "$@" ||
			fail "flood ($tag)"
	fi
	traffic_result "$tag"
	e1=$(udp_rcvbuf_errors "$B")
	P_LOSS=$(awk -v t="$T_TX" -v r="$T_RX" 'BEGIN { printf "%.1f", t ? 100 * (t - r) / t : 100 }')
	P_MBIT=$T_MBIT P_RX=$T_RX
	echo "# $tag ($PHASE s): ping $T_RX/$T_TX answered (loss $P_LOSS%), TCP $T_MBIT Mbit/s," \
		"B's UDP receive-buffer drops +$((e1 - e0))"
	[ $# -gt 0 ] && echo "#   flooder: $(cat "$TMPD/flood-$tag.json")"
}

phase quiet
q_loss=$P_LOSS q_mbit=$P_MBIT
read -r hwm0 rss0 cpu0 fd0 <<<"$(proc_stat "$PID_B")"
bad_mac0=$(field "$B" "$SOCK_B" gre1 drops.bad_mac)
hs0=$(field "$B" "$SOCK_B" gre1 drops.handshake)
for kind in bogus mac1 spoof; do
	case $kind in
	bogus) phase flood-bogus --templates "$TMPD/bogus.bin" ;;
	mac1) phase flood-mac1 --templates "$TMPD/mac1.bin" ;;
	spoof) phase flood-spoof --templates "$TMPD/mac1.bin" --spoof 10.0.10.0/24 ;;
	esac
	# A flood beyond what the daemon can read shares its UDP socket with the
	# tunnel's data, so loss follows the overload; the tunnel must not stop.
	check "$kind flood: pings still answered through the tunnel ($P_RX, loss $P_LOSS%, quiet $q_loss%)" \
		test "$P_RX" -gt 0
	case $kind in
	bogus) bad_mac1=$(field "$B" "$SOCK_B" gre1 drops.bad_mac)
		hs1=$(field "$B" "$SOCK_B" gre1 drops.handshake) ;;
	mac1) hs2=$(field "$B" "$SOCK_B" gre1 drops.handshake) ;;
	spoof) hs3=$(field "$B" "$SOCK_B" gre1 drops.handshake) ;;
	esac
done
read -r hwm1 rss1 cpu1 fd1 <<<"$(proc_stat "$PID_B")"

sent_bogus=$(json_get sent <"$TMPD/flood-flood-bogus.json")
sent_mac1=$(json_get sent <"$TMPD/flood-flood-mac1.json")
sent_spoof=$(json_get sent <"$TMPD/flood-flood-spoof.json")
cookies=$(json_get cookie_replies <"$TMPD/flood-flood-mac1.json")
echo "# gresecd B: bad_mac +$((bad_mac1 - bad_mac0)) of $sent_bogus bogus;" \
	"Diffie-Hellman attempts (handshake drops) +$((hs2 - hs1)) for $sent_mac1 valid-mac1," \
	"+$((hs3 - hs2)) for $sent_spoof spoofed; cookie replies seen by the flooder $cookies"
echo "# gresecd B: VmHWM $hwm0 -> $hwm1 kB, VmRSS $rss0 -> $rss1 kB," \
	"CPU $cpu0 -> $cpu1 s ($(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }') s in $((3 * PHASE)) s of floods), fds $fd0 -> $fd1"
check "bogus mac1 flood: dropped as bad_mac, no Diffie-Hellman" \
	test $((bad_mac1 - bad_mac0)) -gt 0 -a "$hs1" = "$hs0"
check "valid-mac1 flood: B answers with cookie replies ($cookies)" test "$cookies" -gt 0
# Without cookies every one of them would cost a DH; under load B only does
# them for the first 64 handshake messages of each second.
check "valid-mac1 floods: Diffie-Hellman work bounded by the load threshold" \
	test $((hs3 - hs1)) -le $((70 * (2 * PHASE + 2)))
# AddressSanitizer's shadow memory and quarantine make RSS meaningless there.
if grep -qa __asan_init "$GRESECD"; then
	echo "# peak RSS not checked: gresecd is built with AddressSanitizer"
else
	check "peak RSS of gresecd stays bounded (VmHWM $hwm1 kB < 64 MB, grew $((hwm1 - hwm0)) kB)" \
		test "$hwm1" -lt 65536 -a $((hwm1 - hwm0)) -lt 16384
fi
check_eq "no file descriptors leaked by the floods" "$fd1" "$fd0"
sleep 1.2     # out of the "under load" second
check "session still established after the floods" established_both
check "pings pass after the floods" pings "$A" 11.11.1.2 5

# ---- replay of the captured session ----
b_rx0=$(field "$B" "$SOCK_B" gre1 rx_packets) a_rx0=$(field "$A" "$SOCK_A" gre1 rx_packets)
b_d0=$(drops_all "$B" "$SOCK_B") a_d0=$(drops_all "$A" "$SOCK_A")
r_ab=$(nsx "$A" "$PY" "$NETNS_DIR/hostile_traffic.py" replay "$TMPD/session.pcap" "$UL4_A" "$UL4_B" $PORT) ||
	fail "replay to B"
r_ba=$(nsx "$B" "$PY" "$NETNS_DIR/hostile_traffic.py" replay "$TMPD/session.pcap" "$UL4_B" "$UL4_A" $PORT) ||
	fail "replay to A"
sleep 0.5
b_rx1=$(field "$B" "$SOCK_B" gre1 rx_packets) a_rx1=$(field "$A" "$SOCK_A" gre1 rx_packets)
b_d1=$(drops_all "$B" "$SOCK_B") a_d1=$(drops_all "$A" "$SOCK_A")
n_ab=$(echo "$r_ab" | json_get replayed) n_ba=$(echo "$r_ba" | json_get replayed)
echo "# replay A->B: $r_ab; B drops +$((b_d1 - b_d0)): $(field "$B" "$SOCK_B" gre1 drops)"
echo "# replay B->A: $r_ba; A drops +$((a_d1 - a_d0))"
check "the capture holds a session (handshake and data)" test "$n_ab" -gt 5 -a "$n_ba" -gt 5
check_eq "every replayed datagram to B is dropped and counted" "$((b_d1 - b_d0))" "$n_ab"
check_eq "every replayed datagram to A is dropped and counted" "$((a_d1 - a_d0))" "$n_ba"
check_eq "nothing replayed reaches the tunnel interfaces" "$((b_rx1 - b_rx0))/$((a_rx1 - a_rx0))" "0/0"
check_eq "B's peer endpoint unchanged by the replay" "$(field "$B" "$SOCK_B" gre1 endpoint)" "$UL4_A:$PORT"

# ---- malformed datagrams, exact counts per reason ----
declare -A before
for r in bad_length bad_type no_session decrypt; do before[$r]=$(field "$B" "$SOCK_B" gre1 drops.$r); done
b_d0=$(drops_all "$B" "$SOCK_B")
want=$(nsx "$M" "$PY" "$NETNS_DIR/hostile_traffic.py" malformed "$UL4_B" $PORT "$TMPD/session.pcap" "$UL4_A") ||
	fail "malformed datagrams"
sleep 0.5
echo "# malformed sent: $want"
check_eq "the live receiver index was found in the capture" "$(echo "$want" | json_get live_index_found)" true
for r in bad_length bad_type no_session decrypt; do
	check_eq "malformed: $r counted exactly" "$(( $(field "$B" "$SOCK_B" gre1 drops.$r) - ${before[$r]} ))" \
		"$(echo "$want" | json_get $r)"
done
total=$(echo "$want" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(sum(v for k, v in d.items() if k != "live_index_found"))')
check_eq "malformed: no drop under any other reason" "$(( $(drops_all "$B" "$SOCK_B") - b_d0 ))" "$total"
check "pings pass after the malformed datagrams" pings "$A" 11.11.1.2 5

# ---- plain mode: GRE from unexpected sources ----
u0=$(field "$B" "$SOCK_B" pl1 drops.unknown_source)
check "plain tunnel works" pings "$A" 11.11.2.2 3
s1=$(nsx "$A" "$PY" "$NETNS_DIR/hostile_traffic.py" plain_spoof 10.0.0.77 "$UL4_B" 20 11.11.2.1 11.11.2.2) ||
	fail "spoofed GRE"
s2=$(nsx "$M" "$PY" "$NETNS_DIR/hostile_traffic.py" plain_spoof 10.0.9.1 "$UL4_B" 20 11.11.2.1 11.11.2.2) ||
	fail "GRE from M"
sleep 0.3
u1=$(field "$B" "$SOCK_B" pl1 drops.unknown_source)
check_eq "plain: GRE from unexpected sources dropped as unknown_source" "$((u1 - u0))" \
	"$(( $(echo "$s1" | json_get unknown_source) + $(echo "$s2" | json_get unknown_source) ))"

# ---- crash safety: SIGKILL during traffic, restart ----
check "core dumps are off for gresecd (core limit 0)" \
	grep -Eq '^Max core file size +0 +0 ' "/proc/$PID_A/limits"
nsx "$A" ping -q -i 0.05 -w 12 -W 1 11.11.1.2 >"$TMPD/crash.ping" 2>&1 &
crash_ping=$!
sleep 1
kill -KILL "$PID_A"
wait "$PID_A" 2>/dev/null
t0=$SECONDS
start_gresecd "$A" "$CA"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK
check "gresecd restarts cleanly after SIGKILL" kill -0 "$PID_A"
WAIT_TIMEOUT=20 wait_for established_both
check "session re-established after the restart ($((SECONDS - t0)) s)" established_both
check "pings pass after the restart" pings "$A" 11.11.1.2 5
wait "$crash_ping"
echo "# crash: $(grep 'packets transmitted' "$TMPD/crash.ping")"
check "restarted gresecd has core dumps off too" \
	grep -Eq '^Max core file size +0 +0 ' "/proc/$PID_A/limits"

finish
