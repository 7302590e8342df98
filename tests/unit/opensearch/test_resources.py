"""The shipped objects agree with the document schema: template mappings, ISM policy, roles, saved objects."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from scripts.ops.opensearch import resources
from scripts.ops.opensearch.dashboards import SENTIMENT_COLOURS, differs, load_objects
from tests.support.paths import SCHEMAS_DIR

SCHEMA = json.loads((SCHEMAS_DIR / "document.schema.json").read_text())
TEXT_KEYWORD = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}


def schema_leaves(props: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out = {}
    for name, declared in props.items():
        # an array of objects (entities, topics) maps as its items' object
        spec = declared["items"] if "properties" in declared.get("items", {}) else declared
        if "properties" in spec:
            out.update(schema_leaves(spec["properties"], f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = spec["x-index-type"]
    return out


def template_leaves(props: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    out = {}
    for name, spec in props.items():
        if "properties" in spec:
            assert set(spec) == {"properties"}, f"{prefix}{name}: object mappings carry only properties"
            out.update(template_leaves(spec["properties"], f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = spec
    return out


def expected_mapping(index_type: str) -> dict[str, Any]:
    return TEXT_KEYWORD if index_type == "text+keyword" else {"type": index_type}


def template_field_types() -> dict[str, str]:
    """Every searchable field name in the template, including multi-field subfields (text.keyword)."""
    fields = {}
    for path, spec in template_leaves(resources.index_template()["template"]["mappings"]["properties"]).items():
        fields[path] = spec["type"]
        for sub, sub_spec in (spec.get("fields") or {}).items():
            fields[f"{path}.{sub}"] = sub_spec["type"]
    return fields


# --- index template ---------------------------------------------------------------------------------------------


def test_template_maps_every_schema_leaf_with_its_type_and_nothing_else() -> None:
    leaves = schema_leaves(SCHEMA["properties"])
    mapped = template_leaves(resources.index_template()["template"]["mappings"]["properties"])
    assert set(mapped) == set(leaves)
    for path, index_type in leaves.items():
        assert mapped[path] == expected_mapping(index_type), path


def test_template_covers_all_index_types_used_by_the_schema() -> None:
    # a new x-index-type in the schema must be taught to this test (and the template) on purpose
    assert set(schema_leaves(SCHEMA["properties"]).values()) <= {
        "keyword", "date", "text+keyword", "integer", "float", "boolean"
    }  # fmt: skip


def test_template_is_strict_for_tweets_indices_with_shard_settings() -> None:
    body = resources.index_template()
    assert body["index_patterns"] == ["tweets-*"]
    assert body["template"]["mappings"]["dynamic"] == "strict"
    settings = body["template"]["settings"]["index"]
    assert settings["number_of_shards"] == 1 and settings["number_of_replicas"] == 1


def test_template_runs_the_id_pipeline_which_keys_documents_by_the_required_tweet_id() -> None:
    # One document per tweet: every index of the template runs tweets-id, which sets _id from tweet_id (raw
    # Mustache, no HTML escaping) after refusing a document without one; tweet_id is a required keyword.
    settings = resources.index_template()["template"]["settings"]["index"]
    assert settings["default_pipeline"] == resources.PIPELINE_ID
    fail, set_id = resources.ingest_pipeline()["processors"]
    assert fail["fail"]["if"] == "ctx.tweet_id == null || ctx.tweet_id == ''"
    assert set_id == {"set": {"field": "_id", "value": "{{{tweet_id}}}"}}
    assert "tweet_id" in SCHEMA["required"]
    assert SCHEMA["properties"]["tweet_id"]["x-index-type"] == "keyword"


def test_template_shard_and_replica_overrides_and_their_validation() -> None:
    settings = resources.index_template(shards=3, replicas=0)["template"]["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == (3, 0)
    assert resources.index_template()["template"]["settings"]["index"]["number_of_shards"] == 1  # no shared state
    with pytest.raises(ValueError, match="shards"):
        resources.index_template(shards=0)
    with pytest.raises(ValueError, match="replicas"):
        resources.index_template(replicas=-1)


def test_normalised_template_equals_what_opensearch_returns() -> None:
    # OpenSearch returns settings as strings, nested or (flat_settings=true) dotted; both compare equal.
    sent = resources.index_template()
    returned = json.loads(json.dumps(sent))
    returned["composed_of"] = []
    returned["template"]["settings"] = {"index": {"number_of_shards": "1", "number_of_replicas": "1",
                                                  "refresh_interval": "5s"}}  # fmt: skip
    returned["template"]["settings"].update(
        {
            "index.search.slowlog.threshold.query.warn": "5s",
            "index.search.slowlog.threshold.query.info": "2s",
            "index.search.slowlog.threshold.fetch.warn": "1s",
            "index.search.slowlog.threshold.fetch.info": "500ms",
            "index.indexing.slowlog.threshold.index.warn": "5s",
            "index.indexing.slowlog.threshold.index.info": "2s",
            "index.indexing.slowlog.source": "0",
            "index.default_pipeline": "tweets-id",
        }
    )
    assert resources.normalise_template(sent) == resources.normalise_template(returned)
    returned["template"]["settings"]["index"]["number_of_replicas"] = "2"
    assert resources.normalise_template(sent) != resources.normalise_template(returned)


DURATION = re.compile(r"^(\d+)(ms|s|m)$")


def as_ms(value: str) -> int:
    match = DURATION.match(value)
    assert match, f"{value!r} is not a duration such as 500ms or 5s"
    return int(match.group(1)) * {"ms": 1, "s": 1000, "m": 60_000}[match.group(2)]


def default_log_types() -> list[str]:
    """The module's default logs.types: the slow logs the domain publishes unless the user changes it."""
    from tests.support.terraform import MODULES_DIR

    variables = (MODULES_DIR / "opensearch" / "variables.tf").read_text()
    block = variables.split('variable "logs" {', 1)[1].split("\n}\n", 1)[0]
    default = re.search(r"^    types\s*=\s*optional\(list\(string\),\s*(\[[^\]]*\])\)$", block, flags=re.MULTILINE)
    assert default is not None
    return list(json.loads(default.group(1)))


