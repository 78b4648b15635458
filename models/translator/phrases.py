"""Build the exact-match phrase table: the first translation tier, in front of the model.

Many sign texts are dictionary headwords with several senses (Ausgang → exit / output / ending).
For each German phrase the table keeps the English sense that recurs most across the dictionary's
entries: every sub-entry holding the phrase votes for its *first* English synonym (its primary
sense), twice when the phrase is the sub-entry's own first synonym, and far more when the entry
is marked as signage (``(Aufschrift)``, ``(Verkehrsschild)``, ``(displayed notice)`` …: Halteverbot
→ no waiting). Ties go to the sense listed first in the file. (Breaking ties by how often the
English string recurs across the dictionary was measured worse on sign texts, chrF 70.0 → 63.8:
it prefers generic words, Herren → masters, Damen → queens.) The English infinitive marker is
dropped (Ziehen → pull, as on a door). All dictionary lines are used, held-out ones included: the
test split measures the model alone. Stored as SQLite: a lookup reads a page from disk instead of
holding ~400k strings in RAM on the device.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path

from edge.textnorm import phrase_key
from models.translator.data import DING_PATH, synonyms
from models.translator.freedict import ISO3, entries

MAX_WORDS = 3  # signs are short; longer phrases are left to the model
SIGN_MARKERS = re.compile(r"\((?:Verkehrsschild|Aufschrift|Warnschild|Hinweisschild|displayed notice|traffic sign|road sign)\)")
SIGN_BONUS = 10  # votes a sense marked as signage is worth


class Votes:
    """The senses voted for each phrase key (source phrases of at most ``MAX_WORDS`` words; the English
    infinitive marker dropped); the most voted wins, ties going to the sense seen first."""

    def __init__(self):
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.first_seen: dict[tuple[str, str], int] = {}

    def add(self, source: str, english: str, weight: int) -> None:
        key = phrase_key(source)
        sense = english[3:] if english.startswith("to ") else english
        if key and sense and len(key.split()) <= MAX_WORDS:
            self.counts[key][sense] += weight
            self.first_seen.setdefault((key, sense), len(self.first_seen))

    def write(self, out: Path) -> int:
        """Each key's winning sense into the SQLite table ``out``; returns the row count."""
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        db = sqlite3.connect(tmp)
        db.execute("CREATE TABLE phrases (key TEXT PRIMARY KEY, en TEXT NOT NULL) WITHOUT ROWID")
        rows = ((key, max(c, key=lambda en: (c[en], -self.first_seen[(key, en)]))) for key, c in self.counts.items())
        db.executemany("INSERT INTO phrases VALUES (?, ?)", rows)
        db.commit()
        db.execute("VACUUM")
        n = db.execute("SELECT COUNT(*) FROM phrases").fetchone()[0]
        db.close()
        tmp.replace(out)
        return n


def build(source: Path, out: Path) -> int:
    """Write ``out`` (SQLite, table ``phrases(key TEXT PRIMARY KEY, en TEXT)``); returns the row count."""
    votes = Votes()
    with source.open(encoding="utf-8") as fh:
        for line in fh:
            if " :: " not in line or line.startswith("#"):
                continue
            de_side, en_side = line.rstrip("\n").split(" :: ", 1)
            de_subs, en_subs = de_side.split(" | "), en_side.split(" | ")
            if len(de_subs) != len(en_subs):
                continue
            for de_sub, en_sub in zip(de_subs, en_subs):
                en_syn = synonyms(en_sub)
                if not en_syn:
                    continue
                bonus = SIGN_BONUS if SIGN_MARKERS.search(de_sub) or SIGN_MARKERS.search(en_sub) else 0
                for rank, de in enumerate(synonyms(de_sub)):
                    votes.add(de, en_syn[0], (2 if rank == 0 else 1) + bonus)
    return votes.write(out)


def build_freedict(files: Path, lang: str, out: Path) -> int:
    """The phrase table of a language without Ding, from its two FreeDict databases as the corpus
    builder unpacked them (``FILES/dict-freedict-fra-eng``, ``FILES/dict-freedict-eng-fra``).

    FreeDict lists a sense's synonyms in alphabetical order (89–97 % of the senses with two or more
    synonyms are sorted, in all six databases), so, unlike Ding's, a sense's first synonym is not its
    primary one: every link between a headword and a synonym votes, worth 2 in the headword's first
    sense and 1 in its others, and both directions vote alike (``fra-eng``: gare → stage, station,
    stop; ``eng-fra``: station → gare in its first sense, stage → gare in its third; so gare →
    station). Ties go to the first seen, ``fra-eng`` first. FreeDict marks no signage: no sign bonus.
    """
    return freedict_votes(files, lang).write(out)


def freedict_votes(files: Path, lang: str) -> Votes:
    """Every sense the two FreeDict databases of ``lang`` give each phrase, with its votes
    (``build_freedict``)."""
    code = ISO3[lang]
    votes = Votes()
    found = 0
    for name, to_english in ((f"{code}-eng", True), (f"eng-{code}", False)):
        folder = files / f"dict-freedict-{name}" / "usr/share/dictd"
        index, data = folder / f"freedict-{name}.index", folder / f"freedict-{name}.dict.dz"
        if not (index.is_file() and data.is_file()):
            continue
        found += 1
        for head, senses in entries(index, data):
            for rank, sense in enumerate(senses):
                for word in sense:
                    source, english = (head, word) if to_english else (word, head)
                    votes.add(source, english, 2 if rank == 0 else 1)
    if not found:
        raise SystemExit(f"error: no FreeDict database for {lang} under {files} (run the corpus builder first)")
    return votes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", default="de", help="de (Ding) or fr, es, it (FreeDict, from the corpus builder's files)")
    parser.add_argument("--source", type=Path, default=DING_PATH, help="the Ding file (German)")
    parser.add_argument("--files", type=Path, default=Path("work/corpus/files"),
                        help="the corpus builder's unpacked packages (French, Spanish, Italian)")
    parser.add_argument("--out", type=Path, help="default: work/translator/phrases.sqlite (de), phrases-LANG.sqlite")
    args = parser.parse_args()
    out = args.out or Path("work/translator") / ("phrases.sqlite" if args.lang == "de" else f"phrases-{args.lang}.sqlite")
    n = build(args.source, out) if args.lang == "de" else build_freedict(args.files, args.lang, out)
    print(f"{n} phrases → {out} ({out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
