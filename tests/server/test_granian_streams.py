"""What the live streams' hub (server/stream_hub.py ``Conn``) relies on in granian, on
real granian: a streamed response outlives its request's coroutine for as long as its
transport is kept; ``send_bytes`` returns an awaitable that is already finished (an
iterator without ``send()``), and fails once the client has gone. If an upgrade of
granian changes any of this, this test says which part."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

from tests.live_server import ROOT, free_port, wait_answering


def _read_until(sock: socket.socket, marker: bytes, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    got = b""
    while marker not in got:
        chunk = sock.recv(4096)
        if not chunk:
            break
        got += chunk
    return got


def test_a_stream_outlives_its_coroutine_and_a_send_is_finished_at_once():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "granian", "--interface", "rsgi", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1", "--no-ws",
                             "tests.fixtures.detached_stream_app:app"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_answering(f"http://127.0.0.1:{port}/", proc, timeout=60)
        client = socket.create_connection(("127.0.0.1", port))
        client.sendall(b"GET /open HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        head = _read_until(client, b": connected")
        assert b" 200 " in head.split(b"\r\n", 1)[0] and b": connected" in head
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/send", timeout=10) as r:
            assert r.read() == b"sent"  # finished at once, on a response whose coroutine ended
        assert b"data: later" in _read_until(client, b"data: later")
        client.close()
        deadline, seen = time.monotonic() + 10, b""
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/send", timeout=10) as r:
                seen = r.read()
            if seen.startswith(b"failed"):
                break
            time.sleep(0.1)
        assert seen.startswith(b"failed"), f"a send to a client that left: {seen!r}"
    finally:
        proc.terminate()
        proc.wait(20)
