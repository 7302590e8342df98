"""Bearer token from SSM (moto mock_aws) and batched CloudWatch metrics."""

from __future__ import annotations

import logging
from pathlib import Path
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from ingester import logsetup
from ingester.app import EXIT_FATAL, run
from ingester.config import ConfigError, Settings
from ingester.metrics import MetricsPublisher
from ingester.secrets import SecretNotSetError, SecretUnavailableError, resolve_bearer_token
from tests.support.ingester import FakeFirehose


@mock_aws
def test_token_from_ssm_securestring() -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/tweets/x-token", Value="AAAA-from-ssm", Type="SecureString")
    settings = Settings(x_bearer_token_ssm_parameter="/tweets/x-token", aws_region="us-east-1")
    assert resolve_bearer_token(settings) == "AAAA-from-ssm"
    assert logsetup.redact("token is AAAA-from-ssm") == "token is ***"


@mock_aws
def test_plain_string_parameter_is_refused() -> None:
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/tweets/plain", Value="AAAA-plain", Type="String")
    with pytest.raises(ConfigError, match=r"X_BEARER_TOKEN_SSM_PARAMETER .*SecureString"):
        resolve_bearer_token(Settings(x_bearer_token_ssm_parameter="/tweets/plain", aws_region="us-east-1"))


@mock_aws
def test_missing_parameter_is_not_set_yet_and_names_the_command() -> None:
    # Terraform no longer creates the parameter: missing means "not put yet", which the X source waits for.
    with pytest.raises(
        SecretNotSetError, match=r"X_BEARER_TOKEN_SSM_PARAMETER ./nope. does not exist yet.*make x-token"
    ):
        resolve_bearer_token(Settings(x_bearer_token_ssm_parameter="/nope", aws_region="us-east-1"))


def test_access_denied_is_a_config_error_not_a_missing_parameter() -> None:
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "ParameterNotFound"}}, "GetParameter")
    settings = Settings(x_bearer_token_ssm_parameter="/tweets/x-token", aws_region="us-east-1")
    with pytest.raises(ConfigError, match=r"AccessDeniedException.*kms:Decrypt") as raised:
        resolve_bearer_token(settings, ssm_client=_SsmDown(denied))
    # The branch is on the error code: a message that mentions ParameterNotFound does not make it "not set yet".
    assert not isinstance(raised.value, SecretNotSetError)


class _SsmDown:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_parameter(self, **_: object) -> dict[str, object]:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://ssm.us-east-1.amazonaws.com"),
        ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetParameter"),
        ClientError({"Error": {"Code": "InternalServerError", "Message": "oops"}}, "GetParameter"),
    ],
)
def test_ssm_unreachable_or_throttling_is_transient_not_a_config_error(error: Exception) -> None:
    # A ConfigError exits 2, which the unit never restarts: an SSM hiccup at boot must not stop the service for good.
    settings = Settings(x_bearer_token_ssm_parameter="/tweets/x-token", aws_region="us-east-1")
    with pytest.raises(SecretUnavailableError, match="X_BEARER_TOKEN_SSM_PARAMETER") as raised:
        resolve_bearer_token(settings, ssm_client=_SsmDown(error))
    assert not isinstance(raised.value, ConfigError)


def test_ssm_unreachable_at_start_exits_1_so_systemd_restarts(tmp_path: Path) -> None:
    settings = Settings(
        source="x",
        delivery_stream="demo",
        tracked_terms=("aws",),
        x_bearer_token_ssm_parameter="/tweets/x-token",
        aws_region="us-east-1",
        state_dir=tmp_path / "state",
    )
    with mock.patch.dict("os.environ", {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}):
        assert run(settings, firehose_client=FakeFirehose()) == EXIT_FATAL


def test_local_token_wins_and_is_redacted_from_logs(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(x_bearer_token="AAAA-local-token", x_bearer_token_ssm_parameter="/unused")
    assert resolve_bearer_token(settings) == "AAAA-local-token"
    record = logging.LogRecord("t", logging.INFO, "f", 1, "sent %s", ("Bearer AAAA-local-token",), None)
    logsetup.RedactingFilter().filter(record)
    assert "AAAA-local-token" not in record.getMessage()
    assert "AAAA-local-token" not in logsetup.JsonFormatter().format(record)


@mock_aws
def test_metrics_are_one_batched_call_with_deltas() -> None:
    class Counting:
        def __init__(self) -> None:
            self.inner = boto3.client("cloudwatch", region_name="us-east-1")
            self.calls = 0

        def put_metric_data(self, **kwargs: object) -> object:
            self.calls += 1
            return self.inner.put_metric_data(**kwargs)

    client = Counting()
    publisher = MetricsPublisher(client, "TweetSentiment/Ingester", "tweets")
    snap = {"read": 10, "delivered": 8, "spooled": 2, "dropped_total": 1, "dead_lettered": 0, "duplicates": 0}
    assert publisher.publish({**snap, "stream_connected": True, "spool_records": 2})
    assert publisher.publish({**snap, "read": 15, "stream_connected": False, "spool_records": 0})
    assert client.calls == 2
    listed = client.inner.list_metrics(Namespace="TweetSentiment/Ingester")["Metrics"]
    names = {m["MetricName"] for m in listed}
    assert {"Received", "Delivered", "Spooled", "Dropped", "StreamConnected", "SpoolRecords"} <= names
    second = publisher.build({**snap, "read": 21})
    received = next(m for m in second if m["MetricName"] == "Received")
    assert received["Value"] == 6  # delta since the previous publish


def test_deletion_metrics_applied_failures_pending_and_lag() -> None:
    from ingester.metrics import MetricsPublisher

    publisher = MetricsPublisher(None, "TweetSentiment/Ingester", "tweets")  # type: ignore[arg-type]
    first = {m["MetricName"]: m for m in publisher.build({"deletions_applied": 4, "deletions_pending": 0})}
    assert first["DeletionsApplied"]["Value"] == 4 and first["DeletionsPending"]["Value"] == 0
    assert "DeletionLagP99" not in first  # nothing applied with a measured lag yet: no made-up figure
    assert "XComplianceAgeHours" not in first  # not an X ingester: no compliance job, no figure
    snap = {"deletions_applied": 10, "deletion_failures": 3, "deletions_pending": 2, "deletion_lag_p99_s": 1.5}
    second = {
        m["MetricName"]: m for m in publisher.build({**snap, "deletion_lag_p50_s": 0.2, "x_compliance_age_h": 27.5})
    }
    assert second["XComplianceAgeHours"]["Value"] == 27.5
    assert second["DeletionsApplied"]["Value"] == 6  # delta
    assert second["DeletionFailures"]["Value"] == 3
    assert second["DeletionsPending"]["Value"] == 2
    assert second["DeletionLagP99"] == {
        "MetricName": "DeletionLagP99",
        "Dimensions": [{"Name": "DeliveryStream", "Value": "tweets"}],
        "Value": 1.5,
        "Unit": "Seconds",
    }
