"""The command line as a user drives it: replay, the event contract, translate, models, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.metrics import cer
from benchmarks.signs import SignStyle, sign_photo
from tests.conftest import DEMO_GT, DEMO_VIDEO, ROOT, machine_pace, run_cli

FRAME_KEYS = {"type", "frame", "pts_ms", "captured_ms", "emitted_ms", "dropped", "regions"}
REGION_KEYS = {"id", "box", "text", "ocr_conf", "translation", "translation_source"}
SUMMARY_KEYS = {"type", "frames", "dropped", "wall_s", "peak_rss_mb", "stage_ms", "cloud"}


def validate_events(path: Path, expected_frames: int) -> list[dict]:
    """Check every record against ARCHITECTURE.md's event contract; returns the frame records."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    frames, summary = records[:-1], records[-1]
    assert [r["frame"] for r in frames] == list(range(expected_frames))
    previous_emit = 0.0
    for record in frames:
        assert FRAME_KEYS <= record.keys() and record["type"] == "frame"
        assert record["dropped"] is False
        assert 0 <= record["captured_ms"] <= record["emitted_ms"] and record["emitted_ms"] >= previous_emit
        previous_emit = record["emitted_ms"]
        for region in record["regions"]:
            assert REGION_KEYS <= region.keys()
            assert len(region["box"]) == 4 and all(isinstance(v, int) for v in region["box"])
            assert isinstance(region["id"], int) and 0 <= region["ocr_conf"] <= 1
            assert region["translation_source"] in ("local", "cloud", "cache", None)
            assert (region["translation"] is None) == (region["translation_source"] is None)
    assert SUMMARY_KEYS <= summary.keys() and summary["type"] == "summary"
    assert summary["frames"] == expected_frames and summary["dropped"] == 0
    assert set(summary["stage_ms"]) >= {"detect", "ocr", "translate", "render"}
    assert set(summary["cloud"]) >= {"requests", "ok", "timeouts", "circuit_open_s"}
    return frames


def test_replay_demo_writes_contract_events_and_an_annotated_video(tmp_path):
    events, video = tmp_path / "demo.jsonl", tmp_path / "demo.mp4"
    result = run_cli("replay", str(DEMO_VIDEO), "--offline", "--events", str(events), "--output", str(video),
                     "--max-frames", "120")
    assert result.returncode == 0, result.stderr
    frames = validate_events(events, 120)
    gt = json.loads(DEMO_GT.read_text())
    for segment in (s for s in gt["segments"] if s["last_frame"] < 120):
        span = frames[segment["first_frame"] : segment["last_frame"] + 1]
        readings = [r for f in span for r in f["regions"] if cer(r["text"], segment["text"]) <= 0.1]
        assert readings, f"{segment['text']} never read"
        assert all(r["translation"] for r in readings)
    ids = {r["text"]: set() for f in frames for r in f["regions"]}
    for f in frames:
        for r in f["regions"]:
            ids[r["text"]].add(r["id"])
    assert min(len(v) for v in ids.values()) == 1  # a steadily read sign keeps one id
    capture = cv2.VideoCapture(str(video))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 120
    assert "detect" in result.stdout and "ms/frame" in result.stdout


def test_ocr_only_on_english_signs_needs_no_translation_model(tmp_path):
    image, _ = sign_photo(["Emergency exit", "No parking"], seed=8, styles=[SignStyle(text_px=38)] * 2)
    path = tmp_path / "english.png"
    cv2.imwrite(str(path), image)
    events = tmp_path / "e.jsonl"
    result = run_cli("replay", str(path), "--source", "en", "--ocr-only", "--events", str(events))
    assert result.returncode == 0, result.stderr
    (frame,) = validate_events(events, 1)
    assert sorted(r["text"] for r in frame["regions"]) == ["Emergency exit", "No parking"]
    assert all(r["translation"] is None for r in frame["regions"])


def test_translate_arguments_one_line_each():
    result = run_cli("translate", "--source", "de", "--target", "en", "Notausgang", "Rauchen verboten")
    assert result.returncode == 0, result.stderr
    assert result.stdout.lower().splitlines() == ["emergency exit", "no smoking"]


