#!/bin/bash
# tests/netns/test_rundir.sh: the run directory (pid file, control socket)
# against a hostile daemon user (security review: symlinks in the run
# directory gave the daemon user root).
#
#   ns R: veth-a 10.0.0.1/24 (peer veth-b in R too); gsr0: plain GRE 10.0.0.1 -> 10.0.0.2
#
# Every case has a throw-away run directory under the test's temp dir and
# passes it to gresecd with -p/-s.  Victim files and directories outside it
# (root's, mode 0600, an old mtime) must come out untouched: content, owner,
# mode, mtime, link count.  Planted symbolic links (pid file, control
# socket, the run directory itself) and untrusted directories must make the
# start fail with a message naming the path; stale pid files and sockets
# (also hard links and files owned by the daemon user) are recovered; a run
# directory left to the daemon user by older versions is taken back.  A
# daemon with daemon.user = "nobody" leaves the directory, pid file and
# socket root's, has NoNewPrivs 1 and a bounding set of only the kept
# capabilities; stop/start cycles and the LSB init script with a daemon
# user work repeatedly; so does the systemd unit's capability bounding set.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
require_nobody
setup_test
chmod 711 "$TMPD"   # nobody must reach its case directories (nothing secret here)

NOBODY_UID=$(id -u nobody)
CAP_NET_ADMIN=12 CAP_NET_RAW=13
INIT="$top_srcdir/init/gresecd.init"
UNIT="$top_srcdir/init/gresecd.service"

NS=$(ns_name r)
ip netns add "$NS" || fail "ip netns add $NS"
TEST_NAMESPACES+=("$NS")
ip -n "$NS" link set lo up &&
	ip -n "$NS" link add veth-a type veth peer name veth-b &&
	ip -n "$NS" addr add 10.0.0.1/24 dev veth-a &&
	ip -n "$NS" link set veth-a up &&
	ip -n "$NS" link set veth-b up || fail "underlay in $NS"

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# write_conf FILE [USER]: one plain tunnel; daemon.user = USER when given.
# The config names other paths than -p/-s: the command line must win.
write_conf()
{
	{
		printf 'daemon: { log_level = "debug"; pid_file = "%s/wrong.pid"; control_socket = "%s/wrong.sock";\n' \
			"$TMPD" "$TMPD"
		[ -n "${2:-}" ] && printf '  user = "%s"; group = "nogroup";\n' "$2"
		echo '};'
		echo 'tunnels = ( { name = "gsr0"; mode = "plain"; type = "gre";'
		echo '  local = "10.0.0.1"; remote = "10.0.0.2"; address = "10.202.0.1/30"; } );'
	} >"$1"
}
CONF_USER="$TMPD/user.conf"
CONF_ROOT="$TMPD/root.conf"
write_conf "$CONF_USER" nobody
write_conf "$CONF_ROOT"

# fingerprint PATH: owner, mode, size, mtime, links, inode, type and the
# content (files) or a listing with the same for each entry (directories).
fingerprint()
{
	stat -c '%u:%g %a %s %Y %h %i %F' "$1"
	if [ -d "$1" ] && [ ! -L "$1" ]; then
		(cd "$1" && for f in .* *; do
			[ "$f" = . ] || [ "$f" = .. ] || [ ! -e "$f" -a ! -L "$f" ] && continue
			stat -c '%n %u:%g %a %s %Y %h %F' "$f"
			[ -f "$f" ] && sha256sum <"$f"
		done)
	elif [ -f "$1" ] && [ ! -L "$1" ]; then
		sha256sum <"$1"
	fi
}

# victim_file PATH: root's secret-looking file with an mtime in the past.
victim_file()
{
	printf 'root:$6$not-a-real-hash:19000:0:99999:7:::\n' >"$1"
	chmod 600 "$1"
	touch -d '2001-02-03 04:05:06' "$1"
}

# new_case NAME: a fresh case directory $C (root's, 0711: nobody may pass).
new_case()
{
	C="$TMPD/$1"
	install -d -m 711 "$C"
	echo "# ---- $1 ----"
}

