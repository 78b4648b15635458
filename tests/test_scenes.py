"""The scenario generator and the scoring primitive: ground truth a benchmark can trust."""

from __future__ import annotations

import json

import pytest

from benchmarks.metrics import cer
from benchmarks.scenes import SceneOptions, render
from edge.capture import open_source
from tests.conftest import DEMO_GT, DEMO_VIDEO


def test_same_seed_same_scenario(tmp_path):
    options = SceneOptions(seconds=3, signs=2, seed=5)
    a = render(options, tmp_path / "a" / "s")
    b = render(options, tmp_path / "b" / "s")
    assert a == b
    frames_a = [f.image for f in open_source(tmp_path / "a" / "s.mp4")]
    frames_b = [f.image for f in open_source(tmp_path / "b" / "s.mp4")]
    assert len(frames_a) == 45 and all((x == y).all() for x, y in zip(frames_a, frames_b))


def test_ground_truth_boxes_sit_on_the_signs(detector):
    """In every segment, the detector's boxes overlap the ground-truth text boxes (IoU ≥ 0.4) in most
    frames: the generator's geometry matches what the camera shows."""
    from edge.regions import iou

    gt = json.loads(DEMO_GT.read_text())
    frames = {f.index: f.image for f in open_source(DEMO_VIDEO)}
    for segment in gt["segments"]:
        indices = range(segment["first_frame"], segment["last_frame"] + 1, 2)
        hits = 0
        for index in indices:
            (region,) = [r for r in gt["frames"][index]["regions"] if r["text"] == segment["text"]]
            hits += any(iou(region["box"], b.box) >= 0.4 for b in detector.detect(frames[index]))
        assert hits >= 0.8 * len(indices), segment["text"]


def test_segments_match_the_per_frame_ground_truth():
    gt = json.loads(DEMO_GT.read_text())
    assert gt["fps"] == 15 and gt["source"] == "de" and gt["target"] == "en"
    for segment in gt["segments"]:
        assert segment["refs"]
        for index in range(segment["first_frame"], segment["last_frame"] + 1):
            assert segment["text"] in {r["text"] for r in gt["frames"][index]["regions"]}
    no_text = [f for f in gt["frames"] if not f["regions"]]
    assert no_text, "the demo has stretches with no sign in full view"


@pytest.mark.parametrize("hyp, ref, expected", [
    ("Notausgang", "Notausgang", 0.0),
    ("NOTAUSGANG!", "Notausgang", 0.0),  # normalised: case and punctuation do not count
    ("Notausgan", "Notausgang", 0.1),
    ("", "Notausgang", 1.0),
    ("Rauchen  verboten", "Rauchen verboten", 0.0),
    ("", "", 0.0),
    ("x", "", 1.0),
])
def test_cer(hyp, ref, expected):
    assert cer(hyp, ref) == pytest.approx(expected)
