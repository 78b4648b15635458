"""Text detection: a PP-OCRv4 DB text detector run with LiteRT, and its post-processing.

The model outputs a per-pixel text probability map at its input size. Post-processing follows DB
(Differentiable Binarization): threshold → connected contours → minimum-area rotated rectangle →
cut-line filter (a text kernel that nearly reaches the frame edge continues outside it) → score
filter → "unclip" (grow by area × ratio / perimeter, as the model was trained to shrink text
kernels) → quad scaled back to original-frame pixels → axis-aligned box with a margin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.errors import RuntimeMissing
from edge.regions import inside


@dataclass
class DetectorOptions:
    model: str = "ppocrv4-det-480x352-int8"  # catalog name of the LiteRT detector
    threads: int = 2  # LiteRT (XNNPACK) threads
    pixel_threshold: float = 0.3  # probability above which a map pixel counts as text
    box_threshold: float = 0.55  # minimum mean probability inside a candidate region
    unclip_ratio: float = 1.6  # how far a text kernel is grown back (DB's default)
    min_side_px: float = 3.0  # drop candidates whose short side is smaller, in map pixels
    margin_px: int = 4  # added around each axis-aligned box, in original-frame pixels
    max_candidates: int = 300  # contours considered per frame
    still_scale: float = 1.0  # photos (not video) are detected in tiles at this × their resolution (0: one look)
    dim_luma: float = 80.0  # a video keyframe darker than this (mean grey level) is detected in tiles at
    # ``dim_scale`` × its resolution: dim, noisy text loses its strokes first when the frame is shrunk to the
    # model's input (0: never). Hard scenario (dusk, far signs), sampled frames: a sign's box found by one look
    # 30 times of 250, at 1.0× 96, at 1.5× 142; contrast stretching or CLAHE before the look found fewer (31–53)
    dim_scale: float = 1.3  # 1.3 × 640×480 still takes 4 tiles of 480×352, as 1.0 × does (1.5 takes 9); hard
    # scenario, pi4, 1 core: 1.0 → 4/12 signs at 23 ms/frame, 1.3 → 6/12 at 24 ms, 1.5 → 7/12 at 39 ms
    join_gap: float = 1.2  # two boxes on one line (same height and slant, in line) at most this × the line's height
    # apart are one line split by something in front of it (a lamp post): joined, so that each half is not read
    # and translated as if it were the sign (0: never)
    cut_edge_ratio: float = 0.75  # skip lines whose kernel ends closer to the frame edge than this × its
    # short side: DB kernels stop short of the border, so such a line continues outside the frame (0 = keep all)


@dataclass
class TextBox:
    box: tuple[int, int, int, int]  # axis-aligned [x, y, w, h] in original-frame pixels, margin included
    quad: np.ndarray  # 4×2 float32 corners (tl, tr, br, bl) of the rotated line box, original pixels
    score: float  # mean text probability inside the region


def load_interpreter(model_path: Path, threads: int):
    """A LiteRT interpreter from ``ai-edge-litert``, or from ``tflite_runtime`` where only that exists."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tflite_runtime.interpreter import Interpreter
        except ImportError as exc:
            raise RuntimeMissing("no LiteRT runtime: pip install ai-edge-litert") from exc
    interpreter = Interpreter(model_path=str(model_path), num_threads=threads)
    interpreter.allocate_tensors()
    return interpreter


def order_quad(points: np.ndarray) -> np.ndarray:
    """Corners ordered top-left, top-right, bottom-right, bottom-left (reading direction)."""
    points = points[np.argsort(points[:, 0])]
    left, right = points[:2], points[2:]
    tl, bl = left[np.argsort(left[:, 1])]
    tr, br = right[np.argsort(right[:, 1])]
    return np.float32([tl, tr, br, bl])


