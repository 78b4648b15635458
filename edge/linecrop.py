"""Line crops: the upright crop of a detected line and what is done to it before a reader sees it.

The rotated line quad is grown (``pad_quad``) or cut to its letters' band (``letter_band``, ``band_quad``),
warped upright and scaled so the line is ``line_height_px`` tall (``upright_crop``), turned dark-on-light
with border marks removed (``clean_crop``), sharpened for a second look (``sharpen``); ``glyph_cut_sides``
tells when the box ended inside a glyph and ``ink_span`` how much of the ink the words read cover. The
readers themselves are in ``edge/ocr.py``.
"""

from __future__ import annotations

import cv2
import numpy as np


def ink_span(grey: np.ndarray, words: list[tuple[int, int]]) -> float | None:
    """Share of the cleaned crop's ink columns (dark pixels) between the first and last read word's
    left and right ends ``words`` ((x0, x1) pairs); None when there is no ink or no word."""
    if not words or grey.size == 0:
        return None
    columns = np.flatnonzero((grey < 128).any(axis=0))
    if len(columns) < 2:
        return None
    ink = float(columns[-1] - columns[0] + 1)
    read = float(min(ink, max(x1 for _, x1 in words) - min(x0 for x0, _ in words)))
    return max(0.0, read) / ink


def pad_quad(quad: np.ndarray, left: float, right: float, across: float) -> np.ndarray:
    """The quad grown by ``left`` and ``right`` × its height at the start and the end of the line and
    ``across`` × its height above and below: the detector's box is often tight at the ends, and a
    first or last glyph cut by it is lost (real frames: "BEWARE" read "CEWARE", "WHY" read "aN")."""
    quad = quad.astype(np.float32)
    height = float(np.linalg.norm(quad[3] - quad[0]))
    forward = quad[1] - quad[0]
    down = quad[3] - quad[0]
    forward = forward / max(1e-6, float(np.linalg.norm(forward)))
    down = down / max(1e-6, float(np.linalg.norm(down)))
    back, ahead, dy = forward * left * height, forward * right * height, down * across * height
    return np.float32([quad[0] - back - dy, quad[1] + ahead - dy, quad[2] + ahead + dy, quad[3] - back + dy])


