#!/bin/bash
# tests/netns/test_scale.sh: a hub with hundreds of tunnels, beyond the old
# cap of 256: the lookups that replaced scans (receiver index, peer key,
# GRE source and key, tunnel name) must pick the right tunnel every time.
#
#   ns H (hub)                                        ns S (all the spokes)
#   gresecd: s000..s299 secure, one UDP port 51947,   gresecd: the other ends, one
#            one hub key, a spoke key each;                key and UDP port each;
#            p000..p299 plain, GRE key k+1 each            the same GRE keys
#   veth0 10.0.0.1/24 ─────────────────────────────────── veth0 10.0.0.2/24
#
# Tunnel k (secure 0..299, then plain 300..599): hub 10.64.x.y/32, spoke
# 10.65.x.y/32 (x.y = k).  Checks: every secure session comes up; pings
# through a sample of tunnels of both kinds; each lands on its own tunnel
# (counters); a data message with an unknown receiver index is counted
# no_session on one tunnel; a no-op reload touches nothing and keeps the
# sessions; removing one tunnel of each kind leaves the others working.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/netns/lib.sh"

require_root_netns
setup_test

NSEC=${SCALE_TEST_SECURE:-300}
NPLAIN=${SCALE_TEST_PLAIN:-300}
N=$((NSEC + NPLAIN))
HUB_PORT=51947
SPORT0=20000
ulimit -n $((N * 2 + 256)) 2>/dev/null

H=$(ns_name h)
S=$(ns_name s)
make_pair "$H" "$S"

KEYS=$TMPD/keys
mkdir -m 700 "$KEYS"
(umask 077 && "$GRESEC" genkey >"$KEYS/hub.key") || fail "gresec genkey"
HUB_PUB=$("$GRESEC" pubkey <"$KEYS/hub.key")
for ((k = 0; k < NSEC; k++)); do
	(umask 077 && "$GRESEC" genkey >"$KEYS/s$k.key") && "$GRESEC" pubkey <"$KEYS/s$k.key" >"$KEYS/s$k.pub" ||
		fail "gresec genkey $k"
done

tname() { if [ "$1" -lt "$NSEC" ]; then printf 's%03d' "$1"; else printf 'p%03d' $(($1 - NSEC)); fi; }
inner() { echo "10.$1.$(($2 >> 8)).$(($2 & 255))"; }

# write_confs SKIP...: both ends' files without the tunnels numbered SKIP.
CH=$TMPD/hub.conf CS=$TMPD/spoke.conf
write_confs()
{
	"$PY" - "$NSEC" "$NPLAIN" "$KEYS" "$HUB_PUB" "$HUB_PORT" "$SPORT0" "$CH" "$CS" "$@" <<'EOF'
import sys
nsec, nplain, keys, hub_pub, hub_port, sport0, ch, cs = sys.argv[1:9]
nsec, nplain, hub_port, sport0 = int(nsec), int(nplain), int(hub_port), int(sport0)
skip = set(int(a) for a in sys.argv[9:])
def addr(net, k):
    return "10.%d.%d.%d" % (net, k >> 8, k & 255)
for hub, path in ((True, ch), (False, cs)):
    base = path[:-5]
    out = ['daemon: { control_socket = "%s.sock"; pid_file = "%s.pid"; log_level = "info"; };' % (base, base),
           "tunnels = ("]
    items = []
    for k in range(nsec + nplain):
        if k in skip:
            continue
        me, other = (64, 65) if hub else (65, 64)
        t = ['name = "%s"' % ("s%03d" % k if k < nsec else "p%03d" % (k - nsec)), 'type = "gre"',
             'address = "%s/32"' % addr(me, k), 'peer_address = "%s"' % addr(other, k),
             'local = "%s"' % ("10.0.0.1" if hub else "10.0.0.2"),
             'remote = "%s"' % ("10.0.0.2" if hub else "10.0.0.1")]
        if k < nsec:
            t.append('mode = "secure"')
            if hub:
                pub = open("%s/s%d.pub" % (keys, k)).read().strip()
                t += ['port = %d' % hub_port, 'remote_port = %d' % (sport0 + k),
                      'private_key_file = "%s/hub.key"' % keys, 'peer_public_key = "%s"' % pub]
            else:
                t += ['port = %d' % (sport0 + k), 'remote_port = %d' % hub_port,
                      'private_key_file = "%s/s%d.key"' % (keys, k), 'peer_public_key = "%s"' % hub_pub]
        else:
            t += ['mode = "plain"', 'key = %d' % (k - nsec + 1)]
        items.append("  { " + "; ".join(t) + "; }")
    out.append(",\n".join(items))
    out.append(");")
    open(path, "w").write("\n".join(out) + "\n")
EOF
}

