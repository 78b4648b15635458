"""Extract aligned German→English training pairs from the Ding dictionary (Debian ``trans-de-en``).

Each dictionary line is ``German :: English``; both sides split on `` | `` into aligned sub-entries
(headword, inflections, phrases, example sentences) and each sub-entry on ``;`` into synonyms.
Annotations (``{m}``, ``[Br.]``, ``(...)``, ``<...>``) are stripped. The split into train/dev/test is
by dictionary line (a hash of the German headword), so held-out pairs never share an entry with
training pairs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

DING_PATH = Path("/usr/share/trans/de-en")

_ANNOTATION = re.compile(r"\{[^}]*\}|\[[^\]]*\]|<[^>]*>|\([^)]*\)")
# a word that begins with a slash, once the annotations are gone: an abbreviation ("Zimmer {n} /Zi./", "room /rm/",
# "letter of credit /L/C/") or the American spelling after the British ("tyre [Br.]/tire [Am.]"). Stripping only the
# ends left "room /rm": the headword and its first sense never met, and "Zimmer" was *rooms*
_SLASHED = re.compile(r"(?<!\S)/\S+")
_SPACES = re.compile(r"\s+")
_SYNONYM_SPLIT = re.compile(r";\s*")


def clean(text: str) -> str:
    """Strip dictionary annotations and normalise whitespace and typographic quotes."""
    text = _SLASHED.sub(" ", _ANNOTATION.sub(" ", text))
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = _SPACES.sub(" ", text).strip(" ,/")
    return text


def synonyms(sub_entry: str) -> list[str]:
    """Split a sub-entry on ``;`` (outside brackets), cleaning each part; empty parts dropped."""
    depth = 0
    parts, current = [], []
    for ch in sub_entry:
        if ch in "({[<":
            depth += 1
        elif ch in ")}]>":
            depth = max(0, depth - 1)
        if ch == ";" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [c for c in (clean(p) for p in parts) if c]


def entry_pairs(line: str) -> Iterator[tuple[str, str, int]]:
    """Yield ``(german, english, sub_entry_index)`` for one dictionary line.

    Synonym lists of different lengths are paired cyclically, so every synonym appears once
    without the quadratic blow-up of a cross product.
    """
    if line.startswith("#") or " :: " not in line:
        return
    de_side, en_side = line.rstrip("\n").split(" :: ", 1)
    de_subs, en_subs = de_side.split(" | "), en_side.split(" | ")
    if len(de_subs) != len(en_subs):
        return
    for index, (de_sub, en_sub) in enumerate(zip(de_subs, en_subs)):
        de_syn, en_syn = synonyms(de_sub), synonyms(en_sub)
        if not de_syn or not en_syn:
            continue
        for k in range(max(len(de_syn), len(en_syn))):
            yield de_syn[k % len(de_syn)], en_syn[k % len(en_syn)], index


def split_of(line: str) -> str:
    """Deterministic train/dev/test assignment of a whole dictionary line (1 % dev, 1 % test)."""
    head = line.split(" :: ", 1)[0].split(" | ", 1)[0]
    bucket = int(hashlib.sha1(head.encode()).hexdigest()[:8], 16) % 100
    return "dev" if bucket == 0 else "test" if bucket == 1 else "train"


def extract(source: Path, out_dir: Path, seed: int = 1) -> dict[str, int]:
    """Write ``{train,dev,test}.{de,en}`` (deduplicated, shuffled) and return pair counts."""
    pairs: dict[str, dict[tuple[str, str], None]] = {"train": {}, "dev": {}, "test": {}}
    with source.open(encoding="utf-8") as fh:
        for line in fh:
            split = split_of(line)
            for de, en, _ in entry_pairs(line):
                if len(de) <= 200 and len(en) <= 200:
                    pairs[split][(de, en)] = None
    seen_train = set(pairs["train"])
    rng = random.Random(seed)
    counts = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    for split, table in pairs.items():
        items = [p for p in table if split == "train" or p not in seen_train]
        rng.shuffle(items)
        if split != "train":
            items = items[:3000]
        counts[split] = len(items)
        for lang, idx in (("de", 0), ("en", 1)):
            (out_dir / f"{split}.{lang}").write_text("".join(p[idx] + "\n" for p in items), encoding="utf-8")
    (out_dir / "counts.json").write_text(json.dumps(counts, indent=1))
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", type=Path, default=DING_PATH)
    parser.add_argument("--out", type=Path, default=Path("work/translator/data"))
    args = parser.parse_args()
    print(json.dumps(extract(args.source, args.out)))


if __name__ == "__main__":
    main()
