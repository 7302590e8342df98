"""Train the embedded models of ar, de, es, fr, hi, it, pt into lambda_src/transform/sentiment/multilingual_weights/.

    make train-sentiment DATA=/path/to/data   # runs .venv-train/bin/python -m scripts.dev.sentiment.train_multilingual

DATA holds ``umsab/<language>/{train,val}_{text,labels}.txt`` (UMSAB, from cardiffnlp/xlm-t; see
scripts/dev/sentiment/data.py). UMSAB's test split is not used. The model is NB-LR (NBSVM's logistic variant: Wang &
Manning, ACL 2012): per class, a one-vs-rest logistic regression over binary features scaled by their Naive Bayes
log-count ratio. On 1,839 tweets a language it beat a plain multinomial regression over the same features here
(best val macro-F1, de 0.581 → 0.627, it 0.577 → 0.599, hi 0.367 → 0.379).

Per language, every feature set of :data:`SPECS` and every L2 strength of :data:`C_GRID` is fit on ``train`` and
scored on ``val`` (macro-F1); the best fit is kept (ties: the earlier entry of the grids, which are ordered from the
cheapest). Its logits are scaled by the factor that minimises the val log-loss (temperature scaling: the class
decided does not change, the scores become calibrated probabilities), its weights centred per feature (softmax
ignores a constant), quantised to integers in steps of
``max |w| / 127`` (one scale per file) and pruned to the :data:`KEEP_GRID` size with the fewest features whose
``val`` macro-F1, through the Lambda's own pure-Python inference, is within :data:`PRUNE_TOLERANCE` of the unpruned
model's (the largest weights are kept).

The optimiser is scikit-learn's LogisticRegression (L-BFGS), deterministic for the same input; inputs
are read in file order and vocabularies sorted, so the same data gives the same bytes. Features come from
``transform.sentiment.multilingual.features``, the function the Lambda runs.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(REPO_ROOT / "lambda_src"), str(REPO_ROOT)]

from transform.sentiment.linear import CLASSES, Model  # noqa: E402
from transform.sentiment.multilingual import (  # noqa: E402
    FORMAT,
    LANGUAGES,
    MIXED_THRESHOLD,
    WEIGHTS_DIR,
    FeatureSpec,
    Script,
    features,
)
from transform.sentiment.weights_file import serialise  # noqa: E402

from scripts.dev.sentiment.data import GOLD, UMSAB_FOLDERS, Example, read_umsab  # noqa: E402
from scripts.dev.sentiment.metrics import report  # noqa: E402
from scripts.dev.sentiment.sparse import matrix, vocabulary  # noqa: E402

SPECS: tuple[FeatureSpec, ...] = (
    FeatureSpec(char_min=0, char_max=0, word_pairs=False),
    FeatureSpec(char_min=0, char_max=0, word_pairs=True),
    FeatureSpec(char_min=2, char_max=4, word_pairs=True),
    FeatureSpec(char_min=2, char_max=5, word_pairs=True),
)
"""Feature sets tried per language, cheapest first: words; words and pairs; with character 2–4-grams; 2–5-grams."""
C_GRID = (0.01, 0.03, 0.1, 0.3)
"""Inverse L2 strengths tried per feature set."""
LEVELS = 127
"""Quantisation: the largest weight of a file is ±LEVELS steps."""
KEEP_GRID = (5_000, 10_000, 20_000, 40_000)
"""Features kept after pruning (the largest |w| first), tried in this order."""
PRUNE_TOLERANCE = 0.005
"""Pruning may cost at most this much val macro-F1 against the quantised, unpruned model."""
SHARPNESS_GRID = tuple(round(0.25 * 1.25**i, 3) for i in range(25))
"""Factors tried on the logits (0.25 … about 50) to calibrate the scores on val."""
DECISION_BIAS = (0.0, 0.0, 0.0)
"""UMSAB's splits are balanced, so no class needs a decision bias (and none is tuned on the small val)."""

assert tuple(CLASSES) == GOLD, "the weight vectors and the gold labels must share one class order"

_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


@dataclass(frozen=True)
class Trained:
    language: str
    spec: FeatureSpec
    c: float
    val_f1: float
    """The chosen scikit-learn fit's val macro-F1 (before quantising and pruning)."""
    shipped_f1: float
    """The written file's val macro-F1, through the Lambda's pure-Python inference."""
    features: int
    size: int


def script_of(examples: Sequence[Example]) -> Script:
    """The script most letters of the training texts are written in (the model refuses texts in another)."""
    text = " ".join(e.text for e in examples)
    return "arabic" if len(_ARABIC.findall(text)) > len(_LATIN.findall(text)) else "latin"


