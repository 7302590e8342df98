"""``python -m scripts.ops.opensearch`` against a fake OpenSearch on 127.0.0.1: requests, idempotence, auth, errors."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
from moto import mock_aws

from scripts.ops.opensearch import setup
from scripts.ops.opensearch.client import LOCAL_HINT, unreachable_hint
from scripts.ops.opensearch.dashboards import NDJSON_PATH, load_objects
from scripts.ops.opensearch.resources import index_template, ingest_pipeline, ism_policy, role
from tests.support.fake_opensearch import FakeOpenSearch, Recorded
from tests.support.net import free_port
from tests.support.paths import REPO_ROOT

ROLE_ARN = "arn:aws:iam::123456789012:role/tweets-firehose"
ADMIN_ROLE_ARN = "arn:aws:iam::123456789012:role/tweet-sentiment-opensearch-admin"
DASHBOARDS_ROLE_ARN = "arn:aws:iam::123456789012:role/tweet-sentiment-dashboards-user"
USER, PASSWORD = "master", "s3cret-Passw0rd!"
STEPS = [
    "ingest pipeline tweets-id",
    "index template tweets",
    "ISM policy tweets-retention",
    "security role tweets_writer",
    "role mapping tweets_writer",
    "security role tweets_deleter",
    "security role tweets_reader",
    "Dashboards saved objects",
]


def run(
    fake: FakeOpenSearch, capsys: pytest.CaptureFixture[str], *extra: str, retention: int = 30
) -> tuple[int, str, str]:
    argv = ["--no-terraform", "--endpoint", fake.url, "--firehose-role-arn", ROLE_ARN,
            "--retention-days", str(retention), *extra]  # fmt: skip
    if not {"--sigv4", "--role-arn"} & set(extra):
        argv += ["--username", USER]
    code = setup.main(argv, environ={"OPENSEARCH_PASSWORD": PASSWORD})
    out, err = capsys.readouterr()
    return code, out, err


def step_status(out: str) -> dict[str, str]:
    statuses = {}
    for line in out.splitlines():
        for step in [
            *STEPS,
            "role mapping tweets_deleter",
            "role mapping tweets_reader",
            "role mapping kibana_user",
            "cluster",
        ]:
            if line.startswith(step + " "):
                statuses[step] = line[len(step) :].split()[0]
    return statuses


def by_path(fake: FakeOpenSearch, method: str, path: str) -> list:
    return [r for r in fake.state.requests if r.method == method and r.path == path]


def test_first_run_creates_everything_with_the_right_requests(fake_os: FakeOpenSearch, capsys) -> None:
    # Given an empty cluster that requires the master user
    fake_os.state.basic_auth = (USER, PASSWORD)
    # When the setup runs
    code, out, err = run(fake_os, capsys)
    # Then every step wrote its object
    assert code == 0, err
    statuses = step_status(out)
    assert statuses["cluster"] == "ok"
    assert [statuses[s] for s in STEPS] == ["created"] * 7 + ["imported"]
    assert statuses["role mapping tweets_deleter"] == "skipped"  # no ingester role given
    assert statuses["role mapping tweets_reader"] == "skipped"
    assert statuses["role mapping kibana_user"] == "skipped"

    expected_auth = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert all(r.header("Authorization") == expected_auth for r in fake_os.state.requests)
    assert PASSWORD not in out + err

    (pipeline,) = by_path(fake_os, "PUT", "/_ingest/pipeline/tweets-id")
    assert pipeline.json() == ingest_pipeline()
    (tmpl,) = by_path(fake_os, "PUT", "/_index_template/tweets")
    assert tmpl.json() == index_template()
    assert tmpl.header("Content-Type") == "application/json"
    # the pipeline exists before the template that names it: an index created in between could not take writes
    assert fake_os.state.requests.index(pipeline) < fake_os.state.requests.index(tmpl)

    (ism,) = by_path(fake_os, "PUT", "/_plugins/_ism/policies/tweets-retention")
    assert ism.json() == ism_policy(30)
    assert ism.json()["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"] == "30d"
    assert ism.json()["policy"]["ism_template"] == [{"index_patterns": ["tweets-*"], "priority": 100}]
    assert "if_seq_no" not in ism.query
    (attach,) = by_path(fake_os, "POST", "/_plugins/_ism/add/tweets-*")
    assert attach.json() == {"policy_id": "tweets-retention"}

    (writer,) = by_path(fake_os, "PUT", "/_plugins/_security/api/roles/tweets_writer")
    assert writer.json()["cluster_permissions"] == ["cluster_composite_ops", "cluster_monitor"]
    assert writer.json()["index_permissions"] == [
        {"index_patterns": ["tweets-*"], "allowed_actions": ["create_index", "manage", "crud"]}
    ]
    (mapping,) = by_path(fake_os, "PUT", "/_plugins/_security/api/rolesmapping/tweets_writer")
    assert mapping.json() == {"backend_roles": [ROLE_ARN], "hosts": [], "users": []}
    (reader,) = by_path(fake_os, "PUT", "/_plugins/_security/api/roles/tweets_reader")
    assert reader.json() == role("tweets_reader")

    (imp,) = by_path(fake_os, "POST", "/_dashboards/api/saved_objects/_import")
    assert imp.query == {"overwrite": ["true"]}
    assert imp.header("osd-xsrf") == "true"
    assert imp.header("securitytenant") == "global"
    assert (imp.header("Content-Type") or "").startswith("multipart/form-data; boundary=")
    assert NDJSON_PATH.read_bytes() in imp.body
    assert len(fake_os.state.saved_objects) == len(load_objects()) == 17
    assert "done: 9 write request(s)" in out  # pipeline, template, ISM + attach, 3 roles, mapping, import


def test_the_deleter_role_may_only_delete_in_tweets_and_is_mapped_to_the_ingester_role(
    fake_os: FakeOpenSearch, capsys
) -> None:
    ingester_role = "arn:aws:iam::123456789012:role/tweets-ingester"
    code, out, err = run(fake_os, capsys, "--deleter-role-arn", ingester_role)
    assert code == 0, err
    assert step_status(out)["role mapping tweets_deleter"] == "created"
    (deleter,) = by_path(fake_os, "PUT", "/_plugins/_security/api/roles/tweets_deleter")
    assert deleter.json() == role("tweets_deleter")
    (grant,) = deleter.json()["index_permissions"]
    assert grant["index_patterns"] == ["tweets-*"]
    # deletes (and the search and scroll a delete-by-query runs), never index, update or manage
    assert all(
        a.startswith(("indices:data/write/delete", "indices:data/write/bulk", "indices:data/read/"))
        for a in grant["allowed_actions"]
    )
    assert not {"crud", "write", "manage", "create_index", "indices:data/write/index"} & set(grant["allowed_actions"])
    (mapping,) = by_path(fake_os, "PUT", "/_plugins/_security/api/rolesmapping/tweets_deleter")
    assert mapping.json() == {"backend_roles": [ingester_role], "hosts": [], "users": []}


def test_one_data_node_gets_no_replicas_so_indices_can_turn_green(fake_os: FakeOpenSearch, capsys) -> None:
    # Given the Terraform default domain: a single data node, where a replica can never be assigned
    fake_os.state.data_nodes = 1
    # When the setup runs without --replicas
    code, out, err = run(fake_os, capsys)
    # Then the template asks for no replicas (else every daily index would stay yellow) and says why
    assert code == 0, err
    (tmpl,) = by_path(fake_os, "PUT", "/_index_template/tweets")
    assert tmpl.json() == index_template(replicas=0)
    assert "0 replicas: the cluster has one data node" in out
    # and a second run is still a no-op
    before = len(fake_os.state.requests)
    assert run(fake_os, capsys)[0] == 0
    assert [r for r in fake_os.state.requests[before:] if r.method != "GET"] == []


def test_explicit_replicas_win_over_the_cluster_size(fake_os: FakeOpenSearch, capsys) -> None:
    fake_os.state.data_nodes = 1
    code, _out, err = run(fake_os, capsys, "--replicas", "1")
    assert code == 0, err
    (tmpl,) = by_path(fake_os, "PUT", "/_index_template/tweets")
    assert tmpl.json()["template"]["settings"]["index"]["number_of_replicas"] == 1
    assert not by_path(fake_os, "GET", "/_cluster/health")


def test_second_run_changes_nothing_and_says_unchanged(fake_os: FakeOpenSearch, capsys) -> None:
    assert run(fake_os, capsys)[0] == 0
    before = len(fake_os.state.requests)

    code, out, err = run(fake_os, capsys)

    assert code == 0, err
    second = fake_os.state.requests[before:]
    assert [r for r in second if r.method != "GET"] == []
    statuses = step_status(out)
    assert [statuses[s] for s in STEPS] == ["unchanged"] * len(STEPS)
    assert "done: 0 write request(s); everything was already in place" in out


def test_a_changed_object_is_written_again(fake_os: FakeOpenSearch, capsys) -> None:
    # Given a completed setup where someone then changed the template and a visualization by hand
    assert run(fake_os, capsys)[0] == 0
    fake_os.state.templates["tweets"]["template"]["mappings"]["properties"]["lang"] = {"type": "text"}
    fake_os.state.pipelines["tweets-id"]["processors"][-1]["set"]["value"] = "{{{_ingest.timestamp}}}"
    vis = fake_os.state.saved_objects[("visualization", "tweets-sentiment-share")]
    vis["attributes"]["visState"] = json.dumps({**json.loads(vis["attributes"]["visState"]), "type": "line"})
    before = len(fake_os.state.requests)
    # When it runs again
    code, out, _ = run(fake_os, capsys)
    # Then exactly those steps write; the rest stay unchanged
    assert code == 0
    statuses = step_status(out)
    assert statuses["index template tweets"] == "updated"
    assert statuses["ingest pipeline tweets-id"] == "updated"
    assert statuses["Dashboards saved objects"] == "imported"
    assert "visualization/tweets-sentiment-share" in out or "1 of 17 differed" in out
    assert statuses["ISM policy tweets-retention"] == "unchanged"
    writes = [r.path for r in fake_os.state.requests[before:] if r.method != "GET"]
    assert writes == [
        "/_ingest/pipeline/tweets-id",
        "/_index_template/tweets",
        "/_dashboards/api/saved_objects/_import",
    ]
    assert fake_os.state.templates["tweets"] == index_template()
    assert fake_os.state.pipelines["tweets-id"] == ingest_pipeline()


def test_retention_change_updates_the_policy_with_seq_no_and_moves_existing_indices(fake_os, capsys) -> None:
    assert run(fake_os, capsys, retention=30)[0] == 0
    seq_no = fake_os.state.ism["tweets-retention"]["_seq_no"]

    code, out, err = run(fake_os, capsys, retention=7)

    assert code == 0, err
    puts = by_path(fake_os, "PUT", "/_plugins/_ism/policies/tweets-retention")
    assert len(puts) == 2
    assert puts[1].query == {"if_seq_no": [str(seq_no)], "if_primary_term": ["1"]}
    assert puts[1].json()["policy"]["states"][0]["transitions"][0]["conditions"]["min_index_age"] == "7d"
    assert len(by_path(fake_os, "POST", "/_plugins/_ism/change_policy/tweets-*")) == 1
    assert "delete after 7d (was 30d)" in out
    assert step_status(out)["ISM policy tweets-retention"] == "updated"


def test_role_mapping_merges_with_existing_backend_roles_and_users(fake_os: FakeOpenSearch, capsys) -> None:
    # Given an administrator already mapped another role and a user to tweets_writer
    fake_os.state.mappings["tweets_writer"] = {"backend_roles": ["arn:aws:iam::123456789012:role/other"],
                                               "users": ["ops"], "hosts": []}  # fmt: skip
    code, out, _ = run(fake_os, capsys)
    assert code == 0
    (mapping,) = by_path(fake_os, "PUT", "/_plugins/_security/api/rolesmapping/tweets_writer")
    assert mapping.json() == {
        "backend_roles": ["arn:aws:iam::123456789012:role/other", ROLE_ARN],
        "hosts": [],
        "users": ["ops"],
    }
    assert "kept 2 existing entries" in out


def test_reader_role_is_mapped_when_asked(fake_os: FakeOpenSearch, capsys) -> None:
    viewer = "arn:aws:iam::123456789012:role/viewers"
    code, out, _ = run(fake_os, capsys, "--reader-backend-role", viewer, "--reader-user", "alice")
    assert code == 0
    # Reading tweets-* and signing in to Dashboards go together: both mappings get the same principals.
    for role_name in ("tweets_reader", "kibana_user"):
        (mapping,) = by_path(fake_os, "PUT", f"/_plugins/_security/api/rolesmapping/{role_name}")
        assert mapping.json() == {"backend_roles": [viewer], "hosts": [], "users": ["alice"]}
        assert step_status(out)[f"role mapping {role_name}"] == "created"


def test_dashboards_users_role_gets_read_and_dashboards_access(fake_os: FakeOpenSearch, capsys) -> None:
    # Given a domain where an administrator already mapped someone to the built-in kibana_user role
    fake_os.state.mappings["kibana_user"] = {"backend_roles": ["arn:aws:iam::123456789012:role/ops"],
                                             "users": [], "hosts": []}  # fmt: skip
    # When the setup runs with the role Cognito gives signed-in Dashboards users
    code, out, err = run(fake_os, capsys, "--dashboards-user-role-arn", DASHBOARDS_ROLE_ARN)
    # Then that role reads tweets-* and may use Dashboards; nothing else is granted, nothing is dropped
    assert code == 0, err
    (reader,) = by_path(fake_os, "PUT", "/_plugins/_security/api/rolesmapping/tweets_reader")
    assert reader.json() == {"backend_roles": [DASHBOARDS_ROLE_ARN], "hosts": [], "users": []}
    (dashboards,) = by_path(fake_os, "PUT", "/_plugins/_security/api/rolesmapping/kibana_user")
    assert dashboards.json() == {
        "backend_roles": ["arn:aws:iam::123456789012:role/ops", DASHBOARDS_ROLE_ARN],
        "hosts": [],
        "users": [],
    }
    assert fake_os.state.roles["tweets_reader"]["index_permissions"] == [
        {"index_patterns": ["tweets-*"],
         "allowed_actions": ["read", "indices:admin/mappings/get", "indices:admin/resolve/index"]}
    ]  # fmt: skip
    mapped = {name for name, m in fake_os.state.mappings.items() if DASHBOARDS_ROLE_ARN in m["backend_roles"]}
    assert mapped == {"tweets_reader", "kibana_user"}
    assert step_status(out)["role mapping kibana_user"] == "updated"
    # and a second run finds both mappings in place
    before = len(fake_os.state.requests)
    code, out, _ = run(fake_os, capsys, "--dashboards-user-role-arn", DASHBOARDS_ROLE_ARN)
    assert code == 0
    assert [r for r in fake_os.state.requests[before:] if r.method != "GET"] == []
    assert step_status(out)["role mapping kibana_user"] == "unchanged"


def test_dashboards_users_role_comes_from_terraform(fake_os: FakeOpenSearch, capsys, monkeypatch) -> None:
    from scripts.ops import tf_outputs

    monkeypatch.setattr(tf_outputs, "read_outputs", lambda tf_dir: {"dashboards_user_role_arn": DASHBOARDS_ROLE_ARN})
    code = setup.main(["--tf-dir", "anything", "--endpoint", fake_os.url, "--username", USER,
                       "--firehose-role-arn", ROLE_ARN, "--retention-days", "3", "--skip-dashboards"],
                      environ={"OPENSEARCH_PASSWORD": PASSWORD})  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert DASHBOARDS_ROLE_ARN in fake_os.state.mappings["kibana_user"]["backend_roles"]
    assert DASHBOARDS_ROLE_ARN in fake_os.state.mappings["tweets_reader"]["backend_roles"]


def test_sigv4_signs_every_request(fake_os: FakeOpenSearch, capsys) -> None:
    code, _out, err = run(fake_os, capsys, "--sigv4", "--region", "eu-west-1")
    assert code == 0, err
    assert fake_os.state.requests
    for r in fake_os.state.requests:
        authz = r.header("Authorization") or ""
        assert authz.startswith("AWS4-HMAC-SHA256 Credential=testing/"), (r.path, authz)
        assert "/eu-west-1/es/aws4_request" in authz
        assert "SignedHeaders=" in authz and "host" in authz
        assert r.header("X-Amz-Date")
        assert r.header("X-Amz-Security-Token") == "testing"
        assert signature_is_valid(r, fake_os.url, "eu-west-1"), r.path
    (imp,) = by_path(fake_os, "POST", "/_dashboards/api/saved_objects/_import")
    assert imp.header("osd-xsrf") == "true"


def signature_is_valid(r: Recorded, base_url: str, region: str) -> bool:
    """Recompute the SigV4 signature of the request as received (method, path, query, signed headers, body)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authz = r.header("Authorization") or ""
    signed = authz.split("SignedHeaders=")[1].split(",")[0].split(";")
    query = "&".join(f"{k}={v}" for k, values in r.query.items() for v in values)
    url = f"{base_url}{r.path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=r.method, url=url, data=r.body, headers={h: r.header(h) for h in signed})
    signer = SigV4Auth(Credentials("testing", "testing", "testing"), "es", region)
    request.context["timestamp"] = r.header("X-Amz-Date")
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return authz.endswith(f"Signature={expected}")


