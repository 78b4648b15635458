"""Text blocks: the lines of one notice, grouped so that the notice is translated as one text.

A notice is usually one or two sentences broken over several lines ("Halten Sie, / was Sie
versprechen. / Und geben Sie noch was dazu."); each line alone translates to nonsense ("stop" / "to
speak" / ...). Two lines belong to one block when one sits under the other on the same plate:

- similar height (``height_ratio``), and aligned: left edges, centres or right edges agree;
- close: the gap between them at most ``max_gap`` × the line height;
- the same ground and ink colours (``render.sign_colours``);
- nothing between them but the plate's ground: a row that is not mostly ground colour (a plate's
  border, the street between two plates on one post) keeps them apart.

A block's text is its lines in reading order joined by spaces (a word hyphenated at a line's end is
joined whole: "Ein-" / "gang" → "Eingang"); it is translated as one text, sentence by sentence as its
punctuation gives (``edge/translate.py``), and drawn as one plate over its lines. Lines that are
separate signs (a post holding two plates) stay lines. A block is not drawn (``waiting``) while a line
of it is still being read, or while its plate runs into the frame's edge: part of a notice translated
as if it were the whole ("Bitte Schuhe" → "please footwear") is a wrong overlay.

The colour checks cost about 1 ms a pair of lines (measured on a busy core) and are decided once per
pair of regions and their texts (a frame then costs 15 µs), so that a block does not form and break
up from frame to frame with noise.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from edge.render import sign_colours

Box = tuple[int, int, int, int]  # x, y, w, h in frame pixels


@dataclass
class BlockOptions:
    enabled: bool = True  # False: every line is translated and drawn alone
    height_ratio: float = 1.45  # lines of one block: the taller box at most this × the shorter
    max_gap: float = 1.0  # ... the vertical gap between the boxes at most this × the shorter box's height
    align: float = 0.8  # ... left edges, centres or right edges within this × the shorter box's height
    colour_distance: float = 70.0  # ... ground colours, and ink colours, at most this far apart (mean |ΔBGR|)
    ground_rows: float = 0.75  # ... and every pixel row between them at least this share nearer the ground
    # colour than the ink colour (a plate's border or the street between two plates is not)
    margin_px: int = 4  # detection boxes are grown by this (``DetectorOptions.margin_px``): the rows
    # between two lines are looked at inside it
    memo_entries: int = 512  # pair decisions remembered (pairs of regions no longer shown are dropped first)
    cut_reach: float = 2.5  # a block waits while its plate runs into the frame's edge this close (× the line
    # height) to its lines: the notice may go on outside the picture (a longer line, a line above or below)


@dataclass
class Line:
    id: int
    box: Box
    text: str


@dataclass
class Block:
    ids: tuple[int, ...]  # its lines' region ids, in reading order (lines not read yet left out)
    box: Box  # the union of its lines' boxes
    text: str  # the lines joined (``join_lines``)
    waiting: bool = False  # a line of it is still being read: its text is not whole yet, nothing is drawn

    @property
    def id(self) -> int:
        return self.ids[0]


def join_lines(texts: list[str]) -> str:
    """Lines of one block as one text: joined by spaces, a word hyphenated at a line's end joined
    whole ("Ein-" + "gang" → "Eingang"; "Park-" + "Ride" → "Park-Ride")."""
    out = ""
    for text in (t.strip() for t in texts):
        if not text:
            continue
        if len(out) >= 2 and out.endswith("-") and out[-2].isalpha():
            out = (out[:-1] if text[0].islower() else out) + text
        else:
            out = f"{out} {text}" if out else text
    return out


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return float(np.mean(np.abs(np.subtract(a, b, dtype=np.float32))))


class BlockGrouper:
    """Groups the lines shown in a frame into blocks; remembers each pair's plate decision."""

    def __init__(self, options: BlockOptions | None = None):
        self.options = options or BlockOptions()
        self._same_plate: dict[tuple[int, int, str, str], bool] = {}

    def group(self, image: np.ndarray, lines: list[Line], reading: list[Line] = ()) -> list[Block]:
        """The blocks of two or more lines among ``lines`` (a line in none stays alone). ``reading``: lines
        not read yet (tracked, no text so far); a block they belong to, even with one read line, is
        ``waiting``: drawn in part, a notice would be translated in part ("Bitte Schuhe" → "please
        footwear" before "ausziehen" is read)."""
        if not self.options.enabled or len(lines) + len(reading) < 2 or not lines:
            return []
        unread = {ln.id for ln in reading}
        ordered = sorted([*lines, *reading], key=lambda ln: (ln.box[1], ln.box[0]))
        following: dict[int, Line] = {}
        taken: set[int] = set()
        for a in ordered:
            below = [b for b in ordered if b is not a and self._adjacent(a.box, b.box)]
            if not below:
                continue
            b = min(below, key=lambda ln: ln.box[1])
            if b.id not in taken and self._plate(image, a, b):
                following[a.id] = b
                taken.add(b.id)
        blocks = []
        for line in ordered:
            if line.id in taken or line.id not in following:
                continue
            chain = [line]
            while chain[-1].id in following:
                chain.append(following[chain[-1].id])
            read = [c for c in chain if c.id not in unread]
            if not read:
                continue
            xs = [c.box[0] for c in read] + [c.box[0] + c.box[2] for c in read]
            ys = [c.box[1] for c in read] + [c.box[1] + c.box[3] for c in read]
            box = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
            waiting = len(read) < len(chain) or self._cut_by_frame(image, read, box)
            blocks.append(Block(tuple(c.id for c in read), box, join_lines([c.text for c in read]), waiting))
        self._forget({ln.id for ln in ordered})
        return blocks

    def _adjacent(self, a: Box, b: Box) -> bool:
        """``b`` is the next line under ``a`` by geometry alone: similar height, close below, aligned."""
        o = self.options
        ax, ay, aw, ah = a
        bx, by, bw, bh = b
        low, high = min(ah, bh), max(ah, bh)
        if low <= 0 or high > o.height_ratio * low:
            return False
        if by + bh / 2 <= ay + ah / 2:  # not below
            return False
        gap = by - (ay + ah)
        if gap > o.max_gap * low or gap < -0.5 * low:
            return False
        if min(ax + aw, bx + bw) <= max(ax, bx):  # no horizontal overlap
            return False
        tolerance = o.align * low
        return (abs(ax - bx) <= tolerance or abs((ax + aw / 2) - (bx + bw / 2)) <= tolerance
                or abs((ax + aw) - (bx + bw)) <= tolerance)

    def _plate(self, image: np.ndarray, a: Line, b: Line) -> bool:
        key = (a.id, b.id, a.text, b.text)
        if key not in self._same_plate:
            self._same_plate[key] = self._same_plate_now(image, a.box, b.box)
        return self._same_plate[key]

    def _same_plate_now(self, image: np.ndarray, a: Box, b: Box) -> bool:
        """Same ground and ink colours, and only the ground between the two lines."""
        o = self.options
        height, width = image.shape[:2]

        def crop(box: Box) -> np.ndarray:
            x, y, w, h = box
            return image[max(0, y): min(height, y + h), max(0, x): min(width, x + w)]

        patch_a, patch_b = crop(a), crop(b)
        if patch_a.size == 0 or patch_b.size == 0:
            return False
        ground_a, ink_a = sign_colours(patch_a)
        ground_b, ink_b = sign_colours(patch_b)
        if _distance(ground_a, ground_b) > o.colour_distance or _distance(ink_a, ink_b) > o.colour_distance:
            return False
        # the rows between the lines' text: inside the detection margins of both boxes
        top = a[1] + a[3] - o.margin_px
        bottom = b[1] + o.margin_px
        left = max(a[0], b[0]) + o.margin_px
        right = min(a[0] + a[2], b[0] + b[2]) - o.margin_px
        top, bottom = max(0, top), min(height, bottom)
        left, right = max(0, left), min(width, right)
        if bottom <= top or right - left < 4:
            return True  # the lines touch: nothing between them to tell two plates apart
        strip = image[top:bottom, left:right].astype(np.float32)
        ground = np.mean([ground_a, ground_b], axis=0, dtype=np.float32)
        ink = np.mean([ink_a, ink_b], axis=0, dtype=np.float32)
        nearer_ground = (np.abs(strip - ground).sum(axis=2) < np.abs(strip - ink).sum(axis=2))
        return bool(nearer_ground.mean(axis=1).min() >= o.ground_rows)

    def _cut_by_frame(self, image: np.ndarray, lines: list[Line], box: Box) -> bool:
        """The plate runs on from the block's lines into the frame's edge (its ground colour all the way,
        within ``cut_reach`` line heights): part of the notice may be outside the picture ("Fotografieren",
        the widest line, cut by the edge while "nicht" / "erlaubt" under it are whole)."""
        height, width = image.shape[:2]
        line_h = float(np.mean([ln.box[3] for ln in lines]))
        reach = self.options.cut_reach * line_h
        x, y, w, h = box
        first = lines[0].box
        ground, ink = (np.float32(c) for c in sign_colours(
            image[max(0, first[1]): first[1] + first[3], max(0, first[0]): first[0] + first[2]]))
        contrast = float(np.linalg.norm(ink - ground))
        if contrast < 40:
            return False

        def plate_to_edge(pixels: np.ndarray) -> bool:
            if len(pixels) == 0:
                return True  # the lines touch the edge
            near = np.linalg.norm(pixels.astype(np.float32) - ground, axis=1) < 0.3 * contrast
            return float(np.mean(near)) >= 0.85

        rows = [int(ln.box[1] + ln.box[3] / 2) for ln in lines]
        cy, cx = int(y + h / 2), int(x + w / 2)
        sides = []
        if width - (x + w) <= reach:
            sides += [image[r, min(width, x + w): width] for r in rows]
        if x <= reach:
            sides += [image[r, 0: max(0, x)] for r in rows]
        if y <= reach:
            sides.append(image[0: max(0, y), cx])
        if height - (y + h) <= reach:
            sides.append(image[min(height, y + h): height, cx])
        return any(plate_to_edge(side) for side in sides if 0 <= cy < height)

    def _forget(self, shown: set[int]) -> None:
        """Drop decisions about regions not shown now, once the memo is full."""
        if len(self._same_plate) > self.options.memo_entries:
            self._same_plate = {k: v for k, v in self._same_plate.items() if k[0] in shown and k[1] in shown}


