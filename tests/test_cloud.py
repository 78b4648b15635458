"""The cloud fallback: the real service (``ar-translate serve`` in a child process on 127.0.0.1), the
device's client, and real-time replays through a fault-injecting TCP proxy."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest

from benchmarks.faultproxy import FaultProxy
from benchmarks.faults import TOKEN, run_case, service
from benchmarks.load import parse_metrics, rss_mb
from benchmarks.signs import SignStyle, render_sign
from cloud_fallback.client import CircuitBreaker, ClientOptions, CloudClient, CloudUnavailable, http_call
from tests.conftest import DEMO_VIDEO, machine_pace, run_cli

FRAMES = 120  # 8 s of the demo in real time per replay


@pytest.fixture(scope="module")
def cloud():
    with service() as (url, proc):
        yield url


def call(url: str, path: str, body: bytes = b"", token: str | None = TOKEN, ctype: str = "application/json",
         method: str = "POST") -> tuple[int, dict | str]:
    headers = {"Content-Type": ctype, **({"Authorization": f"Bearer {token}"} if token else {})}
    status, payload = http_call(url, method, path, body, headers, time.monotonic() + 30, 1 << 22)
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode()


def texts(*items: str) -> bytes:
    return json.dumps({"texts": list(items), "source": "de", "target": "en"}).encode()


def sign_png(text: str) -> bytes:
    """A line crop as a device sends it: the sign font, black on white. (OpenCV's Hershey font was too
    close a call for the neural reader: "Platform" read "PLATFORM" on one CPU and "PLAFORM" on another.)"""
    image, _ = render_sign(text, SignStyle().font, "black-on-white", 40)
    return cv2.imencode(".png", image)[1].tobytes()


def test_service_translates_with_the_shipped_model(cloud, translator):
    status, answer = call(cloud, "/v1/translate", texts("Ausgang", "Kein Eingang"))
    assert status == 200
    assert answer["translations"] == [t.text for t in translator.translate(["Ausgang", "Kein Eingang"])]
    assert answer["model"] == translator.model_name
    pairs = ["de-en", "es-en", "fr-en", "it-en"]
    assert call(cloud, "/healthz", method="GET", token=None) == (200, {"status": "ok", "pairs": pairs, "model": "default"})
    status, spec = call(cloud, "/openapi.json", method="GET", token=None)
    assert status == 200 and {"/v1/translate", "/v1/recognize"} <= set(spec["paths"])


@pytest.mark.parametrize("token", [None, "wrong"])
def test_service_refuses_a_missing_or_wrong_token(cloud, token):
    status, answer = call(cloud, "/v1/translate", texts("Ausgang"), token=token)
    assert status == 401 and answer["detail"] in ("missing bearer token", "wrong token")


@pytest.mark.parametrize("body, status, detail", [
    (b"{not json", 422, "malformed request"),
    (json.dumps({"texts": "Ausgang"}).encode(), 422, "malformed request"),
    (json.dumps({"texts": ["x" * 1001]}).encode(), 422, "longer than 1000 characters"),
    (json.dumps({"texts": ["Ausgang"] * 65}).encode(), 413, "at most 64"),
    (b"x" * (1 << 20 + 1), 413, "bytes"),
    (json.dumps({"texts": ["Ausgang"], "source": "nl"}).encode(), 404, "no model for nl-en"),
])
def test_service_answers_bad_input_with_a_4xx_and_json(cloud, body, status, detail):
    got, answer = call(cloud, "/v1/translate", body)
    assert got == status and detail in answer["detail"]
    if status == 404:
        assert answer["available"] == ["de-en", "es-en", "fr-en", "it-en"]


def test_service_reads_a_crop_and_refuses_what_is_not_one(cloud):
    status, answer = call(cloud, "/v1/recognize?source=de&target=en", sign_png("Ausgang"), ctype="image/png")
    assert status == 200 and answer["text"] == "Ausgang" and answer["translation"] == "exit"
    assert 0.5 < answer["confidence"] <= 1
    assert call(cloud, "/v1/recognize", b"GIF89a....", ctype="image/jpeg")[0] == 422
    frame = cv2.imencode(".png", np.zeros((1200, 1000, 3), np.uint8))[1].tobytes()  # a frame, not a crop
    status, answer = call(cloud, "/v1/recognize", frame, ctype="image/png")
    assert status == 413 and "1000×1200" in answer["detail"]
    status, answer = call(cloud, "/v1/recognize?source=en&target=en", sign_png("Platform"), ctype="image/png")
    assert status == 200 and answer["text"] == answer["translation"]  # reading only: no en→en model
    assert answer["text"] == "Platform"


def test_service_batches_concurrent_requests_and_counts_them(cloud):
    words = [f"Gleis {n}" for n in range(16)]
    start = threading.Barrier(len(words))
    results = {}

    def one(word):
        start.wait()
        results[word] = call(cloud, "/v1/translate", texts(word))

    threads = [threading.Thread(target=one, args=(w,)) for w in words]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(status == 200 and len(answer["translations"]) == 1 for status, answer in results.values())
    status, metrics = call(cloud, "/metrics", method="GET", token=None)
    assert status == 200
    series = parse_metrics(metrics)
    assert series['ar_translate_requests_total{endpoint="/v1/translate",status="401"}'] >= 1
    batches, batched_texts = series["ar_translate_batch_texts_count"], series["ar_translate_batch_texts_sum"]
    assert batched_texts >= 16
    assert batches < batched_texts  # at least one model call served several requests


def test_client_keeps_its_deadline_against_a_dripping_server(cloud):
    host, port = cloud.split("//")[1].split(":")
    with FaultProxy((host, int(port)), "drip") as proxy:
        client = CloudClient(ClientOptions(proxy.url, token=TOKEN))
        started = time.monotonic()
        with pytest.raises(CloudUnavailable) as caught:
            client.translate(["Ausgang"], deadline=started + 0.5)
        waited = time.monotonic() - started
    assert caught.value.kind == "timeout"
    assert waited < 0.5 + 0.25  # the deadline is total: a byte every 50 ms does not extend it
    stats = client.stats
    assert stats.requests == stats.ok + stats.timeouts + stats.errors == 1


def test_breaker_opens_after_failures_and_recovers_through_a_probe(cloud):
    host, port = cloud.split("//")[1].split(":")
    with FaultProxy((host, int(port)), "down") as proxy:
        client = CloudClient(ClientOptions(proxy.url, token=TOKEN, open_s=0.3, max_attempts=1))
        for _ in range(3):
            with pytest.raises(CloudUnavailable):
                client.translate(["Ausgang"], time.monotonic() + 1)
        assert client.breaker.state == "open"
        connections = proxy.connections
        with pytest.raises(CloudUnavailable, match="circuit open"):
            client.translate(["Ausgang"], time.monotonic() + 1)
        assert proxy.connections == connections  # open: no connection at all
        time.sleep(0.35)
        with pytest.raises(CloudUnavailable, match="still down"):  # half-open probe fails: open again, longer
            client.translate(["Ausgang"], time.monotonic() + 1)
        assert client.breaker.state == "open" and client.breaker.open_s == pytest.approx(0.6)
        proxy.mode = "pass"
        time.sleep(0.65)
        assert client.translate(["Ausgang"], time.monotonic() + 5) == ["exit"]
    stats = client.stats
    assert client.breaker.state == "closed" and stats.circuit_recovered == 1 and stats.circuit_opened == 2
    assert stats.requests == stats.ok + stats.timeouts + stats.errors == 4 and stats.ok == 1
    assert stats.probes == 2 and stats.skipped == 2 and stats.circuit_open_s > 0.6


def test_breaker_doubles_its_open_time_up_to_the_cap():
    now = [0.0]
    breaker = CircuitBreaker(2, 1.0, 3.0, clock=lambda: now[0])
    breaker.failure()
    assert breaker.allow()
    breaker.failure()
    assert not breaker.allow()
    for expected in (2.0, 3.0, 3.0):
        now[0] += breaker.open_s
        assert breaker.allow() and not breaker.allow()  # one trial only
        breaker.failure()
        assert breaker.open_s == expected
    now[0] += 3.0
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.open_s == 1.0 and breaker.recovered == 1


@pytest.fixture(scope="module")
def offline_run():
    return run_case("offline", str(DEMO_VIDEO), FRAMES, None, pace=machine_pace())


@pytest.mark.parametrize("case", ["pass", "down", "latency", "reset", "drip", "garbage", "5xx", "flap"])
def test_replay_survives_each_network_fault(cloud, offline_run, case):
    row = run_case(case, str(DEMO_VIDEO), FRAMES, cloud, pace=machine_pace())
    c, shown = row["cloud"], row["sources"]
    assert row["frames"] == FRAMES and row["emitted"] >= 0.9 * FRAMES
    # the display path does not wait for the network: frame latency stays near the offline run's
    assert row["latency_p95_ms"] <= 2 * offline_run["latency_p95_ms"] + 40
    assert c["requests"] == c["ok"] + c["timeouts"] + c["errors"]
    assert c["mode"] == "online"
    if case == "pass":
        assert c["ok"] == c["requests"] > 0 and c["upgraded"] > 0 and shown.get("cloud", 0) > 0
        assert c["bytes_sent"] > 0 and c["circuit_opened"] == 0
        return
    assert shown.get("local", 0) + shown.get("cache", 0) > 0  # local answers are shown
    if case in ("down", "latency", "drip", "garbage"):
        assert c["ok"] == 0 and shown.get("cloud", 0) == 0
        assert c["circuit_opened"] >= 1 and c["circuit_open_s"] > 0
        assert c["requests"] <= 3 * c["circuit_opened"] + 3  # the open breaker stops the calls
        assert c["timeouts" if case in ("latency", "drip") else "errors"] >= 1
    if case == "reset":
        assert c["ok"] >= 1 and c["errors"] + c["retries"] >= 0
    if case in ("5xx", "flap"):  # answers between the bursts / while up (whether one still fits its region is timing)
        assert c["errors"] >= 1 and c["ok"] >= 1


def test_replay_carries_on_when_the_service_is_killed_mid_run(offline_run):
    with service() as (url, proc):
        row = run_case("killed", str(DEMO_VIDEO), FRAMES, url, proc, kill_after_s=3.0, pace=machine_pace())
    c = row["cloud"]
    assert row["emitted"] >= 0.9 * FRAMES
    assert c["ok"] >= 1 and c["upgraded"] >= 1  # upgraded before the kill ...
    assert row["sources"].get("local", 0) + row["sources"].get("cache", 0) > 0  # ... local answers after


def test_offline_opens_no_socket_at_all(cloud):
    """``--offline`` with a cloud URL: an audit hook on ``socket.connect`` sees nothing during the replay."""
    from edge.replay import ReplayOptions, replay

    seen = []
    watching = threading.Event()

    def audit(event, args):
        if watching.is_set() and event in ("socket.connect", "socket.getaddrinfo"):
            seen.append((event, args[1] if len(args) > 1 else args))

    sys.addaudithook(audit)  # hooks cannot be removed: this one only records while ``watching``
    watching.set()
    try:
        summary = replay(ReplayOptions(str(DEMO_VIDEO), realtime=True, pace=machine_pace(), max_frames=45, offline=True,
                                       cloud_url=cloud, progress=False))
        watching.clear()
        assert seen == [] and summary["cloud"]["mode"] == "off" and summary["cloud"]["requests"] == 0
        watching.set()  # the hook does see connections: the same replay online opens some
        summary = replay(ReplayOptions(str(DEMO_VIDEO), realtime=True, pace=machine_pace(), max_frames=45, cloud_url=cloud,
                                       progress=False))
    finally:
        watching.clear()
    assert summary["cloud"]["requests"] > 0 and any(event == "socket.connect" for event, _ in seen)


def test_runtime_offline_switch_stops_cloud_calls(cloud):
    from edge.cloud import CloudRoute

    client = CloudClient(ClientOptions(cloud, token=TOKEN))
    route = CloudRoute(client, budget_ms=5000)
    try:
        route.ask(1, "Ausgang", None, time.monotonic())
        deadline = time.monotonic() + 10
        while not (answers := route.poll()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [(a.track_id, a.translation) for a in answers] == [(1, "exit")]
        route.offline.set()
        route.ask(2, "Eingang", None, time.monotonic())
        time.sleep(0.3)
        assert route.poll() == [] and client.stats.requests == 1
        route.offline.clear()
        route.ask(3, "Eingang", None, time.monotonic())
        deadline = time.monotonic() + 10
        while not (answers := route.poll()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [(a.track_id, a.translation) for a in answers] == [(3, "entrance")]
    finally:
        route.close()


def test_pair_without_a_local_model_goes_cloud_only_and_shows_the_text_offline(cloud, monkeypatch, tmp_path):
    """A device without the pair's model (faked: every machine here has the shipped de→en model)."""
    from edge import replay as replay_module
    from edge.errors import UnsupportedLanguagePair
    from edge.replay import ReplayOptions, replay

    def no_model(options):
        raise UnsupportedLanguagePair("no translation model for de→en on this device")

    monkeypatch.setattr(replay_module, "load_translator", no_model)
    monkeypatch.setenv("AR_TRANSLATE_CLOUD_TOKEN", TOKEN)
    shown = {}
    for offline in (False, True):
        events = tmp_path / f"offline-{offline}.jsonl"
        replay(ReplayOptions(str(DEMO_VIDEO), realtime=True, pace=machine_pace(), max_frames=60, cloud_url=cloud, offline=offline,
                             events=events, progress=False))
        records = [json.loads(line) for line in events.read_text().splitlines()]
        shown[offline] = [(r["text"], r["translation"], r["translation_source"])
                          for f in records if f["type"] == "frame" for r in f.get("regions", [])]
    # the source text until the cloud's answer arrives, then the cloud's answer; never a local one
    assert {src for _, _, src in shown[False]} == {"cloud", None}
    assert ("Ausgang", "exit", "cloud") in shown[False] or ("Eingang", "entrance", "cloud") in shown[False]
    assert shown[True] and all(translation is None and text for text, translation, _ in shown[True])
    with pytest.raises(UnsupportedLanguagePair):  # without a cloud service it is still an error
        replay(ReplayOptions(str(DEMO_VIDEO), max_frames=5, progress=False))


