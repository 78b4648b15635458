"""Dynamic batching of translation requests: one model call at a time serves every request queued
while the previous call ran (the service's throughput at 8 and 32 concurrent clients is in the README)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class Overloaded(Exception):
    """The model's queue is full: answered 429 with Retry-After."""


class Batcher:
    """Dynamic batching: requests queue their texts; one model call at a time takes everything queued
    (up to ``max_batch`` texts) and answers each request its share. At most ``max_queued`` texts wait;
    a request whose caller gave up (deadline) is dropped from the queue, not translated. ``metrics.batch``
    (a Prometheus histogram) hears the texts per model call."""

    def __init__(self, translate: Callable[[list[str]], list[str]], max_batch: int, metrics,
                 executor: ThreadPoolExecutor, max_queued: int = 512):
        self._translate = translate
        self.max_batch = max_batch
        self.max_queued = max_queued
        self._metrics = metrics
        self._executor = executor
        self._queue: list[tuple[list[str], asyncio.Future]] = []
        self._running = False

    def queued(self) -> int:
        return sum(len(texts) for texts, future in self._queue if not future.done())

    async def translate(self, texts: list[str]) -> list[str]:
        if self.queued() + len(texts) > self.max_queued:
            raise Overloaded(f"{self.queued()} texts are waiting for the model (at most {self.max_queued})")
        future = asyncio.get_running_loop().create_future()
        self._queue.append((texts, future))
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                taken, size = [], 0
                while self._queue and (not taken or size + len(self._queue[0][0]) <= self.max_batch):
                    item = self._queue.pop(0)
                    if item[1].done():  # its caller gave up (deadline passed): no model time for it
                        continue
                    taken.append(item)
                    size += len(item[0])
                if not taken:
                    continue
                texts = [t for item, _ in taken for t in item]
                self._metrics.batch.observe(len(texts))
                try:
                    out = await asyncio.get_running_loop().run_in_executor(self._executor, self._translate, texts)
                except Exception as exc:  # the model failed: every request of the batch hears it
                    for _, future in taken:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                start = 0
                for item, future in taken:
                    if not future.done():
                        future.set_result(out[start: start + len(item)])
                    start += len(item)
        finally:
            self._running = False
