"""What stands between the camera and the signs in a scenario (``benchmarks/scenes.py``): passers-by
walking through the picture, and lamp posts near the camera that sway over a sign's letters; and how
much of a sign's box they hide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from benchmarks.scenes import SceneOptions


@dataclass
class PasserBy:
    start_frame: int
    frames: int  # how long it takes to cross the picture
    width: int  # px
    shade: tuple[float, float, float]
    leftwards: bool

    def box(self, index: int, options: SceneOptions) -> tuple[int, int, int, int] | None:
        """Its silhouette's bounding box in frame ``index`` ([x, y, w, h]), None when out of the picture."""
        progress = (index - self.start_frame) / self.frames
        if not 0 <= progress <= 1:
            return None
        if self.leftwards:
            progress = 1 - progress
        x = int(-self.width + progress * (options.width + self.width))
        return x, int(options.height * 0.12), self.width, options.height


def passers_by(options: SceneOptions, frames: int, extra: np.random.Generator) -> list[PasserBy]:
    out = []
    for k in range(options.passers_by):
        crossing = int(options.fps * extra.uniform(2.5, 4.0))
        start = int((k + extra.uniform(0.1, 0.7)) * frames / max(1, options.passers_by))
        out.append(PasserBy(start, crossing, int(options.width * extra.uniform(0.12, 0.2)),
                            tuple(float(v) for v in extra.uniform(20, 90, size=3)), bool(extra.random() < 0.5)))
    return out


def draw_passer_by(frame: np.ndarray, box: tuple[int, int, int, int], shade: tuple[float, float, float]) -> None:
    """A dark silhouette: head and body (no letters on it)."""
    x, y, w, h = box
    head = max(6, w // 3)
    cv2.circle(frame, (x + w // 2, y + head), head, shade, -1)
    cv2.rectangle(frame, (x, y + 2 * head), (x + w, y + h), shade, -1)


POST_PARALLAX = 1.8  # a lamp post near the camera crosses the picture this much faster than the street
POST_SWAY_PX, POST_SWAY_S = 22.0, 2.6  # and sways (a walking camera, wind) this far, this often


@dataclass
class LampPost:
    world_x: float  # where along the street it stands in front of (world px)
    width: int  # px in the picture: one or two letters of a far sign
    phase: float
    shade: tuple[float, float, float]

    def box(self, index: int, centre_x: float, options: SceneOptions) -> tuple[int, int, int, int] | None:
        """Its box in frame ``index`` when the picture's centre is at world x ``centre_x``; None out of view."""
        sway = POST_SWAY_PX * np.sin(2 * np.pi * index / (options.fps * POST_SWAY_S) + self.phase)
        x = options.width / 2 + POST_PARALLAX * (self.world_x - centre_x) + sway - self.width / 2
        if x + self.width < 0 or x > options.width:
            return None
        return int(x), 0, self.width, options.height


def lamp_posts(options: SceneOptions, centres: list[float], extra: np.random.Generator) -> list[LampPost]:
    if not options.occluders:
        return []
    return [LampPost(c + extra.uniform(-0.05, 0.05) * options.width, int(extra.integers(10, 17)),
                     float(extra.uniform(0, 2 * np.pi)), tuple(float(v) for v in extra.uniform(35, 80, size=3)))
            for c in centres]


def draw_post(frame: np.ndarray, box: tuple[int, int, int, int], shade: tuple[float, float, float]) -> None:
    """A round metal post: darker at its edges."""
    x, _, w, h = box
    for k in range(w):
        edge = abs(k - (w - 1) / 2) / max(1.0, w / 2)
        column = x + k
        if 0 <= column < frame.shape[1]:
            frame[:, column] = np.clip(np.array(shade) * (1.25 - 0.6 * edge), 0, 255)


def hidden_share(region: tuple[int, int, int, int], box: tuple[int, int, int, int] | None) -> float:
    if box is None:
        return 0.0
    rx, ry, rw, rh = region
    bx, by, bw, bh = box
    ix = max(0, min(rx + rw, bx + bw) - max(rx, bx))
    iy = max(0, min(ry + rh, by + bh) - max(ry, by))
    return ix * iy / max(1, rw * rh)
