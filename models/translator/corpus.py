"""Build a German, French, Spanish or Italian → English parallel corpus from Debian packages
(``python -m models.translator.corpus --lang de``; ``--lang fr,es,it`` builds several from one fetch).

Sources (see ``../shared/data/parallel-corpus.md`` for the survey they come from):

- ``ui``: gettext catalogs (``.mo``) of every package shipping ``/LANG/LC_MESSAGES/*.mo``; the English
  side is the msgid. Game packages (Debian section ``games``) are kept apart as ``games``: their
  dialogue is the only everyday prose in the registry.
- ``help``: Mallard help pages (``/usr/share/help/LANG/APP/*.page`` against ``help/C``), paired element
  by element where both pages have the same block structure (itstool translates block by block).
- ``ding``: the Ding dictionary (``trans-de-en``), aligned by ``models/translator/data.py``; for French,
  Spanish and Italian, which have no Ding, the FreeDict dictionaries both ways
  (``dict-freedict-fra-eng`` and ``-eng-fra``, …; ``models/translator/freedict.py``), kind ``dict``.

Packages are found with ``apt-file`` (its index is refreshed once), fetched with ``apt-get download``
into ``WORK/debs`` and only the files this script reads are unpacked (``dpkg-deb --fsys-tarfile``);
nothing is installed. Each package is done once: ``WORK/files/PKG/`` plus a ``WORK/done/PKG`` marker,
so a stopped build resumes where it stopped; one download unpacks the files of all four languages, and
the marker lists them. Pairs are written deterministically (sorted package list, seeded shuffle) to
``WORK/out/{train,dev,test}.{de,en,src}`` for German and ``WORK/out-LANG/{train,dev,test}.{LANG,en,src}``
for the others (``.src`` holds each pair's source kind), with ``manifest.json`` (package, version,
licence, pairs per package) beside them.

Cleaning (``models/translator/catalogs.py``): accelerators (``_Datei``, ``&Datei``, ``~Datei``, ``(&D)``), markup and entities,
``msgctxt``, plural forms (singular with ``msgstr[0]``, plural with ``msgstr[1]``), pairs with
format placeholders, identical sides, keys that are not English, over-long texts, length ratio
over 3, and duplicates across packages. Dev/test are split by document (package + catalog or page;
Ding: dictionary line), never by line, and a pair also found in training is dropped from them.
Texts of the held-out evaluation sets (``notices_de.tsv``, ``eval_LANG.tsv``) never enter the corpus.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import re
import shutil
import subprocess
import tarfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from models.translator.catalogs import MAX_CHARS, clean_text, has_placeholder, keep_pair, page_blocks, read_mo
from models.translator.data import entry_pairs
from models.translator.data import split_of as ding_split
from models.translator.freedict import DICTIONARIES, dictionary_pairs

LANGS = ("de", "fr", "es", "it")
HELD_OUT_SHARE = 1  # percent of documents in dev, and again in test

HERE = Path(__file__).resolve().parent
EVALUATION_SETS = {"de": HERE / "notices_de.tsv", **{lang: HERE / f"eval_{lang}.tsv" for lang in LANGS[1:]}}


def mo_pattern(lang: str) -> str:
    """Where a package keeps its gettext catalogs for ``lang`` (``de/`` and ``de_DE/`` both occur)."""
    return rf"/{lang}(_{lang.upper()})?/LC_MESSAGES/[^/]+\.mo$"


def help_pattern(lang: str) -> str:
    return rf"^/usr/share/help/{lang}/"


@dataclass(frozen=True)
class Pair:
    text: str  # the source-language side (German, French, Spanish or Italian)
    en: str
    kind: str  # ui | games | help | ding | dict
    doc: str  # the document it came from: what dev/test are split by


# -- packages --------------------------------------------------------------------------------------
def apt_file_search(pattern: str) -> dict[str, list[str]]:
    """Package → matching paths, from apt-file's index (regular expression search)."""
    result = subprocess.run(["apt-file", "search", "-x", pattern], capture_output=True, text=True, check=True)
    found: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        package, _, path = line.partition(": ")
        found.setdefault(package, []).append(path)
    return found


