#!/usr/bin/python3
"""Hostile datagrams for tests/netns/test_hostile.sh, each kind in a known
number, so the daemon's drop counters can be compared exactly.  Prints one
JSON object: how many datagrams of each expected drop reason were sent.

  hostile_traffic.py malformed DST PORT PCAP PEER_SRC
      undersized and oversized datagrams of every type, bad types and
      reserved bytes, data for unknown receiver indices, and an oversized
      data message (65000 bytes) for the live receiver index taken from the
      capture (the last data message PEER_SRC sent to DST)
  hostile_traffic.py replay PCAP SRC DST PORT
      every UDP payload SRC sent to DST:PORT in the capture, again, in order
  hostile_traffic.py plain_spoof SRC DST COUNT INNER_SRC INNER_DST
      well-formed GRE (IPv4 echo request inside) from a source address
      that is no tunnel's remote, through a raw IP_HDRINCL socket

The capture is a classic pcap of Ethernet frames (tcpdump -w), parsed here
without scapy.
"""
import json
import os
import socket
import struct
import sys
import time


def pcap_udp(path):
    """(src, dst, sport, dport, payload) of every IPv4 UDP packet."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:           # Ethernet
            if len(frame) < 14 or frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
        elif linktype == 113:       # Linux cooked (tcpdump -i any)
            if len(frame) < 16 or frame[14:16] != b"\x08\x00":
                continue
            ip = frame[16:]
        else:
            sys.exit("unsupported link type %d" % linktype)
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if struct.unpack("!H", ip[6:8])[0] & 0x3fff:
            continue                # fragments: none expected here
        udp = ip[ihl:total]
        if len(udp) < 8:
            continue
        sport, dport, ulen = struct.unpack("!HHH", udp[:6])
        out.append((socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), sport, dport,
                    bytes(udp[8:ulen])))
    return out


def sender(dst):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    return s


def paced_send(s, msgs, addr):
    for i, m in enumerate(msgs):
        s.sendto(m, addr)
        if i % 32 == 31:
            time.sleep(0.002)       # never overrun the daemon's socket buffer


def malformed(dst, port, pcap, peer_src):
    addr = (dst, port)
    want = {"bad_length": [], "bad_type": [], "no_session": [], "decrypt": []}
    # Shorter than the 4-byte header, of any first byte.
    for n in range(4):
        want["bad_length"].append(bytes([4]) * n)
    # Data shorter than 32 bytes.
    for n in range(4, 32):
        want["bad_length"].append(b"\x04\x00\x00\x00" + os.urandom(n - 4))
    # Handshake and cookie messages one byte short or long, and far too long.
    for t, n in ((1, 148), (2, 92), (3, 64)):
        for ln in (n - 1, n + 1, 1400, 8000):
            want["bad_length"].append(bytes([t, 0, 0, 0]) + os.urandom(ln - 4))
    # Unknown types, nonzero reserved bytes.
    for t in (0, 5, 6, 0x14, 0x84, 0xff):
        want["bad_type"].append(bytes([t, 0, 0, 0]) + os.urandom(60))
    for r in (b"\x01\x00\x00", b"\x00\x80\x00", b"\x00\x00\x01"):
        want["bad_type"].append(b"\x04" + r + os.urandom(60))
    # Data for receiver indices nobody gave out.
    live = None
    for src, d, _, dport, p in pcap_udp(pcap):
        if src == peer_src and d == dst and dport == port and len(p) >= 32 and p[0] == 4:
            live = struct.unpack("<I", p[4:8])[0]
    for _ in range(50):
        idx = struct.unpack("<I", os.urandom(4))[0]
        if idx == live:
            continue
        want["no_session"].append(b"\x04\x00\x00\x00" + struct.pack("<IQ", idx, 1) + os.urandom(64))
    # Oversized (65000 bytes) and minimal data for the live index with a fresh
    # counter: passes the replay check, fails authentication.
    if live is not None:
        for i, ln in enumerate((65000, 32, 1500)):
            want["decrypt"].append(b"\x04\x00\x00\x00" + struct.pack("<IQ", live, (1 << 40) + i) +
                                   os.urandom(ln - 16))
    s = sender(dst)
    for msgs in want.values():
        paced_send(s, msgs, addr)
    print(json.dumps({k: len(v) for k, v in want.items()} | {"live_index_found": live is not None}))


def replay(pcap, src, dst, port):
    msgs = [p for s_, d, _, dport, p in pcap_udp(pcap) if s_ == src and d == dst and dport == port]
    types = {}
    for m in msgs:
        k = str(m[0]) if m else "empty"
        types[k] = types.get(k, 0) + 1
    paced_send(sender(dst), msgs, (dst, port))
    print(json.dumps({"replayed": len(msgs), "by_type": types}))


def csum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def plain_spoof(src, dst, count, inner_src, inner_dst):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for i in range(count):
        icmp = struct.pack("!BBHHH", 8, 0, 0, 0x4242, i) + b"hostile" * 8
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        inner = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), i, 0, 64, 1, 0,
                            socket.inet_aton(inner_src), socket.inet_aton(inner_dst))
        inner = inner[:10] + struct.pack("!H", csum(inner)) + inner[12:] + icmp
        gre = struct.pack("!HH", 0, 0x0800) + inner
        outer = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(gre), 0, 0, 64, 47, 0,
                            socket.inet_aton(src), socket.inet_aton(dst))
        s.sendto(outer + gre, (dst, 0))
        sent += 1
        time.sleep(0.001)
    print(json.dumps({"unknown_source": sent}))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "malformed":
        malformed(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif cmd == "replay":
        replay(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "plain_spoof":
        plain_spoof(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
