"""The benchmark scorer on hand-made event files: every rule of benchmarks/README.md, edge cases included."""

from __future__ import annotations

import json

import pytest

from benchmarks.score import load_events, load_gt, nearest_rank, score
from edge.errors import InputError


def frame(index: int, regions=(), dropped=False, captured=None, emitted=None) -> dict:
    captured = index * 100.0 if captured is None else captured
    return {"type": "frame", "frame": index, "pts_ms": index * 100.0, "captured_ms": captured,
            "emitted_ms": None if dropped else (captured + 20.0 if emitted is None else emitted), "dropped": dropped,
            "regions": [] if dropped else list(regions)}


def region(text, translation=None, source="local"):
    return {"id": 1, "box": [0, 0, 10, 10], "text": text, "ocr_conf": 0.9, "translation": translation,
            "translation_source": source if translation is not None else None}


def write_events(path, frames, frames_total=None, wall_s=1.0):
    dropped = sum(f["dropped"] for f in frames)
    summary = {"type": "summary", "frames": frames_total or len(frames), "dropped": dropped, "wall_s": wall_s,
               "peak_rss_mb": 150.0, "stage_ms": {"detect": {"p50": 1, "p95": 2, "n": 3}},
               "cloud": {"requests": 0, "ok": 0, "timeouts": 0, "circuit_open_s": 0}}
    path.write_text("".join(json.dumps(r) + "\n" for r in [*frames, summary]))
    return load_events(path)


GT = {"fps": 10, "source": "de", "target": "en", "segments": [
    {"text": "Ausgang", "refs": ["exit", "way out"], "first_frame": 0, "last_frame": 3},
    {"text": "Halt", "refs": ["stop"], "first_frame": 2, "last_frame": 5},
]}


def test_found_uses_the_best_reading_of_the_segment_and_cer_at_most_a_quarter(tmp_path):
    events = write_events(tmp_path / "e.jsonl", [
        frame(0, [region("Ausgan9")]),  # 1/7 = 0.143: found
        frame(1), frame(2, [region("Hals")]), frame(3), frame(4), frame(5),  # 1/4 = 0.25 exactly: found
    ])
    result = score(events, GT)
    assert result["signs_found"] == 2 and result["segments"] == 2
    assert [s["best_cer"] for s in result["signs"]] == [pytest.approx(0.143), 0.25]
    assert result["mean_cer"] == pytest.approx((1 / 7 + 0.25) / 2, abs=1e-3)


def test_not_found_when_every_reading_is_worse_than_a_quarter_or_outside_the_segment(tmp_path):
    events = write_events(tmp_path / "e.jsonl", [
        frame(0, [region("Ausg")]),  # 3/7 = 0.43
        frame(1), frame(2), frame(3), frame(4), frame(5), frame(6, [region("Halt")]),  # after the segment
    ])
    result = score(events, GT)
    assert result["signs_found"] == 0
    assert [s["best_cer"] for s in result["signs"]] == [pytest.approx(3 / 7, abs=1e-3), 1.0]  # nothing seen: 1.0
    assert result["signs"][1]["read"] is None and result["signs"][1]["translation"] == ""


def test_the_clock_starts_when_the_sign_is_no_longer_partly_hidden(tmp_path):
    """A segment starts when less than half of the sign is hidden; the clock, when none of it is."""
    gt = {**GT, "frames": [
        {"frame": 0, "regions": [{"text": "Ausgang", "box": [0, 0, 9, 9], "occluded": 0.4}]},
        {"frame": 1, "regions": [{"text": "Ausgang", "box": [0, 0, 9, 9], "occluded": 0.1}]},
        {"frame": 2, "regions": [{"text": "Ausgang", "box": [0, 0, 9, 9]}, {"text": "Halt", "box": [9, 9, 9, 9]}]},
        {"frame": 3, "regions": [{"text": "Ausgang", "box": [0, 0, 9, 9]}, {"text": "Halt", "box": [9, 9, 9, 9]}]},
    ]}
    events = write_events(tmp_path / "e.jsonl", [
        frame(0, [region("Aus", "off")]),
        frame(1, [region("Ausgan", "exit")]),  # right, but before the clock started: not counted
        frame(2, [region("Ausgang", "exit"), region("Halt", "stop")]),
        frame(3, [region("Ausgang", "exit")]),
    ])
    ausgang, halt = score(events, gt)["signs"]
    assert ausgang["clear_frame"] == 2 and ausgang["ttt_ms"] == 20.0  # emitted 220 − captured 200 of frame 2
    assert ausgang["found"] and ausgang["best_cer"] == 0.0  # found is scored over the whole segment
    assert halt["clear_frame"] == 2 and halt["ttt_ms"] == 20.0  # never hidden: its first frame
    assert score(events, GT)["signs"][0]["ttt_ms"] == 120.0  # no frames in the truth: the segment's first


