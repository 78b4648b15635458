"""Rule-based translation with Apertium (Debian's ``apertium`` and its language-pair packages): a tier of
the device's chain for French, Spanish and Italian signs, where the corpus-trained models know few
sign words (``docs/languages.md``: on the pairs' evaluation sets it scored 44–49 chrF against the
models' 31–33).

Each Apertium mode (``spa-eng``, ``fr-es``, …) runs as one long-lived pipeline of its programs in
null-flush mode: a text ends with a NUL byte, and every program hands its output on at that byte, so
a text costs a few milliseconds instead of starting a dozen processes. A pair without an Apertium
mode of its own is a chain of modes (French → Spanish → English; Italian → Catalan → English).

An answer is only trusted when Apertium marks nothing in it: a word it does not know (``*``), a
word it could not generate (``#``) or transfer (``@``). The marks stay through a chain, so an OCR
misreading or a fragment ("Salquila") is never given as a rule-based translation. Nor is a text given
back unchanged (as the model's gate treats a copy): French "Bienvenue" becomes Spanish "Bienvenida",
which the Spanish analyser takes for a name and copies.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import threading
from pathlib import Path

from edge.errors import RuntimeMissing
from edge.textnorm import normalise

MODES_DIR = Path(os.environ.get("APERTIUM_DATADIR", "/usr/share/apertium")) / "modes"
# source language → the Apertium modes that take it to English (the Makefile installs their Debian packages)
CHAINS: dict[str, tuple[str, ...]] = {"es": ("spa-eng",), "fr": ("fr-es", "spa-eng"), "it": ("ita-cat", "cat-eng")}
MARKS = "*#@"  # unknown word, generation error, transfer error
_ESCAPE = {c: "\\" + c for c in "\\[]^$/@<>{}"}
TIMEOUT_S = 5.0  # one text through one mode; a pipeline that takes longer is stopped and restarted


def escape(text: str) -> str:
    """Plain text as Apertium's stream format reads it: its special characters escaped, no NUL or line
    breaks (a text is one line of a sign)."""
    text = " ".join(text.replace("\0", " ").split())
    return "".join(_ESCAPE.get(c, c) for c in text)


def strip_blocks(stream: str) -> str:
    """Apertium's stream format without its formatting blocks (``[...]``, unescaped brackets); the
    text's own characters stay escaped."""
    out, depth, chars = [], 0, iter(stream)
    for c in chars:
        if c == "\\":
            escaped = c + next(chars, "")
            if not depth:
                out.append(escaped)
        elif c == "[":
            depth += 1
        elif c == "]" and depth:
            depth -= 1
        elif not depth:
            out.append(c)
    return "".join(out)


def unescape(text: str) -> str:
    out, chars = [], iter(text)
    for c in chars:
        out.append(next(chars, "") if c == "\\" else c)
    return "".join(out).strip()


