"""Training and evaluation helpers: the split, the data readers, the metrics, and a deterministic training run."""

from __future__ import annotations

from pathlib import Path

import pytest
from transform.sentiment.multilingual import LANGUAGES, WEIGHTS_DIR

from scripts.dev.sentiment.data import UMSAB_SOURCES, Example, read_lexicon, read_tse, read_umsab, sample_label
from scripts.dev.sentiment.metrics import report
from scripts.dev.sentiment.train import VALIDATION_SHARE, split
from tests.support.paths import REPO_ROOT


def test_split_is_seeded_disjoint_and_complete() -> None:
    examples = [Example(f"text {i}", "NEUTRAL") for i in range(200)]
    part, validation = split(examples)
    assert (part, validation) == split(examples)
    assert len(validation) == int(200 * VALIDATION_SHARE)
    assert sorted(e.text for e in part + validation) == sorted(e.text for e in examples)
    assert split(examples, seed=1) != (part, validation)


def test_read_tse_maps_labels_and_drops_empty_texts(tmp_path: Path) -> None:
    csv = tmp_path / "train.csv"
    csv.write_text('textID,text,selected_text,sentiment\na," I`m happy",happy,positive\nb,"",,neutral\n'
                   "c,meh,meh,neutral\nd,awful day,awful,negative\n", encoding="utf-8")  # fmt: skip
    assert read_tse(csv) == [Example("I`m happy", "POSITIVE"), Example("meh", "NEUTRAL"),
                             Example("awful day", "NEGATIVE")]  # fmt: skip
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'text' and 'sentiment'"):
        read_tse(tmp_path / "bad.csv")


def test_lexicon_skips_comments(tmp_path: Path) -> None:
    (tmp_path / "positive-words.txt").write_text(";comment\n\ngood\nnice\n", encoding="utf-8")
    (tmp_path / "negative-words.txt").write_text("; c\nbad\n", encoding="utf-8")
    assert read_lexicon(tmp_path) == (frozenset({"good", "nice"}), frozenset({"bad"}))


@pytest.mark.parametrize(("rating", "label"), [(0.6, "POSITIVE"), (0.5, "NEUTRAL"), (-0.5, "NEUTRAL"),
                                               (-0.51, "NEGATIVE")])  # fmt: skip
def test_sample_ratings_have_a_half_step_neutral_band(rating: float, label: str) -> None:
    assert sample_label(rating) == label


def test_metrics_on_a_known_confusion() -> None:
    gold = ["NEGATIVE", "NEGATIVE", "NEUTRAL", "NEUTRAL", "POSITIVE", "POSITIVE"]
    predicted = ["NEGATIVE", "NEUTRAL", "NEUTRAL", "NEUTRAL", "POSITIVE", "MIXED"]
    r = report(gold, predicted)
    assert r.accuracy == pytest.approx(4 / 6)
    assert r.recall == {"NEGATIVE": 0.5, "NEUTRAL": 1.0, "POSITIVE": 0.5}
    assert r.macro_recall == pytest.approx(2 / 3)
    # F1: NEGATIVE p=1 r=.5 -> 2/3; NEUTRAL p=2/3 r=1 -> 0.8; POSITIVE p=1 r=.5 -> 2/3
    assert r.macro_f1 == pytest.approx((2 / 3 + 0.8 + 2 / 3) / 3)
    assert r.confusion[("POSITIVE", "MIXED")] == 1
    with pytest.raises(ValueError, match="same length"):
        report(gold, predicted[:-1])


def test_read_umsab_pairs_lines_and_maps_labels(tmp_path: Path) -> None:
    folder = tmp_path / "umsab" / "spanish"
    folder.mkdir(parents=True)
    (folder / "val_text.txt").write_text("qué asco\nla reunión es a las 5\nme encanta\n", encoding="utf-8")
    (folder / "val_labels.txt").write_text("0\n1\n2\n", encoding="utf-8")
    assert read_umsab(tmp_path / "umsab", "es", "val") == [
        Example("qué asco", "NEGATIVE"), Example("la reunión es a las 5", "NEUTRAL"), Example("me encanta", "POSITIVE")
    ]  # fmt: skip
    (folder / "val_labels.txt").write_text("0\n1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="3 texts but 2 labels"):
        read_umsab(tmp_path / "umsab", "es", "val")
    (folder / "val_labels.txt").write_text("0\n1\n7\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected labels 0, 1 or 2"):
        read_umsab(tmp_path / "umsab", "es", "val")


def test_notice_names_the_source_dataset_of_every_shipped_language_file() -> None:
    notice = (REPO_ROOT / "NOTICE").read_text(encoding="utf-8")
    shipped = sorted(path.stem for path in WEIGHTS_DIR.glob("*.json"))
    assert shipped == sorted(LANGUAGES)
    for language in shipped:
        assert f"{language}.json: {UMSAB_SOURCES[language]}" in notice, language
    assert "UMSAB" in notice and "cardiffnlp/xlm-t" in notice
