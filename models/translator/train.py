"""Train an embedded X→en translator (``--src-lang``, German by default): SentencePiece + a small Marian Transformer.

Reproducible (seeded), resumable (``--resume`` picks up ``checkpoint.pt``), and sized to finish
in about an hour on 2 CPU cores: ``--max-steps`` fixes the schedule, ``--max-minutes`` is a
safety stop that checkpoints and exits so a later run resumes where it stopped.

The model is a Hugging Face ``MarianMTModel`` so CTranslate2's ``TransformersConverter`` can
convert it (see ``export.py``). SentencePiece ids: ``<unk>``=0, ``<s>``=1, ``</s>``=2, no pad
piece; the pad id (also the decoder start id) is one past the last piece.

The pad embedding row is held at zero after every step. CTranslate2 runs Marian decoders from a
zero start embedding, as Marian does; with tied embeddings the output projection's gradient would
otherwise move that row, and the converted model would decode differently from the trained one
(measured: "das Haus" → "the house" in PyTorch, "of the house" in CTranslate2).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch
from transformers import MarianConfig, MarianMTModel

MAX_TOKENS = 64  # longer pairs (rare long example sentences) are dropped from training


def train_vocab(data_dir: Path, out_dir: Path, vocab_size: int, src_lang: str = "de") -> Path:
    """Train a joint unigram SentencePiece model on both sides of the training data."""
    model_prefix = out_dir / "spm"
    if (out_dir / "spm.model").exists():
        return out_dir / "spm.model"
    out_dir.mkdir(parents=True, exist_ok=True)
    joint = out_dir / "spm_corpus.txt"
    with joint.open("w", encoding="utf-8") as fh:
        for lang in (src_lang, "en"):
            fh.write((data_dir / f"train.{lang}").read_text(encoding="utf-8"))
    spm.SentencePieceTrainer.train(
        input=str(joint), model_prefix=str(model_prefix), vocab_size=vocab_size,
        model_type="unigram", character_coverage=1.0, input_sentence_size=1_000_000,
        shuffle_input_sentence=True, pad_id=-1, unk_id=0, bos_id=1, eos_id=2, seed_sentencepiece_size=500_000,
        num_threads=2, minloglevel=2,
    )
    joint.unlink()
    return out_dir / "spm.model"


def parse_mix(text: str) -> dict[str, float]:
    """``ding=3,games=2,ui=1`` → weight per source kind (a kind not named keeps weight 1)."""
    mix = {}
    for part in filter(None, text.split(",")):
        kind, _, weight = part.partition("=")
        mix[kind.strip()] = float(weight)
    return mix


def mixed(de: list[str], en: list[str], kinds: list[str], mix: dict[str, float], rng: random.Random):
    """The pairs with each source kind repeated by its weight (the fraction drawn at random):
    how much of each source a step sees."""
    out_de, out_en = [], []
    for s, t, kind in zip(de, en, kinds):
        weight = mix.get(kind, 1.0)
        copies = int(weight) + (rng.random() < weight - int(weight))
        out_de += [s] * copies
        out_en += [t] * copies
    return out_de, out_en


def encode_corpus(sp: spm.SentencePieceProcessor, data_dir: Path, split: str,
                  mix: dict[str, float] | None = None, src_lang: str = "de") -> list[tuple[list[int], list[int]]]:
    """Token ids per pair, ``</s>`` appended on both sides; over-long pairs dropped. Training pairs are
    weighted by source kind (``mix``, from ``train.src`` when the corpus builder wrote one)."""
    de = (data_dir / f"{split}.{src_lang}").read_text(encoding="utf-8").splitlines()
    en = (data_dir / f"{split}.en").read_text(encoding="utf-8").splitlines()
    kinds_path = data_dir / f"{split}.src"
    if split == "train" and mix and kinds_path.exists():
        de, en = mixed(de, en, kinds_path.read_text(encoding="utf-8").splitlines(), mix, random.Random(3))
    if split == "train":
        # Signs are often set in capitals: teach the model that AUSGANG means Ausgang.
        rng = random.Random(7)
        extra = [(s.upper(), t) for s, t in zip(de, en) if rng.random() < 0.08]
        de += [s for s, _ in extra]
        en += [t for _, t in extra]
    src = sp.encode(de)
    tgt = sp.encode(en)
    eos = sp.eos_id()
    return [(s + [eos], t + [eos]) for s, t in zip(src, tgt) if len(s) < MAX_TOKENS and len(t) < MAX_TOKENS]


def make_batches(pairs, max_tokens: int, rng: random.Random) -> list[list[int]]:
    """Length-bucketed batches of pair indices holding at most ``max_tokens`` padded tokens per side."""
    order = sorted(range(len(pairs)), key=lambda i: (max(len(pairs[i][0]), len(pairs[i][1])), rng.random()))
    batches, batch, longest = [], [], 0
    for i in order:
        length = max(len(pairs[i][0]), len(pairs[i][1]))
        if batch and max(longest, length) * (len(batch) + 1) > max_tokens:
            batches.append(batch)
            batch, longest = [], 0
        batch.append(i)
        longest = max(longest, length)
    if batch:
        batches.append(batch)
    rng.shuffle(batches)
    return batches


def collate(pairs, indices: list[int], pad: int) -> dict[str, torch.Tensor]:
    src = [pairs[i][0] for i in indices]
    tgt = [pairs[i][1] for i in indices]
    s_len, t_len = max(map(len, src)), max(map(len, tgt))
    input_ids = np.full((len(src), s_len), pad, dtype=np.int64)
    labels = np.full((len(tgt), t_len), -100, dtype=np.int64)
    decoder_in = np.full((len(tgt), t_len), pad, dtype=np.int64)  # column 0 stays pad: the decoder start
    for row, (s, t) in enumerate(zip(src, tgt)):
        input_ids[row, : len(s)] = s
        labels[row, : len(t)] = t
        decoder_in[row, 1 : len(t)] = t[:-1]
    input_ids = torch.from_numpy(input_ids)
    return {"input_ids": input_ids, "attention_mask": input_ids.ne(pad), "decoder_input_ids": torch.from_numpy(decoder_in),
            "labels": torch.from_numpy(labels)}


def build_model(vocab_pieces: int, args) -> MarianMTModel:
    pad = vocab_pieces
    config = MarianConfig(
        vocab_size=vocab_pieces + 1, decoder_vocab_size=vocab_pieces + 1,
        d_model=args.d_model, encoder_layers=getattr(args, "enc_layers", None) or args.layers,
        decoder_layers=getattr(args, "dec_layers", None) or args.layers,
        encoder_attention_heads=args.heads, decoder_attention_heads=args.heads,
        encoder_ffn_dim=args.ffn, decoder_ffn_dim=args.ffn, max_position_embeddings=128,
        activation_function="swish", dropout=0.1, attention_dropout=0.0, activation_dropout=0.0,
        scale_embedding=True, share_encoder_decoder_embeddings=True, tie_word_embeddings=True,
        pad_token_id=pad, eos_token_id=2, bos_token_id=1, decoder_start_token_id=pad,
        forced_eos_token_id=2, num_beams=2, max_length=MAX_TOKENS,
    )
    return MarianMTModel(config)


def load_weights(model: MarianMTModel, weights: dict[str, torch.Tensor], where: object) -> None:
    """Load a checkpoint's weights, which may leave out the fixed sinusoidal positions (``pack.py``,
    ``recover.py``: the model builds them itself); anything else missing or unexpected is an error."""
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [name for name in missing if "embed_positions" not in name]
    if missing or unexpected:
        raise SystemExit(f"error: {where}: the weights do not fit this architecture: missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]}")


def torch_threads(requested: int) -> int:
    """Set torch's CPU threads, never above ``OMP_THREAD_LIMIT``: torch asked for more threads than
    OpenMP may start computes wrong numbers (NaN weights in training, seen with a limit of 1 and 2
    threads; ``import edge`` sets that limit for Tesseract)."""
    limit = int(os.environ.get("OMP_THREAD_LIMIT") or requested)
    threads = max(1, min(requested, limit))
    if threads < requested:
        print(f"OMP_THREAD_LIMIT={limit}: torch uses {threads} thread(s) instead of {requested}", flush=True)
    torch.set_num_threads(threads)
    return threads


def zero_pad_row(model: MarianMTModel) -> None:
    """Keep the decoder start (= pad) embedding at zero, as CTranslate2 assumes for Marian."""
    with torch.no_grad():
        model.get_input_embeddings().weight[model.config.pad_token_id].zero_()


def lr_at(step: int, peak: float, warmup: int, max_steps: int, time_share: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to 5 % of the peak at ``max_steps`` or, when the schedule runs
    by time, at the time limit (``time_share``: the share of it used so far), whichever comes first."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, max((step - warmup) / max(1, max_steps - warmup), time_share))
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def to_device(inputs: dict[str, torch.Tensor], device: str) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in inputs.items()}


def evaluate(model, pairs, pad: int, max_tokens: int, device: str = "cpu") -> float:
    """Mean token cross-entropy on held-out pairs (no label smoothing)."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), torch.autocast(device.split(":")[0], dtype=torch.bfloat16):
        for batch in make_batches(pairs, max_tokens, random.Random(0)):
            inputs = to_device(collate(pairs, batch, pad), device)
            out = model(**inputs)
            n = int(inputs["labels"].ne(-100).sum())
            total += float(out.loss) * n
            count += n
    model.train()
    return total / max(1, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("work/translator/data"))
    parser.add_argument("--out", type=Path, default=Path("work/translator/run"))
    parser.add_argument("--src-lang", default="de", help="source language: the corpus files' suffix (train.fr …)")
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--layers", type=int, default=3, help="encoder and decoder layers (unless set apart below)")
    parser.add_argument("--enc-layers", type=int, help="encoder layers (default --layers)")
    parser.add_argument("--dec-layers", type=int, help="decoder layers (default --layers): they set the decoding time")
    parser.add_argument("--mix", default="", help="source weights, e.g. ding=3,games=2,help=1,ui=1 (corpus builder data)")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (cuda when there is one)")
    parser.add_argument("--eval-every", type=int, default=1000, help="steps between dev evaluations and checkpoints")
    parser.add_argument("--log-every", type=int, default=100, help="steps between progress lines")
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ffn", type=int, default=1024)
    parser.add_argument("--batch-tokens", type=int, default=1200, help="padded tokens per side per step")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--max-steps", type=int, default=9000)
    parser.add_argument("--max-minutes", type=float, default=75.0, help="checkpoint and stop after this long")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--init", type=Path, help="a finished run's folder: start from its weights and vocabulary "
                        "with a fresh optimiser and schedule (fine-tuning, e.g. on a sign-leaning --mix)")
    parser.add_argument("--time-schedule", action="store_true",
                        help="decay the learning rate over --max-minutes (a fixed time on a fast machine) and stop there")
    args = parser.parse_args()

    args.threads = torch_threads(args.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    torch.manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.init and not (args.out / "spm.model").exists():  # the vocabulary comes with the weights
        for name in ("spm.model", "spm.vocab"):
            if (args.init / name).exists():
                (args.out / name).write_bytes((args.init / name).read_bytes())
    sp = spm.SentencePieceProcessor(model_file=str(train_vocab(args.data, args.out, args.vocab_size, args.src_lang)))
    pieces = sp.get_piece_size()
    pad = pieces
    train_pairs = encode_corpus(sp, args.data, "train", parse_mix(args.mix), args.src_lang)
    dev_pairs = encode_corpus(sp, args.data, "dev", src_lang=args.src_lang)
    model = build_model(pieces, args).to(device)
    optim = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.0)
    step, epoch, cursor, minutes_before = 0, 0, 0, 0.0
    ckpt_path = args.out / "checkpoint.pt"
    if args.resume and ckpt_path.exists():
        state = torch.load(ckpt_path, weights_only=False, map_location=device)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        step, epoch, cursor = state["step"], state["epoch"], state["cursor"]
        minutes_before = state.get("minutes", 0.0)  # a time schedule goes on where it stopped
        print(f"resumed at step {step} (epoch {epoch}, batch {cursor}, {minutes_before:.1f} min trained)", flush=True)
    elif args.init:
        state = torch.load(args.init / "checkpoint.pt", weights_only=False, map_location=device)
        load_weights(model, state["model"], args.init)  # fails loudly on another architecture
        print(f"started from {args.init} (step {state['step']})", flush=True)
    zero_pad_row(model)
    print(f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters, {len(train_pairs)} train pairs", flush=True)

    def save() -> None:
        tmp = ckpt_path.with_suffix(".tmp")
        arch = {"d_model": args.d_model, "layers": args.layers, "heads": args.heads, "ffn": args.ffn,
                "enc_layers": args.enc_layers, "dec_layers": args.dec_layers}
        state = {"model": model.state_dict(), "optim": optim.state_dict(), "step": step, "epoch": epoch, "cursor": cursor,
                 "arch": arch, "minutes": (time.monotonic() - started) / 60}
        torch.save(state, tmp)
        tmp.replace(ckpt_path)

    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=0.1)
    run_started = time.monotonic()
    started = run_started - 60 * minutes_before
    log = (args.out / "train.log").open("a")
    running, tokens, bad_steps = 0.0, 0, 0
    model.train()
    while step < args.max_steps:
        batches = make_batches(train_pairs, args.batch_tokens, random.Random(args.seed * 1000 + epoch))
        while cursor < len(batches) and step < args.max_steps:
            inputs = collate(train_pairs, batches[cursor], pad)
            tokens += int(inputs["labels"].ne(-100).sum())
            inputs = to_device(inputs, device)
            labels = inputs.pop("labels")
            for group in optim.param_groups:
                elapsed = (time.monotonic() - started) / 60 / args.max_minutes if args.time_schedule else 0.0
                group["lr"] = lr_at(step, args.lr, args.warmup, args.max_steps, elapsed)
            with torch.autocast(device.split(":")[0], dtype=torch.bfloat16):
                logits = model(**inputs).logits
            loss = loss_fn(logits.float().view(-1, logits.size(-1)), labels.view(-1))
            optim.zero_grad(set_to_none=True)
            if not torch.isfinite(loss):  # a bf16 overflow on one batch: skip it; many in a row is divergence
                bad_steps += 1
                cursor += 1
                if bad_steps >= 20:
                    raise SystemExit(f"error: loss is {float(loss)} at step {step} 20 times running; the last good "
                                     "checkpoint is kept")
                continue
            bad_steps = 0
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            zero_pad_row(model)
            step += 1
            cursor += 1
            running += loss.detach()
            if step % args.log_every == 0:
                minutes = (time.monotonic() - started) / 60
                lr = optim.param_groups[0]["lr"]
                speed = tokens / (time.monotonic() - run_started)  # this process's tokens
                loss_mean = float(running) / args.log_every
                msg = f"step {step} loss {loss_mean:.3f} lr {lr:.2e} tgt_tok/s {speed:.0f} min {minutes:.1f}"
                print(msg, flush=True)
                log.write(msg + "\n")
                log.flush()
                running = 0.0
            if step % args.eval_every == 0:
                dev = evaluate(model, dev_pairs, pad, 4000, device)
                log.write(f"step {step} dev_ce {dev:.3f}\n")
                print(f"step {step} dev_ce {dev:.3f}", flush=True)
                save()
            if (time.monotonic() - started) / 60 > args.max_minutes:
                if args.time_schedule:  # the schedule ran its course: this is the end of training
                    args.max_steps = step
                    break
                save()
                print(f"time limit: checkpointed at step {step}; rerun with --resume", flush=True)
                return
        if cursor >= len(batches):
            epoch, cursor = epoch + 1, 0
    save()
    dev = evaluate(model, dev_pairs, pad, 4000, device)
    model.to("cpu").save_pretrained(args.out / "hf")
    (args.out / "done.json").write_text(json.dumps({"step": step, "dev_ce": dev}))
    print("done", flush=True)


if __name__ == "__main__":
    main()
