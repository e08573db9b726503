# tests/e2e/lib.sh: helpers for the end-to-end tests with routing daemons.
#
# Builds on tests/netns/lib.sh (namespaces, gresecd start/stop, JSON,
# ok/not_ok/finish, cleanup trap).  Adds the two-site topology
#
#   hA ── lan0 ── rA ══ gresec tunnel gt0 ══ rB ── lan0 ── hB
#   192.168.1.2   192.168.1.1   veth0 underlay  192.168.2.1   192.168.2.2
#   fd01::2       fd01::1       10.0.0.1-2/24   fd02::1       fd02::2
#                               fd00::1-2/64
#
# gresec tunnels (plain or secure, gre or gretap, IPv4 or IPv6 underlay),
# BIRD and FRR started with private config, pid, socket and log paths in the
# test's temp dir, and scenario bookkeeping: each scenario records one line
# "scenario|mode|result|seconds" in $E2E_RESULTS (when set, run.sh reads it)
# and prints it.  No static routes between the LANs anywhere: the routers
# must learn them across the tunnel.

E2E_DIR="${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/e2e"
. "$(dirname "$E2E_DIR")/netns/lib.sh"

TEMPLATES="$E2E_DIR/templates"
BIRD=${BIRD:-/usr/sbin/bird}
BIRDC=${BIRDC:-/usr/sbin/birdc}
FRR_DIR=${FRR_DIR:-/usr/lib/frr}
VTYSH=${VTYSH:-/usr/bin/vtysh}
TUN_IF=gt0

# LAN and tunnel addressing (see the picture above).
LAN4_A=192.168.1.0/24 LAN4_B=192.168.2.0/24
LAN6_A=fd01::/64 LAN6_B=fd02::/64
H4_A=192.168.1.2 H4_B=192.168.2.2 H6_A=fd01::2 H6_B=fd02::2
T4_A=10.255.0.1 T4_B=10.255.0.2 T6_A=fd00:255::1 T6_B=fd00:255::2

have_bird() { [ -x "$BIRD" ] && [ -x "$BIRDC" ]; }
have_frr() { [ -x "$FRR_DIR/zebra" ] && [ -x "$VTYSH" ] && id frr >/dev/null 2>&1; }
have_frr_daemon() { have_frr && [ -x "$FRR_DIR/$1" ]; }

# require_e2e WHAT: root + namespaces (exit 77 otherwise, via netns lib),
# then WHAT: "bird", "frr", "bird|frr" (either), "frr:ospfd,pimd".
require_e2e()
{
	local what=$1 d

	require_root_netns
	case $what in
	bird) have_bird || skip "$(basename "$0") needs BIRD 2 ($BIRD, birdc; Debian package bird2)" ;;
	frr) have_frr || skip "$(basename "$0") needs FRR ($FRR_DIR/zebra, vtysh, user frr; Debian package frr)" ;;
	"bird|frr")
		have_bird || have_frr ||
			skip "$(basename "$0") needs BIRD 2 (bird2) or FRR (frr); neither is installed" ;;
	frr:*)
		have_frr || skip "$(basename "$0") needs FRR ($FRR_DIR/zebra, vtysh, user frr; Debian package frr)"
		for d in ${what#frr:}; do
			[ -x "$FRR_DIR/$d" ] || skip "$(basename "$0") needs FRR's $d ($FRR_DIR/$d missing)"
		done ;;
	esac
	[ -x "$PY" ] || skip "$(basename "$0") needs $PY"
}

# ---- time ----

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }'; }

