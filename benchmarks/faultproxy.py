"""A fault-injecting TCP proxy on 127.0.0.1, between the device's client and the cloud service.

Faults (``mode``, switchable while it runs):
    pass      forward both ways
    down      every connection is reset at once (the service is gone)
    latency   ``latency_s`` added before the request reaches the service
    reset     a share ``reset_share`` of connections is reset at once
    drip      the answer trickles back ``drip_bytes`` every ``drip_interval_s``
    garbage   the proxy answers "200 OK" with a body that is not JSON
    5xx       bursts: for ``burst_s`` of every ``period_s`` seconds every request is answered 503
    flap      ``flap_s`` seconds up (forwarded), ``flap_s`` down (reset), …
    corrupt   forwarded, but byte ``corrupt_at`` of each answer (headers included) is flipped: a large
              download arrives whole and wrong, small answers pass untouched

Used by the fault tests and ``python -m benchmarks.faults``.
"""

from __future__ import annotations

import random
import select
import socket
import struct
import threading
import time

MODES = ("pass", "down", "latency", "reset", "drip", "garbage", "5xx", "flap", "corrupt")


class FaultProxy:
    def __init__(self, upstream: tuple[str, int], mode: str = "pass", seed: int = 0, latency_s: float = 2.0,
                 reset_share: float = 0.3, drip_bytes: int = 1, drip_interval_s: float = 0.05, burst_s: float = 1.0,
                 period_s: float = 3.0, flap_s: float = 2.0, corrupt_at: int = 1 << 16, pace: float = 1.0):
        if mode not in MODES:
            raise ValueError(f"unknown fault '{mode}'; one of {', '.join(MODES)}")
        self.upstream, self.mode = upstream, mode
        # pace: every duration stretched as much as a paced replay's clock (``ReplayOptions.pace``)
        self.latency_s, self.reset_share = latency_s * pace, reset_share
        self.drip_bytes, self.drip_interval_s = drip_bytes, drip_interval_s * pace
        self.burst_s, self.period_s, self.flap_s = burst_s * pace, period_s * pace, flap_s * pace
        self.corrupt_at = corrupt_at
        self.connections = 0
        self.faulted = 0  # connections the fault touched
        self._random = random.Random(seed)
        self._started = time.monotonic()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn, self.connections), daemon=True).start()

    def _fault(self, number: int) -> str:
        """What happens to connection ``number``: "pass" or the fault's action."""
        mode = self.mode
        if mode == "reset":
            return "reset" if self._random.random() < self.reset_share else "pass"
        if mode == "5xx":
            return "5xx" if (time.monotonic() - self._started) % self.period_s < self.burst_s else "pass"
        if mode == "flap":
            return "pass" if int((time.monotonic() - self._started) / self.flap_s) % 2 == 0 else "down"
        return mode

    def _handle(self, client: socket.socket, number: int) -> None:
        action = self._fault(number)
        self.faulted += action != "pass"
        try:
            if action in ("down", "reset"):
                _reset(client)
                return
            if action in ("garbage", "5xx"):
                _read_request(client)
                body = b'{"translations": ["half an answ' if action == "garbage" else b'{"detail": "overloaded"}'
                status = b"200 OK" if action == "garbage" else b"503 Service Unavailable"
                client.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                               + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
                client.close()
                return
            if action == "latency":
                time.sleep(self.latency_s)
            upstream = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            client.close()
            return
        self._pump(client, upstream, drip=action == "drip", corrupt=action == "corrupt")

    def _pump(self, client: socket.socket, upstream: socket.socket, drip: bool, corrupt: bool = False) -> None:
        pair = {client: upstream, upstream: client}
        answered = 0  # bytes of the answer so far
        try:
            while pair:
                readable, _, _ = select.select(list(pair), [], [], 30)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if corrupt and sock is upstream and answered <= self.corrupt_at < answered + len(data):
                        at = self.corrupt_at - answered
                        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
                    answered += len(data) if sock is upstream else 0
                    if drip and sock is upstream:
                        for i in range(0, len(data), self.drip_bytes):
                            client.sendall(data[i: i + self.drip_bytes])
                            time.sleep(self.drip_interval_s)
                    else:
                        pair[sock].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()


def _reset(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0): the peer sees "connection reset"."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _read_request(sock: socket.socket) -> None:
    """Read one HTTP request (headers and Content-Length body) so that the answer is not a reset."""
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return
        body += chunk
