#!/usr/bin/env python3
"""tproxy.py: a userspace TCP proxy for fault tests, loopback only.

    tproxy.py --listen 127.0.0.1:PORT --target 127.0.0.1:PORT --control FILE [--log FILE]

Every connection accepted on --listen is relayed to --target. The mode is
switched at run time by writing one line to the control FILE (write a temp
file and rename it over FILE, so the proxy never reads half a word); the
proxy looks at FILE every 50 ms and acts when its inode, mtime or contents
change, so writing the same word twice acts twice. SIGUSR1 makes it look at
once. Modes:

    pass          relay both ways (the start mode)
    delay MS      hold every chunk MS milliseconds before relaying it (order kept)
    blackhole     a dead link: accept and read, relay nothing either way, keep
                  every connection open (new ones too); what was read is held
                  and relayed once the mode changes, as TCP would retransmit
                  it over a link that comes back
    blackhole drop
                  the same, but what is read is thrown away: the streams are
                  broken when the link comes back
    reset         close every current connection, both sides, with a TCP RST
                  (SO_LINGER 0), then go back to pass
    refuse        close each new connection at once (with RST); current ones
                  keep relaying

One line per mode change on stderr (or --log), e.g.
    2024-06-20T02:00:01.234Z tproxy mode=blackhole conns=1
A peer resetting, a target that refuses, a bad control word: all are logged
and survived; the proxy only ends on SIGTERM/SIGINT (exit 0).
Standard library only.
"""
import argparse
import asyncio
import os
import signal
import socket
import struct
import sys
import time

CHUNK = 65536


def now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


class Proxy:
    def __init__(self, args):
        self.listen = self._addr(args.listen)
        self.target = self._addr(args.target)
        self.control = args.control
        self.log_file = open(args.log, "a", buffering=1) if args.log else sys.stderr
        self.mode = "pass"
        self.delay_s = 0.0
        self.conns = set()  # of Conn
        self.seen = None  # (ino, mtime_ns, text) of the control file last acted on
        self.poke = asyncio.Event()
        self.flowing = asyncio.Event()  # set unless the mode is blackhole
        self.flowing.set()
        self.drop = False  # blackhole drop: discard instead of holding
        self.stats = {"accepted": 0, "refused": 0, "reset": 0}

    @staticmethod
    def _addr(text):
        host, _, port = text.rpartition(":")
        if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
            raise SystemExit("tproxy: loopback only, got %r" % text)
        return host.strip("[]"), int(port)

    def log(self, msg):
        try:
            self.log_file.write("%s tproxy %s\n" % (now(), msg))
            self.log_file.flush()
        except Exception:
            pass

    # ---- control ---------------------------------------------------------
    def _read_control(self):
        try:
            st = os.stat(self.control)
            with open(self.control, "r") as f:
                text = f.read().strip()
        except FileNotFoundError:
            return None
        except OSError as e:
            self.log("control_error err=%r" % str(e))
            return None
        key = (st.st_ino, st.st_mtime_ns, text)
        if key == self.seen:
            return None
        self.seen = key
        return text

    def _apply(self, text):
        words = text.split()
        if not words:
            return
        word = words[0].lower()
        if word in ("pass", "delay", "refuse", "reset"):
            self.flowing.set()
        if word == "pass":
            self.mode = "pass"
        elif word == "delay":
            try:
                ms = float(words[1])
                if ms < 0:
                    raise ValueError
            except (IndexError, ValueError):
                self.log("bad_control text=%r (delay needs MS >= 0)" % text)
                return
            self.mode, self.delay_s = "delay", ms / 1000.0
            self.log("mode=delay ms=%g conns=%d" % (ms, len(self.conns)))
            return
        elif word == "blackhole":
            self.drop = len(words) > 1 and words[1].lower() == "drop"
            self.mode = "blackhole"
            self.flowing.clear()
            self.log("mode=blackhole%s conns=%d" % (" drop" if self.drop else "", len(self.conns)))
            return
        elif word == "refuse":
            self.mode = "refuse"
        elif word == "reset":
            n = len(self.conns)
            for c in list(self.conns):
                c.rst()
            self.stats["reset"] += n
            self.mode = "pass"
            self.log("mode=reset conns=%d then=pass" % n)
            return
        else:
            self.log("bad_control text=%r" % text)
            return
        self.log("mode=%s conns=%d" % (self.mode, len(self.conns)))

    async def watch_control(self):
        while True:
            text = self._read_control()
            if text is not None:
                self._apply(text)
            try:
                await asyncio.wait_for(self.poke.wait(), 0.05)
            except asyncio.TimeoutError:
                pass
            self.poke.clear()

    # ---- connections -----------------------------------------------------
    async def on_client(self, creader, cwriter):
        peer = cwriter.get_extra_info("peername")
        if self.mode == "refuse":
            self.stats["refused"] += 1
            _rst(cwriter)
            self.log("refused peer=%s" % (peer,))
            return
        self.stats["accepted"] += 1
        try:
            treader, twriter = await asyncio.open_connection(*self.target)
        except OSError as e:
            self.log("target_failed peer=%s err=%r" % (peer, str(e)))
            _rst(cwriter)
            return
        conn = Conn(self, creader, cwriter, treader, twriter)
        self.conns.add(conn)
        self.log("open peer=%s conns=%d" % (peer, len(self.conns)))
        try:
            await conn.run()
        finally:
            self.conns.discard(conn)
            self.log("closed peer=%s why=%s conns=%d" % (peer, conn.why, len(self.conns)))

    async def main(self):
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
        loop.add_signal_handler(signal.SIGUSR1, self.poke.set)
        server = await asyncio.start_server(self.on_client, *self.listen, reuse_address=True,
                                            backlog=256)
        self.log("listening on=%s:%d target=%s:%d control=%s mode=pass"
                 % (self.listen + self.target + (self.control,)))
        watcher = asyncio.ensure_future(self.watch_control())
        await stop
        watcher.cancel()
        server.close()
        for c in list(self.conns):
            c.close()
        self.log("stop accepted=%d refused=%d reset=%d" % (
            self.stats["accepted"], self.stats["refused"], self.stats["reset"]))


