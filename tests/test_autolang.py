"""``--source auto``: the shipped language guesser, per-line readers and per-language translation, on
rendered signs read by the real Tesseract models the README's install provides (deu, fra, spa, ita,
eng) and the shipped de→en translator. None of the texts below is in an evaluation set."""

from __future__ import annotations

import json
import re
import zlib

import cv2
import numpy as np
import pytest

from benchmarks.signs import SignStyle, background, degrade, paste_sign
from edge.autolang import AutoRecognizer, AutoTranslator
from edge.errors import UnsupportedLanguagePair
from edge.langid import BUCKETS, NO_MODEL, SAME_LANGUAGE, UNSURE, LanguageGuesser, LanguageMemory, Lexicon, pack_keys, word_keys
from edge.ocr import OcrOptions, tesseract_language
from edge.profiles import get_profile
from edge.translate import TranslatorOptions, load_translator
from models import train_langid
from tests.conftest import run_cli

LINES = {"Nur für Personal": "de", "Fermé le lundi": "fr", "Cerrado por obras": "es",
         "Chiuso per lavori": "it", "Staff only": "en"}


def test_the_shipped_guesser_tells_five_languages_apart_and_a_shared_word_follows_the_country():
    guesser = LanguageGuesser()
    assert {text: guesser.guess(text).lang for text in LINES} == LINES
    assert guesser.guess("FERMÉ LE LUNDI").lang == "fr"  # capitals, as signs are set
    # "Banco" is Spanish and Italian alike: the lines read before decide
    for country in ("es", "it"):
        memory = LanguageMemory(("de", "fr", "es", "it", "en"))
        for _ in range(4):
            memory.learn(guesser.guess({"es": "Cerrado por obras", "it": "Chiuso per lavori"}[country]))
        assert guesser.guess("Banco", memory.prior()).lang == country
    assert guesser.guess("1234").confidence < 0.5  # no letters: no opinion


def mixed_street(path) -> None:
    """One sign a language, far enough apart to be five lines."""
    rng = np.random.default_rng(5)
    image = background(900, 700, rng)
    places = [(260, 90), (660, 220), (260, 340), (640, 460), (300, 600)]
    schemes = ["white-on-green", "white-on-blue", "black-on-white", "white-on-red", "black-on-yellow"]
    for text, at, scheme in zip(LINES, places, schemes):
        paste_sign(image, text, SignStyle(text_px=36, scheme=scheme), at, rng)
    cv2.imwrite(str(path), degrade(image, rng, blur_px=0.5, noise_sigma=3))


def test_a_street_of_five_languages_is_read_each_in_its_own_and_translated_by_its_own_pair(tmp_path):
    picture, events = tmp_path / "street.png", tmp_path / "e.jsonl"
    mixed_street(picture)
    result = run_cli("replay", str(picture), "--source", "auto", "--target", "en", "--offline", "--events", str(events))
    assert result.returncode == 0, result.stderr
    frame = json.loads(events.read_text().splitlines()[0])
    regions = {r["text"]: r for r in frame["regions"]}
    assert set(regions) == set(LINES)  # "Fermé" with its accent: re-read with the French model
    assert {text: r["source_lang"] for text, r in regions.items()} == LINES
    assert regions["Nur für Personal"]["translation_source"] == "local" and regions["Nur für Personal"]["translation"]
    # fr→en, es→en and it→en ship: Apertium's tier answers first (the default profile has the memory for it);
    # the models alone were unsure of the French and Spanish lines and drew nothing
    assert regions["Fermé le lundi"]["translation_source"] == "local"
    assert regions["Fermé le lundi"]["translation"].lower() == "closed the monday"
    assert regions["Cerrado por obras"]["translation"].lower() == "closed by works"
    assert regions["Chiuso per lavori"]["translation"].lower() == "shut by works"  # through Catalan
    assert regions["Staff only"]["translation"] is None and regions["Staff only"]["translation_source"] == SAME_LANGUAGE
    summary = json.loads(events.read_text().splitlines()[-1])
    assert "auto: de+fr+es+it+en" in summary["ocr_engine"]


