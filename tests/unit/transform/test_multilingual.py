"""The other languages' embedded models: features, script check, weights files, lazy loading, separability."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from transform.sentiment import Deadline, Failed, Scored, ScoreRequest, Skipped
from transform.sentiment.embedded import EmbeddedBackend, load_weights
from transform.sentiment.multilingual import (
    FORMAT,
    LANGUAGES,
    WEIGHTS_DIR,
    FeatureSpec,
    LanguageModels,
    clean,
    features,
    in_script,
    load_language,
)
from transform.sentiment.weights_file import WeightsError, checksum

WORDS_ONLY = FeatureSpec(char_min=0, char_max=0, word_pairs=False)
WORDS_AND_PAIRS = FeatureSpec(char_min=0, char_max=0, word_pairs=True)


@pytest.fixture(scope="module")
def english() -> EmbeddedBackend:
    """The English model and analyzer, loaded once; each test gives its own LanguageModels."""
    return EmbeddedBackend()


def backend_with(english: EmbeddedBackend, models: LanguageModels) -> EmbeddedBackend:
    return EmbeddedBackend(model=load_weights(), analyzer=english._analyzer, languages=models)


def test_cleaning_decodes_escapes_strips_mentions_and_links_and_unifies_arabic_letters() -> None:
    assert clean("RT @user: Qué BUENOOOO \\u2019 https://t.co/x &amp; @otro") == "qué buenoo ’ &"
    assert clean("أحبك إلى آخر ى ة") == "احبك الي اخر ي ه"
    assert clean("جمـــيل جَمِيل") == "جميل جميل"


def test_features_words_pairs_hashtags_emoji_and_character_ngrams_inside_words() -> None:
    found = features("Me encanta #Madrid 😍!! 2024", FeatureSpec(char_min=2, char_max=3, word_pairs=True))
    assert {"w:me", "w:encanta", "b:me encanta", "h:madrid", "w:madrid", "e:😍", "p:!!", "w:0"} <= found
    assert {" m", "me", "e ", " me", "me "} <= found  # within " me "
    assert "b:madrid 0" not in found  # the emoji and "!!" end the pair
    assert not any(" " in f and not f.startswith(("b:", " ")) and not f.endswith(" ") for f in found)
    assert "b:me encanta" not in features("me encanta", WORDS_ONLY)
    assert not any(len(f) <= 5 and ":" not in f for f in features("me encanta", WORDS_AND_PAIRS))


@pytest.mark.parametrize(
    ("text", "script", "expected"),
    [
        ("yaar kya baat hai", "latin", True),
        ("यार क्या बात है", "latin", False),  # Hindi in Devanagari: not the romanised model's script
        ("ما أجمل هذا اليوم", "arabic", True),
        ("ma ajmal hal yawm", "arabic", False),  # Arabizi
        ("ما أجمل هذا day", "arabic", True),  # mostly Arabic letters
        ("😍😍 !!! 2024", "latin", True),  # no letters: nothing against it
    ],
)
def test_a_model_scores_only_texts_in_its_training_script(text: str, script: str, expected: bool) -> None:
    assert in_script(text, script) is expected  # type: ignore[arg-type]


def test_every_language_ships_a_verified_compact_file() -> None:
    for language in LANGUAGES:
        path = WEIGHTS_DIR / f"{language}.json"
        header_line, body = path.read_bytes().split(b"\n", 1)
        assert json.loads(header_line) == {"format": FORMAT, "sha256": checksum(body)}
        model = load_language(path)
        assert model.language == language
        assert model.script == ("arabic" if language == "ar" else "latin")
        assert 500 < len(model.model.weights) <= 40_000
        assert path.stat().st_size < 1_000_000
        assert "UMSAB" in json.loads(body)["trained_on"]


def test_languages_load_lazily_once_each() -> None:
    models = LanguageModels()
    assert models.available == frozenset(LANGUAGES)
    assert models.loaded() == frozenset()
    first = models.get("es")
    assert first is not None and models.get("es") is first
    assert models.loaded() == {"es"}
    assert models.get("nl") is None


@pytest.mark.parametrize(
    ("lang", "positive", "negative"),
    [
        ("es", "Me encanta, qué feliz estoy, gracias!", "Qué asco, odio este día, todo mal"),
        ("pt", "Amei demais, muito obrigado, que lindo!", "Que ódio, péssimo, horrível"),
        ("fr", "J'adore, merci beaucoup, trop bien !", "Je déteste, c'est nul, horrible"),
        ("it", "Bellissimo, grazie mille, che bello!", "Che schifo, vergogna, pessimo"),
        ("de", "Wunderbar, ich freue mich sehr, danke!", "Scheiße, so ein Mist, furchtbar"),
        ("ar", "يا سلام ما اجمل هذا اليوم الرائع ❤️", "فضيحه قتل وقصف بدون سبب"),
    ],
)
def test_clear_texts_in_each_language_get_their_labels(
    english: EmbeddedBackend, lang: str, positive: str, negative: str
) -> None:
    backend = backend_with(english, LanguageModels())
    outcomes = backend.score([ScoreRequest(positive, lang), ScoreRequest(negative, lang.upper())], Deadline(10))
    assert [getattr(o, "label", None) for o in outcomes] == ["POSITIVE", "NEGATIVE"]
    for outcome in outcomes:
        assert isinstance(outcome, Scored)
        assert outcome.model is not None and re.fullmatch(rf"embedded-{lang}-[0-9a-f]{{8}}", outcome.model)
        assert sum(outcome.scores.as_dict().values()) == pytest.approx(1.0)


def test_region_variants_map_and_other_scripts_are_unsupported(english: EmbeddedBackend) -> None:
    backend = backend_with(english, LanguageModels())
    requests = [ScoreRequest("Amei demais, que lindo!", "pt-BR"), ScoreRequest("yaar bahut badhiya", "hi"),
                ScoreRequest("यार बहुत बढ़िया", "hi"), ScoreRequest("@a https://t.co/x", "es")]  # fmt: skip
    outcomes = backend.score(requests, Deadline(10))
    assert isinstance(outcomes[0], Scored) and outcomes[0].model is not None and "-pt-" in outcomes[0].model
    assert isinstance(outcomes[1], Scored)
    assert outcomes[2] == Skipped("unsupported_language")
    assert isinstance(outcomes[3], Scored) and outcomes[3].label == "NEUTRAL" and outcomes[3].scores.neutral == 1.0


def test_without_the_multilingual_files_only_english_is_scored(english: EmbeddedBackend, tmp_path: Path) -> None:
    # Given a build without multilingual_weights/ (the separable part), then one with Spanish only
    backend = backend_with(english, LanguageModels(tmp_path / "absent"))
    outcomes = backend.score([ScoreRequest("great", "en"), ScoreRequest("genial", "es")], Deadline(10))
    assert isinstance(outcomes[0], Scored)
    assert outcomes[1] == Skipped("unsupported_language")
    assert backend.languages == {"en"}
    shutil.copy(WEIGHTS_DIR / "es.json", tmp_path / "es.json")
    spanish_only = backend_with(english, LanguageModels(tmp_path))
    assert spanish_only.languages == {"en", "es"}
    outcomes = spanish_only.score([ScoreRequest("genial", "es"), ScoreRequest("génial", "fr")], Deadline(10))
    assert isinstance(outcomes[0], Scored) and outcomes[1] == Skipped("unsupported_language")


def test_a_damaged_language_file_fails_only_that_languages_records(
    english: EmbeddedBackend, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = (WEIGHTS_DIR / "fr.json").read_bytes()
    (tmp_path / "fr.json").write_bytes(data.replace(b'"scale":', b'"scale": ', 1))  # body changed: checksum fails
    shutil.copy(WEIGHTS_DIR / "es.json", tmp_path / "es.json")
    backend = backend_with(english, LanguageModels(tmp_path))
    requests = [ScoreRequest("génial", "fr"), ScoreRequest("genial", "es"), ScoreRequest("nul", "fr")]
    outcomes = backend.score(requests, Deadline(10))
    assert outcomes[0] == outcomes[2] == Failed("sentiment_error")
    assert isinstance(outcomes[1], Scored)
    assert [r.message for r in caplog.records].count("the fr sentiment model cannot be loaded; its records fail") == 1
    with pytest.raises(WeightsError, match="checksum mismatch"):
        load_language(tmp_path / "fr.json")


def test_malformed_and_foreign_files_are_refused(tmp_path: Path) -> None:
    body = b'{"classes":["NEGATIVE","NEUTRAL","POSITIVE"],"weights":{"w:x":[1,2,3]}}'
    (tmp_path / "short.json").write_bytes(
        json.dumps({"format": FORMAT, "sha256": checksum(body)}).encode() + b"\n" + body
    )
    with pytest.raises(WeightsError, match="malformed"):
        load_language(tmp_path / "short.json")
    english_file = WEIGHTS_DIR.parent / "embedded_weights.json"
    with pytest.raises(WeightsError, match=f"not a {FORMAT}"):
        load_language(english_file)