def _rst(writer):
    """Close with RST: SO_LINGER {on, 0} then abort."""
    try:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        writer.transport.abort()
    except Exception:
        pass


class Conn:
    """One relayed connection: per direction, a reader task queues chunks and
    a writer task forwards them (held while the mode is blackhole)."""

    def __init__(self, proxy, creader, cwriter, treader, twriter):
        self.p = proxy
        self.cwriter, self.twriter = cwriter, twriter
        self.why = "eof"
        self.up = asyncio.Queue()
        self.down = asyncio.Queue()
        self.readers = [asyncio.ensure_future(self.read(creader, self.up, "up")),
                        asyncio.ensure_future(self.read(treader, self.down, "down"))]
        self.writers = []

    async def read(self, reader, queue, name):
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    self.why = "eof_" + name
                    break
                if self.p.mode == "blackhole" and self.p.drop:
                    continue
                queue.put_nowait(data)
        except asyncio.CancelledError:
            raise
        except (ConnectionError, OSError) as e:
            self.why = "%s_%s" % (name, type(e).__name__)
        except Exception as e:  # never let one connection take the proxy down
            self.why = "%s_bug_%r" % (name, e)
        queue.put_nowait(None)

    async def write(self, queue, writer, name):
        try:
            while True:
                data = await queue.get()
                if data is None:
                    break
                while self.p.mode == "blackhole":
                    await self.p.flowing.wait()
                if self.p.mode == "delay" and self.p.delay_s > 0:
                    await asyncio.sleep(self.p.delay_s)
                    while self.p.mode == "blackhole":
                        await self.p.flowing.wait()
                writer.write(data)
                await writer.drain()
        except asyncio.CancelledError:
            raise
        except (ConnectionError, OSError) as e:
            self.why = "%s_write_%s" % (name, type(e).__name__)
        except Exception as e:
            self.why = "%s_bug_%r" % (name, e)

    async def run(self):
        self.writers = [asyncio.ensure_future(self.write(self.up, self.twriter, "up")),
                        asyncio.ensure_future(self.write(self.down, self.cwriter, "down"))]
        try:
            # A side's EOF reaches the other side after what it sent before.
            await asyncio.wait(self.writers, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in self.readers + self.writers:
                t.cancel()
            self.close()

    def close(self):
        for w in (self.cwriter, self.twriter):
            try:
                w.close()
            except Exception:
                pass

    def rst(self):
        self.why = "reset"
        for w in (self.cwriter, self.twriter):
            _rst(w)
        for t in self.readers + self.writers:
            t.cancel()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", required=True, help="127.0.0.1:PORT to accept on")
    ap.add_argument("--target", required=True, help="127.0.0.1:PORT to relay to")
    ap.add_argument("--control", required=True, help="file holding the mode word")
    ap.add_argument("--log", help="append log lines here instead of stderr")
    args = ap.parse_args()
    p = Proxy(args)
    try:
        asyncio.run(p.main())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
