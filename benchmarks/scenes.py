"""Scenario generator: seeded "walk past signs" videos with per-frame ground truth.

The camera pans along a wide procedural street holding German signs (every font and colour
scheme, rotation, perspective), pausing in front of some (static stretches), with hand shake,
a slow zoom (walking towards the signs), motion blur while moving, lighting drift and sensor
noise, and stretches with no text. Output: ``NAME.mp4`` and ``NAME.gt.json``::

    {"fps": 15, "source": "de", "target": "en",
     "segments": [{"text": "Notausgang", "refs": ["emergency exit"], "first_frame": 0, "last_frame": 44}],
     "frames": [{"frame": 0, "regions": [{"text": "Notausgang", "box": [x, y, w, h]}]}]}

A sign is in a frame's ground truth when its whole text box is inside the frame; a segment is one
unbroken span of such frames.

    python -m benchmarks.scenes --out edge/assets/demo_de --seconds 20 --seed 7
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from benchmarks.signs import background, degrade, paste_sign, random_style
from models.translator.evaluate import load_sign_texts


@dataclass
class SceneOptions:
    width: int = 640  # frame width, px
    height: int = 480  # frame height, px
    fps: float = 15.0
    seconds: float = 20.0
    signs: int = 8  # signs along the street
    seed: int = 7
    text_px: tuple[int, int] = (28, 46)  # cap height range of sign text in the world, px
    shake_px: float = 2.0  # hand-shake amplitude
    noise_sigma: float = 3.0  # sensor noise
    pause_share: float = 0.3  # share of the time the camera stands still


def camera_path(options: SceneOptions, world_w: int, rng: np.random.Generator) -> list[tuple[float, float, float]]:
    """(x offset, y offset, zoom) per frame: pans with pauses, shake and a slow zoom cycle."""
    frames = int(round(options.seconds * options.fps))
    travel = world_w - options.width
    moving = rng.random(frames) > options.pause_share
    moving = np.convolve(moving.astype(float), np.ones(9) / 9, mode="same") > 0.5  # runs, not flicker
    steps = moving.astype(float)
    x = np.concatenate([[0.0], np.cumsum(steps)[:-1]]) * travel / max(1.0, steps.sum())
    t = np.arange(frames) / options.fps
    shake = options.shake_px * np.stack([np.sin(t * 7.1 + 1.3) + 0.5 * np.sin(t * 13.7),
                                         np.sin(t * 5.3) + 0.5 * np.cos(t * 11.9)])
    zoom = 1.0 + 0.12 * (0.5 - 0.5 * np.cos(2 * np.pi * t / max(1.0, options.seconds / 2)))
    return [(float(x[i] + shake[0, i]), float(shake[1, i]), float(zoom[i])) for i in range(frames)]


def build_world(options: SceneOptions, texts: list[str], rng: np.random.Generator):
    """The street: a wide background with signs spaced along it, and their text boxes."""
    spacing = options.width * 0.62
    world_w = int(options.width * 1.1 + spacing * len(texts))
    world_h = options.height + 40
    world = background(world_w, world_h, rng)
    placed = []
    for i, text in enumerate(texts):
        style = random_style(rng, options.text_px)
        cx = options.width * 0.6 + i * spacing + rng.uniform(-0.08, 0.08) * options.width
        cy = world_h * rng.uniform(0.3, 0.6)
        placed.append(paste_sign(world, text, style, (cx, cy), rng))
    return world, placed


def render(options: SceneOptions, out_stem: Path) -> dict:
    rng = np.random.default_rng(options.seed)
    catalog = load_sign_texts()
    order = rng.permutation(len(catalog))[: options.signs]
    chosen = [catalog[i] for i in order]
    world, placed = build_world(options, [de for de, _ in chosen], rng)
    refs = {de: r for de, r in chosen}
    path = camera_path(options, world.shape[1], rng)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    video_path = out_stem.with_suffix(".mp4")
    writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter_fourcc(*"mp4v"), options.fps, (options.width, options.height))
    frames_gt = []
    prev_x = path[0][0]
    for index, (x, y, zoom) in enumerate(path):
        view_w, view_h = options.width / zoom, options.height / zoom
        x0 = min(max(0.0, x + (options.width - view_w) / 2), world.shape[1] - view_w)
        y0 = min(max(0.0, 20 + y + (options.height - view_h) / 2), world.shape[0] - view_h)
        matrix = np.float32([[zoom, 0, -x0 * zoom], [0, zoom, -y0 * zoom]])
        frame = cv2.warpAffine(world, matrix, (options.width, options.height), flags=cv2.INTER_LINEAR)
        speed = abs(x - prev_x)
        prev_x = x
        gain = 1.0 + 0.15 * np.sin(index / options.fps * 0.7)
        frame = degrade(frame, rng, blur_px=0.4, noise_sigma=options.noise_sigma, motion_px=int(min(9, speed * 0.8)), gain=gain)
        writer.write(frame)
        regions = []
        for sign in placed:
            bx, by, bw, bh = sign.box
            fx, fy = (bx - x0) * zoom, (by - y0) * zoom
            fw, fh = bw * zoom, bh * zoom
            if fx >= 0 and fy >= 0 and fx + fw <= options.width and fy + fh <= options.height:
                regions.append({"text": sign.text, "box": [int(fx), int(fy), int(round(fw)), int(round(fh))]})
        frames_gt.append({"frame": index, "regions": regions})
    writer.release()
    segments = []
    for sign in placed:
        span = [f["frame"] for f in frames_gt if any(r["text"] == sign.text for r in f["regions"])]
        start = None
        for i, frame in enumerate(span):
            if start is None:
                start = frame
            if i + 1 == len(span) or span[i + 1] != frame + 1:
                segments.append({"text": sign.text, "refs": refs[sign.text], "first_frame": start, "last_frame": frame})
                start = None
    segments.sort(key=lambda s: s["first_frame"])
    gt = {"fps": options.fps, "source": "de", "target": "en", "width": options.width, "height": options.height,
          "seed": options.seed, "segments": segments, "frames": frames_gt}
    out_stem.with_suffix(".gt.json").write_text(json.dumps(gt, ensure_ascii=False, separators=(",", ":")))
    return gt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="output stem: writes STEM.mp4 and STEM.gt.json")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--signs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    options = SceneOptions(width=args.width, height=args.height, fps=args.fps, seconds=args.seconds,
                           signs=args.signs, seed=args.seed)
    gt = render(options, args.out)
    size = args.out.with_suffix(".mp4").stat().st_size / 1e6
    print(f"{args.out}.mp4: {len(gt['frames'])} frames, {len(gt['segments'])} sign segments, {size:.1f} MB")


if __name__ == "__main__":
    main()