def test_a_failing_recognizer_answers_a_json_503_never_a_500(tmp_path, monkeypatch):
    """A broken Tesseract language file (a truncated pull) makes OCR fail in the service: /v1/recognize says
    503 in JSON, as /v1/translate does when its model fails, and translation keeps working."""
    broken = tmp_path / "home" / "models" / "tesseract-deu"
    broken.mkdir(parents=True)
    (broken / "deu.traineddata").write_bytes(b"\0" * 4096)
    monkeypatch.setenv("AR_TRANSLATE_HOME", str(tmp_path / "home"))
    with service() as (url, _):
        status, answer = call(url, "/v1/recognize?source=de&target=en", sign_png("Ausgang"), ctype="image/png")
        assert status == 503 and answer["detail"].startswith("recognizer unavailable"), (status, answer)
        status, answer = call(url, "/v1/translate", texts("Ausgang"))
        assert status == 200 and answer["translations"] == ["exit"]


def test_serve_refuses_a_public_address_without_a_token_and_never_prints_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "AR_TRANSLATE_SERVER_TOKEN"}
    result = run_cli("serve", "--host", "0.0.0.0", "--port", "9", env=env, timeout=60)
    assert result.returncode == 1 and "refusing to serve on 0.0.0.0 without a token" in result.stderr
    assert "token:" not in result.stderr.split("refusing", 1)[0]
    empty = tmp_path / "empty"
    empty.write_text("\n")
    result = run_cli("serve", "--host", "0.0.0.0", "--port", "9", "--token-file", str(empty), env=env, timeout=60)
    assert result.returncode == 1 and "is empty" in result.stderr


