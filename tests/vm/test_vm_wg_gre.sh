#!/bin/bash
# tests/vm/test_vm_wg_gre.sh: gresec in plain mode against the real Linux
# kernel's ip_gre and gretap, both riding on WireGuard: the kernel's own
# WireGuard in a qemu VM, wireguard-go on our side.
#
#   namespace H (this kernel: no WireGuard,     VM (Debian's kernel, qemu)
#   no ip_gre)
#   gresecd gre1  11.11.1.1/30 fd11::1/64 ┄GRE┄ gre1  11.11.1.2/30 fd11::2/64  ip_gre
#   gresecd gtap1 11.11.2.1/30 ┄┄┄┄┄gretap┄┄┄┄┄ gtap1 11.11.2.2/30             ip_gre
#   gresecd gre6  11.11.3.1/30 ┄GRE over IPv6┄┄ gre6  11.11.3.2/30 (ip6gre)    ip6_gre
#   wireguard-go wg<pid>v                       wg0                           wireguard
#     10.10.0.1 10.10.1.1 fd10::1 ┄┄WireGuard┄┄   10.10.0.2 10.10.1.2 fd10::2
#   vmtap0 10.0.0.1/24 ──────── tap / virtio-net ──────── eth0 10.0.0.2/24
#
# gre1 runs between 10.10.0.1 and 10.10.0.2, gtap1 between 10.10.1.1 and
# 10.10.1.2 (gresec, like Linux, tells plain tunnels apart by addresses
# and key), gre6 between fd10::1 and fd10::2.  Checks: WireGuard handshakes
# initiated by each side in turn; pings across gre (IPv4 and IPv6 inside),
# gretap (ARP) and ip6gre both ways, 1300-byte and full-MTU pings with DF;
# the VM's kernel sends no ICMP or ICMPv6 destination unreachable while
# gresec's GRE arrives (it answers every GRE packet that no kernel tunnel
# claims with one), and does once gtap1 is gone.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"
. "$top_srcdir/tests/vm/lib.sh"

require_root_netns
for c in wireguard-go wg; do
	command -v "$c" >/dev/null 2>&1 ||
		skip "$(basename "$0") needs $c (apt-get install wireguard-go wireguard-tools)"
done
require_vm ip_gre wireguard
vm_setup_test

H=$(ns_name h)
vm_ns_add "$H"

# Addresses, known to the VM's scenario under the same names.
WG_PORT=51820
WG_ADDR=10.10.0.2 WG_ADDR2=10.10.1.2 WG_ADDR6=fd10::2                # the VM's WireGuard addresses
WG_PEER_ADDR=10.10.0.1 WG_PEER_ADDR2=10.10.1.1 WG_PEER_ADDR6=fd10::1 # ours
GRE_VM=11.11.1.2 GRE_HOST=11.11.1.1 GRE6_VM=fd11::2 GRE6_HOST=fd11::1
GRETAP_VM=11.11.2.2 GRETAP_HOST=11.11.2.1
GRE6_LINK_VM=11.11.3.2 GRE6_LINK_HOST=11.11.3.1

WG_IF="wg$$v"     # unique: wireguard-go's socket is /var/run/wireguard/<name>.sock
WG_SOCK="/var/run/wireguard/$WG_IF.sock"
WG_LOG="$TMPD/wireguard-go.log"
# wg_peer_host: the VM as wireguard-go's peer.
wg_peer_host()
{
	ip netns exec "$H" wg set "$WG_IF" peer "$PUB_VM" endpoint "$UL4_VM:$WG_PORT" \
		allowed-ips "$WG_ADDR/32,$WG_ADDR2/32,$WG_ADDR6/128"
}

host_handshake() { ip netns exec "$H" wg show "$WG_IF" latest-handshakes | awk '{ print $2 }'; }
log_count() { grep -c "$1" "$WG_LOG"; }
# shellcheck disable=SC2317 # called through check
neigh_is() { ip -n "$H" neigh show "$1" dev "$2" | grep -qi "lladdr $3"; }

