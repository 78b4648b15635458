"""The cloud fallback service (``ar-translate serve``): an ASGI app (FastAPI on uvicorn).

    POST /v1/translate   {"texts": [...], "source": "de", "target": "en"} → {"translations": [...], "model": "..."}
                         (a translation is "" where the pair's model is unsure: under its gate.json)
    POST /v1/recognize?source=de&target=en   body: a JPEG or PNG crop of one text line
                         → {"text": "...", "confidence": 0.93, "translation": "...", "model": "..."}
    GET  /v1/models, /v1/models/{name}/{version}, /v1/cache/{pair}   releases and cache bundles
                         (``cloud_fallback/deploy.py``)
    POST /v1/telemetry, GET /v1/telemetry/summary   fleet telemetry (``cloud_fallback/telemetry.py``)
    GET  /healthz        {"status": "ok", "pairs": ["de-en"], "model": "..."}   (no token needed)
    GET  /metrics        Prometheus text format
    GET  /docs, /openapi.json

Every /v1 call needs ``Authorization: Bearer TOKEN``. Bad input is a 4xx with a JSON ``detail``,
never a 500: 401 missing or wrong token, 413 body / batch / image over the limits, 422 malformed
JSON, text too long, an undecodable image, 404 an unknown language pair (the answer lists the
available ones).

Translation requests arriving together are batched (``Batcher``): one model call serves every
request that arrived while the previous call ran, up to ``max_batch`` texts — throughput at 8 and 32
concurrent clients is in the README. The model runs on one thread, next to the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, Field

from cloud_fallback.batcher import Batcher, Overloaded
from cloud_fallback.deploy import Releases, deploy_router
from cloud_fallback.guard import check_size, check_token, decode_image, error
from cloud_fallback.store import Store
from cloud_fallback.telemetry import FleetCollector, telemetry_router
from edge.errors import ArTranslateError, UnsupportedLanguagePair
from edge.ocr import OcrOptions, Recognizer
from edge.translate import Translator, TranslatorOptions, load_translator

log = logging.getLogger("ar_translate.serve")
ENDPOINTS = ("/v1/translate", "/v1/recognize", "/v1/models", "/v1/telemetry", "/v1/telemetry/summary", "/healthz",
             "/metrics", "/docs", "/openapi.json")
PREFIXES = ("/v1/models/", "/v1/cache/")  # endpoints with a name in the path: one label each
PROTECTABLE = ("/metrics", "/docs", "/openapi.json", "/redoc")  # behind the token with ``protect_docs``


@dataclass
class ServerConfig:
    token: str
    model: str | None = None  # catalog name of the translator (None: the installed one for each pair)
    beam_size: int = 4  # wider than the device's 2: the service has the time
    max_body_bytes: int = 1 << 20  # 413 above this
    max_texts: int = 64  # texts per request (413 above)
    max_text_chars: int = 1000  # characters per text (422 above)
    max_image_pixels: int = 1_000_000  # decoded crop size (413 above): a crop, never a frame
    max_batch: int = 32  # texts per model call across requests
    pairs: list[tuple[str, str]] = field(default_factory=lambda: [("de", "en")])
    protect_docs: bool = False  # /metrics, /docs and /openapi.json need the token too (default: open, for a
    # private network's monitoring)
    max_inflight: int = 64  # /v1 requests admitted at once; more get 503 + Retry-After at the door
    max_queued_texts: int = 512  # texts waiting for the model per pair; more get 429 + Retry-After
    request_deadline_ms: float = 10_000.0  # a request not answered by then gets 503 (the client's
    # X-Deadline-Ms header, the time it has left, shortens it)
    releases: Path | None = None  # folder of release packages published at /v1/models (None: none)
    store: str = ":memory:"  # SQLite file of the answers given (cache bundles) and the fleet's telemetry


class TranslateRequest(BaseModel):
    texts: list[str] = Field(..., description="sign texts, one per line read")
    source: str = Field("de", description="ISO 639-1 code of the texts")
    target: str = Field("en", description="ISO 639-1 code wanted")


class TranslateResponse(BaseModel):
    translations: list[str]
    model: str


class RecognizeResponse(BaseModel):
    text: str
    confidence: float
    translation: str
    model: str


class Metrics:
    """Prometheus series of one app (its own registry, so tests and several apps do not collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("ar_translate_requests", "HTTP requests", ["endpoint", "status"], registry=self.registry)
        self.latency = Histogram("ar_translate_request_seconds", "request latency", ["endpoint"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.batch = Histogram("ar_translate_batch_texts", "texts per model call", registry=self.registry,
                               buckets=(1, 2, 4, 8, 16, 32, 64, 128))
        self.errors = Counter("ar_translate_errors", "requests answered with an error", ["kind"], registry=self.registry)


class Engines:
    """The models the service runs, loaded on first use per pair (so /healthz answers at once)."""

    def __init__(self, config: ServerConfig):
        self.config = config
        self._translators: dict[tuple[str, str], Translator] = {}
        self._recognizers: dict[str, Recognizer] = {}
        self._lock = threading.Lock()
        self.model_names: dict[tuple[str, str], str] = {}

    def translator(self, source: str, target: str) -> Translator:
        with self._lock:
            key = (source, target)
            if key not in self._translators:
                options = TranslatorOptions(source=source, target=target, beam_size=self.config.beam_size,
                                            model=self.config.model, bundle=False,
                                            max_batch=max(self.config.max_batch, TranslatorOptions.max_batch))
                self._translators[key] = load_translator(options)
                self.model_names[key] = self._translators[key].model_name
            return self._translators[key]

    def recognizer(self, source: str) -> Recognizer:
        with self._lock:
            if source not in self._recognizers:
                # no memory budget here: both readers, each a second opinion for the other (edge/ocr.py)
                self._recognizers[source] = Recognizer(OcrOptions(language=source, engine="best"))
            return self._recognizers[source]


def _busy(status: int, detail: str) -> JSONResponse:
    """429 or 503 with ``Retry-After``: the service is full or late, not broken."""
    response = error(status, detail)
    response.headers["Retry-After"] = "1"
    return response


def create_app(config: ServerConfig) -> FastAPI:
    app = FastAPI(title="ar-translate cloud fallback", version="1",
                  description="Translation and recognition of sign text for the on-device pipeline.")
    metrics = Metrics()
    engines = Engines(config)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")  # one model call at a time
    batchers: dict[tuple[str, str], Batcher] = {}
    app.state.config, app.state.metrics, app.state.engines = config, metrics, engines
    available = [f"{s}-{t}" for s, t in config.pairs]
    store = Store(config.store)
    metrics.registry.register(FleetCollector(store))
    app.state.store = store
    app.include_router(deploy_router(Releases(config.releases), store, config.token, config.pairs,
                                     lambda s, t: engines.translator(s, t).model_name))
    app.include_router(telemetry_router(store))
    state = {"inflight": 0, "ocr_jobs": 0}  # requests being answered, crops being read (one event-loop thread)

    def deadline_s(request: Request) -> float:
        """Seconds this request may take: the service's limit, shortened by the client's X-Deadline-Ms."""
        limit = config.request_deadline_ms
        given = request.headers.get("x-deadline-ms", "")
        try:
            limit = min(limit, max(0.0, float(given))) if given else limit
        except ValueError:
            pass
        return limit / 1000.0

    def ocr_job(fn, *args):
        """Run ``fn`` on the model thread, counted in ``ocr_jobs`` until the thread is done with it (a
        request that gave up does not stop the thread, so the count is what really waits)."""
        loop = asyncio.get_running_loop()
        state["ocr_jobs"] += 1
        job = executor.submit(fn, *args)

        def done(_):
            loop.call_soon_threadsafe(lambda: state.__setitem__("ocr_jobs", state["ocr_jobs"] - 1))

        job.add_done_callback(done)
        return asyncio.wrap_future(job)

    async def bounded(request: Request, work):
        """``await work`` within the request's deadline; 503 + Retry-After when it passes, 429 when the
        model's queue is full."""
        try:
            return await asyncio.wait_for(work, timeout=deadline_s(request))
        except TimeoutError:
            return _busy(503, "deadline passed before the model could answer")
        except Overloaded as exc:
            return _busy(429, str(exc))

    def pair_error(source: str, target: str) -> JSONResponse | None:
        if (source, target) not in config.pairs:
            return error(404, f"no model for {source}-{target}", available=available)
        return None

    def batcher(source: str, target: str) -> Batcher:
        if (source, target) not in batchers:
            translator = engines.translator(source, target)
            # a text the model is unsure of (its gate) is answered "": clients keep what they have, bundles skip it
            batchers[(source, target)] = Batcher(lambda texts: [r.text or "" for r in translator.translate(texts)],
                                                 config.max_batch, metrics, executor, config.max_queued_texts)
        return batchers[(source, target)]

    @app.middleware("http")
    async def guard(request: Request, call_next):
        """Token and body size before any handler; counts and times every request."""
        started = time.perf_counter()
        path = request.url.path
        endpoint = path if path in ENDPOINTS else next((p + "*" for p in PREFIXES if path.startswith(p)), "other")
        if request.url.path.startswith("/v1/") or (config.protect_docs and request.url.path in PROTECTABLE):
            response = check_token(request, config.token) or await check_size(request, config.max_body_bytes)
        else:
            response = None
        admitted = response is None and request.url.path.startswith("/v1/")
        if admitted and state["inflight"] >= config.max_inflight:
            response, admitted = _busy(503, f"{state['inflight']} requests in progress (at most {config.max_inflight})"), False
        if response is None:
            state["inflight"] += admitted
            try:
                response = await call_next(request)
            except Exception:  # a bug: still a JSON answer, and counted
                log.exception("request failed")
                response = error(500, "internal error")
            finally:
                state["inflight"] -= admitted
        if response.status_code >= 400:
            metrics.errors.labels(str(response.status_code)).inc()
        metrics.requests.labels(endpoint, str(response.status_code)).inc()
        metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", "")} for e in exc.errors()]
        return error(422, "malformed request", errors=errors)

    @app.post("/v1/translate", response_model=TranslateResponse, responses={401: {}, 404: {}, 413: {}, 422: {}})
    async def translate(body: TranslateRequest, request: Request):
        if len(body.texts) > config.max_texts:
            return error(413, f"{len(body.texts)} texts in one request; at most {config.max_texts}")
        too_long = [i for i, t in enumerate(body.texts) if len(t) > config.max_text_chars]
        if too_long:
            return error(422, f"text {too_long[0]} is longer than {config.max_text_chars} characters")
        missing = pair_error(body.source, body.target)
        if missing:
            return missing
        if not body.texts:
            return {"translations": [], "model": engines.model_names.get((body.source, body.target), "")}
        try:
            out = await bounded(request, batcher(body.source, body.target).translate(body.texts))
        except UnsupportedLanguagePair as exc:
            return error(404, str(exc), available=available)
        except ArTranslateError as exc:
            return error(503, str(exc))
        if isinstance(out, JSONResponse):
            return out
        model = engines.model_names[(body.source, body.target)]
        store.record_answers(f"{body.source}-{body.target}", model, body.texts, out)
        return {"translations": out, "model": model}

    @app.post("/v1/recognize", response_model=RecognizeResponse, responses={401: {}, 404: {}, 413: {}, 422: {}, 503: {}},
              openapi_extra={"requestBody": {"content": {"image/jpeg": {}, "image/png": {}}, "required": True}})
    async def recognize(request: Request, source: str = "de", target: str = "en"):
        """``target`` equal to ``source``: read only (any language the recognizers know; no model needed)."""
        read_only = source == target
        missing = None if read_only else pair_error(source, target)
        if missing:
            return missing
        image = decode_image(await request.body(), config.max_image_pixels)
        if isinstance(image, JSONResponse):
            return image
        if state["ocr_jobs"] >= config.max_inflight:  # OCR threads cannot be cancelled: bound what waits for them
            return _busy(503, f"{state['ocr_jobs']} crops are waiting to be read")
        h, w = image.shape[:2]
        quad = np.float32([[0, 0], [w, 0], [w, h], [0, h]])

        async def read() -> dict:
            recognizer = await ocr_job(engines.recognizer, source)
            line = await ocr_job(recognizer.read, image, quad)
            if line is None or read_only:
                text = line.text if line else ""
                return {"text": text, "confidence": round(line.conf, 3) if line else 0.0, "translation": text,
                        "model": engines.model_names.get((source, target), "")}
            translation = (await batcher(source, target).translate([line.text]))[0]
            store.record_answers(f"{source}-{target}", engines.model_names[(source, target)], [line.text], [translation])
            return {"text": line.text, "confidence": round(line.conf, 3), "translation": translation,
                    "model": engines.model_names[(source, target)]}

        try:
            return await bounded(request, read())
        except UnsupportedLanguagePair as exc:
            return error(404, str(exc), available=available)
        except Exception as exc:  # the recognizer or the model failed: the same 503 as /v1/translate, never a 500
            log.warning("recognize failed: %s", exc)
            return error(503, f"recognizer unavailable: {str(exc)[:200]}")

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok", "pairs": available, "model": config.model or "default"}

    @app.get("/metrics")
    async def metrics_text():
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def serve(config: ServerConfig, host: str, port: int, tls_cert: str | None = None, tls_key: str | None = None) -> None:
    """Load every pair's model first (a bad ``--model`` fails here, and the first request is not slow),
    then serve until interrupted."""
    import uvicorn

    app = create_app(config)
    for source, target in config.pairs:
        app.state.engines.translator(source, target)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, ssl_certfile=tls_cert,
                ssl_keyfile=tls_key)


class BackgroundServer:
    """The app on uvicorn in a thread of this process (tests, the load generator): ``with
    BackgroundServer(app) as url: ...``; port 0 picks a free port."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0):
        import uvicorn

        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                                     lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, name="uvicorn", daemon=True)
        self.host = host

    def __enter__(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the service did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        return f"http://{self.host}:{port}"

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
