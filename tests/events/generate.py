"""Writes the sample Firehose events in this folder (run: python -m tests.events.generate).

The events are what Firehose sends the transform Lambda; their record data is base64, so this script is the
readable source of truth and tests/unit/transform/test_events.py checks the files match it.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/tweet-sentiment"


def _tweet(tweet_id: str, text: str, lang: str = "en", **extra: Any) -> dict[str, Any]:
    tweet = {
        "id": tweet_id,
        "text": text,
        "created_at": "2026-11-26T09:59:58.000Z",
        "lang": lang,
        "author_id": "2244994945",
        "conversation_id": tweet_id,
        "public_metrics": {"retweet_count": 3, "reply_count": 1, "like_count": 12, "quote_count": 0},
    }
    tweet.update(extra)
    return tweet


def _envelope(tweet: dict[str, Any], tag: str = "aws") -> dict[str, Any]:
    return {
        "v": 1,
        "source": "x",
        "received_at": "2026-11-26T10:00:00.123Z",
        "matching_rules": [{"id": "1790000000000000001", "tag": tag}],
        "tweet": tweet,
        "author": {"id": "2244994945", "username": "XDevelopers", "name": "Developers", "followers_count": 570000},
    }


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _json(value: Any) -> str:
    return _b64(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _event(invocation: str, datas: list[str]) -> dict[str, Any]:
    return {
        "invocationId": invocation,
        "deliveryStreamArn": ARN,
        "region": "us-east-1",
        "records": [
            {"recordId": f"49546986683135544286507457936321625675700192471156785154{i:03d}",
             "approximateArrivalTimestamp": 1764151200123 + i, "data": data}
            for i, data in enumerate(datas)
        ],
    }  # fmt: skip


FIRST = "Loving the new #AWS console, great job @awscloud! https://t.co/x1"
NOTE = (
    "A long thought about serverless: cold starts matter less than people think when the package is small "
    "and imports are lazy. Great results! #Serverless #Lambda with @jeffbarr"
)


def _entities(text: str) -> dict[str, list[dict[str, Any]]]:
    """X-style entities (start/end offsets) for the #tags and @names in ``text``."""
    words = [w.strip(".,!:") for w in text.split()]
    tags = [w for w in words if w.startswith("#")]
    names = [w for w in words if w.startswith("@")]
    return {
        "hashtags": [{"start": text.index(t), "end": text.index(t) + len(t), "tag": t[1:]} for t in tags],
        "mentions": [{"start": text.index(n), "end": text.index(n) + len(n), "username": n[1:]} for n in names],
    }


BASIC = [
    _envelope(_tweet("1861000000000000001", FIRST, entities=_entities(FIRST))),
    _envelope(_tweet("1861000000000000002", "@united you lost my bag again. Worst airline ever. #fail")),
    _envelope(_tweet("1861000000000000003", "RT @awscloud: Loving the new #AWS console, great job!",
                     referenced_tweets=[{"type": "retweeted", "id": "1861000000000000001"}])),
    _envelope(_tweet("1861000000000000004", "El servicio es excelente, ¡me encanta!", lang="es",
                     referenced_tweets=[{"type": "replied_to", "id": "1861000000000000001"}])),
    _envelope(_tweet("1861000000000000005", "A long thought about serverless… https://t.co/more",
                     note_tweet={"text": NOTE, "entities": _entities(NOTE)},
                     referenced_tweets=[{"type": "quoted", "id": "1861000000000000002"}])),
    _envelope(_tweet("1861000000000000006", "https://t.co/only-a-link", lang="zxx")),
    _envelope(_tweet("1861000000000000007", "   ", lang="en")),
]  # fmt: skip

MALFORMED = [
    "this is not base64!",
    _b64(b"\xff\xfe\x00 not utf-8"),
    _b64(b'{"v": 1, "source": "x", "tweet": {"id": "1", "te'),  # truncated JSON
    _b64(b"[1, 2, 3]"),
    _json({"hello": "world"}),
    _json({**BASIC[0], "v": 2}),
    _json({k: v for k, v in BASIC[0].items() if k != "tweet"}),
    _json({**BASIC[0], "tweet": {"id": "1861000000000000099"}}),  # no text
    _json(_envelope(_tweet("1861000000000000100", "x" * 60_000))),  # longer than the 50,000-character cut-off
    _json(BASIC[0]),  # a good record among the bad ones: unaffected
]

REDRIVE_DOCUMENT = {
    "tweet_id": "1861000000000000001", "created_at": "2026-11-26T09:59:58.000Z",
    "received_at": "2026-11-26T10:00:00.123Z", "processed_at": "2026-11-26T10:00:01.000Z",
    "text": "Loving the new #AWS console", "lang": "en",
    "author": {"id": "2244994945", "username": "XDevelopers", "name": "Developers", "followers_count": 570000},
    "hashtags": ["aws"], "mentions": [], "is_retweet": False, "is_reply": False, "is_quote": False,
    "metrics": {"retweet_count": 3, "reply_count": 1, "like_count": 12, "quote_count": 0},
    "rules": ["aws"], "source": "x", "sentiment": "POSITIVE", "sentiment_skipped": None,
    "sentiment_score": {"positive": 0.98, "negative": 0.0, "neutral": 0.02, "mixed": 0.0},
    "sentiment_model": "comprehend",
}  # fmt: skip

EVENTS: dict[str, dict[str, Any]] = {
    "firehose_basic.json": _event("11111111-1111-4111-8111-111111111111", [_json(e) for e in BASIC]),
    "firehose_malformed.json": _event("22222222-2222-4222-8222-222222222222", MALFORMED),
    "firehose_redrive.json": _event("33333333-3333-4333-8333-333333333333",
                                    [_json(REDRIVE_DOCUMENT), _json(BASIC[1])]),
}  # fmt: skip


def render(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2) + "\n"


def main() -> None:
    for name, event in EVENTS.items():
        (HERE / name).write_text(render(event), encoding="utf-8")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
