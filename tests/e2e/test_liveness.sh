#!/bin/bash
# tests/e2e/test_liveness.sh: how fast routing reacts when the peer's gresecd
# dies and comes back.
#
#   hA ── rA (gresecd, BIRD OSPF) ══ gt0 ══ rB (gresecd ✝, BIRD OSPF) ── hB
#
# gresecd on rB is killed (SIGKILL: no goodbye); we measure the seconds
# until rA has withdrawn LAN B's routes, then restart it and measure the
# seconds until hA pings hB again.
#   - plain, keepalive = 1, keepalive_retries = 3, OSPF hello 1 / dead 4
#   - plain, same keepalives, OSPF dead 40: only the carrier drop (keepalives
#     unanswered -> rA's gt0 loses carrier -> BIRD takes the link down) can
#     withdraw the routes early
#   - secure, persistent_keepalive = 1, OSPF dead 4 and dead 40: three
#     silent keepalive periods take rA's carrier down
# Then what a dead peer looks like on the kernel data path, where gresecd
# cannot switch a carrier (ip_gre has none, and refuses protodown) and
# takes the link administratively down instead: rA's gt0 is set down, with
# OSPF dead 40, for BIRD and for FRR; the seconds until the daemon on rA
# drops its neighbor, and until LAN B is routed and pinged again once gt0
# is up.  For the record, the same with the operational state set to
# dormant (tests/tools/linkstate): FRR reacts, BIRD does not.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

require_e2e bird
setup_test
make_sites

no_carrier() { ip -n "$1" link show dev "$TUN_IF" 2>/dev/null | grep -q NO-CARRIER; }
lan_ping_once() { ip netns exec "$HA" ping -c1 -W1 -q "$H4_B" >/dev/null 2>&1; }

# live_case MODE DEAD EXTRA LABEL: one kill/return cycle.
live_case()
{
	local mode=$1 dead=$2 extra=$3 label=$4 m t0 t_kill secs carrier_secs="" n
	m="$mode/gre/ipv4, $label"

	scenario_begin "liveness: peer killed -> routes withdrawn" "$m"
	if ! tunnel_up "$mode" gre 4 "$extra" "$extra"; then
		tunnel_down
		scenario_end
		return
	fi
	DIAG_HOOKS=(diag_bird)
	t0=$(now)
	bird_pair bird-ospf.conf.in "live-$mode-$dead" HELLO=1 DEAD="$dead" || {
		scenario_end; bird_pair_stop; tunnel_down; return; }
	if ! converge "OSPF up before the kill" 30 "$t0" lans_learned 4; then
		scenario_end; bird_pair_stop; tunnel_down; return
	fi
	check "LAN traffic before the kill" pings "$HA" "$H4_B" 2

	t_kill=$(now)
	kill -KILL "$PID_GB"
	wait "$PID_GB" 2>/dev/null
	# Poll the route and (separately) rA's carrier, for up to dead + 10 s.
	secs="" carrier_secs=""
	while [ "$(elapsed "$t_kill" | cut -d. -f1)" -lt $((dead + 10)) ]; do
		[ -z "$carrier_secs" ] && no_carrier "$RA" && carrier_secs=$(elapsed "$t_kill")
		if [ -z "$secs" ] && ! learned "$RA" "$LAN4_B"; then
			secs=$(elapsed "$t_kill")
		fi
		[ -n "$secs" ] && [ -n "$carrier_secs" ] && break
		sleep 0.1
	done
	if [ -n "$secs" ]; then
		ok "rA withdrew $LAN4_B $secs s after the peer's gresecd was killed"
		SC_SECS=$secs
	else
		not_ok "rA still routes $LAN4_B via $TUN_IF $((dead + 10)) s after the kill"
		diagnose
	fi
	if [ -n "$carrier_secs" ]; then
		ok "rA's $TUN_IF lost carrier $carrier_secs s after the kill ($([ "$mode" = plain ] && echo keepalives || echo persistent keepalives))"
	else
		not_ok "rA's $TUN_IF kept its carrier with the peer gone"
	fi
	n=$(tunnel_field "$RA" "$SOCK_GA" "$TUN_IF" carrier)
	check_eq "gresec show: carrier of rA's tunnel after the kill" "$n" false
	SC_NOTE="carrier down after ${carrier_secs:--} s"
	scenario_end

	scenario_begin "liveness: peer back -> LAN traffic" "$m"
	DIAG_HOOKS=(diag_bird)
	t0=$(now)
	start_gresecd "$RB" "$CONF_GB"; PID_GB=$GRESECD_PID SOCK_GB=$GRESECD_SOCK
	if converge "hA pings hB again after gresecd on rB restarted" 30 "$t0" lan_ping_once; then
		check "rA relearned $LAN4_B" learned "$RA" "$LAN4_B"
		check "rA's $TUN_IF has its carrier back" eval '! no_carrier "$RA"'
	fi
	bird_pair_stop
	tunnel_down
	scenario_end
}

