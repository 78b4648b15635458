"""The benchmark report: one self-contained HTML page (plots embedded as PNG) a person can read
without the command line — the side-by-side table, per-sign results, per-stage latency
distributions, time to translation per sign, a frame timeline and memory over time.

Needs matplotlib (``pip install 'ar-translate[bench]'``); without it ``bench`` still writes
results.json and says so.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from benchmarks.score import Events, format_ms
from edge.errors import RuntimeMissing

COLOURS = {"pipeline": "#1f77b4", "naive": "#d62728", "rapidocr": "#2ca02c"}


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise RuntimeMissing("the HTML report needs matplotlib: pip install 'ar-translate[bench]'") from exc
    return plt


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _frames(events: Events) -> list[dict]:
    return [events.frames[i] for i in sorted(events.frames)]


def stage_plot(events: dict[str, Events]) -> str:
    """Per-stage latency per frame (box plots, log scale), one panel per side."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(events), figsize=(5.5 * len(events), 3.4), squeeze=False)
    for ax, (side, ev) in zip(axes[0], events.items()):
        samples: dict[str, list[float]] = {}
        for record in _frames(ev):
            for stage, ms in (record.get("stage_ms") or {}).items():
                samples.setdefault(stage, []).append(max(ms, 0.01))
        if samples:
            ax.boxplot(list(samples.values()), tick_labels=list(samples), whis=(5, 95), showfliers=False)
        ax.set_yscale("log")
        ax.set_title(f"{side}: ms per frame in each stage (box 25–75 %, whiskers 5–95 %)", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def ttt_plot(results: dict, sides: list[str]) -> str:
    """Time to translation per sign; signs never translated are drawn at the right edge in grey."""
    plt = _pyplot()
    signs = results[sides[0]]["signs"]
    labels = [f"{s['text']} (f{s['first_frame']})" for s in signs]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(signs) + 1.2))
    finite = [s["ttt_ms"] for side in sides for s in results[side]["signs"] if s["ttt_ms"] is not None]
    ceiling = max(finite, default=1000.0) * 1.15
    height = 0.8 / len(sides)
    for k, side in enumerate(sides):
        values = [s["ttt_ms"] for s in results[side]["signs"]]
        ys = [i + k * height for i in range(len(values))]
        ax.barh(ys, [v if v is not None else ceiling for v in values], height=height,
                color=[COLOURS.get(side, "#555") if v is not None else "#cccccc" for v in values])
        for y, v in zip(ys, values):
            if v is None:
                ax.text(ceiling, y, f"{side}: never ", va="center", ha="right", fontsize=7)
    ax.set_yticks([i + height * (len(sides) - 1) / 2 for i in range(len(signs))], labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("ms from the sign's first frame to the first frame showing a right translation")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=COLOURS.get(s, "#555"), label=s) for s in sides] + [Patch(color="#cccccc", label="never")],
              fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def timeline_plot(events: dict[str, Events]) -> str:
    """Per frame: emitted or dropped, latency (emitted − captured), regions shown and cache answers."""
    plt = _pyplot()
    fig, axes = plt.subplots(len(events), 1, figsize=(11, 2.6 * len(events)), squeeze=False, sharex=True)
    for ax, (side, ev) in zip(axes[:, 0], events.items()):
        frames = _frames(ev)
        index = [r["frame"] for r in frames]
        dropped = [r["frame"] for r in frames if r.get("dropped")]
        latency = [(r["frame"], r["emitted_ms"] - r["captured_ms"]) for r in frames if not r.get("dropped")]
        ax.plot([f for f, _ in latency], [ms for _, ms in latency], lw=0.8, color=COLOURS.get(side, "#555"),
                label="latency ms (emitted − captured)")
        ax.set_ylabel("ms")
        if dropped:
            ax.scatter(dropped, [0] * len(dropped), marker="|", color="#d62728", s=60, label=f"dropped ({len(dropped)})")
        twin = ax.twinx()
        twin.step(index, [len(r.get("regions", [])) for r in frames], where="mid", lw=0.8, color="#2ca02c",
                  label="regions shown")
        twin.step(index, [sum(g.get("translation_source") == "cache" for g in r.get("regions", [])) for r in frames],
                  where="mid", lw=0.8, color="#ff7f0e", ls="--", label="cache answers")
        twin.set_ylabel("count")
        handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
        ax.legend(handles=handles, fontsize=7, loc="upper left", ncol=4)
        ax.set_title(f"{side}: frame timeline", fontsize=9)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("frame")
    return _png(fig)


def rss_plot(events: dict[str, Events]) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 3))
    for side, ev in events.items():
        points = [(r["emitted_ms"] / 1000.0, r["rss_mb"]) for r in _frames(ev)
                  if not r.get("dropped") and r.get("rss_mb") is not None]
        ax.plot([t for t, _ in points], [m for _, m in points], lw=1, color=COLOURS.get(side, "#555"),
                label=f"{side} (peak {ev.summary['peak_rss_mb']:.0f} MB)")
    ax.set_xlabel("s since the run started")
    ax.set_ylabel("resident memory, MB")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


