#!/bin/bash
# tests/netns/test_check.sh: `gresecd -t` and `gresec check-config` check a
# configuration against the host without changing it, and the daemon runs
# the same checks at start.
#
#   ns C: veth-a 10.0.0.1/24 <──> veth-b 10.0.0.2/24 (both in ns C)
#
# One config per finding, checked with gresecd -t (and some with gresec
# check-config): key files (missing, symbolic link, directory, mode 0644,
# wrong owner for daemon.user, not base64, our own public key as the
# peer's, a bad pre-shared key file), daemon.user and daemon.group that do
# not exist, a device that does not exist, a tunnel name held by a veth, by
# a TUN another program holds, by a persistent TAP for a gre tunnel, a
# persistent TUN nobody holds (fine), local not assigned (a warning, exit
# 0), the names held by the running gresecd of the configuration (a note,
# exit 0) or by a gresecd of another pid file (a warning).  Run as nobody,
# the key files cannot be read: exit 0 and a list of the checks that could
# not be made.  tunnels = ( ) says "no tunnels"; a missing tunnels list is
# an error.  --file-only skips the host.  A start with two problems names
# both and creates nothing; a second daemon for a name another gresecd
# holds is refused.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
require_nobody
setup_test
chmod 711 "$TMPD"   # nobody runs a check here; the keys stay 0600

NS=$(ns_name c)
make_local_pair "$NS"

NOBODY_UID=$(id -u nobody)
K="$TMPD/keys"
mkdir -m 711 "$K"
for k in a b; do
	(umask 077 && "$GRESEC" genkey >"$K/$k.key") || fail "gresec genkey"
done
(umask 077 && "$GRESEC" genpsk >"$K/ab.psk") || fail "gresec genpsk"
PUB_A=$("$GRESEC" pubkey <"$K/a.key")
PUB_B=$("$GRESEC" pubkey <"$K/b.key")
(umask 077 && echo "not a key" >"$K/junk.key")
(umask 022 && "$GRESEC" genkey >"$K/open.key")
ln -s "$K/a.key" "$K/link.key"
mkdir -m 700 "$K/dir.key"
install -m 600 -o nobody -g nogroup "$K/a.key" "$K/nobody.key"

# conf FILE [DAEMON-SETTINGS] -- TUNNEL...: write a config; each TUNNEL is
# the inside of one group.
conf()
{
	local f=$1 daemon=$2 t sep=""
	shift 2
	{
		printf 'daemon: { pid_file = "%s"; control_socket = "%s"; %s };\n' \
			"${f%.conf}.pid" "${f%.conf}.sock" "$daemon"
		echo "tunnels = ("
		for t in "$@"; do
			printf '%s  { %s }\n' "$sep" "$t"
			sep=","
		done
		echo ");"
	} >"$f"
}

PLAIN='name = "gc0"; mode = "plain"; local = "10.0.0.1"; remote = "10.0.0.2"; address = "10.203.0.1/30"; peer_address = "10.203.0.2";'
# secure NAME KEYFILE [EXTRA]
secure() { echo "name = \"$1\"; mode = \"secure\"; local = \"10.0.0.1\"; remote = \"10.0.0.2\"; port = 51990; private_key_file = \"$2\"; peer_public_key = \"$PUB_B\"; $3"; }

# run_t CONF [ARGS]: gresecd -t in the namespace; sets RC OUT (stdout) ERR (stderr).
run_t()
{
	local conf=$1
	shift
	nsx "$NS" "$GRESECD" -t -c "$conf" "$@" >"$TMPD/t.out" 2>"$TMPD/t.err"
	RC=$?
	OUT=$(cat "$TMPD/t.out") ERR=$(cat "$TMPD/t.err")
}

# refused LABEL CONF WANT: -t exits 2 (a tunnel that would not come up;
# the daemon would start and retry it) and stderr holds WANT (fixed string).
refused()
{
	local label=$1 conf=$2 want=$3
	run_t "$conf"
	check_eq "$label: gresecd -t exits 2" "$RC" 2
	if grep -qF -- "$want" "$TMPD/t.err"; then
		ok "$label: says: $want"
	else
		not_ok "$label: says: $want (got: $ERR)"
	fi
}

