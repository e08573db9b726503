#!/bin/bash
# tests/netns/test_secure.sh: two gresecd in secure mode, daemon against daemon.
#
#   ns A                                              ns B
#   gresecd ── gre1 11.11.1.1/30 ┄┄ UDP 51947 ┄┄ gre1 11.11.1.2/30 ── gresecd
#   veth0 10.0.0.1/24 fd00::1/64 ──────────── veth0 10.0.0.2/24 fd00::2/64
#
# - gre and gretap, over IPv4 and IPv6 underlays: the session is established,
#   IPv4 and IPv6 pings pass both ways (gretap: ARP and ND across), MTUs;
# - 24 MB of TCP A -> B arrive intact (SHA-256), the bulk crossing the
#   underlay as UDP GSO packets that B takes as UDP GRO buffers;
# - a capture of the UDP traffic never holds a plaintext pattern sent
#   through the tunnel (ping -p and a TCP payload), while the same capture
#   over a plain tunnel does (so the check would catch missing encryption);
# - a wrong peer public key and a PSK mismatch give no session, are counted,
#   and a flood of refused initiations is logged a few times, not per packet;
# - SIGKILL of one side and a restart: traffic back within seconds;
# - roaming: A's underlay address changes mid-ping, B follows it;
# - rekey every 3 s during 15 s of ping -i 0.05: no loss.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
command -v tcpdump >/dev/null 2>&1 || skip "$(basename "$0") needs tcpdump"
require_scapy
setup_test

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"

. "$NETNS_DIR/secure_lib.sh"
secure_keys

PATTERN=5ec0de5ec0dec0fe                      # ping -p: 8 distinctive bytes
TCP_MARKER="gresec-plaintext-marker-Zq7Kx3Wm9Pv2"

# tcp_payload NS_SRV SRV_ADDR NS_CLI: send TCP_MARKER over TCP through the
# tunnel; succeeds when the server received it intact.
tcp_payload()
{
	local out="$TMPD/tcp.out" srv
	rm -f "$out"
	ip netns exec "$1" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5555)); s.listen(1); s.settimeout(10)
c, _ = s.accept(); c.settimeout(10)
data = b""
while True:
    b = c.recv(65536)
    if not b:
        break
    data += b
open(sys.argv[2], "wb").write(data)' "$2" "$out" &
	srv=$!
	sleep 0.3
	ip netns exec "$3" "$PY" -c '
import socket, sys
c = socket.create_connection((sys.argv[1], 5555), timeout=5)
c.sendall((sys.argv[2] * 20).encode()); c.close()' "$2" "$TCP_MARKER" || { kill "$srv" 2>/dev/null; return 1; }
	wait "$srv" || return 1
	grep -q "$TCP_MARKER" "$out"
}

now() { date +%s.%N; }

# seconds_until_ping NS DST T0: ping DST every ~0.1 s until it answers
# (30 s at most); prints the seconds since T0, or "never".
seconds_until_ping()
{
	local ns=$1 dst=$2 t0=$3 deadline=$((SECONDS + 30))

	while [ "$SECONDS" -le "$deadline" ]; do
		if ip netns exec "$ns" ping -q -c1 -W1 "$dst" >/dev/null 2>&1; then
			"$PY" -c 'import sys; print("%.2f" % (float(sys.argv[1]) - float(sys.argv[2])))' "$(now)" "$t0"
			return
		fi
		sleep 0.1
	done
	echo never
}

secs_le() { [ "$1" != never ] && "$PY" -c 'import sys; sys.exit(float(sys.argv[1]) > float(sys.argv[2]))' "$1" "$2"; }

