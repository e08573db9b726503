#!/bin/bash
# tests/netns/test_privdrop.sh: gresecd with daemon.user = "nobody".
#
#   ns A (gresecd as nobody)                        ns B (gresecd as root)
#   p1 plain key 1   11.1.1.1/30 ┄┄ GRE ┄┄┄┄┄┄┄┄┄┄ p1 11.1.1.2/30
#   s1 secure :51947 11.2.1.1/30 ┄┄ UDP ┄┄┄┄┄┄┄┄┄┄ s1 11.2.1.2/30
#   s2 secure :51948 11.3.1.1/30 (added by SIGHUP after the drop)
#   veth0 10.0.0.1/24 ─────────────────────────────── veth0 10.0.0.2/24
#
# After set-up A runs as nobody:nogroup (/proc/PID/status), with CapEff
# exactly CAP_NET_ADMIN + CAP_NET_RAW (plain tunnel) or CAP_NET_ADMIN alone
# (secure only), no core dumps; SIGHUP adding a tunnel still works; SIGTERM
# removes the interfaces; the run directory, pid file and socket stay
# root's (a directory owned by nobody, as older versions left it, is taken
# back; one the daemon creates is root's), so nobody cannot remove them at
# exit: they are left, said so in the log, and the next start replaces
# them; key files must belong to nobody (a tunnel whose key file is root's
# fails and is retried, the others run); a start after SIGKILL (stale pid
# file and socket) comes up.  As nobody, a tunnel deleted under the daemon
# is made again (CAP_NET_ADMIN is enough).  tests/netns/test_rundir.sh has the rest.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
id nobody >/dev/null 2>&1 || skip "$(basename "$0") needs the user nobody"
getent group nogroup >/dev/null 2>&1 || skip "$(basename "$0") needs the group nogroup"
setup_test

NOBODY_UID=$(id -u nobody)
NOGROUP_GID=$(getent group nogroup | cut -d: -f3)
CAP_NET_ADMIN=12 CAP_NET_RAW=13

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"

# nobody must reach its files under $TMPD; nothing secret is readable there.
chmod 711 "$TMPD"
RUN="$TMPD/run"                 # owned by nobody (as older versions left it): taken back
install -d -m 755 -o nobody -g nogroup "$RUN"

make_keys a1 b1 a2 b2 aroot
chown nobody:nogroup "$TMPD/a1.key" "$TMPD/a2.key"   # A's keys belong to its user

plain_block()
{
	cat <<-EOF
	  { name = "$1"; mode = "plain"; type = "gre"; local = "$2"; remote = "$3"; key = 1;
	    address = ( "$4/30" ); peer_address = ( "$5" ); }
	EOF
}

secure_block()
{
	cat <<-EOF
	  { name = "$1"; mode = "secure"; type = "gre"; local = "$2"; remote = "$3"; port = $4;
	    address = ( "$5/30" ); peer_address = ( "$6" );
	    private_key_file = "$7"; peer_public_key = "$8"; }
	EOF
}

# write_a FILE SOCK PID TUNNELS...: A's config as nobody, tunnels from
# p1 s1 s2 s2root (s2 with a key file owned by root).
write_a()
{
	local f=$1 sock=$2 pid=$3 t sep=""
	shift 3
	{
		printf 'daemon: { control_socket = "%s"; pid_file = "%s"; log_level = "debug";\n' "$sock" "$pid"
		printf '  user = "nobody"; group = "nogroup"; };\n'
		echo "tunnels = ("
		for t in "$@"; do
			echo "$sep"; sep=","
			case $t in
			p1) plain_block p1 "$UL4_A" "$UL4_B" 11.1.1.1 11.1.1.2 ;;
			s1) secure_block s1 "$UL4_A" "$UL4_B" 51947 11.2.1.1 11.2.1.2 "$TMPD/a1.key" "$PUB_B1" ;;
			s2) secure_block s2 "$UL4_A" "$UL4_B" 51948 11.3.1.1 11.3.1.2 "$TMPD/a2.key" "$PUB_B2" ;;
			s2root) secure_block s2 "$UL4_A" "$UL4_B" 51948 11.3.1.1 11.3.1.2 "$TMPD/aroot.key" "$PUB_B2" ;;
			esac
		done
		echo ");"
	} >"$f"
	chmod 644 "$f"   # nobody re-reads it on reload
}

