"""``models pull`` against a real HTTP server on 127.0.0.1 serving archives built here."""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from models.catalog import find, load_catalog
from tests.conftest import ROOT, run_cli

SHIPPED = ROOT / "models" / "de-en"
ENG_TRAINEDDATA = next(Path("/usr/share/tesseract-ocr").glob("*/tessdata/eng.traineddata"))


class Files(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    requests: list[tuple[str, str | None]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.requests.append((self.path, self.headers.get("Range")))
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][6:].split("-")[0])
            if start >= len(body):  # as real servers do: nothing left to send from there
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Files.files, Files.requests = {}, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", Files
    httpd.shutdown()


def argos_package(src: str, tgt: str) -> bytes:
    """A real Argos-format package around the shipped CTranslate2 model."""
    buffer = io.BytesIO()
    top = f"translate-{src}_{tgt}-1_0"
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in ("model.bin", "config.json", "shared_vocabulary.json"):
            zf.write(SHIPPED / name, f"{top}/model/{name}")
        zf.write(SHIPPED / "spm.model", f"{top}/sentencepiece.model")
        zf.writestr(f"{top}/metadata.json", json.dumps({"package_version": "1.0", "from_code": src, "to_code": tgt}))
    return buffer.getvalue()


def zip_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return buffer.getvalue()


def test_pull_argos_package_then_translate_with_it(server, isolated_home):
    url, files = server
    package = argos_package("de", "en")
    files.files["/de_en.argosmodel"] = package
    digest = hashlib.sha256(package).hexdigest()
    result = run_cli("models", "pull", "argos-de-en", "--url", f"{url}/de_en.argosmodel", "--sha256", digest, "--quiet")
    assert result.returncode == 0, result.stderr
    installed = isolated_home / "models" / "argos-de-en"
    assert (installed / "manifest.json").is_file()
    assert json.loads((installed / "manifest.json").read_text())["download_sha256"] == digest
    assert not list((isolated_home / "models").glob(".argos-de-en.*"))  # no staging left behind
    verify = run_cli("models", "verify", "argos-de-en")
    assert verify.returncode == 0 and "argos-de-en: ok" in verify.stdout
    listing = run_cli("models", "list")
    assert "argos-de-en" in listing.stdout and "installed" in listing.stdout
    # the pulled model now answers for de→en: the same network, but without the shipped phrase table
    from edge.translate import LocalTranslator, TranslatorOptions

    spm = SHIPPED / "spm.model"
    expected = LocalTranslator(SHIPPED, spm, spm, TranslatorOptions()).translate(["Bahnsteig"])[0]
    translated = run_cli("translate", "Bahnsteig")
    assert translated.returncode == 0 and translated.stdout.strip() == expected


def test_pull_from_the_argos_index_installs_a_new_pair(server, isolated_home):
    url, files = server
    files.files["/index.json"] = json.dumps([
        {"from_code": "de", "to_code": "es", "links": [f"{url}/de_es.argosmodel"]},
        {"from_code": "de", "to_code": "fr", "links": [f"{url}/de_fr.argosmodel"]},
    ]).encode()
    files.files["/de_fr.argosmodel"] = argos_package("de", "fr")
    assert run_cli("translate", "--target", "fr", "Ausgang").returncode == 2
    result = run_cli("models", "pull", "argos-de-fr", "--index", f"{url}/index.json", "--quiet")
    assert result.returncode == 0, result.stderr
    assert run_cli("translate", "--target", "fr", "Ausgang").returncode == 0
    assert find("argos-de-fr").languages == ["de", "fr"]


def test_interrupted_download_resumes_with_a_range_request(server, isolated_home):
    url, files = server
    package = argos_package("de", "en")
    files.files["/p.argosmodel"] = package
    part = isolated_home / "downloads" / "argos-de-en.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(package[: len(package) // 2])
    result = run_cli("models", "pull", "argos-de-en", "--url", f"{url}/p.argosmodel",
                     "--sha256", hashlib.sha256(package).hexdigest(), "--quiet")
    assert result.returncode == 0, result.stderr
    assert files.requests == [("/p.argosmodel", f"bytes={len(package) // 2}-")]


