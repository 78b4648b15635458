"""Keyframe scheduling: when to detect, and the reader that detects, reads and translates off the
display path.

The display path (capture → track → render → sink) runs on every frame and never waits for the
slow stages. On a keyframe it hands a copy of the frame and a snapshot of the tracked regions to
the ``KeyframeReader``: detection, then OCR only for regions that are new or whose content changed,
then one translation batch for every new line. In real time the reader runs on a worker thread
(LiteRT, Tesseract and CTranslate2 all release the GIL while they compute, and a thread shares the
loaded models — a second process would load them twice, which a 512 MB device cannot afford;
``edge/worker.py``); its readings attach to the tracked regions when they arrive. In analysis mode (every frame) it runs in
line, so a replay is deterministic.

The cadence adapts: detection runs every ``keyframe_max_ms`` on a still scene and down to every
``keyframe_min_ms`` when the camera moves fast, a region was lost or a reading is not settled.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge import deblur
from edge.association import FRAGMENT, Reading, Snapshot, match
from edge.detect import TextDetector
from edge.dictionary import WORD
from edge.fusion import KEEP, fuse, hides_only
from edge.linecrop import band_quad, pad_quad, upright_crop
from edge.ocr import Recognizer
from edge.pieces import BEYOND_STEP, PIECE_SEEN, PIECE_SPAN, is_piece, line_extent, runs_off_frame
from edge.regions import content_signature, inside, iou, presence, similarity
from edge.track import TrackerOptions
from edge.translate import Translator

FAST_MOTION_PX = 10.0  # camera motion per frame (frame px) at which keyframes come as often as allowed
DIM_MIN_LETTERS = 3  # in low light a shorter reading needs three agreeing readings: noise, a post's edge or a
# piece reads as a short word the phrase table knows ("as", "um", "Es" in dusk walks)
_LETTERS = re.compile(r"[^\W\d_]")
_BARS_ONLY = re.compile(r"^[iIl1|!jJ.,:;' -]+$")  # ... and one of nothing but upright strokes is a post or a railing
# read as letters ("ill" over a lamp post)


@dataclass
class Cadence:
    """Adaptive keyframe interval, in media time (pts ms), so analysis replays are deterministic."""

    min_ms: float
    max_ms: float
    smoothing: float = 0.3  # weight of the newest motion sample in the running motion estimate
    motion_px: float = field(default=0.0, init=False)
    last_ms: float | None = field(default=None, init=False)

    def interval_ms(self, pending: int) -> float:
        if pending:
            return self.min_ms
        share = min(1.0, self.motion_px / FAST_MOTION_PX)
        return self.max_ms - share * (self.max_ms - self.min_ms)

    def due(self, pts_ms: float, motion_px: float, pending: int) -> bool:
        """``pending``: regions lost or not read well yet — they want the next keyframe soon."""
        self.motion_px += self.smoothing * (motion_px - self.motion_px)
        return self.last_ms is None or pts_ms - self.last_ms >= self.interval_ms(pending)

    def taken(self, pts_ms: float) -> None:
        self.last_ms = pts_ms


@dataclass
class KeyframeResult:
    frame: int
    snapshot: list[Snapshot]
    readings: list[Reading]
    stage_ms: dict[str, float]
    ocr_reads: int
    gone: list[int] = field(default_factory=list)  # snapshot regions whose content was not at their place
    scene: int = 0  # the tracker's scene when the keyframe was taken (set by the pipeline)


CROP_HEIGHT_PX = 48  # the line crop sent to the cloud when OCR is unsure: this tall, ...
CROP_MAX_BYTES = 24_000  # ... and at most this big (JPEG quality steps down to fit)


def line_jpeg(image: np.ndarray, quad: np.ndarray) -> bytes | None:
    """The upright crop of one line as a small JPEG (never the frame): what is sent for the cloud to read."""
    crop = upright_crop(image, quad, CROP_HEIGHT_PX, 16 * CROP_HEIGHT_PX, grey=False)
    if crop.size == 0:
        return None
    for quality in (85, 70, 50, 30):
        ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and len(data) <= CROP_MAX_BYTES:
            return data.tobytes()
    return None


class KeyframeReader:
    """Detect → match to tracked regions → OCR what is new or changed → translate new lines in one batch."""

    def __init__(self, detector: TextDetector, recognizer: Recognizer, translator: Translator | None,
                 options: TrackerOptions | None = None):
        self.detector = detector
        self.recognizer = recognizer
        self.translator = translator
        self.options = options or TrackerOptions()
        self.crop_below = 0.0  # OCR confidence under which a reading carries its line as JPEG (cloud route)
        self.dim_keyframes = 0  # keyframes detected at full resolution because the frame was dark
        self._dim = False  # the frame being read is a low-light one
        local = getattr(translator, "local", None)
        self.lexicon = getattr(local, "phrases", None)  # known source words (``PhraseTable``), None: none shipped

    def read(self, frame: int, image: np.ndarray, snapshot: list[Snapshot],
             motion: tuple[float, float] = (0.0, 0.0), still: bool = False, hires: bool = False) -> KeyframeResult:
        """Detect in ``image``, read what is new, changed or not settled, translate the new lines.
        ``motion``: the camera's motion (dx, dy px) over the frame (its smear is undone before reading;
        readings in motion are not final). ``still``: a photo, not a video frame: detected in tiles at
        ``DetectorOptions.still_scale`` of its resolution (small text). ``hires``: a video keyframe taken
        while the camera is still: the usual look plus the small lines the tiled look adds."""
        spent: dict[str, float] = {}
        t0 = time.perf_counter()
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        restored = self._restored(grey, motion)
        # restored, the detector gets the grey frame: as good as colour on moving frames of the standard
        # scenario (182 of 184 signs either way, 170 unrestored) and a third of the memory
        looked = image if restored is None else restored
        self._dim = dim = not still and self._is_dim(grey)
        if still and self.detector.options.still_scale > 0:
            boxes = self.detector.detect_tiled(image, self.detector.options.still_scale)
        elif dim:  # low light: small text survives only at full resolution
            boxes = self.detector.detect_tiled(looked, self.detector.options.dim_scale)
            self.dim_keyframes += 1
        elif hires and self.detector.options.still_scale > 0:
            boxes = self.detector.detect_with_small(image, self.detector.options.still_scale)
        else:
            boxes = self.detector.detect(looked)
        t1 = time.perf_counter()
        spent["detect"] = (t1 - t0) * 1000  # deblurring included: it is done for the detector first
        present = self._present(grey, snapshot)
        signatures: dict[int, np.ndarray] = {}

        def signature_of(i: int) -> np.ndarray:
            if i not in signatures:
                signatures[i] = content_signature(grey, boxes[i].box)
            return signatures[i]

        def shows(i: int, region: Snapshot) -> bool:  # box i shows what the (lost) region showed
            return region.signature is not None and similarity(signature_of(i), region.signature) >= self.options.same_content

        ids = match(snapshot, [b.box for b in boxes], self.options.min_iou, present, shows)
        known = {s.id: s for s in snapshot}
        height, width = grey.shape
        edge = self.options.edge_px
        readings, reads = [], 0
        for i, (detected, tid) in enumerate(zip(boxes, ids)):
            if tid == FRAGMENT:  # the region it is a piece of was seen: it stays, unread
                region = max((s for s in snapshot if s.id in present), key=lambda s: inside(detected.box, s.box))
                if region.id not in ids and all(r.track_id != region.id for r in readings):
                    readings.append(Reading(region.box, region.id, region.signature))
                continue
            signature = signature_of(i)
            x, y, w, h = detected.box
            partial = x <= edge or y <= edge or x + w >= width - edge or y + h >= height - edge
            before = known.get(tid)
            same = before is not None and self._same_content(signature, before, w)
            unchanged = same and before.settled
            reading = Reading(tuple(float(v) for v in detected.box), tid, signature, partial=partial, quad=detected.quad,
                              same_content=same)
            if not unchanged:
                history = before.history if before else self._history_near(detected.box, snapshot)
                if before is not None and w > before.read_w * (1 + self.options.grown_share):
                    history = ()  # more of the line came into view: what was read before saw less of it
                self._ocr(image, reading, detected.quad, motion, restored, history)
                reads += 1
            readings.append(reading)
        t2 = time.perf_counter()
        if reads:
            spent["ocr"] = (t2 - t1) * 1000
        result = self._finish(frame, snapshot, readings, spent, reads)
        result.gone = [s.id for s in snapshot if s.id not in present]
        return result

    @property
    def low_light(self) -> bool:
        """The last frame read was a low-light one."""
        return self._dim

    def _is_dim(self, grey: np.ndarray) -> bool:
        """A low-light frame (mean grey level under ``DetectorOptions.dim_luma``): detected at ``dim_scale``,
        its readings confirmed by known words (``_confirmed``), a line that gave nothing read again."""
        return float(cv2.mean(grey)[0]) < self.detector.options.dim_luma

    def _history_near(self, box, snapshot: list[Snapshot]) -> tuple[tuple[str, float], ...]:
        """The readings of the region a new detection overlaps most (at least ``min_iou``): the same sign
        whose region was lost (a post passed over it) keeps them, if its new reading agrees (``_ocr``)."""
        best = max(snapshot, key=lambda s: iou(box, s.box), default=None)
        return best.history if best is not None and iou(box, best.box) >= self.options.min_iou else ()

    def _present(self, grey: np.ndarray, snapshot: list[Snapshot]) -> set[int]:
        """Ids of the regions whose content is at their place in this keyframe (a region never read has
        no content to check, and one mostly out of the frame cannot be checked: both count as present
        unless lost)."""
        out = set()
        for region in snapshot:
            seen = presence(grey, region.box, region.signature) if region.signature is not None else None
            if (seen is None and not region.lost) or (seen is not None and seen >= self.options.present_min):
                out.add(region.id)
        return out

    def reread(self, frame: int, image: np.ndarray, regions: list[tuple[Snapshot, np.ndarray]],
               motion: tuple[float, float] = (0.0, 0.0)) -> KeyframeResult:
        """Read tracked regions again where they are now (``(snapshot, quad)`` each), without a detection:
        for readings that are not settled (taken in motion, or with low confidence)."""
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        t0 = time.perf_counter()
        self._dim = self._is_dim(grey)
        restored = self._restored(grey, motion)
        readings = []
        for snap, quad in regions:
            signature = content_signature(grey, snap.box)
            reading = Reading(snap.box, snap.id, signature, same_content=self._same_content(signature, snap))
            self._ocr(image, reading, quad, motion, restored, snap.history)
            readings.append(reading)
        spent = {"ocr": (time.perf_counter() - t0) * 1000}
        return self._finish(frame, [snap for snap, _ in regions], readings, spent, len(readings))

    def _same_content(self, signature: np.ndarray, snap: Snapshot, width: float | None = None) -> bool:
        """The region shows what it showed when last read: similar signature and, for a detection of
        ``width``, a box that has not grown past ``grown_share`` (more of the line came into view)."""
        return (snap.signature is not None and similarity(signature, snap.signature) >= self.options.same_content
                and (width is None or width <= snap.read_w * (1 + self.options.grown_share)))

    def _restored(self, grey: np.ndarray, motion: tuple[float, float]) -> np.ndarray | None:
        """The grey frame with the camera's motion smear undone (``edge/deblur.py``); None when the camera
        was still."""
        blur = deblur.estimate(grey, motion)
        return deblur.restore(grey, blur) if blur else None

    def _ocr(self, image: np.ndarray, reading: Reading, quad: np.ndarray, motion: tuple[float, float],
             restored: np.ndarray | None, history: tuple[tuple[str, float], ...] = ()) -> None:
        """Read the line and fuse the reading with the region's earlier ones (``history``, ``edge/fusion.py``).
        A piece of the line (``is_piece``) is kept out of the fusion and never shown. When the content
        changed, the earlier readings count only if the new one agrees with them (the same sign, moved or
        partly hidden: one reading is the other with letters missing, ``hides_only``); otherwise the region
        starts over, so a changed text ("Gleis 3" → "Gleis 4") is never outvoted by the old one."""
        line = self.recognizer.read(image, quad, restored, narrow=self._dim)
        # in low light the detector often finds a piece of a line (the rest too dim, or behind a post): when the
        # line's strokes go on past its box, it is read again from a box grown to where they end, and when they
        # go on well past it (more than a step), what the box holds is a piece
        if self._dim:
            before, after = line_extent(image, quad)
        else:  # in good light the detector finds whole lines: only a frame's edge cuts one (a box that reads as
            # no text is left alone: it is not drawn anyway, and would keep the keyframes coming)
            if line is not None and runs_off_frame(image.shape, quad, *line_extent(image, quad), self.options.edge_px):
                reading.partial = True
            before = after = 0.0
        cut = max(before, after) > BEYOND_STEP
        if before or after:
            grown = pad_quad(quad, before, after, 0.0)
            longer = self.recognizer.read(image, grown, restored, narrow=self._dim)
            if longer is not None and (line is None or len(longer.text) > len(line.text)):
                line, quad = longer, grown
                cut = max(line_extent(image, grown)) > BEYOND_STEP
        reading.reread, reading.history = True, history
        if line is not None:
            reading.lang, reading.band = line.lang, line.band
            letters = quad if line.band is None else band_quad(quad, *line.band)  # a loose box: its letters' band
            reading.piece = (is_piece(line.text, letters) or (line.span is not None and line.span < PIECE_SPAN)
                             or cut)
            # a piece, or a line cut by the frame's edge, is not what the sign says: it does not vote
            raw = None if reading.piece or reading.partial else (line.text, line.conf)
            if history and not reading.same_content:
                before = fuse(list(history))
                if raw is None or not hides_only(before.text, raw[0]):
                    history = ()
            reading.history = (*history, raw)[-KEEP:] if raw else history
            fused = fuse(list(reading.history)) if raw else None
            if fused is not None:
                reading.text, reading.ocr_conf, reading.support = fused.text, fused.conf, fused.support
            else:  # a piece or a cut line: kept as read (tentative), never shown
                reading.text, reading.ocr_conf = line.text, line.conf
            if line.conf < self.crop_below:
                reading.crop = line_jpeg(image, quad)
        reading.confirmed = reading.text is not None and self._confirmed(reading)
        # settled (final while the content is unchanged): whole, still and confirmed; a region that is not is
        # read again. In low light a line that gave nothing is read again too (noise hides a sign in one frame
        # and not in the next)
        reading.settled = (not reading.partial and not reading.piece
                           and float(np.hypot(*motion)) <= self.options.settle_motion_px
                           and (line.conf >= self.options.settle_conf and reading.confirmed if line else not self._dim))

    def _confirmed(self, reading: Reading) -> bool:
        """Whether a (fused) reading may be drawn. In good light: OCR confidence ≥ ``show_conf``, or two
        readings of the region agree. In low light Tesseract's confidence means little and its errors
        repeat from frame to frame ("Bate 0", "Bate 000" on a noisy "Bitte klingeln"; "Erste i" three times):
        a reading whose every word the phrase table knows, confident or agreed with by a second one;
        without a phrase table, or for a reading of one or two letters, three agreeing readings."""
        if reading.piece or self._longer_seen(reading):
            return False
        sure = reading.support >= 2 or reading.ocr_conf >= self.options.show_conf
        if not self._dim:
            return sure
        if self.lexicon is None or len(_LETTERS.findall(reading.text)) < DIM_MIN_LETTERS:
            return reading.support >= 3  # no phrase table (OCR only), or a two-letter word: three agreeing readings
        return sure and self._known_words(reading.text) and not _BARS_ONLY.match(reading.text)

    @staticmethod
    def _longer_seen(reading: Reading) -> bool:
        """The region was read with more letters (``PIECE_SEEN`` more) in a way this reading could be a
        piece of ("Krankenhaus", then "Kranken" twice while the end is hidden; "Vorsicht Stufe", then
        "Vorsicht Stu" as the sign leaves the picture; "Parken zboten", then "Parken" once a post hides the
        second word): the reading is a piece."""
        letters = sum(ch.isalnum() for ch in reading.text or "")
        return any(sum(ch.isalnum() for ch in text) >= letters + PIECE_SEEN
                   and (hides_only(text, reading.text) or _some_words(text, reading.text))
                   for text, _ in reading.history)

    def _known_words(self, text: str) -> bool:
        """Every word of ``text`` (runs of letters) is a word of two letters or more that the source
        language's phrase table or word list knows (a lone letter is a stroke of noise or a cut glyph)."""
        words = WORD.findall(text)
        return bool(words) and all(len(w) >= 2 and self.lexicon.knows(w) for w in words)

    def _finish(self, frame: int, snapshot: list[Snapshot], readings: list[Reading], spent: dict[str, float],
                reads: int) -> KeyframeResult:
        """Translate every fresh line in one batch."""
        fresh = [r for r in readings if r.reread and r.text]
        if self.translator and fresh:
            t0 = time.perf_counter()
            for reading, result in zip(fresh, self.translator.translate([r.text for r in fresh], [r.lang for r in fresh])):
                reading.translation, reading.translation_source = result.text, result.source
            spent["translate"] = (time.perf_counter() - t0) * 1000
        return KeyframeResult(frame, snapshot, readings, spent, reads)

    def translate_blocks(self, frame: int, texts: list[str]) -> BlockTranslations:
        """Translate text blocks (several lines of one notice, joined) in one batch."""
        t0 = time.perf_counter()
        results = self.translator.translate(texts)
        spent = {"translate": (time.perf_counter() - t0) * 1000}
        return BlockTranslations(frame, {t: (r.text, r.source) for t, r in zip(texts, results)}, spent)


@dataclass
class BlockTranslations:
    """Translations of text blocks (``edge/blocks.py``): what a ``translate_blocks`` job hands back."""

    frame: int
    translations: dict[str, tuple[str, str]]  # block text → (translation, source)
    stage_ms: dict[str, float]
    scene: int = 0


def _some_words(longer: str, shorter: str) -> bool:
    """``shorter`` is some of the words of ``longer``, in a row (``hides_only`` letter for letter): the rest of
    the line was behind something or past the frame's edge ("Parken" of "Parken zboten", hard walk 114:
    drawn *parking* over a "Parken verboten" sign for 17 frames; "für Unbefugte" of "Zutritt für Unbefugte
    verboten")."""
    words, count = longer.split(), len(shorter.split())
    return 0 < count < len(words) and any(hides_only(" ".join(words[i:i + count]), shorter)
                                          for i in range(len(words) - count + 1))
