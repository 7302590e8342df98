"""Envelope v1 → document (docs/design.md §2.1 → §2.2), without the sentiment fields (the handler adds those).

Required envelope fields are checked strictly (a record without them is ProcessingFailed, kept in S3);
optional fields with an unexpected type are treated as absent, so a quirk in one tweet never loses it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from transform.codec import DecodeError, check_id_length, sanitise

MAX_TEXT_CHARS = 50_000
"""Longest text accepted. X's longest post (a note tweet) is 25,000 characters; twice that leaves room for
HTML escapes and other sources. Anything longer (e.g. a 1 MB text) is ProcessingFailed ``text_too_long``."""

MAX_ANNOTATIONS = 50
"""Most entities, and most topics, kept per document (X sends a handful; this bounds a hostile replay line)."""

INT32_MAX = 2**31 - 1  # the index maps counts as OpenSearch "integer"
METRIC_KEYS = ("retweet_count", "reply_count", "like_count", "quote_count")

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.(\d+))?(?:[Zz]|[+-]\d{2}:\d{2})$")
_HASHTAG = re.compile(r"(?<![\w&#＃])[#＃](\w+)")
_MENTION = re.compile(r"(?<![\w@＠!#$%&*])[@＠]([A-Za-z0-9_]{1,15})(?![\w@＠])")


@dataclass(frozen=True)
class Draft:
    """A document without its sentiment fields, plus what the sentiment backend needs."""

    document: dict[str, Any]
    text: str
    lang: str


def invalid(field: str) -> DecodeError:
    return DecodeError("invalid_envelope", field)


def parse_timestamp(value: object) -> str | None:
    """An RFC 3339 timestamp normalised to UTC with milliseconds ("2026-11-26T10:00:00.123Z"), or None."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.match(value.strip())
    if match is None:
        return None
    text = value.strip().replace("t", "T").replace(" ", "T").replace("z", "Z")
    fraction = match.group(1)
    if fraction is not None and len(fraction) > 6:  # fromisoformat takes at most microseconds
        text = text.replace("." + fraction, "." + fraction[:6], 1)
    try:
        parsed = datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return format_timestamp(parsed)


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def unescape_x(text: str) -> str:
    """X escapes exactly &, < and > in post text; undo that (&amp; last, so "&amp;lt;" stays "&lt;")."""
    if "&" not in text:
        return text
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _str_or_none(value: object) -> str | None:
    return sanitise(value) if isinstance(value, str) else None


def _count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return min(value, INT32_MAX)
    return None


def _dedupe_lower(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        key = sanitise(value).lower().lstrip("#＃@＠")
        if key:
            seen.setdefault(key, None)
    return list(seen)


def _from_entities(items: object, key: str) -> list[str]:
    if not isinstance(items, list):
        return []
    found: list[tuple[int, int, str]] = []
    for position, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get(key), str):
            start = item.get("start")
            order = start if isinstance(start, int) and not isinstance(start, bool) else position
            found.append((order, position, item[key]))
    return [value for _, _, value in sorted(found)]


def hashtags_from_text(text: str) -> list[str]:
    """Hashtags the way X links them: '#' after a non-word character, at least one letter."""
    return [tag for tag in _HASHTAG.findall(text) if any(ch.isalpha() for ch in tag)]


def mentions_from_text(text: str) -> list[str]:
    """@usernames (1-15 of A-Z a-z 0-9 _) not preceded by a word character (so e-mail addresses are not)."""
    return _MENTION.findall(text)


def entities_lists(entities: object, text: str) -> tuple[list[str], list[str]]:
    """(hashtags, mentions): from X's entities when present, else parsed from the text."""
    if isinstance(entities, dict):
        hashtags = _from_entities(entities.get("hashtags"), "tag")
        mentions = _from_entities(entities.get("mentions"), "username")
    else:
        hashtags, mentions = hashtags_from_text(text), mentions_from_text(text)
    return _dedupe_lower(hashtags), _dedupe_lower(mentions)


def unit_interval(value: object) -> float | None:
    """A model's confidence clamped to [0, 1], or None when it is not a finite number."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return min(1.0, max(0.0, float(value)))
    return None


def scored_entities(items: Iterable[tuple[object, object, object]], score_key: str, limit: int) -> list[dict[str, Any]]:
    """``(type, text, score)`` triples as ``[{type, text, <score_key>}]``: blank or non-string ones dropped; an
    entity named twice with the same type (any case) kept once, first spelling, highest score; order of
    appearance; at most ``limit``. Shared by X's annotations and Comprehend's entities."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for raw_kind, raw_text, raw_score in items:
        kind, text = _str_or_none(raw_kind), _str_or_none(raw_text)
        if not kind or not text or not text.strip():
            continue
        score = unit_interval(raw_score)
        key = (kind.lower(), text.strip().lower())
        kept = found.get(key)
        if kept is None:
            if len(found) < limit:
                found[key] = {"type": kind, "text": text.strip(), score_key: score}
        elif score is not None and (kept[score_key] is None or score > kept[score_key]):
            kept[score_key] = score
    return list(found.values())


