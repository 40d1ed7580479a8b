"""Fault injection, deterministic by seed: a share of answers become 500/503, slow, dropped,
or (writes only) "effect then fail": the write is applied, then the answer is lost."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

AppliesTo = Literal["reads", "writes", "both"]
EffectThenFailMode = Literal["500", "timeout", "drop"]


class FaultConfig(BaseModel):
    """Rates are probabilities per request; error, drop, slow and effect-then-fail exclude each
    other, so their sum must not exceed 1. `applies_to` selects which calls may get the error,
    drop and slow faults; effect-then-fail only ever hits writes. Logins are never faulted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    slow_rate: float = Field(0.0, ge=0.0, le=1.0)
    slow_seconds: float = Field(1.0, ge=0.0)
    drop_rate: float = Field(0.0, ge=0.0, le=1.0)
    effect_then_fail_rate: float = Field(0.0, ge=0.0, le=1.0)
    effect_then_fail_mode: EffectThenFailMode = "500"
    applies_to: AppliesTo = "both"
    # How long a "timeout" holds a real socket silent before closing it.
    hang_seconds: float = Field(30.0, ge=0.0)

    @model_validator(mode="after")
    def _rates_fit(self) -> FaultConfig:
        total = self.error_rate + self.slow_rate + self.drop_rate + self.effect_then_fail_rate
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {total:.3f}; they must not exceed 1")
        return self

    @property
    def active(self) -> bool:
        return (self.error_rate + self.slow_rate + self.drop_rate + self.effect_then_fail_rate) > 0


class FaultKind(Enum):
    NONE = "none"
    ERROR = "error"
    SLOW = "slow"
    DROP = "drop"
    EFFECT_THEN_FAIL = "effect_then_fail"


@dataclass(frozen=True)
class FaultDecision:
    kind: FaultKind
    error_status: int = 500


NO_FAULT = FaultDecision(FaultKind.NONE)


def decide_fault(
    config: FaultConfig, draw: float, second_draw: float, is_write: bool
) -> FaultDecision:
    """Pure: map two uniform draws in [0, 1) to a fault for one request."""
    targeted = config.applies_to == "both" or (config.applies_to == "writes") == is_write
    edge = 0.0
    for kind, rate in (
        (FaultKind.ERROR, config.error_rate),
        (FaultKind.DROP, config.drop_rate),
        (FaultKind.SLOW, config.slow_rate),
    ):
        edge += rate
        if draw < edge:
            if not targeted:
                return NO_FAULT
            status = 500 if second_draw < 0.7 else 503
            return FaultDecision(kind, error_status=status)
    edge += config.effect_then_fail_rate
    if draw < edge and is_write:
        return FaultDecision(FaultKind.EFFECT_THEN_FAIL)
    return NO_FAULT


class FaultInjector:
    """Draws twice per faultable request from one seeded RNG under a lock, so a given sequence
    of requests meets the same faults on every run. Replacing the config restarts the RNG."""

    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._rng = random.Random(config.seed)

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)

    def draw(self, is_write: bool) -> FaultDecision:
        with self._lock:
            config = self._config
            first, second = self._rng.random(), self._rng.random()
        return decide_fault(config, first, second, is_write)
