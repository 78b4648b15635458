"""Sinks: the JSONL event log and the annotated video.

Both write to a hidden temporary file beside the target and rename it into place on ``close()``,
so a run that fails leaves no half-written output; both check writability before any frame is
processed, so a bad output path fails fast.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np

from edge.errors import OutputError


def _partial_path(target: Path) -> Path:
    return target.with_name(f".{target.stem}.partial{target.suffix}")


def _check_writable(target: Path) -> Path:
    partial = _partial_path(target)
    if target.is_dir():
        raise OutputError(f"output path is a folder: {target}")
    try:
        with partial.open("wb"):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    return partial


class EventLog:
    """One JSON object per line: frame records, then the summary."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._partial = _check_writable(self.path)
        self._fh = self._partial.open("w", encoding="utf-8")

    def write(self, record: dict) -> None:
        self._fh.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._fh.close()
        os.replace(self._partial, self.path)

    def discard(self) -> None:
        self._fh.close()
        self._partial.unlink(missing_ok=True)


class VideoSink:
    """Annotated frames to an mp4 (MPEG-4 Part 2, which every OpenCV build can write)."""

    def __init__(self, path: Path, fps: float):
        self.path = Path(path)
        self.fps = fps
        self._partial = _check_writable(self.path)
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None

    def write(self, image: np.ndarray) -> None:
        if self._writer is None:
            self._size = (image.shape[1] // 2 * 2, image.shape[0] // 2 * 2)
            self._writer = cv2.VideoWriter(str(self._partial), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, self._size)
            if not self._writer.isOpened():
                raise OutputError(f"cannot encode video to {self.path}")
        if (image.shape[1], image.shape[0]) != self._size:
            image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
        self._writer.write(image)

    def close(self) -> None:
        if self._writer is None:
            self._partial.unlink(missing_ok=True)
            raise OutputError(f"no frame to write to {self.path}")
        self._writer.release()
        os.replace(self._partial, self.path)

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.release()
        self._partial.unlink(missing_ok=True)
