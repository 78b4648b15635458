"""Real-time replay's drop accounting, and ``ar-translate bench`` end to end (pipeline vs naive)."""

from __future__ import annotations

import json
import time

import cv2
import numpy as np
import pytest

from benchmarks.scenes import SceneOptions, render
from edge.capture import Frame, FrameSource, offer
from edge.memory import malloc_trim
from tests.conftest import DEMO_VIDEO, run_cli
from tests.test_cli import validate_events


def fast_video(path, frames: int, fps: float):
    """The demo's first frames re-encoded at ``fps``: faster than the pipeline can keep up with."""
    capture = cv2.VideoCapture(str(DEMO_VIDEO))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (640, 480))
    for _ in range(frames):
        writer.write(capture.read()[1])
    writer.release()
    capture.release()
    return path


def test_realtime_feed_hands_over_the_newest_frame_and_reports_the_skipped_ones():
    images = [np.full((8, 8, 3), i, np.uint8) for i in range(30)]
    source = FrameSource("synthetic", 200.0, 30, iter(Frame(i, i * 5.0, img) for i, img in enumerate(images)))
    started = time.perf_counter()
    taken, skipped = [], []
    for offered in offer(source, lambda: (time.perf_counter() - started) * 1000, realtime=True):
        assert int(offered.frame.image[0, 0, 0]) == offered.frame.index
        skipped += [index for index, _, _ in offered.skipped]
        taken.append(offered.frame.index)
        time.sleep(0.02)  # a consumer slower than the 5 ms frame interval
    assert sorted(taken + skipped) == list(range(30)) and not set(taken) & set(skipped)
    assert skipped and taken[0] == 0 and taken[-1] == 29  # the last frame is always shown
    assert taken == sorted(taken)


def test_realtime_replay_drops_what_arrives_while_busy_and_accounts_for_every_frame(tmp_path):
    video = fast_video(tmp_path / "fast.mp4", 40, fps=500.0)  # 2 ms a frame ...
    events = tmp_path / "rt.jsonl"
    # ... on one core, where the first keyframe's ~40 ms of detection and OCR leave the display path no
    # time for a dozen frames (on two idle cores the display path alone, ~1.3 ms, once kept up with all 40)
    result = run_cli("replay", str(video), "--realtime", "--offline", "--cores", "1", "--events", str(events), "--quiet")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in events.read_text().splitlines()]
    frames, summary = records[:-1], records[-1]
    assert [r["frame"] for r in frames] == list(range(40))
    dropped = [r for r in frames if r["dropped"]]
    shown = [r for r in frames if not r["dropped"]]
    assert dropped and summary["dropped"] == len(dropped) and summary["frames"] == 40
    assert all(r["regions"] == [] and r["emitted_ms"] is None for r in dropped)
    assert not frames[0]["dropped"] and not frames[-1]["dropped"]
    for record in shown:  # a frame is offered no earlier than its timestamp, and emitted after it was captured
        assert record["captured_ms"] >= record["pts_ms"] - 1 and record["emitted_ms"] >= record["captured_ms"]
    emitted = [r["emitted_ms"] for r in shown]
    assert emitted == sorted(emitted)
    assert f"{len(dropped)} dropped" in result.stdout


def test_bench_scores_pipeline_and_naive_on_a_generated_scenario_and_writes_the_report(tmp_path):
    gt = render(SceneOptions(seconds=4, signs=2, seed=21, pair_share=0.5, passers_by=1), tmp_path / "scene")
    out = tmp_path / "bench"
    result = run_cli("bench", str(tmp_path / "scene.mp4"), "--gt", str(tmp_path / "scene.gt.json"),
                     "--compare", "naive", "--out", str(out), "--quiet", timeout=600)
    assert result.returncode == 0, result.stderr
    results = json.loads((out / "results.json").read_text())
    keys = {"signs_found", "segments", "mean_cer", "chrf", "ms_per_frame", "frames", "frames_emitted",
            "ttt_p50_ms", "ttt_p95_ms", "peak_rss_mb"}
    for side in ("pipeline", "naive"):
        assert keys <= results[side].keys()
        assert results[side]["frames"] == results[side]["frames_emitted"] == 60
        assert results[side]["segments"] == len(gt["segments"])
        validate_events(out / f"{side}.events.jsonl", 60)
    assert results["pipeline"]["signs_found"] >= 1
    assert results["speedup"] == round(results["naive"]["ms_per_frame"] / results["pipeline"]["ms_per_frame"], 2)
    report = (out / "report.html").read_text()
    assert report.count("<img src='data:image/png;base64,") == 4
    assert "naive" in report and gt["segments"][0]["text"] in report
    assert "speedup" in result.stdout and "report.html" in result.stdout


