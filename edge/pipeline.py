"""The pipeline: frames → detect → track → OCR → translate → render, one ``FrameResult`` per frame.

This version runs the stages in line on each frame it takes: the detector runs on each frame, each
line is read, and all new lines of a frame are translated in one batch (the translation cache
answers lines already seen). In analysis mode it takes every frame; in real-time mode
(``run(..., realtime=True)``) frames arrive at the video's own pace and the ones that arrive while
a frame is being processed are dropped (recorded, with ``dropped: true``). Stage timings are kept
per frame and for the summary.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from edge.capture import FrameSource, offer
from edge.detect import TextDetector
from edge.ocr import Recognizer
from edge.render import Overlay, RenderOptions, draw_overlay
from edge.track import IouTracker
from edge.translate import Translator

STAGES = ("detect", "ocr", "translate", "render")


@dataclass
class Region:
    id: int
    box: tuple[int, int, int, int]  # [x, y, w, h] in original-frame pixels
    text: str
    ocr_conf: float
    translation: str | None = None
    translation_source: str | None = None  # "local", "cache", "cloud" or None

    def record(self) -> dict:
        return {"id": self.id, "box": list(self.box), "text": self.text, "ocr_conf": round(self.ocr_conf, 3),
                "translation": self.translation, "translation_source": self.translation_source}


@dataclass
class FrameResult:
    frame: int
    pts_ms: float
    captured_ms: float  # wall-clock ms since the run started, when the frame entered
    emitted_ms: float | None  # ... when its overlay was produced (None for dropped frames)
    regions: list[Region]
    image: np.ndarray | None  # the annotated frame (None for dropped frames)
    dropped: bool = False
    stage_ms: dict[str, float] = field(default_factory=dict)  # time spent on this frame per stage
    rss_mb: float | None = None  # resident memory when the frame was emitted

    def record(self) -> dict:
        return {"type": "frame", "frame": self.frame, "pts_ms": round(self.pts_ms, 1),
                "captured_ms": round(self.captured_ms, 1),
                "emitted_ms": None if self.emitted_ms is None else round(self.emitted_ms, 1),
                "dropped": self.dropped, "regions": [r.record() for r in self.regions],
                "stage_ms": {k: round(v, 2) for k, v in self.stage_ms.items()},
                "rss_mb": None if self.rss_mb is None else round(self.rss_mb, 1)}


@dataclass
class StageTimes:
    samples: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})

    def add(self, stage: str, ms: float) -> None:
        self.samples[stage].append(ms)

    def percentiles(self) -> dict[str, dict[str, float]]:
        """p50/p95 per stage in ms; an empty ``{}`` for stages that never ran."""
        out = {}
        for stage, values in self.samples.items():
            out[stage] = ({"p50": round(float(np.percentile(values, 50)), 2), "p95": round(float(np.percentile(values, 95)), 2),
                           "n": len(values)} if values else {})
        return out


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_mb() -> float | None:
    """Current resident set size (Linux ``/proc``; None elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE_MB
    except (OSError, IndexError, ValueError):
        return None


class FrameProcessor:
    """What a replay drives: ``process`` one frame, ``run`` over a source (analysis or real-time),
    ``summary`` at the end. The pipeline and the benchmarks' naive baseline are both one."""

    engine = "pipeline"

    def __init__(self) -> None:
        self.times = StageTimes()
        self.frames = 0
        self.dropped = 0
        self.started = time.perf_counter()

    def _ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0

    def process(self, index: int, pts_ms: float, image: np.ndarray, captured_ms: float | None = None) -> FrameResult:
        raise NotImplementedError

    def run(self, source: FrameSource, max_frames: int | None = None, realtime: bool = False) -> Iterator[FrameResult]:
        """Process the source lazily, in input order; in real-time mode the frames skipped while busy
        come out as dropped results before the frame that was taken."""
        self.started = time.perf_counter()
        for offered in offer(source, self._ms, realtime, max_frames):
            for index, pts_ms, captured_ms in offered.skipped:
                self.dropped += 1
                yield FrameResult(index, pts_ms, captured_ms, None, [], None, dropped=True)
            yield self.process(offered.frame.index, offered.frame.pts_ms, offered.frame.image, offered.captured_ms)

    def summary(self) -> dict:
        """The event contract's summary record."""
        return {
            "type": "summary", "engine": self.engine, "frames": self.frames + self.dropped, "dropped": self.dropped,
            "wall_s": round(self._ms() / 1000.0, 3), "peak_rss_mb": round(peak_rss_mb(), 1),
            "stage_ms": self.times.percentiles(),
            "cloud": {"requests": 0, "ok": 0, "timeouts": 0, "circuit_open_s": 0},
        }


class Pipeline(FrameProcessor):
    """Wires the stages. ``translator`` is None in OCR-only mode."""

    def __init__(self, detector: TextDetector, recognizer: Recognizer, translator: Translator | None,
                 render_options: RenderOptions | None = None):
        super().__init__()
        self.detector = detector
        self.recognizer = recognizer
        self.translator = translator
        self.render_options = render_options or RenderOptions()
        self.tracker = IouTracker()

    def process(self, index: int, pts_ms: float, image: np.ndarray, captured_ms: float | None = None) -> FrameResult:
        captured = self._ms() if captured_ms is None else captured_ms
        spent: dict[str, float] = {}
        t0 = time.perf_counter()
        boxes = self.detector.detect(image)
        t1 = time.perf_counter()
        spent["detect"] = (t1 - t0) * 1000
        lines = [(b, self.recognizer.read(image, b.quad)) for b in boxes]
        lines = [(b, line) for b, line in lines if line is not None]
        t2 = time.perf_counter()
        spent["ocr"] = (t2 - t1) * 1000
        ids = self.tracker.assign([b.box for b, _ in lines])
        regions = [Region(i, b.box, line.text, line.conf) for i, (b, line) in zip(ids, lines)]
        if self.translator and regions:
            for region, result in zip(regions, self.translator.translate([r.text for r in regions])):
                region.translation, region.translation_source = result.text, result.source
            spent["translate"] = (time.perf_counter() - t2) * 1000
        t3 = time.perf_counter()
        overlays = [Overlay(r.box, r.translation or r.text, r.translation is not None) for r in regions]
        annotated = draw_overlay(image, overlays, self.render_options)
        spent["render"] = (time.perf_counter() - t3) * 1000
        for stage, ms in spent.items():
            self.times.add(stage, ms)
        self.frames += 1
        return FrameResult(index, pts_ms, captured, self._ms(), regions, annotated, stage_ms=spent, rss_mb=rss_mb())

    def summary(self) -> dict:
        cache = self.translator.cache if self.translator else None
        return {
            **super().summary(),
            "translation_cache": {"entries": len(cache), "hits": cache.hits, "misses": cache.misses} if cache else None,
            "ocr_engine": self.recognizer.engine_name,
        }
