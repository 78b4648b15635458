"""The cloud fault matrix: real-time replays with the cloud service behind a fault-injecting proxy.

    python -m benchmarks.faults [--video edge/assets/demo_de.mp4] [--max-frames 150]

Starts ``ar-translate serve`` as a child process on 127.0.0.1, then replays the video in real time
once offline (the reference) and once per fault (``benchmarks/faultproxy.py``), plus a run whose
service is killed mid-way and a healthy run over https (the service terminating TLS with a
certificate from a throw-away CA, ``benchmarks/tlscerts.py``). Prints, per case, the frames emitted,
the frame latency percentiles (next to the offline run's), what the shown regions' answers came
from, and the client's counters; then the cost of one call over http and over https (a TLS handshake
per call: the client closes every connection).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.faultproxy import MODES, FaultProxy
from benchmarks.score import nearest_rank

TOKEN = "fault-matrix"
CASES = ("offline",) + tuple(m for m in MODES if m != "corrupt") + ("killed", "https")  # corrupt: for downloads


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def service(token: str = TOKEN, ready_s: float = 60.0, extra_args: list[str] | None = None):
    """``ar-translate serve`` in a child process; yields (url, process)."""
    port = free_port()
    env = {**os.environ, "AR_TRANSLATE_SERVER_TOKEN": token}
    proc = subprocess.Popen([sys.executable, "-m", "edge", "serve", "--port", str(port), *(extra_args or [])], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_s
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the service did not start: {proc.stderr.read().decode()[-500:]}") from None
                time.sleep(0.1)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def run_case(case: str, video: str, max_frames: int | None, url: str | None, proc=None, kill_after_s: float = 4.0,
             budget_ms: float = 1500.0, cloud_ca: str | None = None, pace: float = 1.0) -> dict:
    """One real-time replay; ``case`` is "offline", a proxy fault, or "killed" (the service process is
    killed ``kill_after_s`` into the run). ``pace``: the replay, the proxy's faults and the kill all
    ``pace`` times slower (a slow machine). Returns the figures of the row."""
    from edge.replay import ReplayOptions, replay

    os.environ["AR_TRANSLATE_CLOUD_TOKEN"] = TOKEN
    parts = urlsplit(url) if url else None
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / "events.jsonl"
        proxy = FaultProxy((parts.hostname, parts.port), case, pace=pace) if case in MODES else None
        cloud_url = proxy.url if proxy else url
        killer = None
        if case == "killed" and proc is not None:
            killer = threading.Timer(kill_after_s * pace, proc.kill)
            killer.start()
        try:
            summary = replay(ReplayOptions(video, realtime=True, max_frames=max_frames, events=events, progress=False,
                                           offline=case == "offline", cloud_url=cloud_url, cloud_budget_ms=budget_ms,
                                           cloud_ca=cloud_ca, pace=pace))
        finally:
            if proxy:
                proxy.close()
            if killer:
                killer.cancel()
        frames = [json.loads(line) for line in events.read_text().splitlines()][:-1]
    emitted = [f for f in frames if not f.get("dropped")]
    waits = [f["emitted_ms"] - f["captured_ms"] for f in emitted]
    sources: dict[str, int] = {}
    for f in emitted:
        for region in f["regions"]:
            key = region.get("translation_source") or "none"
            sources[key] = sources.get(key, 0) + 1
    return {"case": case, "frames": len(frames), "emitted": len(emitted),
            "latency_p50_ms": nearest_rank(waits, 50), "latency_p95_ms": nearest_rank(waits, 95),
            "sources": sources, "cloud": summary["cloud"]}


def print_table(rows: list[dict]) -> None:
    print("| case | frames emitted | frame latency p50 / p95 | regions shown: local+cache / cloud | cloud requests "
          "(ok / timeouts / errors) | skipped | breaker opened / recovered, open s | sent KB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        c, s = r["cloud"], r["sources"]
        print(f"| {r['case']} | {100 * r['emitted'] / max(1, r['frames']):.0f} % | {r['latency_p50_ms']:.1f} / "
              f"{r['latency_p95_ms']:.1f} ms | {s.get('local', 0) + s.get('cache', 0)} / {s.get('cloud', 0)} | "
              f"{c['requests']} ({c['ok']} / {c['timeouts']} / {c['errors']}) | {c['skipped']} | "
              f"{c['circuit_opened']} / {c['circuit_recovered']}, {c['circuit_open_s']:.1f} | {c['bytes_sent'] / 1000:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--video", default="edge/assets/demo_de.mp4")
    parser.add_argument("--max-frames", type=int, default=None)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        from benchmarks.tlscerts import make_pki

        pki = make_pki(Path(tmp))
        tls = ["--tls-cert", str(pki / "good.pem"), "--tls-key", str(pki / "good.key")]
        for case in args.cases:
            with service(extra_args=tls if case == "https" else None) as (url, proc):
                url = url.replace("http://", "https://") if case == "https" else url
                rows.append(run_case(case, args.video, args.max_frames, url, proc, cloud_ca=str(pki / "ca.pem")))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        print_table(rows)
        print(call_cost(pki))


def call_cost(pki: Path, calls: int = 50) -> str:
    """Median ms of one /v1/translate call (one cached text) over http and over https on loopback."""
    from cloud_fallback.client import ClientOptions, CloudClient

    out = []
    for secure in (False, True):
        tls = ["--tls-cert", str(pki / "good.pem"), "--tls-key", str(pki / "good.key")] if secure else None
        with service(extra_args=tls) as (url, _):
            url = url.replace("http://", "https://") if secure else url
            client = CloudClient(ClientOptions(url, token=TOKEN, ca_bundle=str(pki / "ca.pem")))
            client.translate(["Ausgang"], time.monotonic() + 10)  # model loaded, answer cached
            times = []
            for _ in range(calls):
                start = time.perf_counter()
                client.translate(["Ausgang"], time.monotonic() + 10)
                times.append((time.perf_counter() - start) * 1000)
            p50, p95 = nearest_rank(times, 50), nearest_rank(times, 95)
            out.append(f"{'https' if secure else 'http'} {p50:.1f} ms p50 / {p95:.1f} p95")
    return "one call (connect, TLS handshake when https, request, answer), 127.0.0.1: " + "; ".join(out)


if __name__ == "__main__":
    main()
