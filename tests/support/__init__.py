"""The tests' one helpers package: plain functions, constants and fakes shared by several test folders.

Fixtures stay in ``conftest.py`` files; what a test imports comes from here (never from a conftest):

* :mod:`tests.support.paths` - REPO_ROOT, EVENTS_DIR, SCHEMAS_DIR; :mod:`tests.support.net` - free_port;
* :mod:`tests.support.fake_opensearch` - the OpenSearch/Dashboards fake; :mod:`tests.support.fake_x` - the X API fake;
* :mod:`tests.support.ingester` - stream messages, replay files, a fake Firehose client, moto stream helpers;
* :mod:`tests.support.transform` - envelopes, Firehose events, a stub Comprehend; :mod:`tests.support.demo` - documents;
* :mod:`tests.support.terraform`, :mod:`tests.support.iam_lint`, :mod:`tests.support.moto_server`,
  :mod:`tests.support.nspawn` - Terraform offline, IAM lint, the moto server, the boot test's container.
"""
