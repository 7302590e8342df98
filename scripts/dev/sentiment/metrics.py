"""Three-class metrics in pure Python (the eval runs without scikit-learn).

Predictions may be MIXED, a label the gold data never has: it counts against recall and accuracy, and gets its
own column in the confusion matrix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from scripts.dev.sentiment.data import GOLD

PREDICTED = (*GOLD, "MIXED")


@dataclass(frozen=True)
class Report:
    n: int
    accuracy: float
    macro_recall: float
    macro_f1: float
    recall: dict[str, float]
    confusion: dict[tuple[str, str], int]
    """(gold, predicted) -> count."""


def report(gold: Sequence[str], predicted: Sequence[str]) -> Report:
    if len(gold) != len(predicted) or not gold:
        raise ValueError("gold and predicted must be non-empty and of the same length")
    confusion = Counter(zip(gold, predicted, strict=True))
    recall: dict[str, float] = {}
    f1: dict[str, float] = {}
    for label in GOLD:
        true_positive = confusion[(label, label)]
        actual = sum(confusion[(label, p)] for p in PREDICTED)
        guessed = sum(confusion[(g, label)] for g in GOLD)
        recall[label] = true_positive / actual if actual else 0.0
        precision = true_positive / guessed if guessed else 0.0
        total = precision + recall[label]
        f1[label] = 2 * precision * recall[label] / total if total else 0.0
    return Report(
        n=len(gold),
        accuracy=sum(confusion[(label, label)] for label in GOLD) / len(gold),
        macro_recall=sum(recall.values()) / len(GOLD),
        macro_f1=sum(f1.values()) / len(GOLD),
        recall=recall,
        confusion=dict(confusion),
    )
