#!/bin/bash
# tests/vm/test_vm_secure.sh: gresec's secure mode against the stock stack of
# a Linux router: the Linux kernel's own WireGuard with its own ip_gre,
# gretap and ip6_gre over it (Debian's kernel in qemu; this machine's kernel
# has none of them).  No wireguard-go and no gresec on the far side: gresec
# speaks WireGuard itself and puts GRE inside.
#
#   namespace H                                  VM (Debian's kernel, qemu)
#   gresecd, secure tunnel                       wg0 (kernel WireGuard)
#     gre_local 10.10.0.1 ┄┄┄┄ WireGuard ┄┄┄┄┄┄    10.10.0.2, 10.10.1.2, fd10::2
#     gre1  11.11.1.1/30 fd11::1/64 ┄┄ GRE ┄┄┄┄┄   gre1  11.11.1.2/30 (ip_gre)
#     gtap1 11.11.2.1/30 ┄┄┄┄┄┄┄┄ gretap ┄┄┄┄┄┄┄   gtap1 11.11.2.2/30 (gretap, 10.10.1.x)
#     gre6  11.11.3.1/30 ┄┄ GRE over IPv6 ┄┄┄┄┄┄   gre6  11.11.3.2/30 (ip6gre, fd10::x)
#   vmtap0 10.0.0.1/24 ──────── tap / virtio-net ──────── eth0 10.0.0.2/24
#
# The VM has one WireGuard peer (gresec) with all three of gresec's
# WireGuard addresses as allowed IPs; gresec runs one secure tunnel at a
# time (one WireGuard peer is one secure tunnel), restarted per case:
#   gre    gresec initiates; IPv4 and IPv6 inside, both ways, 1300-byte and
#          full-MTU pings; the VM pings gresec's WireGuard address
#   gretap the VM's kernel initiates (gresec has no remote: it only answers);
#          ARP both ways, pings both ways
#   ip6gre gre_local/gre_remote IPv6: Linux's ip6gre adds a destination
#          options header (encapsulation limit) that gresec must skip
# Throughout: the VM's kernel sends no ICMP destination unreachable (its GRE
# handler claims every packet gresec sends) and gresec drops nothing but the
# GRE of the VM's other tunnels (ip_wrong_address: not to its gre_local).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"
. "$top_srcdir/tests/vm/lib.sh"

require_root_netns
command -v wg >/dev/null 2>&1 || skip "$(basename "$0") needs wg (apt-get install wireguard-tools)"
require_vm ip_gre ip6_gre wireguard
vm_setup_test

H=$(ns_name h)
vm_ns_add "$H"

WG_PORT=51820 GS_PORT=51947
WG_ADDR=10.10.0.2 WG_ADDR2=10.10.1.2 WG_ADDR6=fd10::2                # the VM's
WG_PEER_ADDR=10.10.0.1 WG_PEER_ADDR2=10.10.1.1 WG_PEER_ADDR6=fd10::1 # gresec's gre_local
GRE_VM=11.11.1.2 GRE_HOST=11.11.1.1 GRE6_VM=fd11::2 GRE6_HOST=fd11::1
GRETAP_VM=11.11.2.2 GRETAP_HOST=11.11.2.1
GRE6_LINK_VM=11.11.3.2 GRE6_LINK_HOST=11.11.3.1

# Keys: gresec's made by gresec, the VM's by wg: each takes the other's.
(umask 077 && "$GRESEC" genkey >"$TMPD/gresec.key" && wg genkey >"$TMPD/vm.key") || fail "genkey"
PUB_GS=$("$GRESEC" pubkey <"$TMPD/gresec.key") || fail "gresec pubkey"
PUB_VM=$(wg pubkey <"$TMPD/vm.key") || fail "wg pubkey"

vm_env WG_KEY "$(cat "$TMPD/vm.key")"
vm_env WG_PEER "$PUB_GS"
vm_env WG_PEER_ENDPOINT "$UL4_HOST:$GS_PORT"
for v in WG_PORT WG_ADDR WG_ADDR2 WG_ADDR6 WG_PEER_ADDR WG_PEER_ADDR2 WG_PEER_ADDR6 \
	GRE_VM GRE6_VM GRETAP_VM GRE6_LINK_VM; do
	vm_env "$v" "${!v}"
