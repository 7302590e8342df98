"""OpenSearch as code: index template, ISM retention, Firehose role mapping, Dashboards saved objects.

``python -m scripts.ops.opensearch`` (``make opensearch-setup``) applies everything idempotently; see ``setup.py``.
The shipped objects are data files under ``data/``; ``resources.index_template()`` is the template other parts
(e.g. the local demo's ``--opensearch-url``) can apply too.
"""
