#!/bin/bash
# tests/netns/test_control.sh: the control socket under bad input.
#
#   ns A                                        ns B
#   gresecd ── gre1 11.11.1.1/30 ┄┄ GRE ┄┄ gre1 11.11.1.2/30 ── gresecd
#   veth0 10.0.0.1/24 ──────────────────────── veth0 10.0.0.2/24
#
# A's control socket gets malformed frames (bad magic, version, command,
# length, argument), 1 MB of junk, a client that sends nothing, 50 idle
# clients at once, and clients running as `nobody` (socket mode loosened to
# 0666: refused by SO_PEERCRED; default 0600: cannot connect).  Each is
# refused with a clear error, and afterwards `gresec show` still answers and
# gre1 still passes traffic.  Also: socket mode 0600, show text and --json
# (documented fields, one tunnel by name, unknown name), -s and
# GRESEC_CONTROL_SOCKET, and a second daemon on the same socket / pid file.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
command -v setpriv >/dev/null 2>&1 || skip "$(basename "$0") needs setpriv (util-linux)"
id nobody >/dev/null 2>&1 || skip "$(basename "$0") needs the user nobody"
setup_test

CLIENT="$NETNS_DIR/ctl_client.py"
A=$(ns_name a)
B=$(ns_name b)
make_pair "$A" "$B"

write_conf()
{
	local file=$1 lo=$2 re=$3 addr=$4 peer=$5

	{
		conf_daemon "$file"
		echo 'tunnels = ( {'
		echo '  name = "gre1"; mode = "plain"; type = "gre"; description = "control test";'
		echo "  local = \"$lo\"; remote = \"$re\"; key = 7;"
		echo "  address = ( \"$addr/30\" ); peer_address = ( \"$peer\" );"
		echo '} );'
	} >"$file"
}

CA="$TMPD/a.conf" CB="$TMPD/b.conf"
write_conf "$CA" "$UL4_A" "$UL4_B" 11.11.1.1 11.11.1.2
write_conf "$CB" "$UL4_B" "$UL4_A" 11.11.1.2 11.11.1.1
start_gresecd "$A" "$CA"; PID_A=$GRESECD_PID SOCK=$GRESECD_SOCK LOG_A=$GRESECD_LOG
start_gresecd "$B" "$CB"; PID_B=$GRESECD_PID

check "gre1 passes traffic at start" pings "$A" 11.11.1.2 3

# healthy LABEL: the daemon still answers `gresec show` and gre1 still works.
healthy()
{
	local label=$1

	if ! kill -0 "$PID_A" 2>/dev/null; then
		fail "$label: gresecd in A died"
	fi
	check "$label: gresec show still answers" eval \
		'gresec_json "$A" "$SOCK" gre1 | json_get tunnels.gre1.name | grep -qx gre1'
	check "$label: gre1 still passes traffic" pings "$A" 11.11.1.2 2
}

client() { nsx "$A" "$PY" "$CLIENT" "$SOCK" "$@"; }

# reply_field JSON FIELD
reply_field() { echo "$1" | json_get "$2"; }

# refused LABEL WANT-ERROR CLIENT-ARGS...: the daemon answers "error: WANT"
# and closes the connection.
refused()
{
	local label=$1 want=$2 out reply closed
	shift 2

	out=$(client "$@")
	reply=$(reply_field "$out" reply)
	closed=$(reply_field "$out" closed)
	check_eq "$label: answered with a clear error" "$(echo "$reply" | head -n1)" "error: $want"
	check_eq "$label: connection closed after the reply" "$closed" true
}

# ---- socket, show, socket selection ----
echo "# ---- socket and show ----"
check_eq "control socket mode is 0600" "$(stat -c %a "$SOCK")" 600
check_eq "control socket is owned by root" "$(stat -c %U "$SOCK")" root
check "control socket is a socket" test -S "$SOCK"

text=$(nsx "$A" "$GRESEC" -s "$SOCK" show)
check "show: text names the tunnel and its description" \
	eval 'echo "$text" | grep -qx "tunnel: gre1 (control test)"'
