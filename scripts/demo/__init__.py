"""``make demo``: the ingester and the transform Lambda running locally, with no AWS account.

The ingester's replay source (or the live X stream) feeds a :class:`~scripts.demo.firehose.LocalFirehose`,
which buffers like Firehose and invokes the transform (``transform.handler.process_event`` with the embedded
backend) with Firehose-shaped events; documents go into SQLite (:mod:`scripts.demo.store`), failures into a
folder laid out like the S3 error prefixes (:mod:`scripts.demo.failed`), and a live terminal view
(:mod:`scripts.demo.view`) shows what flows.

Modules, one concern each:

* :mod:`scripts.demo.app` - the command line, the run loop and the exit status;
* :mod:`scripts.demo.wiring` - building the pieces of one run (all of its I/O and configuration);
* :mod:`scripts.demo.firehose`, :mod:`scripts.demo.delivery`, :mod:`scripts.demo.failed` - the Firehose stand-in
  and where its batches go;
* :mod:`scripts.demo.store` - the SQLite store; :mod:`scripts.demo.opensearch_sink` - the optional OpenSearch;
* :mod:`scripts.demo.view` - the terminal output (pure rendering plus the in-place redraw);
* :mod:`scripts.demo.report` - the HTML report with the dashboard's panels (``demo-output/report.html``);
* :mod:`scripts.demo.local_opensearch` - ``make demo-opensearch``: a local OpenSearch + Dashboards with Docker.

The transform package lives in ``lambda_src/``: it must be on PYTHONPATH (the Makefile, pytest and mypy put it
there); ``python -m scripts.demo`` without it re-executes itself once with it (see ``__main__``).
"""
