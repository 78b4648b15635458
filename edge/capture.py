"""Frame sources: video files (anything OpenCV decodes), single images, folders of images, cameras.

Every frame is normalised to 8-bit BGR whatever it was (grey, BGRA, 16-bit, float). A video that
ends before its header's frame count (truncated, corrupt) stops cleanly at the last good frame and
says so in ``FrameSource.warnings``.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge.errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}
IMAGE_FOLDER_FPS = 1.0  # nominal frame rate of image folders, for pts_ms


@dataclass
class Frame:
    index: int  # 0-based position in the input
    pts_ms: float  # input timestamp
    image: np.ndarray  # H×W×3 uint8 BGR
    new_scene: bool = False  # unrelated to the frame before it (a photo of a folder): nothing carries over
    name: str | None = None  # the file it came from (images), for per-image outputs


def to_bgr(image: np.ndarray) -> np.ndarray:
    """8-bit, 3-channel BGR from grey, grey+alpha, BGR, BGRA, 16-bit or float images."""
    if image is None or image.size == 0:
        raise InputError("empty image")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype.kind == "f":
        scale = 255.0 if float(np.nanmax(image)) <= 1.0 else 1.0
        image = np.clip(np.nan_to_num(image) * scale, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    channels = image.shape[2]
    if channels in (1, 2):  # grey, or grey + alpha
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(image[:, :, :3])


def read_image(path: Path) -> np.ndarray:
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise InputError(f"cannot decode image: {path}")
    return to_bgr(image)


def _natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


@dataclass
class FrameSource:
    """An iterable of frames with what is known about the input up front."""

    description: str
    fps: float
    frame_count: int | None  # None for cameras
    frames: Iterator[Frame]
    warnings: list[str] = field(default_factory=list)
    is_live: bool = False
    is_image: bool = False  # one still image, or a folder of them

    def __iter__(self) -> Iterator[Frame]:
        return self.frames


def open_source(spec: str | Path, sequence: bool = False) -> FrameSource:
    """Open a camera index ("0"), the Raspberry Pi camera ("picamera2", "picamera2:1"), a video file, an
    image file or a folder of images. Each image of a folder is its own scene (nothing is tracked from
    one photo to the next) unless ``sequence`` says the folder holds the frames of one video."""
    text = str(spec)
    if text == PICAMERA2 or text.startswith(PICAMERA2 + ":"):
        index = text.partition(":")[2] or "0"
        if not index.isdigit():
            raise InputError(f"not a Pi camera number: {text} (picamera2 or picamera2:N)")
        return _picamera2(int(index))
    if text.isdigit():
        return _camera(int(text))
    path = Path(text)
    if not path.exists():
        raise InputError(f"no such file or folder: {path}")
    if path.is_dir():
        return _folder(path, sequence)
    if path.stat().st_size == 0:
        raise InputError(f"empty file (0 bytes): {path}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = read_image(path)
        return FrameSource(f"image {path.name}", IMAGE_FOLDER_FPS, 1, iter([Frame(0, 0.0, image, True, path.name)]),
                           is_image=True)
    return _video(path)


def _folder(path: Path, sequence: bool) -> FrameSource:
    candidates = sorted((p for p in path.iterdir() if p.is_file()), key=_natural_key)
    images = [p for p in candidates if p.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        raise InputError(f"no images in folder: {path}")
    kind = "frame sequence" if sequence else "images"
    source = FrameSource(f"folder {path.name} ({len(images)} {kind})", IMAGE_FOLDER_FPS, len(images), iter(()),
                         is_image=True)
    skipped = [p.name for p in candidates if p.suffix.lower() not in IMAGE_SUFFIXES]
    if skipped:
        source.warnings.append(f"skipped {len(skipped)} non-image file(s) in {path.name}: {', '.join(skipped[:5])}")

    def frames() -> Iterator[Frame]:
        index = 0
        for image_path in images:
            try:
                image = read_image(image_path)
            except InputError as exc:
                source.warnings.append(f"skipped undecodable image {image_path.name}: {exc}")
                continue
            yield Frame(index, index * 1000.0 / IMAGE_FOLDER_FPS, image, not sequence, image_path.name)
            index += 1

    source.frames = frames()
    return source


def _video(path: Path) -> FrameSource:
    capture = cv2.VideoCapture(str(path))
    ok, first = capture.read() if capture.isOpened() else (False, None)
    if not ok or first is None:
        capture.release()
        raise InputError(f"not a readable video or image: {path}")
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = fps if 0 < fps < 1000 else 30.0
    declared = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    source = FrameSource(f"video {path.name}", fps, declared if declared > 0 else None, iter(()))

    def frames() -> Iterator[Frame]:
        index, image = 0, first
        try:
            while image is not None:
                yield Frame(index, index * 1000.0 / fps, to_bgr(image))
                index += 1
                ok, image = capture.read()
                if not ok:
                    image = None
        finally:
            capture.release()
        if declared > 0 and index < declared:
            source.warnings.append(
                f"video ended after {index} of {declared} frames (truncated or corrupt); stopped at the last good frame"
            )

    source.frames = frames()
    return source


PICAMERA2 = "picamera2"
PICAMERA2_SIZE = (640, 480)  # the Pi camera's video stream: the pipeline's working size
PICAMERA2_FPS = 30.0


def _picamera2_module():
    """``picamera2.Picamera2``, or None where Picamera2 is not installed (not a Raspberry Pi OS system)."""
    try:
        from picamera2 import Picamera2
    except ImportError:
        return None
    return Picamera2


def _picamera2(index: int) -> FrameSource:
    """The Raspberry Pi Camera Module through libcamera (Picamera2): on bookworm OpenCV's V4L2 capture
    does not see it. Frames are 640×480 BGR (Picamera2's "RGB888" is B, G, R in memory); ``pts_ms``
    comes from the sensor's timestamps."""
    picamera2 = _picamera2_module()
    if picamera2 is None:
        raise InputError("the Pi camera needs Picamera2: sudo apt install python3-picamera2 (Raspberry Pi OS; the "
                         "Makefile's .venv sees system packages, another virtual environment needs "
                         "--system-site-packages)")
    cameras = picamera2.global_camera_info()
    if index >= len(cameras):
        raise InputError(f"no Pi camera {index}: libcamera sees {len(cameras)} camera(s)")
    camera = picamera2(index)
    camera.configure(camera.create_video_configuration(main={"size": PICAMERA2_SIZE, "format": "RGB888"},
                                                      controls={"FrameRate": PICAMERA2_FPS}))
    camera.start()

    def frames() -> Iterator[Frame]:
        first_ns = None
        frame_index = 0
        try:
            while True:
                request = camera.capture_request()
                try:
                    image = request.make_array("main")
                    stamp = request.get_metadata().get("SensorTimestamp")
                finally:
                    request.release()
                if stamp is not None and first_ns is None:
                    first_ns = stamp
                pts = (stamp - first_ns) / 1e6 if stamp is not None else frame_index * 1000.0 / PICAMERA2_FPS
                yield Frame(frame_index, pts, to_bgr(image))
                frame_index += 1
        finally:
            camera.stop()
            camera.close()

    model = cameras[index].get("Model", "camera")
    return FrameSource(f"Pi camera {index} ({model})", PICAMERA2_FPS, None, frames(), is_live=True)


def _camera(index: int) -> FrameSource:
    capture = cv2.VideoCapture(index)
    if not capture.isOpened():
        picamera2 = _picamera2_module()
        if picamera2 is not None and index < len(picamera2.global_camera_info()):
            return _picamera2(index)  # a Pi Camera Module and no USB camera: libcamera's, not V4L2's
        raise InputError(f"cannot open camera {index}")
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = fps if 0 < fps < 1000 else 30.0

    def frames() -> Iterator[Frame]:
        frame_index = 0
        try:
            while True:
                ok, image = capture.read()
                if not ok:
                    return
                yield Frame(frame_index, capture.get(cv2.CAP_PROP_POS_MSEC) or frame_index * 1000.0 / fps, to_bgr(image))
                frame_index += 1
        finally:
            capture.release()

    return FrameSource(f"camera {index}", fps, None, frames(), is_live=True)


@dataclass
class Offered:
    """A frame handed to the pipeline, with the frames a real-time feed skipped since the last one."""

    frame: Frame
    captured_ms: float  # clock time the frame was offered (analysis mode: when it was taken)
    skipped: list[tuple[int, float, float]] = field(default_factory=list)  # (index, pts_ms, captured_ms), dropped


def offer(source: FrameSource, clock: Callable[[], float], realtime: bool = False,
          max_frames: int | None = None, pace: float = 1.0) -> Iterator[Offered]:
    """The frames of ``source`` as the pipeline takes them.

    Analysis mode (``realtime=False``): every frame, in order, whenever the caller is ready.
    Real-time mode: a reader thread offers frame *i* at ``pts_ms`` on ``clock`` (a file plays at its
    own fps; a camera at its own pace) and keeps only the newest; whenever the caller comes back
    it gets that newest frame, and every frame offered in between is reported as skipped (dropped),
    exactly like a camera that does not wait. ``pace``: wall-clock seconds per second of ``clock``
    (``clock`` runs in the video's time, ``pace`` times slower than the wall clock).
    """
    frames = iter(source) if max_frames is None else itertools.takewhile(lambda f: f.index < max_frames, source)
    if not realtime:
        for frame in frames:
            yield Offered(frame, clock())
        return
    yield from _paced(frames, clock, paced=not source.is_live, pace=pace)


def _paced(frames: Iterator[Frame], clock: Callable[[], float], paced: bool, pace: float = 1.0) -> Iterator[Offered]:
    lock = threading.Condition()
    slot: dict = {"newest": None, "skipped": [], "done": False, "error": None}
    stop = threading.Event()

    def reader() -> None:
        start = None  # a file's clock: set when the pipeline takes frame 0 (a camera is not paced)
        try:
            for frame in frames:
                if paced and start is not None:
                    delay = (start + frame.pts_ms - clock()) * pace / 1000.0
                    if delay > 0 and stop.wait(delay):
                        return
                if stop.is_set():
                    return
                with lock:
                    if slot["newest"] is not None:
                        old = slot["newest"]
                        slot["skipped"].append((old.frame.index, old.frame.pts_ms, old.captured_ms))
                    slot["newest"] = Offered(frame, clock())
                    lock.notify_all()
                    if start is None and paced:
                        # a file starts playing when the pipeline takes its first frame: a consumer thread
                        # slow to wake (one busy core) must not lose frame 0 to frame 1 two milliseconds on
                        lock.wait_for(lambda: slot["newest"] is None or stop.is_set())
                        start = clock() - frame.pts_ms
        except BaseException as exc:  # surfaced in the consumer's thread
            slot["error"] = exc
        finally:
            with lock:
                slot["done"] = True
                lock.notify()

    thread = threading.Thread(target=reader, name="frame-feed", daemon=True)
    thread.start()
    try:
        while True:
            with lock:
                while slot["newest"] is None and not slot["done"]:
                    lock.wait()
                if slot["error"] is not None:
                    raise slot["error"]
                offered = slot["newest"]
                if offered is None:
                    return
                offered.skipped, slot["skipped"], slot["newest"] = slot["skipped"], [], None
                lock.notify_all()
            yield offered
    finally:
        stop.set()
        with lock:
            lock.notify_all()
        thread.join(timeout=5)
