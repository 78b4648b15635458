"""Shared fixtures: real models loaded once per session, the CLI run as a user runs it."""

from __future__ import annotations

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


def run_cli(*args: str, stdin: str | None = None, cwd: Path | None = None, env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m edge ARGS`` in a child process: exit code, stdout and stderr as a user sees them."""
    return subprocess.run([sys.executable, "-m", "edge", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=timeout)
