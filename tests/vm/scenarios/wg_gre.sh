# shellcheck shell=dash
# tests/vm/scenarios/wg_gre.sh: the VM side of tests/vm/test_vm_wg_gre.sh.
#
# At boot: the kernel's WireGuard, wg0 with WG_ADDR and WG_ADDR2 (/24),
# MTU 1420, one peer (the host: WG_PEER, endpoint VM_HOST4:WG_PORT,
# allowed-ips WG_PEER_ADDR and WG_PEER_ADDR2); then "VM: ready" and the
# host's commands (vm_serve), which call the functions below.  Every
# address comes from the test through vm_env; nothing is sent before the
# host asks.

WG_KEYFILE=/run/vm/wg.key

wg_peer()
{
	wg set wg0 peer "$WG_PEER" endpoint "$VM_HOST4:$WG_PORT" \
		allowed-ips "$WG_PEER_ADDR/32,$WG_PEER_ADDR2/32"
}

wg_up()
{
	(umask 077 && printf '%s\n' "$WG_KEY" >"$WG_KEYFILE") &&
		ip link add wg0 type wireguard &&
		wg set wg0 private-key "$WG_KEYFILE" listen-port "$WG_PORT" &&
		wg_peer &&
		ip addr add "$WG_ADDR/24" dev wg0 &&
		ip addr add "$WG_ADDR2/24" dev wg0 &&
		ip link set wg0 mtu 1420 up
}

# wg_reset: forget the peer's session (remove and add it again), so the
# next packet needs a new handshake.
wg_reset()
{
	wg set wg0 peer "$WG_PEER" remove && wg_peer
}

# wg_handshake: the peer's latest handshake (seconds since the epoch, 0: none).
wg_handshake()
{
	wg show wg0 latest-handshakes | awk '{ print $2 }'
}

# gre_up: the kernel's ip_gre: gre1 between the first pair of WireGuard
# addresses, gtap1 (gretap) between the second, no key, checksum or
# sequence; MTUs so that GRE fits WireGuard's 1420: 1420 - 20 - 4 = 1396,
# and 1396 - 14 = 1382 for the Ethernet header of gretap.  Both get IPv6
# link-local addresses and send router solicitations and MLD reports, as
# they would in real life: more GRE for gresec to take.
gre_up()
{
	ip link add gre1 type gre local "$WG_ADDR" remote "$WG_PEER_ADDR" ttl 64 &&
		ip link set gre1 mtu 1396 &&
		ip addr add "$GRE_VM/30" dev gre1 &&
		ip -6 addr add "$GRE6_VM/64" dev gre1 nodad &&
		ip link set gre1 up &&
		ip link add gtap1 type gretap local "$WG_ADDR2" remote "$WG_PEER_ADDR2" ttl 64 &&
		ip link set gtap1 mtu 1382 &&
		ip addr add "$GRETAP_VM/30" dev gtap1 &&
		ip link set gtap1 up
}

# icmp_mark / icmp_since_mark: ICMP destination-unreachable messages this
# kernel sent since the mark.
icmp_mark()
{
	vm_icmp_out_unreach >/run/vm/icmp.mark
}

icmp_since_mark()
{
	echo $(($(vm_icmp_out_unreach) - $(cat /run/vm/icmp.mark)))
}

# rx_clean DEV: DEV received packets and counted no receive errors.
rx_clean()
{
	local s=/sys/class/net/$1/statistics
	echo "$1: rx_packets $(cat "$s/rx_packets") rx_errors $(cat "$s/rx_errors")"
	[ "$(cat "$s/rx_packets")" -gt 0 ] && [ "$(cat "$s/rx_errors")" -eq 0 ]
}

if wg_up; then
	vm_ok "kernel WireGuard wg0 up: $WG_ADDR, $WG_ADDR2, port $WG_PORT, peer $VM_HOST4:$WG_PORT"
else
	vm_not_ok "kernel WireGuard wg0 up"
fi
vm_ready
vm_serve
