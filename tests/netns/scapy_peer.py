#!/usr/bin/python3
"""tests/netns/scapy_peer.py: an independent GRE endpoint against gresecd.

Runs in the peer namespace of a gresecd plain tunnel (driven by
test_plain_scapy.sh).  It builds GRE by hand (RFC 2784/2890, its own
checksum code), sends ICMP echo requests through the tunnel to the daemon's
tunnel address and checks every GRE packet the daemon sends back: outer
addresses, TTL, protocol 47, flags as configured, key, a valid checksum,
sequence numbers rising by one, the protocol type and the inner echo reply.

  scapy_peer.py echo --daemon 10.0.0.1 --me 10.0.0.2 \\
      --inner-daemon 11.11.1.1 --inner-me 11.11.1.2 \\
      [--inner6-daemon fd11::1 --inner6-me fd11::2] [--key 42] [--csum] [--seq]
  scapy_peer.py pcap FILE --daemon 10.0.0.1 --me 10.0.0.2 [--key 42] [--csum] [--seq]

A raw IP protocol 47 socket stays open the whole time: it receives the
daemon's packets and keeps this namespace's kernel (which has no GRE) from
answering them with ICMP protocol unreachable.  Prints "ok - ..." and
"not ok - ..." lines; exit status 1 on any failure.  scapy_malformed.py
imports GrePeer from here.
"""

import argparse
import os
import select
import socket
import struct
import subprocess
import sys
import time

from scapy.all import ICMP, IP, IPv6, ICMPv6EchoReply, ICMPv6EchoRequest, Raw  # noqa: E402
from scapy.config import conf as scapy_conf

scapy_conf.verb = 0

GRE_C = 0x8000
GRE_R = 0x4000
GRE_K = 0x2000
GRE_S = 0x1000
GRE_SSR = 0x0800
GRE_RECUR = 0x0700
GRE_RESERVED0 = 0x00F8
GRE_VER = 0x0007
PROTO_IPV4 = 0x0800
PROTO_IPV6 = 0x86DD
IPPROTO_GRE = 47


def inet_csum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def build_gre(proto, payload, key=None, seq=None, csum=False, flags_extra=0,
              version=0, csum_value=None, routing=None):
    """GRE header + payload.  csum: add a checksum field with a correct
    checksum (csum_value overrides it with a fixed value).  routing: RFC 1701
    routing bytes; sets R and the checksum/offset field."""
    flags = flags_extra | (version & GRE_VER)
    if csum:
        flags |= GRE_C
    if key is not None:
        flags |= GRE_K
    if seq is not None:
        flags |= GRE_S
    if routing is not None:
        flags |= GRE_R
    hdr = struct.pack("!HH", flags, proto)
    has_csum_field = bool(flags & (GRE_C | GRE_R))
    if has_csum_field:
        hdr += b"\0\0\0\0"
    if key is not None:
        hdr += struct.pack("!I", key & 0xFFFFFFFF)
    if seq is not None:
        hdr += struct.pack("!I", seq & 0xFFFFFFFF)
    if routing is not None:
        hdr += routing
    pkt = bytearray(hdr + payload)
    if has_csum_field:
        c = csum_value if csum_value is not None else (inet_csum(bytes(pkt)) if csum else 0)
        struct.pack_into("!H", pkt, 4, c)
    return bytes(pkt)


