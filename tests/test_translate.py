"""The on-device translator: the real shipped CTranslate2 model, its phrase table, the cache."""

from __future__ import annotations

import pytest

from edge.errors import UnsupportedLanguagePair
from edge.translate import TranslationCache, TranslatorOptions, load_translator, match_surface


@pytest.mark.parametrize("german, english", [
    ("Notausgang", "emergency exit"),
    ("Ausgang", "exit"),
    ("Eingang", "entrance"),
    ("Rauchen verboten", "no smoking"),
    ("Außer Betrieb", "out of order"),
    ("Trinkwasser", "drinking water"),
])
def test_common_sign_texts(translator, german, english):
    (result,) = translator.translate([german])
    assert result.text.lower() == english


@pytest.mark.parametrize("german, english", [
    ("Kein Eingang", "no entrance"),
    ("Zutritt verboten", "no admittance"),
    ("Einfahrt freihalten", "keep entrance clear"),
    ("Hunde verboten", "no dogs"),
    ("Nur für Personal", "staff only"),
    ("Drücken", "push"),  # the sign glossary: a door's instruction, not the dictionary's "hitting"
    ("Ziehen", "pull"),
    ("Bitte warten", "please wait"),  # a glossary word inside a grammar rule
])
def test_sign_grammar_composes_known_parts(translator, german, english):
    (result,) = translator.translate([german])
    assert result.text.lower() == english


def test_sign_grammar_leaves_texts_with_unknown_parts_to_the_model(translator):
    grammar = translator.local.grammar
    assert grammar.get("Kein Eingang") == "no entrance"
    assert grammar.get("Kein Xyzzyplatz") is None  # an unknown part: the rule does not apply
    assert grammar.get("Ausgang") is None  # no construction at all
    (result,) = translator.translate(["Kein Xyzzyplatz"])
    assert result.source == "local" and result.text  # the model answered


def test_sentences_get_english_from_the_model(translator):
    results = translator.translate(["Der Zug fährt heute nicht.", "Bitte schließen Sie die Tür."])
    for result in results:
        assert result.source in ("local", "cache")
        words = result.text.lower().split()
        assert len(words) >= 2
        assert not {"der", "die", "zug", "bitte"} & set(words)


def test_a_text_the_model_gives_back_unchanged_is_left_undrawn_even_without_a_gate(translator):
    """The German pair has no gate.json, but a copy is no translation: over a fragment of a hidden word ("BER"
    of "ÜBERGANG") or a line in another language it drew a plate repeating the sign."""
    from edge.langid import UNSURE

    assert translator.local.min_score is None
    texts = ["Xkcd plorf zzt", "Ferme le lundi"]
    assert [raw for raw, _ in translator.local.model_translate(texts)] == texts  # the model copies them
    assert [(r.text, r.source) for r in translator.translate(texts)] == [(None, UNSURE)] * 2
    ungated = load_translator(TranslatorOptions(gate=False, disk_cache=None, bundle=False))
    assert [r.text for r in ungated.translate(texts)] == texts  # --no-gate still says what the model said


def test_a_batch_equals_one_by_one(translator):
    texts = ["Kein Zutritt für Unbefugte", "Frisch gestrichen", "Bitte warten", "Hunde verboten"]
    fresh = load_translator(TranslatorOptions())
    batched = [r.text for r in fresh.translate(texts)]
    single = [load_translator(TranslatorOptions()).translate([t])[0].text for t in texts]
    assert batched == single


def test_repeated_text_comes_from_the_cache(translator):
    first = translator.translate(["Fundbüro"])[0]
    again = translator.translate(["FUNDBÜRO", "fundbüro!"])
    assert [r.source for r in again] == ["cache", "cache"]
    assert again[0].text == first.text.upper()


def test_giant_text_is_translated_in_bounded_chunks_and_marked_cut(translator):
    (result,) = translator.translate(["Achtung " * 400])
    assert result.text.endswith("…") and 10 < len(result.text) < 3000
    (notice,) = translator.translate(["Der Zug fährt heute nicht. Bitte benutzen Sie den Bus."])
    assert not notice.text.endswith("…") and len(notice.text.split()) >= 4


@pytest.mark.parametrize("source", ["de", "fr", "es", "it"])
def test_a_text_without_a_letter_is_shown_as_it_is(source):
    """Numbers, times and symbols need no translation; asked, the models made words of them: a lone
    platform number "3" became "third" (German), an emoji "registration" (Italian)."""
    texts = ["3", "12:30", "→", "***", "🙂"]
    results = load_translator(TranslatorOptions(source=source, rules=False)).translate(texts)
    assert [r.text for r in results] == texts and {r.source for r in results} == {"local"}


@pytest.mark.parametrize("source, rules, sign, english", [
    ("de", False, "Ausgang B2", "exit B2"),  # the model alone: "Output B2"
    ("de", False, "Gleis 3", "platform 3"),
    ("fr", True, "Porte 14", "door 14"),  # Apertium reads "porte" as a verb: "It spends 14"
    ("fr", False, "Sortie 3", "exit 3"),
    ("es", True, "Salida 3", "exit 3"),  # Apertium: "Start 3"
    ("it", False, "Uscita 3", "exit 3"),
])
def test_a_label_with_a_number_is_translated_as_its_label_and_keeps_the_number(source, rules, sign, english):
    (result,) = load_translator(TranslatorOptions(source=source, rules=rules)).translate([sign])
    assert result.text == english


def test_cache_is_bounded_lru():
    cache = TranslationCache(max_entries=2)
    cache.put("Ausgang", "exit")
    cache.put("Eingang", "entrance")
    assert cache.get("ausgang") == "exit"  # touch: Eingang is now the oldest
    cache.put("Kasse", "checkout")
    assert len(cache) == 2
    assert cache.get("Eingang") is None and cache.get("AUSGANG") == "exit"


def test_surface_form_follows_the_sign():
    assert match_surface("NOTAUSGANG", "emergency exit") == "EMERGENCY EXIT"
    assert match_surface("Rauchen verboten", "No smoking!") == "No smoking"
    assert match_surface("Rauchen verboten!", "No smoking!") == "No smoking!"


def test_unknown_pair_lists_what_is_installed_and_how_to_pull():
    with pytest.raises(UnsupportedLanguagePair, match=r"de→en.*models pull"):
        load_translator(TranslatorOptions(source="fr", target="ja"))