def upright_crop(frame: np.ndarray, quad: np.ndarray, line_height_px: int, max_width_px: int,
                 grey: bool = True) -> np.ndarray:
    """Warp the rotated line quad (tl, tr, br, bl) to an upright strip (grey unless ``grey`` is False)
    ``line_height_px`` tall plus a margin of a tenth of the height on every side."""
    width = float(np.linalg.norm(quad[1] - quad[0]))
    height = float(np.linalg.norm(quad[3] - quad[0]))
    if width < 1 or height < 1:
        return np.zeros((0, 0), np.uint8)
    scale = line_height_px / height
    out_w = min(max_width_px, max(1, int(round(width * scale))))
    scale_x = out_w / width
    margin = line_height_px // 10
    target = np.float32([[margin, margin], [margin + out_w, margin], [margin + out_w, margin + line_height_px],
                         [margin, margin + line_height_px]])
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    if scale_x < 1.0:  # shrinking a long line: smooth first so glyph strokes survive
        frame = cv2.GaussianBlur(frame, (0, 0), 0.5 / scale_x)
    source = frame if frame.ndim == 2 or not grey else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return cv2.warpPerspective(source, matrix, (out_w + 2 * margin, line_height_px + 2 * margin),
                               flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


BAND_MAX_SHARE = 0.6  # a line box whose letters span less of its height than this is cut down to their band ...
BAND_PAD = 0.25  # ... grown by this × the letters' height above and below


def letter_band(raw: np.ndarray, margin: int) -> tuple[float, float] | None:
    """Where a line's letters lie across its box, as fractions of the box's height (top, bottom), when they
    span less than ``BAND_MAX_SHARE`` of it; None otherwise. ``raw``: the upright crop (``upright_crop``, its
    ``margin`` on every side). In low light the detector's box of a far sign is often twice the line's
    height: it holds the sign's border and the wall, and one threshold over all of it parts wall from sign,
    not ink from ground. Letters: marks 0.15–0.8 of the box's height, under half its width, not hollow."""
    body = raw[margin: raw.shape[0] - margin, margin: raw.shape[1] - margin]
    if body.size == 0:
        return None
    _, ink = _ink(body)
    _, stats, _, _ = _components(ink)
    height, width = ink.shape
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    letters = (h >= 0.15 * height) & (h <= 0.8 * height) & (w <= 0.5 * width) & (area >= 0.1 * w * h)
    if np.count_nonzero(letters) < 2:
        return None
    middle, size = np.median((y + h / 2)[letters]), float(np.median(h[letters]))
    inline = letters & (np.abs(y + h / 2 - middle) <= 0.6 * size)  # on the line: not a speck above or below it
    if not inline.any():
        return None
    top, bottom = float(y[inline].min()), float((y + h)[inline].max())  # ascenders and descenders kept
    if bottom - top >= BAND_MAX_SHARE * height or bottom - top < 0.1 * height:
        return None
    pad = max(2.0, BAND_PAD * size)
    return max(0.0, top - pad) / height, min(float(height), bottom + pad) / height


def band_quad(quad: np.ndarray, top: float, bottom: float) -> np.ndarray:
    """The part of a line quad (tl, tr, br, bl) between ``top`` and ``bottom`` (fractions of its height)."""
    quad = quad.astype(np.float32)
    left, right = quad[3] - quad[0], quad[2] - quad[1]
    return np.float32([quad[0] + top * left, quad[1] + top * right, quad[1] + bottom * right, quad[0] + bottom * left])


def _ink(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The crop turned dark-on-light (the ground is the majority class after Otsu) and its ink mask."""
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if np.count_nonzero(binary) < binary.size / 2:
        grey, binary = 255 - grey, 255 - binary
    return grey, binary == 0


def _components(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, set[int], set[int]]:
    """Labels and stats of the ink's components, and those touching the top or bottom / a side."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    top_bottom = set(np.unique(np.concatenate([labels[0], labels[-1]]))) - {0}
    sides = set(np.unique(np.concatenate([labels[:, 0], labels[:, -1]]))) - {0}
    return labels, stats, top_bottom, sides


def glyph_cut_sides(grey: np.ndarray) -> tuple[bool, bool]:
    """Whether a letter-sized mark (a third to nine tenths of the crop's height, clear of its top and
    bottom) touches the crop's left end, and its right end: the line box ended inside a glyph."""
    if grey.size == 0:
        return False, False
    _, ink = _ink(grey)
    labels, stats, top_bottom, _ = _components(ink)
    height = ink.shape[0]
    letters = {i for i in range(1, len(stats)) if 0.3 * height <= stats[i, cv2.CC_STAT_HEIGHT] <= 0.9 * height} - top_bottom
    return bool(letters & set(labels[:, 0].tolist())), bool(letters & set(labels[:, -1].tolist()))


def clean_crop(grey: np.ndarray, pad_px: int) -> np.ndarray:
    """Black text on a white ground, edge-touching marks removed, with a white margin.

    The sign's ground is the majority class after Otsu, so light-on-dark crops are inverted.
    Levels are stretched so the ground becomes white and the ink black: a grey ground beside a
    white margin would otherwise make Tesseract's own Otsu split grey from white and blacken the
    whole sign. Dark components that touch the crop's top or bottom edge are sign borders, frames
    or the neighbouring line: painted white; at the left and right edges only border-like ones
    (spanning the height, or long bars) are: a letter cut by the box's end stays.
    """
    grey, ink = _ink(grey)
    if ink.any() and (~ink).any():
        ink_level, ground_level = float(np.median(grey[ink])), float(np.median(grey[~ink]))
        if ground_level - ink_level > 10:
            grey = np.clip((grey.astype(np.float32) - ink_level) * (255.0 / (ground_level - ink_level)), 0, 255).astype(np.uint8)
    labels, stats, top_bottom, sides = _components(ink)
    height, width = ink.shape
    border = {i for i in sides if stats[i, cv2.CC_STAT_HEIGHT] >= 0.9 * height or stats[i, cv2.CC_STAT_WIDTH] >= 0.5 * width}
    edge = sorted(top_bottom | border)
    if edge:
        grey = grey.copy()
        grey[np.isin(labels, edge)] = 255
    return cv2.copyMakeBorder(grey, pad_px, pad_px, pad_px, pad_px, cv2.BORDER_CONSTANT, value=255)


def sharpen(grey: np.ndarray, amount: float = 0.8, sigma: float = 1.5) -> np.ndarray:
    """Unsharp mask: ``grey + amount × (grey − blurred)``."""
    return cv2.addWeighted(grey, 1 + amount, cv2.GaussianBlur(grey, (0, 0), sigma), -amount, 0)
