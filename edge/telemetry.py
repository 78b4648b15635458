"""Opt-in telemetry (``--telemetry``; off by default): what the device counts, what it keeps, and how
it reaches the service.

Collected per run, as one batch: the counters in ``COUNTERS``; a histogram of OCR confidences (every
line read) and one of cloud request latencies; the peak RSS; and at most ``MAX_HARD_CASES`` hard
cases, each the text of one sign line only (at most ``MAX_TEXT`` characters): a reading below
``UNSURE_CONF`` confidence, or a text the cloud translated differently from the device (both
translations). Never a frame, a crop, a file name, a location or a time finer than the hour. The
device is known by a random id made on first use (``$AR_TRANSLATE_HOME/telemetry/device_id``).

Batches wait in ``$AR_TRANSLATE_HOME/telemetry/spool/`` (bounded: the oldest are dropped past
``MAX_SPOOL_FILES`` or ``MAX_SPOOL_BYTES``, and the next batch counts them) until an upload succeeds.
Uploads happen only when a cloud service is configured and the run is not offline, after the run,
within a byte budget per upload; a failed upload keeps everything for the next one.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cloud_fallback.client import LATENCY_EDGES_MS, CloudUnavailable, http_call, tls_for
from models.catalog import user_home

COUNTERS = ("frames", "dropped", "keyframes", "ocr_reads", "translations_local", "translations_cache",
            "translations_cloud", "cloud_requests", "cloud_ok", "cloud_timeouts", "cloud_errors", "breaker_openings",
            "spool_dropped")
CONF_EDGES = tuple(round(0.1 * i, 1) for i in range(11))  # OCR confidence bins: [0, .1), …, [.9, 1]
UNSURE_CONF = 0.6  # a reading under this confidence is a hard case
MAX_HARD_CASES = 40  # per batch
MAX_TEXT = 200  # characters of a text in a hard case (a sign line; longer is cut)
MAX_SPOOL_FILES = 200
MAX_SPOOL_BYTES = 2_000_000
UPLOAD_BUDGET_BYTES = 64_000  # default bytes sent per upload
UPLOAD_TIMEOUT_S = 10.0


def telemetry_dir() -> Path:
    return user_home() / "telemetry"


def device_id() -> str:
    path = telemetry_dir() / "device_id"
    if path.is_file():
        value = path.read_text().strip()
        if len(value) == 32:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = uuid.uuid4().hex
    path.write_text(value + "\n")
    return value


@dataclass
class TelemetryRecorder:
    """Counts one run. The pipeline calls ``reading`` for every line OCR read and ``cloud_answer`` for
    every cloud answer it takes; ``batch`` adds the run's summary at the end."""

    pair: str
    profile: str = "default"
    conf_hist: list[int] = field(default_factory=lambda: [0] * (len(CONF_EDGES) - 1))
    tiers: dict[str, int] = field(default_factory=lambda: {"local": 0, "cache": 0, "cloud": 0})
    hard_cases: dict[tuple, dict] = field(default_factory=dict)

    def reading(self, text: str, conf: float, translation_source: str | None) -> None:
        self.conf_hist[min(len(self.conf_hist) - 1, max(0, int(conf * 10)))] += 1
        if translation_source in self.tiers:
            self.tiers[translation_source] += 1
        if conf < UNSURE_CONF and text.strip():
            self._case({"kind": "ocr_unsure", "text": text[:MAX_TEXT], "conf": round(max(0.0, min(1.0, conf)), 3)})

    def cloud_answer(self, text: str, device: str | None, cloud: str) -> None:
        self.tiers["cloud"] += 1
        if device is not None and device.strip().lower() != cloud.strip().lower():
            self._case({"kind": "cloud_differs", "text": text[:MAX_TEXT], "device": device[:MAX_TEXT],
                        "cloud": cloud[:MAX_TEXT]})

    def _case(self, case: dict) -> None:
        key = tuple(sorted(case.items()))
        if key not in self.hard_cases and len(self.hard_cases) < MAX_HARD_CASES:
            self.hard_cases[key] = case

    def batch(self, summary: dict, spool_dropped: int = 0) -> dict:
        cloud = summary.get("cloud") or {}
        counters = {"frames": summary.get("frames", 0), "dropped": summary.get("dropped", 0),
                    "keyframes": summary.get("keyframes", 0), "ocr_reads": summary.get("ocr_reads", 0),
                    **{f"translations_{tier}": n for tier, n in self.tiers.items()},
                    "cloud_requests": cloud.get("requests", 0), "cloud_ok": cloud.get("ok", 0),
                    "cloud_timeouts": cloud.get("timeouts", 0), "cloud_errors": cloud.get("errors", 0),
                    "breaker_openings": cloud.get("circuit_opened", 0), "spool_dropped": spool_dropped}
        latency = cloud.get("latency_ms_hist") or [0] * (len(LATENCY_EDGES_MS) + 1)
        return {"schema_version": 1, "batch_id": uuid.uuid4().hex, "device": device_id(), "pair": self.pair,
                "profile": self.profile, "counters": {k: int(v) for k, v in counters.items()},
                "peak_rss_mb": float(summary.get("peak_rss_mb", 0.0)), "ocr_conf_hist": list(self.conf_hist),
                "cloud_latency_ms_hist": list(latency), "hard_cases": list(self.hard_cases.values())}