# wait_until SECONDS CMD...: like wait_for with its own timeout.
wait_until()
{
	local deadline=$(($(date +%s) + $1))
	shift
	while :; do
		"$@" && return 0
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# ---- scenarios ----

SC_NAME="" SC_MODE="" SC_FAIL=0 SC_SECS="-"
SC_RLOG0=0 SC_DLOG0=0  # diagnose shows the logs from here on (set by tunnel_up)
DIAG_HOOKS=()          # functions printing the state of the routing daemons

scenario_begin()
{
	SC_NAME=$1 SC_MODE=$2 SC_FAIL=$N_FAIL SC_SECS="-" SC_NOTE=""
	DIAG_HOOKS=()
	echo "# ==== $SC_NAME [$SC_MODE] ===="
}

# scenario_end [RESULT]: records pass/fail (or RESULT, e.g. "skip").
scenario_end()
{
	local res=${1:-}
	[ -n "$res" ] || { [ "$N_FAIL" -gt "$SC_FAIL" ] && res=FAIL || res=pass; }
	echo "# result: $SC_NAME|$SC_MODE|$res|$SC_SECS${SC_NOTE:+|$SC_NOTE}"
	[ -n "$E2E_RESULTS" ] && echo "$SC_NAME|$SC_MODE|$res|$SC_SECS|$SC_NOTE" >>"$E2E_RESULTS"
	return 0
}

# scenario_skip NAME MODE WHY
scenario_skip()
{
	scenario_begin "$1" "$2"
	echo "# skip: $3"
	SC_NOTE=$3
	scenario_end skip
}

# converge DESC TIMEOUT T0 CMD...: wait for CMD; prints and records the
# seconds since T0.  On timeout: not ok + diagnosis.
converge()
{
	local desc=$1 timeout=$2 t0=$3
	shift 3
	if wait_until "$timeout" "$@"; then
		SC_SECS=$(elapsed "$t0")
		ok "$desc (converged in $SC_SECS s)"
		return 0
	fi
	not_ok "$desc: not converged after $timeout s"
	diagnose
	return 1
}

# diagnose: what an operator would look at: tunnels, neighbors, routes, logs.
diagnose()
{
	local ns hook f
	echo "# ---- diagnosis: $SC_NAME [$SC_MODE] ----"
	for ns in "$RA" "$RB"; do
		echo "# -- $ns: ip addr / ip route (v4, v6) --"
		ip -n "$ns" -br addr 2>&1 | sed 's/^/#   /'
		ip -n "$ns" route 2>&1 | sed 's/^/#   /'
		ip -n "$ns" -6 route 2>&1 | grep -v '^fe80\|^multicast\|^ff00' | sed 's/^/#   /'
	done
	[ -n "$SOCK_GA" ] && gresec_json "$RA" "$SOCK_GA" 2>&1 | sed 's/^/# gresec A: /'
	[ -n "$SOCK_GB" ] && gresec_json "$RB" "$SOCK_GB" 2>&1 | sed 's/^/# gresec B: /'
	for hook in "${DIAG_HOOKS[@]}"; do
		"$hook" 2>&1 | sed 's/^/#   /'
	done
	for f in "${ROUTING_LOGS[@]:$SC_RLOG0}"; do
		[ -s "$f" ] || continue
		echo "# -- ${f#$TMPD/} (last 25 lines) --"
		tail -n 25 "$f" | sed 's/^/#   /'
	done
	for f in "${DAEMON_LOGS[@]:$SC_DLOG0}"; do
		[ -s "$f" ] || continue
		echo "# -- $(basename "$f") (last 15 lines) --"
		tail -n 15 "$f" | sed 's/^/#   /'
	done
}

# ---- topology ----

# lan NS_ROUTER NS_HOST N: LAN N (192.168.N.0/24, fd0N::/64) between a
# router (.1, ::1) and a host (.2, ::2) with default routes to the router.
make_lan()
{
	local r=$1 h=$2 n=$3
	ip netns add "$h" || fail "ip netns add $h"
	TEST_NAMESPACES+=("$h")
	ip -n "$h" link set lo up
	ip -n "$r" link add lan0 type veth peer name lan0 netns "$h" || fail "veth $r <-> $h"
	ip -n "$r" addr add "192.168.$n.1/24" dev lan0 &&
		ip -n "$r" addr add "fd0$n::1/64" dev lan0 nodad &&
		ip -n "$h" addr add "192.168.$n.2/24" dev lan0 &&
		ip -n "$h" addr add "fd0$n::2/64" dev lan0 nodad &&
		ip -n "$r" link set lan0 up && ip -n "$h" link set lan0 up &&
		ip -n "$h" route add default via "192.168.$n.1" &&
		ip -n "$h" -6 route add default via "fd0$n::1" || fail "LAN $n addresses"
	router_sysctls "$r"
}

router_sysctls()
{
	nsx "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
}

# make_sites: namespaces RA RB (underlay pair) and hosts HA HB.
make_sites()
{
	RA=$(ns_name ra) RB=$(ns_name rb) HA=$(ns_name ha) HB=$(ns_name hb)
	make_pair "$RA" "$RB"
	make_lan "$RA" "$HA" 1
	make_lan "$RB" "$HB" 2
}

# ---- gresec tunnels ----

# make_keys: key pairs KEY_A/PUB_A, KEY_B/PUB_B (and more via make_key).
make_key()
{
	local file=$1
	(umask 077 && "$GRESEC" genkey >"$file") || fail "gresec genkey"
	"$GRESEC" pubkey <"$file" || fail "gresec pubkey"
}

make_keys()
{
	KEY_A=$TMPD/a.key KEY_B=$TMPD/b.key
	PUB_A=$(make_key "$KEY_A") PUB_B=$(make_key "$KEY_B")
}

# tunnel_block NAME MODE TYPE LOCAL REMOTE ADDR4 ADDR6 PEER4 PEER6 KEY PEERPUB EXTRA:
# one entry of the tunnels list (without the trailing comma).
tunnel_block()
{
	local name=$1 mode=$2 type=$3 local_ul=$4 remote_ul=$5 a4=$6 a6=$7 p4=$8 p6=$9
	local key=${10} peerpub=${11} extra=${12}

	echo '{'
	echo "  name = \"$name\"; mode = \"$mode\"; type = \"$type\";"
	[ -n "$local_ul" ] && echo "  local = \"$local_ul\";"
	[ -n "$remote_ul" ] && echo "  remote = \"$remote_ul\";"
	echo "  address = ( \"$a4/30\", \"$a6/64\" );"
	# TUNNEL_PEER_ADDRESS=0: subnet addresses only, also on gre.
	[ "$type" = gre ] && [ "${TUNNEL_PEER_ADDRESS:-1}" = 1 ] &&
		echo "  peer_address = ( \"$p4\", \"$p6\" );"
	if [ "$mode" = secure ]; then
		echo "  private_key_file = \"$key\"; peer_public_key = \"$peerpub\";"
	fi
	[ -n "$extra" ] && echo "  $extra"
	echo '}'
}

# tunnel_up MODE TYPE UNDERLAY(4|6) [EXTRA_A] [EXTRA_B]: gresecd in RA and
# RB with tunnel gt0, waits until it carries traffic (pings the peer's
# tunnel address, which also runs the secure handshake).  Sets PID_GA
# PID_GB SOCK_GA SOCK_GB CONF_GA CONF_GB.
tunnel_up()
{
	local mode=$1 type=$2 ul=$3 xa=${4:-} xb=${5:-} la lb tag
	tag="$mode-$type-$ul"
	if [ "$ul" = 4 ]; then la=$UL4_A lb=$UL4_B; else la=$UL6_A lb=$UL6_B; fi
	[ -n "$KEY_A" ] || make_keys
	CONF_GA=$TMPD/gresec-a-$tag.conf CONF_GB=$TMPD/gresec-b-$tag.conf
	SC_RLOG0=${#ROUTING_LOGS[@]} SC_DLOG0=${#DAEMON_LOGS[@]}
	{ conf_daemon "$CONF_GA"; echo 'tunnels = ('
	  tunnel_block "$TUN_IF" "$mode" "$type" "$la" "$lb" "$T4_A" "$T6_A" "$T4_B" "$T6_B" \
		"$KEY_A" "$PUB_B" "$xa"
	  echo ');'; } >"$CONF_GA"
	{ conf_daemon "$CONF_GB"; echo 'tunnels = ('
	  tunnel_block "$TUN_IF" "$mode" "$type" "$lb" "$la" "$T4_B" "$T6_B" "$T4_A" "$T6_A" \
		"$KEY_B" "$PUB_A" "$xb"
	  echo ');'; } >"$CONF_GB"
	start_gresecd "$RA" "$CONF_GA"; PID_GA=$GRESECD_PID SOCK_GA=$GRESECD_SOCK
	start_gresecd "$RB" "$CONF_GB"; PID_GB=$GRESECD_PID SOCK_GB=$GRESECD_SOCK
	tunnel_ready "$T4_B" || { not_ok "tunnel $tag: no ping to $T4_B across it"; diagnose; return 1; }
	return 0
}

# tunnel_ready PEER4: link-local present and not tentative on both sides,
# the peer's tunnel address answers.
tunnel_ready()
{
	wait_until 10 tunnel_has_ll "$RA" && wait_until 10 tunnel_has_ll "$RB" &&
		wait_until 10 pings "$RA" "$1" 1
}

tunnel_has_ll()
{
	ip -n "$1" -6 addr show dev "$TUN_IF" scope link 2>/dev/null | grep -q 'inet6 fe80' &&
		no_tentative "$1" "$TUN_IF"
}

# tunnel_down: SIGTERM both gresecd (gt0 and every route through it go).
tunnel_down()
{
	[ -n "$PID_GA" ] && stop_gresecd "$PID_GA"
	[ -n "$PID_GB" ] && stop_gresecd "$PID_GB"
	PID_GA="" PID_GB="" SOCK_GA="" SOCK_GB=""
	return 0
}

# mtu_agrees: OSPF's MTU check needs the same MTU at both ends.
mtu_agrees()
{
	local ma mb
	ma=$(link_field "$RA" "$TUN_IF" mtu) mb=$(link_field "$RB" "$TUN_IF" mtu)
	check_eq "$TUN_IF MTU equal at both ends ($ma)" "$ma" "$mb"
}

# ---- routes and traffic ----

# learned NS PREFIX: the kernel has PREFIX from a routing daemon (not
# proto kernel/static), through the tunnel.
learned()
{
	local fam=-4
	case $2 in *:*) fam=-6 ;; esac
	ip -n "$1" "$fam" route show exact "$2" 2>/dev/null |
		grep -v 'proto kernel\|proto static\|proto boot' | grep -q "dev $TUN_IF"
}

not_learned() { ! learned "$@"; }

# lans_learned [4|6|46]: both routers have the other LAN (default 46).
lans_learned()
{
	local fams=${1:-46}
	case $fams in *4*) learned "$RA" "$LAN4_B" && learned "$RB" "$LAN4_A" || return 1 ;; esac
	case $fams in *6*) learned "$RA" "$LAN6_B" && learned "$RB" "$LAN6_A" || return 1 ;; esac
	return 0
}

