"""Which language a sign line is written in, found on the device (``--source auto``).

A naive Bayes classifier over character 1–4-grams of the lower-cased line (words padded with spaces,
so "ß", "ñ", "é " and " der " all count), hashed into a fixed table of log-probabilities per language
(``models/langid/``: 2.6 MB, trained by ``python -m models.train_langid`` on the registry corpus's
catalogs and dictionaries). It costs tens of microseconds a line and no Python dictionary of n-grams.

Beside the table the model holds each language's **lexicon** (``lexicon_LANG``: its dictionary
headwords, corpus words and Tesseract word list, accents stripped, packed two bytes a word): a word one
language's lexicon knows and another's does not adds ``lexicon_weight`` to that language. Letters alone
mislead on a word: the "-macie" of "Pharmacie" is Spanish-looking, the word is French.

Sign words are often the same in several languages ("Museo" is Spanish and Italian, "Hospital" is
English, German and Spanish), and a line says little on its own. So a guess can carry a **prior**: the
languages of the lines read recently (``LanguageMemory``): a traveller stands in one country at a
time, and a sign's other lines share its language.
"""

from __future__ import annotations

import functools
import math
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MODEL = Path(__file__).resolve().parent.parent / "models" / "langid" / "langid.npz"
ORDERS = (1, 2, 3, 4)
BUCKETS = 1 << 18
SAME_LANGUAGE = "same-language"  # translation_source of a line already in the target language
NO_MODEL = "no-model"  # ... of a line in a language with no installed pair
UNSURE = "unsure"  # ... of a line whose model translation scored under its model's gate (edge/translate.py)
# Such lines are not drawn at all (their events still list them): the sign says it better than a copy
# of its reading, and a misread piece of it, or a translation the model is unsure of, would be a wrong overlay
UNTRANSLATED = (SAME_LANGUAGE, NO_MODEL, UNSURE)
WORD_WEIGHT = 2  # a whole word counts as this many n-grams
KEY_BITS, REST_BITS = 28, 16  # a lexicon key's bits, and those stored per word (the rest name its block)
KEY_MASK, REST_MASK, BLOCKS = (1 << KEY_BITS) - 1, (1 << REST_BITS) - 1, 1 << (KEY_BITS - REST_BITS)


def normalised(text: str) -> str:
    """Lower case, NFC, letters and apostrophes kept, everything else one space."""
    text = unicodedata.normalize("NFC", text).lower().replace("’", "'")
    return " ".join("".join(c if c.isalpha() or c == "'" else " " for c in text).split())


def ngram_ids(text: str) -> np.ndarray:
    """Hashed ids of the character n-grams of every word of ``text`` (padded with a space each side),
    and of each whole word longer than the longest n-gram (a word list inside the same table:
    "museo" is a Spanish and Italian word, whatever its letters look like)."""
    ids = []
    for word in normalised(text).split():
        chars = f" {word} "
        for n in ORDERS:
            for i in range(len(chars) - n + 1):
                gram = chars[i: i + n]
                if gram != " ":
                    ids.append(zlib.crc32(gram.encode()) & (BUCKETS - 1))
        if len(chars) > ORDERS[-1]:
            ids.extend([zlib.crc32(b"\x01" + word.encode()) & (BUCKETS - 1)] * WORD_WEIGHT)
    return np.asarray(ids, dtype=np.int64)


def plain(word: str) -> str:
    """A normalised word without its accents: a reader may lose them ("Höpital")."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def lexicon_words(text: str) -> list[str]:
    """The words a lexicon is built of and looked up by: those of two letters or more, normalised and
    accent-stripped (``models/train_langid.py`` builds the lexicons with this same function)."""
    return [plain(word) for word in normalised(text).split() if len(word) > 1]


def word_key(word: str) -> int:
    """A lexicon word's key: the low ``KEY_BITS`` bits of its CRC-32."""
    return zlib.crc32(word.encode()) & KEY_MASK


def word_keys(text: str) -> np.ndarray:
    """The lexicon keys of the line's words (``lexicon_words``)."""
    return np.asarray([word_key(word) for word in lexicon_words(text)], dtype=np.uint32)


