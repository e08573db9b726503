#!/bin/sh
# Two-site demo: two network namespaces joined by a veth "underlay", a
# gresecd in each, linked first by plain GRE, then by secure mode.  Shows a
# ping across each tunnel and the tunnels' state.  Run as root.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it creates network namespaces)" >&2; exit 1; }
"$top/scripts/setup.sh" "$build"

tmp=$(mktemp -d /tmp/gresec-demo.XXXXXX)
a=gresec-demo-a-$$ b=gresec-demo-b-$$
cleanup() {
	for ns in $a $b; do
		[ -f "$tmp/$ns.pid" ] && kill "$(cat "$tmp/$ns.pid")" 2>/dev/null || true
	done
	sleep 0.3
	ip netns del $a 2>/dev/null || true
	ip netns del $b 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

ip netns add $a
ip netns add $b
ip link add veth-a netns $a type veth peer name veth-b netns $b
ip -n $a addr add 192.0.2.1/24 dev veth-a
ip -n $b addr add 192.0.2.2/24 dev veth-b
ip -n $a link set veth-a up; ip -n $a link set lo up
ip -n $b link set veth-b up; ip -n $b link set lo up

gresec=$build/gresec
gresecd=$build/gresecd

start() { # ns conf
	ip netns exec "$1" "$gresecd" -f -c "$2" -p "$tmp/$1.pidfile" >"$tmp/$1.log" 2>&1 &
	echo $! >"$tmp/$1.pid"
	for _ in $(seq 50); do
		[ -S "$tmp/$1.sock" ] && return 0
		sleep 0.1
	done
	cat "$tmp/$1.log"; exit 1
}
stop() {
	kill "$(cat "$tmp/$1.pid")"; wait "$(cat "$tmp/$1.pid")" 2>/dev/null || true; rm -f "$tmp/$1.pid"
}

echo "== plain GRE (IP protocol 47), key 42"
for side in a b; do
	if [ $side = a ]; then ns=$a l=192.0.2.1 r=192.0.2.2 me=11.11.1.1 peer=11.11.1.2
	else ns=$b l=192.0.2.2 r=192.0.2.1 me=11.11.1.2 peer=11.11.1.1; fi
	cat >"$tmp/$ns.conf" <<CONF
daemon: { control_socket = "$tmp/$ns.sock"; };
tunnels = ( { name = "gre1"; description = "demo plain link"; mode = "plain"; type = "gre";
  local = "$l"; remote = "$r"; address = "$me/30"; peer_address = "$peer"; key = 42; } );
CONF
	start $ns "$tmp/$ns.conf"
done
ip netns exec $a ping -c 3 -i 0.2 11.11.1.2
ip netns exec $a "$gresec" -s "$tmp/$a.sock" show
stop $a; stop $b

echo
echo "== secure mode (Noise IKpsk2 + ChaCha20-Poly1305 over UDP)"
"$gresec" genkey >"$tmp/a.key"; "$gresec" genkey >"$tmp/b.key"; chmod 600 "$tmp/a.key" "$tmp/b.key"
"$gresec" genpsk >"$tmp/psk"; chmod 600 "$tmp/psk"
pub_a=$("$gresec" pubkey <"$tmp/a.key"); pub_b=$("$gresec" pubkey <"$tmp/b.key")
for side in a b; do
	if [ $side = a ]; then ns=$a l=192.0.2.1 r=192.0.2.2 me=10.99.0.1 peer=10.99.0.2 key=a.key pub=$pub_b
	else ns=$b l=192.0.2.2 r=192.0.2.1 me=10.99.0.2 peer=10.99.0.1 key=b.key pub=$pub_a; fi
	cat >"$tmp/$ns.conf" <<CONF
daemon: { control_socket = "$tmp/$ns.sock"; };
tunnels = ( { name = "sec1"; description = "demo secure link"; mode = "secure"; type = "gre";
  local = "$l"; remote = "$r"; address = ( "$me/30", "fd99::${me##*.}/64" ); peer_address = "$peer";
  private_key_file = "$tmp/$key"; peer_public_key = "$pub"; preshared_key_file = "$tmp/psk"; } );
CONF
	start $ns "$tmp/$ns.conf"
done
ip netns exec $a ping -c 3 -i 0.2 10.99.0.2
ip netns exec $a ping -6 -c 3 -i 0.2 fd99::2
ip netns exec $a "$gresec" -s "$tmp/$a.sock" show
stop $a; stop $b
echo
echo "demo: done"
