"""``--source auto``: each line read and translated in its own language (issue 16, item 3).

- ``AutoRecognizer`` reads a line with the Tesseract model of the language the recent lines were in
  (``LanguageMemory``: a traveller is in one country at a time), guesses the reading's language
  (``edge/langid.py``) and, when the guess is another language, reads the line again with that
  language's model (its letters and word list: "Entrée", not "Entree"). One read per line while the
  language stays the same; two (at most three) when it changes. Readers are made the first time a language is met;
  with ``max_readers`` (a profile's ``auto_readers``) the reader used least recently is unloaded first.
- ``AutoTranslator`` routes each text to the translator of its language, loaded the first time that
  language is met (only the pairs in use take memory); with ``max_pairs`` (a profile's ``auto_pairs``)
  the pair used least recently is unloaded before one more is loaded. A line already in the target
  language, or in a language with no installed pair, gets no translation and is not drawn
  (``UNTRANSLATED``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from edge.errors import UnsupportedLanguagePair
from edge.langid import NO_MODEL, SAME_LANGUAGE, LanguageGuesser, LanguageMemory
from edge.memory import make_room
from edge.ocr import AUTO_LANGUAGES, LineText, OcrOptions, Recognizer, tesseract_language
from edge.translate import Translation, Translator

MAX_READS = 3  # readers tried on one line at most


class AutoRecognizer:
    """Reads each line in the language guessed for it, among ``languages``."""

    def __init__(self, options: OcrOptions | None = None, languages: tuple[str, ...] = AUTO_LANGUAGES,
                 guesser: LanguageGuesser | None = None, max_readers: int | None = None):
        for lang in languages:  # a missing Tesseract language fails here, before any frame
            tesseract_language(lang)
        self.options = options or OcrOptions()
        self.languages = tuple(languages)
        self.guesser = guesser or LanguageGuesser(languages=self.languages)
        self.memory = LanguageMemory(self.languages)
        self.max_readers = max_readers  # readers loaded at once at most (None: every language met stays loaded)
        self.readers: OrderedDict[str, Recognizer] = OrderedDict()  # least recently used first
        self.reader_loads = 0  # readers made, reloads after an unload included
        self.rereads = 0  # lines read a second time in the language guessed from the first reading
        self.engine_name = f"{self.reader(self.languages[0]).engine_name} (auto: {'+'.join(self.languages)})"

    def reader(self, lang: str) -> Recognizer:
        if lang in self.readers:
            self.readers.move_to_end(lang)
            return self.readers[lang]
        make_room(self.readers, self.max_readers)  # a Tesseract reader holds 8-14 MB
        self.readers[lang] = Recognizer(replace(self.options, language=lang))
        self.reader_loads += 1
        return self.readers[lang]

    def read(self, frame: np.ndarray, quad: np.ndarray, restored: np.ndarray | None = None,
             narrow: bool = False) -> LineText | None:
        """Read in the likeliest language; while the reading is guessed to be in a language not yet
        tried, read again in that one (at most ``MAX_READS`` readers a line). The answer is a reading
        guessed to be in the language it was read in (the most confident such), else the first."""
        prior = self.memory.prior()
        first = max(self.languages, key=lambda lang: prior[lang])
        line = self.reader(first).read(frame, quad, restored, narrow)
        if line is None:
            return None
        tried = {first: (line, self.guesser.guess(line.text, prior))}
        wanted = tried[first][1].lang
        while wanted not in tried and len(tried) < MAX_READS:
            self.rereads += 1
            again = self.reader(wanted).read(frame, quad, restored, narrow)
            if again is None:
                break
            tried[wanted] = (again, self.guesser.guess(again.text, prior))
            wanted = tried[wanted][1].lang
        agreed = [(read, guess) for lang, (read, guess) in tried.items() if guess.lang == lang]
        line, guess = max(agreed, key=lambda pair: pair[1].confidence) if agreed else tried[first]
        self.memory.learn(guess)
        return replace(line, lang=guess.lang)


class AutoTranslator:
    """Translates each text with the pair of its language (given, or guessed from the text)."""

    def __init__(self, target: str, load: Callable[[str], Translator], guesser: LanguageGuesser | None = None,
                 languages: tuple[str, ...] = AUTO_LANGUAGES, max_pairs: int | None = None,
                 available: Callable[[str], bool] | None = None):
        self.target = target
        self.load = load  # language → its translator; raises UnsupportedLanguagePair when none is installed
        self.available = available  # language → whether a pair is installed (asked before a pair is unloaded)
        self.guesser = guesser or LanguageGuesser(languages=languages)
        self.max_pairs = max_pairs  # pairs loaded at once at most (None: every pair met stays loaded)
        self.pairs: OrderedDict[str, Translator] = OrderedDict()  # loaded, least recently used first
        self.missing: set[str] = set()  # languages without an installed pair
        self.loads = 0  # pairs loaded, reloads after an unload included
        self.bundle = None  # no cache bundle: the service's bundles are per pair

    @property
    def cache(self):
        """The translation cache of the first pair loaded (the summary reports one)."""
        return next((t.cache for t in self.pairs.values()), None)

    def pair(self, lang: str) -> Translator | None:
        if lang in self.missing:
            return None
        if lang in self.pairs:
            self.pairs.move_to_end(lang)
            return self.pairs[lang]
        if self.available is not None and not self.available(lang):  # nothing to load: the loaded pairs stay
            self.missing.add(lang)
            return None
        make_room(self.pairs, self.max_pairs, Translator.close)  # unloaded first: never one pair too many
        try:
            translator = self.load(lang)
        except UnsupportedLanguagePair:
            self.missing.add(lang)
            return None
        self.loads += 1
        self.pairs[lang] = translator
        return translator

    def rules_summary(self) -> dict | None:
        """The loaded pairs' rule-based tiers, by language (None when none has one)."""
        tiers = {lang: tier for t in self.pairs.values() for lang, tier in (t.rules_summary() or {}).items()}
        return tiers or None

    def close(self) -> None:
        for translator in self.pairs.values():
            translator.close()

    def translate(self, texts: list[str], langs: list[str | None] | None = None) -> list[Translation]:
        langs = [lang or self.guesser.guess(text).lang for text, lang in zip(texts, langs or [None] * len(texts))]
        out: list[Translation | None] = [None] * len(texts)
        for lang in dict.fromkeys(langs):
            where = [i for i, text_lang in enumerate(langs) if text_lang == lang]
            translator = None if lang == self.target else self.pair(lang)
            if translator is None:
                for i in where:
                    out[i] = Translation(None, SAME_LANGUAGE if lang == self.target else NO_MODEL)
                continue
            for i, result in zip(where, translator.translate([texts[i] for i in where])):
                out[i] = result
        return out