@dataclass
class TextBlock:
    """Lines of one notice translated as one text and drawn as one plate: what a frame shows of a block."""

    id: int  # its first line's region id
    regions: list[int]  # its lines' region ids, in reading order
    box: Box
    text: str
    translation: str | None  # None: being translated, or waiting for a line (nothing of the block is drawn)
    translation_source: str | None = None

    def record(self) -> dict:
        return {"id": self.id, "regions": self.regions, "box": list(self.box), "text": self.text,
                "translation": self.translation, "translation_source": self.translation_source}


BLOCK_CACHE_ENTRIES = 256  # block translations kept (the translator's own cache is the worker's, not the display's)


class BlockBoard:
    """What each text block shows, on the display path: its translation once known; while it is being
    translated, what it showed last, and only if its text has only grown since (more of the same notice
    came into view); else nothing. Translations come in from the translator (``learn``: the keyframe
    worker, or in line) and from the cloud (``upgrade``)."""

    def __init__(self, options: BlockOptions | None = None):
        self.grouper = BlockGrouper(options)
        self._known: OrderedDict[str, tuple[str, str]] = OrderedDict()  # block text → (translation, source)
        self._shown: dict[int, tuple[str, str, str]] = {}  # block id → (text, translation, source) shown last
        self.missing: list[str] = []  # texts of the last frame's blocks that have no translation yet
        self.translated = 0  # block texts translated

    def group(self, image: np.ndarray, lines: list[Line], reading: list[Line] = ()) -> list[Block]:
        """``BlockGrouper.group``, noting which texts want a translation."""
        found = self.grouper.group(image, lines, reading)
        self.missing = list(dict.fromkeys(b.text for b in found if not b.waiting and b.text not in self._known))
        return found

    def learn(self, translations: dict[str, tuple[str, str]]) -> None:
        self.translated += len(translations)
        self.missing = [t for t in self.missing if t not in translations]
        for text, answer in translations.items():
            self._known[text] = answer
            self._known.move_to_end(text)
        while len(self._known) > BLOCK_CACHE_ENTRIES:
            self._known.popitem(last=False)

    def upgrade(self, text: str, translation: str) -> bool:
        """The cloud's answer for a block text the device translated: it replaces the device's."""
        if text not in self._known or not translation.strip():
            return False
        self._known[text] = (translation, "cloud")
        return True

    def show(self, found: list[Block]) -> list[TextBlock]:
        out = []
        for block in found:
            answer = None if block.waiting else self._known.get(block.text)
            if answer:
                self._shown[block.id] = (block.text, *answer)
            else:
                shown_text, *before = self._shown.get(block.id, ("", None, None))
                answer = tuple(before) if shown_text and shown_text in block.text else None
            out.append(TextBlock(block.id, list(block.ids), block.box, block.text, *(answer or (None, None))))
        live = {b.id for b in found}
        self._shown = {k: v for k, v in self._shown.items() if k in live}
        return out