def parse_gre(p):
    """Strict RFC 2784/2890 parse of a received packet.  Returns a dict, or
    raises ValueError naming what is wrong."""
    if len(p) < 4:
        raise ValueError("GRE shorter than 4 bytes (%d)" % len(p))
    flags, proto = struct.unpack("!HH", p[:4])
    off = 4
    g = {"flags": flags, "proto": proto, "key": None, "seq": None, "csum_ok": None}
    if flags & (GRE_R | GRE_SSR | GRE_RECUR | GRE_RESERVED0 | GRE_VER):
        raise ValueError("reserved/RFC 1701 bits or version set: flags 0x%04x" % flags)
    if flags & GRE_C:
        if len(p) < off + 4:
            raise ValueError("truncated checksum field")
        g["csum_ok"] = inet_csum(p) == 0
        if p[off + 2:off + 4] != b"\0\0":
            raise ValueError("Reserved1 not zero")
        off += 4
    if flags & GRE_K:
        if len(p) < off + 4:
            raise ValueError("truncated key field")
        g["key"] = struct.unpack("!I", p[off:off + 4])[0]
        off += 4
    if flags & GRE_S:
        if len(p) < off + 4:
            raise ValueError("truncated sequence field")
        g["seq"] = struct.unpack("!I", p[off:off + 4])[0]
        off += 4
    g["inner"] = p[off:]
    return g


class Results:
    def __init__(self):
        self.n_ok = 0
        self.n_fail = 0

    def ok(self, msg):
        self.n_ok += 1
        print("ok - " + msg, flush=True)

    def not_ok(self, msg):
        self.n_fail += 1
        print("not ok - " + msg, flush=True)

    def check(self, cond, msg):
        (self.ok if cond else self.not_ok)(msg)
        return cond

    def info(self, msg):
        print("# " + msg, flush=True)


