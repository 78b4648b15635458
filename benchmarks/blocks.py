"""Multi-line notices: translated as one text, or line by line? (issue 13, item 5)

Renders photos of German notices broken over 2–4 lines on one plate (every font and colour scheme,
left- or centre-aligned, line spacing 0.3–0.6 of the letter height, ±4° rotation, blur and noise),
and of posts holding two one-line signs a few pixels apart (which must stay two signs). Each photo
goes through the real pipeline (detector, Tesseract, the shipped translator) three times: with text
blocks (``edge/blocks.py``), with every line translated alone (``--no-blocks``), and as before both
(every line alone, and a plate that needs more room free to grow over the lines next to it).

Scored per photo: whether the notice's lines formed one block (and a post's two signs none); chrF and
exact match of what is drawn over the notice against its accepted translations (a block's
translation, or the lines' translations in reading order); and plates drawn over a line they were not
made for (more than ``COVER_SHARE`` of it hidden).

The notices are ``models/translator/notices_de.tsv`` (written before the translator was trained,
never trained on); the posts use ``sign_texts.tsv``. Line breaks are balanced by characters at word
boundaries, as notices are set.

    python -m benchmarks.blocks --notices 60 --posts 30 --out work/bench/blocks
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks.score import chrf, intersection
from benchmarks.signs import SignStyle, background, break_lines, degrade, paste_notice, paste_sign, random_style
from edge.blocks import BlockOptions
from edge.regions import iou
from edge.render import RenderOptions
from edge.textnorm import normalise
from models.translator.evaluate import load_notices, load_sign_texts

COVER_SHARE = 0.2  # a plate over more than this share of a line it was not drawn for hides that line
MODES = ("before", "line_by_line", "blocks")  # before: line by line, plates free to grow over other lines


def line_count(words: int, rng: np.random.Generator) -> int:
    """2 to 4 lines, never more than the notice has words."""
    return int(rng.integers(2, min(4, words) + 1))


def notice_photo(lines: list[str], seed: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    rng = np.random.default_rng(seed)
    scene = background(640, 480, rng)
    style = random_style(rng, (19, 27))
    style = SignStyle(style.font, style.scheme, style.text_px, float(rng.uniform(-4, 4)), style.perspective * 0.5)
    align = str(rng.choice(["left", "centre"]))
    placed = paste_notice(scene, lines, style, (320 + rng.uniform(-30, 30), 240 + rng.uniform(-40, 40)), rng, align,
                          float(rng.uniform(0.3, 0.6)))
    scene = degrade(scene, rng, blur_px=float(rng.uniform(0.3, 0.8)), noise_sigma=float(rng.uniform(2, 5)))
    return scene, [p.box for p in placed]


def post_photo(texts: list[str], seed: int) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Two one-line signs on one post, one under the other, their plates 0–10 px apart."""
    rng = np.random.default_rng(seed)
    scene = background(640, 480, rng)
    first = random_style(rng, (22, 30))
    first = SignStyle(first.font, first.scheme, first.text_px)
    second = first if rng.random() < 0.5 else SignStyle(first.font, str(rng.choice(["white-on-green", "black-on-white",
                                                                                     "white-on-blue"])), first.text_px)
    plate_h = first.text_px * 2.2
    gap = float(rng.uniform(0, 10))
    top = paste_sign(scene, texts[0], first, (320, 200), rng)
    bottom = paste_sign(scene, texts[1], second, (320, 200 + plate_h + gap), rng)
    scene = degrade(scene, rng, blur_px=float(rng.uniform(0.3, 0.8)), noise_sigma=float(rng.uniform(2, 5)))
    return scene, [top.box, bottom.box]


def _owner(box, truth: list[tuple[int, int, int, int]]) -> int | None:
    best = max(range(len(truth)), key=lambda i: iou(box, truth[i]), default=None)
    return best if best is not None and iou(box, truth[best]) >= 0.2 else None


def covered_lines(plates: list, truth: list[tuple[int, int, int, int]]) -> int:
    """Lines a plate hides (> ``COVER_SHARE``) that it was not drawn for."""
    hidden = 0
    for (x0, y0, x1, y1), made_for in plates:
        own = {_owner(b, truth) for b in made_for}
        hidden += sum(i not in own and intersection((x0, y0, x1 - x0, y1 - y0), box) > COVER_SHARE * box[2] * box[3]
                      for i, box in enumerate(truth))
    return hidden


def shown_text(result, truth: list[tuple[int, int, int, int]]) -> tuple[str, int]:
    """What is drawn over the notice, in reading order, and how many blocks it came from."""
    blocks = [b for b in result.blocks if b.translation and any(iou(b.box, t) > 0 for t in truth)]
    in_block = {rid for b in result.blocks for rid in b.regions}  # a block's lines are never drawn alone
    lines = [r for r in result.regions if r.id not in in_block and r.translation and _owner(r.box, truth) is not None]
    items = [(b.box[1], b.translation) for b in blocks] + [(r.box[1], r.translation) for r in lines]
    return " ".join(text for _, text in sorted(items)), len(blocks)


