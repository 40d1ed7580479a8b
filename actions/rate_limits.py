"""What TDX allows per endpoint, and whose count each call lands in.

TDX limits each method separately in fixed windows, counted per IP address for most methods
and per user for reports (tdx-api.md §3.1). These are the starting values used before any
``X-RateLimit-*`` header was seen; the headers then win. Keys are the client's rate keys,
``"{METHOD} {path template}"`` (``tdxq.tdx.caller.Call.key``).

Scope keys name the counter a call lands in: every worker that TDX sees as the same IP address
must use the same ``ip_scope`` (a host name, or the NAT address several hosts share), and every
worker logged in as the same TDX user the same ``user_scope``. Neither is guessed here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tdxq.tdx import TdxSettings

Scope = Literal["ip", "user"]


class EndpointLimit(BaseModel):
    """``calls`` per ``window_s`` seconds, counted per ``scope``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    calls: int = Field(gt=0)
    window_s: float = Field(gt=0)
    scope: Scope = "ip"


DEFAULT_LIMIT = EndpointLimit(calls=60, window_s=60, scope="ip")
"""Most GET, POST and DELETE methods, the auth calls included."""

DEFAULT_LIMITS: Mapping[str, EndpointLimit] = {
    "GET reports/{id}": EndpointLimit(calls=30, window_s=60, scope="user"),
    "GET reports": EndpointLimit(calls=45, window_s=60, scope="user"),
    "POST reports/search": EndpointLimit(calls=45, window_s=60, scope="user"),
    "POST {appId}/tickets/search": EndpointLimit(calls=30, window_s=60, scope="ip"),
    "POST {appId}/tickets": EndpointLimit(calls=30, window_s=60, scope="ip"),
    "GET people/lookup": EndpointLimit(calls=10, window_s=1, scope="ip"),
}


class SharedBudgetConfig(BaseModel):
    """How the Postgres budget counts: scopes, starting limits, window scale and margins."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ip_scope: str = Field(
        min_length=1,
        description="who TDX sees as the caller's IP address: every worker behind that "
        "address must use the same value",
    )
    user_scope: str = Field(
        min_length=1,
        description="the TDX account whose per-user limits (reports) the calls count against; "
        "not a secret (see user_scope_for)",
    )
    limits: Mapping[str, EndpointLimit] = Field(default_factory=lambda: dict(DEFAULT_LIMITS))
    default_limit: EndpointLimit = DEFAULT_LIMIT
    window_scale: float = Field(
        default=1.0, gt=0, description="shrinks every configured window (the sandbox's scale)"
    )
    margin_s: float = Field(
        default=5.0,
        ge=0,
        description="a new window starts this long after the old one's end (TDX advises 5 s "
        "for clock skew)",
    )
    unreachable_wait_s: float = Field(
        default=1.0,
        gt=0,
        description="how long a caller waits before asking again while Postgres is unreachable",
    )

    @field_validator("limits")
    @classmethod
    def _keys_look_like_rate_keys(
        cls, limits: Mapping[str, EndpointLimit]
    ) -> Mapping[str, EndpointLimit]:
        for key in limits:
            method, _, path = key.partition(" ")
            if not method.isupper() or not path or " " in path:
                raise ValueError(
                    f"rate limit key {key!r} is not '<METHOD> <path template>', "
                    "e.g. 'GET reports/{id}'"
                )
        return limits

    def limit_for(self, key: str) -> EndpointLimit:
        """The configured limit of an endpoint, its window scaled."""
        limit = self.limits.get(key, self.default_limit)
        if self.window_scale == 1.0:
            return limit
        return limit.model_copy(update={"window_s": limit.window_s * self.window_scale})

    def scope_key(self, scope: Scope) -> str:
        return f"ip:{self.ip_scope}" if scope == "ip" else f"user:{self.user_scope}"


def user_scope_for(settings: TdxSettings) -> str:
    """A stable, non-secret name for the TDX account in ``settings``: the tenant's host and a
    digest of the login name or BEID, so that the budget table holds no credential."""
    host = urlsplit(settings.base_url).hostname or "tdx"
    if settings.username is not None:
        identity = "user\n" + settings.username.get_secret_value().strip().lower()
    elif settings.beid is not None:
        identity = "admin\n" + settings.beid.get_secret_value().strip().lower()
    else:
        # A static token says nothing about its user: all such workers share one scope.
        identity = "token"
    digest = hashlib.sha256(f"{host}\n{identity}".encode()).hexdigest()[:16]
    return f"{host}/{digest}"
