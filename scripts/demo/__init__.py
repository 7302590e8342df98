"""``make demo``: the ingester and the transform Lambda running locally, with no AWS account.

The ingester's replay source (or the live X stream) feeds a :class:`~scripts.demo.firehose.LocalFirehose`,
which buffers like Firehose and invokes the transform handler with Firehose-shaped events; documents go into
SQLite (:mod:`scripts.demo.store`), failures into a folder laid out like the S3 error prefixes
(:mod:`scripts.demo.failed`), and a live terminal view (:mod:`scripts.demo.view`) shows what flows.
"""
