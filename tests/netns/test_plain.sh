#!/bin/bash
# tests/netns/test_plain.sh: two gresecd in plain mode, daemon against daemon.
#
#   ns A                                        ns B
#   gresecd ── gre1 11.11.1.1/30 ┄┄ GRE ┄┄ gre1 11.11.1.2/30 ── gresecd
#              fd11::1/64                       fd11::2/64
#   veth0 10.0.0.1/24 fd00::1/64 ─────── veth0 10.0.0.2/24 fd00::2/64
#
# For IPv4 and IPv6 underlays, without options and with key + checksum +
# sequence: ping both ways with IPv4 and IPv6 inside, full-size packets with
# DF, interface MTU / flags / addresses / routes, teardown on SIGTERM.
# Then gretap (ARP across the tunnel) and mismatched keys (drops counted).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
setup_test

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"

# write_conf FILE TYPE LOCAL REMOTE ADDRS PEERS EXTRA: one tunnel "gre1".
write_conf()
{
	local file=$1 type=$2 local_ul=$3 remote_ul=$4 addrs=$5 peers=$6 extra=$7

	{
		conf_daemon "$file"
		echo 'tunnels = ( {'
		echo '  name = "gre1"; mode = "plain"; type = "'"$type"'";'
		echo '  local = "'"$local_ul"'"; remote = "'"$remote_ul"'";'
		echo "  address = ( $addrs );"
		[ -n "$peers" ] && echo "  peer_address = ( $peers );"
		[ -n "$extra" ] && echo "  $extra"
		echo '} );'
	} >"$file"
}

# stop_both LABEL: SIGTERM both daemons; each exits 0, gre1 is gone.
stop_both()
{
	local label=$1 st

	stop_gresecd "$PID_A"; st=$?
	check_eq "$label: gresecd in A exits 0 on SIGTERM" "$st" 0
	check "$label: gre1 removed from A after SIGTERM" link_gone "$A" gre1
	stop_gresecd "$PID_B"; st=$?
	check_eq "$label: gresecd in B exits 0 on SIGTERM" "$st" 0
	check "$label: gre1 removed from B after SIGTERM" link_gone "$B" gre1
}

# l3_case LABEL UNDERLAY(4|6) EXTRA MTU
l3_case()
{
	local label=$1 ul=$2 extra=$3 mtu=$4 la lb got
	local ca="$TMPD/${label}-a.conf" cb="$TMPD/${label}-b.conf"

	if [ "$ul" = 4 ]; then la=$UL4_A lb=$UL4_B; else la=$UL6_A lb=$UL6_B; fi
	echo "# ---- $label: IPv$ul underlay ${extra:-(no options)} ----"
	write_conf "$ca" gre "$la" "$lb" '"11.11.1.1/30", "fd11::1/64"' '"11.11.1.2", "fd11::2"' \
		"$extra routes = ( \"192.168.100.0/24\", \"fd99::/64\" );"
	write_conf "$cb" gre "$lb" "$la" '"11.11.1.2/30", "fd11::2/64"' '"11.11.1.1", "fd11::1"' \
		"$extra"
	start_gresecd "$A" "$ca"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK
	start_gresecd "$B" "$cb"; PID_B=$GRESECD_PID SOCK_B=$GRESECD_SOCK

	check "$label: gre1 exists in A" link_exists "$A" gre1
	got=$(link_field "$A" gre1 mtu)
	check_eq "$label: gre1 MTU in A" "$got" "$mtu"
	got=$(link_field "$B" gre1 mtu)
	check_eq "$label: gre1 MTU in B" "$got" "$mtu"
	for flag in UP MULTICAST POINTOPOINT; do
		check "$label: gre1 in A has flag $flag" link_has_flag "$A" gre1 $flag
	done
	check "$label: A has 11.11.1.1/30 on gre1" addr_present "$A" gre1 11.11.1.1 30
	check "$label: A has fd11::1/64 on gre1" addr_present "$A" gre1 fd11::1 64
	check "$label: B has 11.11.1.2/30 on gre1" addr_present "$B" gre1 11.11.1.2 30
	check "$label: A routes peer 11.11.1.2 via gre1" route_via_dev "$A" 11.11.1.2 gre1
	check "$label: A routes configured 192.168.100.0/24 via gre1" \
		route_via_dev "$A" 192.168.100.7 gre1
	check "$label: A routes configured fd99::/64 via gre1" route_via_dev "$A" fd99::7 gre1
	check "$label: B has no route to 192.168.100.0/24 via gre1 (not configured there)" \
		eval '! route_via_dev "$B" 192.168.100.7 gre1'
	wait_for no_tentative "$A" gre1
	wait_for no_tentative "$B" gre1

	check "$label: ping IPv4 A -> B over the tunnel" pings "$A" 11.11.1.2 3
	check "$label: ping IPv4 B -> A over the tunnel" pings "$B" 11.11.1.1 3
	check "$label: ping IPv6 A -> B over the tunnel" pings "$A" fd11::2 3
	check "$label: ping IPv6 B -> A over the tunnel" pings "$B" fd11::1 3
	check "$label: full-MTU IPv4 ($mtu bytes, DF) A -> B" \
		pings "$A" 11.11.1.2 2 -M do -s $((mtu - 28))
	check "$label: full-MTU IPv6 ($mtu bytes) B -> A" \
		pings "$B" fd11::1 2 -M do -s $((mtu - 48))
	# The configured route carries traffic: 192.168.100.1 lives on B's lo.
	ip -n "$B" addr add 192.168.100.1/32 dev lo
	check "$label: ping 192.168.100.1 through the configured route" \
		pings "$A" 192.168.100.1 2

	got=$(tunnel_field "$A" "$SOCK_A" gre1 tx_packets)
	check "$label: A counts tx_packets (got $got)" test "${got:-0}" -ge 12
	got=$(tunnel_field "$B" "$SOCK_B" gre1 rx_packets)
	check "$label: B counts rx_packets (got $got)" test "${got:-0}" -ge 12
	got=$(tunnel_field "$A" "$SOCK_A" gre1 drops_total)
	check_eq "$label: A dropped nothing" "$got" 0
	got=$(tunnel_field "$B" "$SOCK_B" gre1 drops_total)
	check_eq "$label: B dropped nothing" "$got" 0
	got=$(tunnel_field "$A" "$SOCK_A" gre1 mode)
	check_eq "$label: gresec show reports mode" "$got" plain
	got=$(tunnel_field "$A" "$SOCK_A" gre1 remote)
	check_eq "$label: gresec show reports remote" "$got" "$lb"
	got=$(tunnel_field "$A" "$SOCK_A" gre1 mtu)
	check_eq "$label: gresec show reports the MTU" "$got" "$mtu"

	ip -n "$B" addr del 192.168.100.1/32 dev lo
	stop_both "$label"
	check "$label: configured route gone from A after SIGTERM" \
		eval '! route_via_dev "$A" 192.168.100.7 gre1'
}

