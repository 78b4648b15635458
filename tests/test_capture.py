"""Frame sources: every input kind, and bad input with a clear error."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.capture import open_source, to_bgr
from edge.errors import InputError
from tests.conftest import DEMO_VIDEO


def write_video(path, frames: int, size=(160, 120), fps=10.0, codec="mp4v"):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, size)
    for i in range(frames):
        img = np.full((size[1], size[0], 3), (i * 7) % 255, np.uint8)
        cv2.putText(img, str(i), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 3)
        writer.write(img)
    writer.release()


def test_video_file_yields_every_frame_with_timestamps():
    source = open_source(DEMO_VIDEO)
    frames = list(source)
    assert len(frames) == source.frame_count == 300
    assert source.fps == pytest.approx(15.0)
    assert [f.index for f in frames[:3]] == [0, 1, 2]
    assert frames[15].pts_ms == pytest.approx(1000.0)
    assert frames[0].image.shape == (480, 640, 3) and frames[0].image.dtype == np.uint8


@pytest.mark.parametrize(
    "image",
    [
        np.full((40, 50), 200, np.uint8),  # grey
        np.full((40, 50, 1), 200, np.uint8),  # grey with a channel axis
        np.full((40, 50, 4), 200, np.uint8),  # BGRA
        np.full((40, 50, 3), 200 * 257, np.uint16),  # 16-bit
        np.full((40, 50, 3), 200 / 255.0, np.float32),  # float in [0, 1]
    ],
    ids=["grey", "grey1", "bgra", "uint16", "float"],
)
def test_odd_frame_formats_become_8bit_bgr(image):
    out = to_bgr(image)
    assert out.shape == (40, 50, 3) and out.dtype == np.uint8
    assert abs(int(out[0, 0, 0]) - 200) <= 1


def test_image_file_grey_and_bgra(tmp_path):
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), np.full((30, 40), 90, np.uint8))
    bgra = tmp_path / "alpha.png"
    cv2.imwrite(str(bgra), np.dstack([np.full((30, 40, 3), 10, np.uint8), np.full((30, 40), 128, np.uint8)]))
    for path in (grey, bgra):
        (frame,) = list(open_source(path))
        assert frame.image.shape == (30, 40, 3)


def test_folder_is_sorted_naturally_and_skips_junk(tmp_path):
    for i in (10, 2, 1):
        cv2.imwrite(str(tmp_path / f"img{i}.png"), np.full((20, 20, 3), i, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    source = open_source(tmp_path)
    values = [int(f.image[0, 0, 0]) for f in source]
    assert values == [1, 2, 10]
    assert any("notes.txt" in w for w in source.warnings)
    assert any("broken.jpg" in w for w in source.warnings)


@pytest.mark.parametrize("name, content, message", [
    ("missing.mp4", None, "no such file"),
    ("empty.mp4", b"", "empty file"),
    ("text.mp4", b"this is a text file, not a video\n" * 20, "not a readable video"),
    ("broken.png", b"\x89PNG\r\n\x1a\n garbage", "cannot decode image"),
])
def test_bad_files_raise_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        list(open_source(path))


def test_empty_folder(tmp_path):
    with pytest.raises(InputError, match="no images in folder"):
        open_source(tmp_path)


def test_truncated_video_stops_at_last_good_frame_and_says_so(tmp_path):
    full = tmp_path / "full.avi"
    write_video(full, 60, codec="MJPG")
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) * 2 // 3])
    source = open_source(cut)
    frames = list(source)
    assert 20 < len(frames) < 60
    assert any("truncated" in w for w in source.warnings)


def test_mp4_cut_before_its_index_is_a_clear_error(tmp_path):
    full = tmp_path / "full.mp4"
    write_video(full, 30)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[:-2000])
    with pytest.raises(InputError, match="not a readable video"):
        open_source(cut)


class FakePicamera2:
    """Stands in for ``picamera2.Picamera2`` (libcamera and a Camera Module cannot exist on these
    machines): the calls ``edge.capture`` makes, with frames whose colour and timestamps are known."""

    cameras = [{"Model": "imx708", "Num": 0}]
    opened: list = []

    def __init__(self, index: int):
        self.index, self.started, self.closed, self.requests = index, False, False, 0
        FakePicamera2.opened.append(self)

    @classmethod
    def global_camera_info(cls):
        return cls.cameras

    def create_video_configuration(self, main, controls):
        self.asked = (main, controls)
        return {"main": main, "controls": controls}

    def configure(self, config):
        self.config = config

    def start(self):
        self.started = True

    def stop(self):
        self.started = False

    def close(self):
        self.closed = True

    def capture_request(self):
        camera, n = self, self.requests
        self.requests += 1

        class Request:
            def make_array(self, name):
                assert name == "main"
                width, height = camera.config["main"]["size"]
                image = np.zeros((height, width, 3), np.uint8)
                image[:, :, 0] = 200  # "RGB888" is B, G, R in memory: this is blue
                return image

            def get_metadata(self):
                return {"SensorTimestamp": 7_000_000_000 + n * 33_333_333}

            def release(self):
                camera.released = n + 1

        return Request()


@pytest.fixture
def fake_picamera2(monkeypatch):
    import sys
    import types

    FakePicamera2.opened = []
    monkeypatch.setitem(sys.modules, "picamera2", types.SimpleNamespace(Picamera2=FakePicamera2))
    return FakePicamera2


def test_the_pi_camera_gives_bgr_frames_with_sensor_timestamps_and_is_closed_after(fake_picamera2):
    source = open_source("picamera2")
    assert source.is_live and source.frame_count is None and "imx708" in source.description
    frames = iter(source)
    first = [next(frames) for _ in range(3)]
    (camera,) = fake_picamera2.opened
    assert camera.started and camera.asked[0] == {"size": (640, 480), "format": "RGB888"}
    assert [f.index for f in first] == [0, 1, 2]
    assert [round(f.pts_ms, 1) for f in first] == [0.0, 33.3, 66.7]
    assert first[0].image.shape == (480, 640, 3) and tuple(first[0].image[0, 0]) == (200, 0, 0)  # blue, as BGR
    assert camera.released == 3  # every request handed back to libcamera
    frames.close()  # the run ends
    assert camera.closed and not camera.started


def test_camera_index_falls_back_to_the_pi_camera_when_no_usb_camera_has_it(fake_picamera2):
    source = open_source("0")  # no V4L2 camera exists here
    assert "Pi camera 0" in source.description
    with pytest.raises(InputError, match="no Pi camera 3: libcamera sees 1"):
        open_source("picamera2:3")
    with pytest.raises(InputError, match="cannot open camera 5"):
        open_source("5")  # neither a USB camera nor a Pi camera 5


def test_the_pi_camera_without_picamera2_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "picamera2", None)  # import fails, as on any non-Pi system
    with pytest.raises(InputError, match="python3-picamera2"):
        open_source("picamera2")
    with pytest.raises(InputError, match="not a Pi camera number"):
        open_source("picamera2:x")
