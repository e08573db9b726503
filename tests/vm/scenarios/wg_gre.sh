# shellcheck shell=dash disable=SC2153,SC2154
# (SC2153, SC2154: the settings come from vm_env, VM_* from /init)
# tests/vm/scenarios/wg_gre.sh: the kernel's WireGuard with the kernel's
# GRE tunnels over it, for tests/vm/test_vm_wg_gre.sh and any test whose
# far end is "Linux with wg0 and ip_gre" (a gresec secure-mode test too).
#
# At boot: wg0 (kernel WireGuard) with WG_ADDR (and WG_ADDR2, WG_ADDR6 when
# set), one peer (WG_PEER); then "VM: ready" and the host's commands
# (vm_serve), which call the functions below.  Nothing is sent before the
# host asks.  Settings, through the host's vm_env (defaults after "="):
#
#   WG_KEY               our private key (base64), required
#   WG_PEER              the peer's public key, required
#   WG_PORT=51820        our listen port
#   WG_PEER_ENDPOINT=$VM_HOST4:$WG_PORT   the peer's endpoint ("none": none,
#                        the VM then only answers)
#   WG_PSK               pre-shared key (base64), none by default
#   WG_KEEPALIVE         persistent-keepalive seconds, none by default
#   WG_MTU=1420
#   WG_ADDR, WG_ADDR2, WG_ADDR6      our WireGuard addresses (/24, /24, /64;
#                        WG_ADDR2 and WG_ADDR6 optional)
#   WG_PEER_ADDR, WG_PEER_ADDR2, WG_PEER_ADDR6   the peer's (its allowed-ips)
#   GRE_VM, GRE6_VM      gre1's addresses (/30, /64), GRE_MTU=1396
#   GRE_KEY              gre1's key, none by default
#   GRETAP_VM            gtap1's address (/30), GRETAP_MTU=1382, GRETAP_KEY
#                        (gtap1 runs between WG_ADDR2 and WG_PEER_ADDR2,
#                        or WG_ADDR and WG_PEER_ADDR when not set: then
#                        give gre1 or gtap1 a key so packets can be told
#                        apart)
#   GRE6_LINK_VM         gre6's address (/30; ip6gre between WG_ADDR6 and
#                        WG_PEER_ADDR6), GRE6_LINK_MTU=1368 (1420 - 40 - 8
#                        for the encapsulation-limit option - 4)

: "${WG_PORT:=51820}" "${WG_MTU:=1420}" "${GRE_MTU:=1396}" "${GRETAP_MTU:=1382}"
: "${GRE6_LINK_MTU:=1368}" "${WG_PEER_ENDPOINT:=$VM_HOST4:$WG_PORT}"
: "${WG_ADDR2:=}" "${WG_ADDR6:=}" "${WG_PEER_ADDR2:=}" "${WG_PEER_ADDR6:=}"
: "${WG_PSK:=}" "${WG_KEEPALIVE:=}" "${GRE_KEY:=}" "${GRETAP_KEY:=}" "${GRE6_VM:=}"
WG_KEYFILE=/run/vm/wg.key
WG_PSKFILE=/run/vm/wg.psk

wg_peer()
{
	local allowed="$WG_PEER_ADDR/32"

	[ -n "$WG_PEER_ADDR2" ] && allowed="$allowed,$WG_PEER_ADDR2/32"
	[ -n "$WG_PEER_ADDR6" ] && allowed="$allowed,$WG_PEER_ADDR6/128"
	set -- wg set wg0 peer "$WG_PEER" allowed-ips "$allowed"
	[ "$WG_PEER_ENDPOINT" != none ] && set -- "$@" endpoint "$WG_PEER_ENDPOINT"
	[ -n "$WG_PSK" ] && set -- "$@" preshared-key "$WG_PSKFILE"
	[ -n "$WG_KEEPALIVE" ] && set -- "$@" persistent-keepalive "$WG_KEEPALIVE"
	"$@"
}

