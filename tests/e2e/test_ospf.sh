#!/bin/bash
# tests/e2e/test_ospf.sh: OSPFv2 and OSPFv3 across gresec tunnels, with BIRD
# and with FRR (ospfd, ospf6d).
#
#   hA ── rA (gresecd, OSPF) ══ gt0 ══ rB (gresecd, OSPF) ── hB
#
# No static routes: rA must learn 192.168.2.0/24 and fd02::/64 from rB over
# the tunnel and rB the LAN of A.  For each tunnel of the matrix (plain and
# secure, gre and gretap, IPv4 and IPv6 underlay): MTU equal at both ends
# (OSPF's database description MTU check), adjacency Full, LAN routes in the
# kernel through gt0, hA pings hB over IPv4 and IPv6.  Hello 1 s, dead 4 s.
#
# BIRD and FRR run on all 8 tunnel variants; E2E_MATRIX=quick runs FRR on
# only 4 of them (each mode, type and underlay twice) to save ~25 s.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

require_e2e "bird|frr"
setup_test
make_sites

ospf_bird()
{
	local mode=$1 type=$2 ul=$3 m="$1/$2/ipv$3" t0

	scenario_begin "ospfv2 bird" "$m"
	if ! tunnel_up "$mode" "$type" "$ul"; then
		scenario_end
		scenario_skip "ospfv3 bird" "$m" "tunnel did not come up"
		tunnel_down
		return
	fi
	mtu_agrees
	DIAG_HOOKS=(diag_bird)
	t0=$(now)
	if bird_pair bird-ospf.conf.in "$mode-$type-$ul" HELLO=1 DEAD=4; then
		converge "BIRD OSPFv2: $LAN4_B on rA and $LAN4_A on rB via $TUN_IF" 30 "$t0" \
			lans_learned 4
		check "BIRD OSPFv2 neighbor Full on rA" bird_ospf_full "$BIRD_A" ospf4
		check "BIRD OSPFv2 neighbor Full on rB" bird_ospf_full "$BIRD_B" ospf4
		check_lan_pings 4
	fi
	scenario_end

	scenario_begin "ospfv3 bird" "$m"
	DIAG_HOOKS=(diag_bird)
	if [ -n "${BIRD_PIDS[$BIRD_B]:-}" ]; then
		converge "BIRD OSPFv3: $LAN6_B on rA and $LAN6_A on rB via $TUN_IF" 30 "$t0" \
			lans_learned 6
		check "BIRD OSPFv3 neighbor Full on rA" bird_ospf_full "$BIRD_A" ospf6
		check "BIRD OSPFv3 neighbor Full on rB" bird_ospf_full "$BIRD_B" ospf6
		check_lan_pings 6
	else
		not_ok "BIRD did not start"
	fi
	bird_pair_stop
	tunnel_down
	scenario_end
}

ospf_frr()
{
	local mode=$1 type=$2 ul=$3 m="$1/$2/ipv$3" t0

	scenario_begin "ospfv2 frr" "$m"
	if ! tunnel_up "$mode" "$type" "$ul"; then
		scenario_end
		scenario_skip "ospfv3 frr" "$m" "tunnel did not come up"
		tunnel_down
		return
	fi
	mtu_agrees
	FRR_SHOW=("show ip ospf neighbor" "show ip ospf interface $TUN_IF" "show ip route"
		"show ipv6 ospf6 neighbor" "show ipv6 ospf6 interface $TUN_IF" "show ipv6 route")
	DIAG_HOOKS=(diag_frr)
	t0=$(now)
	if frr_pair "$mode-$type-$ul" "ospfd ospf6d" HELLO=1 DEAD=4; then
		converge "FRR ospfd: $LAN4_B on rA and $LAN4_A on rB via $TUN_IF" 30 "$t0" \
			lans_learned 4
		check "FRR ospfd neighbor Full on rA" frr_ospf_full "$FRR_A"
		check "FRR ospfd neighbor Full on rB" frr_ospf_full "$FRR_B"
		check_lan_pings 4
	fi
	scenario_end

	scenario_begin "ospfv3 frr" "$m"
	DIAG_HOOKS=(diag_frr)
	if [ -n "${FRR_PIDS[$FRR_B]:-}" ]; then
		converge "FRR ospf6d: $LAN6_B on rA and $LAN6_A on rB via $TUN_IF" 30 "$t0" \
			lans_learned 6
		check "FRR ospf6d neighbor Full on rA" frr_ospf6_full "$FRR_A"
		check "FRR ospf6d neighbor Full on rB" frr_ospf6_full "$FRR_B"
		check_lan_pings 6
	else
		not_ok "FRR did not start"
	fi
	frr_pair_stop
	tunnel_down
	scenario_end
}

for v in plain/gre/4 plain/gretap/6 secure/gre/6 secure/gretap/4 \
	 plain/gre/6 plain/gretap/4 secure/gre/4 secure/gretap/6; do
	IFS=/ read -r mode type ul <<<"$v"
	if have_bird; then
		ospf_bird "$mode" "$type" "$ul"
	else
		scenario_skip "ospf bird" "$mode/$type/ipv$ul" "BIRD not installed"
	fi
	n_frr=$((${n_frr:-0} + 1))
	if ! have_frr_daemon ospfd || ! have_frr_daemon ospf6d; then
		scenario_skip "ospf frr" "$mode/$type/ipv$ul" "FRR ospfd/ospf6d not installed"
	elif [ "$n_frr" -le 4 ] || [ "${E2E_MATRIX:-full}" = full ]; then
		ospf_frr "$mode" "$type" "$ul"
	fi
done

finish
