#!/bin/bash
# bench/soak.sh: does gresecd stay flat over many rekeys?
#
#   ns A                                              ns B
#   ping, iperf3 -c ── gresecd gre1 11.11.1.1/30 ┄┄ UDP ┄┄ 11.11.1.2/30 gresecd ── iperf3 -s
#   veth0 10.0.0.1/24 ─────────────────────────────────── veth0 10.0.0.2/24
#
# A secure tunnel with shortened timers (SOAK_REKEY: rekey_after_time = 2 s,
# SOAK_REJECT: reject_after_time = 4 s) carries a ping every
# 50 ms and an iperf3 TCP stream (SOAK_RATE, default 50M) for SOAK_SECONDS
# (default 60).  Every SOAK_INTERVAL seconds (default 5) it samples, for both
# daemons: VmRSS, open file descriptors (/proc/PID/fd), memory mappings
# (/proc/PID/maps: keys and sessions live in sodium_malloc memory, one
# mapping each, so a leaked session shows here), handshakes completed so far
# and the latest handshake's age.  At the end it says whether RSS, fds and
# mappings stayed flat after the first sample, and the ping loss.
#
# With 2 / 4 a new session comes only every ~5 s, not every 2 s: like
# WireGuard, a peer starts at most one initiation per rekey timeout (5 s,
# fixed), so each keypair is rejected (4 s) about a second before the next
# handshake and the ping loses that second.  SOAK_REJECT=8 shows no loss.
#
# A benchmark: it prints and exits 0 (also when it cannot run).
#   top_builddir=/path/to/build SOAK_SECONDS=600 bench/soak.sh
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
. "$top_srcdir/tests/netns/lib.sh"

SOAK_SECONDS=${SOAK_SECONDS:-60}
SOAK_INTERVAL=${SOAK_INTERVAL:-5}
SOAK_RATE=${SOAK_RATE:-50M}
SOAK_REKEY=${SOAK_REKEY:-2}
SOAK_REJECT=${SOAK_REJECT:-4}
RSS_SLACK_KB=${RSS_SLACK_KB:-256}

# lib.sh's fail() exits 1; a benchmark says so and exits 0.
fail()
{
	echo "soak: $*"
	exit 0
}

[ "$(id -u)" = 0 ] || { echo "soak: cannot run: needs root (network namespaces)"; exit 0; }
for tool in ip ping iperf3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "soak: cannot run: $tool missing"; exit 0; }
done
[ -x "$GRESECD" ] && [ -x "$GRESEC" ] ||
	{ echo "soak: cannot run: gresecd/gresec not built in $top_builddir (set top_builddir)"; exit 0; }
setup_test

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"
for k in a b; do
	(umask 077 && "$GRESEC" genkey >"$TMPD/$k.key") || fail "gresec genkey"
done
PUB_A=$("$GRESEC" pubkey <"$TMPD/a.key") && PUB_B=$("$GRESEC" pubkey <"$TMPD/b.key") || fail "gresec pubkey"

write_conf()
{
	local file=$1 lo=$2 re=$3 n=$4 key=$5 pub=$6 peer=$((3 - $4))
	{
		conf_daemon "$file"
		echo 'tunnels = ( {'
		echo '  name = "gre1"; mode = "secure"; type = "gre";'
		echo "  local = \"$lo\"; remote = \"$re\";"
		echo "  address = ( \"11.11.1.$n/30\" ); peer_address = \"11.11.1.$peer\";"
		echo "  private_key_file = \"$key\"; peer_public_key = \"$pub\";"
		echo "  rekey_after_time = $SOAK_REKEY; reject_after_time = $SOAK_REJECT;"
		echo '} );'
	} >"$file"
}
write_conf "$TMPD/a.conf" "$UL4_A" "$UL4_B" 1 "$TMPD/a.key" "$PUB_B"
write_conf "$TMPD/b.conf" "$UL4_B" "$UL4_A" 2 "$TMPD/b.key" "$PUB_A"
start_gresecd "$A" "$TMPD/a.conf"; PID_A=$GRESECD_PID SOCK_A=$GRESECD_SOCK LOG_A=$GRESECD_LOG
start_gresecd "$B" "$TMPD/b.conf"; PID_B=$GRESECD_PID SOCK_B=$GRESECD_SOCK LOG_B=$GRESECD_LOG
wait_for pings "$A" 11.11.1.2 1 || fail "no traffic through the tunnel"

