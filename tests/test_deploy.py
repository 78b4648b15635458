"""Model updates and cache bundles against the real service on 127.0.0.1: an update, a corrupt
download (through a fault proxy), a failing self-test, a run in progress, rollbacks, bundles."""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import pytest

from benchmarks.faultproxy import FaultProxy
from cloud_fallback.client import http_call
from cloud_fallback.server import BackgroundServer, ServerConfig, create_app
from edge.bundle import bundle_path, check_bundle
from edge.errors import PullError
from edge.translate import TranslatorOptions, load_translator
from models.catalog import find, models_in_use, translator_for, user_home
from models.release import RELEASE_FILE, build_release
from models.update import UpdateOptions, rollback, update
from tests.conftest import run_cli

TOKEN = "deploy-token"
SHIPPED_VERSION = "2026.11.24"


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """Two releases of the shipped translator (its own files, newer versions) and one whose published
    self-test outputs are wrong, built by the project's release script in an isolated home."""
    out = tmp_path_factory.mktemp("releases")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AR_TRANSLATE_HOME", str(tmp_path_factory.mktemp("build-home")))
        patch.setenv("AR_TRANSLATE_CACHE", str(tmp_path_factory.getbasetemp() / "ar-cache"))
        entry = find("ding-de-en-int8")
        first = build_release(entry, "2026.12.1", out / "one")
        second = build_release(entry, "2026.12.2", out / "two")
    bad = out / "bad" / "ding-de-en-int8-2026.12.3.zip"
    bad.parent.mkdir()
    with zipfile.ZipFile(second) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == RELEASE_FILE:
                release = json.loads(data)
                release["version"] = "2026.12.3"
                release["selftest"]["expected"] = ["something else"] * len(release["selftest"]["texts"])
                data = json.dumps(release).encode()
            dst.writestr(item, data)
    return {"one": first, "two": second, "bad": bad}


@pytest.fixture
def releases(tmp_path):
    folder = tmp_path / "published"
    folder.mkdir()
    return folder


@pytest.fixture
def service(releases, tmp_path):
    app = create_app(ServerConfig(token=TOKEN, releases=releases, store=str(tmp_path / "store.sqlite")))
    with BackgroundServer(app) as url:
        yield url, app


def publish(releases: Path, package: Path) -> None:
    (releases / package.name).write_bytes(package.read_bytes())


def options(url: str, **kw) -> UpdateOptions:
    return UpdateOptions(url, token=TOKEN, **kw)


def active_version() -> str:
    return translator_for("de", "en").version


def test_update_installs_a_newer_release_after_its_self_test(service, releases, packages):
    url, _ = service
    publish(releases, packages["one"])
    status, listing = http_call(url, "GET", "/v1/models", b"", {"Authorization": f"Bearer {TOKEN}"},
                                time.monotonic() + 10, 1 << 20)
    item = json.loads(listing)["models"][0]
    assert status == 200 and (item["name"], item["version"], item["pair"]) == ("ding-de-en-int8", "2026.12.1", "de-en")
    assert item["size"] == packages["one"].stat().st_size and len(item["sha256"]) == 64 and "Model card" in item["card"]
    assert http_call(url, "GET", "/v1/models", b"", {}, time.monotonic() + 10, 1 << 20)[0] == 401

    results, _ = update(options(url))
    assert [(r.name, r.old, r.new, r.ok) for r in results] == [("ding-de-en-int8", SHIPPED_VERSION, "2026.12.1", True)]
    assert results[0].selftest["exact"] == "12/12" and 0 < results[0].selftest["peak_rss_mb"] < 250
    link = user_home() / "models" / "ding-de-en-int8"
    assert link.is_symlink() and link.resolve().name == "2026.12.1" and active_version() == "2026.12.1"
    translator = load_translator(TranslatorOptions())
    assert translator.model_name == "ding-de-en-int8@2026.12.1"
    assert translator.translate(["Notausgang"])[0].text == "emergency exit"
    listed = run_cli("models", "list")
    assert "installed 2026.12.1" in listed.stdout
    assert run_cli("models", "verify", "ding-de-en-int8").returncode == 0
    assert update(options(url))[0] == []  # nothing newer: nothing done


