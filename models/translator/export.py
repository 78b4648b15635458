"""Convert a training checkpoint to the shipped CTranslate2 int8 model directory.

checkpoint.pt → Hugging Face Marian directory (``vocab.json`` = pieces in id order plus ``<pad>``
as the last id; ``source.spm`` = ``target.spm`` = the SentencePiece model) →
``ctranslate2.converters.TransformersConverter(...).convert(out, quantization="int8")`` (it drops
the pad row) → ``spm.model`` and the gzipped phrase table copied beside it.

    python -m models.translator.export --run work/translator/run --out models/de-en
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

import sentencepiece as spm
import torch

from models.translator.train import build_model, load_weights, zero_pad_row


def to_huggingface(run: Path, hf_dir: Path) -> None:
    state = torch.load(run / "checkpoint.pt", weights_only=False)
    sp = spm.SentencePieceProcessor(model_file=str(run / "spm.model"))
    pieces = sp.get_piece_size()
    weights = state["model"]
    model = build_model(pieces, argparse.Namespace(**state["arch"]))
    load_weights(model, weights, run)
    zero_pad_row(model)  # CTranslate2 starts Marian decoders from a zero embedding
    model.save_pretrained(hf_dir)
    vocab = {sp.id_to_piece(i): i for i in range(pieces)}
    vocab["<pad>"] = pieces
    (hf_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    for name in ("source.spm", "target.spm"):
        shutil.copyfile(run / "spm.model", hf_dir / name)
    (hf_dir / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "MarianTokenizer", "source_lang": "de", "target_lang": "en", "model_max_length": 128,
         "unk_token": "<unk>", "eos_token": "</s>", "pad_token": "<pad>"}))


def export_phrases(sqlite_path: Path, out: Path) -> None:
    """The phrase table as ``key<TAB>english`` lines, gzipped (the device builds its SQLite copy)."""
    db = sqlite3.connect(sqlite_path)
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as fh:
        for key, en in db.execute("SELECT key, en FROM phrases ORDER BY key"):
            fh.write(f"{key}\t{en}\n")
    db.close()


def export(run: Path, out: Path, phrases: Path | None, quantization: str = "int8") -> None:
    import ctranslate2

    with tempfile.TemporaryDirectory() as tmp:
        hf_dir = Path(tmp) / "hf"
        to_huggingface(run, hf_dir)
        staging = Path(tmp) / "ct2"
        ctranslate2.converters.TransformersConverter(str(hf_dir)).convert(str(staging), quantization=quantization)
        shutil.copyfile(run / "spm.model", staging / "spm.model")
        if phrases:
            export_phrases(phrases, staging / "phrases.tsv.gz")
        out.mkdir(parents=True, exist_ok=True)
        for item in staging.iterdir():
            shutil.copyfile(item, out / item.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=Path("work/translator/run"))
    parser.add_argument("--out", type=Path, default=Path("models/de-en"))
    parser.add_argument("--phrases", type=Path, default=Path("work/translator/phrases.sqlite"))
    parser.add_argument("--quantization", default="int8", choices=["int8", "float32"],
                        help="weights of the CTranslate2 model (float32 to check the conversion exactly)")
    args = parser.parse_args()
    export(args.run, args.out, args.phrases if args.phrases.exists() else None, args.quantization)
    for item in sorted(args.out.iterdir()):
        print(f"{item}  {item.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
