"""The service's memory, one SQLite file: the answers it gave (for cache bundles) and the fleet's
telemetry (counters, histograms, hard cases), kept as running totals so a read is one small query.

Writes happen on the event-loop thread, one short transaction per request (WAL, ``synchronous=NORMAL``:
a crash may lose the last request's counts, never the file). ``:memory:`` keeps nothing (tests)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from edge.textnorm import normalise

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (pair TEXT, model TEXT, key TEXT, text TEXT, translation TEXT,
    count INTEGER, last REAL, PRIMARY KEY (pair, model, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (batch_id TEXT PRIMARY KEY, device TEXT, pair TEXT, received REAL, bytes INTEGER);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value REAL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS histograms (name TEXT, bin INTEGER, count INTEGER, PRIMARY KEY (name, bin)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hard_cases (kind TEXT, pair TEXT, text TEXT, device TEXT, cloud TEXT, conf REAL,
    count INTEGER, last REAL, PRIMARY KEY (kind, pair, text, device, cloud)) WITHOUT ROWID;
"""
MAX_ANSWERS = 200_000  # answers kept per pair; the least asked go first
MAX_HARD_CASES = 20_000  # hard cases kept; the least seen go first


class Store:
    def __init__(self, path: Path | str = ":memory:"):
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._lock = threading.Lock()  # the event loop writes; the model thread may read (exports)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # answers: what the cache bundles are made of

    def record_answers(self, pair: str, model: str, texts: list[str], translations: list[str]) -> None:
        now = time.time()
        rows = [(pair, model, normalise(t), t, tr, now) for t, tr in zip(texts, translations) if t.strip() and tr.strip()]
        with self._lock, self._db:
            self._db.executemany("INSERT INTO answers VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT (pair, model, key) "
                                 "DO UPDATE SET count = count + 1, translation = excluded.translation, last = excluded.last",
                                 rows)

    def top_answers(self, pair: str, model: str, limit: int, min_count: int) -> list[tuple[str, str, int]]:
        """The most asked (text, translation, count) of ``model`` for ``pair``."""
        return self.query("SELECT text, translation, count FROM answers WHERE pair = ? AND model = ? AND count >= ? "
                          "ORDER BY count DESC, key LIMIT ?", (pair, model, min_count, limit))

    def trim(self) -> None:
        """Keep the tables bounded (called after each telemetry batch and each bundle export)."""
        with self._lock, self._db:
            for pair, n in self._db.execute("SELECT pair, count(*) FROM answers GROUP BY pair").fetchall():
                if n > MAX_ANSWERS:
                    self._db.execute("DELETE FROM answers WHERE (pair, model, key) IN (SELECT pair, model, key FROM "
                                     "answers WHERE pair = ? ORDER BY count, last LIMIT ?)", (pair, n - MAX_ANSWERS))
            (n,) = self._db.execute("SELECT count(*) FROM hard_cases").fetchone()
            if n > MAX_HARD_CASES:
                self._db.execute("DELETE FROM hard_cases WHERE (kind, pair, text, device, cloud) IN (SELECT kind, pair, "
                                 "text, device, cloud FROM hard_cases ORDER BY count, last LIMIT ?)", (n - MAX_HARD_CASES,))

    # telemetry: running totals of every batch received once

    def add_batch(self, batch_id: str, device: str, pair: str, size: int, counters: dict[str, float],
                  maxima: dict[str, float], histograms: dict[str, list[int]], hard_cases: list[tuple]) -> bool:
        """Add one batch's figures; False (and nothing added) when ``batch_id`` was already received: a
        device that did not hear the answer sends the batch again."""
        now = time.time()
        with self._lock, self._db:
            fresh = self._db.execute("INSERT OR IGNORE INTO batches VALUES (?, ?, ?, ?, ?)",
                                     (batch_id, device, pair, now, size)).rowcount
            if not fresh:
                return False
            self._db.executemany("INSERT INTO counters VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + "
                                 "excluded.value", list(counters.items()))
            self._db.executemany("INSERT INTO counters VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = "
                                 "max(value, excluded.value)", list(maxima.items()))
            self._db.executemany("INSERT INTO histograms VALUES (?, ?, ?) ON CONFLICT (name, bin) DO UPDATE SET count = "
                                 "count + excluded.count",
                                 [(name, i, c) for name, bins in histograms.items() for i, c in enumerate(bins) if c])
            self._db.executemany("INSERT INTO hard_cases VALUES (?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT (kind, pair, text, "
                                 "device, cloud) DO UPDATE SET count = count + 1, conf = min(conf, excluded.conf), "
                                 "last = excluded.last", [(*case, now) for case in hard_cases])
        return True

    def counters(self) -> dict[str, float]:
        return dict(self.query("SELECT name, value FROM counters"))

    def histogram(self, name: str, bins: int) -> list[int]:
        out = [0] * bins
        for i, count in self.query("SELECT bin, count FROM histograms WHERE name = ?", (name,)):
            if 0 <= i < bins:
                out[i] = count
        return out

    def fleet(self) -> dict[str, int]:
        (batches, devices, size), = self.query("SELECT count(*), count(DISTINCT device), coalesce(sum(bytes), 0) "
                                               "FROM batches")
        return {"batches": batches, "devices": devices, "bytes": size}

    def hard_cases(self, kind: str, limit: int = 20) -> list[tuple]:
        return self.query("SELECT pair, text, device, cloud, conf, count FROM hard_cases WHERE kind = ? "
                          "ORDER BY count DESC, last DESC LIMIT ?", (kind, limit))