# host_unreach: Icmp OutDestUnreachs of namespace H.
host_unreach()
{
	# shellcheck disable=SC2016 # awk's fields
	ip netns exec "$H" awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 }
		else print $c["OutDestUnreachs"] }' /proc/net/snmp
}

# write_conf FILE: gre1 and gtap1, plain, over the WireGuard addresses.
write_conf()
{
	conf_daemon "$1"
	cat <<EOF
tunnels = ( {
  name = "gre1"; mode = "plain"; type = "gre";
  local = "$WG_PEER_ADDR"; remote = "$WG_ADDR"; mtu = 1396;
  address = ( "$GRE_HOST/30", "$GRE6_HOST/64" ); peer_address = ( "$GRE_VM", "$GRE6_VM" );
}, {
  name = "gtap1"; mode = "plain"; type = "gretap";
  local = "$WG_PEER_ADDR2"; remote = "$WG_ADDR2"; mtu = 1382;
  address = "$GRETAP_HOST/30";
}, {
  name = "gre6"; mode = "plain"; type = "gre";
  local = "$WG_PEER_ADDR6"; remote = "$WG_ADDR6"; mtu = 1368;
  address = "$GRE6_LINK_HOST/30"; peer_address = "$GRE6_LINK_VM";
} );
EOF
}

(umask 077 && wg genkey >"$TMPD/wg-host.key" && wg genkey >"$TMPD/wg-vm.key") || fail "wg genkey"
PUB_HOST=$(wg pubkey <"$TMPD/wg-host.key") || fail "wg pubkey"
PUB_VM=$(wg pubkey <"$TMPD/wg-vm.key") || fail "wg pubkey"

vm_env WG_KEY "$(cat "$TMPD/wg-vm.key")"
vm_env WG_PEER "$PUB_HOST"
for v in WG_PORT WG_ADDR WG_ADDR2 WG_ADDR6 WG_PEER_ADDR WG_PEER_ADDR2 WG_PEER_ADDR6 \
	GRE_VM GRE6_VM GRETAP_VM GRE6_LINK_VM; do
	vm_env "$v" "${!v}"
done
vm_start "$H" wg_gre

# While the VM boots: wireguard-go here, with the VM as its peer.
vm_at_exit "rm -f '$WG_SOCK'"
ip netns exec "$H" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=verbose wireguard-go "$WG_IF" \
	>"$WG_LOG" 2>&1 &
BG_PIDS+=("$!")
DAEMON_LOGS+=("$WG_LOG")
wait_for test -S "$WG_SOCK" || fail "wireguard-go did not create $WG_SOCK"

{
	ip netns exec "$H" wg set "$WG_IF" private-key "$TMPD/wg-host.key" listen-port "$WG_PORT" &&
		wg_peer_host &&
		ip -n "$H" addr add "$WG_PEER_ADDR/24" dev "$WG_IF" &&
		ip -n "$H" addr add "$WG_PEER_ADDR2/24" dev "$WG_IF" &&
		ip -n "$H" addr add "$WG_PEER_ADDR6/64" dev "$WG_IF" nodad &&
		ip -n "$H" link set "$WG_IF" mtu 1420 up
} || fail "wireguard-go $WG_IF set-up"

vm_wait_ready "$VM_BOOT_TIMEOUT" || fail "the VM did not get ready"
check "underlay: ping the VM over the tap" pings "$H" "$UL4_VM"

# ---- WireGuard: the VM's kernel initiates, then wireguard-go ----

check "WireGuard, VM initiates: the VM pings $WG_PEER_ADDR through its kernel WireGuard" \
	vm_run_quiet ping -c 3 -W 2 "$WG_PEER_ADDR"
check "WireGuard, VM initiates: wireguard-go received the VM's handshake initiation" \
	grep -q "Received handshake initiation" "$WG_LOG"
check "WireGuard, VM initiates: wireguard-go never initiated" \
	test "$(log_count "Sending handshake initiation")" = 0
