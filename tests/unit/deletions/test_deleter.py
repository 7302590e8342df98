"""The deleter against the fake OpenSearch: pending ids retried through refusals, copies that come back removed
again, authors' posts removed, the SigV4 signature."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingester.deletions.deleter import Deleter, percentile
from ingester.deletions.opensearch import OpenSearchDeleteTarget, sigv4_signer
from ingester.deletions.store import DeletionStore
from ingester.stats import Stats
from tests.support.fake_opensearch import FakeOpenSearch, serve

INDEX = "tweets-2026-12-06"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[FakeOpenSearch]:
    with serve() as server:
        yield server


def index(fake: FakeOpenSearch, post: str, author: str, name: str = INDEX) -> None:
    fake.state.indices.setdefault(name, {})[post] = {"tweet_id": post, "author": {"id": author}, "text": "t"}


def ids(fake: FakeOpenSearch) -> set[str]:
    return {k for docs in fake.state.indices.values() for k in docs}


def make(tmp_path: Path, fake: FakeOpenSearch, clock: Clock) -> tuple[DeletionStore, Deleter, Stats]:
    store = DeletionStore(tmp_path, retention_s=30 * 86_400, tombstone_ttl_s=35 * 86_400, clock=clock)
    stats = Stats()
    deleter = Deleter(store, [OpenSearchDeleteTarget(fake.url)], stats, reapply_window_s=9000, clock=clock)
    return store, deleter, stats


def test_posts_and_every_post_of_a_removed_author_leave_every_tweets_index(
    tmp_path: Path, fake: FakeOpenSearch
) -> None:
    clock = Clock()
    store, deleter, stats = make(tmp_path, fake, clock)
    for i in range(5):
        index(fake, f"p{i}", "alice" if i < 3 else "bob", name=f"tweets-2026-12-0{i + 1}")
    index(fake, "other", "bob", name="not-tweets")  # outside tweets-*: the deleter's role cannot touch it
    store.tombstone("post", "p3", source="x")
    store.tombstone("author", "alice", source="bluesky")
    clock.now += 2.5
    assert deleter.apply_pending() == 2
    assert ids(fake) == {"p4", "other"}
    assert stats.get("deletions_applied") == 2 and stats.get("deletions_removed") == 4
    assert deleter.lag_percentiles() == (2.5, 2.5)
    assert deleter.apply_pending() == 0  # taken: not sent again as pending


@pytest.mark.parametrize("status", [429, 503, 403])
def test_a_refused_delete_stays_pending_and_is_retried(tmp_path: Path, fake: FakeOpenSearch, status: int) -> None:
    clock = Clock()
    store, deleter, stats = make(tmp_path, fake, clock)
    index(fake, "p1", "a")
    store.tombstone("post", "p1", source="bluesky")
    fake.state.refuse_deletes, fake.state.refuse_status = 2, status
    assert deleter.apply_pending() == 0
    assert deleter.apply_pending() == 0
    assert deleter.pending() == 1 and ids(fake) == {"p1"}
    assert stats.get("deletion_failures") == 2
    assert deleter.apply_pending() == 1
    assert ids(fake) == set() and deleter.pending() == 0


def test_an_unreachable_cluster_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    store = DeletionStore(tmp_path, retention_s=86_400, tombstone_ttl_s=86_400)
    stats = Stats()
    deleter = Deleter(store, [OpenSearchDeleteTarget("http://127.0.0.1:9")], stats, reapply_window_s=60)
    store.tombstone("post", "p1", source="x")
    assert deleter.apply_pending() == 0
    assert stats.get("deletion_failures") == 1 and deleter.pending() == 1


def test_a_copy_that_comes_back_after_the_delete_is_removed_again(tmp_path: Path, fake: FakeOpenSearch) -> None:
    # Given a post deleted from the index
    clock = Clock()
    store, deleter, stats = make(tmp_path, fake, clock)
    index(fake, "p1", "a")
    index(fake, "p2", "a")
    store.tombstone("post", "p1", source="bluesky")
    deleter.apply_pending()
    clock.now += 10_000  # p1's tombstone is now older than the re-apply window
    store.tombstone("post", "p2", source="bluesky")
    deleter.apply_pending()
    # When Firehose's retry (or a redrive) indexes both again
    index(fake, "p1", "a")
    index(fake, "p2", "a")
    # Then the re-apply removes the recent one, and a sweep (after a redrive) every one
    deleter.reapply_recent()
    assert ids(fake) == {"p1"}
    deleter.sweep()
    assert ids(fake) == set()
    assert stats.get("deletions_reapplied") == 1 + 2


def test_the_request_is_signed_for_the_es_service(
    tmp_path: Path, fake: FakeOpenSearch, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="eu-west-1")
    target = OpenSearchDeleteTarget(fake.url, signer=sigv4_signer(None, session))
    index(fake, "p1", "a")
    assert target.delete(["p1"], []) == 1
    sent = [r for r in fake.state.requests if r.path.endswith("_delete_by_query")][-1]
    auth = sent.header("Authorization") or ""
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") and "/eu-west-1/es/aws4_request" in auth
    assert sent.json()["query"]["bool"]["should"] == [{"terms": {"tweet_id": ["p1"]}}]
    assert b"text" not in sent.body  # ids only, never post text


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 99) == 99.0
