#!/bin/bash
# tests/netns/test_partial_start.sh: tunnels that cannot come up at start
# do not take the others with them, and come up once their cause is gone.
#
#   ns A (gresecd)                                     ns B (gresecd, peer)
#   g1 plain  key 1    11.1.1.1/30  ┄┄ GRE ┄┄          g1 11.1.1.2/30
#   k1 secure :51971   key file missing (written later)
#   l1 plain  key 3    local 10.0.0.77, not assigned (assigned later)
#   v1 plain  key 4    device vnot, missing (made later)
#   n1 plain  key 5    name held by a veth (deleted later)
#   g2 secure :51972   11.6.1.1/30  ┄┄ UDP ┄┄          g2 11.6.1.2/30
#   veth0 10.0.0.1/24 ──────────────────────────────── veth0 10.0.0.2/24
#
# - The start goes on: exit status and readiness as with good tunnels;
#   READY=1's STATUS names the four tunnels that do not run; g1 and g2
#   pass traffic; `gresec show` lists all six in the file's order, the
#   failed ones with their error and next attempt; the daemon stays idle
#   while it retries.
# - `gresec reload` exits non-zero and names the four, in the file's order,
#   with their errors; an invalid file's problems come in line order.
# - The local address assigned: l1 up within a second; the device made:
#   v1 up within a second; the name freed: n1 up within a second (rtnetlink
#   events, not the back-off); the key file written and a reload: k1 up,
#   and the reload succeeds.  STATUS= follows each change.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
setup_test

A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"
# The name n1 is held by a veth in A.
ip -n "$A" link add nheld type veth peer name nheldp || fail "veth holding n1's name"

make_keys a b
(umask 077 && "$GRESEC" genkey >"$TMPD/k1-a.later") || fail "gresec genkey"
(umask 077 && "$GRESEC" genkey >"$TMPD/k1-b.key") || fail "gresec genkey"
PUB_K1A=$("$GRESEC" pubkey <"$TMPD/k1-a.later") PUB_K1B=$("$GRESEC" pubkey <"$TMPD/k1-b.key")

CA="$TMPD/a.conf" CB="$TMPD/b.conf"
{
	conf_daemon "$CA"
	cat <<-EOF
	tunnels = ( {
	  name = "g1"; mode = "plain"; local = "10.0.0.1"; remote = "10.0.0.2"; key = 1;
	  address = "11.1.1.1/30"; peer_address = "11.1.1.2";
	}, {
	  name = "k1"; mode = "secure"; local = "10.0.0.1"; remote = "10.0.0.2"; port = 51971;
	  private_key_file = "$TMPD/k1-a.key"; peer_public_key = "$PUB_K1B";
	  address = "11.2.1.1/30"; peer_address = "11.2.1.2";
	}, {
	  name = "l1"; mode = "plain"; local = "10.0.0.77"; remote = "10.0.0.2"; key = 3;
	  address = "11.3.1.1/30"; peer_address = "11.3.1.2";
	}, {
	  name = "v1"; mode = "plain"; local = "10.0.0.1"; remote = "10.0.0.2"; key = 4; device = "vnot";
	  address = "11.4.1.1/30"; peer_address = "11.4.1.2";
	}, {
	  name = "nheld"; mode = "plain"; local = "10.0.0.1"; remote = "10.0.0.2"; key = 5;
	  address = "11.5.1.1/30"; peer_address = "11.5.1.2";
	}, {
	  name = "g2"; mode = "secure"; local = "10.0.0.1"; remote = "10.0.0.2"; port = 51972;
	  private_key_file = "$TMPD/a.key"; peer_public_key = "$PUB_B";
	  address = "11.6.1.1/30"; peer_address = "11.6.1.2";
	} );
	EOF
} >"$CA"
{
	conf_daemon "$CB"
	cat <<-EOF
	tunnels = ( {
	  name = "g1"; mode = "plain"; local = "10.0.0.2"; remote = "10.0.0.1"; key = 1;
	  address = "11.1.1.2/30"; peer_address = "11.1.1.1";
	}, {
	  name = "k1"; mode = "secure"; local = "10.0.0.2"; remote = "10.0.0.1"; port = 51971;
	  private_key_file = "$TMPD/k1-b.key"; peer_public_key = "$PUB_K1A";
	  address = "11.2.1.2/30"; peer_address = "11.2.1.1";
	}, {
	  name = "l1"; mode = "plain"; local = "10.0.0.2"; remote = "10.0.0.77"; key = 3;
	  address = "11.3.1.2/30"; peer_address = "11.3.1.1";
	}, {
	  name = "g2"; mode = "secure"; local = "10.0.0.2"; remote = "10.0.0.1"; port = 51972;
	  private_key_file = "$TMPD/b.key"; peer_public_key = "$PUB_A";
	  address = "11.6.1.2/30"; peer_address = "11.6.1.1";
	} );
	EOF
} >"$CB"

