"""TRACKED_TERMS -> X rules: quoting, 1,024-character grouping, diffing."""

from __future__ import annotations

import pytest

from ingester.config import ConfigError
from ingester.rules import Rule, desired_rules, diff_rules, quote_term


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


def test_one_rule_per_term_tagged_with_the_term() -> None:
    rules = desired_rules(["aws", "machine learning", "aws"], suffix="-is:retweet lang:en")
    assert rules == [
        Rule("aws -is:retweet lang:en", "aws"),
        Rule('"machine learning" -is:retweet lang:en', "machine learning"),
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
    assert rules[0].tag is not None and rules[0].tag.startswith("term0000word,term0001word")
    assert all(r.tag is not None and len(r.tag) <= 255 for r in rules)


def test_too_many_terms_for_the_rule_limit_is_a_config_error() -> None:
    terms = [f"{'x' * 100}{i}" for i in range(300)]
    with pytest.raises(ConfigError, match=r"TRACKED_TERMS needs .* X_MAX_RULES"):
        desired_rules(terms, max_rules=5)


def test_a_term_longer_than_a_rule_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="TRACKED_TERMS"):
        desired_rules(["a" * 1025])


def test_diff_adds_missing_deletes_stale_and_duplicates() -> None:
    current = [
        Rule("aws", "aws", "1"),
        Rule("aws", "aws", "2"),  # duplicate
        Rule("lambda", "lambda", "3"),  # stale
        Rule("s3", "old-tag", "4"),  # same value, different tag: stale
    ]
    desired = [Rule("aws", "aws"), Rule("s3", "s3"), Rule("ec2", "ec2")]
    diff = diff_rules(current, desired)
    assert [r.id for r in diff.keep] == ["1"]
    assert sorted(r.id for r in diff.delete if r.id) == ["2", "3", "4"]
    assert [r.value for r in diff.add] == ["s3", "ec2"]
    assert not diff.empty
    assert diff_rules([Rule("aws", "aws", "1")], [Rule("aws", "aws")]).empty