lans_withdrawn_on_a() { not_learned "$RA" "$LAN4_B"; }

# check_lan_pings [4|6|46]: host A pings host B.
check_lan_pings()
{
	local fams=${1:-46}
	case $fams in *4*) check "LAN A $H4_A pings LAN B $H4_B" pings "$HA" "$H4_B" 3 ;; esac
	case $fams in *6*) check "LAN A $H6_A pings LAN B $H6_B" pings "$HA" "$H6_B" 3 ;; esac
}

# ---- templates ----

# render TEMPLATE OUT KEY=VALUE...: copy TEMPLATE replacing @KEY@.
render()
{
	local tpl=$TEMPLATES/$1 out=$2 kv args=()
	shift 2
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${args[@]}" "$tpl" >"$out" || fail "render $tpl"
	if grep -q '@[A-Z0-9_]*@' "$out"; then
		fail "render $tpl: unreplaced $(grep -o '@[A-Z0-9_]*@' "$out" | sort -u | tr '\n' ' ')"
	fi
}

# ---- BIRD ----

ROUTING_LOGS=()
declare -A BIRD_PIDS=() FRR_PIDS=()
BIRD_A="" BIRD_B=""    # names of the current scenario's BIRD instances

# bird_pair TEMPLATE TAG KEY=VALUE...: render TEMPLATE for both routers
# (RID 1.1.1.1 / 2.2.2.2) and start BIRD in RA and RB as a-TAG, b-TAG.
bird_pair()
{
	local tpl=$1 tag=$2
	shift 2
	BIRD_A=a-$tag BIRD_B=b-$tag
	render "$tpl" "$TMPD/bird-$BIRD_A.conf" LOG="$TMPD/bird-$BIRD_A.log" RID=1.1.1.1 \
		TUN="$TUN_IF" "$@"
	render "$tpl" "$TMPD/bird-$BIRD_B.conf" LOG="$TMPD/bird-$BIRD_B.log" RID=2.2.2.2 \
		TUN="$TUN_IF" "$@"
	bird_start "$RA" "$BIRD_A" "$TMPD/bird-$BIRD_A.conf" &&
		bird_start "$RB" "$BIRD_B" "$TMPD/bird-$BIRD_B.conf"
}

