"""Regenerate the end-to-end results tables: one command, every figure from one sitting.

    python -m benchmarks.readme_table            # ~10 min on 2 cores

It renders the standard, still and hard scenarios (``benchmarks.scenes --preset ...``, seeded, so the same
videos every time) into ``work/bench/``, runs ``ar-translate bench`` on them as listed in ``RUNS``
(every frame and real time; default settings on 2 cores and device profiles pinned to one core;
the naive baseline beside the pipeline on the standard scenario, RapidOCR on the hard one) and
writes the table between ``<!-- bench-table:start -->`` and ``<!-- bench-table:end -->`` in
docs/benchmarks.md, the headline rows in README.md. Each run's report stays in ``work/bench/runN/``.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from benchmarks.harness import BenchOptions, bench
from benchmarks.scenes import PRESETS, render
from benchmarks.score import format_ms

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"
HEADLINE = ("<!-- headline:start -->", "<!-- headline:end -->")
HEADLINE_ROWS = ("signs found", "wrong overlay frames (goal 0)", "translated fragment frames (goal 0)",
                 "time to translation p50 / p95", "frames emitted", "peak RSS", "keyframes / OCR reads / model translations")

RUNS = [  # (column label, scenario preset, profile, cores, real time, baselines run beside the pipeline)
    ("every frame, 2 cores", "standard", None, None, False, ["naive"]),
    ("every frame, pi4, 1 core", "standard", "pi4", 1, False, ["naive"]),
    ("real time, pi4, 1 core", "standard", "pi4", 1, True, ["naive"]),
    ("real time, pi-zero-2, 1 core", "standard", "pi-zero-2", 1, True, []),
    ("still 30 s, real time, pi4, 1 core", "still", "pi4", 1, True, []),
    ("hard, every frame, pi4, 1 core", "hard", "pi4", 1, False, ["rapidocr"]),
    ("hard, real time, pi4, 1 core", "hard", "pi4", 1, True, []),
]
BASELINE_NAMES = {"naive": "naive", "rapidocr": "RapidOCR"}
# Pi-speed runs (issue 17): the standard scenario in real time, each profile on one core limited by a cgroup
# CPU quota to its board's calibrated share of this machine's core (benchmarks/cpulimit.py; needs root)
PI_SPEED = ("<!-- pi-speed:start -->", "<!-- pi-speed:end -->")
PI_SPEED_RUNS = [("pi4 at Pi 4 speed", "pi4"), ("pi-zero-2 at Pi Zero 2 W speed", "pi-zero-2")]
PI_SPEED_ROWS = ("signs found", "frames emitted", "time to translation p50 / p95", "display path p50 / p95",
                 "wrong overlay frames (goal 0)", "translated fragment frames (goal 0)", "peak RSS")


def _work(r: dict) -> str:
    work = r.get("work") or {}
    return " / ".join("–" if work.get(k) is None else str(work[k]) for k in ("keyframes", "ocr_reads", "translations"))


ROWS = [
    ("signs found", lambda r: f"{r['signs_found']} / {r['segments']}"),
    ("mean best CER", lambda r: f"{r['mean_cer']:.3f}"),
    ("chrF", lambda r: f"{r['chrf']:.1f}"),
    ("ms per frame", lambda r: f"{r['ms_per_frame']:.1f}"),
    ("frames emitted", lambda r: f"{100 * r['frames_emitted'] / r['frames']:.0f} %"),
    ("time to translation p50 / p95", lambda r: f"{format_ms(r['ttt_p50_ms'])} / {format_ms(r['ttt_p95_ms'])}"),
    ("wrong overlay frames (goal 0)", lambda r: "–" if r.get("wrong_overlay_frames") is None else str(r["wrong_overlay_frames"])),
    ("translated fragment frames (goal 0)", lambda r: "–" if r.get("translated_fragment_frames") is None
     else str(r["translated_fragment_frames"])),
    ("time to any translation p50 / p95", lambda r: f"{format_ms(r['ttt_any_p50_ms'])} / {format_ms(r['ttt_any_p95_ms'])}"),
    ("peak RSS", lambda r: f"{r['peak_rss_mb']:.0f} MB" + (
        f" (budget {r['budget']['memory_mb']:.0f}: {'ok' if r['budget']['ok'] else 'OVER'})" if r.get("budget") else "")),
    ("CPU after 1 s (1.0 = a core)", lambda r: "–" if r.get("cpu_share_after_1s") is None else f"{r['cpu_share_after_1s']:.2f}"),
    ("keyframes / OCR reads / model translations", _work),
    ("display path p50 / p95",
     lambda r: f"{format_ms(r.get('frame_latency_p50_ms'))} / {format_ms(r.get('frame_latency_p95_ms'))}"),
]


def table(columns: list[tuple[str, dict]], rows: tuple[str, ...] | None = None) -> str:
    lines = ["| | " + " | ".join(label for label, _ in columns) + " |", "|---" * (1 + len(columns)) + "|"]
    for name, cell in ROWS:
        if rows is None or name in rows:
            lines.append(f"| {name} | " + " | ".join(cell(r) for _, r in columns) + " |")
    return "\n".join(lines) + "\n"


def write_between(path: Path, markers: tuple[str, str], text: str) -> None:
    """Replace what lies between the two marker lines of ``path`` with ``text``."""
    start, end = markers
    page = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(page):
        raise SystemExit(f"{path} has no {start} … {end} markers")
    path.write_text(pattern.sub(lambda _: f"{start}\n{text}{end}", page), encoding="utf-8")
    print(f"updated {path}")


def run_or_reuse(options: BenchOptions, reuse: bool) -> dict:
    """The run's results: its saved results.json with ``reuse`` (when there is one), else a fresh bench."""
    saved = options.out / "results.json"
    return json.loads(saved.read_text()) if reuse and saved.exists() else bench(options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "work" / "bench")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--page", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--reuse", action="store_true", help="rewrite the tables from the runs' results.json already in --work")
    args = parser.parse_args()
    columns, speedups, rapid = [], [], []
    for n, (label, preset, profile, cores, realtime, baselines) in enumerate(RUNS):
        stem = args.work / preset
        if not stem.with_suffix(".gt.json").exists():
            render(PRESETS[preset], stem)
        options = BenchOptions(video=stem.with_suffix(".mp4"), gt=stem.with_suffix(".gt.json"), out=args.work / f"run{n}",
                               compare=list(baselines), realtime=realtime, profile=profile, cores=cores)
        results = run_or_reuse(options, args.reuse)
        machine = results["run"].get("cpu", "not recorded")
        columns.append((f"pipeline, {label}", results["pipeline"]))
        for side in baselines:
            columns.append((f"{BASELINE_NAMES[side]}, {label}", results[side]))
        if "naive" in baselines and not realtime:
            speedups.append(f"{results['speedup']:.1f}× ({label})")
        if "rapidocr" in baselines and not realtime:
            rapid.append(f"{results['speedup_rapidocr']:.1f}× ({label})")
    text = table(columns) + (f"\nSpeed-up, naive ms/frame ÷ pipeline ms/frame: {', '.join(speedups)}.\n" if speedups else "") \
        + (f"RapidOCR ms/frame ÷ pipeline ms/frame: {', '.join(rapid)}.\n" if rapid else "") \
        + f"Machine: {machine}; real-time figures depend on its speed, ratios much less.\n"
    print(text)
    write_between(args.page, (START, END), text)
    pipeline = [(label.removeprefix("pipeline, "), r) for label, r in columns if label.startswith("pipeline, ")]
    headline = table(pipeline, HEADLINE_ROWS) + (f"\nThroughput against the naive baseline (full-frame Tesseract on every "
                                                f"frame): {', '.join(speedups)}; on {machine}.\n" if speedups else "") \
        + (f"Against RapidOCR on every frame: {', '.join(rapid)} cheaper per frame.\n" if rapid else "")
    write_between(args.readme, HEADLINE, headline)
    pi_speed(args)


