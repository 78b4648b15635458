"""The keyframe reader's thread in real time: one job at a time (``read``, ``reread`` or
``translate_blocks``), results handed back to the display thread by ``poll``."""

from __future__ import annotations

import queue
import threading

from edge.scheduler import BlockTranslations, KeyframeReader, KeyframeResult


def drain(items: queue.Queue) -> list:
    """Everything waiting in ``items`` now, without blocking."""
    out = []
    while True:
        try:
            out.append(items.get_nowait())
        except queue.Empty:
            return out


class KeyframeWorker:
    """Runs a ``KeyframeReader`` on its own thread, one keyframe at a time."""

    def __init__(self, reader: KeyframeReader):
        self.reader = reader
        self._jobs: queue.Queue = queue.Queue(maxsize=1)
        self._results: queue.Queue = queue.Queue()
        self._busy = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="keyframe-reader", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        return not self._busy.is_set()

    def submit(self, job: str, *args, scene: int = 0) -> None:
        """Run ``reader.<job>(*args)`` (``read``, ``reread`` or ``translate_blocks``) on the worker thread; its result carries
        ``scene`` (the tracker's scene when the keyframe was taken)."""
        self._busy.set()
        self._jobs.put((job, args, scene))

    def poll(self) -> list[KeyframeResult | BlockTranslations]:
        """Finished keyframes (an exception from the reader is raised here, on the display thread)."""
        out = drain(self._results)
        for item in out:
            if isinstance(item, BaseException):
                raise item
        return out

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                name, args, scene = job
                result = getattr(self.reader, name)(*args)
                result.scene = scene
                self._results.put(result)
            except BaseException as exc:  # handed to the display thread
                self._results.put(exc)
            finally:
                self._busy.clear()