bird_pair_stop() { bird_stop "$BIRD_A"; bird_stop "$BIRD_B"; }

# bird_start NS NAME CONF: BIRD in the foreground (so we own its pid) with
# private control socket and pid file; waits until birdc answers.
bird_start()
{
	local ns=$1 name=$2 conf=$3 sock=$TMPD/bird-$2.ctl pid
	ip netns exec "$ns" "$BIRD" -f -c "$conf" -s "$sock" -P "$TMPD/bird-$name.pid" \
		>"$TMPD/bird-$name.out" 2>&1 &
	pid=$!
	BG_PIDS+=("$pid")
	BIRD_PIDS[$name]=$pid
	ROUTING_LOGS+=("$TMPD/bird-$name.log" "$TMPD/bird-$name.out")
	wait_until 10 birdc_q "$name" show status >/dev/null ||
		{ not_ok "BIRD $name does not answer on $sock"; cat "$TMPD/bird-$name.out"; return 1; }
}

birdc_q() { local name=$1; shift; "$BIRDC" -s "$TMPD/bird-$name.ctl" "$@" 2>&1; }

bird_stop()
{
	local name=$1 pid
	pid=${BIRD_PIDS[$name]:-}
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	wait_until 5 eval "! kill -0 $pid 2>/dev/null"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "BIRD_PIDS[$name]"
	return 0
}