def pi_speed(args: argparse.Namespace) -> None:
    """The Pi-speed table in README.md's Raspberry Pi section (skipped, saying why, without root)."""
    from benchmarks.cpulimit import HOST_SCORE, CpuLimit, machine_shares
    from edge.errors import RuntimeMissing

    try:
        CpuLimit(0.5, name="ar-translate-bench-probe").close()
    except RuntimeMissing as exc:
        print(f"Pi-speed runs skipped: {exc}")
        return
    shares, score = machine_shares()
    stem = args.work / "standard"
    columns = []
    for n, (label, profile) in enumerate(PI_SPEED_RUNS):
        options = BenchOptions(video=stem.with_suffix(".mp4"), gt=stem.with_suffix(".gt.json"),
                               out=args.work / f"pi-speed{n}", realtime=True, profile=profile, cores=1,
                               cpu_share=shares[profile])
        results = run_or_reuse(options, args.reuse)
        share = results["run"].get("cpu_share") or shares[profile]  # a reused run keeps the share it ran under
        columns.append((f"{label} ({share:.3f} of a core)", results["pipeline"]))
    text = table(columns, PI_SPEED_ROWS) + "\n" + (
        f"Shares of this machine's core from its `sysbench cpu` score, measured before the runs: {score:,.0f} "
        f"events/s (the reference machine of `SHARES`: {HOST_SCORE:,.0f}).\n" if score else
        f"sysbench missing: the shares of the reference machine ({HOST_SCORE:,.0f} events/s) were used, "
        "whatever this machine's speed.\n")
    print(text)
    write_between(args.readme, PI_SPEED, text)


if __name__ == "__main__":
    main()
