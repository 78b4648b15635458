"""Load generator for the cloud service: throughput and latency at 1, 8 and 32 concurrent clients,
with dynamic batching on (``--max-batch 32``) and off (``--max-batch 1``).

    python -m benchmarks.load [--clients 1 8 32] [--seconds 10] [--texts 4]
    python -m benchmarks.load --overload 4          # 4× the sustainable rate, open loop

Starts ``ar-translate serve`` as a child process on 127.0.0.1 for each setting. Each client sends
``/v1/translate`` requests of ``--texts`` sign texts back to back; every text is new to the service
(a sign text with a running number), so no answer comes from its cache and every text is decoded by
the model — the worst case for the service.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import threading
import time
from pathlib import Path

from benchmarks.score import nearest_rank
from cloud_fallback.client import http_call

TOKEN = "load-test"
SIGN_TEXTS = Path(__file__).resolve().parents[1] / "models" / "translator" / "sign_texts.tsv"


def sign_texts() -> list[str]:
    lines = SIGN_TEXTS.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines if line.strip() and not line.startswith("#")]


def run_load(url: str, clients: int, seconds: float, per_request: int) -> dict:
    texts = sign_texts()
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    failures = [0]
    stop_at = time.monotonic() + seconds
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}

    def client() -> None:
        while time.monotonic() < stop_at:
            with lock:
                batch = [f"{texts[(n := next(counter)) % len(texts)]} {n}" for _ in range(per_request)]
            body = json.dumps({"texts": batch, "source": "de", "target": "en"}).encode()
            started = time.monotonic()
            try:
                status, _ = http_call(url, "POST", "/v1/translate", body, headers, started + 60, 1 << 20)
            except Exception:
                status = 0
            with lock:
                if status == 200:
                    latencies.append((time.monotonic() - started) * 1000)
                else:
                    failures[0] += 1

    calls_before = batch_counts(url)
    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    calls, batched = (after - before for after, before in zip(batch_counts(url), calls_before))
    return {"clients": clients, "requests": len(latencies), "failed": failures[0],
            "requests_per_s": len(latencies) / wall, "texts_per_s": len(latencies) * per_request / wall,
            "p50_ms": nearest_rank(latencies, 50), "p95_ms": nearest_rank(latencies, 95),
            "mean_batch": batched / calls if calls else 0.0}


def run_open_loop(url: str, rate_per_s: float, seconds: float, per_request: int, deadline_s: float = 10.0) -> dict:
    """Requests sent at ``rate_per_s`` whatever the service answers (open loop, like many devices):
    statuses, and latency percentiles of every answer, refused ones included."""
    texts = sign_texts()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    answers: list[tuple[int, float]] = []
    lock = threading.Lock()

    def one(n: int) -> None:
        batch = [f"{texts[(n * per_request + k) % len(texts)]} {n}-{k}" for k in range(per_request)]
        body = json.dumps({"texts": batch, "source": "de", "target": "en"}).encode()
        started = time.monotonic()
        try:
            status, _ = http_call(url, "POST", "/v1/translate", body, {**headers, "X-Deadline-Ms": str(deadline_s * 1000)},
                                  started + deadline_s + 5, 1 << 20)
        except Exception:
            status = 0
        with lock:
            answers.append((status, (time.monotonic() - started) * 1000))

    threads = []
    start = time.monotonic()
    for n in range(int(rate_per_s * seconds)):
        time.sleep(max(0.0, start + n / rate_per_s - time.monotonic()))
        thread = threading.Thread(target=one, args=(n,))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    statuses: dict[int, int] = {}
    for status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    waits = [ms for _, ms in answers]
    ok = [ms for status, ms in answers if status == 200]
    return {"sent": len(answers), "statuses": statuses, "p50_ms": nearest_rank(waits, 50), "p95_ms": nearest_rank(waits, 95),
            "ok_p95_ms": nearest_rank(ok, 95) if ok else None}


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:"))


def batch_counts(url: str) -> tuple[float, float]:
    """Model calls and texts batched so far, from the service's /metrics."""
    _, metrics = http_call(url, "GET", "/metrics", b"", {}, time.monotonic() + 10, 1 << 22)
    values = parse_metrics(metrics.decode())
    return values.get("ar_translate_batch_texts_count", 0.0), values.get("ar_translate_batch_texts_sum", 0.0)


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text format → {series with its labels: value}."""
    return {name: float(value) for name, value in
            (line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))}


def main() -> None:
    from benchmarks.faults import service

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="*", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--texts", type=int, default=4, help="texts per request")
    parser.add_argument("--max-batch", type=int, nargs="*", default=[32, 1])
    parser.add_argument("--overload", type=float, help="measure the sustainable rate (8 clients), then send this many "
                        "times it, open loop, and report statuses, p95 and the service's memory")
    args = parser.parse_args()
    if args.overload:
        with service(TOKEN) as (url, proc):
            run_load(url, 1, 1.0, args.texts)
            sustainable = run_load(url, 8, args.seconds, args.texts)["requests_per_s"]
            before = rss_mb(proc.pid)
            row = run_open_loop(url, sustainable * args.overload, args.seconds, args.texts)
            after = rss_mb(proc.pid)
            again = run_load(url, 8, 3.0, args.texts)
        print(f"sustainable: {sustainable:.1f} requests/s of {args.texts} new texts (8 clients, closed loop)")
        print(f"{args.overload:g}× = {sustainable * args.overload:.1f} requests/s for {args.seconds:.0f} s: sent {row['sent']}, "
              f"statuses {dict(sorted(row['statuses'].items()))}, latency of every answer p50 {row['p50_ms']:.0f} / "
              f"p95 {row['p95_ms']:.0f} ms (answered ones p95 {row['ok_p95_ms'] or 0:.0f} ms); service RSS "
              f"{before:.0f} → {after:.0f} MB; afterwards {again['requests_per_s']:.1f} requests/s, {again['failed']} failed")
        return
    print(f"{os.cpu_count()} CPUs; {args.texts} new texts per request; {args.seconds:.0f} s per row")
    print("| max batch | clients | requests/s | texts/s | latency p50 / p95 | mean texts per model call | failed |")
    print("|---|---|---|---|---|---|---|")
    for max_batch in args.max_batch:
        for clients in args.clients:
            with service(TOKEN, extra_args=["--max-batch", str(max_batch)]) as (url, _):
                run_load(url, 1, 1.0, args.texts)  # warm-up: the model loads on the first request
                row = run_load(url, clients, args.seconds, args.texts)
            print(f"| {max_batch} | {clients} | {row['requests_per_s']:.1f} | {row['texts_per_s']:.0f} | "
                  f"{row['p50_ms']:.0f} / {row['p95_ms']:.0f} ms | {row['mean_batch']:.1f} | {row['failed']} |", flush=True)


if __name__ == "__main__":
    main()
