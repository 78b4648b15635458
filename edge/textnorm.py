"""Text normalisation shared by the translation cache, the phrase table and the benchmarks."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """NFC, lower-case, every non-alphanumeric character → space, whitespace collapsed.

    This is the benchmark scoring's definition, and the cache key: two readings of a sign that
    differ only in case or punctuation are the same text.
    """
    return " ".join(_NON_ALNUM.sub(" ", unicodedata.normalize("NFC", text).lower()).split())


def phrase_key(text: str) -> str:
    """Phrase-table key: like ``normalise`` but keeps dictionary placeholders' dots (``jdn.``)."""
    return normalise(text)