# ---------------------------------------------------------------------------
# secure_case LABEL TYPE UNDERLAY MTU: both sides with remote, ping all ways.
secure_case()
{
	local label=$1 type=$2 ul=$3 mtu=$4 la lb got addrs_a addrs_b peers_a peers_b v4b v6b v4a v6a
	local ca="$TMPD/${label}-a.conf" cb="$TMPD/${label}-b.conf"

	if [ "$ul" = 4 ]; then la=$UL4_A lb=$UL4_B; else la=$UL6_A lb=$UL6_B; fi
	echo "# ---- $label: $type over IPv$ul ----"
	if [ "$type" = gre ]; then
		addrs_a='"11.11.1.1/30", "fd11::1/64"' peers_a='"11.11.1.2", "fd11::2"'
		addrs_b='"11.11.1.2/30", "fd11::2/64"' peers_b='"11.11.1.1", "fd11::1"'
		v4a=11.11.1.1 v4b=11.11.1.2 v6a=fd11::1 v6b=fd11::2
	else
		addrs_a='"11.11.2.1/24", "fd12::1/64"' peers_a=''
		addrs_b='"11.11.2.2/24", "fd12::2/64"' peers_b=''
		v4a=11.11.2.1 v4b=11.11.2.2 v6a=fd12::1 v6b=fd12::2
	fi
	write_sconf "$ca" "$type" "$la" "$lb" "$addrs_a" "$peers_a" "$TMPD/a.key" "$PUB_B"
	write_sconf "$cb" "$type" "$lb" "$la" "$addrs_b" "$peers_b" "$TMPD/b.key" "$PUB_A"
	[ "$label" = gre-v4 ] && capture_start "$A" "$TMPD/secure.pcap" udp port 51947
	start_a "$ca"
	start_b "$cb"

	wait_for established_both
	check_eq "$label: A state" "$(tunnel_field "$A" "$SOCK_A" gre1 state)" established
	check_eq "$label: B state" "$(tunnel_field "$B" "$SOCK_B" gre1 state)" established
	got=$(tunnel_field "$A" "$SOCK_A" gre1 latest_handshake_age)
	check "$label: A latest_handshake_age is a small number (got $got)" \
		eval '[ "$got" != None ] && [ "${got%.*}" -le 10 ]'
	got=$(tunnel_field "$A" "$SOCK_A" gre1 mode)/$(tunnel_field "$A" "$SOCK_A" gre1 type)
	check_eq "$label: show reports mode/type" "$got" "secure/$type"
	got=$(tunnel_field "$A" "$SOCK_A" gre1 endpoint)
	case "$got" in
	*"$lb"*51947) ok "$label: A's endpoint is B ($got)" ;;
	*) not_ok "$label: A's endpoint '$got' is not $lb port 51947" ;;
	esac
	check_eq "$label: A's peer_public_key" "$(tunnel_field "$A" "$SOCK_A" gre1 peer_public_key)" "$PUB_B"
	check_eq "$label: A's public_key" "$(tunnel_field "$A" "$SOCK_A" gre1 public_key)" "$PUB_A"
	got=$(link_field "$A" gre1 mtu)
	check_eq "$label: gre1 MTU in A" "$got" "$mtu"
	check_eq "$label: show reports the MTU" "$(tunnel_field "$A" "$SOCK_A" gre1 mtu)" "$mtu"
	check_eq "$label: gre1 MTU in B" "$(link_field "$B" gre1 mtu)" "$mtu"
	if [ "$type" = gretap ]; then
		check_eq "$label: gre1 is an Ethernet device" "$(link_field "$A" gre1 link_type)" ether
	fi
	wait_for no_tentative "$A" gre1
	wait_for no_tentative "$B" gre1

	check "$label: ping IPv4 A -> B" pings "$A" "$v4b" 3 -p "$PATTERN" -s 200
	check "$label: ping IPv4 B -> A" pings "$B" "$v4a" 3
	check "$label: ping IPv6 A -> B" pings "$A" "$v6b" 3 -p "$PATTERN" -s 200
	check "$label: ping IPv6 B -> A" pings "$B" "$v6a" 3
	check "$label: full-MTU IPv4 ($mtu bytes, DF) A -> B" pings "$A" "$v4b" 2 -M do -s $((mtu - 28))
	check "$label: full-MTU IPv6 ($mtu bytes) B -> A" pings "$B" "$v6a" 2 -M do -s $((mtu - 48))
	check "$label: one byte over the MTU is refused locally (DF)" \
		eval '! ip netns exec "$A" ping -q -c1 -W1 -M do -s $((mtu - 27)) "$v4b" >/dev/null 2>&1'
	if [ "$type" = gretap ]; then
		local mac_a mac_b n
		mac_a=$(link_field "$A" gre1 address) mac_b=$(link_field "$B" gre1 address)
		n=$(ip -n "$B" neigh show dev gre1 "$v4a")
		case "$n" in *"lladdr $mac_a "*) ok "$label: B resolved $v4a to A's MAC by ARP" ;;
		*) not_ok "$label: B's ARP entry for $v4a ('$n') lacks A's MAC $mac_a" ;; esac
		n=$(ip -n "$A" neigh show dev gre1 "$v4b")
		case "$n" in *"lladdr $mac_b "*) ok "$label: A resolved $v4b to B's MAC by ARP" ;;
		*) not_ok "$label: A's ARP entry for $v4b ('$n') lacks B's MAC $mac_b" ;; esac
		n=$(ip -n "$A" neigh show dev gre1 "$v6b")
		case "$n" in *"lladdr $mac_b "*) ok "$label: A resolved $v6b to B's MAC by ND" ;;
		*) not_ok "$label: A's ND entry for $v6b ('$n') lacks B's MAC $mac_b" ;; esac
	fi
	if [ "$label" = gre-v4 ]; then
		check "gre-v4: TCP payload through the secure tunnel arrives" tcp_payload "$B" "$v4b" "$A"
		capture_stop
		got=$(pcap_count "$TMPD/secure.pcap")
		check "secure capture: holds the tunnel's UDP datagrams ($got)" test "$got" -ge 20
		got=$(tcpdump -n -r "$TMPD/secure.pcap" 2>/dev/null |
			awk '/UDP, length/ { if ($NF + 0 > m) m = $NF + 0 } END { print m + 0 }')
		check "secure capture: holds the sealed TCP segment (largest datagram $got >= 780 bytes)" \
			test "$got" -ge 780
		check "secure capture: ping pattern $PATTERN not in the UDP traffic" \
			eval '! pcap_has "$TMPD/secure.pcap" "$PATTERN"'
		check "secure capture: TCP payload not in the UDP traffic" \
			eval '! pcap_has "$TMPD/secure.pcap" "$(printf %s "$TCP_MARKER" | od -An -tx1 | tr -d " \n")"'
		check "secure capture: no inner IPv4 address bytes (11.11.1.x) in the clear" \
			eval '! pcap_has "$TMPD/secure.pcap" 0b0b01010b0b0102'
	fi
	# Bulk TCP: full-sized segments go out as UDP GSO runs and arrive as
	# UDP GRO buffers that B splits again; every byte must come through.
	local bytes=$((24 << 20)) s_sha r_sha r_bytes secs big
	capture_start "$B" "$TMPD/bulk.pcap" udp port 51947 and greater 3000
	local dst=$v6b
	[ "$ul" = 6 ] && dst=$v4b     # inner IPv6 over the IPv4 underlay and vice versa
	read -r s_sha r_sha r_bytes secs <<<"$(tcp_transfer "$A" "$B" "$dst" "$bytes")"
	capture_stop
	echo "# $label: $bytes bytes over TCP in $secs s"
	check_eq "$label: bulk TCP A -> B: all bytes arrive" "$r_bytes" "$bytes"
	check_eq "$label: bulk TCP A -> B: SHA-256 equal" "$r_sha" "$s_sha"
	big=$(pcap_count "$TMPD/bulk.pcap")
	check "$label: runs of datagrams crossed the underlay as one UDP GSO packet ($big)" \
		test "$big" -ge 1
	got=$(tunnel_field "$B" "$SOCK_B" gre1 rx_packets)
	check "$label: B counts rx_packets (got $got)" test "${got:-0}" -ge $((bytes / 1500))
	got=$(tunnel_field "$A" "$SOCK_A" gre1 drops_total)
	check_eq "$label: A dropped nothing" "$got" 0
	got=$(tunnel_field "$B" "$SOCK_B" gre1 drops_total)
	check_eq "$label: B dropped nothing" "$got" 0
	stop_both "$label"
}

