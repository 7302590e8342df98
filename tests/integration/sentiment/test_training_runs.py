"""`make train-sentiment` as it runs: the training scripts in the training virtualenv (scikit-learn), twice on a tiny
data folder: byte-identical weights that load and separate what they were taught."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from transform.sentiment.embedded import EmbeddedBackend, load_weights
from transform.sentiment.multilingual import load_language

from tests.support.paths import REPO_ROOT

TRAIN_PYTHON = Path(os.environ.get("TRAIN_PYTHON", REPO_ROOT / ".venv-train" / "bin" / "python"))


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


@pytest.mark.slow
@pytest.mark.skipif(not TRAIN_PYTHON.exists(), reason="needs the training env: make train-sentiment creates it")
def test_multilingual_training_is_deterministic_and_writes_a_loadable_model(tmp_path: Path) -> None:
    # Given a tiny UMSAB-shaped folder for one language
    folder = tmp_path / "data" / "umsab" / "spanish"
    folder.mkdir(parents=True)
    texts = {"0": "odio este día horrible {}", "1": "el autobús sale a las {}", "2": "me encanta, qué feliz {}"}
    for part, n in (("train", 30), ("val", 6)):
        rows = [(label, text.format(i)) for i in range(n) for label, text in texts.items()]
        (folder / f"{part}_text.txt").write_text("\n".join(t for _, t in rows) + "\n", encoding="utf-8")
        (folder / f"{part}_labels.txt").write_text("\n".join(label for label, _ in rows) + "\n", encoding="utf-8")
    outputs = [tmp_path / "a", tmp_path / "b"]
    # When the training script runs twice, as `make train-sentiment` runs it
    for output in outputs:
        proc = subprocess.run(
            [str(TRAIN_PYTHON), "-m", "scripts.dev.sentiment.train_multilingual", "--data", str(tmp_path / "data"),
             "--languages", "es", "--output-dir", str(output)],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    # Then both files are byte-identical, verify, and the model separates what it was taught
    assert (outputs[0] / "es.json").read_bytes() == (outputs[1] / "es.json").read_bytes()
    model = load_language(outputs[0] / "es.json")
    assert model.language == "es"
    labels = [model.model.decide(model.score_text(t)).label for t in ("me encanta", "odio este día", "el autobús")]
    assert labels == ["POSITIVE", "NEGATIVE", "NEUTRAL"]
