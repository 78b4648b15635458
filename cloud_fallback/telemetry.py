"""Fleet telemetry on the service: devices that opted in (``--telemetry``) post batches; the service
keeps running totals and shows them.

    POST /v1/telemetry           one batch (``TelemetryBatch``): counters, two histograms, hard cases
    GET  /v1/telemetry/summary   an HTML page with the fleet's figures and plots (inline SVG, no script)
    /metrics                     gains the ``ar_translate_fleet_*`` series (``FleetCollector``)

The schema forbids every field it does not name, and each string is short (a sign line, at most
``MAX_TEXT`` characters): there is no field a frame, a crop or any image could travel in. A batch
sent twice (the device did not hear the answer) is counted once, by its ``batch_id``.
"""

from __future__ import annotations

import html
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from pydantic import BaseModel, ConfigDict, Field

from cloud_fallback.store import Store
from edge.telemetry import CONF_EDGES, COUNTERS, LATENCY_EDGES_MS, MAX_HARD_CASES, MAX_TEXT, UNSURE_CONF

Text = Field(..., max_length=MAX_TEXT)
Count = Field(0, ge=0, le=10**9)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class HardCase(Strict):
    kind: Literal["ocr_unsure", "cloud_differs"]
    text: str = Text
    conf: float = Field(1.0, ge=0.0, le=1.0)  # the OCR confidence (ocr_unsure)
    device: str = Field("", max_length=MAX_TEXT)  # the device's translation (cloud_differs)
    cloud: str = Field("", max_length=MAX_TEXT)  # the cloud's translation (cloud_differs)


class TelemetryBatch(Strict):
    schema_version: Literal[1] = 1
    batch_id: str = Field(..., pattern=r"^[0-9a-f]{32}$")
    device: str = Field(..., pattern=r"^[0-9a-f]{32}$")  # a random id made on the device, nothing else
    pair: str = Field(..., pattern=r"^[a-z]{2,3}-[a-z]{2,3}$")
    profile: str = Field("default", max_length=32, pattern=r"^[a-z0-9-]+$")
    counters: dict[Literal[COUNTERS], int] = Field(default_factory=dict)  # type: ignore[valid-type]
    peak_rss_mb: float = Field(0.0, ge=0.0, le=1e6)
    ocr_conf_hist: list[int] = Field(..., min_length=len(CONF_EDGES) - 1, max_length=len(CONF_EDGES) - 1)
    cloud_latency_ms_hist: list[int] = Field(..., min_length=len(LATENCY_EDGES_MS) + 1,
                                             max_length=len(LATENCY_EDGES_MS) + 1)
    hard_cases: list[HardCase] = Field(default_factory=list, max_length=MAX_HARD_CASES)


class FleetCollector:
    """The store's totals as Prometheus series, read at each scrape."""

    def __init__(self, store: Store):
        self.store = store

    def collect(self):
        fleet = self.store.fleet()
        yield CounterMetricFamily("ar_translate_fleet_batches", "telemetry batches received", value=fleet["batches"])
        yield GaugeMetricFamily("ar_translate_fleet_devices", "devices that sent telemetry", value=fleet["devices"])
        totals = self.store.counters()
        events = CounterMetricFamily("ar_translate_fleet_events", "device counters summed over the fleet",
                                     labels=["counter"])
        for name in COUNTERS:
            events.add_metric([name], totals.get(name, 0.0))
        yield events
        yield GaugeMetricFamily("ar_translate_fleet_peak_rss_mb", "highest peak RSS a device reported",
                                value=totals.get("peak_rss_mb", 0.0))
        for name, edges in (("ocr_conf", CONF_EDGES[1:]), ("cloud_latency_ms", (*LATENCY_EDGES_MS, "+Inf"))):
            family = CounterMetricFamily(f"ar_translate_fleet_{name}_bin", f"device {name} histogram, per bin "
                                         "(le: the bin's upper edge)", labels=["le"])
            for edge, count in zip(edges, self.store.histogram(name, len(edges))):
                family.add_metric([str(edge)], count)
            yield family


