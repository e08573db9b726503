#!/usr/bin/python3
"""tests/netns/pmtu_spoof.py: one forged "packet too big" against a tunnel.

Driven by test_pmtu.sh from a third namespace (the attacker, off the
tunnel's path).  Sends, from the attacker's own address, one ICMP error
to VICTIM that claims a router on the way to PEER cannot forward the
tunnel's packets:

  - IPv4: ICMP destination unreachable, fragmentation needed (type 3,
    code 4) with next-hop MTU --mtu (552 by default, the kernel's
    min_pmtu), quoting an outer IPv4 header VICTIM -> PEER with DF set
    and the first bytes of the tunnel packet;
  - IPv6: ICMPv6 packet too big (type 2) with MTU --mtu (1280 by
    default), quoting as much of a tunnel packet as fits in 1280 bytes.

The quoted packet is a datagram of the tunnel's flow: UDP VPORT -> PPORT
(secure mode, --udp VPORT PPORT) or GRE carrying IPv4 (plain mode, --gre),
which is all the kernel checks before it hands the error to the socket.

  pmtu_spoof.py --from 10.0.3.1 --victim 10.0.1.1 --peer 10.0.2.1 \\
      (--udp 51947 51947 | --gre) [--mtu 552]

Prints one line saying what was sent.
"""

import argparse
import ipaddress
import sys

sys.dont_write_bytecode = True     # the source dir may be read-only (distcheck)
from scapy.all import (GRE, ICMP, IP, UDP, ICMPv6PacketTooBig,  # noqa: E402
                       IPv6, conf, send)

FULL = 1500               # the size the forged error claims was sent
IPV4_QUOTE = 28           # outer IPv4 header + 8 bytes, as RFC 792 asks
IPV6_MIN_MTU = 1280       # an ICMPv6 error is at most this long (RFC 4443)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="src", required=True, help="the attacker's address")
    ap.add_argument("--victim", required=True, help="the tunnel end to mislead")
    ap.add_argument("--peer", required=True, help="the other tunnel end")
    kind = ap.add_mutually_exclusive_group(required=True)
    kind.add_argument("--udp", nargs=2, type=int, metavar=("VPORT", "PPORT"))
    kind.add_argument("--gre", action="store_true")
    ap.add_argument("--mtu", type=int)
    a = ap.parse_args()
    v6 = ipaddress.ip_address(a.victim).version == 6

    if a.udp:
        inner = UDP(sport=a.udp[0], dport=a.udp[1])
        proto = 17
    else:
        inner = GRE(proto=0x0800)
        proto = 47
    if v6:
        mtu = a.mtu or IPV6_MIN_MTU
        quoted = IPv6(src=a.victim, dst=a.peer, nh=proto, plen=FULL - 40) / inner
        quoted = bytes(quoted / (b"\x00" * FULL))[:IPV6_MIN_MTU - 48]
        pkt = IPv6(src=a.src, dst=a.victim) / ICMPv6PacketTooBig(mtu=mtu) / quoted
    else:
        mtu = a.mtu or 552
        quoted = IP(src=a.victim, dst=a.peer, flags="DF", proto=proto, len=FULL) / inner
        quoted = bytes(quoted / (b"\x00" * FULL))[:IPV4_QUOTE]
        pkt = IP(src=a.src, dst=a.victim) / ICMP(type=3, code=4, nexthopmtu=mtu) / quoted
    conf.verb = 0
    send(pkt)
    print("sent %s %s -> %s: %s, mtu %d, quoting %s %s -> %s" % (
        "ICMPv6" if v6 else "ICMP", a.src, a.victim,
        "packet too big" if v6 else "fragmentation needed", mtu,
        "UDP %d -> %d" % tuple(a.udp) if a.udp else "GRE", a.victim, a.peer))


if __name__ == "__main__":
    main()