# run_daemon LOG CONF PIDFILE SOCKET [WRAPPER...]: gresecd -f in the
# namespace.  Returns 0 when it came up (its control socket answers; RPID
# is set), 1 when it exited (RST is its exit status).
run_daemon()
{
	local log=$1 conf=$2 pidf=$3 sock=$4
	shift 4
	ip netns exec "$NS" "$@" "$GRESECD" -f -c "$conf" -p "$pidf" -s "$sock" >"$log" 2>&1 &
	RPID=$!
	RST=""
	DAEMON_PIDS+=("$RPID")
	DAEMON_LOGS+=("$log")
	wait_for daemon_answers "$NS" "$sock" "$RPID"
	if kill -0 "$RPID" 2>/dev/null; then
		gresec_json "$NS" "$sock" >/dev/null 2>&1 && return 0
		kill -KILL "$RPID" 2>/dev/null
	fi
	wait "$RPID" 2>/dev/null
	RST=$?
	return 1
}

# expect_refused LABEL LOG CONF PIDFILE SOCKET PATTERN: the start must fail
# (exit status 1) and LOG must hold PATTERN (a fixed string).  A daemon that
# came up anyway is stopped again.
expect_refused()
{
	local label=$1 log=$2 conf=$3 pidf=$4 sock=$5 pattern=$6

	if run_daemon "$log" "$conf" "$pidf" "$sock"; then
		not_ok "$label: start refused (it started, pid $RPID)"
		stop_gresecd "$RPID"
	else
		check_eq "$label: start refused with exit status 1" "$RST" 1
	fi
	check "$label: the log says why: '$pattern'" grep -qF -- "$pattern" "$log"
	check "$label: no tunnel left" link_gone "$NS" gsr0
}

# expect_started LABEL LOG CONF PIDFILE SOCKET: the start must succeed, the
# pid file name the daemon and the tunnel exist.
expect_started()
{
	local label=$1 log=$2 conf=$3 pidf=$4 sock=$5

	if ! run_daemon "$log" "$conf" "$pidf" "$sock"; then
		not_ok "$label: comes up (exit status $RST: $(grep -m1 ' err' "$log"))"
		return 1
	fi
	ok "$label: comes up"
	check_eq "$label: pid file names the daemon" "$(cat "$pidf" 2>/dev/null)" "$RPID"
	check "$label: gsr0 exists" link_exists "$NS" gsr0
	return 0
}

# stop_daemon LABEL: SIGTERM; exit status 0; the tunnel is gone.
stop_daemon()
{
	local st
	stop_gresecd "$RPID"; st=$?
	check_eq "$1: exits 0 on SIGTERM" "$st" 0
	check "$1: gsr0 removed" wait_for link_gone "$NS" gsr0
}

# owner_mode PATH: "uid:gid mode type" of PATH itself.
owner_mode() { stat -c '%u:%g %a %F' "$1" 2>/dev/null; }

# stale_socket PATH [USER]: a UNIX socket file that nobody listens on.
stale_socket()
{
	local run=()
	[ -n "${2:-}" ] && run=(setpriv --reuid="$2" --regid=nogroup --clear-groups)
	"${run[@]}" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.close()' "$1"
}

status_field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }

# caps_of PID FIELD: the capability numbers set in /proc/PID/status FIELD.
caps_of()
{
	"$PY" -c '
import sys
v = int(sys.argv[1], 16)
print(" ".join(str(i) for i in range(64) if v >> i & 1))' "$(status_field "$1" "$2")"
}

# ======================================================================
# Planted symbolic links: the start fails and nothing outside is touched.
# ======================================================================

# The finding as reported: the run directory left to the daemon user by an
# older gresecd, the daemon user plants gresecd.pid -> root's file.
new_case pid-symlink
victim_file "$C/victim"
install -d -m 750 -o nobody -g nogroup "$C/run"
as_nobody ln -s "$C/victim" "$C/run/gresecd.pid" || fail "nobody cannot plant the link"
before=$(fingerprint "$C/victim")
expect_refused "pid file -> root's file" "$C/log" "$CONF_USER" "$C/run/gresecd.pid" "$C/run/control.sock" \
	"pid file $C/run/gresecd.pid is a symbolic link"
