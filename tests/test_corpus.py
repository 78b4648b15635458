"""The corpus builder on real catalog entries (``tests/fixtures/corpus``, unpacked from Debian
packages): gettext and Mallard pairing, cleaning, document-level splits and the held-out notices.
The full build (``python -m models.translator.corpus``) downloads ~2,000 packages and is not run here."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import torch

from models.translator.catalogs import clean_text, has_placeholder, keep_pair, read_mo
from models.translator.corpus import assemble, package_pairs, split_of, write_sources
from models.translator.pack import pack, unpack
from models.translator.phrases import build_freedict
from models.translator.words import count_words, frequent_words

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "corpus" / "files"


def write_mo(path: Path, entries: list[tuple[str, str]]) -> None:
    """A gettext catalog (little-endian ``.mo``) holding ``entries``, sorted by msgid as msgfmt does."""
    entries = sorted(entries)
    ids = [e[0].encode() for e in entries]
    strs = [e[1].encode() for e in entries]
    start = 28 + 16 * len(entries)
    table_ids, table_strs, blob = [], [], b""
    for item in ids:
        table_ids.append((len(item), start + len(blob)))
        blob += item + b"\0"
    for item in strs:
        table_strs.append((len(item), start + len(blob)))
        blob += item + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, len(entries), 28, 28 + 8 * len(entries), 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + b"".join(struct.pack("<2I", *t) for t in table_ids + table_strs) + blob)


def test_a_real_gettext_catalog_pairs_with_context_accelerators_and_placeholders_handled():
    raw = dict(read_mo((FIXTURES / "iagno/usr/share/locale/de/LC_MESSAGES/iagno.mo").read_bytes()))
    assert raw["_New Game"] == "_Neues Spiel" and raw["Quit"] == "Beenden"  # msgctxt "shortcut window" dropped
    assert clean_text("Play _first (Dark)") == "Play first (Dark)" and clean_text("Als _erster spielen") == "Als erster spielen"
    assert clean_text("&Datei") == "Datei" and clean_text("Save && Quit") == "Save & Quit" and clean_text("Datei (&D)") == "Datei"
    assert clean_text("<b>Schwarz</b> gewinnt&#33;") == "Schwarz gewinnt!"
    assert has_placeholder("Dark wins! (%u-%u)") and has_placeholder("{0} files") and not has_placeholder("100 % sure")
    pairs = {(p.text, p.en) for p in package_pairs("iagno", FIXTURES / "iagno", "games")}
    assert ("Neues Spiel", "New Game") in pairs and ("Letzten Zug rückgängig machen", "Undo last move") in pairs
    assert not any("%" in de or "Copyright" in en for de, en in pairs)  # placeholders and untranslated lines dropped
    assert not keep_pair("ui.button.ok", "ui.button.ok") and not keep_pair("Datei", "") and not keep_pair("a", "b" * 40)


def test_mallard_help_pairs_block_by_block_and_a_block_without_prose_keeps_the_alignment():
    pairs = list(package_pairs("gnome-color-manager", FIXTURES / "gnome-color-manager", "ui"))
    # 4 blocks on each side: a summary, the title, a block the English side writes as a menu path (no prose:
    # skipped, the alignment kept) and a paragraph over 200 characters (skipped)
    assert [(p.kind, p.text, p.en) for p in pairs] == [
        ("help", "Importieren eines existierenden ICC-Profils auf einem Linux-System.",
         "How to import an existing ICC profile using a Linux system."),
        ("help", "Ein ICC-Profil unter Linux importieren", "Installing an ICC profile on Linux")]
    assert len({p.doc for p in pairs}) == 1


def test_assembly_splits_by_document_drops_evaluation_texts_and_duplicates(tmp_path):
    work = tmp_path / "corpus"
    for package in ("iagno", "gnome-color-manager"):
        shutil.copytree(FIXTURES / package, work / "files" / package)
    notices = [("Heute geschlossen", "Closed today"), ("Neues Spiel", "New Game"), ("Bitte warten", "Please wait")]
    write_mo(work / "files" / "zz-notices/usr/share/locale/de/LC_MESSAGES/zz.mo", [(en, de) for de, en in notices])
    info = {"iagno": {"version": "1:3.38.1-2", "section": "games"}, "gnome-color-manager": {"version": "3.36.0-1+b1"},
            "zz-notices": {"version": "1"}}
    manifest = assemble(work, ["gnome-color-manager", "iagno", "zz-notices"], info)
    out = work / "out"
    train = set(zip((out / "train.de").read_text().splitlines(), (out / "train.en").read_text().splitlines()))
    held = set()
    for split in ("dev", "test"):
        held |= set(zip((out / f"{split}.de").read_text().splitlines(), (out / f"{split}.en").read_text().splitlines()))
    assert not train & held
    everything = train | held
    assert ("Heute geschlossen", "Closed today") not in everything  # an evaluation notice never enters the corpus
    assert manifest["dropped_as_evaluation_text"] == 1
    assert ("Neues Spiel", "New Game") in everything and ("Bitte warten", "Please wait") in everything
    assert manifest["packages"]["iagno"]["pairs"]["games"] > 40 and "GPL-3+" in manifest["packages"]["iagno"]["licence"]
    kinds = (out / "train.src").read_text().splitlines()
    assert len(kinds) == len(train) and set(kinds) <= {"games", "ui", "help"}
    # one document, one split: every pair of a catalog goes the same way
    for pair in package_pairs("iagno", work / "files" / "iagno", "games"):
        assert split_of(pair) == split_of(next(iter(package_pairs("iagno", work / "files" / "iagno", "games"))))
    write_sources(manifest, tmp_path / "SOURCES.tsv")
    assert "iagno\t1:3.38.1-2\t" in (tmp_path / "SOURCES.tsv").read_text()


def test_a_french_corpus_reads_french_catalogs_and_freedict_and_never_the_german_ones(tmp_path):
    """One download unpacks every language; each language's corpus takes only its own catalogs, and
    French, which has no Ding, gets FreeDict's dictionary pairs (kind ``dict``)."""
    french = {(p.text, p.en) for p in package_pairs("iagno", FIXTURES / "iagno", "games", "fr")}
    german = {(p.text, p.en) for p in package_pairs("iagno", FIXTURES / "iagno", "games", "de")}
    assert ("Nouvelle partie", "New Game") in french and ("Neues Spiel", "New Game") not in french
    assert ("Neues Spiel", "New Game") in german and ("Nouvelle partie", "New Game") not in german
    entries = list(package_pairs("dict-freedict-fra-eng", FIXTURES / "dict-freedict-fra-eng", "ui", "fr"))
    assert {("sortie", "exit"), ("sortie", "way out"), ("allégresse", "joy")} <= {(p.text, p.en) for p in entries}
    assert {p.kind for p in entries} == {"dict"} and not any("/" in p.text or "<" in p.text for p in entries)
    assert not list(package_pairs("dict-freedict-fra-eng", FIXTURES / "dict-freedict-fra-eng", "ui", "de"))

    work = tmp_path / "corpus"
    for package in ("iagno", "dict-freedict-fra-eng"):
        shutil.copytree(FIXTURES / package, work / "files" / package)
    write_mo(work / "files" / "zz/usr/share/locale/fr/LC_MESSAGES/zz.mo", [("Closed on Sundays", "Fermé le dimanche")])
    manifest = assemble(work, ["dict-freedict-fra-eng", "iagno", "zz"], {"iagno": {"section": "games"}}, lang="fr")
    out = work / "out-fr"
    pairs = set()
    for split in ("train", "dev", "test"):
        pairs |= set(zip((out / f"{split}.fr").read_text().splitlines(), (out / f"{split}.en").read_text().splitlines()))
    assert ("Nouvelle partie", "New Game") in pairs and ("sortie", "exit") in pairs
    assert ("Fermé le dimanche", "Closed on Sundays") not in pairs  # a text of eval_fr.tsv never enters the corpus
    assert manifest["dropped_as_evaluation_text"] == 1 and manifest["packages"]["dict-freedict-fra-eng"]["pairs"]["dict"] > 60


