"""The linear model both embedded families share: summed feature weights, softmax, a biased decision, MIXED rule.

:class:`Model` is what a weights file becomes once loaded: the English model (``transform.sentiment.embedded``) and
each language's (``transform.sentiment.multilingual``) differ in their features, not in how they decide.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from transform.sentiment import Label, Scored, Scores

CLASSES: Final[tuple[Label, Label, Label]] = ("NEGATIVE", "NEUTRAL", "POSITIVE")
"""Order of every weight vector and bias in the weights file."""


@dataclass(frozen=True)
class Model:
    """Trained weights, as loaded from a weights file (``embedded.load_weights``, ``multilingual.load_language``)."""

    version: str
    weights: dict[str, list[float]]
    """Feature name -> weights of NEGATIVE, NEUTRAL, POSITIVE."""
    bias: tuple[float, float, float]
    decision_bias: tuple[float, float, float]
    mixed_threshold: float
    lexicon: tuple[frozenset[str], frozenset[str]]
    """Bing Liu's positive and negative words (English only; empty for the other languages)."""

    def probabilities(self, found: Iterable[str]) -> tuple[float, float, float]:
        neg, neu, pos = self.bias
        weights = self.weights
        for name in found:
            w = weights.get(name)
            if w is not None:
                neg += w[0]
                neu += w[1]
                pos += w[2]
        top = max(neg, neu, pos)
        e_neg, e_neu, e_pos = math.exp(neg - top), math.exp(neu - top), math.exp(pos - top)
        total = e_neg + e_neu + e_pos
        return e_neg / total, e_neu / total, e_pos / total

    def decide(self, probabilities: tuple[float, float, float]) -> Scored:
        neg, neu, pos = probabilities
        if min(pos, neg) >= self.mixed_threshold:
            shared = min(pos, neg)
            return Scored("MIXED", Scores(positive=pos - shared, negative=neg - shared, neutral=neu, mixed=2 * shared))
        adjusted = [math.log(max(p, 1e-12)) + b for p, b in zip(probabilities, self.decision_bias, strict=True)]
        label = CLASSES[adjusted.index(max(adjusted))]
        return Scored(label, Scores(positive=pos, negative=neg, neutral=neu, mixed=0.0))