wg_up()
{
	(umask 077 && printf '%s\n' "$WG_KEY" >"$WG_KEYFILE" &&
		printf '%s\n' "$WG_PSK" >"$WG_PSKFILE") &&
		ip link add wg0 type wireguard &&
		wg set wg0 private-key "$WG_KEYFILE" listen-port "$WG_PORT" &&
		wg_peer &&
		ip addr add "$WG_ADDR/24" dev wg0 &&
		{ [ -z "$WG_ADDR2" ] || ip addr add "$WG_ADDR2/24" dev wg0; } &&
		{ [ -z "$WG_ADDR6" ] || ip -6 addr add "$WG_ADDR6/64" dev wg0 nodad; } &&
		ip link set wg0 mtu "$WG_MTU" up
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

# gre_link: the kernel's ip_gre, gre1 between WG_ADDR and WG_PEER_ADDR, no
# checksum or sequence, MTU so that GRE fits WireGuard: 1420 - 20 - 4.
gre_link()
{
	ip link add gre1 type gre local "$WG_ADDR" remote "$WG_PEER_ADDR" ttl 64 \
		${GRE_KEY:+key "$GRE_KEY"} &&
		ip link set gre1 mtu "$GRE_MTU" &&
		ip addr add "$GRE_VM/30" dev gre1 &&
		{ [ -z "$GRE6_VM" ] || ip -6 addr add "$GRE6_VM/64" dev gre1 nodad; } &&
		ip link set gre1 up
}

# gretap_link: gtap1 (gretap), 14 bytes less for the Ethernet header.
gretap_link()
{
	ip link add gtap1 type gretap local "${WG_ADDR2:-$WG_ADDR}" \
		remote "${WG_PEER_ADDR2:-$WG_PEER_ADDR}" ttl 64 ${GRETAP_KEY:+key "$GRETAP_KEY"} &&
		ip link set gtap1 mtu "$GRETAP_MTU" &&
		ip addr add "$GRETAP_VM/30" dev gtap1 &&
		ip link set gtap1 up
}

# gre6_link: the kernel's ip6_gre, gre6 (ip6gre, with the kernel's default
# tunnel encapsulation limit option) between WG_ADDR6 and WG_PEER_ADDR6.
gre6_link()
{
	ip link add gre6 type ip6gre local "$WG_ADDR6" remote "$WG_PEER_ADDR6" hoplimit 64 &&
		ip link set gre6 mtu "$GRE6_LINK_MTU" &&
		ip addr add "$GRE6_LINK_VM/30" dev gre6 &&
		ip link set gre6 up
}

# gre_up: gre1, gtap1 when GRETAP_VM is set, gre6 when GRE6_LINK_VM is.
# They all get IPv6 link-local addresses and send router solicitations and
# MLD reports, as they would in real life: more GRE for the peer to take.
gre_up()
{
	gre_link &&
		{ [ -z "${GRETAP_VM:-}" ] || gretap_link; } &&
		{ [ -z "${GRE6_LINK_VM:-}" ] || gre6_link; }
}

# rx_clean DEV: DEV received packets and counted no receive errors.
rx_clean()
{
	local s=/sys/class/net/$1/statistics
	echo "$1: rx_packets $(cat "$s/rx_packets") rx_errors $(cat "$s/rx_errors")"
	[ "$(cat "$s/rx_packets")" -gt 0 ] && [ "$(cat "$s/rx_errors")" -eq 0 ]
}

if wg_up; then
	vm_ok "kernel WireGuard wg0 up: $WG_ADDR${WG_ADDR2:+, $WG_ADDR2}${WG_ADDR6:+, $WG_ADDR6}, port $WG_PORT, peer $WG_PEER_ENDPOINT"
else
	vm_not_ok "kernel WireGuard wg0 up"
fi
vm_ready
vm_serve
