"""Which language a sign line is written in, found on the device (``--source auto``).

A naive Bayes classifier over character 1–4-grams of the lower-cased line (words padded with spaces,
so "ß", "ñ", "é " and " der " all count), hashed into a fixed table of log-probabilities per language
(``models/langid/``: 2.6 MB, trained by ``python -m models.train_langid`` on the registry corpus's
catalogs and dictionaries). It costs tens of microseconds a line and no Python dictionary of n-grams.

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


@dataclass(frozen=True)
class Guess:
    lang: str
    confidence: float  # the posterior of ``lang`` (with the prior, when one was given)
    posteriors: dict[str, float] = field(default_factory=dict)


@functools.cache
def _load(path: Path, languages: tuple[str, ...] | None) -> tuple[tuple[str, ...], np.ndarray]:
    """The model's languages (``languages``, or all it knows) and their columns of its table, loaded once
    per process: the reader and the translator of ``--source auto`` share one read-only copy (2.6 MB)."""
    with np.load(path) as data:
        known = [str(x) for x in data["languages"]]
        table = data["logprob"]
    wanted = list(languages) if languages is not None else known
    missing = [lang for lang in wanted if lang not in known]
    if missing:
        raise ValueError(f"the language model knows {', '.join(known)}, not {', '.join(missing)}")
    columns = np.ascontiguousarray(table[:, [known.index(lang) for lang in wanted]])  # float16
    columns.flags.writeable = False
    return tuple(wanted), columns


class LanguageGuesser:
    """Guesses a line's language among ``languages`` (default: every language of the model)."""

    def __init__(self, path: Path = MODEL, languages: Iterable[str] | None = None):
        self.languages, self.table = _load(path, None if languages is None else tuple(languages))

    def log_likelihoods(self, text: str) -> np.ndarray:
        """Per language, the mean log-probability of the line's n-grams (0 for a line without letters)."""
        ids = ngram_ids(text)
        if ids.size == 0:
            return np.zeros(len(self.languages), dtype=np.float32)
        # the 4 orders at one place are one piece of evidence
        return self.table[ids].astype(np.float32).sum(axis=0) / len(ORDERS)

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