def test_a_french_phrase_table_takes_each_headwords_first_sense_from_freedict(tmp_path):
    """French has no Ding: its phrase table votes over FreeDict's senses, the first synonym of the first
    sense winning (sortie: "exit, way out" before "expenses"); it answers through the device's table."""
    import sqlite3

    from edge.dictionary import PhraseTable
    from models.translator.export import export_phrases

    out = tmp_path / "phrases-fr.sqlite"
    assert build_freedict(FIXTURES, "fr", out) > 30
    rows = dict(sqlite3.connect(out).execute("SELECT key, en FROM phrases"))
    assert rows["sortie"] == "exit" and rows["allemand"] == "German"
    export_phrases(out, tmp_path / "phrases.tsv.gz")
    table = PhraseTable(tmp_path / "phrases.tsv.gz", tmp_path / "cache")
    assert table.get("SORTIE") == "exit" and table.get("Sortie de secours") is None


def test_a_packed_checkpoint_unpacks_to_the_same_weights_within_int8_rounding(tmp_path):
    from argparse import Namespace

    from models.translator.train import build_model

    arch = {"d_model": 16, "layers": 1, "heads": 2, "ffn": 32, "enc_layers": 2, "dec_layers": 1}
    model = build_model(50, Namespace(**arch))
    run = tmp_path / "run"
    run.mkdir()
    torch.save({"model": model.state_dict(), "arch": arch, "step": 7}, run / "checkpoint.pt")
    (run / "spm.model").write_bytes(b"spm")
    pack(run, tmp_path / "a.pack")
    unpack(tmp_path / "a.pack", tmp_path / "back")
    restored = torch.load(tmp_path / "back" / "checkpoint.pt", weights_only=False)
    assert restored["arch"] == arch and restored["step"] == 7 and (tmp_path / "back" / "spm.model").read_bytes() == b"spm"
    for name, tensor in model.state_dict().items():
        if "embed_positions" in name:  # fixed sinusoids: left out of the pack, rebuilt by the model
            assert name not in restored["model"]
            continue
        step = float(tensor.abs().max()) / 127 + 1e-3
        assert torch.allclose(restored["model"][name], tensor.float(), atol=step), name
    assert model.config.encoder_layers == 2 and model.config.decoder_layers == 1


