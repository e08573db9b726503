#!/bin/bash
# tests/netns/test_gretap_mac.sh: a gretap tunnel's MAC address is stable
# and can be set.
#
#   ns A (gresecd)                               ns B (gresecd)
#   gt1 plain gretap  11.7.1.1/24 ┄┄ GRE ┄┄┄┄┄┄┄┄ gt1 11.7.1.2/24
#   st1 secure gretap 11.8.1.1/24 ┄┄ UDP ┄┄┄┄┄┄┄┄ st1 11.8.1.2/24 (no local)
#   veth0 10.0.0.1/24 ────────────────────────── veth0 10.0.0.2/24
#
# - Without `mac`: a locally administered unicast MAC derived from the
#   configuration: the same after a restart and after the interface is
#   deleted and made again, different at the two ends (it was random at
#   every start before).
# - `mac` set by a reload: applied in place (same interface), ARP across
#   the tunnel works with it, kept by a restart; taken away: the derived
#   one again.
# - `mac` on a gre tunnel, or a multicast one: refused with file:line.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
setup_test

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"
make_keys a b

# write_conf FILE SIDE [MAC-SETTING]
write_conf()
{
	local f=$1 me=$2 extra=${3:-} lo re n key peer
	if [ "$me" = a ]; then lo=10.0.0.1 re=10.0.0.2 n=1 key=a.key peer=$PUB_B
	else lo=10.0.0.2 re=10.0.0.1 n=2 key=b.key peer=$PUB_A; fi
	{
		conf_daemon "$f"
		cat <<-EOF
		tunnels = ( {
		  name = "gt1"; mode = "plain"; type = "gretap"; local = "$lo"; remote = "$re"; key = 7;
		  address = "11.7.1.$n/24"; $extra
		}, {
		  name = "st1"; mode = "secure"; type = "gretap"; remote = "$re"; port = 51981;
		  private_key_file = "$TMPD/$key"; peer_public_key = "$peer";
		  address = "11.8.1.$n/24";
		} );
		EOF
	} >"$f"
}

CA="$TMPD/a.conf" CB="$TMPD/b.conf"
write_conf "$CA" a
write_conf "$CB" b
start_gresecd "$B" "$CB"; PID_B=$GRESECD_PID
start_gresecd "$A" "$CA"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK

mac() { link_field "$1" "$2" address; }
is_laa_unicast() { "$PY" -c 'import sys; b = int(sys.argv[1].split(":")[0], 16); sys.exit(not (b & 2 and not b & 1))' "$1"; }

MAC_A=$(mac "$A" gt1) MAC_B=$(mac "$B" gt1) SMAC_A=$(mac "$A" st1) SMAC_B=$(mac "$B" st1)
echo "# gt1: A $MAC_A, B $MAC_B; st1: A $SMAC_A, B $SMAC_B"
check "gt1: a locally administered unicast MAC ($MAC_A)" is_laa_unicast "$MAC_A"
check "gt1: the two ends differ" test "$MAC_A" != "$MAC_B"
check "st1 (secure, no local): the two ends differ" test "$SMAC_A" != "$SMAC_B"
check "st1: locally administered unicast" is_laa_unicast "$SMAC_A"
check_eq "gresec show --json gives it" "$(tunnel_field "$A" "$SOCK_A" gt1 mac)" "$MAC_A"
check "gresec show (text) gives it, derived" eval \
	'nsx "$A" "$GRESEC" -s "$SOCK_A" show gt1 | grep -qF "mac $MAC_A (derived)"'
check "gt1 passes traffic (ARP across)" pings "$A" 11.7.1.2 3
ip netns exec "$A" ping -q -c1 -W1 11.8.1.2 >/dev/null 2>&1
check "st1 passes traffic" wait_for pings "$A" 11.8.1.2 2

echo "# ---- restart ----"
stop_gresecd "$PID_A"
start_gresecd "$A" "$CA"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK
check_eq "gt1: the same MAC after a restart" "$(mac "$A" gt1)" "$MAC_A"
check_eq "st1: the same MAC after a restart" "$(mac "$A" st1)" "$SMAC_A"
check "gt1 after the restart: B's neighbour entry still right, traffic" pings "$A" 11.7.1.2 3
ip -n "$A" link del gt1
check "gt1 deleted: made again with the same MAC" wait_for eval '[ "$(mac "$A" gt1)" = "$MAC_A" ]'

echo "# ---- mac set ----"
IFX=$(link_field "$A" gt1 ifindex)
write_conf "$CA" a 'mac = "02:11:22:33:44:55";'
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
check_eq "mac set: reload exits 0 ($out)" "$st" 0
check_eq "mac set: applied" "$(mac "$A" gt1)" 02:11:22:33:44:55
check_eq "mac set: in place (same interface)" "$(link_field "$A" gt1 ifindex)" "$IFX"
ip -n "$B" neigh flush dev gt1
check "mac set: traffic (ARP across with the new MAC)" pings "$A" 11.7.1.2 3
check "mac set: B learnt it" eval 'ip -n "$B" neigh show dev gt1 | grep -q "02:11:22:33:44:55"'
check "gresec show (text): not derived" eval \
	'nsx "$A" "$GRESEC" -s "$SOCK_A" show gt1 | grep -q "mac 02:11:22:33:44:55$"'
stop_gresecd "$PID_A"
start_gresecd "$A" "$CA"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK
check_eq "mac set: kept by a restart" "$(mac "$A" gt1)" 02:11:22:33:44:55
write_conf "$CA" a
nsx "$A" "$GRESEC" -s "$SOCK_A" reload >/dev/null 2>&1
check_eq "mac taken away: the derived one again" "$(mac "$A" gt1)" "$MAC_A"

echo "# ---- refused ----"
write_conf "$TMPD/bad.conf" a 'mac = "02:11:22:33:44:55";'
sed -i 's/type = "gretap"; local/type = "gre"; local/' "$TMPD/bad.conf"
out=$(nsx "$A" "$GRESECD" -t -c "$TMPD/bad.conf" 2>&1); st=$?
check "mac on a gre tunnel: refused with file:line ($st: $out)" eval \
	'[ "$st" = 1 ] && echo "$out" | grep -qE "bad.conf:[0-9]+: tunnel \"gt1\": mac: only for type \"gretap\""'
write_conf "$TMPD/bad.conf" a 'mac = "01:00:5e:00:00:01";'
out=$(nsx "$A" "$GRESECD" -t -c "$TMPD/bad.conf" 2>&1); st=$?
check "a multicast mac: refused ($st: $out)" eval \
	'[ "$st" = 1 ] && echo "$out" | grep -qF "mac: \"01:00:5e:00:00:01\" is a multicast address"'
stop_gresecd "$PID_A"
finish
