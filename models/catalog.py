"""The model catalog: every model the product knows, shipped or pullable, and where it is installed.

``models/catalog.json`` lists each model's name, kind (``detector``, ``translator``,
``ocr-language``), languages, format, files with sha256 and size, licence, source and model card.
Shipped models live in this package; pulled ones under ``$AR_TRANSLATE_HOME/models/NAME`` (default
``~/.cache/ar-translate``) with a ``manifest.json`` written by ``models pull``.

    python -m models.catalog --refresh   # re-hash the shipped files into catalog.json
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from edge.errors import ModelNotFound, UnsupportedLanguagePair

PACKAGE_DIR = Path(__file__).resolve().parent
CATALOG_PATH = PACKAGE_DIR / "catalog.json"


def user_home() -> Path:
    """Root of user-installed models and caches: ``$AR_TRANSLATE_HOME`` or ``~/.cache/ar-translate``."""
    home = os.environ.get("AR_TRANSLATE_HOME")
    return Path(home) if home else Path.home() / ".cache" / "ar-translate"


def cache_dir() -> Path:
    """Derived data (the phrase table's SQLite copy): ``$AR_TRANSLATE_CACHE`` or ``user_home()/cache``."""
    cache = os.environ.get("AR_TRANSLATE_CACHE")
    return Path(cache) if cache else user_home() / "cache"


@dataclass
class ModelEntry:
    name: str
    kind: str  # "detector", "translator" or "ocr-language"
    format: str  # "tflite", "ctranslate2", "argos", "opus-mt" or "traineddata"
    languages: list[str] = field(default_factory=list)  # [source, target] for translators
    shipped: bool = False  # True: inside this package under ``path``
    path: str = ""  # shipped: folder relative to the package; pulled: set from the manifest
    files: list[dict] = field(default_factory=list)  # [{"path", "sha256", "size"}], relative to the folder
    layout: dict = field(default_factory=dict)  # translator roles → files: ct2, source_spm, target_spm, phrases
    licence: str = ""
    source: str = ""
    card: str = ""  # model card, relative to the package
    url: str = ""  # download address for pullable models
    sha256: str = ""  # of the download, when pinned
    size_mb: float = 0.0
    notes: str = ""
    version: str = ""  # dotted numbers; ``models update`` installs a newer one (models/release.py)

    def folder(self) -> Path:
        """Where the files of this model are (or would be) installed."""
        return PACKAGE_DIR / self.path if self.shipped else user_home() / "models" / self.name

    def installed(self) -> bool:
        folder = self.folder()
        return folder.is_dir() and (self.shipped or (folder / "manifest.json").is_file())

    def file(self, role: str) -> Path:
        """The installed file playing ``role`` in ``layout`` (e.g. ``ct2``, ``source_spm``)."""
        return self.folder() / self.layout.get(role, "")


def open_models_lock():
    """The lock file runs share and ``models update`` takes alone (``$AR_TRANSLATE_HOME/models.lock``)."""
    path = user_home() / "models.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("a")


@contextmanager
def models_in_use():
    """Held (shared) by every run while it uses the models; ``models update`` switches a model only
    when it can hold it alone, so an update never happens during a replay or a live run unless asked."""
    with open_models_lock() as fh:
        fcntl.flock(fh, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def catalog_entries(path: Path = CATALOG_PATH) -> list[ModelEntry]:
    """The entries of ``catalog.json`` as written, without what is installed over them."""
    return [ModelEntry(**raw) for raw in json.loads(path.read_text())["models"]]


def load_catalog(path: Path = CATALOG_PATH) -> list[ModelEntry]:
    """Catalog entries; a pulled model is described by its install manifest (which records the
    installed layout), and pulled models the catalog does not name are appended."""
    entries = catalog_entries(path)
    pulled_root = user_home() / "models"
    manifests = {}
    for manifest in sorted(pulled_root.glob("*/manifest.json")) if pulled_root.is_dir() else []:
        data = json.loads(manifest.read_text())
        manifests[data["name"]] = ModelEntry(**data["entry"])
    # an installed manifest wins over the catalog's entry, a shipped one too: ``models update`` installs
    # newer versions of shipped models under the same name (``models rollback`` brings the shipped one back)
    entries = [manifests.pop(e.name) if e.name in manifests else e for e in entries]
    return entries + list(manifests.values())


def find(name: str, entries: list[ModelEntry] | None = None) -> ModelEntry:
    entries = entries if entries is not None else load_catalog()
    for entry in entries:
        if entry.name == name:
            return entry
    raise ModelNotFound(f"no model named '{name}' in the catalog; known: {', '.join(e.name for e in entries)}")


def require_installed(entry: ModelEntry) -> ModelEntry:
    if not entry.installed():
        raise ModelNotFound(f"model '{entry.name}' is not installed; run: ar-translate models pull {entry.name}")
    return entry


def installed_manifest(entry: ModelEntry) -> dict | None:
    manifest = entry.folder() / "manifest.json"
    return json.loads(manifest.read_text()) if manifest.is_file() else None


def installed_pairs(model: str | None = None) -> list[tuple[str, str]]:
    """The installed translators' language pairs, sorted (the named model's alone when ``model`` is given):
    what the service answers, what ``models update`` fetches bundles for, what ``bench_models`` measures."""
    entries = [find(model)] if model else load_catalog()
    return sorted({tuple(e.languages) for e in entries if e.kind == "translator" and e.installed()})


def translator_for(source: str, target: str, entries: list[ModelEntry] | None = None) -> ModelEntry:
    """The installed translator for a pair: a pulled (production) model before the shipped one."""
    entries = entries if entries is not None else load_catalog()
    candidates = [e for e in entries if e.kind == "translator" and e.languages == [source, target] and e.installed()]
    if candidates:
        return sorted(candidates, key=lambda e: e.shipped)[0]
    installed = sorted({"→".join(e.languages) for e in entries if e.kind == "translator" and e.installed()})
    pullable = sorted(e.name for e in entries if e.kind == "translator" and not e.installed())
    raise UnsupportedLanguagePair(
        f"no translation model for {source}→{target}; installed: {', '.join(installed) or 'none'}; "
        f"pull one with 'ar-translate models pull NAME' (catalog: {', '.join(pullable)}) or 'argos-{source}-{target}'"
    )


def verify(entry: ModelEntry) -> list[str]:
    """Problems found re-hashing an installed model's files (empty when all is well)."""
    if not entry.installed():
        return [f"{entry.name}: not installed"]
    files = entry.files if entry.shipped else (installed_manifest(entry) or {}).get("entry", {}).get("files", [])
    return [f"{entry.name}: {problem}" for problem in file_problems(entry.folder(), files)]


def file_problems(folder: Path, files: list[dict]) -> list[str]:
    """What is wrong with ``files`` (``{"path", "sha256"}`` each) under ``folder``: missing, or another
    checksum (empty when all is well)."""
    problems = []
    for item in files:
        path = folder / str(item.get("path", ""))
        if not path.is_file():
            problems.append(f"missing {item.get('path')}")
        elif sha256_of(path) != item.get("sha256"):
            problems.append(f"checksum mismatch for {item.get('path')}")
    return problems


def refresh(path: Path = CATALOG_PATH) -> None:
    """Recompute sha256 and size of every shipped file (after a rebuild of a shipped model)."""
    data = json.loads(path.read_text())
    for raw in data["models"]:
        if not raw.get("shipped"):
            continue
        folder = PACKAGE_DIR / raw["path"]
        raw["files"] = [
            {"path": str(f.relative_to(folder)), "sha256": sha256_of(f), "size": f.stat().st_size}
            for f in sorted(folder.rglob("*")) if f.is_file() and f.name != "CARD.md" and "__pycache__" not in f.parts
        ]
        raw["size_mb"] = round(sum(f["size"] for f in raw["files"]) / 1e6, 2)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refresh", action="store_true", required=True, help="re-hash shipped files into catalog.json")
    parser.parse_args()
    refresh()
    shipped = [e for e in load_catalog() if e.shipped]
    print(f"re-hashed {sum(len(e.files) for e in shipped)} files of {len(shipped)} shipped models into {CATALOG_PATH}")


if __name__ == "__main__":
    main()
