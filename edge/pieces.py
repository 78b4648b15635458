"""Pieces of a text line: a reading that is not the whole sign. A box may hold part of a line (the rest
hidden by a post, too dim for the detector, or past the frame's edge), and OCR may read far fewer letters
than the box holds. The keyframe reader (``edge/scheduler.py``) never draws such a reading."""

from __future__ import annotations

import cv2
import numpy as np

from edge.linecrop import pad_quad, upright_crop

PIECE_LETTERS = 0.75  # a reading with fewer characters than this × its line's length/height is a piece of it:
# whole readings of the standard scenario's lines hold 1.48 (p1) to 1.79 (p50) characters per unit of aspect
PIECE_SPAN = 0.8  # ... or whose words cover less than this share of the crop's ink (``LineText.span``): whole
# readings of the standard scenario's lines cover ≥ 0.98 (p1), pieces ("Einfah t f", "Kein Eine") 0.5–0.67
PIECE_SEEN = 2  # ... or than which the region gave a reading with this many more letters it could contain
# In low light, a line's strokes going on past an end of its box (``line_extent``) are looked for in steps of
BEYOND_STEP = 0.8  # × the line's height, up to BEYOND_MAX heights; the line is read again from a box grown that
BEYOND_MAX = 8.0  # far, and a reading whose box the strokes still go on past by more than one step is a piece.
BEYOND_SHARE = 0.7  # A step counts at this share of the stroke density inside the box: 40 of 41 pieces of three
# dusk walks, 4 of their 79 confirmed whole readings (three of those missing letters: "tritt verboten")
UPRIGHT_BAND_PX = 32  # the line's band is looked at this tall


def is_piece(text: str, quad: np.ndarray) -> bool:
    """OCR read far fewer characters than the line's box holds (the rest hidden, blurred or cut): "War"
    of a "Krankenhaus" line. Such a reading is not the sign. (The ink span of the words read,
    ``PIECE_SPAN``, catches the pieces a loose box hides from this count.)"""
    quad = np.asarray(quad, np.float32)
    sides = sorted((float(np.linalg.norm(quad[1] - quad[0])), float(np.linalg.norm(quad[3] - quad[0]))))
    return len(text.strip()) < PIECE_LETTERS * sides[1] / max(1.0, sides[0])


def runs_off_frame(shape: tuple[int, ...], quad: np.ndarray, before: float, after: float, edge_px: float) -> bool:
    """The line's strokes go on from an end of its box (``line_extent``: ``before``, ``after`` heights) to
    within a step of the frame's edge: the sign goes on past the picture, and what the box holds is a piece
    of it however whole it reads. The demo's "Wartesaal" entering the picture behind a post was detected
    as "Wa" in front of the post, confident, for 11 frames: drawn "Va"."""
    quad = np.asarray(quad, np.float32)
    height = float(np.linalg.norm(quad[3] - quad[0]))
    grown = pad_quad(quad, before, after, 0.0)
    margin = edge_px + BEYOND_STEP * height
    rows, cols = shape[:2]
    ends = ([grown[0], grown[3]] if before else []) + ([grown[1], grown[2]] if after else [])
    return any(x <= margin or y <= margin or x >= cols - margin or y >= rows - margin for x, y in ends)


def line_extent(image: np.ndarray, quad: np.ndarray) -> tuple[float, float]:
    """How far the line's strokes go on past the start and the end of its box, in units of its height (0:
    they stop at the box). Walking out from each end in steps of ``BEYOND_STEP`` × the height, a step counts
    while it holds at least ``BEYOND_SHARE`` of the stroke density inside the box. When the box holds a
    piece of the line (the rest too dim, or hidden by a post, for the detector: "Kein" of "Kein Ausgang",
    "fahr" of "Gefahr"), the rest of the line is there. Strokes are where the picture changes both along
    and across the line (a letter's corners and curves), so a sign's plain border or a post's long straight
    edge weigh little beside letters."""
    band = UPRIGHT_BAND_PX
    pad = int(round(BEYOND_MAX * band))
    step = int(round(BEYOND_STEP * band))
    strip = upright_crop(image, pad_quad(np.asarray(quad, np.float32), BEYOND_MAX, BEYOND_MAX, 0.0), band, 1 << 14)
    margin = band // 10
    strip = strip[margin:margin + band, margin:strip.shape[1] - margin].astype(np.float32)
    if strip.shape[1] < 2 * pad + step:
        return 0.0, 0.0
    strokes = np.minimum(np.abs(cv2.Sobel(strip, cv2.CV_32F, 1, 0)), np.abs(cv2.Sobel(strip, cv2.CV_32F, 0, 1)))
    columns = strokes.mean(axis=0)
    inside = float(columns[pad:-pad].mean())
    if inside <= 0:
        return 0.0, 0.0

    def walk(outward: np.ndarray) -> float:
        steps = 0
        while (steps + 1) * step <= len(outward) and outward[steps * step:(steps + 1) * step].mean() >= BEYOND_SHARE * inside:
            steps += 1
        return steps * BEYOND_STEP

    return walk(columns[:pad][::-1]), walk(columns[-pad:])
