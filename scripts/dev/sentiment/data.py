"""Labelled texts for training and evaluation: the TSE split files, Bing Liu's lexicon, UMSAB, the sample's ratings.

None of this data is in the repository. TSE ("Tweet Sentiment Extraction", Kaggle / Figure Eight, CC BY 4.0)
and the opinion lexicon (Bing Liu, CC BY 4.0) come from a folder the user names (``DATA=``), laid out as the
Kaggle download and nltk_data ship them: ``tse/train.csv``, ``tse/test.csv``,
``opinion_lexicon/{positive,negative}-words.txt``, and UMSAB (the Unified Multilingual Sentiment Analysis
Benchmark of XLM-T, Barbieri et al., LREC 2022: cardiffnlp/xlm-t, ``data/sentiment/``) as that repository lays it
out: ``umsab/<language>/{train,val}_{text,labels}.txt``, one tweet or label (0 negative, 1 neutral, 2 positive) a
line.
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


UMSAB_FOLDERS: dict[str, str] = {
    "ar": "arabic",
    "de": "german",
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "hi": "hindi",
    "it": "italian",
    "pt": "portuguese",
}
"""UMSAB's folder of each language (keyed by the code X sends in ``lang``)."""
UMSAB_SOURCES: dict[str, str] = {
    "ar": "SemEval-2017 Task 4",
    "de": "SB-10K",
    "en": "SemEval-2017 Task 4",
    "es": "InterTASS 2017",
    "fr": "DEFT 2017",
    "hi": "SAIL 2015",
    "it": "SENTIPOLC 2016",
    "pt": "SentiBR",
}
"""The dataset UMSAB drew each language from (its README); NOTICE names each one beside the weights trained on it."""
UmsabSplit = Literal["train", "val"]


def read_umsab(folder: Path, language: str, split: UmsabSplit) -> list[Example]:
    """One UMSAB split of one language (``folder`` holds the language folders); texts and labels line by line."""
    base = folder / UMSAB_FOLDERS[language]
    content = (base / f"{split}_text.txt").read_text(encoding="utf-8")
    texts = content.removesuffix("\n").split("\n")  # one tweet a line; the last line may lack its newline
    labels = (base / f"{split}_labels.txt").read_text(encoding="utf-8").split()
    if len(texts) != len(labels):
        raise ValueError(f"{base}: {len(texts)} texts but {len(labels)} labels in the {split} split")
    try:
        return [Example(text, GOLD[int(label)]) for text, label in zip(texts, labels, strict=True)]
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{base}/{split}_labels.txt: expected labels 0, 1 or 2: {exc}") from exc


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
