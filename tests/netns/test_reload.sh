#!/bin/bash
# tests/netns/test_reload.sh: SIGHUP and `gresec reload` with several tunnels.
#
#   ns A (gresecd, reloaded)                          ns B (gresecd, peer)
#   p1 plain  key 1   11.1.1.1/30 ┄┄ GRE ┄┄┄┄┄┄┄┄┄┄┄ p1 11.1.1.2/30   unchanged
#   s1 secure :51947  11.2.1.1/30 ┄┄ UDP ┄┄┄┄┄┄┄┄┄┄┄ s1 11.2.1.2/30   unchanged
#   x1 plain  key 2   11.3.1.1/30 ┄┄ GRE ┄┄┄┄┄┄┄┄┄┄┄ x1 11.3.1.2/30   changed, removed
#   s2 secure :51948  11.4.1.1/30 ┄┄ UDP ┄┄┄┄┄┄┄┄┄┄┄ s2 11.4.1.2/30   peer key changed
#   n1 plain  key 5   11.5.1.1/30 (added later) ┄┄┄┄ n1 11.5.1.2/30
#   veth0 10.0.0.1/24 ──────────────────────────────── veth0 10.0.0.2/24
#
# While `ping -i 0.01` runs through p1 and s1, A is reloaded again and again:
# unchanged config (SIGHUP and gresec reload), invalid configs (syntax and
# semantic; file:line in the log and in gresec's error, non-zero exit, the
# running config stays), x1 changed in place (MTU, route, address,
# description: same ifindex), x1's key and s2's peer key changed (new
# ifindex, traffic again), x1 removed (interface gone), n1 added (comes up).
# p1 and s1 lose no packet, keep their ifindex, s1 keeps its session
# (handshake age keeps growing, no new handshake) and counters go on.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
setup_test

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"

make_keys a1 b1 a2 b2 b2new

# The state of A's and B's configurations; write_a / write_b render them.
X1_PRESENT=1 X1_KEY=2 X1_EXTRA="" X1_DESC="x one" X1_ADDRS='"11.3.1.1/30"' N1_PRESENT=0
S2_PEER_A=$PUB_B2 S2_KEY_B=b2 S2_EXTRA=""

plain_block()
{
	local name=$1 lo=$2 re=$3 key=$4 addrs=$5 peer=$6 extra=$7
	cat <<-EOF
	  {
	    name = "$name"; mode = "plain"; type = "gre";
	    local = "$lo"; remote = "$re"; key = $key;
	    address = ( $addrs ); peer_address = ( "$peer" );
	    $extra
	  }
	EOF
}

secure_block()
{
	local name=$1 lo=$2 re=$3 port=$4 addr=$5 peer=$6 keyfile=$7 peerpub=$8 extra=$9
	cat <<-EOF
	  {
	    name = "$name"; mode = "secure"; type = "gre";
	    local = "$lo"; remote = "$re"; port = $port;
	    address = ( "$addr/30" ); peer_address = ( "$peer" );
	    private_key_file = "$keyfile";
	    peer_public_key = "$peerpub";
	    $extra
	  }
	EOF
}

# join: the blocks on stdin-separated calls, comma between them.
write_a()
{
	local f=$CA blocks=()

	blocks+=("$(plain_block p1 "$UL4_A" "$UL4_B" 1 '"11.1.1.1/30"' 11.1.1.2)")
	blocks+=("$(secure_block s1 "$UL4_A" "$UL4_B" 51947 11.2.1.1 11.2.1.2 "$TMPD/a1.key" "$PUB_B1")")
	[ "$X1_PRESENT" = 1 ] && blocks+=("$(plain_block x1 "$UL4_A" "$UL4_B" "$X1_KEY" "$X1_ADDRS" 11.3.1.2 \
		"description = \"$X1_DESC\"; $X1_EXTRA")")
	blocks+=("$(secure_block s2 "$UL4_A" "$UL4_B" 51948 11.4.1.1 11.4.1.2 "$TMPD/a2.key" "$S2_PEER_A" "$S2_EXTRA")")
	[ "$N1_PRESENT" = 1 ] && blocks+=("$(plain_block n1 "$UL4_A" "$UL4_B" 5 '"11.5.1.1/30"' 11.5.1.2)")
	{
		conf_daemon "$f"
		echo "tunnels = ("
		local i
		for i in "${!blocks[@]}"; do
			[ "$i" -gt 0 ] && echo "  ,"
			echo "${blocks[$i]}"
		done
		echo ");"
	} >"$f.tmp" && mv "$f.tmp" "$f"
}

