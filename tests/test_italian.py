"""Italian on the device: the shipped it→en model (``models/it-en``), its FreeDict phrase table and its
gate, end to end from a rendered sign read by the Italian Tesseract model the README's install
provides; with Apertium's tier (Italian → Catalan → English) on the default profile. None of the texts
below is in an evaluation set."""

from __future__ import annotations

from edge.langid import UNSURE
from edge.translate import TranslatorOptions, load_translator
from tests.conftest import replay_sign_photo

NONSENSE = "Grmbl frzt wq"  # no Italian: under the model's gate, and unknown to Apertium


def test_italian_texts_are_translated_by_the_phrase_table_and_the_model():
    # the chain without Apertium's tier (what the memory-budgeted profiles run)
    translator = load_translator(TranslatorOptions(source="it", target="en", rules=False))
    assert translator.local.phrases.get("Lunedì") == "Monday"  # FreeDict, through the phrase table
    assert translator.local.phrases.get("Salva le modifiche") is None  # ... and this one the model answers
    saved, unsure = translator.translate(["Salva le modifiche", NONSENSE])
    assert saved.source == "local" and saved.text.lower() == "save changes"
    assert unsure.text is None and unsure.source == UNSURE


def test_with_apertium_a_longer_italian_text_goes_through_catalan():
    translator = load_translator(TranslatorOptions(source="it", target="en"))
    try:
        assert translator.rules_summary()["it"]["engine"] == "apertium ita-cat + cat-eng"
        water, monday, unsure = translator.translate(["Acqua potabile", "Lunedì", NONSENSE])
        assert water.text.lower() == "potable water"  # the model alone was unsure of it
        assert monday.text == "Monday"  # one word: the phrase table first
        assert unsure.text is None and unsure.source == UNSURE
    finally:
        translator.close()


def test_an_italian_sign_photo_is_read_and_translated_and_an_unsure_line_is_not_drawn(tmp_path):
    regions = replay_sign_photo(tmp_path, "it", [("Benvenuto", "white-on-blue"), ("Spiaggia", "black-on-white"),
                                                 (NONSENSE, "white-on-green")], seed=14, profile="pi4")
    assert regions["Benvenuto"]["translation"].lower() == "welcome"
    assert regions["Spiaggia"]["translation"].lower() == "beach"
    assert regions[NONSENSE]["translation"] is None and regions[NONSENSE]["translation_source"] == UNSURE
