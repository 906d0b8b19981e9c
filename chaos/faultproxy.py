#!/usr/bin/env python3
"""A fault-injecting TCP proxy for chaos experiments on 127.0.0.1 (ADR 0033: the kernel here has
no netem, and no proxy of the kind ships in Debian).

    faultproxy.py serve --listen PORT --upstream HOST:PORT --control PORT
    faultproxy.py set --control PORT [latency_ms=N] [jitter_ms=N] [error_rate=P] [drop_rate=P]
    faultproxy.py stats --control PORT

`serve` forwards every connection to the upstream byte for byte until told otherwise. The faults,
set at run time through the control port (one line of `key=value` pairs, answered with the
settings and counters as JSON), apply to each HTTP/1.1 request as it arrives — a chunk from the
client that starts with a request method, since HTTP/1.1 clients send the next request only after
the last answer:
  latency_ms, jitter_ms   the request is held latency ± jitter ms before it is forwarded;
  error_rate              that share of requests is answered `503 Service Unavailable` (a problem
                          body, `Connection: close`) by the proxy, never reaching the upstream;
  drop_rate               that share of requests is forwarded, and then the connection is reset
                          (RST, SO_LINGER 0) before the answer comes back: the upstream may have
                          acted on it, the client cannot know — the case idempotency keys are for.
`set` with no pairs restores a clean pass-through. Counters: connections, requests, delayed,
errors injected, drops injected. Standard library only; bounded to 127.0.0.1 by --listen.
"""
import argparse
import asyncio
import contextlib
import json
import random
import socket
import struct
import sys

METHODS = (b"GET ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ", b"HEAD ", b"OPTIONS ")
ERROR_BODY = (b'{"type":"about:blank","title":"Service Unavailable","status":503,'
              b'"detail":"fault injected by chaos/faultproxy.py"}')
ERROR_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
                  b"Content-Length: " + str(len(ERROR_BODY)).encode() + b"\r\nConnection: close\r\n\r\n"
                  + ERROR_BODY)
FAULT_KEYS = {"latency_ms": float, "jitter_ms": float, "error_rate": float, "drop_rate": float}


class Proxy:
    def __init__(self, upstream_host, upstream_port):
        self.upstream = (upstream_host, upstream_port)
        self.faults = {k: 0.0 for k in FAULT_KEYS}
        self.counters = {"connections": 0, "requests": 0, "delayed": 0, "errors_injected": 0,
                         "drops_injected": 0, "upstream_refused": 0}

    @staticmethod
    def reset(writer):
        """Closes with RST: SO_LINGER on, timeout 0."""
        sock = writer.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        writer.transport.abort()

    async def client_to_upstream(self, reader, writer, up_writer, dropping):
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                break
            if chunk.startswith(METHODS):
                self.counters["requests"] += 1
                f = self.faults
                if f["error_rate"] and random.random() < f["error_rate"]:
                    self.counters["errors_injected"] += 1
                    writer.write(ERROR_RESPONSE)
                    await writer.drain()
                    # Close gently: a reset with the request's body unread could reach the client
                    # before the answer does. Half-close, then read what is left until it closes.
                    writer.write_eof()
                    with contextlib.suppress(asyncio.TimeoutError, OSError):
                        while await asyncio.wait_for(reader.read(65536), 2):
                            pass
                    return "answered"
                delay = f["latency_ms"] + (random.uniform(-f["jitter_ms"], f["jitter_ms"]) if f["jitter_ms"] else 0)
                if delay > 0:
                    self.counters["delayed"] += 1
                    await asyncio.sleep(delay / 1000)
                if f["drop_rate"] and random.random() < f["drop_rate"]:
                    dropping.set()
            up_writer.write(chunk)
            await up_writer.drain()
            if dropping.is_set():
                # Let the whole request reach the upstream (a body may follow its headers in
                # another chunk), then cut both sides; the answer is never passed back.
                self.counters["drops_injected"] += 1
                with contextlib.suppress(asyncio.TimeoutError):
                    while chunk := await asyncio.wait_for(reader.read(65536), 0.05):
                        up_writer.write(chunk)
                        await up_writer.drain()
                raise ConnectionResetError("drop injected")

    async def upstream_to_client(self, up_reader, writer, dropping):
        while True:
            chunk = await up_reader.read(65536)
            if not chunk or dropping.is_set():
                break
            writer.write(chunk)
            await writer.drain()

    async def handle(self, reader, writer):
        self.counters["connections"] += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            self.counters["upstream_refused"] += 1
            self.reset(writer)
            return
        dropping = asyncio.Event()
        tasks = [asyncio.ensure_future(self.client_to_upstream(reader, writer, up_writer, dropping)),
                 asyncio.ensure_future(self.upstream_to_client(up_reader, writer, dropping))]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        failed = any(t.exception() is not None for t in done if not t.cancelled())
        answered = any(not t.cancelled() and t.exception() is None and t.result() == "answered" for t in done)
        if answered:
            self.reset(up_writer)  # the upstream never saw this request; the client got its 503
            writer.close()
        elif failed or dropping.is_set():
            self.reset(writer)
            self.reset(up_writer)
        else:
            for w in (writer, up_writer):
                try:
                    w.close()
                except OSError:
                    pass

    async def control(self, reader, writer):
        try:
            line = (await reader.readline()).decode().strip()
            if line.startswith("set"):
                new = {k: 0.0 for k in FAULT_KEYS}
                for pair in line.split()[1:]:
                    key, _, value = pair.partition("=")
                    if key not in FAULT_KEYS:
                        raise ValueError(f"unknown setting {key}")
                    new[key] = FAULT_KEYS[key](value)
                    if key.endswith("_rate") and not 0 <= new[key] <= 1:
                        raise ValueError(f"{key} must be within 0..1")
                self.faults = new
            answer = {"faults": self.faults, "counters": self.counters}
        except ValueError as e:
            answer = {"error": str(e)}
        writer.write((json.dumps(answer) + "\n").encode())
        await writer.drain()
        writer.close()


async def serve(args):
    host, _, port = args.upstream.rpartition(":")
    proxy = Proxy(host, int(port))
    data = await asyncio.start_server(proxy.handle, "127.0.0.1", args.listen)
    ctl = await asyncio.start_server(proxy.control, "127.0.0.1", args.control)
    print(f"faultproxy: 127.0.0.1:{args.listen} -> {args.upstream}; control 127.0.0.1:{args.control}", flush=True)
    async with data, ctl:
        await asyncio.gather(data.serve_forever(), ctl.serve_forever())


def send(control_port, line):
    with socket.create_connection(("127.0.0.1", control_port), timeout=5) as s:
        s.sendall((line + "\n").encode())
        return json.loads(s.makefile().readline())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--listen", type=int, required=True)
    s.add_argument("--upstream", required=True)
    s.add_argument("--control", type=int, required=True)
    for name in ("set", "stats"):
        c = sub.add_parser(name)
        c.add_argument("--control", type=int, required=True)
        if name == "set":
            c.add_argument("pairs", nargs="*")
    args = p.parse_args()
    if args.cmd == "serve":
        try:
            asyncio.run(serve(args))
        except KeyboardInterrupt:
            pass
        return 0
    answer = send(args.control, "set " + " ".join(args.pairs) if args.cmd == "set" else "stats")
    print(json.dumps(answer))
    return 1 if "error" in answer else 0


if __name__ == "__main__":
    sys.exit(main())