check "WireGuard, VM initiates: handshake recorded here" test "$(host_handshake)" -gt 0
check "WireGuard, VM initiates: handshake recorded in the VM" test "$(vm_run wg_handshake)" -gt 0

# Both sides forget the session; the next packet is ours.
vm_run wg_reset >/dev/null || fail "wg_reset in the VM"
if ! { ip netns exec "$H" wg set "$WG_IF" peer "$PUB_VM" remove && wg_peer_host; }; then
	fail "peer reset in wireguard-go"
fi
check_eq "WireGuard reset: no session in the VM" "$(vm_run wg_handshake)" 0
n_sent=$(log_count "Sending handshake initiation")
n_recv=$(log_count "Received handshake initiation")
check "WireGuard, we initiate: ping $WG_ADDR through wireguard-go" pings "$H" "$WG_ADDR" 3
check "WireGuard, we initiate: wireguard-go sent a handshake initiation" \
	test "$(log_count "Sending handshake initiation")" -gt "$n_sent"
check "WireGuard, we initiate: wireguard-go got the kernel's handshake response" \
	grep -q "Received handshake response" "$WG_LOG"
check "WireGuard, we initiate: the VM did not initiate" \
	test "$(log_count "Received handshake initiation")" = "$n_recv"
check "WireGuard, we initiate: handshake recorded in the VM" test "$(vm_run wg_handshake)" -gt 0

# ---- GRE: the kernel's ip_gre in the VM, gresecd here ----

vm_run_quiet gre_up || fail "gre1, gtap1, gre6 in the VM"
vm_run icmp_mark >/dev/null || fail "icmp_mark in the VM"

CONF="$TMPD/gresec.conf"
# shellcheck disable=SC2094 # write_conf only names the file in it
write_conf "$CONF" >"$CONF"
start_gresecd "$H" "$CONF"
GRESEC_PID=$GRESECD_PID
host_mark=$(host_unreach)

check "gre: ping $GRE_VM (the VM's ip_gre) from gresec's gre1" pings "$H" "$GRE_VM" 3
vm_run "vm_check 'gre: ping $GRE_HOST (gresec) from the kernel gre1' ping -c 3 -i 0.2 -W 2 $GRE_HOST"
wait_for no_tentative "$H" gre1
check "gre: IPv6 inside, ping $GRE6_VM" pings "$H" "$GRE6_VM" 3 -6
vm_run "vm_check 'gre: IPv6 inside, ping $GRE6_HOST' ping -6 -c 3 -i 0.2 -W 2 $GRE6_HOST"
check "gre: 1300-byte ping" pings "$H" "$GRE_VM" 3 -s 1300
vm_run "vm_check 'gre: 1300-byte ping' ping -c 3 -i 0.2 -W 2 -s 1300 $GRE_HOST"
check "gre: full-MTU ping (1396 bytes, DF) fits WireGuard's 1420" pings "$H" "$GRE_VM" 3 -s 1368 -M "do"
vm_run "vm_check 'gre: full-MTU ping (1396 bytes, DF)' ping -c 3 -i 0.2 -W 2 -s 1368 -M do $GRE_HOST"

check "gretap: ping $GRETAP_VM (the VM's gretap, ARP across)" pings "$H" "$GRETAP_VM" 3
vm_mac=$(vm_run cat /sys/class/net/gtap1/address)
host_mac=$(ip netns exec "$H" cat /sys/class/net/gtap1/address)
check "gretap: ARP resolved $GRETAP_VM to the VM's gtap1 ($vm_mac)" neigh_is "$GRETAP_VM" gtap1 "$vm_mac"
vm_run "vm_check 'gretap: ping $GRETAP_HOST (gresec)' ping -c 3 -i 0.2 -W 2 $GRETAP_HOST"
vm_run "vm_check 'gretap: ARP resolved $GRETAP_HOST to gresec gtap1 ($host_mac)' \
	sh -c 'ip neigh show $GRETAP_HOST dev gtap1 | grep -qi \"lladdr $host_mac\"'"
