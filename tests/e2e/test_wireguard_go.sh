#!/bin/bash
# tests/e2e/test_wireguard_go.sh: gresec's secure mode against a WireGuard
# implementation this project did not write: wireguard-go (Debian package),
# configured with wg(8) from wireguard-tools.
#
#   hA ── rA: gresecd, secure tunnel gt0 ══ WireGuard ══ rB: wireguard-go wg0
#                                                        + gresecd, plain gt0
#                                                          over wg0 ── hB
#
# On rB the WireGuard layer is wireguard-go and the GRE layer a plain-mode
# gresec whose local/remote are the two WireGuard addresses (this kernel has
# no ip_gre): exactly the stack of a router with `wg-quick` and `ip tunnel`.
# Scenarios: keys usable both ways; handshake initiated by gresec and by
# wireguard-go; IPv4/IPv6 inner pings, the WireGuard address answers pings;
# 20 MB TCP with equal SHA-256; gretap with ARP; IPv6 underlay; rekey under
# traffic; persistent keepalives both ways; the GRE layer's Cisco-style
# keepalives reflected; roaming of the gresec end; BIRD
# OSPFv2 and OSPFv3 reaching Full across it.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/e2e/lib.sh"

WG_GO=${WG_GO:-/usr/bin/wireguard-go}
WG=${WG:-/usr/bin/wg}
require_e2e "bird|frr"
[ -x "$WG_GO" ] || skip "$(basename "$0") needs wireguard-go (Debian package wireguard-go)"
[ -x "$WG" ] || skip "$(basename "$0") needs wg (Debian package wireguard-tools)"
setup_test
make_sites

WG_PORT=51820 GS_PORT=51947
WG4_A=10.99.0.1 WG4_B=10.99.0.2   # the WireGuard-layer addresses
WG_PID=""

# ---- keys: gresec's and wg's are the same X25519 keys in the same text ----
make_keys
(umask 077 && "$WG" genkey >"$TMPD/wg.key") || fail "wg genkey"
PUB_WG=$("$WG" pubkey <"$TMPD/wg.key")
scenario_begin "keys" "gresec <-> wg"
check_eq "wg pubkey of a gresec genkey key equals gresec pubkey" "$("$WG" pubkey <"$KEY_A")" "$PUB_A"
check_eq "gresec pubkey of a wg genkey key equals wg pubkey" "$("$GRESEC" pubkey <"$TMPD/wg.key")" "$PUB_WG"
scenario_end

# ---- rB: wireguard-go + plain gresec over it ----

# wg_up UNDERLAY(4|6) [EXTRA wg set args]: wireguard-go's wg0 in rB, peer =
# rA's gresec; endpoint set unless EXTRA says otherwise.
wg_up()
{
	local ul=$1 ep
	shift
	if [ "$ul" = 4 ]; then ep=$UL4_A:$GS_PORT; else ep=[$UL6_A]:$GS_PORT; fi
	ip netns exec "$RB" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=error "$WG_GO" wg0 \
		>"$TMPD/wireguard-go.log" 2>&1 &
	WG_PID=$!
	BG_PIDS+=("$WG_PID")
	wait_until 5 link_exists "$RB" wg0 || { not_ok "wireguard-go created no wg0"; return 1; }
	nsx "$RB" "$WG" set wg0 private-key "$TMPD/wg.key" listen-port "$WG_PORT" \
		peer "$PUB_A" allowed-ips "$WG4_A/32" ${WG_ENDPOINT:+endpoint "$ep"} "$@" ||
		{ not_ok "wg set wg0"; return 1; }
	ip -n "$RB" addr add "$WG4_B/32" peer "$WG4_A/32" dev wg0 &&
		ip -n "$RB" link set wg0 up || { not_ok "wg0 address"; return 1; }
}

wg_down()
{
	[ -n "$WG_PID" ] && kill "$WG_PID" 2>/dev/null && wait "$WG_PID" 2>/dev/null
	WG_PID=""
	wait_until 5 link_gone "$RB" wg0
}

# wg_handshakes: the peer's latest handshake (unix time, 0 = none).
wg_latest() { nsx "$RB" "$WG" show wg0 latest-handshakes | awk '{ print $2 }'; }
wg_endpoint() { nsx "$RB" "$WG" show wg0 endpoints | awk '{ print $2 }'; }
wg_rx_bytes() { nsx "$RB" "$WG" show wg0 transfer | awk '{ print $2 }'; }
wg_handshaken() { [ "$(wg_latest)" -gt 0 ] 2>/dev/null; }

