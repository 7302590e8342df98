"""Apply the OpenSearch side of the pipeline as code: ``python -m scripts.ops.opensearch`` (``make opensearch-setup``).

Steps, each idempotent (GET first, compare, write only on difference; a second run prints ``unchanged`` for every
step and sends no write request):

1. cluster version check (OpenSearch >= 1.0; the ``_plugins`` APIs do not exist on Elasticsearch)
2. ingest pipeline ``_ingest/pipeline/tweets-id``: ``_id`` = ``tweet_id``, so a tweet delivered twice stays one
   document (Firehose sends no document id; docs/opensearch.md, "One document per tweet")
3. composable index template ``_index_template/tweets`` for ``tweets-*``, with ``tweets-id`` as its
   ``index.default_pipeline`` (the pipeline is written first: an index created from the template needs it)
4. ISM policy ``_plugins/_ism/policies/tweets-retention`` (delete after ``retention_days``; ``ism_template`` attaches
   it to new ``tweets-*`` indices; on creation it is also added to existing indices, on update existing indices
   are moved to the new version)
5. security role ``tweets_writer`` and its role mapping: the Firehose role ARN is merged into the backend roles;
   security role ``tweets_deleter`` (delete-by-query on tweets-* only) mapped to the ingester's instance role
   (output ``ingester_role_arn`` or ``--deleter-role-arn``), so its deleter can remove deleted posts
6. security role ``tweets_reader`` (read-only) and the Dashboards users' access: the role signed-in Cognito users
   get (``dashboards_user_role_arn``) plus any ``--reader-backend-role`` / ``--reader-user`` are merged into the
   mappings of ``tweets_reader`` and of the built-in ``kibana_user`` (sign in to and use Dashboards)
7. the negative-spike alert (:mod:`scripts.ops.opensearch.alerting`): the SNS notification channel
   ``tweets-negative-spike-sns`` and the bucket-level monitor ``tweets-negative-spike`` over ``rules``, with the
   thresholds of the Terraform output ``sentiment_alert``; skipped without a topic and role (outputs
   ``monitoring_sns_topic_arn``, ``sentiment_alert_role_arn``: ``monitoring_enabled = false``)
8. Dashboards saved objects (index pattern, visualizations, saved searches, dashboard)

Auth: by default the tool assumes the admin role (output ``opensearch_admin_role_arn``), the domain's master
user, and signs with SigV4; see :mod:`scripts.ops.opensearch.client`. Settings come from flags first, then the
environment, then ``terraform -chdir=TF_DIR output -json``.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scripts.ops.cli_support import add_verbose_argument, parse_tool_args, print_error, tool_parser
from scripts.ops.opensearch import alerting, dashboards
from scripts.ops.opensearch.client import (
    PASSWORD_ENV,
    Auth,
    AuthMode,
    Client,
    OpenSearchError,
    add_auth_arguments,
    check_version,
    choose_auth,
    endpoint_url,
    region_from_endpoint,
)
from scripts.ops.opensearch.resources import (
    DASHBOARDS_ROLE,
    DELETER_ROLE,
    INDEX_PATTERN,
    ISM_POLICY_ID,
    PIPELINE_ID,
    READER_ROLE,
    TEMPLATE_NAME,
    WRITER_ROLE,
    index_template,
    ingest_pipeline,
    is_subset,
    ism_policy,
    normalise_role,
    normalise_template,
    retention_of,
    role,
)
from scripts.ops.tf_outputs import TerraformOutputsError, add_terraform_arguments, resolver_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    endpoint: str
    dashboards_url: str
    auth_mode: AuthMode
    region: str | None
    role_arn: str | None
    username: str | None
    firehose_role_arn: str
    retention_days: int
    deleter_role_arn: str | None = None
    dashboards_user_role_arn: str | None = None
    shards: int | None = None
    replicas: int | None = None
    reader_backend_roles: tuple[str, ...] = ()
    reader_users: tuple[str, ...] = ()
    kibana: bool = False
    skip_dashboards: bool = False
    skip_roles: bool = False
    tenant: str | None = "global"
    timeout: float = 30.0
    alert_topic_arn: str | None = None
    alert_role_arn: str | None = None
    alert_thresholds: alerting.SpikeThresholds = field(default_factory=alerting.SpikeThresholds)
    skip_alert: bool = False
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        resolve = resolver_for(args, env)
        endpoint = endpoint_url(
            resolve.require(args.endpoint, flag="--endpoint", output="opensearch_endpoint", env="OPENSEARCH_ENDPOINT")
        )
        dashboards_url = resolve.get(args.dashboards_url, output=None if args.kibana else "dashboards_url")
        if not dashboards_url:
            dashboards_url = endpoint if args.kibana else f"{endpoint}/_dashboards"
        # a URL pointing into the app (".../_dashboards/app/home") is cut back to the Dashboards base path
        dashboards_url = re.sub(r"(/_dashboards)(/.*)?$", r"\1", str(dashboards_url).rstrip("/"))
        region = resolve.get(args.region, output="aws_region", env="AWS_REGION") or region_from_endpoint(endpoint)
        mode: AuthMode
        role_arn = None
        if args.sigv4:
            mode = "sigv4"
        elif args.username:
            mode = "password"
            if not env.get(PASSWORD_ENV):
                raise OpenSearchError(f"--username needs the password in the environment variable {PASSWORD_ENV}")
        else:
            mode = "assume_role"
            role_arn = resolve.require(
                args.role_arn, flag="--role-arn (or --sigv4, or --username)", output="opensearch_admin_role_arn"
            )
        prefix = resolve.get(None, output="index_name_prefix", default="tweets")
        if prefix != "tweets":
            raise OpenSearchError(
                f"Terraform's index_name_prefix is '{prefix}', but the shipped template, ISM policy, roles and "
                "dashboards target tweets-* (scripts/ops/opensearch/data): keep the Firehose index name 'tweets'"
            )
        firehose_role_arn = (
            ""
            if args.skip_roles
            else resolve.require(args.firehose_role_arn, flag="--firehose-role-arn", output="firehose_role_arn")
        )
        dashboards_role = resolve.get(args.dashboards_user_role_arn, output="dashboards_user_role_arn")
        deleter_role = None if args.skip_roles else resolve.get(args.deleter_role_arn, output="ingester_role_arn")
        retention = resolve.require(args.retention_days, flag="--retention-days", output="retention_days")
        try:
            retention_days = int(retention)
        except (TypeError, ValueError) as exc:
            raise OpenSearchError(f"retention_days must be a whole number of days, got {retention!r}") from exc
        topic = resolve.get(args.alert_topic_arn, output="monitoring_sns_topic_arn")
        alert_role = resolve.get(args.alert_role_arn, output="sentiment_alert_role_arn")
        return cls(
            alert_topic_arn=str(topic) if topic else None,
            alert_role_arn=str(alert_role) if alert_role else None,
            alert_thresholds=alert_thresholds(args, resolve.get(None, output="sentiment_alert") or {}),
            skip_alert=args.skip_alert,
            endpoint=endpoint,
            dashboards_url=str(dashboards_url).rstrip("/"),
            auth_mode=mode,
            region=str(region) if region else None,
            role_arn=str(role_arn) if role_arn else None,
            username=args.username,
            firehose_role_arn=str(firehose_role_arn),
            retention_days=retention_days,
            deleter_role_arn=str(deleter_role) if deleter_role else None,
            dashboards_user_role_arn=str(dashboards_role) if dashboards_role else None,
            shards=args.shards,
            replicas=args.replicas,
            reader_backend_roles=tuple(args.reader_backend_role or ()),
            reader_users=tuple(args.reader_user or ()),
            kibana=args.kibana,
            skip_dashboards=args.skip_dashboards,
            skip_roles=args.skip_roles,
            tenant=None if args.kibana else (args.tenant or None),
            timeout=args.timeout,
            environ=env,
        )

    def auth(self) -> Auth:
        return choose_auth(
            sigv4=self.auth_mode == "sigv4",
            username=self.username if self.auth_mode == "password" else None,
            role_arn=self.role_arn,
            region=self.region,
            environ=self.environ,
        )

    @property
    def reader_backend_roles_all(self) -> tuple[str, ...]:
        """The Dashboards users' role first, then the extra --reader-backend-role values (no duplicates)."""
        first = (self.dashboards_user_role_arn,) if self.dashboards_user_role_arn else ()
        return tuple(dict.fromkeys((*first, *self.reader_backend_roles)))


