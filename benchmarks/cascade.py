"""The OCR cascade: what the cloud reads on the crops the device is unsure of.

The device sends a line as a small JPEG (``edge/scheduler.py: line_jpeg``, never the frame) when its
reading is less confident than the pipeline's ``cloud_text_conf`` (0.85). Here every such crop is
sent to the real service on 127.0.0.1 (``POST /v1/recognize``; the service reads with both
Tesseract and the neural line reader, ``OcrOptions(engine="best")``), and both readings are scored:

- the standard scenario (German, every 5th frame): against the ground-truth text of the line
  (exact, character error rate);
- the ten real frames (English): truth is per frame, so the labelled words found among the unsure
  crops' readings are counted, device against cloud.

    python -m benchmarks.cascade [--write-docs]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.metrics import cer
from benchmarks.readme_table import write_between
from benchmarks.real_frames import FRAMES, LABELS, words
from benchmarks.scenes import PRESETS, render
from cloud_fallback.client import http_call
from cloud_fallback.server import BackgroundServer, ServerConfig, create_app
from edge.detect import TextDetector
from edge.ocr import OcrOptions, Recognizer
from edge.regions import iou
from edge.scheduler import line_jpeg
from models.catalog import find

ROOT = Path(__file__).resolve().parents[1]
UNSURE_BELOW = 0.85  # the pipeline's cloud_text_conf
TOKEN = "cascade"


def ask(url: str, crop: bytes, source: str) -> tuple[str, float]:
    started = time.perf_counter()
    status, body = http_call(url, "POST", f"/v1/recognize?source={source}&target=en", crop,  # en→en: reading only
                             {"Authorization": f"Bearer {TOKEN}", "Content-Type": "image/jpeg"},
                             time.monotonic() + 30, 1 << 20)
    ms = 1000 * (time.perf_counter() - started)
    return (json.loads(body)["text"] if status == 200 else ""), ms


def unsure_crops(image: np.ndarray, detector: TextDetector, device: Recognizer, tiled: bool):
    """(box, device reading, JPEG) of every line the device reads with less than ``UNSURE_BELOW``."""
    boxes = detector.detect_tiled(image) if tiled else detector.detect(image)
    for box in boxes:
        line = device.read(image, box.quad)
        if line is not None and line.conf < UNSURE_BELOW:
            crop = line_jpeg(image, box.quad)
            if crop:
                yield box, line.text, crop


def standard(url: str, detector: TextDetector, work: Path, every: int) -> dict:
    stem = work / "standard"
    if not stem.with_suffix(".mp4").exists():
        render(PRESETS["standard"], stem)
    gt = json.loads(stem.with_suffix(".gt.json").read_text())
    truth = {f["frame"]: f["regions"] for f in gt["frames"]}
    device = Recognizer(OcrOptions(language="de"))
    rows = []
    video = cv2.VideoCapture(str(stem.with_suffix(".mp4")))
    index = -1
    while True:
        ok, image = video.read()
        index += 1
        if not ok:
            break
        if index % every or not truth.get(index):
            continue
        for box, text, crop in unsure_crops(image, detector, device, tiled=False):
            match = max(truth[index], key=lambda r: iou(box.box, tuple(r["box"])))
            if iou(box.box, tuple(match["box"])) < 0.3:
                continue  # not a labelled sign line (a piece of one, or a false box)
            cloud, ms = ask(url, crop, "de")
            rows.append({"truth": match["text"], "device": text, "cloud": cloud, "bytes": len(crop), "ms": ms})
    return summarise(rows) | {"examples": rows[:8]}


def summarise(rows: list[dict]) -> dict:
    n = len(rows)

    def mean(key):
        return sum(r[key] for r in rows) / n if n else 0.0

    return {"crops": n, "device_exact": sum(r["device"] == r["truth"] for r in rows),
            "cloud_exact": sum(r["cloud"] == r["truth"] for r in rows),
            "device_cer": sum(cer(r["device"], r["truth"]) for r in rows) / max(1, n),
            "cloud_cer": sum(cer(r["cloud"], r["truth"]) for r in rows) / max(1, n),
            "bytes": mean("bytes"), "ms_p50": float(np.median([r["ms"] for r in rows])) if rows else 0.0}


def real_frames(url: str, detector: TextDetector) -> dict:
    labels = json.loads(LABELS.read_text(encoding="utf-8"))["frames"]
    device = Recognizer(OcrOptions(language="en"))
    found = {"device": 0, "cloud": 0}
    rows = []
    for name, wanted in labels.items():
        image = cv2.imread(str(FRAMES / name))
        want = [w.lower() for w in wanted]
        for _, text, crop in unsure_crops(image, detector, device, tiled=True):
            cloud, ms = ask(url, crop, "en")
            rows.append({"device": text, "cloud": cloud, "bytes": len(crop), "ms": ms})
            for side, reading in (("device", text), ("cloud", cloud)):
                found[side] += sum(1 for w in words(reading) if w in want)
    return {"crops": len(rows), "device_words": found["device"], "cloud_words": found["cloud"],
            "bytes": sum(r["bytes"] for r in rows) / max(1, len(rows)),
            "ms_p50": float(np.median([r["ms"] for r in rows])) if rows else 0.0, "examples": rows[:8]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "work" / "bench")
    parser.add_argument("--every", type=int, default=5, help="every Nth frame of the standard scenario")
    parser.add_argument("--write-docs", action="store_true", help="write the table into docs/ocr.md")
    args = parser.parse_args()
    detector = TextDetector(find("ppocrv4-det-480x352-int8").file("model"))
    app = create_app(ServerConfig(token=TOKEN))
    with BackgroundServer(app) as url:
        std = standard(url, detector, args.work, args.every)
        real = real_frames(url, detector)
    table = (
        "| unsure crops (device confidence < 0.85) | crops | device | cloud | JPEG sent | round trip p50 |\n"
        "|---|---|---|---|---|---|\n"
        f"| standard scenario, German, every {args.every}th frame: exact / mean CER | {std['crops']} | "
        f"{std['device_exact']} / {std['device_cer']:.3f} | {std['cloud_exact']} / {std['cloud_cer']:.3f} | "
        f"{std['bytes'] / 1000:.1f} KB | {std['ms_p50']:.0f} ms |\n"
        f"| 10 real frames, English: labelled words read | {real['crops']} | {real['device_words']} | "
        f"{real['cloud_words']} | {real['bytes'] / 1000:.1f} KB | {real['ms_p50']:.0f} ms |\n")
    print(table)
    for label, result in (("standard", std), ("real frames", real)):
        print(label, json.dumps(result["examples"], ensure_ascii=False))
    if args.write_docs:
        write_between(ROOT / "docs" / "ocr.md", ("<!-- cascade:start -->", "<!-- cascade:end -->"), table)


if __name__ == "__main__":
    main()
