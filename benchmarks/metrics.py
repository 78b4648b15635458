"""Scoring primitives shared by the benchmarks and the tests (definitions in benchmarks/README)."""

from __future__ import annotations

from edge.fusion import distance as levenshtein
from edge.textnorm import normalise


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate on normalised text: edit distance / reference length (1.0 for an empty reference
    unless the hypothesis is empty too)."""
    hyp, ref = normalise(hypothesis), normalise(reference)
    if not ref:
        return 0.0 if not hyp else 1.0
    return levenshtein(hyp, ref) / len(ref)
