#!/bin/bash
# tests/netns/test_faults.sh: gresecd through a lossy, reordering, corrupting
# underlay (tests/tools/relay on a middle host that does not route).
#
#   ns A                      ns R (ip_forward=0)                  ns B
#   gresecd ── veth0 10.0.1.1 ── 10.0.1.2 relay 10.0.2.2 ── veth0 10.0.2.1 ── gresecd
#   gre1 11.11.1.1/30   remote = 10.0.1.2       remote = 10.0.2.2   gre1 11.11.1.2/30
#
# Each daemon sees the relay as its peer; the relay forwards A <-> B and
# injects faults.  Checks:
# - a handshake completes with 50% of all datagrams dropped;
# - a 50 MB TCP transfer completes, SHA-256 equal on both ends, through 5%
#   loss + 5% reordering (up to 64 deep) + 1% duplication;
# - reordering (depth 64) and duplication without loss: every one of N UDP
#   datagrams arrives once, duplicates are counted as replays exactly;
# - ciphertext-only bit flips and truncation of data messages: the daemons'
#   decrypt + bad_length drops equal the relay's corrupted + truncated
#   counts exactly (truncated below 32 bytes -> bad_length, else decrypt);
# - bit flips anywhere in data messages (header included): all dropped,
#   the drop counters' total equals the relay's count;
# - plain mode (raw GRE relay) with checksums: flipped bits past the GRE
#   header are counted as checksum_bad exactly, with 5% loss.
# Figures (times, throughput, counters) are printed as "# ..." lines.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

RELAY="$top_builddir/tests/tools/relay"
BYTES=${FAULTS_BYTES:-52428800}          # 50 MiB
PORT=51947

require_root_netns
[ -x "$RELAY" ] || { echo "relay not built at $RELAY (make check builds it)" >&2; exit 99; }
setup_test

A=$(ns_name a)
R=$(ns_name r)
B=$(ns_name b)
A_UL=10.0.1.1 RA_UL=10.0.1.2 B_UL=10.0.2.1 RB_UL=10.0.2.2
IN_A=11.11.1.1 IN_B=11.11.1.2

# Three namespaces in a row; R has forwarding off, so only the relay joins A and B.
for ns in "$A" "$R" "$B"; do
	ip netns add "$ns" || fail "ip netns add $ns"
	TEST_NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up || fail "lo up in $ns"
done
ip -n "$A" link add veth0 type veth peer name vetha netns "$R" &&
	ip -n "$B" link add veth0 type veth peer name vethb netns "$R" &&
	ip -n "$A" addr add "$A_UL/24" dev veth0 && ip -n "$R" addr add "$RA_UL/24" dev vetha &&
	ip -n "$B" addr add "$B_UL/24" dev veth0 && ip -n "$R" addr add "$RB_UL/24" dev vethb &&
	ip -n "$A" link set veth0 up && ip -n "$R" link set vetha up &&
	ip -n "$B" link set veth0 up && ip -n "$R" link set vethb up || fail "underlay links"
nsx "$R" sysctl -qw net.ipv4.ip_forward=0 || fail "ip_forward=0 in R"
wait_for nsx "$A" ping -c1 -W1 -q "$RA_UL" >/dev/null || fail "A cannot reach R"
wait_for nsx "$B" ping -c1 -W1 -q "$RB_UL" >/dev/null || fail "B cannot reach R"

make_keys a b

# write_conf FILE MODE LOCAL REMOTE ADDR PEER [KEY PEERPUB]
write_conf()
{
	local file=$1 mode=$2 lo=$3 re=$4 addr=$5 peer=$6 key=$7 pub=$8

	{
		conf_daemon "$file"
		echo 'tunnels = ( {'
		echo "  name = \"gre1\"; mode = \"$mode\"; type = \"gre\";"
		echo "  local = \"$lo\"; remote = \"$re\";"
		echo "  address = ( \"$addr/30\" ); peer_address = \"$peer\";"
		if [ "$mode" = secure ]; then
			echo "  private_key_file = \"$key\"; peer_public_key = \"$pub\";"
			echo "  port = $PORT; remote_port = $PORT;"
		else
			echo "  checksum = true;"
		fi
		echo '} );'
	} >"$file"
}

RELAY_PID=""
RELAY_N=0
# start_relay MODE FAULT-OPTIONS...: a new relay in R; RELAY_STATS is its JSON.
start_relay()
{
	local mode=$1 ready
	shift
	RELAY_N=$((RELAY_N + 1))
	RELAY_STATS="$TMPD/relay$RELAY_N.json"
	ready="$TMPD/relay$RELAY_N.ready"
	if [ "$mode" = udp ]; then
		set -- --a "$RA_UL:$PORT" --a-peer "$A_UL:$PORT" --b "$RB_UL:$PORT" --b-peer "$B_UL:$PORT" "$@"
	else
		set -- --a "$RA_UL" --a-peer "$A_UL" --b "$RB_UL" --b-peer "$B_UL" "$@"
	fi
	ip netns exec "$R" "$RELAY" --mode "$mode" --stats "$RELAY_STATS" --ready "$ready" "$@" \
		2>"$TMPD/relay$RELAY_N.err" &
	RELAY_PID=$!
	BG_PIDS+=("$RELAY_PID")
	wait_for test -e "$ready" || fail "relay did not start: $(cat "$TMPD/relay$RELAY_N.err")"
}