def package_info(packages: list[str]) -> dict[str, dict]:
    """Version, section and source package of each package (``apt-cache show``), in batches."""
    info = {}
    for start in range(0, len(packages), 200):
        batch = packages[start: start + 200]
        out = subprocess.run(["apt-cache", "show", "--no-all-versions", *batch], capture_output=True, text=True).stdout
        for block in out.split("\n\n"):
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(" "))
            if "Package" in fields:
                info[fields["Package"]] = {"version": fields.get("Version", ""), "section": fields.get("Section", ""),
                                           "source": fields.get("Source", fields["Package"]).split(" ")[0]}
    return info


def licence_of(root: Path) -> str:
    """The licence names a package's ``copyright`` file declares (machine-readable form), or "see copyright"."""
    for path in root.glob("usr/share/doc/*/copyright"):
        names = Counter(m.strip() for m in re.findall(r"^License:\s*(.+)$", path.read_text(errors="replace"), re.M))
        if names:
            return ", ".join(name for name, _ in names.most_common(3))
    return "see copyright"


_WANTED = re.compile("|".join([*(mo_pattern(lang) for lang in LANGS), r"^/usr/share/trans/",
                                r"^/usr/share/dictd/freedict-", rf"^/usr/share/help/({'|'.join(LANGS)}|C)/.+\.page$",
                                r"^/usr/share/doc/[^/]+/copyright$"]))


def fetched_languages(package: str, work: Path) -> set[str]:
    """The languages a package's unpacked files already cover (a marker from before there were
    several holds nothing: German)."""
    marker = work / "done" / package
    if not marker.exists():
        return set()
    return set(marker.read_text().split()) or {"de"}


def fetch(package: str, work: Path) -> None:
    """Download one package and unpack the files the corpus reads in every language (catalogs, help
    pages, dictionaries, the copyright)."""
    if fetched_languages(package, work) >= set(LANGS):
        return
    debs = work / "debs" / package
    debs.mkdir(parents=True, exist_ok=True)
    got = subprocess.run(["apt-get", "download", "-q", package], cwd=debs, capture_output=True, text=True)
    files = work / "files" / package
    files.mkdir(parents=True, exist_ok=True)
    for deb in debs.glob("*.deb"):
        stream = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(stream)) as tar:
            for member in tar:
                name = member.name.lstrip("./")
                if member.isfile() and _WANTED.search("/" + name):
                    target = files / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(tar.extractfile(member).read())
        deb.unlink()
    debs.rmdir()
    if got.returncode != 0 and not any(files.rglob("*")):
        (work / "failed").mkdir(exist_ok=True)
        (work / "failed" / package).write_text(got.stderr)
        return
    marker = work / "done" / package
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(" ".join(LANGS))