CB="$TMPD/b.conf"
{
	conf_daemon "$CB"
	echo "tunnels = ("
	plain_block p1 "$UL4_B" "$UL4_A" 11.1.1.2 11.1.1.1; echo ","
	secure_block s1 "$UL4_B" "$UL4_A" 51947 11.2.1.2 11.2.1.1 "$TMPD/b1.key" "$PUB_A1"; echo ","
	secure_block s2 "$UL4_B" "$UL4_A" 51948 11.3.1.2 11.3.1.1 "$TMPD/b2.key" "$PUB_A2"
	echo ");"
} >"$CB"
start_gresecd "$B" "$CB"; PID_B=$GRESECD_PID SOCK_B=$GRESECD_SOCK

# start_a CONF SOCK PID: gresecd in A with explicit paths; sets PID_A LOG_A SOCK_A.
start_a()
{
	local conf=$1
	SOCK_A=$2 PIDF_A=$3 LOG_A="${conf%.conf}.log"
	ip netns exec "$A" "$GRESECD" -f -c "$conf" -p "$PIDF_A" -s "$SOCK_A" >>"$LOG_A" 2>&1 &
	PID_A=$!
	DAEMON_PIDS+=("$PID_A")
	DAEMON_LOGS+=("$LOG_A")
	wait_for daemon_answers "$A" "$SOCK_A" "$PID_A" && kill -0 "$PID_A" 2>/dev/null ||
		fail "gresecd as nobody in A does not come up ($conf)"
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

# stop_a LABEL: SIGTERM, exit 0, interfaces gone; the pid file and socket
# are root's in root's directory: nobody may not remove them, says so, and
# leaves them for the next start (or the init script's stop).
stop_a()
{
	local label=$1 st t
	shift
	stop_gresecd "$PID_A"; st=$?
	check_eq "$label: exits 0 on SIGTERM" "$st" 0
	for t in "$@"; do
		check "$label: $t removed on SIGTERM" link_gone "$A" "$t"
	done
	check_eq "$label: control socket left, root's ($SOCK_A)" "$(stat -c '%U %F' "$SOCK_A")" "root socket"
	check_eq "$label: pid file left, root's, naming the stopped daemon ($PIDF_A)" \
		"$(stat -c %U "$PIDF_A") $(cat "$PIDF_A")" "root $PID_A"
	check "$label: the log says why they were left" \
		grep -q "pid file $PIDF_A left for the next start or the init script's stop" "$LOG_A"
}

state_is() { [ "$(tunnel_field "$1" "$2" "$3" state)" = "$4" ]; }

echo "# ---- key files must belong to nobody ----"
CA="$TMPD/a.conf"
# A tunnel whose key file nobody may not own: that tunnel fails (and is
# retried), the daemon runs the other.  Its own run directory, so that
# the one owned by nobody is still there for the next part.
KR="$TMPD/kr"
mkdir -m 755 "$KR"
write_a "$CA" "$KR/a.sock" "$KR/a.pid" s1 s2root
start_a "$CA" "$KR/a.sock" "$KR/a.pid"
check "key file owned by root while user = nobody: the daemon runs" kill -0 "$PID_A"
check "it says who must own the key file" grep -q \
	"private_key_file: \"$TMPD/aroot.key\": owned by uid 0, not by uid $NOBODY_UID, run: chown $NOBODY_UID $TMPD/aroot.key" \
	"$LOG_A"
check_eq "s2 (that key file) failed" "$(tunnel_field "$A" "$SOCK_A" s2 state)" failed
check "s2: gresec show says who must own the key file" eval \
	'tunnel_field "$A" "$SOCK_A" s2 last_error | grep -qF "owned by uid 0, not by uid $NOBODY_UID"'
check "s2: no interface" link_gone "$A" s2
check "s1 runs" link_exists "$A" s1
stop_gresecd "$PID_A"
check "after the stop: no interface left" eval 'link_gone "$A" s1 && link_gone "$A" s2'
: >"$CA.log"

echo "# ---- plain + secure, run directory owned by nobody (taken back) ----"
write_a "$CA" "$RUN/a.sock" "$RUN/a.pid" p1 s1
start_a "$CA" "$RUN/a.sock" "$RUN/a.pid"
check "log says it runs as nobody" grep -q 'running as nobody (uid [0-9]*, gid [0-9]*) with CAP_NET_ADMIN and CAP_NET_RAW' "$LOG_A"
check_eq "Uid: real, effective, saved, fs are nobody" "$(status_field "$PID_A" Uid)" \
	"$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID"
check_eq "Gid: real, effective, saved, fs are nogroup" "$(status_field "$PID_A" Gid)" \
	"$NOGROUP_GID $NOGROUP_GID $NOGROUP_GID $NOGROUP_GID"
check_eq "Groups: only nogroup" "$(status_field "$PID_A" Groups | tr -d ' ')" "$NOGROUP_GID"
check_eq "CapEff: exactly CAP_NET_ADMIN and CAP_NET_RAW ($(status_field "$PID_A" CapEff))" \
	"$(caps_of "$PID_A" CapEff)" "$CAP_NET_ADMIN $CAP_NET_RAW"
check_eq "CapPrm: exactly CAP_NET_ADMIN and CAP_NET_RAW" "$(caps_of "$PID_A" CapPrm)" "$CAP_NET_ADMIN $CAP_NET_RAW"
check_eq "CapInh: empty" "$(caps_of "$PID_A" CapInh)" ""
check_eq "CapAmb: empty" "$(caps_of "$PID_A" CapAmb)" ""
check "core dumps disabled (Max core file size 0 0)" \
	eval 'grep -Eq "^Max core file size +0 +0 " "/proc/$PID_A/limits"'
check_eq "run directory taken back: root's, mode 0755" "$(stat -c '%U %a' "$RUN")" "root 755"
check_eq "control socket root's, mode 0600" "$(stat -c '%U %a' "$SOCK_A")" "root 600"
check_eq "pid file root's and names the daemon" \
	"$(stat -c %U "$PIDF_A") $(cat "$PIDF_A")" "root $PID_A"
check "root may still use the socket: gresec show" eval 'gresec_json "$A" "$SOCK_A" p1 >/dev/null'
ip netns exec "$A" ping -q -c1 -W1 11.2.1.2 >/dev/null 2>&1
check "s1 established after the drop" wait_for state_is "$A" "$SOCK_A" s1 established
check "p1 passes traffic as nobody" pings "$A" 11.1.1.2 3
check "s1 passes traffic as nobody" pings "$A" 11.2.1.2 3

echo "# ---- reload after the drop ----"
write_a "$CA" "$RUN/a.sock" "$RUN/a.pid" p1 s1 s2root
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
check "new tunnel with a key file owned by root: reload fails ($st: $out)" test "$st" -ne 0
# nobody cannot even open a root-owned 0600 file: the open error names it.
check "key file owned by root: refused, naming the tunnel and the file" \
	grep -q "tunnel \"s2\": private_key_file: \"$TMPD/aroot.key\": Permission denied" "$LOG_A"
check "key file owned by root: s2 not created" link_gone "$A" s2
check "key file owned by root: p1 still passes traffic" pings "$A" 11.1.1.2 2
write_a "$CA" "$RUN/a.sock" "$RUN/a.pid" p1 s1 s2
kill -HUP "$PID_A"
check "SIGHUP adding s2 after the drop: interface appears" wait_for link_exists "$A" s2
check "SIGHUP adding s2: address set" wait_for addr_present "$A" s2 11.3.1.1 30
ip netns exec "$A" ping -q -c1 -W1 11.3.1.2 >/dev/null 2>&1
check "s2 established" wait_for state_is "$A" "$SOCK_A" s2 established
check "s2 passes traffic" pings "$A" 11.3.1.2 3
check_eq "still nobody after the reload" "$(status_field "$PID_A" Uid | cut -d" " -f2)" "$NOBODY_UID"
check_eq "CapEff unchanged after the reload" "$(caps_of "$PID_A" CapEff)" "$CAP_NET_ADMIN $CAP_NET_RAW"
stop_a "taken-back run dir" p1 s1 s2

echo "# ---- secure only: CAP_NET_ADMIN alone; run directory created by the daemon ----"
CA2="$TMPD/a2.conf"
NEWRUN="$RUN/made/by/gresecd"
write_a "$CA2" "$NEWRUN/a2.sock" "$NEWRUN/a2.pid" s1
start_a "$CA2" "$NEWRUN/a2.sock" "$NEWRUN/a2.pid"
check "log: CAP_NET_ADMIN only" grep -q 'running as nobody (uid [0-9]*, gid [0-9]*) with CAP_NET_ADMIN$' "$LOG_A"
check_eq "secure only: CapEff exactly CAP_NET_ADMIN ($(status_field "$PID_A" CapEff))" \
	"$(caps_of "$PID_A" CapEff)" "$CAP_NET_ADMIN"
check_eq "secure only: CapPrm exactly CAP_NET_ADMIN" "$(caps_of "$PID_A" CapPrm)" "$CAP_NET_ADMIN"
check_eq "secure only: runs as nobody" "$(status_field "$PID_A" Uid | cut -d" " -f1)" "$NOBODY_UID"
ip netns exec "$A" ping -q -c1 -W1 11.2.1.2 >/dev/null 2>&1
check "secure only: s1 passes traffic" pings "$A" 11.2.1.2 3
check_eq "run directory the daemon created: root's, mode 0755" "$(stat -c '%U %a' "$NEWRUN")" "root 755"
# No CAP_NET_RAW was kept, so a plain tunnel added now cannot open its raw
# GRE socket: the reload must say so and leave s1 alone.
write_a "$CA2" "$NEWRUN/a2.sock" "$NEWRUN/a2.pid" s1 p1
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
echo "# plain tunnel added to a secure-only daemon as nobody: exit $st: $out"
check "secure only + plain added by reload: the log says why" \
	grep -q 'tunnel "p1": cannot open raw GRE socket: Operation not permitted' "$LOG_A"
check "secure only + plain added by reload: reload reports failure ($st)" test "$st" -ne 0
check "secure only + plain added by reload: no half-made p1 left" link_gone "$A" p1
check "secure only + plain added by reload: s1 still passes traffic" pings "$A" 11.2.1.2 2
stop_a "daemon-created run dir" s1

echo "# ---- run directory owned by root (existing) ----"
ROOTRUN="$TMPD/rootrun"
install -d -m 755 -o root -g root "$ROOTRUN"
start_a "$CA2" "$ROOTRUN/a.sock" "$ROOTRUN/a.pid"
stop_gresecd "$PID_A"; st=$?
check_eq "root-owned run dir: exits 0 on SIGTERM" "$st" 0
check "root-owned run dir: s1 removed" link_gone "$A" s1
check "root-owned run dir: the pid file and socket are left" test -f "$ROOTRUN/a.pid" -a -S "$ROOTRUN/a.sock"
check "root-owned run dir: the daemon says it left them" \
	grep -q "control socket $ROOTRUN/a.sock left for the next start" "$LOG_A"
start_a "$CA2" "$ROOTRUN/a.sock" "$ROOTRUN/a.pid"
check "root-owned run dir: a new start over the leftovers comes up" \
	eval 'gresec_json "$A" "$SOCK_A" s1 >/dev/null'
check_eq "root-owned run dir: pid file names the new daemon" "$(cat "$ROOTRUN/a.pid")" "$PID_A"
stop_gresecd "$PID_A"

echo "# ---- SIGKILL, then start again ----"
write_a "$CA" "$RUN/a.sock" "$RUN/a.pid" p1 s1
start_a "$CA" "$RUN/a.sock" "$RUN/a.pid"
OLD=$PID_A
kill -KILL "$OLD"
wait "$OLD" 2>/dev/null
check "after SIGKILL: stale socket left" test -S "$SOCK_A"
check "after SIGKILL: stale pid file left" test -f "$PIDF_A"
check "after SIGKILL: interfaces gone with the process" \
	wait_for eval 'link_gone "$A" p1 && link_gone "$A" s1'
start_a "$CA" "$RUN/a.sock" "$RUN/a.pid"
check "restart after SIGKILL: not refused as a running daemon" eval '! grep -q "another gresecd is running" "$LOG_A"'
check_eq "restart after SIGKILL: pid file names the new daemon" "$(cat "$PIDF_A")" "$PID_A"
check_eq "restart after SIGKILL: runs as nobody" "$(status_field "$PID_A" Uid | cut -d" " -f1)" "$NOBODY_UID"
check "restart after SIGKILL: p1 passes traffic" pings "$A" 11.1.1.2 3
ip netns exec "$A" ping -q -c1 -W1 11.2.1.2 >/dev/null 2>&1
check "restart after SIGKILL: s1 established again" wait_for state_is "$A" "$SOCK_A" s1 established
check "restart after SIGKILL: s1 passes traffic" pings "$A" 11.2.1.2 3
# As nobody, with only CAP_NET_ADMIN and CAP_NET_RAW: deleted interfaces
# are made again (their addresses too), and traffic passes.
ip -n "$A" link del p1
ip -n "$A" link del s1
check "as nobody: p1 deleted, made again" wait_for eval '[ "$(tunnel_field "$A" "$SOCK_A" p1 rebuilds)" = 1 ] && addr_present "$A" p1 11.1.1.1 30'
check "as nobody: p1 made again passes traffic" pings "$A" 11.1.1.2 3
check "as nobody: s1 deleted, made again" wait_for eval '[ "$(tunnel_field "$A" "$SOCK_A" s1 rebuilds)" = 1 ] && addr_present "$A" s1 11.2.1.1 30'
ip netns exec "$A" ping -q -c1 -W1 11.2.1.2 >/dev/null 2>&1
check "as nobody: s1 made again passes traffic" wait_for pings "$A" 11.2.1.2 2
stop_a "after restart" p1 s1
finish
