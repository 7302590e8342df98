"""TRACKED_TERMS -> X rules: quoting, 1,024-character grouping, diffing."""

from __future__ import annotations

import pytest

from ingester.config import ConfigError
from ingester.envelope import from_stream_message
from ingester.rules import Rule, desired_rules, diff_rules, plain_tag, quote_term


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("aws", "aws"),
        ("#serverless", "#serverless"),
        ("@awscloud", "@awscloud"),
        ("$AMZN", "$AMZN"),
        ("machine learning", '"machine learning"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("OR", '"OR"'),
    ],
)
def test_quote_term(term: str, expected: str) -> None:
    assert quote_term(term) == expected


def test_one_rule_per_term_tagged_with_the_marked_term() -> None:
    rules = desired_rules(["aws", "machine learning", "aws"], suffix="-is:retweet lang:en")
    assert rules == [
        Rule("aws -is:retweet lang:en", "tsp:aws"),
        Rule('"machine learning" -is:retweet lang:en', "tsp:machine learning"),
    ]


def test_many_terms_are_grouped_under_1024_characters() -> None:
    terms = [f"term{i:04d}word" for i in range(400)]
    rules = desired_rules(terms, suffix="lang:en", max_rules=25)
    assert len(rules) < 25
    assert all(len(r.value) <= 1024 for r in rules)
    assert all(r.value.startswith("(") and r.value.endswith(") lang:en") for r in rules)
    # every term lands in exactly one rule, in order
    flattened = [t for r in rules for t in r.value[1 : -len(") lang:en")].split(" OR ")]
    assert flattened == terms
    assert rules[0].tag is not None and rules[0].tag.startswith("tsp:term0000word,term0001word")
    assert all(r.tag is not None and len(r.tag) <= 255 for r in rules)


def test_too_many_terms_for_the_rule_limit_is_a_config_error() -> None:
    terms = [f"{'x' * 100}{i}" for i in range(300)]
    with pytest.raises(ConfigError, match=r"TRACKED_TERMS needs .* X_MAX_RULES"):
        desired_rules(terms, max_rules=5)


def test_a_term_longer_than_a_rule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="TRACKED_TERMS"):
        desired_rules(["a" * 1025])


def test_diff_adds_missing_deletes_our_stale_rules_and_duplicates() -> None:
    current = [
        Rule("aws", "tsp:aws", "1"),
        Rule("aws", "tsp:aws", "2"),  # duplicate of ours
        Rule("lambda", "tsp:lambda", "3"),  # ours, stale
        Rule("s3", "tsp:old-tag", "4"),  # ours, same value, different tag: stale
    ]
    desired = [Rule("aws", "tsp:aws"), Rule("s3", "tsp:s3"), Rule("ec2", "tsp:ec2")]
    diff = diff_rules(current, desired)
    assert [r.id for r in diff.keep] == ["1"]
    assert sorted(r.id for r in diff.delete if r.id) == ["2", "3", "4"]
    assert [r.value for r in diff.add] == ["s3", "ec2"]
    assert diff.foreign == ()
    assert not diff.empty
    assert diff_rules([Rule("aws", "tsp:aws", "1")], [Rule("aws", "tsp:aws")]).empty


def test_diff_never_deletes_rules_it_did_not_create() -> None:
    current = [
        Rule("aws", "tsp:aws", "1"),
        Rule("lambda", "lambda", "5"),  # another tool's rule
        Rule("aws", "someone-else", "6"),  # same value, foreign tag
        Rule("kafka", None, "7"),  # untagged
        Rule("gcp", "TSP:gcp", "8"),  # the marker is case-sensitive
    ]
    diff = diff_rules(current, [Rule("aws", "tsp:aws")])
    assert diff.empty
    assert [r.id for r in diff.foreign] == ["5", "6", "7", "8"]


def test_diff_adopts_unmarked_rules_of_older_versions() -> None:
    # older versions tagged a rule with the plain term: re-added with the marker (X rejects duplicate values)
    current = [Rule("aws lang:en", "aws", "1"), Rule("aws", "aws", "2")]
    diff = diff_rules(current, [Rule("aws lang:en", "tsp:aws")])
    assert [r.id for r in diff.delete] == ["1"]
    assert diff.add == (Rule("aws lang:en", "tsp:aws"),)
    assert [r.id for r in diff.foreign] == ["2"]  # value differs: not ours


def test_envelope_tags_are_the_plain_terms() -> None:
    assert plain_tag("tsp:machine learning") == "machine learning"
    assert plain_tag("other") == "other" and plain_tag(None) is None
    message = {
        "data": {"id": "1", "text": "hi"},
        "matching_rules": [{"id": "9", "tag": "tsp:aws,s3"}, {"id": "8", "tag": "foreign"}],
    }
    envelope = from_stream_message(message, source="x")
    assert envelope["matching_rules"] == [{"id": "9", "tag": "aws,s3"}, {"id": "8", "tag": "foreign"}]