ip netns exec "$B" iperf3 -s -B 11.11.1.2 -1 >/dev/null 2>&1 &
BG_PIDS+=($!)
sleep 0.5
ip netns exec "$A" iperf3 -c 11.11.1.2 -t "$SOAK_SECONDS" -b "$SOAK_RATE" >"$TMPD/iperf.out" 2>&1 &
IPERF_PID=$!
BG_PIDS+=("$IPERF_PID")
ip netns exec "$A" ping -q -i 0.05 -W 1 -w "$SOAK_SECONDS" 11.11.1.2 >"$TMPD/ping.out" 2>&1 &
PING_PID=$!
BG_PIDS+=("$PING_PID")

# sample PID SOCK LOG: "rss_kB fds maps handshakes age"
sample()
{
	local pid=$1 age
	age=$(tunnel_field "$([ "$pid" = "$PID_A" ] && echo "$A" || echo "$B")" "$2" gre1 latest_handshake_age 2>/dev/null)
	echo "$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status") $(ls "/proc/$pid/fd" | wc -l)" \
		"$(wc -l <"/proc/$pid/maps") $(grep -c -e 'session established' -e 'initiation answered' "$3")" \
		"${age:-null}"
}

printf '# %6s | %8s %4s %5s %6s %4s | %8s %4s %5s %6s %4s\n' t \
	"A rss kB" fds maps hshake age "B rss kB" fds maps hshake age
declare -a RA FA MA RB FB MB
t0=$SECONDS
while :; do
	read -r ra fa ma ha aa <<<"$(sample "$PID_A" "$SOCK_A" "$LOG_A")"
	read -r rb fb mb hb ab <<<"$(sample "$PID_B" "$SOCK_B" "$LOG_B")"
	printf '  %6s | %8s %4s %5s %6s %4s | %8s %4s %5s %6s %4s\n' "$((SECONDS - t0))s" \
		"$ra" "$fa" "$ma" "$ha" "$aa" "$rb" "$fb" "$mb" "$hb" "$ab"
	RA+=("$ra") FA+=("$fa") MA+=("$ma") RB+=("$rb") FB+=("$fb") MB+=("$mb")
	[ $((SECONDS - t0)) -ge "$SOAK_SECONDS" ] && break
	sleep "$SOAK_INTERVAL"
done
wait "$PING_PID" "$IPERF_PID" 2>/dev/null

# flat NAME SLACK VALUES...: the largest value after the first is at most
# first + SLACK.
flat()
{
	local name=$1 slack=$2 first=$3 max=$3 v
	shift 3
	for v in "$@"; do [ "$v" -gt "$max" ] && max=$v; done
	if [ "$max" -le $((first + slack)) ]; then
		echo "soak: $name flat (first $first, max $max)"
	else
		echo "soak: $name GREW (first $first, max $max, +$((max - first)))"
	fi
}
echo "soak: $SOAK_SECONDS s, rekey_after_time $SOAK_REKEY s, reject_after_time $SOAK_REJECT s:" \
	"$(grep -c -e 'session established' -e 'initiation answered' "$LOG_A") handshakes seen by A," \
	"$(grep -c -e 'session established' -e 'initiation answered' "$LOG_B") by B"
echo "soak: ping: $(grep 'packets transmitted' "$TMPD/ping.out")"
echo "soak: iperf3: $(grep -E 'receiver$' "$TMPD/iperf.out" | tail -1 | sed 's/  */ /g')"
flat "A RSS (kB)" "$RSS_SLACK_KB" "${RA[@]}"
flat "B RSS (kB)" "$RSS_SLACK_KB" "${RB[@]}"
flat "A open fds" 0 "${FA[@]}"
flat "B open fds" 0 "${FB[@]}"
flat "A mappings" 2 "${MA[@]}"
flat "B mappings" 2 "${MB[@]}"
exit 0
