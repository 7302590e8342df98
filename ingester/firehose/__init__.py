"""Amazon Data Firehose, once: its limits, how records are batched and put, and its failed-records format.

===========================  ==========================================================================
``limits``                   PutRecordBatch (500 records, 4 MiB, 1,000 KiB a record) and processor limits
``batching``                 which records go into one call (:class:`BatchLimits`, :func:`split`)
``put``                      one call, the resend-only-what-failed loop, the tools' ``put_all``
``failed_records``           the S3 failed-record line and its folders: written and read
===========================  ==========================================================================

The retry delay they use is the project's one backoff, ``ingester.backoff``.

Who imports it: the ingester's writer and pipeline, ``make redrive`` and ``make smoke`` (``scripts/ops/redrive.py``,
``scripts/ops/smoke.py``) and the local demo (``scripts/demo``). It lives inside the ``ingester`` package because that
package is what the ingester's bundle ships (``scripts/packaging/build_ingester_bundle.py`` packs ``ingester/``
only) and the tools already run from the repository with ``ingester`` importable; a new top-level package would be
missing from the bundle. The transform Lambda does not import it: it never calls PutRecordBatch or reads the backup
bucket.

Importing this package is cheap (no boto3 client, no I/O); only ``put`` imports botocore.
"""
