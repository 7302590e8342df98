"""The machine-readable contracts (docs/design.md §2.1, §2.2) are valid JSON Schema and agree with the design."""

from __future__ import annotations

import json

import jsonschema

from tests.support.paths import SCHEMAS_DIR

DESIGN_FIELDS = {
    "tweet_id", "created_at", "received_at", "processed_at", "text", "lang", "author", "hashtags", "mentions",
    "entities", "topics", "is_retweet", "is_reply", "is_quote", "metrics", "rules", "source", "sentiment",
    "sentiment_skipped", "sentiment_score", "sentiment_model", "comprehend_entities", "key_phrases",
}  # fmt: skip


def test_schemas_are_valid_json_schema() -> None:
    for path in SCHEMAS_DIR.glob("*.schema.json"):
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_document_schema_has_exactly_the_design_fields_and_every_leaf_an_index_type() -> None:
    schema = json.loads((SCHEMAS_DIR / "document.schema.json").read_text())
    assert set(schema["properties"]) == DESIGN_FIELDS
    assert set(schema["required"]) == DESIGN_FIELDS

    def leaves(props: dict[str, dict[str, object]]) -> list[tuple[str, dict[str, object]]]:
        out = []
        for name, spec in props.items():
            items = spec.get("items")
            nested = spec.get("properties") or (items.get("properties") if isinstance(items, dict) else None)
            out.extend(leaves(nested) if isinstance(nested, dict) else [(name, spec)])
        return out

    missing = [name for name, spec in leaves(schema["properties"]) if "x-index-type" not in spec]
    assert missing == []
