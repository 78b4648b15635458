"""The French, Spanish and Italian sign glossaries (``models/translator/glossary.py``): built for real
through Apertium's English → X modes, and read by the device before the rule-based tier and the model.
None of the foreign texts below is in an evaluation set."""

from __future__ import annotations

from edge.apertium import ApertiumMode
from edge.translate import TranslatorOptions, load_translator
from models.translator.glossary import build, reverse


def test_an_english_sense_is_put_into_the_pairs_language_by_apertium():
    modes = [ApertiumMode("eng-spa")]
    try:
        assert reverse("wet paint", modes).lower() == "pintura mojada"
        assert reverse("Grmblfrz", modes) is None  # a word Apertium does not know: no line
    finally:
        modes[0].close()


def test_a_one_word_line_needs_the_dictionarys_sense_and_a_longer_one_is_kept(tmp_path):
    signs = tmp_path / "signs.tsv"
    signs.write_text("# German sign texts\nAusgang\texit|way out\nTreppe\tstairs|staircase\n"
                     "Frisch gestrichen\twet paint|freshly painted\nNotausgang\texit\n", encoding="utf-8")
    # Apertium's French for "stairs" is "échelle" (a ladder), a sense the dictionary below does not give it
    lines = build("fr", {"sortie": ["exit", "outing"], "échelle": ["ladder", "scale"]}, signs)
    assert ("Sortie", "exit") in lines and not any(sense == "stairs" for _, sense in lines)
    assert ("Peinture mouillée", "wet paint") in lines  # two words: compositional, kept
    assert [foreign for foreign, _ in lines].count("Sortie") == 1  # the second "exit" adds nothing


def test_the_glossary_answers_a_whole_sign_before_the_rules_and_the_model():
    translator = load_translator(TranslatorOptions(source="es", target="en"))
    try:
        assert translator.local.rules.translate_one("Callejón sin salida").lower() != "dead end"
        dead_end, paint = translator.translate(["Callejón sin salida", "Pintura mojada"])
        assert dead_end.text == "dead end" and paint.text == "wet paint"
    finally:
        translator.close()
    # without the rule-based tier (the budgeted profiles), the model no longer has to guess these
    budgeted = load_translator(TranslatorOptions(source="es", target="en", rules=False))
    assert [t.text for t in budgeted.translate(["Callejón sin salida", "Escalera"])] == ["dead end", "stairs"]
    for lang, sign, sense in (("fr", "Peinture mouillée", "wet paint"), ("it", "Uscita", "exit")):
        assert load_translator(TranslatorOptions(source=lang, target="en", rules=False)).translate([sign])[0].text == sense
