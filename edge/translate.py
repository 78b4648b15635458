"""Translation: a router in front of the on-device model.

Tiers, first answer wins: the translation cache (normalised text → translation, a bounded LRU in
memory, optionally backed by an SQLite file that outlives the run), the service's cache bundle for
the pair when one was fetched (``edge/bundle.py``); then the dictionary tiers (``edge/dictionary.py``:
the sign glossary, the phrase table of exact matches of short sign texts when the model ships one, the
sign grammar) and, for French, Spanish and Italian where it is installed and the profile allows it,
Apertium's rule-based translation (``edge/apertium.py``): a one-word sign is asked of the dictionary
first, a longer text of the rules first; then the CTranslate2 model, all new texts of a call in one
batch. A model shipped with a gate (``gate.json``: ``min_score``, set on its corpus's dev set by
``models/translator/gate.py``) leaves a text untranslated (``unsure``, not drawn) when its translation's
mean token log-probability is under it, or when the model gave the text back unchanged: a weakly
trained pair shows nothing rather than nonsense or a copy of the sign. The cloud tier
(``edge/cloud.py``) answers later, beside this chain, and may replace its answer.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

from edge.apertium import RuleTranslator
from edge.apertium import installed as apertium_installed
from edge.bundle import BundleCache, lookup, open_bundle
from edge.dictionary import CLOSING_PUNCT as _CLOSING_PUNCT
from edge.dictionary import WORD, PhraseTable, SignGrammar
from edge.errors import OutputError, RuntimeMissing, UnsupportedLanguagePair
from edge.langid import UNSURE
from edge.textnorm import normalise

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# raised whenever the chain answers a text differently with the same model files (a new tier, a changed routing
# rule): the disk cache keys on it, so answers kept under an older chain ("Porte 14" → "It spends 14") are not served
CHAIN_VERSION = 3
# a label and its number or code ("Gleis 3", "Porte 14", "Ausgang B2"): up to three words without a digit, then
# tokens that each hold one
_LABEL_CODES = re.compile(r"^(?P<label>[^\d\s]+(?:\s+[^\d\s]+){0,2})\s+(?P<codes>\S*\d\S*(?:\s+\S*\d\S*)*)$")


@dataclass
class TranslatorOptions:
    source: str = "de"  # ISO 639-1 source language
    target: str = "en"  # ISO 639-1 target language
    beam_size: int = 2  # CTranslate2 beam width (1 = greedy)
    threads: int = 1  # CTranslate2 intra-op threads: on short sign texts 1 is fastest (1.5 ms/phrase
    # batched against 7.6 ms with 2 OpenMP threads, measured on 2 cores)
    max_batch: int = 16  # texts per CTranslate2 call
    max_input_tokens: int = 48  # longer texts are split into chunks of at most this many tokens
    max_chunks: int = 8  # a giant text is translated up to this many chunks, then cut with "…"
    max_output_tokens: int = 96  # decoding stops here
    cache_entries: int = 4096  # LRU bound of the translation cache
    phrase_table: bool = True  # consult the dictionary phrase table before the model
    disk_cache: Path | None = None  # SQLite file keeping translations across runs (None: memory only)
    model: str | None = None  # catalog name of the translator (None: the installed one for the pair)
    bundle: bool = True  # consult the pair's cache bundle from the service, when one was fetched
    gate: bool = True  # leave a model translation under the model's gate (gate.json) untranslated
    auto_pairs: int | None = None  # source "auto": pairs loaded at once at most (``AutoTranslator.max_pairs``)
    rules: bool = True  # Apertium's rule-based tier for the pair, where installed (``edge/apertium.py``; 90–370 MB
    # of its own processes, so the memory-budgeted profiles turn it off)


@dataclass
class Translation:
    text: str | None  # None: not translated (unsure; ``--source auto``: a line in the target language or without a pair)
    source: str  # "local", "cache" or "cloud"; "unsure" (under the model's gate); with ``--source auto`` also
    # "same-language" or "no-model"


def match_surface(source: str, translation: str) -> str:
    """Mirror the sign's surface form: no closing punctuation the sign lacks, capitals for capitals."""
    if source and source[-1] not in _CLOSING_PUNCT:
        translation = translation.rstrip(_CLOSING_PUNCT + " ")
    letters = [c for c in source if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return translation.upper()
    return translation


class LocalTranslator:
    """A CTranslate2 model with its SentencePiece model(s), loaded once."""

    def __init__(self, model_dir: Path, source_spm: Path, target_spm: Path, options: TranslatorOptions,
                 phrases: PhraseTable | None = None, grammar: SignGrammar | None = None, min_score: float | None = None,
                 rules: RuleTranslator | None = None):
        try:
            import ctranslate2
            import sentencepiece
        except ImportError as exc:
            raise RuntimeMissing("translation needs ctranslate2 and sentencepiece: "
                                 "pip install ctranslate2 sentencepiece") from exc
        self.options = options
        self.phrases = phrases
        self.grammar = grammar
        self.min_score = min_score  # mean token log-probability under which a model translation is unsure
        self.rules = rules
        self._model = ctranslate2.Translator(str(model_dir), device="cpu", compute_type="int8",
                                             inter_threads=1, intra_threads=options.threads)
        self._src = sentencepiece.SentencePieceProcessor(model_file=str(source_spm))
        self._tgt = self._src if target_spm == source_spm else sentencepiece.SentencePieceProcessor(model_file=str(target_spm))

    def _chunks(self, text: str) -> tuple[list[list[str]], bool]:
        """Token pieces of ``text`` in chunks the model handles well (sentences, then at most
        ``max_input_tokens`` pieces each), at most ``max_chunks``; and whether text was cut off."""
        chunks: list[list[str]] = []
        limit = self.options.max_input_tokens
        for sentence in _SENTENCE_END.split(text.strip()):
            pieces = self._src.encode(sentence, out_type=str)
            chunks += [pieces[i : i + limit] for i in range(0, len(pieces), limit)]
        return (chunks[: self.options.max_chunks] or [[]]), len(chunks) > self.options.max_chunks

    def translate(self, texts: list[str]) -> list[str | None]:
        """One raw translation per text (surface form not yet matched); the rule-based tier's unmarked
        answers and phrase-table hits skip the model. With a gate, None for a text the model translated
        with a mean token log-probability under it (in one of its chunks) or in which it knows no word; and,
        gate or not (unless ``TranslatorOptions.gate`` is off), None for a text the model gave back unchanged:
        a copy is no translation, and over a fragment ("BER" of a hidden "ÜBERGANG") it drew a plate."""
        results = [self._before_model(text) for text in texts]
        asked = [i for i, r in enumerate(results) if r is None]
        unsure: set[int] = set()
        for i, (translation, score) in zip(asked, self.model_translate([texts[i] for i in asked])):
            results[i] = translation
            # a model copies what it cannot translate ("Femmes" → "Femmes"; the German one since 2026-12-04 too:
            # "Ferme le lundi", a fragment "BER"), and a model trained longer reshuffles a line of no known word
            # with confidence ("Grmbl frzt wq" → "wrzt frzt Grmb")
            copied = self.options.gate and normalise(translation) == normalise(texts[i])
            if copied or self.min_score is not None and (score < self.min_score or not self._knows_a_word(texts[i])):
                unsure.add(i)
        return [None if i in unsure else r or "" for i, r in enumerate(results)]

    def _dictionary(self, text: str) -> str | None:
        if self.grammar:
            return self.grammar.lookup(text) or self.grammar.get(text)
        return self.phrases.get(text) if self.phrases else None

    def _knows_a_word(self, text: str) -> bool:
        """Whether a word of three letters or more of ``text`` is in the pair's phrase table or word list
        (True without them, or for a text with no such word: nothing to judge by)."""
        words = [w for w in WORD.findall(text) if len(w) >= 3]
        return not self.phrases or not words or any(self.phrases.knows(w) for w in words)

    def _glossary(self, text: str) -> str | None:
        return self.grammar.sign_sense(text) if self.grammar else None

    def _rules(self, text: str) -> str | None:
        return self.rules.translate_one(text) if self.rules else None

    def _before_model(self, text: str) -> str | None:
        """The dictionary tiers' or the rule-based tier's answer: a one-word sign is a headword, asked of
        the dictionary first (Apertium's first sense of "Sortie" is "Start"); a longer text is syntax,
        asked of the rules first (docs/languages.md), unless the sign glossary has it whole ("Salida de
        emergencia": emergency exit, where Apertium says "Start of emergency"). A text without a letter is its
        own translation; a label with a number or code is its label's answer with the code kept ("Quai 7" →
        "quay 7"), or, when the tiers do not know the label, the model's whole."""
        if not any(c.isalpha() for c in text):  # "3", "12:30", "→": nothing to translate, and a model asked
            return text  # anyway makes words of it (a platform's "3" → "third", an emoji → "registration")
        labelled = _LABEL_CODES.match(text)
        if labelled:  # the label is asked as a sign of its own, the code kept: "Porte 14" was "It spends 14"
            label = self._before_model(labelled["label"])  # (Apertium: "porte" is a verb), "Ausgang B2" "Output B2"
            return f"{label.rstrip(_CLOSING_PUNCT + ' ')} {labelled['codes']}" if label else None
        one_word = len(text.split()) == 1
        tiers = (self._dictionary, self._rules) if one_word else (self._glossary, self._rules, self._dictionary)
        return next((answer for tier in tiers if (answer := tier(text))), None)

    def model_translate(self, texts: list[str]) -> list[tuple[str, float]]:
        """The model's translation of each text, with the lowest mean token log-probability of its chunks
        (0.0 for a text with nothing to translate): long texts are translated chunk by chunk in the same
        batches, and a text cut after ``max_chunks`` ends in "…"."""
        split = [self._chunks(text) for text in texts]
        jobs = [(i, chunk) for i, (chunks, _) in enumerate(split) for chunk in chunks]
        parts: list[list[str]] = [[] for _ in texts]
        scores = [0.0] * len(texts)
        for start in range(0, len(jobs), self.options.max_batch):
            batch = jobs[start : start + self.options.max_batch]
            hypotheses = self._model.translate_batch(
                [chunk + ["</s>"] for _, chunk in batch], beam_size=self.options.beam_size,
                max_decoding_length=self.options.max_output_tokens, repetition_penalty=1.1, no_repeat_ngram_size=4,
                return_scores=True,
            )
            for (i, _), out in zip(batch, hypotheses):
                parts[i].append(self._tgt.decode(out.hypotheses[0]))
                scores[i] = min(scores[i], mean_log_prob(out))
        return [(" ".join(p for p in chunks if p) + (" …" if cut else ""), score)
                for chunks, (_, cut), score in zip(parts, split, scores)]


def mean_log_prob(result) -> float:
    """A CTranslate2 hypothesis's mean log-probability per token, end of sentence included: its score at
    the default length penalty of 1 (the sum divided by that count; checked against length_penalty=0)."""
    return result.scores[0]


def read_gate(model_dir: Path) -> float | None:
    """The model's gate (``gate.json``'s ``min_score``, ``models/translator/gate.py``), None without one."""
    gate = model_dir / "gate.json"
    return json.loads(gate.read_text())["min_score"] if gate.is_file() else None


class TranslationCache:
    """Normalised text → translation, least recently used entries evicted past ``max_entries``."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._items: OrderedDict[str, str] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def get(self, text: str) -> str | None:
        key = normalise(text)
        value = self._items.get(key)
        if value is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return value

    def put(self, text: str, translation: str) -> None:
        key = normalise(text)
        self._items[key] = translation
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)


class DiskCache:
    """Translations kept across runs in an SQLite file, keyed by model and normalised text.

    Written once per translated batch (WAL, no fsync per write: losing the last batch in a crash
    only costs a re-translation)."""

    def __init__(self, path: Path, model: str):
        self.model = model
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False)  # one thread at a time uses it
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS translations (model TEXT, key TEXT, translation TEXT, "
                             "PRIMARY KEY (model, key)) WITHOUT ROWID")
        except sqlite3.Error as exc:
            raise OutputError(f"cannot use translation cache {path}: {exc}") from None

    def get_many(self, texts: list[str]) -> dict[str, str]:
        return lookup(self._db, "SELECT key, translation FROM translations WHERE model = ?", (self.model,), texts)

    def put_many(self, items: dict[str, str]) -> None:
        self._db.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?)",
                             [(self.model, normalise(t), v) for t, v in items.items()])
        self._db.commit()


class Translator:
    """The router the pipeline calls: cache first (memory, then disk when configured), then the
    on-device model in one batch."""

    def __init__(self, local: LocalTranslator, options: TranslatorOptions | None = None, model_name: str = "local",
                 bundle: BundleCache | None = None):
        self.options = options or local.options
        self.local = local
        self.model_name = model_name
        self.bundle = bundle
        self.cache = TranslationCache(self.options.cache_entries)
        # the tiers in front of the model, its gate and the chain's version are part of the key: a changed glossary
        # or phrase table must not serve old answers, nor a stricter gate a translation it now leaves undrawn,
        # nor a new routing rule the answer the old one gave
        grammar = local.grammar.digest if local.grammar else "none"
        phrases = local.phrases.digest if local.phrases else "none"
        self.disk = DiskCache(self.options.disk_cache,
                              f"{model_name}+phrases={phrases}+grammar={grammar}+rules={bool(local.rules)}"
                              f"+gate={local.min_score}+chain={CHAIN_VERSION}") \
            if self.options.disk_cache else None

    def rules_summary(self) -> dict | None:
        """The rule-based tier's answers and memory, by source language (None when the pair has none)."""
        return {self.local.rules.source: self.local.rules.summary()} if self.local.rules else None

    def close(self) -> None:
        """Stops the rule-based tier's processes (the model's memory goes with the object)."""
        if self.local.rules:
            self.local.rules.close()

    def translate(self, texts: list[str], langs: list[str | None] | None = None) -> list[Translation]:
        """One translation per text, in order; texts not in the cache go to the model in one batch.
        ``langs`` (the texts' languages, for ``AutoTranslator``) is ignored: this is one pair."""
        cached = [self.cache.get(text) for text in texts]
        missing = list(dict.fromkeys(t for t, c in zip(texts, cached) if c is None))
        for store in (s for s in (self.disk, self.bundle) if s):  # on disk: kept translations, the service's bundle
            if not missing:
                break
            stored = store.get_many(missing)
            for text, translation in stored.items():
                self.cache.put(text, translation)
            cached = [c if c is not None else stored.get(t) for t, c in zip(texts, cached)]
            missing = [t for t in missing if t not in stored]
        fresh = dict(zip(missing, self.local.translate(missing))) if missing else {}
        sure = {text: translation for text, translation in fresh.items() if translation is not None}
        for text, translation in sure.items():  # an unsure text is asked again (the cache keeps answers only)
            self.cache.put(text, translation)
        if self.disk and sure:
            self.disk.put_many(sure)

        def answer(text: str, cached: str | None) -> Translation:
            if cached is not None:
                return Translation(match_surface(text, cached), "cache")
            if fresh[text] is None:
                return Translation(None, UNSURE)
            return Translation(match_surface(text, fresh[text]), "local")

        return [answer(t, c) for t, c in zip(texts, cached)]


def load_translator(options: TranslatorOptions):
    """The router over the installed model for ``options.source → options.target``; for source
    ``auto``, an ``AutoTranslator`` that loads each language's pair the first time it is met."""
    from models.catalog import cache_dir, find, require_installed, translator_for

    if options.source == "auto":
        from edge.autolang import AutoTranslator

        def available(lang: str) -> bool:  # ``translator_for`` answers or raises
            try:
                translator_for(lang, options.target)
            except UnsupportedLanguagePair:
                return False
            return True

        return AutoTranslator(options.target, lambda lang: load_translator(replace(options, source=lang)),
                              max_pairs=options.auto_pairs, available=available)

    if options.model:
        entry = require_installed(find(options.model))
        if entry.kind != "translator" or entry.languages != [options.source, options.target]:
            raise UnsupportedLanguagePair(f"model '{entry.name}' is a {entry.kind} for {'→'.join(entry.languages)}, "
                                          f"not a translator for {options.source}→{options.target}")
    else:
        entry = translator_for(options.source, options.target)
    phrases = grammar = None
    if options.phrase_table and entry.layout.get("phrases") and entry.file("phrases").is_file():
        words = entry.file("words") if entry.layout.get("words") and entry.file("words").is_file() else None
        phrases = PhraseTable(entry.file("phrases"), cache_dir(), words)
        if entry.layout.get("grammar") and entry.file("grammar").is_file():
            grammar = SignGrammar(entry.file("grammar"), phrases)
    min_score = read_gate(entry.folder()) if options.gate else None
    wants_rules = options.rules and options.target == "en" and apertium_installed(options.source)
    rules = RuleTranslator(options.source) if wants_rules else None
    local = LocalTranslator(entry.file("ct2"), entry.file("source_spm"), entry.file("target_spm"), options, phrases,
                            grammar, min_score, rules)
    bundle = open_bundle(f"{options.source}-{options.target}") if options.bundle else None
    name = f"{entry.name}@{entry.version}" if entry.version else entry.name  # answers and caches name the version
    return Translator(local, options, name, bundle)

