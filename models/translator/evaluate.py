"""Translation quality: chrF, BLEU (sacrebleu) and exact match on the project's evaluation sets.

- ``notices_de.tsv``: 182 German public notices in 9 kinds (opening hours, transport, prohibitions,
  warnings, instructions, shop and door notices, toilets, parking, construction), 1–3 accepted
  translations each, written before the corpus model was trained; reported per kind;
- ``sign_texts.tsv``: 68 common sign texts (the set the sign grammar and glossary were written from,
  so the tiers' figures on it flatter them);
- the held-out test split of the training data (``--test``: ``test.de``/``test.en``);
- for French, Spanish and Italian (``--lang fr|es|it``), ``eval_LANG.tsv`` (sign texts and notices in
  10 kinds, written before any corpus or model of the pair), reported per kind, with its one-word
  signs apart (they are dictionary headwords, so they measure vocabulary), and the pair's test split;
- ``--set dev_LANG.tsv`` instead: a development set in the same format (``dev_fr.tsv``, ``dev_es.tsv``, ``dev_it.tsv``: sign
  texts and notices written on 2026-12-03 for choices between tiers, so that the evaluation sets only report).

Each set is translated by the model alone and by the device's whole chain (glossary, phrase table,
sign grammar, model), and, with ``--cloud``, by a second model alone at the cloud's beam width.

    python -m models.translator.evaluate [--model models/de-en] [--cloud DIR] [--show]
    python -m models.translator.evaluate --lang fr --model models/fr-en
    python -m models.translator.evaluate --lang fr --set models/translator/dev_fr.tsv
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIGN_TEXTS = HERE / "sign_texts.tsv"
NOTICES = HERE / "notices_de.tsv"


def load_sign_texts(path: Path = SIGN_TEXTS) -> list[tuple[str, list[str]]]:
    """(German sign text, accepted English translations) pairs."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            de, refs = line.split("\t")
            rows.append((de, refs.split("|")))
    return rows


