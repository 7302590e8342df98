"""Firehose transform Lambda: envelope v1 in, sentiment-scored document out (DESIGN.md section 2)."""
