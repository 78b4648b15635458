"""Pi-speed runs on a faster machine: a benchmark child limited to a share of one CPU core by a cgroup
CPU quota with a short period (10 ms), so a Raspberry Pi core's speed is imitated finely enough for
real time (frames every 67 ms) rather than in long stalls.

Calibration (``SHARES``): the single-thread ``sysbench cpu`` score (prime numbers up to 10,000,
events/s, sysbench 1.0.20, 64-bit OS) published for the boards, divided by the same benchmark run on
the machine doing the run (``python -m benchmarks.cpulimit --calibrate`` prints it):

- Raspberry Pi 4 (Cortex-A72, 1.5 GHz): 1,477.8 events/s;
- Raspberry Pi Zero 2 W (Cortex-A53, 1 GHz): no published figure in the same run; the Pi 3 B+ (the
  same Cortex-A53 at 1.4 GHz) scored 687.5, so 687.5 × 1.0 / 1.4 = 491.
  (leoncode.co.uk "Raspberry Pi CPU Benchmarks".)

A prime sieve is integer code; the pipeline is mostly SIMD (XNNPACK, CTranslate2, Tesseract's LSTM),
where a Cortex-A72 falls further behind an x86 core, so these shares flatter the Pi somewhat: treat a
run under them as an upper bound of a real board's figures. It needs root and a writable cgroup
(v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``); elsewhere ``CpuLimit`` raises a clear error.

    python -m benchmarks.cpulimit --calibrate            # this machine's score and the shares it gives
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
from pathlib import Path

from edge.errors import RuntimeMissing

PUBLISHED = {"pi4": 1477.8, "pi-zero-2": 491.0}  # sysbench cpu single-thread events/s (see above)
HOST_SCORE = 5124.0  # this project's machines (AMD EPYC, 2 cores), measured with --calibrate (5,124 and 5,136 events/s
# in two runs of 10 s)


def shares_for(host_score: float) -> dict[str, float]:
    """Each board's share of one core of a host with this ``sysbench`` score (at most the whole core)."""
    return {name: round(min(1.0, published / host_score), 3) for name, published in PUBLISHED.items()}


SHARES = shares_for(HOST_SCORE)
PERIOD_US = 10_000
CGROUP_ROOT = Path("/sys/fs/cgroup")


def parse_share(text: str) -> float:
    """A device name from ``SHARES`` or a share of one core in (0, 1]."""
    if text in SHARES:
        return SHARES[text]
    try:
        share = float(text)
    except ValueError:
        raise ValueError(f"--cpu-share takes {', '.join(SHARES)} or a share of one core such as 0.28") from None
    if not 0 < share <= 1:
        raise ValueError("--cpu-share must be in (0, 1]: a share of one core")
    return share


class CpuLimit:
    """A cgroup allowing ``share`` of one core per ``PERIOD_US``; ``enter`` (a ``preexec_fn``) moves the
    calling process into it, so the child and every thread it starts are limited. ``close`` removes it."""

    def __init__(self, share: float, name: str | None = None):
        self.share = share
        name = name or f"ar-translate-bench-{os.getpid()}"
        quota = max(1000, int(round(share * PERIOD_US)))
        v2 = CGROUP_ROOT / "cgroup.controllers"
        try:
            if v2.is_file() and "cpu" in v2.read_text().split():
                (CGROUP_ROOT / "cgroup.subtree_control").write_text("+cpu")
                self.path = CGROUP_ROOT / name
                self.path.mkdir(exist_ok=True)
                (self.path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
            else:
                base = next((p for p in (CGROUP_ROOT / "cpu", CGROUP_ROOT / "cpu,cpuacct") if p.is_dir()), None)
                if base is None:
                    raise OSError("no cpu cgroup controller mounted")
                self.path = base / name
                self.path.mkdir(exist_ok=True)
                (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (self.path / "cpu.cfs_quota_us").write_text(str(quota))
        except OSError as exc:
            raise RuntimeMissing(f"cannot limit the CPU to {share:.2f} of a core: {exc.strerror or exc} (needs root "
                                 "and a writable cgroup: v2 cpu.max or v1 cpu.cfs_quota_us)") from None
        self._procs = str(self.path / "cgroup.procs")

    def enter(self) -> None:
        """In the child, before it runs the benchmarked program."""
        with open(self._procs, "w") as fh:
            fh.write(str(os.getpid()))

    def close(self) -> None:
        try:
            self.path.rmdir()
        except OSError:
            pass  # a process still in it: the kernel removes nothing, the next run reuses the name


def sysbench_score(seconds: int = 10) -> float:
    """``sysbench cpu --threads=1 --cpu-max-prime=10000`` events per second on this machine."""
    if shutil.which("sysbench") is None:
        raise RuntimeMissing("calibration needs sysbench: apt-get install sysbench")
    done = subprocess.run(["sysbench", "cpu", "--threads=1", "--cpu-max-prime=10000", f"--time={seconds}", "run"],
                          capture_output=True, text=True, check=True)
    found = re.search(r"events per second:\s*([\d.]+)", done.stdout)
    if not found:
        raise RuntimeMissing(f"sysbench printed no score: {done.stdout[-200:]}")
    return float(found.group(1))


def machine_shares(seconds: int = 10) -> tuple[dict[str, float], float | None]:
    """Each board's share of one core of *this* machine (its ``sysbench`` score, measured now) and that score;
    where sysbench is missing, ``SHARES`` (this project's reference machine) and None. A share of a slower
    host than the reference would imitate a slower board: on a Xeon scoring 1,845 events/s, 0.288 of its core is
    a Pi 4 at 37 % of its speed."""
    try:
        score = sysbench_score(seconds)
    except RuntimeMissing:
        return dict(SHARES), None
    return shares_for(score), score


def cpu_model() -> str:
    """This machine's CPU model (``/proc/cpuinfo``; the platform's name elsewhere)."""
    import platform

    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(errors="replace"), re.M)
    except OSError:
        found = None
    return found.group(1).strip() if found else platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calibrate", action="store_true", help="measure this machine and print the shares")
    args = parser.parse_args()
    if args.calibrate:
        score = sysbench_score()
        print(f"this machine: {score:.1f} events/s (the shares in SHARES use {HOST_SCORE:.1f})")
        for name, published in PUBLISHED.items():
            print(f"  {name}: {published:.1f} / {score:.1f} = {published / score:.3f} of one core")
    else:
        for name, share in SHARES.items():
            print(f"{name}: {share} of one core ({share * PERIOD_US / 1000:.2f} ms per {PERIOD_US / 1000:.0f} ms)")


if __name__ == "__main__":
    main()
