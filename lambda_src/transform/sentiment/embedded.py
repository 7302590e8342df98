"""Embedded backend (the default): a linear model trained on public tweets, pure Python, English only.

The model is multinomial logistic regression over binary features of the text: words and word pairs with
negation marking (``not good`` → ``good_NEG``), emoticons and emoji, counts of Bing Liu's opinion-lexicon words
and VADER's compound score in bins (VADER runs first, on the same cleaned text, so its rules about intensifiers,
"but" and capitals reach the model). Its weights are ``embedded_weights.json`` beside this module, written by
``scripts/dev/sentiment/train.py`` (``make train-sentiment DATA=...``); :func:`features` is the one definition of the
features, imported by the training script, so training and inference cannot drift apart.

Decision: the class with the highest probability after a per-class bias learnt on a validation split (an
asymmetric neutral band: VADER's symmetric ±0.05 is a large part of its error). MIXED only when the model gives
both POSITIVE and NEGATIVE at least ``mixed_threshold`` (from the weights file) — which leaves NEUTRAL with less
than the remainder. The scores are the three probabilities, except that for MIXED-eligible texts the
probability both polar classes share (twice the smaller) moves to ``mixed``; the four always sum to 1.

Failure policy: a weights file that is missing, malformed or fails its checksum raises :class:`WeightsError`
when the backend is built, so a damaged zip fails the cold start instead of scoring with a broken model.
Scoring itself never raises for one text.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from transform.sentiment import Label, Scored, Scores
from transform.sentiment.vader import Analyzer, VaderBackend

WEIGHTS_PATH: Final = Path(__file__).with_name("embedded_weights.json")
FORMAT: Final = "tweet-sentiment-linear/1"
"""The weights file's ``format``; a file of another format is refused."""
CLASSES: Final[tuple[Label, Label, Label]] = ("NEGATIVE", "NEUTRAL", "POSITIVE")
"""Order of every weight vector and bias in the weights file."""

