"""What a tracked region is, and the rules of its life: its state (``State``), the events that change
it (``Event``; only ``FlowTracker.transition`` applies them, ``edge/track.py``), and when a fresh
keyframe reading replaces the one it has (``better_reading``).

A reading makes a region *tentative* (nothing to draw yet: unread, not text, or cut by the frame's
edge) or *confirmed* (drawn); losing its points, its content, or the detector's sight makes it
*lost* (not drawn, kept to be found again); a scene cut, leaving the picture, expiry or absorption
into the whole line removes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from edge.association import Reading, Snapshot
from edge.fusion import hides_only
from edge.regions import Box
from edge.textnorm import normalise


class State(Enum):
    TENTATIVE = "tentative"  # tracked, nothing to draw: not read yet, not text, or read cut by the frame's edge
    CONFIRMED = "confirmed"  # tracked and read as text: drawn
    LOST = "lost"  # its points, its content or the detector's sight are gone: not drawn, kept to be found again


class Event(Enum):
    READ = "read"  # a keyframe reading (or a detection showing its content) was attached
    POINTS_LOST = "points lost"  # too few flow points survived
    CONTENT_GONE = "content gone"  # what it showed when read is no longer at its tracked place
    MISSED = "missed"  # the detector did not see it ``missed_keyframes`` keyframes running
    SCENE_CUT = "scene cut"  # removed: the picture changed
    LEFT = "left the picture"  # removed
    EXPIRED = "expired"  # removed: lost for longer than ``lost_keep_ms``
    ABSORBED = "absorbed"  # removed: a fragment of a line now tracked whole


LOSING = {Event.POINTS_LOST, Event.CONTENT_GONE, Event.MISSED}
REMOVING = {Event.SCENE_CUT, Event.LEFT, Event.EXPIRED, Event.ABSORBED}


@dataclass
class Track:
    id: int
    box: Box
    text: str | None = None  # None: not read yet, or not text (``rejected``)
    ocr_conf: float = 0.0
    translation: str | None = None
    translation_source: str | None = None
    lang: str | None = None  # the language its text was read in (``LineText.lang``)
    signature: np.ndarray | None = field(default=None, repr=False)  # content of the crop that was read
    read_w: float = 0.0  # box width when read (scaled with the camera's zoom since)
    partial: bool = False  # read while cut by the frame's edge
    settled: bool = False  # its reading is final while the content is unchanged
    quad_rel: np.ndarray | None = field(default=None, repr=False)  # text-line corners as box fractions, 4×2
    read_ms: float = 0.0  # media time of its last read
    rejected: bool = False  # read, and it was not text: never drawn, not read again while unchanged
    state: State = State.TENTATIVE  # changed only by ``FlowTracker.transition``
    lost_since_ms: float | None = None  # when it was lost (None while tracked)
    missed: int = 0  # keyframes in a row the detector did not see it
    reads: int = 0  # OCR calls spent on its current content
    band: tuple[float, float] | None = None  # its text lies in this band of its box's height (a loose box): drawn there
    history: tuple[tuple[str, float], ...] = ()  # its recent readings (text, confidence): ``text`` is their fusion
    support: int = 0  # of them, the readings that agree with ``text``
    confirmed: bool = False  # its reading is confirmed (``KeyframeReader._confirmed``: never a piece): drawn
    points: np.ndarray | None = field(default=None, repr=False)  # flow-image coordinates, N×1×2

    def snapshot(self) -> Snapshot:
        return Snapshot(self.id, self.box, self.signature, self.settled, self.read_w, self.state is State.LOST,
                        self.history)

    @property
    def shown(self) -> bool:
        """Drawn: confirmed (tracked, its content in place, read as text, not cut by the frame's edge)."""
        return self.state is State.CONFIRMED


def same_text(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and normalise(a) == normalise(b)


def letters(text: str) -> int:
    return sum(c.isalpha() for c in text)


def better_reading(reading: Reading, track: Track) -> bool:
    """Whether a fresh reading replaces the region's. A failed re-read (blur, a passer-by) keeps what the
    region has; so does a less confident reading of unchanged content, unless it reads clearly more
    (a fragment read in motion gives way to the whole line)."""
    if track.text is None or track.partial:
        return True
    if reading.text is None:
        return False
    if track.confirmed and not reading.confirmed and letters(reading.text) <= letters(track.text) \
            and hides_only(track.text, reading.text):
        return False  # the same sign read with less of it (cut, hidden, blurred): the confirmed reading stays
    if reading.support >= 2 and reading.support >= track.support:  # confirmed by the region's readings together
        return True
    if not reading.same_content:
        return True
    return reading.ocr_conf >= track.ocr_conf or letters(reading.text) >= 1.25 * letters(track.text)
