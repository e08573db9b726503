#!/bin/bash
# tests/e2e/test_isis.sh: IS-IS (FRR isisd) across gresec gretap tunnels.
#
#   hA ── rA (gresecd, isisd) ══ gt0 (gretap) ══ rB (gresecd, isisd) ── hB
#
# IS-IS PDUs are OSI CLNS frames (LLC, DSAP/SSAP 0xFE), not IP: they need an
# Ethernet link, so the tunnel is gretap (GRE protocol 0x6558).  For plain
# and secure mode over IPv4 and IPv6 underlays: adjacency Up, LAN routes
# (IPv4 and IPv6) learned through gt0, hA pings hB.  Then, to show why,
# the same over an L3 gre tunnel: no adjacency.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

require_e2e "frr:isisd"
setup_test
make_sites

isis_adj_up() { vtysh_q "$1" "show isis neighbor" | grep -q "$TUN_IF.*Up"; }

isis_case()
{
	local mode=$1 type=$2 ul=$3 m="$1/$2/ipv$3" t0
	scenario_begin "isis frr" "$m"
	if ! tunnel_up "$mode" "$type" "$ul"; then
		tunnel_down
		scenario_end
		return
	fi
	FRR_SHOW=("show isis interface" "show isis neighbor detail" "show isis database"
		"show ip route" "show ipv6 route")
	DIAG_HOOKS=(diag_frr)
	t0=$(now)
	if frr_pair "isis-$mode-$type-$ul" isisd; then
		if [ "$type" = gretap ]; then
			converge "FRR isisd: IPv4 and IPv6 LANs learned on both routers via $TUN_IF" 30 \
				"$t0" lans_learned 46
			check "IS-IS adjacency Up on rA" isis_adj_up "$FRR_A"
			check "IS-IS adjacency Up on rB" isis_adj_up "$FRR_B"
			check_lan_pings 46
		else
			# L3 gre: the TUN device has no link layer; isisd cannot
			# send its frames there (or they are not GRE-encapsulable).
			sleep 5
			check "no IS-IS adjacency over an L3 gre tunnel (needs gretap)" \
				eval '! isis_adj_up "$FRR_A"'
			check "no IS-IS routes over an L3 gre tunnel" eval '! lans_learned 4'
			SC_NOTE="expected: IS-IS needs gretap"
			echo "# gresecd on rA over L3 gre: tx_packets $(tunnel_field "$RA" "$SOCK_GA" \
				"$TUN_IF" tx_packets), drops $(tunnel_field "$RA" "$SOCK_GA" "$TUN_IF" drops |
				tr -d ' ' | grep -o '"[a-z_]*":[1-9][0-9]*' | tr '\n' ' ')"
		fi
	fi
	frr_pair_stop
	tunnel_down
	scenario_end
}

for v in plain/gretap/4 secure/gretap/6 plain/gretap/6 secure/gretap/4 plain/gre/4; do
	IFS=/ read -r mode type ul <<<"$v"
	isis_case "$mode" "$type" "$ul"
done

finish
