"""What a cache bundle saves: lines of the standard scenario answered from a bundle that the service
built from *other* scenarios, and what that does to time to translation.

1. The service runs on 127.0.0.1 with an empty store.
2. Devices replay ``--others`` other scenarios (the standard preset with other seeds: other signs in
   other order, some in common) online, so the service hears the texts they read and answers them.
3. A device fetches the de-en bundle (``models update``, default ``min_count`` 2 and also 1).
4. The standard scenario is replayed offline, every frame, ``pi4`` on one core, without and with the
   bundle, and scored.

    python -m benchmarks.bundle --work work/bench/bundle      # ~6 min on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from benchmarks.faults import TOKEN, service
from benchmarks.harness import BenchOptions, bench
from benchmarks.readme_table import write_between
from benchmarks.scenes import PRESETS, render
from models.update import Service, UpdateOptions, fetch_bundles

DOCS = Path(__file__).resolve().parents[1] / "docs" / "deployment.md"
MARKERS = ("<!-- bundle:start -->", "<!-- bundle:end -->")


def scenario(work: Path, seed: int) -> Path:
    stem = work / f"standard-seed{seed}"
    if not stem.with_suffix(".mp4").exists():
        render(replace(PRESETS["standard"], seed=seed), stem)
    return stem


def replay_online(video: Path, url: str, home: Path) -> dict:
    env = {**os.environ, "AR_TRANSLATE_HOME": str(home), "AR_TRANSLATE_CLOUD_TOKEN": TOKEN}
    done = subprocess.run([sys.executable, "-m", "edge", "replay", str(video), "--cloud-url", url, "--quiet",
                           "--profile", "pi4", "--cores", "1"], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(stem: Path, home: Path, out: Path) -> dict:
    """The standard scenario replayed by the harness with ``home`` as the device's home."""
    os.environ["AR_TRANSLATE_HOME"] = str(home)  # the replay child's home: with or without a bundle
    results = bench(BenchOptions(video=stem.with_suffix(".mp4"), gt=stem.with_suffix(".gt.json"), out=out,
                                 profile="pi4", cores=1, progress=False, report=False))
    summary = json.loads((out / "pipeline.events.jsonl").read_text().splitlines()[-1])
    return {"score": results["pipeline"], "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("work/bench/bundle"))
    parser.add_argument("--write-docs", action="store_true", help=f"write the table into {DOCS}")
    parser.add_argument("--others", type=int, nargs="+", default=[21, 22, 23, 24, 25, 26],
                        help="seeds of the other scenarios the service learns from")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ["AR_TRANSLATE_CACHE"] = str((args.work / "cache").resolve())  # the phrase table's copy: built once,
    # not inside a measured run
    from edge.translate import TranslatorOptions, load_translator

    load_translator(TranslatorOptions(bundle=False))
    standard = args.work / "standard"
    if not standard.with_suffix(".mp4").exists():
        render(PRESETS["standard"], standard)
    for stale in args.work.glob("store.sqlite*"):  # the service starts from nothing each run
        stale.unlink()
    with service(extra_args=["--store", str(args.work / "store.sqlite")]) as (url, _):
        for seed in args.others:
            summary = replay_online(scenario(args.work, seed).with_suffix(".mp4"), url, args.work / "device-home")
            print(f"seed {seed}: {summary['cloud']['requests']} cloud requests", file=sys.stderr)
        homes = {"no bundle": args.work / "home-none"}
        for min_count in (2, 1):
            home = args.work / f"home-min{min_count}"
            os.environ["AR_TRANSLATE_HOME"] = str(home)
            print(fetch_bundles(Service(UpdateOptions(url, token=TOKEN)), ["de-en"], min_count)[0], file=sys.stderr)
            homes[f"bundle, min_count {min_count}"] = home
    lines = ["| standard scenario, offline, every frame, pi4, 1 core | lines answered by the bundle | model translations "
             "| translate stage p50 / p95 | time to translation p50 / p95 | signs found | chrF | ms/frame |",
             "|---|---|---|---|---|---|---|---|"]
    for label, home in homes.items():
        result = measure(standard, home, args.work / label.replace(" ", "_").replace(",", ""))
        s, cache = result["score"], result["summary"].get("translation_cache") or {}
        hits = cache.get("bundle_hits") or 0
        translate = s["stage_ms"].get("translate") or {}
        lines.append(f"| {label} | {hits if cache.get('bundle_hits') is not None else '–'} | {cache['misses'] - hits} | "
                     f"{translate.get('p50')} / {translate.get('p95')} ms | {s['ttt_p50_ms']} / {s['ttt_p95_ms']} ms | "
                     f"{s['signs_found']}/{s['segments']} | {s['chrf']} | {s['ms_per_frame']} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.write_docs:
        write_between(DOCS, MARKERS, f"Bundle learned from {len(args.others)} other scenarios (seeds "
                      f"{', '.join(map(str, args.others))}; `python -m benchmarks.bundle --write-docs`):\n\n{table}")


if __name__ == "__main__":
    main()
