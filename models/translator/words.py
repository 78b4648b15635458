"""Build the source language's word list, shipped beside the phrase table (``words.txt.gz``).

In low light the device draws a reading only when it knows every word of it (``edge/scheduler.py``):
Tesseract's errors on a dim sign are mostly non-words ("Bate 000", "Kain Zub tt"). The phrase table alone
is a poor judge of that: it holds Ding's headwords, so it lacks function words and inflected forms
("kein", "berühren", "geöffnet"), and a dim "Kein Ausgang" read right twice was never drawn. This list
adds every word of ``MIN_LETTERS`` letters or more that the corpus's training side uses at least
``MIN_COUNT`` times: frequent enough to be a word, not a typo or a split fragment of one. Shorter words
must be in the phrase table. Lower-cased (``phrase_key``), one per line, sorted; deterministic.

    python -m models.translator.words --corpus work/corpus/out --out models/de-en/words.txt.gz
"""

from __future__ import annotations

import argparse
import gzip
from collections import Counter
from pathlib import Path

from edge.dictionary import WORD
from edge.textnorm import phrase_key

MIN_COUNT = 10  # uses in the training side (de: 27,305 words of 3+ letters kept of 434,777 distinct)
MIN_LETTERS = 3


def count_words(lines) -> Counter:
    counts: Counter = Counter()
    for line in lines:
        counts.update(phrase_key(word) for word in WORD.findall(line))
    return counts


def frequent_words(counts: Counter, min_count: int = MIN_COUNT) -> list[str]:
    return sorted(w for w, n in counts.items() if n >= min_count and len(w) >= MIN_LETTERS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("work/corpus/out"), help="the corpus builder's output folder")
    parser.add_argument("--source", default="de")
    parser.add_argument("--out", type=Path, default=Path("models/de-en/words.txt.gz"))
    parser.add_argument("--min-count", type=int, default=MIN_COUNT)
    args = parser.parse_args()
    with open(args.corpus / f"train.{args.source}", encoding="utf-8") as fh:
        counts = count_words(fh)
    words = frequent_words(counts, args.min_count)
    with gzip.GzipFile(args.out, "wb", compresslevel=9, mtime=0) as fh:  # mtime 0: the same bytes every build
        fh.write("".join(f"{w}\n" for w in words).encode("utf-8"))
    print(f"{args.out}: {len(words):,} words of {len(counts):,} distinct ({args.out.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
