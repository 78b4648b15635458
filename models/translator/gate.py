"""Set a translator's gate: the mean token log-probability under which its translation is not drawn.

A pair trained on little data (French, Spanish, Italian: software catalogs and a small FreeDict) turns
many sign texts into confident-looking nonsense. Its own score says how sure it is, and on the corpus's
dev set (never an evaluation set) the score sorts good translations from bad ones: the dev pairs are
translated by the model alone, put in ten equal bins by score, and the gate is the lower edge of the
first bin, from the lowest, whose mean sentence chrF reaches ``KEEP_CHRF``. Bins under it are left
untranslated on the device (``edge/translate.py``, source ``unsure``). Written to ``gate.json`` beside
the model, with the figures it was set from.

    python -m models.translator.gate --model models/fr-en --data work/corpus/out-fr --lang fr
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

KEEP_CHRF = 40.0  # a sentence chrF under this is a wrong translation more often than not
BINS = 10
MAX_PAIRS = 3000
SIGN_WORDS = 4  # the gate is set on dev pairs of sign length: a sign line has 1–4 words, and the model is surer of
# a software sentence than of a short text (Italian: set on every length, −1.122, it hid 10 % of the dev pairs;
# set on the 1,707 pairs of 1–4 words, −0.938, 20 % of those)


def scored(model: Path, data: Path, lang: str, max_words: int | None = None) -> list[tuple[float, float]]:
    """(mean token log-probability, sentence chrF) of the model's translation of each dev pair (of at most
    ``max_words`` source words), decoded as the device decodes (``LocalTranslator.model_translate``:
    chunks, beam, penalties)."""
    from sacrebleu.metrics import CHRF

    from edge.translate import LocalTranslator, TranslatorOptions

    spm = model / "spm.model"
    translator = LocalTranslator(model, spm, spm, TranslatorOptions(source=lang, target="en", threads=2))
    pairs = zip((data / f"dev.{lang}").read_text(encoding="utf-8").splitlines(),
                (data / "dev.en").read_text(encoding="utf-8").splitlines())
    kept = [(s, r) for s, r in pairs if max_words is None or len(s.split()) <= max_words][:MAX_PAIRS]
    sources, references = [s for s, _ in kept], [r for _, r in kept]
    chrf = CHRF()
    return [(score, chrf.sentence_score(translation, [ref]).score)
            for (translation, score), ref in zip(translator.model_translate(sources), references)]


def choose(rows: list[tuple[float, float]]) -> tuple[float | None, list[dict]]:
    """The gate (None: every bin is good enough) and the bins it was chosen from, lowest score first."""
    rows = sorted(rows)
    bins = []
    for b in range(BINS):
        part = rows[b * len(rows) // BINS: (b + 1) * len(rows) // BINS]
        bins.append({"from": round(part[0][0], 3), "to": round(part[-1][0], 3), "pairs": len(part),
                     "chrf": round(sum(c for _, c in part) / len(part), 1)})
    for b, row in enumerate(bins):
        if row["chrf"] >= KEEP_CHRF:
            return (None if b == 0 else row["from"]), bins
    return None, bins


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="the exported CTranslate2 folder")
    parser.add_argument("--data", type=Path, required=True, help="the corpus builder's output for the pair")
    parser.add_argument("--lang", required=True)
    parser.add_argument("--max-words", type=int, default=SIGN_WORDS,
                        help=f"only dev pairs of at most this many source words (default {SIGN_WORDS}: sign length; 0: all)")
    args = parser.parse_args()
    rows = scored(args.model, args.data, args.lang, args.max_words or None)
    gate, bins = choose(rows)
    for row in bins:
        print(f"score {row['from']:7.3f} .. {row['to']:7.3f}  {row['pairs']} dev pairs  mean chrF {row['chrf']:5.1f}")
    target = args.model / "gate.json"
    if gate is None:
        target.unlink(missing_ok=True)
        print("no gate: every bin reaches", KEEP_CHRF)
        return
    hidden = [c for s, c in rows if s < gate]
    kept = [c for s, c in rows if s >= gate]
    target.write_text(json.dumps({
        "min_score": gate, "set_on": f"{len(rows)} dev pairs of {args.data}"
                                     + (f" of at most {args.max_words} words" if args.max_words else ""), "keep_chrf": KEEP_CHRF,
        "hidden_share": round(len(hidden) / len(rows), 3),
        "chrf_hidden": round(sum(hidden) / max(1, len(hidden)), 1), "chrf_kept": round(sum(kept) / max(1, len(kept)), 1),
        "bins": bins}, indent=1) + "\n")
    print(f"gate {gate}: {len(hidden)} of {len(rows)} dev translations hidden → {target}")


if __name__ == "__main__":
    main()
