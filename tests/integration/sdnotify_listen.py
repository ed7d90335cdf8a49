#!/usr/bin/env python3
"""sdnotify_listen.py: stands in for systemd's notification socket in tests.

    sdnotify_listen.py SOCKET OUT [--on-ready CMD]

Binds a Unix datagram socket at SOCKET (what NOTIFY_SOCKET names), creates
SOCKET.up once it listens, and appends one line to OUT per datagram received:
the assignments it carries joined by " | ". When a datagram holds READY=1
and --on-ready is given, CMD runs (bash -c) at once, before anything else is
read, and its output goes to OUT as lines "on_ready: ...": what the test
wants to know about the daemon at the moment it said it was ready. Runs until
killed.
"""
import argparse
import socket
import subprocess


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("out")
    ap.add_argument("--on-ready")
    a = ap.parse_args()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(a.socket)
    with open(a.socket + ".up", "w"):
        pass
    with open(a.out, "a", buffering=1, encoding="utf-8") as out:
        while True:
            data = s.recv(65536).decode("utf-8", "replace")
            fields = [f for f in data.split("\n") if f]
            out.write(" | ".join(fields) + "\n")
            if "READY=1" in fields and a.on_ready:
                r = subprocess.run(["bash", "-c", a.on_ready], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
                for line in r.stdout.splitlines():
                    out.write("on_ready: %s\n" % line)
                out.write("on_ready: exit=%d\n" % r.returncode)


if __name__ == "__main__":
    main()
