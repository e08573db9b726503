#!/bin/bash
# bench/scale.sh: a hub with thousands of tunnels on one gresecd.
#
#   ns hub                                              ns spokes
#   gresecd: N/2 secure tunnels s0000.. on UDP 51820    gresecd: the other ends, one
#            (one spoke key each), N/2 plain tunnels        private key per secure tunnel,
#            p0000.. (GRE key k+1 each)                     each on a UDP port of its own
#   veth0 10.0.0.1/24 ───────────────────────────────── veth0 10.0.0.2/24
#
# Tunnel k: hub side 10.64.(k/256).(k%256)/32, spoke side 10.65.(k/256).(k%256)/32
# (the unnumbered form, point-to-point).  Both namespaces forward (IPv4 and
# IPv6), as routers do.  Secure tunnels come first
# (k < N/2), then plain ones.  No persistent keepalives unless
# SCALE_KEEPALIVE=S (then every secure tunnel of the hub sends one every S
# seconds, by design a wake-up per tunnel).
#
# For each N in SCALE_N (default "256 1024 4096"): the spoke daemon is started
# first (and its interfaces left to settle: no IPv6 address tentative; IPv6
# is off on the spokes' tunnels unless SCALE_SPOKE_IPV6=1, see below), then
# the hub, and it measures on the hub:
#   start      seconds from exec to the first answer on the control socket
#              (all tunnels set up: the loop runs only after that)
#   estab      seconds from exec until `gresec show --json` lists every secure
#              tunnel as established
#   rss        VmRSS in MiB, and per tunnel: (VmRSS - VmRSS of a hub with no
#              tunnels) / N, in KiB
#   fds        open file descriptors
#   idle cpu   utime+stime over SCALE_IDLE (30) seconds with no traffic, as a
#              share of one CPU, and the wake-ups (context switches) per second
#   ping       one ping from the spoke side through each of SCALE_SAMPLE (16)
#              tunnels of each mode, spread over the range: answered/sent
#   reload     `gresec reload` with the file unchanged, then with one tunnel
#              changed (a route added: updated in place), seconds; and how
#              many tunnels the daemon said it touched
#   show       `gresec show --json` (all tunnels) and `gresec show NAME`, seconds
# then a table.  SCALE_SMAPS=1 also prints the hub's memory by mapping
# (/proc/PID/smaps) at the largest N.
#
# A benchmark: it prints numbers and never fails (exit 0, also when it cannot
# run).  Everything it starts and the namespaces go away on exit.
#   top_builddir=/path/to/build bench/scale.sh
#   top_builddir=/path/to/build SCALE_N="256 1024" SCALE_IDLE=10 bench/scale.sh
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
. "$top_srcdir/tests/netns/lib.sh"

SCALE_N=${SCALE_N:-256 1024 4096}
SCALE_IDLE=${SCALE_IDLE:-30}
SCALE_SETTLE=${SCALE_SETTLE:-5}
SCALE_SAMPLE=${SCALE_SAMPLE:-16}
SCALE_KEEPALIVE=${SCALE_KEEPALIVE:-0}
SCALE_TIMEOUT=${SCALE_TIMEOUT:-120}
HUB_PORT=51820
SPOKE_PORT0=20000
CLK_TCK=$(getconf CLK_TCK)

fail()
{
	echo "scale: $*" >&2
	return 1
}

cannot_run()
{
	echo "scale: cannot run: $*; nothing measured"
	exit 0
}

[ "$(id -u)" = 0 ] || cannot_run "needs root (network namespaces)"
[ -c /dev/net/tun ] || cannot_run "/dev/net/tun missing"
[ -x "$GRESECD" ] && [ -x "$GRESEC" ] || cannot_run "gresecd/gresec not built in $top_builddir (set top_builddir)"
max_n=0
for n in $SCALE_N; do
	[ "$n" -ge 2 ] && [ $((n % 2)) = 0 ] || cannot_run "SCALE_N: $n is not an even number >= 2"
	[ "$n" -gt "$max_n" ] && max_n=$n
done
# Two daemons with N TUN devices each, the spoke one with N/2 UDP sockets too.
ulimit -n $((max_n * 2 + 256)) 2>/dev/null ||
	echo "scale: cannot raise the open file limit to $((max_n * 2 + 256)): $(ulimit -n) (the daemons try themselves)"

