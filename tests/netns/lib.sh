# tests/netns/lib.sh: helpers for the namespace integration tests (bash).
#
# Sourced by tests/netns/test_*.sh after they re-exec themselves under bash
# (make check runs them with $(SHELL), which may be dash).  Every test run
# gets its own namespaces (prefix + $$) and temp dir, and one EXIT trap
# kills what the test started and deletes what it created, whatever happens.
#
# Results are printed one per line, "ok - what" or "not ok - what"; finish
# prints a summary, shows the daemon logs after any failure and exits 1 on
# failure, 0 otherwise.  Exit 77 means skipped (not root, no namespaces).

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

PY=/usr/bin/python3            # Debian's python3 with scapy, not a pyenv one
GRESECD="$top_builddir/gresecd"
GRESEC="$top_builddir/gresec"
NETNS_DIR="$top_srcdir/tests/netns"
WAIT_TIMEOUT=${WAIT_TIMEOUT:-10}   # seconds, for wait_for

NS_PREFIX="gsc$$"
TEST_NAMESPACES=()
DAEMON_PIDS=()       # every gresecd started, for cleanup
DAEMON_LOGS=()       # their logs, shown by fail/finish
BG_PIDS=()           # other background helpers (tshark, ...)
N_FAIL=0
N_OK=0
TMPD=""

skip()
{
	echo "SKIP: $*"
	exit 77
}

# Exit 77 unless we can create namespaces, veth pairs and TUN devices.
require_root_netns()
{
	local probe="${NS_PREFIX}probe"

	[ "$(id -u)" = 0 ] || skip "$(basename "$0") needs root and network namespaces (not root)"
	[ -c /dev/net/tun ] || skip "$(basename "$0") needs root and network namespaces (/dev/net/tun missing)"
	command -v ip >/dev/null 2>&1 || skip "$(basename "$0") needs root and network namespaces (no iproute2)"
	ip netns add "$probe" 2>/dev/null ||
		skip "$(basename "$0") needs root and network namespaces (ip netns add failed)"
	ip netns del "$probe" 2>/dev/null
	[ -x "$GRESECD" ] || { echo "gresecd not built at $GRESECD" >&2; exit 99; }
	[ -x "$GRESEC" ] || { echo "gresec not built at $GRESEC" >&2; exit 99; }
}

# Skip unless /usr/bin/python3 has scapy (and tshark exists when asked).
require_scapy()
{
	"$PY" -c 'import scapy.all' >/dev/null 2>&1 ||
		skip "$(basename "$0") needs $PY with scapy (python3-scapy)"
}

require_tshark()
{
	command -v tshark >/dev/null 2>&1 || skip "$(basename "$0") needs tshark"
}

cleanup()
{
	local rc=$? pid ns

	trap - EXIT INT TERM
	for pid in "${DAEMON_PIDS[@]}" "${BG_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null || continue
		kill -TERM "$pid" 2>/dev/null
	done
	sleep 0.2
	for pid in "${DAEMON_PIDS[@]}" "${BG_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	done
	for ns in "${TEST_NAMESPACES[@]}"; do
		# Anything still inside is ours: the namespace was made by this run.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$TMPD" ] && [ -d "$TMPD" ]; then
		if [ -n "$KEEP_TMP" ]; then
			echo "# temp dir kept: $TMPD"
		else
			rm -rf "$TMPD"
		fi
	fi
	exit "$rc"
}

