"""Shared fixtures: real models loaded once per session, the CLI run as a user runs it."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO_VIDEO = ROOT / "edge" / "assets" / "demo_de.mp4"
DEMO_GT = ROOT / "edge" / "assets" / "demo_de.gt.json"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, tmp_path_factory, monkeypatch):
    """Each test gets its own user model dir, so pulls never leak between tests; the phrase
    table's SQLite copy is built once per session in a shared cache folder."""
    home = tmp_path / "ar-home"
    monkeypatch.setenv("AR_TRANSLATE_HOME", str(home))
    monkeypatch.setenv("AR_TRANSLATE_CACHE", str(tmp_path_factory.getbasetemp() / "ar-cache"))
    return home


@pytest.fixture(scope="session")
def detector():
    from edge.detect import TextDetector
    from models.catalog import find

    return TextDetector(find("ppocrv4-det-480x352-int8").file("model"))


@pytest.fixture(scope="session")
def recognizer():
    from edge.ocr import OcrOptions, Recognizer

    return Recognizer(OcrOptions(language="de"))


@pytest.fixture(scope="session")
def translator():
    """The shipped de→en model (session-wide: tests that pull models use their own processes)."""
    from edge.translate import TranslatorOptions, load_translator

    return load_translator(TranslatorOptions(source="de", target="en"))


REFERENCE_MS_PER_FRAME = 11.0  # the demo's first 30 frames, every frame, on this project's machines (x86-64)


@functools.cache
def machine_pace() -> float:
    """How many times slower than this project's machines (x86-64, 2 cores) this one runs the pipeline:
    1 there (and anywhere under twice as slow), about 20 in the emulated arm64 root. Tests that replay
    in real time do it at this pace (``ReplayOptions.pace``: the video slowed and every deadline
    stretched as much), so they check what the pipeline does, not how fast this machine is.
    ``AR_TRANSLATE_TEST_PACE`` sets it."""
    if os.environ.get("AR_TRANSLATE_TEST_PACE"):
        return float(os.environ["AR_TRANSLATE_TEST_PACE"])
    from edge.replay import ReplayOptions, replay

    summary = replay(ReplayOptions(str(DEMO_VIDEO), max_frames=30, offline=True, progress=False))
    ratio = 1000.0 * summary["wall_s"] / summary["frames"] / REFERENCE_MS_PER_FRAME
    return round(ratio, 1) if ratio >= 2 else 1.0


def run_cli(*args: str, stdin: str | None = None, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m edge ARGS`` in a child process: exit code, stdout and stderr as a user sees them.
    ``timeout`` is for this project's machines: a slower one gets ``machine_pace()`` times longer."""
    return subprocess.run([sys.executable, "-m", "edge", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=timeout * machine_pace())


def replay_sign_photo(folder: Path, lang: str, signs: list[tuple[str, str]], seed: int,
                      profile: str | None = None) -> dict[str, dict]:
    """A street photo of three signs (text, colour scheme), blurred and noisy as a camera's, replayed
    offline with ``--source lang`` (and ``--profile``): the first frame's regions by the text read."""
    import json

    import cv2
    import numpy as np

    from benchmarks.signs import SignStyle, background, degrade, paste_sign

    rng = np.random.default_rng(seed)
    image = background(900, 520, rng)
    for (text, scheme), at in zip(signs, [(300, 110), (420, 250), (380, 400)], strict=True):
        paste_sign(image, text, SignStyle(text_px=40, scheme=scheme), at, rng)
    picture, events = folder / "street.png", folder / "e.jsonl"
    cv2.imwrite(str(picture), degrade(image, rng, blur_px=0.5, noise_sigma=3))
    result = run_cli("replay", str(picture), "--source", lang, "--offline", "--events", str(events),
                     *(["--profile", profile] if profile else []))
    assert result.returncode == 0, result.stderr
    return {r["text"]: r for r in json.loads(events.read_text().splitlines()[0])["regions"]}