# A readiness listener: each message on one line, newlines as '|'.
NOTIFY="$TMPD/notify.sock" NOTES="$TMPD/notify.log"
nsx "$A" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
while True:
    m = s.recv(4096).decode()
    with open(sys.argv[2], "a") as f:
        f.write(m.replace("\n", "|") + "\n")
' "$NOTIFY" "$NOTES" &
BG_PIDS+=("$!")
wait_for test -e "$NOTES.ready" || fail "notify listener"

start_gresecd "$B" "$CB"; PID_B=$GRESECD_PID
SOCK_A=$(conf_sock "$CA") LOG_A=$(conf_log "$CA")
NOTIFY_SOCKET=$NOTIFY ip netns exec "$A" "$GRESECD" -f -c "$CA" -p "$(conf_pidfile "$CA")" \
	-s "$SOCK_A" >"$LOG_A" 2>&1 &
PID_A=$!
DAEMON_PIDS+=("$PID_A")
DAEMON_LOGS+=("$LOG_A")

field() { tunnel_field "$A" "$SOCK_A" "$@"; }
state_is() { [ "$(field "$1" state)" = "$2" ]; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
within()
{
	local end=$(($(date +%s%N) + $1 * 1000000000))
	shift
	while :; do
		"$@" && return 0
		[ "$(date +%s%N)" -ge "$end" ] && return 1
		sleep 0.05
	done
}
status_last() { grep '^STATUS=\|^READY=1|STATUS=' "$NOTES" | tail -n1 | sed 's/^READY=1|//'; }

echo "# ---- the start ----"
check "the daemon runs with four tunnels it cannot bring up" wait_for daemon_answers "$A" "$SOCK_A" "$PID_A"
check "it is alive" kill -0 "$PID_A"
check "READY=1 is sent" wait_for grep -q '^READY=1|STATUS=' "$NOTES"
ready=$(grep '^READY=1|STATUS=' "$NOTES" | head -n1)
echo "# $ready"
check "READY's STATUS names the four and why" eval 'echo "$ready" | grep -qF \
	"STATUS=6 tunnels from $CA; 4 not running: k1 (" && echo "$ready" | grep -qF " l1 (local address 10.0.0.77 is not assigned" &&
	echo "$ready" | grep -qF " v1 (device: \"vnot\" does not exist" && echo "$ready" | grep -qF " nheld (name: interface \"nheld\" is in use"'
check "g1 passes traffic" pings "$A" 11.1.1.2 3
ip netns exec "$A" ping -q -c1 -W1 11.6.1.2 >/dev/null 2>&1
check "g2 is established" wait_for state_is g2 established
check "g2 passes traffic" pings "$A" 11.6.1.2 3
json=$(gresec_json "$A" "$SOCK_A")
check_eq "show lists every tunnel, in the file's order" \
	"$(echo "$json" | "$PY" -c 'import json,sys; print(" ".join(t["name"] + ":" + t["state"] for t in json.load(sys.stdin)["tunnels"]))')" \
	"g1:up k1:failed l1:failed v1:failed nheld:failed g2:established"
# The first error is the start's check, later ones the retries' own words.
check "show: the failed ones have their error and a next attempt" "$PY" -c '
import json, re, sys
ts = {t["name"]: t for t in json.loads(sys.argv[1])["tunnels"]}
want = {
    "k1": "private_key_file: \"%s/k1-a.key\"" % sys.argv[2],
    "l1": "local address 10.0.0.77 is not assigned to this host \\(yet\\)",
    "v1": "device:? \"vnot\" does not exist",
    "nheld": ".*nheld.* (is in use|exists).*veth",
}
for n, w in want.items():
    t = ts[n]
    assert re.match(w, t["last_error"]), (n, t["last_error"])
    assert isinstance(t["retry_in"], float) and 0 <= t["retry_in"] <= 60, (n, t["retry_in"])
    assert t["failures"] >= 1 and t["ifindex"] == 0 and t["datapath"] is None, t
    assert t["carrier"] is False and t["liveness"] is None, t
assert ts["g1"]["last_error"] is None and ts["g1"]["retry_in"] is None
' "$json" "$TMPD"
text=$(nsx "$A" "$GRESEC" -s "$SOCK_A" show l1)
check "show (text): a failed tunnel says so, why, and when it is tried again" eval 'echo "$text" | grep -q "state failed" &&
	echo "$text" | grep -q "error: local address 10.0.0.77 is not assigned" && echo "$text" | grep -q "next attempt: in "'
brief=$(nsx "$A" "$GRESEC" -s "$SOCK_A" show --brief)
echo "$brief" | sed 's/^/#   /'
check "--brief: a failed tunnel in one line" eval 'echo "$brief" | grep -qE "^v1 +failed .* retry in .*: device:? \"vnot\" does not exist"'
T0=$(cpu_ticks "$PID_A")
sleep 3
T1=$(cpu_ticks "$PID_A")
check "retrying four tunnels, the daemon stays idle ($((T1 - T0)) ticks in 3 s)" test $((T1 - T0)) -lt 30

echo "# ---- reload while they fail ----"
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
echo "$out" | sed 's/^/#   /'
check "reload: exits non-zero while tunnels do not run ($st)" test "$st" -ne 0
check "reload: says how many" eval 'echo "$out" | grep -qF "reloaded $CA with errors: 4 of 6 tunnels not running"'
check_eq "reload: names them in the file's order" \
	"$(echo "$out" | sed -n 's/^  tunnel "\([^"]*\)" (line [0-9]*): .*/\1/p' | tr '\n' ' ')" "k1 l1 v1 nheld "
check "reload: with their lines and errors" eval 'echo "$out" | grep -qE "^  tunnel \"v1\" \(line [0-9]+\): device:? \"vnot\" does not exist"'
check "reload: g1 untouched" pings "$A" 11.1.1.2 2
cp "$CA" "$CA.good"
sed -i 's/key = 3;/key = 3; mtu = 20;/; s/name = "g1";/name = "g1"; bogus = 1;/' "$CA"
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
check "invalid file: reload refused ($st)" test "$st" -ne 0
check_eq "invalid file: its problems in line order" \
	"$(echo "$out" | grep -o "$CA:[0-9]*:" | cut -d: -f2 | tr '\n' ' ')" \
	"$(grep -n 'name = "g1"' "$CA" | cut -d: -f1) $(grep -n 'key = 3;' "$CA" | cut -d: -f1) "
cp "$CA.good" "$CA"

echo "# ---- the causes go away ----"
ip -n "$A" addr add 10.0.0.77/24 dev veth0
check "local address assigned: l1 up within a second" within 1 state_is l1 up
check "l1: passes traffic" pings "$A" 11.3.1.2 3
check "STATUS= no longer names l1" wait_for eval 'status_last | grep -q "3 not running" && ! status_last | grep -q " l1 ("'
ip -n "$A" link add vnot type veth peer name vnotp
check "device made: v1 up within a second" within 1 state_is v1 up
ip -n "$A" link del nheld
check "name freed: nheld up within a second" within 1 state_is nheld up
check "nheld is gresecd's TUN now" eval '[ "$(link_field "$A" nheld linkinfo.info_kind)" = tun ]'
mv "$TMPD/k1-a.later" "$TMPD/k1-a.key"
out=$(nsx "$A" "$GRESEC" -s "$SOCK_A" reload 2>&1); st=$?
check_eq "key file written, reload: exit 0 ($out)" "$st" 0
check "k1 up at once ($(field k1 state))" eval '[ "$(field k1 state)" != failed ]'
ip netns exec "$A" ping -q -c1 -W1 11.2.1.2 >/dev/null 2>&1
check "k1 established" wait_for state_is k1 established
check "k1 passes traffic" pings "$A" 11.2.1.2 3
check "STATUS=: all six run" wait_for eval 'status_last | grep -qx "STATUS=6 tunnels from $CA"'
check "g1 and g2 kept running throughout" eval 'pings "$A" 11.1.1.2 2 && pings "$A" 11.6.1.2 2'
check_eq "g1 was never made again" "$(field g1 rebuilds)" 0

stop_gresecd "$PID_A"; st=$?
check_eq "gresecd in A exits 0 on SIGTERM" "$st" 0
finish