# MTUs: the WireGuard MTU 1420 - inner IPv4 header 20 (addresses derived
# from the keys) - GRE 4 (- Ethernet 14 for gretap), on either underlay.
secure_case gre-v4 gre 4 1396
secure_case gre-v6 gre 6 1396
secure_case gretap-v4 gretap 4 1382
secure_case gretap-v6 gretap 6 1382

# ---- control: the same capture over a plain tunnel finds the plaintext ----
echo "# ---- control: plain GRE carries the pattern in the clear ----"
ca="$TMPD/plain-a.conf" cb="$TMPD/plain-b.conf"
for f in a b; do
	if [ $f = a ]; then l=$UL4_A r=$UL4_B ad=11.11.1.1 pe=11.11.1.2; else l=$UL4_B r=$UL4_A ad=11.11.1.2 pe=11.11.1.1; fi
	{
		conf_daemon "$TMPD/plain-$f.conf"
		echo "tunnels = ( { name = \"gre1\"; mode = \"plain\"; type = \"gre\"; local = \"$l\";"
		echo "  remote = \"$r\"; address = ( \"$ad/30\" ); peer_address = ( \"$pe\" ); } );"
	} >"$TMPD/plain-$f.conf"
done
capture_start "$A" "$TMPD/plain.pcap" ip proto 47
start_a "$ca"
start_b "$cb"
check "control: ping with pattern over plain GRE" pings "$A" 11.11.1.2 3 -p "$PATTERN" -s 200
check "control: TCP payload over plain GRE arrives" tcp_payload "$B" 11.11.1.2 "$A"
capture_stop
check "control: plain capture holds GRE packets" test "$(pcap_count "$TMPD/plain.pcap")" -ge 6
check "control: ping pattern found in the plain GRE capture" pcap_has "$TMPD/plain.pcap" "$PATTERN"
check "control: TCP payload found in the plain GRE capture" \
	pcap_has "$TMPD/plain.pcap" "$(printf %s "$TCP_MARKER" | od -An -tx1 | tr -d ' \n')"
