"""Train the embedded sentiment model and write lambda_src/transform/sentiment/embedded_weights.json.

    make train-sentiment DATA=/path/to/data        # .venv-train/bin/python -m scripts.dev.sentiment.train --data ...

DATA holds ``tse/train.csv`` (Kaggle "Tweet Sentiment Extraction") and ``opinion_lexicon/`` (Bing Liu); see
scripts/dev/sentiment/data.py. (The other languages' models: ``scripts/dev/sentiment/train_multilingual.py``, which the
same ``make train-sentiment`` runs next.) The TSE test split is never read here: the regularisation strength and the
per-class decision biases are chosen on a validation split carved from train.csv (10 %, seeded shuffle); the final
weights are then fit on the whole of train.csv with the chosen strength.

The optimiser is scikit-learn's LogisticRegression (multinomial, L-BFGS): deterministic for the same input, and
the reason this script has its own virtualenv (.venv-train, the ``train`` extra); inference needs none of it
(transform.sentiment.embedded is pure Python). Features come from ``transform.sentiment.embedded.features``,
the same function the Lambda runs, so training and inference cannot drift apart.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO_ROOT / "lambda_src"), str(REPO_ROOT)]

from transform.sentiment import weights_file  # noqa: E402
from transform.sentiment.embedded import CLASSES, FORMAT, WEIGHTS_PATH, features  # noqa: E402
from transform.sentiment.vader import clean_for_vader, new_analyzer  # noqa: E402

from scripts.dev.sentiment.data import GOLD, Example, read_lexicon, read_tse  # noqa: E402
from scripts.dev.sentiment.metrics import report  # noqa: E402
from scripts.dev.sentiment.sparse import matrix, vocabulary  # noqa: E402

SEED = 2020
VALIDATION_SHARE = 0.1
C_GRID = (0.1, 0.2, 0.3, 0.5, 1.0)
"""Inverse L2 strengths tried on the validation split."""
BIAS_GRID = tuple(round(-1.0 + 0.1 * i, 1) for i in range(21))
"""Decision biases (added to log-probabilities of NEGATIVE and POSITIVE; NEUTRAL stays 0) tried on validation."""
MIXED_THRESHOLD = 0.4
"""MIXED when both polar probabilities reach this (so NEUTRAL has at most 0.2): both sides strongly present."""
DECIMALS = 3
"""Weights are rounded to this many decimals; smaller ones (after centring) are dropped."""

assert tuple(CLASSES) == GOLD, "the weight vectors and the gold labels must share one class order"


def split(examples: Sequence[Example], seed: int = SEED) -> tuple[list[Example], list[Example]]:
    """(training part, validation part): a seeded shuffle, the last VALIDATION_SHARE held out."""
    shuffled = list(examples)
    random.Random(seed).shuffle(shuffled)  # noqa: S311 -- a reproducible split, not security
    cut = len(shuffled) - max(1, int(len(shuffled) * VALIDATION_SHARE))
    return shuffled[:cut], shuffled[cut:]


def featurise(examples: Sequence[Example], lexicon: tuple[frozenset[str], frozenset[str]]) -> list[set[str]]:
    analyzer = new_analyzer()
    rows = []
    for example in examples:
        cleaned = clean_for_vader(example.text)
        compound = float(analyzer.polarity_scores(cleaned)["compound"]) if cleaned else 0.0
        rows.append(features(cleaned, compound, lexicon) if cleaned else set())
    return rows


def fit(x: Any, labels: Sequence[str], c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, tol=1e-6)
    model.fit(x, [GOLD.index(label) for label in labels])
    return model


def decide(probabilities: Any, bias: tuple[float, float, float]) -> list[str]:
    import numpy as np

    adjusted = np.log(np.maximum(probabilities, 1e-12)) + np.array(bias)
    labels = [GOLD[i] for i in adjusted.argmax(axis=1)]
    mixed = np.minimum(probabilities[:, 0], probabilities[:, 2]) >= MIXED_THRESHOLD
    return ["MIXED" if m else label for m, label in zip(mixed, labels, strict=True)]


def best_bias(probabilities: Any, gold: Sequence[str]) -> tuple[tuple[float, float, float], float]:
    """The decision biases with the best validation macro-recall (ties: the smaller adjustment)."""
    best: tuple[float, float, tuple[float, float, float]] = (-1.0, 0.0, (0.0, 0.0, 0.0))
    for neg in BIAS_GRID:
        for pos in BIAS_GRID:
            bias = (neg, 0.0, pos)
            score = report(gold, decide(probabilities, bias)).macro_recall
            if (score, -abs(neg) - abs(pos)) > (best[0], best[1]):
                best = (score, -abs(neg) - abs(pos), bias)
    return best[2], best[0]


def weights_document(
    model: Any, vocab: Sequence[str], bias: tuple[float, float, float], lexicon: tuple[frozenset[str], frozenset[str]]
) -> dict[str, Any]:
    """The weights file's content: centred (softmax ignores a constant per feature), rounded, small ones dropped."""
    coef = model.coef_ - model.coef_.mean(axis=0)
    intercept = model.intercept_ - model.intercept_.mean()
    weights = {}
    for i, name in enumerate(vocab):
        vector = [round(float(v), DECIMALS) for v in coef[:, i]]
        if any(vector):
            weights[name] = vector
    return {
        "classes": list(CLASSES),
        "bias": [round(float(v), DECIMALS + 2) for v in intercept],
        "decision_bias": list(bias),
        "mixed_threshold": MIXED_THRESHOLD,
        "lexicon": {"positive": sorted(lexicon[0]), "negative": sorted(lexicon[1])},
        "weights": weights,
        "trained_on": "Tweet Sentiment Extraction (Kaggle / Figure Eight, CC BY 4.0) train split; "
        "Opinion Lexicon by Bing Liu (CC BY 4.0); see NOTICE",
    }


