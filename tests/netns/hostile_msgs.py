#!/usr/bin/python3
"""Handshake initiations for tests/tools/flood (template file records:
2-byte big-endian length, then the datagram).

  hostile_msgs.py bogus N OUT          type 1, 148 bytes, random body, bad mac1
  hostile_msgs.py mac1 PUBKEY N OUT    type 1 with a valid mac1 for the
                                       responder PUBKEY (base64) over random
                                       ephemeral / static / timestamp fields,
                                       so they pass the cheap check and only
                                       fail later (unknown keys)

mac1 = keyed BLAKE2s-128 with key BLAKE2s-256("mac1----" || responder public
key) over the first 116 bytes (WireGuard; docs/protocol.md); mac2 is left zero.
"""
import base64
import hashlib
import os
import struct
import sys

INIT_LEN, MAC1_OFF = 148, 116


def mac1_key(pub):
    return hashlib.blake2s(b"mac1----" + pub, digest_size=32).digest()


def initiation(key=None):
    body = bytearray(b"\x01\x00\x00\x00" + os.urandom(INIT_LEN - 4))
    body[MAC1_OFF + 16:] = bytes(16)                # mac2: none
    if key is not None:
        body[MAC1_OFF:MAC1_OFF + 16] = hashlib.blake2s(bytes(body[:MAC1_OFF]), digest_size=16,
                                                       key=key).digest()
    return bytes(body)


def main():
    kind = sys.argv[1]
    if kind == "bogus":
        n, out, key = int(sys.argv[2]), sys.argv[3], None
    elif kind == "mac1":
        pub = base64.b64decode(sys.argv[2])
        if len(pub) != 32:
            sys.exit("public key must be 32 bytes")
        n, out, key = int(sys.argv[3]), sys.argv[4], mac1_key(pub)
    else:
        sys.exit(__doc__)
    with open(out, "wb") as f:
        for _ in range(n):
            m = initiation(key)
            f.write(struct.pack("!H", len(m)) + m)


if __name__ == "__main__":
    main()
