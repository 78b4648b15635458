"""The device's client of the cloud service: every call has a deadline, retries stay inside it, and a
circuit breaker stops calling a service that keeps failing.

HTTP is spoken over a plain socket (stdlib only on the device) because the deadline is a total one:
library timeouts (http.client, requests, httpx) bound each read, so a server dripping one byte at a
time keeps them waiting for ever. Here every ``recv`` gets only what is left of the deadline, the
TLS handshake too: ``https://`` URLs are spoken through the stdlib ``ssl`` module with certificate
and host-name verification on (the system's CA store, or ``ca_bundle`` for a private cloud) and SNI.

Counters (``CloudStats``) feed the summary's ``cloud`` record: ``requests`` (HTTP attempts, probes
excluded) = ``ok`` + ``timeouts`` + ``errors``.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # ssl is imported where TLS is spoken: an offline device does not hold it (~1 MB resident)
    import ssl

LATENCY_EDGES_MS = (25, 50, 100, 200, 400, 800, 1600)  # request latency histogram bins (upper edges); one more
# bin counts what took longer


def latency_bin(ms: float) -> int:
    return next((i for i, edge in enumerate(LATENCY_EDGES_MS) if ms <= edge), len(LATENCY_EDGES_MS))


class CloudUnavailable(Exception):
    """No answer within the deadline, or a bad one; ``kind`` is "timeout" or "error"."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind


@dataclass
class ClientOptions:
    url: str
    token: str | None = None
    source: str = "de"
    target: str = "en"
    min_attempt_ms: float = 80.0  # no attempt, and no retry, with less time than this left
    max_attempts: int = 3  # per call, inside its deadline
    failures_to_open: int = 3  # consecutive failures that open the breaker
    open_s: float = 2.0  # first open period; doubles on each failed half-open trial ...
    max_open_s: float = 8.0  # ... up to this
    probe_timeout_ms: float = 500.0  # /healthz probe deadline
    max_response_bytes: int = 1 << 20
    ca_bundle: str | None = None  # PEM file of the CA(s) to trust for https (default: the system's store)


def check_options(options: ClientOptions) -> None:
    """A clear error at start, not a silent local-only run: an address the client cannot speak to, a
    token that cannot travel in a header, a CA bundle that is not there."""
    from edge.errors import InputError

    parts = urlsplit(options.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"unsupported cloud URL '{options.url}': use https://host[:port] (or http:// on a "
                         "private network)")
    if options.token is not None and (not options.token.isprintable() or options.token != options.token.strip()):
        raise InputError("the cloud token holds a line break, a control character or surrounding spaces")
    if options.ca_bundle:
        import ssl

        try:
            ssl.create_default_context(cafile=options.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise InputError(f"cannot use CA bundle {options.ca_bundle}: {exc}") from None


@dataclass
class CloudStats:
    requests: int = 0
    ok: int = 0
    timeouts: int = 0
    errors: int = 0
    retries: int = 0
    probes: int = 0
    skipped: int = 0  # calls not made: breaker open, offline, or too little time left
    circuit_open_s: float = 0.0
    bytes_sent: int = 0
    bytes_received: int = 0
    upgraded: int = 0  # regions whose shown answer became the cloud's (set by the router)
    circuit_opened: int = 0  # times the breaker opened ...
    circuit_recovered: int = 0  # ... and closed again after a good half-open trial
    latency_ms_hist: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_EDGES_MS) + 1))  # answered
    # requests by latency (bins: LATENCY_EDGES_MS)

    def record(self) -> dict:
        out = asdict(self)
        out["circuit_open_s"] = round(self.circuit_open_s, 2)
        return out


class CircuitBreaker:
    """closed → (``failures_to_open`` failures in a row) → open → (``open_s`` later) half-open: one
    trial; success closes it, failure opens it again for twice as long (up to ``max_open_s``)."""

    def __init__(self, failures_to_open: int, open_s: float, max_open_s: float, clock=time.monotonic):
        self.failures_to_open, self.base_open_s, self.max_open_s = failures_to_open, open_s, max_open_s
        self.clock = clock
        self.state = "closed"
        self.failures = 0
        self.open_s = open_s
        self.opened_at = 0.0
        self.open_total_s = 0.0
        self.opened = 0  # times it opened
        self.recovered = 0  # times a half-open trial closed it again
        self._trial = False

    def allow(self) -> bool:
        """Whether a call may go out now (in half-open, only the one trial)."""
        if self.state == "open" and self.clock() - self.opened_at >= self.open_s:
            self.open_total_s += self.clock() - self.opened_at
            self.state, self._trial = "half-open", False
        if self.state == "half-open":
            if self._trial:
                return False
            self._trial = True
            return True
        return self.state == "closed"

    def success(self) -> None:
        if self.state == "open":
            self.open_total_s += self.clock() - self.opened_at
        if self.state != "closed":
            self.recovered += 1
        self.state, self.failures, self.open_s = "closed", 0, self.base_open_s

    def failure(self) -> None:
        self.failures += 1
        if self.state == "half-open":
            self.open_s = min(self.max_open_s, self.open_s * 2)
            self._open()
        elif self.state == "closed" and self.failures >= self.failures_to_open:
            self._open()

    def _open(self) -> None:
        self.state, self.opened_at, self._trial = "open", self.clock(), False
        self.opened += 1

    def open_seconds(self) -> float:
        """Time spent open so far, the current open period included."""
        return self.open_total_s + (self.clock() - self.opened_at if self.state == "open" else 0.0)


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP address (127.0.0.0/8, ::1)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(ca_bundle: str | None = None) -> ssl.SSLContext:
    """Certificate and host-name verification on; the system's CA store, or only ``ca_bundle``."""
    import ssl

    return ssl.create_default_context(cafile=ca_bundle)


