"""Score a replay's events (JSONL, the event contract) against a scenario's ground truth (gt.json).

The definitions, exactly (also in ``benchmarks/README.md``):

- Text is compared normalised (``edge.textnorm.normalise``: NFC, lower-case, every
  non-alphanumeric character → space, whitespace collapsed); CER = Levenshtein distance / length
  of the reference.
- A ground-truth **segment** is one sign's visible span ``first_frame..last_frame``. Only frames the
  events cover count: a segment that starts after the last recorded frame is not scored, one that
  runs past it is cut there. Regions of dropped frames do not exist (nothing was shown).
- A sign is **found** when any region in any frame of its segment has CER ≤ 0.25 to the sign text.
  ``mean_cer`` averages, over segments, the best CER seen (1.0 when nothing was seen).
- ``chrf``: sacrebleu corpus chrF of, per segment, the translation of the best-CER region (empty
  if none) against the segment's ``refs``, both normalised. Of regions with equal CER, the one
  carrying a translation, then the earliest, is the best.
- **Time to translation** of a sign: ``emitted_ms`` of the first non-dropped frame of the segment
  in which a region with CER ≤ 0.34 carries a translation with CER ≤ 0.5 to some reference, minus
  ``captured_ms`` of the segment's first *clear* frame (the first whose ground truth does not mark
  the sign partly hidden by a passer-by; the segment's first frame when the truth has no frames);
  infinite when that never happens. p50 and p95 over
  segments use the nearest-rank method, so an infinity is reported as ``null`` in JSON when more
  than 50 % (5 %) of the signs were never translated. ``ttt_any_*`` (an addition) is the same clock
  stopped by any translation of such a reading, right or wrong: speed apart from translation quality.
- **Wrong overlay frames**: emitted frames showing at least one region that covers no true sign
  (no sign in the picture, visible or not, holds 30 % of the region's box) or whose text is far from
  the sign under it (CER > 0.5 to the sign holding most of its box). Regions within 4 px of the
  frame's edge (signs entering or leaving) are not judged, nor regions over a sign that is only
  partly in view (cut by the edge, or mostly hidden: the truth's ``partly`` list). Goal: 0.
- **Translated fragment frames** (an addition): emitted frames showing a region that carries a
  translation, lies over a visible sign (judged as above) and whose text is not that sign's (CER >
  0.34, the time-to-translation threshold): a piece of the sign ("No" of "Notausgang", a word cut by
  a lamp post) or a misreading, translated and drawn as if it were the sign. Goal: 0.
- **Notices** (an addition, when the truth has ``notices``: lines of one notice on one plate): a notice
  is *shown* in a frame when a text block (``blocks`` of the frame record) carries a translation and
  reads the notice (CER ≤ 0.25 to its whole text); ``shown_share`` is the share of the frames in which
  every line is in view that show it; the time to translation of a notice runs from its span's first
  frame to the first frame showing it; ``chrf_blocks`` scores the first translation shown against
  the notice's references, ``chrf_lines`` the lines' own translations joined in reading order (what
  line-by-line drawing would show; the line regions carry them) from the first frame in which every
  line has one. Wrong overlay and translated fragment frames judge what is drawn: lines drawn alone
  against the truth's lines, a text block against the truth's notices (a block over no notice, or far
  from the one under it, is a wrong overlay; a block over a notice in view that reads only part of it
  is a translated fragment); the lines of a block are not drawn alone.
- Also: frames, frames emitted (not dropped), ms per frame (wall time / frames), peak RSS and the
  per-stage p50/p95 from the summary record; and (additions) the CPU share after the first second
  (process CPU time ÷ wall time between frame records, 1.0 = one core busy) and the work done
  (keyframes, OCR reads, texts the translation model had to translate).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from benchmarks.metrics import cer
from edge.errors import InputError, RuntimeMissing
from edge.langid import UNTRANSLATED
from edge.textnorm import normalise

FOUND_CER = 0.25
TTT_TEXT_CER = 0.34
TTT_TRANSLATION_CER = 0.5
WRONG_TEXT_CER = 0.5  # an overlay whose text is further than this from the sign under it is wrong
COVER_SHARE = 0.3  # a sign holding less than this share of a region's box is not under it
EDGE_PX = 4  # regions this close to the frame's edge are not judged


@dataclass
class Events:
    frames: dict[int, dict]  # frame index → frame record
    summary: dict


def load_events(path: Path) -> Events:
    """Frame records by index and the summary; a clear error for a file that is not an event log."""
    frames: dict[int, dict] = {}
    summary = None
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read events {path}: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise InputError(f"{path}:{number}: not JSON") from None
        if record.get("type") == "frame":
            frames[int(record["frame"])] = record
        elif record.get("type") == "summary":
            summary = record
    if summary is None:
        raise InputError(f"{path}: no summary record (the run did not finish)")
    return Events(frames, summary)


def load_gt(path: Path) -> dict:
    try:
        gt = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read ground truth {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError:
        raise InputError(f"ground truth {path} is not JSON") from None
    if not isinstance(gt, dict) or not isinstance(gt.get("segments"), list):
        raise InputError(f"ground truth {path} has no 'segments' list")
    for segment in gt["segments"]:
        if not {"text", "refs", "first_frame", "last_frame"} <= segment.keys():
            raise InputError(f"ground truth {path}: a segment lacks text, refs, first_frame or last_frame")
    return gt


def nearest_rank(values: list[float], percent: float) -> float:
    """The smallest value with at least ``percent`` % of the values at or below it (inf-safe)."""
    if not values:
        return math.inf
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100.0 * len(ordered)) - 1)]


def format_ms(value: float | None) -> str:
    """A time-to-translation figure for people: ``None`` (infinite) reads "never"."""
    return "never" if value is None else f"{value:.0f} ms"


def _finite(value: float) -> float | None:
    return None if math.isinf(value) else round(value, 1)


def clear_frame(segment: dict, truth_frames: dict[int, dict]) -> int:
    """The segment's first frame in which the sign is not partly hidden: where its clock starts (a
    reader cannot translate letters behind a passer-by). The first frame when none is clear, or when
    the truth lists no frames."""
    for index in range(segment["first_frame"], segment["last_frame"] + 1):
        regions = truth_frames.get(index, {}).get("regions", [])
        if any(r["text"] == segment["text"] and not r.get("occluded") for r in regions):
            return index
    return segment["first_frame"]


def score_segment(segment: dict, events: Events, clock_frame: int | None = None) -> dict | None:
    """One sign's result; None when the events do not cover the segment's first frame. The time to
    translation runs from ``clock_frame`` (default: the segment's first frame)."""
    first, last = segment["first_frame"], segment["last_frame"]
    if first not in events.frames:
        return None
    clock = first if clock_frame is None or clock_frame not in events.frames else clock_frame
    text, refs = segment["text"], segment["refs"]
    best = None  # (cer, has no translation, frame, order, region)
    ttt = ttt_any = math.inf
    for index in range(first, last + 1):
        record = events.frames.get(index)
        if record is None or record.get("dropped"):
            continue
        for order, region in enumerate(record.get("regions", [])):
            error = cer(region.get("text") or "", text)
            translation = region.get("translation")
            key = (error, translation is None, index, order)
            if best is None or key < best[:4]:
                best = (*key, region)
            if error > TTT_TEXT_CER or translation is None or index < clock:
                continue
            waited = record["emitted_ms"] - events.frames[clock]["captured_ms"]
            ttt_any = min(ttt_any, waited)
            if math.isinf(ttt) and min(cer(translation, ref) for ref in refs) <= TTT_TRANSLATION_CER:
                ttt = waited
    region = best[4] if best else None
    return {"text": text, "first_frame": first, "clear_frame": clock, "last_frame": last,
            "best_cer": round(best[0], 3) if best else 1.0,
            "found": bool(best and best[0] <= FOUND_CER), "read": region.get("text") if region else None,
            "translation": (region.get("translation") or "") if region else "", "refs": refs, "ttt_ms": ttt,
            "ttt_any_ms": ttt_any, "source_lang": region.get("source_lang") if region else None}


def frame_latency(frames: list[dict]) -> dict:
    """p50/p95 of emitted − captured over emitted frames: how long the display path holds a frame."""
    waits = [r["emitted_ms"] - r["captured_ms"] for r in frames if not r.get("dropped") and r.get("emitted_ms") is not None]
    if not waits:
        return {"frame_latency_p50_ms": None, "frame_latency_p95_ms": None}
    return {"frame_latency_p50_ms": round(nearest_rank(waits, 50), 1), "frame_latency_p95_ms": round(nearest_rank(waits, 95), 1)}


def cpu_share(frames: list[dict], after_ms: float) -> float | None:
    """CPU time used ÷ wall time elapsed between the first frame emitted after ``after_ms`` and the
    last one (1.0 = one core busy); None when the records carry no ``cpu_ms``."""
    shown = sorted((r for r in frames if not r.get("dropped") and r.get("cpu_ms") is not None),
                   key=lambda r: r["emitted_ms"])
    later = [r for r in shown if r["emitted_ms"] >= after_ms]
    if len(later) < 2 or later[-1]["emitted_ms"] <= later[0]["emitted_ms"]:
        return None
    first, last = later[0], later[-1]
    return round((last["cpu_ms"] - first["cpu_ms"]) / (last["emitted_ms"] - first["emitted_ms"]), 3)


def intersection(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy


def _sign_under(region: dict, truth: dict, size: tuple[int, int]) -> tuple[dict, bool] | str | None:
    """The true sign holding most of ``region``'s box and whether it is only partly in view; "no sign"
    when none holds enough of it; None when the region is not judged (at the frame's edge)."""
    x, y, w, h = region["box"]
    width, height = size
    if x <= EDGE_PX or y <= EDGE_PX or x + w >= width - EDGE_PX or y + h >= height - EDGE_PX or w * h <= 0:
        return None
    signs = [(r, False) for r in truth.get("regions", [])] + [(r, True) for r in truth.get("partly", [])]
    under = max(signs, key=lambda s: intersection(region["box"], s[0]["box"]), default=None)
    if under is None or intersection(region["box"], under[0]["box"]) < COVER_SHARE * w * h:
        return "no sign"
    return under


def wrong_overlay(region: dict, truth: dict, size: tuple[int, int]) -> str | None:
    """Why ``region`` is a wrong overlay in a frame with ``truth`` ("no sign", "other text"), or
    None when it is right or not judged."""
    under = _sign_under(region, truth, size)
    if under is None or isinstance(under, str):
        return under
    if under[1]:
        return None
    return "other text" if cer(region.get("text") or "", under[0]["text"]) > WRONG_TEXT_CER else None


def translated_fragment(region: dict, truth: dict, size: tuple[int, int]) -> bool:
    """A translated region over a visible sign whose reading is not the sign's text."""
    if region.get("translation") is None:
        return False
    under = _sign_under(region, truth, size)
    if under is None or isinstance(under, str) or under[1]:
        return False
    return cer(region.get("text") or "", under[0]["text"]) > TTT_TEXT_CER


def drawn(record: dict) -> tuple[list[dict], list[dict]]:
    """What a frame shows: its lines drawn alone, and its translated text blocks. The lines of a block are
    not drawn alone (nothing of a block is drawn while it has no translation)."""
    members = {rid for b in record.get("blocks", []) for rid in b["regions"]}
    return ([r for r in record.get("regions", []) if r.get("id") not in members
             and r.get("translation_source") not in UNTRANSLATED],
            [b for b in record.get("blocks", []) if b.get("translation")])


def notice_truth(truth: dict) -> dict:
    """The truth with each notice as one sign: its whole text and the box around its lines; partly in
    view when any of its lines is. What a text block is judged against."""
    boxes: dict[str, list[list[int]]] = {}
    partial: set[str] = set()
    out: dict[str, list[dict]] = {"regions": [], "partly": []}
    for kind in ("regions", "partly"):
        for region in truth.get(kind, []):
            if region.get("notice"):
                boxes.setdefault(region["notice"], []).append(region["box"])
                if kind == "partly":
                    partial.add(region["notice"])
            else:
                out[kind].append(region)
    for notice, lines in boxes.items():
        out["partly" if notice in partial else "regions"].append({"text": notice, "box": _union(lines)})
    return out


def wrong_overlays(events: Events, truth_frames: dict[int, dict], size: tuple[int, int], examples: int = 10) -> dict:
    """Frames showing a wrong overlay or a translated fragment, and the first few of each (what a user saw)."""
    frames = fragments = 0
    shown, pieces = [], []
    for index, record in sorted(events.frames.items()):
        truth = truth_frames.get(index)
        if truth is None or record.get("dropped"):
            continue
        lines, blocks = drawn(record)
        notices = notice_truth(truth) if blocks else truth
        judged = [(r, truth) for r in lines] + [(b, notices) for b in blocks]
        wrong = [(r, why) for r, against in judged if (why := wrong_overlay(r, against, size))]
        frames += bool(wrong)
        for region, why in wrong:
            if len(shown) < examples and all(e["text"] != region.get("text") for e in shown):
                shown.append({"frame": index, "text": region.get("text"), "translation": region.get("translation"),
                              "why": why})
        cut = [r for r, against in judged if translated_fragment(r, against, size)]
        fragments += bool(cut)
        for region in cut:
            if len(pieces) < examples and all(e["text"] != region.get("text") for e in pieces):
                pieces.append({"frame": index, "text": region.get("text"), "translation": region.get("translation")})
    return {"wrong_overlay_frames": frames, "wrong_overlay_examples": shown,
            "translated_fragment_frames": fragments, "translated_fragment_examples": pieces}


def _union(boxes: list[list[int]]) -> list[int]:
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    return [x0, y0, x1 - x0, y1 - y0]


def score_notices(events: Events, gt: dict) -> dict:
    """The notices' figures (see the module's docstring)."""
    truth_frames = {f["frame"]: f for f in gt.get("frames", [])}
    rows = []
    for notice in gt["notices"]:
        first, last, text = notice["first_frame"], notice["last_frame"], notice["text"]
        if first not in events.frames:
            continue
        covered = shown = 0
        ttt, block, lines = math.inf, None, None
        for index in range(first, last + 1):
            record = events.frames.get(index)
            if record is None or record.get("dropped"):
                continue
            covered += 1
            place = next((r["box"] for r in notice_truth(truth_frames.get(index, {}))["regions"] if r["text"] == text), None)
            hit = next((b for b in record.get("blocks", []) if b.get("translation") and cer(b["text"], text) <= FOUND_CER
                        and place and intersection(b["box"], place) > 0), None)
            if hit:
                shown += 1
                if block is None:
                    block, ttt = hit["translation"], record["emitted_ms"] - events.frames[first]["captured_ms"]
            if lines is None:
                read = [next((r.get("translation") for r in record.get("regions", []) if r.get("translation")
                              and cer(r.get("text") or "", line) <= TTT_TEXT_CER), None) for line in notice["lines"]]
                lines = " ".join(read) if all(read) else None
        rows.append({"text": text, "refs": notice["refs"], "first_frame": first, "last_frame": last,
                     "shown_share": round(shown / covered, 3) if covered else 0.0, "ttt_ms": ttt,
                     "block_translation": block, "line_translations": lines})
    times = [r["ttt_ms"] for r in rows]
    refs = [r["refs"] for r in rows]
    return {
        "count": len(rows), "shown": sum(r["block_translation"] is not None for r in rows),
        "shown_share": round(sum(r["shown_share"] for r in rows) / len(rows), 3) if rows else None,
        "ttt_p50_ms": _finite(nearest_rank(times, 50)) if rows else None,
        "ttt_p95_ms": _finite(nearest_rank(times, 95)) if rows else None,
        "chrf_blocks": chrf([r["block_translation"] or "" for r in rows], refs) if rows else None,
        "chrf_lines": chrf([r["line_translations"] or "" for r in rows], refs) if rows else None,
        "notices": [{**r, "ttt_ms": _finite(r["ttt_ms"])} for r in rows],
    }


def chrf(hypotheses: list[str], references: list[list[str]]) -> float:
    """sacrebleu corpus chrF on normalised text; each hypothesis may have several references."""
    try:
        import sacrebleu
    except ImportError as exc:
        raise RuntimeMissing("scoring needs sacrebleu: pip install 'ar-translate[bench]'") from exc

    width = max((len(refs) for refs in references), default=1)
    # sacrebleu wants equally long reference streams: repeat a sign's first reference to fill them.
    streams = [[normalise(refs[i] if i < len(refs) else refs[0]) for refs in references] for i in range(width)]
    return round(sacrebleu.corpus_chrf([normalise(h) for h in hypotheses], streams).score, 1)


def score(events: Events, gt: dict) -> dict:
    """The benchmark figures of one run (the shape of one side of ``results.json``)."""
    truth_frames = {f["frame"]: f for f in gt.get("frames", [])}
    signs = [s for s in (score_segment(seg, events, clear_frame(seg, truth_frames)) for seg in gt["segments"])
             if s is not None]
    summary = events.summary
    frames = list(events.frames.values())
    times = [s["ttt_ms"] for s in signs]
    return {
        "segments": len(signs),
        "signs_found": sum(s["found"] for s in signs),
        "mean_cer": round(sum(s["best_cer"] for s in signs) / len(signs), 3) if signs else None,
        "chrf": chrf([s["translation"] for s in signs], [s["refs"] for s in signs]) if signs else None,
        "ttt_p50_ms": _finite(nearest_rank(times, 50)) if signs else None,
        "ttt_p95_ms": _finite(nearest_rank(times, 95)) if signs else None,
        "never_translated": sum(math.isinf(t) for t in times),
        "ttt_any_p50_ms": _finite(nearest_rank([s["ttt_any_ms"] for s in signs], 50)) if signs else None,
        "ttt_any_p95_ms": _finite(nearest_rank([s["ttt_any_ms"] for s in signs], 95)) if signs else None,
        "frames": summary["frames"],
        "frames_emitted": sum(not r.get("dropped") for r in frames),
        "ms_per_frame": round(1000.0 * summary["wall_s"] / max(1, summary["frames"]), 2),
        "peak_rss_mb": summary["peak_rss_mb"],
        "stage_ms": summary.get("stage_ms", {}),
        "cpu_share_after_1s": cpu_share(frames, after_ms=1000.0),
        **frame_latency(frames),
        **(wrong_overlays(events, truth_frames, (gt.get("width", 640), gt.get("height", 480))) if truth_frames
           else {"wrong_overlay_frames": None, "wrong_overlay_examples": [], "translated_fragment_frames": None,
                 "translated_fragment_examples": []}),
        "work": {"keyframes": summary.get("keyframes"), "ocr_reads": summary.get("ocr_reads"),
                 "translations": (summary.get("translation_cache") or {}).get("misses")},
        "signs": [{**s, "ttt_ms": _finite(s["ttt_ms"]), "ttt_any_ms": _finite(s["ttt_any_ms"])} for s in signs],
    } | ({"notices": score_notices(events, gt)} if gt.get("notices") else {}) \
      | ({"languages": score_languages(signs, gt["languages"])} if gt.get("languages") else {})


def score_languages(signs: list[dict], truth: dict[str, str]) -> dict:
    """``--source auto``: of the signs found, how many were read in their own language (the best
    reading's ``source_lang``), overall and per language."""
    found = [s for s in signs if s["found"]]
    per = {}
    for lang in sorted({truth.get(s["text"], "de") for s in found}):
        mine = [s for s in found if truth.get(s["text"], "de") == lang]
        per[lang] = {"found": len(mine), "right": sum(s["source_lang"] == lang for s in mine)}
    right = sum(v["right"] for v in per.values())
    return {"found": len(found), "right": right, "share": round(right / len(found), 3) if found else None,
            "per_language": per}
