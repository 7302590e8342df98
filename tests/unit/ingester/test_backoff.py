"""The project's one backoff: capped exponential with equal jitter, reset on success."""

from __future__ import annotations

import random

import pytest

from ingester.backoff import Backoff, backoff_delay


# Moved from tests/unit/ingester/test_writer.py (the writer's Backoff is now ingester.backoff.Backoff).
def test_backoff_is_capped_exponential_with_jitter() -> None:
    backoff = Backoff(0.1, 2.0, random.Random(7))
    delays = [backoff.next() for _ in range(10)]
    ceilings = [min(2.0, 0.1 * 2**i) for i in range(10)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)
    backoff.reset()
    assert backoff.next() <= 0.1


@pytest.mark.parametrize("seed", range(20))
def test_every_delay_is_within_half_and_all_of_its_step_and_never_past_the_cap(seed: int) -> None:
    backoff = Backoff(0.25, 30.0, random.Random(seed))
    for n in range(200):  # far past the cap and past MAX_DOUBLINGS: no overflow, still capped
        ceiling = min(30.0, 0.25 * 2.0 ** min(n, 62))
        assert ceiling / 2 <= backoff.next() <= ceiling
    assert backoff.attempt == 62


def test_reset_starts_again_from_the_base() -> None:
    backoff = Backoff(1.0, 60.0, random.Random(3))
    for _ in range(6):
        backoff.next()
    assert backoff.next() >= 30.0  # the 7th delay: 2**6 = 64 capped at 60, from [30, 60]
    backoff.reset()
    assert backoff.attempt == 0
    assert 0.5 <= backoff.next() <= 1.0
    assert 1.0 <= backoff.next() <= 2.0


def test_the_formula_at_the_ends_of_the_draw() -> None:
    assert backoff_delay(0, 0.1, 2.0, 0.0) == pytest.approx(0.05)
    assert backoff_delay(3, 0.1, 2.0, 0.0) == pytest.approx(0.4)
    assert backoff_delay(3, 0.1, 2.0, 1.0) == pytest.approx(0.8)
    assert backoff_delay(10, 0.1, 2.0, 0.5) == pytest.approx(1.5)  # capped: uniform in [1, 2]
    assert backoff_delay(10_000, 0.1, 2.0, 1.0) == 2.0
    assert backoff_delay(5, 0.0, 2.0, 0.7) == 0.0  # base 0: no wait (the demo sink's tests use it)


def delays(seed: int, n: int = 5) -> list[float]:
    backoff = Backoff(0.1, 5.0, random.Random(seed))
    return [backoff.next() for _ in range(n)]


def test_same_seed_same_delays_different_seed_different_delays() -> None:
    assert delays(1) == delays(1)
    assert all(a != b for a, b in zip(delays(1), delays(2), strict=True))  # jitter: clients do not retry in step