write_b()
{
	{
		conf_daemon "$CB"
		echo "tunnels = ("
		plain_block p1 "$UL4_B" "$UL4_A" 1 '"11.1.1.2/30"' 11.1.1.1; echo ","
		secure_block s1 "$UL4_B" "$UL4_A" 51947 11.2.1.2 11.2.1.1 "$TMPD/b1.key" "$PUB_A1"; echo ","
		plain_block x1 "$UL4_B" "$UL4_A" "$X1_KEY" '"11.3.1.2/30"' 11.3.1.1; echo ","
		secure_block s2 "$UL4_B" "$UL4_A" 51948 11.4.1.2 11.4.1.1 "$TMPD/$S2_KEY_B.key" "$PUB_A2"; echo ","
		plain_block n1 "$UL4_B" "$UL4_A" 5 '"11.5.1.2/30"' 11.5.1.1
		echo ");"
	} >"$CB.tmp" && mv "$CB.tmp" "$CB"
}

CA="$TMPD/a.conf" CB="$TMPD/b.conf"
write_a
write_b
start_gresecd "$A" "$CA"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK LOG_A=$GRESECD_LOG
start_gresecd "$B" "$CB"; PID_B=$GRESECD_PID SOCK_B=$GRESECD_SOCK LOG_B=$GRESECD_LOG

field() { tunnel_field "$A" "$SOCK_A" "$@"; }
ifindex() { link_field "$1" "$2" ifindex; }
state_is() { [ "$(tunnel_field "$1" "$2" "$3" state)" = "$4" ]; }
established() { state_is "$A" "$SOCK_A" "$1" established && state_is "$B" "$SOCK_B" "$1" established; }
reloads_done() { grep -c "reloading $CA" "$LOG_A"; }
reloads_ok() { grep -c "reloaded $CA: " "$LOG_A"; }
n_established() { grep -c "tunnel \"$2\": session established" "$1"; }

# Handshakes happen on the first packet; ping once to trigger them.
ip netns exec "$A" ping -q -c1 -W1 11.2.1.2 >/dev/null 2>&1
ip netns exec "$A" ping -q -c1 -W1 11.4.1.2 >/dev/null 2>&1
check "s1 established" wait_for established s1
check "s2 established" wait_for established s2
for t in p1:11.1.1.2 s1:11.2.1.2 x1:11.3.1.2 s2:11.4.1.2; do
	check "${t%%:*}: ping A -> B at start" pings "$A" "${t#*:}" 3
done
check "n1 absent in A at start" link_gone "$A" n1

IFX_P1=$(ifindex "$A" p1) IFX_S1=$(ifindex "$A" s1) IFX_X1=$(ifindex "$A" x1) IFX_S2=$(ifindex "$A" s2)
IFX_B_S1=$(ifindex "$B" s1) IFX_B_P1=$(ifindex "$B" p1)
AGE0=$(field s1 latest_handshake_age) T0=$SECONDS
RX0_S1=$(field s1 rx_packets) TX0_P1=$(field p1 tx_packets)
EST_A=$(n_established "$LOG_A" s1) EST_B=$(n_established "$LOG_B" s1)
echo "# s1 handshake age $AGE0 s, ifindex p1=$IFX_P1 s1=$IFX_S1 x1=$IFX_X1 s2=$IFX_S2"

# unchanged LABEL: p1 and s1 kept their interfaces.
unchanged()
{
	check_eq "$1: p1 keeps its ifindex" "$(ifindex "$A" p1)" "$IFX_P1"
	check_eq "$1: s1 keeps its ifindex" "$(ifindex "$A" s1)" "$IFX_S1"
}

