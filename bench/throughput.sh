#!/bin/bash
# bench/throughput.sh: throughput, latency and CPU cost of gresec against the
# bare veth and wireguard-go, between two network namespaces.
#
#   ns A                                               ns B
#   iperf3 -c, ping                                    iperf3 -s
#   gresecd / wireguard-go ── tunnel 11.11.N.1/30 ┄┄ 11.11.N.2/30 ── gresecd / wireguard-go
#   veth0 10.0.0.1/24 ─────────────────────────────── veth0 10.0.0.2/24
#
# One after the other, each setup alone on the machine: the bare veth (the
# limit), gresec plain mode (GRE over IP 47, no key/checksum/sequence),
# gresec secure mode (WireGuard, GRE inside), wireguard-go (user-space WireGuard
# over a TUN, MTU 1420 as every stock WireGuard; gresec secure mode is
# WireGuard too, with GRE inside: its tunnel MTU 1396 = 1420 - 20 - 4).  For each:
#   - ping RTT: BENCH_PINGS (200) pings at 10 ms, average and p99;
#   - iperf3 TCP, 1 stream and 4 streams, BENCH_TIME (10) seconds, with the
#     CPU seconds (utime+stime from /proc/PID/stat) the tunnel processes of
#     both sides used per GB carried;
#   - iperf3 UDP, BENCH_UDP_LEN (1400) byte datagrams at BENCH_UDP_RATE
#     (0 = as fast as the sender can), the rate that arrived and the loss.
# Then a table with each figure as a ratio to wireguard-go and to bare veth.
#
# A benchmark: it prints numbers and never fails (exit 0, also when it cannot
# run: not root, tools missing); a setup that does not come up is shown as
# n/a.  Everything it starts and the namespaces go away on exit (trap).
#
# Environment:
#   top_builddir   where gresecd and gresec are (default: the source tree)
#   BENCH_TIME=10 BENCH_PINGS=200 BENCH_UDP_LEN=1400 BENCH_UDP_RATE=0
#   BENCH_UDP_WINDOW=4M   iperf3 -w (socket buffers) for the UDP runs
#   BENCH_SETUPS="veth plain secure wg"   which setups, in this order
#   BENCH_ROUNDS=1    run the whole series this many times, the setups taking
#                     turns each round, and show the median of each figure:
#                     on a shared VM one run can be 20-30% off
#   BENCH_JSON=FILE   also write the results as JSON
#   BENCH_PERF=DIR    after the measurements, profile gresecd (both sides,
#                     plain and secure) during one more TCP 1-stream run:
#                     perf stat, perf record -g and syscall counts into DIR,
#                     with a summary printed
# wireguard-go and wg: apt-get install --no-install-recommends wireguard-go wireguard-tools
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
. "$top_srcdir/tests/netns/lib.sh"

BENCH_TIME=${BENCH_TIME:-10}
BENCH_PINGS=${BENCH_PINGS:-200}
BENCH_UDP_LEN=${BENCH_UDP_LEN:-1400}
BENCH_UDP_RATE=${BENCH_UDP_RATE:-0}
BENCH_UDP_WINDOW=${BENCH_UDP_WINDOW:-4M}
BENCH_SETUPS=${BENCH_SETUPS:-veth plain secure wg}
BENCH_ROUNDS=${BENCH_ROUNDS:-1}
IPERF_PORT=5201
CLK_TCK=$(getconf CLK_TCK)
WG_MTU=1420

# lib.sh's fail() exits 1; a benchmark reports and goes on instead.
fail()
{
	echo "bench: $*" >&2
	return 1
}

cannot_run()
{
	echo "bench: cannot run: $*; nothing measured"
	exit 0
}

[ "$(id -u)" = 0 ] || cannot_run "needs root (network namespaces)"
[ -c /dev/net/tun ] || cannot_run "/dev/net/tun missing"
for tool in ip iperf3 ping; do
	command -v "$tool" >/dev/null 2>&1 || cannot_run "$tool not installed"
done
HAVE_WG=1
if ! command -v wireguard-go >/dev/null 2>&1 || ! command -v wg >/dev/null 2>&1; then
	echo "bench: wireguard-go or wg missing (apt-get install wireguard-go wireguard-tools):" \
		"its column will be n/a" >&2
	HAVE_WG=0