done
vm_start "$H" wg_gre
vm_wait_ready "$VM_BOOT_TIMEOUT" || fail "the VM did not get ready"
check "underlay: ping the VM over the tap" pings "$H" "$UL4_VM"
vm_run_quiet gre_up || fail "gre1, gtap1, gre6 in the VM"
vm_run icmp_mark >/dev/null || fail "icmp_mark in the VM"

# gs_conf FILE NAME TYPE GRE_LOCAL GRE_REMOTE ADDRESSES PEERS REMOTE(yes|no) EXTRA
gs_conf()
{
	local f=$1 remote=""
	[ "$8" = yes ] && remote="remote = \"$UL4_VM\"; remote_port = $WG_PORT;"
	{
		conf_daemon "$f"
		cat <<EOF
tunnels = ( {
  name = "$2"; mode = "secure"; type = "$3"; port = $GS_PORT; $remote
  private_key_file = "$TMPD/gresec.key"; peer_public_key = "$PUB_VM";
  gre_local = "$4"; gre_remote = "$5";
  address = ( $6 ); ${7:+peer_address = ( $7 );} $9
} );
EOF
	} >"$f"
}

gs_start()
{
	start_gresecd "$H" "$1"
	PID_GS=$GRESECD_PID SOCK_GS=$GRESECD_SOCK LOG_GS=$GRESECD_LOG
}

gs_field() { tunnel_field "$H" "$SOCK_GS" "$1" "$2"; }
vm_handshaken() { [ "$(vm_run wg_handshake)" -gt 0 ] 2>/dev/null; }
# The VM's other tunnels (between its other WireGuard addresses) send their
# router solicitations and MLD reports through the same WireGuard peer:
# gresec's one tunnel drops them as ip_wrong_address, and nothing else.
other_drops() { echo $(( $(gs_field "$1" drops_total) - $(gs_field "$1" drops.ip_wrong_address) )); }
established() { [ "$(gs_field "$1" state)" = established ]; }

# ---- gre, gresec initiates ----
echo "# ---- gre: gresec initiates ----"
gs_conf "$TMPD/gre.conf" gre1 gre "$WG_PEER_ADDR" "$WG_ADDR" "\"$GRE_HOST/30\", \"$GRE6_HOST/64\"" \
	"\"$GRE_VM\", \"$GRE6_VM\"" yes ""
gs_start "$TMPD/gre.conf"
check "gre: the kernel's WireGuard completed gresec's handshake" \
	wait_for vm_handshaken
check "gre: gresec is established" wait_for established gre1
check "gre: gresec sent the initiation" grep -q "session established" "$LOG_GS"
check "gre: ping $GRE_VM (the kernel's ip_gre) from gresec" pings "$H" "$GRE_VM" 3
vm_run "vm_check 'gre: ping $GRE_HOST (gresec) from the kernel gre1' ping -c 3 -i 0.2 -W 2 $GRE_HOST"
wait_for no_tentative "$H" gre1
check "gre: IPv6 inside, ping $GRE6_VM" pings "$H" "$GRE6_VM" 3 -6
vm_run "vm_check 'gre: IPv6 inside, ping $GRE6_HOST' ping -6 -c 3 -i 0.2 -W 2 $GRE6_HOST"
check "gre: 1300-byte ping" pings "$H" "$GRE_VM" 3 -s 1300
check "gre: full-MTU ping (1396 bytes, DF) fits the kernel's 1420-byte wg0" \
	pings "$H" "$GRE_VM" 3 -s 1368 -M "do"
vm_run "vm_check 'gre: full-MTU ping (1396 bytes, DF) to gresec' ping -c 3 -i 0.2 -W 2 -s 1368 -M do $GRE_HOST"
vm_run "vm_check 'the VM pings gresec WireGuard address $WG_PEER_ADDR' ping -c 3 -i 0.2 -W 2 $WG_PEER_ADDR"
check "gre: gresec answered the pings to its WireGuard address" \
	eval '[ "$(gs_field gre1 echo_replies)" -ge 3 ]'
