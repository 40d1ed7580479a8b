"""How a sandbox instance behaves: tenant size and ids, rate limits, faults, tokens."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .faults import FaultConfig

DEFAULT_API_PREFIXES = ("/TDWebApi/api", "/SBTDWebApi/api")


class SandboxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = 1
    tickets: int = Field(500, ge=0, le=100_000, description="tickets in load report 2000")
    ticket_app_id: int = 46
    asset_app_id: int = 48
    rate_limit: bool = True
    rate_window_scale: float = Field(1.0, gt=0.0)
    faults: FaultConfig = Field(default_factory=FaultConfig)
    token_lifetime_s: int = Field(86_400, gt=0)
    api_prefixes: tuple[str, ...] = DEFAULT_API_PREFIXES

    @field_validator("api_prefixes")
    @classmethod
    def _clean_prefixes(cls, prefixes: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple("/" + p.strip("/") for p in prefixes if p.strip("/"))
        if not cleaned:
            raise ValueError("at least one API prefix such as /TDWebApi/api is needed")
        return cleaned
