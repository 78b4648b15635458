"""Region geometry and content: how boxes overlap, and the small thumbnail a region's content is
compared by (so that a region is read again only when what it shows changed)."""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[float, float, float, float]  # x, y, w, h in original-frame pixels


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


SIGNATURE_SIZE = (64, 16)  # w, h of the thumbnail a region's content is compared by
SIGNATURE_STRIPS = 8  # compared strip by strip, so that one changed character shows


def content_signature(grey: np.ndarray, box: Box) -> np.ndarray:
    """The box's crop as a small grey thumbnail (h × w, float32)."""
    x, y, w, h = (int(round(v)) for v in box)
    crop = grey[max(0, y): max(0, y + h), max(0, x): max(0, x + w)]
    if crop.size == 0:
        return np.zeros(SIGNATURE_SIZE[::-1], np.float32)
    return cv2.resize(crop, SIGNATURE_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Content similarity of two signatures, -1..1: the lowest normalised cross-correlation of their
    vertical strips. Lighting, noise and a pixel of box jitter keep it near 1; one changed character
    drops its strip, and so the whole figure."""
    def strips(t: np.ndarray) -> np.ndarray:
        s = t.reshape(t.shape[0], SIGNATURE_STRIPS, -1).transpose(1, 0, 2).reshape(SIGNATURE_STRIPS, -1)
        s = s - s.mean(axis=1, keepdims=True)
        return s / np.maximum(np.linalg.norm(s, axis=1, keepdims=True), 4.0)  # flat strips: no signal, no alarm

    sa, sb = strips(a), strips(b)
    flat = (np.abs(sa).sum(axis=1) < 1e-3) & (np.abs(sb).sum(axis=1) < 1e-3)
    ncc = np.where(flat, 1.0, (sa * sb).sum(axis=1))
    return float(ncc.min())


def ncc(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation of two equally sized arrays, -1..1 (1: the same picture up to
    brightness and contrast)."""
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / max(1e-6, float(np.sqrt(float((a * a).sum()) * float((b * b).sum())))))


def presence(grey: np.ndarray, box: Box, signature: np.ndarray) -> float | None:
    """How well what is at ``box`` now correlates with ``signature`` (what the region showed when it
    was read), -1..1, over the part of the box inside the frame: one normalised cross-correlation of
    the thumbnails, so blur and lighting keep it high and other content (a wall after a cut, the next
    sign) drops it near 0. None when too little of the box is in the frame, or the signature is flat."""
    height, width = grey.shape[:2]
    x, y, w, h = box
    if w < 2 or h < 2:
        return None
    x0, y0, x1, y1 = max(0.0, x), max(0.0, y), min(float(width), x + w), min(float(height), y + h)
    if x1 - x0 < 0.5 * w or y1 - y0 < 0.7 * h:
        return None
    sw, sh = SIGNATURE_SIZE
    c0, c1 = int(round((x0 - x) / w * sw)), int(round((x1 - x) / w * sw))
    r0, r1 = int(round((y0 - y) / h * sh)), int(round((y1 - y) / h * sh))
    crop = grey[int(round(y0)): int(round(y1)), int(round(x0)): int(round(x1))]
    if c1 - c0 < 8 or r1 - r0 < 4 or crop.size == 0:
        return None
    now = cv2.resize(crop, (c1 - c0, r1 - r0), interpolation=cv2.INTER_AREA).astype(np.float32)
    then = signature[r0:r1, c0:c1]
    if float(then.var()) < 16.0:  # flat (σ < 4 grey levels): nothing to recognise it by
        return None
    return ncc(now, then)


def inside(inner: Box, outer: Box) -> float:
    """The share of ``inner``'s area that lies inside ``outer``."""
    ix = max(0.0, min(inner[0] + inner[2], outer[0] + outer[2]) - max(inner[0], outer[0]))
    iy = max(0.0, min(inner[1] + inner[3], outer[1] + outer[3]) - max(inner[1], outer[1]))
    area = inner[2] * inner[3]
    return ix * iy / area if area > 0 else 0.0
