"""Cache bundles on the device: the service's most asked (text → translation) answers for a pair,
fetched by ``ar-translate models update`` and consulted by the translator before its own model, so
those texts get the service's answer offline.

A bundle is checked before it is stored: its ``sha256`` over the canonical bytes of ``{"pair",
"model", "entries"}`` and, when the device has the service token, its HMAC-SHA256 ``signature`` of
the same bytes. Stored as ``$AR_TRANSLATE_HOME/bundles/PAIR.sqlite``, replaced atomically.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from pathlib import Path

from edge.errors import PullError
from edge.textnorm import normalise


def bundle_bytes(pair: str, model: str, entries: list[dict]) -> bytes:
    """The canonical bytes a bundle's checksum and signature cover."""
    return json.dumps({"pair": pair, "model": model, "entries": entries}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def sign(token: str, data: bytes) -> str:
    return hmac.new(token.encode(), data, hashlib.sha256).hexdigest()


def bundle_path(pair: str) -> Path:
    from models.catalog import user_home

    return user_home() / "bundles" / f"{pair}.sqlite"


def check_bundle(bundle: object, pair: str, token: str | None) -> list[tuple[str, str]]:
    """The (text, translation) entries of a bundle answer, after its checksum and signature check out.
    Raises ``PullError`` naming what is wrong."""
    if not isinstance(bundle, dict) or bundle.get("pair") != pair or not isinstance(bundle.get("model"), str) \
            or not isinstance(bundle.get("entries"), list):
        raise PullError(f"the {pair} cache bundle is not a bundle")
    entries = bundle["entries"]
    if not all(isinstance(e, dict) and isinstance(e.get("text"), str) and isinstance(e.get("translation"), str)
               for e in entries):
        raise PullError(f"the {pair} cache bundle holds malformed entries")
    data = bundle_bytes(pair, bundle["model"], entries)
    if hashlib.sha256(data).hexdigest() != bundle.get("sha256"):
        raise PullError(f"the {pair} cache bundle fails its checksum: not stored")
    if token and not hmac.compare_digest(sign(token, data), str(bundle.get("signature", ""))):
        raise PullError(f"the {pair} cache bundle's signature does not match the service token: not stored")
    return [(e["text"], e["translation"]) for e in entries if e["text"].strip() and e["translation"].strip()]


def store_bundle(pair: str, model: str, entries: list[tuple[str, str]]) -> Path:
    """Write the bundle as the pair's SQLite file, replacing the old one in one rename."""
    path = bundle_path(pair)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    with db:
        db.execute("CREATE TABLE bundle (key TEXT PRIMARY KEY, translation TEXT NOT NULL) WITHOUT ROWID")
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID")
        db.executemany("INSERT OR REPLACE INTO bundle VALUES (?, ?)", [(normalise(t), tr) for t, tr in entries])
        db.executemany("INSERT INTO meta VALUES (?, ?)", [("model", model), ("entries", str(len(entries)))])
    db.close()
    tmp.replace(path)
    return path


class BundleCache:
    """Read-only lookups in a stored bundle (nothing of it held in RAM)."""

    def __init__(self, path: Path):
        self.path = path
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self.model = dict(self._db.execute("SELECT name, value FROM meta").fetchall()).get("model", "")
        self.hits = 0

    def get_many(self, texts: list[str]) -> dict[str, str]:
        found = lookup(self._db, "SELECT key, translation FROM bundle WHERE", (), texts)
        self.hits += len(found)
        return found


def lookup(db: sqlite3.Connection, select: str, args: tuple, texts: list[str]) -> dict[str, str]:
    """text → value for the texts whose normalised key ``select`` (``SELECT key, value FROM … WHERE``,
    its own ``?`` filled by ``args``) finds, queried in chunks of 500 keys."""
    keys = {normalise(t): t for t in texts}
    found = {}
    for start in range(0, len(keys), 500):
        chunk = list(keys)[start: start + 500]
        sql = f"{select} {'AND ' if args else ''}key IN ({','.join('?' * len(chunk))})"
        found.update({keys[k]: v for k, v in db.execute(sql, (*args, *chunk)).fetchall()})
    return found


def open_bundle(pair: str) -> BundleCache | None:
    path = bundle_path(pair)
    try:
        return BundleCache(path) if path.is_file() else None
    except sqlite3.Error:
        return None  # a damaged bundle is ignored: the model answers
