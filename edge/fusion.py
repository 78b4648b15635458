"""Reading fusion: one text line read in several frames, combined into the reading the frames support.

A sign behind a swaying lamp post, in dim light, or read in motion gives a different, partly wrong
reading in every frame ("Krank nhaus", "Kran enhaus", "War"); the letter hidden in one frame is
visible in the next. ``fuse`` takes a region's recent readings (text, OCR confidence) and

1. picks the **medoid**: the reading most like all the others, weighted by their confidence;
2. aligns every reading like it (similarity ≥ ``ALIGN_MIN``) to the medoid, character by character
   (Levenshtein alignment), and **votes** at each position: the medoid's character, another one, or
   nothing, and what is inserted between two positions; each vote weighs its reading's confidence;
3. counts its **support**: the readings within ``SUPPORT_CER`` of the fused text.

A fused text supported by two or more readings is confirmed, whatever each reading's confidence:
unrelated noise rarely agrees with itself, and one misreading never outvotes several readings of the
whole line. Pieces of a line (fewer letters than its box holds, ``edge/scheduler.py``) are kept out
before fusion. Pure Python: about 2 ms for six readings of a 16-character line, on the keyframe worker.
"""

from __future__ import annotations

from dataclasses import dataclass

ALIGN_MIN = 0.5  # readings less similar than this to the medoid do not vote (another text, a piece)
SUPPORT_CER = 0.25  # a reading this close to the fused text supports it (the benchmark's "found")
KEEP = 6  # readings a region keeps (the newest)


@dataclass(frozen=True)
class Fused:
    text: str
    conf: float  # mean OCR confidence of the supporting readings
    support: int  # readings within SUPPORT_CER of ``text``


def distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    if len(a) < len(b):
        a, b = b, a
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def similarity(a: str, b: str) -> float:
    """1 − distance / the longer length (case-insensitive); 1.0 for two empty strings."""
    longest = max(len(a), len(b))
    return 1.0 - distance(a.lower(), b.lower()) / longest if longest else 1.0


def hides_only(a: str, b: str) -> bool:
    """The two readings can be one text with different letters hidden: they align with no letter read as
    another letter. A letter may be missing on either side, or stand against a space (where an
    occluder was); at least 60 % of the shorter reading's letters must match. "Kr nkenhaus",
    "Kra kenhaus" and "Krankenaus" are one text; "Gleis 3" and "Gleis 4" are not (changed content,
    never fused with what was there before)."""
    a, b = (" ".join(t.lower().split()) for t in (a, b))
    n, m = len(a), len(b)
    if not n or not m:
        return False
    lost = -1
    # best[i][j][k]: most matched letters aligning a[:i] with b[:j]. k: 0 after a match (or at the start),
    # 1 / 2 after skipping letters of a / b, 3 / 4 after a space in a / b against letters of the other (an
    # occluder's gap may hide several). A letter of a skipped next to a letter of b skipped would be one
    # letter read as another: no path does both in a row. Spaces are never skipped (that shifts a word).
    best = [[[lost] * 5 for _ in range(m + 1)] for _ in range(n + 1)]
    best[0][0][0] = 0

    def put(i: int, j: int, k: int, value: int) -> None:
        best[i][j][k] = max(best[i][j][k], value)

    for i in range(n + 1):
        for j in range(m + 1):
            for k in range(5):
                here = best[i][j][k]
                if here == lost:
                    continue
                if i < n and j < m and a[i] == b[j]:
                    put(i + 1, j + 1, 0, here + a[i].isalnum())
                elif i < n and j < m and a[i] == " " and k in (0, 2, 3):
                    put(i + 1, j + 1, 3, here)
                elif i < n and j < m and b[j] == " " and k in (0, 1, 4):
                    put(i + 1, j + 1, 4, here)
                if i < n and a[i] != " " and k in (0, 1, 4):
                    put(i + 1, j, 4 if k == 4 else 1, here)
                if j < m and b[j] != " " and k in (0, 2, 3):
                    put(i, j + 1, 3 if k == 3 else 2, here)
    letters = min(sum(ch.isalnum() for ch in a), sum(ch.isalnum() for ch in b))
    return letters > 0 and max(best[n][m]) >= 0.6 * letters


def align(base: str, other: str) -> list[tuple[int, str]]:
    """How ``other`` maps onto ``base``: (slot, text) pairs, where slot 2k+1 is base position k (text:
    the character there, "" when deleted) and slot 2k is the gap before it (text: what is inserted)."""
    n, m = len(base), len(other)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = i
    for j in range(m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            same = base[i - 1].lower() == other[j - 1].lower()
            cost[i][j] = min(cost[i - 1][j - 1] + (not same), cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    out: dict[int, str] = {}
    i, j = n, m
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (base[i - 1].lower() != other[j - 1].lower()):
            out[2 * i - 1] = other[j - 1]
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            out[2 * i - 1] = ""
            i -= 1
        else:
            out[2 * i] = other[j - 1] + out.get(2 * i, "")
            j -= 1
    return sorted(out.items())


def fuse(readings: list[tuple[str, float]]) -> Fused | None:
    """The reading ``readings`` (text, confidence 0–1; oldest first) support; None when there is none."""
    readings = [(t, max(c, 0.05)) for t, c in readings if t and t.strip()]
    if not readings:
        return None
    if len(readings) == 1:
        return Fused(readings[0][0], readings[0][1], 1)
    medoid = max(readings, key=lambda r: sum(c * similarity(r[0], t) for t, c in readings))[0]
    voters = [(t, c) for t, c in readings if similarity(medoid, t) >= ALIGN_MIN]
    votes: dict[int, dict[str, float]] = {}
    for text, conf in voters:
        seen = dict(align(medoid, text))
        for slot in range(2 * len(medoid) + 1):
            choice = seen.get(slot, "")  # a gap with nothing inserted votes for nothing
            votes.setdefault(slot, {}).setdefault(choice, 0.0)
            votes[slot][choice] += conf
    fused = "".join(_winner(votes[slot], medoid, slot) for slot in range(2 * len(medoid) + 1)).strip()
    fused = " ".join(fused.split())
    support = [(t, c) for t, c in readings if distance(fused.lower(), t.lower()) <= SUPPORT_CER * max(1, len(fused))]
    conf = sum(c for _, c in support) / len(support) if support else max(c for _, c in readings)
    return Fused(fused or medoid, conf, len(support))


def _winner(choices: dict[str, float], medoid: str, slot: int) -> str:
    """The heaviest choice at a slot. On a tie a letter or digit beats a space or nothing (an occluder
    hides a letter, it never adds one), then the medoid's own character wins."""
    own = medoid[slot // 2] if slot % 2 else ""
    return max(choices.items(), key=lambda kv: (round(kv[1], 6), any(ch.isalnum() for ch in kv[0]),
                                                kv[0].lower() == own.lower()))[0]
