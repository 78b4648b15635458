"""On-device AR translation: find text in frames, read it, translate it, draw it back over the sign."""

import os

# FFmpeg inside OpenCV prints its own complaints ("moov atom not found") to stderr; our errors
# already say what went wrong in one line.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
# OpenMP threads only contend on small work items: Tesseract on a line crop was 5× slower with two
# (43 against 8.6 ms p50), CTranslate2 on a short text too (7.6 against 1.5 ms). One each.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

__version__ = "0.1.0"
