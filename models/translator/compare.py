"""Compare training runs on the corpus's held-out dev set, to choose a source mix by measurement.

Scores each run's checkpoint by chrF (sacrebleu) on the dev pairs whose German side has two or more
words (phrases and sentences, the register of notices; single UI words say little), decoding greedily
with the PyTorch model on whatever device is there. Never looks at the evaluation sets.

    python -m models.translator.compare work/runs/a work/runs/b [--pick work/runs/best.txt]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import sentencepiece as spm
import torch

from models.translator.train import build_model, load_weights, zero_pad_row


def load_run(run: Path, device: str):
    state = torch.load(run / "checkpoint.pt", weights_only=False, map_location="cpu")
    sp = spm.SentencePieceProcessor(model_file=str(run / "spm.model"))
    model = build_model(sp.get_piece_size(), argparse.Namespace(**state["arch"]))
    load_weights(model, state["model"], run)
    zero_pad_row(model)
    return model.to(device).eval(), sp


def translate(model, sp, texts: list[str], device: str, batch: int = 128) -> list[str]:
    out = []
    pad = sp.get_piece_size()
    for start in range(0, len(texts), batch):
        ids = [s + [sp.eos_id()] for s in sp.encode(texts[start: start + batch])]
        width = max(map(len, ids))
        inputs = torch.full((len(ids), width), pad, dtype=torch.long)
        for row, s in enumerate(ids):
            inputs[row, : len(s)] = torch.tensor(s)
        with torch.no_grad():
            generated = model.generate(input_ids=inputs.to(device), attention_mask=inputs.ne(pad).to(device),
                                       num_beams=1, max_new_tokens=96)
        for row in generated.tolist():
            out.append(sp.decode([t for t in row if t < pad and t not in (sp.eos_id(), sp.bos_id())]))
    return out


def dev_set(data: Path) -> tuple[list[str], list[str]]:
    de = (data / "dev.de").read_text(encoding="utf-8").splitlines()
    en = (data / "dev.en").read_text(encoding="utf-8").splitlines()
    keep = [i for i, text in enumerate(de) if len(text.split()) >= 2]
    return [de[i] for i in keep], [en[i] for i in keep]


def main() -> None:
    import sacrebleu

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, default=Path("work/corpus/out"))
    parser.add_argument("--pick", type=Path, help="write the best run's path here")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    source, refs = dev_set(args.data)
    results = {}
    for run in args.runs:
        model, sp = load_run(run, device)
        hyps = translate(model, sp, source, device)
        results[str(run)] = round(sacrebleu.corpus_chrf(hyps, [refs]).score, 2)
        print(json.dumps({"run": str(run), "dev_pairs": len(source), "chrf": results[str(run)]}), flush=True)
    if args.pick:
        args.pick.write_text(max(results, key=results.get))


if __name__ == "__main__":
    main()