def alert_thresholds(args: argparse.Namespace, output: Mapping[str, Any]) -> alerting.SpikeThresholds:
    """The alert thresholds: each flag first, then the Terraform output ``sentiment_alert``, then the default."""
    default = alerting.SpikeThresholds()
    window = args.alert_window_minutes or output.get("window_minutes") or default.window_minutes
    percent = args.alert_negative_percent or output.get("negative_percent") or default.negative_percent
    posts = args.alert_min_posts or output.get("min_posts") or default.min_posts
    try:
        return alerting.SpikeThresholds(int(window), float(percent), int(posts))
    except (TypeError, ValueError) as exc:
        raise OpenSearchError(f"sentiment alert thresholds: {exc}") from exc


class Reporter:
    def __init__(self, out: Any = None) -> None:
        self.out = out or sys.stdout
        self.statuses: dict[str, str] = {}

    def step(self, name: str, status: str, detail: str = "") -> None:
        self.statuses[name] = status
        print(f"{name:<34} {status}{f'  ({detail})' if detail else ''}", file=self.out, flush=True)


# --- steps ------------------------------------------------------------------------------------------------------


def replicas_for_cluster(client: Client) -> int | None:
    """0 on a cluster with one data node (the Terraform default), where a replica can never be assigned and every
    daily index would stay yellow; None (the template's 1 replica) otherwise or when the health is unreadable."""
    try:
        health = client.get_json("_cluster/health") or {}
    except OpenSearchError:
        return None
    nodes = health.get("number_of_data_nodes")
    return 0 if isinstance(nodes, int) and nodes == 1 else None


