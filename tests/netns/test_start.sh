#!/bin/bash
# tests/netns/test_start.sh: how gresecd starts, tells, logs and reloads.
#
#   ns S: veth-a 10.0.0.1/24 <──> veth-b 10.0.0.2/24 (both in ns S)
#         gt0 plain 10.0.0.1 -> 10.0.0.2 (10.204.0.1/30), gt1 secure
#
# - A daemonizing start prints the daemon's reasons on the shell's stderr
#   (no syslog is reachable: /dev/log is hidden where it exists): exit 1
#   for an invalid file or daemon section; exit 0 once the daemon runs,
#   also when some tunnels cannot come up (they are retried).
# - Relative paths (-c, the file's pid file, socket and key file, -p, -s)
#   are taken from the start directory: the daemon runs in / and reloads
#   still find them.
# - Type=notify: READY=1 and STATUS at start, RELOADING=1 (with
#   MONOTONIC_USEC) then READY=1 around reloads, also failed ones,
#   STOPPING=1 at SIGTERM; to a path and to an abstract socket.
# - JOURNAL_STREAM naming stderr: "<N>" priorities, no time stamps; not
#   when it names another stream.  log_level applies on reload (not over
#   -d); start-only settings changed by a reload are reported.
# - Small things: "1 tunnel", "SIGTERM: shutting down", --help,
#   --version, long options, `gresec show -s`, `gresec reload -s`, the
#   genkey/genpsk warning for a readable file, and a reload re-reads a
#   rewritten key file (same path) but keeps a tunnel whose key file did
#   not change or cannot be read.
# - A reload of a cut-off or empty file fails and keeps the tunnels;
#   tunnels = ( ) removes them, on purpose.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
setup_test

NS=$(ns_name s)
make_local_pair "$NS"

W="$TMPD/work"        # the start directory of the relative-path runs
mkdir -p "$W/keys" "$W/run"
(umask 077 && "$GRESEC" genkey >"$W/keys/a.key" && "$GRESEC" genkey >"$TMPD/peer.key") ||
	fail "gresec genkey"
PUB_A=$("$GRESEC" pubkey <"$W/keys/a.key")
PUB_PEER=$("$GRESEC" pubkey <"$TMPD/peer.key")

PLAIN='name = "gt0"; mode = "plain"; local = "10.0.0.1"; remote = "10.0.0.2"; address = "10.204.0.1/30"; peer_address = "10.204.0.2";'
# secure_t KEYFILE: gt1, secure, with that private key file (as written)
secure_t() { echo "name = \"gt1\"; mode = \"secure\"; local = \"10.0.0.1\"; remote = \"10.0.0.2\"; port = 51991; private_key_file = \"$1\"; peer_public_key = \"$PUB_PEER\";"; }

# conf FILE DAEMON-SETTINGS TUNNEL...
conf()
{
	local f=$1 daemon=$2 t sep=""
	shift 2
	{
		printf 'daemon: { %s };\n' "$daemon"
		echo "tunnels = ("
		for t in "$@"; do
			printf '%s  { %s }\n' "$sep" "$t"
			sep=","
		done
		echo ");"
	} >"$f"
}

# in_ns_no_syslog CMD...: CMD in the namespace where no syslog socket is
# reachable, so nothing but stderr can carry a message.
in_ns_no_syslog()
{
	if [ -e /dev/log ]; then
		ip netns exec "$NS" unshare -m sh -c 'mount --bind /dev/null /dev/log && exec "$@"' sh "$@"
	else
		ip netns exec "$NS" "$@"
	fi
}

pid_of_file() { local p=""; read -r p <"$1" 2>/dev/null; echo "$p"; }
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# stop_pid PID: SIGTERM and wait until it is gone.
stop_pid()
{
	kill -TERM "$1" 2>/dev/null
	wait_for eval "! kill -0 $1 2>/dev/null"
}

echo "# ---- a daemonizing start reports its result ----"
(umask 022 && "$GRESEC" genkey >"$TMPD/open.key" 2>/dev/null)
# Two tunnels that cannot come up: the daemon starts anyway (each is
# retried), and the shell sees why on stderr.
C="$TMPD/bad.conf"
conf "$C" "pid_file = \"$TMPD/bad.pid\"; control_socket = \"$TMPD/bad.sock\";" \
	"$PLAIN device = \"nosuch0\";" "$(secure_t "$TMPD/open.key")"