def test_a_corrupt_download_keeps_the_installed_model(service, releases, packages):
    url, _ = service
    publish(releases, packages["one"])
    port = int(url.rsplit(":", 1)[1])
    with FaultProxy(("127.0.0.1", port), "corrupt") as proxy:
        results, _ = update(options(proxy.url, bundles=False))
    assert not results[0].ok and "checksum mismatch" in results[0].detail and SHIPPED_VERSION in results[0].detail
    assert active_version() == SHIPPED_VERSION and not (user_home() / "models" / "ding-de-en-int8").exists()
    assert not list((user_home() / "releases" / "ding-de-en-int8").glob(".*staging"))
    results, _ = update(options(url, bundles=False))  # the same update without the fault goes through
    assert results[0].ok and active_version() == "2026.12.1"


def test_a_failing_self_test_keeps_the_installed_model(service, releases, packages):
    url, _ = service
    publish(releases, packages["bad"])
    results, _ = update(options(url, bundles=False))
    assert not results[0].ok and "self-test failed: 0/12 self-test outputs as published" in results[0].detail
    assert active_version() == SHIPPED_VERSION
    publish(releases, packages["one"])
    (releases / packages["bad"].name).unlink()
    results, _ = update(options(url, bundles=False, max_rss_mb=20))  # the device's own memory limit
    assert not results[0].ok and "peak RSS" in results[0].detail and "over the limit of 20 MB" in results[0].detail
    assert active_version() == SHIPPED_VERSION
    cli = run_cli("models", "update", "--cloud-url", url, "--quiet", env={**os.environ, "AR_TRANSLATE_CLOUD_TOKEN": TOKEN})
    assert cli.returncode == 0 and "updated 2026.11.24 -> 2026.12.1" in cli.stdout


def test_the_switch_waits_for_a_run_in_progress(service, releases, packages):
    url, _ = service
    publish(releases, packages["one"])
    with models_in_use():  # a replay holds this while it runs
        results, _ = update(options(url, bundles=False))
        assert not results[0].ok and "a replay or live run is using the models" in results[0].detail
        assert active_version() == SHIPPED_VERSION
        results, _ = update(options(url, bundles=False, during_run=True))  # asked for: it switches
    assert results[0].ok and active_version() == "2026.12.1"


def test_rollback_goes_back_one_version_then_to_the_shipped_model(service, releases, packages):
    url, _ = service
    publish(releases, packages["one"])
    update(options(url, bundles=False))
    publish(releases, packages["two"])
    results, _ = update(options(url, bundles=False))
    assert (results[0].old, results[0].new, results[0].ok) == ("2026.12.1", "2026.12.2", True)
    assert rollback("ding-de-en-int8") == "2026.12.1" and active_version() == "2026.12.1"
    cli = run_cli("models", "rollback", "ding-de-en-int8")
    assert cli.returncode == 0 and "now shipped" in cli.stdout and active_version() == SHIPPED_VERSION
    cli = run_cli("models", "rollback", "ding-de-en-int8")
    assert cli.returncode == 1 and "nothing to roll back" in cli.stderr


def test_cache_bundle_answers_the_services_texts_offline(service):
    url, app = service
    texts = json.dumps({"texts": ["Notausgang", "Kasse"], "source": "de", "target": "en"}).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    for _ in range(2):  # asked twice: frequent enough for the bundle (min_count 2)
        assert http_call(url, "POST", "/v1/translate", texts, headers, time.monotonic() + 30, 1 << 20)[0] == 200
    model = app.state.engines.translator("de", "en").model_name
    app.state.store.record_answers("de-en", model, ["Kein Zutritt"] * 3, ["SERVICE: no entry"] * 3)  # as if asked 3×
    _, lines = update(options(url))
    assert lines[0] == f"cache bundle de-en: 3 answers of {model}" and bundle_path("de-en").is_file()
    # the device has es→en, fr→en and it→en too; this service serves de-en only: said, and nothing stored for them
    others = ["es-en", "fr-en", "it-en"]
    assert [line.split(":")[0] for line in lines[1:]] == [f"cache bundle {pair}" for pair in others]
    assert all("not updated" in line and "404" in line for line in lines[1:])
    assert not any(bundle_path(pair).is_file() for pair in others)

    translator = load_translator(TranslatorOptions())
    out = translator.translate(["Kein Zutritt", "Notausgang", "Ausgang"])
    assert [(t.text, t.source) for t in out] == [("SERVICE: no entry", "cache"), ("emergency exit", "cache"),
                                                 ("exit", "local")]
    assert translator.bundle.hits == 2
    assert load_translator(TranslatorOptions(bundle=False)).translate(["Kein Zutritt"])[0].text != "SERVICE: no entry"


