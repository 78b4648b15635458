"""Sinks: the JSONL event log and the annotated output (a video, one image, or a folder of images).

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

    def write(self, image: np.ndarray, name: str | None = None) -> None:
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


VIDEO_SUFFIXES = {".mp4", ".m4v", ".avi", ".mov", ".mkv"}
IMAGE_OUT_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


class ImageSink:
    """The annotated picture of a single image input, as an image file of the output's type."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._partial = _check_writable(self.path)
        self._written = False

    def write(self, image: np.ndarray, name: str | None = None) -> None:
        if self._written:
            raise OutputError(f"{self.path} is one image: the input has more than one picture (give a folder)")
        ok, data = cv2.imencode(self.path.suffix, image)
        if not ok:
            raise OutputError(f"cannot encode {self.path.suffix} image for {self.path}")
        self._partial.write_bytes(data.tobytes())
        self._written = True

    def close(self) -> None:
        if not self._written:
            self._partial.unlink(missing_ok=True)
            raise OutputError(f"no picture to write to {self.path}")
        os.replace(self._partial, self.path)

    def discard(self) -> None:
        self._partial.unlink(missing_ok=True)


class ImageFolderSink:
    """One annotated image per input picture (or frame), in a folder: ``NAME.png`` for an input image
    named ``NAME.*``, ``frame_000012.png`` for frames of a video. Each file appears whole (written
    beside, then renamed); a failed run keeps the images already written."""

    def __init__(self, folder: Path, suffix: str = ".png"):
        self.folder = Path(folder)
        self.suffix = suffix
        if self.folder.exists() and not self.folder.is_dir():
            raise OutputError(f"output is a file, not a folder: {self.folder}")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _check_writable(self.folder / "probe.png").unlink()
        except OSError as exc:
            raise OutputError(f"cannot write into {self.folder}: {exc.strerror or exc}") from None
        self.count = 0

    def write(self, image: np.ndarray, name: str | None = None) -> None:
        stem = Path(name).stem if name else f"frame_{self.count:06d}"
        target = self.folder / f"{stem}{self.suffix}"
        ok, data = cv2.imencode(self.suffix, image)
        if not ok:
            raise OutputError(f"cannot encode {self.suffix} image for {target}")
        partial = _partial_path(target)
        partial.write_bytes(data.tobytes())
        os.replace(partial, target)
        self.count += 1

    def close(self) -> None:
        if not self.count:
            raise OutputError(f"no picture to write into {self.folder}")

    def discard(self) -> None:
        pass


def open_output(path: Path, fps: float, image_input: bool, pictures: int | None):
    """The sink ``--output PATH`` asks for, checked before any frame is processed: a video suffix
    writes a video, an image suffix one image (for an input of one picture), no suffix a folder of
    images (one per picture; also for a folder of photos given an existing folder)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_dir() or not suffix:
        return ImageFolderSink(path)
    if suffix in VIDEO_SUFFIXES:
        return VideoSink(path, fps)
    if suffix in IMAGE_OUT_SUFFIXES:
        if pictures is not None and pictures > 1:
            raise OutputError(f"{path} is one image but the input has {pictures} pictures: give a folder "
                              f"(e.g. --output {path.with_suffix('')}/) or a video file")
        return ImageSink(path)
    raise OutputError(f"cannot write '{suffix}' output ({path}): use a video ({', '.join(sorted(VIDEO_SUFFIXES))}), "
                      f"an image ({', '.join(sorted(IMAGE_OUT_SUFFIXES))}) or a folder")