in_ns_no_syslog "$GRESECD" -c "$C" >"$TMPD/bad.out" 2>"$TMPD/bad.err"; st=$?
sed 's/^/#   stderr: /' "$TMPD/bad.err"
check_eq "tunnels that cannot come up: the start still exits 0" "$st" 0
check "tunnels that cannot come up: the device problem reaches the shell" \
	grep -qF 'gresecd: '"$C"':3: tunnel "gt0": device: "nosuch0" does not exist' "$TMPD/bad.err"
check "tunnels that cannot come up: the key file problem too" \
	grep -qF "private_key_file: \"$TMPD/open.key\": mode 0644 is too open" "$TMPD/bad.err"
check "tunnels that cannot come up: and that they are retried" \
	grep -qF "gresecd: warning: 2 of 2 tunnels cannot come up now: the others start, and they are retried" "$TMPD/bad.err"
check "tunnels that cannot come up: nothing on stdout" test ! -s "$TMPD/bad.out"
BAD_PID=$(pid_of_file "$TMPD/bad.pid")
DAEMON_PIDS+=("$BAD_PID")
check "tunnels that cannot come up: the daemon runs" alive "$BAD_PID"
stop_pid "$BAD_PID"

# The configuration itself is wrong, or the daemon section: no start.
C="$TMPD/invalid.conf"
conf "$C" "pid_file = \"$TMPD/invalid.pid\"; control_socket = \"$TMPD/invalid.sock\";" "$PLAIN mtu = 20;"
in_ns_no_syslog "$GRESECD" -c "$C" >"$TMPD/invalid.out" 2>"$TMPD/invalid.err"; st=$?
check_eq "invalid configuration: exit status 1" "$st" 1
check "invalid configuration: file:line on stderr" grep -qF "$C:3: tunnel \"gt0\": mtu: 20 is out of range" "$TMPD/invalid.err"
check "invalid configuration: no daemon left (no pid file)" test ! -e "$TMPD/invalid.pid"
C="$TMPD/nouser.conf"
conf "$C" "pid_file = \"$TMPD/nouser.pid\"; control_socket = \"$TMPD/nouser.sock\"; user = \"gresec-no-such-user\";" "$PLAIN"
in_ns_no_syslog "$GRESECD" -c "$C" >"$TMPD/nouser.out" 2>"$TMPD/nouser.err"; st=$?
check_eq "unknown daemon.user: exit status 1" "$st" 1
check "unknown daemon.user: says why on stderr ($(head -c 300 "$TMPD/nouser.err"))" \
	grep -qF "gresec-no-such-user" "$TMPD/nouser.err"
check "unknown daemon.user: no daemon left (no pid file)" test ! -e "$TMPD/nouser.pid"
check "unknown daemon.user: gt0 not left behind" link_gone "$NS" gt0

C="$TMPD/taken.conf"   # fails later: the socket's place is taken
mkdir -p "$TMPD/taken.sock"
conf "$C" "pid_file = \"$TMPD/taken.pid\"; control_socket = \"$TMPD/taken.sock\";" "$PLAIN"
in_ns_no_syslog "$GRESECD" -c "$C" 2>"$TMPD/taken.err"; st=$?
check_eq "start over a directory as the socket: exit 1" "$st" 1
check "start over a directory as the socket: says so on stderr ($(head -c 200 "$TMPD/taken.err"))" \
	grep -qF "control socket $TMPD/taken.sock" "$TMPD/taken.err"
check "start over a directory as the socket: gt0 not left behind" link_gone "$NS" gt0

echo "# ---- relative paths, daemonized, reloaded from / ----"
conf "$W/rel.conf" 'pid_file = "run/rel.pid"; control_socket = "run/rel.sock"; log_level = "info";' \
	"$PLAIN" "$(secure_t keys/a.key)"
