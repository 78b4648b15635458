"""Release packages: what the service publishes and ``ar-translate models update`` installs.

A release is one zip: ``release.json`` (name, version, kind, languages, layout, licence, source, the
model card's text, every file's sha256 and size, the self-test and its limits) and the model's
files under ``model/``. The self-test's expected outputs are produced here, by running the packaged
model through the same self-test the device runs (``models/selftest.py``), so a device that gets
other outputs has a broken download, a broken runtime or a model that is not what was published.

    python -m models.release ding-de-en-int8 --version 2026.11.25 --out releases/
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from edge.errors import PullError
from models.catalog import PACKAGE_DIR, ModelEntry, find, require_installed, sha256_of
from models.selftest import run_selftest

RELEASE_FILE = "release.json"
MODEL_DIR = "model"
VERSION = re.compile(r"^\d+(\.\d+){0,3}$")  # dotted numbers: 2026.11.25, 3, 1.2.0
SELFTEST_TEXTS = {  # common sign texts per source language: what a model update must still translate
    "de": ["Notausgang", "Rauchen verboten", "Heute geschlossen", "Bitte nicht füttern", "Ausgang", "Eingang",
           "Bahnhof", "Vorsicht Stufe", "Zutritt verboten", "Bitte hier warten", "Kein Trinkwasser",
           "Der Zug fällt heute aus"],
    "fr": ["Sortie", "Entrée", "Fermé", "Ouvert", "Toilettes", "Gare", "Sortie de secours", "Défense de fumer",
           "Attention", "Poussez", "Tirez", "Accueil"],
    "es": ["Salida", "Entrada", "Cerrado", "Abierto", "Aseos", "Estación", "Salida de emergencia", "Prohibido fumar",
           "Peligro", "Empujar", "Tirar", "Información"],
    "it": ["Uscita", "Entrata", "Chiuso", "Aperto", "Bagni", "Stazione", "Uscita di emergenza", "Vietato fumare",
           "Pericolo", "Spingere", "Tirare", "Informazioni"],
}


@dataclass
class ReleaseLimits:
    max_load_s: float = 20.0  # the model must load in this time on the device ...
    max_rss_mb: float = 250.0  # ... and the self-test process must stay under this peak RSS (the pi4 budget)
    min_exact: float = 0.8  # share of self-test outputs that must equal the published ones (int8 kernels of
    # other CPUs may round a rare beam differently; a broken model gets none right)


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of a dotted version ("2026.11.25" < "2026.11.100"); unversioned ("") sorts first."""
    return tuple(int(p) for p in version.split(".")) if version else ()


def check_version(version: str) -> str:
    if not VERSION.match(version):
        raise PullError(f"invalid version '{version}': use dotted numbers, e.g. 2026.11.25")
    return version


def build_release(entry: ModelEntry, version: str, out_dir: Path, texts: list[str] | None = None,
                  limits: ReleaseLimits | None = None) -> Path:
    """Package the installed translator ``entry`` as ``out_dir/NAME-VERSION.zip``; returns its path."""
    check_version(version)
    if entry.kind != "translator":
        raise PullError(f"'{entry.name}' is a {entry.kind}; releases carry translators")
    require_installed(entry)
    limits = limits or ReleaseLimits()
    texts = texts or SELFTEST_TEXTS.get(entry.languages[0])
    if not texts:
        raise PullError(f"no self-test texts for {entry.languages[0]}: give some")
    folder = entry.folder()
    roles = {role: path for role, path in entry.layout.items() if path}
    wanted = sorted({Path(p) for p in roles.values() if (folder / p).is_file()}
                    | {f.relative_to(folder) for p in roles.values() if (folder / p).is_dir()
                       for f in (folder / p).rglob("*") if f.is_file() and f.name != "CARD.md"})
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        staged = Path(tmp) / MODEL_DIR
        for rel in wanted:
            (staged / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / rel, staged / rel)
        result = run_selftest(staged, roles, texts)
        card = (PACKAGE_DIR / entry.card).read_text(encoding="utf-8") if entry.card else ""
        release = {
            "name": entry.name, "version": version, "kind": entry.kind, "format": entry.format,
            "languages": entry.languages, "layout": roles, "licence": entry.licence, "source": entry.source,
            "card": card,
            "files": [{"path": str(rel), "sha256": sha256_of(staged / rel), "size": (staged / rel).stat().st_size}
                      for rel in wanted],
            "selftest": {"texts": texts, "expected": result.outputs, "min_exact": limits.min_exact},
            "limits": {"max_load_s": limits.max_load_s, "max_rss_mb": limits.max_rss_mb},
        }
        target = out_dir / f"{entry.name}-{version}.zip"
        partial = target.with_suffix(".zip.part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(RELEASE_FILE, json.dumps(release, indent=2, ensure_ascii=False))
            for rel in wanted:
                zf.write(staged / rel, f"{MODEL_DIR}/{rel}")
        partial.replace(target)
    return target


def read_release(package: Path) -> dict:
    """``release.json`` of a package, checked for the fields the device relies on."""
    try:
        with zipfile.ZipFile(package) as zf:
            release = json.loads(zf.read(RELEASE_FILE))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise PullError(f"{package.name} is not a release package (no readable {RELEASE_FILE})") from None
    needed = {"name": str, "version": str, "kind": str, "languages": list, "layout": dict, "files": list,
              "selftest": dict, "limits": dict}
    wrong = [k for k, kind in needed.items() if not isinstance(release.get(k), kind)]
    if wrong:
        raise PullError(f"{package.name}: release.json lacks or garbles {', '.join(wrong)}")
    check_version(release["version"])
    return release


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="catalog name of an installed translator")
    parser.add_argument("--version", required=True, help="dotted numbers, e.g. 2026.11.25")
    parser.add_argument("--out", type=Path, required=True, help="folder the service publishes (serve --releases)")
    parser.add_argument("--texts", type=Path, help="self-test texts, one per line (default: common sign texts)")
    args = parser.parse_args()
    texts = [t for t in args.texts.read_text(encoding="utf-8").splitlines() if t.strip()] if args.texts else None
    path = build_release(find(args.name), args.version, args.out, texts)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