setup_test
HUB=$(ns_name hub)
SPK=$(ns_name spk)
make_pair "$HUB" "$SPK" || cannot_run "the veth pair between two namespaces does not work"
# Both ends are routers, as a hub and its branches are: IPv6 forwarding on
# (a router sends no router solicitations, which a host repeats on every
# interface with a backoff up to an hour: traffic through every tunnel).
for ns in "$HUB" "$SPK"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv6.conf.default.forwarding=1
done
# The spokes stand for N/2 + N/2 machines: on one machine their interfaces'
# IPv6 costs the kernel more per interface the more there are (each
# carrier change walks every IPv6 route of the namespace under the rtnl
# lock, which the hub needs too), which in the field is spread over the
# branches.  Off in the spokes' namespace unless SCALE_SPOKE_IPV6=1; the
# hub keeps IPv6 on every tunnel.
if [ "${SCALE_SPOKE_IPV6:-0}" != 1 ]; then
	ip netns exec "$SPK" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
fi
RESULTS=$TMPD/results.tsv
: >"$RESULTS"

cpu_ticks()
{
	local rest
	rest=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	set -- $rest
	echo $(($12 + $13))
}

ctx_switches()
{
	awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' "/proc/$1/status" 2>/dev/null
}

rss_kb()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# Keys: the hub's, and one per spoke tunnel, made once for the largest N.
KEYS=$TMPD/keys
mkdir -p "$KEYS" && chmod 700 "$KEYS"
(umask 077 && "$GRESEC" genkey >"$KEYS/hub.key") || cannot_run "gresec genkey"
HUB_PUB=$("$GRESEC" pubkey <"$KEYS/hub.key")
echo "# scale: making $((max_n / 2)) spoke keys"
for ((k = 0; k < max_n / 2; k++)); do
	(umask 077 && "$GRESEC" genkey >"$KEYS/s$k.key")
	"$GRESEC" pubkey <"$KEYS/s$k.key" >"$KEYS/s$k.pub"
done

# write_confs N HUB_CONF SPOKE_CONF [CHANGED]: both ends' files; CHANGED
# adds a route to the hub's first secure tunnel.
write_confs()
{
	"$PY" - "$@" "$KEYS" "$HUB_PUB" "$HUB_PORT" "$SPOKE_PORT0" "$SCALE_KEEPALIVE" <<'EOF'
import sys
n, hub, spoke, changed, keys, hub_pub, hub_port, sport0, ka = sys.argv[1:10]
n, hub_port, sport0, ka = int(n), int(hub_port), int(sport0), int(ka)
half = n // 2

def daemon(f, path):
    base = path[:-5]
    f.write('daemon: { control_socket = "%s.sock"; pid_file = "%s.pid"; log_level = "info"; };\n'
            % (base, base))

def addr(net, k):
    return "10.%d.%d.%d" % (net, k >> 8, k & 255)

for side, path in (("hub", hub), ("spoke", spoke)):
    me, other = (64, 65) if side == "hub" else (65, 64)
    with open(path, "w") as f:
        daemon(f, path)
        f.write("tunnels = (\n")
        items = []
        for k in range(n):
            t = ['name = "%s%04d"' % ("s" if k < half else "p", k if k < half else k - half),
                 'type = "gre"',
                 'address = "%s/32"' % addr(me, k), 'peer_address = "%s"' % addr(other, k)]
            if side == "hub":
                t += ['local = "10.0.0.1"', 'remote = "10.0.0.2"']
            else:
                t += ['local = "10.0.0.2"', 'remote = "10.0.0.1"']
            if k < half:
                pub = open("%s/s%d.pub" % (keys, k)).read().strip()
                t += ['mode = "secure"']
                if side == "hub":
                    t += ['port = %d' % hub_port, 'remote_port = %d' % (sport0 + k),
                          'private_key_file = "%s/hub.key"' % keys, 'peer_public_key = "%s"' % pub]
                    if ka:
                        t += ['persistent_keepalive = %d' % ka]
                    if changed == "1" and k == 0:
                        t += ['routes = ( "10.99.0.0/24" )']
                else:
                    t += ['port = %d' % (sport0 + k), 'remote_port = %d' % hub_port,
                          'private_key_file = "%s/s%d.key"' % (keys, k),
                          'peer_public_key = "%s"' % hub_pub]
            else:
                t += ['mode = "plain"', 'key = %d' % (k - half + 1)]
            items.append("  { " + "; ".join(t) + "; }")
        f.write(",\n".join(items))
        f.write("\n);\n")
EOF
}