echo "# ---- a good configuration ----"
C="$TMPD/good.conf"
conf "$C" "" "$PLAIN" "$(secure gs0 "$K/a.key" "preshared_key_file = \"$K/ab.psk\";")"
run_t "$C"
check_eq "good: exit 0" "$RC" 0
check_eq "good: says OK with 2 tunnels" "$OUT" "$C: configuration OK (2 tunnels)"
check_eq "good: nothing on stderr" "$ERR" ""
out=$(nsx "$NS" "$GRESEC" check-config "$C" 2>&1); st=$?
check_eq "good: gresec check-config agrees (exit $st)" "$out" "$C: configuration OK (2 tunnels)"

echo "# ---- tunnels list ----"
C="$TMPD/none.conf"
conf "$C" ""
run_t "$C"
check_eq "tunnels = ( ): exit 0" "$RC" 0
check "tunnels = ( ): says there are no tunnels ($OUT)" \
	eval 'echo "$OUT" | grep -qF "configuration OK: no tunnels"'
C="$TMPD/empty.conf"
: >"$C"
run_t "$C"
check_eq "empty file: exit 1" "$RC" 1
check "empty file: tunnels missing ($ERR)" eval 'echo "$ERR" | grep -qF "$C: tunnels: missing"'

echo "# ---- key files ----"
n=0
key_case()
{
	local label=$1 keyline=$2 want=$3 daemon=${4:-}
	n=$((n + 1))
	conf "$TMPD/key$n.conf" "$daemon" "$(secure gs0 "$K/a.key" "$keyline")"
	# private_key_file is set twice when keyline names one: put it alone
	if [[ $keyline == private_key_file* ]]; then
		conf "$TMPD/key$n.conf" "$daemon" \
			"name = \"gs0\"; mode = \"secure\"; local = \"10.0.0.1\"; remote = \"10.0.0.2\"; port = 51990; $keyline"
	fi
	refused "$label" "$TMPD/key$n.conf" "$want"
}
key_case "missing key file" "private_key_file = \"$K/none.key\"; peer_public_key = \"$PUB_B\";" \
	"tunnel \"gs0\": private_key_file: \"$K/none.key\" does not exist"
key_case "key file is a symbolic link" "private_key_file = \"$K/link.key\"; peer_public_key = \"$PUB_B\";" \
	"private_key_file: \"$K/link.key\" is a symbolic link, which gresecd refuses to follow"
key_case "key file is a directory" "private_key_file = \"$K/dir.key\"; peer_public_key = \"$PUB_B\";" \
	"private_key_file: \"$K/dir.key\" is not a regular file"
key_case "key file mode 0644" "private_key_file = \"$K/open.key\"; peer_public_key = \"$PUB_B\";" \
	"private_key_file: \"$K/open.key\": mode 0644 is too open, run: chmod 600 $K/open.key"
key_case "key file not base64" "private_key_file = \"$K/junk.key\"; peer_public_key = \"$PUB_B\";" \
	"private_key_file: \"$K/junk.key\": not a base64-encoded 32-byte key"
key_case "our own public key as the peer's" "private_key_file = \"$K/a.key\"; peer_public_key = \"$PUB_A\";" \
	"tunnel \"gs0\": peer_public_key: is this end's own public key (that of private_key_file \"$K/a.key\")"
key_case "pre-shared key file mode 0644" "preshared_key_file = \"$K/open.key\";" \
	"preshared_key_file: \"$K/open.key\": mode 0644 is too open"
key_case "key file root's, daemon.user nobody" \
	"private_key_file = \"$K/a.key\"; peer_public_key = \"$PUB_B\";" \
	"private_key_file: \"$K/a.key\": owned by uid 0, not by uid $NOBODY_UID, run: chown $NOBODY_UID $K/a.key (daemon.user \"nobody\")" \
	'user = "nobody"; group = "nogroup";'
C="$TMPD/keynobody.conf"
conf "$C" 'user = "nobody"; group = "nogroup";' "$(secure gs0 "$K/nobody.key")"
run_t "$C"
check_eq "key file nobody's, daemon.user nobody: exit 0 ($ERR)" "$RC" 0

echo "# ---- users, devices, addresses ----"
C="$TMPD/user.conf"
conf "$C" 'user = "gresec-no-such-user"; group = "gresec-no-such-group";' "$PLAIN"
run_t "$C"
check_eq "unknown user and group: exit 1" "$RC" 1
check "unknown user: named ($ERR)" \
	eval 'echo "$ERR" | grep -qF "$C:1: daemon: user: \"gresec-no-such-user\" does not exist"'