check_eq "pid file -> root's file: the victim is untouched (content, owner, mode, mtime)" \
	"$(fingerprint "$C/victim")" "$before"
check "pid file -> root's file: the planted link is left for the admin to see" test -L "$C/run/gresecd.pid"
check "pid file -> root's file: no control socket left" test ! -e "$C/run/control.sock"

# The same with a daemon that stays root (no daemon.user).
new_case pid-symlink-root
victim_file "$C/victim"
install -d -m 755 "$C/run"
ln -s "$C/victim" "$C/run/gresecd.pid"
before=$(fingerprint "$C/victim")
expect_refused "pid file -> root's file, no daemon.user" "$C/log" "$CONF_ROOT" "$C/run/gresecd.pid" \
	"$C/run/control.sock" "pid file $C/run/gresecd.pid is a symbolic link"
check_eq "pid file -> root's file, no daemon.user: the victim is untouched" \
	"$(fingerprint "$C/victim")" "$before"

# A dangling link: O_CREAT would have created its target.
new_case pid-dangling
install -d -m 750 -o nobody -g nogroup "$C/run"
as_nobody ln -s "$C/created-by-root" "$C/run/gresecd.pid"
expect_refused "pid file -> a missing file" "$C/log" "$CONF_USER" "$C/run/gresecd.pid" "$C/run/control.sock" \
	"pid file $C/run/gresecd.pid is a symbolic link"
check "pid file -> a missing file: the target was not created" test ! -e "$C/created-by-root"

new_case pid-fifo
install -d -m 755 "$C/run"
mkfifo "$C/run/gresecd.pid"
expect_refused "pid file is a FIFO" "$C/log" "$CONF_USER" "$C/run/gresecd.pid" "$C/run/control.sock" \
	"pid file $C/run/gresecd.pid is not a regular file"
check "pid file is a FIFO: left as it was" test -p "$C/run/gresecd.pid"

new_case sock-symlink
victim_file "$C/victim"
install -d -m 750 -o nobody -g nogroup "$C/run"
as_nobody ln -s "$C/victim" "$C/run/control.sock"
before=$(fingerprint "$C/victim")
expect_refused "control socket -> root's file" "$C/log" "$CONF_USER" "$C/run/gresecd.pid" "$C/run/control.sock" \
	"control socket $C/run/control.sock is a symbolic link"
check_eq "control socket -> root's file: the victim is untouched" "$(fingerprint "$C/victim")" "$before"
check "control socket -> root's file: the planted link is left for the admin to see" test -L "$C/run/control.sock"
check "control socket -> root's file: the refused start removed its pid file" test ! -e "$C/run/gresecd.pid"

new_case sock-regular
victim_file "$C/run.file"
install -d -m 755 "$C/run"
ln "$C/run.file" "$C/run/control.sock"          # a hard link to root's file
before=$(fingerprint "$C/run.file")
expect_refused "control socket is a regular file" "$C/log" "$CONF_USER" "$C/run/gresecd.pid" \
	"$C/run/control.sock" "control socket $C/run/control.sock is not a socket"
check_eq "control socket is a regular file: the file is untouched" "$(fingerprint "$C/run.file")" "$before"

new_case dir-symlink
install -d -m 700 "$C/victimdir"
victim_file "$C/victimdir/secret"
ln -s "$C/victimdir" "$C/run"
before=$(fingerprint "$C/victimdir")
expect_refused "run directory is a symbolic link" "$C/log" "$CONF_USER" "$C/run/gresecd.pid" \
	"$C/run/control.sock" "run directory $C/run is a symbolic link"
check_eq "run directory is a symbolic link: the directory it points to is untouched" \
	"$(fingerprint "$C/victimdir")" "$before"
check "run directory is a symbolic link: the link is left" test -L "$C/run"