_APOSTROPHES = str.maketrans({"`": "'", "\u2019": "'", "\u2018": "'"})
_ENTITIES = (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'))
_ELONGATED = re.compile(r"(\w)\1{2,}")
_TOKEN = re.compile(
    r"""(?:[<>]?[:;=8][\-o*']?[)\](\[dp/\\}{@|*]+)(?!\w)  # emoticons, lower-cased: :) ;-( :d :p
    |<3+                                                  # heart
    |[a-z0-9]+(?:'[a-z]+)?                                # words, with an apostrophe suffix
    |[!?]+                                                # ! and ? runs
    |[.,;:]                                               # ends a negation's scope (so do ! and ?)
    |[^\s\w]                                              # any other symbol (emoji, one code point each)
    """,
    re.VERBOSE,
)
_NEGATORS: Final = frozenset(
    {"not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "nowhere", "cannot", "without"}
)
_PUNCTUATION: Final = frozenset({".", ",", ";", ":"})
_KEPT_SYMBOLS: Final = ".,;:!?<>=8"
"""First characters of the non-word tokens kept: punctuation that ends a scope, emoticons, hearts."""
NEGATION_SCOPE: Final = 3
"""Words after a negator that are marked ``_NEG`` (fewer if punctuation comes first)."""
_FIRST_SYMBOL: Final = 0x2190  # arrows, dingbats, emoji...: symbols below this (%, $, &) carry no sentiment


class WeightsError(RuntimeError):
    """The weights file is missing, malformed or damaged; the message names the file and the problem."""


def tokens(cleaned: str) -> list[str]:
    """Lower-cased tokens of a text already through :func:`clean_for_vader`, elongations cut to two letters."""
    text = cleaned.translate(_APOSTROPHES).lower()
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return _TOKEN.findall(_ELONGATED.sub(r"\1\1", text))


def _is_negator(token: str) -> bool:
    return token in _NEGATORS or token.endswith("n't") or token in ("dont", "cant", "wont", "didnt", "isnt", "aint")


def _ends_scope(token: str) -> bool:
    """Punctuation (not an emoticon such as ``:)``) ends a negation's scope and starts a new clause."""
    return token in _PUNCTUATION or token[0] in "!?"


def _in_vain(kept: Sequence[str]) -> set[int]:
    """Indices of the words a following "for nothing" / "for no …" negates: its clause, back to the punctuation.

    "thanks for nothing", "all that work for no reason": the words before say the opposite of what they mean.
    """
    marked: set[int] = set()
    clause = 0
    for i, word in enumerate(kept):
        if _ends_scope(word):
            clause = i + 1
        elif word == "for" and i + 1 < len(kept) and kept[i + 1] in ("nothing", "no"):
            marked.update(range(clause, i))
    return marked


def features(cleaned: str, compound: float, lexicon: tuple[frozenset[str], frozenset[str]]) -> set[str]:
    """The model's binary features of one cleaned text, given VADER's compound score and the opinion lexicon."""
    positive_words, negative_words = lexicon
    found: set[str] = set()
    kept = [t for t in tokens(cleaned) if t[0].isalnum() or t[0] in _KEPT_SYMBOLS or ord(t[0]) >= _FIRST_SYMBOL]
    in_vain = _in_vain(kept) if "for" in kept else set()
    previous = ""
    negated = 0
    lexicon_pos = lexicon_neg = 0
    for i, token in enumerate(kept):
        if _ends_scope(token):
            negated = 0
            previous = ""
            if token[0] in "!?":
                found.add(token[:2])
            continue
        if previous:
            found.add(f"{previous} {token}")
        previous = token
        polar = (token in positive_words) - (token in negative_words)
        if negated or i in in_vain:
            found.add(token + "_NEG")
            negated = max(0, negated - 1)
            polar = -polar
        else:
            found.add(token)
        lexicon_pos += polar > 0
        lexicon_neg += polar < 0
        if _is_negator(token):
            negated = NEGATION_SCOPE
    found.add(f"_LEX+{min(lexicon_pos, 3)}")
    found.add(f"_LEX-{min(lexicon_neg, 3)}")
    found.add(f"_LEX{(lexicon_pos > 0) - (lexicon_neg > 0)}")
    found.add(f"_VADER{min(9, int((compound + 1.0) * 5.0))}")
    return found


@dataclass(frozen=True)
class Model:
    """The trained weights: what :func:`load_weights` returns and ``scripts/dev/sentiment/train.py`` writes."""

    version: str
    weights: dict[str, list[float]]
    """Feature name -> weights of NEGATIVE, NEUTRAL, POSITIVE."""
    bias: tuple[float, float, float]
    decision_bias: tuple[float, float, float]
    mixed_threshold: float
    lexicon: tuple[frozenset[str], frozenset[str]]

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


def checksum(body: bytes) -> str:
    """sha256 of the weights file's body (everything after its header line)."""
    return hashlib.sha256(body).hexdigest()


def load_weights(path: Path = WEIGHTS_PATH) -> Model:
    """Read and verify a weights file: a header line (format, sha256 of the body), then the body, one JSON each.

    The checksum covers the body's bytes, so verifying it costs a hash, not a second serialisation.
    """
    try:
        header_line, body = path.read_bytes().split(b"\n", 1)
        header = json.loads(header_line)
    except (OSError, ValueError) as exc:
        raise WeightsError(f"{path}: cannot read the sentiment weights: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise WeightsError(f"{path}: not a {FORMAT} weights file")
    digest = checksum(body)
    if header.get("sha256") != digest:
        raise WeightsError(f"{path}: checksum mismatch (damaged or edited weights file): retrain or rebuild")
    try:
        document = json.loads(body)
        weights: dict[str, list[float]] = document["weights"]
        if document["classes"] != list(CLASSES) or any(len(w) != len(CLASSES) for w in weights.values()):
            raise ValueError(f"expected {len(CLASSES)} weights per feature, in the order {CLASSES}")
        lexicon = (frozenset(document["lexicon"]["positive"]), frozenset(document["lexicon"]["negative"]))
        return Model(
            version=digest[:8],
            weights=weights,
            bias=_triple(document["bias"]),
            decision_bias=_triple(document["decision_bias"]),
            mixed_threshold=float(document["mixed_threshold"]),
            lexicon=lexicon,
        )
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise WeightsError(f"{path}: malformed weights file: {exc!r}") from exc


def _triple(values: Sequence[float]) -> tuple[float, float, float]:
    if len(values) != len(CLASSES):
        raise ValueError(f"expected {len(CLASSES)} values, got {len(values)}")
    return float(values[0]), float(values[1]), float(values[2])


class EmbeddedBackend(VaderBackend):
    """Scores English texts with the trained model; every other language is skipped as unsupported.

    A :class:`VaderBackend` (same cleaning, languages and empty-text rule) whose decision is the trained model's,
    with VADER's compound score as one of its features.
    """

    def __init__(self, model: Model | None = None, analyzer: Analyzer | None = None) -> None:
        super().__init__(analyzer)
        self._model = model if model is not None else load_weights()
        self._model_name = f"embedded-{self._model.version}"

    def decide(self, cleaned: str, raw: dict[str, float]) -> Scored:
        found = features(cleaned, float(raw["compound"]), self._model.lexicon)
        return self._model.decide(self._model.probabilities(found))
