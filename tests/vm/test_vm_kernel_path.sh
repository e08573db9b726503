#!/bin/bash
# tests/vm/test_vm_kernel_path.sh: plain mode on a stock Linux kernel.
# gresecd runs INSIDE the VM on Debian's own kernel, where ip_gre and
# ip6_gre exist (as modules, not loaded at boot), against a plain-mode
# gresecd here, which runs in user space (this kernel has no GRE).
#
#   namespace H (this kernel)                    VM (Debian's kernel, qemu)
#   gresecd, user space                          gresecd, datapath "auto" -> kernel
#   gre1  11.11.1.1/30 fd11::1/64 ┄┄ GRE ┄┄┄┄┄┄   gre1  11.11.1.2/30 fd11::2/64 (ip_gre)
#   gtap1 11.11.2.1/30 ┄ gretap, key 2, csum ┄   gtap1 11.11.2.2/30 (gretap)
#   gre6  11.11.3.1/30 ┄┄ GRE over IPv6 ┄┄┄┄┄┄┄   gre6  11.11.3.2/30 (ip6gre)
#   vmtap0 10.0.0.1/24 fd00::1/64 ──── tap ────── eth0 10.0.0.2/24 fd00::2/64
#
# Kernel path (the VM's gresecd with datapath "auto", running as user
# gresec with CAP_NET_ADMIN and CAP_NET_RAW): the kernel's GRE is chosen
# for all three, its modules loaded by gresecd's own RTM_NEWLINK (ip6_gre
# by a reload that adds gre6 after the privilege drop); TOS and TTL on the
# links;
# pings both ways and 20 MB of TCP with equal SHA-256 (both ways on gre1,
# to the VM on the others); a reload of MTUs, routes and a TTL keeps each
# link (same ifindex); keepalives (gre1, 1 s, 2 retries): the host's
# gresecd stopped (SIGSTOP) takes gre1 administratively down (ip_gre has
# no carrier and refuses protodown, measured) and back up, with its
# addresses and routes, once it answers again.
# User path (the VM's gresecd with datapath "user", ip_gre now loaded):
# the ICMP sink of each tunnel, pings, 20 MB of TCP to the VM through each
# (the VM's virtio-net does GRO: the kernel's GRE GRO merges what arrives).
# Kept as configured: gre1 set down by the administrator stays down while
# its peer answers, and gets its routes back when set up; deleted, it is
# made again; gresecd's own down for a dead peer is not taken for the
# administrator's.  A gresecd killed with SIGKILL leaves its kernel links;
# the next start replaces them (they carry the alias "gresec").
# Throughout both (but while gre1 is down): no ICMP or ICMPv6 destination
# unreachable, counted by the VM's kernel and captured on the tap; as a control, without gtap1's
# sink the VM's kernel does answer gtap1's GRE with port unreachable.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"
. "$top_srcdir/tests/vm/lib.sh"

require_root_netns
for c in tcpdump ethtool; do
	command -v "$c" >/dev/null 2>&1 || skip "$(basename "$0") needs $c (scripts/setup.sh installs it)"
done
# The sink's tc ingress drop; GRE itself is in every initramfs base (not
# loaded: gresecd's link creation loads it).
VM_EXTRA_MODULES="${VM_EXTRA_MODULES:+$VM_EXTRA_MODULES }sch_ingress cls_matchall act_gact"
require_vm tun
vm_setup_test
H=$(ns_name h)
vm_ns_add "$H"
T0=$SECONDS
TCP_MB=${TCP_MB:-20}

# ---- configurations ----

