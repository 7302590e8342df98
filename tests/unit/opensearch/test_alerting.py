"""The negative-spike alert: thresholds, the monitor's condition, and its idempotent setup against the fake."""

from __future__ import annotations

import re

import pytest

from scripts.ops.opensearch import alerting, setup
from tests.support.fake_opensearch import FakeOpenSearch, alerting_stored

ROLE_ARN = "arn:aws:iam::123456789012:role/tweets-firehose"
TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:tweet-sentiment-alarms"
ALERT_ROLE_ARN = "arn:aws:iam::123456789012:role/tweet-sentiment-opensearch-alerts"
CHANNEL_PATH = f"/_plugins/_notifications/configs/{alerting.CHANNEL_ID}"


def run(fake: FakeOpenSearch, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    argv = ["--no-terraform", "--endpoint", fake.url, "--username", "master", "--firehose-role-arn", ROLE_ARN,
            "--retention-days", "30", "--skip-dashboards", *extra]  # fmt: skip
    code = setup.main(argv, environ={"OPENSEARCH_PASSWORD": "pw"})
    out, err = capsys.readouterr()
    return code, out, err


ALERT = ("--alert-topic-arn", TOPIC_ARN, "--alert-role-arn", ALERT_ROLE_ARN)


def status(out: str, step: str) -> str:
    (line,) = [line for line in out.splitlines() if line.startswith(step + " ")]
    return line[len(step) :].split()[0]


def fires(thresholds: alerting.SpikeThresholds, posts: int, negative: int) -> bool:
    """Evaluate the trigger's Painless condition for one bucket (it uses only ``&&``, ``>=``, ``>``, ``*``)."""
    source = alerting.trigger_condition(thresholds)
    assert re.fullmatch(r"[\w. ><=&*()+-]+", source), source
    expression = source.replace("&&", "and").replace("params._count", str(posts))
    return bool(eval(expression.replace("params.negative", str(negative))))  # our own arithmetic, checked above


@pytest.mark.parametrize(
    ("posts", "negative", "expected"),
    [(20, 9, True), (20, 8, False), (19, 19, False), (1000, 401, True), (1000, 400, False), (0, 0, False)],
)
def test_a_rule_fires_above_the_share_with_enough_posts(posts: int, negative: int, expected: bool) -> None:
    # 40 % of at least 20 posts: 9 of 20 is 45 %, 8 of 20 exactly 40 % (not above), 19 posts too few however negative
    assert fires(alerting.SpikeThresholds(15, 40, 20), posts, negative) is expected


@pytest.mark.parametrize(
    ("window", "percent", "posts", "message"),
    [(4, 40, 20, "window"), (1441, 40, 20, "window"), (15, 0, 20, "share"), (15, 100, 20, "share"),
     (15, 40, 0, "posts")],
)  # fmt: skip
def test_thresholds_outside_their_limits_are_refused(window: int, percent: float, posts: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        alerting.SpikeThresholds(window, percent, posts)


def test_the_monitor_looks_back_over_the_window_per_rule_and_notifies_the_channel_once_per_spike() -> None:
    body = alerting.monitor(alerting.SpikeThresholds(30, 25, 50))
    assert body["monitor_type"] == "bucket_level_monitor"
    search = body["inputs"][0]["search"]
    assert search["indices"] == ["tweets-*"]
    (window, scored) = search["query"]["query"]["bool"]["filter"]
    # on when the ingester received each post: a drained backlog, a replay or a skewed author clock still alerts
    assert list(window["range"]) == ["received_at"]
    assert window["range"]["received_at"]["from"] == "{{period_end}}||-30m"
    assert window["range"]["received_at"]["to"] == "{{period_end}}"
    assert scored == {"exists": {"field": "sentiment", "boost": 1.0}}  # the share is of scored posts
    composite = search["query"]["aggregations"]["by_rule"]
    assert composite["composite"]["sources"][0]["rule"]["terms"]["field"] == "rules"
    trigger = body["triggers"][0]["bucket_level_trigger"]
    assert trigger["condition"]["parent_bucket_path"] == "by_rule"
    assert trigger["condition"]["buckets_path"] == {"_count": "_count", "negative": "negative>_count"}
    (action,) = trigger["actions"]
    assert action["destination_id"] == alerting.CHANNEL_ID
    assert action["action_execution_policy"]["action_execution_scope"]["per_alert"]["actionable_alerts"] == ["NEW"]
    assert "25 %" in action["message_template"]["source"] and "{{bucket_keys}}" in action["message_template"]["source"]


def test_the_monitor_is_sent_in_the_form_the_alerting_plugin_stores() -> None:
    # else every rerun would find a difference and rewrite it; the fake parses queries as the plugin does
    body = alerting.monitor(alerting.SpikeThresholds())
    from scripts.ops.opensearch.resources import is_subset

    assert is_subset(body, alerting_stored(body))
    shorthand = {**body, "inputs": [{"search": {"indices": ["tweets-*"], "query": {
        "query": {"bool": {"filter": {"range": {"received_at": {"gte": "{{period_end}}||-15m"}}}}}}}}]}  # fmt: skip
    assert not is_subset(shorthand, alerting_stored(shorthand))


def test_setup_creates_the_channel_and_monitor_then_a_rerun_writes_nothing(fake_os: FakeOpenSearch, capsys) -> None:
    # Given an empty cluster, when the setup runs with the topic and role Terraform made
    code, out, err = run(fake_os, capsys, *ALERT)
    # Then it created an SNS channel with a fixed id and a monitor that notifies it
    assert code == 0, err
    assert status(out, f"notification channel {alerting.CHANNEL_ID}") == "created"
    assert status(out, f"alert monitor {alerting.MONITOR_NAME}") == "created"
    stored = fake_os.state.notification_configs[alerting.CHANNEL_ID]["config"]
    assert stored["config_type"] == "sns"
    assert stored["sns"] == {"topic_arn": TOPIC_ARN, "role_arn": ALERT_ROLE_ARN}
    ((monitor_id, monitor),) = fake_os.state.monitors.items()
    assert monitor["monitor"]["name"] == alerting.MONITOR_NAME
    trigger = monitor["monitor"]["triggers"][0]["bucket_level_trigger"]
    assert trigger["actions"][0]["destination_id"] == alerting.CHANNEL_ID
    assert "params._count >= 20" in trigger["condition"]["script"]["source"]  # the default thresholds
    # And a second run finds both in place and sends no write at all
    before = len(fake_os.state.requests)
    code, out, err = run(fake_os, capsys, *ALERT)
    assert code == 0, err
    assert [r for r in fake_os.state.requests[before:] if r.method != "GET"] == []
    assert status(out, f"notification channel {alerting.CHANNEL_ID}") == "unchanged"
    assert status(out, f"alert monitor {alerting.MONITOR_NAME}") == "unchanged"
    assert "done: 0 write request(s)" in out
    assert list(fake_os.state.monitors) == [monitor_id]


def test_a_changed_threshold_updates_the_same_monitor_with_its_seq_no(fake_os: FakeOpenSearch, capsys) -> None:
    assert run(fake_os, capsys, *ALERT)[0] == 0
    ((monitor_id, before),) = fake_os.state.monitors.items()
    seq_no = before["_seq_no"]
    first = len(fake_os.state.requests)

    code, out, err = run(fake_os, capsys, *ALERT, "--alert-negative-percent", "55", "--alert-window-minutes", "60")

    assert code == 0, err
    writes = [r for r in fake_os.state.requests[first:] if r.method != "GET"]
    assert [(r.method, r.path) for r in writes] == [("PUT", f"/_plugins/_alerting/monitors/{monitor_id}")]
    assert writes[0].query == {"if_seq_no": [str(seq_no)], "if_primary_term": ["1"]}
    assert status(out, f"alert monitor {alerting.MONITOR_NAME}") == "updated"
    assert status(out, f"notification channel {alerting.CHANNEL_ID}") == "unchanged"
    after = fake_os.state.monitors[monitor_id]["monitor"]
    assert "55 * params._count" in after["triggers"][0]["bucket_level_trigger"]["condition"]["script"]["source"]
    assert after["inputs"][0]["search"]["query"]["query"]["bool"]["filter"][0]["range"]["received_at"]["from"] == (
        "{{period_end}}||-60m"
    )
    assert len(fake_os.state.monitors) == 1


def test_a_new_topic_updates_the_channel_in_place(fake_os: FakeOpenSearch, capsys) -> None:
    assert run(fake_os, capsys, *ALERT)[0] == 0
    other = "arn:aws:sns:eu-west-1:123456789012:another-topic"
    code, out, _ = run(fake_os, capsys, "--alert-topic-arn", other, "--alert-role-arn", ALERT_ROLE_ARN)
    assert code == 0
    assert status(out, f"notification channel {alerting.CHANNEL_ID}") == "updated"
    (put,) = [r for r in fake_os.state.requests if r.method == "PUT" and r.path == CHANNEL_PATH]
    assert put.json()["config"]["sns"]["topic_arn"] == other
    assert status(out, f"alert monitor {alerting.MONITOR_NAME}") == "unchanged"


def test_thresholds_come_from_the_terraform_output(fake_os: FakeOpenSearch, capsys, monkeypatch) -> None:
    from scripts.ops import tf_outputs

    outputs = {"monitoring_sns_topic_arn": TOPIC_ARN, "sentiment_alert_role_arn": ALERT_ROLE_ARN,
               "sentiment_alert": {"window_minutes": 10, "negative_percent": 35, "min_posts": 50}}  # fmt: skip
    monkeypatch.setattr(tf_outputs, "read_outputs", lambda tf_dir: outputs)
    argv = ["--tf-dir", "anything", "--endpoint", fake_os.url, "--username", "u", "--firehose-role-arn", ROLE_ARN,
            "--retention-days", "3", "--skip-dashboards"]  # fmt: skip
    code = setup.main(argv, environ={"OPENSEARCH_PASSWORD": "p"})
    out = capsys.readouterr().out
    assert code == 0
    assert "NEGATIVE > 35 % of >= 50 posts in 10 min" in out
    assert fake_os.state.notification_configs[alerting.CHANNEL_ID]["config"]["sns"]["topic_arn"] == TOPIC_ARN


def test_without_a_topic_the_alert_is_skipped_and_says_why(fake_os: FakeOpenSearch, capsys) -> None:
    code, out, _ = run(fake_os, capsys)
    assert code == 0
    assert status(out, f"alert monitor {alerting.MONITOR_NAME}") == "skipped"
    assert "monitoring_enabled = false" in out
    assert not [r for r in fake_os.state.requests if "_alerting" in r.path or "_notifications" in r.path]


def test_a_topic_arn_the_plugin_refuses_fails_with_its_reason(fake_os: FakeOpenSearch, capsys) -> None:
    code, _, err = run(
        fake_os, capsys, "--alert-topic-arn", "tweet-sentiment-alarms", "--alert-role-arn", ALERT_ROLE_ARN
    )
    assert code == 1
    assert "Invalid AWS SNS topic ARN" in err
    assert fake_os.state.monitors == {}


def test_two_monitors_with_our_name_are_not_guessed_between(fake_os: FakeOpenSearch, capsys) -> None:
    assert run(fake_os, capsys, *ALERT)[0] == 0
    (only,) = fake_os.state.monitors.values()
    fake_os.state.monitors["copy-made-by-hand"] = {**only, "_id": "copy-made-by-hand"}
    code, _, err = run(fake_os, capsys, *ALERT)
    assert code == 1
    assert "2 monitors are called 'tweets-negative-spike'" in err and "DELETE _plugins/_alerting/monitors" in err


def test_the_terraform_variable_has_the_same_defaults_and_limits_as_the_setup() -> None:
    # Two copies (Terraform validates at plan time, the setup when it reads flags or outputs); they must agree
    from tests.support.paths import REPO_ROOT

    text = (REPO_ROOT / "terraform" / "variables.tf").read_text()
    block = text.split('variable "sentiment_alert" {', 1)[1].split("\n}\n", 1)[0]
    defaults = dict(re.findall(r"(\w+)\s*=\s*optional\(number, ([\d.]+)\)", block))
    default = alerting.SpikeThresholds()
    assert defaults == {
        "window_minutes": str(default.window_minutes),
        "negative_percent": f"{default.negative_percent:g}",
        "min_posts": str(default.min_posts),
    }
    assert f"window_minutes >= {alerting.SCHEDULE_MINUTES} " in block and "window_minutes <= 1440" in block
    assert "negative_percent > 0" in block and "negative_percent < 100" in block and "min_posts >= 1" in block
    assert f"every {alerting.SCHEDULE_MINUTES} minutes" in block


def test_a_monitor_windowed_on_created_at_by_an_older_setup_is_moved_to_received_at(
    fake_os: FakeOpenSearch, capsys
) -> None:
    # Given the monitor an older setup stored, its window on the author's clock (created_at)
    assert run(fake_os, capsys, *ALERT)[0] == 0
    ((monitor_id, stored),) = fake_os.state.monitors.items()
    window = stored["monitor"]["inputs"][0]["search"]["query"]["query"]["bool"]["filter"][0]["range"]
    window["created_at"] = window.pop("received_at")
    # When the setup runs again
    code, out, err = run(fake_os, capsys, *ALERT)
    # Then the same monitor is updated in place to the ingester's receive time
    assert code == 0, err
    assert status(out, f"alert monitor {alerting.MONITOR_NAME}") == "updated"
    after = fake_os.state.monitors[monitor_id]["monitor"]["inputs"][0]["search"]["query"]["query"]["bool"]["filter"][0]
    assert list(after["range"]) == ["received_at"]
