"""Firehose transform Lambda: envelope v1 in, sentiment-scored document out (docs/design.md §2)."""