def tls_for(url: str, ca_bundle: str | None = None) -> ssl.SSLContext | None:
    """``tls_context(ca_bundle)`` for an ``https`` URL, None for plain http."""
    return tls_context(ca_bundle) if urlsplit(url).scheme == "https" else None


def http_call(url: str, method: str, path: str, body: bytes, headers: dict[str, str], deadline: float,
              max_response_bytes: int, sent: Callable[[int], None] = lambda n: None,
              tls: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    """One HTTP/1.1 exchange (``Connection: close``) that ends by ``deadline`` (``time.monotonic()``
    seconds) whatever the server does; returns status and body; ``sent`` hears the bytes sent.
    ``https`` URLs use ``tls`` (default: ``tls_context()``). Raises ``CloudUnavailable``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CloudUnavailable("error", f"unsupported cloud URL '{url}' (https://host:port)")
    secure = parts.scheme == "https"
    host, port = parts.hostname, parts.port or (443 if secure else 80)
    prefix = parts.path.rstrip("/")
    if any(not str(v).isprintable() for v in headers.values()):
        raise CloudUnavailable("error", "a header value holds a line break or a control character")

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CloudUnavailable("timeout", "deadline passed")
        return remaining

    authority = f"[{host}]" if ":" in host else host  # an IPv6 address goes in brackets
    head = [f"{method} {prefix}{path} HTTP/1.1", f"Host: {authority}:{port}", "Connection: close",
            f"Content-Length: {len(body)}"] + [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    try:
        sock = socket.create_connection((host, port), timeout=left())
    except CloudUnavailable:
        raise
    except TimeoutError as exc:
        raise CloudUnavailable("timeout", f"connect: {exc}") from None
    except OSError as exc:
        raise CloudUnavailable("error", f"connect: {exc}") from None
    if secure:
        sock = _handshake(sock, tls or tls_context(), host, left)
    received = bytearray()
    try:
        with sock:
            try:
                sock.settimeout(left())
                sock.sendall(request)
                sent(len(request))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered early (413) and closed: read what it said
            while True:
                sock.settimeout(left())
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
                if len(received) > max_response_bytes:
                    raise CloudUnavailable("error", "response too large")
                if _complete(received):
                    break
    except CloudUnavailable:
        raise
    except TimeoutError:
        raise CloudUnavailable("timeout", "no answer in time") from None
    except OSError as exc:
        raise CloudUnavailable("error", f"connection: {exc}") from None
    return _parse(bytes(received))


def _handshake(raw: socket.socket, context: ssl.SSLContext, host: str, left: Callable[[], float]) -> ssl.SSLSocket:
    """The TLS handshake inside what is left of the deadline; a refused certificate says why."""
    import ssl

    try:
        sock = context.wrap_socket(raw, server_hostname=host, do_handshake_on_connect=False)
        sock.settimeout(left())
        sock.do_handshake()
        return sock
    except ssl.SSLCertVerificationError as exc:
        raw.close()
        raise CloudUnavailable("error", f"TLS: certificate refused for {host}: {exc.verify_message}") from None
    except TimeoutError:
        raw.close()
        raise CloudUnavailable("timeout", "TLS handshake: no answer in time") from None
    except (ssl.SSLError, OSError) as exc:
        raw.close()
        raise CloudUnavailable("error", f"TLS handshake failed ({exc}); is it an https server?") from None


def _complete(data: bytearray) -> bool:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    for line in bytes(data[:end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(data) - end - 4 >= int(value)
    return False


def _parse(data: bytes) -> tuple[int, bytes]:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        raise CloudUnavailable("error", "incomplete HTTP response")
    status_line = data[:end].split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/") or not status_line[1].isdigit():
        raise CloudUnavailable("error", "not an HTTP response")
    return int(status_line[1]), data[end + 4:]


class CloudClient:
    """Calls of the service with a deadline each, retries inside it, and the breaker; thread-safe
    counters. Nothing here runs on the display path: the router calls it from its own thread."""

    def __init__(self, options: ClientOptions):
        check_options(options)
        self.options = options
        self._tls = tls_for(options.url, options.ca_bundle)
        self._stats = CloudStats()
        self.breaker = CircuitBreaker(options.failures_to_open, options.open_s, options.max_open_s)
        self._headers = {"Content-Type": "application/json"}
        if options.token:
            self._headers["Authorization"] = f"Bearer {options.token}"

    @property
    def stats(self) -> CloudStats:
        """The counters, with the breaker's figures brought up to date."""
        self._stats.circuit_open_s = self.breaker.open_seconds()
        self._stats.circuit_opened, self._stats.circuit_recovered = self.breaker.opened, self.breaker.recovered
        return self._stats

    def translate(self, texts: list[str], deadline: float) -> list[str]:
        body = json.dumps({"texts": texts, "source": self.options.source, "target": self.options.target}).encode()

        def valid(answer: dict) -> bool:
            out = answer.get("translations")
            return isinstance(out, list) and len(out) == len(texts) and all(isinstance(t, str) for t in out)

        return self._call("/v1/translate", body, "application/json", deadline, valid)["translations"]

    def recognize(self, image: bytes, deadline: float) -> dict:
        """``{"text", "confidence", "translation"}`` for a JPEG crop of one line."""
        path = f"/v1/recognize?source={self.options.source}&target={self.options.target}"
        return self._call(path, image, "image/jpeg", deadline,
                          lambda a: isinstance(a.get("text"), str) and isinstance(a.get("translation"), str))

    def probe(self) -> bool:
        """GET /healthz with a short deadline: the cheap connectivity check the breaker's half-open
        trial uses before real work is sent."""
        self._stats.probes += 1
        try:
            status, payload = http_call(self.options.url, "GET", "/healthz", b"", {}, time.monotonic() +
                                        self.options.probe_timeout_ms / 1000, 4096, tls=self._tls)
            answer = json.loads(payload)
            return status == 200 and isinstance(answer, dict) and answer.get("status") == "ok"
        except Exception:  # down, or not the service talking (whatever a hostile answer raises)
            return False

    def _call(self, path: str, body: bytes, content_type: str, deadline: float, valid) -> dict:
        headers = {**self._headers, "Content-Type": content_type}
        last = CloudUnavailable("timeout", "no time left for a call")
        made = 0
        for _ in range(self.options.max_attempts):
            if deadline - time.monotonic() < self.options.min_attempt_ms / 1000:
                break
            if not self.breaker.allow():
                last = CloudUnavailable("error", "circuit open")
                break
            if self.breaker.state == "half-open" and not self.probe():  # the trial is a cheap /healthz first
                self.breaker.failure()
                last = CloudUnavailable("error", "service still down")
                break
            self._stats.retries += made > 0
            made += 1
            self._stats.requests += 1
            headers["X-Deadline-Ms"] = str(max(1, int((deadline - time.monotonic()) * 1000)))  # the service gives up too
            started = time.monotonic()
            try:
                status, payload = http_call(self.options.url, "POST", path, body, headers, deadline,
                                            self.options.max_response_bytes, self._count_sent, self._tls)
                self._stats.latency_ms_hist[latency_bin((time.monotonic() - started) * 1000)] += 1
            except CloudUnavailable as exc:
                self._fail(exc.kind)
                last = exc
                continue
            except Exception as exc:  # anything else a hostile server provokes is a failure too: the breaker
                self._fail("error")  # always hears it, and always leaves half-open
                last = CloudUnavailable("error", f"bad response ({type(exc).__name__})")
                continue
            self._stats.bytes_received += len(payload)
            if 400 <= status < 500:  # our request is wrong: retrying will not help, and the service is up
                self._fail("error", breaker=False)
                raise CloudUnavailable("error", f"HTTP {status}: {payload[:200].decode('utf-8', 'replace')}")
            try:
                answer = json.loads(payload) if status == 200 else None
                good = isinstance(answer, dict) and bool(valid(answer))
            except (ValueError, RecursionError, TypeError, AttributeError):  # garbled, or nested to blow the stack
                good = False
            if not good:
                self._fail("error")
                last = CloudUnavailable("error", f"HTTP {status}" if status != 200 else "garbled answer")
                continue
            self._stats.ok += 1
            self.breaker.success()
            return answer
        if not made:
            self._stats.skipped += 1
        raise last

    def _count_sent(self, n: int) -> None:
        self._stats.bytes_sent += n

    def _fail(self, kind: str, breaker: bool = True) -> None:
        if kind == "timeout":
            self._stats.timeouts += 1
        else:
            self._stats.errors += 1
        if breaker:
            self.breaker.failure()
