"""Region identity across frames.

This first version associates each frame's detected boxes with the previous frame's regions by
box overlap (IoU), so a sign that stays in view keeps its ``id`` in the event stream. Optical-flow
tracking between keyframes comes with the real-time scheduling work.
"""

from __future__ import annotations

from dataclasses import dataclass


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


@dataclass
class TrackerOptions:
    min_iou: float = 0.3  # overlap with last frame's box needed to keep an id
    max_missed_frames: int = 5  # a region unseen this many frames is forgotten


class IouTracker:
    """Greedy best-overlap matching of boxes to live tracks; unmatched boxes get new ids."""

    def __init__(self, options: TrackerOptions | None = None):
        self.options = options or TrackerOptions()
        self._next_id = 1
        self._tracks: dict[int, tuple[tuple[int, int, int, int], int]] = {}  # id → (box, frames missed)

    def assign(self, boxes: list[tuple[int, int, int, int]]) -> list[int]:
        """An id per box, in order."""
        pairs = sorted(
            ((iou(box, tbox), i, tid) for i, box in enumerate(boxes) for tid, (tbox, _) in self._tracks.items()),
            reverse=True,
        )
        ids: list[int | None] = [None] * len(boxes)
        taken = set()
        for overlap, i, tid in pairs:
            if overlap < self.options.min_iou:
                break
            if ids[i] is None and tid not in taken:
                ids[i] = tid
                taken.add(tid)
        for i, tid in enumerate(ids):
            if tid is None:
                ids[i] = self._next_id
                self._next_id += 1
        for tid, (tbox, missed) in list(self._tracks.items()):
            if tid not in taken:
                if missed + 1 > self.options.max_missed_frames:
                    del self._tracks[tid]
                else:
                    self._tracks[tid] = (tbox, missed + 1)
        for i, tid in enumerate(ids):
            self._tracks[tid] = (boxes[i], 0)
        return ids  # type: ignore[return-value]