check "show: text gives mode, interface and state (no keepalives: liveness unknown, not \"up\")" \
	eval 'echo "$text" | grep -q "mode: plain gre, interface gre1, mtu [0-9]*, state unknown liveness"'
check "show: text gives the carrier and the last packet from the peer" \
	eval 'echo "$text" | grep -q "carrier: up, liveness: unknown (no keepalives), last packet from the peer: [0-9.]* s ago"'
check "show: text gives the addresses" eval 'echo "$text" | grep -qx "  addresses: 11.11.1.1/30 peer 11.11.1.2"'
check "show: text gives local and remote" \
	eval 'echo "$text" | grep -q "local: $UL4_A  remote: $UL4_B"'
check "show: text gives the key" eval 'echo "$text" | grep -q "gre: ikey 7 okey 7"'
check "show: text gives the transfer counters" eval 'echo "$text" | grep -q "transfer: .* received ([1-9][0-9]* packets)"'

json=$(gresec_json "$A" "$SOCK")
check "show --json: fields as documented" "$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["version"] == 1, d
assert isinstance(d["tunnels"], list) and len(d["tunnels"]) == 1
t = d["tunnels"][0]
fields = ["name", "description", "mode", "type", "interface", "ifindex", "local", "remote",
          "endpoint", "state", "carrier", "latest_handshake_age", "mtu", "key", "checksum",
          "sequence", "keepalive", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes",
          "keepalives_sent", "keepalives_received", "keepalives_reflected", "drops"]
missing = [f for f in fields if f not in t]
assert not missing, "missing fields: %s" % missing
drops = ["truncated", "bad_version", "rfc1701_flags", "unknown_protocol", "checksum_missing",
         "checksum_bad", "key_mismatch", "sequence_missing", "sequence_order",
         "unknown_source", "bad_length", "bad_type", "bad_mac", "replay", "decrypt",
         "no_session", "rate_limited", "handshake", "tx_error", "tun_error",
         "inner_malformed"]
missing = [f for f in drops if f not in t["drops"]]
assert not missing, "missing drop counters: %s" % missing
assert all(isinstance(v, int) and v >= 0 for v in t["drops"].values())
assert t["name"] == "gre1" and t["description"] == "control test"
assert t["mode"] == "plain" and t["type"] == "gre" and t["interface"] == "gre1"
assert t["local"] == "10.0.0.1" and t["remote"] == "10.0.0.2"
assert t["state"] == "up" and t["carrier"] is True and t["latest_handshake_age"] is None
assert t["key"] == {"ikey": 7, "okey": 7}, t["key"]
assert isinstance(t["ifindex"], int) and t["ifindex"] > 0
assert t["rx_packets"] >= 3 and t["tx_packets"] >= 3
' "$json"
check "show --json: the added fields (liveness, link, addresses, errors)" "$PY" -c '
import json, sys
t = json.loads(sys.argv[1])["tunnels"][0]
assert t["liveness"] == "unknown", t["liveness"]          # no keepalives: not "alive"
assert isinstance(t["last_rx_age"], float) and t["last_rx_age"] < 30, t["last_rx_age"]
assert t["mtu"] == t["mtu_configured"] == t["link"]["mtu"], (t["mtu"], t["link"])
assert t["link"]["up"] is True and t["link"]["lower_up"] is True and "UP" in t["link"]["flags"]
assert t["addresses"] == [{"address": "11.11.1.1/30", "peer": "11.11.1.2", "state": "installed", "error": None}], t["addresses"]
assert t["routes"] == [] and t["last_error"] is None and t["retry_in"] is None
assert t["failures"] == 0 and t["rebuilds"] == 0 and t["admin_down"] is False and t["local_assigned"] is True
assert t["mac"] is None and "session" not in t
' "$json"
check_eq "show --json: ifindex matches the kernel's" \
	"$(echo "$json" | json_get tunnels.gre1.ifindex)" "$(link_field "$A" gre1 ifindex)"
