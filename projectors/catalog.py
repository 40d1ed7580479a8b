"""Every projection tdxq maintains, by name."""

from __future__ import annotations

from .action_log_projector import ActionLogProjector
from .projector import Projector


def all_projectors() -> list[Projector]:
    return [ActionLogProjector()]


def projector_named(name: str) -> Projector:
    """The projector called ``name``; a clear error listing the known ones otherwise."""
    known = {p.name: p for p in all_projectors()}
    try:
        return known[name]
    except KeyError:
        raise KeyError(f"no projection named {name!r}; known: {', '.join(sorted(known))}") from None