# stop_relay: SIGTERM; it flushes what it holds and writes its counters.
stop_relay()
{
	kill -TERM "$RELAY_PID" 2>/dev/null
	wait "$RELAY_PID" 2>/dev/null
	[ -s "$RELAY_STATS" ] || fail "relay wrote no counters"
	echo "# relay: $(cat "$RELAY_STATS")"
}

relay_get() { json_get "$1" <"$RELAY_STATS"; }

# drops NS SOCK REASON...: the sum of those drop counters of gre1.
drops()
{
	local ns=$1 sock=$2
	shift 2
	gresec_json "$ns" "$sock" gre1 | "$PY" -c '
import json, sys
t = [t for t in json.load(sys.stdin)["tunnels"] if t["name"] == "gre1"][0]
d = t["drops"]
print(sum(d.values()) if sys.argv[1:] == ["all"] else sum(d.get(k, 0) for k in sys.argv[1:]))
' "$@"
}

# both_drops REASON...: A's plus B's.
both_drops() { echo $(( $(drops "$A" "$SOCK_A" "$@") + $(drops "$B" "$SOCK_B" "$@") )); }

state_is() { [ "$(tunnel_field "$1" "$2" gre1 state)" = "$3" ]; }
established_both() { state_is "$A" "$SOCK_A" established && state_is "$B" "$SOCK_B" established; }

start_daemons()
{
	start_gresecd "$A" "$1"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK
	start_gresecd "$B" "$2"; PID_B=$GRESECD_PID SOCK_B=$GRESECD_SOCK
}

# udp_count N: send N numbered datagrams A -> B through the tunnel (about
# 20000/s), print "received distinct out_of_order" as B saw them.
udp_count()
{
	local n=$1 out="$TMPD/udpcount.out"

	nsx "$B" "$PY" -c '
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind((sys.argv[1], 5002))
s.settimeout(2.0)
open(sys.argv[2] + ".ready", "w").close()
seen, total, ooo, last = set(), 0, 0, -1
try:
    while True:
        i = struct.unpack("!I", s.recv(2048)[:4])[0]
        total += 1
        if i < last:
            ooo += 1
        last = max(last, i)
        seen.add(i)
except socket.timeout:
    pass
with open(sys.argv[2], "w") as f:
    f.write("%d %d %d\n" % (total, len(seen), ooo))
' "$IN_B" "$out" &
	local rpid=$!
	wait_for test -e "$out.ready" || fail "UDP receiver did not start"
	nsx "$A" "$PY" -c '
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
pad = bytes(200)
for i in range(int(sys.argv[2])):
    s.sendto(struct.pack("!I", i) + pad, (sys.argv[1], 5002))
    if i % 100 == 99:
        time.sleep(0.005)
' "$IN_B" "$n"
	wait "$rpid"
	rm -f "$out.ready"
	cat "$out"
}

# ---- secure mode ----
CA="$TMPD/sa.conf" CB="$TMPD/sb.conf"
write_conf "$CA" secure "$A_UL" "$RA_UL" "$IN_A" "$IN_B" "$TMPD/a.key" "$PUB_B"
write_conf "$CB" secure "$B_UL" "$RB_UL" "$IN_B" "$IN_A" "$TMPD/b.key" "$PUB_A"

# 1. Handshake through 50% loss (every datagram, both ways).
start_relay udp --drop 0.5 --seed 11
t0=$SECONDS
start_daemons "$CA" "$CB"
nsx "$A" ping -q -c 1 -W 1 "$IN_B" >/dev/null 2>&1 &    # gives A data to send
WAIT_TIMEOUT=100 wait_for established_both
st=$?
echo "# handshake under 50% loss: $((SECONDS - t0)) s"
check_eq "handshake completes under 50% loss" "$st" 0
stop_relay
check "relay dropped about half under 50% loss" \
	test "$(relay_get dropped)" -gt 0
[ "$st" = 0 ] || fail "no session under 50% loss"

# 2. 50 MB TCP through 5% loss, 5% reordering (depth 64), 1% duplication.
start_relay udp --drop 0.05 --reorder 0.05 --reorder-depth 64 --dup 0.01 --seed 22
pings "$A" "$IN_B" 3 || true    # the path works before the transfer
read -r s_sha r_sha r_bytes secs <<<"$(tcp_transfer "$A" "$B" "$IN_B" "$BYTES")"
stop_relay
echo "# 50 MB TCP through 5% loss/5% reorder/1% dup: $r_bytes bytes in $secs s" \
	"($(awk -v b="$r_bytes" -v s="$secs" 'BEGIN { if (s > 0) printf "%.1f", b * 8 / s / 1e6; else print 0 }') Mbit/s)"