# start_timed NS CONF: start gresecd -f; START_S = the seconds until its
# control socket first answers (n/a: it did not); sets PID_STARTED and T0.
start_timed()
{
	local ns=$1 conf=$2 sock log
	sock=$(conf_sock "$conf") log=$(conf_log "$conf")
	T0=$(date +%s.%N)
	ip netns exec "$ns" "$GRESECD" -f -c "$conf" >"$log" 2>&1 &
	PID_STARTED=$!
	DAEMON_PIDS+=("$PID_STARTED")
	DAEMON_LOGS+=("$log")
	local deadline=$((SECONDS + SCALE_TIMEOUT))
	while ! ip netns exec "$ns" "$GRESEC" -s "$sock" show --json s0000 >/dev/null 2>&1; do
		kill -0 "$PID_STARTED" 2>/dev/null || { START_S=n/a; return 1; }
		[ "$SECONDS" -ge "$deadline" ] && { START_S=n/a; return 1; }
		sleep 0.01
	done
	START_S=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
}

# established_after NS SOCK HALF: seconds from T0 until HALF secure tunnels
# are established (polls `gresec show --json`).
established_after()
{
	"$PY" - "$GRESEC" "$2" "$1" "$3" "$T0" "$SCALE_TIMEOUT" <<'EOF'
import json, subprocess, sys, time
gresec, sock, ns, half, t0, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
while True:
    out = subprocess.run(["ip", "netns", "exec", ns, gresec, "-s", sock, "show", "--json"],
                         capture_output=True, text=True).stdout
    try:
        n = sum(1 for t in json.loads(out)["tunnels"]
                if t["mode"] == "secure" and t["state"] == "established")
    except ValueError:
        n = -1
    now = time.time()
    if n >= half:
        print("%.2f" % (now - t0))
        break
    if now - t0 > limit:
        print("n/a(%d)" % n)
        break
    time.sleep(0.1)
EOF
}

timed()
{
	local t0
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
}

stop_daemon()
{
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# A hub without tunnels: the base RSS.
EMPTY=$TMPD/empty.conf
{ printf 'daemon: { control_socket = "%s"; pid_file = "%s"; };\n' "$(conf_sock "$EMPTY")" \
	"$(conf_pidfile "$EMPTY")"; echo 'tunnels = ( );'; } >"$EMPTY"
ip netns exec "$HUB" "$GRESECD" -f -c "$EMPTY" >"$(conf_log "$EMPTY")" 2>&1 &
pid=$!
DAEMON_PIDS+=("$pid")
wait_for ip netns exec "$HUB" "$GRESEC" -s "$(conf_sock "$EMPTY")" show >/dev/null 2>&1
RSS0=$(rss_kb "$pid")
stop_daemon "$pid"
echo "# scale: a hub without tunnels: VmRSS $RSS0 KiB"

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }

