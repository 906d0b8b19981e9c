#!/usr/bin/env python3
"""One timed start of deliveryhub, for bench/startup_rss.sh.

Usage: startup_probe.py DIR -- COMMAND [ARG...]

Spawns COMMAND with cwd DIR, stdout to DIR/deliveryhub.log and stderr to DIR/deliveryhub.err.
Reads the address from the JSON "listening" log line, then polls GET /readyz about every
millisecond until it answers 200, then stops the server with SIGTERM (SIGKILL 15 s later).
Prints one line: "LISTENING_MS READY_MS EXIT_CODE" where LISTENING_MS is the "ts" of the
listening line minus the wall-clock time just before the spawn (the log has millisecond
timestamps), READY_MS the monotonic time from just before the spawn to the first 200, and
EXIT_CODE the server's exit status after SIGTERM (negative: killed by that signal).
Everything is bounded: 15 s to become ready, 15 s to stop.
"""

import datetime
import http.client
import json
import os
import signal
import subprocess
import sys
import time

READY_WITHIN = 15.0
STOP_WITHIN = 15.0
POLL = 0.001


def fail(message):
    print(f"startup_probe.py: {message}", file=sys.stderr)
    sys.exit(1)


def listening_line(data):
    """The (address, ts as epoch seconds) of the first complete "listening" line, or None."""
    for line in data.split(b"\n")[:-1]:
        if b'"msg":"listening"' not in line:
            continue
        entry = json.loads(line)
        ts = datetime.datetime.strptime(entry["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
        return entry["address"], ts.replace(tzinfo=datetime.timezone.utc).timestamp()
    return None


def readyz_status(address):
    host, port = address.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        connection.request("GET", "/readyz")
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        fail(f"the server did not stop within {STOP_WITHIN:.0f} s of SIGTERM; killed")


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        fail("usage: startup_probe.py DIR -- COMMAND [ARG...]")
    directory, command = sys.argv[1], sys.argv[3:]
    log_path = os.path.join(directory, "deliveryhub.log")
    # A SIGTERM to this probe still stops the server (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    with open(log_path, "wb") as out, open(os.path.join(directory, "deliveryhub.err"), "wb") as err:
        wall_start = time.time()
        start = time.monotonic()
        process = subprocess.Popen(command, cwd=directory, stdout=out, stderr=err)
    try:
        found = None
        ready_ms = None
        with open(log_path, "rb") as log:
            data = b""
            while time.monotonic() - start < READY_WITHIN:
                if process.poll() is not None:
                    fail(f"the server exited during start-up (code {process.returncode}); see {log_path}")
                if found is None:
                    data += log.read()
                    found = listening_line(data)
                elif readyz_status(found[0]) == 200:
                    ready_ms = (time.monotonic() - start) * 1000
                    break
                time.sleep(POLL)
        if found is None:
            fail(f"no \"listening\" line within {READY_WITHIN:.0f} s")
        if ready_ms is None:
            fail(f"GET /readyz did not answer 200 within {READY_WITHIN:.0f} s")
        listening_ms = (found[1] - wall_start) * 1000
    finally:
        code = stop(process)
    print(f"{listening_ms:.1f} {ready_ms:.1f} {code}")


if __name__ == "__main__":
    main()
