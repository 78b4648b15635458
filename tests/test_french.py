"""French on the device: the shipped fr→en model (``models/fr-en``), its FreeDict phrase table and its
gate, end to end from a rendered sign read by the French Tesseract model the README's install
provides. None of the texts below is in an evaluation set."""

from __future__ import annotations

import json
import time

from benchmarks.faults import TOKEN, service
from cloud_fallback.client import http_call
from edge.langid import UNSURE
from edge.translate import TranslatorOptions, load_translator, match_surface
from tests.conftest import replay_sign_photo, run_cli

NONSENSE = "Grmbl frzt wq"  # no French: the model's best guess scores under its gate or copies it
COPIED = "Xkcd plorf zzt"  # no French either: the model gives it back unchanged, which is no translation


def test_french_texts_are_translated_by_the_phrase_table_and_the_model():
    translator = load_translator(TranslatorOptions(source="fr", target="en"))
    assert translator.local.phrases.get("Allemand") == "German"  # FreeDict, through the phrase table
    sure, unsure, copied = translator.translate(["Fermer la porte", NONSENSE, COPIED])
    assert sure.source == "local" and sure.text.lower() == "close the door"
    assert unsure.text is None and unsure.source == UNSURE
    assert copied.text is None and copied.source == UNSURE
    assert translator.translate([NONSENSE])[0].source == UNSURE  # not cached as an answer: asked again, same verdict


def test_without_the_gate_the_model_says_what_it_guessed():
    translator = load_translator(TranslatorOptions(source="fr", target="en", gate=False))
    assert translator.local.min_score is None
    (guess,) = translator.translate([NONSENSE])
    ((raw, _),) = translator.local.model_translate([NONSENSE])
    assert guess.source == "local" and guess.text == match_surface(NONSENSE, raw) and guess.text


def test_the_translate_command_writes_an_unsure_line_as_it_is_and_says_so():
    result = run_cli("translate", "--source", "fr", "--target", "en", stdin=f"Bienvenue\n{NONSENSE}\n{COPIED}\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["welcome", NONSENSE, COPIED]
    assert "2 line(s) written as they are" in result.stderr and "unsure" in result.stderr


def test_a_french_sign_photo_is_read_and_translated_and_an_unsure_line_is_not_drawn(tmp_path):
    regions = replay_sign_photo(tmp_path, "fr", [("Bienvenue", "white-on-blue"), ("Fermer la porte", "black-on-white"),
                                                 (NONSENSE, "white-on-green")], seed=11)
    assert regions["Bienvenue"]["translation"].lower() == "welcome"
    assert regions["Fermer la porte"]["translation"].lower() == "close the door"
    assert regions[NONSENSE]["translation"] is None and regions[NONSENSE]["translation_source"] == UNSURE


def test_the_service_answers_nothing_for_a_text_its_model_is_unsure_of():
    """The service applies the gate too: a device asking about a line its own model was unsure of gets ""
    (and keeps drawing nothing), not the same model's ungated guess."""
    body = json.dumps({"texts": ["Fermer la porte", NONSENSE], "source": "fr"}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    with service() as (url, _):
        status, payload = http_call(url, "POST", "/v1/translate", body, headers, time.monotonic() + 30, 1 << 20)
    translations = json.loads(payload)["translations"]
    assert status == 200 and translations[0].lower() == "close the door" and translations[1] == ""
