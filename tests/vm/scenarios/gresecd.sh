# shellcheck shell=dash
# tests/vm/scenarios/gresecd.sh: gresecd itself in the VM, on Debian's
# kernel, for tests/vm/test_vm_kernel_path.sh and bench/kernel_path.sh.
# The test puts gresecd and gresec in the VM (vm_add_binary) with its
# configuration files (vm_add_file); nothing runs until the host asks.
# Functions for vm_run:
#
#   gs_start CONF        start gresecd -f with CONF, wait until it answers
#   gs_stop              SIGTERM, wait until it has exited (status printed)
#   gs ARGS...           gresec on gresecd's control socket
#   gs_field TUNNEL FIELD    a top-level field of `gresec show TUNNEL --json`
#   gs_pid               gresecd's process ID
#   gs_cpu               gresecd's user + system CPU time, in clock ticks
#   tcp_listen FILE      nc -l -p 5001 > FILE in the background
#   tcp_wait             wait (up to 120 s) until that nc has ended
#   link_state DEV       "operstate flags" of DEV, e.g. "dormant 0x1091"
#   module_loaded NAME   /sys/module/NAME exists
GS_SOCK=/run/gresec/control.sock
GS_PID=/run/gresec/gresecd.pid
GS_LOG=/run/vm/gresecd.log

gs() { gresec -s "$GS_SOCK" "$@"; }
gs_pid() { cat "$GS_PID" 2>/dev/null; }

gs_start()
{
	local i=0
	mkdir -p /run/gresec
	echo "---- gresecd -c $1" >>"$GS_LOG"
	gresecd -f -c "$1" -s "$GS_SOCK" -p "$GS_PID" >>"$GS_LOG" 2>&1 &
	while ! gs show >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			tail -n 20 "$GS_LOG"
			return 1
		fi
		sleep 0.1
	done
}

gs_stop()
{
	local pid i=0
	pid=$(gs_pid)
	[ -n "$pid" ] || return 1
	kill -TERM "$pid"
	while [ -e "/proc/$pid" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.1
	done
}

gs_field()
{
	gs show "$1" --json | sed -n "s/.*\"$2\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | tr -d '"'
}

gs_cpu()
{
	# utime and stime, fields 14 and 15 of /proc/PID/stat (the name, field
	# 2, has no blanks here)
	awk '{ print $14 + $15 }' "/proc/$(gs_pid)/stat"
}

tcp_listen()
{
	nc -l -p 5001 >"$1" 2>/dev/null &
	echo $! >/run/vm/nc.pid
}

tcp_wait()
{
	local pid i=0
	pid=$(cat /run/vm/nc.pid)
	while [ -e "/proc/$pid" ]; do
		i=$((i + 1))
		[ $i -gt 1200 ] && return 1
		sleep 0.1
	done
}

link_state()
{
	echo "$(cat "/sys/class/net/$1/operstate") $(cat "/sys/class/net/$1/flags")"
}

module_loaded()
{
	[ -e "/sys/module/$1" ]
}

vm_ready
vm_serve
