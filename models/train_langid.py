"""Train the sign-line language guesser (``edge/langid.py``) from the registry corpus.

    python -m models.translator.corpus --lang de,fr,es,it      # the corpora (work/corpus/out*)
    python -m models.train_langid [--corpus work/corpus] [--out models/langid/langid.npz]

Text per language: the training split of each corpus (catalog strings, help blocks, game dialogue and
dictionary entries): German from ``out/train.de``, French, Spanish and Italian from
``out-LANG/train.LANG``, English from the English side of all four. The evaluation sets' texts of two
or more words never enter the corpus, so never this model either. Up to ``--lines`` lines a language
(seeded sample), counted as hashed character 1–4-grams; log-probabilities with add-``alpha``
smoothing, stored as float16.

Beside the table, each language's **lexicon**: every word of its dictionary entries (Ding, FreeDict),
every word used at least ``--min-count`` times in its whole training split, and every word of the word
list inside its installed Tesseract model (Debian's ``tesseract-ocr-LANG``, Apache-2.0; unpacked with
Tesseract's own ``combine_tessdata`` and ``dawg2wordlist``; ``--no-tesseract-words`` leaves them out),
accents stripped, packed by ``edge.langid.pack_keys`` (a known word adds ``--lexicon-weight`` to its
languages). What enters the lexicon
and its weight were chosen on the corpora's dev splits (``work/`` replays of ``python -m benchmarks.langid
--set dev``'s readings), never on the evaluation sets. Deterministic.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from edge.langid import BUCKETS, MODEL, lexicon_words, ngram_ids, pack_keys, word_key
from edge.ocr import tesseract_language
from models.translator.corpus import LANGS, out_dir, read_split

LANGUAGES = ("de", "en", "fr", "es", "it")
DICTIONARY_KINDS = ("ding", "dict")  # corpus.py's kinds of dictionary entries
LEXICON_WEIGHT = 10.0  # what a known word adds to its language (chosen on the dev splits; see the card)
MIN_COUNT = 3  # a corpus word enters its language's lexicon from this many uses (dictionary words always)


def split_rows(corpus: Path, lang: str, split: str = "train") -> list[tuple[str, str]]:
    """(text, kind) of one split in ``lang`` (English: the English side of every corpus), in file order."""
    sources = LANGS if lang == "en" else (lang,)
    return [row for source in sources for row in read_split(out_dir(corpus, source), lang, split)]


def tesseract_words(lang: str) -> list[str]:
    """The word list inside Tesseract's model for ``lang`` (its LSTM word DAWG, as Tesseract's tools print it)."""
    code, folder = tesseract_language(lang)
    with tempfile.TemporaryDirectory() as tmp:
        prefix = f"{tmp}/{code}."
        subprocess.run(["combine_tessdata", "-u", str(folder / f"{code}.traineddata"), prefix], check=True,
                       capture_output=True)
        subprocess.run(["dawg2wordlist", prefix + "lstm-unicharset", prefix + "lstm-word-dawg", prefix + "words"],
                       check=True, capture_output=True)
        return Path(prefix + "words").read_text(encoding="utf-8").splitlines()


def lexicon(rows: list[tuple[str, str]], min_count: int = MIN_COUNT, extra: list[str] = ()) -> tuple[np.ndarray, np.ndarray]:
    """The accent-stripped words of dictionary entries, those used ``min_count`` times or more anywhere in
    ``rows``, and those of ``extra`` (a word list), packed by ``edge.langid.pack_keys``."""
    counts, known = Counter(), set()
    for line, kind in rows:
        words = lexicon_words(line)
        counts.update(words)
        if kind in DICTIONARY_KINDS:
            known.update(words)
    known |= {word for line in extra for word in lexicon_words(line)}
    words = known | {w for w, n in counts.items() if n >= min_count}
    return pack_keys(word_key(w) for w in words)


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
    parser.add_argument("--min-count", type=int, default=MIN_COUNT, help="uses for a corpus word to enter its lexicon")
    parser.add_argument("--lexicon-weight", type=float, default=LEXICON_WEIGHT,
                        help="what a known word adds to its language's score (0: no lexicons)")
    parser.add_argument("--no-tesseract-words", action="store_true",
                        help="leave the Tesseract models' word lists out of the lexicons")
    args = parser.parse_args()
    rng = random.Random(7)
    texts, lexicons = {}, {}
    for lang in LANGUAGES:
        rows = split_rows(args.corpus, lang)
        lines = sorted({line for line, _ in rows if line.strip()})
        texts[lang] = rng.sample(lines, min(args.lines, len(lines)))
        if args.lexicon_weight:
            extra = [] if args.no_tesseract_words else tesseract_words(lang)
            lexicons[f"lexicon_{lang}_starts"], lexicons[f"lexicon_{lang}"] = lexicon(rows, args.min_count, extra)
        print(f"{lang}: {len(texts[lang])} of {len(lines)} lines, lexicon {len(lexicons.get(f'lexicon_{lang}', []))} words",
              flush=True)
    table = train(texts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    weight = {"lexicon_weight": np.float32(args.lexicon_weight)} if args.lexicon_weight else {}
    np.savez_compressed(args.out, languages=np.array(LANGUAGES), logprob=table, **lexicons, **weight)
    meta = {lang: len(lines) for lang, lines in texts.items()}
    print(json.dumps({"out": str(args.out), "bytes": args.out.stat().st_size, "lines": meta,
                      "lexicon_words": {name: len(keys) for name, keys in lexicons.items() if not name.endswith("_starts")}}))


if __name__ == "__main__":
    main()