check "gretap: 1300-byte ping" pings "$H" "$GRETAP_VM" 3 -s 1300
vm_run "vm_check 'gretap: 1300-byte ping' ping -c 3 -i 0.2 -W 2 -s 1300 $GRETAP_HOST"
check "gretap: full-MTU ping (1382 bytes, DF)" pings "$H" "$GRETAP_VM" 3 -s 1354 -M "do"
vm_run "vm_check 'gretap: full-MTU ping (1382 bytes, DF)' ping -c 3 -i 0.2 -W 2 -s 1354 -M do $GRETAP_HOST"

check "ip6gre: ping $GRE6_LINK_VM (the VM's ip6_gre, GRE over IPv6 WireGuard addresses)" \
	pings "$H" "$GRE6_LINK_VM" 3
vm_run "vm_check 'ip6gre: ping $GRE6_LINK_HOST (gresec)' ping -c 3 -i 0.2 -W 2 $GRE6_LINK_HOST"
check "ip6gre: full-MTU ping (1368 bytes, DF)" pings "$H" "$GRE6_LINK_VM" 3 -s 1340 -M "do"
vm_run "vm_check 'ip6gre: full-MTU ping (1368 bytes, DF, with the encapsulation-limit option)' \
	ping -c 3 -i 0.2 -W 2 -s 1340 -M do $GRE6_LINK_HOST"

# For the record (README): round trips on the tap and through all layers.
rtt() { ip netns exec "$H" ping -q -c 10 -i 0.1 -W 2 "$1" 2>/dev/null | sed -n 's|^rtt [^=]*= [^/]*/\([^/]*\)/.*|\1|p'; }
echo "# ping round trip, average of 10: tap $(rtt "$UL4_VM") ms, WireGuard $(rtt "$WG_ADDR") ms," \
	"gre over WireGuard $(rtt "$GRE_VM") ms, gretap over WireGuard $(rtt "$GRETAP_VM") ms"

vm_run "vm_check 'gre1 received gresec GRE, no receive errors' rx_clean gre1"
vm_run "vm_check 'gtap1 received gresec GRE, no receive errors' rx_clean gtap1"
vm_run "vm_check 'gre6 received gresec GRE, no receive errors' rx_clean gre6"
vm_unreach=$(vm_run icmp_since_mark)
check_eq "the VM's kernel sent no ICMP / ICMPv6 destination unreachable for gresec's GRE" \
	"$vm_unreach" "0 0"
check_eq "this kernel sent no ICMP destination unreachable for the VM's GRE" \
	"$(($(host_unreach) - host_mark))" 0
check_eq "gresec counted no drops on gre1" "$(tunnel_field "$H" "$GRESECD_SOCK" gre1 drops_total)" 0
check_eq "gresec counted no drops on gtap1" "$(tunnel_field "$H" "$GRESECD_SOCK" gtap1 drops_total)" 0
check_eq "gresec counted no drops on gre6" "$(tunnel_field "$H" "$GRESECD_SOCK" gre6 drops_total)" 0

# Control: without a kernel tunnel for them the VM's kernel does answer
# gresec's GRE with port unreachable, so the zero above means something.
vm_run ip link del gtap1 >/dev/null || fail "ip link del gtap1 in the VM"
vm_run icmp_mark >/dev/null
check "control: no ping across gretap once the VM's gtap1 is gone" no_ping "$H" "$GRETAP_VM" 3
vm_unreach=$(vm_run icmp_since_mark)
vm_unreach=${vm_unreach%% *}
check "control: the VM's kernel then answers gresec's GRE with ICMP unreachable ($vm_unreach sent)" \
	test "${vm_unreach:-0}" -gt 0

vm_stop 60 || true
vm_results
stop_gresecd "$GRESEC_PID"
check_eq "gresecd exits 0 on SIGTERM" "$?" 0
finish
