"""Speed and memory of the shipped models, each measured in a fresh process.

Prints: detector ms/frame per shipped size (640×480 frame in, boxes out), translator ms/phrase at
batch 1 and batch 8 per shipped pair (sign texts, beam 2, model only), OCR ms per line crop for both engines
(in-process tesserocr and the pytesseract fallback), load time of each, and resident memory (RSS)
after loading (each row in its own process; the last row loads the whole pipeline).

    python -m benchmarks.bench_models [--threads 2] [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def child(kind: str, threads: int, repeat: int) -> dict:
    """Runs in a fresh interpreter: load a stack of components, time them, report RSS."""
    import numpy as np

    out = {"rss_start_mb": rss_mb()}
    import cv2  # noqa: F401  (the pipeline always has OpenCV loaded)

    from benchmarks.signs import sign_photo
    from edge.detect import DetectorOptions, TextDetector
    from edge.ocr import Recognizer
    from edge.translate import TranslatorOptions, load_translator
    from models.catalog import find
    from models.translator.evaluate import load_sign_texts

    out["rss_imports_mb"] = rss_mb()
    if kind.startswith("detector:"):
        size = kind.split(":")[1]
        start = time.perf_counter()
        detector = TextDetector(find(f"ppocrv4-det-{size}-int8").file("model"), DetectorOptions(threads=threads))
        out["load_ms"] = (time.perf_counter() - start) * 1000
        out["rss_loaded_mb"] = rss_mb()
        image, _ = sign_photo(["Notausgang", "Rauchen verboten", "Bitte warten"], seed=1)
        detector.detect(image)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            detector.detect(image)
            times.append((time.perf_counter() - t) * 1000)
        out["ms_per_frame"] = float(np.median(times))
    elif kind.startswith("translator:"):
        from models.translator.corpus import EVALUATION_SETS
        from models.translator.evaluate import load_notices

        lang = kind.split(":")[1]
        start = time.perf_counter()
        translator = load_translator(TranslatorOptions(source=lang, phrase_table=False))
        out["load_ms"] = (time.perf_counter() - start) * 1000
        out["rss_loaded_mb"] = rss_mb()
        texts = [de for de, _ in load_sign_texts()] if lang == "de" else \
            [text for kind_, text, _ in load_notices(EVALUATION_SETS[lang]) if kind_ == "sign"]
        local = translator.local
        local.translate(texts[:8])
        t = time.perf_counter()
        for text in texts:
            local.translate([text])
        out["ms_per_phrase_batch1"] = (time.perf_counter() - t) * 1000 / len(texts)
        t = time.perf_counter()
        for i in range(0, len(texts) - 7, 8):
            local.translate(texts[i : i + 8])
        out["ms_per_phrase_batch8"] = (time.perf_counter() - t) * 1000 / (len(texts) // 8 * 8)
    elif kind.startswith("ocr:"):
        from edge.ocr import OcrOptions

        engine = kind.split(":")[1]
        start = time.perf_counter()
        recognizer = Recognizer(OcrOptions(engine=engine))
        out["load_ms"] = (time.perf_counter() - start) * 1000
        out["rss_loaded_mb"] = rss_mb()
        detector = TextDetector(find(DetectorOptions().model).file("model"))
        image, _ = sign_photo(["Notausgang", "Rauchen verboten", "Bitte warten"], seed=1)
        quads = [b.quad for b in detector.detect(image)]
        recognizer.read(image, quads[0])
        t = time.perf_counter()
        for _ in range(max(1, repeat // 3)):
            for quad in quads:
                recognizer.read(image, quad)
        out["ms_per_crop"] = (time.perf_counter() - t) * 1000 / (max(1, repeat // 3) * len(quads))
    elif kind == "everything":
        start = time.perf_counter()
        TextDetector(find(DetectorOptions().model).file("model"), DetectorOptions(threads=threads))
        load_translator(TranslatorOptions())
        Recognizer()
        out["load_ms"] = (time.perf_counter() - start) * 1000
        out["rss_loaded_mb"] = rss_mb()
    return out


def measure(kind: str, threads: int, repeat: int) -> dict:
    code = f"import json; from benchmarks.bench_models import child; print(json.dumps(child({kind!r}, {threads}, {repeat})))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="LiteRT threads of the detector")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    print(f"threads={args.threads}")
    print(f"{'component':22} {'load ms':>8} {'RSS after load MB':>18} {'speed':>30}")
    for size in ("320x256", "480x352", "640x480"):
        r = measure(f"detector:{size}", args.threads, args.repeat)
        print(f"{'detector ' + size:22} {r['load_ms']:8.0f} {r['rss_loaded_mb']:18.0f} {r['ms_per_frame']:22.1f} ms/frame")
    from models.catalog import installed_pairs

    for lang in [source for source, target in installed_pairs() if target == "en"]:  # every pair that loads here
        r = measure(f"translator:{lang}", args.threads, args.repeat)
        print(f"{'translator ' + lang + '-en':22} {r['load_ms']:8.0f} {r['rss_loaded_mb']:18.0f} "
              f"{r['ms_per_phrase_batch1']:10.1f} ms/phrase (batch 1), {r['ms_per_phrase_batch8']:.1f} (batch 8)")
    for engine in ("tesserocr", "pytesseract"):
        r = measure(f"ocr:{engine}", args.threads, args.repeat)
        print(f"{'OCR deu ' + engine:22} {r['load_ms']:8.0f} {r['rss_loaded_mb']:18.0f} {r['ms_per_crop']:22.1f} ms/line")
    r = measure("everything", args.threads, args.repeat)
    print(f"{'whole pipeline':22} {r['load_ms']:8.0f} {r['rss_loaded_mb']:18.0f}   "
          f"(imports alone: {r['rss_imports_mb']:.0f} MB; python: {r['rss_start_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
