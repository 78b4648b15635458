"""The AR overlay: each translation drawn over its sign, in the sign's own colours.

The text box is covered with the sign's ground colour (the majority class of the box after
Otsu), and the translation is drawn in the minority (text) colour, in the largest font size at
which it fits on one or two lines (a block of several lines, ``edge/blocks.py``: as many lines as
it has, or one more). Below ``min_font_px`` the patch grows around the box instead of the text
shrinking, so the overlay stays readable on small signs, but never over another text line in the
frame: there the text shrinks instead. Fonts: DejaVu Sans Bold shipped in ``edge/assets``
(Bitstream Vera licence), so any Unicode target renders.
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
    keep_clear: bool = True  # a plate that needs more room than its box never grows over another overlay's lines


@dataclass
class Overlay:
    box: tuple[int, int, int, int]  # [x, y, w, h] in frame pixels
    text: str  # what to draw: the translation, or the text read in --ocr-only
    translated: bool
    lines: int = 1  # text lines the box holds (a block of several): the translation may use one more
    covers: tuple[tuple[int, int, int, int], ...] = ()  # the line boxes under it (a block's), which it may cover


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


def wrap(words: list[str], count: int) -> list[str]:
    """``words`` in ``count`` lines (or fewer) whose longest is as short as it can be (at 40 px)."""
    count = max(1, min(count, len(words)))
    if count == 1:
        return [" ".join(words)]
    if count == 2:  # every split point: the common case, and what one- and two-line sign texts always used
        splits = [[" ".join(words[:i]), " ".join(words[i:])] for i in range(1, len(words))]
        return min(splits, key=lambda lines: max(font(40).getlength(s) for s in lines))
    space = font(40).getlength(" ")
    widths = [font(40).getlength(w) for w in words]
    # best[i][k]: the smallest longest line for words[i:] in k lines, and where its first line ends
    n = len(words)
    best = [[(float("inf"), n)] * (count + 1) for _ in range(n + 1)]
    best[n][0] = (0.0, n)
    for i in range(n - 1, -1, -1):
        for k in range(1, count + 1):
            width = -space
            for j in range(i, n):
                width += widths[j] + space
                rest = best[j + 1][k - 1][0]
                worst = max(width, rest)
                if worst < best[i][k][0]:
                    best[i][k] = (worst, j + 1)
    lines, i, k = [], 0, min(range(1, count + 1), key=lambda c: best[0][c][0])
    while i < n and k > 0:
        end = best[i][k][1]
        lines.append(" ".join(words[i:end]))
        i, k = end, k - 1
    return lines


def layout(text: str, width: int, height: int, options: RenderOptions, max_lines: int = 2,
           smallest_px: int | None = None) -> tuple[list[str], int]:
    """Lines and font size that fit ``text`` in ``width × height`` (up to ``max_lines`` lines, largest
    font; never under ``smallest_px``, by default ``min_font_px``)."""
    smallest = options.min_font_px if smallest_px is None else smallest_px
    words = text.split()
    best: tuple[list[str], int] = ([text], smallest)
    for count in range(1, max(1, min(max_lines, len(words))) + 1):
        lines = wrap(words, count) if words else [text]
        size = min(options.max_font_px, int(height * options.fill_ratio / (len(lines) * 1.15)))
        longest = max(lines, key=lambda s: font(40).getlength(s))
        length_at_40 = max(1.0, font(40).getlength(longest))
        size = min(size, int(40 * width * 0.94 / length_at_40))
        size = font_step(size, smallest)
        if size > best[1]:
            best = (lines, size)
    return best


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return min(a[2], b[0] + b[2]) > max(a[0], b[0]) and min(a[3], b[1] + b[3]) > max(a[1], b[1])


def plate(box: tuple[int, int, int, int], block_w: int, block_h: int, frame_size: tuple[int, int],
          keep_clear: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """The rectangle ``(x0, y0, x1, y1)`` a translation of ``block_w × block_h`` px is drawn on: the box,
    grown around it where the text needs more room, but not over any box of ``keep_clear`` (other text
    lines in the frame) nor out of the frame."""
    x, y, w, h = box
    frame_w, frame_h = frame_size
    px0 = max(0, min(x, x + (w - block_w) // 2))
    py0 = max(0, min(y, y + (h - block_h) // 2))
    px1 = min(frame_w, max(x + w, px0 + block_w))
    py1 = min(frame_h, max(y + h, py0 + block_h))
    for ox, oy, ow, oh in keep_clear:
        if not _overlaps((px0, py0, px1, py1), (ox, oy, ow, oh)) or _overlaps((x, y, x + w, y + h), (ox, oy, ow, oh)):
            continue  # clear of it, or already over it in the box itself (overlapping detections)
        if oy + oh <= y:
            py0 = max(py0, oy + oh)
        elif oy >= y + h:
            py1 = min(py1, oy)
        elif ox + ow <= x:
            px0 = max(px0, ox + ow)
        elif ox >= x + w:
            px1 = min(px1, ox)
    return px0, py0, px1, py1


def draw_overlay(frame: np.ndarray, overlays: list[Overlay], options: RenderOptions | None = None,
                 plates: list | None = None) -> np.ndarray:
    """A copy of ``frame`` with every overlay drawn; a translation's plate covers no other overlay's lines.
    ``plates``: when given, each plate drawn is appended as ``((x0, y0, x1, y1), line boxes it was drawn for)``."""
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
        max_lines = max(2, item.lines + 1)
        lines, size = layout(item.text, w, h, options, max_lines)
        block_w = int(max(font(size).getlength(s) for s in lines)) + 4
        block_h = int(len(lines) * size * 1.15) + 2
        own = set(item.covers) | {item.box}
        others = [o for other in overlays if other is not item for o in (other.covers or (other.box,))
                  if o not in own] if options.keep_clear else []
        px0, py0, px1, py1 = plate(item.box, block_w, block_h, (frame_w, frame_h), others)
        if px1 - px0 < block_w or py1 - py0 < block_h:  # hemmed in by other lines: smaller text instead
            lines, size = layout(item.text, px1 - px0, py1 - py0, options, max_lines, smallest_px=6)
            block_w = min(px1 - px0, int(max(font(size).getlength(s) for s in lines)) + 4)
            block_h = min(py1 - py0, int(len(lines) * size * 1.15) + 2)
        cv2.rectangle(out, (px0, py0), (px1 - 1, py1 - 1), ground, -1)
        if plates is not None:
            plates.append(((px0, py0, px1, py1), item.covers or (item.box,)))
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