(cd "$W" && in_ns_no_syslog "$GRESECD" -c rel.conf) >"$TMPD/rel.out" 2>"$TMPD/rel.err"; st=$?
check_eq "relative paths: the start exits 0 ($(cat "$TMPD/rel.err"))" "$st" 0
check_eq "relative paths: a good start prints nothing" "$(cat "$TMPD/rel.out" "$TMPD/rel.err")" ""
REL_PID=$(pid_of_file "$W/run/rel.pid")
DAEMON_PIDS+=("$REL_PID")
check "relative paths: pid file in the start directory names a live daemon" alive "$REL_PID"
check_eq "relative paths: the daemon runs in /" "$(readlink "/proc/$REL_PID/cwd")" "/"
check "relative paths: socket in the start directory" test -S "$W/run/rel.sock"
check "relative paths: the relative key file was read" eval \
	'[ "$(tunnel_field "$NS" "$W/run/rel.sock" gt1 public_key)" = "$PUB_A" ]'
# A change to the file, reloaded by a daemon that runs in /.
conf "$W/rel.conf" 'pid_file = "run/rel.pid"; control_socket = "run/rel.sock"; log_level = "info";' \
	"${PLAIN/10.204.0.1\/30/10.204.0.5/30}" "$(secure_t keys/a.key)"
sed -i 's|10.204.0.2"|10.204.0.6"|' "$W/rel.conf"
out=$(cd / && nsx "$NS" "$GRESEC" reload -s "$W/run/rel.sock" 2>&1); st=$?
check_eq "relative paths: gresec reload -s (after the command) exits 0 ($out)" "$st" 0
check_eq "relative paths: the reload read the file by its absolute path" "$out" \
	"reloaded $W/rel.conf: 2 tunnels"
check "relative paths: the change took effect" addr_present "$NS" gt0 10.204.0.5 30
stop_pid "$REL_PID"
check "relative paths: SIGTERM ends it" eval '! alive "$REL_PID"'
check "relative paths: gt0 gone after SIGTERM" link_gone "$NS" gt0
# -p and -s relative too
(cd "$W" && in_ns_no_syslog "$GRESECD" -c rel.conf -p run/opt.pid -s run/opt.sock) 2>"$TMPD/opt.err"; st=$?
check_eq "relative -p and -s: start exits 0 ($(cat "$TMPD/opt.err"))" "$st" 0
OPT_PID=$(pid_of_file "$W/run/opt.pid")
DAEMON_PIDS+=("$OPT_PID")
check "relative -p and -s: the socket answers" eval 'nsx "$NS" "$GRESEC" show -s "$W/run/opt.sock" gt0 | grep -q "tunnel: gt0"'
check_eq "relative -p: -P prints absolute paths" \
	"$(cd "$W" && "$GRESECD" -P -c rel.conf -p run/opt.pid -s run/opt.sock)" \
	"pid_file $W/run/opt.pid
control_socket $W/run/opt.sock"
stop_pid "$OPT_PID"

echo "# ---- readiness: NOTIFY_SOCKET ----"
# notify_listen ADDR OUT: a datagram socket that writes each message,
# newlines as '|', one per line.
notify_listen()
{
	nsx "$NS" "$PY" -c '
import socket, sys
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out + ".ready", "w").close()
while True:
    m = s.recv(4096).decode()
    with open(out, "a") as f:
        f.write(m.replace("\n", "|") + "\n")
' "$1" "$2" &
	BG_PIDS+=("$!")
	wait_for test -e "$2.ready" || fail "notify listener $1"
}

# notify_run LABEL ADDR: start -f with NOTIFY_SOCKET=ADDR, reload (good,
# bad), stop; check the messages.
notify_run()
{
	local label=$1 addr=$2 out="$TMPD/notify-$1.log" c="$TMPD/notify-$1.conf" pid st
	notify_listen "$addr" "$out"
	conf "$c" "pid_file = \"$TMPD/n$1.pid\"; control_socket = \"$TMPD/n$1.sock\";" "$PLAIN"
	NOTIFY_SOCKET=$addr ip netns exec "$NS" "$GRESECD" -f -c "$c" >"$TMPD/notify-$1.err" 2>&1 &
	pid=$!
	DAEMON_PIDS+=("$pid")
	check "$label: READY=1 at start" wait_for grep -qs '^READY=1|STATUS=1 tunnel from '"$c"'$' "$out"
	check "$label: ready only once the tunnel exists" link_exists "$NS" gt0
	kill -HUP "$pid"
	check "$label: a reload says RELOADING=1 with MONOTONIC_USEC" \
		wait_for grep -qs '^RELOADING=1|MONOTONIC_USEC=[0-9][0-9]*|STATUS=' "$out"
	check "$label: then READY=1 again" wait_for eval "[ \"\$(grep -c '^READY=1' '$out')\" -ge 2 ]"
	echo 'tunnels = ( { name = "gt0"; mode = "plain"; } );' >"$c.bad"
	cp "$c" "$c.good"
	cp "$c.bad" "$c"
	kill -HUP "$pid"
	check "$label: a failed reload ends with READY=1 and says it failed" wait_for grep -qs \
		'^READY=1|STATUS=1 tunnel; the last reload failed: configuration invalid$' "$out"
	cp "$c.good" "$c"
	stop_gresecd "$pid"; st=$?
	check_eq "$label: exits 0 on SIGTERM" "$st" 0
	check "$label: STOPPING=1 at SIGTERM" grep -q '^STOPPING=1|STATUS=shutting down (SIGTERM)$' "$out"
	check_eq "$label: messages in order" \
		"$(cut -d'|' -f1 "$out" | tr '\n' ' ')" "READY=1 RELOADING=1 READY=1 RELOADING=1 READY=1 STOPPING=1 "
}
notify_run path "$TMPD/notify.sock"
notify_run abstract "@gresec-test-notify-$$"

