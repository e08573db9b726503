#!/bin/bash
# tests/e2e/test_rip_bgp_eigrp.sh: RIP (BIRD: RIPv2 + RIPng), BGP (FRR bgpd,
# eBGP over the tunnel addresses, IPv4 and IPv6 sessions) and EIGRP (FRR
# eigrpd, IPv4; skipped when Debian's frr has no eigrpd) across gresec.
#
#   hA ── rA (gresecd + daemon) ══ gt0 ══ rB (gresecd + daemon) ── hB
#
# One protocol at a time over the same tunnel, for plain/gre/IPv4 underlay
# and secure/gretap/IPv6 underlay: LAN routes learned through gt0 on both
# routers (no static routes), session/neighbor up, hA pings hB.
#
# The gre tunnel gets subnet addresses (10.255.0.1/30, no peer_address):
# FRR's zebra records a point-to-point address "10.255.0.1 peer 10.255.0.2/30"
# as 10.255.0.1/32, and eigrpd then drops every hello with "eigrp_read
# network address is not same [10.255.0.2]" (its subnet check has no
# point-to-point exception, unlike ospfd's).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

require_e2e "bird|frr"
setup_test
make_sites
TUNNEL_PEER_ADDRESS=0

# routes_cleared: a stopped daemon's routes are gone before the next one
# starts (it removes them on SIGTERM; flushed with a note if not).
routes_cleared()
{
	if ! wait_until 5 eval '! learned "$RA" "$LAN4_B" && ! learned "$RB" "$LAN4_A" &&
			! learned "$RA" "$LAN6_B" && ! learned "$RB" "$LAN6_A"'; then
		echo "# note: routes left behind by the previous daemon, flushing"
		ip -n "$RA" route flush dev "$TUN_IF" 2>/dev/null
		ip -n "$RB" route flush dev "$TUN_IF" 2>/dev/null
	fi
}

rip_bird()
{
	local m=$1 t0
	scenario_begin "rip+ripng bird" "$m"
	DIAG_HOOKS=(diag_rip)
	t0=$(now)
	if bird_pair bird-rip.conf.in "rip-${m//\//-}"; then
		converge "BIRD RIP/RIPng: LANs learned on both routers via $TUN_IF" 30 "$t0" lans_learned 46
		check "BIRD RIPv2 on rA has a neighbor on $TUN_IF" eval \
			'birdc_q "$BIRD_A" show rip neighbors rip4 | grep -q "$TUN_IF"'
		check "BIRD RIPng on rB has a neighbor on $TUN_IF" eval \
			'birdc_q "$BIRD_B" show rip neighbors ripng | grep -q "$TUN_IF"'
		check_lan_pings 46
	fi
	bird_pair_stop
	routes_cleared
	scenario_end
}

diag_rip()
{
	local n
	for n in "$BIRD_A" "$BIRD_B"; do
		echo "-- birdc ($n) --"
		birdc_q "$n" show protocols all
		birdc_q "$n" show rip interfaces
		birdc_q "$n" show rip neighbors
		birdc_q "$n" show route
	done
}

bgp_frr()
{
	local m=$1 t0
	scenario_begin "bgp frr" "$m"
	FRR_SHOW=("show bgp summary" "show bgp ipv4 unicast" "show bgp ipv6 unicast"
		"show ip route" "show ipv6 route")
	DIAG_HOOKS=(diag_frr)
	t0=$(now)
	if frr_pair "bgp-${m//\//-}" bgpd; then
		converge "FRR bgpd: LANs learned on both routers via $TUN_IF" 30 "$t0" lans_learned 46
		check "BGP IPv4 session $T4_A - $T4_B Established" bgp_established "$FRR_A" "$T4_B"
		check "BGP IPv6 session $T6_A - $T6_B Established" bgp_established "$FRR_A" "$T6_B"
		check_lan_pings 46
	fi
	frr_pair_stop
	routes_cleared
	scenario_end
}

bgp_established()
{
	vtysh_q "$1" "show bgp neighbors $2 json" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if d.get(sys.argv[1], {}).get("bgpState") == "Established" else 1)' "$2"
}

eigrp_frr()
{
	local m=$1 t0 n
	scenario_begin "eigrp frr" "$m"
	FRR_SHOW=("show ip eigrp neighbors" "show ip eigrp topology" "show ip route")
	DIAG_HOOKS=(diag_frr)
	t0=$(now)
	if frr_pair "eigrp-${m//\//-}" eigrpd; then
		# Not in the startup config: eigrpd 8.4 rejects interface settings
		# before it knows the interfaces (see templates/frr-eigrpd.conf.in).
		for n in "$FRR_A" "$FRR_B"; do
			vtysh_q "$n" "configure terminal" "router eigrp 1" "passive-interface lan0" \
				"exit" "interface $TUN_IF" "ip hello-interval eigrp 1" \
				"ip hold-time eigrp 3" >/dev/null
		done
		converge "FRR eigrpd: IPv4 LANs learned on both routers via $TUN_IF" 30 "$t0" \
			lans_learned 4
		check "EIGRP neighbor $T4_B seen by rA" eval \
			'vtysh_q "$FRR_A" "show ip eigrp neighbors" | grep -q "$T4_B"'
		check_lan_pings 4
	fi
	frr_pair_stop
	routes_cleared
	scenario_end
}

for v in plain/gre/4 secure/gretap/6; do
	IFS=/ read -r mode type ul <<<"$v"
	m="$mode/$type/ipv$ul"
	scenario_begin "tunnel" "$m"
	if ! tunnel_up "$mode" "$type" "$ul"; then
		scenario_end
		tunnel_down
		continue
	fi
	if have_bird; then rip_bird "$m"; else scenario_skip "rip+ripng bird" "$m" "BIRD not installed"; fi
	if have_frr_daemon bgpd; then bgp_frr "$m"; else scenario_skip "bgp frr" "$m" "FRR bgpd not installed"; fi
	if have_frr_daemon eigrpd; then
		eigrp_frr "$m"
	else
		scenario_skip "eigrp frr" "$m" "$FRR_DIR/eigrpd absent (not in this frr package)"
	fi
	tunnel_down
done

finish
