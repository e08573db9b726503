#!/bin/bash
# tests/netns/test_keepalive_hint.sh: the log hint for a plain-mode peer that
# sends traffic but never returns our GRE keepalives (a Linux peer without
# ip_forward / accept_local / a loose rp_filter does exactly that).
#
#   ns A                                   ns B
#   gresecd ── gre1 11.11.9.1/30 ┄┄ GRE ┄┄ raw IP-47 socket (python): the "peer"
#   veth0 10.0.0.1/24 ──────────────────── veth0 10.0.0.2/24
#
# A sends a keepalive every second (keepalive_retries 2).  The peer is
# first silent (carrier down, no hint: nothing says it is there), then
# sends GRE pings without returning keepalives (the hint, naming the
# sysctls, once at the 8th keepalive and not again before the 16th), and
# with a fresh daemon it returns them while sending (no hint).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
setup_test

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"

CA="$TMPD/a.conf"
{
	conf_daemon "$CA"
	echo 'tunnels = ( {'
	echo "  name = \"gre1\"; mode = \"plain\"; local = \"$UL4_A\"; remote = \"$UL4_B\";"
	echo '  address = "11.11.9.1/30"; peer_address = "11.11.9.2";'
	echo '  keepalive = 1; keepalive_retries = 2;'
	echo '} );'
} >"$CA"

PEER="$TMPD/peer.py"
cat >"$PEER" <<'EOF'
# peer.py MODE LOCAL REMOTE CTL: a GRE peer on a raw socket.  MODE is read
# from the file CTL on every step: "silent" (receive only), "talk" (a GRE
# ping from 11.11.9.2 to 11.11.9.1 every 0.2 s, keepalives kept), "reflect"
# (talk, and return keepalives as Linux with the sysctls set would).
import os, socket, struct, sys, time
local, remote, ctl = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
s.bind((local, 0))
s.setblocking(False)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    v = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while v >> 16:
        v = (v & 0xffff) + (v >> 16)
    return ~v & 0xffff

def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

seq = 0
next_ping = 0.0
while True:
    mode = open(ctl).read().strip()
    if mode == "stop":
        break
    now = time.monotonic()
    if mode in ("talk", "reflect") and now >= next_ping:
        seq += 1
        icmp = struct.pack("!BBHHH", 8, 0, 0, 4711, seq) + b"gresec-hint"
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        s.sendto(struct.pack("!HH", 0, 0x0800) + ipv4("11.11.9.2", "11.11.9.1", 1, icmp), (remote, 0))
        next_ping = now + 0.2
    try:
        pkt = s.recv(65535)
    except BlockingIOError:
        time.sleep(0.02)
        continue
    ihl = (pkt[0] & 15) * 4
    gre = pkt[ihl:]
    if len(gre) < 4 + 20 or struct.unpack("!H", gre[2:4])[0] != 0x0800:
        continue
    inner = gre[4:]
    # A keepalive: an inner IPv4 GRE packet addressed to the sender.
    if inner[9] == 47 and inner[16:20] == socket.inet_aton(remote) and mode == "reflect":
        s.sendto(inner[(inner[0] & 15) * 4:], (remote, 0))
EOF

CTL="$TMPD/peer.ctl"
echo silent >"$CTL"
nsx "$B" "$PY" "$PEER" "$UL4_B" "$UL4_A" "$CTL" &
BG_PIDS+=("$!")

HINT='the peer sends .* but returned none of our .* keepalives: a Linux peer returns them only with net.ipv4.ip_forward=1, and net.ipv4.conf.<its GRE interface>.accept_local=1 and rp_filter 0 or 2 on that interface'
hints() { grep -c "tunnel \"gre1\": $HINT" "$1"; }
sent() { tunnel_field "$A" "$SOCK_A" gre1 keepalives_sent; }

start_gresecd "$A" "$CA"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK LOG_A=$GRESECD_LOG

echo "# ---- a silent peer ----"
check "silent peer: carrier goes down" wait_for eval '[ "$(tunnel_field "$A" "$SOCK_A" gre1 carrier)" = false ]'
check "silent peer: 5 keepalives sent" wait_for eval '[ "$(sent)" -ge 5 ]'
check_eq "silent peer: no hint (nothing says the peer is there)" "$(hints "$LOG_A")" 0

echo "# ---- a peer that sends but does not return keepalives ----"
echo talk >"$CTL"
check "talking peer: its pings arrive" wait_for eval '[ "$(tunnel_field "$A" "$SOCK_A" gre1 rx_packets)" -ge 3 ]'
check "talking peer: the hint appears" wait_for eval '[ "$(hints "$LOG_A")" -ge 1 ]'
grep "tunnel \"gre1\": the peer sends" "$LOG_A" | head -n1 | sed 's/^/#   /'
check "talking peer: the hint came at the 8th keepalive" grep -q "returned none of our 8 keepalives" "$LOG_A"
WAIT_TIMEOUT=15 wait_for eval '[ "$(sent)" -ge 15 ]'
check_eq "talking peer: said once from the 8th to the 15th keepalive" "$(hints "$LOG_A")" 1
check_eq "talking peer: the carrier stays down" "$(tunnel_field "$A" "$SOCK_A" gre1 carrier)" false
stop_gresecd "$PID_A"

echo "# ---- a peer that returns keepalives ----"
echo reflect >"$CTL"
mv "$LOG_A" "$LOG_A.1"
start_gresecd "$A" "$CA"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK LOG_A=$GRESECD_LOG
check "returning peer: keepalives come back" \
	wait_for eval '[ "$(tunnel_field "$A" "$SOCK_A" gre1 keepalives_received)" -ge 1 ]'
check_eq "returning peer: carrier up" "$(tunnel_field "$A" "$SOCK_A" gre1 carrier)" true
WAIT_TIMEOUT=15 wait_for eval '[ "$(sent)" -ge 9 ]'
check_eq "returning peer: no hint" "$(hints "$LOG_A")" 0
echo stop >"$CTL"
stop_gresecd "$PID_A"
finish