def step_ingest_pipeline(client: Client, report: Reporter) -> None:
    name = f"ingest pipeline {PIPELINE_ID}"
    desired = ingest_pipeline()
    current = (client.get_json(f"_ingest/pipeline/{PIPELINE_ID}") or {}).get(PIPELINE_ID)
    if current is not None and is_subset(desired, current):
        report.step(name, "unchanged", "_id = tweet_id")
        return
    client.request("PUT", f"_ingest/pipeline/{PIPELINE_ID}", json_body=desired)
    report.step(name, "created" if current is None else "updated", "_id = tweet_id")


def step_index_template(client: Client, report: Reporter, settings: Settings) -> None:
    name = f"index template {TEMPLATE_NAME}"
    replicas = settings.replicas if settings.replicas is not None else replicas_for_cluster(client)
    desired = index_template(settings.shards, replicas)
    current = client.get_json(f"_index_template/{TEMPLATE_NAME}")
    existing = None
    for entry in (current or {}).get("index_templates", []):
        if entry.get("name") == TEMPLATE_NAME:
            existing = entry.get("index_template")
    if existing is not None and normalise_template(existing) == normalise_template(desired):
        report.step(
            name, "unchanged", f"{INDEX_PATTERN}, {len(desired['template']['mappings']['properties'])} top-level fields"
        )
        return
    client.request("PUT", f"_index_template/{TEMPLATE_NAME}", json_body=desired)
    replica_note = "; 0 replicas: the cluster has one data node" if replicas == 0 and settings.replicas is None else ""
    report.step(
        name, "created" if existing is None else "updated", f"applies to indices created from now on{replica_note}"
    )