# tunnels SIDE DATAPATH [EXTRA_GRE1 [EXTRA_GTAP1 [EXTRA_GRE6 [no6]]]]: the
# three tunnels (without gre6 with "no6"), seen from "host" or "vm".
tunnels()
{
	local me=$1 dp=$2 u4 p4 u6 p6 n m
	if [ "$me" = host ]; then
		u4=$UL4_HOST p4=$UL4_VM u6=$UL6_HOST p6=$UL6_VM n=1 m=2
	else
		u4=$UL4_VM p4=$UL4_HOST u6=$UL6_VM p6=$UL6_HOST n=2 m=1
	fi
	cat <<EOF
tunnels = ( {
  name = "gre1"; mode = "plain"; type = "gre"; datapath = "$dp";
  local = "$u4"; remote = "$p4"; keepalive = 1; keepalive_retries = 2;
  address = ( "11.11.1.$n/30", "fd11::$n/64" ); peer_address = ( "11.11.1.$m", "fd11::$m" ); ${3:-}
}, {
  name = "gtap1"; mode = "plain"; type = "gretap"; datapath = "$dp"; key = 2; checksum = true;
  local = "$u4"; remote = "$p4"; address = "11.11.2.$n/30"; ${4:-}
EOF
	[ "${6:-}" = no6 ] || cat <<EOF
}, {
  name = "gre6"; mode = "plain"; type = "gre"; datapath = "$dp";
  local = "$u6"; remote = "$p6"; address = "11.11.3.$n/30"; peer_address = "11.11.3.$m"; ${5:-}
EOF
	echo "} );"
}

VMC=/etc/gresec
# The kernel path runs as an unprivileged user (CAP_NET_ADMIN, CAP_NET_RAW).
vm_daemon() { printf 'daemon: { log_level = "debug";%s };\n' "${1:+ user = \"$1\";}"; }
{ vm_daemon gresec; tunnels vm auto 'tos = "inherit";' "" "tos = 184;" no6; } >"$TMPD/kernel2.conf"
{ vm_daemon gresec; tunnels vm auto 'tos = "inherit";' "" "tos = 184;"; } >"$TMPD/kernel.conf"
{ vm_daemon gresec; tunnels vm auto "mtu = 1400; ttl = 32; tos = 184; routes = \"192.0.2.0/24\";" \
	"mtu = 1400; routes = \"198.51.100.0/24\";" "mtu = 1400; tos = 184; routes = \"203.0.113.0/24\";"; } >"$TMPD/reload.conf"
{ vm_daemon; tunnels vm user; } >"$TMPD/user.conf"
CONF="$TMPD/host.conf"
{ conf_daemon "$CONF"; tunnels host auto; } >"$CONF"

vm_add_binary "$GRESECD" /usr/sbin/gresecd
vm_add_binary "$GRESEC" /usr/sbin/gresec
vm_add_binary "$(command -v ethtool)" /usr/sbin/ethtool
for f in kernel2 kernel reload user; do
	vm_add_file "$TMPD/$f.conf" "$VMC/$f.conf"
done
printf 'root:x:0:0:root:/root:/bin/sh\ngresec:x:1000:1000::/nonexistent:/bin/false\n' >"$TMPD/passwd"
printf 'root:x:0:\ngresec:x:1000:\n' >"$TMPD/group"
vm_add_file "$TMPD/passwd" /etc/passwd
vm_add_file "$TMPD/group" /etc/group
vm_start "$H" gresecd

# ---- helpers ----

vm_field() { vm_run gs_field "$1" "$2"; }
host_field() { tunnel_field "$H" "$GRESECD_SOCK" "$1" "$2"; }
host_unreach()
{
	# shellcheck disable=SC2016 # awk's fields
	ip netns exec "$H" awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["OutDestUnreachs"] }' /proc/net/snmp
}

# capture_start / capture_count: ICMP destination unreachable (type 3) and
# ICMPv6 destination unreachable (type 1) on the tap, either direction.
capture_start()
{
	CAP="$TMPD/icmp-$1.pcap"
	ip netns exec "$H" tcpdump -i "$VM_TAP" -n -U -w "$CAP" \
		'icmp[icmptype] == 3 or (icmp6 and ip6[40] == 1)' >"$TMPD/tcpdump-$1.log" 2>&1 &
	CAP_PID=$!
	BG_PIDS+=("$CAP_PID")
	wait_for grep -q "listening on" "$TMPD/tcpdump-$1.log"
}

capture_stop()
{
	sleep 0.3
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_COUNT=$(tcpdump -r "$CAP" -n 2>/dev/null | wc -l)
	[ "$CAP_COUNT" = 0 ] || [ "${1:-}" = quiet ] || tcpdump -r "$CAP" -n 2>/dev/null | head -n 5 | sed 's/^/#   /'
}

# tcp_to_vm ADDR MB: MB random megabytes from here to the VM's nc on ADDR;
# prints the sender's SHA-256 and the seconds it took.
tcp_to_vm()
{
	head -c "$(($2 * 1000000))" /dev/urandom >"$TMPD/tx.bin"
	sha256sum "$TMPD/tx.bin" | cut -d' ' -f1 >"$TMPD/tx.sha"
	ip netns exec "$H" "$PY" -c '
import socket, sys, time
data = open(sys.argv[2], "rb").read()
t0 = time.monotonic()
s = socket.create_connection((sys.argv[1], 5001), timeout=120)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
s.settimeout(120)
while s.recv(65536):
    pass
print("%.2f" % (time.monotonic() - t0))
' "$1" "$TMPD/tx.bin"
}

# tcp_from_vm ADDR FILE BYTES: the VM sends FILE to a receiver here on
# ADDR:5001 that reads BYTES and closes; prints what it received's SHA-256.
tcp_from_vm()
{
	local out="$TMPD/rx.sha"
	rm -f "$out" "$out.ready"
	ip netns exec "$H" "$PY" -c '
import hashlib, socket, sys
l = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 5001))
l.listen(1)
l.settimeout(120)
open(sys.argv[3] + ".ready", "w").close()
c, _ = l.accept()
c.settimeout(120)
h, n, want = hashlib.sha256(), 0, int(sys.argv[2])
while n < want:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
c.close()
open(sys.argv[3], "w").write("%s %d\n" % (h.hexdigest(), n))
' "$1" "$3" "$out" &
	local rpid=$!
	wait_for test -e "$out.ready" || { echo "none 0"; return; }
	vm_run -t 150 "nc $1 5001 <$2 >/dev/null" >/dev/null
	wait "$rpid"
	cat "$out" 2>/dev/null || echo "none 0"
}