stop_both control

# ---- wrong peer public key: no session, counted, logged a few times ----
echo "# ---- wrong peer public key ----"
ca="$TMPD/wrong-a.conf" cb="$TMPD/wrong-b.conf"
# B expects the wrong key for A.  A's initiations pass mac1 (made for B's
# real key) but carry a static key B does not accept: "handshake" at B.
# B's own initiations carry mac1 made for the wrong key: "bad_mac" at A.
write_sconf "$ca" gre "$UL4_A" "$UL4_B" '"11.11.1.1/30"' '"11.11.1.2"' "$TMPD/a.key" "$PUB_B"
write_sconf "$cb" gre "$UL4_B" "$UL4_A" '"11.11.1.2/30"' '"11.11.1.1"' "$TMPD/b.key" "$PUB_WRONG"
capture_start "$A" "$TMPD/wrong.pcap" udp and src host "$UL4_A" and dst port 51947
start_a "$ca"
start_b "$cb"
check "wrong key: ping A -> B fails" no_ping "$A" 11.11.1.2 4
capture_stop
check "wrong key: A is not established" eval '! state_is "$A" "$SOCK_A" established'
check "wrong key: B is not established" eval '! state_is "$B" "$SOCK_B" established'
# A's first initiation may have come before B was up; its retry 5 s later not.
wait_for eval '[ "$(tunnel_field "$B" "$SOCK_B" gre1 drops.handshake)" -ge 1 ]'
hs_b=$(tunnel_field "$B" "$SOCK_B" gre1 drops.handshake)
check "wrong key: B counts A's initiations as handshake drops ($hs_b)" test "${hs_b:-0}" -ge 1
got=$(tunnel_field "$A" "$SOCK_A" gre1 drops.bad_mac)
check "wrong key: A counts B's initiations (mac1 for another key) as bad_mac ($got)" \
	test "${got:-0}" -ge 1
