"""Motion deblur: undo the smear a moving camera leaves on a keyframe before text is found and read.

While the camera pans, every point of the picture is smeared along the camera's motion by the
distance it travelled during the exposure: a box blur of some length along a known direction.
Tesseract reads such text badly (bold glyphs merge: "Kein Eingang" read "Kein = 1-7"). The tracker
knows the direction and the distance per frame; the exposure (the share of the frame interval the
shutter was open) is unknown, so the blur's length is measured from the frame itself: the
autocorrelation of the picture's derivative along the motion dips at the blur's length. The dip is
looked for between 2 px and the motion per frame (a shutter cannot stay open longer than a frame),
once per keyframe, on the whole frame (one smear for the whole picture, many edges to measure it
on); the first dip is taken, as the picture's own structure (strokes, line spacing) adds later ones.
The grey frame is then restored with a Wiener filter built from that box blur, once: the detector
looks at it (it splits smeared lines into words and misses some), and every line is read from it.

The reader reads the restored line first and, when Tesseract is not sure of it, the plain line too,
keeping the more confident reading: a wrong estimate costs time, not text.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

MIN_MOTION_PX = 2.5  # camera motion per frame (frame px) below which a frame is taken as sharp
MIN_BLUR_PX = 2  # shorter smears are left alone


@dataclass(frozen=True)
class MotionBlur:
    length_px: int  # how far the picture moved while the shutter was open, frame px
    angle: float  # direction of the motion, radians (0 = along +x)


def _folded(angle: float) -> float:
    """The motion's direction folded into (-90°, 90°]: a smear to the left is a smear to the right."""
    return math.atan2(math.sin(angle), math.cos(angle)) if math.cos(angle) >= 0 else \
        math.atan2(-math.sin(angle), -math.cos(angle))


def _turn(grey: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray | None]:
    """``grey`` turned so that a motion at ``angle`` runs along x, on a canvas big enough to hold all
    of it, and the matrix that turned it (None: not turned, the motion runs along x already)."""
    folded = _folded(angle)
    if abs(folded) < math.radians(5):
        return grey, None
    height, width = grey.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), math.degrees(folded), 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    out_w, out_h = int(math.ceil(width * cos + height * sin)), int(math.ceil(width * sin + height * cos))
    matrix[:, 2] += [(out_w - width) / 2, (out_h - height) / 2]
    turned = cv2.warpAffine(grey, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return turned, matrix


def estimate(grey: np.ndarray, motion: tuple[float, float], rows: int = 160) -> MotionBlur | None:
    """The smear on ``grey`` (a whole frame) from a camera that moved ``motion`` (dx, dy frame px)
    between this frame and the previous one; None when the camera was (nearly) still."""
    dx, dy = motion
    travel = math.hypot(dx, dy)
    if travel < MIN_MOTION_PX:
        return None
    angle = math.atan2(dy, dx)
    upright, _ = _turn(grey, angle)
    step = max(1, upright.shape[0] // rows)  # every n-th row is plenty, and a tenth of the work on a Pi
    derivative = np.diff(upright[::step].astype(np.float32), axis=1)
    derivative -= derivative.mean(axis=1, keepdims=True)
    longest = min(int(math.ceil(travel)) + 1, derivative.shape[1] // 4)
    if longest < MIN_BLUR_PX + 1:
        return None
    lags = range(MIN_BLUR_PX, longest + 2)
    autocorrelation = [float(np.vdot(derivative[:, :-lag], derivative[:, lag:])) for lag in lags]
    dips = [i for i in range(1, len(lags) - 1)  # the first negative local minimum: later ones are the
            if autocorrelation[i] < 0 and autocorrelation[i - 1] > autocorrelation[i] <= autocorrelation[i + 1]]
    length = lags[dips[0] if dips else int(np.argmin(autocorrelation[:-1]))]  # picture's own structure
    return MotionBlur(length, angle)


@functools.lru_cache(maxsize=16)
def _row_gains(width: int, length: int, noise: float) -> np.ndarray:
    """The Wiener filter of a box blur ``length`` px long, as gains on OpenCV's packed row spectrum
    (Re0, Re1, Im1, Re2, Im2, …) of rows ``width`` long. The box is centred (half-weight end taps
    for an even length), so its spectrum, and the filter, are real: one gain per frequency."""
    half = length / 2
    offsets = np.minimum(np.arange(width), width - np.arange(width))  # circular distance from 0
    psf = np.where(offsets < half, 1.0, np.where(offsets == half, 0.5, 0.0)) / length
    transfer = np.fft.rfft(psf).real
    gains = transfer / (transfer ** 2 + noise)
    packed = np.empty(width, np.float32)
    packed[0] = gains[0]
    pairs = (width - 1) // 2
    packed[1: 1 + 2 * pairs: 2] = packed[2: 2 + 2 * pairs: 2] = gains[1: pairs + 1]
    if width % 2 == 0:
        packed[-1] = gains[width // 2]
    return packed


ROWS_PER_BLOCK = 64  # rows restored at a time: the float buffers stay small (0.2 MB for 640 px rows)


def _restore_rows(grey: np.ndarray, length: int, noise: float) -> np.ndarray:
    """Wiener deconvolution of a box blur ``length`` px long along every row (OpenCV's row DFT: a
    few times faster than numpy's here, and no SciPy on the device). The DFT sees each row as
    periodic, and the inverse filter rings for a long way from any jump, so each row is extended
    by a ramp from its last pixel back to its first: no jump where it wraps around."""
    height, width = grey.shape
    size = cv2.getOptimalDFTSize(width + max(8 * length, 64))
    gains = _row_gains(size, length, noise)
    ramp = np.linspace(0.0, 1.0, size - width + 2, dtype=np.float32)[1:-1]
    out = np.empty_like(grey)
    rows = np.empty((min(ROWS_PER_BLOCK, height), size), np.float32)
    for top in range(0, height, ROWS_PER_BLOCK):
        block = grey[top: top + ROWS_PER_BLOCK]
        buffer = rows[: len(block)]
        buffer[:, :width] = block
        first, last = buffer[:, :1], buffer[:, width - 1: width]
        buffer[:, width:] = last + (first - last) * ramp
        cv2.dft(buffer, dst=buffer, flags=cv2.DFT_ROWS)  # in place, as is all of it: little memory on a Pi
        buffer *= gains
        cv2.idft(buffer, dst=buffer, flags=cv2.DFT_ROWS | cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
        restored = buffer[:, :width]
        restored += 0.5  # rounds, below
        out[top: top + len(block)] = np.clip(restored, 0, 255, out=restored)
    return out


def restore(grey: np.ndarray, blur: MotionBlur, noise: float = 0.01) -> np.ndarray:
    """``grey`` with the smear undone by a Wiener filter along the motion; ``noise`` is the
    noise-to-signal ratio that keeps it from amplifying noise where the blur erased a frequency."""
    turned, matrix = _turn(grey, blur.angle)
    restored = _restore_rows(turned, blur.length_px, noise)
    if matrix is None:
        return restored
    back = cv2.invertAffineTransform(matrix)
    return cv2.warpAffine(restored, back, (grey.shape[1], grey.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
