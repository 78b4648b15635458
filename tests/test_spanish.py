"""Spanish on the device: the shipped es→en model (``models/es-en``), its FreeDict phrase table and its
gate, end to end from a rendered sign read by the Spanish Tesseract model the README's install
provides. None of the texts below is in an evaluation set. (The gate's service side and the translate
command's unsure lines are the same code for every pair: ``tests/test_french.py``.)"""

from __future__ import annotations

from edge.langid import UNSURE
from edge.translate import TranslatorOptions, load_translator
from tests.conftest import replay_sign_photo

NONSENSE = "Grmbl frzt wq"  # no Spanish: the model's guess ("Grm fruf Grm") scores under its gate


def test_spanish_texts_are_translated_by_the_phrase_table_and_the_model():
    # the chain without Apertium's tier (what the memory-budgeted profiles run; that tier: test_apertium.py)
    translator = load_translator(TranslatorOptions(source="es", target="en", rules=False))
    assert translator.local.phrases.get("Martes") == "Tuesday"  # FreeDict, through the phrase table
    assert translator.local.phrases.get("Guardar cambios") is None  # ... and this one the model answers
    sure, polite, unsure = translator.translate(["Guardar cambios", "Por favor espere", NONSENSE])
    assert sure.source == "local" and sure.text.lower() == "save changes"
    assert polite.source == "local" and polite.text.lower() == "please wait"
    assert unsure.text is None and unsure.source == UNSURE
    ungated = load_translator(TranslatorOptions(source="es", target="en", gate=False, rules=False))
    assert ungated.translate([NONSENSE])[0].source == "local"  # the gate, not the model, said no


def test_a_spanish_sign_photo_is_read_and_translated_and_an_unsure_line_is_not_drawn(tmp_path):
    # pi4: the model's chain, without Apertium's tier ("Por favor espere": "Please it expect")
    regions = replay_sign_photo(tmp_path, "es", [("Bienvenidos", "white-on-blue"), ("Por favor espere", "black-on-white"),
                                                 (NONSENSE, "white-on-green")], seed=12, profile="pi4")
    assert regions["Bienvenidos"]["translation"].lower() == "welcome"
    assert regions["Por favor espere"]["translation"].lower() == "please wait"
    assert regions[NONSENSE]["translation"] is None and regions[NONSENSE]["translation_source"] == UNSURE