def serialise(document: dict[str, Any]) -> bytes:
    """Byte-stable file content (:func:`transform.sentiment.weights_file.serialise` in this model's format)."""
    return weights_file.serialise(document, FORMAT)


def train(train_csv: Path, lexicon_dir: Path, output: Path, log: Any = print) -> dict[str, Any]:
    lexicon = read_lexicon(lexicon_dir)
    examples = read_tse(train_csv)
    part, validation = split(examples)
    log(f"train.csv: {len(examples):,} texts; fitting on {len(part):,}, validating on {len(validation):,}")
    rows_part, rows_val = featurise(part, lexicon), featurise(validation, lexicon)
    vocab = vocabulary(rows_part)
    x_part, x_val = matrix(rows_part, vocab), matrix(rows_val, vocab)
    gold_val = [e.label for e in validation]
    best: tuple[float, float, tuple[float, float, float]] = (-1.0, 0.0, (0.0, 0.0, 0.0))
    for c in C_GRID:
        probabilities = fit(x_part, [e.label for e in part], c).predict_proba(x_val)
        bias, score = best_bias(probabilities, gold_val)
        log(f"  C={c:<4} validation macro-recall {score:.4f} (decision bias {bias})")
        if score > best[0]:
            best = (score, c, bias)
    score, c, bias = best
    log(f"chosen C={c}, decision bias {bias}: validation macro-recall {score:.4f}")
    rows_all = rows_part + rows_val
    vocab = vocabulary(rows_all)
    final = fit(matrix(rows_all, vocab), [e.label for e in (*part, *validation)], c)
    document = weights_document(final, vocab, bias, lexicon)
    output.write_bytes(serialise(document))
    log(f"wrote {output} ({output.stat().st_size:,} bytes, {len(document['weights']):,} features)")
    return document


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with tse/ and opinion_lexicon/")
    parser.add_argument("--output", type=Path, default=WEIGHTS_PATH, help="weights file to write")
    args = parser.parse_args(argv)
    train_csv, lexicon_dir = args.data / "tse" / "train.csv", args.data / "opinion_lexicon"
    for needed in (train_csv, lexicon_dir):
        if not needed.exists():
            parser.error(f"{needed} not found: DATA must hold tse/train.csv and opinion_lexicon/")
    train(train_csv, lexicon_dir, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
