#!/usr/bin/python3
"""Replay captured gresec secure-mode datagrams (scapy).

    secure_replay.py summary PCAP [--port P]
    secure_replay.py fresh ORIG_PCAP PCAP [--src ADDR] [--port P]
    secure_replay.py replay PCAP [--src ADDR] [--port P] [--types 1,2,4]
                                 [--repeat N | --count N] [--rate PPS]
                                 [--as ADDR]

summary: counts of the UDP datagrams to or from port P (default 51947) in
the capture, by direction ("SRC>DST") and message type (the first byte).

fresh: how many datagrams of PCAP (from ADDR) are not byte-for-byte copies
of one in ORIG_PCAP, i.e. were new traffic rather than replays.

replay: resends those datagrams byte for byte, from their own source
address and port to their own destination, in capture order.  --src keeps
only the datagrams sent by ADDR (run it in the namespace that owns ADDR, so
the kernel routes them out as it routed the originals); --types keeps only
those message types; --repeat sends the selection N times, --count sends N
datagrams cycling through the selection; --rate paces the
sending (packets per second, default: as fast as possible); --as sends
them from ADDR instead of their own source address (same port).

Both print one JSON object: {"total": n, "sent": {"<type>": n, ...},
"directions": {...}} (summary: "directions" maps "SRC>DST" to per-type
counts).  Exit status 2 on bad use, 1 when nothing matched.
"""

import argparse
import ipaddress
import json
import logging
import sys
import time

# Quiet "No route found for IPv6 destination ff02::..." (neighbour
# solicitations scapy resolves by itself).
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.all import IP, IPv6, UDP, Raw, conf, rdpcap


def datagrams(pcap, port):
    """(src, sport, dst, dport, payload) for each UDP datagram on port."""
    out = []
    for p in rdpcap(pcap):
        if IP in p:
            ip = p[IP]
        elif IPv6 in p:
            ip = p[IPv6]
        else:
            continue
        if UDP not in p:
            continue
        u = p[UDP]
        if port not in (u.sport, u.dport):
            continue
        out.append((ip.src, u.sport, ip.dst, u.dport, bytes(u.payload)))
    return out


def msg_type(payload):
    return str(payload[0]) if payload else "empty"


def summary(args):
    dirs = {}
    total = 0
    for src, _sport, dst, _dport, pl in datagrams(args.pcap, args.port):
        d = dirs.setdefault("%s>%s" % (src, dst), {})
        t = msg_type(pl)
        d[t] = d.get(t, 0) + 1
        total += 1
    print(json.dumps({"total": total, "directions": dirs}))
    return 0 if total else 1


def fresh(args):
    seen = {pl for _s, _sp, _d, _dp, pl in datagrams(args.orig, args.port)}
    src_filter = ipaddress.ip_address(args.src) if args.src else None
    n = 0
    for src, _sport, _dst, _dport, pl in datagrams(args.pcap, args.port):
        if src_filter is not None and ipaddress.ip_address(src) != src_filter:
            continue
        if pl not in seen:
            n += 1
    print(json.dumps({"fresh": n}))
    return 0


def replay(args):
    want = None
    if args.types:
        want = {t.strip() for t in args.types.split(",") if t.strip()}
    src_filter = ipaddress.ip_address(args.src) if args.src else None
    sel = []
    for src, sport, dst, dport, pl in datagrams(args.pcap, args.port):
        if src_filter is not None and ipaddress.ip_address(src) != src_filter:
            continue
        if want is not None and msg_type(pl) not in want:
            continue
        sel.append((src, sport, dst, dport, pl))
    if not sel:
        print(json.dumps({"total": 0, "sent": {}}))
        return 1

    # One socket per family for the whole run: scapy's send() would open
    # and close one per packet.
    s4 = s6 = None
    sent = {}
    total = 0
    gap = 1.0 / args.rate if args.rate else 0.0
    nxt = time.monotonic()
    try:
        plan = [d for _ in range(args.repeat) for d in sel]
        if args.count:
            plan = [sel[i % len(sel)] for i in range(args.count)]
        for src, sport, dst, dport, pl in plan:
            if args.as_addr:
                src = args.as_addr
            if ipaddress.ip_address(src).version == 4:
                if s4 is None:
                    s4 = conf.L3socket()
                s4.send(IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(pl))
            else:
                if s6 is None:
                    s6 = conf.L3socket6()
                s6.send(IPv6(src=src, dst=dst) / UDP(sport=sport, dport=dport) / Raw(pl))
            t = msg_type(pl)
            sent[t] = sent.get(t, 0) + 1
            total += 1
            if gap:
                nxt += gap
                delay = nxt - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
    finally:
        for s in (s4, s6):
            if s is not None:
                s.close()
    print(json.dumps({"total": total, "sent": sent}))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("summary")
    a.add_argument("pcap")
    a.add_argument("--port", type=int, default=51947)
    a = sub.add_parser("fresh")
    a.add_argument("orig")
    a.add_argument("pcap")
    a.add_argument("--port", type=int, default=51947)
    a.add_argument("--src")
    a = sub.add_parser("replay")
    a.add_argument("pcap")
    a.add_argument("--port", type=int, default=51947)
    a.add_argument("--src")
    a.add_argument("--types")
    a.add_argument("--repeat", type=int, default=1)
    a.add_argument("--count", type=int, default=0)
    a.add_argument("--as", dest="as_addr")
    a.add_argument("--rate", type=float, default=0.0)
    args = ap.parse_args()
    conf.verb = 0
    if args.cmd == "summary":
        return summary(args)
    if args.cmd == "fresh":
        return fresh(args)
    return replay(args)


if __name__ == "__main__":
    sys.exit(main())