KA="keepalive = 1; keepalive_retries = 3;"
LINKSTATE="$top_builddir/tests/tools/linkstate"

# lever_case dormant|down bird|frr: rA's gt0 is set dormant (operational
# state; tests/tools/linkstate) or administratively down for 3 s, then
# back.  Measured: the seconds until the routing daemon on rA drops its
# OSPF neighbor over gt0 (with a 40 s dead interval, only the link's state
# can make it that fast).  "down" is what gresecd does to a kernel GRE link
# whose peer went silent: both daemons must notice.  "dormant" is measured
# only: it clears IFF_RUNNING (FRR reads it) but not IFF_LOWER_UP (BIRD
# reads that).
a_full()
{
	if [ "$LEVER_RD" = bird ]; then bird_ospf_full "$BIRD_A" ospf4; else frr_ospf_full "$FRR_A"; fi
}
a_not_full() { ! a_full; }

lever_case()
{
	local lever=$1 rd=$2 m="plain/gre/ipv4, $2, OSPF 1/40" name t0 t1 secs=""

	name="liveness: link $lever -> OSPF neighbor dropped"
	if [ "$lever" = dormant ] && ! [ -x "$LINKSTATE" ]; then
		scenario_skip "$name" "$m" "no $LINKSTATE (make check builds it)"
		return
	fi
	if [ "$rd" = frr ] && ! have_frr_daemon ospfd; then
		scenario_skip "$name" "$m" "no FRR ospfd"
		return
	fi
	LEVER_RD=$rd
	scenario_begin "$name" "$m"
	if ! tunnel_up plain gre 4 "" ""; then
		tunnel_down
		scenario_end
		return
	fi
	t0=$(now)
	if [ "$rd" = bird ]; then
		DIAG_HOOKS=(diag_bird)
		bird_pair bird-ospf.conf.in "$lever" HELLO=1 DEAD=40 || {
			scenario_end; bird_pair_stop; tunnel_down; return; }
	else
		DIAG_HOOKS=(diag_frr)
		frr_pair "$lever" "ospfd" HELLO=1 DEAD=40 || {
			scenario_end; frr_pair_stop; tunnel_down; return; }
	fi
	if converge "OSPF up before gt0 goes $lever" 40 "$t0" lans_learned 4; then
		t1=$(now)
		if [ "$lever" = dormant ]; then
			ip netns exec "$RA" "$LINKSTATE" "$TUN_IF" dormant || not_ok "linkstate $TUN_IF dormant"
			check "rA's $TUN_IF shows state DORMANT and NO-CARRIER" \
				eval 'ip -n "$RA" link show dev "$TUN_IF" | grep -q "NO-CARRIER.*state DORMANT"'
			if wait_until 10 a_not_full; then
				echo "# measure: $rd dropped its OSPF neighbor $(elapsed "$t1") s after $TUN_IF went dormant"
			else
				echo "# measure: $rd still has its OSPF neighbor Full 10 s after $TUN_IF went dormant (IFF_LOWER_UP is still set)"
			fi
			ip netns exec "$RA" "$LINKSTATE" "$TUN_IF" up || not_ok "linkstate $TUN_IF up"
		else
			ip -n "$RA" link set "$TUN_IF" down
			if wait_until 20 a_not_full; then
				secs=$(elapsed "$t1")
				ok "$rd on rA dropped its OSPF neighbor $secs s after $TUN_IF went down (dead interval 40 s)"
				SC_SECS=$secs
			else
				not_ok "$rd on rA still has its OSPF neighbor Full 20 s after $TUN_IF went down"
				diagnose
			fi
			sleep 3
			# What gresecd's kernel path does when the peer is back: the link
			# up, with its addresses (IPv4 ones survive a down).
			ip -n "$RA" link set "$TUN_IF" up
		fi
		t1=$(now)
		converge "LAN B's routes and traffic back once $TUN_IF is up" 40 "$t1" \
			eval 'lans_learned 4 && lan_ping_once'
	fi
	if [ "$rd" = bird ]; then bird_pair_stop; else frr_pair_stop; fi
	tunnel_down
	scenario_end
}

live_case plain 4 "$KA" "keepalive 1x3, OSPF 1/4"
live_case plain 40 "$KA" "keepalive 1x3, OSPF 1/40"
live_case secure 4 "persistent_keepalive = 1;" "persistent keepalive 1, OSPF 1/4"
live_case secure 40 "persistent_keepalive = 1;" "persistent keepalive 1, OSPF 1/40"
lever_case down bird
lever_case down frr
lever_case dormant bird
lever_case dormant frr

finish