one=$(gresec_json "$A" "$SOCK" gre1)
check_eq "show gre1 --json: exactly that tunnel" \
	"$(echo "$one" | "$PY" -c 'import json,sys; print([t["name"] for t in json.load(sys.stdin)["tunnels"]])')" \
	"['gre1']"
check "show gre1 (text): that tunnel" eval \
	'nsx "$A" "$GRESEC" -s "$SOCK" show gre1 | grep -qx "tunnel: gre1 (control test)"'

err=$(nsx "$A" "$GRESEC" -s "$SOCK" show nosuch 2>&1 >/dev/null); st=$?
check "show nosuch: non-zero exit (got $st)" test "$st" -ne 0
check "show nosuch: says there is no such tunnel ($err)" eval 'echo "$err" | grep -q "no tunnel named \"nosuch\""'
err=$(nsx "$A" "$GRESEC" -s "$SOCK" show nosuch --json 2>&1 >/dev/null); st=$?
check "show nosuch --json: non-zero exit and error (got $st: $err)" \
	eval '[ "$st" -ne 0 ] && echo "$err" | grep -q "no tunnel named"'

check "GRESEC_CONTROL_SOCKET selects the socket" eval \
	'GRESEC_CONTROL_SOCKET="$SOCK" nsx "$A" "$GRESEC" show gre1 | grep -q "tunnel: gre1"'
check "-s selects the socket over GRESEC_CONTROL_SOCKET" eval \
	'GRESEC_CONTROL_SOCKET="$TMPD/nowhere.sock" nsx "$A" "$GRESEC" -s "$SOCK" show gre1 | grep -q "tunnel: gre1"'
err=$(GRESEC_CONTROL_SOCKET="$TMPD/nowhere.sock" nsx "$A" "$GRESEC" show 2>&1); st=$?
check "GRESEC_CONTROL_SOCKET pointing nowhere: fails naming the socket ($err)" \
	eval '[ "$st" -ne 0 ] && echo "$err" | grep -q "nowhere.sock"'
err=$(nsx "$A" "$GRESEC" -s "$TMPD/nowhere.sock" show 2>&1); st=$?
check "-s pointing nowhere: fails naming the socket ($err)" \
	eval '[ "$st" -ne 0 ] && echo "$err" | grep -q "cannot connect to gresecd at $TMPD/nowhere.sock"'

# ---- malformed requests ----
echo "# ---- malformed requests ----"
out=$(client frame 1 4 0 ""); check_eq "well-formed ping frame from the raw client: ok" \
	"$(reply_field "$out" reply)" "ok"
refused "text instead of a frame" "not a gresec control request" raw "$(printf 'show gre1\n' | od -An -tx1 | tr -d ' \n')"
refused "wrong magic in the last byte" "not a gresec control request" raw 4752535801040000
refused "partial wrong magic (2 bytes)" "not a gresec control request" raw 4758
refused "wrong version 2" "unsupported control protocol version" frame 2 4 0 ""
refused "version 0" "unsupported control protocol version" frame 0 1 0 ""
refused "unknown command 9" "unknown command" frame 1 9 0 ""
refused "unknown command 0" "unknown command" frame 1 0 0 ""
refused "unknown command 255" "unknown command" frame 1 255 0 ""
refused "show with a 16-byte name" "bad argument length for the command" \
	frame 1 1 16 "$(printf 'a%.0s' $(seq 16) | od -An -tx1 | tr -d ' \n')"
refused "show with length 65535 (header only)" "bad argument length for the command" frame 1 2 65535 ""
refused "reload with an argument" "bad argument length for the command" frame 1 3 4 67726531
refused "ping with an argument" "bad argument length for the command" frame 1 4 1 41
refused "show with a control character" "argument contains characters not allowed" frame 1 1 4 67720131
refused "show with a slash" "argument contains characters not allowed" frame 1 2 5 2e2e2f6574
refused "show with a NUL" "argument contains characters not allowed" frame 1 1 4 67720031
healthy "after malformed requests"
check "refusals are logged" grep -q "control: refused request: unknown command" "$LOG_A"

