"""Envelope v1 (docs/design.md §2.1): what the ingester puts into Firehose, one single-line UTF-8 JSON per record.

Built from an X API v2 filtered-stream message (``{"data": {...}, "includes": {"users": [...]},
"matching_rules": [...]}``) or taken from an already-built envelope (replay files). Anything that is
neither raises :class:`MalformedMessage` with a short reason (never the content).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

ENVELOPE_VERSION = 1

#: The ownership marker the ingester puts in front of its rule tags (ingester.rules.TAG_PREFIX); stripped here so
#: an envelope's ``matching_rules`` tag is the plain tracked term(s), as the envelope contract says.
RULE_TAG_PREFIX = "tsp:"

#: What the X source asks for (docs/design.md §2.1). ``entities`` carries X's named-entity ``annotations`` and
#: ``context_annotations`` its topics (domain, entity): both free with the post, both kept in the document.
TWEET_FIELDS = (
    "created_at",
    "lang",
    "author_id",
    "entities",
    "context_annotations",
    "public_metrics",
    "referenced_tweets",
    "conversation_id",
    "note_tweet",
)
EXPANSIONS = ("author_id",)
USER_FIELDS = ("username", "name", "public_metrics")


class MalformedMessage(ValueError):
    """A message that cannot become an envelope. ``reason`` is a short machine-friendly label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _reject_constant(name: str) -> object:
    raise MalformedMessage("non_finite_number", f"{name} is not a JSON number")


#: One decoder for every line (``json.loads`` with an option would build a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def loads(text: str | bytes) -> Any:
    """``json.loads`` that rejects ``NaN``, ``Infinity`` and ``-Infinity`` (Python's json accepts them, but
    they are not JSON: Firehose, the transform and OpenSearch would get invalid documents).

    Bytes are UTF-8. Raises MalformedMessage("non_finite_number") for those constants, ValueError (including
    UnicodeDecodeError) for other invalid input.
    """
    return _DECODER.decode(text.decode("utf-8") if isinstance(text, bytes) else text)