class ApertiumMode:
    """One Apertium mode as a persistent null-flush pipeline (started on first use)."""

    def __init__(self, mode: str, modes_dir: Path = MODES_DIR):
        self.mode = mode
        self.mode_file = modes_dir / f"{mode}.mode"
        if not mode_installed(mode, modes_dir):
            raise RuntimeMissing(f"no Apertium mode '{mode}' ({self.mode_file}): "
                                 "apt-get install apertium and its language-pair packages (make deps installs them)")
        self._proc: subprocess.Popen | None = None
        self._buffer = b""
        self._sent = 0  # texts sent: each goes in behind a block with its number

    def _start(self) -> subprocess.Popen:
        command = subprocess.run(["apertium-wblank-mode", "-z", str(self.mode_file)], capture_output=True, text=True,
                                 check=True).stdout
        # $1: generation with marks for unknown words (-g); $2: no extra tagger option
        return subprocess.Popen(["bash", "-c", command, self.mode, "-g", ""], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, "LC_ALL": "C.UTF-8"})

    def translate(self, stream_text: str) -> str:
        """Apertium's output (stream format, marks kept, blocks of formatting removed) for one escaped
        text. The text goes in as the ``apertium`` command's line format has it (ended by the block
        ``[][\\n]``; ended by a plain blank, the Spanish analyser lost a last word: "Cerrado el lunes" →
        "Closed the"), behind a numbered block that Apertium passes through untouched: an answer
        that does not carry the number is not this text's (the pipeline is restarted)."""
        if self._proc is None or self._proc.poll() is not None:
            self._proc, self._buffer = self._start(), b""
        self._sent += 1
        tag = f"[#{self._sent}]"
        try:
            self._proc.stdin.write(f"{tag}{stream_text.strip()}[][\n]\0".encode())
            self._proc.stdin.flush()
            answer = self._read_until_nul().decode("utf-8", errors="replace")
        except (OSError, TimeoutError):
            self.close()
            raise
        if not answer.startswith(tag):
            self.close()
            raise OSError(f"Apertium mode {self.mode} answered out of step")
        return strip_blocks(answer)

    def _read_until_nul(self) -> bytes:
        fd = self._proc.stdout.fileno()
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([fd], [], [], TIMEOUT_S)
            if not ready:
                raise TimeoutError(f"Apertium mode {self.mode} gave no answer in {TIMEOUT_S:.0f} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise OSError(f"Apertium mode {self.mode} stopped")
            self._buffer += chunk
        answer, self._buffer = self._buffer.split(b"\0", 1)
        self._buffer = self._buffer.lstrip(b"\0")
        return answer

    def pids(self) -> list[int]:
        """The pipeline's processes (the shell and its programs)."""
        if self._proc is None or self._proc.poll() is not None:
            return []
        try:
            children = Path(f"/proc/{self._proc.pid}/task/{self._proc.pid}/children").read_text().split()
        except OSError:
            return [self._proc.pid]
        return [self._proc.pid] + [int(p) for p in children]

    def close(self) -> None:
        if self._proc is not None:
            for sig in (signal.SIGTERM, signal.SIGKILL):  # the whole pipeline: it has a process group of its own
                try:
                    os.killpg(self._proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    self._proc.wait(timeout=5)
                    break
                except subprocess.TimeoutExpired:
                    continue
            for pipe in (self._proc.stdin, self._proc.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass
            self._proc = None


class RuleTranslator:
    """A source language's chain of Apertium modes to English; one text at a time, thread-safe."""

    def __init__(self, source: str, modes_dir: Path = MODES_DIR):
        if source not in CHAINS:
            raise RuntimeMissing(f"no Apertium chain for '{source}' (known: {', '.join(sorted(CHAINS))})")
        self.source = source
        self.modes = [ApertiumMode(mode, modes_dir) for mode in CHAINS[source]]
        self._lock = threading.Lock()
        self.failures = 0  # texts a pipeline did not answer (stopped, timed out): left to the next tier
        self.answers = 0  # texts translated with no mark (the others go to the next tier)

    def translate_one(self, text: str) -> str | None:
        """The translation, or None when Apertium marked a word it does not know or could not generate,
        gave the text back unchanged (from any mode of the chain), or did not answer."""
        with self._lock:
            out = escape(text)
            if not out:
                return None
            stages = []
            try:
                for mode in self.modes:
                    stages.append(normalise(unescape(out)))
                    out = mode.translate(out)
            except (OSError, TimeoutError):
                self.failures += 1
                return None
        plain = " ".join(unescape(out).split())  # a word Apertium drops ("ne pas" → "No") leaves a double space
        # a text given back as it came (a capitalised word taken for a name: "Bienvenida") is no translation
        if not plain or any(mark in plain for mark in MARKS) or normalise(plain) in stages:
            return None
        self.answers += 1
        return plain

    def translate(self, texts: list[str]) -> list[str | None]:
        return [self.translate_one(text) for text in texts]

    def private_mb(self) -> float:
        """Memory the pipelines' processes hold of their own (private pages, Linux ``/proc``; 0 where
        unreadable): what running the tier costs beyond the main process."""
        total_kb = 0
        for mode in self.modes:
            for pid in mode.pids():
                try:
                    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                        if line.startswith(("Private_Clean:", "Private_Dirty:")):
                            total_kb += int(line.split()[1])
                except (OSError, IndexError, ValueError):
                    pass
        return total_kb / 1024

    def summary(self) -> dict:
        return {"engine": "apertium " + " + ".join(CHAINS[self.source]), "answers": self.answers,
                "failures": self.failures, "private_mb": round(self.private_mb(), 1)}

    def close(self) -> None:
        for mode in self.modes:
            mode.close()


def mode_installed(mode: str, modes_dir: Path = MODES_DIR) -> bool:
    return shutil.which("apertium-wblank-mode") is not None and (modes_dir / f"{mode}.mode").is_file()


def installed(source: str, modes_dir: Path = MODES_DIR) -> bool:
    """Whether Apertium and every mode of ``source``'s chain are installed."""
    return source in CHAINS and all(mode_installed(mode, modes_dir) for mode in CHAINS[source])


def tiers_private_mb(rules: dict | None) -> float:
    """The memory of the rule-based tiers a summary's ``rules`` entry lists (by language; None: none)."""
    return sum(tier["private_mb"] for tier in (rules or {}).values())