# The daemon user owns a directory above the run directory: it could swap
# the run directory for anything at any time.
new_case ancestor-nobody
install -d -m 755 -o nobody -g nogroup "$C/nob"
install -d -m 755 "$C/nob/run"
expect_refused "a directory above the run directory owned by nobody" "$C/log" "$CONF_USER" \
	"$C/nob/run/gresecd.pid" "$C/nob/run/control.sock" "$C/nob (above the run directory $C/nob/run) is owned by uid $NOBODY_UID"
check "ancestor owned by nobody: nothing created" test -z "$(ls -A "$C/nob/run")"

new_case dir-other-owner
install -d -m 750 -o 4242 -g 4242 "$C/run"
before=$(fingerprint "$C/run")
expect_refused "run directory owned by another user (uid 4242)" "$C/log" "$CONF_USER" "$C/run/gresecd.pid" \
	"$C/run/control.sock" "run directory $C/run is owned by uid 4242"
check_eq "run directory owned by uid 4242: left as it was" "$(fingerprint "$C/run")" "$before"

new_case dir-world-writable
install -d -m 1777 "$C/run"
before=$(fingerprint "$C/run")
expect_refused "run directory root's but mode 1777" "$C/log" "$CONF_USER" "$C/run/gresecd.pid" \
	"$C/run/control.sock" "run directory $C/run is writable by group or others"
check_eq "run directory mode 1777: left as it was" "$(fingerprint "$C/run")" "$before"

# The racing variant: the daemon user swaps links in (rename over) the
# pid file and control socket names as fast as it can while gresecd starts
# in the directory older versions left it.  Whatever it wins, no victim may
# change; starts either come up or are refused over a planted link.
new_case race
RACE_ROUNDS=${RACE_ROUNDS:-20}
victim_file "$C/victim"
before=$(fingerprint "$C/victim")
touched=0 up=0 refused_link=0 other=0
for ((i = 0; i < RACE_ROUNDS; i++)); do
	rm -rf "$C/run"
	install -d -m 750 -o nobody -g nogroup "$C/run"
	# setpriv execs python: $! is the racer itself, not a subshell.
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$PY" -c '
import os, sys, time
victim, d = sys.argv[1], sys.argv[2]
end = time.monotonic() + 15
while time.monotonic() < end:
    for n in ("gresecd.pid", "control.sock"):
        try:
            os.symlink(victim, d + "/.t")
            os.rename(d + "/.t", d + "/" + n)
        except OSError:
            pass
' "$C/victim" "$C/run" &
	racer=$!
	BG_PIDS+=("$racer")
	sleep 0.05
	if run_daemon "$C/log" "$CONF_USER" "$C/run/gresecd.pid" "$C/run/control.sock"; then
		up=$((up + 1))
		stop_gresecd "$RPID"
	elif grep -q "is a symbolic link" "$C/log"; then
		refused_link=$((refused_link + 1))
	else
		other=$((other + 1))
		grep -m1 ' err' "$C/log" | sed 's/^/# other outcome: /'
	fi
	kill "$racer" 2>/dev/null
	wait "$racer" 2>/dev/null
	if [ "$(fingerprint "$C/victim")" != "$before" ]; then
		touched=$((touched + 1))
		victim_file "$C/victim"
		before=$(fingerprint "$C/victim")
	fi
done
echo "# race: $RACE_ROUNDS starts against a racing planter: $up up, $refused_link refused over a link, $other other, victim changed in $touched"
check_eq "race: the victim changed in none of $RACE_ROUNDS racing starts" "$touched" 0
check_eq "race: every start came up or was refused over the planted link" "$other" 0

# ======================================================================
# Recoverable leftovers: the start succeeds.
# ======================================================================

