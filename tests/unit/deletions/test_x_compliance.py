"""The X batch compliance job against a fake of X's API: create, upload, poll, download, tombstones; and the
failures that must keep every id pending (429, 503, a failed or expired job, malformed results)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ingester.deletions.deleter import Deleter
from ingester.deletions.opensearch import OpenSearchDeleteTarget
from ingester.deletions.store import DeletionStore
from ingester.deletions.x_compliance import ComplianceError, run_job
from ingester.stats import Stats
from tests.support.fake_opensearch import serve as serve_opensearch
from tests.support.fake_x_compliance import FakeXCompliance, serve

IDS = [f"17{i:08d}" for i in range(10)]


@pytest.fixture
def fake() -> Iterator[FakeXCompliance]:
    with serve() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> DeletionStore:
    return DeletionStore(tmp_path, retention_s=30 * 86_400, tombstone_ttl_s=35 * 86_400)


def job(fake: FakeXCompliance, store: DeletionStore, kind: str = "tweets", ids: list[str] = IDS):  # type: ignore[no-untyped-def]
    return run_job(requests.Session(), fake.url, "test-token", kind, ids, store=store, poll_s=0)  # type: ignore[arg-type]


def test_every_answer_is_acted_on_and_the_posts_leave_opensearch(fake: FakeXCompliance, store: DeletionStore) -> None:
    # Given stored posts, four of which X answers for
    fake.answers = {IDS[0]: "deleted", IDS[1]: "protected", IDS[2]: "suspended", IDS[3]: "deactivated",
                    IDS[4]: "scrub_geo"}  # fmt: skip
    fake.polls = 3
    with serve_opensearch() as fake_os:
        for i in IDS:
            fake_os.state.indices.setdefault("tweets-2026-12-06", {})[i] = {"tweet_id": i, "author": {"id": "42"}}
        # When the job runs and the deleter applies what it found
        result = job(fake, store)
        Deleter(store, [OpenSearchDeleteTarget(fake_os.url)], Stats(), reapply_window_s=60).apply_pending()
        left = set(fake_os.state.indices["tweets-2026-12-06"])
    # Then X got every id, and the deleted, protected, suspended and deactivated posts are gone
    (uploaded,) = fake.uploads.values()
    assert uploaded == IDS
    assert result.tombstones == 4 and result.scrub_geo == 1 and result.clean
    assert left == set(IDS[4:])  # scrub_geo: no geo field is stored, the post stays
    assert {s.id for s in store.tombstones()} == set(IDS[:4])


def test_a_users_job_removes_every_post_of_the_authors(fake: FakeXCompliance, store: DeletionStore) -> None:
    fake.answers = {"42": "suspended"}
    result = job(fake, store, "users", ["42", "43"])
    assert result.tombstones == 1
    assert store.is_deleted("any post", "42") and not store.is_deleted("any post", "43")


@pytest.mark.parametrize("status", [429, 503, 401])
def test_an_http_error_raises_and_records_nothing(fake: FakeXCompliance, store: DeletionStore, status: int) -> None:
    fake.answers = {IDS[0]: "deleted"}
    fake.create_status = [status]
    with pytest.raises(ComplianceError) as caught:
        job(fake, store)
    assert caught.value.status == status
    assert store.tombstones() == []
    assert job(fake, store).tombstones == 1  # the next run checks every id again


@pytest.mark.parametrize("final", ["failed", "expired"])
def test_a_job_that_fails_or_expires_raises(fake: FakeXCompliance, store: DeletionStore, final: str) -> None:
    fake.answers = {IDS[0]: "deleted"}
    fake.final_status = final
    with pytest.raises(ComplianceError, match=final):
        job(fake, store)
    assert store.tombstones() == []


def test_malformed_result_lines_are_skipped_and_the_run_is_not_clean(
    fake: FakeXCompliance, store: DeletionStore
) -> None:
    fake.answers = {IDS[0]: "deleted"}
    fake.malformed = True
    result = job(fake, store)
    assert result.malformed == 2 and not result.clean
    assert store.is_deleted(IDS[0], None)  # the good lines still count


def test_a_job_that_never_completes_times_out(fake: FakeXCompliance, store: DeletionStore) -> None:
    fake.polls = 10**6
    ticks = iter(range(10**6))
    with pytest.raises(ComplianceError, match="still in_progress") as caught:
        run_job(requests.Session(), fake.url, "test-token", "tweets", IDS, store=store, poll_s=0, timeout_s=5,
                clock=lambda: float(next(ticks)))  # fmt: skip
    assert caught.value.status == "timeout"


def test_the_schedule_checks_the_ledger_and_records_a_clean_run(
    fake: FakeXCompliance, store: DeletionStore, tmp_path: Path
) -> None:
    from ingester.deletions.x_compliance import ComplianceSchedule

    # Given posts accepted by two authors, one post deleted and one author suspended on X
    for i, post in enumerate(IDS):
        store.accepted(post, "42" if i < 5 else "43")
    fake.answers = {IDS[7]: "deleted", "42": "suspended"}
    stats = Stats()
    schedule = ComplianceSchedule(store, stats, tmp_path / "x-compliance.json", base_url=fake.url,
                                  token=lambda: "test-token", interval_s=86_400, poll_s=0)  # fmt: skip
    assert schedule.last_success() is None
    # When it runs
    assert schedule.run_once()
    # Then both jobs went to X with the ledger's ids, and their answers are tombstones
    by_type = {fake.jobs[j]["type"]: ids for j, ids in fake.uploads.items()}
    assert by_type == {"tweets": IDS, "users": ["42", "43"]}
    assert store.is_deleted(IDS[7], "43") and store.is_deleted(IDS[0], "42") and not store.is_deleted(IDS[8], "43")
    assert schedule.last_success() is not None
    assert stats.snapshot()["x_compliance_age_h"] == 0.0


def test_a_failed_run_is_not_a_success_and_counts(fake: FakeXCompliance, store: DeletionStore, tmp_path: Path) -> None:
    from ingester.deletions.x_compliance import ComplianceSchedule

    store.accepted(IDS[0], "42")
    fake.create_status = [503]
    stats = Stats()
    schedule = ComplianceSchedule(store, stats, tmp_path / "x-compliance.json", base_url=fake.url,
                                  token=lambda: "test-token", interval_s=86_400, poll_s=0)  # fmt: skip
    assert not schedule.run_once()
    assert schedule.last_success() is None
    assert stats.get("x_compliance_failures") == 1