KCS='key = 42; checksum = true; sequence = true;'
l3_case v4-plain 4 "" 1476
l3_case v4-kcs 4 "$KCS" 1464
l3_case v6-plain 6 "" 1456
l3_case v6-kcs-mtu 6 "$KCS mtu = 1400;" 1400

# ---- gretap: Ethernet over GRE, ARP must resolve across the tunnel ----
echo "# ---- gretap over IPv4 ----"
ca="$TMPD/tap-a.conf" cb="$TMPD/tap-b.conf"
write_conf "$ca" gretap "$UL4_A" "$UL4_B" '"11.11.2.1/24"' "" "key = 7;"
write_conf "$cb" gretap "$UL4_B" "$UL4_A" '"11.11.2.2/24"' "" "key = 7;"
start_gresecd "$A" "$ca"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK
start_gresecd "$B" "$cb"; PID_B=$GRESECD_PID SOCK_B=$GRESECD_SOCK
got=$(link_field "$A" gre1 link_type)
check_eq "gretap: gre1 is an Ethernet device" "$got" ether
check "gretap: gre1 in A is UP" link_has_flag "$A" gre1 UP
check "gretap: gre1 in A is not NOARP" eval '! link_has_flag "$A" gre1 NOARP'
got=$(link_field "$A" gre1 mtu)
check_eq "gretap: default MTU (1500 - 20 - 4 - 4 key - 14)" "$got" 1458
check "gretap: A has 11.11.2.1/24" addr_present "$A" gre1 11.11.2.1 24
check "gretap: ping A -> B across the L2 tunnel" pings "$A" 11.11.2.2 3
mac_a=$(link_field "$A" gre1 address)
neigh_b=$(ip -n "$B" neigh show dev gre1 11.11.2.1)
case "$neigh_b" in
*"lladdr $mac_a "*) ok "gretap: B resolved 11.11.2.1 to A's MAC $mac_a by ARP" ;;
*) not_ok "gretap: B's neighbour entry for 11.11.2.1 ('$neigh_b') lacks A's MAC $mac_a" ;;
esac
mac_b=$(link_field "$B" gre1 address)
neigh_a=$(ip -n "$A" neigh show dev gre1 11.11.2.2)
case "$neigh_a" in
*"lladdr $mac_b "*) ok "gretap: A resolved 11.11.2.2 to B's MAC $mac_b" ;;
*) not_ok "gretap: A's neighbour entry for 11.11.2.2 ('$neigh_a') lacks B's MAC $mac_b" ;;
esac
check "gretap: ping B -> A across the L2 tunnel" pings "$B" 11.11.2.1 3
got=$(tunnel_field "$A" "$SOCK_A" gre1 type)
check_eq "gretap: gresec show reports type" "$got" gretap
stop_both gretap

# ---- mismatched keys: nothing passes, the receiver counts key_mismatch ----
echo "# ---- mismatched keys ----"
ca="$TMPD/key-a.conf" cb="$TMPD/key-b.conf"
write_conf "$ca" gre "$UL4_A" "$UL4_B" '"11.11.1.1/30"' '"11.11.1.2"' "key = 42;"
write_conf "$cb" gre "$UL4_B" "$UL4_A" '"11.11.1.2/30"' '"11.11.1.1"' "key = 43;"
start_gresecd "$A" "$ca"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK
start_gresecd "$B" "$cb"; PID_B=$GRESECD_PID SOCK_B=$GRESECD_SOCK
got=$(link_field "$A" gre1 mtu)
check_eq "keys: default MTU with a key" "$got" 1472
before=$(tunnel_field "$B" "$SOCK_B" gre1 drops.key_mismatch)
rx_before=$(tunnel_field "$B" "$SOCK_B" gre1 rx_packets)
check "keys: ping A -> B fails with mismatched keys" no_ping "$A" 11.11.1.2 5
wait_for eval '[ "$(tunnel_field "$B" "$SOCK_B" gre1 drops.key_mismatch)" -ge $((before + 5)) ]'
after=$(tunnel_field "$B" "$SOCK_B" gre1 drops.key_mismatch)
check "keys: B's key_mismatch drops grew by >= 5 ($before -> $after)" \
	test "${after:-0}" -ge $((${before:-0} + 5))
rx_after=$(tunnel_field "$B" "$SOCK_B" gre1 rx_packets)
check_eq "keys: B delivered nothing (rx_packets)" "$rx_after" "$rx_before"
check "keys: gresecd in B still running" kill -0 "$PID_B"
stop_both keys

finish