# An older gresecd handed the directory, pid file and socket to the daemon
# user; the daemon user added a hard link to root's file and some junk.
new_case legacy-dir
victim_file "$C/victim"
install -d -m 750 -o nobody -g nogroup "$C/run"
as_nobody sh -c "echo 12345 >'$C/run/gresecd.pid'"
stale_socket "$C/run/control.sock" nobody
as_nobody touch "$C/run/junk"
ln "$C/victim" "$C/run/old.pid"                 # see the hard link case below
before=$(fingerprint "$C/victim")
if expect_started "legacy run directory owned by nobody" "$C/log" "$CONF_USER" "$C/run/gresecd.pid" \
	"$C/run/control.sock"; then
	check_eq "legacy run directory: taken back, root:root 0755" "$(owner_mode "$C/run")" "0:0 755 directory"
	check "legacy run directory: the log says it was taken back" grep -q "taking it back" "$C/log"
	check_eq "legacy run directory: the pid file is a new one, root's, 0644" \
		"$(owner_mode "$C/run/gresecd.pid")" "0:0 644 regular file"
	check_eq "legacy run directory: the socket is a new one, root's, 0600" \
		"$(owner_mode "$C/run/control.sock")" "0:0 600 socket"
	check "legacy run directory: nobody can no longer create files there" \
		eval '! as_nobody touch "$C/run/planted" 2>/dev/null'
	check "legacy run directory: nobody can no longer remove files there" \
		eval '! as_nobody rm -f "$C/run/gresecd.pid" 2>/dev/null && test -f "$C/run/gresecd.pid"'
	stop_daemon "legacy run directory"
fi
check_eq "legacy run directory: the victim is untouched" "$(fingerprint "$C/victim")" "$before"

# A hard link to root's file as the pid file (needs fs.protected_hardlinks=0
# for the daemon user to make it; made by root here): writing the pid into
# it would have changed the victim.
new_case pid-hardlink
victim_file "$C/victim"
install -d -m 750 -o nobody -g nogroup "$C/run"
ln "$C/victim" "$C/run/gresecd.pid"
before=$(fingerprint "$C/victim" | sed 's/ 2 / 1 /')   # the link count once our name is gone
if expect_started "pid file is a hard link to root's file" "$C/log" "$CONF_USER" "$C/run/gresecd.pid" \
	"$C/run/control.sock"; then
	check_eq "pid file hard link: a new pid file, root's" "$(owner_mode "$C/run/gresecd.pid")" "0:0 644 regular file"
	stop_daemon "pid file hard link"
fi
check_eq "pid file hard link: the victim is untouched (only the link count is back to 1)" \
	"$(fingerprint "$C/victim")" "$before"

# Left by a daemon killed with SIGKILL: a regular pid file without a lock,
# a socket nobody listens on.
new_case stale-files
install -d -m 755 "$C/run"
echo 99999 >"$C/run/gresecd.pid"
stale_socket "$C/run/control.sock"
if expect_started "stale pid file and socket" "$C/log" "$CONF_USER" "$C/run/gresecd.pid" "$C/run/control.sock"; then
	check_eq "stale pid file: replaced by a root-owned one" "$(owner_mode "$C/run/gresecd.pid")" "0:0 644 regular file"
	OLD=$RPID
	kill -KILL "$OLD"; wait "$OLD" 2>/dev/null
	check "SIGKILL leaves the pid file and socket" test -f "$C/run/gresecd.pid" -a -S "$C/run/control.sock"
	check "SIGKILL: the tunnel goes with the process" wait_for link_gone "$NS" gsr0
	if expect_started "start after SIGKILL" "$C/log2" "$CONF_USER" "$C/run/gresecd.pid" "$C/run/control.sock"; then
		check "start after SIGKILL: not refused as a running daemon" \
			eval '! grep -q "another gresecd is running" "$C/log2"'
		# A second daemon on the same files is still refused.
		run_daemon "$C/log3" "$CONF_USER" "$C/run/gresecd.pid" "$C/run/other.sock" && stop_gresecd "$RPID"
		check "a second daemon on a live pid file: refused" \
			grep -q "pid file $C/run/gresecd.pid is locked: another gresecd is running" "$C/log3"
		check "a second daemon on a live pid file: left no socket" test ! -e "$C/run/other.sock"
		RPID=$(cat "$C/run/gresecd.pid")
		stop_daemon "start after SIGKILL"
	fi
fi

new_case missing-dirs
if expect_started "run directory missing (two levels)" "$C/log" "$CONF_USER" "$C/a/run/gresecd.pid" \
	"$C/a/run/control.sock"; then
	check_eq "missing run directory: created root:root 0755" "$(owner_mode "$C/a/run")" "0:0 755 directory"
	check_eq "missing run directory: its parent too" "$(owner_mode "$C/a")" "0:0 755 directory"
	stop_daemon "missing run directory"
