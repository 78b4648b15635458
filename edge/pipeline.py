"""The pipeline: frames → track → (keyframes: detect → OCR → translate) → render, one ``FrameResult``
per frame.

The display path tracks the known regions with optical flow and draws them on every frame; the
slow stages run on keyframes only (``edge/scheduler.py``), read only new or changed regions, and
translate every new line of a keyframe in one batch. In analysis mode every frame is processed and
keyframes run in line; in real-time mode (``run(..., realtime=True)``) frames arrive at the video's
own pace, keyframes run on a worker thread, and frames that arrive while the display path is busy
are dropped (recorded, with ``dropped: true``). Stage timings are kept per frame and for the summary.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from cloud_fallback.client import CloudStats
from edge.blocks import BlockBoard, BlockOptions, Line, TextBlock
from edge.capture import FrameSource, offer
from edge.cloud import CloudRoute
from edge.detect import TextDetector
from edge.langid import UNTRANSLATED
from edge.memory import malloc_trim, peak_rss_mb, rss_mb
from edge.ocr import Recognizer
from edge.profiles import DEFAULT, DeviceProfile
from edge.render import Overlay, RenderOptions, draw_overlay
from edge.scheduler import BlockTranslations, Cadence, KeyframeReader, KeyframeResult
from edge.telemetry import TelemetryRecorder
from edge.textnorm import normalise
from edge.track import FlowTracker, TrackerOptions
from edge.translate import Translator, match_surface
from edge.worker import KeyframeWorker

STAGES = ("detect", "ocr", "translate", "track", "render")


@dataclass
class Region:
    id: int
    box: tuple[int, int, int, int]  # [x, y, w, h] in original-frame pixels
    text: str
    ocr_conf: float
    translation: str | None = None
    translation_source: str | None = None  # "local", "cache", "cloud" or None
    block: int | None = None  # the text block it is a line of (``edge/blocks.py``): drawn as part of it
    source_lang: str | None = None  # the language it was read in (``--source auto``: guessed per line)

    def record(self) -> dict:
        return {"id": self.id, "box": list(self.box), "text": self.text, "ocr_conf": round(self.ocr_conf, 3),
                "translation": self.translation, "translation_source": self.translation_source, "block": self.block,
                "source_lang": self.source_lang}


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
    cpu_ms: float | None = None  # CPU time the process had used when the frame was emitted
    name: str | None = None  # the image file it came from (folders and single images)
    blocks: list[TextBlock] = field(default_factory=list)  # lines of one notice, translated together
    plates: list = field(default_factory=list, repr=False)  # what was drawn: ``render.draw_overlay``'s plates

    def record(self) -> dict:
        return {"type": "frame", "frame": self.frame, "pts_ms": round(self.pts_ms, 1),
                "captured_ms": round(self.captured_ms, 1),
                "emitted_ms": None if self.emitted_ms is None else round(self.emitted_ms, 1),
                "dropped": self.dropped, "regions": [r.record() for r in self.regions],
                "blocks": [b.record() for b in self.blocks],
                "stage_ms": {k: round(v, 2) for k, v in self.stage_ms.items()},
                "rss_mb": None if self.rss_mb is None else round(self.rss_mb, 1),
                "cpu_ms": None if self.cpu_ms is None else round(self.cpu_ms, 1)} | ({"image": self.name} if self.name else {})


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


STILL_MOTION_PX = 0.5  # camera motion over the last frame (frame px) under which the camera counts as still
BLOCK_QUESTION = -1  # the region id a text block's question to the cloud carries: its answer is matched by text
TRIM_EVERY_MS = 1000.0  # media time between heap trims: freed frame buffers go back to the system (~5 MB)


class FrameProcessor:
    """What a replay drives: ``process`` one frame, ``run`` over a source (analysis or real-time),
    ``summary`` at the end. The pipeline and the benchmarks' naive baseline are both one."""

    engine = "pipeline"

    def __init__(self) -> None:
        self.times = StageTimes()
        self.frames = 0
        self.dropped = 0
        self.started = time.perf_counter()
        self.pace = 1.0  # real time runs at 1/pace of the video's speed (``ReplayOptions.pace``)

    def _ms(self) -> float:
        """The run's clock in the video's time: wall-clock ms since the start, divided by the pace."""
        return (time.perf_counter() - self.started) * 1000.0 / self.pace

    def process(self, index: int, pts_ms: float, image: np.ndarray, captured_ms: float | None = None,
                new_scene: bool = False) -> FrameResult:
        raise NotImplementedError

    def run(self, source: FrameSource, max_frames: int | None = None, realtime: bool = False) -> Iterator[FrameResult]:
        """Process the source lazily, in input order; in real-time mode the frames skipped while busy
        come out as dropped results before the frame that was taken."""
        self.started = time.perf_counter()
        for offered in offer(source, self._ms, realtime, max_frames, self.pace):
            for index, pts_ms, captured_ms in offered.skipped:
                self.dropped += 1
                yield FrameResult(index, pts_ms, captured_ms, None, [], None, dropped=True)
            frame = offered.frame
            result = self.process(frame.index, frame.pts_ms, frame.image, offered.captured_ms, new_scene=frame.new_scene)
            result.name = frame.name
            yield result

    def summary(self) -> dict:
        """The event contract's summary record."""
        return {
            "type": "summary", "engine": self.engine, "frames": self.frames + self.dropped, "dropped": self.dropped,
            "wall_s": round(time.perf_counter() - self.started, 3), "cpu_s": round(time.process_time(), 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "stage_ms": self.times.percentiles(),
            "cloud": {"requests": 0, "ok": 0, "timeouts": 0, "circuit_open_s": 0},
        }


class Pipeline(FrameProcessor):
    """Wires the stages. ``translator`` is None in OCR-only mode.

    Every frame: track the known regions (optical flow), attach keyframe readings that are ready,
    maybe start a keyframe, render. Detection, OCR and translation run only on keyframes, in line
    in analysis mode and on a worker thread in real-time mode (``edge/scheduler.py``).
    """

    def __init__(self, detector: TextDetector, recognizer: Recognizer, translator: Translator | None,
                 render_options: RenderOptions | None = None, profile: DeviceProfile = DEFAULT,
                 tracker_options: TrackerOptions | None = None, cloud: CloudRoute | None = None,
                 cloud_text_conf: float = 0.85, block_options: BlockOptions | None = None):
        super().__init__()
        self.cloud = cloud  # None: offline (no socket, ever) or no --cloud-url
        self._asked_at: dict[int, float] = {}  # keyframe index → when it was taken (the cloud budget's start)
        self._read_pts: dict[int, float] = {}  # frame index → media time of a frame handed to the worker
        self.profile = profile
        self.render_options = render_options or RenderOptions()
        self.reader = KeyframeReader(detector, recognizer, translator, tracker_options)
        if cloud:
            self.reader.crop_below = cloud_text_conf  # less sure readings go to the cloud as a crop
        self.tracker = FlowTracker(tracker_options, profile.flow_width_px)
        self.cadence = Cadence(profile.keyframe_min_ms, profile.keyframe_max_ms)
        self.recognizer, self.translator = recognizer, translator
        self._worker: KeyframeWorker | None = None
        self._trimmed_ms = 0.0
        self.keyframes = 0
        self.hires_keyframes = 0  # keyframes that also looked for small text in tiles (still camera)
        self._hires_ms = 0.0  # the first tiled look comes hires_every_ms in: the first reading is not delayed
        self.ocr_reads = 0
        self.stale_keyframes = 0  # keyframe results thrown away: taken before a scene change
        self.telemetry: TelemetryRecorder | None = None  # --telemetry: hears every reading and cloud answer
        self.blocks = BlockBoard(block_options)  # the lines of one notice, translated and drawn together
        self._blocks_asked = False  # a translate_blocks job is on the worker

    def run(self, source: FrameSource, max_frames: int | None = None, realtime: bool = False) -> Iterator[FrameResult]:
        self.tracker = FlowTracker(self.tracker.options, self.profile.flow_width_px)
        self._worker = KeyframeWorker(self.reader) if realtime else None
        try:
            yield from super().run(source, max_frames, realtime)
        finally:
            if self._worker:
                self._worker.close()
                self._worker = None
            if self.cloud:
                self.cloud.close()

    def _attach(self, result: KeyframeResult | BlockTranslations, now_ms: float, spent: dict[str, float]) -> None:
        for stage, ms in result.stage_ms.items():
            self.times.add(stage, ms)
            spent[stage] = spent.get(stage, 0.0) + ms
        if isinstance(result, BlockTranslations):
            self._blocks_asked = False
            self.blocks.learn(result.translations)
            for text in result.translations:
                if self.cloud:  # the notice as one text: its lines alone say as little to the cloud as to the device
                    self.cloud.ask(BLOCK_QUESTION, text, None, time.monotonic())
            return
        asked_at = self._asked_at.pop(result.frame, time.monotonic())
        # a region's reading dates from the frame read, not from when the worker's answer arrived: a region
        # read on frame n is due again 50 ms of video after n, so in real time the worker does not idle a
        # frame after each answer (0.6 of the core on the hard walks, 0.7 since)
        read_ms = self._read_pts.pop(result.frame, now_ms)
        self.ocr_reads += result.ocr_reads
        if result.scene != self.tracker.scene:  # taken before a scene change: what it read is not there now
            self.stale_keyframes += 1
            return
        self.tracker.apply(result.readings, result.snapshot, now_ms, result.gone, read_ms)
        if self.telemetry:
            for reading in result.readings:
                if reading.reread and reading.text:
                    self.telemetry.reading(reading.text, reading.ocr_conf, reading.translation_source)
        if self.cloud:
            for reading in result.readings:
                if reading.reread and reading.text and reading.track_id is not None:
                    self.cloud.ask(reading.track_id, reading.text, reading.crop, asked_at)

    def process(self, index: int, pts_ms: float, image: np.ndarray, captured_ms: float | None = None,
                new_scene: bool = False) -> FrameResult:
        """One frame through the display path. ``new_scene``: the frame has nothing to do with the last
        one (a photo of a folder): nothing is carried over, and it is read in line."""
        captured = self._ms() if captured_ms is None else captured_ms
        spent: dict[str, float] = {}
        t0 = time.perf_counter()
        if new_scene:
            self.tracker.reset()
            self.cadence.last_ms = None
        self.tracker.update(image, pts_ms)
        spent["track"] = (time.perf_counter() - t0) * 1000
        if self._worker:
            for result in self._worker.poll():
                self._attach(result, pts_ms, spent)
        if self.cloud:
            self._take_cloud_answers()
        # real time: a notice waiting for its translation goes to the worker first (a few ms of model time)
        if not self._ask_blocks(index) and (self._worker is None or self._worker.idle):
            job = self._next_job(index, pts_ms, image)
            if job and self.cloud:
                self._asked_at[index] = time.monotonic()
            if job and self._worker and not new_scene:
                self._read_pts[index] = pts_ms
                self._worker.submit(job[0], index, image.copy(), *job[1:], scene=self.tracker.scene)
            elif job:
                if new_scene and job[0] == "read":  # a photo: small text matters, the whole of it in tiles
                    job = (*job[:3], True, False)
                result = getattr(self.reader, job[0])(index, image, *job[1:])
                result.scene = self.tracker.scene
                self._attach(result, pts_ms, spent)
        regions = self._regions(image.shape)
        blocks = self._text_blocks(index, image, regions, spent)
        t1 = time.perf_counter()
        overlays = [Overlay(b.box, b.translation, True, len(b.regions), tuple(r.box for r in regions if r.block == b.id))
                    for b in blocks if b.translation]
        overlays += [Overlay(r.box, r.translation or r.text, r.translation is not None) for r in regions
                     if r.block is None and r.translation_source not in UNTRANSLATED]
        plates: list = []
        annotated = draw_overlay(image, overlays, self.render_options, plates)
        spent["render"] = (time.perf_counter() - t1) * 1000
        self.times.add("track", spent["track"])
        self.times.add("render", spent["render"])
        if malloc_trim and pts_ms - self._trimmed_ms >= TRIM_EVERY_MS:
            malloc_trim(0)
            self._trimmed_ms = pts_ms
        self.frames += 1
        return FrameResult(index, pts_ms, captured, self._ms(), regions, annotated, stage_ms=spent, rss_mb=rss_mb(),
                           cpu_ms=time.process_time() * 1000, blocks=blocks, plates=plates)

    def _ask_blocks(self, index: int) -> bool:
        """Hand the block texts waiting for a translation to the worker, when it is free (real time); whether
        it was."""
        if self._worker is None or not self._worker.idle or not self.blocks.missing or self._blocks_asked:
            return False
        self._blocks_asked = True
        self._worker.submit("translate_blocks", index, self.blocks.missing, scene=self.tracker.scene)
        return True

    def _text_blocks(self, index: int, image: np.ndarray, regions: list[Region], spent: dict[str, float]) -> list[TextBlock]:
        """Group the shown lines into text blocks (``edge/blocks.py``) and give each its translation: known,
        translated now (analysis mode), or asked of the worker (real time; meanwhile ``BlockBoard.show``).
        A block with a line still being read waits for it."""
        if self.translator is None:
            self.blocks.missing = []
            return []
        reading = [Line(t.id, box, "") for t in self.tracker.being_read() if (box := self._clipped(t.box, image.shape))]
        found = self.blocks.group(image, [Line(r.id, r.box, r.text) for r in regions if r.translation], reading)
        if self.blocks.missing and self._worker is None:
            self._attach(self.reader.translate_blocks(index, self.blocks.missing), 0.0, spent)
        self._ask_blocks(index)
        members = {rid: block.id for block in found for rid in block.ids}
        for region in regions:
            region.block = members.get(region.id)
        return self.blocks.show(found)

    def _take_cloud_answers(self) -> None:
        """Cloud answers for regions still showing the text they were asked about replace the local ones;
        an answer about a text block (``BLOCK_QUESTION``) replaces the block's translation."""
        for answer in self.cloud.poll():
            if answer.track_id == BLOCK_QUESTION:
                self.cloud.stats.upgraded += self.blocks.upgrade(answer.asked, match_surface(answer.asked, answer.translation))
                continue
            track = self.tracker.tracks.get(answer.track_id)
            if track is None or track.text is None or normalise(track.text) != normalise(answer.asked) \
                    or not answer.translation.strip():
                continue
            if self.telemetry:
                self.telemetry.cloud_answer(answer.text, track.translation, answer.translation)
            track.text = answer.text
            track.translation, track.translation_source = match_surface(answer.text, answer.translation), "cloud"
            self.cloud.stats.upgraded += 1

    def _next_job(self, index: int, pts_ms: float, image: np.ndarray) -> tuple | None:
        """A keyframe (detect and read) when the cadence says so; else a re-read, where they are, of
        regions whose reading is not settled; else nothing."""
        motion = self.tracker.motion
        if self.tracker.scene_changed:  # a cut or a whip pan: the next steady frame is read
            return None
        dim = self.reader.low_light  # the last frame read was dark: fewer keyframes, more reads of what is tracked
        waiting = dim and self.cadence.last_ms is not None and pts_ms - self.cadence.last_ms < self.profile.dim_keyframe_ms
        if not waiting and self.cadence.due(pts_ms, self.tracker.motion_px, self.tracker.pending_count()):
            self.cadence.taken(pts_ms)
            self.keyframes += 1
            every = self.profile.hires_every_ms
            hires = every > 0 and self.tracker.motion_px < STILL_MOTION_PX and pts_ms - self._hires_ms >= every
            if hires:  # the camera is still: look for small text at full resolution now and then
                self._hires_ms = pts_ms
                self.hires_keyframes += 1
            return ("read", self.tracker.snapshot(), motion, False, hires)
        unsettled = self.tracker.unsettled(pts_ms, self.profile.dim_reread_ms if dim else self.cadence.min_ms)
        if unsettled:
            for track in unsettled:
                track.read_ms = pts_ms  # asked for: not again before the answer
            regions = [(t.snapshot(), self.tracker.quad_now(t)) for t in unsettled]
            return ("reread", regions, motion)
        return None

    @staticmethod
    def _clipped(box, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
        """``box`` in whole pixels, clipped to the frame; None when less than 2 px of it is in the frame."""
        height, width = shape[:2]
        x, y, w, h = box
        x0, y0 = max(0, int(round(x))), max(0, int(round(y)))
        x1, y1 = min(width, int(round(x + w))), min(height, int(round(y + h)))
        return (x0, y0, x1 - x0, y1 - y0) if x1 - x0 >= 2 and y1 - y0 >= 2 else None

    def _regions(self, shape: tuple[int, ...]) -> list[Region]:
        """The regions shown in this frame: tracked, read as text; boxes clipped to the frame. A region whose
        text lies in a band of its (loose) box is drawn over that band, not over the wall around the sign."""
        return [Region(track.id, box, track.text, track.ocr_conf, track.translation, track.translation_source,
                       source_lang=track.lang)
                for track in self.tracker.tracks.values()
                if track.shown and (box := self._clipped(_letters_box(track.box, track.band), shape))]

    def summary(self) -> dict:
        cache = self.translator.cache if self.translator else None
        return {
            **super().summary(),
            "translation_cache": {"entries": len(cache), "hits": cache.hits, "misses": cache.misses,
                                  "bundle_hits": self.translator.bundle.hits if self.translator.bundle else None}
            if cache is not None else None,  # an empty cache is falsy: it still reports its zeros
            "rules": self.translator.rules_summary() if self.translator else None,
            "ocr_engine": self.recognizer.engine_name,
            "keyframes": self.keyframes, "hires_keyframes": self.hires_keyframes, "block_translations": self.blocks.translated,
            "dim_keyframes": self.reader.dim_keyframes, "ocr_reads": self.ocr_reads,
            "scene_changes": self.tracker.scene, "stale_keyframes": self.stale_keyframes,
            "region_events": dict(sorted(self.tracker.transitions.items())),
            "profile": self.profile.name,
            "cloud": {**self.cloud.stats.record(), "mode": "offline" if self.cloud.offline.is_set() else "online"}
            if self.cloud else {**CloudStats().record(), "mode": "off"},
        }


def _letters_box(box, band: tuple[float, float] | None):
    """The part of ``box`` between ``band``'s top and bottom (fractions of its height); the box when None."""
    if band is None:
        return box
    x, y, w, h = box
    return (x, y + band[0] * h, w, (band[1] - band[0]) * h)
