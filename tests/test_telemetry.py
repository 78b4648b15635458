"""Opt-in telemetry: counted on the device, spooled, uploaded to the real service on 127.0.0.1
(through a fault proxy when the network fails), aggregated in /metrics and shown on a page that a
real headless browser (Debian's Chromium through Selenium) renders."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time

import pytest

from benchmarks.faultproxy import FaultProxy
from benchmarks.load import parse_metrics
from cloud_fallback.client import http_call
from cloud_fallback.server import BackgroundServer, ServerConfig, create_app
from edge import telemetry
from edge.replay import ReplayOptions, replay
from edge.telemetry import MAX_TEXT, Spool, TelemetryRecorder, upload
from tests.conftest import DEMO_VIDEO, machine_pace

TOKEN = "telemetry-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
def service(tmp_path):
    app = create_app(ServerConfig(token=TOKEN, store=str(tmp_path / "store.sqlite")))
    with BackgroundServer(app) as url:
        yield url


def metrics(url: str) -> dict:
    return parse_metrics(http_call(url, "GET", "/metrics", b"", {}, time.monotonic() + 10, 1 << 22)[1].decode())


def batch(**counters) -> dict:
    recorder = TelemetryRecorder("de-en")
    recorder.reading("Notausgang", 0.95, "local")
    recorder.reading("Ausgng", 0.41, "local")
    recorder.cloud_answer("Halteverbot", "stop ban", "no stopping")
    return recorder.batch({"frames": counters.get("frames", 10), "keyframes": 3, "ocr_reads": 2, "peak_rss_mb": 120.5,
                           "cloud": {"requests": 1, "ok": 1, "latency_ms_hist": [1, 0, 0, 0, 0, 0, 0, 0]}})


def test_telemetry_is_off_by_default_and_offline_opens_no_socket(isolated_home):
    replay(ReplayOptions(str(DEMO_VIDEO), max_frames=30, progress=False))
    assert not (isolated_home / "telemetry").exists()

    seen, watching = [], threading.Event()

    def audit(event, args):
        if watching.is_set() and event in ("socket.connect", "socket.getaddrinfo"):
            seen.append(event)

    sys.addaudithook(audit)  # cannot be removed: records only while ``watching``
    watching.set()
    try:
        summary = replay(ReplayOptions(str(DEMO_VIDEO), max_frames=60, offline=True, cloud_url="http://127.0.0.1:9",
                                       telemetry=True, progress=False))
    finally:
        watching.clear()
    assert seen == [] and summary["telemetry"] == {"spooled": 1, "uploaded": 0}
    sent = json.loads(Spool().pending()[0].read_text())
    assert sent["counters"]["frames"] == 60 and sent["counters"]["keyframes"] == summary["keyframes"]
    assert sum(sent["ocr_conf_hist"]) >= 1 and sent["counters"]["translations_local"] >= 1
    assert set(sent) == {"schema_version", "batch_id", "device", "pair", "profile", "counters", "peak_rss_mb",
                         "ocr_conf_hist", "cloud_latency_ms_hist", "hard_cases"}


def test_upload_counts_once_and_shows_in_metrics(service):
    spool = Spool()
    first = batch(frames=10)
    spool.add(first)
    spool.add(batch(frames=5))
    report = upload(service, TOKEN, spool)
    assert (report.sent, report.left, report.error) == (2, 0, None) and spool.pending() == []
    again = http_call(service, "POST", "/v1/telemetry", json.dumps(first).encode(), HEADERS, time.monotonic() + 10, 1 << 16)
    assert again[0] == 200 and json.loads(again[1])["stored"] is False  # a batch sent twice counts once
    figures = metrics(service)
    assert figures['ar_translate_fleet_events_total{counter="frames"}'] == 15
    assert figures["ar_translate_fleet_batches_total"] == 2 and figures["ar_translate_fleet_devices"] == 1
    assert figures['ar_translate_fleet_ocr_conf_bin_total{le="0.5"}'] == 2  # 0.41, once per batch
    assert figures['ar_translate_fleet_cloud_latency_ms_bin_total{le="25"}'] == 2
    assert figures["ar_translate_fleet_peak_rss_mb"] == 120.5


def test_a_replay_online_uploads_its_batch(service, monkeypatch):
    pace = machine_pace()  # a slower machine gets the cloud's answers as late: every deadline stretched as much
    refused = replay(ReplayOptions(str(DEMO_VIDEO), max_frames=90, cloud_url=service, telemetry=True, progress=False,
                                   pace=pace))
    assert refused["telemetry"]["uploaded"] == 0  # no token on the device: the service says 401 ...
    assert "HTTP 401" in refused["telemetry"]["error"] and refused["telemetry"]["spooled"] == 1  # ... and it waits
    monkeypatch.setenv("AR_TRANSLATE_CLOUD_TOKEN", TOKEN)
    summary = replay(ReplayOptions(str(DEMO_VIDEO), max_frames=90, cloud_url=service, telemetry=True, progress=False,
                                   pace=pace))
    assert summary["telemetry"] == {"spooled": 0, "uploaded": 2, "bytes": summary["telemetry"]["bytes"]}
    figures = metrics(service)
    assert figures['ar_translate_fleet_events_total{counter="frames"}'] == 180
    requests = refused["cloud"]["requests"] + summary["cloud"]["requests"]
    assert figures['ar_translate_fleet_events_total{counter="cloud_requests"}'] == requests
    assert summary["cloud"]["ok"] > 0


def test_a_failed_upload_loses_nothing_and_the_budget_holds(service):
    spool = Spool()
    for _ in range(3):
        spool.add(batch())
    port = int(service.rsplit(":", 1)[1])
    with FaultProxy(("127.0.0.1", port), "down") as proxy:
        report = upload(proxy.url, TOKEN, spool)
    # a reset connection reads as a failed connection or as an answer cut off, by when the reset arrives
    assert (report.sent, report.left) == (0, 3) and len(spool.pending()) == 3
    assert "connect" in report.error or report.error == "incomplete HTTP response", report.error
    size = spool.pending()[0].stat().st_size
    report = upload(service, TOKEN, spool, budget_bytes=size + 10)  # room for one batch
    assert (report.sent, report.left, report.error) == (1, 2, None) and len(spool.pending()) == 2
    assert upload(service, TOKEN, spool).sent == 2 and spool.pending() == []


def test_the_spool_is_bounded_and_counts_what_it_dropped(monkeypatch):
    monkeypatch.setattr(telemetry, "MAX_SPOOL_FILES", 4)
    spool = Spool()
    for _ in range(6):
        spool.add(batch())
    assert len(spool.pending()) == 4 and spool.dropped() == 1  # each add beyond 4 dropped the oldest
    nxt = TelemetryRecorder("de-en").batch({}, spool.dropped())
    assert nxt["counters"]["spool_dropped"] == 1


def test_no_field_can_carry_an_image(service):
    good = batch()
    with_image = {**good, "crop": "iVBORw0KGgoAAAANSUhEUgAA" * 100}
    long_text = {**good, "hard_cases": [{"kind": "ocr_unsure", "text": "A" * (MAX_TEXT + 1), "conf": 0.2}]}
    nested = {**good, "counters": {"frames": 1, "image": 3}}
    wrong_type = {**good, "hard_cases": [{"kind": "ocr_unsure", "text": ["list", "of", "bytes"], "conf": 0.2}]}
    for body in (with_image, long_text, nested, wrong_type):
        status, _ = http_call(service, "POST", "/v1/telemetry", json.dumps(body).encode(), HEADERS,
                              time.monotonic() + 10, 1 << 16)
        assert status == 422
    recorder = TelemetryRecorder("de-en")
    recorder.reading("W" * 5000, 0.1, None)  # a giant reading is cut on the device, not refused
    assert len(recorder.batch({})["hard_cases"][0]["text"]) == MAX_TEXT


@pytest.mark.skipif(not shutil.which("chromedriver"), reason="needs Debian's chromium-driver (make test installs it)")
@pytest.mark.skipif(os.environ.get("AR_TRANSLATE_EMULATED") == "yes",
                    reason="Chromium's renderer dies under qemu-user emulation (benchmarks/arm64.sh); runs natively")
def test_summary_page_in_a_headless_browser(service):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    hostile = batch()
    hostile["hard_cases"].append({"kind": "ocr_unsure", "text": "<script>window.pwned=1</script>", "conf": 0.3})
    assert http_call(service, "POST", "/v1/telemetry", json.dumps(hostile).encode(), HEADERS,
                     time.monotonic() + 10, 1 << 16)[0] == 200
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": f"Bearer {TOKEN}"}})
        driver.get(f"{service}/v1/telemetry/summary")
        assert driver.title == "ar-translate fleet telemetry"
        bars = driver.find_elements(By.CSS_SELECTOR, "#ocr-confidence rect.bar")
        assert len(bars) == 10
        counts = [float(b.get_attribute("data-count")) for b in bars]
        assert counts[4] == 1 and counts[9] == 1 and sum(counts) == 2  # 0.41 and 0.95
        assert float(bars[9].get_attribute("height")) > 0  # drawn, not only listed
        tiers = driver.find_elements(By.CSS_SELECTOR, "#tiers rect.bar")
        assert [float(b.get_attribute("data-count")) for b in tiers] == [2, 0, 1]
        cells = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#ocr_unsure td")]
        assert "<script>window.pwned=1</script>" in cells and "Ausgng" in cells  # shown as text ...
        assert driver.execute_script("return window.pwned === undefined")  # ... never run
        differs = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#cloud_differs td")]
        assert differs[1:4] == ["Halteverbot", "stop ban", "no stopping"]
        png = driver.get_screenshot_as_png()
        assert len(png) > 10_000
    finally:
        driver.quit()
    assert http_call(service, "GET", "/v1/telemetry/summary", b"", {}, time.monotonic() + 10, 1 << 20)[0] == 401
