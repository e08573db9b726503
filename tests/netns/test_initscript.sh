#!/bin/bash
# tests/netns/test_initscript.sh: drive init/gresecd.init against the real
# gresecd inside a network namespace.
#
#   ns I:  veth-a 10.0.0.1/24 <──> veth-b 10.0.0.2/24   (both in ns I)
#          gsi0: plain GRE 10.0.0.1 -> 10.0.0.2, 10.201.0.1/30
#          gsi1: added by a reload (key 7), 10.201.1.1/30
#
# Every path of the init script (daemon, config, pid file, control socket,
# defaults file) is redirected into a temp dir through its GRESECD_*
# environment variables.  The config's own daemon section names other
# paths, so the test sees that the script's -p and -s win.  The whole
# sequence runs twice: with start-stop-daemon, and with the portable
# fallback (GRESEC_NO_SSD=1).  It checks the LSB exit codes of start,
# status (0 running, 1 dead with pid file, 3 stopped), reload, restart,
# stop and unknown actions, the pid file, and that the tunnel interfaces
# appear, survive reloads and disappear on stop.  reload reports the
# daemon's answer (gresec reload): its message and exit 0, or exit 1 with
# the reason when a tunnel cannot be set up; without a control socket it
# falls back to SIGHUP and says so.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

if [ ! -x "$top_builddir/gresecd" ] || [ ! -x "$top_builddir/gresec" ]; then
	echo "SKIP: $(basename "$0") needs the built gresecd and gresec in $top_builddir"
	exit 77
fi

. "$top_srcdir/tests/netns/lib.sh"

INIT="$top_srcdir/init/gresecd.init"
[ -r "$INIT" ] || { echo "init script missing: $INIT" >&2; exit 99; }

require_root_netns
setup_test

NS=$(ns_name i)
make_local_pair "$NS"

# Set per round by setup_round.
R=""            # the round's directory
CONF=""
PIDF=""
SOCK=""
NO_SSD=""

# init ACTION: run the init script (with dash, as /bin/sh would) inside the
# namespace with every path redirected; prints its output, returns its
# exit status.
init()
{
	ip netns exec "$NS" env \
		GRESECD_DEFAULTS="$R/default" \
		GRESECD_DAEMON="$GRESECD" \
		GRESECD_CLI="$GRESEC" \
		GRESECD_CONFIG="$CONF" \
		GRESECD_PIDFILE="$PIDF" \
		GRESECD_SOCKET="$SOCK" \
		GRESEC_NO_SSD="$NO_SSD" \
		"$SH" "$INIT" "$@" 2>&1 | sed 's/^/#   init: /'
	return "${PIPESTATUS[0]}"
}

# init_rc DESC WANT ACTION: run ACTION, check its exit status.
init_rc()
{
	local desc=$1 want=$2 rc
	shift 2
	init "$@"
	rc=$?
	check_eq "$desc: '$*' exits $want" "$rc" "$want"
}

# write_conf N: a config with tunnels gsi0 .. gsi(N-1), and the group
# $EXTRA_TUNNEL when set.
EXTRA_TUNNEL=""
write_conf()
{
	local n=$1 i
	{
		# Deliberately not the paths the init script passes: -p/-s must win.
		printf 'daemon: { pid_file = "%s"; control_socket = "%s"; log_level = "debug"; };\n' \
			"$R/wrong.pid" "$R/wrong.sock"
		echo 'tunnels = ('
		for ((i = 0; i < n; i++)); do
			[ "$i" -gt 0 ] && echo ','
			echo "  { name = \"gsi$i\"; description = \"init script test $i\";"
			echo '    mode = "plain"; type = "gre";'
			echo '    local = "10.0.0.1"; remote = "10.0.0.2";'
			[ "$i" -gt 0 ] && echo "    key = $((i + 6));"
			echo "    address = \"10.201.$i.1/30\"; peer_address = \"10.201.$i.2\"; }"
		done
		[ -n "$EXTRA_TUNNEL" ] && echo ", { $EXTRA_TUNNEL }"
		echo ');'
	} >"$CONF"
}

pid_from_file()
{
	local p=""
	read -r p <"$PIDF" 2>/dev/null
	echo "$p"
}

# A live process that is not a zombie (PID 1 here may not reap).
alive()
{
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null &&
		! grep -qE '^[0-9]+ \(.*\) [ZX]' "/proc/$1/stat" 2>/dev/null
}

