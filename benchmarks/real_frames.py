"""Real camera frames: word recall of this project's OCR path against RapidOCR's on the ten shared
head-worn-camera frames (``../shared/data/real-frames``), labelled in ``benchmarks/data/real_frames.gt.json``.

Each side runs in its own child process pinned to one core, one after the other: this project as a
user runs it (``ar-translate replay FOLDER --ocr-only --source en``, each photo its own scene), and
RapidOCR (``rapidocr-onnxruntime``, PP-OCRv4 detector at its own input size and its neural line
recognizer, from the ``convert`` extra). Scored by word, case-insensitively: a labelled word counts
once per time it was read; a word read that matches no label of its frame is an extra word (text
invented, or text too small for the labeller). A development set: the labels were written before
any change was tuned on these frames, but changes are now judged on them.

    python -m benchmarks.real_frames [--frames ../shared/data/real-frames]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.readme_table import write_between

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "benchmarks" / "data" / "real_frames.gt.json"
FRAMES = ROOT.parent / "shared" / "data" / "real-frames"
WORD = re.compile(r"[^\W_]{2,}", re.UNICODE)


def words(text: str) -> list[str]:
    """Words of two or more letters or digits that are not all digits, lower-cased."""
    return [w.lower() for w in WORD.findall(text) if not w.isdigit()]


def score(read: dict[str, list[str]], labels: dict[str, list[str]]) -> dict:
    """Recall of the labelled words and the extra words, over every frame."""
    found = extra = 0
    per_frame = {}
    for name, wanted in labels.items():
        want = Counter(w.lower() for w in wanted)
        got = Counter(w for line in read.get(name, []) for w in words(line))
        hit = sum((want & got).values())
        found += hit
        extra += sum((got - want).values())
        per_frame[name] = {"found": hit, "of": sum(want.values()), "read": read.get(name, [])}
    return {"found": found, "of": sum(len(v) for v in labels.values()), "extra_words": extra, "frames": per_frame}


def run_project(frames: Path) -> tuple[dict[str, list[str]], float, float]:
    """Lines read per image, ms per frame and peak RSS of ``ar-translate replay --ocr-only`` on one core."""
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events.jsonl"
        subprocess.run([sys.executable, "-m", "edge", "replay", str(frames), "--ocr-only", "--source", "en", "--cores",
                        "1", "--events", str(events), "--quiet"], check=True, capture_output=True, cwd=ROOT)
        records = [json.loads(line) for line in events.read_text().splitlines()]
    summary = records[-1]
    read = {r["image"]: [g["text"] for g in r["regions"] if g.get("text")] for r in records[:-1] if r.get("image")}
    return read, 1000 * summary["wall_s"] / max(1, summary["frames"]), summary["peak_rss_mb"]


def _rapidocr_child(frames: Path) -> None:
    """In the child: RapidOCR over every frame; prints one JSON line."""
    import cv2
    from rapidocr_onnxruntime import RapidOCR

    from edge.memory import peak_rss_mb

    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
    images = {p.name: cv2.imread(str(p)) for p in sorted(frames.glob("*.jpg"))}
    engine(next(iter(images.values())))  # the first call builds the sessions: not timed
    read, started = {}, time.perf_counter()
    for name, image in images.items():
        result, _ = engine(image)
        read[name] = [text for _, text, _ in (result or [])]
    ms = 1000 * (time.perf_counter() - started) / len(images)
    print(json.dumps({"read": read, "ms": ms, "peak_rss_mb": peak_rss_mb()}))


def run_rapidocr(frames: Path) -> tuple[dict[str, list[str]], float, float]:
    done = subprocess.run([sys.executable, "-m", "benchmarks.real_frames", "--rapidocr-child", "--frames", str(frames)],
                          check=True, capture_output=True, text=True, cwd=ROOT)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return out["read"], out["ms"], out["peak_rss_mb"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=Path, default=FRAMES)
    parser.add_argument("--rapidocr-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--write-docs", action="store_true", help="write the table into docs/ocr.md")
    parser.add_argument("--json", type=Path, help="also write every reading and score here")
    args = parser.parse_args()
    if args.rapidocr_child:
        _rapidocr_child(args.frames)
        return
    labels = json.loads(LABELS.read_text(encoding="utf-8"))["frames"]
    rows = {}
    sides = (("this project (`replay --ocr-only --source en`)", run_project), ("RapidOCR (PP-OCRv4 det + rec)", run_rapidocr))
    for label, run in sides:
        read, ms, rss = run(args.frames)
        rows[label] = {**score(read, labels), "ms_per_frame": round(ms, 1), "peak_rss_mb": round(rss, 1)}
    lines = ["| 10 real frames, 1280×720, one core | words found | extra words | ms per frame | peak RSS |",
             "|---|---|---|---|---|"]
    for label, row in rows.items():
        lines.append(f"| {label} | {row['found']}/{row['of']} | {row['extra_words']} | {row['ms_per_frame']:.0f} | "
                     f"{row['peak_rss_mb']:.0f} MB |")
    table = "\n".join(lines) + "\n"
    print(table, end="")
    if args.write_docs:
        write_between(ROOT / "docs" / "ocr.md", ("<!-- real-frames:start -->", "<!-- real-frames:end -->"), table)
    for label, row in rows.items():
        print(f"\n{label}:")
        for name, frame in row["frames"].items():
            print(f"  {name}: {frame['found']}/{frame['of']}  {frame['read']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