# hub_json: the hub's `gresec show --json`, kept in $TMPD/hub.json.
hub_json() { gresec_json "$H" "$SOCK_H" >"$TMPD/hub.json"; }
# hub_count EXPR: python expression over t (a tunnel) counted over the hub's tunnels.
hub_count()
{
	"$PY" -c 'import json, sys
print(sum(1 for t in json.load(open(sys.argv[1]))["tunnels"] if eval(sys.argv[2])))' "$TMPD/hub.json" "$1"
}
hub_field() { "$PY" -c 'import json, sys
t = [t for t in json.load(open(sys.argv[1]))["tunnels"] if t["name"] == sys.argv[2]]
v = t[0] if t else None
for p in sys.argv[3].split("."):
    v = v[p] if v is not None else None
print(v)' "$TMPD/hub.json" "$1" "$2"; }

all_established()
{
	hub_json && [ "$(hub_count 't["mode"] == "secure" and t["state"] == "established"')" = "$NSEC" ]
}

write_confs
start_gresecd "$S" "$CS"; PID_S=$GRESECD_PID SOCK_S=$GRESECD_SOCK
t0=$SECONDS
start_gresecd "$H" "$CH"; PID_H=$GRESECD_PID SOCK_H=$GRESECD_SOCK LOG_H=$GRESECD_LOG
hub_json
check_eq "hub runs $N tunnels (more than the old cap of 256)" "$(hub_count 'True')" "$N"
check "hub: all $NSEC secure sessions established" eval 'WAIT_TIMEOUT=40 wait_for all_established'
echo "# sessions established $((SECONDS - t0)) s after the hub's start"
n=$(ip netns exec "$H" ss -Hunl | wc -l)
check "hub: one UDP port for the $NSEC secure tunnels ($n sockets)" test "$n" -le 2
fds=$(ls "/proc/$PID_H/fd" | wc -l)
check "hub: about one descriptor per tunnel ($fds for $N)" test "$fds" -le $((N + 40))

# A sample of tunnels of both kinds, spread over the range.
SAMPLE=(0 1 $((NSEC / 2)) $((NSEC - 1)) $NSEC $((NSEC + 1)) $((NSEC + NPLAIN / 2)) $((N - 1)))
for k in "${SAMPLE[@]}"; do
	check "ping through $(tname "$k")" pings "$S" "$(inner 64 "$k")" 2
done

# Each ping lands on its own tunnel: 20 quick pings through one tunnel of
# each kind raise its rx_packets by 20; its neighbours (same peer, next
# index or GRE key) see only what the kernel sends on its own (IPv6).
for k in $((NSEC / 2)) $((NSEC + NPLAIN / 2)); do
	hub_json; cp "$TMPD/hub.json" "$TMPD/before.json"
	ip netns exec "$S" ping -q -c 20 -i 0.02 -W 1 "$(inner 64 "$k")" >/dev/null 2>&1
	hub_json
	d() { echo $(( $(hub_field "$(tname "$1")" rx_packets) - $("$PY" -c 'import json, sys
print([t for t in json.load(open(sys.argv[1]))["tunnels"] if t["name"] == sys.argv[2]][0]["rx_packets"])' \
		"$TMPD/before.json" "$(tname "$1")") )); }
	mine=$(d "$k") prev=$(d $((k - 1))) next=$(d $((k + 1)))
	check "20 pings through $(tname "$k") land on it (+$mine; $(tname $((k - 1))) +$prev, $(tname $((k + 1))) +$next)" \
		test "$mine" -ge 20 -a "$prev" -lt 10 -a "$next" -lt 10
done

# A data message with a receiver index nobody has: counted once, as
# no_session, on one tunnel of the port.
hub_json
ns_before=$("$PY" -c 'import json, sys
print(sum(t["drops"]["no_session"] for t in json.load(open(sys.argv[1]))["tunnels"]))' "$TMPD/hub.json")
# type 4, a receiver index, a counter, 16 bytes for the tag: a keepalive's size
ip netns exec "$S" "$PY" -c '
import os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(struct.pack("<IIQ", 4, 0x5ca1ab1e, 0) + os.urandom(16), ("10.0.0.1", int(sys.argv[1])))
' "$HUB_PORT"
sleep 0.5
hub_json
ns_after=$("$PY" -c 'import json, sys
print(sum(t["drops"]["no_session"] for t in json.load(open(sys.argv[1]))["tunnels"]))' "$TMPD/hub.json")
check_eq "a data message with an unknown receiver index: no_session +1 on the hub" "$((ns_after - ns_before))" 1

# GRE from the plain tunnels' peer with a key none of them has: counted
# as a key mismatch on one of them (the tunnels of that source), as
# unknown_source only from a stranger.
gre_drops() { "$PY" -c 'import json, sys
print(sum(t["drops"].get(sys.argv[2], 0) for t in json.load(open(sys.argv[1]))["tunnels"]))' "$TMPD/hub.json" "$1"; }
hub_json
km_before=$(gre_drops key_mismatch) us_before=$(gre_drops unknown_source)
ip netns exec "$S" "$PY" -c '
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 47)
inner = bytes.fromhex("4500001c0000000040010000") + socket.inet_aton("10.65.1.1") + socket.inet_aton("10.64.1.1") + bytes(8)
s.sendto(struct.pack("!HHI", 0x2000, 0x0800, 999999) + inner, ("10.0.0.1", 0))
'
sleep 0.5
hub_json
check_eq "GRE with a key no tunnel has: key_mismatch +1 on the hub" "$(( $(gre_drops key_mismatch) - km_before ))" 1
check_eq "... and no unknown_source" "$(( $(gre_drops unknown_source) - us_before ))" 0

# A no-op reload touches nothing: no tunnel updated, recreated or removed,
# every session stays.
touched() { grep -c -e 'updated in place' -e 'recreating' -e 'removed from the configuration' "$LOG_H"; }
t_before=$(touched)
check "hub: gresec reload (nothing changed)" nsx "$H" "$GRESEC" -s "$SOCK_H" reload
check_eq "no-op reload touched no tunnel" "$(touched)" "$t_before"
sleep 1
hub_json
check_eq "no-op reload: every session kept" \
	"$(hub_count 't["mode"] == "secure" and t["state"] == "established"')" "$NSEC"

# Remove one tunnel of each kind: only those go, the neighbours work.
rs=$((NSEC / 2 + 1)) rp=$((NSEC + NPLAIN / 2 + 1))
write_confs "$rs" "$rp"
check "hub: gresec reload (two tunnels removed)" nsx "$H" "$GRESEC" -s "$SOCK_H" reload
check_eq "the reload touched exactly the two removed tunnels" "$(touched)" $((t_before + 2))
check "$(tname $rs) and $(tname $rp) gone" eval 'link_gone "$H" "$(tname $rs)" && link_gone "$H" "$(tname $rp)"'
for k in $((rs - 1)) $((rs + 1)) $((rp - 1)) $((rp + 1)); do
	check "after the removal: ping through $(tname "$k")" pings "$S" "$(inner 64 "$k")" 2
done
check "hub: show NAME answers for $(tname $((N - 1)))" eval \
	'[ "$(tunnel_field "$H" "$SOCK_H" "$(tname $((N - 1)))" name)" = "$(tname $((N - 1)))" ]'

st=0
stop_gresecd "$PID_H" || st=$?
check_eq "hub exits 0 on SIGTERM" "$st" 0
st=0
stop_gresecd "$PID_S" || st=$?
check_eq "spoke daemon exits 0 on SIGTERM" "$st" 0
finish
