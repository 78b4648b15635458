"""Regenerate the README's end-to-end results table: one command, every figure from one sitting.

    python -m benchmarks.readme_table            # ~6 min on 2 cores; rewrites README.md between the markers

It renders the standard scenario (``benchmarks.scenes --preset standard``, seeded, so the same video
every time) into ``work/bench/``, runs ``ar-translate bench --compare naive`` on it in analysis mode
(every frame) and in real-time mode, and writes the table between ``<!-- bench-table:start -->``
and ``<!-- bench-table:end -->`` in README.md. Each run's report stays in ``work/bench/``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from benchmarks.harness import BenchOptions, bench
from benchmarks.scenes import PRESETS, render

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"

RUNS = [  # (label, folder, realtime)
    ("every frame", "analysis", False),
    ("real time (15 fps)", "realtime", True),
]

ROWS = [
    ("signs found", lambda r: f"{r['signs_found']} / {r['segments']}"),
    ("mean best CER", lambda r: f"{r['mean_cer']:.3f}"),
    ("chrF", lambda r: f"{r['chrf']:.1f}"),
    ("ms per frame", lambda r: f"{r['ms_per_frame']:.1f}"),
    ("frames emitted", lambda r: f"{100 * r['frames_emitted'] / r['frames']:.0f} %"),
    ("time to translation p50", lambda r: _ms(r["ttt_p50_ms"])),
    ("time to translation p95", lambda r: _ms(r["ttt_p95_ms"])),
    ("time to any translation p50 / p95", lambda r: f"{_ms(r['ttt_any_p50_ms'])} / {_ms(r['ttt_any_p95_ms'])}"),
    ("peak RSS", lambda r: f"{r['peak_rss_mb']:.0f} MB"),
]


def _ms(value: float | None) -> str:
    return "never" if value is None else f"{value:.0f} ms"


def table(runs: list[tuple[str, dict]]) -> str:
    header = "| | " + " | ".join(f"pipeline, {label} | naive, {label}" for label, _ in runs) + " |"
    lines = [header, "|---" * (1 + 2 * len(runs)) + "|"]
    for name, cell in ROWS:
        lines.append(f"| {name} | " + " | ".join(f"{cell(r['pipeline'])} | {cell(r['naive'])}" for _, r in runs) + " |")
    speedups = [f"{r['speedup']:.1f}× ({label})" for label, r in runs if not r["run"]["realtime"] and r.get("speedup")]
    note = f"\nSpeed-up, naive ms/frame ÷ pipeline ms/frame: {', '.join(speedups)}.\n" if speedups else "\n"
    return "\n".join(lines) + "\n" + note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "work" / "bench")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args()
    stem = args.work / "standard"
    if not stem.with_suffix(".gt.json").exists():
        render(PRESETS["standard"], stem)
    runs = []
    for label, folder, realtime in RUNS:
        options = BenchOptions(video=stem.with_suffix(".mp4"), gt=stem.with_suffix(".gt.json"), out=args.work / folder,
                               compare=["naive"], realtime=realtime)
        runs.append((label, bench(options)))
    text = table(runs)
    print(text)
    readme = args.readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(readme):
        raise SystemExit(f"{args.readme} has no {START} … {END} markers")
    args.readme.write_text(pattern.sub(lambda _: f"{START}\n{text}{END}", readme), encoding="utf-8")
    print(f"updated {args.readme}")


if __name__ == "__main__":
    main()
