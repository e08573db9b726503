#!/bin/bash
# tests/netns/test_pmtu.sh: an underlay narrower than the tunnel MTU.
#
# Site A's underlay link is cut to 1400 bytes while the tunnels keep their
# default MTU.  Inner packets that no longer fit must be answered with ICMP
# "fragmentation needed" (IPv4) or "packet too big" (IPv6) carrying the MTU
# that does fit, as a router would, instead of vanishing; smaller packets
# keep flowing, and a TCP transfer that starts with full-sized segments
# completes.  Plain and secure mode.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
setup_test

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"
ip -n "$A" link set veth0 mtu 1400 || fail "underlay MTU 1400"

GRESEC_BIN=${GRESEC:-$(dirname "$GRESECD")/gresec}
"$GRESEC_BIN" genkey >"$TMPD/a.key" && "$GRESEC_BIN" genkey >"$TMPD/b.key" || fail "genkey"
chmod 600 "$TMPD/a.key" "$TMPD/b.key"
PUB_A=$("$GRESEC_BIN" pubkey <"$TMPD/a.key")
PUB_B=$("$GRESEC_BIN" pubkey <"$TMPD/b.key")

# write_conf FILE MODE LOCAL REMOTE N PEER_N KEYFILE PEERPUB
write_conf()
{
	{
		conf_daemon "$1"
		echo 'tunnels = ( {'
		echo "  name = \"t$2\"; mode = \"$2\"; type = \"gre\"; local = \"$3\"; remote = \"$4\";"
		echo "  address = ( \"11.11.1.$5/30\", \"fd11::$5/64\" ); peer_address = \"11.11.1.$6\";"
		[ "$2" = secure ] && echo "  private_key_file = \"$7\"; peer_public_key = \"$8\";"
		echo '} );'
	} >"$1"
}

# ping_msg NS ARGS...: the output of one ping with DF set.
ping_msg()
{
	local ns=$1
	shift
	ip netns exec "$ns" ping -c 3 -i 0.3 -W 1 -M do "$@" 2>&1
}

for mode in plain secure; do
	write_conf "$TMPD/$mode-a.conf" $mode "$UL4_A" "$UL4_B" 1 2 "$TMPD/a.key" "$PUB_B"
	write_conf "$TMPD/$mode-b.conf" $mode "$UL4_B" "$UL4_A" 2 1 "$TMPD/b.key" "$PUB_A"
	start_gresecd "$A" "$TMPD/$mode-a.conf"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK
	start_gresecd "$B" "$TMPD/$mode-b.conf"; PID_B=$GRESECD_PID
	mtu=$(tunnel_field "$A" "$SOCK_A" "t$mode" mtu)
	# what fits 1400 bytes: plain 1400-20-4; secure (1400-20-8-16-16) rounded down to 16, -4
	if [ $mode = plain ]; then fits=$((1400 - 24)); else fits=$(( (1400 - 60) / 16 * 16 - 4 )); fi

	check "$mode: small packets cross" wait_for pings "$A" 11.11.1.2 2
	# Bulk TCP before anything has learned the narrow path: full-sized
	# segments (in secure mode a UDP GSO run, which the kernel refuses
	# whole) must lead to "packet too big" and a transfer that completes.
	bytes=$((8 << 20))
	read -r s_sha r_sha r_bytes secs <<<"$(tcp_transfer "$A" "$B" fd11::2 "$bytes")"
	check_eq "$mode: TCP over the narrow path: all $bytes bytes arrive ($secs s)" "$r_bytes" "$bytes"
	check_eq "$mode: TCP over the narrow path: SHA-256 equal" "$r_sha" "$s_sha"
	[ $mode = secure ] && check "secure: UDP GSO stays on (a too-big run is not a path without GSO)" \
		eval '! grep -q "no UDP GSO" "$(conf_log "$TMPD/$mode-a.conf")"'
	out=$(ping_msg "$A" -s $((mtu - 28)) 11.11.1.2)
	check "$mode: a full-size IPv4 packet (tunnel MTU $mtu) is not delivered" \
		grep -q "100% packet loss\|+.* errors" <<<"$out"
	check "$mode: IPv4 sender is told the MTU that fits (ICMP frag needed)" \
		grep -qE "mtu ?= ?[0-9]+|[Mm]essage too long" <<<"$out"
	learned=$(grep -oE "mtu ?= ?[0-9]+" <<<"$out" | grep -oE "[0-9]+$" | tail -1)
	[ -n "$learned" ] && check "$mode: the announced MTU ($learned) fits the 1400-byte path" \
		test "$learned" -eq "$fits"
	check "$mode: a packet of the announced size crosses" \
		pings "$A" 11.11.1.2 2 -M do -s $(( ${learned:-$fits} - 28 ))
	out6=$(ping_msg "$A" -6 -s $((mtu - 48)) fd11::2)
	check "$mode: IPv6 sender gets ICMPv6 packet too big" \
		grep -qE "mtu ?= ?[0-9]+|[Mm]essage too long|Packet too big" <<<"$out6"
	too_big=$(tunnel_field "$A" "$SOCK_A" "t$mode" drops.too_big)
	check "$mode: oversized packets are counted (too_big=$too_big)" test "${too_big:-0}" -ge 1
	check "$mode: the daemon still carries traffic" pings "$A" 11.11.1.2 2
	stop_gresecd "$PID_A" >/dev/null
	stop_gresecd "$PID_B" >/dev/null
	ip -n "$A" route flush cache 2>/dev/null
done

finish