def test_text_is_compared_normalised(tmp_path):
    events = write_events(tmp_path / "e.jsonl", [frame(0, [region("AUSGANG!", "EXIT")]), frame(1), frame(2), frame(3)])
    sign = score(events, GT)["signs"][0]
    assert sign["best_cer"] == 0.0 and sign["found"]
    assert sign["ttt_ms"] == 20.0  # "EXIT" matches the reference "exit"


def test_time_to_translation_is_from_the_segments_first_frame_to_the_first_right_translation(tmp_path):
    events = write_events(tmp_path / "e.jsonl", [
        frame(0, [region("Ausgang")]),  # read, not translated yet
        frame(1, [region("Ausgang", "entrance")]),  # wrong translation: CER to both refs > 0.5
        frame(2, [region("Ausgang", "exit")], captured=200.0, emitted=260.0),
        frame(3, [region("Ausgang", "exit")]),
    ])
    sign = score(events, GT)["signs"][0]
    assert sign["ttt_ms"] == 260.0  # emitted 260 − captured 0 of frame 0
    # chrF takes the best reading's translation: of equally good readings, the earliest one carrying a
    # translation — whether or not that translation is right.
    assert sign["translation"] == "entrance"


def test_time_to_translation_is_infinite_when_never_right_and_percentiles_report_it(tmp_path):
    events = write_events(tmp_path / "e.jsonl", [
        frame(0, [region("Ausgang", "exit")]),
        frame(1), frame(2, [region("Hlt", "stop")]),  # text CER 0.25 ≤ 0.34 counts for time to translation
        frame(3), frame(4), frame(5),
    ])
    result = score(events, GT)
    assert [s["ttt_ms"] for s in result["signs"]] == [20.0, 20.0]
    events = write_events(tmp_path / "f.jsonl", [
        frame(0, [region("Ausgang", "exit")]), frame(1), frame(2, [region("Halt", "hold")]), frame(3), frame(4), frame(5),
    ])
    result = score(events, GT)
    assert result["signs"][1]["ttt_ms"] is None and result["never_translated"] == 1
    assert result["ttt_p50_ms"] == 20.0 and result["ttt_p95_ms"] is None  # 1 of 2 infinite: p50 finite, p95 not
    assert result["signs"][1]["ttt_any_ms"] == 20.0  # "hold" is wrong, but it is a translation
    assert result["ttt_any_p95_ms"] == 20.0
    events = write_events(tmp_path / "g.jsonl", [frame(i) for i in range(6)])
    result = score(events, GT)
    assert result["ttt_p50_ms"] is None and result["never_translated"] == 2 and result["chrf"] == 0.0


def test_dropped_frames_show_nothing_and_do_not_count_as_emitted(tmp_path):
    frames = [
        frame(0, dropped=True, captured=0.0),  # the segment starts on a dropped frame
        frame(1, dropped=True, captured=100.0),
        frame(2, [region("Ausgang", "way out")], captured=200.0, emitted=240.0),
        frame(3, dropped=True), frame(4), frame(5),
    ]
    frames[1]["regions"] = [region("Ausgang", "exit")]  # a dropped frame's regions are never shown: ignored
    events = write_events(tmp_path / "e.jsonl", frames, wall_s=0.6)
    result = score(events, GT)
    assert result["signs"][0]["ttt_ms"] == 240.0 and result["signs"][0]["translation"] == "way out"
    assert result["frames"] == 6 and result["frames_emitted"] == 3
    assert result["ms_per_frame"] == 100.0  # wall time / frames, dropped ones included


def test_segments_outside_the_recorded_frames_are_not_scored(tmp_path):
    events = write_events(tmp_path / "e.jsonl", [frame(0, [region("Ausgang", "exit")]), frame(1)])  # --max-frames 2
    result = score(events, GT)
    assert result["segments"] == 1 and result["signs_found"] == 1


def test_chrf_is_corpus_chrf_of_normalised_translations_against_any_reference(tmp_path):
    events = write_events(tmp_path / "e.jsonl", [
        frame(0, [region("Ausgang", "Way out!")]), frame(1), frame(2, [region("Halt", "STOP")]), frame(3), frame(4), frame(5),
    ])
    assert score(events, GT)["chrf"] == 100.0


