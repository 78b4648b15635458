"""Scoring primitives shared by the benchmarks and the tests (definitions in benchmarks/README)."""

from __future__ import annotations

from edge.textnorm import normalise


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate on normalised text: edit distance / reference length (1.0 for an empty reference
    unless the hypothesis is empty too)."""
    hyp, ref = normalise(hypothesis), normalise(reference)
    if not ref:
        return 0.0 if not hyp else 1.0
    return levenshtein(hyp, ref) / len(ref)
