#!/usr/bin/python3
"""tests/e2e/mcast.py: multicast sender and receiver for the e2e tests.

  mcast.py send GROUP PORT IFACE COUNT INTERVAL TTL
      COUNT datagrams "gresec-mcast <seq>" to GROUP out of IFACE, one every
      INTERVAL seconds, with the given TTL / hop limit.
  mcast.py recv GROUP PORT IFACE TIMEOUT EXPECT [SOURCE]
      Joins GROUP on IFACE (source-specific when SOURCE is given, IPv4
      only) and counts the datagrams until EXPECT distinct ones arrived or
      TIMEOUT seconds passed.  Prints one line:
          received N first SEQ last SEQ after SECONDS
      (SECONDS: from the join to the first datagram, -1 if none) and exits
      0 when anything arrived, 1 otherwise.  Writes "joined" to stderr once
      the membership is in place so a caller can start the sender.
"""
import ipaddress
import select
import socket
import struct
import sys
import time

IP_ADD_SOURCE_MEMBERSHIP = getattr(socket, "IP_ADD_SOURCE_MEMBERSHIP", 39)
PAYLOAD = b"gresec-mcast "


def ifindex(name):
    return socket.if_nametoindex(name)


def ifaddr4(name):
    """The first IPv4 address of an interface (SIOCGIFADDR)."""
    import fcntl
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        req = struct.pack("256s", name.encode()[:15])
        return socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, req)[20:24])
    finally:
        s.close()


def send(group, port, iface, count, interval, ttl):
    v6 = ipaddress.ip_address(group).version == 6
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex(iface))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, ttl)
        dst = (group, port, 0, ifindex(iface))
    else:
        mreqn = struct.pack("4s4si", socket.inet_aton(group), socket.inet_aton("0.0.0.0"),
                            ifindex(iface))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
        dst = (group, port)
    s.setsockopt(socket.IPPROTO_IP if not v6 else socket.IPPROTO_IPV6,
                 socket.IP_MULTICAST_LOOP if not v6 else socket.IPV6_MULTICAST_LOOP, 0)
    for seq in range(count):
        s.sendto(PAYLOAD + str(seq).encode(), dst)
        if seq + 1 < count:
            time.sleep(interval)
    print("sent %d" % count)
    return 0


def recv(group, port, iface, timeout, expect, source=None):
    v6 = ipaddress.ip_address(group).version == 6
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6:
        s.bind((group, port, 0, ifindex(iface)))
        mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", ifindex(iface))
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    else:
        s.bind((group, port))
        if source:
            # struct ip_mreq_source: multiaddr, interface, sourceaddr
            mreq = (socket.inet_aton(group) + socket.inet_aton(ifaddr4(iface)) +
                    socket.inet_aton(source))
            s.setsockopt(socket.IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, mreq)
        else:
            mreqn = struct.pack("4s4si", socket.inet_aton(group),
                                socket.inet_aton("0.0.0.0"), ifindex(iface))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
    t0 = time.monotonic()
    sys.stderr.write("joined\n")
    sys.stderr.flush()
    seen = set()
    first_at = -1.0
    while len(seen) < expect:
        left = timeout - (time.monotonic() - t0)
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            break
        data = s.recv(2048)
        if not data.startswith(PAYLOAD):
            continue
        try:
            seq = int(data[len(PAYLOAD):])
        except ValueError:
            continue
        if first_at < 0:
            first_at = time.monotonic() - t0
        seen.add(seq)
    print("received %d first %s last %s after %.2f" % (
        len(seen), min(seen) if seen else -1, max(seen) if seen else -1, first_at))
    return 0 if seen else 1


def main(argv):
    if len(argv) >= 7 and argv[0] == "send":
        return send(argv[1], int(argv[2]), argv[3], int(argv[4]), float(argv[5]), int(argv[6]))
    if len(argv) in (6, 7) and argv[0] == "recv":
        return recv(argv[1], int(argv[2]), argv[3], float(argv[4]), int(argv[5]),
                    argv[6] if len(argv) == 7 else None)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
