"""On-device AR translation: find text in frames, read it, translate it, draw it back over the sign."""

import os

# FFmpeg inside OpenCV prints its own complaints ("moov atom not found") to stderr; our errors
# already say what went wrong in one line.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
# Tesseract's OpenMP threads only contend on small line crops (Tesseract's own advice); one each.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

__version__ = "0.1.0"
