"""Everyday-English pairs for the French, Spanish and Italian models, made by Apertium in reverse.

The registry corpora are software text, and their small FreeDict dictionaries leave the models without
the words and phrases of the street. Ding (the German pair's dictionary) holds 440 k unique English
texts written by people: headwords ("emergency exit", "platform"), phrases ("to keep clear") and example
sentences ("The train is late."). Each is put into the pair's language by Apertium's English → X modes
(the glossary's chains: ``eng-spa``; ``eng-spa`` → ``es-fr``; ``eng-cat`` → ``cat-ita``), and the pair
(Apertium's X, Ding's English) joins the training data as the kind ``bt``: back-translation, with a
rule-based system in the reverse direction. The English side is human; the source side is literal
and sometimes wrong, which the model learns to read past.

Only answers Apertium marks nothing in are kept (as for the glossary), and a text whose source side
is one of the pair's evaluation texts (two words or more) is dropped, as the corpus builder drops them.
Only Ding's training split is used (its dev and test splits stay held out for the German pair).

    python -m models.translator.backtranslate --lang it
    # → work/corpus/bt-it.tsv.K-of-N (resumable parts) and work/corpus/out-it-bt (the corpus plus these pairs)

Deterministic: the English texts are taken in the order of a hash of each, so ``--limit`` picks the
same texts every time, and with the same ``--shards`` a larger limit goes on from a smaller one's parts.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from edge.apertium import ApertiumMode
from edge.textnorm import normalise
from models.translator.corpus import held_out_texts, out_dir, read_split
from models.translator.glossary import REVERSE_CHAINS, reverse

MAX_WORDS = 12


def ding_english(corpus: Path) -> list[str]:
    """The unique English texts of Ding's training pairs (1–12 words), in hash order."""
    texts = {en.strip() for en, kind in read_split(corpus, "en")
             if kind == "ding" and "\t" not in en and 0 < len(en.split()) <= MAX_WORDS}
    return sorted(texts, key=lambda text: hashlib.sha1(text.encode()).digest())


def translate_shard(texts: list[str], lang: str, part: Path) -> None:
    """Append ``English \\t foreign`` (foreign empty when Apertium gave nothing) for each text not yet in
    ``part``; flushed every 1,000 lines, so a stopped run loses little and goes on where it stopped."""
    done = 0
    if part.exists():
        data = part.read_bytes()
        whole = data[: data.rfind(b"\n") + 1]  # a line cut short by a stop is done again
        if len(whole) < len(data):
            part.write_bytes(whole)
        done = whole.count(b"\n")
    if done >= len(texts):
        return
    modes = [ApertiumMode(mode) for mode in REVERSE_CHAINS[lang]]
    try:
        with part.open("a", encoding="utf-8") as fh:
            for i, english in enumerate(texts[done:], done):
                try:
                    foreign = reverse(english, modes) or ""
                except (OSError, TimeoutError):  # a text a pipeline choked on (restarted at the next): no pair
                    foreign = ""
                fh.write(f"{english}\t{foreign}\n")
                if i % 1000 == 0:
                    fh.flush()
                    print(f"{part.name}: {i} of {len(texts)}", flush=True)
    finally:
        for mode in modes:
            mode.close()


def translate_all(texts: list[str], lang: str, cache: Path, shards: int) -> list[tuple[str, str]]:
    """(English, foreign or "") for every text. Apertium's pipelines spend most of a text waiting on each
    other, so ``shards`` pipelines run at once, each on every ``shards``-th text, into its own part file.
    Threads, not processes: each waits on its pipeline's pipes, and forking a process that holds threads
    (a test run's) can hang the children."""
    parts = [cache.with_name(f"{cache.name}.{k}-of-{shards}") for k in range(shards)]
    with ThreadPoolExecutor(shards) as pool:
        list(pool.map(translate_shard, [texts[k::shards] for k in range(shards)], [lang] * shards, parts))
    rows: list[tuple[str, str]] = [("", "")] * len(texts)
    for k, part in enumerate(parts):
        with part.open(encoding="utf-8") as fh:
            for i, line in zip(range(k, len(texts), shards), fh):
                english, _, foreign = line.rstrip("\n").partition("\t")
                rows[i] = (english, foreign)
    return rows


def kept_pairs(rows: list[tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    """The (foreign, English) pairs Apertium answered, less the pair's evaluation texts."""
    blocked = held_out_texts(lang)
    return [(foreign, english) for english, foreign in rows if foreign and normalise(foreign) not in blocked]


def write_corpus(source: Path, target: Path, pairs: list[tuple[str, str]], lang: str) -> None:
    """``source``'s corpus with ``pairs`` appended to its training split as kind ``bt``."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file() and not path.name.startswith("train."):
            shutil.copyfile(path, target / path.name)
    for suffix, column in ((lang, 0), ("en", 1), ("src", None)):
        text = (source / f"train.{suffix}").read_text(encoding="utf-8")
        extra = "".join(("bt" if column is None else pair[column]) + "\n" for pair in pairs)
        (target / f"train.{suffix}").write_text(text + extra, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", required=True, choices=sorted(REVERSE_CHAINS))
    parser.add_argument("--work", type=Path, default=Path("work/corpus"))
    parser.add_argument("--limit", type=int, default=0, help="English texts to translate, in hash order (0: all)")
    parser.add_argument("--shards", type=int, default=4, help="Apertium pipelines at once")
    args = parser.parse_args()
    german = out_dir(args.work, "de")
    if not (german / "train.src").is_file():
        raise SystemExit(f"error: no German corpus in {german} (python -m models.translator.corpus --lang de)")
    source = out_dir(args.work, args.lang)
    if not (source / f"train.{args.lang}").is_file():
        raise SystemExit(f"error: no corpus in {source} (python -m models.translator.corpus --lang {args.lang})")
    texts = ding_english(german)[: args.limit or None]
    pairs = kept_pairs(translate_all(texts, args.lang, args.work / f"bt-{args.lang}.tsv", args.shards), args.lang)
    target = args.work / f"out-{args.lang}-bt"
    write_corpus(source, target, pairs, args.lang)
    print(f"{len(pairs)} pairs of {len(texts)} English texts → {target}")


if __name__ == "__main__":
    main()
