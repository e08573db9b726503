#!/bin/bash
# tests/netns/test_datapath.sh: the `datapath` and `tos` settings on a
# kernel without GRE (this machine's: the kernel path itself is tested in
# the VM, tests/vm/test_vm_kernel_path.sh).
#
#   ns A (gresecd)                                   ns B (gresecd)
#   g1 plain, datapath auto  11.1.1.1/30 ┄┄ GRE ┄┄┄┄ g1 11.1.1.2/30
#   g2 plain, tos 184        11.2.1.1/30 ┄┄ key 2 ┄┄ g2 11.2.1.2/30
#   g3 plain, tos inherit    11.3.1.1/30 ┄┄ key 3 ┄┄ g3 11.3.1.2/30
#   g4 plain, keepalive 1 with sequence numbers, key 4
#   veth0 10.0.0.1/24 ────────────────────────────── veth0 10.0.0.2/24
#
# auto picks user space, says why in the log and in `gresec show` (text and
# JSON: datapath, datapath_setting, datapath_reason; no ICMP sink, no
# kernel statistics: there is no ip_gre to answer with ICMP); traffic
# flows; keepalives with sequence numbers (user space for "auto") are
# answered.  datapath = "kernel" cannot come up here: at start the daemon
# runs with that tunnel failed, naming the missing module (retried); added
# by a reload, that tunnel fails, is named, and the others stay.  `gresecd -t` refuses what the kernel path cannot do (file:line).
# tos: a fixed TOS and an inherited DSCP on the outer header (tcpdump in
# B), changed in place by a reload (same ifindex); a reload from
# datapath "auto" to "user" recreates the tunnel.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
command -v tcpdump >/dev/null 2>&1 || skip "$(basename "$0") needs tcpdump"
setup_test

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"

# conf SIDE FILE [G1_DATAPATH [G2_TOS [EXTRA_TUNNEL]]]
conf()
{
	local me=$1 f=$2 dp=${3:-auto} tos2=${4:-184} lo re n m
	if [ "$me" = a ]; then lo=$UL4_A re=$UL4_B n=1 m=2; else lo=$UL4_B re=$UL4_A n=2 m=1; fi
	{
		conf_daemon "$f"
		cat <<EOF
tunnels = ( {
  name = "g1"; mode = "plain"; datapath = "$dp"; local = "$lo"; remote = "$re";
  address = "11.1.1.$n/30"; peer_address = "11.1.1.$m";
}, {
  name = "g2"; mode = "plain"; local = "$lo"; remote = "$re"; key = 2; tos = $tos2;
  address = "11.2.1.$n/30"; peer_address = "11.2.1.$m";
}, {
  name = "g3"; mode = "plain"; local = "$lo"; remote = "$re"; key = 3; tos = "inherit";
  address = "11.3.1.$n/30"; peer_address = "11.3.1.$m";
}, {
  name = "g4"; mode = "plain"; local = "$lo"; remote = "$re"; key = 4;
  keepalive = 1; sequence = true; address = "11.4.1.$n/30";
}${5:-} );
EOF
	} >"$f"
}

CA="$TMPD/a.conf" CB="$TMPD/b.conf"
conf a "$CA"
conf b "$CB"
start_gresecd "$B" "$CB"
PID_B=$GRESECD_PID
start_gresecd "$A" "$CA"
PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK LOG_A=$GRESECD_LOG

field() { tunnel_field "$A" "$SOCK_A" "$1" "$2"; }

# ---- auto on a kernel without GRE ----
check_eq "auto: g1 runs in user space" "$(field g1 datapath)" user
check_eq "auto: the setting is shown" "$(field g1 datapath_setting)" auto
check_eq "auto: the reason is shown" "$(field g1 datapath_reason)" 'auto: this kernel has no "gre" links (ip_gre)'
check_eq "auto: no ICMP sink (no ip_gre to answer)" "$(field g1 icmp_sink)" None
check_eq "auto: no kernel statistics" "$(field g1 kernel_stats)" None
check "auto: the choice is logged" \
	grep -q 'tunnel "g1": plain gre interface g1 up, mtu 1476, user-space data path (auto: this kernel has no "gre" links (ip_gre))' "$LOG_A"
check "auto: gresec show says it" \
	eval 'ip netns exec "$A" "$GRESEC" -s "$SOCK_A" show g1 | grep -q "data path: user space (auto: this kernel has no"'
check "auto: traffic through g1" pings "$A" 11.1.1.2 3
check_eq "auto: keepalives with sequence numbers: user space, and why" "$(field g4 datapath_reason)" \
	"auto: keepalives with sequence numbers need user space"
g4_answered() { [ "$(field g4 keepalives_received)" -ge 2 ]; }
check "keepalives with sequence numbers are answered (their inner header carries one too)" wait_for g4_answered
check_eq "... and g4 is up" "$(field g4 state)" up

