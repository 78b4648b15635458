"""``ar-translate live`` against a video file standing in for a camera: the browser preview serves
MJPEG on 127.0.0.1, and Ctrl-C (or the page's stop link) ends the run cleanly with its summary."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks.faults import TOKEN, service
from tests.conftest import DEMO_VIDEO, ROOT, machine_pace


@contextmanager
def live(tmp_path, *extra: str, offline: bool = True) -> Iterator[tuple[subprocess.Popen, int]]:
    """``ar-translate live`` on the demo video, headless; yields the process and its preview port, and
    kills it on the way out whatever happened."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}  # headless
    env["AR_TRANSLATE_CLOUD_TOKEN"] = TOKEN
    process = subprocess.Popen([sys.executable, "-m", "edge", "live", "--camera", str(DEMO_VIDEO),
                                *(["--offline"] if offline else []),
                                "--preview-port", "0", "--events", str(tmp_path / "live.jsonl"), *extra],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60 * machine_pace()  # model loading, slower on a slow machine
        while time.time() < deadline:
            line = process.stderr.readline()
            found = re.search(r"preview: http://127\.0\.0\.1:(\d+)/", line)
            if found:
                yield process, int(found.group(1))
                return
            if not line and process.poll() is not None:
                break
        raise AssertionError("live did not announce its preview address")
    finally:
        process.kill()


def finish(process: subprocess.Popen, sig: int | None = signal.SIGINT) -> str:
    """Send ``sig`` (None: it was told to stop another way), wait for a clean exit; returns stdout."""
    if sig is not None:
        process.send_signal(sig)
    out, err = process.communicate(timeout=30 * machine_pace())
    assert process.returncode == 0, err
    return out


def next_state(process: subprocess.Popen) -> str:
    """The next "online"/"offline" line live prints on stderr (other log lines skipped)."""
    while True:
        line = process.stderr.readline()
        if not line or line.strip() in ("online", "offline"):
            return line.strip()


def read_records(path) -> tuple[list[dict], dict]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return records[:-1], records[-1]


def test_live_serves_mjpeg_and_stops_cleanly_on_ctrl_c(tmp_path):
    with live(tmp_path) as (process, port):
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10 * machine_pace()).read()
        assert b'<img src="/stream">' in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stream", timeout=20 * machine_pace()) as stream:
            assert stream.headers["Content-Type"].startswith("multipart/x-mixed-replace")
            head = stream.read(4096)
        assert head.startswith(b"--frame\r\nContent-Type: image/jpeg") and b"\xff\xd8" in head  # a JPEG frame
        time.sleep(1.0)
        out = finish(process)
    frames, summary = read_records(tmp_path / "live.jsonl")
    assert summary["type"] == "summary" and 0 < summary["frames"] < 300  # stopped early, summary written
    assert [r["frame"] for r in frames] == list(range(summary["frames"]))
    assert summary["dropped"] == sum(r["dropped"] for r in frames)
    assert "frames" in out


def test_live_stops_from_the_preview_page(tmp_path):
    with live(tmp_path, "--profile", "pi4") as (process, port):
        time.sleep(1.0)
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/stop", timeout=10 * machine_pace()).read() == b"stopping\n"
        finish(process, sig=None)
    _, summary = read_records(tmp_path / "live.jsonl")
    assert summary["profile"] == "pi4" and summary["frames"] < 300


def test_live_offline_switch_flips_from_the_page_and_sigusr1(tmp_path):
    pace = machine_pace()  # the video and every deadline slowed as much as this machine is
    with service() as (url, _), live(tmp_path, "--cloud-url", url, "--pace", str(pace), offline=False) as (process, port):
        time.sleep(3.0 * pace)  # online: the first signs are asked about
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/offline", timeout=10 * machine_pace()).read() == b"offline\n"
        process.send_signal(signal.SIGUSR1)
        assert next_state(process) == "online"
        process.send_signal(signal.SIGUSR1)
        assert next_state(process) == "offline"
        time.sleep(0.5)
        finish(process)
    _, summary = read_records(tmp_path / "live.jsonl")
    cloud = summary["cloud"]
    assert cloud["mode"] == "offline" and cloud["requests"] >= 1 and cloud["ok"] == cloud["requests"]