# ---- ping through the unchanged tunnels during all the reloads ----
PING_COUNT=2000   # 20-35 s at -i 0.01, longer than all the reloads below
ip netns exec "$A" ping -q -i 0.01 -c "$PING_COUNT" -W 2 11.1.1.2 >"$TMPD/ping-p1.out" 2>&1 &
PING_P1=$!
ip netns exec "$A" ping -q -i 0.01 -c "$PING_COUNT" -W 2 11.2.1.2 >"$TMPD/ping-s1.out" 2>&1 &
PING_S1=$!
BG_PIDS+=("$PING_P1" "$PING_S1")
sleep 1

echo "# ---- unchanged configuration ----"
n=$(reloads_done)
kill -HUP "$PID_A"
check "SIGHUP: reload logged" wait_for eval '[ "$(reloads_done)" -gt "$n" ]'
check "SIGHUP: reload finished" wait_for eval '[ "$(reloads_ok)" -gt "$n" ]'
check "SIGHUP: 4 tunnels after the reload" grep -q "reloaded $CA: 4 tunnels" "$LOG_A"
unchanged "SIGHUP, same config"
check_eq "SIGHUP, same config: x1 keeps its ifindex" "$(ifindex "$A" x1)" "$IFX_X1"
check_eq "SIGHUP, same config: s2 keeps its ifindex" "$(ifindex "$A" s2)" "$IFX_S2"
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
check_eq "gresec reload, same config: exit 0 ($out)" "$st" 0
check "gresec reload, same config: says reloaded" eval 'echo "$out" | grep -q "reloaded $CA"'
unchanged "gresec reload, same config"
check_eq "gresec reload, same config: x1 keeps its ifindex" "$(ifindex "$A" x1)" "$IFX_X1"
for i in 1 2 3; do kill -HUP "$PID_A"; sleep 0.3; done
check "three more SIGHUPs: all done" wait_for eval '[ "$(reloads_done)" -ge $((n + 5)) ]'
unchanged "after 5 unchanged reloads"

echo "# ---- invalid configurations ----"
cp "$CA" "$TMPD/a.conf.good"
# A syntax error on a known line.
line=$(($(wc -l <"$CA") + 1))
echo 'oops = ;' >>"$CA"
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
check "syntax error: gresec reload exits non-zero (got $st)" test "$st" -ne 0
check "syntax error: gresec reload names $CA:$line ($out)" eval 'echo "$out" | grep -q "$CA:$line:"'
check "syntax error: gresec reload says the running config stays" \
	eval 'echo "$out" | grep -q "running configuration stays in force"'
check "syntax error: the log names $CA:$line" grep -q "$CA:$line: syntax error" "$LOG_A"
# A semantic error on a known line, by SIGHUP.
cp "$TMPD/a.conf.good" "$CA"
line=$(grep -n 'name = "x1"' "$CA" | cut -d: -f1)
sed -i "${line}s/\$/ mtu = 99999;/" "$CA"
n=$(grep -c "is invalid, the running configuration stays in force" "$LOG_A")
kill -HUP "$PID_A"
check "bad value by SIGHUP: refusal logged" \
	wait_for eval '[ "$(grep -c "is invalid, the running configuration stays in force" "$LOG_A")" -gt "$n" ]'
check "bad value by SIGHUP: the log names $CA:$line and mtu" grep -q "$CA:$line:.*mtu" "$LOG_A"
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
check "bad value: gresec reload exits non-zero and names $CA:$line ($out)" \
	eval '[ "$st" -ne 0 ] && echo "$out" | grep -q "$CA:$line:.*mtu"'
# A removed tunnel in an invalid file must not be removed.
{ echo 'tunnels = ( { name = "p1"; mode = "plain"; } );'; } >"$CA"
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
check "incomplete tunnel: gresec reload exits non-zero ($out)" test "$st" -ne 0
cp "$TMPD/a.conf.good" "$CA"
unchanged "after invalid configs"
check_eq "after invalid configs: x1 keeps its ifindex" "$(ifindex "$A" x1)" "$IFX_X1"
check_eq "after invalid configs: s2 keeps its ifindex" "$(ifindex "$A" s2)" "$IFX_S2"
check_eq "after invalid configs: gresec show still lists 4 tunnels" \
	"$(gresec_json "$A" "$SOCK_A" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["tunnels"]))')" 4