# gs_up TYPE UNDERLAY [EXTRA_A]: gresec in rA (secure, remote set unless
# GS_NO_REMOTE) and in rB (plain over wg0), tunnel gt0 on both.
gs_up()
{
	local type=$1 ul=$2 xa=${3:-} la lb mtu=1396 tag
	tag="$type-$ul-$RANDOM"
	[ "$type" = gretap ] && mtu=1382
	if [ "$ul" = 4 ]; then la=$UL4_A lb=$UL4_B; else la=$UL6_A lb=$UL6_B; fi
	[ -n "${GS_NO_LOCAL:-}" ] && la=""
	[ -n "${GS_NO_REMOTE:-}" ] && lb=""
	CONF_GA=$TMPD/gs-a-$tag.conf CONF_GB=$TMPD/gs-b-$tag.conf
	SC_RLOG0=${#ROUTING_LOGS[@]} SC_DLOG0=${#DAEMON_LOGS[@]}
	{ conf_daemon "$CONF_GA"; echo 'tunnels = ('
	  tunnel_block "$TUN_IF" secure "$type" "$la" "$lb" "$T4_A" "$T6_A" "$T4_B" "$T6_B" \
		"$KEY_A" "$PUB_WG" "port = $GS_PORT; remote_port = $WG_PORT; gre_local = \"$WG4_A\"; gre_remote = \"$WG4_B\"; $xa"
	  echo ');'; } >"$CONF_GA"
	{ conf_daemon "$CONF_GB"; echo 'tunnels = ('
	  tunnel_block "$TUN_IF" plain "$type" "$WG4_B" "$WG4_A" "$T4_B" "$T6_B" "$T4_A" "$T6_A" \
		"" "" "mtu = $mtu; ${GS_B_EXTRA:-}"
	  echo ');'; } >"$CONF_GB"
	start_gresecd "$RB" "$CONF_GB"; PID_GB=$GRESECD_PID SOCK_GB=$GRESECD_SOCK
	start_gresecd "$RA" "$CONF_GA"; PID_GA=$GRESECD_PID SOCK_GA=$GRESECD_SOCK
}

gs_field() { tunnel_field "$RA" "$SOCK_GA" "$TUN_IF" "$1"; }
established() { [ "$(gs_field state)" = established ]; }

# basic_checks LABEL TYPE: what every variant must carry.
basic_checks()
{
	local label=$1 type=$2 res sent got n
	check "$label: wireguard-go completed a handshake" wait_until 10 wg_handshaken
	check "$label: gresec reports established" wait_until 10 established
	check "$label: show names the WireGuard addresses" \
		eval '[ "$(gs_field gre_local)" = "$WG4_A" ] && [ "$(gs_field gre_remote)" = "$WG4_B" ]'
	check "$label: IPv4 across $type, A -> B" wait_until 10 pings "$RA" "$T4_B" 3
	check "$label: IPv6 across $type, B -> A" wait_until 10 pings "$RB" "$T6_A" 3
	check "$label: 1300-byte IPv4 across, DF" pings "$RA" "$T4_B" 3 -M do -s 1272
	check "$label: the WireGuard address $WG4_A answers pings from rB" pings "$RB" "$WG4_A" 3
	check "$label: echo replies counted" eval '[ "$(gs_field echo_replies)" -ge 3 ]'
	if [ "$type" = gretap ]; then
		check "$label: ARP resolved the peer across gretap" \
			eval 'ip -n "$RA" neigh show dev "$TUN_IF" | grep -q "$T4_B .*lladdr"'
	fi
	n=$((20 * 1024 * 1024))
	res=$(tcp_transfer "$RA" "$RB" "$T4_B" "$n")
	read -r sent got n_got _ <<<"$res"
	check_eq "$label: 20 MB TCP A -> B, SHA-256 equal" "$got" "$sent"
	check_eq "$label: 20 MB TCP A -> B, all bytes" "$n_got" "$n"
	check_eq "$label: nothing dropped by gresec in A" "$(gs_field drops_total)" 0
}

# ---- scenarios ----

variant()
{
	local type=$1 ul=$2
	scenario_begin "wireguard-go" "gresec initiates, $type, ipv$ul underlay"
	WG_ENDPOINT="" wg_up "$ul" || { scenario_end; return; }
	gs_up "$type" "$ul"
	basic_checks "$type/ipv$ul" "$type"
	tunnel_down
	wg_down
	scenario_end
}

variant gre 4
variant gretap 4
variant gre 6

scenario_begin "wireguard-go" "wireguard-go initiates"
WG_ENDPOINT=1 wg_up 4 || fail "wireguard-go"
GS_NO_REMOTE=1 gs_up gre 4
check "gresec waits for the peer (no remote)" eval '[ "$(gs_field endpoint)" = None ]'
# Traffic on rB makes wireguard-go initiate.
check "ping from rB starts wireguard-go's handshake" wait_until 15 pings "$RB" "$T4_A" 1
check "gresec learned the endpoint from the handshake" \
	eval '[ "$(gs_field endpoint)" = "$UL4_B:$WG_PORT" ]'
check "IPv4 across, A -> B" pings "$RA" "$T4_B" 3
tunnel_down
wg_down
scenario_end

scenario_begin "wireguard-go" "rekey under traffic"
WG_ENDPOINT="" wg_up 4 || fail "wireguard-go"
gs_up gre 4 "rekey_after_time = 3; reject_after_time = 60;"
check "established" wait_until 10 established
first=$(wg_latest)
# 10 s of pings at 20/s: three rekeys initiated by gresec, nothing lost.
out=$(ip netns exec "$RA" ping -q -c 200 -i 0.05 -W 1 "$T4_B" 2>&1)
loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out")
check_eq "200 pings across three rekeys, loss" "$loss" 0
check "wireguard-go saw newer handshakes" eval '[ "$(wg_latest)" -gt "$first" ]'
check "gresec's latest handshake is recent" eval '[ "$(gs_field latest_handshake_age | cut -d. -f1)" -le 4 ]'
tunnel_down
wg_down
scenario_end

scenario_begin "wireguard-go" "persistent keepalive both ways"
WG_ENDPOINT=1 wg_up 4 persistent-keepalive 1 || fail "wireguard-go"
gs_up gre 4 "persistent_keepalive = 1;"
check "established" wait_until 10 established
k0=$(gs_field keepalives_received) b0=$(wg_rx_bytes)
sleep 3.5
check "gresec received wireguard-go's keepalives (idle link)" \
	eval '[ "$(gs_field keepalives_received)" -ge $((k0 + 2)) ]'
check "wireguard-go received gresec's keepalives (idle link)" \
	eval '[ "$(wg_rx_bytes)" -ge $((b0 + 2 * 32)) ]'
check "carrier up on an idle link" eval '[ "$(gs_field carrier)" = true ]'
tunnel_down
wg_down
scenario_end

scenario_begin "wireguard-go" "the peer's GRE keepalives (Cisco/MikroTik style)"
WG_ENDPOINT="" wg_up 4 || fail "wireguard-go"
GS_B_EXTRA="keepalive = 1; keepalive_retries = 3;" gs_up gre 4
check "established" wait_until 10 established
check "rB's GRE keepalives come back through gresec's secure tunnel" \
	wait_until 10 eval '[ "$(tunnel_field "$RB" "$SOCK_GB" "$TUN_IF" keepalives_received)" -ge 3 ]'
check "gresec counts them as reflected" eval '[ "$(gs_field keepalives_reflected)" -ge 3 ]'
check_eq "rB's GRE interface keeps its carrier" "$(tunnel_field "$RB" "$SOCK_GB" "$TUN_IF" carrier)" true
tunnel_down
wg_down
scenario_end

scenario_begin "wireguard-go" "roaming of the gresec end"
WG_ENDPOINT="" wg_up 4 || fail "wireguard-go"
GS_NO_LOCAL=1 gs_up gre 4 "persistent_keepalive = 1;"
check "established" wait_until 10 established
check_eq "wireguard-go sees gresec at $UL4_A" "$(wg_endpoint)" "$UL4_A:$GS_PORT"
# rA's underlay address changes (a new DHCP lease): its next packets come
# from the new address, and wireguard-go follows after authenticating them.
ip -n "$RA" addr del "$UL4_A/24" dev veth0 && ip -n "$RA" addr add 10.0.0.3/24 dev veth0 ||
	fail "readdress rA"
check "wireguard-go follows gresec to 10.0.0.3" wait_until 10 eval '[ "$(wg_endpoint)" = "10.0.0.3:$GS_PORT" ]'
check "IPv4 across after the move" wait_until 10 pings "$RA" "$T4_B" 3
ip -n "$RA" addr del 10.0.0.3/24 dev veth0 && ip -n "$RA" addr add "$UL4_A/24" dev veth0
tunnel_down
wg_down
scenario_end

if have_bird; then
	scenario_begin "ospf bird" "gresec <-> wireguard-go + GRE"
	WG_ENDPOINT="" wg_up 4 || fail "wireguard-go"
	gs_up gre 4
	check "established" wait_until 10 established
	check "tunnel link-local addresses ready" wait_until 10 eval 'tunnel_has_ll "$RA" && tunnel_has_ll "$RB"'
	mtu_agrees
	DIAG_HOOKS=(diag_bird)
	t0=$(now)
	if bird_pair bird-ospf.conf.in wg HELLO=1 DEAD=4; then
		converge "BIRD OSPFv2 and OSPFv3: both LANs learned across WireGuard" 40 "$t0" lans_learned 46
		check "BIRD OSPFv2 neighbor Full on rA" bird_ospf_full "$BIRD_A" ospf4
		check "BIRD OSPFv3 neighbor Full on rA" bird_ospf_full "$BIRD_A" ospf6
		check_lan_pings 46
	fi
	bird_pair_stop
	tunnel_down
	wg_down
	scenario_end
else
	scenario_skip "ospf bird" "gresec <-> wireguard-go + GRE" "BIRD 2 not installed"
fi

finish