def test_the_same_street_read_as_german_never_gives_the_other_languages_their_english(tmp_path):
    """Why auto matters: one pair's model cannot read the others. Read as German, the French, Spanish and Italian
    lines are drawn wrong ("Cerrado por obras" → "Cerrado porrase") or, copied back unchanged, left undrawn as
    unsure; the auto run (above) gives each its English."""
    picture, events = tmp_path / "street.png", tmp_path / "e.jsonl"
    mixed_street(picture)
    assert run_cli("replay", str(picture), "--source", "de", "--offline", "--events", str(events)).returncode == 0
    regions = {r["text"]: r for r in json.loads(events.read_text().splitlines()[0])["regions"]}
    foreign = [r for text, r in regions.items() if text not in ("Nur für Personal", "Staff only")]  # "Ferme": German OCR
    assert len(foreign) == 3
    for region in foreign:
        assert region["translation_source"] in ("local", UNSURE)
        assert region["translation"] is None or not re.search(r"clos|shut", region["translation"], re.I)
    assert any(r["translation_source"] == UNSURE for r in foreign)  # a copy is not drawn as a translation


def test_the_translator_routes_by_language_and_loads_a_pair_only_when_met():
    translator = load_translator(TranslatorOptions(bundle=False))  # its own cache: the session's shared translator
    # may have answered "Ausgang" already, and would answer it from its cache
    loaded = []

    def load(lang):
        loaded.append(lang)
        if lang != "de":
            raise UnsupportedLanguagePair(f"no translation model for {lang}→en")
        return translator

    auto = AutoTranslator("en", load)
    out = auto.translate(["Notausgang", "Staff only", "Sortie de secours", "Ausgang"], ["de", "en", "fr", "de"])
    assert [t.source for t in out] == ["local", SAME_LANGUAGE, NO_MODEL, "local"]
    assert out[0].text.lower() == "emergency exit" and out[1].text is None and out[2].text is None
    assert loaded == ["de", "fr"]  # English is the target: no pair; each pair loaded once
    assert auto.translate(["Bitte nicht rauchen"])[0].text  # no language given: guessed from the text


def test_a_profile_with_one_pair_unloads_the_least_recently_used_one():
    """``pi4``'s ``auto_pairs=1``: a walk past three languages holds one model at a time, reloading a pair
    when its language comes back, with the same answers."""
    auto = load_translator(TranslatorOptions(source="auto", auto_pairs=get_profile("pi4").auto_pairs))
    texts, langs = ["Notausgang", "Bienvenue", "Bienvenidos", "Notausgang", "Bienvenue"], ["de", "fr", "es", "de", "fr"]
    answers = [auto.translate([text], [lang])[0].text.lower() for text, lang in zip(texts, langs)]
    assert answers == ["emergency exit", "welcome", "welcome", "emergency exit", "welcome"]
    assert list(auto.pairs) == ["fr"] and auto.loads == 5
    auto.available = lambda lang: lang != "it"  # as on a device without it→en ...
    assert auto.translate(["Chiuso per lavori"], ["it"])[0].source == NO_MODEL  # ... nothing is unloaded for it
    assert list(auto.pairs) == ["fr"] and auto.loads == 5
    everything = load_translator(TranslatorOptions(source="auto"))  # no limit: each pair loaded once, kept
    everything.translate(texts, langs)
    assert list(everything.pairs) == ["de", "fr", "es"] and everything.loads == 3


def test_a_small_profile_holds_two_readers_and_reloads_one_when_its_language_comes_back():
    """``pi4``'s ``auto_readers=2``: each Tesseract language holds 8–14 MB; a walk past three languages
    keeps the two used last, and reads what a recognizer holding every reader reads."""
    small = AutoRecognizer(OcrOptions(neural=False), max_readers=get_profile("pi4").auto_readers)
    every = AutoRecognizer(OcrOptions(neural=False))
    rng = np.random.default_rng(5)
    for text in ["Nur für Personal", "Fermé pour travaux", "Cerrado por obras", "Nur für Personal"]:
        image = np.full((120, 700, 3), 255, np.uint8)
        paste_sign(image, text, SignStyle(text_px=40, scheme="black-on-white"), (350, 60), rng)
        quad = np.float32([[0, 0], [700, 0], [700, 120], [0, 120]])
        line, reference = small.read(image, quad), every.read(image, quad)
        assert (line.text, line.lang) == (reference.text, reference.lang)
        assert len(small.readers) <= 2
    assert (line.lang, reference.lang) == ("de", "de")
    assert sorted(every.readers) == ["de", "es", "fr"] and every.reader_loads == 3
    assert list(small.readers) == ["es", "de"] and small.reader_loads == 4  # German loaded again