# bird_ospf_full NAME PROTO: the tunnel neighbor of PROTO is Full.
bird_ospf_full() { birdc_q "$1" show ospf neighbors "$2" | grep -q 'Full/'; }

diag_bird()
{
	local n
	for n in "$BIRD_A" "$BIRD_B"; do
		echo "-- birdc ($n): show protocols / ospf neighbors / ospf interface --"
		birdc_q "$n" show protocols all
		birdc_q "$n" show ospf neighbors
		birdc_q "$n" show ospf interface
		birdc_q "$n" show route
	done
}

# ---- FRR ----

# frr_start NS NAME DAEMON...: zebra plus DAEMONs as user frr, config
# $TMPD/frr-NAME/DAEMON.conf (render them first), zserv socket, vty
# sockets and pid files in $TMPD/frr-NAME; no TCP vty.  Waits for their
# vty sockets.
frr_start()
{
	local ns=$1 name=$2 dir=$TMPD/frr-$2 d pid
	shift 2
	chmod o+x "$TMPD"     # FRR drops to user frr: let it reach its own dir
	chown -R frr:frr "$dir"
	for d in zebra "$@"; do
		[ -f "$dir/$d.conf" ] || fail "no $dir/$d.conf"
		ip netns exec "$ns" "$FRR_DIR/$d" -f "$dir/$d.conf" -i "$dir/$d.pid" -z "$dir/zserv.api" \
			--vty_socket "$dir" -P 0 >"$dir/$d.out" 2>&1 &
		pid=$!
		BG_PIDS+=("$pid")
		FRR_PIDS[$name]="${FRR_PIDS[$name]:-} $pid"
		ROUTING_LOGS+=("$dir/$d.log")
		if ! wait_until 10 test -S "$dir/$d.vty"; then
			not_ok "FRR $d for $name did not start"
			cat "$dir/$d.out"
			return 1
		fi
		[ "$d" = zebra ] && wait_until 5 test -S "$dir/zserv.api"
	done
	return 0
}

