"""The overlay, judged the way a user judges it: can the translation be read off the frame?"""

from __future__ import annotations

import numpy as np

from benchmarks.signs import SignStyle, sign_photo
from edge.ocr import OcrOptions, Recognizer
from edge.render import Overlay, RenderOptions, draw_overlay, layout, sign_colours


def read_english(image, detector):
    english = Recognizer(OcrOptions(language="en"))
    return [line.text for line in (english.read(image, b.quad) for b in detector.detect(image)) if line]


def test_translation_replaces_the_sign_text_and_is_readable(detector):
    for scheme in ("white-on-green", "black-on-yellow", "white-on-blue"):
        image, (sign,) = sign_photo(["Notausgang"], seed=2, styles=[SignStyle(scheme=scheme, text_px=40)])
        out = draw_overlay(image, [Overlay(sign.box, "emergency exit", True)])
        assert [t.lower() for t in read_english(out, detector)] == ["emergency exit"]


def test_overlay_uses_the_sign_colours():
    image, (sign,) = sign_photo(["Ausgang"], seed=2, styles=[SignStyle(scheme="white-on-red", text_px=40)])
    x, y, w, h = sign.box
    ground, ink = sign_colours(image[y : y + h, x : x + w])
    assert ground[2] > 150 and ground[0] < 100  # red ground (BGR)
    assert min(ink) > 180  # white letters


def test_small_boxes_keep_a_readable_font():
    options = RenderOptions(min_font_px=12)
    lines, size = layout("emergency exit", 30, 8, options)
    assert size == 12
    lines, size = layout("emergency exit", 200, 60, options)
    assert size > 20


def test_untranslated_regions_are_outlined_not_covered():
    image = np.full((100, 200, 3), 255, np.uint8)
    out = draw_overlay(image, [Overlay((20, 40, 100, 30), "Ausgang", False)])
    assert (out[40, 20:120] != 255).any()  # outline drawn
    assert (out[50:65, 40:100] == 255).all()  # inside left as it was


def test_unicode_targets_render():
    image = np.full((80, 300, 3), 40, np.uint8)
    out = draw_overlay(image, [Overlay((10, 10, 280, 60), "Ausgang — выход — 出口", True)])
    assert (out != image).any()
