"""A shipped CTranslate2 translator back into the training checkpoint it came from, to train it further.

The runs behind the shipped models (their ``checkpoint.pt``) lived on machines that are gone; the
shipped ``model.bin`` is the only copy. It holds every weight matrix as int8 with one scale per row
and the rest in float32, which is what ``pack.py`` keeps too, so a model can go on training from it
(``train.py --init RUN``) with a fresh optimiser and schedule:

    python -m models.translator.recover models/de-en work/runs/de-shipped
    python -m models.translator.train --init work/runs/de-shipped --data work/corpus/out ...

The reader follows CTranslate2's ``model_spec._serialize`` (binary version 6); the names map back
the way ``TransformersConverter`` maps a Marian model (fused q/k/v in ``linear_0``, the pad row
dropped). Exported again with ``export.py``, the recovered checkpoint gives back the same int8
weights (``tests/test_build.py``).
"""

from __future__ import annotations

import argparse
import struct
from pathlib import Path

import numpy as np
import torch

DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16)
BINARY_VERSION = 6


def read_model_bin(path: Path) -> dict[str, np.ndarray]:
    """Every variable of a CTranslate2 ``model.bin`` (int8 weights dequantised), aliases resolved."""
    data = path.read_bytes()
    offset = 0

    def take(fmt: str):
        nonlocal offset
        value = struct.unpack_from(fmt, data, offset)
        offset += struct.calcsize(fmt)
        return value[0]

    def string() -> str:
        nonlocal offset
        size = take("H")
        text = data[offset : offset + size - 1].decode("utf-8")
        offset += size
        return text

    version = take("I")
    if version != BINARY_VERSION:
        raise SystemExit(f"error: {path}: CTranslate2 binary version {version}, this reader knows {BINARY_VERSION}")
    string()  # spec name
    take("I")  # spec revision
    raw = {}
    for _ in range(take("I")):
        name = string()
        shape = [take("I") for _ in range(take("B"))]
        type_id = take("B")
        size = take("I")
        if type_id >= len(DTYPES):
            raise SystemExit(f"error: {path}: {name} has a data type this reader does not know (id {type_id})")
        raw[name] = np.frombuffer(data, DTYPES[type_id], size // np.dtype(DTYPES[type_id]).itemsize, offset).reshape(shape)
        offset += size
    for _ in range(take("I")):
        alias, target = string(), string()
        raw[alias] = raw[target]
    values = {}
    for name, value in raw.items():
        if name.endswith("_scale"):
            continue
        scale = raw.get(name + "_scale")
        if value.dtype == np.int8 and scale is not None:  # CTranslate2 stores round(w * scale)
            value = value.astype(np.float32) / scale.reshape(-1, 1)
        values[name] = value
    return values


def _linear(state: dict, prefix: str, weight: np.ndarray, bias: np.ndarray) -> None:
    state[prefix + ".weight"] = torch.from_numpy(np.array(weight, dtype=np.float32))
    state[prefix + ".bias"] = torch.from_numpy(np.array(bias, dtype=np.float32))


def _dense(state: dict, prefix: str, values: dict, name: str) -> None:
    _linear(state, prefix, values[name + "/weight"], values[name + "/bias"])


def _norm(state: dict, prefix: str, values: dict, name: str) -> None:
    state[prefix + ".weight"] = torch.from_numpy(np.array(values[name + "/gamma"], dtype=np.float32))
    state[prefix + ".bias"] = torch.from_numpy(np.array(values[name + "/beta"], dtype=np.float32))


def _split(values: dict, name: str, parts: int) -> list[tuple[np.ndarray, np.ndarray]]:
    weight, bias = values[name + "/weight"], values[name + "/bias"]
    return list(zip(np.split(weight, parts), np.split(bias, parts)))


def marian_state(values: dict[str, np.ndarray]) -> tuple[dict[str, torch.Tensor], dict]:
    """The Hugging Face Marian state dict and ``train.py``'s arch for the variables of a converted model."""
    embeddings = values["decoder/embeddings/weight"]
    pieces, d_model = embeddings.shape
    shared = torch.zeros(pieces + 1, d_model)  # the pad row (= decoder start) CTranslate2 dropped stays zero
    shared[:pieces] = torch.from_numpy(np.array(embeddings, dtype=np.float32))
    state = {"model.shared.weight": shared, "model.encoder.embed_tokens.weight": shared,
             "model.decoder.embed_tokens.weight": shared, "lm_head.weight": shared,
             "final_logits_bias": torch.zeros(1, pieces + 1)}
    layers = {side: sum(1 for name in values if name.startswith(f"{side}/layer_") and name.endswith("ffn/linear_0/weight"))
              for side in ("encoder", "decoder")}
    for side in ("encoder", "decoder"):
        for i in range(layers[side]):
            src, dst = f"{side}/layer_{i}", f"model.{side}.layers.{i}"
            for (w, b), proj in zip(_split(values, f"{src}/self_attention/linear_0", 3), ("q_proj", "k_proj", "v_proj")):
                _linear(state, f"{dst}.self_attn.{proj}", w, b)
            _dense(state, f"{dst}.self_attn.out_proj", values, f"{src}/self_attention/linear_1")
            _norm(state, f"{dst}.self_attn_layer_norm", values, f"{src}/self_attention/layer_norm")
            if side == "decoder":
                _dense(state, f"{dst}.encoder_attn.q_proj", values, f"{src}/attention/linear_0")
                for (w, b), proj in zip(_split(values, f"{src}/attention/linear_1", 2), ("k_proj", "v_proj")):
                    _linear(state, f"{dst}.encoder_attn.{proj}", w, b)
                _dense(state, f"{dst}.encoder_attn.out_proj", values, f"{src}/attention/linear_2")
                _norm(state, f"{dst}.encoder_attn_layer_norm", values, f"{src}/attention/layer_norm")
            _dense(state, f"{dst}.fc1", values, f"{src}/ffn/linear_0")
            _dense(state, f"{dst}.fc2", values, f"{src}/ffn/linear_1")
            _norm(state, f"{dst}.final_layer_norm", values, f"{src}/ffn/layer_norm")
    arch = {"d_model": int(d_model), "layers": layers["encoder"], "heads": int(values["encoder/num_heads"]),
            "ffn": int(values["encoder/layer_0/ffn/linear_0/weight"].shape[0]),
            "enc_layers": layers["encoder"], "dec_layers": layers["decoder"]}
    return state, arch


def recover(model_dir: Path, run: Path) -> dict:
    """Write ``run/checkpoint.pt`` (weights, arch, step 0) and ``run/spm.model`` from a shipped model folder."""
    from models.translator.train import build_model, load_weights

    state, arch = marian_state(read_model_bin(model_dir / "model.bin"))
    pieces = state["model.shared.weight"].shape[0] - 1
    model = build_model(pieces, argparse.Namespace(**arch))
    load_weights(model, state, model_dir)
    run.mkdir(parents=True, exist_ok=True)
    torch.save({"model": model.state_dict(), "arch": arch, "step": 0}, run / "checkpoint.pt")
    (run / "spm.model").write_bytes((model_dir / "spm.model").read_bytes())
    return arch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a shipped model folder (model.bin, spm.model)")
    parser.add_argument("run", type=Path, help="the run folder to write (checkpoint.pt, spm.model)")
    args = parser.parse_args()
    print(f"{args.run}: {recover(args.model, args.run)}")


if __name__ == "__main__":
    main()