def step_ism_policy(client: Client, report: Reporter, settings: Settings) -> None:
    name = f"ISM policy {ISM_POLICY_ID}"
    desired = ism_policy(settings.retention_days)
    path = f"_plugins/_ism/policies/{ISM_POLICY_ID}"
    current = client.get_json(path)
    retention = f"delete after {settings.retention_days}d"
    if current is None:
        client.request("PUT", path, json_body=desired)
        added = client.request(
            "POST", f"_plugins/_ism/add/{INDEX_PATTERN}", json_body={"policy_id": ISM_POLICY_ID}
        ).json()
        report.step(name, "created", f"{retention}; attached to {added.get('updated_indices', 0)} existing indices")
        return
    if is_subset(desired["policy"], current.get("policy") or {}):
        report.step(name, "unchanged", retention)
        return
    before = retention_of(current.get("policy") or {})
    client.request(
        "PUT",
        path,
        json_body=desired,
        params={"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]},
    )
    moved = client.request(
        "POST", f"_plugins/_ism/change_policy/{INDEX_PATTERN}", json_body={"policy_id": ISM_POLICY_ID}
    ).json()
    report.step(
        name, "updated", f"{retention} (was {before}); {moved.get('updated_indices', 0)} managed indices switched"
    )


def step_role(client: Client, report: Reporter, role_name: str) -> None:
    name = f"security role {role_name}"
    desired = role(role_name)
    current = client.get_json(f"_plugins/_security/api/roles/{role_name}")
    existing = (current or {}).get(role_name)
    if existing is not None and normalise_role(existing) == normalise_role(desired):
        report.step(name, "unchanged")
        return
    client.request("PUT", f"_plugins/_security/api/roles/{role_name}", json_body=desired)
    report.step(name, "created" if existing is None else "updated")


def step_role_mapping(
    client: Client, report: Reporter, role_name: str, backend_roles: Sequence[str], users: Sequence[str] = ()
) -> None:
    """Merge our backend roles/users into the mapping; never drop what an administrator added."""
    name = f"role mapping {role_name}"
    path = f"_plugins/_security/api/rolesmapping/{role_name}"
    current = client.get_json(path)
    existing = (current or {}).get(role_name) or {}
    have_roles = list(existing.get("backend_roles") or [])
    have_users = list(existing.get("users") or [])
    new_roles = [r for r in backend_roles if r not in have_roles]
    new_users = [u for u in users if u not in have_users]
    wanted = ", ".join([*backend_roles, *users])
    if current is not None and not new_roles and not new_users:
        report.step(name, "unchanged", f"includes {wanted}")
        return
    body = {
        "backend_roles": have_roles + new_roles,
        "hosts": list(existing.get("hosts") or []),
        "users": have_users + new_users,
    }
    if existing.get("and_backend_roles"):
        body["and_backend_roles"] = list(existing["and_backend_roles"])
    client.request("PUT", path, json_body=body)
    kept = len(have_roles) + len(have_users)
    report.step(name, "created" if current is None else "updated", f"added {wanted}; kept {kept} existing entries")


def step_dashboards(client: Client, report: Reporter, settings: Settings) -> None:
    flavour = dashboards.KIBANA if settings.kibana else dashboards.OPENSEARCH_DASHBOARDS
    name = f"{'Kibana' if settings.kibana else 'Dashboards'} saved objects"
    if settings.kibana:
        dashboards.check_kibana_version(client)
    objects = dashboards.load_objects()
    status, changed = dashboards.sync(
        client, flavour, objects, dashboards.NDJSON_PATH.read_bytes(), tenant=settings.tenant
    )
    detail = f"{len(objects)} objects" if status == "unchanged" else f"{len(changed)} of {len(objects)} differed"
    report.step(name, status, detail)


def step_alert(client: Client, report: Reporter, settings: Settings) -> None:
    channel_step = f"notification channel {alerting.CHANNEL_ID}"
    monitor_step = f"alert monitor {alerting.MONITOR_NAME}"
    if settings.skip_alert or not (settings.alert_topic_arn and settings.alert_role_arn):
        why = (
            "--skip-alert"
            if settings.skip_alert
            else "no SNS topic and role: outputs monitoring_sns_topic_arn / sentiment_alert_role_arn are empty "
            "(monitoring_enabled = false), or pass --alert-topic-arn and --alert-role-arn"
        )
        report.step(channel_step, "skipped", why)
        report.step(monitor_step, "skipped", why)
        return
    status = alerting.sync_channel(client, settings.alert_topic_arn, settings.alert_role_arn)
    report.step(channel_step, status, f"SNS {settings.alert_topic_arn}")
    report.step(
        monitor_step, alerting.sync_monitor(client, settings.alert_thresholds), settings.alert_thresholds.describe()
    )


def run(settings: Settings, out: Any = None) -> Reporter:
    report = Reporter(out)
    auth = settings.auth()
    client = Client(settings.endpoint, auth, timeout=settings.timeout)
    version = check_version(client.get_json("") or {})
    report.step("cluster", "ok", f"{version} at {settings.endpoint}, {auth.describe()}")
    step_ingest_pipeline(client, report)
    step_index_template(client, report, settings)
    step_ism_policy(client, report, settings)
    if settings.skip_roles:
        report.step("security roles and mappings", "skipped", "--skip-roles")
    else:
        step_role(client, report, WRITER_ROLE)
        step_role_mapping(client, report, WRITER_ROLE, [settings.firehose_role_arn])
        step_role(client, report, DELETER_ROLE)
        if settings.deleter_role_arn:
            step_role_mapping(client, report, DELETER_ROLE, [settings.deleter_role_arn])
        else:
            report.step(
                f"role mapping {DELETER_ROLE}",
                "skipped",
                "no ingester_role_arn output or --deleter-role-arn: deleted posts cannot be removed from OpenSearch",
            )
        step_role(client, report, READER_ROLE)
        readers, users = settings.reader_backend_roles_all, settings.reader_users
        if readers or users:
            # Reading tweets-* is not enough to open Dashboards: the built-in kibana_user role lets a user sign
            # in and keep saved objects. Both mappings get the same principals.
            for role_name in (READER_ROLE, DASHBOARDS_ROLE):
                step_role_mapping(client, report, role_name, readers, users)
        else:
            for role_name in (READER_ROLE, DASHBOARDS_ROLE):
                report.step(
                    f"role mapping {role_name}",
                    "skipped",
                    "no dashboards_user_role_arn output, --dashboards-user-role-arn, --reader-backend-role or "
                    "--reader-user",
                )
    step_alert(client, report, settings)
    if settings.skip_dashboards:
        report.step("Dashboards saved objects", "skipped", "--skip-dashboards")
    else:
        dash = Client(settings.dashboards_url, auth, timeout=settings.timeout)
        step_dashboards(dash, report, settings)
        client.writes += dash.writes
    print(
        f"done: {client.writes} write request(s)" + ("; everything was already in place" if client.writes == 0 else ""),
        file=report.out,
        flush=True,
    )
    return report


def build_parser() -> argparse.ArgumentParser:
    p = tool_parser(
        "python -m scripts.ops.opensearch",
        "Apply index template, ISM retention, Firehose role mapping and Dashboards objects (idempotent).",
    )
    add_terraform_arguments(p)
    p.add_argument("--endpoint", help="domain endpoint (host, or URL with scheme); default: output opensearch_endpoint")
    p.add_argument(
        "--dashboards-url", help="Dashboards base URL; default: output dashboards_url, else <endpoint>/_dashboards"
    )
    add_auth_arguments(p)
    p.add_argument("--region", help="AWS region; default: output aws_region, else parsed from the endpoint")
    p.add_argument("--firehose-role-arn", help="IAM role Firehose delivers with; default: output firehose_role_arn")
    p.add_argument(
        "--deleter-role-arn",
        help="IAM role the ingester's deleter signs with (mapped to tweets_deleter); default: output ingester_role_arn",
    )
    p.add_argument(
        "--dashboards-user-role-arn",
        help="IAM role of signed-in Dashboards (Cognito) users, mapped to tweets_reader and kibana_user; "
        "default: output dashboards_user_role_arn",
    )
    p.add_argument(
        "--retention-days", type=int, help="delete tweets-* indices older than this; default: output retention_days"
    )
    p.add_argument("--shards", type=int, help="primary shards per daily index (template default 1)")
    p.add_argument(
        "--replicas", type=int, help="replicas per daily index (default 1; 0 when the cluster has one data node)"
    )
    p.add_argument(
        "--reader-backend-role",
        action="append",
        help="another backend role (e.g. IAM role ARN) to map to tweets_reader and kibana_user; repeatable",
    )
    p.add_argument(
        "--reader-user", action="append", help="internal user to map to tweets_reader and kibana_user; repeatable"
    )
    p.add_argument(
        "--kibana",
        action="store_true",
        help="import into Kibana 7.10.x (/api, kbn-xsrf) instead of OpenSearch Dashboards",
    )
    p.add_argument(
        "--skip-roles", action="store_true", help="skip security roles/mappings (clusters without the security plugin)"
    )
    p.add_argument(
        "--tenant",
        default="global",
        help="Dashboards tenant for the saved objects (securitytenant header; default global; '' to omit)",
    )
    p.add_argument("--skip-dashboards", action="store_true", help="do not touch the Dashboards saved objects")
    p.add_argument("--skip-alert", action="store_true", help="do not touch the negative-spike channel and monitor")
    p.add_argument(
        "--alert-topic-arn", help="SNS topic of the negative-spike alert; default: output monitoring_sns_topic_arn"
    )
    p.add_argument(
        "--alert-role-arn",
        help="IAM role OpenSearch assumes to publish to that topic; default: output sentiment_alert_role_arn",
    )
    p.add_argument("--alert-window-minutes", type=int, help="alert look-back window; default: output sentiment_alert")
    p.add_argument(
        "--alert-negative-percent", type=float, help="alert when NEGATIVE exceeds this share; default: output"
    )
    p.add_argument("--alert-min-posts", type=int, help="only rules with at least this many posts; default: output")
    p.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds (default 30)")
    add_verbose_argument(p, help="log every HTTP request")
    return p


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    parser = build_parser()
    args = parse_tool_args(parser, argv)
    try:
        run(Settings.from_args(args, environ))
    except (OpenSearchError, TerraformOutputsError, ValueError, BotoCoreError, ClientError) as exc:
        print_error(parser.prog, exc)
        return 1
    return 0
