"""Apertium's rule-based tier (``edge/apertium.py``), run for real: Debian's apertium and the pair
packages the README's install provides. None of the texts below is in an evaluation set."""

from __future__ import annotations

import os
import signal

import pytest

from edge.apertium import RuleTranslator, escape, unescape
from edge.errors import RuntimeMissing
from edge.profiles import get_profile
from edge.translate import TranslatorOptions, load_translator
from tests.conftest import replay_sign_photo


@pytest.fixture(scope="module")
def spanish():
    rules = RuleTranslator("es")
    yield rules
    rules.close()


def test_special_characters_survive_the_stream_format():
    text = "Precio [oferta]: 5 € / 3 $ <hoy> \\ ^{x}@"
    assert unescape(escape(text)) == text
    assert "\n" not in escape("Línea uno\nlínea dos") and "\0" not in escape("a\0b")


def test_each_text_is_translated_on_its_own_through_one_long_lived_pipeline(spanish):
    # one pipeline answers text after text: nothing of one text leaks into the next
    out = spanish.translate(["Cerrado por inventario", "Agua potable", "Precio: 5 € [oferta]"])
    assert [o.lower() for o in out[:2]] == ["closed by inventory", "potable water"]
    assert out[2] == "Price: 5 € [offer]"
    assert len(spanish.modes[0].pids()) > 5  # the mode's programs, started once


def test_the_last_word_of_a_text_is_kept(spanish):
    # ended by a plain blank instead of the line format's block, the analyser lost it ("Closed the")
    assert spanish.translate_one("Cerrado el lunes") == "Closed the Monday"


def test_an_answer_out_of_step_is_not_taken_for_the_text_asked(spanish):
    mode = spanish.modes[0]
    mode.translate(escape("Hoy"))  # the pipeline runs
    mode._proc.stdin.write(b"Hoy[][\n]\0")  # a text no request sent: its answer comes first, without a number
    mode._proc.stdin.flush()
    with pytest.raises(OSError, match="out of step"):
        mode.translate(escape("Abierto"))
    assert mode.pids() == []  # stopped; the next text starts it again
    assert spanish.translate_one("Agua potable") == "Potable water"


def test_a_word_apertium_does_not_know_leaves_the_text_to_the_next_tier(spanish):
    before = spanish.answers
    assert spanish.translate_one("Salquila por obrxs") is None  # an OCR misreading is never translated by rule
    assert spanish.translate_one("   ") is None
    assert spanish.answers == before


def test_a_text_given_back_unchanged_is_no_translation():
    french = RuleTranslator("fr")
    try:  # "Bienvenue" → Spanish "Bienvenida", which the Spanish analyser copies as a name
        assert french.modes[0].translate(escape("Bienvenue")).strip() == "Bienvenida"
        assert french.translate_one("Bienvenue") is None
    finally:
        french.close()
    assert load_translator(TranslatorOptions(source="fr", target="en")).translate(["Bienvenue"])[0].text.lower() == \
        "welcome"  # the phrase table's answer, next in the chain


def test_a_stopped_pipeline_is_restarted_and_answers_again(spanish):
    assert spanish.translate_one("Zona de carga")
    pid = spanish.modes[0].pids()[0]
    os.killpg(pid, signal.SIGKILL)
    spanish.modes[0]._proc.wait()
    assert spanish.translate_one("Agua potable").lower() == "potable water"
    assert spanish.modes[0].pids()[0] != pid


def test_french_and_italian_go_through_a_chain_of_modes():
    for lang, text, word in [("fr", "Fermé pour travaux", "works"), ("it", "Chiuso per lavori", "works")]:
        rules = RuleTranslator(lang)
        try:
            assert len(rules.modes) == 2
            assert word in rules.translate_one(text).lower()
            summary = rules.summary()
            assert summary["answers"] == 1 and summary["private_mb"] > 1
            if lang == "fr":  # "pas" has no Spanish word of its own: no gap is left where it was
                answer = rules.translate_one("Ne pas se pencher au dehors")
                assert answer and "  " not in answer and answer == answer.strip()
        finally:
            rules.close()
        assert rules.modes[0].pids() == []


def test_a_missing_mode_says_what_to_install(tmp_path):
    with pytest.raises(RuntimeMissing, match="apt-get install apertium"):
        RuleTranslator("es", modes_dir=tmp_path)
    with pytest.raises(RuntimeMissing, match="no Apertium chain for 'de'"):
        RuleTranslator("de")


def test_the_tier_answers_first_and_the_model_takes_what_it_marks():
    translator = load_translator(TranslatorOptions(source="es", target="en"))
    try:
        assert translator.local.rules is not None
        assert translator.local.rules.translate_one("Borrar el caché") is None  # "caché": unknown to Apertium
        free, deleted = translator.translate(["Agua potable", "Borrar el caché"])
        assert free.text.lower() == "potable water"
        assert translator.rules_summary()["es"]["answers"] >= 1
        assert deleted.text.lower() == "delete cache"  # the model's
    finally:
        translator.close()
    assert load_translator(TranslatorOptions(source="de", target="en")).local.rules is None  # no German chain


def test_a_one_word_sign_is_asked_of_the_dictionary_first_and_a_longer_text_of_the_rules():
    translator = load_translator(TranslatorOptions(source="fr", target="en"))
    try:
        assert translator.local.rules.translate_one("Départ") == "It desists"  # Apertium's reading: a verb
        departure, toll, closed = translator.translate(["Départ", "Péage", "Fermé pour travaux"])
        assert departure.text.lower() == "departure"  # FreeDict's headword
        assert toll.text.lower() == "toll"  # not in the phrase table: Apertium's
        assert closed.text.lower() == "closed for works"  # two words and more: Apertium first
    finally:
        translator.close()


def test_profiles_with_a_memory_budget_leave_the_tier_off():
    assert get_profile(None).rules and get_profile("desktop").rules
    assert not any(get_profile(name).rules for name in ("phone", "pi4", "pi-zero-2"))
    translator = load_translator(TranslatorOptions(source="es", target="en", rules=False))
    assert translator.local.rules is None and translator.rules_summary() is None


def test_a_spanish_sign_photo_is_translated_by_the_tier_and_a_misreading_is_not(tmp_path):
    regions = replay_sign_photo(tmp_path, "es", [("Agua potable", "white-on-blue"), ("Cerrado por inventario", "black-on-white"),
                                                 ("Grmbl frzt wq", "white-on-green")], seed=13)
    assert regions["Agua potable"]["translation"].lower() == "potable water"
    assert regions["Cerrado por inventario"]["translation"].lower() == "closed by inventory"
    assert regions["Grmbl frzt wq"]["translation"] is None  # marked unknown by Apertium, then under the model's gate