@pytest.mark.parametrize("case, body, message", [
    ("corrupt", b"PK\x03\x04 this is not a zip at all" * 10, "corrupt archive"),
    ("zip-slip", zip_with({"../../escaped.txt": b"owned"}), "escapes the install folder"),
    ("absolute", zip_with({"/tmp/ar-translate-absolute.txt": b"owned"}), "escapes the install folder"),
    ("not-argos", zip_with({"pkg/readme.txt": b"hello"}), "not an Argos package"),
], ids=["corrupt", "zip-slip", "absolute", "not-argos"])
def test_bad_archives_are_refused_and_nothing_is_installed(server, isolated_home, case, body, message):
    url, files = server
    files.files["/bad.zip"] = body
    result = run_cli("models", "pull", "argos-de-en", "--url", f"{url}/bad.zip", "--quiet")
    assert result.returncode == 1
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (isolated_home / "models" / "argos-de-en").exists()
    assert not (isolated_home / "models").exists() or not list((isolated_home / "models").iterdir())
    assert not (isolated_home.parent / "escaped.txt").exists()
    assert not Path("/tmp/ar-translate-absolute.txt").exists()


def test_checksum_mismatch_is_refused_and_the_download_removed(server, isolated_home):
    url, files = server
    files.files["/p.argosmodel"] = argos_package("de", "en")
    result = run_cli("models", "pull", "argos-de-en", "--url", f"{url}/p.argosmodel", "--sha256", "0" * 64, "--quiet")
    assert result.returncode == 1 and "checksum mismatch" in result.stderr
    assert not (isolated_home / "models" / "argos-de-en").exists()
    assert not list((isolated_home / "downloads").iterdir())


def test_offline_is_a_clear_one_line_error(isolated_home):
    result = run_cli("models", "pull", "argos-de-en", "--url", "http://127.0.0.1:9/p.argosmodel", "--quiet")
    assert result.returncode == 1
    assert "cannot reach" in result.stderr and "offline" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_pull_tesseract_language_then_ocr_in_it(server, isolated_home, tmp_path, monkeypatch):
    import cv2

    from benchmarks.signs import SignStyle, sign_photo
    from edge.ocr import tesseract_language

    own = tmp_path / "tessdata"  # only German and English, whatever tesseract-ocr-* the machine has
    own.mkdir()
    for code in ("deu", "eng"):
        code, folder = tesseract_language(code[:2])
        (own / f"{code}.traineddata").symlink_to(folder / f"{code}.traineddata")
    monkeypatch.setenv("AR_TRANSLATE_TESSDATA", str(own))
    url, files = server
    files.files["/fra.traineddata"] = ENG_TRAINEDDATA.read_bytes()  # any valid traineddata serves the test
    image, _ = sign_photo(["Sortie de secours"], seed=2, styles=[SignStyle(text_px=40)])
    picture = tmp_path / "sign.png"
    cv2.imwrite(str(picture), image)
    before = run_cli("replay", str(picture), "--source", "fr", "--ocr-only")
    assert before.returncode == 2 and "no Tesseract data for language 'fr'" in before.stderr
    result = run_cli("models", "pull", "tesseract-fra", "--url", f"{url}/fra.traineddata", "--quiet")
    assert result.returncode == 0, result.stderr
    events = tmp_path / "e.jsonl"
    after = run_cli("replay", str(picture), "--source", "fr", "--ocr-only", "--events", str(events))
    assert after.returncode == 0, after.stderr
    frame = json.loads(events.read_text().splitlines()[0])
    assert [r["text"] for r in frame["regions"]] == ["Sortie de secours"]


def test_shipped_models_cannot_be_pulled():
    result = run_cli("models", "pull", "ding-de-en-int8", "--quiet")
    assert result.returncode == 1 and "ships with the package" in result.stderr