ROWS = [
    ("signs found", lambda r: f"{r['signs_found']} / {r['segments']}"),
    ("mean best CER", lambda r: "–" if r["mean_cer"] is None else f"{r['mean_cer']:.3f}"),
    ("chrF of the best reading's translation", lambda r: "–" if r["chrf"] is None else f"{r['chrf']:.1f}"),
    ("ms per frame (wall time / frames)", lambda r: f"{r['ms_per_frame']:.1f}"),
    ("frames emitted / frames", lambda r: f"{r['frames_emitted']} / {r['frames']}"),
    ("time to translation p50", lambda r: format_ms(r["ttt_p50_ms"])),
    ("time to translation p95", lambda r: format_ms(r["ttt_p95_ms"])),
    ("signs never translated (rightly)", lambda r: str(r["never_translated"])),
    ("time to any translation p50 / p95 (right or wrong)",
     lambda r: " / ".join(format_ms(v) for v in (r["ttt_any_p50_ms"], r["ttt_any_p95_ms"]))),
    ("peak RSS", lambda r: f"{r['peak_rss_mb']:.0f} MB"
     + (f" (budget {r['budget']['memory_mb']:.0f} MB: {'ok' if r['budget']['ok'] else 'OVER'})" if r.get("budget") else "")),
    ("frame latency p50 / p95 (emitted − captured)",
     lambda r: "–" if r.get("frame_latency_p50_ms") is None
     else f"{r['frame_latency_p50_ms']:.1f} / {r['frame_latency_p95_ms']:.1f} ms"),
    ("CPU after the first second (1.0 = one core)",
     lambda r: "–" if r.get("cpu_share_after_1s") is None else f"{r['cpu_share_after_1s']:.2f}"),
    ("keyframes / OCR reads / texts translated by the model",
     lambda r: " / ".join("–" if v is None else str(v) for v in (r.get("work") or {}).values()) or "–"),
]


def _table(results: dict, sides: list[str]) -> str:
    head = "".join(f"<th>{html.escape(s)}</th>" for s in sides)
    body = "".join(f"<tr><td>{html.escape(label)}</td>" + "".join(f"<td>{html.escape(cell(results[s]))}</td>" for s in sides)
                   + "</tr>" for label, cell in ROWS)
    stages = sorted({st for s in sides for st, v in results[s]["stage_ms"].items() if v})
    for stage in stages:
        cells = "".join("<td>" + (f"{v['p50']:.1f} / {v['p95']:.1f} ms" if (v := results[s]["stage_ms"].get(stage)) else "–")
                        + "</td>" for s in sides)
        body += f"<tr><td>{html.escape(stage)} p50 / p95</td>{cells}</tr>"
    return f"<table><tr><th></th>{head}</tr>{body}</table>"


def _signs_table(results: dict, sides: list[str]) -> str:
    head = "<tr><th>sign</th><th>frames</th><th>refs</th>" + "".join(
        f"<th>{s}: read (CER)</th><th>{s}: translation</th><th>{s}: time to translation</th>" for s in sides) + "</tr>"
    rows = []
    for i, sign in enumerate(results[sides[0]]["signs"]):
        cells = [html.escape(sign["text"]), f"{sign['first_frame']}–{sign['last_frame']}", html.escape(" | ".join(sign["refs"]))]
        for s in sides:
            other = results[s]["signs"][i]
            mark = "found" if other["found"] else "missed"
            cells += [f"<span class='{mark}'>{html.escape(other['read'] or '—')}</span> ({other['best_cer']:.2f})",
                      html.escape(other["translation"] or "—"),
                      format_ms(other["ttt_ms"])]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}.found{color:#1a7f37}.missed{color:#c62828}img{max-width:100%}p.note{color:#555;font-size:13px}"""


def write_report(results: dict, events: dict[str, Events], path: Path) -> None:
    sides = [s for s in events]
    run = results["run"]
    profile = f"profile {run['profile']}" if run.get("profile") else "default settings"
    cores = f", {run['cores']} core(s)" if run.get("cores") else ""
    mode = "real time (frames offered at the video's fps, late ones dropped)" if run["realtime"] else \
        "analysis (every frame processed, as fast as possible)"
    speedup = (f"<p><b>Speed-up:</b> the pipeline needs {results['speedup']:.1f}× less time per frame than the "
               "naive baseline.</p>") if results.get("speedup") else ""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>ar-translate bench: {html.escape(Path(run['video']).name)}"
        f"</title><style>{STYLE}</style></head><body>",
        f"<h1>Benchmark: {html.escape(Path(run['video']).name)}</h1>",
        f"<p>{html.escape(run['source'])} → {html.escape(run['target'])}, mode: {mode}; {profile}{cores}; "
        f"{html.escape(run['cpu'])}; ground truth {html.escape(Path(run['gt']).name)}"
        + (f"; first {run['max_frames']} frames" if run["max_frames"] else "") + ".</p>",
        "".join(f"<p class='missed'><b>FAILED:</b> {html.escape(reason)}</p>" for reason in results.get("failed", [])),
        "<h2>Side by side</h2>", _table(results, sides), speedup,
        "<p class='note'>A sign is found when some frame of its visible span shows a reading with CER ≤ 0.25; time to "
        "translation runs from the sign's first frame entering to the first frame showing a reading with CER ≤ 0.34 "
        "whose translation has CER ≤ 0.5 to an accepted translation. Definitions: benchmarks/README.md.</p>",
        "<h2>Per sign</h2>", _signs_table(results, sides),
        "<h2>Time to translation per sign</h2>", f"<img src='{ttt_plot(results, sides)}'>",
        "<h2>Per-stage latency</h2>", f"<img src='{stage_plot(events)}'>",
        "<h2>Frame timeline</h2>", f"<img src='{timeline_plot(events)}'>",
        "<h2>Memory over time</h2>", f"<img src='{rss_plot(events)}'>",
        "</body></html>",
    ]
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)
