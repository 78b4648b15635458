"""Translation quality: chrF and BLEU (sacrebleu) on the held-out test split and on common
German sign texts (``sign_texts.tsv``, references written by the project), with and without the
dictionary phrase table in front of the model.

    python -m models.translator.evaluate --model models/de-en
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

SIGN_TEXTS = Path(__file__).resolve().parent / "sign_texts.tsv"


def load_sign_texts(path: Path = SIGN_TEXTS) -> list[tuple[str, list[str]]]:
    """(German sign text, accepted English translations) pairs."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            de, refs = line.split("\t")
            rows.append((de, refs.split("|")))
    return rows


def scores(hypotheses: list[str], references: list[list[str]]) -> dict:
    """Corpus chrF and BLEU, lower-cased; several references per text allowed."""
    import sacrebleu

    width = max(len(r) for r in references)
    streams = [[(refs[i] if i < len(refs) else refs[0]).lower() for refs in references] for i in range(width)]
    hyps = [h.lower() for h in hypotheses]
    return {"chrf": round(sacrebleu.corpus_chrf(hyps, streams).score, 1),
            "bleu": round(sacrebleu.corpus_bleu(hyps, streams).score, 1)}


def main() -> None:
    from edge.translate import LocalTranslator, PhraseTable, SignGrammar, TranslatorOptions
    from models.catalog import cache_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path(__file__).resolve().parents[1] / "de-en")
    parser.add_argument("--test", type=Path, default=Path("work/translator/data"), help="folder with test.de / test.en")
    parser.add_argument("--beam-size", type=int, default=2)
    parser.add_argument("--show", action="store_true", help="print each sign text's translation")
    args = parser.parse_args()
    options = TranslatorOptions(beam_size=args.beam_size)
    spm = args.model / "spm.model"
    plain = LocalTranslator(args.model, spm, spm, options)
    phrases = PhraseTable(args.model / "phrases.tsv.gz", cache_dir())
    tiered = LocalTranslator(args.model, spm, spm, options, phrases)
    grammar = SignGrammar(args.model / "grammar.tsv", phrases) if (args.model / "grammar.tsv").is_file() else None
    shipped = LocalTranslator(args.model, spm, spm, options, phrases, grammar)
    signs = load_sign_texts()
    de = [s for s, _ in signs]
    refs = [r for _, r in signs]
    print(f"{'set':28} {'chrF':>6} {'BLEU':>6}")
    tiers = [("signs, model only", plain), ("signs, phrase table + model", tiered)]
    if grammar:
        tiers.append(("signs, + sign grammar", shipped))
    for label, translator in tiers:
        hyps = translator.translate(de)
        result = scores(hyps, refs)
        print(f"{label:28} {result['chrf']:6.1f} {result['bleu']:6.1f}")
        if args.show:
            for s, h, r in zip(de, hyps, refs):
                print(f"    {s} → {h}   [{r[0]}]")
    test_de = args.test / "test.de"
    if test_de.exists():
        src = test_de.read_text(encoding="utf-8").splitlines()
        ref = [[r] for r in (args.test / "test.en").read_text(encoding="utf-8").splitlines()]
        start = time.perf_counter()
        hyps = plain.translate(src)
        elapsed = time.perf_counter() - start
        result = scores(hyps, ref)
        print(f"{'held-out test, model only':28} {result['chrf']:6.1f} {result['bleu']:6.1f}   "
              f"({len(src)} pairs, {1000 * elapsed / len(src):.1f} ms/phrase batched)")


if __name__ == "__main__":
    main()