def test_every_file_the_catalog_ships_is_in_the_package_data():
    """What the catalog calls shipped must go into the wheel: ``langid.npz`` once did not, and an installed
    package's ``--source auto`` had no language model. (The recognizer is built by ``make``, not shipped
    in git: it is left out here as it is from the wheel.)"""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["models"]
    for entry in load_catalog():
        if not entry.shipped or entry.kind == "recognizer":
            continue
        for file in entry.files:
            path = f"{entry.path}/{file['path']}" if entry.path else file["path"]
            assert any(fnmatch.fnmatch(path, glob) for glob in globs), f"{entry.name}: {path} is not package data"


def test_a_model_name_that_would_leave_the_models_folder_is_refused(isolated_home, tmp_path):
    for name in ("argos-a/../../x-y", "../evil", "tesseract-..", "Argos-DE-EN", "a\\b"):
        result = run_cli("models", "pull", name, "--url", "http://127.0.0.1:9/x")
        assert result.returncode == 1 and "invalid model name" in result.stderr, (name, result.stderr)
    assert not (isolated_home / "models").exists() and not (isolated_home.parent / "x-y").exists()


def test_a_part_file_as_large_as_the_download_is_discarded_and_the_download_starts_again(server, isolated_home):
    url, files = server
    files.files["/eng.traineddata"] = ENG_TRAINEDDATA.read_bytes()
    part = isolated_home / "downloads" / "tesseract-xx.traineddata.part"
    part.parent.mkdir(parents=True)
    stale = len(files.files["/eng.traineddata"]) + 10
    part.write_bytes(b"\0" * stale)  # longer than the file: HTTP 416 on every resume
    result = run_cli("models", "pull", "tesseract-xx", "--url", f"{url}/eng.traineddata", "--quiet")
    assert result.returncode == 0, result.stderr
    installed = isolated_home / "models" / "tesseract-xx" / "xx.traineddata"
    assert installed.read_bytes() == files.files["/eng.traineddata"] and not part.exists()
    assert [r for _, r in files.requests] == [f"bytes={stale}-", None]  # one refused resume, one whole download


def test_oversized_downloads_and_archives_are_refused(server, isolated_home, tmp_path, monkeypatch):
    url, files = server
    files.files["/big.traineddata"] = ENG_TRAINEDDATA.read_bytes()
    result = run_cli("models", "pull", "tesseract-big", "--url", f"{url}/big.traineddata", "--max-size", "0.5", "--quiet")
    assert result.returncode == 1 and "over the limit of 0 MB (--max-size)" in result.stderr, result.stderr
    assert not (isolated_home / "models" / "tesseract-big").exists()
    from edge.errors import PullError
    from models import pull

    archive = tmp_path / "bomb.zip"
    archive.write_bytes(zip_with({f"m{i}.txt": b"x" for i in range(30)} | {"big.bin": b"\0" * 5000}))
    monkeypatch.setattr(pull, "MAX_MEMBERS", 20)
    with pytest.raises(PullError, match="31 members"):
        pull.safe_extract(archive, tmp_path / "out")
    monkeypatch.setattr(pull, "MAX_MEMBERS", 100)
    monkeypatch.setattr(pull, "MAX_UNPACKED_BYTES", 4000)
    with pytest.raises(PullError, match="unpacks to"):
        pull.safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_plain_http_elsewhere_bad_schemes_and_bad_index_json_are_one_line_errors(server, isolated_home):
    url, files = server
    for address, message in (("http://example.com/m.zip", "refusing plain http"), ("ftp://example.com/m.zip",
                                                                                    "unsupported download address"),
                             ("file:///etc/passwd", "unsupported download address")):
        result = run_cli("models", "pull", "argos-de-fr", "--url", address)
        assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr, result.stderr
    files.files["/object.json"] = b'{"not": "a list"}'
    files.files["/garbage.json"] = b"<html>"
    files.files["/odd.json"] = b'[1, "x", {"from_code": "de", "to_code": "fr", "links": [3]}]'
    for path, message in (("/object.json", "not a list of packages"), ("/garbage.json", "is not JSON"),
                          ("/odd.json", "has no de→fr package")):
        result = run_cli("models", "pull", "argos-de-fr", "--index", f"{url}{path}")
        assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr, result.stderr