def iso_utc(moment: datetime) -> str:
    """RFC 3339 UTC timestamp with milliseconds, e.g. 2026-11-26T10:00:00.123Z (X's own created_at format)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now_iso() -> str:
    return iso_utc(datetime.now(UTC))


#: OpenSearch refuses an ``_id`` longer than 512 bytes (the ingest pipeline sets it from the post's id).
MAX_ID_BYTES = 512


def _tweet_id(tweet: dict[str, Any]) -> str:
    raw = tweet.get("id")
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise MalformedMessage("missing_tweet_id", "data.id must be a string")
    text = str(raw)
    if not text:
        raise MalformedMessage("missing_tweet_id", "data.id is empty")
    if len(text.encode("utf-8")) > MAX_ID_BYTES:  # OpenSearch would refuse it as _id after the whole pipeline
        raise MalformedMessage("id_too_long", f"data.id is over {MAX_ID_BYTES} bytes")
    return text


def _matching_rules(raw: object) -> list[dict[str, str | None]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise MalformedMessage("bad_matching_rules", "matching_rules must be a list")
    rules: list[dict[str, str | None]] = []
    for rule in raw:
        if not isinstance(rule, dict):
            raise MalformedMessage("bad_matching_rules", "matching_rules items must be objects")
        rule_id = rule.get("id")
        tag = rule.get("tag")
        if isinstance(tag, str) and tag.startswith(RULE_TAG_PREFIX):
            tag = tag[len(RULE_TAG_PREFIX) :]
        rules.append(
            {
                "id": None if rule_id is None else str(rule_id),
                "tag": None if tag is None else str(tag),
            }
        )
    return rules


def _author(tweet: dict[str, Any], includes: object) -> dict[str, Any] | None:
    author_id = tweet.get("author_id")
    if author_id is None or not isinstance(includes, dict):
        return None
    users = includes.get("users")
    if not isinstance(users, list):
        return None
    for user in users:
        if isinstance(user, dict) and str(user.get("id")) == str(author_id):
            author: dict[str, Any] = {"id": str(user["id"])}
            for key in ("username", "name"):
                if isinstance(user.get(key), str):
                    author[key] = user[key]
            metrics = user.get("public_metrics")
            if isinstance(metrics, dict) and isinstance(metrics.get("followers_count"), int):
                author["followers_count"] = metrics["followers_count"]
            elif isinstance(user.get("followers_count"), int):
                author["followers_count"] = user["followers_count"]
            return author
    return None


def from_stream_message(message: object, *, source: str, received_at: str | None = None) -> dict[str, Any]:
    """Envelope for one X v2 stream message; raises MalformedMessage when it carries no usable tweet."""
    if not isinstance(message, dict):
        raise MalformedMessage("not_an_object", "a stream message must be a JSON object")
    tweet = message.get("data")
    if tweet is None:
        if "errors" in message:
            raise MalformedMessage("stream_error_payload", "message carries errors and no data")
        raise MalformedMessage("no_data", "message has no data object")
    if not isinstance(tweet, dict):
        raise MalformedMessage("bad_data", "data must be an object")
    tweet_id = _tweet_id(tweet)
    text = tweet.get("text")
    if not isinstance(text, str):
        raise MalformedMessage("missing_text", "data.text must be a string")
    if tweet.get("id") != tweet_id:
        tweet = {**tweet, "id": tweet_id}
    return {
        "v": ENVELOPE_VERSION,
        "source": source,
        "received_at": received_at or utc_now_iso(),
        "matching_rules": _matching_rules(message.get("matching_rules")),
        "tweet": tweet,
        "author": _author(tweet, message.get("includes")),
    }


def from_envelope(obj: dict[str, Any], *, default_source: str) -> dict[str, Any]:
    """Validate an already-built envelope (replay files); keep its source, fill a missing received_at."""
    if obj.get("v") != ENVELOPE_VERSION:
        raise MalformedMessage("unsupported_version", f"v must be {ENVELOPE_VERSION}")
    tweet = obj.get("tweet")
    if not isinstance(tweet, dict):
        raise MalformedMessage("bad_data", "tweet must be an object")
    tweet_id = _tweet_id(tweet)
    if not isinstance(tweet.get("text"), str):
        raise MalformedMessage("missing_text", "tweet.text must be a string")
    source = obj.get("source")
    received_at = obj.get("received_at")
    author = obj.get("author")
    if author is not None and not isinstance(author, dict):
        raise MalformedMessage("bad_author", "author must be an object or null")
    return {
        **obj,
        "source": source if isinstance(source, str) and source else default_source,
        "received_at": received_at if isinstance(received_at, str) and received_at else utc_now_iso(),
        "matching_rules": _matching_rules(obj.get("matching_rules")),
        "tweet": tweet if tweet.get("id") == tweet_id else {**tweet, "id": tweet_id},
        "author": author,
    }


def from_replay_line(line: bytes | str, *, default_source: str = "replay") -> dict[str, Any]:
    """One JSONL line of a replay file: an envelope (has ``v``) or a raw X v2 stream message (has ``data``)."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedMessage("not_utf8", "line is not valid UTF-8") from None
    try:
        obj = loads(line)
    except json.JSONDecodeError as exc:
        raise MalformedMessage("invalid_json", f"{exc.msg} at column {exc.colno}") from None
    except RecursionError:  # nesting deeper than the interpreter's recursion limit
        raise MalformedMessage("invalid_json", "nested too deeply") from None
    if not isinstance(obj, dict):
        raise MalformedMessage("not_an_object", "a line must be a JSON object")
    if "v" in obj:
        return from_envelope(obj, default_source=default_source)
    if "data" in obj or "errors" in obj:
        return from_stream_message(obj, source=default_source)
    raise MalformedMessage("unknown_shape", "neither an envelope (v) nor a stream message (data)")