fi
HAVE_GRESEC=1
if [ ! -x "$GRESECD" ] || [ ! -x "$GRESEC" ]; then
	echo "bench: gresecd/gresec not built in $top_builddir (set top_builddir):" \
		"gresec columns will be n/a" >&2
	HAVE_GRESEC=0
fi

setup_test
A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B" || cannot_run "the veth pair between two namespaces does not work"
RESULTS="$TMPD/results.tsv"
: >"$RESULTS"

# record SETUP METRIC VALUE
record()
{
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"
}

# cpu_ticks PID...: utime+stime of the processes (all their threads), in
# clock ticks.  Fields 14 and 15 of /proc/PID/stat, counted after the
# parenthesised command name, which may itself hold spaces.
cpu_ticks()
{
	local pid sum=0 rest

	for pid in "$@"; do
		rest=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
		set -- $rest
		sum=$((sum + ${12} + ${13}))
	done
	echo "$sum"
}

# A python one-liner over JSON with only the standard library.
pyjson()
{
	"$PY" -c "$1" "${@:2}"
}

# run_ping SETUP DST: RTT average and p99 in ms.
run_ping()
{
	local setup=$1 dst=$2 out

	out=$(ip netns exec "$A" ping -n -c "$BENCH_PINGS" -i 0.01 -W 1 "$dst" 2>/dev/null)
	pyjson '
import re, sys
rtts = sorted(float(m) for m in re.findall(r"time=([0-9.]+) ms", sys.stdin.read()))
if not rtts:
    print("n/a n/a 100")
else:
    p99 = rtts[min(len(rtts) - 1, max(0, -(-99 * len(rtts) // 100) - 1))]
    n = int(sys.argv[1])
    print("%.3f %.3f %.1f" % (sum(rtts) / len(rtts), p99, 100.0 * (n - len(rtts)) / n))
' "$BENCH_PINGS" <<<"$out" | {
		read -r avg p99 loss
		record "$setup" rtt_avg "$avg"
		record "$setup" rtt_p99 "$p99"
		record "$setup" ping_loss "$loss"
		echo "  ping: avg $avg ms, p99 $p99 ms, loss $loss %"
	}
}

# run_tcp SETUP DST STREAMS PID...: iperf3 TCP, Mbit/s received and the
# CPU seconds per GB of the tunnel processes PID... (none: n/a).
run_tcp()
{
	local setup=$1 dst=$2 streams=$3 before after json mbps bytes cpu
	shift 3

	before=$(cpu_ticks "$@")
	json=$(ip netns exec "$A" iperf3 -c "$dst" -p "$IPERF_PORT" -t "$BENCH_TIME" \
		-P "$streams" -J 2>/dev/null)
	after=$(cpu_ticks "$@")
	read -r mbps bytes < <(pyjson '
import json, sys
try:
    s = json.loads(sys.stdin.read())["end"]["sum_received"]
    print("%.1f %d" % (s["bits_per_second"] / 1e6, s["bytes"]))
except Exception:
    print("n/a 0")
' <<<"$json")
	cpu=n/a
	if [ $# -gt 0 ] && [ "${bytes:-0}" -gt 0 ]; then
		cpu=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v b="$bytes" \
			'BEGIN { printf "%.2f", (t / hz) / (b / 1e9) }')
	fi
	record "$setup" "tcp$streams" "$mbps"
	record "$setup" "tcp${streams}_cpu" "$cpu"
	echo "  tcp $streams stream(s): $mbps Mbit/s, tunnel CPU $cpu s/GB" \
		"($((after - before)) ticks for $bytes bytes)"
}

# Packets the kernel dropped on $TUNDEV in A for want of queue room (a
# TUN's queue overflows when the daemon reads too slowly).
tx_dropped()
{
	ip -n "$A" -s -j link show dev "$TUNDEV" 2>/dev/null |
		pyjson 'import json, sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["dropped"])' 2>/dev/null ||
		echo 0
}

# run_udp SETUP DST: iperf3 UDP, Mbit/s that arrived and the loss.
run_udp()
{
	local setup=$1 dst=$2 json mbps loss drops0 drops1

	drops0=$(tx_dropped)
	json=$(ip netns exec "$A" iperf3 -c "$dst" -p "$IPERF_PORT" -u -b "$BENCH_UDP_RATE" \
		-w "$BENCH_UDP_WINDOW" -l "$BENCH_UDP_LEN" -t "$BENCH_TIME" -J 2>/dev/null)
	read -r mbps loss sent < <(pyjson '
import json, sys
try:
    e = json.loads(sys.stdin.read())["end"]
    s = e["sum"]
    secs = s["seconds"] or 1
    got = (s["packets"] - s["lost_packets"]) * int(sys.argv[1]) * 8 / secs / 1e6
    sent = s["packets"] * int(sys.argv[1]) * 8 / secs / 1e6
    print("%.1f %.2f %.1f" % (got, s["lost_percent"], sent))
except Exception:
    print("n/a n/a n/a")
' "$BENCH_UDP_LEN" <<<"$json")
	drops1=$(tx_dropped)
	record "$setup" udp "$mbps"
	record "$setup" udp_loss "$loss"
	echo "  udp ${BENCH_UDP_LEN} B: $mbps Mbit/s arrived of $sent sent, loss $loss %" \
		"($((drops1 - drops0)) dropped at the sender's $TUNDEV queue)"
}

# measure SETUP DST PID...: the whole series over one setup.
measure()
{
	local setup=$1 dst=$2
	shift 2

	if ! wait_for nsx "$A" ping -c1 -W1 -q "$dst" >/dev/null 2>&1; then
		echo "  $dst does not answer through $setup: n/a" >&2
		return 1
	fi
	record "$setup" mtu "$(ip -n "$A" -o link show dev "$TUNDEV" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')"
	run_ping "$setup" "$dst"
	sleep 1
	run_tcp "$setup" "$dst" 1 "$@"
	sleep 1
	run_tcp "$setup" "$dst" 4 "$@"
	sleep 1
	run_udp "$setup" "$dst"
	sleep 1
}

daemon_conf_head()
{
	printf 'daemon: { control_socket = "%s"; pid_file = "%s"; log_level = "info"; };\n' \
		"$(conf_sock "$1")" "$(conf_pidfile "$1")"
}

# write_gresec_conf FILE MODE LOCAL REMOTE ADDR PEER [KEY PEERPUB]
write_gresec_conf()
{
	local file=$1 mode=$2 local_ul=$3 remote_ul=$4 addr=$5 peer=$6 key=$7 pub=$8

	{
		daemon_conf_head "$file"
		echo 'tunnels = ( {'
		echo "  name = \"gre1\"; mode = \"$mode\"; type = \"gre\";"
		echo "  local = \"$local_ul\"; remote = \"$remote_ul\";"
		echo "  address = ( \"$addr/30\" ); peer_address = ( \"$peer\" );"
		if [ "$mode" = secure ]; then
			echo "  private_key_file = \"$key\";"
			echo "  peer_public_key = \"$pub\";"
		fi
		echo '} );'
	} >"$file"
}

# start_gresec_pair MODE NET: gresecd in A and B, tunnel gre1 with
# 11.11.NET.1 and .2; sets PID_A PID_B.
start_gresec_pair()
{
	local mode=$1 net=$2 pub_a pub_b

	if [ "$mode" = secure ]; then
		(umask 077 && "$GRESEC" genkey >"$TMPD/a.key" && "$GRESEC" genkey >"$TMPD/b.key") ||
			return 1
		pub_a=$("$GRESEC" pubkey <"$TMPD/a.key") && pub_b=$("$GRESEC" pubkey <"$TMPD/b.key") ||
			return 1
	fi
	write_gresec_conf "$TMPD/$mode-a.conf" "$mode" "$UL4_A" "$UL4_B" "11.11.$net.1" \
		"11.11.$net.2" "$TMPD/a.key" "$pub_b"
	write_gresec_conf "$TMPD/$mode-b.conf" "$mode" "$UL4_B" "$UL4_A" "11.11.$net.2" \
		"11.11.$net.1" "$TMPD/b.key" "$pub_a"
	start_gresecd "$A" "$TMPD/$mode-a.conf"
	PID_A=$GRESECD_PID
	start_gresecd "$B" "$TMPD/$mode-b.conf"
	PID_B=$GRESECD_PID
	kill -0 "$PID_A" 2>/dev/null && kill -0 "$PID_B" 2>/dev/null
}

stop_pair()
{
	kill -TERM "$PID_A" "$PID_B" 2>/dev/null
	wait "$PID_A" "$PID_B" 2>/dev/null
}

wg_up()
{
	[ -S "/var/run/wireguard/$1.sock" ]
}

# start_wg_pair NET: wireguard-go in A and B (devices wg<pid>a/b, names
# unique so that their UAPI sockets in /var/run/wireguard do not clash).
start_wg_pair()
{
	local net=$1 ka kb pa pb

	WG_A="wg$$a" WG_B="wg$$b"
	ka=$(wg genkey) && kb=$(wg genkey) || return 1
	pa=$(wg pubkey <<<"$ka") && pb=$(wg pubkey <<<"$kb") || return 1
	printf '%s\n' "$ka" >"$TMPD/wg-a.key"
	printf '%s\n' "$kb" >"$TMPD/wg-b.key"
	chmod 600 "$TMPD/wg-a.key" "$TMPD/wg-b.key"
	ip netns exec "$A" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$WG_A" \
		>"$TMPD/wg-a.log" 2>&1 &
	PID_A=$!
	BG_PIDS+=("$PID_A")
	ip netns exec "$B" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$WG_B" \
		>"$TMPD/wg-b.log" 2>&1 &
	PID_B=$!
	BG_PIDS+=("$PID_B")
	wait_for wg_up "$WG_A" && wait_for wg_up "$WG_B" || return 1
	ip netns exec "$A" wg set "$WG_A" listen-port 51820 private-key "$TMPD/wg-a.key" \
		peer "$pb" endpoint "$UL4_B:51820" allowed-ips "11.11.$net.2/32" &&
	ip netns exec "$B" wg set "$WG_B" listen-port 51820 private-key "$TMPD/wg-b.key" \
		peer "$pa" endpoint "$UL4_A:51820" allowed-ips "11.11.$net.1/32" &&
	ip -n "$A" addr add "11.11.$net.1/30" dev "$WG_A" &&
	ip -n "$B" addr add "11.11.$net.2/30" dev "$WG_B" &&
	ip -n "$A" link set "$WG_A" mtu "$WG_MTU" up &&
	ip -n "$B" link set "$WG_B" mtu "$WG_MTU" up
}

ip netns exec "$B" iperf3 -s -p "$IPERF_PORT" >"$TMPD/iperf3-server.log" 2>&1 &
BG_PIDS+=("$!")
iperf_listens() { ip netns exec "$B" ss -Hltn "sport = :$IPERF_PORT" | grep -q .; }
wait_for iperf_listens || cannot_run "iperf3 server in $B does not listen"

echo "# gresec throughput benchmark: $(nproc) CPUs," \
	"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $BENCH_TIME s per iperf3 run, $BENCH_PINGS pings, UDP $BENCH_UDP_LEN B at" \
	"$([ "$BENCH_UDP_RATE" = 0 ] && echo "max rate" || echo "$BENCH_UDP_RATE")"
for round in $(seq 1 "$BENCH_ROUNDS"); do
[ "$BENCH_ROUNDS" -gt 1 ] && echo "# round $round of $BENCH_ROUNDS"
for setup in $BENCH_SETUPS; do
	case $setup in
	veth)
		echo "bare veth:"
		TUNDEV=veth0
		measure veth "$UL4_B"
		;;
	plain|secure)
		echo "gresec $setup:"
		if [ "$HAVE_GRESEC" = 1 ] && start_gresec_pair "$setup" "$([ "$setup" = plain ] && echo 1 || echo 2)"; then
			TUNDEV=gre1
			measure "$setup" "11.11.$([ "$setup" = plain ] && echo 1 || echo 2).2" "$PID_A" "$PID_B" ||
				tail -n 20 "$(conf_log "$TMPD/$setup-a.conf")" "$(conf_log "$TMPD/$setup-b.conf")" >&2
		else
			echo "  gresecd did not start: n/a" >&2
		fi
		stop_pair
		;;
	wg)
		echo "wireguard-go:"
		if [ "$HAVE_WG" = 1 ] && start_wg_pair 3; then
			TUNDEV=$WG_A
			measure wg 11.11.3.2 "$PID_A" "$PID_B" ||
				tail -n 20 "$TMPD/wg-a.log" "$TMPD/wg-b.log" >&2
		else
			echo "  wireguard-go did not start: n/a" >&2
			tail -n 20 "$TMPD/wg-a.log" "$TMPD/wg-b.log" 2>/dev/null >&2
		fi
		stop_pair
		;;
	*)
		echo "bench: unknown setup '$setup' (veth plain secure wg)" >&2
		;;
	esac
done
done

# The table: each figure, then its ratio to wireguard-go and to bare veth.
echo
pyjson '
import json, sys
rows = [("mtu", "MTU (bytes)"),
        ("tcp1", "TCP 1 stream (Mbit/s)"), ("tcp4", "TCP 4 streams (Mbit/s)"),
        ("udp", "UDP arrived (Mbit/s)"), ("udp_loss", "UDP loss (%)"),
        ("rtt_avg", "ping RTT avg (ms)"), ("rtt_p99", "ping RTT p99 (ms)"),
        ("tcp1_cpu", "CPU s/GB, TCP 1 stream"), ("tcp4_cpu", "CPU s/GB, TCP 4 streams")]
cols = [("veth", "bare veth"), ("plain", "gresec plain"), ("secure", "gresec secure"),
        ("wg", "wireguard-go")]
runs = {}
for line in open(sys.argv[1]):
    s, m, v = line.rstrip("\n").split("\t")
    runs.setdefault(s, {}).setdefault(m, []).append(v)
def median(vals):
    """The middle one of the rounds (the lower middle for an even count),
    as it was printed; n/a only when no round has a number."""
    nums = []
    for v in vals:
        try:
            nums.append((float(v), v))
        except ValueError:
            pass
    if not nums:
        return vals[0]
    nums.sort()
    return nums[(len(nums) - 1) // 2][1]
res = {s: {m: median(v) for m, v in ms.items()} for s, ms in runs.items()}
rounds = max((len(v) for ms in runs.values() for v in ms.values()), default=1)
def num(s, m):
    try:
        return float(res[s][m])
    except (KeyError, ValueError):
        return None
def ratio(v, ref):
    if v is None or ref is None or ref == 0:
        return "  -  "
    return "%.2f" % (v / ref)
w = 24
print("%-26s" % "figure" + "".join("%*s" % (w, c[1]) for c in cols))
for key, label in rows:
    cells = []
    for s, _ in cols:
        v = res.get(s, {}).get(key, "n/a")
        if key in ("mtu",):
            cells.append(v)
        else:
            cells.append("%s (%s|%s)" % (v, ratio(num(s, key), num("wg", key)),
                                          ratio(num(s, key), num("veth", key))))
    print("%-26s" % label + "".join("%*s" % (w, c) for c in cells))
print("(x|y): x = ratio to wireguard-go, y = ratio to bare veth; CPU s/GB = utime+stime of")
print("the tunnel processes of both sides per GB received (bare veth: kernel only, n/a)")
if rounds > 1:
    print("each figure: the median of %d rounds" % rounds)
if sys.argv[2]:
    with open(sys.argv[2], "w") as f:
        json.dump({"median": res, "rounds": runs}, f, indent=1, sort_keys=True)
' "$RESULTS" "${BENCH_JSON:-}"

# ---- optional profile of gresecd ----
# The system calls to count, those of them this kernel has tracepoints for.
perf_syscall_events()
{
	local sc ev list="raw_syscalls:sys_enter"

	for sc in read write readv writev sendto recvfrom sendmsg recvmsg sendmmsg recvmmsg \
		epoll_wait epoll_pwait poll ppoll; do
		ev="syscalls:sys_enter_$sc"
		perf list 2>/dev/null | grep -q "$ev " && list="$list,$ev"
	done
	echo "$list"
}

# profile_run MODE DST: during one TCP 1-stream run each, perf stat (CPU
# time, context switches, system calls per packet from the daemon's own
# counters) and perf record -g of both gresecd, then the top symbols.
profile_run()
{
	local mode=$1 dst=$2 dir=$BENCH_PERF events s1 s2 side pid sock pkts0 pkts1 field

	echo "profile of gresec $mode (files in $dir/$mode-*):"
	events="task-clock,context-switches,cpu-migrations,page-faults,$(perf_syscall_events)"
	SOCK_A=$(conf_sock "$TMPD/$mode-a.conf") SOCK_B=$(conf_sock "$TMPD/$mode-b.conf")
	pkts0=$(tunnel_field "$A" "$SOCK_A" gre1 tx_packets):$(tunnel_field "$B" "$SOCK_B" gre1 rx_packets)
	perf stat -e "$events" -p "$PID_A" -o "$dir/$mode-a.stat" -- sleep "$BENCH_TIME" &
	s1=$!
	perf stat -e "$events" -p "$PID_B" -o "$dir/$mode-b.stat" -- sleep "$BENCH_TIME" &
	s2=$!
	ip netns exec "$A" iperf3 -c "$dst" -p "$IPERF_PORT" -t "$BENCH_TIME" -J \
		>"$dir/$mode-stat.iperf.json" 2>/dev/null
	wait "$s1" "$s2"
	pkts1=$(tunnel_field "$A" "$SOCK_A" gre1 tx_packets):$(tunnel_field "$B" "$SOCK_B" gre1 rx_packets)
	perf record -g -F 999 -p "$PID_A" -o "$dir/$mode-a.perf.data" -- sleep "$BENCH_TIME" \
		>/dev/null 2>&1 &
	s1=$!
	perf record -g -F 999 -p "$PID_B" -o "$dir/$mode-b.perf.data" -- sleep "$BENCH_TIME" \
		>/dev/null 2>&1 &
	s2=$!
	ip netns exec "$A" iperf3 -c "$dst" -p "$IPERF_PORT" -t "$BENCH_TIME" -J \
		>"$dir/$mode-record.iperf.json" 2>/dev/null
	wait "$s1" "$s2"
	for side in a b; do
		if [ "$side" = a ]; then
			field=1
			echo "  side A, sender (TUN read, encap, send); per data packet sent:"
		else
			field=2
			echo "  side B, receiver (receive, decap, TUN write); per data packet received:"
		fi
		awk -v p0="$(cut -d: -f$field <<<"$pkts0")" -v p1="$(cut -d: -f$field <<<"$pkts1")" '
			{ gsub(",", "", $1); n = $1 + 0; p = p1 - p0 }
			p > 0 && $3 == "task-clock" {
				printf "    %-34s %10.2f us (%s CPUs)\n", "CPU time", n * 1000 / p, $5
			}
			p > 0 && n > 0 && $2 ~ /^(context-switches|raw_syscalls:sys_enter|syscalls:)/ {
				printf "    %-34s %10.3f\n", $2, n / p
			}' "$dir/$mode-$side.stat"
		echo "    ($(( $(cut -d: -f$field <<<"$pkts1") - $(cut -d: -f$field <<<"$pkts0") )) packets);" \
			"where the time goes (perf record, cpu-clock):"
		perf report -i "$dir/$mode-$side.perf.data" --stdio --no-children \
			--sort dso -g none --percent-limit 0.5 2>/dev/null |
			grep -E '^ +[0-9]' | sed 's/  *$//; s/^/    /'
		echo "    by entry point (with callees; softirq work runs inside system calls):"
		perf report -i "$dir/$mode-$side.perf.data" --stdio --children \
			--sort symbol -g none --percent-limit 1 2>/dev/null |
			grep -E '\] (__sys_sendmsg|__sys_sendmmsg|__sys_sendto|ksys_read|ksys_write|__x64_sys_recvmmsg|do_epoll_wait|handle_softirqs|tcp_write_xmit|crypto_aead_[a-z0-9_]+|gre_encap|gre_decap|inet_checksum) ' |
			head -n 20 | sed 's/  *- *- *$//; s/  *$//; s/^/    /'
		echo "    hottest symbols (self):"
		perf report -i "$dir/$mode-$side.perf.data" --stdio --no-children \
			--sort dso,symbol -g none --percent-limit 1.5 2>/dev/null |
			grep -E '^ +[0-9]' | head -n 12 | sed 's/  *- *- *$//; s/  *$//; s/^/    /'
	done
}

if [ -n "$BENCH_PERF" ] && [ "$HAVE_GRESEC" = 1 ]; then
	if ! command -v perf >/dev/null 2>&1; then
		echo "bench: BENCH_PERF set but perf is not installed" >&2
	else
		mkdir -p "$BENCH_PERF"
		for mode in plain secure; do
			net=$([ "$mode" = plain ] && echo 1 || echo 2)
			if start_gresec_pair "$mode" "$net" &&
				wait_for nsx "$A" ping -c1 -W1 -q "11.11.$net.2" >/dev/null 2>&1; then
				profile_run "$mode" "11.11.$net.2"
			else
				echo "  gresec $mode did not come up: no profile" >&2
			fi
			stop_pair
		done
	fi
fi
exit 0
