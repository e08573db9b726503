#!/usr/bin/python3
"""tests/netns/scapy_malformed.py: malformed GRE against a plain gresecd.

Driven by test_plain_scapy.sh in the peer namespace.  For each kind of bad
input (truncated headers, version != 0, RFC 1701 bits, unknown protocol
types, checksum/key/sequence errors, empty and random packets, a stranger's
source address, malformed inner packets) it sends a few packets that each
carry an ICMP echo request to the daemon's tunnel address, then checks:

  - no echo reply comes back (the packet was really dropped),
  - the daemon's drop counters (gresec show --json) grew by exactly the
    number sent, all under the expected reason,

and around all of it that good echo traffic works before and after, so every
bad input is dropped and counted and nothing good is lost.  A few inputs
that RFC 2784 says to accept (Reserved0 bits 8-12, an optional checksum the
tunnel does not require) must instead produce an echo reply and no drop.

  scapy_malformed.py --daemon 10.0.0.1 --me 10.0.0.2 --stranger 10.0.0.3 \\
      --inner-daemon 11.11.1.1 --inner-me 11.11.1.2 \\
      --gresec ./gresec --sock /tmp/x.sock --tunnel gre1 [--key 42 --csum --seq]
"""

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True     # the source dir may be read-only (distcheck)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scapy_peer import (GRE_R, GRE_RESERVED0, GRE_SSR, PROTO_IPV4,  # noqa: E402
                        PROTO_IPV6, GrePeer, Results, gre_flags_desc)

# Reason names: the daemon's (tunnel/gre.c, daemon/tunnel.c) and the short
# forms of the interface brief, so either spelling passes.
R_TRUNC = {"truncated"}
R_VERSION = {"bad_version", "version"}
R_RFC1701 = {"rfc1701_flags", "rfc1701"}
R_PROTO = {"unknown_protocol", "protocol"}
R_CSUM_BAD = {"checksum_bad"}
R_CSUM_MISSING = {"checksum_missing"}
R_KEY = {"key_mismatch", "key_missing"}
R_SEQ_MISSING = {"sequence_missing"}
R_SEQ_ORDER = {"sequence_order"}
R_SOURCE = {"unknown_source"}
R_INNER = {"inner_malformed", "bad_length"}
ANY = None


class Daemon:
    """Drop and rx counters of one tunnel through gresec show --json."""

    def __init__(self, gresec, sock, tunnel):
        self.cmd = [gresec, "-s", sock, "show", tunnel, "--json"]
        self.tunnel = tunnel

    def counters(self):
        out = subprocess.run(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=5)
        if out.returncode != 0:
            raise RuntimeError("gresec show failed (%d): %s" % (out.returncode, out.stderr))
        d = json.loads(out.stdout)
        ts = [t for t in d.get("tunnels", []) if t.get("name") == self.tunnel]
        if not ts:
            raise RuntimeError("tunnel %s not in gresec show" % self.tunnel)
        drops = {k: int(v) for k, v in ts[0].get("drops", {}).items()}
        # Drops the daemon may count outside any tunnel (e.g. unknown sources).
        for k, v in (d.get("drops") or {}).items():
            drops["global:" + k] = int(v)
        return {"drops": drops, "rx_packets": int(ts[0].get("rx_packets", 0))}


def delta(before, after):
    keys = set(before["drops"]) | set(after["drops"])
    return {k: after["drops"].get(k, 0) - before["drops"].get(k, 0) for k in keys
            if after["drops"].get(k, 0) != before["drops"].get(k, 0)}