# ---- oversized ----
echo "# ---- oversized requests ----"
out=$(client junk 1048576)
check_eq "1 MB of junk: refused with a clear error" \
	"$(reply_field "$out" reply | head -n1)" "error: not a gresec control request"
check_eq "1 MB of junk: connection closed" "$(reply_field "$out" closed)" true
out=$(client junk 1048576 4752534301010040)
check_eq "valid header, argument length 64 then 1 MB: refused" \
	"$(reply_field "$out" reply | head -n1)" "error: bad argument length for the command"
out=$(client junk 1048576 475253430101000f)
check_eq "show header with 15-byte junk argument then 1 MB: refused" \
	"$(reply_field "$out" reply | head -n1)" "error: argument contains characters not allowed"
out=$(client frame 1 4 0 "" --trail 1048576)
check_eq "ping frame followed by 1 MB: answered once, rest ignored" \
	"$(reply_field "$out" reply)" "ok"
healthy "after oversized requests"

# ---- a client that sends nothing, and one that stops mid-frame ----
echo "# ---- silent clients ----"
client silent 12 >"$TMPD/silent.out" &
SILENT=$!
BG_PIDS+=("$SILENT")
sleep 0.5
check "while a silent client is connected: gresec show answers" eval \
	'gresec_json "$A" "$SOCK" gre1 >/dev/null'
check "while a silent client is connected: gre1 passes traffic" pings "$A" 11.11.1.2 2
wait "$SILENT"
out=$(cat "$TMPD/silent.out")
after=$(reply_field "$out" after)
check_eq "silent client: the daemon closes the connection" "$(reply_field "$out" closed)" true
check "silent client: closed after its deadline, 4-8 s (took $after s)" \
	"$PY" -c 'import sys; sys.exit(not 4 <= float(sys.argv[1]) <= 8)' "$after"
check "silent client: timeout logged" grep -q "control: client timed out" "$LOG_A"
out=$(client raw 475253430101)   # header cut after the command byte
check_eq "half a header, then nothing: closed without an answer (timeout)" \
	"$(reply_field "$out" closed):$(reply_field "$out" reply)" "true:"
out=$(client raw 4752534301010004677265)   # "gre" of a 4-byte name
check_eq "argument cut short, then nothing: closed (timeout)" \
	"$(reply_field "$out" closed)" true
healthy "after silent clients"

# ---- many idle clients ----
echo "# ---- 50 idle clients ----"
client idle 50 9 >"$TMPD/idle.out" &
IDLE=$!
BG_PIDS+=("$IDLE")
sleep 1.5
# While the slots are taken a request is refused at once, not left hanging.
err=$(timeout 4 ip netns exec "$A" "$GRESEC" -s "$SOCK" show 2>&1); st=$?
check "while 50 idle clients are held: gresec show gets a clear refusal (exit $st: $err)" \
	eval '[ "$st" -ne 0 ] && [ "$st" -ne 124 ] && echo "$err" | grep -q "too many control connections"'
check "while 50 idle clients are held: gre1 passes traffic" pings "$A" 11.11.1.2 2
wait "$IDLE"
out=$(cat "$TMPD/idle.out")
echo "# idle: $out"
held=$(reply_field "$out" held)
check_eq "50 idle: all connect() calls returned" "$(reply_field "$out" connected)" 50
check "50 idle: the daemon holds only a bounded number (held $held)" \
	eval '[ "$held" -ge 4 ] && [ "$held" -le 32 ]'
check_eq "50 idle: the others are refused at once" \
	"$(reply_field "$out" closed_at_once)" $((50 - held))
check "50 idle: the refused ones get a clear error" "$PY" -c '
import json, sys
r = json.loads(sys.argv[1])["refusal_replies"]
sys.exit(not (list(r) and all(k.startswith("error: ") and "too many" in k for k in r)))' "$out"
check_eq "50 idle: the held ones are timed out by the daemon" \
	"$(reply_field "$out" still_open_after_hold)" 0