def load_notices(path: Path = NOTICES) -> list[tuple[str, str, list[str]]]:
    """(kind, German notice, accepted English translations) rows."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, de, refs = line.split("\t")
            rows.append((kind, de, refs.split("|")))
    return rows


def _plain(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").replace(".", " ").replace("!", " ").split())


def scores(hypotheses: list[str], references: list[list[str]]) -> dict:
    """Corpus chrF and BLEU, lower-cased, several references per text; exact: the share of texts equal
    to one of their references (case and . , ! aside)."""
    import sacrebleu

    width = max(len(r) for r in references)
    streams = [[(refs[i] if i < len(refs) else refs[0]).lower() for refs in references] for i in range(width)]
    hyps = [h.lower() for h in hypotheses]
    exact = sum(_plain(h) in {_plain(r) for r in refs} for h, refs in zip(hypotheses, references))
    return {"chrf": round(sacrebleu.corpus_chrf(hyps, streams).score, 1),
            "bleu": round(sacrebleu.corpus_bleu(hyps, streams).score, 1),
            "exact": round(100.0 * exact / max(1, len(hypotheses)), 1)}


def translators(model: Path, beam_size: int, lang: str = "de"):
    """(label, translator) for the model alone and for the device's whole chain; where Apertium has a
    chain for the language, also for it alone and for the chain with it (``rules``)."""
    from edge.apertium import RuleTranslator, installed
    from edge.dictionary import PhraseTable, SignGrammar
    from edge.translate import LocalTranslator, TranslatorOptions, read_gate
    from models.catalog import cache_dir

    options = TranslatorOptions(beam_size=beam_size)
    raw = TranslatorOptions(beam_size=beam_size, gate=False)  # a row without "gate" in its name draws every answer
    spm = model / "spm.model"
    out = [("model only", LocalTranslator(model, spm, spm, raw))]
    if (model / "phrases.tsv.gz").is_file():
        words = model / "words.txt.gz"  # as the device loads it: the gate asks it whether a text has a known word
        phrases = PhraseTable(model / "phrases.tsv.gz", cache_dir(), words if words.is_file() else None)
        grammar = SignGrammar(model / "grammar.tsv", phrases) if (model / "grammar.tsv").is_file() else None
        out.append(("device chain", LocalTranslator(model, spm, spm, raw, phrases, grammar)))
        gate = read_gate(model)
        if gate is not None:  # unsure model translations left out (``models/translator/gate.py``)
            out.append(("device chain + gate", LocalTranslator(model, spm, spm, options, phrases, grammar, gate)))
        if installed(lang):
            rules = RuleTranslator(lang)
            out.append(("rules only (Apertium)", rules))  # its marked answers (None) score as nothing
            out.append(("device chain + rules + gate", LocalTranslator(model, spm, spm, options, phrases, grammar, gate, rules)))
            out.append(("rules + model + gate (no phrases)", LocalTranslator(model, spm, spm, options, None, None, gate, rules)))
    return out


def report(label: str, translator, path: Path, show: bool) -> None:
    """chrF, BLEU and exact on an evaluation set of notices and sign texts (``notices_de.tsv``,
    ``eval_LANG.tsv``): all of it, per kind, and its one-word signs apart; for a gated chain, what is
    drawn apart too."""
    rows = load_notices(path)
    start = time.perf_counter()
    answers = translator.translate([text for _, text, _ in rows])
    ms = 1000 * (time.perf_counter() - start) / len(rows)
    hyps = [a or "" for a in answers]  # an unsure text (gate) is not drawn: scored as nothing
    total = scores(hyps, [refs for _, _, refs in rows])
    print(f"{label:34} {path.name:15} chrF {total['chrf']:5.1f}  BLEU {total['bleu']:5.1f}  exact {total['exact']:5.1f} %"
          f"   ({len(rows)} texts, {ms:.1f} ms/text batched)")
    drawn = [i for i, a in enumerate(answers) if a is not None]
    if len(drawn) < len(rows):
        result = scores([hyps[i] for i in drawn], [rows[i][2] for i in drawn])
        print(f"{'':34}   drawn: {len(drawn)} of {len(rows)}, chrF {result['chrf']:5.1f}  exact {result['exact']:5.1f} %"
              f" (unsure: {len(rows) - len(drawn)} left untranslated)")
    groups = {kind: [i for i, row in enumerate(rows) if row[0] == kind] for kind in dict.fromkeys(k for k, _, _ in rows)}
    one_word = [i for i, (kind, text, _) in enumerate(rows) if kind == "sign" and len(text.split()) == 1]
    if one_word:
        groups["one-word signs"] = one_word
        groups["all but those"] = [i for i in range(len(rows)) if i not in set(one_word)]
    for kind, indices in groups.items():
        result = scores([hyps[i] for i in indices], [rows[i][2] for i in indices])
        print(f"{'':34}   {kind:15} chrF {result['chrf']:5.1f}  BLEU {result['bleu']:5.1f}  exact {result['exact']:5.1f} %"
              f"  ({len(indices)})")
    if show:
        for (_, text, refs), a in zip(rows, answers):
            print(f"    {text} → {a if a is not None else '(unsure: not drawn)'}   [{refs[0]}]")


def report_sign_texts(label: str, translator) -> None:
    """The German sign-text set (``sign_texts.tsv``: one to three words, no kinds)."""
    signs = load_sign_texts()
    result = scores([a or "" for a in translator.translate([s for s, _ in signs])], [r for _, r in signs])
    print(f"{label:34} sign texts chrF {result['chrf']:5.1f}  BLEU {result['bleu']:5.1f}  exact {result['exact']:5.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="de", help="source language: de (notices and sign texts), fr, es or it")
    parser.add_argument("--model", type=Path, help="default: models/LANG-en")
    parser.add_argument("--cloud", type=Path, help="a second CTranslate2 model directory, scored alone at --cloud-beam")
    parser.add_argument("--cloud-beam", type=int, default=4)
    parser.add_argument("--test", type=Path, help="folder with test.LANG / test.en (default: the corpus builder's)")
    parser.add_argument("--beam-size", type=int, default=2)
    parser.add_argument("--show", action="store_true", help="print each notice's translation")
    parser.add_argument("--set", type=Path, help="score this set (evaluation-set format) instead of the pair's own")
    args = parser.parse_args()
    from models.translator.corpus import EVALUATION_SETS, out_dir

    runs = translators(args.model or HERE.parent / f"{args.lang}-en", args.beam_size, args.lang)
    if args.cloud:
        runs.append((f"cloud model only (beam {args.cloud_beam})", translators(args.cloud, args.cloud_beam)[0][1]))
    for label, translator in runs:
        report(label, translator, args.set or EVALUATION_SETS[args.lang], args.show)
        if args.lang == "de" and not args.set:
            report_sign_texts(label, translator)
    test_src = (args.test or out_dir(Path("work/corpus"), args.lang)) / f"test.{args.lang}"
    if test_src.exists() and not args.set:
        src = test_src.read_text(encoding="utf-8").splitlines()
        ref = [[r] for r in (test_src.parent / "test.en").read_text(encoding="utf-8").splitlines()]
        for label, translator in runs[:1] + runs[2:]:
            result = scores([a or "" for a in translator.translate(src)], ref)
            print(f"{label:34} held-out test chrF {result['chrf']:5.1f}  BLEU {result['bleu']:5.1f}  ({len(src)} pairs)")


if __name__ == "__main__":
    main()
