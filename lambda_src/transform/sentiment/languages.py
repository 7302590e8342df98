"""X language codes (BCP 47, as X sends them in ``tweet.lang``) mapped to Amazon Comprehend's.

Comprehend's sentiment languages: en es fr de it pt ar hi ja ko zh zh-TW. X sends lower-case codes such as
``en``, ``pt``, ``zh`` and, for some clients, regional or script variants (``en-gb``, ``pt-BR``, ``zh-tw``,
``zh-Hant``); matching is case-insensitive and accepts ``_`` for ``-``. Everything else maps to ``None``:
X's undetermined and special codes (``und``, ``zxx`` no linguistic content, ``qme`` media links only, ``qht``
hashtags only, ``qam`` mentions only, ``qct`` cashtags only, ``art`` artificial), languages Comprehend does
not score, and romanised variants (``hi-Latn`` is Hindi in Latin script, which Comprehend's ``hi`` model
does not read).
"""

from __future__ import annotations

COMPREHEND_LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"})

_SIMPLIFIED_CHINESE = frozenset({"zh", "zh-cn", "zh-sg", "zh-hans", "zh-hans-cn", "zh-hans-sg"})
_TRADITIONAL_CHINESE = frozenset({"zh-tw", "zh-hk", "zh-mo", "zh-hant", "zh-hant-tw", "zh-hant-hk", "zh-hant-mo"})
_PRIMARY = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko"})
_NON_LATIN_SCRIPT = frozenset({"ar", "hi", "ja", "ko"})
_ROMANISED_SUBTAG = "latn"


def normalise(code: str) -> str:
    """Lower-case, ``_`` → ``-``, surrounding whitespace removed: the form used for matching and dedupe."""
    return code.strip().replace("_", "-").lower()


def to_comprehend(code: str) -> str | None:
    """Comprehend's language code for X's ``code``, or None when Comprehend cannot score that language."""
    norm = normalise(code)
    if norm in _SIMPLIFIED_CHINESE:
        return "zh"
    if norm in _TRADITIONAL_CHINESE:
        return "zh-TW"
    primary, _, rest = norm.partition("-")
    if primary not in _PRIMARY:
        return None
    subtags = rest.split("-") if rest else []
    if _ROMANISED_SUBTAG in subtags and primary in _NON_LATIN_SCRIPT:
        return None
    return primary


EMBEDDED_LANGUAGES = frozenset({"en", "ar", "de", "es", "fr", "hi", "it", "pt"})
"""The languages the embedded backend has a model for (each but ``en`` may be left out of a build)."""


def to_embedded(code: str) -> str | None:
    """The embedded model's language for X's ``code`` (its primary subtag: ``pt-BR`` → ``pt``, ``hi-Latn`` → ``hi``),
    or None for undetermined, special and other languages (``und``, ``zxx``, ``qme``, ``nl``, ``""``).

    Script subtags are not refused here: each model checks the script of the text itself
    (``transform.sentiment.multilingual.in_script``), which also catches posts X tagged without one.
    """
    primary = normalise(code).partition("-")[0]
    return primary if primary in EMBEDDED_LANGUAGES else None


def is_english(code: str) -> bool:
    """True for ``en`` and its regional variants (``en-gb``, ``en-US``): what the VADER backend scores."""
    norm = normalise(code)
    return norm == "en" or norm.startswith("en-")
