"""Bag-of-features rows to the sparse matrix scikit-learn fits on, shared by both trainers (`train.py` for the
English model, `train_multilingual.py` for the per-language ones)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

MIN_COUNT = 2
"""A feature seen in fewer training texts than this is not in the model."""


def vocabulary(rows: Sequence[set[str]]) -> list[str]:
    counts = Counter(name for row in rows for name in row)
    return sorted(name for name, count in counts.items() if count >= MIN_COUNT)


def matrix(rows: Sequence[set[str]], vocab: Sequence[str]) -> Any:
    from scipy.sparse import csr_matrix

    index = {name: i for i, name in enumerate(vocab)}
    indptr, indices = [0], []
    for row in rows:
        indices.extend(sorted(index[name] for name in row if name in index))
        indptr.append(len(indices))
    return csr_matrix(([1.0] * len(indices), indices, indptr), shape=(len(rows), len(vocab)))
