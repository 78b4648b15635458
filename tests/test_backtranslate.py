"""Everyday-English training pairs made by Apertium in reverse (``models/translator/backtranslate.py``):
Ding's English through the real ``eng-spa`` mode, in parallel pipelines, resumable, and joined to a pair's
corpus as kind ``bt`` without its evaluation texts."""

from __future__ import annotations

from pathlib import Path

from models.translator import backtranslate
from models.translator.backtranslate import ding_english, kept_pairs, translate_all, write_corpus


def corpus(folder: Path, lang: str, rows: list[tuple[str, str, str]]) -> Path:
    folder.mkdir(parents=True)
    for suffix, column in ((lang, 0), ("en", 1), ("src", 2)):
        (folder / f"train.{suffix}").write_text("".join(row[column] + "\n" for row in rows), encoding="utf-8")
    (folder / f"dev.{lang}").write_text("hola\n", encoding="utf-8")
    (folder / "dev.en").write_text("hello\n", encoding="utf-8")
    return folder


def test_dings_english_is_put_into_spanish_kept_where_apertium_knows_it_and_resumed(tmp_path, monkeypatch):
    german = corpus(tmp_path / "out", "de", [
        ("frisch gestrichen", "wet paint", "ding"), ("Datei", "file", "ui"),  # not Ding: not taken
        ("Grmbl", "Grmblfrz wq", "ding"), ("Notausgang", "emergency exit", "ding"),
        ("Ausgang", "emergency exit", "ding")])  # the same English twice: once
    texts = ding_english(german)
    assert sorted(texts) == ["Grmblfrz wq", "emergency exit", "wet paint"]
    cache = tmp_path / "bt-es.tsv"
    rows = translate_all(texts, "es", cache, shards=2)
    assert [english for english, _ in rows] == texts
    foreign = dict(rows)
    assert foreign["wet paint"].lower() == "pintura mojada" and foreign["Grmblfrz wq"] == ""

    # a run stopped while writing a line does that line again
    first = tmp_path / "bt-es.tsv.0-of-2"
    lines = first.read_text(encoding="utf-8").splitlines(keepends=True)
    first.write_text(lines[0] + lines[1][:4], encoding="utf-8")  # stopped while writing its second line
    assert translate_all(texts, "es", cache, shards=2) == rows  # the cut line is done again, not kept
    # a second run reads the parts and starts no pipeline
    monkeypatch.setattr(backtranslate, "ApertiumMode", None)
    assert translate_all(texts, "es", cache, shards=2) == rows

    # an evaluation text of the pair ("Salida de emergencia" is in eval_es.tsv) is dropped
    pairs = kept_pairs(rows + [("emergency exit", "Salida de emergencia")], "es")
    assert ("Pintura mojada", "wet paint") in [(f.capitalize(), e) for f, e in pairs]
    assert all(english != "Grmblfrz wq" for _, english in pairs)
    assert "Salida de emergencia" not in [f for f, _ in pairs]

    spanish = corpus(tmp_path / "out-es", "es", [("Archivo", "File", "ui")])
    target = tmp_path / "out-es-bt"
    write_corpus(spanish, target, pairs, "es")
    assert (target / "train.src").read_text(encoding="utf-8").split() == ["ui"] + ["bt"] * len(pairs)
    assert (target / "train.es").read_text(encoding="utf-8").splitlines()[0] == "Archivo"
    assert (target / "dev.es").read_text(encoding="utf-8") == "hola\n"