class GrePeer:
    """The remote GRE endpoint: sends hand-made GRE, checks what comes back."""

    def __init__(self, res, me, daemon, key=None, csum=False, seq=False,
                 ttl=64, seq_start=1):
        self.res = res
        self.me = me
        self.daemon = daemon
        self.key = key
        self.csum = csum
        self.use_seq = seq
        self.ttl = ttl
        self.tx_seq = seq_start
        self.rx_last_seq = None
        self.rx_bad = 0          # GRE packets from the daemon that failed a check
        self.rx_total = 0
        self.replies = {}        # (family, icmp id, icmp seq) -> payload
        self.next_id = 0x4000 + (os.getpid() & 0x0FFF) * 4
        # Receives the daemon's GRE; its existence also stops the kernel's
        # ICMP protocol-unreachable replies.
        self.rx = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_GRE)
        self.rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.tx.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)

    def new_id(self):
        self.next_id = (self.next_id + 1) & 0xFFFF
        return self.next_id

    def next_seq(self):
        s = self.tx_seq
        self.tx_seq = (self.tx_seq + 1) & 0xFFFFFFFF
        return s

    # ---- sending ----
    def send_raw(self, gre_bytes, src=None):
        """One IPv4 packet, protocol 47, carrying gre_bytes as is."""
        ip = IP(src=src or self.me, dst=self.daemon, proto=IPPROTO_GRE, ttl=64)
        self.tx.sendto(bytes(ip / Raw(load=gre_bytes)) if gre_bytes else bytes(ip),
                       (self.daemon, 0))

    def good_gre(self, proto, inner, **over):
        """GRE as the daemon expects it; over overrides key/seq/csum/..."""
        args = {"key": self.key, "seq": self.next_seq() if self.use_seq else None,
                "csum": self.csum}
        args.update(over)
        return build_gre(proto, inner, **args)

    def echo4(self, inner_me, inner_daemon, icmp_id, icmp_seq, payload):
        return bytes(IP(src=inner_me, dst=inner_daemon, ttl=64) /
                     ICMP(type=8, id=icmp_id, seq=icmp_seq) / Raw(load=payload))

    def echo6(self, inner_me, inner_daemon, icmp_id, icmp_seq, payload):
        return bytes(IPv6(src=inner_me, dst=inner_daemon, hlim=64) /
                     ICMPv6EchoRequest(id=icmp_id, seq=icmp_seq, data=payload))

    # ---- receiving ----
    def poll(self, timeout, until=None):
        """Read the daemon's GRE for up to timeout s, or until until() is true."""
        end = time.monotonic() + timeout
        while True:
            if until is not None and until():
                return True
            left = end - time.monotonic()
            if left <= 0:
                return until() if until is not None else True
            r, _, _ = select.select([self.rx], [], [], left)
            if r:
                data, _ = self.rx.recvfrom(65535)
                self.check_rx(data)

    def rx_fail(self, msg):
        self.rx_bad += 1
        self.res.not_ok("daemon GRE packet #%d: %s" % (self.rx_total, msg))

    def check_rx(self, data):
        """Validate one packet the daemon sent us and record echo replies."""
        ip = IP(data)
        if ip.src != self.daemon or ip.dst != self.me:
            self.res.info("ignoring GRE %s -> %s" % (ip.src, ip.dst))
            return
        self.rx_total += 1
        if ip.proto != IPPROTO_GRE:
            return self.rx_fail("outer protocol %d" % ip.proto)
        if self.ttl and ip.ttl != self.ttl:
            return self.rx_fail("outer TTL %d, want %d" % (ip.ttl, self.ttl))
        if ip.frag != 0 or (ip.flags & 1):
            return self.rx_fail("outer packet is a fragment")
        raw = bytes(data[ip.ihl * 4:ip.len])
        try:
            g = parse_gre(raw)
        except ValueError as e:
            return self.rx_fail(str(e))
        if bool(g["flags"] & GRE_C) != self.csum:
            return self.rx_fail("C flag %s, want %s" % (bool(g["flags"] & GRE_C), self.csum))
        if g["csum_ok"] is False:
            return self.rx_fail("bad GRE checksum")
        if g["key"] != self.key:
            return self.rx_fail("key %r, want %r" % (g["key"], self.key))
        if bool(g["flags"] & GRE_S) != self.use_seq:
            return self.rx_fail("S flag %s, want %s" % (bool(g["flags"] & GRE_S), self.use_seq))
        if self.use_seq:
            if self.rx_last_seq is not None and \
                    g["seq"] != (self.rx_last_seq + 1) & 0xFFFFFFFF:
                self.rx_fail("sequence %d after %d (want +1)" % (g["seq"], self.rx_last_seq))
            self.rx_last_seq = g["seq"]
        inner = g["inner"]
        if g["proto"] == PROTO_IPV4:
            pkt = IP(inner)
            if pkt.version != 4:
                return self.rx_fail("protocol 0x0800 but inner version %d" % pkt.version)
            if inet_csum(bytes(inner[:pkt.ihl * 4])) != 0:
                return self.rx_fail("inner IPv4 header checksum wrong")
            if ICMP in pkt and pkt[ICMP].type == 0:
                self.replies[(4, pkt[ICMP].id, pkt[ICMP].seq)] = \
                    (pkt.src, pkt.dst, bytes(pkt[ICMP].payload), inet_csum(bytes(pkt[ICMP])) == 0)
        elif g["proto"] == PROTO_IPV6:
            pkt = IPv6(inner)
            if pkt.version != 6:
                return self.rx_fail("protocol 0x86dd but inner version %d" % pkt.version)
            if ICMPv6EchoReply in pkt:
                r = pkt[ICMPv6EchoReply]
                self.replies[(6, r.id, r.seq)] = (pkt.src, pkt.dst, bytes(r.data), True)
        else:
            return self.rx_fail("unexpected protocol type 0x%04x" % g["proto"])

    # ---- echo through the tunnel ----
    def echo_round(self, family, inner_me, inner_daemon, count, label, payload_len=56):
        """Send count echo requests, expect count correct replies."""
        icmp_id = self.new_id()
        sent = {}
        for i in range(1, count + 1):
            payload = os.urandom(payload_len)
            if family == 4:
                inner = self.echo4(inner_me, inner_daemon, icmp_id, i, payload)
                proto = PROTO_IPV4
            else:
                inner = self.echo6(inner_me, inner_daemon, icmp_id, i, payload)
                proto = PROTO_IPV6
            self.send_raw(self.good_gre(proto, inner))
            sent[(family, icmp_id, i)] = payload
            time.sleep(0.02)
        self.poll(3.0, until=lambda: all(k in self.replies for k in sent))
        got = [k for k in sent if k in self.replies]
        ok = self.res.check(len(got) == count, "%s: %d/%d IPv%d echo replies through the tunnel"
                            % (label, len(got), count, family))
        for k in got:
            src, dst, payload, cs = self.replies[k]
            if (src, dst) != (inner_daemon, inner_me) or payload != sent[k] or not cs:
                ok = False
                self.res.not_ok("%s: reply %r: %s -> %s, payload %s, ICMP checksum %s"
                                % (label, k, src, dst,
                                   "same" if payload == sent[k] else "differs",
                                   "ok" if cs else "bad"))
        return ok

    def no_replies(self, icmp_ids, wait=0.3):
        self.poll(wait)
        return [k for k in self.replies if k[1] in icmp_ids]


