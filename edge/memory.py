"""This process's memory: its peak and current resident set, and handing freed heap pages back."""

from __future__ import annotations

import os
import resource
from collections import OrderedDict
from collections.abc import Callable


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far: ``VmHWM`` from ``/proc/self/status`` on Linux.
    ``ru_maxrss`` is only the fallback elsewhere: Linux carries it across ``execve``, so a replay started
    by a bigger parent (the benchmark harness after rendering a scenario) would report the parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_mb() -> float | None:
    """Current resident set size (Linux ``/proc``; None elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE_MB
    except (OSError, IndexError, ValueError):
        return None


def _libc(name: str):
    """A glibc function by name (None where glibc is not there)."""
    try:
        import ctypes

        return getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):
        return None


malloc_trim = _libc("malloc_trim")  # hands freed heap pages back to the system
_mallopt = _libc("mallopt")
_M_ARENA_MAX = -8  # mallopt's parameter number (malloc.h)


def limit_heap_arenas(cores: int) -> bool:
    """At most one malloc arena per core this process runs on (glibc's default is 8 per core online, so a
    thread that allocates while another holds the lock gets a heap of its own, each fragmenting apart).
    Standard walk, ``pi-zero-2`` in real time on one core: peak RSS 196 → 192 MB. Call before threads start;
    False where glibc is not there."""
    return bool(_mallopt and _mallopt(_M_ARENA_MAX, max(1, cores)))


def make_room(loaded: OrderedDict, limit: int | None, unload: Callable[[object], None] = lambda item: None) -> None:
    """Before one more item is loaded into ``loaded`` (least recently used first): unload the least recently
    used ones until it fits under ``limit`` (None: no limit), and hand the freed heap back to the system,
    not only to the allocator."""
    if limit is None or len(loaded) < limit:
        return
    while len(loaded) >= limit:
        unload(loaded.popitem(last=False)[1])
    if malloc_trim:
        malloc_trim(0)
