"""Convert the PP-OCRv4 text detector (ONNX, from the ``rapidocr-onnxruntime==1.4.4`` wheel) to LiteRT.

For each input size: ``onnxsim`` fixes the input shape (a static graph converts cleanly), then
``onnx2tf`` writes float32, float16 and dynamic-range int8 ``.tflite`` files (NHWC input
``[1, H, W, 3]``, BGR normalised to [-1, 1]; output ``[1, H, W, 1]`` text probability).

Needs the optional ``convert`` extra (``pip install .[convert]``); the runtime never imports it.
onnx2tf downloads a calibration sample unless one is in its working directory, so we write one
(any 20×128×128×3 float32 array is fine for non-int8-activation outputs).

    python -m models.convert_detector --sizes 640x480 480x352 320x256 --out work/detector
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SOURCE_WHEEL = "rapidocr-onnxruntime==1.4.4"
SOURCE_FILE = "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"
PRECISIONS = {"float32": "float32", "float16": "float16", "int8": "dynamic_range_quant"}


def source_model() -> Path:
    try:
        import rapidocr_onnxruntime
    except ImportError:
        sys.exit(f"error: the source model comes from the wheel {SOURCE_WHEEL}: pip install '{SOURCE_WHEEL}'")
    return Path(rapidocr_onnxruntime.__file__).parent / "models" / "ch_PP-OCRv4_det_infer.onnx"


def convert(size: str, out_dir: Path) -> list[Path]:
    """Convert one ``WxH`` size; returns the written ``ppocrv4_det_{W}x{H}_{precision}.tflite`` files."""
    width, height = (int(v) for v in size.lower().split("x"))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        np.save(tmp / "calibration_image_sample_data_20x128x128x3_float32.npy",
                np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32))
        static = tmp / f"det_{height}x{width}.onnx"
        subprocess.run([sys.executable, "-m", "onnxsim", str(source_model()), str(static),
                        "--overwrite-input-shape", f"x:1,3,{height},{width}"], check=True, cwd=tmp, stdout=subprocess.DEVNULL)
        subprocess.run([sys.executable, "-m", "onnx2tf", "-i", static.name, "-o", "tf", "-osd", "-odrqt"], check=True, cwd=tmp,
                       stdout=subprocess.DEVNULL)
        for precision, suffix in PRECISIONS.items():
            target = out_dir / f"ppocrv4_det_{width}x{height}_{precision}.tflite"
            shutil.copyfile(tmp / "tf" / f"{static.stem}_{suffix}.tflite", target)
            written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["640x480", "480x352", "320x256"],
                        help="input sizes as WxH, both multiples of 32")
    parser.add_argument("--out", type=Path, default=Path("work/detector"))
    args = parser.parse_args()
    for size in args.sizes:
        for path in convert(size, args.out):
            print(f"{path}  {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