dead() { ! alive "$1"; }

ifindex() { link_field "$NS" "$1" ifindex; }

# The daemon answers on the socket the init script gave it.
answers()
{
	ip netns exec "$NS" "$GRESEC" -s "$SOCK" show --json >/dev/null 2>&1
}

setup_round()
{
	local label=$1
	R="$TMPD/$label"
	mkdir -p "$R" || fail "mkdir $R"
	CONF="$R/gresec.conf"
	PIDF="$R/run/gresecd.pid"
	SOCK="$R/run/control.sock"
	# The defaults file is read: it asks for debug logging.
	printf 'GRESECD_OPTS="-d"\n' >"$R/default"
	write_conf 1
}

round()
{
	local label=$1 pid pid2 pid3 idx0 rc
	echo "# ---- $label ----"
	setup_round "$label"

	init_rc "$label" 3 status
	init_rc "$label" 0 stop

	# start
	init_rc "$label" 0 start
	check "$label: pid file $PIDF exists while running" test -s "$PIDF"
	pid=$(pid_from_file)
	check "$label: the pid in the pid file is running" alive "$pid"
	check "$label: the daemon runs inside the namespace" \
		grep -qx "$pid" <(ip netns pids "$NS")
	check "$label: gsi0 exists after start" link_exists "$NS" gsi0
	check "$label: gsi0 has 10.201.0.1/30" addr_present "$NS" gsi0 10.201.0.1 30
	check "$label: control socket at the init script's path" answers
	check "$label: config's own pid file not used (-p wins)" test ! -e "$R/wrong.pid"
	check "$label: config's own socket not used (-s wins)" test ! -e "$R/wrong.sock"
	check "$label: GRESECD_OPTS from the defaults file reached gresecd (-d)" \
		grep -q -- ' -d\( \|$\)' <(tr '\0' ' ' <"/proc/$pid/cmdline")

	# start again: still 0, same daemon
	init_rc "$label (already running)" 0 start
	check_eq "$label: a second start keeps the daemon" "$(pid_from_file)" "$pid"

	init_rc "$label" 0 status

	# reload: a second tunnel appears, the first is left alone
	idx0=$(ifindex gsi0)
	write_conf 2
	init_rc "$label" 0 reload
	check "$label: gsi1 appears after reload" wait_for link_exists "$NS" gsi1
	check_eq "$label: gsi0 untouched by reload (same ifindex)" "$(ifindex gsi0)" "$idx0"
	check_eq "$label: reload keeps the daemon" "$(pid_from_file)" "$pid"
	init_rc "$label (after reload)" 0 status

	# reload with a broken file: refused, daemon and tunnels stay
	cp "$CONF" "$R/good.conf"
	printf 'tunnels = ( { name = "gsi0"; mode = "plain"; local = "10.0.0.1"; remote = "nowhere"; } );\n' >"$CONF"
	init "reload"
	rc=$?
	check "$label: reload of an invalid config fails (exit $rc)" test "$rc" -ne 0
	check "$label: daemon survives the invalid reload" alive "$pid"
	check "$label: gsi1 survives the invalid reload" link_exists "$NS" gsi1
	cp "$R/good.conf" "$CONF"

	# reload reports what the daemon answered
	out=$(init reload); rc=$?
	echo "$out"
	check_eq "$label: reload exits 0" "$rc" 0
	check "$label: reload prints the daemon's answer" \
		eval 'echo "$out" | grep -qF "Reloaded gresec tunnel daemon configuration: reloaded $CONF: 2 tunnels"'
	# a tunnel the daemon cannot set up (its local address is not
	# assigned: -t only warns): the reload fails and says why
	EXTRA_TUNNEL='name = "gsi9"; mode = "plain"; local = "10.0.0.99"; remote = "10.0.0.2"; key = 99;'
	write_conf 2
	out=$(init reload); rc=$?
	echo "$out"
	check_eq "$label: reload with a tunnel that cannot be set up exits 1" "$rc" 1
	check "$label: ... and says the reload failed" eval 'echo "$out" | grep -qF "reload failed (gresec reload exit status 1)"'
	check "$label: ... with the daemon's reason, naming the tunnel" \
		eval 'echo "$out" | grep -qF "1 of 3 tunnels not running" && echo "$out" | grep -qF "tunnel \"gsi9\" (line" &&
		      echo "$out" | grep -qF "local address 10.0.0.99 is not assigned"'
	check "$label: ... the daemon lives on" alive "$pid"
	check "$label: ... gsi1 still there" link_exists "$NS" gsi1
	EXTRA_TUNNEL=""
	write_conf 2
	init_rc "$label (fixed again)" 0 reload

	init_rc "$label" 0 force-reload
	check "$label: daemon alive after force-reload" alive "$pid"

	# no control socket: SIGHUP, and the script says so
	rm -f "$SOCK"
	write_conf 3
	out=$(init reload); rc=$?
	echo "$out"
	check_eq "$label: reload without a control socket exits 0" "$rc" 0
	check "$label: ... says it fell back to SIGHUP" \
		eval 'echo "$out" | grep -qF "by SIGHUP (no control socket at $SOCK): see the log for the result"'
	check "$label: ... and the daemon reloaded (gsi2 appears)" wait_for link_exists "$NS" gsi2
	write_conf 2

	# restart: a new daemon with both tunnels
	init_rc "$label" 0 restart
	pid2=$(pid_from_file)
	check "$label: restart runs a new daemon" test -n "$pid2" -a "$pid2" != "$pid"
	check "$label: the old daemon is gone after restart" dead "$pid"
	check "$label: new daemon alive after restart" alive "$pid2"
	check "$label: gsi0 exists after restart" link_exists "$NS" gsi0
	check "$label: gsi1 exists after restart" link_exists "$NS" gsi1

	# stop: everything goes away
	init_rc "$label" 0 stop
	check "$label: daemon gone after stop" dead "$pid2"
	check "$label: pid file removed by stop" test ! -e "$PIDF"
	check "$label: gsi0 removed after stop" link_gone "$NS" gsi0
	check "$label: gsi1 removed after stop" link_gone "$NS" gsi1
	init_rc "$label (stopped)" 3 status
	init_rc "$label (already stopped)" 0 stop
	init_rc "$label (stopped)" 7 reload
	init_rc "$label (stopped)" 0 try-restart
	check "$label: try-restart does not start a stopped daemon" test ! -e "$PIDF"

	# SIGKILL leaves a pid file: status 1; start cleans up and runs again
	init_rc "$label" 0 start
	pid3=$(pid_from_file)
	check "$label: daemon running before SIGKILL" alive "$pid3"
	kill -KILL "$pid3" 2>/dev/null
	check "$label: daemon dead after SIGKILL" wait_for dead "$pid3"
	check "$label: pid file left behind by SIGKILL" test -s "$PIDF"
	init_rc "$label (killed)" 1 status
	init_rc "$label (after SIGKILL)" 0 start
	check "$label: a new daemon after the stale pid file" \
		test -n "$(pid_from_file)" -a "$(pid_from_file)" != "$pid3"
	check "$label: gsi0 back after start over stale state" link_exists "$NS" gsi0
	check "$label: gsi1 back after start over stale state" link_exists "$NS" gsi1
	init_rc "$label" 0 stop
	check "$label: gsi0 removed after the last stop" link_gone "$NS" gsi0

	# A tunnel that cannot come up on this host (gresecd -t exits 2): the
	# script warns and starts; the daemon runs the others and retries it.
	EXTRA_TUNNEL='name = "gsi8"; mode = "plain"; local = "10.0.0.1"; remote = "10.0.0.2"; key = 88; device = "nosuch8";'
	write_conf 1
	out=$(init start 2>&1); rc=$?
	echo "$out"
	check_eq "$label: start with a tunnel that cannot come up exits 0" "$rc" 0
	check "$label: ... and warns" eval 'echo "$out" | grep -qF "some tunnels of $CONF cannot come up now"'
	check "$label: ... the others run" link_exists "$NS" gsi0
	check "$label: ... that one is retried" eval 'ip netns exec "$NS" "$GRESEC" -s "$SOCK" show --brief gsi8 | grep -q "^gsi8 .*failed"'
	init_rc "$label" 0 stop
	EXTRA_TUNNEL=""
	write_conf 1
	init_rc "$label (final)" 3 status

	init_rc "$label" 2 bogus-action
	init_rc "$label (no action)" 2
}

# dash when available: the script must not rely on bash.
SH=$(command -v dash || command -v sh)

if command -v start-stop-daemon >/dev/null 2>&1; then
	NO_SSD=0
	round ssd
else
	echo "# start-stop-daemon not installed: only the fallback is tested"
fi
NO_SSD=1
round fallback

finish