check "too many clients logged" grep -q "control: too many clients" "$LOG_A"
healthy "after 50 idle clients"

# ---- clients without permission ----
echo "# ---- clients without permission ----"
# nobody must reach the socket's directory and run a copy of gresec.
chmod 711 "$TMPD"
install -m 755 "$GRESEC" "$TMPD/gresec-nobody"
as_nobody() { nsx "$A" setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
check "nobody can run gresec" as_nobody "$TMPD/gresec-nobody" --version
err=$(as_nobody "$TMPD/gresec-nobody" -s "$SOCK" show 2>&1); st=$?
check "socket 0600: nobody cannot connect (exit $st: $err)" \
	eval '[ "$st" -ne 0 ] && echo "$err" | grep -q "cannot connect to gresecd at $SOCK: Permission denied"'
chmod 666 "$SOCK"
err=$(as_nobody "$TMPD/gresec-nobody" -s "$SOCK" show 2>&1); st=$?
check "socket 0666: nobody is refused by the daemon (exit $st: $err)" \
	eval '[ "$st" -ne 0 ] && echo "$err" | grep -qx "gresec: error: permission denied"'
check "socket 0666: nobody's reply holds no tunnel data" eval '! echo "$err" | grep -q gre1'
err=$(as_nobody "$TMPD/gresec-nobody" -s "$SOCK" reload 2>&1); st=$?
check "socket 0666: nobody cannot reload (exit $st: $err)" \
	eval '[ "$st" -ne 0 ] && echo "$err" | grep -q "permission denied"'
check "refused peer logged" grep -q "control: refused a client without permission" "$LOG_A"
check_eq "nobody's reload did not happen" "$(grep -c "reloading" "$LOG_A")" 0
chmod 600 "$SOCK"
chmod 700 "$TMPD"
healthy "after clients without permission"

# ---- a second daemon on the same socket / pid file ----
echo "# ---- second daemon ----"
second()
{
	timeout 10 ip netns exec "$A" "$GRESECD" -f -c "$CA" "$@" >"$TMPD/second.log" 2>&1
}
second -p "$(conf_pidfile "$CA")" -s "$SOCK"; st=$?
check "second daemon, same pid file and socket: refused (exit $st)" test "$st" -ne 0 -a "$st" -ne 124
check "second daemon: says another gresecd is running" grep -q "another gresecd is running" "$TMPD/second.log"
second -p "$TMPD/other.pid" -s "$SOCK"; st=$?
check "second daemon, same socket only: refused (exit $st)" test "$st" -ne 0 -a "$st" -ne 124
check "second daemon, same socket: names the socket" \
	grep -q "control socket $SOCK: another gresecd is running" "$TMPD/second.log"
check "second daemon, same socket: left no pid file" test ! -e "$TMPD/other.pid"
second -p "$(conf_pidfile "$CA")" -s "$TMPD/other.sock"; st=$?
check "second daemon, same pid file only: refused (exit $st)" test "$st" -ne 0 -a "$st" -ne 124
check "second daemon, same pid file: says it is locked" \
	grep -q "pid file .* is locked: another gresecd is running" "$TMPD/second.log"
check "second daemon, same pid file: left no socket" test ! -e "$TMPD/other.sock"
check "first daemon's socket still there" test -S "$SOCK"
check_eq "first daemon's pid file still names it" "$(cat "$(conf_pidfile "$CA")")" "$PID_A"
check_eq "gre1 in A still has one interface" "$(ip -n "$A" -o link show | grep -c ': gre1')" 1
healthy "after a refused second daemon"

stop_gresecd "$PID_A"; st=$?
check_eq "gresecd in A exits 0 on SIGTERM" "$st" 0
check "socket removed on exit" test ! -e "$SOCK"
check "pid file removed on exit" test ! -e "$(conf_pidfile "$CA")"
finish