check_eq "gre: gresec dropped nothing but GRE of the VM's other tunnels" "$(other_drops gre1)" 0
vm_run "vm_check 'gre1 received gresec GRE, no receive errors' rx_clean gre1"
stop_gresecd "$PID_GS" >/dev/null

# ---- gretap, the VM's kernel initiates ----
echo "# ---- gretap: the kernel initiates, gresec only answers ----"
# gresecd first, then the reset: the VM's other tunnels send router
# solicitations at any time, and an initiation of the kernel that finds no
# gresecd listening is repeated only after REKEY_TIMEOUT (5 s), past the ping.
gs_conf "$TMPD/gretap.conf" gtap1 gretap "$WG_PEER_ADDR2" "$WG_ADDR2" "\"$GRETAP_HOST/30\"" "" no ""
gs_start "$TMPD/gretap.conf"
vm_run_quiet wg_reset || fail "wg_reset in the VM"
vm_run "vm_check 'gretap: ping $GRETAP_HOST (gresec) from the kernel gtap1: the kernel initiates' \
	ping -c 3 -i 0.3 -W 3 $GRETAP_HOST"
check "gretap: gresec answered the kernel's initiation" grep -q "handshake initiation answered" "$LOG_GS"
check_eq "gretap: gresec learned the VM's endpoint" "$(gs_field gtap1 endpoint)" "$UL4_VM:$WG_PORT"
check "gretap: ping $GRETAP_VM (ARP across)" pings "$H" "$GRETAP_VM" 3
vm_mac=$(vm_run cat /sys/class/net/gtap1/address)
check "gretap: ARP resolved $GRETAP_VM to the VM's gtap1 ($vm_mac)" \
	eval 'ip -n "$H" neigh show "$GRETAP_VM" dev gtap1 | grep -qi "lladdr $vm_mac"'
check "gretap: full-MTU ping (1382 bytes, DF)" pings "$H" "$GRETAP_VM" 3 -s 1354 -M "do"
# Until the reset, the VM's other tunnels may still send with the session
# of the gresecd stopped above: no_session, for this gresecd.
check_eq "gretap: gresec dropped nothing but GRE of the VM's other tunnels and their old session" \
	"$(( $(other_drops gtap1) - $(gs_field gtap1 drops.no_session) ))" 0
vm_run "vm_check 'gtap1 received gresec GRE, no receive errors' rx_clean gtap1"
stop_gresecd "$PID_GS" >/dev/null

# ---- ip6gre: IPv6 WireGuard addresses, Linux's encapsulation-limit option ----
echo "# ---- ip6gre: GRE over IPv6 WireGuard addresses ----"
gs_conf "$TMPD/gre6.conf" gre6 gre "$WG_PEER_ADDR6" "$WG_ADDR6" "\"$GRE6_LINK_HOST/30\"" \
	"\"$GRE6_LINK_VM\"" yes "mtu = 1368;"
gs_start "$TMPD/gre6.conf"
check "ip6gre: gresec is established" wait_for established gre6
check "ip6gre: ping $GRE6_LINK_VM (the kernel's ip6_gre)" pings "$H" "$GRE6_LINK_VM" 3
vm_run "vm_check 'ip6gre: ping $GRE6_LINK_HOST (gresec): its destination options header is skipped' \
	ping -c 3 -i 0.2 -W 2 $GRE6_LINK_HOST"
check "ip6gre: full-MTU ping (1368 bytes, DF)" pings "$H" "$GRE6_LINK_VM" 3 -s 1340 -M "do"
vm_run "vm_check 'ip6gre: full-MTU ping (1368 bytes, DF) to gresec' ping -c 3 -i 0.2 -W 2 -s 1340 -M do $GRE6_LINK_HOST"
check_eq "ip6gre: gresec dropped nothing but GRE of the VM's other tunnels" "$(other_drops gre6)" 0
stop_gresecd "$PID_GS" >/dev/null

vm_unreach=$(vm_run icmp_since_mark)
check_eq "the VM's kernel sent no ICMP/ICMPv6 destination unreachable (out, out6)" "$vm_unreach" "0 0"

vm_stop 60
vm_results
finish
