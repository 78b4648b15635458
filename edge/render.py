"""The AR overlay: each translation drawn over its sign, in the sign's own colours.

The text box is covered with the sign's ground colour (the majority class of the box after
Otsu), and the translation is drawn in the minority (text) colour, in the largest font size at
which it fits on one or two lines. Below ``min_font_px`` the patch grows around the box instead
of the text shrinking, so the overlay stays readable on small signs. Fonts: DejaVu Sans Bold
shipped in ``edge/assets`` (Bitstream Vera licence), so any Unicode target renders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_PATH = Path(__file__).resolve().parent / "assets" / "DejaVuSans-Bold.ttf"


@dataclass
class RenderOptions:
    min_font_px: int = 12  # never draw smaller; the patch grows instead
    max_font_px: int = 120  # cap for huge boxes
    fill_ratio: float = 0.86  # share of the box height the text block may use
    draw_untranslated: bool = True  # outline regions without a translation and label them with the text read


@dataclass
class Overlay:
    box: tuple[int, int, int, int]  # [x, y, w, h] in frame pixels
    text: str  # what to draw: the translation, or the text read in --ocr-only
    translated: bool


FONT_STEP = 1.12  # font sizes are drawn from a ladder 12 % apart: a tracked box that grows by a pixel
# a frame reuses a loaded face instead of loading one per size (64 cached faces held 13 MB)


@lru_cache(maxsize=32)
def font(size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size_px)


def font_step(size_px: int, smallest_px: int) -> int:
    """The largest ladder size (``smallest_px`` × FONT_STEP^k) not above ``size_px``."""
    if size_px <= smallest_px:
        return smallest_px
    k = int(math.log(size_px / smallest_px) / math.log(FONT_STEP) + 1e-9)
    return max(smallest_px, int(smallest_px * FONT_STEP**k))


def sign_colours(patch: np.ndarray) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(ground, ink) BGR colours of a text patch: the mean colour of the Otsu majority and minority."""
    grey = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    light = binary > 0
    ground_mask = light if light.sum() >= light.size / 2 else ~light
    ground = patch[ground_mask].mean(axis=0) if ground_mask.any() else patch.reshape(-1, 3).mean(axis=0)
    ink_pixels = patch[~ground_mask]
    ink = ink_pixels.mean(axis=0) if len(ink_pixels) else 255 - ground
    if abs(float(np.mean(ground)) - float(np.mean(ink))) < 60:  # low contrast (blur): pick black or white
        ink = np.zeros(3) if np.mean(ground) > 127 else np.full(3, 255.0)
    return tuple(int(v) for v in ground), tuple(int(v) for v in ink)


def layout(text: str, width: int, height: int, options: RenderOptions) -> tuple[list[str], int]:
    """Lines and font size that fit ``text`` in ``width × height`` (one or two lines, largest font)."""
    words = text.split()
    candidates = [[text]] + [[" ".join(words[:i]), " ".join(words[i:])] for i in range(1, len(words))]
    best: tuple[list[str], int] = ([text], options.min_font_px)
    for lines in candidates:
        size = min(options.max_font_px, int(height * options.fill_ratio / (len(lines) * 1.15)))
        longest = max(lines, key=lambda s: font(40).getlength(s))
        length_at_40 = max(1.0, font(40).getlength(longest))
        size = min(size, int(40 * width * 0.94 / length_at_40))
        size = font_step(size, options.min_font_px)
        if size > best[1]:
            best = (lines, size)
    return best


def draw_overlay(frame: np.ndarray, overlays: list[Overlay], options: RenderOptions | None = None) -> np.ndarray:
    """A copy of ``frame`` with every overlay drawn."""
    options = options or RenderOptions()
    out = frame.copy()
    frame_h, frame_w = out.shape[:2]
    for item in overlays:
        x, y, w, h = item.box
        if w < 2 or h < 2 or not item.text:
            continue
        if not item.translated:
            if options.draw_untranslated:
                cv2.rectangle(out, (x, y), (x + w - 1, y + h - 1), (0, 200, 255), 1)
                _draw_text(out, [item.text], (x, max(0, y - 16)), options.min_font_px + 2, (0, 200, 255))
            continue
        ground, ink = sign_colours(frame[y : y + h, x : x + w])
        lines, size = layout(item.text, w, h, options)
        block_w = int(max(font(size).getlength(s) for s in lines)) + 4
        block_h = int(len(lines) * size * 1.15) + 2
        px0 = max(0, min(x, x + (w - block_w) // 2))
        py0 = max(0, min(y, y + (h - block_h) // 2))
        px1 = min(frame_w, max(x + w, px0 + block_w))
        py1 = min(frame_h, max(y + h, py0 + block_h))
        cv2.rectangle(out, (px0, py0), (px1 - 1, py1 - 1), ground, -1)
        tx = px0 + (px1 - px0 - block_w) // 2 + 2
        ty = py0 + (py1 - py0 - block_h) // 2
        _draw_text(out, lines, (tx, ty), size, ink)
    return out


def _draw_text(img: np.ndarray, lines: list[str], origin: tuple[int, int], size: int, colour: tuple[int, int, int]) -> None:
    """Draw lines with Pillow on the patch they cover only (cheaper than converting the frame)."""
    face = font(size)
    width = int(max(face.getlength(s) for s in lines)) + 4
    height = int(len(lines) * size * 1.15) + 4
    x0, y0 = origin
    x1, y1 = min(img.shape[1], x0 + width), min(img.shape[0], y0 + height)
    if x1 <= x0 or y1 <= y0:
        return
    patch = Image.fromarray(cv2.cvtColor(img[y0:y1, x0:x1], cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(patch)
    for i, line in enumerate(lines):
        draw.text((0, int(i * size * 1.15)), line, font=face, fill=colour[::-1])
    img[y0:y1, x0:x1] = cv2.cvtColor(np.asarray(patch), cv2.COLOR_RGB2BGR)
