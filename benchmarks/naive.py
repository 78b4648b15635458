"""Full-frame baselines, scored the same way as the pipeline.

- ``naive``, the version everyone writes first: every frame → full-frame Tesseract
  (``pytesseract.image_to_data``, words grouped into lines), the same Tesseract language.
- ``rapidocr``, the best open OCR this project measured against (``rapidocr-onnxruntime``: PP-OCRv4
  detector and neural line reader, one thread): every frame read on its own.

Both translate every line with the same on-device model (phrase table + CTranslate2, as the
pipeline's local tier) and draw the same overlay. No tracking, no cache. They write the event
contract, so ``benchmarks.score`` and the report treat them like the pipeline.

    python -m benchmarks.naive VIDEO --events OUT.jsonl [--engine rapidocr] [--realtime] [--max-frames N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from edge.memory import rss_mb
from edge.ocr import tesseract_language
from edge.pipeline import FrameProcessor, FrameResult, Region
from edge.render import Overlay, RenderOptions, draw_overlay
from edge.translate import TranslatorOptions, load_translator

MIN_WORD_CONF = 30  # Tesseract word confidence (0–100) a word needs to count


class FullFrameBaseline(FrameProcessor):
    """Read the whole frame (``read_lines``), translate every line, draw it: every frame."""

    engine = "full frame"

    def __init__(self, source: str = "de", target: str = "en"):
        super().__init__()
        # The same model and phrase table as the pipeline; the router's cache is bypassed.
        self.translator = load_translator(TranslatorOptions(source=source, target=target)).local
        self.render_options = RenderOptions()

    def read_lines(self, image: np.ndarray) -> list[tuple[tuple[int, int, int, int], str, float]]:
        raise NotImplementedError

    def process(self, index: int, pts_ms: float, image: np.ndarray, captured_ms: float | None = None,
                new_scene: bool = False) -> FrameResult:
        captured = self._ms() if captured_ms is None else captured_ms
        spent: dict[str, float] = {}
        t0 = time.perf_counter()
        lines = self.read_lines(image)
        t1 = time.perf_counter()
        spent["ocr"] = (t1 - t0) * 1000
        regions = [Region(n + 1, box, text, conf) for n, (box, text, conf) in enumerate(lines)]
        if regions:
            for region, translation in zip(regions, self.translator.translate([r.text for r in regions])):
                region.translation, region.translation_source = translation, "local"
            spent["translate"] = (time.perf_counter() - t1) * 1000
        t2 = time.perf_counter()
        annotated = draw_overlay(image, [Overlay(r.box, r.translation or r.text, True) for r in regions], self.render_options)
        spent["render"] = (time.perf_counter() - t2) * 1000
        for stage, ms in spent.items():
            self.times.add(stage, ms)
        self.frames += 1
        return FrameResult(index, pts_ms, captured, self._ms(), regions, annotated, stage_ms=spent, rss_mb=rss_mb())


class NaiveBaseline(FullFrameBaseline):
    engine = "naive"

    def __init__(self, source: str = "de", target: str = "en"):
        super().__init__(source, target)
        import pytesseract

        self._tesseract = pytesseract
        code, tessdata = tesseract_language(source)
        self.language, self._config = code, f'--tessdata-dir "{tessdata}"'

    def read_lines(self, image: np.ndarray) -> list[tuple[tuple[int, int, int, int], str, float]]:
        """(box, text, confidence 0–1) per text line Tesseract finds in the whole frame."""
        data = self._tesseract.image_to_data(image[:, :, ::-1], lang=self.language, config=self._config,
                                             output_type=self._tesseract.Output.DICT)
        lines: dict[tuple[int, int, int], list[int]] = {}
        for i, word in enumerate(data["text"]):
            if word.strip() and float(data["conf"][i]) >= MIN_WORD_CONF:
                lines.setdefault((data["block_num"][i], data["par_num"][i], data["line_num"][i]), []).append(i)
        out = []
        for words in lines.values():
            text = " ".join(data["text"][i].strip() for i in words)
            if sum(c.isalpha() for c in text) < 2:
                continue
            x0 = min(data["left"][i] for i in words)
            y0 = min(data["top"][i] for i in words)
            x1 = max(data["left"][i] + data["width"][i] for i in words)
            y1 = max(data["top"][i] + data["height"][i] for i in words)
            conf = sum(float(data["conf"][i]) for i in words) / len(words) / 100.0
            out.append(((int(x0), int(y0), int(x1 - x0), int(y1 - y0)), text, conf))
        return out

    def summary(self) -> dict:
        return {**super().summary(), "ocr_engine": "pytesseract (full frame)"}


class RapidOCRBaseline(FullFrameBaseline):
    engine = "rapidocr"

    def __init__(self, source: str = "de", target: str = "en"):
        super().__init__(source, target)
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:
            from edge.errors import RuntimeMissing

            raise RuntimeMissing("the RapidOCR baseline needs rapidocr-onnxruntime: pip install 'ar-translate[convert]'") from exc
        self._engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

    def read_lines(self, image: np.ndarray) -> list[tuple[tuple[int, int, int, int], str, float]]:
        result, _ = self._engine(image)
        out = []
        for quad, text, conf in result or []:
            if sum(c.isalpha() for c in text) < 2:
                continue
            quad = np.asarray(quad, np.float32)
            (x0, y0), (x1, y1) = quad.min(axis=0), quad.max(axis=0)
            out.append(((int(x0), int(y0), int(x1 - x0), int(y1 - y0)), text, float(conf)))
        return out

    def summary(self) -> dict:
        return {**super().summary(), "ocr_engine": "RapidOCR 1.4 (PP-OCRv4 det + rec, full frame)"}


BASELINES = {"naive": NaiveBaseline, "rapidocr": RapidOCRBaseline}


def main(argv: list[str] | None = None) -> int:
    from edge.errors import ArTranslateError
    from edge.replay import ReplayOptions, print_summary, replay

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input")
    parser.add_argument("--source", default="de")
    parser.add_argument("--target", default="en")
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--engine", choices=sorted(BASELINES), default="naive", help="which baseline")
    parser.add_argument("--realtime", action="store_true")
    parser.add_argument("--pace", type=float, default=1.0, help="with --realtime: the video N times slower")
    parser.add_argument("--max-frames", type=int)
    parser.add_argument("--cores", type=int, help="run on at most this many CPU cores")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    options = ReplayOptions(input=args.input, source=args.source, target=args.target, events=args.events,
                            max_frames=args.max_frames, realtime=args.realtime, cores=args.cores, offline=True,
                            pace=args.pace,
                            progress=not args.quiet)
    try:
        print_summary(replay(options, build=lambda: BASELINES[args.engine](args.source, args.target)), options)
    except ArTranslateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