fi

# A symbolic link above the run directory, made by root, is followed
# (/var/run -> /run on Debian).
new_case ancestor-symlink
install -d -m 755 "$C/real"
ln -s "$C/real" "$C/link"
if expect_started "root's symbolic link above the run directory" "$C/log" "$CONF_USER" \
	"$C/link/run/gresecd.pid" "$C/link/run/control.sock"; then
	check "root's symbolic link above: the files are in the link's target" test -f "$C/real/run/gresecd.pid"
	stop_daemon "root's symbolic link above"
fi

# ======================================================================
# The running daemon with daemon.user, stop/start cycles.
# ======================================================================
new_case running
RUN="$C/run"
if expect_started "daemon.user = nobody" "$C/log" "$CONF_USER" "$RUN/gresecd.pid" "$RUN/control.sock"; then
	check_eq "runs as nobody" "$(status_field "$RPID" Uid | cut -d' ' -f2)" "$NOBODY_UID"
	check_eq "run directory root:root 0755" "$(owner_mode "$RUN")" "0:0 755 directory"
	check_eq "pid file root:root 0644" "$(owner_mode "$RUN/gresecd.pid")" "0:0 644 regular file"
	check_eq "control socket root:root 0600" "$(owner_mode "$RUN/control.sock")" "0:0 600 socket"
	check_eq "NoNewPrivs: 1" "$(status_field "$RPID" NoNewPrivs)" 1
	check_eq "CapBnd: only CAP_NET_ADMIN and CAP_NET_RAW ($(status_field "$RPID" CapBnd))" \
		"$(caps_of "$RPID" CapBnd)" "$CAP_NET_ADMIN $CAP_NET_RAW"
	check_eq "CapEff: CAP_NET_ADMIN and CAP_NET_RAW" "$(caps_of "$RPID" CapEff)" "$CAP_NET_ADMIN $CAP_NET_RAW"
	check_eq "CapInh, CapAmb: empty" "$(caps_of "$RPID" CapInh)/$(caps_of "$RPID" CapAmb)" "/"
	check "the log names the bounding set kept" \
		grep -q "capability bounding set: CAP_NET_ADMIN CAP_NET_RAW" "$C/log"
	check "root's gresec still talks to it" eval 'gresec_json "$NS" "$RUN/control.sock" gsr0 >/dev/null'
	check "nobody cannot write the pid file" eval '! as_nobody sh -c ": >>\"$RUN/gresecd.pid\"" 2>/dev/null'
	for i in 1 2 3; do
		stop_daemon "cycle $i"
		# nobody may not remove root's files: they stay for the next start
		# (or the init script's stop), which replaces them safely.
		check "cycle $i: the daemon says it left the pid file" \
			grep -q "left for the next start" "$C/log"
		if ! expect_started "cycle $i: start again over the files left" "$C/log" "$CONF_USER" \
			"$RUN/gresecd.pid" "$RUN/control.sock"; then
			break
		fi
	done
	stop_daemon "cycles done"
fi

new_case running-root
if expect_started "no daemon.user (stays root)" "$C/log" "$CONF_ROOT" "$C/run/gresecd.pid" "$C/run/control.sock"; then
	stop_daemon "no daemon.user"
	check "no daemon.user: pid file removed at exit" test ! -e "$C/run/gresecd.pid"
	check "no daemon.user: control socket removed at exit" test ! -e "$C/run/control.sock"
fi

# The systemd unit's CapabilityBoundingSet and NoNewPrivileges: the drop,
# with its bounding set reduction, must work inside them.
new_case unit-caps
bset=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr 'A-Z' 'a-z' | sed 's/cap_//g; s/ /,+/g; s/^/-all,+/')
echo "# setpriv --bounding-set $bset --no-new-privs"
if run_daemon "$C/log" "$CONF_USER" "$C/run/gresecd.pid" "$C/run/control.sock" \
	setpriv --bounding-set "$bset" --inh-caps -all --no-new-privs; then
	ok "within the unit's bounding set: comes up"
	check_eq "within the unit's bounding set: CapBnd then only CAP_NET_ADMIN and CAP_NET_RAW" \
		"$(caps_of "$RPID" CapBnd)" "$CAP_NET_ADMIN $CAP_NET_RAW"
	stop_daemon "within the unit's bounding set"