frr_stop()
{
	local name=$1 pids p
	pids=${FRR_PIDS[$name]:-}
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do
		wait_until 5 eval "! kill -0 $p 2>/dev/null"
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	unset "FRR_PIDS[$name]"
	return 0
}

# vtysh_q NAME CMD...: one or more "show" commands on router NAME's FRR.
vtysh_q()
{
	local name=$1 c args=()
	shift
	for c in "$@"; do args+=(-c "$c"); done
	"$VTYSH" --vty_socket "$TMPD/frr-$name" "${args[@]}" 2>&1
}

frr_dir() { mkdir -p "$TMPD/frr-$1"; echo "$TMPD/frr-$1"; }

# frr_render NAME DAEMON KEY=VALUE...: templates/frr-DAEMON.conf.in (or
# frr-<TEMPLATE>.conf.in when DAEMON is daemon:template).
frr_render()
{
	local name=$1 d=${2%%:*} tpl=${2#*:} dir
	shift 2
	dir=$(frr_dir "$name")
	render "frr-$tpl.conf.in" "$dir/$d.conf" NAME="$name" LOG="$dir/$d.log" TUN="$TUN_IF" "$@"
}

frr_ospf_full() { vtysh_q "$1" "show ip ospf neighbor" | grep -q 'Full/'; }
frr_ospf6_full() { vtysh_q "$1" "show ipv6 ospf6 neighbor" | grep -q 'Full/'; }

FRR_A="" FRR_B=""      # names of the current scenario's FRR instances

# frr_pair TAG "DAEMON[:TEMPLATE] ..." KEY=VALUE...: render zebra and each
# DAEMON's template for both routers (RID 1.1.1.1 / 2.2.2.2, SITE 1 / 2,
# PEER4/PEER6 the other end's tunnel addresses) and start them as a-TAG,
# b-TAG.
frr_pair()
{
	local tag=$1 daemons=$2 d names=()
	shift 2
	FRR_A=a-$tag FRR_B=b-$tag
	for d in zebra $daemons; do
		frr_render "$FRR_A" "$d" RID=1.1.1.1 SITE=1 OTHER=2 SELF4=$T4_A SELF6=$T6_A \
			PEER4=$T4_B PEER6=$T6_B "$@"
		frr_render "$FRR_B" "$d" RID=2.2.2.2 SITE=2 OTHER=1 SELF4=$T4_B SELF6=$T6_B \
			PEER4=$T4_A PEER6=$T6_A "$@"
		[ "$d" = zebra ] || names+=("${d%%:*}")
	done
	frr_start "$RA" "$FRR_A" "${names[@]}" && frr_start "$RB" "$FRR_B" "${names[@]}"
}

frr_pair_stop() { frr_stop "$FRR_A"; frr_stop "$FRR_B"; }

# FRR_SHOW: the vtysh commands diag_frr runs (set per scenario).
FRR_SHOW=("show interface brief" "show ip route" "show ipv6 route")

diag_frr()
{
	local n
	for n in "$FRR_A" "$FRR_B"; do
		echo "-- vtysh ($n) --"
		vtysh_q "$n" "${FRR_SHOW[@]}"
	done
}