# ---- tos on the wire ----
# cap_tos KEY ADDR PING_ARGS...: the outer TOS bytes of the GRE packets A
# sends with KEY (0: none) and IPv4 inside while pinging ADDR (tcpdump -v in B).
cap_tos()
{
	local key=$1 addr=$2 out="$TMPD/tos.txt" f
	shift 2
	f="proto 47 and src $UL4_A and ip[22:2] = 0x0800"
	if [ "$key" = 0 ]; then
		f="$f and ip[20] & 0x20 = 0"
	else
		f="$f and ip[20] & 0x20 != 0 and ip[24:4] = $key"
	fi
	ip netns exec "$B" timeout 5 tcpdump -i veth0 -n -v -c 2 "$f" >"$out" 2>/dev/null &
	local cpid=$!
	sleep 0.5
	ip netns exec "$A" ping -q -c 2 -i 0.2 -W 1 "$@" "$addr" >/dev/null 2>&1
	wait "$cpid"
	sed -n 's/^.*IP (tos \(0x[0-9a-f]*\)[,)].*proto GRE.*/\1/p' "$out" | sort -u | tr '\n' ' '
}
check_eq "tos 184: the outer header carries 0xb8" "$(cap_tos 2 11.2.1.2)" "0xb8 "
check_eq "tos inherit: the outer header carries the inner DSCP (ping -Q 0x28)" \
	"$(cap_tos 3 11.3.1.2 -Q 0x28)" "0x28 "
check_eq "tos inherit: ... and not the inner ECN bits (ping -Q 0x2b)" "$(cap_tos 3 11.3.1.2 -Q 0x2b)" "0x28 "
check_eq "tos 0 (default): the outer header carries 0" "$(cap_tos 0 11.1.1.2 -Q 0x28)" "0x0 "

# ---- reloads: tos in place, datapath auto -> user recreates ----
idx_g1=$(ip netns exec "$A" cat /sys/class/net/g1/ifindex)
idx_g2=$(ip netns exec "$A" cat /sys/class/net/g2/ifindex)
conf a "$CA" user 96
check "reload: tos 96 and g1 to datapath \"user\"" ip netns exec "$A" "$GRESEC" -s "$SOCK_A" reload
check_eq "reload: g2 kept (same ifindex)" "$(ip netns exec "$A" cat /sys/class/net/g2/ifindex)" "$idx_g2"
check_eq "reload: g2's new tos on the wire" "$(cap_tos 2 11.2.1.2)" "0x60 "
check "reload: g1 recreated for its new data path (new ifindex)" \
	test "$(ip netns exec "$A" cat /sys/class/net/g1/ifindex)" != "$idx_g1"
check_eq "reload: g1's reason" "$(field g1 datapath_reason)" 'datapath = "user"'
check "reload: traffic through g1" wait_for pings "$A" 11.1.1.2 1

# ---- datapath = "kernel" where the kernel has no GRE ----
K_TUNNEL=', {
  name = "k1"; mode = "plain"; datapath = "kernel"; local = "10.0.0.1"; remote = "10.0.0.2"; key = 9;
  address = "11.9.1.1/30";
}'
conf a "$CA" user 96 "$K_TUNNEL"
out=$(ip netns exec "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1)
check "reload with a datapath \"kernel\" tunnel: reported as failed, named" \
	eval '[[ "$out" == *"1 of 5 tunnels not running"* && "$out" == *"tunnel \"k1\" (line "*"this kernel has no \"gre\" links"* ]]'
check "reload: the log names the missing link type and module" \
	grep -q 'tunnel "k1": datapath = "kernel", but this kernel has no "gre" links (Operation not supported: ip_gre is neither built in nor loadable; load it as root with "modprobe ip_gre"' "$LOG_A"
check "reload: no k1 interface" link_gone "$A" k1
check "reload: the other tunnels carry on" pings "$A" 11.2.1.2 3

KC="$TMPD/k.conf"
{ conf_daemon "$KC"; printf 'tunnels = ( { name = "k1"; mode = "plain"; datapath = "kernel"; local = "10.0.0.1"; remote = "10.0.0.2"; } );\n'; } >"$KC"
# The tunnel cannot come up here (until ip_gre can be loaded): the
# daemon runs without it and retries it.
ip netns exec "$A" "$GRESECD" -f -c "$KC" -p "$(conf_pidfile "$KC")" -s "$(conf_sock "$KC")" >"$TMPD/k.log" 2>&1 &
KPID=$!
DAEMON_PIDS+=("$KPID")
check "start with only a datapath \"kernel\" tunnel: the daemon runs" \
	wait_for daemon_answers "$A" "$(conf_sock "$KC")" "$KPID"
check_eq "start: k1 failed" "$(tunnel_field "$A" "$(conf_sock "$KC")" k1 state)" failed
check "start: the log says why" grep -q 'this kernel has no "gre" links' "$TMPD/k.log"
check "start: gresec show says why" eval \
	'tunnel_field "$A" "$(conf_sock "$KC")" k1 last_error | grep -q "this kernel has no \"gre\" links"'
check "start: nothing left behind" link_gone "$A" k1
stop_gresecd "$KPID"

{ conf_daemon "$KC"; printf 'tunnels = ( {\n name = "k1"; mode = "plain"; local = "10.0.0.1"; remote = "10.0.0.2";\n datapath = "kernel";\n clamp_mss = true;\n} );\n'; } >"$KC"
out=$("$GRESECD" -t -c "$KC" 2>&1)
check_eq "gresecd -t: datapath \"kernel\" with clamp_mss refused" "$?" 1
check "gresecd -t: file:line of the datapath setting" \
	eval '[[ "$out" == *"$KC:4: tunnel \"k1\": datapath: \"kernel\" cannot clamp the MSS (clamp_mss on line 5)"* ]]'

stop_gresecd "$PID_A"
check_eq "gresecd A exits 0" "$?" 0
stop_gresecd "$PID_B"
check_eq "gresecd B exits 0" "$?" 0
finish
