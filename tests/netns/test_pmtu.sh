#!/bin/bash
# tests/netns/test_pmtu.sh: the underlay path MTU, and a forged ICMP error
# against it.  Plain and secure mode, IPv4 and IPv6 underlays.
#
#   A (10.0.1.1, fd00:1::1) -- R -- B (10.0.2.1, fd00:2::1)
#                              |
#                              M (10.0.3.1, fd00:3::1): off-path attacker
#
# 1. The attack (docs/security.md, "Forged ICMP shrinks the tunnel"): all
#    links at 1500.  M sends A one ICMP "fragmentation needed, mtu 552"
#    (IPv4) or ICMPv6 "packet too big, mtu 1280" (IPv6) quoting a packet of
#    the tunnel's flow (UDP in secure mode, GRE in plain mode).  Afterwards
#    full-size pings with DF set inside the tunnel and a TCP transfer must
#    still work.
# 2. A narrow path: A's link cut to 1400 and the R-B hop to 1300, tunnels
#    at their default MTU (sized for 1500).  The underlay fragments (IPv4:
#    A at its link, R at the hop; IPv6: A, told by R's "packet too big"),
#    so full-size DF pings, non-DF packets larger than the path and TCP
#    transfers all get through, in both directions of the ping.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
require_scapy
setup_test

A=$(ns_name a)
R=$(ns_name r)
B=$(ns_name b)
M=$(ns_name m)
SECURE_PORT=51947            # the default port (conf/conf.h)
ATTACK_TCP_BYTES=$((256 << 10))
NARROW_TCP_BYTES=$((4 << 20))

# leg NS N: a veth from NS to R on 10.0.N.0/24 and fd00:N::/64, NS at .1 /
# ::1 with its default routes via R (.254 / ::fe).
leg()
{
	local ns=$1 n=$2

	ip netns add "$ns" || fail "ip netns add $ns"
	TEST_NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up &&
		ip -n "$ns" link add ul0 type veth peer name "leg$n" netns "$R" &&
		ip -n "$ns" addr add "10.0.$n.1/24" dev ul0 &&
		ip -n "$ns" addr add "fd00:$n::1/64" dev ul0 nodad &&
		ip -n "$R" addr add "10.0.$n.254/24" dev "leg$n" &&
		ip -n "$R" addr add "fd00:$n::fe/64" dev "leg$n" nodad &&
		ip -n "$ns" link set ul0 up &&
		ip -n "$R" link set "leg$n" up &&
		ip -n "$ns" route add default via "10.0.$n.254" &&
		ip -n "$ns" -6 route add default via "fd00:$n::fe" || fail "underlay leg $ns"
}

# link_mtu N MTU: both ends of leg N.
link_mtu()
{
	local ns=$A

	[ "$1" = 2 ] && ns=$B
	ip -n "$ns" link set ul0 mtu "$2" && ip -n "$R" link set "leg$1" mtu "$2" ||
		fail "mtu $2 on leg $1"
}

ip netns add "$R" || fail "ip netns add $R"
TEST_NAMESPACES+=("$R")
ip -n "$R" link set lo up
nsx "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
	fail "forwarding in $R"
leg "$A" 1
leg "$B" 2
leg "$M" 3
for dst in 10.0.2.1 fd00:2::1 10.0.3.1 fd00:3::1; do
	wait_for nsx "$A" ping -c1 -W1 -q "$dst" >/dev/null || fail "underlay A -> $dst"
done

"$GRESEC" genkey >"$TMPD/a.key" && "$GRESEC" genkey >"$TMPD/b.key" || fail "genkey"
chmod 600 "$TMPD/a.key" "$TMPD/b.key"
PUB_A=$("$GRESEC" pubkey <"$TMPD/a.key")
PUB_B=$("$GRESEC" pubkey <"$TMPD/b.key")

# write_conf FILE MODE LOCAL REMOTE N PEER_N KEYFILE PEERPUB
write_conf()
{
	{
		conf_daemon "$1"
		echo 'tunnels = ( {'
		echo "  name = \"t$2\"; mode = \"$2\"; type = \"gre\"; local = \"$3\"; remote = \"$4\";"
		echo "  address = ( \"11.11.1.$5/30\", \"fd11::$5/64\" ); peer_address = \"11.11.1.$6\";"
		[ "$2" = secure ] && echo "  private_key_file = \"$7\"; peer_public_key = \"$8\";"
		echo '} );'
	} >"$1"
}

# start_tunnel MODE FAMILY: both daemons, tunnel up; sets LABEL, MTU, PID_A,
# SOCK_A, LOG_A, PID_B, UL_A, UL_B, UL_M.
start_tunnel()
{
	local mode=$1 fam=$2 conf_a conf_b

	LABEL="$mode/IPv$fam"
	if [ "$fam" = 4 ]; then
		UL_A=10.0.1.1 UL_B=10.0.2.1 UL_M=10.0.3.1
	else
		UL_A=fd00:1::1 UL_B=fd00:2::1 UL_M=fd00:3::1
	fi
	conf_a="$TMPD/$mode$fam-$PHASE-a.conf" conf_b="$TMPD/$mode$fam-$PHASE-b.conf"
	write_conf "$conf_a" "$mode" "$UL_A" "$UL_B" 1 2 "$TMPD/a.key" "$PUB_B"
	write_conf "$conf_b" "$mode" "$UL_B" "$UL_A" 2 1 "$TMPD/b.key" "$PUB_A"
	start_gresecd "$A" "$conf_a"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK LOG_A=$GRESECD_LOG
	start_gresecd "$B" "$conf_b"; PID_B=$GRESECD_PID
	MTU=$(tunnel_field "$A" "$SOCK_A" "t$mode" mtu)
	check "$LABEL: the tunnel carries pings (tunnel MTU $MTU)" wait_for pings "$A" 11.11.1.2 2
}

