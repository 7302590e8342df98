"""Amazon Data Firehose service limits, defined once (docs/design.md §2.3, §2.4).

PutRecordBatch: at most 500 records and 4 MiB per call, each record at most 1,000 KiB, sizes measured on the
record's bytes (``Data`` before base64). A Lambda processor: its buffering hint is 0.2-3 MB and its response at
most 6 MB (the Lambda synchronous payload limit). Terraform states the processor limits again where it validates
its variables (``terraform/modules/firehose/variables.tf``): HCL cannot import Python.

No failure policy: these are numbers. Callers that exceed them: ``ingester.firehose.batching.split`` raises
:class:`~ingester.firehose.batching.RecordTooLarge`, the pipeline dead-letters the record, the demo's local
Firehose answers ``ValidationException`` as the service does.
"""

from __future__ import annotations

MAX_BATCH_RECORDS = 500
"""Records per PutRecordBatch call."""

MAX_BATCH_BYTES = 4 * 1024 * 1024
"""Bytes per PutRecordBatch call (the sum of the records' data), 4 MiB."""

MAX_RECORD_BYTES = 1000 * 1024
"""Bytes per record, 1,000 KiB."""

PROCESSOR_BUFFER_MIN_BYTES = 200 * 1024
"""Smallest Lambda processor buffering hint (0.2 MB)."""

PROCESSOR_BUFFER_MAX_BYTES = 3 * 1024 * 1024
"""Largest Lambda processor buffering hint (3 MB)."""

MAX_LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024
"""Largest response a Lambda processor may return (Lambda's synchronous payload limit, 6 MB)."""