def telemetry_router(store: Store) -> APIRouter:
    router = APIRouter()

    @router.post("/v1/telemetry")
    async def receive(batch: TelemetryBatch, request: Request):
        counters = {name: float(batch.counters.get(name, 0)) for name in COUNTERS}
        cases = [(c.kind, batch.pair, c.text, c.device, c.cloud, c.conf) for c in batch.hard_cases]
        fresh = store.add_batch(batch.batch_id, batch.device, batch.pair, len(await request.body()), counters,
                                {"peak_rss_mb": batch.peak_rss_mb},
                                {"ocr_conf": batch.ocr_conf_hist, "cloud_latency_ms": batch.cloud_latency_ms_hist}, cases)
        if fresh:
            store.trim()
        return {"stored": fresh, "batch_id": batch.batch_id}

    @router.get("/v1/telemetry/summary", response_class=HTMLResponse)
    async def summary():
        return HTMLResponse(summary_page(store))

    return router


def _bars(title: str, labels: list[str], counts: list[float], element_id: str) -> str:
    """A bar chart as inline SVG (one ``rect`` per bin, its count in a ``title``)."""
    width, height, pad = 36 * len(labels) + 20, 160, 24
    top = max(counts) or 1
    bars = []
    for i, (label, count) in enumerate(zip(labels, counts)):
        h = (height - 2 * pad) * count / top
        x = 10 + 36 * i
        bars.append(f'<rect class="bar" x="{x}" y="{height - pad - h:.1f}" width="28" height="{h:.1f}" '
                    f'data-count="{count:g}"><title>{html.escape(label)}: {count:g}</title></rect>'
                    f'<text x="{x + 14}" y="{height - 8}" text-anchor="middle">{html.escape(label)}</text>')
    return (f'<figure id="{element_id}"><figcaption>{html.escape(title)}</figcaption>'
            f'<svg width="{width}" height="{height}" role="img">{"".join(bars)}</svg></figure>')


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


def summary_page(store: Store) -> str:
    fleet, totals = store.fleet(), store.counters()
    conf = store.histogram("ocr_conf", len(CONF_EDGES) - 1)
    latency = store.histogram("cloud_latency_ms", len(LATENCY_EDGES_MS) + 1)
    tiers = {t: totals.get(f"translations_{t}", 0.0) for t in ("local", "cache", "cloud")}
    reads = sum(conf)
    unsure = sum(conf[:round(UNSURE_CONF * (len(CONF_EDGES) - 1))])  # the bins under the device's hard-case bar
    rows = [("devices", fleet["devices"]), ("batches", fleet["batches"]), ("bytes received", fleet["bytes"]),
            *((name.replace("_", " "), int(totals.get(name, 0))) for name in COUNTERS),
            ("highest peak RSS (MB)", f"{totals.get('peak_rss_mb', 0.0):.0f}"),
            (f"OCR readings under {UNSURE_CONF} confidence", _share(unsure, reads)),
            ("translations answered by the cloud", _share(tiers["cloud"], sum(tiers.values()))),
            ("cloud requests answered", _share(totals.get("cloud_ok", 0.0), totals.get("cloud_requests", 0.0)))]
    table = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    conf_labels = [f"{CONF_EDGES[i]:.1f}" for i in range(len(CONF_EDGES) - 1)]
    latency_labels = [f"≤{e}" for e in LATENCY_EDGES_MS] + [f">{LATENCY_EDGES_MS[-1]}"]
    cases = []
    for kind, heading, columns in (("ocr_unsure", "Unsure OCR readings", ("pair", "text", "confidence", "seen")),
                                   ("cloud_differs", "Texts the cloud translated differently",
                                    ("pair", "text", "device", "cloud", "seen"))):
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in
                             ((pair, text, f"{conf_:.2f}", count) if kind == "ocr_unsure" else (pair, text, dev, cld, count)))
            + "</tr>" for pair, text, dev, cld, conf_, count in store.hard_cases(kind))
        head = "".join(f"<th>{c}</th>" for c in columns)
        cases.append(f'<h2>{heading}</h2><table id="{kind}"><tr>{head}</tr>{body}</table>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ar-translate fleet telemetry</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}} td,th{{border:1px solid #ccc;
padding:2px 8px;text-align:left}} .bar{{fill:#3b6ea8}} svg text{{font-size:10px}}</style></head>
<body><h1>Fleet telemetry</h1>
<p>What opted-in devices reported: counters, histograms and hard cases (texts only, never an image).</p>
<table id="counters">{table}</table>
{_bars("OCR confidence of the readings (bin start)", conf_labels, conf, "ocr-confidence")}
{_bars("Cloud request latency (ms)", latency_labels, latency, "cloud-latency")}
{_bars("Translations per tier", list(tiers), list(tiers.values()), "tiers")}
{"".join(cases)}
</body></html>"""