def test_the_word_list_keeps_frequent_words_of_three_letters_or_more_and_the_lexicon_answers_from_it(tmp_path):
    import gzip

    from edge.dictionary import PhraseTable

    lines = ["Kein Ausgang"] * 3 + ["Kein Zutritt", "Ausgnag"] + ["zu da"] * 5  # "Ausgnag": a typo, once
    assert frequent_words(count_words(lines), min_count=3) == ["ausgang", "kein"]  # "zu", "da": too short
    phrases, listed = tmp_path / "phrases.tsv.gz", tmp_path / "words.txt.gz"
    with gzip.open(phrases, "wt", encoding="utf-8") as fh:
        fh.write("zutritt\tadmittance\n")
    with gzip.open(listed, "wt", encoding="utf-8") as fh:
        fh.write("ausgang\nkein\n")
    table = PhraseTable(phrases, tmp_path / "cache", listed)
    assert table.knows("Ausgang") and table.knows("KEIN") and table.knows("Zutritt") and not table.knows("Zugang")
    assert table.get("kein") is None and table.get("Zutritt") == "admittance"  # a known word is no translation
    assert not PhraseTable(phrases, tmp_path / "cache").knows("kein")  # without the list: headwords only
    import hashlib
    import sqlite3

    stale = tmp_path / "old" / f"phrases-{hashlib.sha256(phrases.read_bytes()).hexdigest()[:16]}.sqlite"
    stale.parent.mkdir()
    sqlite3.connect(stale).execute("CREATE TABLE phrases (key TEXT PRIMARY KEY, en TEXT NOT NULL) WITHOUT ROWID")
    assert PhraseTable(phrases, stale.parent).knows("Zutritt")  # a copy cached before the word list is not reused