# ---- the VM's gresecd, datapath "auto" ----

start_gresecd "$H" "$CONF"
check_eq "here: gre1 runs in user space (this kernel has no GRE)" "$(host_field gre1 datapath)" user
vm_wait_ready "$VM_BOOT_TIMEOUT" || fail "the VM did not get ready"
# The VM's virtio-net leaves the checksums it may offload to the host's
# tap, the GRE checksum included (ip_gre sets CHECKSUM_PARTIAL): a raw
# socket here would read gtap1's GRE checksums incomplete, which no wire
# carries.  Like a real NIC, the VM completes them itself.
vm_run_quiet "ethtool -K eth0 tx off" || fail "ethtool -K eth0 tx off in the VM"
check "VM: ip_gre is not loaded before gresecd starts" vm_run_quiet '! module_loaded ip_gre'
check "VM: ip6_gre is not loaded before gresecd starts" vm_run_quiet '! module_loaded ip6_gre'
# Started with gre1 and gtap1; gre6 comes with a reload, after the drop
# to user gresec: its link type's module is loaded then.
vm_run_quiet "cp $VMC/kernel2.conf $VMC/run.conf && gs_start $VMC/run.conf" || fail "gresecd in the VM"
check "VM: gresecd's link creation loaded ip_gre" vm_run_quiet module_loaded ip_gre
check "privileges: gresecd runs as gresec (uid 1000) with CAP_NET_ADMIN and CAP_NET_RAW only" \
	vm_run_quiet 'grep -q "^Uid:.1000" /proc/$(gs_pid)/status && grep -q "^CapEff:.0000000000003000" /proc/$(gs_pid)/status'
check "VM: ip6_gre not loaded yet" vm_run_quiet '! module_loaded ip6_gre'
vm_run_quiet "cp $VMC/kernel.conf $VMC/run.conf" || fail "new configuration in the VM"
check "privileges: reload adds gre6 after the privilege drop" vm_run_quiet gs reload
check "privileges: the kernel loaded ip6_gre for gresecd's link request (no CAP_SYS_MODULE needed)" \
	vm_run_quiet module_loaded ip6_gre
