#!/bin/bash
# tests/e2e/test_hub.sh: hub and spokes, secure mode, OSPF (BIRD).
#
#            h1 ── s1 ══ sp1 ╗
#            h2 ── s2 ══ sp2 ╬═ hub (one gresecd, 3 tunnels, one UDP port)
#            h3 ── s3 ══ sp3 ╝
#
# Underlay: hub veth N 10.0.N.1/24 <-> spoke N 10.0.N.2/24; spoke LAN N
# 192.168.N.0/24 + fd0N::/64; tunnel N 10.255.N.1-2/30, fd00:255:N::1-2/64.
# The hub's tunnels have no local address and share UDP port 51947 (the
# hub tells the peers apart by their keys).  OSPFv2 + v3 (hello 1, dead 4)
# everywhere: every spoke LAN must reach every other through the hub.
# Then spoke 3 is removed from the hub's config and `gresec reload` is run:
# only spoke 3 is withdrawn, spokes 1 and 2 keep their adjacency and their
# traffic (a ping running across the reload loses nothing).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

require_e2e bird
setup_test

NSP=3
HUB=$(ns_name hub)
ip netns add "$HUB" || fail "ip netns add $HUB"
TEST_NAMESPACES+=("$HUB")
ip -n "$HUB" link set lo up
router_sysctls "$HUB"
RA=$HUB RB=$(ns_name s1)     # for diagnose: the hub and spoke 1
for i in $(seq $NSP); do
	S[$i]=$(ns_name "s$i") H[$i]=$(ns_name "h$i")
	ip netns add "${S[$i]}" || fail "ip netns add ${S[$i]}"
	TEST_NAMESPACES+=("${S[$i]}")
	ip -n "${S[$i]}" link set lo up
	ip -n "$HUB" link add "ul$i" type veth peer name veth0 netns "${S[$i]}" || fail "veth hub-s$i"
	ip -n "$HUB" addr add "10.0.$i.1/24" dev "ul$i" && ip -n "$HUB" link set "ul$i" up &&
		ip -n "${S[$i]}" addr add "10.0.$i.2/24" dev veth0 &&
		ip -n "${S[$i]}" link set veth0 up || fail "underlay hub-s$i"
	make_lan "${S[$i]}" "${H[$i]}" "$i"
done
for i in $(seq $NSP); do
	wait_for nsx "${S[$i]}" ping -c1 -W1 -q "10.0.$i.1" >/dev/null || fail "underlay to s$i"
done

# Keys: the hub's and one per spoke.
KEY_HUB=$TMPD/hub.key PUB_HUB=$(make_key "$KEY_HUB")
for i in $(seq $NSP); do
	KEY_S[$i]=$TMPD/s$i.key
	PUB_S[$i]=$(make_key "${KEY_S[$i]}")
done

# hub_conf SPOKES...: the hub's config with a tunnel spN for each N given.
CONF_HUB=$TMPD/gresec-hub.conf
hub_conf()
{
	local i first=1
	{
		conf_daemon "$CONF_HUB"
		echo 'tunnels = ('
		for i in "$@"; do
			[ $first = 1 ] || echo ','
			first=0
			tunnel_block "sp$i" secure gre "" "10.0.$i.2" "10.255.$i.1" "fd00:255:$i::1" \
				"10.255.$i.2" "fd00:255:$i::2" "$KEY_HUB" "${PUB_S[$i]}" "port = 51947;"
		done
		echo ');'
	} >"$CONF_HUB"
}

scenario_begin "hub+3 spokes: spoke LANs reach each other" "secure/gre/ipv4, shared port, OSPF"
hub_conf 1 2 3
start_gresecd "$HUB" "$CONF_HUB"; PID_HUB=$GRESECD_PID SOCK_HUB=$GRESECD_SOCK
SOCK_GA=$SOCK_HUB
for i in $(seq $NSP); do
	c=$TMPD/gresec-s$i.conf
	{ conf_daemon "$c"; echo 'tunnels = ('
	  TUN_IF=hub0 tunnel_block hub0 secure gre "10.0.$i.2" "10.0.$i.1" "10.255.$i.2" \
		"fd00:255:$i::2" "10.255.$i.1" "fd00:255:$i::1" "${KEY_S[$i]}" "$PUB_HUB" \
		"port = 51947;"
	  echo ');'; } >"$c"
	start_gresecd "${S[$i]}" "$c"
	PID_S[$i]=$GRESECD_PID SOCK_S[$i]=$GRESECD_SOCK
done
n=$(ip netns exec "$HUB" ss -Hunl 'sport = :51947' | wc -l)
check "hub: UDP port 51947 open ($n sockets: IPv4, IPv6)" test "$n" -ge 1
n=$(ip netns exec "$HUB" ss -Hunl | grep -vc ':51947 ')
check_eq "hub: no other UDP port for the three tunnels" "$n" 0
for i in $(seq $NSP); do
	check "spoke $i reaches the hub across its tunnel" wait_until 10 pings "${S[$i]}" "10.255.$i.1" 1
done

