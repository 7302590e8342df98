"""Embedded models for Arabic, German, Spanish, French, Hindi, Italian and Portuguese: one small file per language.

Each language has its own multinomial logistic regression over binary features of the cleaned text: words,
adjacent word pairs, character n-grams inside word boundaries (``" bueno "`` gives ``" b"``, ``"bu"``, …), hashtags,
emoji and ``!``/``?`` runs. The cleaning is the English model's (leading RT, @mentions and URLs removed) plus what
tweets in these languages need: lower case, ``\\uXXXX`` escapes decoded, HTML entities unescaped, letters repeated
three or more times cut to two (``buenooooo`` → ``buenoo``), digits folded to ``0``, and for Arabic the tatweel and
short-vowel marks removed and the alef, ya, ta marbuta and hamza-seat variants unified. :func:`features` is the one
definition, imported by ``scripts/dev/sentiment/train_multilingual.py``, so training and inference cannot drift apart.
Which n-gram lengths and whether word pairs are used is chosen per language on validation data and stored in the
language's weights file (:class:`FeatureSpec`).

The files are ``multilingual_weights/<language>.json`` beside this module (format ``tweet-sentiment-ngram/1``:
the header line of :mod:`transform.sentiment.weights_file`, then weights quantised to integers with one scale per
file). They are separable: a zip without that folder (or without one language's file) runs, and the missing
languages are unsupported (skipped, or sent to Comprehend when ``SENTIMENT_FALLBACK=comprehend``). A language is
loaded on its first text, once per container (:class:`LanguageModels`), so a cold start pays for English only.

Each model knows the script its training data was written in (``script``: ``latin`` or ``arabic``). A text whose
letters are mostly in another script is not scored by it: UMSAB's Hindi is romanised (Hinglish), so a Hindi post in
Devanagari is unsupported here (Comprehend's ``hi`` reads Devanagari), as is Arabic in Latin letters (Arabizi).

Failure policy: a file that is present but missing its pieces, malformed or fails its checksum raises
:class:`WeightsError` when its language is first needed; the backend turns that into failed records (kept for
redrive), never a silent skip. A missing file is not an error: the language is unsupported.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from transform.sentiment.linear import CLASSES, Model
from transform.sentiment.vader import clean_for_vader
from transform.sentiment.weights_file import WeightsError, read_verified

WEIGHTS_DIR: Final = Path(__file__).with_name("multilingual_weights")
FORMAT: Final = "tweet-sentiment-ngram/1"
LANGUAGES: Final = ("ar", "de", "es", "fr", "hi", "it", "pt")
"""The languages a model is trained for (``make train-sentiment``); each may be absent from a build."""
MIXED_THRESHOLD: Final = 1.0
"""Never MIXED: these models learn three classes and have no "both sides" signal (the English model's rule)."""

Script = Literal["latin", "arabic"]
_LETTERS: Final = re.compile(r"[^\W\d_]")
_SCRIPT_LETTERS: Final[dict[Script, re.Pattern[str]]] = {
    "latin": re.compile(r"[a-zA-Z\u00c0-\u024f]"),
    "arabic": re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"),
}

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_ENTITIES = (("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"))
_ELONGATED = re.compile(r"(.)\1{2,}")
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")  # short vowels, shadda, sukun, dagger alef, tatweel
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_TOKEN = re.compile(r"(#?[\w\u0900-\u0dff\u064b-\u065f]+)|([!?]+)|([^\s\w])")
"""Three groups, one non-empty per match: a word (letters, digits, Indic and Arabic marks; ``#`` kept), a ``!``/``?``
run, or one other symbol (an emoji is one code point; its modifiers and joiners are symbols of their own)."""
_FIRST_SYMBOL: Final = 0x2190  # arrows, dingbats, emoji...: symbols below this (%, $, &) carry no sentiment


@dataclass(frozen=True)
class FeatureSpec:
    """Which features a language's model uses (chosen on validation data, stored in its weights file)."""

    char_min: int
    """Shortest character n-gram (of the word with a space either side); 0 with char_max 0 for none."""
    char_max: int
    word_pairs: bool


def clean(text: str) -> str:
    """The text as the features see it (see the module docstring)."""
    text = clean_for_vader(_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    text = _ARABIC_MARKS.sub("", text.lower()).translate(_ARABIC_LETTERS)
    return _ELONGATED.sub(r"\1\1", text)


def _words(cleaned: str, found: set[str]) -> list[str | None]:
    """The words of a cleaned text in order (None for punctuation, symbols and emoji, which end a word pair); adds
    the hashtag, emoji and ``!``/``?`` features to ``found`` on the way."""
    words: list[str | None] = []
    for word, marks, symbol in _TOKEN.findall(cleaned):
        if word:
            if word[0] == "#":
                if len(word) == 1:
                    continue
                word = word[1:]  # noqa: PLW2901 -- the hashtag's word, as a word too
                found.add("h:" + word)
            words.append("0" if word[0].isdigit() else word)
            continue
        if marks:
            found.add("p:" + marks[:2])
        elif ord(symbol) >= _FIRST_SYMBOL:
            found.add("e:" + symbol)
        words.append(None)
    return words


def features(text: str, spec: FeatureSpec) -> set[str]:
    """The binary features of one raw text: ``w:`` words, ``b:`` word pairs, ``h:`` hashtags, ``e:`` emoji and
    symbols, ``p:`` ``!``/``?`` runs, and bare character n-grams."""
    found: set[str] = set()
    previous: str | None = None
    low, high = spec.char_min, spec.char_max
    for word in _words(clean(text), found):
        if word is None:
            previous = None
            continue
        found.add("w:" + word)
        if spec.word_pairs and previous is not None:
            found.add(f"b:{previous} {word}")
        previous = word
        if high:
            padded = f" {word} "
            size = len(padded)
            for n in range(low, min(high, size) + 1):
                for start in range(size - n + 1):
                    found.add(padded[start : start + n])
    return found


def in_script(text: str, script: Script) -> bool:
    """True when at least half the letters of ``text`` (a text without letters included) are in ``script``."""
    letters = len(_LETTERS.findall(text))
    return 2 * len(_SCRIPT_LETTERS[script].findall(text)) >= letters


@dataclass(frozen=True)
class LanguageModel:
    """One language's weights (a :class:`Model`, so the decision and the scores are the English model's) and the
    features it reads."""

    language: str
    model: Model
    spec: FeatureSpec
    script: Script

    @property
    def version(self) -> str:
        return self.model.version

    def score_text(self, text: str) -> tuple[float, float, float]:
        return self.model.probabilities(features(text, self.spec))


def load_language(path: Path) -> LanguageModel:
    """Read and verify one language's weights file."""
    digest, body = read_verified(path, FORMAT)
    try:
        document = json.loads(body)
        if document["classes"] != list(CLASSES):
            raise ValueError(f"expected the classes {CLASSES}")
        scale = float(document["scale"])
        weights = {name: [q[0] * scale, q[1] * scale, q[2] * scale] for name, q in document["weights"].items()}
        if any(len(q) != len(CLASSES) for q in document["weights"].values()):
            raise ValueError(f"expected {len(CLASSES)} weights per feature, in the order {CLASSES}")
        spec = FeatureSpec(**document["features"])
        script = document["script"]
        if script not in _SCRIPT_LETTERS:
            raise ValueError(f"unknown script {script!r}")
        bias, decision_bias = document["bias"], document["decision_bias"]
        model = Model(
            version=digest[:8],
            weights=weights,
            bias=(float(bias[0]), float(bias[1]), float(bias[2])),
            decision_bias=(float(decision_bias[0]), float(decision_bias[1]), float(decision_bias[2])),
            mixed_threshold=MIXED_THRESHOLD,
            lexicon=(frozenset(), frozenset()),
        )
        return LanguageModel(language=str(document["language"]), model=model, spec=spec, script=script)
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise WeightsError(f"{path}: malformed weights file: {exc!r}") from exc


class LanguageModels:
    """The languages whose files are in ``directory``, each loaded on first use (thread-safe, once per container)."""

    def __init__(self, directory: Path = WEIGHTS_DIR, languages: Iterable[str] = LANGUAGES) -> None:
        self._paths = {lang: directory / f"{lang}.json" for lang in languages if (directory / f"{lang}.json").is_file()}
        self._loaded: dict[str, LanguageModel] = {}
        self._lock = threading.Lock()

    @property
    def available(self) -> frozenset[str]:
        """The languages this build can score (their files are present)."""
        return frozenset(self._paths)

    def loaded(self) -> frozenset[str]:
        return frozenset(self._loaded)

    def get(self, language: str) -> LanguageModel | None:
        """The model of ``language`` (a primary subtag such as ``es``), or None when its file is absent.

        Raises :class:`WeightsError` when the file is present but damaged (every call, until it is fixed).
        """
        model = self._loaded.get(language)
        if model is not None or language not in self._paths:
            return model
        with self._lock:
            if language not in self._loaded:
                self._loaded[language] = load_language(self._paths[language])
            return self._loaded[language]

    def version(self) -> str:
        """A short name for the set of languages present: ``ar+de+…`` (the model names carry the hashes)."""
        return "+".join(sorted(self._paths))
