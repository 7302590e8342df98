"""Every metric the monitoring module alarms on or graphs is one that something actually emits.

The plan of terraform/modules/monitoring (against moto, for the account ID) is read for each alarm's namespace,
metric name and dimensions, and for each line of the dashboard. Our own metrics are checked against what our
code writes when called: the ingester's ``MetricsPublisher.build`` and the transform's EMF line from
``process_event``, so a renamed metric or dimension fails here. AWS metrics are checked against the lists
below, taken from each service's metrics page (cited per namespace).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from transform.handler import process_event
from transform.sentiment import SentimentBackend
from transform.sentiment.comprehend import ComprehendBackend
from transform.sentiment.embedded import EmbeddedBackend
from transform.settings import Settings

from ingester.metrics import MetricsPublisher
from tests.support.paths import EVENTS_DIR
from tests.support.terraform import (
    MODULES_DIR,
    Terraform,
    moto_provider_override,
    require_terraform,
    reset_moto,
    write_cli_config,
)
from tests.support.transform import StubComprehend

pytestmark = [pytest.mark.terraform, pytest.mark.moto_server]

ACCOUNT_ID = "123456789012"  # moto's account
REGION = "us-east-1"
MOTO_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": REGION}
STREAM, INSTANCE, FUNCTION, DOMAIN = "contract-stream", "i-0123456789abcdef0", "contract-transform", "contract-domain"
INGESTER_NAMESPACE, TRANSFORM_NAMESPACE = "Contract/Ingester", "Contract/Transform"
INPUTS: dict[str, Any] = {
    "name_prefix": "contract",
    "alarm_emails": ["oncall@example.com"],
    "ingester": {"delivery_stream_name": STREAM, "metrics_namespace": INGESTER_NAMESPACE, "instance_id": INSTANCE},
    "transform": {"function_name": FUNCTION, "alias_name": "live", "metrics_namespace": TRANSFORM_NAMESPACE},
    "opensearch": {
        "domain_name": DOMAIN,
        "volume_size": 20,
        "service_assume_role_policy": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "es.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    },
}

# AWS metrics the module may use: namespace -> (documentation page, dimension names and their values in this
# plan, metric names). Each page lists the metric names and the dimensions they are published with.
AWS_METRICS: dict[str, tuple[str, dict[str, str], set[str]]] = {
    "AWS/Firehose": (
        "https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html",
        {"DeliveryStreamName": STREAM},
        {
            "IncomingRecords",
            # The OpenSearch Service destination's names (DeliveryToElasticsearch.* are the legacy destination's)
            "DeliveryToAmazonOpenSearchService.Records",
            "DeliveryToAmazonOpenSearchService.Success",
            "DeliveryToAmazonOpenSearchService.DataFreshness",
        },
    ),
    "AWS/Lambda": (
        "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html",
        # Resource: a version or alias, as <function>:<alias>; Firehose invokes the alias.
        {"FunctionName": FUNCTION, "Resource": f"{FUNCTION}:live"},
        {"Invocations", "Errors", "Throttles"},
    ),
    "AWS/ES": (
        "https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-cloudwatchmetrics.html",
        {"DomainName": DOMAIN, "ClientId": ACCOUNT_ID},
        {
            "ClusterStatus.red",
            "ClusterStatus.yellow",
            "FreeStorageSpace",
            "JVMMemoryPressure",
            "CPUUtilization",
            "ClusterIndexWritesBlocked",
        },
    ),
    "AWS/EC2": (
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/viewing_metrics_with_cloudwatch.html",
        {"InstanceId": INSTANCE},
        {"StatusCheckFailed_System", "StatusCheckFailed_Instance"},
    ),
}


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]


def metric(namespace: str, name: str, dimensions: dict[str, str]) -> Metric:
    return Metric(namespace, name, tuple(sorted(dimensions.items())))


class _Recorder:
    def put_metric_data(self, *, Namespace: str, MetricData: list[dict[str, Any]]) -> None:
        raise AssertionError("build() must not publish")


def ingester_metrics() -> set[Metric]:
    publisher = MetricsPublisher(_Recorder(), INGESTER_NAMESPACE, STREAM)
    return {
        metric(INGESTER_NAMESPACE, d["MetricName"], {x["Name"]: x["Value"] for x in d["Dimensions"]})
        # XUsagePercent: once the X source has read X's usage; XComplianceAgeHours: an X ingester's compliance
        # job; DeletionLagP50/P99: once a deletion was applied. Each is published only when it has a figure.
        for d in publisher.build(
            {"x_usage_percent": 0.0, "x_compliance_age_h": 0.0, "deletion_lag_p50_s": 0.0, "deletion_lag_p99_s": 0.0}
        )
    }


def transform_metrics(backend: SentimentBackend, name: str) -> set[Metric]:
    settings = Settings(sentiment_backend=name, emit_metrics=True, metrics_namespace=TRANSFORM_NAMESPACE)
    event = json.loads((EVENTS_DIR / "firehose_basic.json").read_text())
    stream = io.StringIO()
    process_event(event, None, backend=backend, settings=settings, metrics_stream=stream)
    line = json.loads(stream.getvalue())
    return {
        metric(directive["Namespace"], m["Name"], {d: line[d] for d in dimension_set})
        for directive in line["_aws"]["CloudWatchMetrics"]
        for dimension_set in directive["Dimensions"]
        for m in directive["Metrics"]
    }


def aws_metrics() -> set[Metric]:
    return {metric(ns, name, dims) for ns, (_, dims, names) in AWS_METRICS.items() for name in names}


@dataclass(frozen=True)
class Planned:
    backend: str
    plan: dict[str, Any]
    endpoint: str  # the moto server the plan was applied to

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, **MOTO_CREDENTIALS)


@pytest.fixture(scope="module", params=["comprehend", "embedded"])  # vader emits what embedded does
def plan(
    request: pytest.FixtureRequest, moto_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Planned]:
    require_terraform()
    reset_moto(moto_server)
    backend = str(request.param)
    work = tmp_path_factory.mktemp(f"tf-monitoring-{backend}")
    root = work / "root"
    root.mkdir()
    inputs = {**INPUTS, "transform": {**INPUTS["transform"], "sentiment_backend": backend}}
    # The module called as the root module calls it (JSON configuration syntax carries the objects as they are)
    config = {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws"}}},
        "provider": {"aws": {"region": REGION}},
        "module": {"monitoring": {"source": (MODULES_DIR / "monitoring").as_posix(), **inputs}},
    }
    (root / "main.tf.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    services = ["cloudwatch", "iam", "kms", "sns", "sts"]  # iam: the sentiment alert role
    (root / "moto_override.tf").write_text(moto_provider_override(moto_server, services), encoding="utf-8")
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}
    tf = Terraform(root, write_cli_config(work / "cli"), env)
    tf.init()
    tf.run(["plan", "-out=monitoring.tfplan", "-no-color", "-input=false"])
    planned = json.loads(tf.run(["show", "-json", "monitoring.tfplan"]).stdout)
    # The module alone applies, and then plans no change (moto stores alarms, topics, keys and dashboards)
    tf.run(["apply", "-auto-approve", "-no-color", "-input=false", "monitoring.tfplan"])
    again = tf.run(["plan", "-detailed-exitcode", "-no-color", "-input=false"], ok=(0, 2))
    assert again.returncode == 0, again.stdout[-6000:]
    try:
        yield Planned(backend, planned, moto_server)
    finally:
        tf.run(["destroy", "-auto-approve", "-no-color", "-input=false"])


def resources(plan: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    (module,) = plan["planned_values"]["root_module"]["child_modules"]
    return [r for r in module["resources"] if r["type"] == kind]


def alarm_metrics(alarm: dict[str, Any]) -> list[Metric]:
    values = alarm["values"]
    if values["metric_name"]:
        assert not values["metric_query"], alarm["address"]
        return [metric(values["namespace"], values["metric_name"], values["dimensions"])]
    queries = values["metric_query"]
    assert [q for q in queries if q["return_data"]] == [q for q in queries if q["expression"]], alarm["address"]
    return [metric(m["namespace"], m["metric_name"], m["dimensions"]) for q in queries for m in q["metric"]]


def emitted(backend: str) -> set[Metric]:
    source: SentimentBackend = EmbeddedBackend() if backend == "embedded" else ComprehendBackend(StubComprehend())
    return ingester_metrics() | transform_metrics(source, backend) | aws_metrics()


def test_every_alarm_watches_a_metric_that_is_emitted(plan: Planned) -> None:
    backend, planned = plan.backend, plan.plan
    alarms = resources(planned, "aws_cloudwatch_metric_alarm")
    known = emitted(backend)
    for alarm in alarms:
        for m in alarm_metrics(alarm):
            assert m in known, f"{alarm['values']['alarm_name']} watches {m}, which nothing emits"
    names = {a["values"]["alarm_name"].removeprefix("contract-") for a in alarms}
    # Comprehend throttling exists only where there are Comprehend calls to count
    assert ("comprehend-throttling" in names) == (backend == "comprehend")
    assert {"ingester-stream-gap", "ingester-x-usage-high"} <= names  # issue 19: gaps, X's monthly usage
    assert {"ingester-deletions-stuck", "ingester-x-compliance-stale"} <= names  # issue 20: deletions
    assert len(names) == 20 + (backend == "comprehend")


def test_every_dashboard_line_is_an_emitted_metric(plan: Planned) -> None:
    backend, planned = plan.backend, plan.plan
    (dashboard,) = resources(planned, "aws_cloudwatch_dashboard")
    body = json.loads(dashboard["values"]["dashboard_body"])
    known = emitted(backend)
    graphs = [w for w in body["widgets"] if w["type"] == "metric"]
    lines = [line for w in graphs for line in w["properties"]["metrics"]]
    assert len(lines) >= 20
    for line in lines:
        namespace, name, *rest = line[:-1] if isinstance(line[-1], dict) else line
        assert metric(namespace, name, dict(zip(rest[::2], rest[1::2], strict=True))) in known, line
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    alarm_names = sorted(a["values"]["alarm_name"] for a in resources(planned, "aws_cloudwatch_metric_alarm"))
    assert alarm_widget["properties"]["alarms"] == [
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT_ID}:alarm:{name}" for name in alarm_names
    ]


def test_missing_data_and_actions_are_deliberate(plan: Planned) -> None:
    applied = plan.client("cloudwatch").describe_alarms(AlarmNamePrefix="contract-")["MetricAlarms"]
    alarms = {a["AlarmName"].removeprefix("contract-"): a for a in applied}
    assert len(alarms) == len(resources(plan.plan, "aws_cloudwatch_metric_alarm"))
    # Silence is breaching only where the source reports every minute whatever its state.
    breaching = {name for name, a in alarms.items() if a["TreatMissingData"] == "breaching"}
    assert breaching == {"ingester-stream-disconnected", "opensearch-cluster-red"}
    assert {a["TreatMissingData"] for a in alarms.values()} == {"breaching", "notBreaching"}
    # Every alarm notifies the one topic on ALARM and on OK; the topic is encrypted with the module's own key
    (topic,) = {action for a in alarms.values() for action in a["AlarmActions"] if ":sns:" in action}
    assert all(a["OKActions"] == [topic] and topic in a["AlarmActions"] for a in alarms.values())
    attributes = plan.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    key = plan.client("kms").describe_key(KeyId=attributes["KmsMasterKeyId"])["KeyMetadata"]
    assert key["KeyManager"] == "CUSTOMER"
    (subscription,) = plan.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "oncall@example.com")
    # The EC2 actions are on plain metric alarms (CloudWatch refuses them on metric math)
    system, instance = alarms["ingester-system-check-failed"], alarms["ingester-instance-check-failed"]
    assert f"arn:aws:automate:{REGION}:ec2:recover" in system["AlarmActions"]
    assert f"arn:aws:automate:{REGION}:ec2:reboot" in instance["AlarmActions"]
    assert system["MetricName"] == "StatusCheckFailed_System" and not system.get("Metrics")
    # Thresholds follow the inputs: 25 % of a 20 GiB volume, in MiB; 5 one-minute periods; an hour of 5 minutes
    assert alarms["opensearch-free-storage-low"]["Threshold"] == 5120
    disconnected = alarms["ingester-stream-disconnected"]
    assert (disconnected["Period"], disconnected["EvaluationPeriods"], disconnected["DatapointsToAlarm"]) == (60, 5, 5)
    no_posts = alarms["ingester-no-posts"]
    (expression,) = [q for q in no_posts["Metrics"] if q.get("Expression")]
    assert expression["Expression"] == "IF(connected >= 1 AND received <= 0, 1, 0)"
    assert no_posts["EvaluationPeriods"] == 12
    dashboards = plan.client("cloudwatch").list_dashboards()["DashboardEntries"]
    assert [d["DashboardName"] for d in dashboards] == ["contract-pipeline"]