def boxes_from_probability(prob: np.ndarray, frame_size: tuple[int, int], options: DetectorOptions) -> list[TextBox]:
    """DB post-processing of a probability map (map pixels) into boxes in frame pixels.

    ``frame_size`` is (width, height) of the original frame; the map may have any size.
    """
    map_h, map_w = prob.shape
    frame_w, frame_h = frame_size
    scale = np.float32([frame_w / map_w, frame_h / map_h])
    mask = (prob > options.pixel_threshold).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[: options.max_candidates]:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if min(w, h) < options.min_side_px:
            continue
        if options.cut_edge_ratio > 0:
            kernel = cv2.boxPoints(((cx, cy), (w, h), angle))
            reach = options.cut_edge_ratio * min(w, h)
            if kernel.min() < reach or kernel[:, 0].max() > map_w - reach or kernel[:, 1].max() > map_h - reach:
                continue
        x, y, bw, bh = cv2.boundingRect(contour)
        region = np.zeros((bh, bw), np.uint8)
        cv2.fillPoly(region, [contour - [x, y]], 1)
        score = float(cv2.mean(prob[y : y + bh, x : x + bw], mask=region)[0])
        if score < options.box_threshold:
            continue
        grow = (w * h) * options.unclip_ratio / (2 * (w + h))  # DB unclip distance for a rectangle
        w, h = w + 2 * grow, h + 2 * grow
        if min(w, h) < options.min_side_px + 2:
            continue
        quad = order_quad(cv2.boxPoints(((cx, cy), (w, h), angle)) * scale)
        boxes.append(TextBox(axis_box(quad, frame_size, options.margin_px), quad, score))
    if options.join_gap > 0:
        boxes = join_split_lines(boxes, frame_size, options)
    return reading_order(boxes)