@pytest.mark.parametrize(
    ("log_type", "phases"),
    [("SEARCH_SLOW_LOGS", ["search.slowlog.threshold.query", "search.slowlog.threshold.fetch"]),
     ("INDEX_SLOW_LOGS", ["indexing.slowlog.threshold.index"])],
)  # fmt: skip
def test_every_published_slow_log_has_thresholds(log_type: str, phases: list[str]) -> None:
    # Slow logs stay empty while every threshold is -1 (the default), so each slow log the domain publishes by
    # default needs warn and info thresholds in the template: warn above info, both positive durations.
    assert log_type in default_log_types()
    settings = resources.flat_settings(resources.index_template()["template"]["settings"])
    for phase in phases:
        warn, info = settings[f"index.{phase}.warn"], settings[f"index.{phase}.info"]
        assert as_ms(warn) > as_ms(info) > 0, (phase, warn, info)


def test_index_slow_log_never_copies_tweets_into_cloudwatch() -> None:
    # By default the indexing slow log includes the first 1000 characters of each slow document's _source:
    # the tweet text and author would land in CloudWatch Logs. "0" logs no source.
    settings = resources.flat_settings(resources.index_template()["template"]["settings"])
    assert settings["index.indexing.slowlog.source"] == "0"


# --- ISM and roles ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [1, 14, 365])
def test_ism_policy_deletes_after_the_retention_and_attaches_to_new_indices(days: int) -> None:
    policy = resources.ism_policy(days)["policy"]
    assert resources.retention_of(policy) == f"{days}d"
    assert policy["default_state"] == "hot"
    delete = next(s for s in policy["states"] if s["name"] == "delete")
    assert delete["actions"] == [{"delete": {}}]
    assert policy["ism_template"] == [{"index_patterns": ["tweets-*"], "priority": 100}]
    assert "RETENTION" not in json.dumps(policy)


@pytest.mark.parametrize("days", [0, -1, 36501])
def test_ism_policy_rejects_nonsense_retention(days: int) -> None:
    with pytest.raises(ValueError, match="retention_days"):
        resources.ism_policy(days)