# Call once at the top of a test, after require_root_netns.
setup_test()
{
	TMPD=$(mktemp -d "/tmp/gresec-netns.$$.XXXXXX") || exit 99
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# A unique namespace name for this run: ns_name a -> gsc1234a
ns_name()
{
	echo "${NS_PREFIX}$1"
}

nsx()
{
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# make_pair NS_A NS_B: two namespaces joined by veth0 <-> veth0 with
# 10.0.0.1/24, fd00::1/64 in A and 10.0.0.2/24, fd00::2/64 in B (nodad, so
# IPv6 is usable at once).  Also sets UL4_A UL4_B UL6_A UL6_B.
make_pair()
{
	local a=$1 b=$2 ns

	for ns in "$a" "$b"; do
		ip netns add "$ns" || fail "ip netns add $ns"
		TEST_NAMESPACES+=("$ns")
		ip -n "$ns" link set lo up || fail "lo up in $ns"
	done
	ip -n "$a" link add veth0 type veth peer name veth0 netns "$b" ||
		fail "veth pair $a <-> $b"
	UL4_A=10.0.0.1 UL4_B=10.0.0.2 UL6_A=fd00::1 UL6_B=fd00::2
	ip -n "$a" addr add "$UL4_A/24" dev veth0 &&
		ip -n "$a" addr add "$UL6_A/64" dev veth0 nodad &&
		ip -n "$b" addr add "$UL4_B/24" dev veth0 &&
		ip -n "$b" addr add "$UL6_B/64" dev veth0 nodad &&
		ip -n "$a" link set veth0 up &&
		ip -n "$b" link set veth0 up || fail "underlay addresses"
	wait_for nsx "$a" ping -c1 -W1 -q "$UL4_B" >/dev/null ||
		fail "underlay IPv4 $UL4_A -> $UL4_B does not work"
	wait_for nsx "$a" ping -6 -c1 -W1 -q "$UL6_B" >/dev/null ||
		fail "underlay IPv6 $UL6_A -> $UL6_B does not work"
}

# make_local_pair NS: one namespace NS holding both ends of a veth pair,
# veth-a 10.0.0.1/24 and veth-b 10.0.0.2/24 (a daemon against itself, or
# against nothing).
make_local_pair()
{
	local ns=$1

	ip netns add "$ns" || fail "ip netns add $ns"
	TEST_NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up &&
		ip -n "$ns" link add veth-a type veth peer name veth-b &&
		ip -n "$ns" addr add 10.0.0.1/24 dev veth-a &&
		ip -n "$ns" addr add 10.0.0.2/24 dev veth-b &&
		ip -n "$ns" link set veth-a up &&
		ip -n "$ns" link set veth-b up || fail "underlay in $ns"
}

# make_keys NAME...: for each NAME a private key $TMPD/NAME.key (mode
# 0600) and its public key in PUB_<NAME in capitals>.
make_keys()
{
	local k pub

	for k in "$@"; do
		(umask 077 && "$GRESEC" genkey >"$TMPD/$k.key") || fail "gresec genkey"
		pub=$("$GRESEC" pubkey <"$TMPD/$k.key") || fail "gresec pubkey $k"
		printf -v "PUB_${k^^}" '%s' "$pub"
	done
}

# require_nobody: skip unless the user nobody, the group nogroup and
# setpriv (util-linux) are there.
require_nobody()
{
	id nobody >/dev/null 2>&1 || skip "$(basename "$0") needs the user nobody"
	getent group nogroup >/dev/null 2>&1 || skip "$(basename "$0") needs the group nogroup"
	command -v setpriv >/dev/null 2>&1 || skip "$(basename "$0") needs setpriv (util-linux)"
}

# Paths that belong to a config file: X.conf -> X.sock, X.pid, X.log.
conf_sock() { echo "${1%.conf}.sock"; }
conf_pidfile() { echo "${1%.conf}.pid"; }
conf_log() { echo "${1%.conf}.log"; }

# conf_daemon CONF: the daemon group for CONF (same paths as given to
# gresecd on its command line by start_gresecd).
conf_daemon()
{
	printf 'daemon: { control_socket = "%s"; pid_file = "%s"; log_level = "debug"; };\n' \
		"$(conf_sock "$1")" "$(conf_pidfile "$1")"
}

# start_gresecd NS CONF: start gresecd -f in NS and wait until its control
# socket answers; fails with the log shown otherwise.  Sets GRESECD_PID,
# GRESECD_SOCK, GRESECD_LOG.
start_gresecd()
{
	local ns=$1 conf=$2

	GRESECD_SOCK=$(conf_sock "$conf")
	GRESECD_LOG=$(conf_log "$conf")
	ip netns exec "$ns" "$GRESECD" -f -c "$conf" -p "$(conf_pidfile "$conf")" \
		-s "$GRESECD_SOCK" >"$GRESECD_LOG" 2>&1 &
	GRESECD_PID=$!
	DAEMON_PIDS+=("$GRESECD_PID")
	DAEMON_LOGS+=("$GRESECD_LOG")
	if ! wait_for daemon_answers "$ns" "$GRESECD_SOCK" "$GRESECD_PID"; then
		fail "gresecd in $ns ($(basename "$conf")) does not answer on $GRESECD_SOCK"
	fi
	if ! kill -0 "$GRESECD_PID" 2>/dev/null; then
		local st
		wait "$GRESECD_PID"
		st=$?
		fail "gresecd in $ns ($(basename "$conf")) exited with status $st at start"
	fi
}

daemon_answers()
{
	kill -0 "$3" 2>/dev/null || return 0   # dead: stop waiting, caller checks
	gresec_json "$1" "$2" >/dev/null 2>&1
}

# stop_gresecd PID: SIGTERM, wait up to 10 s; returns the exit status
# (124 when it did not exit, then it is killed).
stop_gresecd()
{
	local pid=$1 i

	kill -TERM "$pid" 2>/dev/null || return 125
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
}

# gresec_json NS SOCK [TUNNEL]: the JSON of `gresec show`.
gresec_json()
{
	local ns=$1 sock=$2
	shift 2
	ip netns exec "$ns" "$GRESEC" -s "$sock" show "$@" --json
}

# json_get PATH < JSON: print one field.  PATH is dot-separated, numbers
# index lists, tunnel names select a tunnel: "tunnels.gre1.rx_packets",
# "tunnels.gre1.drops.key_mismatch" (a drop reason not listed prints 0),
# "tunnels.gre1.drops_total" (sum of all drop counters).
json_get()
{
	"$PY" -c '
import json, sys
d = json.load(sys.stdin)
parts = sys.argv[1].split(".")
cur = d
for i, p in enumerate(parts):
    if isinstance(cur, list):
        if p.isdigit():
            cur = cur[int(p)]
        else:
            m = [t for t in cur if isinstance(t, dict) and t.get("name") == p]
            if not m:
                sys.exit("json_get: no element named %r" % p)
            cur = m[0]
    elif isinstance(cur, dict):
        if p == "drops_total" and p not in cur:
            cur = sum(int(v) for v in cur.get("drops", {}).values())
        elif p in cur:
            cur = cur[p]
        elif i > 0 and parts[i - 1] == "drops":
            cur = 0
        else:
            sys.exit("json_get: no field %r" % p)
    else:
        sys.exit("json_get: %r is not a container" % parts[i - 1])
if isinstance(cur, bool):
    print("true" if cur else "false")
elif isinstance(cur, (dict, list)):
    print(json.dumps(cur))
else:
    print(cur)
' "$1"
}

# tunnel_field NS SOCK TUNNEL FIELD: e.g. tunnel_field $A $S gre1 drops.key_mismatch
tunnel_field()
{
	gresec_json "$1" "$2" "$3" | json_get "tunnels.$3.$4"
}

# wait_for CMD...: run CMD every 0.1 s until it succeeds or WAIT_TIMEOUT s pass.
wait_for()
{
	local deadline=$((SECONDS + WAIT_TIMEOUT))

	while :; do
		"$@" && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

show_logs()
{
	local log

	for log in "${DAEMON_LOGS[@]}"; do
		[ -f "$log" ] || continue
		echo "# ---- $(basename "$log") (last 60 lines) ----"
		tail -n 60 "$log" | sed 's/^/# /'
	done
}

ok()
{
	N_OK=$((N_OK + 1))
	echo "ok - $*"
}

not_ok()
{
	N_FAIL=$((N_FAIL + 1))
	echo "not ok - $*"
}

# check DESC CMD...: one result line from CMD's exit status.
check()
{
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# check_eq DESC GOT WANT
check_eq()
{
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', want '$3')"; fi
}

# fail MSG: fatal error: report, show the daemon logs, exit 1.
fail()
{
	N_FAIL=$((N_FAIL + 1))
	echo "not ok - $* (fatal)"
	show_logs
	exit 1
}

# finish: summary; logs after a failure; exit status for make check.
finish()
{
	echo "# $N_OK passed, $N_FAIL failed"
	if [ "$N_FAIL" -gt 0 ]; then
		show_logs
		exit 1
	fi
	exit 0
}

# ---- interface helpers ----

# link_json NS DEV: `ip -j link show` of DEV (empty and false when missing).
link_exists()
{
	ip -n "$1" link show dev "$2" >/dev/null 2>&1
}

link_gone()
{
	! link_exists "$@"
}

link_field()
{
	ip -n "$1" -j -d link show dev "$2" 2>/dev/null | json_get "0.$3"
}

link_has_flag()
{
	ip -n "$1" -j link show dev "$2" 2>/dev/null | "$PY" -c '
import json, sys
sys.exit(0 if sys.argv[1] in json.load(sys.stdin)[0]["flags"] else 1)' "$3"
}

# addr_present NS DEV ADDR PREFIXLEN: ADDR is a local address of DEV.
addr_present()
{
	ip -n "$1" -j addr show dev "$2" 2>/dev/null | "$PY" -c '
import ipaddress, json, sys
want, plen = ipaddress.ip_address(sys.argv[1]), int(sys.argv[2])
for i in json.load(sys.stdin):
    for a in i.get("addr_info", []):
        if ipaddress.ip_address(a["local"]) == want and a["prefixlen"] == plen:
            sys.exit(0)
sys.exit(1)' "$3" "$4"
}

# route_via_dev NS DST DEV: the kernel routes DST out of DEV.
route_via_dev()
{
	ip -n "$1" route get "$2" 2>/dev/null | grep -q " dev $3 "
}

no_tentative()
{
	[ -z "$(ip -n "$1" -6 addr show dev "$2" tentative 2>/dev/null)" ]
}

# tcp_transfer NS_CLI NS_SRV SRV_ADDR BYTES: BYTES random bytes from NS_CLI
# to a server on SRV_ADDR (port 5001) in NS_SRV over TCP; prints
# "sent_sha received_sha received_bytes seconds".
tcp_transfer()
{
	local cli=$1 srv=$2 addr=$3 n=$4 out="$TMPD/tcp.out"

	rm -f "$out" "$out.ready"
	nsx "$srv" "$PY" -c '
import hashlib, socket, sys
l = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], 5001))
l.listen(1)
l.settimeout(150)
open(sys.argv[2] + ".ready", "w").close()
c, _ = l.accept()
c.settimeout(60)
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
c.close()
with open(sys.argv[2], "w") as f:
    f.write("%s %d\n" % (h.hexdigest(), n))
' "$addr" "$out" &
	local rpid=$!
	wait_for test -e "$out.ready" || fail "TCP receiver did not start"
	nsx "$cli" "$PY" -c '
import hashlib, os, random, socket, sys, time
n = int(sys.argv[2])
data = random.Random(4711).randbytes(n)
t0 = time.monotonic()
s = socket.create_connection((sys.argv[1], 5001), timeout=60)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
s.recv(1)                       # the receiver closes once it has it all
s.close()
print(hashlib.sha256(data).hexdigest(), "%.2f" % (time.monotonic() - t0))
' "$addr" "$n" >"$TMPD/tcp.sender" 2>"$TMPD/tcp.sender.err"
	wait "$rpid"
	read -r s_sha s_time <"$TMPD/tcp.sender"
	read -r r_sha r_bytes <"$out" 2>/dev/null
	echo "${s_sha:-none} ${r_sha:-none} ${r_bytes:-0} ${s_time:-0}"
}

# pings NS DST [COUNT] [extra ping args]: COUNT replies within 5 s.
pings()
{
	local ns=$1 dst=$2 count=${3:-3}
	shift 3 2>/dev/null || shift $#
	ip netns exec "$ns" ping -q -c "$count" -i 0.2 -w 5 "$@" "$dst" >/dev/null 2>&1
}

# no_ping NS DST COUNT: none of COUNT echo requests are answered.
no_ping()
{
	! ip netns exec "$1" ping -q -c "$3" -i 0.2 -W 1 "$2" >/dev/null 2>&1
}
