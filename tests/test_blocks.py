"""A notice over several lines is read, translated and drawn as one text; two signs on a post stay two.
Through the real pipeline (LiteRT detector, Tesseract, the shipped CTranslate2 model) on rendered photos."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from benchmarks.blocks import covered_lines, post_photo
from benchmarks.signs import SignStyle, background, degrade, paste_notice
from edge.blocks import BlockGrouper, BlockOptions, Line, join_lines
from edge.capture import Frame, FrameSource
from edge.pipeline import Pipeline
from edge.profiles import get_profile
from edge.render import Overlay, draw_overlay
from edge.textnorm import normalise
from tests.conftest import machine_pace

LINES = ["Halten Sie,", "was Sie versprechen.", "Und geben Sie noch was dazu."]


def notice(lines: list[str], seed: int = 3, scheme: str = "black-on-white", align: str = "left"):
    rng = np.random.default_rng(seed)
    scene = background(640, 480, rng)
    placed = paste_notice(scene, lines, SignStyle(scheme=scheme, text_px=26, rotation_deg=2), (320, 200), rng, align)
    return degrade(scene, rng, blur_px=0.5, noise_sigma=3), [p.box for p in placed]


@pytest.fixture
def pipeline(detector, recognizer, translator):
    return Pipeline(detector, recognizer, translator, profile=get_profile("pi4"))


def test_a_notice_over_three_lines_is_translated_as_one_text_and_drawn_as_one_plate(pipeline, translator):
    image, truth = notice(LINES)
    result = pipeline.process(0, 0.0, image, new_scene=True)
    assert len(result.blocks) == 1
    block = result.blocks[0]
    by_id = {r.id: r for r in result.regions}
    assert [normalise(by_id[i].text) for i in block.regions] == [normalise(t) for t in LINES]  # reading order
    assert normalise(block.text) == normalise(" ".join(LINES))
    assert block.text.count(".") == 2  # the sentence marks survive OCR: the translator splits sentences there
    whole = translator.translate([block.text])[0].text
    assert block.translation == whole
    line_by_line = " ".join(by_id[i].translation for i in block.regions)
    assert normalise(whole) != normalise(line_by_line)
    assert all(by_id[i].block == block.id for i in block.regions)
    assert len(result.plates) == 1 and covered_lines(result.plates, truth) == 0
    record = result.record()
    assert record["blocks"][0]["regions"] == block.regions and record["blocks"][0]["translation"] == whole


def test_line_by_line_is_what_blocks_replace(detector, recognizer, translator):
    lines_only = Pipeline(detector, recognizer, translator, profile=get_profile("pi4"), block_options=BlockOptions(enabled=False))
    image, truth = notice(LINES)
    result = lines_only.process(0, 0.0, image, new_scene=True)
    assert not result.blocks and len(result.plates) == 3
    assert covered_lines(result.plates, truth) == 0  # each line's plate stays off the lines above and below


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_signs_on_a_post_stay_two_signs(pipeline, seed):
    image, truth = post_photo(["Ausgang", "Toiletten"], seed)
    result = pipeline.process(0, 0.0, image, new_scene=True)
    assert {normalise(r.text) for r in result.regions} == {"ausgang", "toiletten"}
    assert not result.blocks
    assert all(r.block is None and r.translation for r in result.regions)
    assert covered_lines(result.plates, truth) == 0


def test_a_block_in_a_video_is_drawn_on_every_frame_once_translated_also_in_real_time(detector, recognizer, translator):
    image, _ = notice(["Bitte nicht", "auf die Gleise", "treten."], seed=5, scheme="white-on-blue", align="centre")
    rng = np.random.default_rng(1)
    frames = []
    for k in range(30):
        moved = cv2.warpAffine(image, np.float32([[1, 0, k * 0.5], [0, 1, 0]]), (640, 480), borderMode=cv2.BORDER_REFLECT)
        frames.append(np.clip(moved + rng.normal(0, 2, moved.shape), 0, 255).astype(np.uint8))
    for realtime in (False, True):
        pipeline = Pipeline(detector, recognizer, translator, profile=get_profile("pi4"))
        pipeline.pace = machine_pace() if realtime else 1.0  # a slow machine sees the video slowed as much
        source = FrameSource("synthetic", 15.0, len(frames), iter(Frame(i, i * 1000.0 / 15, f) for i, f in enumerate(frames)))
        results = [r for r in pipeline.run(source, realtime=realtime) if not r.dropped]
        first = next(i for i, r in enumerate(results) if any(b.translation for b in r.blocks))
        shown = results[first:]
        assert len(shown) >= len(results) // 2
        # once drawn, the notice is one block with one translation on every frame: no flicker back to lines
        assert all(len(r.blocks) == 1 and r.blocks[0].translation == shown[0].blocks[0].translation for r in shown)
        assert normalise(shown[0].blocks[0].text) == normalise("Bitte nicht auf die Gleise treten.")
        assert pipeline.blocks.translated >= 1
        assert pipeline.summary()["block_translations"] == pipeline.blocks.translated


def test_a_hyphen_at_a_line_end_joins_the_word():
    assert join_lines(["Kein Ein-", "gang"]) == "Kein Eingang"
    assert join_lines(["Park-", "Ride-Platz"]) == "Park-Ride-Platz"
    assert join_lines(["Halten Sie,", " was Sie versprechen."]) == "Halten Sie, was Sie versprechen."


def test_grouping_needs_the_same_plate_between_the_lines():
    image = np.full((200, 300, 3), 240, np.uint8)
    a, b = Line(1, (20, 20, 200, 30), "Bitte nicht"), Line(2, (20, 52, 180, 30), "rauchen")
    assert [blk.ids for blk in BlockGrouper().group(image, [b, a])] == [(1, 2)]
    cv2.line(image, (0, 51), (299, 51), (20, 20, 20), 2)  # a plate's border between them: two signs
    assert BlockGrouper().group(image, [a, b]) == []
    far = Line(3, (20, 120, 180, 30), "rauchen")  # too far below
    assert BlockGrouper().group(np.full((200, 300, 3), 240, np.uint8), [a, far]) == []
    tall = Line(4, (20, 52, 180, 70), "RAUCHEN")  # another size of letters
    assert BlockGrouper().group(np.full((200, 300, 3), 240, np.uint8), [a, tall]) == []


def test_a_plate_that_needs_more_room_does_not_grow_over_the_next_line():
    image = np.full((120, 200, 3), 200, np.uint8)
    upper, lower = (60, 20, 40, 14), (60, 36, 40, 14)  # two small lines, 2 px apart
    plates: list = []
    draw_overlay(image, [Overlay(upper, "emergency exit here", True), Overlay(lower, "toilets", True)], plates=plates)
    assert len(plates) == 2
    (x0, y0, x1, y1), _ = plates[0]
    assert y1 <= lower[1] and x1 - x0 >= upper[2]


def test_replay_writes_blocks_in_the_events_and_no_blocks_turns_them_off(tmp_path):
    from tests.conftest import run_cli

    image, _ = notice(LINES)
    photo = tmp_path / "notice.png"
    cv2.imwrite(str(photo), image)
    for flags, expected in (([], 1), (["--no-blocks"], 0)):
        events = tmp_path / f"events{len(flags)}.jsonl"
        done = run_cli("replay", str(photo), "--offline", "--quiet", "--events", str(events), *flags)
        assert done.returncode == 0, done.stderr
        frame = json.loads(events.read_text().splitlines()[0])
        assert len(frame["blocks"]) == expected
        assert all(r["block"] == (frame["blocks"][0]["id"] if expected else None) for r in frame["regions"])


def test_a_notice_whose_next_line_is_still_being_read_waits_for_it():
    image = np.full((200, 300, 3), 240, np.uint8)
    read, unread = Line(1, (20, 20, 200, 30), "Bitte Schuhe"), Line(2, (20, 52, 180, 30), "")
    (block,) = BlockGrouper().group(image, [read], [unread])
    assert block.ids == (1,) and block.waiting  # "please footwear" is never drawn over "Bitte Schuhe / ausziehen"
    assert BlockGrouper().group(image, [read], []) == []  # alone, it is a line
    far = Line(3, (20, 150, 180, 30), "")
    assert BlockGrouper().group(image, [read], [far]) == []  # text being read elsewhere holds nothing back


def test_a_notice_whose_plate_runs_out_of_the_picture_waits_until_it_is_in_view():
    wall = np.full((240, 400, 3), (90, 120, 150), np.uint8)
    lines = [Line(1, (250, 60, 100, 30), "nicht"), Line(2, (240, 95, 120, 30), "erlaubt")]
    inside = wall.copy()
    cv2.rectangle(inside, (220, 40), (380, 140), (240, 240, 240), -1)  # the whole plate in view
    cut = wall.copy()
    cv2.rectangle(cut, (220, 40), (399, 140), (240, 240, 240), -1)  # the plate runs out at the right edge
    for image in (inside, cut):
        for line in lines:
            x, y, w, h = line.box
            cv2.rectangle(image, (x + 6, y + 8), (x + w - 6, y + h - 8), (20, 20, 20), -1)  # ink where the text is
    assert [b.waiting for b in BlockGrouper().group(inside, lines)] == [False]
    assert [b.waiting for b in BlockGrouper().group(cut, lines)] == [True]
