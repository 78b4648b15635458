"""The device talks TLS to the cloud: the real service serves https on 127.0.0.1 with certificates from a
CA this test creates; the client verifies the chain and the host name, inside its deadline, and every
kind of refusal is a clear error that leaves the device running locally."""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.faults import TOKEN, free_port, service
from benchmarks.tlscerts import make_pki
from cloud_fallback.client import ClientOptions, CloudClient, CloudUnavailable
from edge.errors import InputError
from tests.conftest import DEMO_VIDEO, machine_pace, run_cli


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA and three server certificates: for 127.0.0.1, for another host, and one that expired."""
    return make_pki(tmp_path_factory.mktemp("pki"))


def https_service(pki, label: str):
    return service(extra_args=["--tls-cert", str(pki / f"{label}.pem"), "--tls-key", str(pki / f"{label}.key")])


def client(url: str, ca: str | None) -> CloudClient:
    return CloudClient(ClientOptions(url, token=TOKEN, ca_bundle=ca, failures_to_open=100))


def test_the_client_translates_over_https_with_the_private_ca_and_a_replay_gets_cloud_answers(pki, tmp_path):
    with https_service(pki, "good") as (url, _):
        secure = url.replace("http://", "https://")
        device = client(secure, str(pki / "ca.pem"))
        assert device.translate(["Ausgang"], time.monotonic() + 5 * machine_pace()) == ["exit"]
        assert device.probe() and device.stats.ok == 1
        events = tmp_path / "e.jsonl"
        result = run_cli("replay", str(DEMO_VIDEO), "--max-frames", "60", "--cloud-url", secure, "--cloud-ca",
                         str(pki / "ca.pem"), "--events", str(events), "--quiet", "--pace", str(machine_pace()),
                         env={**os.environ, "AR_TRANSLATE_CLOUD_TOKEN": TOKEN})
        assert result.returncode == 0, result.stderr
        summary = json.loads(events.read_text().splitlines()[-1])
        assert summary["cloud"]["ok"] >= 1 and summary["cloud"]["errors"] == 0 and summary["cloud"]["mode"] == "online"


@pytest.mark.parametrize("label, ca, reason", [
    ("good", None, "certificate refused for 127.0.0.1"),  # the system's store does not know the test CA
    ("other-host", "ca.pem", "certificate refused for 127.0.0.1"),
    ("expired", "ca.pem", "certificate has expired"),
])
def test_a_certificate_that_does_not_verify_is_refused_with_a_clear_reason(pki, label, ca, reason):
    with https_service(pki, label) as (url, _):
        device = client(url.replace("http://", "https://"), str(pki / ca) if ca else None)
        started = time.monotonic()
        with pytest.raises(CloudUnavailable) as refused:
            device.translate(["Ausgang"], time.monotonic() + 3)
        assert reason in str(refused.value) and refused.value.kind == "error", str(refused.value)
        assert time.monotonic() - started < 3 and device.stats.errors >= 1 and device.stats.ok == 0


def test_a_plain_http_server_behind_an_https_url_is_refused_inside_the_deadline(pki):
    with service() as (url, _):
        device = client(url.replace("http://", "https://"), str(pki / "ca.pem"))
        with pytest.raises(CloudUnavailable, match="TLS handshake failed"):
            device.translate(["Ausgang"], time.monotonic() + 3)


def test_unsupported_addresses_and_header_breaking_tokens_fail_at_start(tmp_path):
    for url in ("ftp://host/x", "host:8080", "https://"):
        with pytest.raises(InputError, match="unsupported cloud URL"):
            CloudClient(ClientOptions(url))
    with pytest.raises(InputError, match="line break"):
        CloudClient(ClientOptions("https://cloud.example.org", token="abc\r\nX-Evil: 1"))
    with pytest.raises(InputError, match="cannot use CA bundle"):
        CloudClient(ClientOptions("https://cloud.example.org", ca_bundle=str(tmp_path / "missing.pem")))
    result = run_cli("replay", str(DEMO_VIDEO), "--max-frames", "2", "--cloud-url", "ftp://example.org", "--quiet")
    assert result.returncode == 1 and "unsupported cloud URL" in result.stderr


class JsonPeer(BaseHTTPRequestHandler):
    """A minimal HTTP peer answering JSON bytes (subclasses say which)."""

    def _send(self, body: bytes):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Hostile(JsonPeer):
    """Answers every POST with JSON nested 100,000 deep (RecursionError in a naive client), /healthz
    with a healthy answer, so the breaker's half-open trial goes through."""

    def do_GET(self):  # noqa: N802
        self._send(b'{"status": "ok"}')

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(b"[" * 100_000 + b"]" * 100_000)


def test_a_hostile_answer_counts_as_a_failure_and_the_breaker_always_leaves_half_open():
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Hostile)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        device = CloudClient(ClientOptions(f"http://127.0.0.1:{port}", max_attempts=1, failures_to_open=1, open_s=0.05))
        with pytest.raises(CloudUnavailable):
            device.translate(["Ausgang"], time.monotonic() + 3)
        assert device.breaker.state == "open" and device.stats.errors == 1
        time.sleep(0.06)
        with pytest.raises(CloudUnavailable):  # the half-open trial: probe passes, the answer is hostile again
            device.translate(["Ausgang"], time.monotonic() + 3)
        assert device.breaker.state == "open" and device.stats.errors == 2  # back to open, not stuck half-open
    finally:
        httpd.shutdown()


def test_a_replay_whose_cloud_certificate_is_refused_keeps_translating_locally(pki, tmp_path):
    with https_service(pki, "expired") as (url, _):
        events = tmp_path / "e.jsonl"
        result = run_cli("replay", str(DEMO_VIDEO), "--max-frames", "45", "--cloud-url", url.replace("http://", "https://"),
                         "--cloud-ca", str(pki / "ca.pem"), "--events", str(events), "--quiet", "--pace", str(machine_pace()),
                         env={**os.environ, "AR_TRANSLATE_CLOUD_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in events.read_text().splitlines()]
    summary = records[-1]
    assert summary["cloud"]["ok"] == 0 and summary["cloud"]["errors"] >= 1 and summary["frames"] == 45
    shown = [r for f in records[:-1] for r in f["regions"] if r["translation"]]
    assert shown and all(r["translation_source"] in ("local", "cache") for r in shown)


class HostEcho(JsonPeer):
    def do_GET(self):  # noqa: N802
        self._send(json.dumps({"status": "ok", "host": self.headers.get("Host")}).encode())


def test_an_ipv6_cloud_host_is_bracketed_in_the_host_header():
    import socket

    from cloud_fallback.client import http_call

    class V6(ThreadingHTTPServer):
        address_family = socket.AF_INET6

    try:
        httpd = V6(("::1", 0), HostEcho)
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        port = httpd.server_address[1]
        status, body = http_call(f"http://[::1]:{port}", "GET", "/healthz", b"", {}, time.monotonic() + 5, 4096)
        assert status == 200 and json.loads(body)["host"] == f"[::1]:{port}"
    finally:
        httpd.shutdown()