stop_tunnel()
{
	local st ns

	stop_gresecd "$PID_A"; st=$?
	check_eq "$LABEL: gresecd in A exits 0" "$st" 0
	stop_gresecd "$PID_B"; st=$?
	check_eq "$LABEL: gresecd in B exits 0" "$st" 0
	# Whatever the kernels learned about the path goes with the run.
	for ns in "$A" "$B"; do
		ip -n "$ns" -4 route flush cache
		ip -n "$ns" -6 route flush cache
	done
}

# counter NS NAME: one nstat counter (absolute, the history left alone).
counter()
{
	nsx "$1" nstat -asz "$2" | awk -v n="$2" '$1 == n { print $2 }'
}

# tcp_check LABEL DST BYTES: BYTES from A to B over TCP, all of it, intact.
tcp_check()
{
	local s_sha r_sha r_bytes secs

	read -r s_sha r_sha r_bytes secs <<<"$(tcp_transfer "$A" "$B" "$2" "$3")"
	check_eq "$1: TCP to $2: all $3 bytes arrive ($secs s)" "$r_bytes" "$3"
	check_eq "$1: TCP to $2: SHA-256 equal" "$r_sha" "$s_sha"
}

# ---- 1. one forged ICMP error from M ----
PHASE=attack
for mode in plain secure; do
	for fam in 4 6; do
		start_tunnel "$mode" "$fam"
		if [ "$mode" = secure ]; then
			flow=(--udp "$SECURE_PORT" "$SECURE_PORT")
		else
			flow=(--gre)
		fi
		if [ "$fam" = 4 ]; then icmp_in=IcmpInDestUnreachs; else icmp_in=Icmp6InPktTooBigs; fi
		before=$(counter "$A" "$icmp_in")
		out=$(nsx "$M" "$PY" "$NETNS_DIR/pmtu_spoof.py" --from "$UL_M" --victim "$UL_A" \
			--peer "$UL_B" "${flow[@]}" 2>&1)
		check "$LABEL: M forges one ICMP error ($out)" test $? = 0
		check "$LABEL: A's kernel received it ($icmp_in)" \
			wait_for eval '[ "$(counter "$A" "$icmp_in")" -gt "${before:-0}" ]'
		echo "# $LABEL: A's route to B after the forged error: $(ip -n "$A" route get "$UL_B" | tr -s ' \n' ' ')"
		check "$LABEL: after it, 1300-byte pings with DF cross" \
			pings "$A" 11.11.1.2 3 -M do -s $((1300 - 28))
		check "$LABEL: after it, full-size pings with DF cross (IPv4 inner, $MTU)" \
			pings "$A" 11.11.1.2 3 -M do -s $((MTU - 28))
		check "$LABEL: after it, full-size pings cross (IPv6 inner, $MTU)" \
			pings "$A" fd11::2 3 -s $((MTU - 48))
		tcp_check "$LABEL: after it" 11.11.1.2 "$ATTACK_TCP_BYTES"
		check_eq "$LABEL: no send errors" "$(tunnel_field "$A" "$SOCK_A" "t$mode" drops.tx_error)" 0
		stop_tunnel
	done
done

# ---- 2. a path narrower than the tunnel MTU needs ----
PHASE=narrow
link_mtu 1 1400
link_mtu 2 1300
for mode in plain secure; do
	for fam in 4 6; do
		start_tunnel "$mode" "$fam"
		if [ "$fam" = 4 ]; then frag=IpFragCreates; else frag=Ip6FragCreates; fi
		frag_a=$(counter "$A" "$frag") frag_r=$(counter "$R" "$frag")
		check "$LABEL: full-size pings with DF cross (IPv4 inner, $MTU over a 1300 path)" \
			pings "$A" 11.11.1.2 3 -M do -s $((MTU - 28))
		check "$LABEL: full-size pings cross (IPv6 inner)" pings "$A" fd11::2 3 -s $((MTU - 48))
		check "$LABEL: full-size pings without DF cross" \
			pings "$A" 11.11.1.2 3 -M dont -s $((MTU - 28))
		check "$LABEL: pings without DF above the tunnel MTU cross (4000 bytes)" \
			pings "$A" 11.11.1.2 3 -M dont -s 4000
		check "$LABEL: and the other way" pings "$B" 11.11.1.1 3 -M do -s $((MTU - 28))
		tcp_check "$LABEL" 11.11.1.2 "$NARROW_TCP_BYTES"
		tcp_check "$LABEL" fd11::2 "$NARROW_TCP_BYTES"
		frag_a=$(( $(counter "$A" "$frag") - frag_a )) frag_r=$(( $(counter "$R" "$frag") - frag_r ))
		echo "# $LABEL: fragments made by A: $frag_a, by R: $frag_r"
		check "$LABEL: the underlay fragmented" test $((frag_a + frag_r)) -gt 0
		[ "$fam" = 6 ] && check "$LABEL: A's kernel took the 1300-byte path MTU from R's packet too big" \
			eval 'ip -n "$A" route get "$UL_B" | grep -q "mtu 1300"'
		check "$LABEL: no receive errors logged" eval '! grep -q "receive:" "$LOG_A"'
		check_eq "$LABEL: no send errors" "$(tunnel_field "$A" "$SOCK_A" "t$mode" drops.tx_error)" 0
		[ "$mode" = secure ] && check "$LABEL: UDP GSO is not turned off for good" \
			eval '! grep -q "no UDP GSO" "$LOG_A"'
		stop_tunnel
	done
done

finish
