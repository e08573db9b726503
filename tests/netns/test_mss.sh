#!/bin/bash
# tests/netns/test_mss.sh: clamp_mss rewrites the MSS of TCP SYNs crossing
# the tunnel, so TCP through it never depends on path MTU discovery.
#
#   ns H (LAN host, MTU 1500) ── ns A (gresecd, forwards) ══ gre1 (MTU 1400) ══ ns B (gresecd)
#   192.168.1.2/24               192.168.1.1/24                                 11.11.1.2
#
# H's SYN carries MSS 1460 (its own link's MTU); A must clamp it to
# 1400 - 40 = 1360 (IPv4) on the way into the tunnel, and B's SYN-ACK back
# to H too.  Without clamp_mss the MSS crosses unchanged.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
command -v tcpdump >/dev/null 2>&1 || skip "test_mss.sh needs tcpdump"
setup_test

A=$(ns_name a)
B=$(ns_name b)
H=$(ns_name h)
make_pair "$A" "$B"
ip netns add "$H" || fail "ip netns add $H"
TEST_NAMESPACES+=("$H")
ip -n "$H" link set lo up
ip -n "$A" link add lan0 type veth peer name lan0 netns "$H" || fail "LAN veth"
ip -n "$A" addr add 192.168.1.1/24 dev lan0 && ip -n "$A" link set lan0 up &&
	ip -n "$H" addr add 192.168.1.2/24 dev lan0 && ip -n "$H" link set lan0 up &&
	ip -n "$H" route add default via 192.168.1.1 || fail "LAN addresses"
nsx "$A" sysctl -qw net.ipv4.ip_forward=1 || fail "forwarding in A"

# write_conf FILE LOCAL REMOTE N PEER_N ROUTES CLAMP
write_conf()
{
	{
		conf_daemon "$1"
		echo 'tunnels = ( {'
		echo "  name = \"gre1\"; mode = \"plain\"; type = \"gre\"; local = \"$2\"; remote = \"$3\";"
		echo "  address = \"11.11.1.$4/30\"; peer_address = \"11.11.1.$5\"; mtu = 1400;"
		echo "  routes = ( $6 ); clamp_mss = $7;"
		echo '} );'
	} >"$1"
}

# syn_mss CLAMP: the MSS of H's SYN as B sees it on gre1, and of B's SYN-ACK as H sees it.
syn_mss()
{
	local clamp=$1 cap_b="$TMPD/b-$1.txt" cap_h="$TMPD/h-$1.txt" pid_b pid_h pid_srv

	write_conf "$TMPD/a-$clamp.conf" "$UL4_A" "$UL4_B" 1 2 "" "$clamp"
	write_conf "$TMPD/b-$clamp.conf" "$UL4_B" "$UL4_A" 2 1 '"192.168.1.0/24"' "$clamp"
	start_gresecd "$A" "$TMPD/a-$clamp.conf"; PID_A=$GRESECD_PID
	start_gresecd "$B" "$TMPD/b-$clamp.conf"; PID_B=$GRESECD_PID
	wait_for pings "$H" 11.11.1.2 1 || fail "H cannot reach B through the tunnel"
	nsx "$B" tcpdump -l -n -v -i gre1 --immediate-mode 'tcp[tcpflags] & tcp-syn != 0' >"$cap_b" 2>/dev/null &
	pid_b=$!
	nsx "$H" tcpdump -l -n -v -i lan0 --immediate-mode 'tcp[tcpflags] & tcp-syn != 0' >"$cap_h" 2>/dev/null &
	pid_h=$!
	BG_PIDS+=("$pid_b" "$pid_h")
	sleep 1
	nsx "$B" /usr/bin/python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("11.11.1.2", 5001)); s.listen(1); s.settimeout(10)
c, _ = s.accept(); data = b""
while len(data) < 200000:
    b = c.recv(65536)
    if not b: break
    data += b
c.sendall(b"got %d" % len(data)); c.close()' &
	pid_srv=$!
	BG_PIDS+=("$pid_srv")
	sleep 0.5
	GOT=$(nsx "$H" /usr/bin/python3 -c '
import socket
c = socket.create_connection(("11.11.1.2", 5001), timeout=10)
c.sendall(b"x" * 200000); c.shutdown(socket.SHUT_WR); print(c.recv(100).decode())' 2>&1)
	sleep 0.5
	kill "$pid_b" "$pid_h" 2>/dev/null
	wait "$pid_b" "$pid_h" "$pid_srv" 2>/dev/null
	MSS_AT_B=$(grep -oE 'mss [0-9]+' "$cap_b" | head -1 | cut -d' ' -f2)
	MSS_AT_H=$(grep -E '11.11.1.2.5001 >' "$cap_h" | grep -oE 'mss [0-9]+' | head -1 | cut -d' ' -f2)
	stop_gresecd "$PID_A" >/dev/null
	stop_gresecd "$PID_B" >/dev/null
}

syn_mss false
check_eq "without clamp_mss: H's SYN reaches B with its own MSS" "$MSS_AT_B" 1460
check_eq "without clamp_mss: a TCP transfer from H to B completes" "$GOT" "got 200000"

syn_mss true
check_eq "clamp_mss: H's SYN reaches B with MSS 1400 - 40" "$MSS_AT_B" 1360
check_eq "clamp_mss: B's SYN-ACK reaches H with MSS at most 1360" "$((MSS_AT_H <= 1360))" 1
check_eq "clamp_mss: a TCP transfer from H to B completes" "$GOT" "got 200000"

finish