def test_kibana_flag_uses_api_path_and_kbn_xsrf(fake_os: FakeOpenSearch, capsys) -> None:
    code, _out, err = run(fake_os, capsys, "--kibana", "--dashboards-url", fake_os.url)
    assert code == 0, err
    (imp,) = by_path(fake_os, "POST", "/api/saved_objects/_import")
    assert imp.header("kbn-xsrf") == "true"
    assert imp.header("osd-xsrf") is None
    assert imp.header("securitytenant") is None
    assert by_path(fake_os, "GET", "/api/status")
    assert by_path(fake_os, "POST", "/_dashboards/api/saved_objects/_import") == []


def test_old_kibana_is_a_version_mismatch(fake_os: FakeOpenSearch, capsys) -> None:
    fake_os.state.kibana_version = "7.9.3"
    code, _, err = run(fake_os, capsys, "--kibana", "--dashboards-url", fake_os.url)
    assert code == 1
    assert "found Kibana 7.9.3" in err and ">= 7.10" in err


@mock_aws
def test_default_auth_assumes_the_admin_role_and_signs_as_it(fake_os: FakeOpenSearch, capsys, monkeypatch) -> None:
    from scripts.ops import tf_outputs

    # Given a deployed stack whose outputs name the admin role (the master user), and caller credentials
    monkeypatch.setattr(tf_outputs, "read_outputs", lambda tf_dir: {"opensearch_admin_role_arn": ADMIN_ROLE_ARN})
    # When the setup runs with no auth flag at all
    code = setup.main(["--tf-dir", "anything", "--endpoint", fake_os.url, "--firehose-role-arn", ROLE_ARN,
                       "--retention-days", "3", "--region", "us-east-1"], environ={})  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    # Then it assumed the admin role with STS and every request is signed with that session's credentials,
    # never with the caller's own (testing) key and never with basic auth
    access_keys = set()
    for r in fake_os.state.requests:
        authz = r.header("Authorization") or ""
        assert authz.startswith("AWS4-HMAC-SHA256 Credential="), (r.path, authz)
        assert "/us-east-1/es/aws4_request" in authz
        access_keys.add(authz.split("Credential=")[1].split("/")[0])
    (access_key,) = access_keys
    assert access_key != "testing"
    token = {r.header("X-Amz-Security-Token") for r in fake_os.state.requests}
    assert len(token) == 1 and token != {"testing"}
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id=access_key,
                       aws_secret_access_key="unused", aws_session_token=token.pop())  # fmt: skip
    who = sts.get_caller_identity()["Arn"]
    assert who.startswith("arn:aws:sts::123456789012:assumed-role/tweet-sentiment-opensearch-admin/")
    assert f"SigV4 (IAM) as {who} (assumed admin role)" in out