check_eq "TCP transfer: all $BYTES bytes arrive" "$r_bytes" "$BYTES"
check_eq "TCP transfer: SHA-256 equal on both ends" "$r_sha" "$s_sha"
check "relay dropped, reordered and duplicated during the transfer" \
	test "$(relay_get dropped)" -gt 0 -a "$(relay_get reordered)" -gt 0 -a "$(relay_get duplicated)" -gt 0

# 3. Reordering within the replay window and duplication, no loss.
N=5000
replay0=$(drops "$B" "$SOCK_B" replay)
start_relay udp --reorder 0.1 --reorder-depth 64 --dup 0.02 --types 4 --seed 33
read -r total distinct ooo <<<"$(udp_count $N)"
stop_relay
replay1=$(drops "$B" "$SOCK_B" replay)
echo "# reorder 10%/depth 64 + dup 2%: $total of $N datagrams received, $ooo out of order"
check_eq "reordering and duplication: all $N datagrams arrive exactly once" "$total/$distinct" "$N/$N"
check "reordering happened inside the tunnel ($ooo datagrams out of order)" test "$ooo" -gt 0
check_eq "every duplicate is dropped as a replay by B" "$((replay1 - replay0))" "$(relay_get duplicated)"

# 4. Ciphertext bit flips and truncation of data messages: exact counts.
reasons="bad_length decrypt replay no_session bad_type bad_mac"
d0_len=$(both_drops bad_length) d0_dec=$(both_drops decrypt) d0_all=$(both_drops all)
start_relay udp --corrupt 0.1 --truncate 0.1 --corrupt-offset 16 --types 4 --seed 44
nsx "$A" ping -q -i 0.002 -c 1000 -s 200 "$IN_B" >/dev/null 2>&1
sleep 0.3
stop_relay
sleep 0.3
d1_len=$(both_drops bad_length) d1_dec=$(both_drops decrypt) d1_all=$(both_drops all)
corrupted=$(relay_get corrupted) truncated=$(relay_get truncated) short=$(relay_get truncated_short)
echo "# ciphertext damage: relay corrupted=$corrupted truncated=$truncated (short $short);" \
	"daemons decrypt=+$((d1_dec - d0_dec)) bad_length=+$((d1_len - d0_len)) all=+$((d1_all - d0_all))"
check "the relay damaged data messages" test "$corrupted" -gt 0 -a "$truncated" -gt 0 -a "$short" -gt 0
check_eq "decrypt drops = corrupted + truncated to >= 32 bytes" \
	"$((d1_dec - d0_dec))" "$((corrupted + truncated - short))"
check_eq "bad_length drops = truncated below 32 bytes" "$((d1_len - d0_len))" "$short"
check_eq "no other drops: total = corrupted + truncated" "$((d1_all - d0_all))" "$((corrupted + truncated))"

# 5. Bit flips anywhere in data messages (type, index, counter included).
d0_all=$(both_drops all)
start_relay udp --corrupt 0.2 --types 4 --seed 55
nsx "$A" ping -q -i 0.002 -c 1000 -s 200 "$IN_B" >/dev/null 2>&1
sleep 0.3
stop_relay
sleep 0.3
d1_all=$(both_drops all)
corrupted=$(relay_get corrupted)
echo "# header damage: relay corrupted=$corrupted; daemons dropped +$((d1_all - d0_all));" \
	"A: $(gresec_json "$A" "$SOCK_A" gre1 | json_get tunnels.gre1.drops)" \
	"B: $(gresec_json "$B" "$SOCK_B" gre1 | json_get tunnels.gre1.drops)"
check "the relay flipped bits" test "$corrupted" -gt 0
check_eq "every datagram with a flipped bit is dropped and counted" "$((d1_all - d0_all))" "$corrupted"

start_relay udp --seed 66
check "tunnel still works after the damage" pings "$A" "$IN_B" 3
stop_relay
stop_gresecd "$PID_A"
stop_gresecd "$PID_B"

# ---- plain mode through a raw GRE relay ----
PA="$TMPD/pa.conf" PB="$TMPD/pb.conf"
write_conf "$PA" plain "$A_UL" "$RA_UL" "$IN_A" "$IN_B"
write_conf "$PB" plain "$B_UL" "$RB_UL" "$IN_B" "$IN_A"
start_relay gre --drop 0.05 --corrupt 0.1 --corrupt-offset 8 --seed 77
start_daemons "$PA" "$PB"
c0=$(both_drops checksum_bad)
out=$(nsx "$A" ping -q -i 0.005 -c 500 -s 200 "$IN_B" 2>&1 | grep 'packets transmitted')
sleep 0.3
stop_relay
sleep 0.3
c1=$(both_drops checksum_bad)
corrupted=$(relay_get corrupted)
echo "# plain GRE + checksum, 5% loss, 10% bit flips past the header: $out;" \
	"relay corrupted=$corrupted, daemons checksum_bad=+$((c1 - c0))"
check "plain mode carries pings through the raw GRE relay" \
	test "$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')" -gt 0
check_eq "plain mode: every flipped bit is caught by the GRE checksum" "$((c1 - c0))" "$corrupted"

finish