class Spool:
    """Batches waiting for an upload, one JSON file each, oldest first; bounded on disk."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder or telemetry_dir() / "spool"
        self._dropped_file = self.folder.parent / "spool_dropped"

    def pending(self) -> list[Path]:
        return sorted(self.folder.glob("*.json"), key=lambda p: (p.stat().st_mtime_ns, p.name)) if self.folder.is_dir() else []

    def dropped(self) -> int:
        """Batches dropped for room since the last batch was written (counted into the next one)."""
        try:
            return int(self._dropped_file.read_text())
        except (OSError, ValueError):
            return 0

    def add(self, batch: dict) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H", time.gmtime())  # the hour, no finer
        path = self.folder / f"{stamp}-{batch['batch_id']}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(batch, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
        self._dropped_file.unlink(missing_ok=True)
        files = self.pending()
        dropped = 0
        while files and (len(files) > MAX_SPOOL_FILES or sum(f.stat().st_size for f in files) > MAX_SPOOL_BYTES):
            files.pop(0).unlink(missing_ok=True)
            dropped += 1
        if dropped:
            self._dropped_file.write_text(str(dropped))
        return path


@dataclass
class UploadReport:
    sent: int = 0  # batches the service stored (or already had)
    bytes: int = 0
    left: int = 0  # batches still waiting
    error: str | None = None  # why the upload stopped early (None: budget or spool exhausted)


def upload(url: str, token: str | None, spool: Spool | None = None, budget_bytes: int = UPLOAD_BUDGET_BYTES,
           ca_bundle: str | None = None, timeout_s: float = UPLOAD_TIMEOUT_S) -> UploadReport:
    """Send waiting batches, oldest first, until the spool is empty or the next batch would pass
    ``budget_bytes``. A batch leaves the spool only when the service answered 200; a 422 (the service
    refuses its schema) moves it to ``rejected/`` instead of retrying it for ever."""
    spool = spool or Spool()
    report = UploadReport()
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    tls = tls_for(url, ca_bundle)
    files = spool.pending()
    for number, path in enumerate(files):
        body = path.read_bytes()
        if report.bytes + len(body) > budget_bytes:
            report.left = len(files) - number
            return report
        try:
            status, payload = http_call(url, "POST", "/v1/telemetry", body, headers,
                                        time.monotonic() + timeout_s, 1 << 16, tls=tls)
        except CloudUnavailable as exc:
            report.left, report.error = len(files) - number, str(exc)
            return report
        report.bytes += len(body)
        if status == 200:
            path.unlink(missing_ok=True)
            report.sent += 1
        elif status == 422:
            rejected = spool.folder.parent / "rejected"
            rejected.mkdir(parents=True, exist_ok=True)
            path.replace(rejected / path.name)
            for old in sorted(rejected.glob("*.json"))[:-MAX_SPOOL_FILES]:
                old.unlink()
        else:
            report.left = len(files) - number
            report.error = f"HTTP {status}: {payload[:200].decode('utf-8', 'replace')}"
            return report
    return report
