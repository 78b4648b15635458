"""The self-test of a translator release, in a process of its own: load the model from a folder,
translate the given texts with the device's settings, and report load time, peak memory and the
outputs as one JSON line on stdout.

    python -m models.selftest FOLDER < texts.json    # {"layout": {...}, "texts": [...]}

A process of its own because a broken model may crash CTranslate2 (the updater must survive it) and
because its peak RSS is then the model's alone, not the updater's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from edge.errors import PullError

TIMEOUT_S = 120.0  # a self-test that takes longer than this failed


@dataclass
class SelfTestResult:
    load_s: float
    peak_rss_mb: float
    outputs: list[str]


def run_selftest(folder: Path, layout: dict, texts: list[str]) -> SelfTestResult:
    """Run the self-test of the model in ``folder`` in a child process. Raises ``PullError`` when the
    model cannot be loaded or the process fails."""
    request = json.dumps({"layout": layout, "texts": texts})
    try:
        done = subprocess.run([sys.executable, "-m", "models.selftest", str(folder)], input=request,
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise PullError(f"self-test of {folder.name} took over {TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise PullError(f"self-test could not run the model: {reason[:300]}")
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        return SelfTestResult(float(answer["load_s"]), float(answer["peak_rss_mb"]), [str(t) for t in answer["outputs"]])
    except (ValueError, KeyError, IndexError, TypeError):
        raise PullError("self-test printed no result") from None


def _main() -> int:
    from edge.dictionary import PhraseTable, SignGrammar
    from edge.memory import peak_rss_mb
    from edge.translate import LocalTranslator, TranslatorOptions, match_surface
    from models.catalog import cache_dir

    folder = Path(sys.argv[1])
    request = json.loads(sys.stdin.read())
    layout, texts = request["layout"], request["texts"]
    started = time.perf_counter()
    phrases = grammar = None
    if layout.get("phrases"):
        phrases = PhraseTable(folder / layout["phrases"], cache_dir(), folder / layout["words"] if layout.get("words") else None)
        if layout.get("grammar"):
            grammar = SignGrammar(folder / layout["grammar"], phrases)
    local = LocalTranslator(folder / layout["ct2"], folder / layout["source_spm"], folder / layout["target_spm"],
                            TranslatorOptions(), phrases, grammar)
    load_s = time.perf_counter() - started
    outputs = [match_surface(t, o) for t, o in zip(texts, local.translate(texts))]
    print(json.dumps({"load_s": round(load_s, 3), "peak_rss_mb": round(peak_rss_mb(), 1), "outputs": outputs},
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
