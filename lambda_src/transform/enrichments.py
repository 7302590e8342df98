"""Optional Amazon Comprehend enrichments (``ENRICHMENTS=entities,key_phrases``), off by default.

Each enabled enrichment is one Comprehend operation run by the sentiment backend's batcher
(``transform.sentiment.comprehend.ComprehendBatcher``): the same unique (language, text) pairs the handler
scores, chunks of 25 per language, each text cut to 5,000 UTF-8 bytes, bounded concurrency, throttling and
transient errors retried with capped backoff and jitter, and the invocation's deadline. Both APIs take the
same primary languages as sentiment (``transform.sentiment.languages``).

Failure policy: an item an enrichment cannot get after retries is ``Failed("enrichment_error")``, one the
deadline leaves unanswered ``Failed("enrichment_timeout")``; the handler returns that record ProcessingFailed
(kept in S3 for redrive), as for sentiment. A language Comprehend does not support gives ``null`` fields,
never a failure. The document's fields: ``comprehend_entities`` and ``key_phrases``, ``null`` when the
enrichment is off or could not run on the text, ``[]`` when it ran and found nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from transform.document import scored_entities
from transform.sentiment import Deadline, Failed, ScoreRequest, Skipped
from transform.sentiment.comprehend import ComprehendBatcher, Operation
from transform.settings import EnrichmentName

MAX_ITEMS = 50
"""Most entities, and most key phrases, kept per document (a 5,000-byte text can yield hundreds)."""

FIELDS: dict[EnrichmentName, str] = {"entities": "comprehend_entities", "key_phrases": "key_phrases"}
"""The document field each enrichment fills."""


def parse_entities(item: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """``Entities`` of one BatchDetectEntities result as ``[{type, text, score}]``: one per type and text (any
    case; first spelling, highest score), in order of appearance, at most :data:`MAX_ITEMS`."""
    entities = item.get("Entities")
    if not isinstance(entities, list):
        return None
    triples = ((e.get("Type"), e.get("Text"), e.get("Score")) for e in entities if isinstance(e, Mapping))
    return scored_entities(triples, "score", MAX_ITEMS)


def parse_key_phrases(item: Mapping[str, Any]) -> list[str] | None:
    """``KeyPhrases`` of one BatchDetectKeyPhrases result: lower-cased texts (so "The new console" and "the new
    console" aggregate together), each once, in order of appearance, at most :data:`MAX_ITEMS`."""
    phrases = item.get("KeyPhrases")
    if not isinstance(phrases, list):
        return None
    found: dict[str, None] = {}
    for phrase in phrases:
        text = phrase.get("Text") if isinstance(phrase, Mapping) else None
        if isinstance(text, str) and text.strip() and len(found) < MAX_ITEMS:
            found.setdefault(" ".join(text.lower().split()), None)
    return list(found)


OPERATIONS: dict[EnrichmentName, Operation[Any]] = {
    "entities": Operation(
        call=lambda client, texts, code: client.batch_detect_entities(TextList=texts, LanguageCode=code),
        parse=parse_entities,
        error="enrichment_error",
        timeout="enrichment_timeout",
    ),
    "key_phrases": Operation(
        call=lambda client, texts, code: client.batch_detect_key_phrases(TextList=texts, LanguageCode=code),
        parse=parse_key_phrases,
        error="enrichment_error",
        timeout="enrichment_timeout",
    ),
}


def empty_fields() -> dict[str, None]:
    """The enrichment fields of a document no enrichment ran on."""
    return dict.fromkeys(FIELDS.values())


class Enricher:
    """Runs the enabled enrichments over the invocation's unique texts."""

    def __init__(self, enabled: Sequence[EnrichmentName], batcher: ComprehendBatcher) -> None:
        self.enabled = tuple(enabled)
        self.batcher = batcher

    @property
    def api_calls(self) -> int:
        return self.batcher.api_calls

    @property
    def api_throttles(self) -> int:
        return self.batcher.api_throttles

    def enrich(self, requests: Sequence[ScoreRequest], deadline: Deadline) -> list[dict[str, Any] | Failed]:
        """One result per request, in order: the document fields to set, or the first enrichment's failure."""
        results: list[dict[str, Any] | Failed] = [empty_fields() for _ in requests]
        for name in self.enabled:
            live = [index for index, result in enumerate(results) if not isinstance(result, Failed)]
            outcomes = self.batcher.run(OPERATIONS[name], [requests[index] for index in live], deadline)
            for index, outcome in zip(live, outcomes, strict=True):
                current = results[index]
                if isinstance(outcome, Failed):
                    results[index] = outcome  # a record already lost is not sent to the next (billed) enrichment
                elif not isinstance(current, Failed) and not isinstance(outcome, Skipped):
                    current[FIELDS[name]] = outcome
        return results
