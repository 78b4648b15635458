"""Move a training checkpoint between machines in a quarter of its size: weights as int8 with one
scale per row (the same per-row quantisation CTranslate2's int8 applies at export, so nothing the
shipped model keeps is lost), biases and norms as float32, the fixed sinusoidal positions left out,
without the optimiser state. Packed, unpacked and exported, a checkpoint gives the same ``model.bin``
as exported directly.

    python -m models.translator.pack pack work/runs/a work/a.pack      # where it was trained
    python -m models.translator.pack unpack work/a.pack work/runs/a    # where it is exported
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch


def pack(run: Path, out: Path) -> None:
    state = torch.load(run / "checkpoint.pt", weights_only=False, map_location="cpu")
    packed, first_of = {}, {}
    for name, tensor in state["model"].items():
        if "embed_positions" in name:  # fixed sinusoids: the model rebuilds them exactly, int8 would blur them
            continue
        key = (tensor.data_ptr(), tuple(tensor.shape))
        if key in first_of:  # tied weights (the shared embedding and the output projection): stored once
            packed[name] = ("same", first_of[key], None)
            continue
        first_of[key] = name
        tensor = tensor.float()
        if tensor.dim() == 2:
            scale = tensor.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127.0
            packed[name] = ("int8", torch.round(tensor / scale).to(torch.int8), scale)
        else:  # biases and norms: a few hundred kB, kept exact
            packed[name] = ("float", tensor, None)
    torch.save({"weights": packed, "arch": state["arch"], "step": state["step"],
                "spm": (run / "spm.model").read_bytes()}, out)


def unpack(packed_path: Path, run: Path) -> None:
    packed = torch.load(packed_path, weights_only=False)
    weights = {}
    for name, (kind, values, scale) in packed["weights"].items():
        if kind != "same":
            weights[name] = values.float() * scale.float() if kind == "int8" else values.float()  # "half": older packs
    for name, (kind, values, _) in packed["weights"].items():
        if kind == "same":
            weights[name] = weights[values]
    run.mkdir(parents=True, exist_ok=True)
    torch.save({"model": weights, "arch": packed["arch"], "step": packed["step"]}, run / "checkpoint.pt")
    (run / "spm.model").write_bytes(packed["spm"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["pack", "unpack"])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    args = parser.parse_args()
    (pack if args.action == "pack" else unpack)(args.source, args.target)
    if args.action == "pack":
        print(f"{args.target}: {args.target.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