def test_a_token_file_and_protected_docs(tmp_path):
    secret = tmp_path / "token"
    secret.write_text("from-the-file\n")  # as Docker writes a secret
    with service(token="from-the-environment", extra_args=["--token-file", str(secret), "--protect-docs"]) as (url, _):
        assert call(url, "/v1/translate", texts("Ausgang"), token="from-the-file")[0] == 200
        assert call(url, "/v1/translate", texts("Ausgang"), token="from-the-environment")[0] == 401
        assert call(url, "/metrics", token=None, method="GET")[0] == 401
        status, metrics = call(url, "/metrics", token="from-the-file", method="GET")
        assert status == 200 and "ar_translate" in metrics
        assert call(url, "/healthz", token=None, method="GET")[0] == 200  # the probe stays open


def test_a_flood_gets_429_or_503_with_retry_after_never_a_500_and_memory_stays_flat():
    """80 clients at once, each with 64 texts, against a service admitting 8 requests and queueing 128 texts:
    the overflow is refused at once with Retry-After, what is admitted is answered, memory does not grow with
    the flood, and a request whose deadline (X-Deadline-Ms) passes gets 503."""
    slow = machine_pace()  # a slower machine answers slower: the deadlines are stretched as much
    limits = ["--max-inflight", "8", "--max-queued-texts", "128", "--request-deadline-ms", str(int(5000 * slow))]
    with service(extra_args=limits) as (url, proc):
        assert call(url, "/v1/translate", texts("Ausgang"))[0] == 200  # the model is loaded
        before = rss_mb(proc.pid)
        body = json.dumps({"texts": [f"Bitte nicht rauchen {i}" for i in range(64)], "source": "de", "target": "en"})
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
        answers: list[tuple[int, bytes]] = []

        def one():
            answers.append(http_call(url, "POST", "/v1/translate", body.encode(), headers, time.monotonic() + 60 * slow,
                                     1 << 22))

        for _ in range(3):  # three waves
            threads = [threading.Thread(target=one) for _ in range(80)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        statuses = [status for status, _ in answers]
        assert set(statuses) <= {200, 429, 503} and statuses.count(200) >= 3, sorted(set(statuses))
        assert statuses.count(429) + statuses.count(503) >= 100  # most of the flood was turned away at once
        refused = [payload for status, payload in answers if status != 200]
        assert all(json.loads(p)["detail"] for p in refused)
        assert rss_mb(proc.pid) - before < 60  # memory flat: nothing unbounded queued
        fresh = json.dumps({"texts": [f"Der Zug nach Berlin fällt heute aus {i}" for i in range(64)]}).encode()  # not cached
        late = urllib.request.Request(f"{url}/v1/translate", data=fresh, method="POST",
                                      headers={**headers, "X-Deadline-Ms": "1"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(late, timeout=30 * slow)
        assert refused.value.code == 503 and refused.value.headers["Retry-After"] == "1"
        assert "deadline passed" in json.loads(refused.value.read())["detail"]
        status, _ = http_call(url, "POST", "/v1/translate", texts("Ausgang"), headers, time.monotonic() + 30 * slow, 1 << 22)
        assert status == 200  # and it serves again once the flood is over


def test_a_notice_over_several_lines_is_asked_of_the_cloud_as_one_text(cloud, detector, recognizer, translator):
    from edge.cloud import CloudRoute
    from edge.pipeline import Pipeline
    from edge.profiles import get_profile
    from edge.translate import match_surface
    from tests.test_blocks import LINES, notice

    image, _ = notice(LINES)
    client = CloudClient(ClientOptions(cloud, token=TOKEN))
    pipeline = Pipeline(detector, recognizer, translator, profile=get_profile("pi4"), cloud=CloudRoute(client, 5000))
    try:
        result = pipeline.process(0, 0.0, image)
        (block,) = result.blocks
        assert block.translation_source in ("local", "cache")  # the device first (the shared translator may know it)
        deadline = time.monotonic() + 20
        for index in range(1, 400):
            result = pipeline.process(index, index * 66.7, image)
            if result.blocks and result.blocks[0].translation_source == "cloud" or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert result.blocks[0].translation_source == "cloud"
        served = client.translate([block.text], time.monotonic() + 10)[0]  # what the service makes of the whole notice
        assert result.blocks[0].translation == match_surface(block.text, served)
        assert client.stats.upgraded >= 1
    finally:
        pipeline.cloud.close()
