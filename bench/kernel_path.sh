#!/bin/bash
# bench/kernel_path.sh: what plain mode costs the daemon on each data path,
# with gresecd on Debian's own kernel in the test VM (tests/vm).
#
#   namespace H (this kernel)                    VM (Debian's kernel, qemu)
#   gresecd, user space (no GRE here)            gresecd: datapath "kernel", then "user"
#   gre1 11.11.1.1/30 ┄┄┄┄┄┄┄┄┄┄ GRE ┄┄┄┄┄┄┄┄┄┄┄┄ gre1 11.11.1.2/30
#   vmtap0 10.0.0.1/24 ──────── tap ──────────── eth0 10.0.0.2/24
#
# For each data path of the VM's gresecd, TCP in both directions (BENCH_MB
# megabytes of zeros, nc in the VM, python here): the seconds, the rate,
# and the CPU time (utime + stime of /proc/PID/stat) that the VM's gresecd
# and ours spent, per GB carried.  Under TCG the VM's absolute rates mean
# little; the CPU per GB of the VM's gresecd is the point: on the kernel
# path it has nothing to do (it only answers keepalives, here off).
#
# A benchmark: it prints numbers and never fails (exit 0, also when it
# cannot run); everything goes away on exit.
#
# Environment: top_builddir; BENCH_MB=200 (kernel path), BENCH_USER_MB=50
# (user path); VM_* as for tests/vm/lib.sh.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}/tests/netns/lib.sh"
. "$top_srcdir/tests/vm/lib.sh"

BENCH_MB=${BENCH_MB:-200}
BENCH_USER_MB=${BENCH_USER_MB:-50}
skip() { echo "bench/kernel_path.sh: cannot run: $*"; exit 0; }
require_root_netns
VM_EXTRA_MODULES="${VM_EXTRA_MODULES:+$VM_EXTRA_MODULES }sch_ingress cls_matchall act_gact"
require_vm tun
vm_setup_test
H=$(ns_name h)
vm_ns_add "$H"

tunnel()
{
	cat <<EOF
tunnels = ( { name = "gre1"; mode = "plain"; type = "gre"; datapath = "$1";
  local = "$2"; remote = "$3"; address = "11.11.1.$4/30"; peer_address = "11.11.1.$5"; } );
EOF
}
for dp in kernel user; do
	{ printf 'daemon: { log_level = "info"; };\n'; tunnel "$dp" "$UL4_VM" "$UL4_HOST" 2 1; } >"$TMPD/$dp.conf"
	vm_add_file "$TMPD/$dp.conf" "/etc/gresec/$dp.conf"
done
CONF="$TMPD/host.conf"
{ conf_daemon "$CONF"; tunnel user "$UL4_HOST" "$UL4_VM" 1 2; } >"$CONF"
vm_add_binary "$GRESECD" /usr/sbin/gresecd
vm_add_binary "$GRESEC" /usr/sbin/gresec
vm_start "$H" gresecd
start_gresecd "$H" "$CONF"
vm_wait_ready "$VM_BOOT_TIMEOUT" || skip "the VM did not get ready"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

# to_vm MB / from_vm MB: seconds of one transfer through gre1.
to_vm()
{
	vm_run_quiet tcp_listen /dev/null || return 1
	ip netns exec "$H" "$PY" -c '
import socket, sys, time
n = int(sys.argv[1]) * 1000000
buf = bytes(1 << 20)
t0 = time.monotonic()
s = socket.create_connection(("11.11.1.2", 5001), timeout=300)
while n > 0:
    k = s.send(buf[:min(n, len(buf))])
    n -= k
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
print("%.2f" % (time.monotonic() - t0))
' "$1"
	vm_run_quiet -t 300 tcp_wait
}

from_vm()
{
	local out="$TMPD/from.out"
	rm -f "$out" "$out.ready"
	ip netns exec "$H" "$PY" -c '
import socket, sys, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("11.11.1.1", 5001))
l.listen(1)
open(sys.argv[2] + ".ready", "w").close()
c, _ = l.accept()
t0 = time.monotonic()
n, want = 0, int(sys.argv[1]) * 1000000
while n < want:
    b = c.recv(1 << 20)
    if not b:
        break
    n += len(b)
open(sys.argv[2], "w").write("%.2f %d\n" % (time.monotonic() - t0, n))
' "$1" "$out" &
	local rpid=$!
	wait_for test -e "$out.ready" || return 1
	vm_run -t 300 "head -c $(($1 * 1000000)) /dev/zero | nc 11.11.1.1 5001 >/dev/null" >/dev/null
	wait "$rpid"
	cut -d' ' -f1 "$out"
}

# measure LABEL DIRECTION MB
RESULTS=()
measure()
{
	local label=$1 dir=$2 mb=$3 vm0 vm1 h0 h1 secs
	vm0=$(vm_run gs_cpu) h0=$(ticks "$GRESECD_PID")
	secs=$("$dir" "$mb")
	vm1=$(vm_run gs_cpu) h1=$(ticks "$GRESECD_PID")
	[ -n "$secs" ] || secs=n/a
	RESULTS+=("$(awk -v l="$label" -v d="$dir" -v mb="$mb" -v s="$secs" -v v=$((vm1 - vm0)) \
		-v h=$((h1 - h0)) -v hz="$HZ" 'BEGIN {
		rate = (s + 0 > 0) ? sprintf("%.1f", mb / s) : "n/a"
		printf "%-8s %-8s %6d %8s %9s %9.2f %9.2f %9.2f %9.2f\n", l, d, mb, s, rate,
			v / hz, v / hz * 1000 / mb, h / hz, h / hz * 1000 / mb }')")
}

for dp in kernel user; do
	mb=$BENCH_MB
	[ "$dp" = user ] && mb=$BENCH_USER_MB
	vm_run_quiet gs_start "/etc/gresec/$dp.conf" || { echo "# $dp: gresecd in the VM did not start"; continue; }
	wait_for pings "$H" 11.11.1.2 1 >/dev/null
	echo "# $dp: $(vm_run "gs show gre1" | sed -n 's/^ *data path: //p')"
	measure "$dp" from_vm "$mb"
	measure "$dp" to_vm "$mb"
	vm_run_quiet gs_stop
done

echo "# kernel $VM_KVER under $VM_ACCEL_NAME; CPU: utime+stime of gresecd (the VM's and ours), HZ $HZ"
printf '%-8s %-8s %6s %8s %9s %9s %9s %9s %9s\n' path dir MB s MB/s "vm cpu s" "vm s/GB" "host s" "host s/GB"
printf '%s\n' "${RESULTS[@]}"
vm_stop 60 >/dev/null
stop_gresecd "$GRESECD_PID" >/dev/null
exit 0