# -- pairing ---------------------------------------------------------------------------------------
def package_pairs(package: str, root: Path, kind: str, lang: str = "de") -> Iterator[Pair]:
    """Every clean ``lang``→English pair one unpacked package holds."""
    catalogs = re.compile(mo_pattern(lang))
    for mo in sorted(path for path in root.rglob("*.mo") if catalogs.search("/" + path.relative_to(root).as_posix())):
        doc = f"{package}:{mo.name}"
        for en, text in read_mo(mo.read_bytes()):
            if has_placeholder(en) or has_placeholder(text):
                continue
            en, text = clean_text(en), clean_text(text)
            if keep_pair(text, en):
                yield Pair(text, en, kind, doc)
    help_lang = root / "usr/share/help" / lang
    for page in sorted(help_lang.rglob("*.page")) if help_lang.is_dir() else []:
        english = root / "usr/share/help/C" / page.relative_to(help_lang)
        if not english.is_file():
            continue
        blocks, en_blocks = page_blocks(page.read_bytes()), page_blocks(english.read_bytes())
        if not blocks or not en_blocks or len(blocks) != len(en_blocks):
            continue
        doc = f"{package}:{page.relative_to(help_lang)}"
        for text, en in zip(blocks, en_blocks):
            if keep_pair(text, en) and not has_placeholder(en):
                yield Pair(text, en, "help", doc)
    ding = root / "usr/share/trans/de-en"
    if lang == "de" and ding.is_file():
        with ding.open(encoding="utf-8") as fh:
            for line in fh:
                head = line.split(" :: ", 1)[0].split(" | ", 1)[0]
                for text, en, _ in entry_pairs(line):
                    if len(text) <= MAX_CHARS and len(en) <= MAX_CHARS:
                        yield Pair(text, en, "ding", "ding:" + head)
    for text, en, head in dictionary_pairs(root, lang):
        if keep_pair(text, en) or text.lower() == en.lower():  # a dictionary's "Museum: museum" is a real pair
            yield Pair(text, en, "dict", f"dict:{lang}:{head}")


def split_of(pair: Pair) -> str:
    if pair.kind == "ding":
        return ding_split(pair.doc[5:] + " :: ")
    bucket = int(hashlib.sha1(pair.doc.encode()).hexdigest()[:8], 16) % 100
    return "dev" if bucket < HELD_OUT_SHARE else "test" if bucket < 2 * HELD_OUT_SHARE else "train"


def held_out_texts(lang: str = "de") -> set[str]:
    """Source-language texts of the language's evaluation set, normalised: never trained on. The
    French, Spanish and Italian sets also hold one-word sign texts ("Sortie", "Gare") that every
    dictionary has: those stay in the corpus, and their rows are reported apart as vocabulary."""
    from edge.textnorm import normalise

    texts = set()
    for line in EVALUATION_SETS[lang].read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            text = line.split("\t")[1]
            if lang == "de" or len(text.split()) > 1:
                texts.add(normalise(text))
    return texts


def out_dir(work: Path, lang: str) -> Path:
    return work / ("out" if lang == "de" else f"out-{lang}")


def read_split(folder: Path, suffix: str, split: str = "train") -> list[tuple[str, str]]:
    """(text, kind) of one side (``suffix``: the source language or ``en``) of one split of a corpus
    folder, in file order: the text file and its ``.src`` kinds, as ``assemble`` writes them."""
    text, kinds = folder / f"{split}.{suffix}", folder / f"{split}.src"
    if not text.is_file() or not kinds.is_file():
        raise SystemExit(f"no corpus text at {text}: run python -m models.translator.corpus --lang de,fr,es,it")
    lines = text.read_text(encoding="utf-8").splitlines()
    tags = [tag.split("\t")[0] for tag in kinds.read_text(encoding="utf-8").splitlines()]
    return list(zip(lines, tags))