check "after invalid configs: x1 still passes traffic" pings "$A" 11.3.1.2 2
check "after invalid configs: s2 still passes traffic" pings "$A" 11.4.1.2 2

echo "# ---- changed in place: x1 MTU, route, address, description; s2 MTU, description ----"
EST_B_S2=$(n_established "$LOG_B" s2)
S2_EXTRA='mtu = 1380; description = "s two";'
X1_DESC="x one, changed"
X1_EXTRA='mtu = 1400; routes = ( "192.168.30.0/24" );'
X1_ADDRS='"11.3.1.1/30", "fd13::1/64"'
write_a
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
check_eq "in-place change: gresec reload exits 0 ($out)" "$st" 0
check_eq "in-place change: x1 keeps its ifindex" "$(ifindex "$A" x1)" "$IFX_X1"
check_eq "in-place change: x1 MTU is 1400" "$(link_field "$A" x1 mtu)" 1400
check_eq "in-place change: show reports MTU 1400" "$(field x1 mtu)" 1400
check "in-place change: route 192.168.30.0/24 via x1" route_via_dev "$A" 192.168.30.9 x1
check "in-place change: fd13::1/64 on x1" addr_present "$A" x1 fd13::1 64
check "in-place change: 11.3.1.1/30 still on x1" addr_present "$A" x1 11.3.1.1 30
check_eq "in-place change: description" "$(field x1 description)" "x one, changed"
check "in-place change: logged as updated in place" grep -q 'tunnel "x1": updated in place' "$LOG_A"
check "in-place change: x1 still passes traffic" pings "$A" 11.3.1.2 2
check_eq "in-place change: s2 keeps its ifindex" "$(ifindex "$A" s2)" "$IFX_S2"
check_eq "in-place change: s2 MTU is 1380" "$(link_field "$A" s2 mtu)" 1380
check_eq "in-place change: s2 description" "$(field s2 description)" "s two"
check "in-place change: s2 passes traffic" pings "$A" 11.4.1.2 2
check_eq "in-place change: s2 kept its session (no new one in B)" "$(n_established "$LOG_B" s2)" "$EST_B_S2"
unchanged "in-place change of x1"
# And back: the route and the address go away again, same interface.
X1_EXTRA='mtu = 1400;' X1_ADDRS='"11.3.1.1/30"'
write_a
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
check_eq "route and address removed: gresec reload exits 0 ($out)" "$st" 0
check_eq "route and address removed: x1 keeps its ifindex" "$(ifindex "$A" x1)" "$IFX_X1"
check "route and address removed: no route 192.168.30.0/24 via x1" \
	eval '! route_via_dev "$A" 192.168.30.9 x1'
check "route and address removed: fd13::1 gone" eval '! addr_present "$A" x1 fd13::1 64'

echo "# ---- recreated: x1 key (plain), s2 peer key (secure) ----"
X1_KEY=3 S2_PEER_A=$PUB_B2NEW S2_KEY_B=b2new
write_a
write_b
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
check_eq "key changes: gresec reload in A exits 0 ($out)" "$st" 0
out=$(nsx "$B" "$GRESEC" -s "$SOCK_B" reload 2>&1); st=$?
check_eq "key changes: gresec reload in B exits 0 ($out)" "$st" 0
got=$(ifindex "$A" x1)
check "x1 key change: new interface (ifindex $IFX_X1 -> $got)" eval '[ -n "$got" ] && [ "$got" != "$IFX_X1" ]'
check_eq "x1 key change: show reports key 3" "$(field x1 key | json_get ikey)" 3
check_eq "x1 key change: MTU kept from the config" "$(link_field "$A" x1 mtu)" 1400
check "x1 key change: traffic with the new key" pings "$A" 11.3.1.2 3
got=$(ifindex "$A" s2)
check "s2 peer key change: new interface (ifindex $IFX_S2 -> $got)" eval '[ -n "$got" ] && [ "$got" != "$IFX_S2" ]'
check_eq "s2 peer key change: show reports the new peer key" "$(field s2 peer_public_key)" "$PUB_B2NEW"
ip netns exec "$A" ping -q -c1 -W1 11.4.1.2 >/dev/null 2>&1
check "s2 peer key change: new session established" wait_for established s2
check "s2 peer key change: traffic" pings "$A" 11.4.1.2 3
unchanged "key changes"
check_eq "key changes: B's s1 keeps its ifindex" "$(ifindex "$B" s1)" "$IFX_B_S1"
check_eq "key changes: B's p1 keeps its ifindex" "$(ifindex "$B" p1)" "$IFX_B_P1"