else
	not_ok "within the unit's bounding set: comes up (exit $RST: $(grep -m1 ' err' "$C/log"))"
fi

# ======================================================================
# The LSB init script with a daemon user: its stop removes what the
# daemon user cannot; start/stop/restart cycles.
# ======================================================================
init_round()
{
	local label=$1 sock=$2 p1 p2 i rc
	echo "# ---- init script, $label ----"
	R="$TMPD/init-$label"
	install -d -m 711 "$R"
	INIT_PIDF="$R/run/gresecd.pid"
	INIT_SOCK="$R/run/control.sock"
	# Without GRESECD_SOCKET the socket comes from the config.
	sed "s|control_socket = \"[^\"]*\"|control_socket = \"$INIT_SOCK\"|" "$CONF_USER" >"$R/gresec.conf"
	: >"$R/default"
	initsh() {
		ip netns exec "$NS" env GRESECD_DEFAULTS="$R/default" GRESECD_DAEMON="$GRESECD" \
			GRESECD_CONFIG="$R/gresec.conf" GRESECD_PIDFILE="$INIT_PIDF" GRESECD_SOCKET="$sock" \
			"${SH:-sh}" "$INIT" "$@" 2>&1 | sed 's/^/#   init: /'
		return "${PIPESTATUS[0]}"
	}
	initsh start; rc=$?
	check_eq "init $label: start exits 0" "$rc" 0
	p1=$(cat "$INIT_PIDF" 2>/dev/null)
	check_eq "init $label: the daemon runs as nobody" "$(status_field "$p1" Uid 2>/dev/null | cut -d' ' -f2)" "$NOBODY_UID"
	check_eq "init $label: pid file root's" "$(owner_mode "$INIT_PIDF")" "0:0 644 regular file"
	for i in 1 2 3; do
		initsh restart; rc=$?
		check_eq "init $label: restart $i exits 0" "$rc" 0
		p2=$(cat "$INIT_PIDF" 2>/dev/null)
		check "init $label: restart $i runs a new daemon ($p1 -> $p2)" test -n "$p2" -a "$p2" != "$p1"
		check "init $label: restart $i: it answers" eval 'ip netns exec "$NS" "$GRESEC" -s "$INIT_SOCK" show >/dev/null'
		p1=$p2
	done
	initsh stop; rc=$?
	check_eq "init $label: stop exits 0" "$rc" 0
	check "init $label: stop removed the pid file" test ! -e "$INIT_PIDF"
	check "init $label: stop removed the control socket" test ! -e "$INIT_SOCK"
	check "init $label: the tunnel is gone" link_gone "$NS" gsr0
	initsh status; rc=$?
	check_eq "init $label: status after stop is 3" "$rc" 3
	initsh start; rc=$?
	check_eq "init $label: start after stop exits 0" "$rc" 0
	p1=$(cat "$INIT_PIDF" 2>/dev/null)
	kill -KILL "$p1" 2>/dev/null
	wait_for eval '! kill -0 "$p1" 2>/dev/null'
	initsh start; rc=$?
	check_eq "init $label: start after SIGKILL exits 0" "$rc" 0
	check "init $label: start after SIGKILL runs a new daemon" test "$(cat "$INIT_PIDF" 2>/dev/null)" != "$p1"
	initsh stop; rc=$?
	check_eq "init $label: final stop exits 0" "$rc" 0
	check "init $label: final stop removed the pid file and socket" test ! -e "$INIT_PIDF" -a ! -e "$INIT_SOCK"
}
SH=$(command -v dash || command -v sh)
init_round socket-option "$TMPD/init-socket-option/run/control.sock"
init_round socket-config ""

finish