def gre_flags_desc(key, csum, seq):
    s = [n for n, v in (("K", key is not None), ("C", csum), ("S", seq)) if v]
    return "+".join(s) if s else "no options"


def cmd_echo(a):
    res = Results()
    peer = GrePeer(res, a.me, a.daemon, key=a.key, csum=a.csum, seq=a.seq,
                   ttl=a.ttl, seq_start=a.seq_start)
    desc = gre_flags_desc(a.key, a.csum, a.seq)
    peer.echo_round(4, a.inner_me, a.inner_daemon, a.count, "echo (%s)" % desc)
    if a.inner6_me:
        peer.echo_round(6, a.inner6_me, a.inner6_daemon, a.count, "echo6 (%s)" % desc)
    # A full-size inner packet: gre1's MTU worth of IPv4.
    if a.mtu:
        peer.echo_round(4, a.inner_me, a.inner_daemon, 2, "echo at MTU %d (%s)" % (a.mtu, desc),
                        payload_len=a.mtu - 28)
    peer.poll(0.3)
    res.check(peer.rx_bad == 0 and peer.rx_total > 0,
              "all %d GRE packets from the daemon well-formed: outer %s -> %s TTL %d, %s%s, "
              "valid checksum, rising sequence"
              % (peer.rx_total, a.daemon, a.me, a.ttl, desc,
                 ", key %d" % a.key if a.key is not None else ""))
    print("# next-seq %d" % peer.tx_seq)
    return 1 if res.n_fail else 0