echo "# ---- the journal ----"
C="$TMPD/journal.conf"
conf "$C" "pid_file = \"$TMPD/j.pid\"; control_socket = \"$TMPD/j.sock\"; log_level = \"info\";" "$PLAIN"
J="$TMPD/journal.stream"
: >"$J"
ip netns exec "$NS" env JOURNAL_STREAM="$(stat -c '%d:%i' "$J")" \
	"$GRESECD" -f -c "$C" 2>>"$J" &
JPID=$!
DAEMON_PIDS+=("$JPID")
check "journal: started" wait_for grep -qs "started with" "$J"
echo 'oops' >>"$C"
nsx "$NS" "$GRESEC" reload -s "$TMPD/j.sock" >/dev/null 2>&1
stop_gresecd "$JPID"
sed 's/^/#   journal: /' "$J" | head -n 12
check "journal: the start is a notice, <5>" grep -qx "<5>gresecd [^ ]* started with 1 tunnel from $C" "$J"
check "journal: the tunnel's set-up is info, <6>" grep -q '^<6>tunnel "gt0"' "$J"
check "journal: the refused reload is an error, <3>" grep -qE "^<3>$C:[0-9]+: syntax error" "$J"
check "journal: the stop is a notice, <5>" grep -qx '<5>SIGTERM: shutting down' "$J"
check "journal: every line has a priority and no time stamp" eval '! grep -vqE "^<[0-7]>[^0-9]" "$J"'
# JOURNAL_STREAM of another stream (a wrapper redirected stderr): plain lines.
sed -i '$d' "$C"
ip netns exec "$NS" env JOURNAL_STREAM="$(stat -c '%d:%i' "$C")" \
	"$GRESECD" -f -c "$C" 2>"$TMPD/notjournal.log" &
JPID=$!
DAEMON_PIDS+=("$JPID")
check "not the journal: started" wait_for grep -qs "started with" "$TMPD/notjournal.log"
stop_gresecd "$JPID"
check "not the journal: time-stamped lines" \
	grep -qE '^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} gresecd notice: gresecd .* started with 1 tunnel' "$TMPD/notjournal.log"
check "not the journal: no priority prefixes" eval '! grep -q "^<[0-7]>" "$TMPD/notjournal.log"'

echo "# ---- log_level and start-only settings on reload ----"
C="$TMPD/level.conf"
level_conf() { conf "$C" "pid_file = \"$TMPD/level.pid\"; control_socket = \"$TMPD/level.sock\"; log_level = \"$1\";" "$PLAIN"; }
level_conf warning
start_gresecd "$NS" "$C"
LPID=$GRESECD_PID LLOG=$GRESECD_LOG
check "log_level warning: no notice at start" eval '! grep -q "started with" "$LLOG"'
level_conf info
out=$(nsx "$NS" "$GRESEC" -s "$TMPD/level.sock" reload 2>&1)
check "log_level changed to info by a reload: said in the log" grep -q "log level info, was warning" "$LLOG"
check "log_level info after the reload: its notice is logged" grep -q "reloaded $C: 1 tunnel" "$LLOG"
conf "$C" "pid_file = \"$TMPD/other.pid\"; control_socket = \"$TMPD/level.sock\"; user = \"root\"; log_level = \"info\";" "$PLAIN"
out=$(nsx "$NS" "$GRESEC" -s "$TMPD/level.sock" reload 2>&1); st=$?
check_eq "start-only settings changed: the reload still succeeds" "$st" 0
check "start-only settings changed: pid_file reported ($out)" \
	eval 'echo "$out" | grep -qx "daemon.pid_file changed: it takes effect at the next start"'