def assemble(work: Path, packages: list[str], info: dict[str, dict], max_held_out: int = 3000, lang: str = "de") -> dict:
    """Pair, clean, deduplicate and split everything unpacked for ``lang``; write ``out_dir``; return
    the manifest."""
    from edge.textnorm import normalise

    blocked = held_out_texts(lang)
    splits: dict[str, dict[tuple[str, str], str]] = {"train": {}, "dev": {}, "test": {}}
    per_package: dict[str, Counter] = {}
    dropped_eval = 0
    for package in packages:
        root = work / "files" / package
        if not root.is_dir():
            continue
        meta = info.get(package, {})
        kind = "games" if meta.get("section", "").endswith("games") else "ui"
        counts = per_package.setdefault(package, Counter())
        for pair in package_pairs(package, root, kind, lang):
            if normalise(pair.text) in blocked:
                dropped_eval += 1
                continue
            key = (pair.text, pair.en)
            split = split_of(pair)
            if any(key in table for table in splits.values()):
                continue  # duplicates across packages: the first (sorted package order) keeps it
            splits[split][key] = pair.kind
            counts[pair.kind] += 1
    rng = random.Random(1)
    out = out_dir(work, lang)
    out.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for split, table in splits.items():
        items = sorted(table.items())
        rng.shuffle(items)
        if split != "train":
            items = items[:max_held_out]
        sizes[split] = dict(Counter(kind for _, kind in items), total=len(items))
        for suffix, column in ((lang, lambda i: i[0][0]), ("en", lambda i: i[0][1]), ("src", lambda i: i[1])):
            (out / f"{split}.{suffix}").write_text("".join(column(i) + "\n" for i in items), encoding="utf-8")
    manifest = {
        "splits": sizes, "dropped_as_evaluation_text": dropped_eval,
        "packages": {p: {**info.get(p, {}), "licence": licence_of(work / "files" / p), "pairs": dict(c)}
                     for p, c in sorted(per_package.items()) if c},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


def write_sources(manifest: dict, path: Path) -> None:
    """Every source of the corpus, one line each: package, version, licence, pairs per kind (the model card's table)."""
    lines = ["# package\tversion\tlicence (from its copyright file)\tpairs (train+dev+test) by kind"]
    for package, meta in manifest["packages"].items():
        pairs = ", ".join(f"{kind} {count}" for kind, count in sorted(meta["pairs"].items()))
        lines.append(f"{package}\t{meta.get('version', '')}\t{meta['licence']}\t{pairs}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def package_list(work: Path, lang: str = "de") -> list[str]:
    """The packages to harvest for ``lang``, found once with apt-file and kept in ``WORK/packages.txt``
    (German) or ``WORK/packages-LANG.txt``."""
    listing = work / ("packages.txt" if lang == "de" else f"packages-{lang}.txt")
    if listing.exists():
        return listing.read_text().split()
    if shutil.which("apt-file") is None:
        raise SystemExit("error: the corpus build finds its packages with apt-file: apt-get install apt-file")
    if not (work / ".apt-file-updated").exists():
        subprocess.run(["apt-file", "update"], capture_output=True, check=True)
        work.mkdir(parents=True, exist_ok=True)
        (work / ".apt-file-updated").write_text("")
    found = set(apt_file_search(mo_pattern(lang))) | set(apt_file_search(help_pattern(lang))) | set(DICTIONARIES[lang])
    packages = sorted(p for p in found if not re.search(r"-dbg(sym)?$", p))
    work.mkdir(parents=True, exist_ok=True)
    listing.write_text("\n".join(packages) + "\n")
    return packages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("work/corpus"))
    parser.add_argument("--lang", default="de", help="source language(s), comma-separated: de, fr, es, it")
    parser.add_argument("--jobs", type=int, default=6, help="packages fetched at once (network and dpkg-deb)")
    parser.add_argument("--limit", type=int, help="only the first N packages of each language (a quick trial)")
    args = parser.parse_args()
    langs = args.lang.split(",")
    if unknown := set(langs) - set(LANGS):
        parser.error(f"no corpus recipe for {', '.join(sorted(unknown))}: choose from {', '.join(LANGS)}")
    lists = {lang: package_list(args.work, lang)[: args.limit] for lang in langs}
    packages = sorted(set().union(*lists.values()))
    todo = [p for p in packages if fetched_languages(p, args.work) < set(LANGS)]
    print(f"{len(packages)} packages, {len(todo)} to fetch", flush=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        for n, _ in enumerate(pool.map(lambda p: fetch(p, args.work), todo), 1):
            if n % 100 == 0:
                print(f"fetched {n}/{len(todo)}", flush=True)
    info = package_info(packages)
    for lang in langs:
        manifest = assemble(args.work, lists[lang], info, lang=lang)
        write_sources(manifest, out_dir(args.work, lang) / "SOURCES.tsv")
        print(lang, json.dumps(manifest["splits"]), flush=True)


if __name__ == "__main__":
    main()