def _line_geometry(quad: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(centre, unit direction along the line, length, height) of a text-line quad (tl, tr, br, bl)."""
    along = (quad[1] - quad[0] + quad[2] - quad[3]) / 2
    length = float(np.linalg.norm(along))
    height = float(np.linalg.norm((quad[3] - quad[0] + quad[2] - quad[1]) / 2))
    return quad.mean(axis=0), along / max(length, 1e-6), length, height


def _same_line(a: TextBox, b: TextBox, gap: float) -> bool:
    """``b`` continues ``a``'s line after a gap of at most ``gap`` × its height: similar height and slant,
    its centre on ``a``'s centre line."""
    ca, da, la, ha = _line_geometry(a.quad)
    cb, db, lb, hb = _line_geometry(b.quad)
    if not 0.7 <= hb / max(ha, 1e-6) <= 1.4 or abs(float(da @ db)) < 0.99:  # within ~8° of each other
        return False
    offset = cb - ca
    across = abs(float(offset @ np.array([-da[1], da[0]])))
    between = abs(float(offset @ da)) - (la + lb) / 2
    height = (ha + hb) / 2
    return across < 0.35 * height and between < gap * height


def join_split_lines(boxes: list[TextBox], frame_size: tuple[int, int], options: DetectorOptions) -> list[TextBox]:
    """Pieces of one line (split by an occluder) joined into one box: the smallest rotated box around both."""
    boxes = list(boxes)
    joined = True
    while joined:
        joined = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                if _same_line(boxes[i], boxes[j], options.join_gap):
                    points = np.concatenate([boxes[i].quad, boxes[j].quad]).astype(np.float32)
                    quad = order_quad(cv2.boxPoints(cv2.minAreaRect(points)))
                    score = (boxes[i].score + boxes[j].score) / 2
                    boxes[i] = TextBox(axis_box(quad, frame_size, options.margin_px), quad, score)
                    del boxes[j]
                    joined = True
                    break
            if joined:
                break
    return boxes


def reading_order(boxes: list[TextBox]) -> list[TextBox]:
    """Boxes sorted top to bottom by line (a line's height as the row), then left to right."""
    return sorted(boxes, key=lambda b: (round(b.box[1] / max(8, b.box[3])), b.box[0]))


def axis_box(quad: np.ndarray, frame_size: tuple[int, int], margin: int) -> tuple[int, int, int, int]:
    """Axis-aligned [x, y, w, h] around a quad, grown by ``margin`` and clipped to the frame."""
    frame_w, frame_h = frame_size
    x0, y0 = np.floor(quad.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + margin
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(frame_w, int(x1)), min(frame_h, int(y1))
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


class TextDetector:
    """Finds text lines in BGR (or grey) frames of any size (each is resized to the model's input)."""

    def __init__(self, model_path: Path, options: DetectorOptions | None = None):
        self.options = options or DetectorOptions()
        self.model_path = Path(model_path)
        self._interpreter = load_interpreter(self.model_path, self.options.threads)
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        _, self.input_h, self.input_w, _ = (int(v) for v in self._input["shape"])

    def probability_map(self, frame: np.ndarray) -> np.ndarray:
        """The model's text probability, ``input_h × input_w`` float32 in [0, 1]."""
        interpolation = cv2.INTER_AREA if frame.shape[1] > self.input_w else cv2.INTER_LINEAR
        resized = cv2.resize(frame, (self.input_w, self.input_h), interpolation=interpolation)
        if resized.ndim == 2:  # a grey frame (a restored keyframe): three channels at the model's size only
            resized = cv2.cvtColor(resized, cv2.COLOR_GRAY2BGR)
        tensor = resized.astype(np.float32) * (2.0 / 255.0) - 1.0
        self._interpreter.set_tensor(self._input["index"], tensor[None])
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"])[0, :, :, 0]

    def detect(self, frame: np.ndarray) -> list[TextBox]:
        """Text-line boxes in original-frame pixels, in reading order."""
        height, width = frame.shape[:2]
        return boxes_from_probability(self.probability_map(frame), (width, height), self.options)

    def detect_tiled(self, frame: np.ndarray, scale: float = 1.0, overlap: float = 0.2) -> list[TextBox]:
        """Text-line boxes of a still picture seen at ``scale`` × its own resolution: the model runs on
        overlapping tiles of its input size and their probability maps are merged by maximum, so small
        text keeps its pixels (one resized look at 1280×720 shrinks a 15 px line to 6 px). Costs one
        model run per tile; a frame that fits one tile is detected as usual."""
        height, width = frame.shape[:2]
        map_w, map_h = max(1, int(round(width * scale))), max(1, int(round(height * scale)))
        if map_w <= self.input_w and map_h <= self.input_h:
            return self.detect(frame)
        scaled = cv2.resize(frame, (map_w, map_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        prob = np.zeros((map_h, map_w), np.float32)
        for y in _tile_starts(map_h, self.input_h, overlap):
            for x in _tile_starts(map_w, self.input_w, overlap):
                tile = scaled[y: y + self.input_h, x: x + self.input_w]
                th, tw = tile.shape[:2]
                if (th, tw) != (self.input_h, self.input_w):  # a frame smaller than a tile on one side
                    tile = cv2.copyMakeBorder(tile, 0, self.input_h - th, 0, self.input_w - tw, cv2.BORDER_REPLICATE)
                part = self.probability_map(tile)[:th, :tw]
                np.maximum(prob[y: y + th, x: x + tw], part, out=prob[y: y + th, x: x + tw])
        return boxes_from_probability(prob, (width, height), self.options)

    def detect_with_small(self, frame: np.ndarray, scale: float = 1.0) -> list[TextBox]:
        """One look plus the lines only the tiled look finds (small, far text): a video keyframe's boxes
        stay the ones the tracked regions were matched with, and small lines are added beside them."""
        boxes = self.detect(frame)
        extra = [b for b in self.detect_tiled(frame, scale)
                 if all(max(inside(b.box, o.box), inside(o.box, b.box)) < 0.1 for o in boxes)]
        return reading_order(boxes + extra)


def _tile_starts(size: int, tile: int, overlap: float) -> list[int]:
    """Start offsets of tiles of ``tile`` px covering ``size`` px with at least ``overlap`` × tile shared."""
    if size <= tile:
        return [0]
    step = max(1, int(tile * (1 - overlap)))
    count = -(-(size - tile) // step) + 1
    return [round(i * (size - tile) / (count - 1)) for i in range(count)]
