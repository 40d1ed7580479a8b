"""The reconnect backoff: grows, caps, spreads, refuses nonsense."""

from __future__ import annotations

import pytest

from tdxq.eventlog.subscription import Backoff


def test_grows_exponentially_then_caps() -> None:
    backoff = Backoff(initial_s=0.5, max_s=4.0, factor=2.0, jitter=0.0)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_huge_failure_counts_stay_capped() -> None:
    assert Backoff(initial_s=1.0, max_s=30.0, jitter=0.0).delay(10_000) == 30.0


def test_jitter_takes_off_at_most_its_fraction() -> None:
    backoff = Backoff(initial_s=1.0, max_s=1.0, jitter=0.25)
    assert backoff.delay(1, draw=0.0) == 1.0
    assert backoff.delay(1, draw=0.999) == pytest.approx(0.75, abs=0.001)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_s": 0.0},
        {"initial_s": 2.0, "max_s": 1.0},
        {"factor": 0.5},
        {"jitter": 1.0},
        {"jitter": -0.1},
    ],
)
def test_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(**kwargs)
