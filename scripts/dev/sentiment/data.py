"""Labelled texts for training and evaluation: the TSE split files, Bing Liu's lexicon, the sample's ratings.

None of this data is in the repository. TSE ("Tweet Sentiment Extraction", Kaggle / Figure Eight, CC BY 4.0)
and the opinion lexicon (Bing Liu, CC BY 4.0) come from a folder the user names (``DATA=``), laid out as the
Kaggle download and nltk_data ship them: ``tse/train.csv``, ``tse/test.csv``,
``opinion_lexicon/{positive,negative}-words.txt``.
The sample's human ratings come from the vaderSentiment 3.3.2 sdist, read and verified by scripts.dev.generate_sample.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Gold = Literal["NEGATIVE", "NEUTRAL", "POSITIVE"]
GOLD: tuple[Gold, ...] = ("NEGATIVE", "NEUTRAL", "POSITIVE")
_TSE_LABELS: dict[str, Gold] = {"negative": "NEGATIVE", "neutral": "NEUTRAL", "positive": "POSITIVE"}

SAMPLE_NEUTRAL_BAND = 0.5
"""A sample text whose mean human rating (−4 … +4) is within ±0.5 counts as NEUTRAL (half a step of the scale)."""


@dataclass(frozen=True)
class Example:
    text: str
    label: Gold


def read_tse(path: Path) -> list[Example]:
    """One TSE split file (textID, text, [selected_text,] sentiment); rows with an empty text are dropped."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"text", "sentiment"} <= set(rows[0]):
        raise ValueError(f"{path}: expected a CSV with 'text' and 'sentiment' columns")
    return [Example(row["text"].strip(), _TSE_LABELS[row["sentiment"]]) for row in rows if row["text"].strip()]


def read_lexicon(folder: Path) -> tuple[frozenset[str], frozenset[str]]:
    """Bing Liu's positive and negative words (comment lines start with ';')."""

    def words(name: str) -> frozenset[str]:
        text = (folder / name).read_text(encoding="utf-8", errors="replace")
        return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith(";"))

    return words("positive-words.txt"), words("negative-words.txt")


def sample_label(rating: float) -> Gold:
    if rating > SAMPLE_NEUTRAL_BAND:
        return "POSITIVE"
    if rating < -SAMPLE_NEUTRAL_BAND:
        return "NEGATIVE"
    return "NEUTRAL"


def read_sample_ratings(sdist: Path) -> list[Example]:
    """The English source texts of scripts/demo/data/sample_tweets.jsonl with their human ratings as labels.

    Only the texts the sample generator keeps (``Generator._usable``), as the raters saw them.
    """
    from scripts.dev.generate_sample import Generator, load_source_from_sdist, parse_source

    source = parse_source(load_source_from_sdist(sdist))
    return [Example(s.text, sample_label(s.rating)) for s in source if Generator._usable(s.text)]