check "start-only settings changed: user reported" \
	eval 'echo "$out" | grep -qx "daemon.user changed: it takes effect at the next start"'
check "start-only settings changed: logged" grep -q "daemon.user changed; it is read at start only" "$LLOG"
stop_gresecd "$LPID"
check "SIGTERM is named in the log" grep -q "notice: SIGTERM: shutting down" "$LLOG"
# -d wins over daemon.log_level, also on reload.
level_conf err
ip netns exec "$NS" "$GRESECD" -f -d -c "$C" >"$TMPD/level-d.log" 2>&1 &
LPID=$!
DAEMON_PIDS+=("$LPID")
wait_for daemon_answers "$NS" "$TMPD/level.sock" "$LPID"
nsx "$NS" "$GRESEC" -s "$TMPD/level.sock" reload >/dev/null 2>&1
nsx "$NS" "$GRESEC" -s "$TMPD/level.sock" reload >/dev/null 2>&1
check_eq "-d: reloads with log_level err still log at debug" \
	"$(grep -c "reloaded $C: 1 tunnel" "$TMPD/level-d.log")" 2
stop_gresecd "$LPID"

echo "# ---- options and small things ----"
out=$("$GRESECD" --help); st=$?
check "gresecd --help: exit 0 and usage ($st)" eval '[ "$st" = 0 ] && echo "$out" | grep -q "^usage: gresecd"'
check "gresecd --help: lists the long options" eval 'echo "$out" | grep -q -- "--config FILE"'
out=$("$GRESECD" --version); st=$?
check "gresecd --version: exit 0, version ($out)" eval '[ "$st" = 0 ] && echo "$out" | grep -qE "^gresecd [0-9]"'
out=$(nsx "$NS" "$GRESECD" --check --config "$TMPD/journal.conf" 2>&1); st=$?
check_eq "gresecd --check --config: exit 0 ($out)" "$st" 0
check_eq "gresecd --check: one tunnel, singular" "$out" "$TMPD/journal.conf: configuration OK (1 tunnel)"
"$GRESECD" --bogus >/dev/null 2>"$TMPD/bogus.err"; st=$?
check "gresecd --bogus: exit 1 with usage" eval '[ "$st" = 1 ] && grep -q "^usage: gresecd" "$TMPD/bogus.err"'

for cmd in genkey genpsk; do
	rm -f "$TMPD/$cmd.out"
	(umask 022 && "$GRESEC" "$cmd" >"$TMPD/$cmd.out" 2>"$TMPD/$cmd.err")
	check "$cmd to a file others can read: warns ($(cat "$TMPD/$cmd.err"))" grep -qF \
		"gresec: warning: writing a secret key to a file that everyone can read (mode 0644)" "$TMPD/$cmd.err"
	check "$cmd to a file others can read: still writes the key" \
		eval '[ "$(wc -c <"$TMPD/$cmd.out")" = 45 ]'
	rm -f "$TMPD/$cmd.out"
	(umask 027 && "$GRESEC" "$cmd" >"$TMPD/$cmd.out" 2>"$TMPD/$cmd.err")
	check "$cmd to a file its group can read: warns" grep -qF "that its group can read (mode 0640)" "$TMPD/$cmd.err"
	rm -f "$TMPD/$cmd.out"
	(umask 077 && "$GRESEC" "$cmd" >"$TMPD/$cmd.out" 2>"$TMPD/$cmd.err")
	check_eq "$cmd with umask 077: no warning" "$(cat "$TMPD/$cmd.err")" ""
	out=$("$GRESEC" "$cmd" 2>&1 | wc -c)
	check_eq "$cmd to a pipe: no warning, just the key" "$out" 45
done