# BIRD everywhere: OSPF on the hub's sp* and the spokes' hub0.
diag_hub()
{
	local n
	for n in hub s1 s2 s3; do
		echo "-- birdc ($n) --"
		birdc_q "$n" show ospf neighbors
		birdc_q "$n" show route
	done
	gresec_json "$HUB" "$SOCK_HUB"
}
DIAG_HOOKS=(diag_hub)
t0=$(now)
render bird-ospf.conf.in "$TMPD/bird-hub.conf" LOG="$TMPD/bird-hub.log" RID=9.9.9.9 TUN="sp*" \
	HELLO=1 DEAD=4
bird_start "$HUB" hub "$TMPD/bird-hub.conf"
for i in $(seq $NSP); do
	render bird-ospf.conf.in "$TMPD/bird-s$i.conf" LOG="$TMPD/bird-s$i.log" RID="10.0.0.$i" \
		TUN=hub0 HELLO=1 DEAD=4
	bird_start "${S[$i]}" "s$i" "$TMPD/bird-s$i.conf"
done

# spoke_has NS N: spoke NS routes LAN N (v4 and v6) into its tunnel.
spoke_has()
{
	ip -n "$1" route show exact "192.168.$2.0/24" | grep -q 'dev hub0' &&
		ip -n "$1" -6 route show exact "fd0$2::/64" | grep -q 'dev hub0'
}
all_learned()
{
	local i j
	for i in $(seq $NSP); do
		for j in $(seq $NSP); do
			[ "$i" = "$j" ] || spoke_has "${S[$i]}" "$j" || return 1
		done
	done
}
converge "every spoke has every other spoke's LAN (IPv4 + IPv6) via the hub" 40 "$t0" all_learned
for i in $(seq $NSP); do
	for j in $(seq $NSP); do
		[ "$i" = "$j" ] && continue
		check "LAN $i host pings LAN $j host (IPv4)" pings "${H[$i]}" "192.168.$j.2" 1
	done
done
check "LAN 1 host pings LAN 3 host (IPv6)" pings "${H[1]}" "fd03::2" 1
check "LAN 3 host pings LAN 2 host (IPv6)" pings "${H[3]}" "fd02::2" 1
n=$(birdc_q hub show ospf neighbors ospf4 | grep -c 'Full/PtP')
check_eq "hub: three OSPFv2 neighbors Full" "$n" 3
scenario_end

scenario_begin "hub: spoke 3 removed by gresec reload" "secure/gre/ipv4, OSPF"
DIAG_HOOKS=(diag_hub)
hs_before=$(tunnel_field "$HUB" "$SOCK_HUB" sp1 latest_handshake_age)
# 80 pings every 0.1 s from LAN 1 to LAN 2 across the reload.
ip netns exec "${H[1]}" ping -q -c 80 -i 0.1 -W 1 192.168.2.2 >"$TMPD/ping-1-2.out" 2>&1 &
ping_pid=$!
BG_PIDS+=("$ping_pid")
sleep 1
hub_conf 1 2
t0=$(now)
if ip netns exec "$HUB" "$GRESEC" -s "$SOCK_HUB" reload >"$TMPD/reload.out" 2>&1; then
	ok "gresec reload on the hub: $(tr '\n' ' ' <"$TMPD/reload.out")"
else
	not_ok "gresec reload on the hub failed: $(cat "$TMPD/reload.out")"
fi
check "hub: sp3 removed" wait_until 5 link_gone "$HUB" sp3
withdrawn() { ! ip -n "${S[1]}" route show exact 192.168.3.0/24 | grep -q hub0 &&
	! ip -n "${S[2]}" route show exact 192.168.3.0/24 | grep -q hub0; }
converge "spokes 1 and 2 withdrew LAN 3" 20 "$t0" withdrawn
check "LAN 1 no longer reaches LAN 3" no_ping "${H[1]}" 192.168.3.2 2
wait "$ping_pid"
loss=$(grep -o '[0-9.]*% packet loss' "$TMPD/ping-1-2.out")
echo "# LAN 1 -> LAN 2 during the reload: $(grep 'packets transmitted' "$TMPD/ping-1-2.out")"
check_eq "LAN 1 -> LAN 2 traffic lost nothing across the reload" "$loss" "0% packet loss"
for i in 1 2; do
	check "spoke $i still has LAN $((3 - i))" spoke_has "${S[$i]}" $((3 - i))
	check "spoke $i's OSPF neighbor (the hub) still Full" bird_ospf_full "s$i" ospf4
done
n=$(birdc_q hub show ospf neighbors ospf4 | grep -c 'Full/PtP')
check_eq "hub: two OSPFv2 neighbors Full" "$n" 2
# The spokes 1/2 sessions were kept: no new handshake because of the reload.
hs_after=$(tunnel_field "$HUB" "$SOCK_HUB" sp1 latest_handshake_age)
check "hub: sp1 kept its session across the reload (handshake age $hs_before -> $hs_after s)" \
	awk -v a="$hs_before" -v b="$hs_after" 'BEGIN { exit !(b >= a) }'
SC_NOTE="$loss for LAN1->LAN2 during reload"
scenario_end

finish