def x_entities(*sources: object) -> list[dict[str, Any]]:
    """X's named-entity annotations as ``[{type, text, probability}]`` from the first ``entities`` object that has
    any (a note tweet's own, else the tweet's, which cover its first 280 characters).

    ``text`` is X's ``normalized_text``; an entity named twice with the same type (any case) is kept once, first
    spelling, highest probability; order of appearance; at most :data:`MAX_ANNOTATIONS`."""
    for entities in sources:
        items = entities.get("annotations") if isinstance(entities, dict) else None
        if isinstance(items, list) and items:
            break
    else:
        return []
    triples = (
        (item.get("type"), item.get("normalized_text"), item.get("probability"))
        for item in items
        if isinstance(item, dict)
    )
    return scored_entities(triples, "probability", MAX_ANNOTATIONS)


def x_topics(context_annotations: object) -> list[dict[str, str]]:
    """X's context annotations as ``[{domain, entity}]`` names (X's ids are left out: dashboards show names), each
    pair once, in X's order, at most :data:`MAX_ANNOTATIONS`. One entity may sit in several domains."""
    if not isinstance(context_annotations, list):
        return []
    found: dict[tuple[str, str], dict[str, str]] = {}
    for item in context_annotations:
        if not isinstance(item, dict) or not isinstance(item.get("domain"), dict):
            continue
        if not isinstance(item.get("entity"), dict):
            continue
        domain, entity = _str_or_none(item["domain"].get("name")), _str_or_none(item["entity"].get("name"))
        if domain and entity and domain.strip() and entity.strip() and len(found) < MAX_ANNOTATIONS:
            found.setdefault((domain.strip(), entity.strip()), {"domain": domain.strip(), "entity": entity.strip()})
    return list(found.values())


def _author(envelope: dict[str, Any], tweet: dict[str, Any]) -> dict[str, Any]:
    author = envelope.get("author")
    if not isinstance(author, dict):
        author = {}
    followers = _count(author.get("followers_count"))
    if followers is None and isinstance(author.get("public_metrics"), dict):
        followers = _count(author["public_metrics"].get("followers_count"))
    return {
        "id": _str_or_none(author.get("id")) or _str_or_none(tweet.get("author_id")),
        "username": _str_or_none(author.get("username")),
        "name": _str_or_none(author.get("name")),
        "followers_count": followers,
    }


def _referenced(tweet: dict[str, Any]) -> set[str]:
    refs = tweet.get("referenced_tweets")
    if not isinstance(refs, list):
        return set()
    return {ref["type"] for ref in refs if isinstance(ref, dict) and isinstance(ref.get("type"), str)}


def _metrics(tweet: dict[str, Any]) -> dict[str, int]:
    public = tweet.get("public_metrics")
    if not isinstance(public, dict):
        public = {}
    return {key: _count(public.get(key)) or 0 for key in METRIC_KEYS}


def _rules(envelope: dict[str, Any]) -> list[str]:
    tags = [rule.get("tag") for rule in envelope["matching_rules"] if isinstance(rule, dict)]
    return list(dict.fromkeys(sanitise(tag) for tag in tags if isinstance(tag, str) and tag))


def _tweet_id(tweet: dict[str, Any]) -> str:
    raw = tweet.get("id")
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return check_id_length(str(raw))
    if isinstance(raw, str) and raw.strip():
        return check_id_length(sanitise(raw.strip()))
    raise invalid("tweet.id")


def build_draft(envelope: dict[str, Any], processed_at: str) -> Draft:
    """The document for one envelope v1 (sentiment fields left out); raises DecodeError for bad envelopes."""
    source = envelope.get("source")
    if not isinstance(source, str) or not source.strip():
        raise invalid("source")
    received_at = parse_timestamp(envelope.get("received_at"))
    if received_at is None:
        raise invalid("received_at")
    if not isinstance(envelope.get("matching_rules"), list):
        raise invalid("matching_rules")
    tweet = envelope.get("tweet")
    if not isinstance(tweet, dict):
        raise invalid("tweet")
    tweet_id = _tweet_id(tweet)
    if not isinstance(tweet.get("text"), str):
        raise invalid("tweet.text")

    text: str = tweet["text"]
    entities = tweet_entities = tweet.get("entities")
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str) and note["text"].strip():
        text = note["text"]
        entities = note.get("entities")  # the tweet's own entities only cover its truncated text
    if len(text) > MAX_TEXT_CHARS:
        raise DecodeError("text_too_long", f"{len(text)} characters")
    text = sanitise(unescape_x(text))

    lang_raw = tweet.get("lang")
    lang = sanitise(lang_raw.strip()) if isinstance(lang_raw, str) and lang_raw.strip() else "und"
    hashtags, mentions = entities_lists(entities, text)
    refs = _referenced(tweet)
    document: dict[str, Any] = {
        "tweet_id": tweet_id,
        "created_at": parse_timestamp(tweet.get("created_at")) or received_at,
        "received_at": received_at,
        "processed_at": processed_at,
        "text": text,
        "lang": lang,
        "author": _author(envelope, tweet),
        "hashtags": hashtags,
        "mentions": mentions,
        "entities": x_entities(entities, tweet_entities),
        "topics": x_topics(tweet.get("context_annotations")),
        "is_retweet": "retweeted" in refs,
        "is_reply": "replied_to" in refs,
        "is_quote": "quoted" in refs,
        "metrics": _metrics(tweet),
        "rules": _rules(envelope),
        "source": sanitise(source.strip()),
    }
    return Draft(document=document, text=text, lang=lang)