check_eq "wrong key: B delivered nothing" "$(tunnel_field "$B" "$SOCK_B" gre1 rx_packets)" 0
# A flood of 150 such initiations (A's own, resent at 30/s, under the
# 64/s load threshold): each counted, but only a handful of log lines.
refused_b() { gresec_json "$B" "$SOCK_B" gre1 | "$PY" -c '
import json, sys
d = json.load(sys.stdin)["tunnels"][0]["drops"]
print(d["handshake"] + d["rate_limited"])'; }
hs_b=$(refused_b)
log_before=$(grep -c -i 'handshake initiation' "$LOG_B")
ip netns exec "$A" "$PY" "$NETNS_DIR/secure_replay.py" replay "$TMPD/wrong.pcap" \
	--types 1 --count 150 --rate 30 >"$TMPD/flood.out" 2>&1 || not_ok "flood: secure_replay.py failed: $(cat "$TMPD/flood.out")"
sent=$(json_get sent.1 <"$TMPD/flood.out" 2>/dev/null)
check "wrong key: 150 initiations resent ($sent)" test "${sent:-0}" -ge 150
wait_for eval '[ "$(refused_b)" -ge $((hs_b + ${sent:-150})) ]'
got=$(refused_b)
check "wrong key: every resent initiation counted (handshake + rate_limited: $hs_b -> $got)" \
	test "$got" -ge $((hs_b + ${sent:-150}))
log_after=$(grep -c -i 'handshake initiation' "$LOG_B")
check "wrong key: B logged the refusals a few times, not per packet ($((log_after - log_before)) new lines for $sent)" \
	test $((log_after - log_before)) -le 20
check "wrong key: gresecd in B still running" kill -0 "$PID_B"
stop_both wrong-key

# ---- PSK mismatch: the response fails at the initiator ----
echo "# ---- PSK mismatch ----"
ca="$TMPD/psk-a.conf" cb="$TMPD/psk-b.conf"
write_sconf "$ca" gre "$UL4_A" "$UL4_B" '"11.11.1.1/30"' '"11.11.1.2"' "$TMPD/a.key" "$PUB_B" \
	"preshared_key_file = \"$TMPD/psk1\";"
write_sconf "$cb" gre "$UL4_B" "$UL4_A" '"11.11.1.2/30"' '"11.11.1.1"' "$TMPD/b.key" "$PUB_A" \
	"preshared_key_file = \"$TMPD/psk2\";"
start_a "$ca"
start_b "$cb"
check "psk: ping A -> B fails" no_ping "$A" 11.11.1.2 4
check "psk: A is not established" eval '! state_is "$A" "$SOCK_A" established'
check "psk: B is not established" eval '! state_is "$B" "$SOCK_B" established'
got=$(( $(tunnel_field "$A" "$SOCK_A" gre1 drops.handshake) + $(tunnel_field "$B" "$SOCK_B" gre1 drops.handshake) ))
check "psk: failed handshake responses counted (handshake drops A+B: $got)" test "$got" -ge 1
check_eq "psk: B delivered nothing" "$(tunnel_field "$B" "$SOCK_B" gre1 rx_packets)" 0
check_eq "psk: A delivered nothing" "$(tunnel_field "$A" "$SOCK_A" gre1 rx_packets)" 0
stop_both psk
# Same PSK on both sides works.
ca="$TMPD/psk-same-a.conf" cb="$TMPD/psk-same-b.conf"
write_sconf "$ca" gre "$UL4_A" "$UL4_B" '"11.11.1.1/30"' '"11.11.1.2"' "$TMPD/a.key" "$PUB_B" \
	"preshared_key_file = \"$TMPD/psk1\";"
write_sconf "$cb" gre "$UL4_B" "$UL4_A" '"11.11.1.2/30"' '"11.11.1.1"' "$TMPD/b.key" "$PUB_A" \
	"preshared_key_file = \"$TMPD/psk1\";"
start_a "$ca"
start_b "$cb"
check "psk: with the same PSK on both sides, ping A -> B" pings "$A" 11.11.1.2 3
stop_both psk-same

# ---- SIGKILL one side and restart it: traffic back within seconds ----
echo "# ---- SIGKILL and restart ----"
ca="$TMPD/kill-a.conf" cb="$TMPD/kill-b.conf"
write_sconf "$ca" gre "$UL4_A" "$UL4_B" '"11.11.1.1/30"' '"11.11.1.2"' "$TMPD/a.key" "$PUB_B"
write_sconf "$cb" gre "$UL4_B" "$UL4_A" '"11.11.1.2/30"' '"11.11.1.1"' "$TMPD/b.key" "$PUB_A"
start_a "$ca"
start_b "$cb"
check "kill: ping A -> B before" pings "$A" 11.11.1.2 3
kill -KILL "$PID_B"
wait "$PID_B" 2>/dev/null
check "kill: gre1 gone from B with the killed process" wait_for link_gone "$B" gre1
T0=$(now)
start_b "$cb"
secs=$(seconds_until_ping "$A" 11.11.1.2 "$T0")
echo "# traffic A -> B back ${secs} s after the restart of B"
check "kill: traffic A -> B back within 10 s of B's restart (${secs} s)" secs_le "$secs" 10
check "kill: ping B -> A after the restart" pings "$B" 11.11.1.1 3
# The other way: kill A (the side B reaches), restart, B's pings return.
kill -KILL "$PID_A"
wait "$PID_A" 2>/dev/null
wait_for link_gone "$A" gre1
T0=$(now)
start_a "$ca"
secs=$(seconds_until_ping "$B" 11.11.1.1 "$T0")
echo "# traffic B -> A back ${secs} s after the restart of A"
check "kill: traffic B -> A back within 10 s of A's restart (${secs} s)" secs_le "$secs" 10
stop_both kill

# ---- roaming: A's underlay address changes during a ping ----
echo "# ---- roaming ----"
ca="$TMPD/roam-a.conf" cb="$TMPD/roam-b.conf"
# A binds any address (no local) and knows B; B knows no remote at all.
write_sconf "$ca" gre "" "$UL4_B" '"11.11.1.1/30"' '"11.11.1.2"' "$TMPD/a.key" "$PUB_B"
write_sconf "$cb" gre "$UL4_B" "" '"11.11.1.2/30"' '"11.11.1.1"' "$TMPD/b.key" "$PUB_A"
start_b "$cb"
start_a "$ca"
check "roam: ping A -> B before the move" pings "$A" 11.11.1.2 3
got=$(tunnel_field "$B" "$SOCK_B" gre1 endpoint)
check_eq "roam: B's endpoint is A's first address" "$got" "$UL4_A:51947"
# Keep 10.0.0.3 when 10.0.0.1 (the primary) goes.
ip netns exec "$A" sysctl -qw net.ipv4.conf.veth0.promote_secondaries=1
ip netns exec "$A" ping -q -c 100 -i 0.05 -W 1 11.11.1.2 >"$TMPD/roam.ping" 2>&1 &
ping_pid=$!
sleep 1.5
ip -n "$A" addr add 10.0.0.3/24 dev veth0 && ip -n "$A" addr del "$UL4_A/24" dev veth0 ||
	not_ok "roam: cannot move A's address"
wait "$ping_pid"
loss=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMPD/roam.ping")
echo "# roam: $(grep -m1 'packets transmitted' "$TMPD/roam.ping")"
check "roam: ping went on across the move (${loss:-?}/100 received, >= 95)" test "${loss:-0}" -ge 95
got=$(tunnel_field "$B" "$SOCK_B" gre1 endpoint)
check_eq "roam: B's endpoint followed A to its new address" "$got" "10.0.0.3:51947"
check "roam: B logged the move" grep -q "10.0.0.3" "$LOG_B"
check "roam: ping B -> A at the new address" pings "$B" 11.11.1.1 3
stop_both roam
ip -n "$A" addr add "$UL4_A/24" dev veth0
ip -n "$A" addr del 10.0.0.3/24 dev veth0

# ---- rekey during continuous traffic: nothing lost ----
echo "# ---- rekey every 3 s under traffic ----"
ca="$TMPD/rekey-a.conf" cb="$TMPD/rekey-b.conf"
T='rekey_after_time = 3; reject_after_time = 6;'
write_sconf "$ca" gre "$UL4_A" "$UL4_B" '"11.11.1.1/30"' '"11.11.1.2"' "$TMPD/a.key" "$PUB_B" "$T"
write_sconf "$cb" gre "$UL4_B" "$UL4_A" '"11.11.1.2/30"' '"11.11.1.1"' "$TMPD/b.key" "$PUB_A" "$T"
start_a "$ca"
start_b "$cb"
wait_for established_both
ip netns exec "$A" ping -q -c 300 -i 0.05 -W 2 11.11.1.2 >"$TMPD/rekey.ping" 2>&1 &
ping_pid=$!
max_age=0 samples=0
while kill -0 "$ping_pid" 2>/dev/null; do
	for side in A B; do
		if [ $side = A ]; then age=$(tunnel_field "$A" "$SOCK_A" gre1 latest_handshake_age)
		else age=$(tunnel_field "$B" "$SOCK_B" gre1 latest_handshake_age); fi
		case "$age" in ''|*[!0-9.]*) age=999 ;; esac
		max_age=$("$PY" -c 'import sys; print(max(float(a) for a in sys.argv[1:]))' "$age" "$max_age")
	done
	samples=$((samples + 1))
	sleep 0.5
done
wait "$ping_pid"
echo "# rekey: $(grep -m1 'packets transmitted' "$TMPD/rekey.ping")"
rcv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMPD/rekey.ping")
check "rekey: 300 pings over 15 s, at most 1 lost (${rcv:-?} received)" test "${rcv:-0}" -ge 299
# Rekeys come every REKEY_TIMEOUT (5 s, + jitter) at most; a keypair is
# refused after 6 s, so an age of 6 would mean a lapse.
check "rekey: latest_handshake_age stayed < 6 s over $samples samples (max $max_age)" \
	"$PY" -c "import sys; sys.exit(not $max_age < 6)"
n=$(grep -c 'session established' "$LOG_A" "$LOG_B" | awk -F: '{s += $2} END {print s}')
check "rekey: several handshakes completed ($n 'session established' lines)" test "$n" -ge 4
check_eq "rekey: A dropped nothing" "$(tunnel_field "$A" "$SOCK_A" gre1 drops_total)" 0
check_eq "rekey: B dropped nothing" "$(tunnel_field "$B" "$SOCK_B" gre1 drops_total)" 0
stop_both rekey

finish
