"""Detector speed and region recall for every converted LiteRT variant (size × precision).

Recall: the share of ground-truth sign text boxes matched (IoU ≥ 0.4) by a detected box, over
seeded rendered photos of 3 signs each (all fonts, colour schemes, ±10° rotation, perspective,
blur, noise). False positives: detected boxes on text-free pictures. Time: median ms per frame
of ``TextDetector.detect`` (inference + post-processing) on a 640×480 frame.

    python -m benchmarks.bench_detector --models models/detector work/detector --photos 40
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.signs import background, degrade, sign_photo
from edge.detect import DetectorOptions, TextDetector
from edge.track import iou
from models.translator.evaluate import load_sign_texts


def photos(count: int) -> list[tuple[np.ndarray, list]]:
    texts = [de for de, _ in load_sign_texts()]
    out = []
    for seed in range(count):
        chosen = [texts[(seed * 3 + k) % len(texts)] for k in range(3)]
        out.append(sign_photo(chosen, seed=1000 + seed))
    return out


def blank_scenes(count: int) -> list[np.ndarray]:
    rngs = [np.random.default_rng(5000 + i) for i in range(count)]
    return [degrade(background(640, 480, rng), rng, blur_px=0.6, noise_sigma=4) for rng in rngs]


def measure(model: Path, scenes, blanks, threads: int) -> dict:
    detector = TextDetector(model, DetectorOptions(threads=threads))
    found = total = 0
    times = []
    for image, placed in scenes:
        start = time.perf_counter()
        boxes = detector.detect(image)
        times.append((time.perf_counter() - start) * 1000)
        for sign in placed:
            total += 1
            found += any(iou(sign.box, b.box) >= 0.4 for b in boxes)
    false_boxes = sum(len(detector.detect(b)) for b in blanks)
    return {"model": model.name, "input": f"{detector.input_w}x{detector.input_h}", "ms_p50": float(np.median(times)),
            "recall": found / max(1, total), "false_boxes": false_boxes, "mb": model.stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, nargs="+", default=[Path("models/detector")])
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    scenes, blanks = photos(args.photos), blank_scenes(10)
    print(f"{'model':40} {'input':8} {'ms/frame':>9} {'recall':>7} {'false boxes/10 blank':>21} {'MB':>6}")
    for folder in args.models:
        for model in sorted(folder.glob("*.tflite")):
            r = measure(model, scenes, blanks, args.threads)
            print(f"{r['model']:40} {r['input']:8} {r['ms_p50']:9.1f} {r['recall']:7.3f} {r['false_boxes']:21d} {r['mb']:6.2f}")


if __name__ == "__main__":
    main()