for N in $SCALE_N; do
	half=$((N / 2))
	echo "# scale: N=$N ($half secure on port $HUB_PORT, $half plain)"
	HC=$TMPD/hub-$N.conf SC=$TMPD/spoke-$N.conf
	write_confs "$N" "$HC" "$SC" 0
	start_timed "$SPK" "$SC" || { echo "# scale: the spoke daemon did not start"; tail -5 "$(conf_log "$SC")"; continue; }
	PID_S=$PID_STARTED
	echo "# spoke daemon up in $START_S s"
	# The spokes stand for other machines: let their namespace's kernel
	# finish bringing N interfaces up (IPv6 duplicate address detection
	# takes the rtnl lock the hub's start needs) before the hub starts.
	settle_end=$((SECONDS + 60))
	while [ -n "$(ip -n "$SPK" -6 addr show tentative 2>/dev/null | head -1)" ] &&
		[ "$SECONDS" -lt "$settle_end" ]; do
		sleep 0.5
	done
	sleep 2
	start_timed "$HUB" "$HC"
	start=$START_S PID_H=$PID_STARTED
	record "$N" start "$start"
	if [ "$start" = n/a ]; then
		echo "# scale: the hub did not start"; tail -5 "$(conf_log "$HC")"
		stop_daemon "$PID_S"
		continue
	fi
	HS=$(conf_sock "$HC")
	est=$(established_after "$HUB" "$HS" "$half")
	record "$N" estab "$est"
	echo "# hub up in $start s, all $half sessions established after $est s"
	sleep "$SCALE_SETTLE"
	rss=$(rss_kb "$PID_H")
	record "$N" rss_mib "$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }')"
	record "$N" rss_per_tunnel_kib "$(awk -v r="$rss" -v z="$RSS0" -v n="$N" 'BEGIN { printf "%.1f", (r - z) / n }')"
	record "$N" fds "$(ls "/proc/$PID_H/fd" | wc -l)"
	record "$N" maps "$(wc -l <"/proc/$PID_H/maps")"
	if [ "${SCALE_SMAPS:-0}" = 1 ] && [ "$N" = "$max_n" ]; then
		echo "# hub memory by mapping (Rss kB, largest first):"
		awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6 ? $6 : "[anon " $1 "]" } /^Rss:/ { rss[name] += $2 }
			END { for (n in rss) if (rss[n]) print rss[n], n }' "/proc/$PID_H/smaps" | sort -rn | head -15 | sed 's/^/#   /'
		grep -E '^(Rss|Pss|Anonymous|Locked):' "/proc/$PID_H/smaps_rollup" | sed 's/^/#   /'
	fi
	c0=$(cpu_ticks "$PID_H") w0=$(ctx_switches "$PID_H")
	sleep "$SCALE_IDLE"
	c1=$(cpu_ticks "$PID_H") w1=$(ctx_switches "$PID_H")
	record "$N" idle_cpu_pct "$(awk -v a="$c0" -v b="$c1" -v t="$SCALE_IDLE" -v hz="$CLK_TCK" \
		'BEGIN { printf "%.2f", 100 * (b - a) / hz / t }')"
	record "$N" wakeups_per_s "$(awk -v a="$w0" -v b="$w1" -v t="$SCALE_IDLE" 'BEGIN { printf "%.1f", (b - a) / t }')"
	# One ping through each sampled tunnel, from the spoke side.
	sent=0 okc=0
	for mode in s p; do
		for ((j = 0; j < SCALE_SAMPLE; j++)); do
			i=$(( SCALE_SAMPLE > 1 ? j * (half - 1) / (SCALE_SAMPLE - 1) : 0 ))
			[ "$mode" = s ] && k=$i || k=$((half + i))
			dst="10.64.$((k >> 8)).$((k & 255))"
			sent=$((sent + 1))
			ip netns exec "$SPK" ping -c 1 -W 2 -q "$dst" >/dev/null 2>&1 && okc=$((okc + 1))
		done
	done
	record "$N" ping "$okc/$sent"
	before=$(grep -c -e 'updated in place' -e 'recreating' -e 'removed from the configuration' "$(conf_log "$HC")")
	record "$N" reload_noop_s "$(timed ip netns exec "$HUB" "$GRESEC" -s "$HS" reload)"
	mid=$(grep -c -e 'updated in place' -e 'recreating' -e 'removed from the configuration' "$(conf_log "$HC")")
	write_confs "$N" "$HC" "$SC" 1
	record "$N" reload_one_s "$(timed ip netns exec "$HUB" "$GRESEC" -s "$HS" reload)"
	after=$(grep -c -e 'updated in place' -e 'recreating' -e 'removed from the configuration' "$(conf_log "$HC")")
	record "$N" reload_touched "$((mid - before))/$((after - mid))"
	record "$N" show_json_s "$(timed ip netns exec "$HUB" "$GRESEC" -s "$HS" show --json)"
	record "$N" show_name_s "$(timed ip netns exec "$HUB" "$GRESEC" -s "$HS" show "p$(printf %04d $((half - 1)))")"
	record "$N" ok "$(kill -0 "$PID_H" 2>/dev/null && echo yes || echo no)"
	stop_daemon "$PID_H"
	stop_daemon "$PID_S"
done

"$PY" - "$RESULTS" <<'EOF'
import sys
rows, order = {}, []
for line in open(sys.argv[1]):
    n, k, v = line.rstrip("\n").split("\t")
    if n not in rows:
        rows[n] = {}
        order.append(n)
    rows[n][k] = v
cols = [("tunnels", None), ("start s", "start"), ("estab s", "estab"), ("RSS MiB", "rss_mib"),
        ("KiB/tunnel", "rss_per_tunnel_kib"), ("fds", "fds"), ("maps", "maps"),
        ("idle CPU %", "idle_cpu_pct"), ("wakeups/s", "wakeups_per_s"), ("ping", "ping"),
        ("reload s", "reload_noop_s"), ("reload 1 s", "reload_one_s"),
        ("touched", "reload_touched"), ("show --json s", "show_json_s"), ("show NAME s", "show_name_s")]
print("| " + " | ".join(c for c, _ in cols) + " |")
print("|" + "---|" * len(cols))
for n in order:
    r = rows[n]
    print("| " + " | ".join(n if k is None else r.get(k, "n/a") for _, k in cols) + " |")
EOF
echo "# touched: tunnels the daemon reported updated, recreated or removed by the no-op reload / the one-change reload"
exit 0
