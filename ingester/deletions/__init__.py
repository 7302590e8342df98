"""Deleted posts leave every store we control, and stay out.

* :mod:`ingester.deletions.store`: the ledger of accepted posts and the durable tombstones (STATE_DIR).
* :mod:`ingester.deletions.bluesky`: Jetstream delete commits and account events as tombstones.
* :mod:`ingester.deletions.deleter`: applies tombstones to each target (OpenSearch, the demo's SQLite), retries,
  and re-applies them while copies can still arrive.
* :mod:`ingester.deletions.opensearch`: the SigV4-signed ``_delete_by_query`` target.

The pipeline consults the store before a post enters the WAL and the writer before a record leaves for Firehose
(WAL, spool, held batches), so a delete that arrives first wins there without a round trip.
"""
