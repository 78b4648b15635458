"""The dictionary tiers of the translation chain (``edge/translate.py``): the shipped phrase table of
exact matches, and the sign grammar with its glossary, both read from a model's folder."""

from __future__ import annotations

import gzip
import hashlib
import re
import sqlite3
from pathlib import Path

from edge.textnorm import phrase_key

CLOSING_PUNCT = "!.?:;"
WORD = re.compile(r"[^\W\d_]+")  # a word: a run of letters (the word lists are built and asked with it)
SCHEMA = b"phrases+words\0"  # the cached SQLite's tables (part of its file name's digest)


class PhraseTable:
    """Exact-match lookups in the shipped ``phrases.tsv.gz``, materialised once as SQLite in the
    user cache so that the device holds none of it in RAM. With the model's word list (``words.txt.gz``,
    ``models/translator/words.py``) it also answers whether a source word is a known word."""

    def __init__(self, gz_path: Path, cache_dir: Path, words_path: Path | None = None):
        sources = [gz_path] + ([words_path] if words_path else [])
        # the schema's version is hashed too: a copy cached before the words table existed is not reused
        digest = hashlib.sha256(SCHEMA + b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
        self.digest = digest  # names this table in translation cache keys
        db_path = cache_dir / f"phrases-{digest}.sqlite"
        if not db_path.exists():
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = db_path.with_suffix(f".{id(self)}.tmp")
            db = sqlite3.connect(tmp)
            db.execute("CREATE TABLE phrases (key TEXT PRIMARY KEY, en TEXT NOT NULL) WITHOUT ROWID")
            db.execute("CREATE TABLE words (key TEXT PRIMARY KEY) WITHOUT ROWID")
            with gzip.open(gz_path, "rt", encoding="utf-8") as fh:
                db.executemany("INSERT OR REPLACE INTO phrases VALUES (?, ?)", (line.rstrip("\n").split("\t", 1) for line in fh))
            if words_path:
                with gzip.open(words_path, "rt", encoding="utf-8") as fh:
                    db.executemany("INSERT OR IGNORE INTO words VALUES (?)", ((line.strip(),) for line in fh if line.strip()))
            db.commit()
            db.close()
            tmp.replace(db_path)
        self._db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False)

    def get(self, text: str) -> str | None:
        row = self._db.execute("SELECT en FROM phrases WHERE key = ?", (phrase_key(text),)).fetchone()
        return row[0] if row else None

    def knows(self, word: str) -> bool:
        """A phrase of its own, or in the word list."""
        key = phrase_key(word)
        return self._db.execute("SELECT 1 FROM phrases WHERE key = ? UNION ALL SELECT 1 FROM words WHERE key = ?",
                                (key, key)).fetchone() is not None


class SignGrammar:
    """Productive sign constructions ("Kein X", "X verboten", "Bitte X", …) whose parts the phrase
    table knows: a tier between the phrase table and the model, read from the model's ``grammar.tsv``.
    Its lines without a slot are a sign glossary, consulted before the phrase table: senses a general
    dictionary ranks low but signs use (a door's "Drücken" is "push", not the dictionary's "hitting")."""

    MAX_DEPTH = 2  # a part may itself be a construction ("Bitte nicht X"), this deep

    def __init__(self, path: Path, phrases: PhraseTable):
        self.phrases = phrases
        self.rules: list[tuple[re.Pattern, str]] = []
        self.glossary: dict[str, str] = {}
        text = path.read_text(encoding="utf-8")
        self.digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]  # names this grammar in cache keys
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            pattern, template = line.split("\t")
            if "{" not in pattern:
                self.glossary[phrase_key(pattern)] = template
                continue
            regex = re.escape(phrase_key(pattern.replace("{X}", "xslot").replace("{Y}", "yslot")))
            regex = regex.replace("xslot", "(?P<X>.+)").replace("yslot", "(?P<Y>.+)")
            self.rules.append((re.compile(f"^{regex}$"), template))

    def sign_sense(self, text: str) -> str | None:
        """The glossary's sense of the whole text, or None."""
        return self.glossary.get(phrase_key(text))

    def lookup(self, text: str) -> str | None:
        """The glossary's sense, else the phrase table's."""
        return self.sign_sense(text) or self.phrases.get(text)

    def get(self, text: str, depth: int = 0) -> str | None:
        key = phrase_key(text)
        for regex, template in self.rules:
            found = regex.match(key)
            if not found:
                continue
            parts = {}
            for slot, words in found.groupdict().items():
                part = self.lookup(words) or (self.get(words, depth + 1) if depth < self.MAX_DEPTH else None)
                if part is None:
                    break
                parts[slot] = part.rstrip(CLOSING_PUNCT + " ")
            else:
                return template.replace("{X}", parts.get("X", "")).replace("{Y}", parts.get("Y", ""))
        return None
