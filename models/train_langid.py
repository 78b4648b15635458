"""Train the sign-line language guesser (``edge/langid.py``) from the registry corpus.

    python -m models.translator.corpus --lang de,fr,es,it      # the corpora (work/corpus/out*)
    python -m models.train_langid [--corpus work/corpus] [--out models/langid/langid.npz]

Text per language: the training split of each corpus (catalog strings, help blocks, game dialogue and
dictionary entries): German from ``out/train.de``, French, Spanish and Italian from
``out-LANG/train.LANG``, English from the English side of all four. The evaluation sets' texts of two
or more words never enter the corpus, so never this model either. Up to ``--lines`` lines a language
(seeded sample), counted as hashed character 1–4-grams; log-probabilities with add-``alpha``
smoothing, stored as float16. Deterministic.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from edge.langid import BUCKETS, MODEL, ngram_ids
from models.translator.corpus import LANGS, out_dir

LANGUAGES = ("de", "en", "fr", "es", "it")


def corpus_lines(corpus: Path, lang: str) -> list[str]:
    if lang == "en":
        paths = [out_dir(corpus, source) / "train.en" for source in LANGS]
    else:
        paths = [out_dir(corpus, lang) / f"train.{lang}"]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"no corpus text at {', '.join(missing)}: run python -m models.translator.corpus --lang de,fr,es,it")
    return sorted({line for path in paths for line in path.read_text(encoding="utf-8").splitlines() if line.strip()})


def train(texts: dict[str, list[str]], alpha: float = 0.1) -> np.ndarray:
    """A [BUCKETS, languages] float16 table of log P(n-gram | language)."""
    table = np.zeros((BUCKETS, len(texts)), dtype=np.float32)
    for column, lines in enumerate(texts.values()):
        ids = np.concatenate([ngram_ids(line) for line in lines])
        counts = np.bincount(ids, minlength=BUCKETS).astype(np.float64)
        table[:, column] = np.log((counts + alpha) / (counts.sum() + alpha * BUCKETS))
    return table.astype(np.float16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("work/corpus"))
    parser.add_argument("--out", type=Path, default=MODEL)
    parser.add_argument("--lines", type=int, default=300_000, help="lines sampled per language")
    args = parser.parse_args()
    rng = random.Random(7)
    texts = {}
    for lang in LANGUAGES:
        lines = corpus_lines(args.corpus, lang)
        texts[lang] = rng.sample(lines, min(args.lines, len(lines)))
        print(f"{lang}: {len(texts[lang])} of {len(lines)} lines", flush=True)
    table = train(texts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, languages=np.array(LANGUAGES), logprob=table)
    meta = {lang: len(lines) for lang, lines in texts.items()}
    print(json.dumps({"out": str(args.out), "bytes": args.out.stat().st_size, "lines": meta}))


if __name__ == "__main__":
    main()
