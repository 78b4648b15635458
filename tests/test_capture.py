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
