"""Label signs with a number or code ("Gleis 3", "Porte 14", "Ausgang B2"): how many come out right.

Transit and buildings are full of them, and each word of the pair's chain used to see the whole text: Apertium
took "Porte" for a verb ("It spends 14"), the German model gave "Output B2". ``benchmarks/data/labels.tsv``
holds 90 such signs in German, French, Spanish and Italian with accepted translations, in two splits (``dev``,
which the label rule was made on, and ``test``, written before it). Printed per split and profile: exactly
right (case aside) and shown (not left unsure).

    python -m benchmarks.labels
"""

from __future__ import annotations

from pathlib import Path

from edge.translate import TranslatorOptions, load_translator

DATA = Path(__file__).resolve().parent / "data" / "labels.tsv"
LANGS = ("de", "fr", "es", "it")


def load(path: Path = DATA) -> list[tuple[str, str, str, set[str]]]:
    """(split, lang, sign, accepted lower-cased translations) per row."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            split, lang, sign, refs = line.split("\t")
            rows.append((split, lang, sign, {r.strip().lower() for r in refs.split("|")}))
    return rows


def main() -> None:
    rows = load()
    for label, rules in (("default (Apertium where installed)", True), ("pi4, phone, pi-zero-2 (no Apertium)", False)):
        answers = {}
        for lang in LANGS:
            mine = [r for r in rows if r[1] == lang]
            translator = load_translator(TranslatorOptions(source=lang, rules=rules))
            try:
                for row, result in zip(mine, translator.translate([r[2] for r in mine])):
                    answers[row[:3]] = result.text
            finally:
                translator.close()
        for split in ("dev", "test"):
            mine = [r for r in rows if r[0] == split]
            right = sum((answers[r[:3]] or "").lower() in r[3] for r in mine)
            shown = sum(answers[r[:3]] is not None for r in mine)
            print(f"{label:38} {split:4}  right {right:2}/{len(mine)}  shown {shown:2}/{len(mine)}")


if __name__ == "__main__":
    main()
