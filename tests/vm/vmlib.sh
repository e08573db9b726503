# shellcheck shell=dash
# tests/vm/vmlib.sh: helpers INSIDE the test VM (dash + busybox), sourced by
# /init and by every scenario.  Installed as /lib/vm/vmlib.sh in the
# initramfs.  The host side is tests/vm/lib.sh.
#
#   vm_ok DESC / vm_not_ok DESC   one result line on the console:
#                                 "VM: ok - DESC" / "VM: not ok - DESC";
#                                 the host turns them into its own lines
#                                 (vm_results)
#   vm_check DESC CMD...          vm_ok or vm_not_ok from CMD's exit status;
#                                 on failure CMD's output follows as "# ..."
#   vm_note TEXT...               "VM: # TEXT" on the console (not a result)
#   vm_ready                      "VM: ready": the scenario has set up its side
#   vm_serve [SECONDS]            answer the host's vm_run commands on the
#                                 second serial port until the host says quit
#                                 (vm_stop) or SECONDS have passed (0: no
#                                 limit; checked between commands)
#   vm_uptime                     seconds since boot, with hundredths
#   vm_icmp_out_unreach           Icmp OutDestUnreachs from /proc/net/snmp
#   icmp_mark, icmp_since_mark    ICMP and ICMPv6 destination unreachables
#                                 this kernel sent since the mark ("V4 V6")
#
# Commands from the host run in a subshell of the scenario's shell, so they
# can call the scenario's functions and see its variables.

VM_STATE=/run/vm
VM_CTL_TTY=${VM_CTL_TTY:-/dev/ttyS1}

vm_say()
{
	printf '%s\n' "$*" >/dev/console
}

vm_result()
{
	vm_say "VM: $*"
	printf '%s\n' "$*" >>"$VM_STATE/results"
}

vm_ok() { vm_result "ok - $*"; }
vm_not_ok() { vm_result "not ok - $*"; }
vm_note() { vm_say "VM: # $*"; }
vm_ready() { vm_say "VM: ready at $(vm_uptime) s"; }

vm_check()
{
	local desc="$1"
	shift
	if "$@" >"$VM_STATE/check.out" 2>&1; then
		vm_ok "$desc"
	else
		vm_not_ok "$desc"
		sed 's/^/VM: #   /' "$VM_STATE/check.out" | tail -n 20 >/dev/console
	fi
}

vm_uptime()
{
	cut -d' ' -f1 /proc/uptime
}

vm_icmp_out_unreach()
{
	awk '/^Icmp:/ { if (!h) { for (i = 1; i <= NF; i++) col[$i] = i; h = 1 }
			else print $col["OutDestUnreachs"] }' /proc/net/snmp
}

icmp_counts()
{
	echo "$(vm_icmp_out_unreach) $(awk '$1 == "Icmp6OutDestUnreachs" { print $2 }' /proc/net/snmp6)"
}

icmp_mark()
{
	icmp_counts >"$VM_STATE/icmp.mark"
}

icmp_since_mark()
{
	local a4 a6 b4 b6
	read -r a4 a6 <"$VM_STATE/icmp.mark"
	read -r b4 b6 <<EOF
$(icmp_counts)
EOF
	echo "$((b4 - a4)) $((b6 - a6))"
}

# The protocol on the second serial port (raw, no echo), one request a line:
#   host -> VM   "<id> <command, base64>"  or  "<id> quit"
#   VM -> host   "@@serving" once, then per request
#                "@@begin <id>", the command's output,
#                "@@end <id> <status> <VM result lines so far>"
vm_serve()
{
	local hold=${1:-0} start id b64 rc now

	start=$(cut -d. -f1 /proc/uptime)
	stty -F "$VM_CTL_TTY" raw -echo 2>/dev/null ||
		{ vm_not_ok "vm_serve: no control port $VM_CTL_TTY"; return 1; }
	# shellcheck disable=SC2094 # a tty: one way in, one way out
	exec 8<"$VM_CTL_TTY" 9>"$VM_CTL_TTY"
	printf '@@serving\n' >&9
	vm_note "serving host commands on $VM_CTL_TTY${hold:+ (limit ${hold} s)}"
	while IFS=' ' read -r id b64 <&8; do
		[ -n "$id" ] || continue
		if [ "$b64" = quit ]; then
			printf '@@begin %s\n@@end %s 0\n' "$id" "$id" >&9
			break
		fi
		printf '%s' "$b64" | base64 -d >"$VM_STATE/cmd" 2>/dev/null
		(eval "$(cat "$VM_STATE/cmd")") </dev/null >"$VM_STATE/out" 2>&1
		rc=$?
		printf '@@begin %s\n' "$id" >&9
		cat "$VM_STATE/out" >&9
		[ -s "$VM_STATE/out" ] && [ "$(tail -c 1 "$VM_STATE/out" | od -An -c | tr -d ' ')" != '\n' ] &&
			printf '\n' >&9
		printf '@@end %s %s %s\n' "$id" "$rc" "$(($(wc -l <"$VM_STATE/results")))" >&9
		if [ "$hold" -gt 0 ]; then
			now=$(cut -d. -f1 /proc/uptime)
			if [ $((now - start)) -ge "$hold" ]; then
				vm_note "vm_serve: $hold s passed, no more commands"
				break
			fi
		fi
	done
	exec 8<&- 9>&-
	return 0
}
