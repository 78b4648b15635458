"""Render German signs the way a camera sees them: fonts, colour schemes, rotation, perspective,
blur and noise, on procedural backgrounds, with the exact text box of every sign as ground truth.

Used by the scenario generator (``scenes.py``), the accuracy scripts and the tests. Everything is
seeded; no file is downloaded. Fonts come from Debian's ``fonts-dejavu-core``, ``fonts-liberation``
and ``fonts-freefont-ttf``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype")
FONTS = {
    "dejavu-sans-bold": FONT_DIR / "dejavu/DejaVuSans-Bold.ttf",
    "liberation-sans-bold": FONT_DIR / "liberation/LiberationSans-Bold.ttf",
    "freesans-bold": FONT_DIR / "freefont/FreeSansBold.ttf",
    "dejavu-serif-bold": FONT_DIR / "dejavu/DejaVuSerif-Bold.ttf",
}

# (name, background BGR, text BGR): dark-on-light and light-on-dark schemes seen on real signs.
SCHEMES = {
    "white-on-green": ((60, 140, 20), (255, 255, 255)),
    "white-on-red": ((40, 30, 200), (255, 255, 255)),
    "white-on-blue": ((160, 80, 20), (255, 255, 255)),
    "black-on-yellow": ((20, 210, 250), (15, 15, 15)),
    "black-on-white": ((240, 240, 240), (20, 20, 20)),
}


@dataclass(frozen=True)
class SignStyle:
    font: str = "dejavu-sans-bold"
    scheme: str = "white-on-green"
    text_px: int = 40  # cap height in sign pixels, before the camera transform
    rotation_deg: float = 0.0
    perspective: float = 0.0  # corner jitter as a fraction of the sign size
    scale: float = 1.0


@dataclass
class PlacedSign:
    text: str
    box: tuple[int, int, int, int]  # axis-aligned text box [x, y, w, h] in image pixels
    notice: str | None = None  # a line of a multi-line notice: the whole notice's text (``paste_notice``)


def render_sign(text: str, font: str, scheme: str, text_px: int) -> tuple[np.ndarray, np.ndarray]:
    """A flat sign (BGR) and the four corners of its text box in sign pixels."""
    bg, fg = SCHEMES[scheme]
    face = ImageFont.truetype(str(FONTS[font]), text_px)
    left, top, right, bottom = face.getbbox(text)
    pad_x, pad_y = int(text_px * 0.6), int(text_px * 0.45)
    width, height = right - left + 2 * pad_x, bottom - top + 2 * pad_y
    sign = Image.new("RGB", (width, height), bg[::-1])
    draw = ImageDraw.Draw(sign)
    border = max(2, text_px // 12)
    draw.rectangle([border, border, width - 1 - border, height - 1 - border], outline=fg[::-1], width=border // 2 + 1)
    draw.text((pad_x - left, pad_y - top), text, font=face, fill=fg[::-1])
    x1, y1 = pad_x + right - left, pad_y + bottom - top
    corners = np.float32([[pad_x, pad_y], [x1, pad_y], [x1, y1], [pad_x, y1]])
    return cv2.cvtColor(np.asarray(sign), cv2.COLOR_RGB2BGR), corners


def background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A textured wall-and-ground scene with window and pole shapes but no letters."""
    low = rng.uniform(70, 190, size=(max(2, height // 60), max(2, width // 60), 1)).astype(np.float32)
    tint = rng.uniform(0.8, 1.2, size=3).astype(np.float32)
    img = cv2.resize(low * tint, (width, height), interpolation=cv2.INTER_CUBIC)
    img += rng.normal(0, 6, size=img.shape).astype(np.float32)
    horizon = int(height * rng.uniform(0.7, 0.85))
    img[horizon:] = img[horizon:] * 0.55 + 30
    for _ in range(max(1, width // 160)):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, horizon))
        w, h = int(rng.integers(20, 90)), int(rng.integers(30, 120))
        shade = rng.uniform(30, 230, size=3)
        cv2.rectangle(img, (x, y), (x + w, y + h), shade.tolist(), -1)
    for _ in range(max(1, width // 400)):
        x = int(rng.integers(0, width))
        cv2.line(img, (x, 0), (x, height), rng.uniform(40, 120, size=3).tolist(), int(rng.integers(4, 12)))
    return np.clip(img, 0, 255).astype(np.uint8)


def text_free_scene(seed: int, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A camera picture of a street with no text at all (windows, poles, blur and noise)."""
    rng = np.random.default_rng(seed)
    return degrade(background(size[0], size[1], rng), rng, blur_px=0.6, noise_sigma=4)


def warp_matrix(sign_shape: tuple[int, int], style: SignStyle, at: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Homography from sign pixels to scene pixels: scale, rotate about the centre, jitter corners."""
    h, w = sign_shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    centred = (src - [w / 2, h / 2]) * style.scale
    theta = np.deg2rad(style.rotation_deg)
    rot = np.float32([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    dst = centred @ rot.T
    jitter = rng.uniform(-style.perspective, style.perspective, size=(4, 2)) * [w * style.scale, h * style.scale]
    dst = (dst + jitter + at).astype(np.float32)
    return cv2.getPerspectiveTransform(src, dst)


def render_notice(lines: list[str], font: str, scheme: str, text_px: int, align: str = "left",
                  spacing: float = 0.45) -> tuple[np.ndarray, list[np.ndarray]]:
    """A flat plate holding several lines of one notice (BGR), and the four corners of each line's text
    box in plate pixels. ``align``: left, centre or right; ``spacing``: the gap between lines × ``text_px``."""
    bg, fg = SCHEMES[scheme]
    face = ImageFont.truetype(str(FONTS[font]), text_px)
    ascent, descent = face.getmetrics()
    boxes = [face.getbbox(line) for line in lines]
    widest = max(right - left for left, _, right, _ in boxes)
    pad_x, pad_y = int(text_px * 0.6), int(text_px * 0.45)
    pitch = ascent + descent + int(spacing * text_px)
    width, height = widest + 2 * pad_x, pitch * (len(lines) - 1) + ascent + descent + 2 * pad_y
    sign = Image.new("RGB", (width, height), bg[::-1])
    draw = ImageDraw.Draw(sign)
    border = max(2, text_px // 12)
    draw.rectangle([border, border, width - 1 - border, height - 1 - border], outline=fg[::-1], width=border // 2 + 1)
    corners = []
    for i, (line, (left, top, right, bottom)) in enumerate(zip(lines, boxes)):
        shift = {"left": 0, "centre": (widest - (right - left)) // 2, "right": widest - (right - left)}[align]
        x, y = pad_x + shift, pad_y + i * pitch
        draw.text((x - left, y), line, font=face, fill=fg[::-1])
        corners.append(np.float32([[x, y + top], [x + right - left, y + top], [x + right - left, y + bottom],
                                   [x, y + bottom]]))
    return cv2.cvtColor(np.asarray(sign), cv2.COLOR_RGB2BGR), corners


def _paste(scene: np.ndarray, sign: np.ndarray, corners: list[np.ndarray], texts: list[str], style: SignStyle,
           at: tuple[float, float], rng: np.random.Generator) -> list[PlacedSign]:
    """Warp a flat sign into ``scene`` (in place), centred at ``at``; the text box of each of its lines."""
    matrix = warp_matrix(sign.shape[:2], style, at, rng)
    size = (scene.shape[1], scene.shape[0])
    warped = cv2.warpPerspective(sign, matrix, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full(sign.shape[:2], 255, np.uint8), matrix, size, flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    scene[:] = (scene * (1 - alpha) + warped * alpha).astype(np.uint8)
    placed = []
    for text, line_corners in zip(texts, corners):
        quad = cv2.perspectiveTransform(line_corners[None], matrix)[0]
        x0, y0 = np.floor(quad.min(axis=0)).astype(int)
        x1, y1 = np.ceil(quad.max(axis=0)).astype(int)
        placed.append(PlacedSign(text, (int(x0), int(y0), int(x1 - x0), int(y1 - y0))))
    return placed


def paste_sign(scene: np.ndarray, text: str, style: SignStyle, at: tuple[float, float], rng: np.random.Generator) -> PlacedSign:
    """Warp a rendered sign into ``scene`` (in place), centred at ``at``; returns its text box."""
    sign, corners = render_sign(text, style.font, style.scheme, style.text_px)
    return _paste(scene, sign, [corners], [text], style, at, rng)[0]


def paste_notice(scene: np.ndarray, lines: list[str], style: SignStyle, at: tuple[float, float],
                 rng: np.random.Generator, align: str = "left", spacing: float = 0.45) -> list[PlacedSign]:
    """Warp a multi-line notice (``render_notice``) into ``scene`` (in place); one text box per line."""
    sign, corners = render_notice(lines, style.font, style.scheme, style.text_px, align, spacing)
    placed = _paste(scene, sign, corners, lines, style, at, rng)
    for line in placed:
        line.notice = " ".join(lines)
    return placed


def break_lines(text: str, count: int) -> list[str]:
    """``text`` over ``count`` lines at word boundaries, the longest line as short as it can be."""
    words = text.split()
    count = max(1, min(count, len(words)))
    best: tuple[int, list[str]] | None = None

    def splits(rest: list[str], k: int):
        if k == 1:
            yield [" ".join(rest)]
            return
        for i in range(1, len(rest) - k + 2):
            for tail in splits(rest[i:], k - 1):
                yield [" ".join(rest[:i]), *tail]

    for lines in splits(words, count):
        longest = max(len(line) for line in lines)
        if best is None or longest < best[0]:
            best = (longest, lines)
    return best[1]


def degrade(img: np.ndarray, rng: np.random.Generator, blur_px: float = 0.0, noise_sigma: float = 0.0,
            motion_px: int = 0, gain: float = 1.0) -> np.ndarray:
    """Camera effects: Gaussian blur, horizontal motion blur, brightness gain and sensor noise."""
    out = img.astype(np.float32)
    if blur_px > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur_px)
    if motion_px > 1:
        kernel = np.zeros((motion_px, motion_px), np.float32)
        kernel[motion_px // 2, :] = 1.0 / motion_px
        out = cv2.filter2D(out, -1, kernel)
    out = out * gain
    if noise_sigma > 0:
        out += rng.normal(0, noise_sigma, size=out.shape).astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def random_style(rng: np.random.Generator, text_px: tuple[int, int] = (26, 44)) -> SignStyle:
    """A sign style drawn from every font and scheme, ±10° rotation and mild perspective."""
    return SignStyle(
        font=str(rng.choice(list(FONTS))), scheme=str(rng.choice(list(SCHEMES))),
        text_px=int(rng.integers(*text_px)), rotation_deg=float(rng.uniform(-10, 10)),
        perspective=float(rng.uniform(0.0, 0.06)), scale=1.0,
    )


def sign_photo(texts: list[str], seed: int, size: tuple[int, int] = (640, 480),
               styles: list[SignStyle] | None = None) -> tuple[np.ndarray, list[PlacedSign]]:
    """A still picture holding one sign per text, laid out in rows so they never overlap."""
    rng = np.random.default_rng(seed)
    width, height = size
    scene = background(width, height, rng)
    placed = []
    rows = max(1, len(texts))
    for i, text in enumerate(texts):
        style = styles[i] if styles else random_style(rng)
        cy = height * (i + 0.5) / rows + rng.uniform(-0.05, 0.05) * height / rows
        cx = width / 2 + rng.uniform(-0.12, 0.12) * width
        placed.append(paste_sign(scene, text, style, (cx, cy), rng))
    scene = degrade(scene, rng, blur_px=float(rng.uniform(0.3, 1.0)), noise_sigma=float(rng.uniform(2, 6)))
    return scene, placed
