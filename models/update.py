"""``ar-translate models update``, ``models install`` and ``models rollback``: newer models and cache bundles
from the service, or a release package from a file, installed only after they prove themselves on this device.

For each release the service lists (``GET /v1/models``) that is newer than the installed model of
the same name (or that is named on the command line):
1. download it (resumable, within ``--max-size``) and check its sha256 against the listing;
2. unpack it beside the installed versions and check every file against ``release.json``;
3. self-test it in a child process (``models/selftest.py``): the published texts must translate to
   the published outputs (at least ``min_exact`` of them), within the release's load-time and memory
   limits and the device's own (``--max-rss-mb``);
4. only then switch: ``$AR_TRANSLATE_HOME/models/NAME`` is a link to ``releases/NAME/VERSION``,
   replaced in one rename. A run in progress holds ``models_in_use``; the switch waits for none and
   refuses instead, unless ``--during-run``.
``models install FILE`` takes steps 2–4 for a release package given as a file (``python -m models.release``
builds one; a device without the network gets it on a card). Any failure leaves the installed model as it
was. ``models rollback NAME`` switches back to the
version before (the shipped model when no earlier update is left). The last ``KEEP`` versions stay.

Then, for each installed translator pair, the service's cache bundle is fetched and stored
(``edge/bundle.py``). Nothing here runs unless the user runs the command: no replay, live run or
offline mode ever updates anything.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

from cloud_fallback.client import ClientOptions, CloudUnavailable, check_options, http_call, tls_for
from edge.bundle import check_bundle, store_bundle
from edge.errors import PullError
from models.catalog import (
    ModelEntry,
    catalog_entries,
    file_problems,
    installed_pairs,
    load_catalog,
    open_models_lock,
    sha256_of,
    user_home,
)
from models.pull import download, safe_extract
from models.release import MODEL_DIR, check_version, read_release, version_key
from models.selftest import run_selftest

KEEP = 3  # installed versions kept per model (for rollback)
LISTING_TIMEOUT_S = 15.0
MAX_LISTING_BYTES = 4 << 20
MAX_BUNDLE_BYTES = 32 << 20


@dataclass
class UpdateOptions:
    url: str
    token: str | None = None
    ca_bundle: str | None = None  # PEM CA(s) for an https service
    max_bytes: int = 500 * 10**6  # downloads larger than this are refused
    max_rss_mb: float | None = None  # the device's own memory limit for the self-test (besides the release's)
    names: list[str] = field(default_factory=list)  # only these models (and install them when not installed)
    bundles: bool = True  # also fetch the cache bundles of the installed pairs
    during_run: bool = False  # switch even while a replay or live run uses the models
    progress: bool = False


@dataclass
class UpdateResult:
    name: str
    old: str  # version before ("" none installed)
    new: str
    ok: bool
    detail: str  # what the self-test measured, or why the update failed
    selftest: dict = field(default_factory=dict)


class Service:
    """The few GETs the updater makes, with the token and the TLS settings of the cloud client."""

    def __init__(self, options: UpdateOptions):
        check_options(ClientOptions(options.url, token=options.token, ca_bundle=options.ca_bundle))
        self.options = options
        self.headers = {"Authorization": f"Bearer {options.token}"} if options.token else {}
        self.tls = tls_for(options.url, options.ca_bundle)

    def get_json(self, path: str, max_bytes: int) -> dict:
        try:
            status, payload = http_call(self.options.url, "GET", path, b"", self.headers,
                                        time.monotonic() + LISTING_TIMEOUT_S, max_bytes, tls=self.tls)
        except CloudUnavailable as exc:
            raise PullError(f"cannot reach the service at {self.options.url} ({exc}); are you offline?") from None
        if status != 200:
            raise PullError(f"{path}: the service answered HTTP {status}: {payload[:200].decode('utf-8', 'replace')}")
        try:
            return json.loads(payload)
        except ValueError:
            raise PullError(f"{path}: the service's answer is not JSON") from None

    def listing(self) -> list[dict]:
        models = self.get_json("/v1/models", MAX_LISTING_BYTES).get("models")
        if not isinstance(models, list):
            raise PullError("/v1/models: no list of models")
        return [m for m in models if isinstance(m, dict) and isinstance(m.get("name"), str)
                and isinstance(m.get("version"), str) and isinstance(m.get("sha256"), str)]

    def download(self, item: dict, target: Path) -> Path:
        url = self.options.url.rstrip("/") + f"/v1/models/{quote(item['name'])}/{quote(item['version'])}"
        return download(url, target, self.options.progress, self.options.max_bytes, self.headers, self.tls)


def releases_dir(name: str) -> Path:
    return user_home() / "releases" / name


def _history(name: str) -> list[str]:
    path = releases_dir(name) / "history.json"
    try:
        return [v for v in json.loads(path.read_text()) if isinstance(v, str)]
    except (OSError, ValueError, TypeError):
        return []


def _write_history(name: str, versions: list[str]) -> None:
    path = releases_dir(name) / "history.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(versions))
    tmp.replace(path)


def _switch(name: str, version: str | None, during_run: bool) -> None:
    """Point ``models/NAME`` at ``releases/NAME/VERSION`` (None: remove the link, the shipped model
    answers again) in one rename, while no run holds the models (unless ``during_run``)."""
    link = user_home() / "models" / name
    link.parent.mkdir(parents=True, exist_ok=True)
    with open_models_lock() as lock:
        try:
            if not during_run:  # asked to switch under a run: the run keeps the model it loaded
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PullError("a replay or live run is using the models: the switch waits until it ends "
                            "(run the update again then, or give --during-run)") from None
        if link.is_dir() and not link.is_symlink():  # installed by 'models pull': kept as version 0
            kept = releases_dir(name) / "0"
            shutil.rmtree(kept, ignore_errors=True)
            link.replace(kept)
            _write_history(name, ["0"] + [v for v in _history(name) if v != "0"])
        if version is None:
            link.unlink(missing_ok=True)
            return
        tmp = link.with_name(f".{name}.link")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path("..") / "releases" / name / version)
        os.replace(tmp, link)


def _verify_files(folder: Path, release: dict) -> None:
    problems = file_problems(folder / MODEL_DIR, release["files"])
    if problems:
        raise PullError(f"the release does not match its release.json: {problems[0]}")


def _selftest(folder: Path, release: dict, device_max_rss_mb: float | None) -> dict:
    """Run and judge the self-test; returns its figures, raises ``PullError`` when it fails."""
    test, limits = release["selftest"], release["limits"]
    texts, expected = list(test.get("texts", [])), list(test.get("expected", []))
    if not texts or len(texts) != len(expected):
        raise PullError("the release has no usable self-test")
    result = run_selftest(folder / MODEL_DIR, release["layout"], texts)
    same = sum(a == b for a, b in zip(result.outputs, expected))
    figures = {"exact": f"{same}/{len(texts)}", "load_s": result.load_s, "peak_rss_mb": result.peak_rss_mb}
    problems = []
    if same < float(test.get("min_exact", 1.0)) * len(texts):
        wrong = next((t, o, e) for t, o, e in zip(texts, result.outputs, expected) if o != e)
        problems.append(f"{same}/{len(texts)} self-test outputs as published (e.g. '{wrong[0]}' gave '{wrong[1]}', "
                        f"published '{wrong[2]}')")
    if result.load_s > float(limits.get("max_load_s", float("inf"))):
        problems.append(f"loading took {result.load_s:.1f} s, over the release's {limits['max_load_s']} s")
    rss_limit = min(float(limits.get("max_rss_mb", float("inf"))), device_max_rss_mb or float("inf"))
    if result.peak_rss_mb > rss_limit:
        problems.append(f"peak RSS {result.peak_rss_mb:.0f} MB, over the limit of {rss_limit:.0f} MB")
    if problems:
        raise PullError("self-test failed: " + "; ".join(problems))
    return figures


def install_release(service: Service, item: dict, installed: ModelEntry | None, options: UpdateOptions) -> UpdateResult:
    """Download, check, self-test and switch to one listed release; the installed model stays on failure."""
    name, version = item["name"], check_version(item["version"])
    old = installed.version if installed else ""
    try:
        if int(item.get("size", 0)) > options.max_bytes:
            raise PullError(f"{item['size'] / 1e6:.0f} MB, over the limit of {options.max_bytes / 1e6:.0f} MB (--max-size)")
        package = service.download(item, releases_dir(name) / ".downloads" / f"{version}.zip")  # makes its folders
        if sha256_of(package) != item["sha256"].lower():
            package.unlink()
            raise PullError("checksum mismatch: the download is not what the service lists; removed")
        release = read_release(package)
        if (release["name"], release["version"]) != (name, version) or release["kind"] != "translator":
            raise PullError(f"the package is {release['name']} {release['version']} ({release['kind']}), not the "
                            f"translator {name} {version} listed")
    except PullError as exc:
        return UpdateResult(name, old, version, False, f"{exc}; kept {old or 'what was installed'}")
    result = _install_package(package, release, item["sha256"], f"{options.url}{item.get('url', '')}", old,
                              options.max_rss_mb, options.during_run)
    if result.ok:
        package.unlink(missing_ok=True)
    return result


def install_file(package: Path, max_rss_mb: float | None = None, during_run: bool = False) -> UpdateResult:
    """``ar-translate models install FILE``: a release package carried to the device (``python -m models.release``
    builds one; no network needed), with the checks, self-test and switch of an update. The file is kept."""
    if not package.is_file():
        raise PullError(f"{package}: no such file")
    release = read_release(package)
    if release["kind"] != "translator":
        raise PullError(f"{package.name} holds a {release['kind']}; releases install translators")
    installed = next((e for e in load_catalog() if e.name == release["name"] and e.installed()), None)
    return _install_package(package, release, sha256_of(package), package.resolve().as_uri(),
                            installed.version if installed else "", max_rss_mb, during_run)


def _install_package(package: Path, release: dict, sha256: str, source: str, old: str,
                     max_rss_mb: float | None, during_run: bool) -> UpdateResult:
    """Unpack a release package beside the installed versions, check its files, self-test it and switch to it;
    the installed model stays on failure."""
    name, version = release["name"], release["version"]
    root = releases_dir(name)
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".{version}.staging"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        safe_extract(package, staging)
        _verify_files(staging, release)
        figures = _selftest(staging, release, max_rss_mb)
        (staging / "CARD.md").write_text(release.get("card", ""), encoding="utf-8")
        entry = ModelEntry(name=name, kind="translator", format=release.get("format", "ctranslate2"),
                           languages=release["languages"], version=version, licence=release.get("licence", ""),
                           source=release.get("source", ""), card=str(root / version / "CARD.md"),
                           layout={role: f"{MODEL_DIR}/{path}" for role, path in release["layout"].items()},
                           files=[{**f, "path": f"{MODEL_DIR}/{f['path']}"} for f in release["files"]])
        entry.size_mb = round(sum(f["size"] for f in entry.files) / 1e6, 2)
        manifest = {"name": name, "download_sha256": sha256, "url": source,
                    "installed": round(time.time()), "selftest": figures, "entry": asdict(entry)}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        final = root / version
        if final.exists():
            active = user_home() / "models" / name
            if active.is_symlink() and active.resolve() == final.resolve():
                raise PullError(f"version {version} is already the installed one")
            shutil.rmtree(final)
        staging.replace(final)
        _switch(name, version, during_run)
    except PullError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        return UpdateResult(name, old, version, False, f"{exc}; kept {old or 'what was installed'}")
    _write_history(name, [v for v in _history(name) if v != version] + [version])
    _prune(name)
    return UpdateResult(name, old, version, True, f"self-test {figures['exact']} as published, loaded in "
                        f"{figures['load_s']:.1f} s, peak RSS {figures['peak_rss_mb']:.0f} MB", figures)


def _prune(name: str) -> None:
    history = _history(name)
    for version in history[:-KEEP]:
        shutil.rmtree(releases_dir(name) / version, ignore_errors=True)
    _write_history(name, history[-KEEP:])


def rollback(name: str, during_run: bool = False) -> str:
    """Switch ``name`` back to the version installed before the current one; returns what is active
    now ("shipped" when no update is left). Raises ``PullError`` when there is nothing to go back to."""
    history = _history(name)
    link = user_home() / "models" / name
    if not history or not link.is_symlink():
        raise PullError(f"no update of '{name}' is installed: nothing to roll back")
    shipped = any(e.name == name and e.shipped for e in catalog_entries())
    previous = history[-2] if len(history) >= 2 else None
    if previous is None and not shipped:
        raise PullError(f"'{name}' has no earlier version to roll back to")
    _switch(name, previous, during_run)
    shutil.rmtree(releases_dir(name) / history[-1], ignore_errors=True)
    _write_history(name, history[:-1])
    return previous or "shipped"



def fetch_bundles(service: Service, pairs: list[str], min_count: int = 2) -> list[str]:
    """Fetch and store the cache bundle of each pair (answers asked at least ``min_count`` times); one
    line per pair saying what happened."""
    lines = []
    for pair in pairs:
        try:
            bundle = service.get_json(f"/v1/cache/{quote(pair)}?min_count={min_count}", MAX_BUNDLE_BYTES)
            entries = check_bundle(bundle, pair, service.options.token)
            store_bundle(pair, bundle["model"], entries)
            lines.append(f"cache bundle {pair}: {len(entries)} answers of {bundle['model']}")
        except PullError as exc:
            lines.append(f"cache bundle {pair}: not updated ({exc})")
    return lines


def update(options: UpdateOptions) -> tuple[list[UpdateResult], list[str]]:
    """Every update the service offers for this device, then the cache bundles."""
    service = Service(options)
    listing = service.listing()
    installed = {e.name: e for e in load_catalog() if e.installed()}
    newest: dict[str, dict] = {}
    for item in listing:
        if item.get("kind") != "translator" or (options.names and item["name"] not in options.names):
            continue
        try:
            key = version_key(check_version(item["version"]))
        except PullError:
            continue
        have = installed.get(item["name"])
        if (have or options.names) and key > version_key(have.version if have else "") \
                and key > version_key(newest.get(item["name"], {}).get("version", "")):
            newest[item["name"]] = item
    missing = [n for n in options.names if n not in newest and n not in installed]
    if missing:
        raise PullError(f"the service publishes no release of {', '.join(missing)}")
    results = [install_release(service, item, installed.get(name), options) for name, item in sorted(newest.items())]
    bundles = []
    if options.bundles:
        pairs = ["-".join(pair) for pair in installed_pairs()]
        bundles = fetch_bundles(service, pairs)
    return results, bundles
