"""X language codes → Comprehend's, case-insensitively; everything Comprehend cannot score → None."""

from __future__ import annotations

import pytest
from transform.sentiment.languages import COMPREHEND_LANGUAGES, is_english, to_comprehend, to_embedded


@pytest.mark.parametrize(
    ("x_code", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        (" en ", "en"),
        ("en-gb", "en"),
        ("es", "es"),
        ("fr", "fr"),
        ("de", "de"),
        ("it", "it"),
        ("pt", "pt"),
        ("pt-BR", "pt"),
        ("ar", "ar"),
        ("hi", "hi"),
        ("ja", "ja"),
        ("ko", "ko"),
        ("zh", "zh"),
        ("zh-cn", "zh"),
        ("zh-Hans", "zh"),
        ("zh-tw", "zh-TW"),
        ("zh-TW", "zh-TW"),
        ("zh_TW", "zh-TW"),
        ("zh-Hant", "zh-TW"),
        ("zh-hk", "zh-TW"),
    ],
)
def test_supported_languages_map(x_code: str, expected: str) -> None:
    assert to_comprehend(x_code) == expected
    assert expected in COMPREHEND_LANGUAGES


@pytest.mark.parametrize(
    "x_code",
    ["und", "zxx", "qme", "qht", "qam", "qct", "art", "nl", "ru", "tr", "iw", "in", "hi-Latn", "", "  ", "e", "eng"],
)
def test_undetermined_special_and_unsupported_codes_are_skipped(x_code: str) -> None:
    assert to_comprehend(x_code) is None


def test_vader_reads_english_only() -> None:
    assert is_english("en") and is_english("EN-us")
    assert not is_english("es") and not is_english("und") and not is_english("eng")


@pytest.mark.parametrize(
    ("x_code", "expected"),
    [
        ("en", "en"),
        ("EN-gb", "en"),
        ("es", "es"),
        ("es-419", "es"),
        ("pt-BR", "pt"),
        ("pt_PT", "pt"),
        ("fr-CA", "fr"),
        ("de", "de"),
        ("it", "it"),
        ("ar", "ar"),
        ("hi", "hi"),
        ("hi-Latn", "hi"),  # the Hindi model reads romanised Hindi; the script check refuses Devanagari text
        ("und", None),
        ("zxx", None),
        ("qme", None),
        ("", None),
        ("ja", None),
        ("zh-TW", None),
        ("nl", None),
        ("eng", None),
    ],
)
def test_embedded_languages_map_by_primary_subtag(x_code: str, expected: str | None) -> None:
    assert to_embedded(x_code) == expected