def test_nearest_rank_percentiles():
    assert nearest_rank([30.0, 10.0, 20.0], 50) == 20.0
    assert nearest_rank([10.0, float("inf")], 50) == 10.0
    assert nearest_rank([10.0, float("inf")], 95) == float("inf")
    assert nearest_rank(list(range(1, 21)), 95) == 19


def test_files_that_are_not_events_or_ground_truth_get_clear_errors(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "frame", "frame": 0}\n')
    with pytest.raises(InputError, match="no summary record"):
        load_events(bad)
    bad.write_text("not json\n")
    with pytest.raises(InputError, match=":1: not JSON"):
        load_events(bad)
    gt = tmp_path / "gt.json"
    gt.write_text('{"segments": [{"text": "Halt"}]}')
    with pytest.raises(InputError, match="lacks"):
        load_gt(gt)
    with pytest.raises(InputError, match="cannot read"):
        load_gt(tmp_path / "missing.json")


def test_frame_latency_and_cpu_share_come_from_the_frame_records(tmp_path):
    frames = [frame(i, captured=i * 100.0, emitted=i * 100.0 + (5.0 if i < 9 else 50.0)) for i in range(10)]
    for i, record in enumerate(frames):
        record["cpu_ms"] = i * 25.0  # a quarter of a core
    result = score(write_events(tmp_path / "e.jsonl", frames), GT)
    assert result["frame_latency_p50_ms"] == 5.0 and result["frame_latency_p95_ms"] == 50.0
    assert result["cpu_share_after_1s"] is None  # every frame was emitted within the first second
    frames = [frame(i, captured=i * 200.0, emitted=i * 200.0 + 5.0) for i in range(10)]
    for i, record in enumerate(frames):
        record["cpu_ms"] = i * 50.0
    assert score(write_events(tmp_path / "f.jsonl", frames), GT)["cpu_share_after_1s"] == 0.25


def test_a_notice_is_judged_as_a_whole_when_a_block_shows_it_and_its_lines_are_not_judged_alone(tmp_path):
    lines = [{"text": "Bitte Schuhe", "box": [100, 100, 200, 30], "notice": "Bitte Schuhe ausziehen"},
             {"text": "ausziehen", "box": [100, 140, 180, 30], "notice": "Bitte Schuhe ausziehen"}]
    gt = {"fps": 10, "width": 640, "height": 480, "segments": [], "frames": [{"frame": i, "regions": lines} for i in range(4)],
          "notices": [{"text": "Bitte Schuhe ausziehen", "lines": ["Bitte Schuhe", "ausziehen"],
                       "refs": ["please take off your shoes"], "first_frame": 0, "last_frame": 3}]}

    def line(rid, text, translation, y, block):
        return {"id": rid, "box": [98, y, 204, 34], "text": text, "translation": translation, "block": block}

    whole = {"id": 1, "regions": [1, 2], "box": [98, 98, 204, 76], "text": "Bitte Schuhe ausziehen",
             "translation": "please take off your shoes"}
    part = {"id": 1, "regions": [1], "box": [98, 98, 204, 34], "text": "Bitte Schuhe", "translation": "please footwear"}
    records = [
        frame(0, [line(1, "Bitte Schuhe", "please footwear", 98, None)]),  # a line drawn alone: judged as a line
        frame(1, [line(1, "Bitte Schuhe", "please footwear", 98, 1)]) | {"blocks": [part]},  # part of the notice
        frame(2, [line(1, "Bitte Schuhe", "please footwear", 98, 1), line(2, "ausziehen", "undress", 140, 1)])
        | {"blocks": [whole]},
        frame(3, [line(1, "Bitte Schuhe", "please footwear", 98, 1), line(2, "ausziehen", "undress", 140, 1)])
        | {"blocks": [whole | {"translation": None}]},  # being translated: nothing of it is drawn
    ]
    result = score(write_events(tmp_path / "e.jsonl", records), gt)
    assert result["wrong_overlay_frames"] == 0
    assert result["translated_fragment_frames"] == 1  # frame 1: "Bitte Schuhe" translated as if it were the notice
    notices = result["notices"]
    assert notices["shown"] == 1 and notices["shown_share"] == 0.25 and notices["ttt_p50_ms"] == 220.0
    assert notices["chrf_blocks"] == 100.0
    assert notices["notices"][0]["line_translations"] == "please footwear undress"
