"""The cloud tier of the translation router: ``CloudRoute`` asks the cloud fallback service on its
own thread, off the display path, and hands back answers that may replace the local ones."""

from __future__ import annotations

import queue
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from edge.textnorm import normalise
from edge.worker import drain


@dataclass
class CloudAsk:
    """One region's question to the cloud: its text (confident OCR) or its crop (unsure OCR)."""

    track_id: int
    text: str
    crop: bytes | None  # JPEG of the line when OCR was unsure; None: send the text
    deadline: float  # time.monotonic() seconds: after this the answer is no use


@dataclass
class CloudAnswer:
    track_id: int
    asked: str  # the region's text when asked (an answer for text the region no longer shows is dropped)
    text: str  # the cloud's reading (the asked text for a text question)
    translation: str


class CloudRoute:
    """The cloud tier of the translation router, on its own thread: the display path only queues
    questions (``ask``) and collects answers (``poll``); a slow, dead or lying service costs it
    nothing. Text questions waiting together go in one request. Answers are remembered per text, so
    a sign is asked about once. ``offline`` (a threading.Event) stops all network use at once."""

    def __init__(self, client, budget_ms: float, margin_ms: float = 50.0, max_queue: int = 64):
        self.client = client
        self.budget_ms, self.margin_ms = budget_ms, margin_ms
        self.offline = threading.Event()
        self._jobs: queue.Queue = queue.Queue(maxsize=max_queue)
        self._answers: queue.Queue = queue.Queue()
        self._known: OrderedDict[str, tuple[str, str]] = OrderedDict()  # text key → (text, translation)
        self._thread = threading.Thread(target=self._loop, name="cloud", daemon=True)
        self._thread.start()

    @property
    def stats(self):
        return self.client.stats

    def ask(self, track_id: int, text: str, crop: bytes | None, asked_at: float) -> None:
        """Queue a question whose answer is useful until ``asked_at`` + budget − margin."""
        if self.offline.is_set():
            return
        known = self._known.get(normalise(text))
        if known and crop is None:
            self._answers.put(CloudAnswer(track_id, text, text, known[1]))
            return
        deadline = asked_at + (self.budget_ms - self.margin_ms) / 1000
        try:
            self._jobs.put_nowait(CloudAsk(track_id, text, crop, deadline))
        except queue.Full:
            self.client.stats.skipped += 1

    def poll(self) -> list[CloudAnswer]:
        return drain(self._answers)

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch = [job]
            while job.crop is None:  # text questions waiting together: one request
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._jobs.put(None)
                    break
                batch.append(more)
            self._answer([j for j in batch if j.crop is None])
            for crop_job in (j for j in batch if j.crop is not None):
                self._answer_crop(crop_job)

    def _answer(self, jobs: list[CloudAsk]) -> None:
        jobs = [j for j in jobs if not self._skip(j)]
        if not jobs:
            return
        texts = list(dict.fromkeys(j.text for j in jobs))
        try:
            out = dict(zip(texts, self.client.translate(texts, min(j.deadline for j in jobs))))
        except Exception:  # CloudUnavailable, or anything a lying server provokes: the local answer stays
            return
        for j in jobs:
            self._remember(j.text, j.text, out[j.text])
            self._answers.put(CloudAnswer(j.track_id, j.text, j.text, out[j.text]))

    def _answer_crop(self, job: CloudAsk) -> None:
        if self._skip(job):
            return
        try:
            answer = self.client.recognize(job.crop, job.deadline)
        except Exception:
            return
        if answer["text"].strip():
            self._answers.put(CloudAnswer(job.track_id, job.text, answer["text"], answer["translation"]))

    def _skip(self, job: CloudAsk) -> bool:
        if self.offline.is_set() or time.monotonic() >= job.deadline:
            self.client.stats.skipped += 1
            return True
        return False

    def _remember(self, asked: str, text: str, translation: str) -> None:
        self._known[normalise(asked)] = (text, translation)
        while len(self._known) > 1024:
            self._known.popitem(last=False)