def test_writer_role_has_exactly_the_firehose_permissions_of_design_2_4() -> None:
    writer = resources.role("tweets_writer")
    assert sorted(writer["cluster_permissions"]) == ["cluster_composite_ops", "cluster_monitor"]
    assert writer["index_permissions"] == [
        {"index_patterns": ["tweets-*"], "allowed_actions": ["create_index", "manage", "crud"]}
    ]


def test_reader_role_cannot_write() -> None:
    reader = resources.role("tweets_reader")
    actions = {a for perm in reader["index_permissions"] for a in perm["allowed_actions"]}
    assert "read" in actions
    assert not actions & {"crud", "write", "manage", "create_index", "delete", "indices_all"}
    assert all(p.endswith("_ro") for p in reader["cluster_permissions"])


def test_is_subset_ignores_server_defaults_but_not_changes() -> None:
    wanted = {"states": [{"actions": [{"delete": {}}]}]}
    assert resources.is_subset(wanted, {"states": [{"actions": [{"delete": {}, "retry": {"count": 3}}]}], "x": 1})
    assert not resources.is_subset(wanted, {"states": [{"actions": []}]})
    assert not resources.is_subset(wanted, {"states": [{"actions": [{"delete": {}}]}, {"actions": []}]})


# --- saved objects ----------------------------------------------------------------------------------------------

OBJECTS = load_objects()
BY_ID = {(o["type"], o["id"]): o for o in OBJECTS}
INDEX_PATTERNS = [o for o in OBJECTS if o["type"] == "index-pattern"]


def vis_state(obj: dict[str, Any]) -> dict[str, Any]:
    return json.loads(obj["attributes"]["visState"])


def search_source(obj: dict[str, Any]) -> dict[str, Any]:
    return json.loads(obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])


def kql_fields(query: str) -> set[str]:
    return set(re.findall(r"([A-Za-z_][\w.]*)\s*:", query))


def tsvb_fields(params: dict[str, Any]) -> set[str]:
    """Fields a TSVB (``metrics``) visualization reads: time and split fields, metric fields, KQL in filter ratios."""
    fields = {params["time_field"]}
    for series in params["series"]:
        if series.get("terms_field"):
            fields.add(series["terms_field"])
        for metric in series["metrics"]:
            if metric.get("field"):
                fields.add(metric["field"])
            for part in ("numerator", "denominator"):
                if part in metric:
                    fields |= kql_fields(metric[part]["query"])
    return fields


def agg_fields(obj: dict[str, Any]) -> set[str]:
    """Fields a visualization aggregates on: agg fields, input-control fields, TSVB time and split fields."""
    state = vis_state(obj)
    if state["type"] == "metrics":
        params = state["params"]
        return {params["time_field"], *(s["terms_field"] for s in params["series"] if s.get("terms_field"))}
    if state["type"] == "input_control_vis":
        return {control["fieldName"] for control in state["params"]["controls"]}
    return {agg["params"]["field"] for agg in state["aggs"] if "field" in agg["params"]}


def referenced_fields(obj: dict[str, Any]) -> set[str]:
    fields: set[str] = set()
    attrs = obj["attributes"]
    if obj["type"] == "index-pattern":
        fields.add(attrs["timeFieldName"])
    if obj["type"] == "visualization":
        state = vis_state(obj)
        fields |= agg_fields(obj)
        if state["type"] == "metrics":
            fields |= tsvb_fields(state["params"])
        for agg in state["aggs"]:
            for spec in agg["params"].get("filters", []):  # a filters agg: one KQL query per bucket
                fields |= kql_fields(spec["input"]["query"])
    if obj["type"] == "search":
        fields.update(attrs["columns"])
        fields.update(field for field, _ in attrs["sort"])
    if "kibanaSavedObjectMeta" in attrs:
        fields |= kql_fields(search_source(obj)["query"]["query"])
    return fields