echo "# ---- x1 removed, n1 added ----"
X1_PRESENT=0 N1_PRESENT=1
write_a
n=$(reloads_ok)
kill -HUP "$PID_A"
check "remove/add by SIGHUP: reload finished" wait_for eval '[ "$(reloads_ok)" -gt "$n" ]'
check "remove/add by SIGHUP: 4 tunnels" eval '[ "$(grep "reloaded $CA: " "$LOG_A" | tail -n1 | grep -c ": 4 tunnels")" = 1 ]' 
check "x1 removed: interface gone" wait_for link_gone "$A" x1
check "x1 removed: not in gresec show" eval '! gresec_json "$A" "$SOCK_A" x1 >/dev/null 2>&1'
check "x1 removed: route to the peer gone" eval '! route_via_dev "$A" 11.3.1.2 x1'
check "n1 added: interface exists" wait_for link_exists "$A" n1
check "n1 added: has its address" addr_present "$A" n1 11.5.1.1 30
check "n1 added: passes traffic" pings "$A" 11.5.1.2 3
unchanged "remove/add"
check_eq "remove/add: s2 keeps its (new) ifindex" "$(ifindex "$A" s2)" "$got"

echo "# ---- the unchanged tunnels lost nothing ----"
for p in "$PING_P1" "$PING_S1"; do
	kill -0 "$p" 2>/dev/null || not_ok "ping $p ended before the reloads did (raise PING_COUNT)"
done
wait "$PING_P1"; st_p1=$?
wait "$PING_S1"; st_s1=$?
sum_p1=$(grep -E "packets transmitted" "$TMPD/ping-p1.out")
sum_s1=$(grep -E "packets transmitted" "$TMPD/ping-s1.out")
echo "# p1: $sum_p1"
echo "# s1: $sum_s1"
check "p1: $PING_COUNT pings at 100/s across $(reloads_done) reloads, 0% loss" \
	eval '[ "$st_p1" = 0 ] && echo "$sum_p1" | grep -q "$PING_COUNT packets transmitted, $PING_COUNT received, 0% packet loss"'
check "s1: $PING_COUNT pings at 100/s across the reloads, 0% loss" \
	eval '[ "$st_s1" = 0 ] && echo "$sum_s1" | grep -q "$PING_COUNT packets transmitted, $PING_COUNT received, 0% packet loss"'
unchanged "at the end"
age=$(field s1 latest_handshake_age)
el=$((SECONDS - T0))
check "s1: handshake age kept growing ($AGE0 s -> $age s over ${el} s)" \
	"$PY" -c 'import sys; a0, a, el = map(float, sys.argv[1:]); sys.exit(not a >= a0 + el - 1.5)' \
	"$AGE0" "$age" "$el"
check_eq "s1: no new session in A" "$(n_established "$LOG_A" s1)" "$EST_A"
check_eq "s1: no new session in B" "$(n_established "$LOG_B" s1)" "$EST_B"
got=$(field s1 rx_packets)
check "s1: rx_packets kept counting ($RX0_S1 -> $got)" test "$got" -ge $((RX0_S1 + PING_COUNT))
got=$(field p1 tx_packets)
check "p1: tx_packets kept counting ($TX0_P1 -> $got)" test "$got" -ge $((TX0_P1 + PING_COUNT))
check_eq "s1: still established" "$(field s1 state)" established

echo "# ---- SIGTERM ----"
stop_gresecd "$PID_A"; st=$?
check_eq "gresecd in A exits 0 on SIGTERM" "$st" 0
for t in p1 s1 s2 n1; do
	check "$t removed from A after SIGTERM" link_gone "$A" "$t"
done
finish
