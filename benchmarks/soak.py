"""Hours, not minutes: the pipeline in real time on a long replay, its memory over time.

    python -m benchmarks.soak [--minutes 30] [--profile pi4] [--cores 1]

Loops the standard scenario (``benchmarks.scenes --preset standard``, rendered into ``work/bench``
when missing) end to end for ``--minutes`` of wall time, as one continuous real-time stream (frame
numbers and timestamps keep counting), through the real pipeline with the profile's settings. Reports
the resident memory once a minute from the frame records, its growth after the first minute (the goal
is under 5 %), the frames emitted, and the cache and tracker sizes at the end.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.scenes import PRESETS, render
from edge.capture import Frame, FrameSource, open_source

ROOT = Path(__file__).resolve().parents[1]


def looped(video: Path, minutes: float) -> FrameSource:
    """The video played again and again as one stream of ``minutes`` of media time."""
    first = open_source(video)
    fps = first.fps
    total = int(minutes * 60 * fps)

    def frames() -> Iterator[Frame]:
        index = 0
        while index < total:
            for frame in open_source(video):
                if index >= total:
                    return
                yield Frame(index, index * 1000.0 / fps, frame.image)
                index += 1

    return FrameSource(f"{video.name} looped for {minutes:g} min", fps, total, frames())


def soak(video: Path, minutes: float, profile: str, cores: int) -> dict:
    from edge.profiles import apply_cores, get_profile
    from edge.replay import build_pipeline

    settings = get_profile(profile, cores)
    apply_cores(settings)
    pipeline = build_pipeline("de", "en", False, settings)
    per_minute: dict[int, list[float]] = {}
    emitted = dropped = 0
    started = time.monotonic()
    for result in pipeline.run(looped(video, minutes), realtime=True):
        if result.dropped:
            dropped += 1
            continue
        emitted += 1
        if result.rss_mb is not None:
            per_minute.setdefault(int(result.pts_ms // 60_000), []).append(result.rss_mb)
    summary = pipeline.summary()
    minutes_seen = sorted(per_minute)
    medians = {m: sorted(v)[len(v) // 2] for m, v in per_minute.items()}
    after_warmup = medians[minutes_seen[1]] if len(minutes_seen) > 1 else medians[minutes_seen[0]]
    last = medians[minutes_seen[-1]]
    return {"minutes": minutes, "profile": profile, "cores": cores, "wall_s": round(time.monotonic() - started, 1),
            "frames_emitted": emitted, "frames_dropped": dropped,
            "rss_median_mb_per_minute": {m: round(v, 1) for m, v in medians.items()},
            "rss_max_mb_per_minute": {m: round(max(v), 1) for m, v in per_minute.items()},
            "growth_after_first_minute_pct": round(100 * (last - after_warmup) / after_warmup, 2),
            "peak_rss_mb": summary["peak_rss_mb"], "translation_cache": summary["translation_cache"],
            "tracks_at_end": len(pipeline.tracker.tracks), "keyframes": summary["keyframes"],
            "ocr_reads": summary["ocr_reads"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--profile", default="pi4")
    parser.add_argument("--cores", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "work" / "bench" / "soak.json")
    args = parser.parse_args()
    stem = ROOT / "work" / "bench" / "standard"
    if not stem.with_suffix(".mp4").exists():
        render(PRESETS["standard"], stem)
    result = soak(stem.with_suffix(".mp4"), args.minutes, args.profile, args.cores)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
