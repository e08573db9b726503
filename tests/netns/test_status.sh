#!/bin/bash
# tests/netns/test_status.sh: `gresec show` tells what is true.
#
#   ns A (gresecd)                                     ns B (gresecd)
#   s1 secure, persistent_keepalive 1  11.2.1.1/30 ┄┄ s1 11.2.1.2/30
#   ka plain, keepalive 1, key 1 (B: key 2)  11.3.1.1/30 ┄┄ ka
#   nk plain, no keepalive, key 3 (B: key 4) 11.4.1.1/30 ┄┄ nk
#   ok plain, no keepalive, keys match       11.5.1.1/30 ┄┄ ok
#   veth0 10.0.0.1/24 ─────────────────────────────── veth0 10.0.0.2/24
#
# - s1 with its peer stopped (SIGSTOP): once the carrier is down the state
#   is no longer "established" (text and JSON; the session's own state is
#   "session"), liveness "dead", the last packet from the peer ages; back
#   to established when the peer runs again.
# - A key mismatch (100 % loss): with keepalives the state is "down",
#   liveness "dead"; without, the text says "unknown liveness" (never
#   "up"), nothing was ever received from the peer, key_mismatch counts.
#   A plain tunnel that receives: the seconds since its last packet.
# - The MTU is the kernel's: set by hand, it is set back (and said), and
#   show always agrees with the link.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
setup_test

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"
make_keys a b

write_conf()
{
	local f=$1 me=$2 lo re n m key peer kk
	if [ "$me" = a ]; then lo=10.0.0.1 re=10.0.0.2 n=1 m=2 key=a.key peer=$PUB_B kk=1
	else lo=10.0.0.2 re=10.0.0.1 n=2 m=1 key=b.key peer=$PUB_A kk=2; fi
	{
		conf_daemon "$f"
		cat <<-EOF
		tunnels = ( {
		  name = "s1"; mode = "secure"; local = "$lo"; remote = "$re"; port = 51991;
		  persistent_keepalive = 1; private_key_file = "$TMPD/$key"; peer_public_key = "$peer";
		  address = "11.2.1.$n/30"; peer_address = "11.2.1.$m";
		}, {
		  name = "ka"; mode = "plain"; local = "$lo"; remote = "$re"; key = $kk;
		  keepalive = 1; keepalive_retries = 2;
		  address = "11.3.1.$n/30"; peer_address = "11.3.1.$m";
		}, {
		  name = "nk"; mode = "plain"; local = "$lo"; remote = "$re"; key = $((kk + 2));
		  address = "11.4.1.$n/30"; peer_address = "11.4.1.$m";
		}, {
		  name = "ok"; mode = "plain"; local = "$lo"; remote = "$re"; key = 9;
		  address = "11.5.1.$n/30"; peer_address = "11.5.1.$m";
		} );
		EOF
	} >"$f"
}
CA="$TMPD/a.conf" CB="$TMPD/b.conf"
write_conf "$CA" a
write_conf "$CB" b
start_gresecd "$B" "$CB"; PID_B=$GRESECD_PID
start_gresecd "$A" "$CA"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK LOG_A=$GRESECD_LOG

field() { tunnel_field "$A" "$SOCK_A" "$@"; }
text_state() { nsx "$A" "$GRESEC" -s "$SOCK_A" show "$1" | sed -n 's/^  mode: .*, state \(.*\)$/\1/p'; }
state_is() { [ "$(field "$1" state)" = "$2" ]; }

echo "# ---- secure: established needs the carrier ----"
ip netns exec "$A" ping -q -c1 -W1 11.2.1.2 >/dev/null 2>&1
check "s1 established" wait_for state_is s1 established
check_eq "s1: liveness alive" "$(field s1 liveness)" alive
check_eq "s1: text state" "$(text_state s1)" established
kill -STOP "$PID_B"
check "peer stopped: carrier down (3 silent keepalive periods)" wait_for eval '[ "$(field s1 carrier)" = false ]'
json=$(gresec_json "$A" "$SOCK_A" s1)
check "peer stopped: state not established any more, liveness dead, session shown apart" "$PY" -c '
import json, sys
t = json.loads(sys.argv[1])["tunnels"][0]
assert t["state"] == "handshaking", t["state"]
assert t["liveness"] == "dead" and t["carrier"] is False, t
assert t["session"] in ("established", "handshaking"), t["session"]
assert t["last_rx_age"] >= 2.5, t["last_rx_age"]
' "$json"
check "peer stopped: the text says handshaking, not established" eval '[ "$(text_state s1)" = handshaking ]'
check "peer stopped: the text gives the carrier and liveness" eval \
	'nsx "$A" "$GRESEC" -s "$SOCK_A" show s1 | grep -q "carrier: down, liveness: dead"'
check "peer stopped: --brief says so" eval \
	'nsx "$A" "$GRESEC" -s "$SOCK_A" show --brief s1 | grep -qE "^s1 +handshaking +DOWN +dead "'
kill -CONT "$PID_B"
check "peer running again: established" wait_for state_is s1 established
check_eq "peer running again: alive" "$(field s1 liveness)" alive

echo "# ---- plain: a key mismatch is not \"up\" ----"
check "ka (keepalives, keys differ): down" wait_for state_is ka down
check_eq "ka: liveness dead" "$(field ka liveness)" dead
check_eq "ka: text state down" "$(text_state ka)" down
ip netns exec "$A" ping -q -c3 -i 0.2 -W1 11.4.1.2 >/dev/null 2>&1    # nothing comes back
ip netns exec "$B" ping -q -c3 -i 0.2 -W1 11.4.1.1 >/dev/null 2>&1    # B's packets: wrong key
check_eq "nk (no keepalives, keys differ): text state says unknown liveness" "$(text_state nk)" "unknown liveness"
check_eq "nk: liveness unknown" "$(field nk liveness)" unknown
check_eq "nk: nothing valid ever received from the peer" "$(field nk last_rx_age)" None
check "nk: the text says never" eval \
	'nsx "$A" "$GRESEC" -s "$SOCK_A" show nk | grep -q "last packet from the peer: never"'
# (counted on the first tunnel to that peer, as the kernel's lookup would)
check "the peer's packets with the wrong key are counted" \
	eval '[ $(($(field ka drops.key_mismatch) + $(field nk drops.key_mismatch))) -ge 1 ]'
check "ok (keys match): passes traffic" pings "$A" 11.5.1.2 2
age=$(field ok last_rx_age)
check "ok: its last packet from the peer is recent ($age s)" "$PY" -c 'import sys; sys.exit(not 0 <= float(sys.argv[1]) < 5)' "$age"

echo "# ---- the MTU is the kernel's ----"
check_eq "ok: show's MTU is the link's" "$(field ok mtu)" "$(link_field "$A" ok mtu)"
ip -n "$A" link set ok mtu 1300
check "MTU set by hand: set back to the configuration" wait_for eval '[ "$(link_field "$A" ok mtu)" = "$(field ok mtu_configured)" ]'
check "MTU set by hand: said in the log" wait_for grep -q 'tunnel "ok": the MTU of ok was changed to 1300: set back to' "$LOG_A"
check_eq "show agrees with the link" "$(field ok mtu)" "$(link_field "$A" ok mtu)"

stop_gresecd "$PID_A"
finish
