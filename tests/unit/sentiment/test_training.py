"""Training and evaluation helpers: the split, the data readers, the metrics, and a deterministic training run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from transform.sentiment.embedded import EmbeddedBackend, load_weights

from scripts.dev.sentiment.data import Example, read_lexicon, read_tse, sample_label
from scripts.dev.sentiment.metrics import report
from scripts.dev.sentiment.train import VALIDATION_SHARE, split
from tests.support.paths import REPO_ROOT

TRAIN_PYTHON = Path(os.environ.get("TRAIN_PYTHON", REPO_ROOT / ".venv-train" / "bin" / "python"))


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


def write_fixture(folder: Path) -> None:
    """A tiny, clearly separable training set in the layout of DATA (tse/, opinion_lexicon/)."""
    (folder / "tse").mkdir(parents=True)
    (folder / "opinion_lexicon").mkdir()
    rows = ["textID,text,selected_text,sentiment"]
    for i in range(20):
        rows += [f"p{i},I love it so much {i},love,positive", f"n{i},I hate this awful thing {i},hate,negative",
                 f"u{i},the bus leaves at {i},x,neutral"]  # fmt: skip
    (folder / "tse" / "train.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "opinion_lexicon" / "positive-words.txt").write_text("love\n", encoding="utf-8")
    (folder / "opinion_lexicon" / "negative-words.txt").write_text("hate\nawful\n", encoding="utf-8")


@pytest.mark.slow
@pytest.mark.skipif(not TRAIN_PYTHON.exists(), reason="needs the training env: make train-sentiment creates it")
def test_training_is_deterministic_and_writes_a_loadable_model(tmp_path: Path) -> None:
    # Given a tiny data folder
    write_fixture(tmp_path / "data")
    outputs = [tmp_path / "a.json", tmp_path / "b.json"]
    # When the training script runs twice, as `make train-sentiment` runs it
    for output in outputs:
        proc = subprocess.run(
            [str(TRAIN_PYTHON), "-m", "scripts.dev.sentiment.train", "--data", str(tmp_path / "data"), "--output",
             str(output)],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    # Then both files are byte-identical, verify, and the model separates what it was taught
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    backend = EmbeddedBackend(model=load_weights(outputs[0]))
    assert backend.score_text("I love it").label == "POSITIVE"
    assert backend.score_text("I hate this awful thing").label == "NEGATIVE"