def encode(envelope: dict[str, Any]) -> bytes:
    """Single-line UTF-8 JSON (json.dumps escapes newlines inside strings); standard JSON only.

    Text with lone surrogates (invalid in UTF-8) falls back to ASCII escapes, which stay valid JSON. A float
    that is NaN or infinite (only possible in an envelope built in code: :func:`loads` rejects them in input)
    raises MalformedMessage("non_finite_number").
    """
    try:
        return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(envelope, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")
    except ValueError as exc:
        raise MalformedMessage("non_finite_number", str(exc)) from None


# -- Bluesky (Jetstream) -------------------------------------------------------------------------------------------

#: The collection of Bluesky posts; Jetstream ``commit`` events of other collections are not posts.
BLUESKY_POST_COLLECTION = "app.bsky.feed.post"
_FACET_TAG = "app.bsky.richtext.facet#tag"
_FACET_MENTION = "app.bsky.richtext.facet#mention"
_QUOTE_EMBEDS = ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia")


def bluesky_post_uri(did: str, rkey: str) -> str:
    """The post's AT URI, its id in the envelope and (as ``tweet_id``) the document's OpenSearch ``_id``."""
    return f"at://{did}/{BLUESKY_POST_COLLECTION}/{rkey}"


def _facet_entities(text: str, facets: object) -> dict[str, list[dict[str, Any]]]:
    """Hashtags (the tag facets' ``tag``) and mentions (the handle written in the text at a mention facet's byte
    range; Jetstream gives only the DID) in X's ``entities`` shape, so the transform reads them unchanged."""
    hashtags: list[dict[str, Any]] = []
    mentions: list[dict[str, Any]] = []
    if not isinstance(facets, list):
        return {"hashtags": hashtags, "mentions": mentions}
    encoded = text.encode("utf-8")
    for facet in facets:
        if not isinstance(facet, dict) or not isinstance(facet.get("features"), list):
            continue
        index = facet.get("index")
        if not isinstance(index, dict):
            index = {}
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not isinstance(start, int) or isinstance(start, bool):
            start = len(encoded)
        for feature in facet["features"]:
            if not isinstance(feature, dict):
                continue
            kind = feature.get("$type")
            if kind == _FACET_TAG and isinstance(feature.get("tag"), str) and feature["tag"].strip():
                hashtags.append({"start": start, "tag": feature["tag"].strip().lstrip("#")})
            elif kind == _FACET_MENTION and isinstance(end, int) and 0 <= start < end <= len(encoded):
                handle = encoded[start:end].decode("utf-8", "replace").strip().lstrip("@")
                if handle:
                    mentions.append({"start": start, "username": handle})
    return {"hashtags": hashtags, "mentions": mentions}


def _record_uri(value: object) -> str | None:
    uri = value.get("uri") if isinstance(value, dict) else None
    return uri if isinstance(uri, str) and uri else None


def _bluesky_references(record: dict[str, Any]) -> list[dict[str, str]]:
    """X's ``referenced_tweets`` shape: ``replied_to`` the parent post, ``quoted`` an embedded post."""
    refs: list[dict[str, str]] = []
    reply = record.get("reply")
    parent = _record_uri(reply.get("parent")) if isinstance(reply, dict) else None
    if parent is not None:
        refs.append({"type": "replied_to", "id": parent})
    embed = record.get("embed")
    if isinstance(embed, dict) and embed.get("$type") in _QUOTE_EMBEDS:
        inner = embed.get("record")
        quoted = _record_uri(inner.get("record")) if isinstance(inner, dict) and "record" in inner else None
        quoted = quoted or _record_uri(inner)
        if quoted is not None:
            refs.append({"type": "quoted", "id": quoted})
    return refs


def bluesky_post(event: object) -> tuple[str, dict[str, Any]] | None:
    """(did, commit) of a Jetstream event that creates a post; None for any other event (deletes, updates, other
    collections, identity and account events). Raises MalformedMessage for a commit without a usable record."""
    if not isinstance(event, dict):
        raise MalformedMessage("not_an_object", "a Jetstream event must be a JSON object")
    if event.get("kind") != "commit":
        return None
    commit = event.get("commit")
    if not isinstance(commit, dict):
        raise MalformedMessage("bad_commit", "commit must be an object")
    if commit.get("operation") != "create" or commit.get("collection") != BLUESKY_POST_COLLECTION:
        return None
    did, rkey, record = event.get("did"), commit.get("rkey"), commit.get("record")
    if not isinstance(did, str) or not did.startswith("did:") or not isinstance(rkey, str) or not rkey:
        raise MalformedMessage("missing_tweet_id", "did and commit.rkey must be strings")
    if not isinstance(record, dict):
        raise MalformedMessage("bad_data", "commit.record must be an object")
    if not isinstance(record.get("text"), str):
        raise MalformedMessage("missing_text", "commit.record.text must be a string")
    return did, commit


def from_bluesky_post(
    did: str, commit: dict[str, Any], matching_terms: list[str], *, received_at: str | None = None
) -> dict[str, Any]:
    """Envelope v1 (``source: "bluesky"``) for a post :func:`bluesky_post` returned, in X's tweet shape: the id is
    the AT URI, ``lang`` the first of ``langs``, entities from the facets, replies and quotes as references."""
    record: dict[str, Any] = commit["record"]
    uri = bluesky_post_uri(did, commit["rkey"])
    if len(uri.encode("utf-8")) > MAX_ID_BYTES:
        raise MalformedMessage("id_too_long", f"the AT URI is over {MAX_ID_BYTES} bytes")
    text: str = record["text"]
    tweet: dict[str, Any] = {"id": uri, "text": text, "author_id": did}
    if isinstance(record.get("createdAt"), str):
        tweet["created_at"] = record["createdAt"]
    langs = record.get("langs")
    if isinstance(langs, list) and langs and isinstance(langs[0], str) and langs[0].strip():
        tweet["lang"] = langs[0].strip()
    tweet["entities"] = _facet_entities(text, record.get("facets"))
    refs = _bluesky_references(record)
    if refs:
        tweet["referenced_tweets"] = refs
    if isinstance(commit.get("cid"), str):
        tweet["cid"] = commit["cid"]
    return {
        "v": ENVELOPE_VERSION,
        "source": "bluesky",
        "received_at": received_at or utc_now_iso(),
        "matching_rules": [{"id": None, "tag": term} for term in matching_terms],
        "tweet": tweet,
        "author": {"id": did},
    }
