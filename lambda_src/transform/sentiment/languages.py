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


def is_english(code: str) -> bool:
    """True for ``en`` and its regional variants (``en-gb``, ``en-US``): what the VADER backend scores."""
    norm = normalise(code)
    return norm == "en" or norm.startswith("en-")
