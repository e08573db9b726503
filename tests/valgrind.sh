#!/bin/bash
# tests/valgrind.sh BUILD_DIR: one secure-mode scenario with both gresecd
# under valgrind memcheck, in two network namespaces (tests/netns/lib.sh).
#
#   ns A                                          ns B
#   valgrind gresecd ── sec1 11.11.1.1/30 ┄┄ UDP ┄┄ sec1 11.11.1.2/30 ── valgrind gresecd
#   veth0 10.0.0.1/24 ───────────────────────────── veth0 10.0.0.2/24
#
# Handshake, 5 pings each way, `gresec show` (text and JSON) on both, then
# SIGTERM.  Passes when both daemons exit 0 and their valgrind logs report
# no errors and no definitely or indirectly lost memory (valgrind runs with
# --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,
# indirect, so a leak of those kinds also makes the exit status 1).
# Suppressions: tests/valgrind.supp (see the comments there).
# Exit 77 (skip) when not root, without namespaces or without valgrind.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
# shellcheck disable=SC2034  # top_builddir and WAIT_TIMEOUT are read by lib.sh
if [ -n "${1:-}" ]; then
	top_builddir=$(cd "$1" && pwd) || { echo "usage: $0 BUILD_DIR" >&2; exit 99; }
fi
. "$top_srcdir/tests/netns/lib.sh"

command -v valgrind >/dev/null 2>&1 || skip "$(basename "$0") needs valgrind"
require_root_netns
setup_test
# shellcheck disable=SC2034
WAIT_TIMEOUT=60   # everything is 20-50 times slower under memcheck

# gresecd under valgrind: one log per process (%p is the daemon's pid: ip
# netns exec and this wrapper both exec, so it is GRESECD_PID).
VG_GRESECD=$TMPD/gresecd-valgrind
cat >"$VG_GRESECD" <<EOF
#!/bin/sh
exec valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \\
	--show-leak-kinds=definite,indirect --track-origins=yes --num-callers=30 \\
	--suppressions='$top_srcdir/tests/valgrind.supp' \\
	--log-file='$TMPD/valgrind.%p.log' '$GRESECD' "\$@"
EOF
chmod 755 "$VG_GRESECD"
GRESECD=$VG_GRESECD

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"

for k in a b; do
	(umask 077 && "$GRESEC" genkey >"$TMPD/$k.key") || fail "gresec genkey"
done
(umask 077 && "$GRESEC" genpsk >"$TMPD/psk") || fail "gresec genpsk"
PUB_A=$("$GRESEC" pubkey <"$TMPD/a.key") || fail "gresec pubkey"
PUB_B=$("$GRESEC" pubkey <"$TMPD/b.key") || fail "gresec pubkey"

# write_conf FILE LOCAL REMOTE ADDR PEER KEY PEERPUB
write_conf()
{
	{
		conf_daemon "$1"
		echo 'tunnels = ( {'
		echo '  name = "sec1"; mode = "secure"; type = "gre";'
		echo "  local = \"$2\"; remote = \"$3\";"
		echo "  address = ( \"$4/30\" ); peer_address = \"$5\";"
		echo "  private_key_file = \"$6\"; peer_public_key = \"$7\";"
		echo "  preshared_key_file = \"$TMPD/psk\";"
		echo '} );'
	} >"$1"
}
write_conf "$TMPD/a.conf" "$UL4_A" "$UL4_B" 11.11.1.1 11.11.1.2 "$TMPD/a.key" "$PUB_B"
write_conf "$TMPD/b.conf" "$UL4_B" "$UL4_A" 11.11.1.2 11.11.1.1 "$TMPD/b.key" "$PUB_A"

start_gresecd "$A" "$TMPD/a.conf"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK
start_gresecd "$B" "$TMPD/b.conf"; PID_B=$GRESECD_PID SOCK_B=$GRESECD_SOCK
VG_A=$TMPD/valgrind.$PID_A.log VG_B=$TMPD/valgrind.$PID_B.log
DAEMON_LOGS+=("$VG_A" "$VG_B")

established()
{
	[ "$(tunnel_field "$A" "$SOCK_A" sec1 state)" = established ] &&
		[ "$(tunnel_field "$B" "$SOCK_B" sec1 state)" = established ]
}

# The first ping starts the handshake; then 5 each way must all come back.
nsx "$A" ping -q -c 1 -W 5 11.11.1.2 >/dev/null 2>&1
check "handshake: both sides established" wait_for established
ping5() { nsx "$1" ping -q -c 5 -i 0.2 -w 20 "$2" >/dev/null 2>&1; }
check "5 pings A -> B through the tunnel, all answered" ping5 "$A" 11.11.1.2
check "5 pings B -> A through the tunnel, all answered" ping5 "$B" 11.11.1.1
check "gresec show in A names sec1" eval 'nsx "$A" "$GRESEC" -s "$SOCK_A" show | grep -q sec1'
check "gresec show in B names sec1" eval 'nsx "$B" "$GRESEC" -s "$SOCK_B" show sec1 | grep -q sec1'
rx=$(tunnel_field "$B" "$SOCK_B" sec1 rx_packets)
check "B counted the packets it received (rx_packets=$rx >= 5)" test "${rx:-0}" -ge 5

# stop_vg PID NAME LOG: SIGTERM, wait for valgrind's leak check, judge.
stop_vg()
{
	local pid=$1 name=$2 log=$3 st

	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		not_ok "gresecd in $name exits within 60 s of SIGTERM under valgrind"
		return
	fi
	wait "$pid"
	st=$?
	check_eq "gresecd in $name exits 0 under valgrind (1 = valgrind found errors)" "$st" 0
	check "valgrind log of $name exists" test -s "$log"
	check "valgrind in $name: no errors" grep -q 'ERROR SUMMARY: 0 errors' "$log"
	check "valgrind in $name: nothing definitely or indirectly lost" eval \
		"! grep -Eq '(definitely|indirectly) lost: [1-9]' '$log'"
}
stop_vg "$PID_A" A "$VG_A"
stop_vg "$PID_B" B "$VG_B"
check "sec1 removed from A and B" eval 'link_gone "$A" sec1 && link_gone "$B" sec1'
for log in "$VG_A" "$VG_B"; do
	echo "# $(basename "$log"): $(grep -E 'ERROR SUMMARY|definitely lost|in use at exit' "$log" |
		sed 's/^==[0-9]*== *//' | tr '\n' ' ')"
done
finish
