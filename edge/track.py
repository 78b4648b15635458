"""Region identity across frames: optical-flow tracking between keyframes.

Every frame, feature points inside each text region (and a sparse set on the background) are followed with
pyramidal Lucas–Kanade flow on a small grey copy of the frame, checked forwards and backwards. A region
moves with the median motion of its points (with the camera's when they stray far from it: a post in front
drags them) and scales with the camera's (a partial affine fit of all points). A region whose points are
lost (occluded, blurred away) is *lost*: it is not drawn, its box is carried by the camera's motion, and it
is remembered for a while so that a keyframe detection at the same place with the same content revives it
under the same id without reading it again. Content is compared by a small normalised thumbnail of the
region's crop (cross-correlation, ``edge/regions.py``): a region is re-read only when its content changed,
it was never read, or its reading is not settled yet (read in motion, cut by the frame's edge, low
confidence).

A region has one lifecycle state (``State``, ``edge/lifecycle.py``) and changes it only in
``FlowTracker.transition``, on a named ``Event``; a lost region is kept ``lost_keep_ms`` to be found
again. Two checks keep a stale overlay off the screen:

- **scene change** (every frame, ~0.05 ms): most tracked points fail the forward–backward check
  *and* a 32×24 thumbnail of the frame no longer correlates with the last one (a hard cut, a whip
  pan, a camera that dropped frames). Every region is removed at once and a keyframe is asked for;
  keyframe results computed before the cut are thrown away (``scene`` counts the cuts).
- **content presence** (every frame, per region): the region's crop at its tracked place must
  still correlate with what it showed when it was read (``edge/regions.py``); when it does not, the
  region is lost, not carried along by the camera's motion over whatever is there now.

Association (``match``, ``edge/association.py``) is a pure function gated by content as well as overlap: a detection
takes over a region only when the region's content is still where it was tracked to, or when the
detection shows the region's content (a lost region found again).

Keyframe results are computed on an older frame; ``since_keyframe`` accumulates the camera motion
from the keyframe to now, so their boxes land where the sign is *now*.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edge.association import Reading, Snapshot
from edge.lifecycle import LOSING, REMOVING, Event, State, Track, better_reading, same_text
from edge.regions import Box, inside, ncc, presence


@dataclass
class TrackerOptions:
    max_points: int = 20  # feature points seeded per region
    min_points: int = 4  # points a region needs to stay tracked
    fb_error_px: float = 1.0  # forward–backward flow error above which a point is dropped (flow-image px)
    background_points: int = 40  # points on the whole frame, for the camera's motion
    min_iou: float = 0.3  # overlap of a detection with a region's box to be the same region
    same_content: float = 0.7  # signature similarity at or above which a region's content is unchanged
    grown_share: float = 0.15  # a region whose box grew by more than this since it was read is read again
    edge_px: int = 4  # a box this close to the frame's edge may be cut: read again until it is not
    settle_motion_px: float = 2.5  # a reading taken while the camera moved more (px/frame) may be blurred
    settle_conf: float = 0.6  # ... or with less OCR confidence may be wrong: both are read again
    max_reads: int = 6  # reads a region gets before its reading is final (while its content is unchanged;
    # a new content starts the count again, and a reading cut by the frame's edge is never final)
    missed_keyframes: int = 2  # a region the detector misses this many keyframes running is lost
    lost_keep_ms: float = 3000.0  # a lost region is remembered this long for re-identification
    cut_kept_share: float = 0.45  # a scene change: fewer of the tracked points than this survive the frame ...
    cut_thumb_ncc: float = 0.68  # ... and the frame's thumbnail correlates less than this with the last one,
    cut_thumb_alone: float = 0.5  # or it correlates less than this whatever the points say (on the standard
    # and two development scenarios: ordinary frames ≥ 0.59 kept / ≥ 0.83 correlation, cut and whip frames
    # ≤ 0.40 / ≤ 0.61)
    present_min: float = 0.45  # a region whose crop correlates less than this with its read content is lost
    off_camera_px: float = 6.0  # a region whose points stray further than this (frame px) and this share of the
    off_camera_share: float = 2.0  # camera's motion at it follows the camera (1.0: 3 signs fewer on the hard walk)
    show_conf: float = 0.8  # a reading is drawn only at this OCR confidence, or once a second reading of the
    # region agrees with it (``edge/fusion.py``): pieces of a line read in motion ("Einfahrt" of "Einfahrt
    # freihalten", 0.74) and one-off misreadings are not drawn as if they were the sign


def _zoom(matrix: np.ndarray) -> float:
    """The scale factor of a 2×3 similarity."""
    return float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))


def _transform_box(matrix: np.ndarray, box: Box) -> Box:
    """A 2×3 similarity applied to a box (its centre moves, its size scales)."""
    x, y, w, h = box
    cx, cy = matrix @ np.array([x + w / 2, y + h / 2, 1.0])
    scale = _zoom(matrix)
    return (float(cx - w * scale / 2), float(cy - h * scale / 2), float(w * scale), float(h * scale))


_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


THUMB_SIZE = (32, 24)  # the frame thumbnail a scene change is measured on


class FlowTracker:
    def __init__(self, options: TrackerOptions | None = None, flow_width_px: int = 320):
        self.options = options or TrackerOptions()
        self.flow_width_px = flow_width_px
        self.tracks: dict[int, Track] = {}
        self._next_id = 1
        self._prev: np.ndarray | None = None  # previous flow image
        self._thumb: np.ndarray | None = None  # previous frame thumbnail (scene-change check)
        self._scale = 1.0  # flow-image px per frame px
        self._background: np.ndarray | None = None
        self._frame_size = (0, 0)  # w, h
        self.since_keyframe = _IDENTITY.copy()  # camera motion, keyframe → now (frame px)
        self.motion = (0.0, 0.0)  # camera motion of the last frame (dx, dy), frame px
        self.scene = 0  # scene changes so far: keyframe results from an earlier scene are stale
        self.scene_changed = False  # the last frame was a scene change (no keyframe should be taken on it)
        self._after_cut = False  # a scene change happened and no keyframe has been taken since
        self.transitions: dict[str, int] = {}  # how often each event happened (for the summary)

    # -- the lifecycle ---------------------------------------------------------------------------
    def transition(self, track: Track, event: Event, now_ms: float) -> None:
        """The one place a region's state changes."""
        self.transitions[event.value] = self.transitions.get(event.value, 0) + 1
        if event in REMOVING:
            self.tracks.pop(track.id, None)
            return
        if event in LOSING:
            if track.state is not State.LOST:
                track.state, track.lost_since_ms, track.points = State.LOST, now_ms, None
            return
        # READ: a reading, or a detection showing the region's content, is attached
        # drawn only when confirmed; a reading settled because it was read ``max_reads`` times is final, not confirmed
        drawn = track.text is not None and not track.rejected and not track.partial and track.confirmed
        track.state = State.CONFIRMED if drawn else State.TENTATIVE
        if track.lost_since_ms is not None or track.points is None:
            track.lost_since_ms = None
            track.points = self._seed(self._prev, track.box) if self._prev is not None else None

    def reset(self) -> None:
        """Forget everything: the next frame starts a new scene (a photo of a folder)."""
        for track in list(self.tracks.values()):
            self.transition(track, Event.SCENE_CUT, 0.0)
        if self._prev is not None:
            self.scene += 1
        self._prev = self._thumb = self._background = None
        self.since_keyframe = _IDENTITY.copy()
        self.motion = (0.0, 0.0)
        self._after_cut = True

    # -- every frame ---------------------------------------------------------------------------
    def update(self, image: np.ndarray, now_ms: float) -> None:
        """Follow every region into ``image``: boxes, lost states, scene changes and the camera motion."""
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        h, w = grey.shape
        self._frame_size = (w, h)
        self._scale = min(1.0, self.flow_width_px / w)
        small = cv2.resize(grey, (int(w * self._scale), int(h * self._scale)), interpolation=cv2.INTER_AREA) \
            if self._scale < 1.0 else grey
        thumb = cv2.resize(small, THUMB_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
        prev, self._prev = self._prev, small
        last_thumb, self._thumb = self._thumb, thumb
        self.scene_changed = False
        if prev is None or prev.shape != small.shape:
            self._seed_background(small)
            return
        live = [t for t in self.tracks.values() if t.state is not State.LOST and t.points is not None and len(t.points)]
        groups = ([self._background] if self._background is not None and len(self._background) else []) + \
            [t.points for t in live]
        if groups:
            old = np.concatenate(groups).astype(np.float32)
            new, good = self._flow(prev, small, old)
        if self._is_cut(good.mean() if groups else 1.0, ncc(thumb, last_thumb)):
            self._cut(small, now_ms)
            return
        if not groups:
            self._seed_background(small)
            self.motion = (0.0, 0.0)
            return
        matrix = self._camera_motion(old[good], new[good])
        self.since_keyframe = _compose(matrix, self.since_keyframe)
        self.motion = (float(matrix[0, 2]), float(matrix[1, 2]))
        zoom = _zoom(matrix)
        start = len(self._background) if self._background is not None else 0
        keep_bg = good[:start]
        self._background = new[:start][keep_bg] if start else None
        for track in live:
            n = len(track.points)
            ok = good[start: start + n]
            pts_old, pts_new = old[start: start + n][ok], new[start: start + n][ok]
            start += n
            if len(pts_new) < self.options.min_points:
                self.transition(track, Event.POINTS_LOST, now_ms)
                continue
            shift = np.median(pts_new - pts_old, axis=0).reshape(2) / self._scale
            x, y, bw, bh = track.box
            if self._off_camera(matrix, track.box, shift):  # dragged by something over the sign: carried by the
                track.points = None  # camera's motion below, with fresh points
                continue
            cx, cy = x + bw / 2 + shift[0], y + bh / 2 + shift[1]
            track.box = (cx - bw * zoom / 2, cy - bh * zoom / 2, bw * zoom, bh * zoom)
            track.points = pts_new
            if len(pts_new) < self.options.max_points // 2:
                track.points = self._seed(small, track.box)
        for track in list(self.tracks.values()):
            track.read_w *= zoom
            if track.state is State.LOST or track.points is None:  # carried by the camera's motion
                track.box = _transform_box(matrix, track.box)
                if track.state is not State.LOST:
                    track.points = self._seed(small, track.box)
            if track.state is not State.LOST and track.signature is not None:
                seen = presence(grey, track.box, track.signature)
                if seen is not None and seen < self.options.present_min:
                    self.transition(track, Event.CONTENT_GONE, now_ms)
        self._forget(now_ms)
        if self._background is None or len(self._background) < self.options.background_points // 2:
            self._seed_background(small)

    def _off_camera(self, matrix: np.ndarray, box: tuple, shift: np.ndarray) -> bool:
        """Whether a region's own motion (``shift``, frame px) strays from the camera's at its centre."""
        camera = matrix[:, :2] @ (centre := np.array([box[0] + box[2] / 2, box[1] + box[3] / 2])) + matrix[:, 2] - centre
        return float(np.hypot(*(shift - camera))) > max(self.options.off_camera_px,
                                                        self.options.off_camera_share * float(np.hypot(*camera)))

    def _is_cut(self, kept_share: float, thumb_ncc: float) -> bool:
        o = self.options
        return thumb_ncc < o.cut_thumb_alone or (kept_share < o.cut_kept_share and thumb_ncc < o.cut_thumb_ncc)

    def _cut(self, small: np.ndarray, now_ms: float) -> None:
        """A scene change: every region goes at once, nothing stale is drawn, a keyframe is due."""
        for track in list(self.tracks.values()):
            self.transition(track, Event.SCENE_CUT, now_ms)
        self.scene += 1
        self.scene_changed = self._after_cut = True
        self.since_keyframe = _IDENTITY.copy()
        self.motion = (0.0, 0.0)
        self._seed_background(small)

    @property
    def motion_px(self) -> float:
        """How far the camera moved over the last frame, frame px."""
        return float(np.hypot(*self.motion))

    def _flow(self, prev: np.ndarray, small: np.ndarray, old: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        params = {"winSize": (15, 15), "maxLevel": 3,
                  "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)}
        new, status, _ = cv2.calcOpticalFlowPyrLK(prev, small, old, None, **params)
        back, status_back, _ = cv2.calcOpticalFlowPyrLK(small, prev, new, None, **params)
        error = np.linalg.norm((old - back).reshape(-1, 2), axis=1)
        good = (status.ravel() == 1) & (status_back.ravel() == 1) & (error < self.options.fb_error_px)
        return new, good

    def _camera_motion(self, old: np.ndarray, new: np.ndarray) -> np.ndarray:
        """Frame-to-frame similarity (frame px) of the whole picture; identity when unknown."""
        if len(old) >= 6:
            matrix, _ = cv2.estimateAffinePartial2D(old, new, method=cv2.RANSAC, ransacReprojThreshold=1.0)
            if matrix is not None:
                matrix = matrix.astype(np.float64)
                matrix[:, 2] /= self._scale
                return matrix
        if len(old):
            shift = np.median(new - old, axis=0).reshape(2) / self._scale
            return np.array([[1.0, 0.0, shift[0]], [0.0, 1.0, shift[1]]])
        return _IDENTITY.copy()

    def _forget(self, now_ms: float) -> None:
        """Drop regions that left the picture, and lost ones past ``lost_keep_ms``."""
        w, h = self._frame_size
        for track in list(self.tracks.values()):
            x, y, bw, bh = track.box
            cx, cy = x + bw / 2, y + bh / 2
            if not (0 <= cx < w and 0 <= cy < h):
                self.transition(track, Event.LEFT, now_ms)
            elif track.state is State.LOST and now_ms - track.lost_since_ms > self.options.lost_keep_ms:
                self.transition(track, Event.EXPIRED, now_ms)

    def _seed(self, small: np.ndarray, box: Box) -> np.ndarray | None:
        x, y, w, h = (int(round(v * self._scale)) for v in box)
        mask = np.zeros_like(small)
        mask[max(0, y): max(0, y + h), max(0, x): max(0, x + w)] = 255
        points = cv2.goodFeaturesToTrack(small, self.options.max_points, 0.01, 3, mask=mask)
        return points.astype(np.float32) if points is not None else None

    def _seed_background(self, small: np.ndarray) -> None:
        points = cv2.goodFeaturesToTrack(small, self.options.background_points, 0.01, max(8, small.shape[1] // 20))
        self._background = points.astype(np.float32) if points is not None else None

    # -- keyframes -----------------------------------------------------------------------------
    def snapshot(self) -> list[Snapshot]:
        """The regions as they are now, for a keyframe taken now; restarts ``since_keyframe``."""
        self.since_keyframe = _IDENTITY.copy()
        self._after_cut = False
        return [t.snapshot() for t in self.tracks.values()]

    def apply(self, readings: list[Reading], snapshot: list[Snapshot], now_ms: float, gone: list[int] = (),
              read_ms: float | None = None) -> None:
        """Attach a keyframe's readings: boxes move from the keyframe to now, matched regions keep
        their ids (lost ones are found again), new text becomes new regions, regions whose content
        was not at their place in the keyframe (``gone``) are lost, missed regions fade out.
        ``read_ms``: media time of the frame read (default ``now_ms``), when its regions count as read."""
        read_ms = now_ms if read_ms is None else read_ms
        before = {s.id: s.box for s in snapshot}
        seen = set()
        for reading in readings:
            track = self.tracks.get(reading.track_id) if reading.track_id is not None else None
            if track is None:
                track = Track(self._next_id, _transform_box(self.since_keyframe, reading.box))
                self._next_id += 1
                self.tracks[track.id] = track
                reading.track_id = track.id  # the region it became (the cloud's answer comes back to it)
            else:
                track.box = self._carry(track, before[track.id], reading.box)
            seen.add(track.id)
            track.missed = 0
            if reading.quad is not None:
                x, y, w, h = reading.box
                track.quad_rel = (reading.quad - [x, y]) / [max(w, 1.0), max(h, 1.0)]
            if reading.reread:
                self._take(track, reading, read_ms)
            self.transition(track, Event.READ, now_ms)
        for sid in before:
            track = self.tracks.get(sid)
            if track is None or sid in seen:
                continue
            if any(inside(track.box, self.tracks[other].box) >= 0.8 for other in seen if other in self.tracks):
                self.transition(track, Event.ABSORBED, now_ms)
                continue
            if sid in gone:
                self.transition(track, Event.CONTENT_GONE, now_ms)
                continue
            track.missed += 1
            if track.missed >= self.options.missed_keyframes:
                self.transition(track, Event.MISSED, now_ms)

    def _take(self, track: Track, reading: Reading, read_ms: float) -> None:
        """A fresh OCR reading of the region, taken from the frame at ``read_ms``: counted, and taken when
        it is better than what it has."""
        track.reads = track.reads + 1 if reading.same_content else 1  # counted per content
        track.read_ms = read_ms
        failed_change = reading.text is None and not reading.same_content and track.text is not None and not track.partial
        if failed_change:
            # changed content that could not be read (blur, a passer-by): keep showing nothing new, and
            # keep the old signature unsettled, so the next keyframe reads it again instead of locking
            # the old text in over new content
            track.settled = False
            return
        if track.partial and not reading.partial and track.text is not None and track.read_w >= 0.9 * reading.box[2] \
                and (reading.text is None or reading.ocr_conf < track.ocr_conf):
            # read at the frame's edge, but the line was already whole (the box has not grown since): now
            # that it is clear of the edge, that confident reading stands, not a blurred one taken in motion
            track.partial, track.signature, track.read_w = False, reading.signature, track.box[2]
            return
        track.signature, track.read_w = reading.signature, track.box[2]
        track.history = reading.history
        # a reading cut by the frame's edge is never final: the whole line is still to come
        track.settled = reading.settled or (track.reads >= self.options.max_reads and not reading.partial)
        if better_reading(reading, track):
            # a local re-read of the same text keeps the cloud's better answer
            keep = track.translation_source == "cloud" and same_text(reading.text, track.text)
            track.text, track.ocr_conf, track.rejected = reading.text, reading.ocr_conf, reading.text is None
            track.band = reading.band
            track.lang = reading.lang
            if not keep:
                track.translation, track.translation_source = reading.translation, reading.translation_source
            track.partial, track.support, track.confirmed = reading.partial, reading.support, reading.confirmed

    def _carry(self, track: Track, then: Box, detected: Box) -> Box:
        """The detected box (keyframe px) moved as the region moved since the keyframe."""
        if track.state is State.LOST:
            return _transform_box(self.since_keyframe, detected)
        x0, y0, w0, h0 = then
        x1, y1, w1, h1 = track.box
        scale = w1 / w0 if w0 else 1.0
        dx, dy, dw, dh = detected
        cx = dx + dw / 2 + (x1 + w1 / 2) - (x0 + w0 / 2)
        cy = dy + dh / 2 + (y1 + h1 / 2) - (y0 + h0 / 2)
        return (cx - dw * scale / 2, cy - dh * scale / 2, dw * scale, dh * scale)

    def pending_count(self) -> int:
        """Regions that want a detection soon: lost text regions (to find again) and regions read while
        cut by the frame's edge (their whole box comes from the detector); after a scene change, the
        new scene itself."""
        return int(self._after_cut) + sum(
            (t.state is State.LOST and not t.rejected and t.text is not None)
            or (t.state is not State.LOST and t.partial and t.reads < self.options.max_reads)
            for t in self.tracks.values())

    def unsettled(self, now_ms: float, every_ms: float) -> list[Track]:
        """Tracked, whole regions whose reading is not settled and was last read ``every_ms`` ago or more:
        they can be read again where they are, without a detection."""
        return [t for t in self.tracks.values()
                if t.state is not State.LOST and not t.settled and not t.partial and t.quad_rel is not None
                and t.reads < self.options.max_reads and now_ms - t.read_ms >= every_ms]

    def being_read(self) -> list[Track]:
        """Tracked regions not drawn yet whose reading may still come: not rejected as no text, not final
        (``max_reads``). A notice's line among them holds the notice back (``edge/blocks.py``)."""
        return [t for t in self.tracks.values()
                if t.state is State.TENTATIVE and not t.rejected and not t.settled and t.reads < self.options.max_reads]

    def quad_now(self, track: Track) -> np.ndarray:
        """The region's text-line corners in the current frame (its detected quad, moved with its box)."""
        x, y, w, h = track.box
        return (track.quad_rel * [w, h] + [x, y]).astype(np.float32)


def _compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The 2×3 transform doing ``b`` then ``a``."""
    return (np.vstack([a, [0, 0, 1]]) @ np.vstack([b, [0, 0, 1]]))[:2]
