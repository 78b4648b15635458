"""``ar-translate replay``: run the pipeline over a file or folder and write the sinks."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from edge.apertium import tiers_private_mb
from edge.capture import open_source
from edge.cloud import CloudRoute
from edge.detect import DetectorOptions, TextDetector
from edge.errors import UnsupportedLanguagePair
from edge.ocr import OcrOptions, Recognizer
from edge.pipeline import STAGES, FrameProcessor, Pipeline
from edge.profiles import DEFAULT, DeviceProfile, allowed_cores, apply_cores, budget_report, get_profile
from edge.sinks import EventLog, open_output
from edge.telemetry import UPLOAD_TIMEOUT_S, Spool, TelemetryRecorder, upload
from edge.translate import TranslatorOptions, load_translator
from models.catalog import find, models_in_use, require_installed


@dataclass
class ReplayOptions:
    input: str
    source: str = "de"
    target: str = "en"
    events: Path | None = None
    output: Path | None = None
    ocr_only: bool = False
    blocks: bool = True  # the lines of one notice are translated as one text (edge/blocks.py); False: line by line
    max_frames: int | None = None
    realtime: bool = False  # offer frames at the video's own fps and drop what arrives while busy
    pace: float = 1.0  # real time at 1/pace of the video's speed, every deadline stretched as much: what a
    # device ``pace`` times faster than this machine would show (a test on an emulated CPU, a slow board)
    sequence: bool = False  # a folder of images is one video's frames (tracked across), not separate photos
    profile: str | None = None  # device profile name (edge/profiles.py); None: the defaults
    cores: int | None = None  # overrides the profile's core count
    memory_budget_mb: float | None = None  # overrides the profile's memory budget
    translation_cache: Path | None = None  # SQLite file keeping translations across runs
    offline: bool = False  # no socket is ever opened: no cloud route exists at all
    cloud_url: str | None = None  # the cloud fallback service (token: $AR_TRANSLATE_CLOUD_TOKEN)
    cloud_budget_ms: float = 1500.0  # a cloud answer is worth having this long after the keyframe was taken
    cloud_ca: str | None = None  # PEM CA bundle for an https cloud URL (None: the system's CA store)
    offline_switch: threading.Event | None = None  # live mode's run-time offline toggle (set: no cloud calls)
    progress: bool = True
    telemetry: bool = False  # opt-in: count this run into a batch and upload waiting batches when online
    telemetry_budget_kb: float = 64.0  # bytes of telemetry sent per run at most


def build_pipeline(source: str, target: str, ocr_only: bool, profile: DeviceProfile = DEFAULT,
                   translation_cache: Path | None = None, cloud: CloudRoute | None = None,
                   cloud_configured: bool = False) -> Pipeline:
    """Load every stage's model once, sized by the profile; raises before any frame when something is missing.
    With a cloud service configured (``cloud_configured``, even offline) a pair with no local model is
    not an error: it goes cloud-only, and shows the source text while offline. Source ``auto``: each line
    is read and translated in the language guessed for it (``edge/autolang.py``)."""
    cores = len(allowed_cores())
    # more threads than cores only contend (LiteRT: 35 against 25 ms per detection on one core)
    detector = DetectorOptions(model=profile.detector, threads=max(1, min(profile.litert_threads, cores)))
    entry = require_installed(find(detector.model))
    if source == "auto":
        from edge.autolang import AutoRecognizer

        # a small profile reads English with Tesseract when English is the target (its lines are only told apart)
        neural = profile.auto_neural or target != "en"
        recognizer = AutoRecognizer(OcrOptions(neural=neural), max_readers=profile.auto_readers)  # no cloud: none for auto
    else:
        recognizer = Recognizer(OcrOptions(language=source))
    translator = None
    if not ocr_only:
        try:
            translator = load_translator(TranslatorOptions(source=source, target=target, threads=profile.ct2_threads,
                                                           cache_entries=profile.cache_entries,
                                                           disk_cache=translation_cache, auto_pairs=profile.auto_pairs,
                                                           rules=profile.rules))
        except UnsupportedLanguagePair:
            if not cloud_configured:
                raise
    return Pipeline(TextDetector(entry.file("model"), detector), recognizer, translator, profile=profile,
                    cloud=None if ocr_only else cloud)


def cloud_route(options: ReplayOptions) -> CloudRoute | None:
    """The cloud tier, or None: ``--offline``, no ``--cloud-url`` (then no socket is ever opened), or
    ``--source auto`` (the service serves one pair a request)."""
    if options.offline or not options.cloud_url or options.ocr_only or options.source == "auto":
        return None
    from cloud_fallback.client import ClientOptions, CloudClient

    client_options = ClientOptions(options.cloud_url, token=os.environ.get("AR_TRANSLATE_CLOUD_TOKEN"),
                                   source=options.source, target=options.target, ca_bundle=options.cloud_ca)
    if options.pace != 1.0:  # every time constant of the client stretched as the video is
        client_options = replace(client_options, **{name: getattr(client_options, name) * options.pace for name in
                                                    ("min_attempt_ms", "open_s", "max_open_s", "probe_timeout_ms")})
    client = CloudClient(client_options)
    route = CloudRoute(client, options.cloud_budget_ms * options.pace)
    if options.offline_switch is not None:
        route.offline = options.offline_switch
    return route


def replay(options: ReplayOptions, build: Callable[[], FrameProcessor] | None = None, preview=None) -> dict:
    """Run the replay; returns the summary record (also written as the last event).

    ``build`` makes the frame processor (default: the pipeline for the options' languages); it is
    called after the input and the outputs are checked, so bad paths fail before models load.
    ``preview`` (live mode) shows each annotated frame; when its ``stop`` event is set the run ends
    cleanly after the current frame, outputs and summary written.
    """
    with models_in_use():  # ``models update`` does not switch a model under a run
        return _replay(options, build, preview)


def _replay(options: ReplayOptions, build: Callable[[], FrameProcessor] | None, preview) -> dict:
    profile = get_profile(options.profile, options.cores, options.memory_budget_mb)
    cores = apply_cores(profile)
    frames = open_source(options.input, options.sequence)
    events = EventLog(options.events) if options.events else None
    pictures = frames.frame_count if options.max_frames is None or frames.frame_count is None \
        else min(frames.frame_count, options.max_frames)
    video = open_output(options.output, frames.fps, frames.is_image, pictures) if options.output else None
    try:
        route = None if build else cloud_route(options)
        processor = build() if build else build_pipeline(options.source, options.target, options.ocr_only, profile,
                                                            options.translation_cache, route, bool(options.cloud_url))
        processor.pace = options.pace
        if isinstance(processor, Pipeline):
            processor.blocks.grouper.options.enabled = options.blocks
        if options.telemetry and isinstance(processor, Pipeline):
            processor.telemetry = TelemetryRecorder(f"{options.source}-{options.target}", profile.name)
        total = frames.frame_count
        if options.max_frames is not None and total is not None:
            total = min(total, options.max_frames)
        progress = _progress(total, options.progress)
        shown = None  # what the display shows: a dropped frame repeats the last overlay in the video
        for result in processor.run(frames, options.max_frames, options.realtime):
            if events:
                events.write(result.record())
            shown = result.image if result.image is not None else shown
            if video and shown is not None:
                video.write(shown, result.name)
            if preview and result.image is not None:
                preview.show(result.image)
            progress.update(1)
            if preview and preview.stop.is_set():
                break
        progress.close()
        summary = processor.summary()
        summary["input"] = frames.description
        summary["cores"] = len(cores)
        summary["warnings"] = frames.warnings
        # Apertium's processes count against the budget too
        budget = budget_report(profile, summary["peak_rss_mb"] + tiers_private_mb(summary.get("rules")))
        if budget:
            summary["budget"] = budget
            if not budget["ok"]:
                summary["warnings"].append(f"peak RSS {budget['peak_rss_mb']:.0f} MB is over the {profile.name} "
                                           f"memory budget of {budget['memory_mb']:.0f} MB")
        if options.telemetry and isinstance(processor, Pipeline):
            summary["telemetry"] = _telemetry(processor.telemetry, summary, options, online=route is not None
                                              and not route.offline.is_set())
        if events:
            events.write(summary)
            events.close()
        if video:
            video.close()
        return summary
    except BaseException:
        for sink in (events, video):
            if sink:
                sink.discard()
        raise


def _telemetry(recorder: TelemetryRecorder, summary: dict, options: ReplayOptions, online: bool) -> dict:
    """Spool this run's batch; upload what waits when the run was online (never offline)."""
    spool = Spool()
    spool.add(recorder.batch(summary, spool.dropped()))
    out = {"spooled": len(spool.pending()), "uploaded": 0}
    if online:
        report = upload(options.cloud_url, os.environ.get("AR_TRANSLATE_CLOUD_TOKEN"), spool,
                        int(options.telemetry_budget_kb * 1000), options.cloud_ca, UPLOAD_TIMEOUT_S * options.pace)
        out.update(uploaded=report.sent, bytes=report.bytes, spooled=len(spool.pending()))
        if report.error:
            out["error"] = report.error
    return out


def _progress(total: int | None, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="frame", disable=not enabled or None, file=sys.stderr, dynamic_ncols=True)


def print_summary(summary: dict, options: ReplayOptions) -> None:
    dropped = f", {summary['dropped']} dropped" if summary["dropped"] else ""
    print(f"{summary['input']}: {summary['frames']} frames{dropped} in {summary['wall_s']:.1f} s "
          f"({1000 * summary['wall_s'] / max(1, summary['frames']):.0f} ms/frame), peak RSS {summary['peak_rss_mb']:.0f} MB")
    for stage in STAGES:
        ms = summary["stage_ms"][stage]
        if ms:
            print(f"  {stage:10} p50 {ms['p50']:7.1f} ms   p95 {ms['p95']:7.1f} ms   ({ms['n']} calls)")
    for warning in summary["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    for label, path in (("events", options.events), ("output", options.output)):
        if path:
            print(f"  {label}: {path}")
    print(json.dumps(summary, ensure_ascii=False))
