"""Which language is this sign in? ``--source auto`` measured on lines read by OCR (issue 16, item 3).

Every text of the evaluation sets (German ``notices_de.tsv`` and ``sign_texts.tsv``, ``eval_fr.tsv``,
``eval_es.tsv``, ``eval_it.tsv``; English: the first accepted translation of each German notice, as
the English signs a traveller also passes) is rendered as a sign photo (every font and colour scheme,
blur, noise), read by Tesseract with all five languages loaded (``deu+fra+spa+ita+eng``, what
``--source auto`` reads with), and its language guessed (``edge/langid.py``):

- ``alone``: from the line's OCR text only;
- ``in the country``: with the prior a walk in that language's country builds (``LanguageMemory`` fed
  the guesses of the lines read before, in the set's order, shuffled);
- ``clean``: from the typed text, no OCR (the ceiling).

Also timed in the same run: one reader with five languages against the one-language reader of the
line's own language, on the same crops (the extra cost ``--source auto`` puts on a keyframe), and the
guess itself. The guesser was trained on the registry corpus, which holds none of these texts of two
or more words; one-word sign texts are in its dictionaries and reported apart.

    python -m benchmarks.langid [--limit N] [--out work/bench/langid.json]
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
from edge.langid import LanguageGuesser, LanguageMemory
from edge.ocr import AUTO_LANGUAGES, OcrOptions, Recognizer
from models.translator.evaluate import HERE, load_notices, load_sign_texts


def lines() -> list[tuple[str, str, str]]:
    """(language, kind, text) of every evaluation text, English included."""
    rows = [("de", kind, text) for kind, text, _ in load_notices()]
    rows += [("de", "sign", text) for text, _ in load_sign_texts()]
    rows += [("en", kind, refs[0]) for kind, _, refs in load_notices()]
    for lang in ("fr", "es", "it"):
        rows += [(lang, kind, text) for kind, text, _ in load_notices(HERE / f"eval_{lang}.tsv")]
    return rows


def photo(text: str, index: int) -> tuple[np.ndarray, np.ndarray]:
    fonts, schemes = sorted(FONTS), sorted(SCHEMES)
    sign, corners = render_sign(text, fonts[index % len(fonts)], schemes[index // len(fonts) % len(schemes)], 30)
    rng = np.random.default_rng(index)
    return degrade(sign, rng, blur_px=0.7, noise_sigma=4), corners


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only every language's first N texts")
    parser.add_argument("--out", type=Path, default=Path("work/bench/langid.json"))
    args = parser.parse_args()
    rows = lines()
    if args.limit:
        seen = Counter()
        rows = [r for r in rows if (seen.update([r[0]]) or seen[r[0]] <= args.limit)]
    guesser = LanguageGuesser(languages=AUTO_LANGUAGES)
    auto = Recognizer(OcrOptions(language="auto", engine="tesseract"))
    own = {lang: Recognizer(OcrOptions(language=lang, engine="tesseract")) for lang in AUTO_LANGUAGES}
    results = []
    spent = {"auto_ms": 0.0, "own_ms": 0.0, "guess_ms": 0.0}
    for index, (lang, kind, text) in enumerate(rows):
        frame, quad = photo(text, index)
        t0 = time.perf_counter()
        read = auto.read(frame, quad)
        t1 = time.perf_counter()
        own[lang].read(frame, quad)
        t2 = time.perf_counter()
        guess = guesser.guess(read.text) if read else None
        t3 = time.perf_counter()
        spent["auto_ms"] += (t1 - t0) * 1000
        spent["own_ms"] += (t2 - t1) * 1000
        spent["guess_ms"] += (t3 - t2) * 1000
        results.append({"lang": lang, "kind": kind, "text": text, "read": read.text if read else None,
                        "alone": guess.lang if guess else None, "clean": guesser.guess(text).lang})
    # a walk per country: the set's lines in a shuffled order, each guessed with the prior built so far
    for lang in AUTO_LANGUAGES:
        walk = [r for r in results if r["lang"] == lang and r["read"]]
        random.Random(lang).shuffle(walk)
        memory = LanguageMemory(AUTO_LANGUAGES)
        for r in walk:
            guess = guesser.guess(r["read"], memory.prior())
            r["country"] = guess.lang
            memory.learn(guess)
    table = defaultdict(Counter)
    for r in results:
        words = "one word" if len(r["text"].split()) == 1 else "2+ words"
        for key in (r["lang"], f"{r['lang']} {words}", "all"):
            table[key]["lines"] += 1
            table[key]["read"] += r["read"] is not None
            for mode in ("alone", "country", "clean"):
                table[key][mode] += r.get(mode) == r["lang"]
    n = len(results)
    summary = {key: {"lines": c["lines"], "read": c["read"],
                     **{mode: round(100 * c[mode] / max(1, c["read"] if mode != "clean" else c["lines"]), 1)
                        for mode in ("alone", "country", "clean")}} for key, c in sorted(table.items())}
    cost = {"auto_ms_per_line": round(spent["auto_ms"] / n, 2), "own_ms_per_line": round(spent["own_ms"] / n, 2),
            "auto_over_own": round(spent["auto_ms"] / spent["own_ms"], 2), "guess_ms_per_line": round(spent["guess_ms"] / n, 3)}
    print(f"{'lines':<18}{'n':>5}{'read':>6}{'alone %':>9}{'in country %':>14}{'clean %':>9}")
    for key, row in summary.items():
        print(f"{key:<18}{row['lines']:>5}{row['read']:>6}{row['alone']:>9}{row['country']:>14}{row['clean']:>9}")
    print(json.dumps(cost))
    misses = [r for r in results if r["read"] and r["alone"] != r["lang"]]
    for r in misses[:25]:
        print(f"  {r['lang']} {r['text']!r} read {r['read']!r} -> {r['alone']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "cost": cost, "lines": results}, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
