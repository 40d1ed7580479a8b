"""Which action types exist: type name → action class.

Built-in types register themselves when ``tdxq.actions.builtin`` is imported; every lookup here
imports it first, so callers never see a registry without the built-ins. A plug-in type calls
``register_action`` at import time, before the configuration is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from .base import ActionBase

ActionClass = type[ActionBase[Any]]
A = TypeVar("A", bound=ActionClass)

_registry: dict[str, ActionClass] = {}


class UnknownActionType(LookupError):
    """No action class is registered under this type name."""

    def __init__(self, type_name: str, known: list[str]) -> None:
        super().__init__(f"unknown action type {type_name!r}; known types: {', '.join(known)}")
        self.type_name = type_name
        self.known = known


def register_action(cls: A) -> A:
    """Class decorator: make ``cls`` available as ``cls.TYPE`` in pipeline configuration."""
    type_name = getattr(cls, "TYPE", None)
    if not isinstance(type_name, str) or not type_name:
        raise TypeError(f"{cls.__name__} needs a non-empty TYPE to be registered")
    if not isinstance(getattr(cls, "Options", None), type):
        raise TypeError(f"{cls.__name__} needs an Options model to be registered")
    existing = _registry.get(type_name)
    if existing is not None and existing is not cls:
        raise ValueError(
            f"action type {type_name!r} is already registered by "
            f"{existing.__module__}.{existing.__qualname__}"
        )
    _registry[type_name] = cls
    return cls


def _ensure_builtins() -> None:
    # Imported here, not at module top: the built-ins import this module to register themselves.
    from . import builtin  # noqa: F401


def registered_types() -> list[str]:
    _ensure_builtins()
    return sorted(_registry)


def action_class(type_name: str) -> ActionClass:
    """The class registered for ``type_name``; ``UnknownActionType`` names the known ones."""
    _ensure_builtins()
    try:
        return _registry[type_name]
    except KeyError:
        raise UnknownActionType(type_name, sorted(_registry)) from None


def build_action(
    type_name: str, options: Mapping[str, Any] | None = None, version: str = "v1"
) -> ActionBase[Any]:
    """Validate ``options`` with the type's Options model and build the action.

    Raises ``UnknownActionType`` or pydantic's ``ValidationError``; the config loader turns both
    into messages that name the file and key.
    """
    cls = action_class(type_name)
    return cls(cls.Options.model_validate(dict(options or {})), version)