class Runner:
    def __init__(self, a):
        self.a = a
        self.res = Results()
        self.peer = GrePeer(self.res, a.me, a.daemon, key=a.key, csum=a.csum, seq=a.seq,
                            seq_start=a.seq_start)
        self.daemon = Daemon(a.gresec, a.sock, a.tunnel)
        self.total_bad = 0
        self.rng = random.Random(2784)

    def echo_inner(self, icmp_id, icmp_seq=1):
        return self.peer.echo4(self.a.inner_me, self.a.inner_daemon, icmp_id, icmp_seq,
                               b"gresec-malformed-%d" % icmp_id)

    def gre(self, **over):
        """A correct GRE packet for this tunnel around a fresh echo request,
        with over changing it; returns (bytes, icmp id)."""
        icmp_id = self.peer.new_id()
        proto = over.pop("proto", PROTO_IPV4)
        inner = over.pop("inner", None)
        if inner is None:
            inner = self.echo_inner(icmp_id)
        return self.peer.good_gre(proto, inner, **over), icmp_id

    def wait_drops(self, before, n):
        """Poll the counters until n more drops are counted (or 2 s), then
        once more a little later to catch double counting."""
        end = time.monotonic() + 2.0
        while True:
            after = self.daemon.counters()
            if sum(delta(before, after).values()) >= n or time.monotonic() > end:
                break
            time.sleep(0.05)
        self.peer.poll(0.15)
        return self.daemon.counters()

    def case(self, name, packets, expect, src=None):
        """packets: list of (bytes, icmp id or None).  expect: a set of
        acceptable reasons, or ANY."""
        n = len(packets)
        before = self.daemon.counters()
        for data, _ in packets:
            self.peer.send_raw(data, src=src)
        after = self.wait_drops(before, n)
        d = delta(before, after)
        ids = {i for _, i in packets if i is not None}
        leaked = self.peer.no_replies(ids)
        total = sum(d.values())
        matched = sum(v for k, v in d.items()
                      if expect is ANY or k in expect or k.split(":")[-1] in (expect or ()))
        good = total == n and matched == n and not leaked
        want = "any reason" if expect is ANY else "/".join(sorted(expect))
        self.res.check(good, "%s: %d sent, dropped %d (%s), counted %s, %d echo replies leaked"
                       % (name, n, total, want, d or "{}", len(leaked)))
        self.total_bad += n

    def accepted(self, name, packets):
        """RFC 2784 says to accept these: echo replies, no drops."""
        before = self.daemon.counters()
        for data, _ in packets:
            self.peer.send_raw(data)
        ids = {i for _, i in packets}
        self.peer.poll(2.0, until=lambda: len({k[1] for k in self.peer.replies} & ids) == len(ids))
        got = {k[1] for k in self.peer.replies} & ids
        d = delta(before, self.daemon.counters())
        self.res.check(len(got) == len(ids) and not d,
                       "%s: accepted, %d/%d echo replies, drops %s" % (name, len(got), len(ids),
                                                                       d or "{}"))

    def good_echo(self, label, count=5):
        before = self.daemon.counters()
        ok = self.peer.echo_round(4, self.a.inner_me, self.a.inner_daemon, count, label)
        after = self.daemon.counters()
        d = delta(before, after)
        self.res.check(not d, "%s: no drops counted for good packets (%s)" % (label, d or "{}"))
        self.res.check(after["rx_packets"] - before["rx_packets"] == count,
                       "%s: rx_packets grew by %d (want %d)"
                       % (label, after["rx_packets"] - before["rx_packets"], count))
        return ok

    def run(self):
        a, P = self.a, self.peer
        self.good_echo("before malformed input")

        # ---- header structure ----
        self.case("zero-length GRE", [(b"", None)] * 3, R_TRUNC)
        self.case("1- and 3-byte GRE", [(b"\x00", None), (b"\x00\x00\x08", None)], R_TRUNC)
        full, i = self.gre(key=42, seq=P.next_seq(), csum=True)
        # Flags announce C+K+S (16 bytes) but the packet stops inside the options.
        self.case("header cut inside the options",
                  [(full[:n], None) for n in (4, 6, 8, 11, 15)], R_TRUNC)
        self.case("version 1 (PPTP)", [self.gre(version=1), self.gre(version=1)], R_VERSION)
        self.case("version 7", [self.gre(version=7)], R_VERSION)
        self.case("routing present (R)",
                  [self.gre(routing=b"\0\0\0\0"), self.gre(routing=b"\0\0\0\0")], R_RFC1701)
        self.case("R bit without routing data", [self.gre(flags_extra=GRE_R)], R_RFC1701)
        self.case("strict source route (s)",
                  [self.gre(flags_extra=GRE_SSR), self.gre(flags_extra=GRE_SSR)], R_RFC1701)
        self.case("recursion control 1", [self.gre(flags_extra=0x0100)], R_RFC1701)
        self.case("recursion control 4 and 7",
                  [self.gre(flags_extra=0x0400), self.gre(flags_extra=0x0700)], R_RFC1701)
        self.accepted("Reserved0 bits 8-12 set (RFC 2784: ignore)",
                      [self.gre(flags_extra=GRE_RESERVED0)])

        # ---- protocol types ----
        self.case("unknown protocol types 0x1234, 0x0806, 0x88be, 0xffff",
                  [self.gre(proto=p) for p in (0x1234, 0x0806, 0x88BE, 0xFFFF)], R_PROTO)
        self.case("0x6558 (Ethernet) on a layer-3 tunnel",
                  [self.gre(proto=0x6558), self.gre(proto=0x6558)], R_PROTO | R_INNER)
        # ---- malformed inner packets ----
        ok_inner = self.echo_inner(0x7777)
        self.case("IPv4 packet labelled 0x86dd",
                  [self.gre(proto=PROTO_IPV6, inner=ok_inner)], R_INNER | R_PROTO)
        bad_len = bytearray(self.echo_inner(0x7778))
        struct.pack_into("!H", bad_len, 2, len(bad_len) + 40)   # total length beyond the data
        self.case("inner IPv4 total length beyond the packet",
                  [self.gre(inner=bytes(bad_len))], R_INNER)
        self.case("empty inner packet (0x0800, no payload)", [self.gre(inner=b"")], R_INNER)

        # ---- options against the tunnel's configuration ----
        if a.csum:
            g, i = self.gre()
            g = bytearray(g)
            g[5] ^= 0x01                                  # checksum off by one bit
            g2, i2 = self.gre()
            g2 = bytearray(g2)
            g2[-1] ^= 0x40                                # payload changed after checksumming
            self.case("bad checksum", [(bytes(g), i), (bytes(g2), i2)], R_CSUM_BAD)
            self.case("checksum missing", [self.gre(csum=False), self.gre(csum=False)],
                      R_CSUM_MISSING)
        else:
            self.accepted("valid checksum the tunnel does not require", [self.gre(csum=True)])
            self.case("bad checksum the tunnel does not require",
                      [self.gre(csum=True, csum_value=0x1234)], R_CSUM_BAD)
        if a.key is not None:
            self.case("wrong key", [self.gre(key=a.key + 1), self.gre(key=0)], R_KEY)
            self.case("key missing", [self.gre(key=None), self.gre(key=None)], R_KEY)
        else:
            self.case("unexpected key", [self.gre(key=42), self.gre(key=0)], R_KEY)
        if a.seq:
            self.case("sequence missing", [self.gre(seq=None), self.gre(seq=None)],
                      R_SEQ_MISSING)
            # Accepted packet with seq s, then s again and older ones.
            good_before = P.tx_seq
            self.good_echo("sequence reference", count=1)
            last = P.tx_seq - 1
            self.case("duplicate sequence number", [self.gre(seq=last)], R_SEQ_ORDER)
            self.case("old sequence numbers", [self.gre(seq=last - d) for d in (1, 5, 100)],
                      R_SEQ_ORDER)
            # Serial arithmetic edge: next - 2^31 is the oldest "older" number.
            self.case("sequence number 2^31 behind the expected one",
                      [self.gre(seq=(last + 1 - 0x80000000) & 0xFFFFFFFF)], R_SEQ_ORDER)
            assert P.tx_seq > good_before
            if a.csum:
                # A packet we drop must not move the window: far ahead, bad checksum.
                g, i = self.gre(seq=P.tx_seq + 100000)
                g = bytearray(g)
                g[4] ^= 0xFF
                self.case("bad checksum with a far-ahead sequence number",
                          [(bytes(g), i)], R_CSUM_BAD)
                self.good_echo("window not moved by the dropped packet", count=2)

        # ---- noise ----
        garbage = []
        for _ in range(20):
            n = self.rng.randint(1, 120)
            garbage.append((bytes(self.rng.getrandbits(8) for _ in range(n)), None))
        self.case("random garbage (20 packets, seed 2784)", garbage, ANY)
        # Plausible headers (version 0, no RFC 1701 bits, any C/K/S, a known
        # protocol type) over random bytes, to get past the first checks.
        plausible = []
        for _ in range(20):
            flags = self.rng.choice((0, 0x8000, 0x2000, 0x1000, 0xA000, 0xB000, 0x3000))
            proto = self.rng.choice((PROTO_IPV4, PROTO_IPV6, 0x6558))
            body = bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(0, 80)))
            plausible.append((struct.pack("!HH", flags, proto) + body, None))
        self.case("plausible headers over random bytes (20 packets, seed 2784)", plausible, ANY)
        # Well-formed GRE from an address that is not the tunnel's remote.
        self.case("good GRE from a stranger (%s)" % a.stranger,
                  [self.gre(), self.gre(), self.gre()], R_SOURCE, src=a.stranger)

        ok_after = self.good_echo("after malformed input")
        self.res.check(ok_after, "good traffic still flows after %d bad packets"
                       % self.total_bad)
        self.res.check(P.rx_bad == 0, "all %d GRE packets from the daemon well-formed (%s)"
                       % (P.rx_total, gre_flags_desc(a.key, a.csum, a.seq)))
        print("# %d passed, %d failed; next-seq %d" % (self.res.n_ok, self.res.n_fail, P.tx_seq))
        return 1 if self.res.n_fail else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--me", required=True)
    ap.add_argument("--stranger", required=True, help="second address of ours, not the remote")
    ap.add_argument("--inner-daemon", required=True)
    ap.add_argument("--inner-me", required=True)
    ap.add_argument("--gresec", required=True)
    ap.add_argument("--sock", required=True)
    ap.add_argument("--tunnel", default="gre1")
    ap.add_argument("--key", type=int, default=None)
    ap.add_argument("--csum", action="store_true")
    ap.add_argument("--seq", action="store_true")
    ap.add_argument("--seq-start", type=int, default=1000)
    return Runner(ap.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
