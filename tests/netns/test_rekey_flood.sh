#!/bin/bash
# tests/netns/test_rekey_flood.sh: rekeys complete while both ports are
# flooded (security review finding MEDIUM, docs/security.md).
#
#   ns A ── veth0 10.0.0.1 ──────────── veth0 10.0.0.2 ── ns B
#   gresecd (initiator, remote set)     gresecd (responder)
#      vethm 10.0.8.2 ── ns M ── 10.0.9.2 vethm
#                  (flooder: 10.0.8.1, 10.0.9.1)
#
# A rekeys every REKEY seconds under a ping stream.  Two floods from M at
# FLOOD_PPS datagrams per second (about 1 Mbit/s) at both UDP ports:
#   1. garbage that starts like an initiation (01 00 00 00, bad mac1): it
#      must not put either port under load, so every rekey completes at
#      once and no cookie reply is ever sent;
#   2. initiations with a valid mac1 for each port's key: both ports are
#      under load, so both handshake messages need a cookie (mac2).  A gets
#      one for its initiation, B one for its response (a cookie reply to a
#      response, stored by the responder, as in WireGuard), and the rekeys
#      still complete.
# In both: no ping lost, and A completes handshakes all along.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"
. "$NETNS_DIR/secure_lib.sh"

FLOOD="$top_builddir/tests/tools/flood"
FLOOD_PPS=${FLOOD_PPS:-800}
REKEY=4
PHASE1=${REKEY_FLOOD_PHASE1:-16}
PHASE2=${REKEY_FLOOD_PHASE2:-36}

require_root_netns
[ -x "$FLOOD" ] || { echo "flood not built at $FLOOD (make check builds it)" >&2; exit 99; }
setup_test

A=$(ns_name a)
B=$(ns_name b)
M=$(ns_name m)
make_pair "$A" "$B"
ip netns add "$M" || fail "ip netns add $M"
TEST_NAMESPACES+=("$M")
ip -n "$M" link set lo up || fail "lo in M"
# attach NS M_IF N: a link M <-> NS, 10.0.N.1 in M, 10.0.N.2 in NS.
attach()
{
	ip -n "$M" link add "$2" type veth peer name vethm netns "$1" &&
		ip -n "$M" addr add "10.0.$3.1/24" dev "$2" && ip -n "$1" addr add "10.0.$3.2/24" dev vethm &&
		ip -n "$M" link set "$2" up && ip -n "$1" link set vethm up || fail "link M <-> $1"
}
attach "$A" veth_a 8
attach "$B" veth_b 9
ip -n "$M" route add "$UL4_A/32" via 10.0.8.2 && ip -n "$M" route add "$UL4_B/32" via 10.0.9.2 ||
	fail "M's routes to the ports"
wait_for nsx "$M" ping -c1 -W1 -q "$UL4_A" >/dev/null || fail "M cannot reach A"
wait_for nsx "$M" ping -c1 -W1 -q "$UL4_B" >/dev/null || fail "M cannot reach B"

secure_keys
T="rekey_after_time = $REKEY; reject_after_time = 60;"
write_sconf "$TMPD/a.conf" gre "$UL4_A" "$UL4_B" '"11.11.1.1/30"' '"11.11.1.2"' "$TMPD/a.key" "$PUB_B" "$T"
write_sconf "$TMPD/b.conf" gre "$UL4_B" "" '"11.11.1.2/30"' '"11.11.1.1"' "$TMPD/b.key" "$PUB_A" "$T"
"$PY" "$NETNS_DIR/hostile_msgs.py" bogus 4096 "$TMPD/bogus.bin" &&
	"$PY" "$NETNS_DIR/hostile_msgs.py" mac1 "$PUB_A" 4096 "$TMPD/mac1-a.bin" &&
	"$PY" "$NETNS_DIR/hostile_msgs.py" mac1 "$PUB_B" 4096 "$TMPD/mac1-b.bin" || fail "flood templates"

start_b "$TMPD/b.conf"
start_a "$TMPD/a.conf"
wait_for established_both || fail "no secure session"

handshakes() { grep -c 'session established' "$LOG_A"; }
count_log() { grep -c "$2" "$1"; }

# phase TAG SECONDS TEMPLATE_A TEMPLATE_B: flood both ports and ping through
# the tunnel for SECONDS; sets LOSS, HS (handshakes completed by A in the
# phase), COOKIES_M (cookie replies the flooder got back).
phase()
{
	local tag=$1 secs=$2 ta=$3 tb=$4 hs0 out pa pb
	hs0=$(handshakes)
	nsx "$M" "$FLOOD" --dst "$UL4_A:51947" --templates "$ta" --duration "$secs" --pps "$FLOOD_PPS" \
		--stats "$TMPD/$tag-a.json" >/dev/null 2>&1 &
	pa=$!
	nsx "$M" "$FLOOD" --dst "$UL4_B:51947" --templates "$tb" --duration "$secs" --pps "$FLOOD_PPS" \
		--stats "$TMPD/$tag-b.json" >/dev/null 2>&1 &
	pb=$!
	BG_PIDS+=("$pa" "$pb")
	out=$(ip netns exec "$A" ping -q -i 0.05 -c $((secs * 20)) -W 2 11.11.1.2 2>&1)
	wait "$pa" "$pb"
	LOSS=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out")
	HS=$(( $(handshakes) - hs0 ))
	COOKIES_M=$(( $(json_get cookie_replies <"$TMPD/$tag-a.json") + $(json_get cookie_replies <"$TMPD/$tag-b.json") ))
	echo "# $tag: $(json_get sent <"$TMPD/$tag-a.json") + $(json_get sent <"$TMPD/$tag-b.json") datagrams" \
		"flooded, $HS handshakes completed by A, ping loss ${LOSS:-?}%, cookie replies to M $COOKIES_M"
}

# 1. Garbage: not under load, every rekey at once.
ca0=$(count_log "$LOG_A" 'cookie received') cb0=$(count_log "$LOG_B" 'cookie received')
phase garbage "$PHASE1" "$TMPD/bogus.bin" "$TMPD/bogus.bin"
check_eq "garbage flood: no ping lost" "${LOSS:-x}" 0
check "garbage flood: A rekeyed all along ($HS handshakes in $PHASE1 s, one per $REKEY s)" \
	test "$HS" -ge $((PHASE1 / REKEY - 1))
check_eq "garbage flood: no cookie reply to the flooder (bad mac1 does not count as load)" "$COOKIES_M" 0
check "garbage flood: no cookie needed between A and B" \
	eval '[ "$(count_log "$LOG_A" "cookie received")" = "$ca0" ] && [ "$(count_log "$LOG_B" "cookie received")" = "$cb0" ]'

# 2. Valid mac1: both ports under load, cookies for both messages.
phase mac1 "$PHASE2" "$TMPD/mac1-a.bin" "$TMPD/mac1-b.bin"
check_eq "valid-mac1 flood: no ping lost" "${LOSS:-x}" 0
check "valid-mac1 flood: both ports under load (cookie replies to the flooder: $COOKIES_M)" \
	test "$COOKIES_M" -gt 0
check "valid-mac1 flood: A got a cookie for its initiation" \
	test "$(count_log "$LOG_A" 'cookie received')" -gt "$ca0"
check "valid-mac1 flood: B got a cookie for its response" \
	test "$(count_log "$LOG_B" 'cookie received')" -gt "$cb0"
check "valid-mac1 flood: A's rekeys completed ($HS handshakes in $PHASE2 s)" test "$HS" -ge 2
check "the session is established after the floods" established_both
finish