def test_bench_refuses_ground_truth_of_another_video(tmp_path):
    render(SceneOptions(seconds=2, signs=1, seed=1), tmp_path / "a")
    render(SceneOptions(seconds=3, signs=1, seed=1), tmp_path / "b")
    result = run_cli("bench", str(tmp_path / "a.mp4"), "--gt", str(tmp_path / "b.gt.json"), "--out", str(tmp_path / "o"))
    assert result.returncode == 1 and "describes 45 frames" in result.stderr and "has 30" in result.stderr
    result = run_cli("bench", str(tmp_path / "a.mp4"), "--gt", str(tmp_path / "missing.json"), "--out", str(tmp_path / "o"))
    assert result.returncode == 1 and "cannot read ground truth" in result.stderr
    result = run_cli("bench", str(tmp_path / "a.mp4"), "--gt", str(tmp_path / "a.gt.json"), "--compare", "magic",
                     "--out", str(tmp_path / "o"))
    assert result.returncode == 1 and "unknown comparison 'magic'" in result.stderr


def test_peak_memory_is_the_replays_own_even_when_started_by_a_bigger_parent(tmp_path):
    """Linux carries ``ru_maxrss`` across ``execve``: a replay started by a 400 MB parent reported 400 MB.
    The summary's peak comes from the child's own ``VmHWM``."""
    ballast = bytearray(400 * 2**20)
    ballast[::4096] = b"\1" * len(ballast[::4096])  # touch every page: resident
    events = tmp_path / "e.jsonl"
    result = run_cli("replay", "edge/assets/demo_de.mp4", "--offline", "--max-frames", "3", "--events", str(events), "--quiet")
    assert result.returncode == 0, result.stderr
    summary = json.loads(events.read_text().splitlines()[-1])
    assert 50 < summary["peak_rss_mb"] < 350 and len(ballast) == 400 * 2**20


def test_a_cpu_share_limits_the_benchmarked_child_or_says_why_it_cannot():
    """``bench --cpu-share``: a child in the cgroup gets about its share of a core, measured in the
    child's own CPU time over a busy loop; where no cgroup can be written the error says what is needed."""
    import subprocess
    import sys

    from benchmarks.cpulimit import SHARES, CpuLimit, parse_share
    from edge.errors import RuntimeMissing

    assert parse_share("pi4") == SHARES["pi4"] and parse_share("0.5") == 0.5
    with pytest.raises(ValueError, match="share of one core"):
        parse_share("2")
    try:
        limit = CpuLimit(0.2, name="ar-translate-bench-test")
    except RuntimeMissing as exc:
        assert "needs root and a writable cgroup" in str(exc)
        return
    try:
        started = time.monotonic()
        busy = "import os, time\nt = time.monotonic()\nwhile time.monotonic() - t < 1.5: pass\nprint(os.times().user)"
        done = subprocess.run([sys.executable, "-c", busy], capture_output=True, text=True, preexec_fn=limit.enter,
                              check=True)
        wall = time.monotonic() - started
    finally:
        limit.close()
    assert float(done.stdout) < 0.45 * wall  # about 0.2 of the time; unlimited it would be nearly all of it


def test_board_shares_are_of_this_machines_core_when_sysbench_can_measure_it():
    """``make bench``'s Pi-speed runs: a board's share is its published score over this machine's, measured
    now; without sysbench, the reference machine's shares (and no score) rather than a guess."""
    import shutil

    from benchmarks.cpulimit import PUBLISHED, SHARES, machine_shares

    shares, score = machine_shares(seconds=1)
    if shutil.which("sysbench") is None:
        assert (shares, score) == (SHARES, None)
        return
    assert score > 0
    for name, published in PUBLISHED.items():
        assert shares[name] == round(min(1.0, published / score), 3)


HEAPS_SCRIPT = """
import ctypes, sys, tempfile, threading
from edge.memory import limit_heap_arenas
if sys.argv[1] == "limit":
    assert limit_heap_arenas(1)
def work():
    keep = [bytearray(4096) for _ in range(64)]  # over pymalloc's 512 bytes: glibc malloc, in this thread's arena
threads = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile(suffix=".xml") as out:
    fp = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(fp))
    libc.fclose(ctypes.c_void_p(fp))
    print(open(out.name).read().count("<heap nr="))
"""


@pytest.mark.skipif(malloc_trim is None, reason="needs glibc")
def test_a_budgeted_process_keeps_one_heap_arena_per_core():
    """Threads that allocate each get a glibc heap of their own unless the arenas are limited: under a memory
    budget the pipeline keeps one per core (``limit_heap_arenas``, called by ``apply_cores``)."""
    import subprocess
    import sys

    def heaps(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", HEAPS_SCRIPT, mode], capture_output=True, text=True, check=True)
        return int(done.stdout.strip())

    assert heaps("default") >= 2
    assert heaps("limit") == 1