def test_a_tampered_or_foreign_bundle_is_refused(service):
    url, app = service
    app.state.store.record_answers("de-en", app.state.engines.translator("de", "en").model_name, ["Kasse"] * 2,
                                   ["till"] * 2)
    status, payload = http_call(url, "GET", "/v1/cache/de-en", b"", {"Authorization": f"Bearer {TOKEN}"},
                                time.monotonic() + 10, 1 << 20)
    bundle = json.loads(payload)
    assert status == 200 and check_bundle(bundle, "de-en", TOKEN) == [("Kasse", "till")]
    with pytest.raises(PullError, match="signature"):
        check_bundle(bundle, "de-en", "another-token")
    bundle["entries"][0]["translation"] = "free beer"
    with pytest.raises(PullError, match="checksum"):
        check_bundle(bundle, "de-en", TOKEN)
    assert http_call(url, "GET", "/v1/cache/fr-en", b"", {"Authorization": f"Bearer {TOKEN}"},
                     time.monotonic() + 10, 1 << 20)[0] == 404


def test_update_errors_are_one_line(service, releases):
    url, _ = service
    no_url = run_cli("models", "update", env={k: v for k, v in os.environ.items() if k != "AR_TRANSLATE_CLOUD_URL"})
    assert no_url.returncode == 1 and "--cloud-url" in no_url.stderr
    down = run_cli("models", "update", "--cloud-url", "http://127.0.0.1:9")
    assert down.returncode == 1 and "cannot reach the service" in down.stderr and "offline" in down.stderr
    unknown = run_cli("models", "update", "argos-xx-yy", "--cloud-url", url,
                      env={**os.environ, "AR_TRANSLATE_CLOUD_TOKEN": TOKEN})
    assert unknown.returncode == 1 and "publishes no release of argos-xx-yy" in unknown.stderr
    status, _ = http_call(url, "GET", "/v1/models/..%2F..%2Fetc/passwd", b"", {"Authorization": f"Bearer {TOKEN}"},
                          time.monotonic() + 10, 1 << 20)
    assert status == 404


def test_install_from_a_file_needs_no_service(packages, tmp_path):
    """A device without the network: the release package carried on a card is checked, self-tested and
    switched to like an update; a broken one changes nothing; the user's file is kept either way."""
    bad = run_cli("models", "install", str(packages["bad"]))
    assert bad.returncode == 1 and "self-test failed: 0/12" in bad.stderr and active_version() == SHIPPED_VERSION
    good = run_cli("models", "install", str(packages["one"]))
    assert good.returncode == 0 and "ding-de-en-int8: installed 2026.11.24 -> 2026.12.1: self-test 12/12" in good.stdout
    assert active_version() == "2026.12.1" and packages["one"].is_file() and packages["bad"].is_file()
    manifest = json.loads((user_home() / "models" / "ding-de-en-int8" / "manifest.json").read_text())
    assert manifest["url"] == packages["one"].resolve().as_uri() and manifest["selftest"]["exact"] == "12/12"
    assert load_translator(TranslatorOptions()).translate(["Notausgang"])[0].text == "emergency exit"
    again = run_cli("models", "install", str(packages["one"]))
    assert again.returncode == 1 and "already the installed one" in again.stderr and active_version() == "2026.12.1"
    assert run_cli("models", "rollback", "ding-de-en-int8").returncode == 0 and active_version() == SHIPPED_VERSION

    (tmp_path / "notes.zip").write_bytes(b"not a zip")
    for path, message in ((tmp_path / "notes.zip", "not a release package"), (tmp_path / "absent.zip", "no such file")):
        cli = run_cli("models", "install", str(path))
        assert cli.returncode == 1 and message in cli.stderr and len(cli.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["freedict-fr-en-int8", "freedict-es-en-int8", "freedict-it-en-int8"])
def test_every_shipped_pair_can_be_packaged_and_installed_from_a_file(name, tmp_path):
    """The release script has self-test texts for each shipped pair's language; its package installs
    offline and then answers for that pair."""
    package = build_release(find(name), "2026.12.9", tmp_path)
    release = json.loads(zipfile.ZipFile(package).read(RELEASE_FILE))
    assert len(release["selftest"]["texts"]) == 12 and any("gate.json" == f["path"] for f in release["files"])
    cli = run_cli("models", "install", str(package))
    assert cli.returncode == 0 and f"{name}: installed " in cli.stdout and "self-test 12/12" in cli.stdout
    lang = find(name).languages[0]
    assert translator_for(lang, "en").version == "2026.12.9"