UNIT="$top_srcdir/init/gresecd.service"
check "systemd unit: Type=notify" grep -qx 'Type=notify' "$UNIT"
check "systemd unit: runs in the foreground" grep -qx 'ExecStart=/usr/sbin/gresecd -f -c /etc/gresec/gresec.conf' "$UNIT"
check "systemd unit: reload waits for the result (gresec reload)" grep -qx 'ExecReload=/usr/bin/gresec reload' "$UNIT"
check "systemd unit: no separate check before the start (the start checks)" eval '! grep -q "^ExecStartPre=" "$UNIT"'

echo "# ---- a reload re-reads rewritten key files ----"
C="$TMPD/keys.conf"
install -m 600 "$W/keys/a.key" "$TMPD/k.key"
conf "$C" "pid_file = \"$TMPD/k.pid\"; control_socket = \"$TMPD/k.sock\";" "$PLAIN" "$(secure_t "$TMPD/k.key")"
start_gresecd "$NS" "$C"
KPID=$GRESECD_PID KSOCK=$GRESECD_SOCK KLOG=$GRESECD_LOG
IFX=$(link_field "$NS" gt1 ifindex)
check_eq "key reload: the key in use at start" "$(tunnel_field "$NS" "$KSOCK" gt1 public_key)" "$PUB_A"
nsx "$NS" "$GRESEC" -s "$KSOCK" reload >/dev/null 2>&1
check_eq "key reload: unchanged key file, same interface" "$(link_field "$NS" gt1 ifindex)" "$IFX"
(umask 077 && "$GRESEC" genkey >"$TMPD/k.new")
PUB_NEW=$("$GRESEC" pubkey <"$TMPD/k.new")
cat "$TMPD/k.new" >"$TMPD/k.key"     # same file, same path, new content
out=$(nsx "$NS" "$GRESEC" -s "$KSOCK" reload 2>&1); st=$?
check_eq "key reload: exit 0 ($out)" "$st" 0
check_eq "key reload: the rewritten key is in use" "$(tunnel_field "$NS" "$KSOCK" gt1 public_key)" "$PUB_NEW"
IFX2=$(link_field "$NS" gt1 ifindex)
check "key reload: the tunnel was made again ($IFX -> $IFX2)" test "$IFX2" != "$IFX"
check_eq "key reload: gt0 untouched" "$(tunnel_field "$NS" "$KSOCK" gt0 state)" up
chmod 644 "$TMPD/k.key"
out=$(nsx "$NS" "$GRESEC" -s "$KSOCK" reload 2>&1); st=$?
check_eq "key file unreadable for the daemon: reload exits 0 ($out)" "$st" 0
check_eq "key file unreadable: the tunnel stays" "$(link_field "$NS" gt1 ifindex)" "$IFX2"
check_eq "key file unreadable: the keys in use stay" "$(tunnel_field "$NS" "$KSOCK" gt1 public_key)" "$PUB_NEW"
check "key file unreadable: said in the log" grep -q 'tunnel "gt1": its key files cannot be read now: the keys in use stay' "$KLOG"

echo "# ---- a cut-off or empty file is not \"no tunnels\" ----"
cp "$C" "$C.good"
head -n 1 "$C.good" >"$C"     # the daemon section only: cut off before tunnels
out=$(nsx "$NS" "$GRESEC" -s "$KSOCK" reload 2>&1); st=$?
check "cut-off file: the reload fails ($st: $out)" eval '[ "$st" -ne 0 ] && echo "$out" | grep -qF "$C: tunnels: missing"'
: >"$C"
out=$(nsx "$NS" "$GRESEC" -s "$KSOCK" reload 2>&1); st=$?
check "empty file: the reload fails ($st)" eval '[ "$st" -ne 0 ] && echo "$out" | grep -qF "$C: tunnels: missing"'
check "empty file: gt0 and gt1 stay" eval 'link_exists "$NS" gt0 && link_exists "$NS" gt1'
conf "$C" "pid_file = \"$TMPD/k.pid\"; control_socket = \"$TMPD/k.sock\";"
out=$(nsx "$NS" "$GRESEC" -s "$KSOCK" reload 2>&1); st=$?
check_eq "tunnels = ( ): the reload succeeds, on purpose" "$out" "reloaded $C: 0 tunnels"
check "tunnels = ( ): gt0 and gt1 are removed" eval 'link_gone "$NS" gt0 && link_gone "$NS" gt1'
stop_gresecd "$KPID"
finish
