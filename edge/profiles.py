"""Device profiles: how much of the machine the pipeline may use, and how hard it works.

A profile sets the cores the process runs on (``os.sched_setaffinity``), the thread counts of
LiteRT, CTranslate2 and Tesseract, the detector's input size, the keyframe cadence limits, the
translation cache size and a memory budget. Going over the budget is a warning in the summary and
a failed benchmark.

The figures in the README were taken on x86-64 cores. One such core is roughly 3–4× a Raspberry Pi 4
core (Cortex-A72, 1.5 GHz) and 8–10× a Pi Zero 2 core (Cortex-A53, 1 GHz) on this kind of work —
an estimate from published single-core benchmark ratios, not a measurement on a Pi.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from edge.errors import InputError
from edge.memory import limit_heap_arenas


@dataclass(frozen=True)
class DeviceProfile:
    name: str
    cores: int | None  # CPU cores the process may run on (None: every core it is allowed)
    detector: str  # catalog name of the text detector (its input size sets detection cost)
    litert_threads: int  # LiteRT interpreter threads
    ct2_threads: int  # CTranslate2 intra-op threads (1 is fastest on short sign texts)
    ocr_threads: int  # Tesseract OpenMP threads (OMP_THREAD_LIMIT; 1 is fastest on line crops)
    keyframe_min_ms: float  # detection at most this often (fast camera motion, lost tracks)
    keyframe_max_ms: float  # ... and at least this often (still scene)
    cache_entries: int  # translation cache bound (entries)
    flow_width_px: int  # optical flow runs on the frame scaled to this width
    memory_budget_mb: float | None  # peak RSS allowed to the whole process
    hires_every_ms: float = 3000.0  # while the camera is still, a keyframe also looks for small text in tiles at
    # full resolution at most this often (0: never); in real time on the keyframe worker, off the display path
    dim_keyframe_ms: float = 300.0  # in low light (``DetectorOptions.dim_luma``) a keyframe, detected in tiles at
    # 1.3×, comes at most this often ...
    dim_reread_ms: float = 50.0  # ... and tracked regions not confirmed yet are read again where they are at most
    # this often (at 15 fps: every frame). Hard scenario, pi4, 1 core: rereads at 150 ms and keyframes at the
    # cadence's own pace found 5/12 signs at 25 ms/frame; 50 / 300 ms found 9/12 at 31 ms/frame
    auto_pairs: int | None = None  # ``--source auto``: translation pairs loaded at once at most (None: all met)
    auto_neural: bool = True  # ``--source auto``: English lines read by the neural reader (68 MB resident); off, by
    # Tesseract (8–14 MB) when English is the target (an English line is then only told apart, never drawn)
    auto_readers: int | None = None  # ``--source auto``: Tesseract readers loaded at once at most (None: all met)
    rules: bool = True  # Apertium's rule-based tier for French, Spanish and Italian (``edge/apertium.py``): its own
    # processes hold 100 (es), 180 (fr, via Spanish) and 380 MB (it, via Catalan), so no budgeted profile runs it


PROFILES = {
    "desktop": DeviceProfile("desktop", None, "ppocrv4-det-640x480-int8", 2, 1, 1, 100, 1000, 4096, 480, None),
    "phone": DeviceProfile("phone", 4, "ppocrv4-det-480x352-int8", 2, 1, 1, 150, 1500, 2048, 320, 400, rules=False),
    "pi4": DeviceProfile("pi4", 4, "ppocrv4-det-480x352-int8", 2, 1, 1, 150, 2000, 1024, 320, 250, auto_pairs=1,
                         auto_neural=False, auto_readers=2, rules=False),
    "pi-zero-2": DeviceProfile("pi-zero-2", 4, "ppocrv4-det-320x256-int8", 1, 1, 1, 150, 3000, 512, 240, 200, 0,
                               auto_pairs=1, auto_neural=False, auto_readers=2, rules=False),
}
# Without --profile: the defaults the README's demo figures were taken with.
DEFAULT = DeviceProfile("default", None, "ppocrv4-det-480x352-int8", 2, 1, 1, 150, 1500, 2048, 320, None)


def get_profile(name: str | None, cores: int | None = None, memory_budget_mb: float | None = None) -> DeviceProfile:
    """The named profile (``None``: the default), with ``cores`` and ``memory_budget_mb`` overriding it."""
    if name is None:
        profile = DEFAULT
    elif name in PROFILES:
        profile = PROFILES[name]
    else:
        raise InputError(f"unknown profile '{name}'; available: {', '.join(PROFILES)}")
    if cores is not None:
        if cores < 1:
            raise InputError("--cores must be at least 1")
        profile = replace(profile, cores=cores)
    if memory_budget_mb is not None:
        profile = replace(profile, memory_budget_mb=memory_budget_mb)
    return profile


def allowed_cores() -> list[int]:
    """The CPU cores this process may run on."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))


def apply_cores(profile: DeviceProfile) -> list[int]:
    """Pin this process to the profile's number of cores (the lowest-numbered it is allowed) and, under a
    memory budget, keep one heap arena per core; returns the cores in use. Call before any thread starts:
    threads inherit the mask."""
    allowed = allowed_cores()
    chosen = allowed if profile.cores is None else allowed[: profile.cores]
    if hasattr(os, "sched_setaffinity") and chosen != allowed:
        os.sched_setaffinity(0, chosen)
    if profile.memory_budget_mb is not None:
        limit_heap_arenas(len(chosen))
    os.environ["OMP_THREAD_LIMIT"] = str(profile.ocr_threads)
    return chosen


def budget_report(profile: DeviceProfile, peak_rss_mb: float) -> dict | None:
    """The summary's ``budget`` entry; None when the profile has no memory budget."""
    if profile.memory_budget_mb is None:
        return None
    return {"profile": profile.name, "memory_mb": profile.memory_budget_mb, "peak_rss_mb": round(peak_rss_mb, 1),
            "ok": peak_rss_mb <= profile.memory_budget_mb}
