"""Detector speed and region recall for every converted LiteRT variant (size × precision).

Recall: the share of ground-truth sign text boxes matched (IoU ≥ 0.4) by a detected box, over
seeded rendered photos of 3 signs each (all fonts, colour schemes, ±10° rotation, perspective,
blur, noise), once with sign-sized text (cap height 26–44 px) and once with small, far text
(11–18 px). False positives: detected boxes on text-free pictures. Time: median ms per frame
of ``TextDetector.detect`` (inference + post-processing) on a 640×480 frame.

    python -m benchmarks.bench_detector --models models/detector work/detector --photos 40
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.signs import random_style, sign_photo, text_free_scene
from edge.detect import DetectorOptions, TextDetector
from edge.regions import iou
from models.translator.evaluate import load_sign_texts


def photos(count: int, text_px: tuple[int, int] = (26, 44)) -> list[tuple[np.ndarray, list]]:
    texts = [de for de, _ in load_sign_texts()]
    out = []
    for seed in range(count):
        rng = np.random.default_rng(seed)
        styles = [random_style(rng, text_px) for _ in range(3)]
        chosen = [texts[(seed * 3 + k) % len(texts)] for k in range(3)]
        out.append(sign_photo(chosen, seed=1000 + seed + text_px[0], styles=styles))
    return out


def blank_scenes(count: int) -> list[np.ndarray]:
    return [text_free_scene(5000 + i) for i in range(count)]


def recall(detector: TextDetector, scenes, times: list[float] | None = None) -> float:
    found = total = 0
    for image, placed in scenes:
        start = time.perf_counter()
        boxes = detector.detect(image)
        if times is not None:
            times.append((time.perf_counter() - start) * 1000)
        for sign in placed:
            total += 1
            found += any(iou(sign.box, b.box) >= 0.4 for b in boxes)
    return found / max(1, total)


def measure(model: Path, scenes, small, blanks, threads: int) -> dict:
    detector = TextDetector(model, DetectorOptions(threads=threads))
    times: list[float] = []
    return {"model": model.name, "input": f"{detector.input_w}x{detector.input_h}",
            "recall": recall(detector, scenes, times), "ms_p50": float(np.median(times)),
            "small_recall": recall(detector, small), "false_boxes": sum(len(detector.detect(b)) for b in blanks),
            "mb": model.stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, nargs="+", default=[Path("models/detector")])
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    scenes, small, blanks = photos(args.photos), photos(args.photos, (11, 18)), blank_scenes(10)
    print("| model | input | ms/frame | recall 26–44 px | recall 11–18 px | false boxes on 10 blank | MB |")
    print("|---|---|---|---|---|---|---|")
    for folder in args.models:
        for model in sorted(folder.rglob("*.tflite")):
            r = measure(model, scenes, small, blanks, args.threads)
            print(f"| {model.relative_to(folder)} | {r['input']} | {r['ms_p50']:.1f} | {r['recall']:.3f} | "
                  f"{r['small_recall']:.3f} | "
                  f"{r['false_boxes']} | {r['mb']:.2f} |")


if __name__ == "__main__":
    main()
