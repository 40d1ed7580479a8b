"""A base for configured actions: options, version and the two ids, done once for every type.

A concrete action sets ``TYPE`` and ``Options`` (a pydantic model with ``extra="forbid"`` and a
default for every optional setting), and implements ``describe``, ``execute`` and ``reconcile``.
The registry builds it as ``cls(options, version)``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from .identity import LEGACY_FIELDS, action_id, legacy_action_id, legacy_fields
from .protocol import ActionContext, Outcome, Reconciliation

OptionsT = TypeVar("OptionsT", bound=BaseModel)


class ActionBase(Generic[OptionsT]):
    """Options, version, ``action_id`` and ``legacy_id`` of one configured pipeline step."""

    TYPE: ClassVar[str]
    Options: ClassVar[type[BaseModel]]
    # Names of the [lookups] entries this type calls; config check fails early when one is missing.
    NEEDS_LOOKUPS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, options: OptionsT, version: str = "v1") -> None:
        if not isinstance(options, self.Options):
            raise TypeError(
                f"{type(self).__name__} takes {self.Options.__name__} options, "
                f"got {type(options).__name__}"
            )
        self._options = options
        self._version = version

    @property
    def options(self) -> OptionsT:
        return self._options

    @property
    def version(self) -> str:
        return self._version

    @cached_property
    def action_id(self) -> str:
        """``{type}:{hash12}:{version}`` over the canonical JSON of the validated options."""
        return action_id(self.TYPE, self._options, self._version)

    @cached_property
    def legacy_id(self) -> str | None:
        """The id the seed daemon gave this step (to import its history); None for new types."""
        if self.TYPE not in LEGACY_FIELDS:
            return None
        return legacy_action_id(self.TYPE, self.legacy_fields(), self._version)

    def legacy_fields(self) -> dict[str, Any]:
        """The seed's hashed fields: the options it knew, by name; override to translate values."""
        hashed = LEGACY_FIELDS[self.TYPE]
        dumped = self._options.model_dump(mode="python")
        return legacy_fields(self.TYPE, {k: v for k, v in dumped.items() if k in hashed})

    def describe(self, ctx: ActionContext) -> str:
        raise NotImplementedError

    def execute(self, ctx: ActionContext) -> Outcome:
        raise NotImplementedError

    def reconcile(self, ctx: ActionContext) -> Reconciliation:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.action_id}>"