@dataclass(frozen=True)
class Fit:
    """Three one-vs-rest logistic regressions over NB-scaled features, folded into one linear model: the weight of
    feature f for class c is ``r[c, f] * w[c, f]``, so inference is the Lambda's plain sum of weights."""

    coef_: Any
    """(3, features): folded weights, in the order of CLASSES."""
    intercept_: Any
    """(3,): one bias per class."""

    def predict(self, x: Any) -> list[str]:
        logits = x @ self.coef_.T + self.intercept_
        return [GOLD[i] for i in logits.argmax(axis=1)]


def nb_ratios(x: Any, labels: Sequence[str]) -> Any:
    """(3, features): per class, the log-ratio of the feature's smoothed frequency in that class against the others
    (Wang & Manning 2012, "Baselines and Bigrams", NBSVM; add-one smoothing)."""
    import numpy as np

    y = np.array([GOLD.index(label) for label in labels])
    ratios = []
    for c in range(len(GOLD)):
        p = np.asarray(x[y == c].sum(axis=0)).ravel() + 1.0
        q = np.asarray(x[y != c].sum(axis=0)).ravel() + 1.0
        ratios.append(np.log((p / p.sum()) / (q / q.sum())))
    return np.vstack(ratios)


def fits(x: Any, labels: Sequence[str]) -> Iterator[tuple[float, Fit]]:
    """(C, fit) for each C of C_GRID in order; each class's regression starts from its previous fit's weights (the
    same path every run, so deterministic; several times faster than cold starts on a busy machine)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    ratios = nb_ratios(x, labels)
    scaled = [x.multiply(ratios[c]).tocsr() for c in range(len(GOLD))]
    targets = [[int(label == gold) for label in labels] for gold in GOLD]
    models = [LogisticRegression(max_iter=2000, tol=1e-4, warm_start=True) for _ in GOLD]
    for c_value in C_GRID:
        for c, model in enumerate(models):
            model.set_params(C=c_value)
            model.fit(scaled[c], targets[c])
        coef = np.vstack([ratios[c] * models[c].coef_[0] for c in range(len(GOLD))])
        intercept = np.array([models[c].intercept_[0] for c in range(len(GOLD))])
        yield c_value, Fit(coef_=coef, intercept_=intercept)


def calibrated(model: Fit, x_val: Any, gold_val: Sequence[str]) -> tuple[Fit, float]:
    """The fit with its logits multiplied by the factor of :data:`SHARPNESS_GRID` that minimises the val log-loss
    (temperature scaling: the decided class is unchanged; one-vs-rest logits of a strongly regularised fit are
    otherwise squeezed into near-uniform scores)."""
    import numpy as np

    logits = x_val @ model.coef_.T + model.intercept_
    gold = np.array([GOLD.index(label) for label in gold_val])
    best = (float("inf"), 1.0)
    for factor in SHARPNESS_GRID:
        scaled = logits * factor
        scaled -= scaled.max(axis=1, keepdims=True)
        log_probabilities = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        loss = float(-log_probabilities[np.arange(len(gold)), gold].mean())
        if loss < best[0]:
            best = (loss, factor)
    factor = best[1]
    return Fit(coef_=model.coef_ * factor, intercept_=model.intercept_ * factor), factor


def quantised(model: Any, vocab: Sequence[str]) -> tuple[float, dict[str, list[int]], list[float]]:
    """(scale, feature -> integer weights (zeros dropped), bias): centred per feature and per bias vector."""
    coef = model.coef_ - model.coef_.mean(axis=0)
    intercept = model.intercept_ - model.intercept_.mean()
    scale = float(abs(coef).max()) / LEVELS
    weights = {}
    for i, name in enumerate(vocab):
        vector = [round(float(v) / scale) for v in coef[:, i]]
        if any(vector):
            weights[name] = vector
    return scale, weights, [round(float(v), 5) for v in intercept]


def pruned(weights: dict[str, list[int]], keep: int) -> dict[str, list[int]]:
    """The ``keep`` features with the largest |w| (ties by name, so the result is deterministic)."""
    ranked = sorted(weights, key=lambda name: (-max(abs(v) for v in weights[name]), name))
    return {name: weights[name] for name in sorted(ranked[:keep])}


def document(
    language: str, spec: FeatureSpec, script: Script, *, scale: float, weights: dict[str, list[int]], bias: list[float]
) -> dict[str, Any]:
    return {
        "language": language,
        "classes": list(CLASSES),
        "features": asdict(spec),
        "script": script,
        "scale": scale,
        "bias": bias,
        "decision_bias": list(DECISION_BIAS),
        "weights": weights,
        "trained_on": f"UMSAB ({UMSAB_FOLDERS[language]}, train split; cardiffnlp/xlm-t, Barbieri et al., LREC 2022); "
        "see NOTICE for the source dataset and its terms",
    }


def shipped_f1(doc: dict[str, Any], examples: Sequence[Example]) -> float:
    """val macro-F1 of a weights document through the Lambda's inference (dequantised exactly as it loads)."""
    scale = doc["scale"]
    model = Model(
        version="train",
        weights={name: [q * scale for q in w] for name, w in doc["weights"].items()},
        bias=(doc["bias"][0], doc["bias"][1], doc["bias"][2]),
        decision_bias=DECISION_BIAS,
        mixed_threshold=MIXED_THRESHOLD,
        lexicon=(frozenset(), frozenset()),
    )
    spec = FeatureSpec(**doc["features"])
    predicted = [model.decide(model.probabilities(features(e.text, spec))).label for e in examples]
    return report([e.label for e in examples], predicted).macro_f1


