"""Which failures another try may follow (pure decision)."""

from __future__ import annotations

import pytest

from tdxq.tdx.errors import (
    AmbiguousWrite,
    AuthError,
    BadRequest,
    Forbidden,
    NotFound,
    RateBudgetExhausted,
    RateLimited,
    ServerError,
    TdxError,
    TransportError,
)
from tdxq.tdx.retry import RetryPolicy, is_retryable, make_retrying


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (RateLimited("429"), True),
        (ServerError("500"), True),
        (TransportError("connect"), True),
        (RateBudgetExhausted("too long"), False),
        (AmbiguousWrite("?", reason="ReadTimeout", method="POST", path="p"), False),
        (AuthError("401"), False),
        (Forbidden("403"), False),
        (NotFound("404"), False),
        (BadRequest("400", tdx_message="bad"), False),
        (ValueError("bug"), False),
    ],
)
def test_retry_decision(error: BaseException, retryable: bool) -> None:
    assert is_retryable(error) is retryable


def test_bounded_tries_then_the_last_error_is_raised() -> None:
    slept: list[float] = []
    retrying = make_retrying(RetryPolicy(3, 0.5, 4.0), sleep=slept.append)
    tries: list[int] = []

    def always_500() -> None:
        tries.append(1)
        raise ServerError(f"500 #{len(tries)}")

    with pytest.raises(ServerError, match="500 #3"):
        retrying(always_500)
    assert len(tries) == 3
    assert len(slept) == 2
    assert all(0 <= s <= 4.0 for s in slept)


def test_no_backoff_after_a_429_because_the_budget_waits() -> None:
    slept: list[float] = []
    retrying = make_retrying(RetryPolicy(2, 10.0, 10.0), sleep=slept.append)
    with pytest.raises(RateLimited):
        retrying(lambda: (_ for _ in ()).throw(RateLimited("429")))
    assert slept == [0.0]


def test_errors_carry_method_path_status() -> None:
    error = NotFound(
        "GET {appId}/tickets/{id} → 404", method="GET", path="{appId}/tickets/{id}", status=404
    )
    assert isinstance(error, TdxError)
    assert (error.method, error.path, error.status) == ("GET", "{appId}/tickets/{id}", 404)
