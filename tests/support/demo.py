"""Helpers for the demo's tests: a valid document and a handler that transforms like the Lambda."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

DOC: dict[str, Any] = {
    "tweet_id": "1",
    "created_at": "2026-11-26T09:00:00.000Z",
    "received_at": "2026-11-26T09:00:01.000Z",
    "processed_at": "2026-11-26T09:00:01.500Z",
    "text": "Loving the new #Python release @guido",
    "lang": "en",
    "author": {"id": "42", "username": "ana", "name": "Ana", "followers_count": 10},
    "hashtags": ["python", "release"],
    "mentions": ["guido"],
    "entities": [{"type": "Product", "text": "Python", "probability": 0.93}],
    "topics": [{"domain": "Technology", "entity": "Python"}, {"domain": "Brand", "entity": "Python"}],
    "is_retweet": False,
    "is_reply": True,
    "is_quote": False,
    "metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 3, "quote_count": 4},
    "rules": ["tech"],
    "source": "replay",
    "sentiment": "POSITIVE",
    "sentiment_skipped": None,
    "sentiment_score": {"positive": 0.9, "negative": 0.0, "neutral": 0.1, "mixed": 0.0},
    "sentiment_model": "vader-3.3.2",
    "comprehend_entities": None,
    "key_phrases": None,
}


def make_doc(**overrides: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    doc.update(overrides)
    return doc


def echo_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Ok for every record: the document is DOC with the record's JSON payload's id as tweet_id."""
    out = []
    for record in event["records"]:
        payload = json.loads(base64.b64decode(record["data"]))
        if payload.get("fail"):
            out.append({"recordId": record["recordId"], "result": "ProcessingFailed", "data": record["data"]})
            continue
        doc = make_doc(tweet_id=str(payload["id"]))
        out.append(
            {
                "recordId": record["recordId"],
                "result": "Ok",
                "data": base64.b64encode(json.dumps(doc).encode()).decode(),
            }
        )
    return {"records": out}
