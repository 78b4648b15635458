"""``ar-translate bench``: replay a scenario through the pipeline (and the full-frame baselines), score
each against the ground truth, write ``results.json`` and ``report.html``.

Each side runs in its own child process (the same command a user runs: ``ar-translate replay``,
``python -m benchmarks.naive --engine naive|rapidocr``), one after the other, so peak memory and CPU
time are each side's own and they never compete for cores. Scoring reads only the event logs (``benchmarks.score``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.cpulimit import CpuLimit
from benchmarks.score import format_ms, load_events, load_gt, score
from edge.apertium import tiers_private_mb
from edge.capture import open_source
from edge.errors import ArTranslateError, InputError, OutputError
from edge.profiles import allowed_cores

SIDES = ("pipeline", "naive", "rapidocr")


@dataclass
class BenchOptions:
    video: Path
    gt: Path
    out: Path  # folder for events, results.json and report.html
    source: str = "de"
    target: str = "en"
    compare: list[str] = field(default_factory=list)  # other sides to run: "naive", "rapidocr"
    realtime: bool = False  # replay at the video's fps, dropping frames while busy
    pace: float = 1.0  # ... at 1/pace of it, deadlines stretched as much (``ReplayOptions.pace``)
    max_frames: int | None = None
    profile: str | None = None  # device profile of the pipeline side (its memory budget fails the bench)
    cores: int | None = None  # both sides run on at most this many cores
    memory_budget_mb: float | None = None  # overrides the profile's memory budget
    cpu_share: float | None = None  # every side runs limited to this share of one core (``benchmarks/cpulimit.py``)
    progress: bool = True
    report: bool = True


def check_inputs(options: BenchOptions) -> dict:
    """The ground truth, after checking it describes this video; errors say which file is wrong."""
    gt = load_gt(options.gt)
    source = open_source(options.video)  # raises a clear InputError for a missing or unreadable video
    declared = source.frame_count
    described = len(gt.get("frames", [])) or max((s["last_frame"] + 1 for s in gt["segments"]), default=0)
    if declared and gt.get("frames") and declared != described:
        raise InputError(f"{options.gt} describes {described} frames but {options.video} has {declared}: "
                         "not this video's ground truth")
    if gt.get("fps") and abs(float(gt["fps"]) - source.fps) > 0.5:
        raise InputError(f"{options.gt} is for {gt['fps']} fps but {options.video} plays at {source.fps:.2f} fps")
    for key in ("source", "target"):
        if gt.get(key) and gt[key] != getattr(options, key):
            raise InputError(f"{options.gt} is {gt['source']}→{gt['target']}, not {options.source}→{options.target}")
    return gt


def side_command(side: str, options: BenchOptions, events: Path) -> list[str]:
    """The child process that replays ``options.video`` as ``side`` and writes ``events``."""
    if side == "pipeline":
        cmd = [sys.executable, "-m", "edge", "replay", str(options.video), "--offline"]
    elif side in SIDES[1:]:
        cmd = [sys.executable, "-m", "benchmarks.naive", str(options.video), "--engine", side]
    else:
        raise InputError(f"unknown comparison '{side}'; available: {', '.join(SIDES[1:])}")
    cmd += ["--source", options.source, "--target", options.target, "--events", str(events)]
    if options.realtime:
        cmd.append("--realtime")
    if options.pace != 1.0:
        cmd += ["--pace", str(options.pace)]
    if options.max_frames is not None:
        cmd += ["--max-frames", str(options.max_frames)]
    if options.cores is not None:
        cmd += ["--cores", str(options.cores)]
    if options.profile and side == "pipeline":
        cmd += ["--profile", options.profile]
    if options.memory_budget_mb is not None and side == "pipeline":
        cmd += ["--memory-budget-mb", str(options.memory_budget_mb)]
    if not options.progress:
        cmd.append("--quiet")
    return cmd


def run_side(side: str, options: BenchOptions) -> Path:
    events = options.out / f"{side}.events.jsonl"
    if options.progress:
        print(f"bench: {side} …", file=sys.stderr, flush=True)
    limit = CpuLimit(options.cpu_share) if options.cpu_share else None
    try:
        done = subprocess.run(side_command(side, options, events), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, preexec_fn=limit.enter if limit else None)
    finally:
        if limit:
            limit.close()
    if done.returncode != 0:
        reason = [line for line in done.stderr.splitlines() if line.strip() and "XNNPACK" not in line]
        raise ArTranslateError(f"{side} replay failed (exit {done.returncode}): {reason[-1] if reason else 'no message'}")
    return events


def bench(options: BenchOptions) -> dict:
    """Run every side, score it, write results.json (and report.html); returns the results."""
    gt = check_inputs(options)
    for side in options.compare:
        if side not in SIDES[1:]:
            raise InputError(f"unknown comparison '{side}'; available: {', '.join(SIDES[1:])}")
    try:
        options.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {options.out}: {exc.strerror or exc}") from None
    sides = ["pipeline", *dict.fromkeys(options.compare)]
    events = {side: load_events(run_side(side, options)) for side in sides}
    results: dict = {side: score(events[side], gt) for side in sides}
    budget = events["pipeline"].summary.get("budget")
    results["pipeline"]["budget"] = budget
    # Apertium's processes, beside the pipeline's own
    results["pipeline"]["rules_mb"] = round(tiers_private_mb(events["pipeline"].summary.get("rules")), 1)
    if budget and not budget["ok"]:
        results["failed"] = [f"pipeline peak RSS {budget['peak_rss_mb']:.0f} MB is over the {budget['profile']} "
                             f"memory budget of {budget['memory_mb']:.0f} MB"]
    ours = results["pipeline"]["ms_per_frame"]
    if "naive" in results:
        results["speedup"] = round(results["naive"]["ms_per_frame"] / ours, 2) if ours else None
    if "rapidocr" in results:
        results["speedup_rapidocr"] = round(results["rapidocr"]["ms_per_frame"] / ours, 2) if ours else None
    results["run"] = {"video": str(options.video), "gt": str(options.gt), "realtime": options.realtime,
                      "profile": options.profile, "cores": options.cores, "cpu_share": options.cpu_share,
                      "max_frames": options.max_frames, "source": options.source, "target": options.target,
                      "fps": gt.get("fps"), "cpu": _cpu_description()}
    (options.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    if options.report:
        from benchmarks.report import write_report

        write_report(results, events, options.out / "report.html")
    return results


def _cpu_description() -> str:
    import platform

    from benchmarks.cpulimit import cpu_model

    return f"{cpu_model()} ({platform.machine()}), {len(allowed_cores())} core(s) available"


def print_results(results: dict, out: Path) -> None:
    sides = [s for s in SIDES if s in results]
    print(f"{'':22}" + "".join(f"{s:>14}" for s in sides))
    rows = [("signs found", lambda r: f"{r['signs_found']}/{r['segments']}"),
            ("mean best CER", lambda r: f"{r['mean_cer']:.3f}" if r["mean_cer"] is not None else "-"),
            ("chrF", lambda r: f"{r['chrf']:.1f}" if r["chrf"] is not None else "-"),
            ("ms per frame", lambda r: f"{r['ms_per_frame']:.1f}"),
            ("frames emitted", lambda r: f"{r['frames_emitted']}/{r['frames']}"),
            ("time to transl. p50", lambda r: format_ms(r["ttt_p50_ms"])),
            ("time to transl. p95", lambda r: format_ms(r["ttt_p95_ms"])),
            ("wrong overlay frames", lambda r: "-" if r.get("wrong_overlay_frames") is None else str(r["wrong_overlay_frames"])),
            ("translated fragments", lambda r: "-" if r.get("translated_fragment_frames") is None
             else str(r["translated_fragment_frames"])),
            ("peak RSS MB", lambda r: f"{r['peak_rss_mb']:.0f}" + (f" +{r['rules_mb']:.0f} rules" if r.get("rules_mb") else ""))]
    if any(results[s].get("notices") for s in sides):
        def notices(cell):
            return lambda r: cell(r["notices"]) if r.get("notices") else "-"

        rows += [("notices shown whole", notices(lambda n: f"{n['shown']}/{n['count']}")),
                 ("... share of frames", notices(lambda n: f"{n['shown_share']:.2f}")),
                 ("... transl. p50", notices(lambda n: format_ms(n["ttt_p50_ms"]))),
                 ("... transl. p95", notices(lambda n: format_ms(n["ttt_p95_ms"]))),
                 ("... chrF as a block", notices(lambda n: f"{n['chrf_blocks']:.1f}")),
                 ("... chrF line by line", notices(lambda n: f"{n['chrf_lines']:.1f}"))]
    if any(results[s].get("languages") for s in sides):
        rows.append(("own language read", lambda r: f"{r['languages']['right']}/{r['languages']['found']}"
                     if r.get("languages") else "-"))
    for label, cell in rows:
        print(f"{label:22}" + "".join(f"{cell(results[s]):>14}" for s in sides))
    if results.get("speedup"):
        print(f"speedup (naive ms/frame ÷ pipeline ms/frame): {results['speedup']:.1f}×")
    if results.get("speedup_rapidocr"):
        print(f"speedup (RapidOCR ms/frame ÷ pipeline ms/frame): {results['speedup_rapidocr']:.1f}×")
    print(f"results: {out / 'results.json'}")
    if (out / "report.html").exists():
        print(f"report: {out / 'report.html'}")
