"""The model build scripts run for real: data extraction, phrase table, a tiny training run that
checkpoints and resumes, export to CTranslate2 int8, and the detector conversion to LiteRT."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.signs import SignStyle, sign_photo
from models.translator.data import DING_PATH, entry_pairs, extract
from tests.conftest import ROOT

pytestmark = pytest.mark.build


@pytest.fixture(scope="module")
def ding_slice(tmp_path_factory) -> Path:
    """The first 4,000 entries of the real dictionary, plus the sign headwords used below."""
    lines = DING_PATH.read_text(encoding="utf-8").splitlines(keepends=True)
    wanted = [ln for ln in lines if ln.startswith(("Ausgang {m} | Ausgänge", "Notausgang {m}"))]
    path = tmp_path_factory.mktemp("ding") / "de-en"
    path.write_text("".join(lines[:4000] + wanted), encoding="utf-8")
    return path


def test_dictionary_lines_align_into_clean_pairs():
    line = "Ausgang {m} | Ausgänge {pl} | Der Saal hat drei Ausgänge. :: exit | exits | The hall has three exits.\n"
    assert list(entry_pairs(line)) == [("Ausgang", "exit", 0), ("Ausgänge", "exits", 1),
                                       ("Der Saal hat drei Ausgänge.", "The hall has three exits.", 2)]
    synonyms = "Aalleiter {f}; Aaltreppe {f} (Wasserbau) :: eel ladder (water engineering)\n"
    assert [p[:2] for p in entry_pairs(synonyms)] == [("Aalleiter", "eel ladder"), ("Aaltreppe", "eel ladder")]
    assert list(entry_pairs("A | B :: only one side\n")) == []  # misaligned sub-entries are skipped
    # abbreviations between slashes go too ("room /rm" kept "Zimmer" from its first sense); a slash inside words stays
    room = "Zimmer {n} /Zi./; Raum {m} | Zimmer {pl} :: room /rm/ | rooms\n"
    assert [p[:2] for p in entry_pairs(room)] == [("Zimmer", "room"), ("Raum", "room"), ("Zimmer", "rooms")]
    assert list(entry_pairs("und/oder :: and/or\n")) == [("und/oder", "and/or", 0)]


def test_the_shipped_phrase_table_gives_a_sign_word_its_first_sense_and_holds_no_abbreviation():
    import gzip

    with gzip.open(ROOT / "models/de-en/phrases.tsv.gz", "rt", encoding="utf-8") as fh:
        table = dict(line.rstrip("\n").split("\t", 1) for line in fh)
    assert table["zimmer"] == "room" and table["bahnhof"] == "railway station"
    assert not [en for en in table.values() if re.search(r"(^|\s)/\S+$", en)][:5]


def test_extraction_splits_by_entry_without_leaks(ding_slice, tmp_path):
    counts = extract(ding_slice, tmp_path)
    assert counts["train"] > 5000 and counts["dev"] > 0 and counts["test"] > 0
    train = set(zip((tmp_path / "train.de").read_text().splitlines(), (tmp_path / "train.en").read_text().splitlines()))
    test = set(zip((tmp_path / "test.de").read_text().splitlines(), (tmp_path / "test.en").read_text().splitlines()))
    assert not train & test


def test_phrase_table_picks_the_primary_sense(ding_slice, tmp_path):
    import sqlite3

    from models.translator.phrases import build

    db_path = tmp_path / "phrases.sqlite"
    assert build(ding_slice, db_path) > 1000
    db = sqlite3.connect(db_path)
    lookup = dict(db.execute("SELECT key, en FROM phrases WHERE key IN ('ausgang', 'notausgang')").fetchall())
    assert lookup == {"ausgang": "exit", "notausgang": "emergency exit"}


def run_module(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_tiny_training_run_resumes_and_exports_to_ctranslate2(ding_slice, tmp_path):
    data, run, out = tmp_path / "data", tmp_path / "run", tmp_path / "ct2"
    extract(ding_slice, data)
    tiny = ["--data", str(data), "--out", str(run), "--vocab-size", "600", "--d-model", "32", "--layers", "1",
            "--heads", "2", "--ffn", "64", "--batch-tokens", "400", "--warmup", "5"]
    run_module("models.translator.train", *tiny, "--max-steps", "12")
    first = (run / "checkpoint.pt").stat().st_mtime_ns
    import torch

    trained = torch.load(run / "checkpoint.pt", weights_only=False)["minutes"]
    resumed = run_module("models.translator.train", *tiny, "--max-steps", "20", "--resume")
    assert "resumed at step 12" in resumed.stdout
    # the training time goes on from where it stopped: a time schedule does not start its warm-up again
    assert torch.load(run / "checkpoint.pt", weights_only=False)["minutes"] > trained > 0
    assert (run / "checkpoint.pt").stat().st_mtime_ns != first
    # fine-tuning: another run starts from these weights and this vocabulary, with its own optimiser and steps
    tuned = tmp_path / "tuned"
    started = run_module("models.translator.train", *tiny[:2], "--out", str(tuned), *tiny[4:], "--max-steps", "3",
                         "--init", str(run), "--mix", "ding=2")
    assert "started from" in started.stdout and "(step 20)" in started.stdout
    assert (tuned / "spm.model").read_bytes() == (run / "spm.model").read_bytes()
    assert torch.load(tuned / "checkpoint.pt", weights_only=False)["step"] == 3
    run_module("models.translator.export", "--run", str(run), "--out", str(out), "--phrases", str(tmp_path / "none"))
    assert {p.name for p in out.iterdir()} >= {"model.bin", "config.json", "shared_vocabulary.json", "spm.model"}
    exact = tmp_path / "ct2-float32"
    run_module("models.translator.export", "--run", str(run), "--out", str(exact), "--phrases", str(tmp_path / "none"),
               "--quantization", "float32")

    # converted without quantization, the model scores a translation exactly as the trained one
    # (float32 on both sides; CTranslate2 drops the pad column, so the PyTorch softmax leaves it out too)
    import argparse

    import ctranslate2
    import sentencepiece

    from models.translator.train import build_model, torch_threads

    torch_threads(torch.get_num_threads())  # this process imported edge, which limits OpenMP to one thread
    sp = sentencepiece.SentencePieceProcessor(model_file=str(out / "spm.model"))
    state = torch.load(run / "checkpoint.pt", weights_only=False)
    assert state["arch"] == {"d_model": 32, "layers": 1, "heads": 2, "ffn": 64, "enc_layers": None, "dec_layers": None}
    model = build_model(sp.get_piece_size(), argparse.Namespace(**state["arch"]))
    model.load_state_dict(state["model"])
    model.eval()
    pad = sp.get_piece_size()
    assert float(model.get_input_embeddings().weight[pad].detach().abs().max()) == 0.0  # held at zero in training
    translator = ctranslate2.Translator(str(exact), compute_type="float32", intra_threads=1)
    for source, target in (("Ausgang", "exit"), ("der Hund", "the dog"), ("Bitte nicht rauchen", "please do not smoke")):
        src, tgt = sp.encode(source) + [2], sp.encode(target) + [2]
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([src]), decoder_input_ids=torch.tensor([[pad] + tgt[:-1]])).logits[0]
        torch_logp = torch.log_softmax(logits[:, :pad], dim=-1)[range(len(tgt)), tgt].tolist()
        (scored,) = translator.score_batch([sp.encode(source, out_type=str) + ["</s>"]], [sp.encode(target, out_type=str)])
        assert scored.log_probs == pytest.approx(torch_logp, abs=2e-3)


def test_detector_conversion_reproduces_the_shipped_model(tmp_path):
    from edge.detect import TextDetector
    from edge.regions import iou
    from models.catalog import find

    run_module("models.convert_detector", "--sizes", "320x256", "--out", str(tmp_path))
    assert {p.name for p in tmp_path.iterdir()} == {f"ppocrv4_det_320x256_{p}.tflite" for p in ("float32", "float16", "int8")}
    rebuilt = TextDetector(tmp_path / "ppocrv4_det_320x256_int8.tflite")
    shipped = TextDetector(find("ppocrv4-det-320x256-int8").file("model"))
    image, _ = sign_photo(["Notausgang", "Bitte warten"], seed=4, styles=[SignStyle(text_px=40)] * 2)
    a, b = rebuilt.detect(image), shipped.detect(image)
    assert len(a) == len(b) == 2
    assert all(iou(x.box, y.box) > 0.9 for x, y in zip(a, b))
    # the same map within int8 rounding: exactly so on x86-64 (where it was built); an arm64 conversion
    # rounds a few weights the other way (its TensorFlow kernels differ), so the maps are compared as the
    # detector reads them: where the text is (p > 0.3) and how far apart they are on average
    ours, theirs = rebuilt.probability_map(image), shipped.probability_map(image)
    agree = float(np.mean((ours > 0.3) == (theirs > 0.3)))
    mean_diff = float(np.mean(np.abs(ours - theirs)))
    assert agree >= 0.995 and mean_diff <= 0.01, (agree, mean_diff, float(np.max(np.abs(ours - theirs))))


def test_a_shipped_translator_recovers_into_a_checkpoint_that_exports_byte_identical(tmp_path):
    """The shipped model.bin is the only copy of a run: recovered, it trains on (--init) and exports back unchanged."""
    import torch

    run, out = tmp_path / "run", tmp_path / "ct2"
    recovered = run_module("models.translator.recover", str(ROOT / "models/it-en"), str(run))
    assert "'enc_layers': 4, 'dec_layers': 2" in recovered.stdout
    state = torch.load(run / "checkpoint.pt", weights_only=False)
    assert state["step"] == 0 and float(state["model"]["model.shared.weight"][-1].abs().max()) == 0.0  # the pad row
    run_module("models.translator.export", "--run", str(run), "--out", str(out), "--phrases", str(tmp_path / "none"))
    assert (out / "model.bin").read_bytes() == (ROOT / "models/it-en/model.bin").read_bytes()
    assert (out / "shared_vocabulary.json").read_text() == (ROOT / "models/it-en/shared_vocabulary.json").read_text()
    # the trip between machines (pack.py: int8 rows, exact norms, no sinusoids) keeps every weight
    from models.translator.recover import read_model_bin

    run_module("models.translator.pack", "pack", str(run), str(tmp_path / "it.pack"))
    run_module("models.translator.pack", "unpack", str(tmp_path / "it.pack"), str(tmp_path / "unpacked"))
    run_module("models.translator.export", "--run", str(tmp_path / "unpacked"), "--out", str(tmp_path / "trip"),
               "--phrases", str(tmp_path / "none"))
    shipped, trip = read_model_bin(ROOT / "models/it-en/model.bin"), read_model_bin(tmp_path / "trip/model.bin")
    assert shipped.keys() == trip.keys()
    assert max(float(np.abs(np.asarray(shipped[k], float) - np.asarray(trip[k], float)).max(initial=0)) for k in shipped) < 1e-6
