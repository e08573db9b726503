#!/usr/bin/python3
"""tests/netns/ctl_client.py: a raw client for gresecd's control socket.

Sends requests that `gresec` never would (bad frames, junk, nothing at all)
and reports what the daemon did, so test_control.sh can check it.  Frames
are built here from the documented layout, independently of ctl_proto.c:
"GRSC" | version (1) | command (1) | argument length (BE16) | argument.

usage:
  ctl_client.py SOCK frame VERSION CMD ARGLEN ARG-HEX [--trail N]
      send one frame (ARGLEN may disagree with ARG-HEX; --trail appends N
      junk bytes) and print the reply
  ctl_client.py SOCK raw HEX          send these bytes, print the reply
  ctl_client.py SOCK junk N [PREFIX-HEX]
      send N bytes (PREFIX then pseudo-random junk) while reading the reply
  ctl_client.py SOCK silent MAXWAIT   connect, send nothing; print the
      seconds until the daemon closed the connection (or "open" after MAXWAIT)
  ctl_client.py SOCK idle N HOLD      open N connections that send nothing;
      print a JSON summary: how many the daemon closed at once (and what it
      said), how many it held, and after HOLD s how many are still open

Every command prints one line: the reply (status line first, \\n escaped)
or a JSON summary; exit status 0 unless the client itself failed.
"""
import json
import os
import select
import signal
import socket
import sys
import time

TIMEOUT = 10.0


def connect(path, blocking=False):
    """A connected socket.  A timeout makes connect() non-blocking, and a
    UNIX socket's connect() then fails with EAGAIN while the listen backlog
    is full; blocking=True waits for the daemon to accept instead."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if not blocking:
        s.settimeout(TIMEOUT)
    s.connect(path)
    return s


def read_reply(s, deadline):
    """Read until EOF or the deadline; return (bytes, eof)."""
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        r, _, _ = select.select([s], [], [], left)
        if not r:
            return data, False
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


def send_and_read(path, payload):
    """Send payload without blocking on a daemon that stops reading, and
    collect whatever it answers until it closes the connection."""
    s = connect(path)
    s.setblocking(False)
    sent = 0
    data = b""
    eof = False
    write_error = None
    deadline = time.monotonic() + TIMEOUT
    while not eof and time.monotonic() < deadline:
        want_w = [s] if sent < len(payload) and write_error is None else []
        r, w, _ = select.select([s], want_w, [], 0.2)
        if w:
            try:
                sent += s.send(payload[sent:sent + 65536])
            except (BrokenPipeError, ConnectionResetError) as e:
                write_error = e.__class__.__name__
            except BlockingIOError:
                pass
        if r:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                eof = True
                break
            except BlockingIOError:
                continue
            if not chunk:
                eof = True
            data += chunk
    s.close()
    return data, eof, sent, write_error


def print_reply(data, eof, extra=None):
    out = {"reply": data.decode("utf-8", "replace"), "closed": eof}
    if extra:
        out.update(extra)
    print(json.dumps(out))


def build_frame(version, cmd, arglen, arg):
    return b"GRSC" + bytes([version, cmd]) + arglen.to_bytes(2, "big") + arg


def junk(n):
    """n random bytes that never start with the magic's first byte."""
    out = bytearray(os.urandom(n))
    if n and out[0] == ord("G"):
        out[0] = 0
    return bytes(out)


def cmd_silent(path, maxwait):
    s = connect(path)
    t0 = time.monotonic()
    data, eof = read_reply(s, t0 + maxwait)
    took = time.monotonic() - t0
    s.close()
    print(json.dumps({"closed": eof, "after": round(took, 2),
                      "reply": data.decode("utf-8", "replace")}))


def cmd_idle(path, n, hold):
    socks = []
    connect_errors = {}
    signal.alarm(int(hold) + 30)  # a daemon that never accepts must not hang us
    for _ in range(n):
        try:
            socks.append(connect(path, blocking=True))
        except OSError as e:
            name = e.__class__.__name__
            connect_errors[name] = connect_errors.get(name, 0) + 1
    # Give the daemon a moment to accept (and refuse) them all.
    time.sleep(0.5)
    closed_at_once, replies = 0, {}
    still = []
    for s in socks:
        s.setblocking(False)
        try:
            chunk = s.recv(4096)
        except BlockingIOError:
            still.append(s)
            continue
        except ConnectionResetError:
            chunk = b""
        closed_at_once += 1
        text = chunk.decode("utf-8", "replace").strip()
        replies[text] = replies.get(text, 0) + 1
        s.close()
    held = len(still)
    # Now hold the rest and see whether the daemon times them out.
    t0 = time.monotonic()
    deadline = t0 + hold
    open_socks = list(still)
    timed_out_replies = {}
    last_close = None
    while open_socks and time.monotonic() < deadline:
        r, _, _ = select.select(open_socks, [], [], max(0.0, deadline - time.monotonic()))
        for s in r:
            try:
                chunk = s.recv(4096)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                chunk = b""
            if chunk:
                text = chunk.decode("utf-8", "replace").strip()
                timed_out_replies[text] = timed_out_replies.get(text, 0) + 1
                continue
            open_socks.remove(s)
            s.close()
            last_close = time.monotonic() - t0
    for s in open_socks:
        s.close()
    print(json.dumps({
        "requested": n,
        "connected": len(socks),
        "connect_errors": connect_errors,
        "closed_at_once": closed_at_once,
        "refusal_replies": replies,
        "held": held,
        "still_open_after_hold": len(open_socks),
        "last_close_after": None if last_close is None else round(last_close, 2),
        "held_replies": timed_out_replies,
    }))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    path, what, args = argv[1], argv[2], argv[3:]
    if what == "frame":
        version, cmd, arglen = int(args[0], 0), int(args[1], 0), int(args[2], 0)
        arg = bytes.fromhex(args[3]) if len(args) > 3 else b""
        payload = build_frame(version, cmd, arglen, arg)
        if len(args) > 5 and args[4] == "--trail":
            payload += junk(int(args[5]))
        data, eof, _, _ = send_and_read(path, payload)
        print_reply(data, eof)
    elif what == "raw":
        data, eof, _, _ = send_and_read(path, bytes.fromhex(args[0]))
        print_reply(data, eof)
    elif what == "junk":
        n = int(args[0], 0)
        prefix = bytes.fromhex(args[1]) if len(args) > 1 else b""
        payload = prefix + junk(max(0, n - len(prefix)))
        data, eof, sent, werr = send_and_read(path, payload)
        print_reply(data, eof, {"sent": sent, "write_error": werr})
    elif what == "silent":
        cmd_silent(path, float(args[0]))
    elif what == "idle":
        cmd_idle(path, int(args[0]), float(args[1]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except OSError as e:
        print(json.dumps({"client_error": "%s: %s" % (e.__class__.__name__, e)}))
        sys.exit(2)
