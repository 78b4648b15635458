"""The LiteRT text detector on rendered signs: boxes where the text is, none where there is none."""

from __future__ import annotations

import numpy as np

from benchmarks.signs import SignStyle, sign_photo, text_free_scene
from edge.detect import DetectorOptions, TextDetector, boxes_from_probability
from edge.regions import iou
from models.catalog import find


def test_finds_every_sign_on_rendered_photos(detector):
    texts = ["Notausgang", "Rauchen verboten", "Geöffnet", "Bitte nicht berühren", "Fundbüro", "Einbahnstraße"]
    found = total = 0
    for seed in range(6):
        image, placed = sign_photo(texts[seed % 3 : seed % 3 + 3], seed=seed)
        boxes = detector.detect(image)
        for sign in placed:
            total += 1
            found += any(iou(sign.box, b.box) >= 0.4 for b in boxes)
    assert found == total


def test_no_readable_region_on_text_free_scenes(detector, recognizer):
    """The detector may propose a window or pole now and then; none of them reads as text."""
    proposals = 0
    for seed in range(5):
        scene = text_free_scene(seed)
        boxes = detector.detect(scene)
        proposals += len(boxes)
        assert [recognizer.read(scene, b.quad) for b in boxes] == [None] * len(boxes)
    assert proposals <= 2


def test_giant_image_is_downscaled_but_boxes_are_in_original_pixels(detector):
    small, placed = sign_photo(["Notausgang"], seed=4, size=(800, 600), styles=[SignStyle(text_px=60)])
    giant = np.kron(small, np.ones((10, 10, 1), np.uint8))  # 8000×6000
    (box,) = detector.detect(giant)
    expected = tuple(v * 10 for v in placed[0].box)
    assert iou(box.box, expected) > 0.5
    assert box.box[0] + box.box[2] <= 8000 and box.box[1] + box.box[3] <= 6000


def test_tiny_image_gives_no_boxes(detector):
    assert detector.detect(np.zeros((1, 1, 3), np.uint8)) == []


def test_every_shipped_size_loads_and_detects():
    image, placed = sign_photo(["Ausgang"], seed=1, styles=[SignStyle(text_px=44)])
    for size in ("320x256", "480x352", "640x480"):
        detector = TextDetector(find(f"ppocrv4-det-{size}-int8").file("model"))
        assert (detector.input_w, detector.input_h) == tuple(int(v) for v in size.split("x"))
        assert any(iou(placed[0].box, b.box) >= 0.4 for b in detector.detect(image))


def test_postprocessing_scales_a_rotated_kernel_back_to_frame_pixels():
    prob = np.zeros((100, 200), np.float32)
    prob[40:50, 60:140] = 0.95  # an 80×10 text kernel in a 200×100 map
    (box,) = boxes_from_probability(prob, (400, 200), DetectorOptions(margin_px=0))
    x, y, w, h = box.box
    # the unclipped kernel grows by area*1.6/perimeter ≈ 7 px per side in map pixels, ×2 in frame pixels
    assert 100 <= x <= 110 and 270 <= x + w <= 300
    assert 60 <= y <= 70 and 110 <= y + h <= 125
    assert box.score > 0.8  # mean over the dilated contour, whose rim is 0


def test_lines_cut_by_the_frame_edge_are_skipped():
    prob = np.zeros((100, 200), np.float32)
    prob[40:50, 0:60] = 0.95  # runs into the left edge
    prob[40:50, 90:150] = 0.95
    boxes = boxes_from_probability(prob, (200, 100), DetectorOptions(margin_px=0))
    assert len(boxes) == 1 and boxes[0].box[0] > 70
