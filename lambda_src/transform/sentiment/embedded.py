"""Embedded backend (the default): linear models trained on public tweets, pure Python, eight languages.

English is scored by the model this module defines; Arabic, German, Spanish, French, Hindi, Italian and Portuguese
by their own smaller models (:mod:`transform.sentiment.multilingual`, loaded per language on first use, separable
from the English one). The English model is multinomial logistic regression over binary features of the text:
words and word pairs with negation marking (``not good`` → ``good_NEG``), emoticons and emoji, counts of Bing Liu's
opinion-lexicon words and VADER's compound score in bins (VADER runs first, on the same cleaned text, so its rules
about intensifiers, "but" and capitals reach the model). Its weights are ``embedded_weights.json`` beside this
module, written by ``scripts/dev/sentiment/train.py`` (``make train-sentiment DATA=...``); :func:`features` is the one
definition of the features, imported by the training script, so training and inference cannot drift apart.

Decision: the class with the highest probability after a per-class bias learnt on a validation split (an
asymmetric neutral band: VADER's symmetric ±0.05 is a large part of its error). MIXED only when the model gives
both POSITIVE and NEGATIVE at least ``mixed_threshold`` (from the weights file) — which leaves NEUTRAL with less
than the remainder. The scores are the three probabilities, except that for MIXED-eligible texts the
probability both polar classes share (twice the smaller) moves to ``mixed``; the four always sum to 1.

Failure policy: an English weights file that is missing, malformed or fails its checksum raises
:class:`WeightsError` when the backend is built, so a damaged zip fails the cold start instead of scoring with a
broken model. Another language's damaged file fails that language's records when it is first needed (see
:class:`EmbeddedBackend`). Scoring itself never raises for one text.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Final

from transform.sentiment import Deadline, Failed, Outcome, Scored, ScoreRequest, Skipped
from transform.sentiment.languages import to_embedded
from transform.sentiment.linear import CLASSES, Model
from transform.sentiment.multilingual import LanguageModels, in_script
from transform.sentiment.vader import NOTHING_LEFT, Analyzer, VaderBackend, clean_for_vader
from transform.sentiment.weights_file import WeightsError, checksum, read_verified

__all__ = [  # CLASSES, Model, WeightsError and checksum are re-exported: the training script and tests use them
    "CLASSES",
    "FORMAT",
    "NEGATION_SCOPE",
    "WEIGHTS_PATH",
    "EmbeddedBackend",
    "Model",
    "WeightsError",
    "checksum",
    "features",
    "load_weights",
    "tokens",
]

log = logging.getLogger(__name__)

WEIGHTS_PATH: Final = Path(__file__).with_name("embedded_weights.json")
FORMAT: Final = "tweet-sentiment-linear/1"
"""The weights file's ``format``; a file of another format is refused."""

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


def load_weights(path: Path = WEIGHTS_PATH) -> Model:
    """Read and verify a weights file (:func:`transform.sentiment.weights_file.read_verified`) and build the model."""
    digest, body = read_verified(path, FORMAT)
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
    """Scores English with the trained English model and ar, de, es, fr, hi, it, pt with their own models (when
    their files are in the build); every other language is skipped as unsupported.

    For English, a :class:`VaderBackend` (same cleaning, languages and empty-text rule) whose decision is the trained
    model's, with VADER's compound score as one of its features. The language of a request is X's code mapped by
    :func:`transform.sentiment.languages.to_embedded` (``pt-BR`` → ``pt``; ``und``, ``zxx`` and missing → None).
    A damaged language file fails that language's records (``sentiment_error``, kept for redrive), logged once per
    container and language.
    """

    def __init__(
        self, model: Model | None = None, analyzer: Analyzer | None = None, languages: LanguageModels | None = None
    ) -> None:
        super().__init__(analyzer)
        self._model = model if model is not None else load_weights()
        self._model_name = f"embedded-{self._model.version}"
        self._languages = languages if languages is not None else LanguageModels()
        self._broken: set[str] = set()

    @property
    def languages(self) -> frozenset[str]:
        """Every language this backend scores: ``en`` and those whose files are present."""
        return frozenset({"en"}) | self._languages.available

    def decide(self, cleaned: str, raw: dict[str, float]) -> Scored:
        found = features(cleaned, float(raw["compound"]), self._model.lexicon)
        return self._model.decide(self._model.probabilities(found))

    def score_in(self, language: str | None, text: str) -> Outcome:
        """The outcome for ``text`` in ``language`` (a primary subtag from ``to_embedded``, or None)."""
        if language == "en":
            return self.score_text(text)
        if language is None or language not in self._languages.available:
            return Skipped("unsupported_language")
        try:
            model = self._languages.get(language)
        except WeightsError:
            if language not in self._broken:
                self._broken.add(language)
                log.exception("the %s sentiment model cannot be loaded; its records fail", language)
            return Failed("sentiment_error")
        assert model is not None  # available, so present
        cleaned = clean_for_vader(text)
        if not cleaned:
            return replace(NOTHING_LEFT, model=f"embedded-{language}-{model.version}")
        if not in_script(cleaned, model.script):
            return Skipped("unsupported_language")
        decided = model.model.decide(model.score_text(text))
        return replace(decided, model=f"embedded-{language}-{model.version}")

    def score(self, requests: Sequence[ScoreRequest], deadline: Deadline) -> list[Outcome]:
        del deadline  # embedded and fast (see make eval for posts/s)
        return [self.score_in(to_embedded(req.lang), req.text) for req in requests]