def train_language(umsab: Path, language: str, output_dir: Path, log: Callable[[str], object] = print) -> Trained:
    train, val = read_umsab(umsab, language, "train"), read_umsab(umsab, language, "val")
    gold_train, gold_val = [e.label for e in train], [e.label for e in val]
    best: tuple[float, FeatureSpec, float, Fit, list[str], Any] | None = None
    for spec in SPECS:
        rows_train = [features(e.text, spec) for e in train]
        rows_val = [features(e.text, spec) for e in val]
        vocab = vocabulary(rows_train)
        x_train, x_val = matrix(rows_train, vocab), matrix(rows_val, vocab)
        for c, model in fits(x_train, gold_train):
            score = report(gold_val, model.predict(x_val)).macro_f1
            log(f"  {language} {_describe(spec)} C={c:<4} {len(vocab):>7,} features: val macro-F1 {score:.4f}")
            if best is None or score > best[0]:
                best = (score, spec, c, model, vocab, x_val)
    assert best is not None
    score, spec, c, model, vocab, x_val = best
    script = script_of(train)
    model, sharpness = calibrated(model, x_val, gold_val)
    scale, weights, bias = quantised(model, vocab)
    full = shipped_f1(document(language, spec, script, scale=scale, weights=weights, bias=bias), val)
    chosen = document(language, spec, script, scale=scale, weights=weights, bias=bias)
    for keep in KEEP_GRID:
        if keep >= len(weights):
            break
        candidate = document(language, spec, script, scale=scale, weights=pruned(weights, keep), bias=bias)
        if shipped_f1(candidate, val) >= full - PRUNE_TOLERANCE:
            chosen = candidate
            break
    output_dir.mkdir(parents=True, exist_ok=True)
    output = output_dir / f"{language}.json"
    output.write_bytes(serialise(chosen, FORMAT))
    trained = Trained(
        language=language,
        spec=spec,
        c=c,
        val_f1=score,
        shipped_f1=shipped_f1(chosen, val),
        features=len(chosen["weights"]),
        size=output.stat().st_size,
    )
    log(f"{language}: chose {_describe(spec)} C={c} (val macro-F1 {score:.4f}), logits ×{sharpness}; quantised "
        f"{full:.4f}; shipped "
        f"{trained.shipped_f1:.4f} with {trained.features:,} of {len(weights):,} features, script {script}; "
        f"wrote {output} ({trained.size:,} bytes)")  # fmt: skip
    return trained


def _describe(spec: FeatureSpec) -> str:
    chars = f"chars {spec.char_min}-{spec.char_max}" if spec.char_max else "no chars"
    return f"words{' + pairs' if spec.word_pairs else ''}, {chars}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with umsab/<language>/")
    parser.add_argument("--output-dir", type=Path, default=WEIGHTS_DIR, help="folder to write <language>.json into")
    parser.add_argument("--languages", default=",".join(LANGUAGES), help=f"comma-separated subset of {LANGUAGES}")
    args = parser.parse_args(argv)
    languages = [code.strip() for code in args.languages.split(",") if code.strip()]
    unknown = sorted(set(languages) - set(LANGUAGES))
    if unknown:
        parser.error(f"unknown language(s) {', '.join(unknown)}: expected a subset of {', '.join(LANGUAGES)}")
    umsab = args.data / "umsab"
    for language in languages:
        if not (umsab / UMSAB_FOLDERS[language] / "train_text.txt").is_file():
            parser.error(f"{umsab / UMSAB_FOLDERS[language]}/train_text.txt not found: DATA must hold umsab/")
    results = [train_language(umsab, language, args.output_dir) for language in languages]
    print("\nlanguage | features chosen                 | C    | val macro-F1 (fit / shipped) | kept features | bytes")
    for r in results:
        print(f"  {r.language:<6} | {_describe(r.spec):<31} | {r.c:<4} | {r.val_f1:.4f} / {r.shipped_f1:.4f}"
              f"              | {r.features:>13,} | {r.size:,}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
