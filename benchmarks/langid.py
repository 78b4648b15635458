"""Which language is this sign in? ``--source auto`` measured on lines read by OCR (issue 16, item 3).

Every text of the evaluation sets (German ``notices_de.tsv`` and ``sign_texts.tsv``, ``eval_fr.tsv``,
``eval_es.tsv``, ``eval_it.tsv``; English: the first accepted translation of each German notice, as
the English signs a traveller also passes) is rendered as a sign photo (every font and colour scheme,
blur, noise) and read by ``AutoRecognizer`` (``edge/autolang.py``: read in the likeliest language,
guessed, read again in the guessed one when it differs) in three walks:

- ``alone``: every line on its own (no prior: the first reader is German);
- ``in country``: each language's lines in a walk of their own, shuffled (the prior the walk builds);
- ``mixed``: all lines of all languages shuffled into one walk (the language changes at almost every
  line: the hardest case for the prior);
- ``clean``: the guesser on the typed text, no OCR (its ceiling).

Cost, measured in the same run: OCR time per line of each walk against the one-language reader of the
line's own language on the same photos (what ``--source de`` pays), and reads per line. The guesser was
trained on the registry corpus, which holds none of these texts of two or more words; one-word sign
texts are in its dictionaries and reported apart. Nothing was tuned on these figures.

``--set dev`` measures the same on the corpora's dev splits instead (lines of one to four words:
catalog strings, game dialogue and dictionary headwords, never trained on): what the guesser's settings
are chosen on, so that the evaluation sets stay unseen.

    python -m benchmarks.langid [--set eval|dev] [--limit N] [--out work/bench/langid.json]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from benchmarks.signs import FONTS, SCHEMES, degrade, render_sign
from edge.autolang import AutoRecognizer
from edge.langid import LanguageMemory, normalised
from edge.ocr import AUTO_LANGUAGES, OcrOptions, Recognizer
from models.train_langid import DICTIONARY_KINDS, split_rows
from models.translator.corpus import EVALUATION_SETS
from models.translator.evaluate import load_notices, load_sign_texts

WALKS = ("alone", "country", "mixed")


def lines() -> list[tuple[str, str, str]]:
    """(language, kind, text) of every evaluation text, English included."""
    rows = [("de", kind, text) for kind, text, _ in load_notices()]
    rows += [("de", "sign", text) for text, _ in load_sign_texts()]
    rows += [("en", kind, refs[0]) for kind, _, refs in load_notices()]
    for lang in ("fr", "es", "it"):
        rows += [(lang, kind, text) for kind, text, _ in load_notices(EVALUATION_SETS[lang])]
    return rows


def dev_lines(corpus: Path = Path("work/corpus"), per_language: int = 150, max_words: int = 4) -> list[tuple[str, str, str]]:
    """(language, kind, text) of ``per_language`` seeded lines of each language's dev splits with one to
    ``max_words`` words of letters, a third of them dictionary headwords where the split has that many."""
    rows, rng = [], random.Random(3)
    for lang in AUTO_LANGUAGES:
        short = sorted({(kind, text) for text, kind in split_rows(corpus, lang, "dev")
                        if 0 < len(text.split()) <= max_words and len(normalised(text)) > 1 and len(text) <= 40})
        dictionary = [row for row in short if row[0] in DICTIONARY_KINDS]
        picked = rng.sample(dictionary, min(len(dictionary), per_language // 3))
        rest = [row for row in short if row[0] not in DICTIONARY_KINDS]
        picked += rng.sample(rest, min(len(rest), per_language - len(picked)))
        rows += [(lang, kind, text) for kind, text in picked]
    return rows


def photo(text: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    fonts, schemes = sorted(FONTS), sorted(SCHEMES)
    sign, corners = render_sign(text, fonts[index % len(fonts)], schemes[index // len(fonts) % len(schemes)], 30)
    rng = np.random.default_rng(index)
    return degrade(sign, rng, blur_px=0.7, noise_sigma=4), corners


def walk(auto: AutoRecognizer, photos: list, order: list[int], fresh_each_line: bool) -> tuple[dict, float, int]:
    """The language given to each photo (index → language or None), seconds spent and readers used."""
    out, spent, reads = {}, 0.0, 0
    auto.memory = LanguageMemory(auto.languages)
    for index in order:
        if fresh_each_line:
            auto.memory = LanguageMemory(auto.languages)
        before = auto.rereads
        t0 = time.perf_counter()
        read = auto.read(*photos[index])
        spent += time.perf_counter() - t0
        reads += 1 + auto.rereads - before
        out[index] = (read.lang, read.text) if read else (None, None)
    return out, spent, reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("eval", "dev"), default="eval",
                        help="the evaluation sets' texts (default), or the corpora's dev splits (to choose settings on)")
    parser.add_argument("--corpus", type=Path, default=Path("work/corpus"), help="the corpora (for --set dev)")
    parser.add_argument("--limit", type=int, help="only every language's first N texts")
    parser.add_argument("--out", type=Path, default=Path("work/bench/langid.json"))
    args = parser.parse_args()
    rows = lines() if args.set == "eval" else dev_lines(args.corpus)
    if args.limit:
        seen = Counter()
        rows = [r for r in rows if (seen.update([r[0]]) or seen[r[0]] <= args.limit)]
    photos = [photo(text, i) for i, (_, _, text) in enumerate(rows)]
    auto = AutoRecognizer(OcrOptions(engine="tesseract"))
    own = {lang: Recognizer(OcrOptions(language=lang, engine="tesseract")) for lang in AUTO_LANGUAGES}
    t0 = time.perf_counter()
    own_read = [own[lang].read(*photos[i]) for i, (lang, _, _) in enumerate(rows)]
    own_s = time.perf_counter() - t0
    everything = list(range(len(rows)))
    shuffled = everything[:]
    random.Random(16).shuffle(shuffled)
    results, cost = {}, {"own_ms_per_line": round(1000 * own_s / len(rows), 1)}

    def costs(spent: float, reads: int) -> dict:
        return {"ms_per_line": round(1000 * spent / len(rows), 1), "over_own": round(spent / own_s, 2),
                "reads_per_line": round(reads / len(rows), 2)}

    results["alone"], spent, reads = walk(auto, photos, everything, fresh_each_line=True)
    cost["alone"] = costs(spent, reads)
    results["country"], spent, reads = {}, 0.0, 0
    for lang in AUTO_LANGUAGES:
        mine = [i for i in shuffled if rows[i][0] == lang]
        got, s, n = walk(auto, photos, mine, fresh_each_line=False)
        results["country"].update(got)
        spent, reads = spent + s, reads + n
    cost["country"] = costs(spent, reads)
    results["mixed"], spent, reads = walk(auto, photos, shuffled, fresh_each_line=False)
    cost["mixed"] = costs(spent, reads)
    table = defaultdict(Counter)
    lines_out = []
    for i, (lang, kind, text) in enumerate(rows):
        words = "one word" if len(text.split()) == 1 else "2+ words"
        clean = auto.guesser.guess(text).lang
        lines_out.append({"lang": lang, "kind": kind, "text": text, "own_read": own_read[i].text if own_read[i] else None,
                          **{walk_name: results[walk_name][i] for walk_name in WALKS}, "clean": clean})
        for key in (lang, f"{lang} {words}", "all"):
            table[key]["lines"] += 1
            table[key]["clean"] += clean == lang
            for walk_name in WALKS:
                got, _ = results[walk_name][i]
                table[key][f"{walk_name}_read"] += got is not None
                table[key][walk_name] += got == lang
    summary = {key: {"lines": c["lines"], "read": c["alone_read"],
                     **{w: round(100 * c[w] / max(1, c[f"{w}_read"]), 1) for w in WALKS},
                     "clean": round(100 * c["clean"] / c["lines"], 1)} for key, c in sorted(table.items())}
    print(f"{'lines':<16}{'n':>5}{'read':>6}{'alone %':>9}{'in country %':>14}{'mixed %':>9}{'clean %':>9}")
    for key, row in summary.items():
        print(f"{key:<16}{row['lines']:>5}{row['read']:>6}{row['alone']:>9}{row['country']:>14}{row['mixed']:>9}"
              f"{row['clean']:>9}")
    print(json.dumps(cost))
    for line in [x for x in lines_out if x["mixed"][0] not in (None, x["lang"])][:30]:
        print(f"  mixed walk: {line['lang']} {line['text']!r} read {line['mixed'][1]!r} as {line['mixed'][0]}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "cost": cost, "lines": lines_out}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