check "unknown group: named" \
	eval 'echo "$ERR" | grep -qF "$C:1: daemon: group: \"gresec-no-such-group\" does not exist"'
C="$TMPD/device.conf"
conf "$C" "" "$PLAIN device = \"nosuch0\";"
refused "unknown device" "$C" "$C:3: tunnel \"gc0\": device: \"nosuch0\" does not exist"
check "unknown device: the summary says the daemon would start and retry it ($ERR)" eval 'echo "$ERR" | grep -qxF \
	"$C: 1 problem found by the system checks: 1 of 1 tunnel would not come up now (the daemon would start, run the others and retry it)"'
out=$(nsx "$NS" "$GRESEC" check-config "$C" 2>&1); st=$?
check_eq "unknown device: gresec check-config exits 2 too" "$st" 2
C="$TMPD/local.conf"
conf "$C" "" "${PLAIN/10.0.0.1/192.0.2.77}"
run_t "$C"
check_eq "local not assigned: exit 0 (a warning only)" "$RC" 0
check "local not assigned: warns ($ERR)" eval 'echo "$ERR" | grep -qF \
	"tunnel \"gc0\": local: warning: \"192.0.2.77\" is not assigned to this host (yet): DHCP or PPPoE may assign it later"'
check_eq "local not assigned: the summary counts it" "$OUT" "$C: configuration OK (1 tunnel), 1 warning"

echo "# ---- interface names ----"
C="$TMPD/veth.conf"
conf "$C" "" "${PLAIN/gc0/veth-b}"
refused "name of a veth" "$C" "tunnel \"veth-b\": name: interface \"veth-b\" is in use: a veth interface"
# A TUN another program holds.
nsx "$NS" "$PY" -c '
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", sys.argv[1].encode(), 0x0001 | 0x1000))
open(sys.argv[2], "w").close()
time.sleep(120)' gcheld "$TMPD/held.ready" &
HOLDER=$!
BG_PIDS+=("$HOLDER")
wait_for test -e "$TMPD/held.ready" || fail "TUN holder did not start"
HOLDER_PID=$(pgrep -f "gcheld $TMPD/held.ready" | head -n1)
C="$TMPD/held.conf"
conf "$C" "" "${PLAIN/gc0/gcheld}"
refused "name of a TUN held by another program" "$C" \
	"interface \"gcheld\" is in use: a TUN device held by python3 (pid $HOLDER_PID)"
# Persistent devices made by the administrator.
ip -n "$NS" tuntap add mode tap name gctap || fail "ip tuntap add"
ip -n "$NS" tuntap add mode tun name gctun || fail "ip tuntap add"
C="$TMPD/tap.conf"
conf "$C" "" "${PLAIN/gc0/gctap}"
refused "persistent TAP for a gre tunnel" "$C" \
	"interface \"gctap\" is in use: a TAP device, but type \"gre\" needs a TUN device"
C="$TMPD/tun.conf"
conf "$C" "" "${PLAIN/gc0/gctun}"
run_t "$C"
check_eq "persistent TUN nobody holds: exit 0 ($ERR)" "$RC" 0
check "persistent TUN nobody holds: a note says it will be used ($OUT)" eval 'echo "$OUT" | grep -qF \
	"name: note: interface \"gctun\" is a persistent TUN nobody holds: gresecd will use it"'

echo "# ---- the running daemon of the configuration ----"
C="$TMPD/good.conf"
start_gresecd "$NS" "$C"
RUN_PID=$GRESECD_PID
run_t "$C" -p "$(conf_pidfile "$C")"
check_eq "while it runs: -t exits 0 ($ERR)" "$RC" 0
check_eq "while it runs: no warning" "$ERR" ""
check "while it runs: gc0 is the running daemon's own (a note)" eval 'echo "$OUT" | grep -qF \
	"tunnel \"gc0\": name: note: interface \"gc0\" is held by the running gresecd of this configuration (pid $RUN_PID): its own"'