def pack_keys(keys: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """A lexicon as stored: per block (the key's top bits), where its words start in ``rests``, and each
    word's low ``REST_BITS`` bits, sorted. Two bytes a word (a 365,000-word lexicon: 0.7 MB), and a word it
    does not hold matches by chance one time in 2^KEY_BITS / words (700 for that one)."""
    keys = np.unique(np.asarray(list(keys), dtype=np.uint32) & KEY_MASK)
    starts = np.searchsorted(keys >> REST_BITS, np.arange(BLOCKS + 1)).astype(np.uint32)
    return starts, (keys & REST_MASK).astype(np.uint16)


@dataclass(frozen=True)
class Lexicon:
    """One language's words, packed by ``pack_keys``."""
    starts: np.ndarray
    rests: np.ndarray

    def holds(self, keys: np.ndarray) -> np.ndarray:
        out = np.zeros(keys.size, dtype=bool)
        for i, key in enumerate(keys.tolist()):
            lo, hi = int(self.starts[key >> REST_BITS]), int(self.starts[(key >> REST_BITS) + 1])
            rest = key & REST_MASK
            at = lo + int(np.searchsorted(self.rests[lo:hi], rest))
            out[i] = at < hi and int(self.rests[at]) == rest
        return out


@dataclass(frozen=True)
class Lexicons:
    """Per language, the words it knows, and what knowing a word is worth."""
    by_language: tuple[Lexicon, ...]
    weight: float

    def known(self, keys: np.ndarray) -> np.ndarray:
        """[words, languages]: whether each language's lexicon holds each word (``word_keys``)."""
        out = np.zeros((keys.size, len(self.by_language)), dtype=bool)
        for column, lexicon in enumerate(self.by_language):
            out[:, column] = lexicon.holds(keys)
        return out


@dataclass(frozen=True)
class Guess:
    lang: str
    confidence: float  # the posterior of ``lang`` (with the prior, when one was given)
    posteriors: dict[str, float] = field(default_factory=dict)


@functools.cache
def _load(path: Path, languages: tuple[str, ...] | None) -> tuple[tuple[str, ...], np.ndarray, Lexicons | None]:
    """The model's languages (``languages``, or all it knows), their columns of its table and their
    lexicons (None in a model without them), loaded once per process: the reader and the translator of
    ``--source auto`` share one read-only copy."""
    with np.load(path) as data:
        known = [str(x) for x in data["languages"]]
        wanted = list(languages) if languages is not None else known
        missing = [lang for lang in wanted if lang not in known]
        if missing:
            raise ValueError(f"the language model knows {', '.join(known)}, not {', '.join(missing)}")
        columns = np.ascontiguousarray(data["logprob"][:, [known.index(lang) for lang in wanted]])  # float16
        lexicons = None
        if "lexicon_weight" in data.files:
            lexicons = Lexicons(tuple(Lexicon(data[f"lexicon_{lang}_starts"], data[f"lexicon_{lang}"]) for lang in wanted),
                                float(data["lexicon_weight"]))
            for lexicon in lexicons.by_language:
                lexicon.starts.flags.writeable = lexicon.rests.flags.writeable = False
    columns.flags.writeable = False
    return tuple(wanted), columns, lexicons


class LanguageGuesser:
    """Guesses a line's language among ``languages`` (default: every language of the model)."""

    def __init__(self, path: Path = MODEL, languages: Iterable[str] | None = None):
        self.languages, self.table, self.lexicons = _load(path, None if languages is None else tuple(languages))

    def log_likelihoods(self, text: str) -> np.ndarray:
        """Per language, the log-probability of the line's n-grams (the 4 orders at one place are one piece
        of evidence), plus the lexicon's weight for each word that language knows (0 for a line without
        letters)."""
        ids = ngram_ids(text)
        if ids.size == 0:
            return np.zeros(len(self.languages), dtype=np.float32)
        scores = self.table[ids].astype(np.float32).sum(axis=0) / len(ORDERS)
        if self.lexicons is not None:
            scores += self.lexicons.weight * self.lexicons.known(word_keys(text)).sum(axis=0)
        return scores

    def guess(self, text: str, prior: dict[str, float] | None = None) -> Guess:
        scores = self.log_likelihoods(text).astype(np.float64)
        if prior:
            scores = scores + np.log([max(prior.get(lang, 0.0), 1e-3) for lang in self.languages])
        scores = np.exp(scores - scores.max())
        posteriors = scores / scores.sum()
        best = int(np.argmax(posteriors))
        return Guess(self.languages[best], float(posteriors[best]),
                     {lang: round(float(p), 4) for lang, p in zip(self.languages, posteriors)})


class LanguageMemory:
    """The languages of recently read lines as a prior: each confident guess adds its weight, older
    ones fade with a half-life of ``half_life`` lines. Starts even."""

    def __init__(self, languages: Iterable[str], half_life: float = 8.0, floor: float = 0.05):
        self.weights = {lang: 1.0 for lang in languages}
        self.decay = math.pow(0.5, 1.0 / half_life)
        self.floor = floor

    def prior(self) -> dict[str, float]:
        total = sum(self.weights.values())
        n = len(self.weights)
        return {lang: self.floor / n + (1 - self.floor) * w / total for lang, w in self.weights.items()}

    def learn(self, guess: Guess, min_confidence: float = 0.8) -> None:
        if guess.confidence < min_confidence:
            return
        for lang in self.weights:
            self.weights[lang] *= self.decay
        self.weights[guess.lang] += 1.0