def test_referenced_fields_sees_every_kind_of_field_use() -> None:
    # the field check below is only as good as this walk: each visualization kind must yield its fields
    assert referenced_fields(BY_ID[("visualization", "tweets-net-sentiment-by-rule")]) == {
        "created_at", "rules", "sentiment"
    }  # fmt: skip
    assert referenced_fields(BY_ID[("visualization", "tweets-filter-controls")]) == {"rules", "lang", "sentiment"}
    assert referenced_fields(BY_ID[("visualization", "tweets-post-types")]) == {"is_retweet", "is_reply", "is_quote"}
    assert referenced_fields(BY_ID[("visualization", "tweets-top-negative-authors")]) == {
        "author.username", "sentiment"
    }  # fmt: skip
    assert "metrics.like_count" in referenced_fields(BY_ID[("search", "tweets-most-engaged")])


def test_ndjson_parses_with_unique_ids_and_known_types() -> None:
    assert len(BY_ID) == len(OBJECTS) == 17
    assert {o["type"] for o in OBJECTS} == {"index-pattern", "visualization", "search", "dashboard"}


def test_index_pattern_is_tweets_star_on_created_at() -> None:
    (pattern,) = INDEX_PATTERNS
    assert pattern["attributes"]["title"] == "tweets-*"
    assert pattern["attributes"]["timeFieldName"] == "created_at"
    assert template_field_types()["created_at"] == "date"


def test_every_saved_object_uses_only_fields_the_template_defines() -> None:
    fields = template_field_types()
    for obj in OBJECTS:
        unknown = referenced_fields(obj) - set(fields)
        assert not unknown, f"{obj['id']} uses fields the template does not map: {unknown}"


def test_aggregations_only_on_aggregatable_fields() -> None:
    fields = template_field_types()
    for obj in OBJECTS:
        if obj["type"] == "visualization":
            for name in agg_fields(obj):
                assert fields[name] != "text", (obj["id"], name)


def test_visualizations_and_searches_reference_the_existing_index_pattern() -> None:
    pattern_ids = {o["id"] for o in INDEX_PATTERNS}
    (pattern,) = INDEX_PATTERNS
    for obj in OBJECTS:
        if obj["type"] not in ("visualization", "search"):
            continue
        refs = {r["name"]: r for r in obj["references"]}
        assert "index" not in search_source(obj), "inline index ids bypass references"
        state = vis_state(obj) if obj["type"] == "visualization" else {"type": "search"}
        if state["type"] == "metrics":
            # TSVB names its index pattern by title and its time field itself; no reference
            assert state["params"]["index_pattern"] == pattern["attributes"]["title"]
            assert state["params"]["time_field"] == pattern["attributes"]["timeFieldName"]
            assert obj["references"] == []
            continue
        if state["type"] == "input_control_vis":
            names = [control["indexPatternRefName"] for control in state["params"]["controls"]]
        else:
            names = [search_source(obj)["indexRefName"]]
        for name in names:
            assert refs[name]["type"] == "index-pattern"
            assert refs[name]["id"] in pattern_ids


