"""Accuracy of reading and translating signs, with the figures the README reports.

1. Rendered German signs (every sign text × 3 seeds; 4 fonts, 5 colour schemes, ±10° rotation,
   perspective up to 6 %, blur, noise, cap height 22–44 px): share read with CER ≤ 0.1, and share
   whose translation of what was read equals the model's translation of the true text.
2. Photos with three signs each, and text-free photos: signs found (CER ≤ 0.1), regions read on
   text-free photos (should be 0).
3. The demo video (an events file from ``ar-translate replay``): per ground-truth segment, the best
   CER seen and whether a translation was shown.

    python -m benchmarks.accuracy [--events out/demo.events.jsonl]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.metrics import cer
from benchmarks.signs import FONTS, SCHEMES, SignStyle, sign_photo, text_free_scene
from models.translator.evaluate import load_sign_texts

DEMO_GT = Path(__file__).resolve().parents[1] / "edge" / "assets" / "demo_de.gt.json"


def rendered_signs(seeds: int = 3):
    """(image, true text) for every sign text under ``seeds`` different renderings."""
    texts = [de for de, _ in load_sign_texts()]
    fonts, schemes = list(FONTS), list(SCHEMES)
    for rep in range(seeds):
        rng = np.random.default_rng(11 + rep)
        for i, text in enumerate(texts):
            style = SignStyle(font=fonts[(i + rep) % len(fonts)], scheme=schemes[(i // len(fonts) + rep) % len(schemes)],
                              text_px=int(rng.integers(22, 44)), rotation_deg=float(rng.uniform(-10, 10)),
                              perspective=float(rng.uniform(0, 0.06)))
            image, _ = sign_photo([text], seed=100 + i + 1000 * rep, styles=[style])
            yield image, text


def read_lines(detector, recognizer, image, still: bool = False) -> list[str]:
    """The lines read in ``image``; ``still``: detected as the pipeline detects a photo (tiles)."""
    boxes = detector.detect_tiled(image, detector.options.still_scale) if still else detector.detect(image)
    return [line.text for line in (recognizer.read(image, b.quad) for b in boxes) if line]


def sign_accuracy(detector, recognizer, translator) -> dict:
    read_ok = translated_same = total = 0
    for image, text in rendered_signs():
        total += 1
        lines = read_lines(detector, recognizer, image)
        best = min(lines, key=lambda t: cer(t, text), default="")
        if lines and cer(best, text) <= 0.1:
            read_ok += 1
            ours, truth = translator.translate([best, text])
            translated_same += ours.text.lower() == truth.text.lower()
    return {"signs": total, "read_cer_le_0.1": read_ok / total,
            "translation_same_as_true_text": translated_same / max(1, read_ok)}


def photo_accuracy(detector, recognizer, photos: int = 20) -> dict:
    texts = [de for de, _ in load_sign_texts()]
    found = total = 0
    for seed in range(photos):
        chosen = [texts[(seed * 3 + k) % len(texts)] for k in range(3)]
        image, placed = sign_photo(chosen, seed=3000 + seed)
        lines = read_lines(detector, recognizer, image, still=True)
        for sign in placed:
            total += 1
            found += any(cer(t, sign.text) <= 0.1 for t in lines)
    false_regions = 0
    for seed in range(photos):
        false_regions += len(read_lines(detector, recognizer, text_free_scene(4000 + seed), still=True))
    return {"photo_signs": total, "photo_signs_found": found / total, "text_free_photos": photos,
            "regions_on_text_free_photos": false_regions}


def demo_accuracy(events: Path, gt_path: Path = DEMO_GT) -> dict:
    gt = json.loads(gt_path.read_text())
    frames = {r["frame"]: r for r in map(json.loads, events.read_text().splitlines()) if r["type"] == "frame"}
    rows = []
    for seg in gt["segments"]:
        regions = [r for f in range(seg["first_frame"], seg["last_frame"] + 1) for r in frames.get(f, {}).get("regions", [])]
        best = min(regions, key=lambda r: cer(r["text"], seg["text"]), default=None)
        rows.append({"text": seg["text"], "best_cer": cer(best["text"], seg["text"]) if best else 1.0,
                     "translation": best["translation"] if best else None})
    return {"segments": rows, "read": sum(r["best_cer"] <= 0.1 for r in rows) / len(rows),
            "mean_best_cer": float(np.mean([r["best_cer"] for r in rows]))}


def main() -> None:
    from edge.detect import DetectorOptions, TextDetector
    from edge.ocr import Recognizer
    from edge.translate import TranslatorOptions, load_translator
    from models.catalog import find

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=Path, help="events of a replay of the demo video")
    args = parser.parse_args()
    detector = TextDetector(find(DetectorOptions().model).file("model"))
    recognizer = Recognizer()
    translator = load_translator(TranslatorOptions())
    signs = sign_accuracy(detector, recognizer, translator)
    print(f"rendered signs: {signs['signs']}, read with CER ≤ 0.1: {100 * signs['read_cer_le_0.1']:.1f} %, "
          f"translation of the reading = translation of the true text: {100 * signs['translation_same_as_true_text']:.1f} %")
    photos = photo_accuracy(detector, recognizer)
    print(f"photos with 3 signs: {photos['photo_signs']} signs, found {100 * photos['photo_signs_found']:.1f} %; "
          f"regions read on {photos['text_free_photos']} text-free photos: {photos['regions_on_text_free_photos']}")
    if args.events:
        demo = demo_accuracy(args.events)
        print(f"demo video: {100 * demo['read']:.0f} % of {len(demo['segments'])} signs read (CER ≤ 0.1), "
              f"mean best CER {demo['mean_best_cer']:.3f}")
        for row in demo["segments"]:
            print(f"    {row['text']:22} best CER {row['best_cer']:.2f}  → {row['translation']}")


if __name__ == "__main__":
    main()