check "while it runs: so is gs0" eval 'echo "$OUT" | grep -qF "interface \"gs0\" is held by the running gresecd"'
run_t "$C" -p "$TMPD/other.pid"
check_eq "another pid file: -t exits 0" "$RC" 0
check "another pid file: warns that this configuration cannot start ($ERR)" eval 'echo "$ERR" | grep -qF \
	"name: warning: interface \"gc0\" is a TUN device held by gresecd pid $RUN_PID, not the one of pid file \"$TMPD/other.pid\""'
# A second daemon (its own pid file and socket) for the same names: the
# names are in use, which only fails those tunnels (retried).
ip netns exec "$NS" "$GRESECD" -f -c "$C" -p "$TMPD/second.pid" -s "$TMPD/second.sock" \
	>"$TMPD/second.log" 2>&1 &
SECOND=$!
DAEMON_PIDS+=("$SECOND")
check "second daemon for the same names: runs" wait_for daemon_answers "$NS" "$TMPD/second.sock" "$SECOND"
check "second daemon: names the holder" grep -qF \
	"interface \"gc0\" is in use: a TUN device held by gresecd (pid $RUN_PID)" "$TMPD/second.log"
check_eq "second daemon: shows gc0 failed" "$(tunnel_field "$NS" "$TMPD/second.sock" gc0 state)" failed
check "second daemon: with the holder as its error" eval \
	'tunnel_field "$NS" "$TMPD/second.sock" gc0 last_error | grep -qF "is in use: a TUN device held by gresecd (pid $RUN_PID)"'
check "second daemon: the first one's gc0 is untouched" addr_present "$NS" gc0 10.203.0.1 30
stop_gresecd "$SECOND"
check "second daemon: the first one's gc0 is still untouched after it stopped" addr_present "$NS" gc0 10.203.0.1 30
stop_gresecd "$RUN_PID"

echo "# ---- what cannot be checked ----"
C="$TMPD/good.conf"
out=$(nsx "$NS" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$GRESEC" check-config "$C" 2>&1); st=$?
echo "$out" | sed 's/^/#   nobody: /'
check_eq "as nobody: exit 0 (nothing wrong found)" "$st" 0
check "as nobody: says which checks could not be made" \
	eval 'echo "$out" | grep -qF "$C: 2 checks could not be made:"'
check "as nobody: the private key file, and why" eval 'echo "$out" | grep -qF \
	"tunnel \"gs0\": private_key_file: not checked: \"$K/a.key\" is root'"'"'s, as it must be when root starts gresecd; its contents (run the check as root)"'
check "as nobody: the pre-shared key file" \
	eval 'echo "$out" | grep -qF "tunnel \"gs0\": preshared_key_file: not checked: \"$K/ab.psk\""'

echo "# ---- --file-only ----"
C="$TMPD/device.conf"
out=$(nsx "$NS" "$GRESEC" check-config --file-only "$C" 2>&1); st=$?
check_eq "--file-only: the missing device is not looked at (exit $st)" "$out" \
	"$C: configuration OK (1 tunnel); system checks skipped"

echo "# ---- at start ----"
C="$TMPD/start.conf"
conf "$C" "" "$PLAIN device = \"nosuch0\";" \
	"$(secure gs0 "$K/open.key")"
ip netns exec "$NS" "$GRESECD" -f -c "$C" >"$TMPD/start.log" 2>&1 &
SPID=$!
DAEMON_PIDS+=("$SPID")
check "start with two tunnel problems: the daemon runs" wait_for daemon_answers "$NS" "$(conf_sock "$C")" "$SPID"
check "start: names the device" grep -qF "tunnel \"gc0\": device: \"nosuch0\" does not exist" "$TMPD/start.log"
check "start: and the key file" grep -qF "private_key_file: \"$K/open.key\": mode 0644 is too open" "$TMPD/start.log"
check "start: says both are retried" grep -qF "2 of 2 tunnels cannot come up now: the others start, and they are retried" "$TMPD/start.log"
check_eq "start: show lists both, failed" \
	"$(gresec_json "$NS" "$(conf_sock "$C")" | "$PY" -c 'import json,sys; print(" ".join(t["name"] + ":" + t["state"] for t in json.load(sys.stdin)["tunnels"]))')" \
	"gc0:failed gs0:failed"
check "start: created no interface" eval 'link_gone "$NS" gc0 && link_gone "$NS" gs0'
stop_gresecd "$SPID"
finish
