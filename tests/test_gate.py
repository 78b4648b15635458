"""The gate's dev pairs: of sign length by default (``models/translator/gate.py``), translated by the shipped
Italian model as the device decodes."""

from __future__ import annotations

from pathlib import Path

from models.translator.gate import SIGN_WORDS, choose, scored

MODEL = Path(__file__).resolve().parents[1] / "models" / "it-en"


def test_the_gate_is_set_on_dev_pairs_of_sign_length(tmp_path):
    sources = ["Uscita", "Chiudi il file", "Impossibile aprire il file richiesto dal programma di posta"]
    references = ["Exit", "Close the file", "Could not open the file requested by the mail program"]
    (tmp_path / "dev.it").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (tmp_path / "dev.en").write_text("\n".join(references) + "\n", encoding="utf-8")
    short = scored(MODEL, tmp_path, "it", max_words=SIGN_WORDS)
    every = scored(MODEL, tmp_path, "it")
    assert len(short) == 2 and len(every) == 3  # the 10-word sentence is left out of the sign-length set
    assert all(score < 0 and 0 <= chrf <= 100 for score, chrf in every)


def test_the_gate_is_the_lower_edge_of_the_first_good_enough_bin():
    rows = [(-3.0 + i * 0.01, 10.0) for i in range(100)] + [(-1.0 + i * 0.01, 60.0) for i in range(100)]
    gate, bins = choose(rows)
    assert len(bins) == 10 and gate == -1.0  # the lower half is wrong more often than not: hidden
    assert choose([(-1.0 + i * 0.01, 60.0) for i in range(100)])[0] is None  # every bin good enough: no gate