def run(notices: int, posts: int, seed: int) -> dict:
    from edge.replay import build_pipeline

    pipelines = {mode: build_pipeline("de", "en", False) for mode in MODES}
    for mode in ("before", "line_by_line"):
        pipelines[mode].blocks.grouper.options = BlockOptions(enabled=False)
    pipelines["before"].render_options = RenderOptions(keep_clear=False)
    rng = np.random.default_rng(seed)
    chosen = [n for n in load_notices() if len(n[1].split()) >= 3]
    chosen = [chosen[i] for i in sorted(rng.choice(len(chosen), size=min(notices, len(chosen)), replace=False))]
    signs = [t for t, _ in load_sign_texts() if len(t) <= 16]
    out: dict = {"notices": [], "posts": []}
    frame = 0
    for k, (kind, text, refs) in enumerate(chosen):
        lines = break_lines(text, line_count(len(text.split()), rng))
        image, truth = notice_photo(lines, seed * 1000 + k)
        row = {"kind": kind, "text": text, "lines": lines, "refs": refs}
        for mode, pipeline in pipelines.items():
            result = pipeline.process(frame, 0.0, image, new_scene=True)
            frame += 1
            shown, blocks = shown_text(result, truth)
            found = {_owner(r.box, truth) for r in result.regions} - {None}
            grouped = any(sorted(_owner(r.box, truth) for r in result.regions if r.id in b.regions) == list(range(len(lines)))
                          for b in result.blocks)
            row[mode] = {"shown": shown, "lines_found": len(found), "grouped": grouped,
                         "covered": covered_lines(result.plates, truth)}
        out["notices"].append(row)
    for k in range(posts):
        texts = [str(t) for t in rng.choice(signs, size=2, replace=False)]
        image, truth = post_photo(texts, seed * 1000 + 500 + k)
        result = pipelines["blocks"].process(frame, 0.0, image, new_scene=True)
        frame += 1
        owners = [{_owner(r.box, truth) for r in result.regions if r.id in b.regions} for b in result.blocks]
        out["posts"].append({"texts": texts, "found": len({_owner(r.box, truth) for r in result.regions} - {None}),
                             "merged": any(o >= {0, 1} for o in owners), "covered": covered_lines(result.plates, truth)})
    return out


def summarise(results: dict) -> dict:
    rows = results["notices"]
    summary = {}
    for mode in MODES:
        hyps = [r[mode]["shown"] for r in rows]
        refs = [r["refs"] for r in rows]
        summary[mode] = {
            "chrf": round(chrf(hyps, refs), 1),
            "exact": sum(normalise(h) in {normalise(x) for x in ref} for h, ref in zip(hyps, refs)),
            "grouped": sum(r[mode]["grouped"] for r in rows),
            "all_lines_read": sum(r[mode]["lines_found"] == len(r["lines"]) for r in rows),
            "covered_lines": sum(r[mode]["covered"] for r in rows),
        }
    posts = results["posts"]
    summary["notices"] = len(rows)
    summary["posts"] = {"count": len(posts), "both_read": sum(p["found"] == 2 for p in posts),
                        "merged": sum(p["merged"] for p in posts), "covered_lines": sum(p["covered"] for p in posts)}
    return summary


def report(summary: dict) -> str:
    n = summary["notices"]
    lines = [f"{n} notices over 2–4 lines, one plate each:",
             "| | before: line by line | line by line, plates kept off other lines | text blocks |", "|---|---|---|---|"]
    a, m, b = (summary[mode] for mode in MODES)
    rows = [("chrF of what is drawn", "chrf", ""), ("exact", "exact", f"/{n}"),
            ("every line read", "all_lines_read", f"/{n}"), ("lines hidden by a plate not drawn for them", "covered_lines", "")]
    lines += [f"| {label} | " + " | ".join(f"{s[key]}{unit}" for s in (a, m, b)) + " |" for label, key, unit in rows]
    lines.insert(-1, f"| lines grouped into one block | – | – | {b['grouped']}/{n} |")
    p = summary["posts"]
    lines += ["", f"{p['count']} posts with two one-line signs 0–10 px apart: both read {p['both_read']}, "
              f"merged into one block {p['merged']}, lines hidden by another's plate {p['covered_lines']}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notices", type=int, default=60)
    parser.add_argument("--posts", type=int, default=30)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("work/bench/blocks"))
    args = parser.parse_args()
    results = run(args.notices, args.posts, args.seed)
    summary = summarise(results)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"summary": summary, **results}, ensure_ascii=False, indent=1))
    print(report(summary))


if __name__ == "__main__":
    main()
