"""What the service hands devices ahead of time: model releases and cache bundles.

    GET /v1/models                   {"models": [{name, version, kind, pair, sha256, size, card, selftest,
                                      limits, url}, ...]}: the release packages in ``--releases DIR``
    GET /v1/models/{name}/{version}  the package (a zip; HTTP Range resumes an interrupted download)
    GET /v1/cache/{pair}?limit=N&min_count=K
                                     the service's most asked (text → translation) answers for the pair,
                                     from the model it serves now, as a checksummed, signed bundle

A bundle's ``sha256`` covers the canonical JSON of ``{"pair", "model", "entries"}``; its ``signature``
is HMAC-SHA256 of the same bytes keyed with the service token, so a device holding the token knows
the bundle came from the service and was not changed on the way (a proxy on a plain-http private
network, a truncated download).
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from cloud_fallback.guard import error
from cloud_fallback.store import Store
from edge.bundle import bundle_bytes, sign
from edge.errors import ArTranslateError
from models.catalog import sha256_of
from models.release import read_release

MAX_BUNDLE_ENTRIES = 20_000


class Releases:
    """The release packages of a folder, read once per file version (path, size, mtime)."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self._seen: dict[Path, tuple[tuple[int, float], dict]] = {}
        self._lock = threading.Lock()

    def listing(self) -> dict[tuple[str, str], dict]:
        """(name, version) → the published description, with the package's path under ``_path``."""
        if self.folder is None or not self.folder.is_dir():
            return {}
        out = {}
        with self._lock:
            for package in sorted(self.folder.glob("*.zip")):
                stat = package.stat()
                stamp = (stat.st_size, stat.st_mtime)
                if self._seen.get(package, ((-1, 0.0), {}))[0] != stamp:
                    try:
                        release = read_release(package)
                    except ArTranslateError:
                        continue  # not a release: not published
                    self._seen[package] = (stamp, self._describe(release, package, stat.st_size))
                item = self._seen[package][1]
                out[(item["name"], item["version"])] = item
        return out

    @staticmethod
    def _describe(release: dict, package: Path, size: int) -> dict:
        return {"name": release["name"], "version": release["version"], "kind": release["kind"],
                "pair": "-".join(release["languages"]), "languages": release["languages"],
                "sha256": sha256_of(package), "size": size, "card": release.get("card", ""),
                "licence": release.get("licence", ""), "selftest": release["selftest"], "limits": release["limits"],
                "url": f"/v1/models/{release['name']}/{release['version']}", "_path": str(package)}


def deploy_router(releases: Releases, store: Store, token: str, pairs: list[tuple[str, str]], model_name) -> APIRouter:
    """``model_name(source, target)`` is the name of the model the service answers the pair with."""
    router = APIRouter()
    available = [f"{s}-{t}" for s, t in pairs]

    @router.get("/v1/models")
    async def models():
        return {"models": [{k: v for k, v in item.items() if not k.startswith("_")}
                           for item in releases.listing().values()]}

    @router.get("/v1/models/{name}/{version}")
    async def package(name: str, version: str):
        item = releases.listing().get((name, version))  # looked up, never joined to a path
        if item is None:
            return error(404, f"no release {name} {version}")
        return FileResponse(item["_path"], media_type="application/zip", filename=f"{name}-{version}.zip")

    @router.get("/v1/cache/{pair}")
    async def bundle(pair: str, limit: int = Query(5000, ge=1, le=MAX_BUNDLE_ENTRIES),
                     min_count: int = Query(2, ge=1)):
        if pair not in available:
            return error(404, f"no model for {pair}", available=available)
        source, target = pair.split("-")
        model = model_name(source, target)
        entries = [{"text": t, "translation": tr, "count": c} for t, tr, c in store.top_answers(pair, model, limit, min_count)]
        data = bundle_bytes(pair, model, entries)
        return {"pair": pair, "model": model, "created": round(time.time()), "entries": entries,
                "sha256": hashlib.sha256(data).hexdigest(), "signature": sign(token, data)}

    return router