def test_dashboard_panels_reference_existing_objects() -> None:
    (dashboard,) = [o for o in OBJECTS if o["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    refs = {r["name"]: r for r in dashboard["references"]}
    targets = []
    for panel in panels:
        ref = refs[panel["panelRefName"]]
        assert (ref["type"], ref["id"]) in BY_ID, ref
        targets.append((ref["type"], ref["id"]))
    assert set(targets) == {k for k in BY_ID if k[0] in ("visualization", "search")}
    assert len({p["panelIndex"] for p in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridData"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 48


def test_the_required_panels_are_there() -> None:
    visualizations = {o["id"]: vis_state(o) for o in OBJECTS if o["type"] == "visualization"}

    def aggs(state: dict[str, Any]) -> list[tuple[str, str, str | None]]:
        return [(a["type"], a["schema"], a["params"].get("field")) for a in state["aggs"]]

    pie = visualizations["tweets-sentiment-share"]
    assert pie["type"] == "pie" and ("terms", "segment", "sentiment") in aggs(pie)
    over_time = visualizations["tweets-sentiment-over-time"]
    assert ("date_histogram", "segment", "created_at") in aggs(over_time)
    assert ("terms", "group", "sentiment") in aggs(over_time)
    assert over_time["params"]["seriesParams"][0]["mode"] == "stacked"
    per_minute = visualizations["tweets-per-minute"]
    (histogram,) = [a for a in per_minute["aggs"] if a["type"] == "date_histogram"]
    assert histogram["params"]["interval"] == "m" and histogram["params"]["field"] == "created_at"
    hashtags = visualizations["tweets-top-hashtags-by-sentiment"]
    assert ("terms", "segment", "hashtags") in aggs(hashtags) and ("terms", "group", "sentiment") in aggs(hashtags)
    for vis_id, field in (("tweets-top-entities-by-sentiment", "entities.text"),
                          ("tweets-top-topics-by-sentiment", "topics.entity")):  # fmt: skip
        state = visualizations[vis_id]
        assert ("terms", "segment", field) in aggs(state) and ("terms", "group", "sentiment") in aggs(state)
    by_rule = visualizations["tweets-sentiment-over-time-by-rule"]
    assert ("date_histogram", "segment", "created_at") in aggs(by_rule)
    assert ("terms", "group", "sentiment") in aggs(by_rule) and ("terms", "split", "rules") in aggs(by_rule)
    languages = visualizations["tweets-language-by-sentiment"]
    assert ("terms", "segment", "lang") in aggs(languages) and ("terms", "group", "sentiment") in aggs(languages)
    shares = visualizations["tweets-sentiment-share-by-language"]  # issue 23: each language's sentiment mix, 100 %
    assert ("terms", "segment", "lang") in aggs(shares) and ("terms", "group", "sentiment") in aggs(shares)
    assert shares["params"]["valueAxes"][0]["scale"]["mode"] == "percentage"
    authors = BY_ID[("visualization", "tweets-top-negative-authors")]
    assert ("terms", "segment", "author.username") in aggs(vis_state(authors))
    assert search_source(authors)["query"] == {"query": "sentiment:NEGATIVE", "language": "kuery"}
    post_types = visualizations["tweets-post-types"]
    (filters,) = [a for a in post_types["aggs"] if a["type"] == "filters"]
    assert [f["label"] for f in filters["params"]["filters"]] == ["Original", "Retweet", "Reply", "Quote"]
    engaged = BY_ID[("search", "tweets-most-engaged")]
    assert engaged["attributes"]["sort"][0] == ["metrics.like_count", "desc"]
    engagement = {"metrics.like_count", "metrics.retweet_count", "metrics.reply_count"}
    assert engagement <= set(engaged["attributes"]["columns"])
    assert search_source(engaged)["query"]["query"] == "not is_retweet:true"
    negative = BY_ID[("search", "tweets-latest-negative")]
    assert search_source(negative)["query"] == {"query": "sentiment:NEGATIVE", "language": "kuery"}
    assert negative["attributes"]["sort"] == [["created_at", "desc"]]


def test_objects_use_the_7_10_format_both_dashboards_and_kibana_import() -> None:
    for obj in OBJECTS:
        for version in obj["migrationVersion"].values():
            assert tuple(int(x) for x in version.split(".")) <= (7, 10, 0), obj["id"]
        if obj["type"] == "visualization":
            assert vis_state(obj)["type"] in {
                "pie", "histogram", "line", "horizontal_bar", "area", "metrics", "input_control_vis"
            }  # fmt: skip


def test_differs_compares_parsed_json_attributes_and_references() -> None:
    obj = BY_ID[("visualization", "tweets-sentiment-share")]
    stored = json.loads(json.dumps(obj))
    # the server re-serialises visState with another key order and adds its own keys: not a difference
    stored["attributes"]["visState"] = json.dumps(vis_state(obj), sort_keys=True, indent=1)
    stored["version"] = "WzEsMV0="
    assert not differs(obj, stored)
    stored["references"][0]["id"] = "another-pattern"
    assert differs(obj, stored)
    assert differs(obj, None)
    assert differs(obj, {"id": obj["id"], "type": obj["type"], "error": {"statusCode": 404}})


def test_net_sentiment_is_positive_share_minus_negative_share_per_rule() -> None:
    # TSVB: two filter ratios over the scored tweets (sentiment exists) and a math metric subtracting them,
    # one line per tracked rule
    state = vis_state(BY_ID[("visualization", "tweets-net-sentiment-by-rule")])
    (series,) = state["params"]["series"]
    assert (series["split_mode"], series["terms_field"], series["chart_type"]) == ("terms", "rules", "line")
    ratios = {m["id"]: m for m in series["metrics"] if m["type"] == "filter_ratio"}
    (net,) = [m for m in series["metrics"] if m["type"] == "math"]
    assert series["metrics"][-1] is net, "TSVB plots the last metric of a series"
    by_name = {v["name"]: ratios[v["field"]] for v in net["variables"]}
    assert net["script"] == "params.positive - params.negative"
    for name, label in (("positive", "POSITIVE"), ("negative", "NEGATIVE")):
        assert by_name[name]["numerator"] == {"query": f"sentiment:{label}", "language": "kuery"}
        assert by_name[name]["denominator"] == {"query": "sentiment:*", "language": "kuery"}
        assert by_name[name]["metric_agg"] == "count"


def test_filter_controls_for_rule_language_and_sentiment() -> None:
    state = vis_state(BY_ID[("visualization", "tweets-filter-controls")])
    controls = state["params"]["controls"]
    assert [c["fieldName"] for c in controls] == ["rules", "lang", "sentiment"]
    assert all(c["type"] == "list" and c["options"]["multiselect"] for c in controls)
    assert state["params"]["useTimeFilter"] is True  # offer only values of the time range shown
    (dashboard,) = [o for o in OBJECTS if o["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    first = min(panels, key=lambda p: (p["gridData"]["y"], p["gridData"]["x"]))
    refs = {r["name"]: r["id"] for r in dashboard["references"]}
    assert refs[first["panelRefName"]] == "tweets-filter-controls", "the filters sit at the top of the dashboard"


def splits_by_sentiment(obj: dict[str, Any]) -> bool:
    return obj["type"] == "visualization" and any(
        agg["type"] == "terms" and agg["params"].get("field") == "sentiment" for agg in vis_state(obj)["aggs"]
    )


def test_every_sentiment_split_panel_has_the_fixed_sentiment_colours() -> None:
    split = [o for o in OBJECTS if splits_by_sentiment(o)]
    assert len(split) == 8  # share, over time, over time per rule, languages, language shares, hashtags, entities,
    # topics
    for obj in split:
        colours = json.loads(obj["attributes"]["uiStateJSON"])["vis"]["colors"]
        assert colours == SENTIMENT_COLOURS, obj["id"]


def test_the_sentiment_colours_cover_every_sentiment_and_read_as_named() -> None:
    labels = {label for label in SCHEMA["properties"]["sentiment"]["enum"] if label is not None}
    assert labels | {"no sentiment"} == set(SENTIMENT_COLOURS)

    def rgb(hex_colour: str) -> tuple[int, int, int]:
        return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)

    red, green, blue = rgb(SENTIMENT_COLOURS["NEGATIVE"])
    assert red > 2 * green and red > 2 * blue
    red, green, blue = rgb(SENTIMENT_COLOURS["POSITIVE"])
    assert green > red and green > blue
    red, green, blue = rgb(SENTIMENT_COLOURS["NEUTRAL"])
    assert max(red, green, blue) - min(red, green, blue) < 40  # grey
    red, green, blue = rgb(SENTIMENT_COLOURS["MIXED"])
    assert red > blue and green > blue  # amber: red and green over blue


def test_tweets_per_minute_stays_per_minute_when_dashboards_widens_the_buckets() -> None:
    # Over the default 24 h, Dashboards widens 1-minute buckets (histogram:maxBars, 100 by default) to 15-30 minutes;
    # without scaleMetricValues each point would be a 15-30 minute count labelled "per minute".
    state = vis_state(BY_ID[("visualization", "tweets-per-minute")])
    (histogram,) = [agg for agg in state["aggs"] if agg["type"] == "date_histogram"]
    assert histogram["params"]["interval"] == "m"
    assert histogram["params"]["scaleMetricValues"] is True
    (count,) = [agg for agg in state["aggs"] if agg["type"] == "count"]
    assert count["params"]["customLabel"] == "Tweets per minute"
