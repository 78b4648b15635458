"""Association: which keyframe detection is which tracked region — a pure function of the regions
as they were when the keyframe was taken (``Snapshot``), the detected boxes, and what the keyframe
shows at each region's place. The worker hands back one ``Reading`` per detection; the tracker
(``edge/track.py``) applies them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from edge.regions import Box, inside, iou


@dataclass
class Snapshot:
    """A region as it was when a keyframe was taken (what the keyframe worker matches against)."""

    id: int
    box: Box
    signature: np.ndarray | None
    settled: bool  # read well enough: no need to read again while the content is unchanged
    read_w: float  # box width when it was read, px
    lost: bool = False  # not tracked now (its box was carried by the camera's motion)
    history: tuple[tuple[str, float], ...] = ()  # its recent OCR readings (text, confidence), oldest first


@dataclass
class Reading:
    """One keyframe detection, matched and (if needed) read: what the worker hands back."""

    box: Box  # in the keyframe's pixels
    track_id: int | None  # the snapshot region it matched, if any
    signature: np.ndarray
    text: str | None = None  # None: reused (``reread`` False) or not text
    partial: bool = False  # the box touches the frame's edge (the sign may be cut)
    settled: bool = False  # read sharp, whole and confidently: final while the content is unchanged
    quad: np.ndarray | None = field(default=None, repr=False)  # text-line corners (keyframe px), when detected
    ocr_conf: float = 0.0
    translation: str | None = None
    translation_source: str | None = None
    lang: str | None = None  # the language the line was read in (``LineText.lang``)
    reread: bool = False
    same_content: bool = False  # the region's content matched what it showed when last read
    crop: bytes | None = field(default=None, repr=False)  # the line as JPEG when OCR was unsure (for the cloud)
    history: tuple[tuple[str, float], ...] = ()  # the region's readings after this one (``text`` is their fusion)
    support: int = 0  # readings of the region (this one included) that agree with ``text`` (``edge/fusion.py``)
    band: tuple[float, float] | None = None  # the letters lie in this band of the box's height (``LineText.band``)
    piece: bool = False  # OCR read far fewer letters than the line's box holds: a piece of it, never shown
    confirmed: bool = False  # ``text`` may be drawn: confirmed by confidence or by agreeing readings (``KeyframeReader._ocr``)


FRAGMENT = -1  # match(): the detection is a piece of a known region (one word of its line, seen blurred)


def match(snapshot: list[Snapshot], boxes: list[Box], min_iou: float, present: set[int] | None = None,
          shows: Callable[[int, Snapshot], bool] | None = None, contained: float = 0.8) -> list[int | None]:
    """Each keyframe box's region id, by greedy best overlap: a region id, ``None`` (new text) or
    ``FRAGMENT``. A box overlaps a region when their IoU is ``min_iou`` or more, or when the region lies
    (``contained``) inside the box: it was read from a fragment of the line (one word, the sign half
    in view) and now grows to the whole line, instead of a second region appearing over it. A box that
    lies inside a region is a fragment of it, seen on a worse frame: no new region.

    Gated by content: a region takes a box only when its content is still at its place in the
    keyframe (its id in ``present``; None: all are), or when ``shows(i, region)`` says box ``i`` shows
    the region's content (a lost region found again). A box over a region whose content is gone is
    a new sign, and is read."""
    def allowed(i: int, s: Snapshot) -> bool:
        return present is None or s.id in present or (shows is not None and shows(i, s))

    pairs = []
    for i, box in enumerate(boxes):
        for s in snapshot:
            overlap = iou(box, s.box)
            if overlap < min_iou and inside(s.box, box) >= contained:
                overlap = min_iou  # after every true IoU match
            if overlap >= min_iou:
                pairs.append((overlap, i, s))
    pairs.sort(key=lambda p: (p[0], p[1], p[2].id), reverse=True)
    out: list[int | None] = [None] * len(boxes)
    taken: set[int] = set()
    for _, i, s in pairs:
        if out[i] is None and s.id not in taken and allowed(i, s):
            out[i], taken = s.id, taken | {s.id}
    for i, box in enumerate(boxes):
        if out[i] is None and any(inside(box, s.box) >= contained and (present is None or s.id in present)
                                  for s in snapshot):
            out[i] = FRAGMENT
    return out