def test_a_small_profile_reads_english_with_tesseract_in_auto_mode():
    """The neural English reader costs 68 MB resident against 8–14 MB for a Tesseract language; with
    English the target, an English line is only told apart, so ``pi4`` reads it with Tesseract."""
    small = AutoRecognizer(OcrOptions(neural=get_profile("pi4").auto_neural))
    assert small.reader("en").neural is None and small.reader("en").engine is not None
    image = np.full((90, 420, 3), 255, np.uint8)
    paste_sign(image, "Staff only", SignStyle(text_px=36, scheme="black-on-white"), (210, 45), np.random.default_rng(3))
    quad = np.float32([[0, 0], [420, 0], [420, 90], [0, 90]])
    assert small.reader("en").read(image, quad).text == "Staff only"


def test_a_missing_tesseract_language_is_named_before_any_frame(tmp_path, monkeypatch):
    own = tmp_path / "tessdata"  # German and English only, whatever the machine has
    own.mkdir()
    for iso in ("de", "en"):
        code, folder = tesseract_language(iso)
        (own / f"{code}.traineddata").symlink_to(folder / f"{code}.traineddata")
    monkeypatch.setenv("AR_TRANSLATE_TESSDATA", str(own))
    with pytest.raises(UnsupportedLanguagePair, match=r"fra\.traineddata.*tesseract-ocr-fra"):
        AutoRecognizer(OcrOptions())


def test_the_translate_command_with_auto_writes_what_it_cannot_translate_as_it_is():
    result = run_cli("translate", "--source", "auto", "--target", "en", stdin="Notausgang\nCerrado por obras\n\nStaff only\n")
    assert result.returncode == 0, result.stderr
    # the Spanish line: Apertium's tier, the command's default (its pair's models alone were unsure of it)
    assert result.stdout.splitlines() == ["emergency exit", "Closed by works", "", "Staff only"]
    assert "1 line(s) written as they are" in result.stderr


def test_a_word_one_language_knows_outweighs_letters_that_look_like_another(tmp_path):
    """The lexicon beside the n-gram table: with even n-grams, the language whose lexicon holds a word wins;
    a word every lexicon holds (or none) leaves the letters to decide."""
    languages = ("fr", "es")
    table = np.zeros((BUCKETS, 2), dtype=np.float16)
    table[:, 1] = 0.5  # every n-gram looks Spanish
    packed = {}
    for lang, words in {"fr": ["pharmacie", "hopital", "taxi"], "es": ["farmacia", "taxi"]}.items():
        packed[f"lexicon_{lang}_starts"], packed[f"lexicon_{lang}"] = pack_keys(zlib.crc32(w.encode()) for w in words)
    path = tmp_path / "langid.npz"
    np.savez(path, languages=np.array(languages), logprob=table, lexicon_weight=np.float32(40.0), **packed)
    guesser = LanguageGuesser(path)
    assert guesser.guess("Pharmacie").lang == "fr"
    assert guesser.guess("Höpital").lang == "fr"  # an accent a reader added or lost does not matter
    assert guesser.guess("Farmacia").lang == "es"
    assert guesser.guess("Taxi").lang == "es" and guesser.guess("Zzyzx").lang == "es"


def test_the_shipped_lexicons_know_each_languages_sign_words():
    lexicons = LanguageGuesser().lexicons
    assert lexicons is not None and lexicons.weight > 0
    words = {"de": "bahnhof", "en": "station", "fr": "gare", "es": "estación", "it": "stazione"}
    known = lexicons.known(word_keys(" ".join(words.values())))
    assert known[np.arange(5), [LanguageGuesser().languages.index(lang) for lang in words]].all()


def test_a_lexicon_holds_dictionary_words_frequent_corpus_words_and_a_word_lists():
    """``models.train_langid.lexicon``: a dictionary entry's words always, a catalog's words from
    ``min_count`` uses, and every word of the list inside a Tesseract model (Tesseract's own tools unpack it)."""
    rows = [("Bahnhof", "ding"), ("Datei öffnen", "ui"), ("Datei speichern", "ui"), ("Datei", "ui"), ("selten", "ui")]
    lexicon = Lexicon(*train_langid.lexicon(rows, min_count=3, extra=["Zugang"]))
    assert lexicon.holds(word_keys("Bahnhof Datei Zugang selten öffnen")).tolist() == [True, True, True, False, False]
    french = train_langid.tesseract_words("fr")
    assert len(french) > 10_000 and "gare" in french
