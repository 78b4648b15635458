"""Word and phrase pairs from the FreeDict dictionaries Debian ships for dictd (``dict-freedict-fra-eng``
and ``dict-freedict-eng-fra``, and the same for Spanish and Italian): the dictionary part of the French,
Spanish and Italian corpora, which have no Ding (3,400–8,800 headwords a direction, GPL-2+).

A dictd database is an index (``headword<TAB>offset<TAB>length``, numbers in dictd's base 64) into a
gzip-compressed text. A FreeDict entry reads::

    sortie /sɔʀti/ <n, masc>
    1. exit, way out
    2. expenses

The headword line carries a pronunciation and grammar in ``/…/`` and ``<…>``; each numbered line is a
sense with synonyms separated by commas. Each synonym of each sense is paired with the headword (for
the English → X direction, the other way round).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

ISO3 = {"fr": "fra", "es": "spa", "it": "ita"}
# The dictionary packages each corpus language reads (German has Ding, which the corpus reads itself).
DICTIONARIES = {"de": ["trans-de-en"],
                **{lang: [f"dict-freedict-{code}-eng", f"dict-freedict-eng-{code}"] for lang, code in ISO3.items()}}
MAX_SYNONYMS = 4  # a sense's first few synonyms: the long tails are loose ("encourage, impel, …, urge")

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_NOTES = re.compile(r"/[^/]*/|<[^>]*>|\([^)]*\)|\[[^\]]*\]")
_SENSE_NUMBER = re.compile(r"^\d+\.\s*")


def _number(text: str) -> int:
    value = 0
    for char in text:
        value = value * 64 + _B64[char]
    return value


def _clean(text: str) -> str:
    return " ".join(_NOTES.sub(" ", text).split()).strip(" ,;")


def entries(index: Path, data: Path) -> Iterator[tuple[str, list[list[str]]]]:
    """(headword, senses as synonym lists) for every entry of one dictd database, in index order;
    the database's own ``00-database-…`` entries skipped."""
    text = gzip.open(data).read()
    seen = set()
    for line in index.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or parts[0].startswith("00-database") or parts[0].startswith("00database"):
            continue
        start, length = _number(parts[1]), _number(parts[2])
        if (start, length) in seen:
            continue
        seen.add((start, length))
        lines = text[start: start + length].decode("utf-8", errors="replace").strip().splitlines()
        if len(lines) < 2:
            continue
        head = _clean(lines[0])
        senses = [[s for s in (_clean(p) for p in _SENSE_NUMBER.sub("", sense).split(",")) if s][:MAX_SYNONYMS]
                  for sense in lines[1:]]
        if head and any(senses):
            yield head, [s for s in senses if s]


def dictionary_pairs(root: Path, lang: str) -> Iterator[tuple[str, str, str]]:
    """(source-language text, English, headword) pairs from the FreeDict databases unpacked under
    ``root`` for ``lang`` (none for German or when the package holds none)."""
    code = ISO3.get(lang)
    folder = root / "usr/share/dictd"
    if code is None or not folder.is_dir():
        return
    for name, to_english in ((f"freedict-{code}-eng", True), (f"freedict-eng-{code}", False)):
        index, data = folder / f"{name}.index", folder / f"{name}.dict.dz"
        if not (index.is_file() and data.is_file()):
            continue
        for head, senses in entries(index, data):
            for sense in senses:
                for word in sense:
                    yield (head, word, head) if to_english else (word, head, word)