def test_translate_streams_a_line_out_per_line_in():
    """Another program writes one line and reads the answer before writing the next."""
    process = subprocess.Popen([sys.executable, "-m", "edge", "translate", "--source", "de", "--target", "en"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, bufsize=1)
    try:
        answers = []
        for text in ("Ausgang", "", "Eingang"):
            process.stdin.write(text + "\n")
            process.stdin.flush()
            answers.append(process.stdout.readline().rstrip("\n"))
        process.stdin.close()
        assert process.wait(timeout=60 * machine_pace()) == 0
    finally:
        process.kill()
    assert [a.lower() for a in answers] == ["exit", "", "entrance"]


def test_unknown_language_pair_exits_2_and_says_how_to_pull():
    result = run_cli("translate", "--source", "fr", "--target", "ja", "bonjour")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "installed: de→en" in result.stderr and "models pull" in result.stderr


def test_models_list_verify_card():
    listing = run_cli("models", "list")
    assert listing.returncode == 0
    assert "ding-de-en-int8" in listing.stdout and "ppocrv4-det-480x352-int8" in listing.stdout
    verify = run_cli("models", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "ding-de-en-int8: ok" in verify.stdout
    card = run_cli("models", "card", "ding-de-en-int8")
    assert card.returncode == 0 and "chrF" in card.stdout


def bad_inputs(tmp: Path) -> dict[str, Path]:
    (tmp / "empty.mp4").write_bytes(b"")
    (tmp / "text.mp4").write_text("hello, I am not a video\n" * 50)
    (tmp / "emptydir").mkdir()
    return {"missing": tmp / "nope.mp4", "zero-byte": tmp / "empty.mp4", "text-as-mp4": tmp / "text.mp4",
            "empty folder": tmp / "emptydir"}


@pytest.mark.parametrize("case", ["missing", "zero-byte", "text-as-mp4", "empty folder"])
def test_bad_input_one_line_error_nonzero_and_nothing_written(tmp_path, case):
    path = bad_inputs(tmp_path)[case]
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli("replay", str(path), "--events", str(out / "e.jsonl"), "--output", str(out / "v.mp4"))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert list(out.iterdir()) == []


def test_folder_mixing_images_and_junk_processes_the_images(tmp_path):
    image, _ = sign_photo(["Ausgang"], seed=3, styles=[SignStyle(text_px=40)])
    cv2.imwrite(str(tmp_path / "a.png"), image)
    cv2.imwrite(str(tmp_path / "b.jpg"), cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(tmp_path / "c.png"), np.dstack([image, np.full(image.shape[:2], 255, np.uint8)]))
    cv2.imwrite(str(tmp_path / "d.png"), np.zeros((1, 1, 3), np.uint8))
    (tmp_path / "readme.txt").write_text("junk")
    events = tmp_path / "out.jsonl"
    result = run_cli("replay", str(tmp_path), "--events", str(events))
    assert result.returncode == 0, result.stderr
    frames = validate_events(events, 4)
    assert [[r["translation"].lower() for r in f["regions"]] for f in frames] == [["exit"], ["exit"], ["exit"], []]
    assert "readme.txt" in result.stderr


def test_unwritable_output_fails_before_any_frame(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    env = dict(os.environ)
    try:
        if os.geteuid() == 0:  # root writes anywhere: use a path under a file instead
            target = tmp_path / "afile" / "out.jsonl"
            (tmp_path / "afile").write_text("x")
        else:
            target = locked / "out.jsonl"
        result = run_cli("replay", str(DEMO_VIDEO), "--events", str(target), env=env)
    finally:
        locked.chmod(0o700)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot write") and len(result.stderr.strip().splitlines()) == 1


def test_max_frames_must_be_positive():
    result = run_cli("replay", str(DEMO_VIDEO), "--max-frames", "0")
    assert result.returncode == 2 and "max-frames" in result.stderr


def test_python_dash_m_and_console_script_agree():
    result = run_cli("--help")
    assert result.returncode == 0 and "replay" in result.stdout