def cmd_pcap(a):
    """Check that tshark decodes the capture as the GRE we expect."""
    res = Results()
    fields = ["ip.src", "ip.dst", "ip.proto", "gre.flags.checksum", "gre.flags.key",
              "gre.flags.sequence_number", "gre.flags.routing", "gre.flags.version",
              "gre.key", "gre.sequence_number", "gre.proto", "gre.checksum.status",
              "icmp.type", "icmpv6.type"]
    cmd = ["tshark", "-r", a.file, "-Y", "gre",
           "-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not res.check(out.returncode == 0, "tshark reads %s" % a.file):
        print(out.stderr)
        return 1
    rows = [dict(zip(fields, line.split("|"))) for line in out.stdout.splitlines() if line]
    from_daemon = [r for r in rows if r["ip.src"] == a.daemon and r["ip.dst"] == a.me]
    to_daemon = [r for r in rows if r["ip.src"] == a.me and r["ip.dst"] == a.daemon]
    res.check(len(from_daemon) >= a.min_packets,
              "tshark decodes %d GRE packets daemon -> peer (want >= %d)"
              % (len(from_daemon), a.min_packets))
    res.check(len(to_daemon) >= a.min_packets,
              "tshark decodes %d GRE packets peer -> daemon (want >= %d)"
              % (len(to_daemon), a.min_packets))

    def num(s):
        return int(s, 0) if s not in ("", None) else None

    def flag(s):
        return s in ("1", "True", "true")

    bad = []
    last_seq = None
    for i, r in enumerate(from_daemon):
        why = []
        if r["ip.proto"] != "47":
            why.append("ip.proto %s" % r["ip.proto"])
        if flag(r["gre.flags.checksum"]) != a.csum:
            why.append("checksum flag %s" % r["gre.flags.checksum"])
        if flag(r["gre.flags.key"]) != (a.key is not None):
            why.append("key flag %s" % r["gre.flags.key"])
        if flag(r["gre.flags.sequence_number"]) != a.seq:
            why.append("sequence flag %s" % r["gre.flags.sequence_number"])
        if flag(r["gre.flags.routing"]) or num(r["gre.flags.version"]):
            why.append("routing/version set")
        if a.key is not None and num(r["gre.key"]) != a.key:
            why.append("key %s" % r["gre.key"])
        if a.csum and r["gre.checksum.status"] not in ("1", "Good"):
            why.append("checksum status %r (1 = good)" % r["gre.checksum.status"])
        if num(r["gre.proto"]) not in (PROTO_IPV4, PROTO_IPV6):
            why.append("gre.proto %s" % r["gre.proto"])
        if a.seq:
            s = num(r["gre.sequence_number"])
            if s is None or (last_seq is not None and s != (last_seq + 1) & 0xFFFFFFFF):
                why.append("sequence %s after %s" % (s, last_seq))
            last_seq = s
        if why:
            bad.append("#%d: %s" % (i, ", ".join(why)))
    res.check(not bad and from_daemon,
              "tshark: every daemon GRE packet has %s%s%s, proto 0x0800/0x86dd"
              % (gre_flags_desc(a.key, a.csum, a.seq),
                 ", key %d" % a.key if a.key is not None else "",
                 ", good checksum" if a.csum else ""))
    for b in bad[:10]:
        res.info("tshark: " + b)
    replies = [r for r in from_daemon if r["icmp.type"] == "0" or r["icmpv6.type"] == "129"]
    res.check(len(replies) >= a.min_packets,
              "tshark sees %d ICMP echo replies inside the daemon's GRE" % len(replies))
    # Our kernel has no GRE: without the raw socket it would answer every
    # daemon packet with ICMP protocol unreachable.  The capture must show none.
    # (First-occurrence fields: the outer header, not the quoted packet.)
    out = subprocess.run(["tshark", "-r", a.file, "-Y", "icmp.type == 3", "-T", "fields",
                          "-E", "occurrence=f", "-E", "separator=|",
                          "-e", "ip.src", "-e", "ip.proto"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    noise = [x for x in out.stdout.splitlines() if x == "%s|1" % a.me]
    res.check(out.returncode == 0 and not noise,
              "no ICMP unreachable from the peer's kernel in the capture (%d)" % len(noise))
    return 1 if res.n_fail else 0


def common_args(p):
    p.add_argument("--daemon", required=True, help="daemon's underlay address")
    p.add_argument("--me", required=True, help="our underlay address")
    p.add_argument("--key", type=int, default=None)
    p.add_argument("--csum", action="store_true")
    p.add_argument("--seq", action="store_true")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("echo")
    common_args(e)
    e.add_argument("--inner-daemon", required=True)
    e.add_argument("--inner-me", required=True)
    e.add_argument("--inner6-daemon")
    e.add_argument("--inner6-me")
    e.add_argument("--count", type=int, default=5)
    e.add_argument("--ttl", type=int, default=64, help="expected outer TTL, 0: any")
    e.add_argument("--mtu", type=int, default=0, help="also echo a packet of this size")
    e.add_argument("--seq-start", type=int, default=1)
    p = sub.add_parser("pcap")
    p.add_argument("file")
    common_args(p)
    p.add_argument("--min-packets", type=int, default=5)
    a = ap.parse_args()
    return cmd_echo(a) if a.cmd == "echo" else cmd_pcap(a)


if __name__ == "__main__":
    sys.exit(main())