def test_a_refused_assume_role_names_the_role_and_the_fix(fake_os: FakeOpenSearch, capsys) -> None:
    from moto.core import set_initial_no_auth_action_count

    # Given credentials STS refuses (moto with IAM authorisation on and no such user)
    @mock_aws
    @set_initial_no_auth_action_count(0)
    def refused() -> tuple[int, str, str]:
        return run(fake_os, capsys, "--role-arn", ADMIN_ROLE_ARN, "--region", "us-east-1")

    code, _out, err = refused()
    # Then nothing is sent to the cluster and the message says which role and what is missing
    assert code == 1
    assert f"cannot assume the OpenSearch admin role {ADMIN_ROLE_ARN}" in err
    assert "sts:AssumeRole" in err and "opensearch_admin_principal_arns" in err
    assert fake_os.state.requests == []


def test_auth_flags_are_mutually_exclusive(fake_os: FakeOpenSearch, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        setup.main(["--no-terraform", "--endpoint", fake_os.url, "--sigv4", "--role-arn", ADMIN_ROLE_ARN])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert fake_os.state.requests == []


def test_no_role_and_no_terraform_names_the_flags(fake_os: FakeOpenSearch, capsys) -> None:
    code = setup.main(["--no-terraform", "--endpoint", fake_os.url, "--firehose-role-arn", ROLE_ARN,
                       "--retention-days", "3"], environ={})  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert "--role-arn (or --sigv4, or --username)" in err and "opensearch_admin_role_arn" in err
    assert fake_os.state.requests == []


def test_401_names_the_user_but_never_the_password(fake_os: FakeOpenSearch, capsys) -> None:
    fake_os.state.basic_auth = (USER, "another-password")
    code, out, err = run(fake_os, capsys)
    assert code == 1
    assert "HTTP 401" in err
    assert f"HTTP basic auth as user '{USER}'" in err
    assert "OPENSEARCH_PASSWORD" in err
    assert PASSWORD not in out + err
    assert fake_os.state.writes() == []


@mock_aws
def test_403_with_sigv4_names_the_iam_principal(fake_os: FakeOpenSearch, capsys) -> None:
    fake_os.state.force_status = 403
    code, _, err = run(fake_os, capsys, "--sigv4", "--region", "us-east-1")
    assert code == 1
    assert "HTTP 403" in err
    assert "SigV4 (IAM) as arn:aws:sts::123456789012:" in err or "SigV4 (IAM) as arn:aws:iam::123456789012:" in err
    assert "Map this IAM principal" in err


def test_unreachable_local_cluster_points_at_the_local_cluster_not_aws(capsys) -> None:
    # Given nothing listening on a loopback port (a local cluster that is not started, the demo's --opensearch-url)
    port = free_port()
    code = setup.main(
        ["--no-terraform", "--endpoint", f"http://127.0.0.1:{port}", "--firehose-role-arn", ROLE_ARN,
         "--retention-days", "7", "--username", USER, "--timeout", "5"],
        environ={"OPENSEARCH_PASSWORD": PASSWORD},
    )  # fmt: skip
    err = capsys.readouterr().err
    # Then the message is about that local cluster, not about an AWS allow-list or VPC
    assert code == 1
    assert "connection refused" in err
    assert "local OpenSearch running" in err and "make demo-opensearch" in err
    assert "allow-list" not in err and "VPC" not in err


@pytest.mark.parametrize(
    ("url", "local"),
    [("http://localhost:9200", True), ("http://127.0.0.1:9200", True), ("http://[::1]:9200", True),
     ("https://search-tweets-abc.eu-west-1.es.amazonaws.com", False), ("https://10.0.3.7", False)],
)  # fmt: skip
def test_unreachable_hint_names_the_local_cluster_or_the_domains_access_policy(url: str, local: bool) -> None:
    hint = unreachable_hint(url)
    assert (hint == LOCAL_HINT) is local
    if not local:
        # The variable it names is the one Terraform really has.
        assert "allow-list" in hint and "VPC" in hint and "dashboards_allowed_cidrs" in hint
        assert 'variable "dashboards_allowed_cidrs"' in (REPO_ROOT / "terraform" / "variables.tf").read_text()


def test_elasticsearch_is_a_version_mismatch(fake_os: FakeOpenSearch, capsys) -> None:
    fake_os.state.version = {"number": "7.10.2", "build_flavor": "oss"}
    code, _, err = run(fake_os, capsys)
    assert code == 1
    assert "version mismatch: found elasticsearch 7.10.2, need OpenSearch >= 1.0" in err
    assert fake_os.state.writes() == []


def test_missing_settings_name_the_flag_and_the_terraform_output(capsys) -> None:
    code = setup.main(["--tf-dir", "/nonexistent", "--username", "u"], environ={"OPENSEARCH_PASSWORD": "p"})
    err = capsys.readouterr().err
    assert code == 1
    assert "--endpoint" in err and "opensearch_endpoint" in err


def test_username_without_password_env_is_refused(fake_os: FakeOpenSearch, capsys) -> None:
    code = setup.main(["--no-terraform", "--endpoint", fake_os.url, "--username", "u", "--firehose-role-arn", ROLE_ARN,
                       "--retention-days", "3"], environ={})  # fmt: skip
    assert code == 1
    assert "OPENSEARCH_PASSWORD" in capsys.readouterr().err
    assert fake_os.state.requests == []


def test_skip_roles_sends_nothing_to_the_security_api(fake_os: FakeOpenSearch, capsys) -> None:
    code = setup.main(["--no-terraform", "--endpoint", fake_os.url, "--username", USER, "--retention-days", "3",
                       "--skip-roles"], environ={"OPENSEARCH_PASSWORD": PASSWORD})  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "security roles and mappings         skipped" in out or "skipped  (--skip-roles)" in out
    assert not [r for r in fake_os.state.requests if "_security" in r.path]
    assert fake_os.state.templates and fake_os.state.ism


def test_missing_security_plugin_suggests_skip_roles(fake_os: FakeOpenSearch, capsys) -> None:
    # the fake answers unknown paths with 400 like OpenSearch's "no handler found for uri"
    fake_os.state.unknown_paths = ("_security",)
    code, _, err = run(fake_os, capsys)
    assert code == 1
    assert "pass --skip-roles" in err


def test_dashboards_url_into_the_app_is_cut_back_to_the_base(fake_os: FakeOpenSearch, capsys) -> None:
    code, _, err = run(fake_os, capsys, "--dashboards-url", f"{fake_os.url}/_dashboards/app/home#/")
    assert code == 0, err
    assert len(by_path(fake_os, "POST", "/_dashboards/api/saved_objects/_import")) == 1


def test_a_different_index_prefix_in_terraform_is_refused(fake_os: FakeOpenSearch, capsys, monkeypatch) -> None:
    from scripts.ops import tf_outputs

    monkeypatch.setattr(tf_outputs, "read_outputs", lambda tf_dir: {"index_name_prefix": "posts"})
    code = setup.main(["--tf-dir", "anything", "--endpoint", fake_os.url, "--username", USER,
                       "--firehose-role-arn", ROLE_ARN, "--retention-days", "3"],
                      environ={"OPENSEARCH_PASSWORD": PASSWORD})  # fmt: skip
    assert code == 1
    assert "index_name_prefix is 'posts'" in capsys.readouterr().err
    assert fake_os.state.requests == []


@pytest.mark.parametrize(
    ("refusal", "says"),
    [
        ("forbidden", "OpenSearch Dashboards refused the signed saved-objects request (HTTP 403); "),
        ("sign_in", "OpenSearch Dashboards answered GET api/saved_objects/index-pattern/tweets-index-pattern with a "
                    "sign-in page (redirected to "),
    ],
)  # fmt: skip
def test_a_dashboards_refusal_is_one_line_naming_the_manual_import(
    fake_os: FakeOpenSearch, capsys, refusal: str, says: str
) -> None:
    # Given a domain whose Dashboards does not let the signed request through (Cognito sign-in in front of it)
    fake_os.state.dashboards_refusal = refusal
    # When the setup reaches the saved objects
    code, out, err = run(fake_os, capsys)
    # Then the steps before it are done, and the failure is one line that says how to import by hand
    assert code == 1
    assert step_status(out)["index template tweets"] in {"created", "unchanged"}
    (line,) = err.splitlines()
    assert line.startswith("python -m scripts.ops.opensearch: " + says), line
    assert line.endswith(
        "import scripts/ops/opensearch/data/dashboards.ndjson by hand: sign in to OpenSearch Dashboards, Dashboards "
        "Management > Saved objects > Import, choose the file, keep 'Automatically overwrite conflicts'; then rerun "
        "with --skip-dashboards"
    )
    assert not fake_os.state.saved_objects
