"""The one factory of boto3 clients (Firehose, SSM, CloudWatch) for the ingester.

It imports only :mod:`ingester.config` (a leaf), so any module may use it without an import cycle; it used to
live in ``ingester.app``, which ``ingester.secrets`` and ``ingester.checks`` then had to import back.

Failure policy: no region anywhere (flag, environment, AWS config) is a :class:`~ingester.config.ConfigError`
naming AWS_REGION. botocore does not retry (one attempt per call): each caller owns its retry policy
(the writer's backoff and spool, the X source's token re-reads, ``check`` reports once).
"""

from __future__ import annotations

from typing import Any

from ingester.config import ConfigError, Settings


def make_boto3_client(service: str, settings: Settings) -> Any:
    """A boto3 client; honours AWS_ENDPOINT_URL (boto3 reads it natively). Retries are ours, not botocore's."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    config = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30)
    try:
        return boto3.client(service, region_name=settings.aws_region, config=config)
    except NoRegionError:
        raise ConfigError("AWS_REGION is required (no region in the environment or the AWS config)") from None


def sigv4_headers(
    credentials: Any, region: str, *, method: str, url: str, body: bytes, headers: dict[str, str], service: str = "es"
) -> dict[str, str]:
    """``headers`` plus what botocore's SigV4Auth adds for this request (Authorization, X-Amz-Date and, for
    temporary credentials, X-Amz-Security-Token): the one place that signs a request for OpenSearch, used by the
    ingester's deleter and the operator tools. ``credentials`` are botocore's (refreshable): frozen per request."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(credentials.get_frozen_credentials(), service, region).add_auth(request)
    return dict(request.headers.items())