for tn in gre1:gre gtap1:gretap gre6:ip6gre; do
	t=${tn%%:*} kind=${tn#*:}
	check_eq "auto: $t takes the kernel data path" "$(vm_field "$t" datapath)" kernel
	check "auto: $t is the kernel's $kind link, made by gresecd" \
		vm_run_quiet "ip -d link show $t | grep -q '^ *$kind ' && ip -d link show $t | grep -q 'alias gresec'"
	check_eq "auto: the reason names it" "$(vm_field "$t" datapath_reason)" "auto: $kind link of $( [ "$kind" = ip6gre ] && echo ip6_gre || echo ip_gre)"
done
# The operator's view, for the record (docs/gresec.conf.5 shows it).
vm_run "ip -d link show gre1; ip -d link show gtap1; ip -d link show gre6" |
	grep -E '^[0-9]+:| gre | gretap | ip6gre |alias' | sed 's/^/# VM: /'
vm_run "gs show gre1" | sed 's/^/# VM: /'

check "VM: gre1's MTU is gresec's 1476" vm_run_quiet '[ "$(cat /sys/class/net/gre1/mtu)" = 1476 ]'
check "VM: gre1 inherits the TOS (tos inherit)" vm_run_quiet 'ip -d link show gre1 | grep -q " tos inherit "'
check "VM: gre6's traffic class is 0xb8 (tos 184)" vm_run_quiet 'ip -d link show gre6 | grep -q " tclass 0xb8 "'
check "VM: gre6 sends no encapsulation-limit option: MTU 1456 like user space" \
	vm_run_quiet '[ "$(cat /sys/class/net/gre6/mtu)" = 1456 ] && ip -d link show gre6 | grep -q "encaplimit none"'

# Both ends up: from here on no ICMP destination unreachable, anywhere.
wait_for no_tentative "$H" gre1
vm_run icmp_mark >/dev/null
host_mark=$(host_unreach)
capture_start kernel

for a in 11.11.1.2 11.11.2.2 11.11.3.2; do
	check "kernel path: ping $a in the VM" pings "$H" "$a" 3
done
check "kernel path: ping fd11::2 (IPv6 inside gre1)" pings "$H" fd11::2 3 -6
for a in 11.11.1.1 11.11.2.1 11.11.3.1; do
	vm_run "vm_check 'kernel path: the VM pings $a' ping -c 3 -i 0.2 -W 2 $a"
done
check "kernel path: full-MTU ping through gre1 (1476 bytes, DF)" pings "$H" 11.11.1.2 3 -s 1448 -M "do"
check "kernel path: full-MTU ping through gre6 (1456 bytes, DF)" pings "$H" 11.11.3.2 3 -s 1428 -M "do"

for a in 11.11.1.2 11.11.2.2 11.11.3.2; do
	vm_run_quiet tcp_listen /tmp/rx.bin
	secs=$(tcp_to_vm "$a" "$TCP_MB")
	vm_run_quiet tcp_wait
	check_eq "kernel path: $TCP_MB MB of TCP to $a arrive intact (${secs:-?} s)" \
		"$(vm_run "sha256sum /tmp/rx.bin" | cut -d' ' -f1)" "$(cat "$TMPD/tx.sha")"
	if [ "$a" = 11.11.1.2 ]; then
		read -r sha n <<<"$(tcp_from_vm 11.11.1.1 /tmp/rx.bin "$((TCP_MB * 1000000))")"
		check_eq "kernel path: $TCP_MB MB of TCP from the VM through gre1 arrive intact ($n bytes)" \
			"$sha" "$(cat "$TMPD/tx.sha")"
	fi
done
vm_run "rm -f /tmp/rx.bin" >/dev/null
check "kernel path: gresec show counts gre1's traffic from the kernel's link statistics" \
	eval '[ "$(vm_field gre1 rx_bytes)" -gt $((TCP_MB * 1000000)) ]'
vm_run "gs show gre1" | grep transfer | sed 's/^/# VM: /'

# ---- reload: MTU, routes and TTL in place ----

before=$(vm_run 'for d in gre1 gtap1 gre6; do cat /sys/class/net/$d/ifindex; done' | tr '\n' ' ')
vm_run_quiet "cp $VMC/reload.conf $VMC/run.conf" || fail "new configuration in the VM"
check "reload: gresec reload succeeds" vm_run_quiet gs reload
after=$(vm_run 'for d in gre1 gtap1 gre6; do cat /sys/class/net/$d/ifindex; done' | tr '\n' ' ')
check_eq "reload: the three kernel links are kept (same ifindex)" "$after" "$before"
check "reload: updated in place, not recreated" \
	vm_run_quiet '[ "$(grep -c "updated in place" /run/vm/gresecd.log)" = 3 ] && ! grep -q "recreating" /run/vm/gresecd.log'
for t in gre1 gtap1 gre6; do
	check "reload: $t has MTU 1400" vm_run_quiet "[ \"\$(cat /sys/class/net/$t/mtu)\" = 1400 ]"
done
check "reload: gre1 route 192.0.2.0/24" vm_run_quiet 'ip route show 192.0.2.0/24 | grep -q "dev gre1"'
check "reload: gtap1 route 198.51.100.0/24" vm_run_quiet 'ip route show 198.51.100.0/24 | grep -q "dev gtap1"'
check "reload: gre6 route 203.0.113.0/24" vm_run_quiet 'ip route show 203.0.113.0/24 | grep -q "dev gre6"'
check "reload: gre1's TTL and TOS changed in the kernel link (ttl 32, tos 0xb8)" \
	vm_run_quiet 'ip -d link show gre1 | grep -q " ttl 32 tos 0xb8 "'
check "reload: full-MTU ping through gre1 at the new MTU (1400, DF)" pings "$H" 11.11.1.2 3 -s 1372 -M "do"
check "reload: ping through gre6" pings "$H" 11.11.3.2 3

vm_unreach=$(vm_run icmp_since_mark)
check_eq "kernel path: the VM's kernel sent no ICMP / ICMPv6 destination unreachable" "$vm_unreach" "0 0"
check_eq "kernel path: this kernel sent none either" "$(($(host_unreach) - host_mark))" 0
capture_stop
check_eq "kernel path: none on the wire (tcpdump on the tap)" "$CAP_COUNT" 0

# ---- keepalives: the peer stops answering, then answers again ----
# ip_gre has no carrier and refuses protodown (measured below): gresecd
# takes the link administratively down, which every routing daemon sees
# (tests/e2e/test_liveness.sh), and brings it back with its addresses and
# routes.  While it is down the kernel answers the peer's GRE with ICMP
# port unreachable, counted here for the record.

pd=$(vm_run 'ip link set gre1 protodown on 2>&1; echo "status $?"' | tr '\n' ' ')
echo "# measure: protodown on the kernel's gre link: $pd"
check_eq "keepalive: gre1 is up" "$(vm_field gre1 state)" up
vm_run icmp_mark >/dev/null
kill -STOP "$GRESECD_PID"
t_stop=$SECONDS
vm_wait_gre1() { [ "$(vm_field gre1 state)" = "$1" ]; }
WAIT_TIMEOUT=15 check "keepalive: host's gresecd stopped: the VM's gre1 goes down" wait_for vm_wait_gre1 down
echo "# keepalive: down after $((SECONDS - t_stop)) s (1 s period, 2 retries)"
check "keepalive: gre1 is administratively down (IFF_UP clear)" \
	vm_run_quiet '[ $(( $(cat /sys/class/net/gre1/flags) & 1 )) = 0 ] && ip link show gre1 | grep -q "state DOWN"'
sleep 0.5
check_eq "keepalive: gresecd's own down is not taken for the administrator's" "$(vm_field gre1 admin_down)" false
down=$(vm_run 'echo "IPv6 addresses left: $(ip -6 addr show dev gre1 | grep -c inet6), route 192.0.2.0/24: $(ip route show 192.0.2.0/24 | wc -l)"')
echo "# measure: while gre1 is down: $down"
kill -CONT "$GRESECD_PID"
t_cont=$SECONDS
WAIT_TIMEOUT=15 check "keepalive: host's gresecd answers again: gre1 comes back up" wait_for vm_wait_gre1 up
echo "# keepalive: up again after $((SECONDS - t_cont)) s"
check "keepalive: gre1 is up with its addresses and routes again" \
	vm_run_quiet '[ $(( $(cat /sys/class/net/gre1/flags) & 1 )) = 1 ] && ip -6 addr show dev gre1 | grep -q fd11::2 && ip addr show dev gre1 | grep -q 11.11.1.2 && ip route show 192.0.2.0/24 | grep -q gre1'
check "keepalive: ping through gre1 again" wait_for pings "$H" 11.11.1.2 1
check "keepalive: IPv6 ping through gre1 again" wait_for pings "$H" fd11::2 1 -6
check "keepalive: the VM's kernel path answered the host's keepalives" \
	eval '[ "$(host_field gre1 keepalives_received)" -gt 0 ]'
echo "# measure: ICMP unreachable the VM sent (v4 v6) while gre1 was down: $(vm_run icmp_since_mark)"
vm_run "gs show gre1" | grep keepalive | sed 's/^/# VM: /'

# ---- the kernel link kept as configured ----
# Set down by the administrator: left down, though the peer answers; set
# up: its addresses and routes back.  Deleted: made again, kernel link,
# addresses and routes.

vm_run_quiet 'ip link set gre1 down' || not_ok "ip link set gre1 down in the VM"
vm_admin_down() { [ "$(vm_field gre1 admin_down)" = true ]; }
check "admin down: gresec show says the administrator set gre1 down" wait_for vm_admin_down
sleep 3
check "admin down: still down 3 s later, the peer answering keepalives" \
	vm_run_quiet '[ $(( $(cat /sys/class/net/gre1/flags) & 1 )) = 0 ]'
vm_run_quiet 'ip link set gre1 up' || not_ok "ip link set gre1 up in the VM"
check "admin up: gre1's route and IPv6 address are back" \
	wait_for vm_run_quiet 'ip route show 192.0.2.0/24 | grep -q gre1 && ip -6 addr show dev gre1 | grep -q fd11::2'
check "admin up: ping through gre1" wait_for pings "$H" 11.11.1.2 1
idx=$(vm_run 'cat /sys/class/net/gre1/ifindex')
cpu0=$(vm_run gs_cpu)
vm_run_quiet 'ip link del gre1' || not_ok "ip link del gre1 in the VM"
vm_gre1_back() { vm_run_quiet "[ -e /sys/class/net/gre1 ] && [ \"\$(cat /sys/class/net/gre1/ifindex)\" != $idx ]"; }
check "deleted: gre1 made again (a new kernel link)" wait_for vm_gre1_back
check "deleted: the new gre1 is gresecd's gre link" vm_run_quiet "ip -d link show gre1 | grep -q '^ *gre ' && ip -d link show gre1 | grep -q 'alias gresec'"
check "deleted: with its addresses and routes" \
	wait_for vm_run_quiet 'ip addr show dev gre1 | grep -q 11.11.1.2 && ip -6 addr show dev gre1 | grep -q fd11::2 && ip route show 192.0.2.0/24 | grep -q gre1'
check "deleted: ping through gre1" wait_for pings "$H" 11.11.1.2 1
check "deleted: IPv6 ping through gre1" wait_for pings "$H" fd11::2 1 -6
check_eq "deleted: gresec show counts it" "$(vm_field gre1 rebuilds)" 1
cpu1=$(vm_run gs_cpu)
check "deleted: the VM's gresecd stayed idle ($((cpu1 - cpu0)) ticks)" test $((cpu1 - cpu0)) -lt 100

# ---- a gresecd killed leaves its kernel links; the next one replaces them ----

vm_run 'kill -KILL $(gs_pid); sleep 0.3' >/dev/null
check "crash: the kernel links outlive a killed gresecd" vm_run_quiet 'ip link show gre1 && ip link show gtap1 && ip link show gre6'
vm_run_quiet gs_start "$VMC/run.conf" || fail "gresecd in the VM after the crash"
check "crash: the next gresecd replaces the three links it left" \
	vm_run_quiet '[ "$(grep -c "left behind by an earlier gresecd" /run/vm/gresecd.log)" = 3 ]'
check "crash: traffic through gre6 again" wait_for pings "$H" 11.11.3.2 1

# ---- the VM's gresecd in user space, on a kernel with GRE loaded ----

vm_run_quiet "gs_stop" || not_ok "gresecd in the VM stops"
check "the VM's gresecd removed its kernel links" vm_run_quiet '! ip link show gre1 2>/dev/null && ! ip link show gre6 2>/dev/null'
vm_run_quiet gs_start "$VMC/user.conf" || fail "gresecd in the VM, datapath user"
for t in gre1 gtap1 gre6; do
	check_eq "user path: $t in user space" "$(vm_field "$t" datapath)" user
	check_eq "user path: $t has its ICMP sink gs-$t" "$(vm_field "$t" icmp_sink)" "gs-$t"
done
vm_run "ip -d link show gs-gre1" | grep -E '^[0-9]+:| gre |alias' | sed 's/^/# VM: /'
wait_for no_tentative "$H" gre1
# gtap1 in the VM is now a TAP with another MAC address.
ip -n "$H" neigh flush dev gtap1
vm_run icmp_mark >/dev/null
host_mark=$(host_unreach)
capture_start user
for a in 11.11.1.2 11.11.2.2 11.11.3.2; do
	check "user path: ping $a in the VM" pings "$H" "$a" 3
done
vm_run "vm_check 'user path: the VM pings 11.11.2.1' ping -c 3 -i 0.2 -W 2 11.11.2.1"
# The VM's virtio-net does GRO, and with it the kernel's GRE GRO merges
# the host's GRE packets before the VM's raw socket sees them: TCP super
# packets with a partial checksum (and gtap1's stale GRE checksum), which
# gresecd hands to its TUN as TSO packets (gre1, gre6) or splits (gtap1).
vm_run icmp_mark >/dev/null
for a in 11.11.1.2 11.11.2.2 11.11.3.2; do
	vm_run_quiet tcp_listen /tmp/rx.bin
	secs=$(tcp_to_vm "$a" "$TCP_MB")
	vm_run_quiet tcp_wait
	check_eq "user path: $TCP_MB MB of TCP to $a arrive intact (${secs:-?} s)" \
		"$(vm_run "sha256sum /tmp/rx.bin" | cut -d' ' -f1)" "$(cat "$TMPD/tx.sha")"
done
vm_run "rm -f /tmp/rx.bin" >/dev/null
check_eq "user path: the VM's TCP saw no checksum errors (GRO-merged packets handled)" \
	"$(vm_run "awk '/^Tcp:/ { if (h) print \$NF; h = 1 }' /proc/net/snmp")" 0
check_eq "user path: gresecd dropped nothing on gre1 and gtap1" \
	"$(( $(vm_field gre1 rx_packets) > 0 ))$(vm_run "gs show gtap1 --json | grep -o '\"checksum_bad\":[0-9]*'")" '1"checksum_bad":0'
check "user path: the sinks dropped the tunnels' GRE (rx_crc_errors on gs-gre1)" \
	vm_run_quiet '[ "$(cat /sys/class/net/gs-gre1/statistics/rx_crc_errors)" -gt 0 ]'
vm_unreach=$(vm_run icmp_since_mark)
check_eq "user path: the VM's kernel sent no ICMP / ICMPv6 destination unreachable" "$vm_unreach" "0 0"
check_eq "user path: this kernel sent none either" "$(($(host_unreach) - host_mark))" 0
capture_stop
check_eq "user path: none on the wire (tcpdump on the tap)" "$CAP_COUNT" 0

# Control: without its sink, gtap1's GRE is answered with port unreachable
# (until gresecd's 10 s maintenance makes the sink again).
capture_start control
vm_run icmp_mark >/dev/null
vm_run "ip link del gs-gtap1" >/dev/null
check "control: gtap1 still works without its sink" pings "$H" 11.11.2.2 3
vm_unreach=$(vm_run icmp_since_mark)
capture_stop quiet
check "control: without the sink the VM's kernel answers with ICMP unreachable (${vm_unreach%% *} sent)" \
	test "${vm_unreach%% *}" -gt 0
check "control: ... and they are on the wire ($CAP_COUNT captured)" test "$CAP_COUNT" -gt 0
WAIT_TIMEOUT=15 check "the deleted sink is made again" wait_for vm_run_quiet 'ip link show gs-gtap1'

vm_run_quiet gs_stop || not_ok "gresecd in the VM stops"
check "the VM's gresecd removed its sinks" vm_run_quiet '! ip link show gs-gre1 2>/dev/null && ! ip link show gs-gre6 2>/dev/null'
vm_run "grep -E ' (err|warning|crit):' /run/vm/gresecd.log" | sed 's/^/# VM log: /'
vm_stop 60 || true
vm_results
stop_gresecd "$GRESECD_PID"
check_eq "gresecd here exits 0 on SIGTERM" "$?" 0
echo "# $(basename "$0"): $((SECONDS - T0)) s"
finish
