"""The one retry delay of the project: capped exponential backoff with equal jitter.

Retry ``n`` (0 for the first) waits a delay drawn uniformly from ``[d/2, d]`` with ``d = min(cap, base * 2**n)``:
at least half the exponential step, so retries really back off; at most the cap, so an outage never means a wait
longer than ``cap``; random in between, so many clients that failed together do not retry together.
:class:`Backoff` counts the retries and starts again at ``base`` after :meth:`Backoff.reset` (call it on success).

Users: the Firehose writer (``ingester.writer``), the Firehose tools (``ingester.firehose.put``: redrive, smoke),
the X rule sync (``ingester.sources.x``), the demo's OpenSearch sink. One deliberate copy: the transform Lambda's
Comprehend backend (``lambda_src/transform/sentiment/comprehend.py``, ``backoff_delay``), because the Lambda zip
holds ``transform/`` only; ``tests/unit/transform/test_comprehend.py`` checks that both give the same delays.
X's own reconnect schedule (``ingester.xclient``) is not this backoff: X documents it (linear for network errors,
from 60 s for 429) and the client follows X's numbers.

This module has no failure policy of its own: it only computes delays; the caller decides when to give up.
"""

from __future__ import annotations

import random

MAX_DOUBLINGS = 62
"""Retries past this count keep the same ceiling (``2**62`` times any base is past every cap anyway)."""


def backoff_delay(attempt: int, base_s: float, cap_s: float, unit: float) -> float:
    """The delay before retry ``attempt`` (0-based) for a uniform draw ``unit`` in [0, 1)."""
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt, MAX_DOUBLINGS))
    return ceiling / 2 + unit * ceiling / 2


class Backoff:
    """Capped exponential backoff with equal jitter: delay n is uniform in [d/2, d], d = min(cap, base*2^n)."""

    def __init__(self, base_s: float, cap_s: float, rng: random.Random | None = None) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = rng or random.Random()  # noqa: S311  # jitter, not cryptography
        self.attempt = 0

    def next(self) -> float:
        """The next delay; each call backs off one step further, up to the cap."""
        delay = backoff_delay(self.attempt, self.base_s, self.cap_s, self._rng.random())
        self.attempt = min(self.attempt + 1, MAX_DOUBLINGS)
        return delay

    def reset(self) -> None:
        """Success: the next delay starts from ``base`` again."""
        self.attempt = 0
