"""comment: post a feed entry (text, private, rich HTML, communication, notify, new status).

The seed's options and defaults; ``new_status_id`` 0 (the seed's "no change") is read as unset.
The posted text ends with the instance marker (see ``tdxq.actions.feed``) so ``reconcile`` can
find the entry after a crash.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tdxq.actions.base import ActionBase
from tdxq.actions.feed import (
    feed_effect,
    marker_for,
    post_marked_entry,
    preview,
    reconcile_marked_entry,
    with_marker,
)
from tdxq.actions.identity import legacy_fields
from tdxq.actions.protocol import ActionContext, Completed, Outcome, Reconciliation
from tdxq.actions.registry import register_action
from tdxq.tdx.models import TicketFeedEntry


class CommentOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    comment_text: str = Field(min_length=1, description="the text (HTML when is_rich_html)")
    is_private: bool = False
    is_rich_html: bool = False
    is_communication: bool = False
    notify: list[str] = Field(default_factory=list, description="e-mail addresses to notify")
    new_status_id: int | None = Field(default=None, description="status to set; 0/unset keeps it")
    cascade_status: bool = False

    @field_validator("comment_text")
    @classmethod
    def _has_text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a comment with some text")
        return value

    @field_validator("notify")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        cleaned = {address.strip() for address in value}
        if any(not address or any(ch.isspace() for ch in address) for address in cleaned):
            raise ValueError("e-mail addresses without spaces")
        # Sorted: the order of recipients must not change the action id.
        return sorted(cleaned)

    @field_validator("new_status_id")
    @classmethod
    def _zero_is_unset(cls, value: int | None) -> int | None:
        if value is not None and value < 0:
            raise ValueError("a ticket status id (or 0 to keep the status)")
        return value or None


@register_action
class CommentAction(ActionBase[CommentOptions]):
    TYPE = "comment"
    Options = CommentOptions

    def legacy_fields(self) -> dict[str, Any]:
        o = self.options
        overrides: dict[str, Any] = {
            "comment_text": o.comment_text,
            "is_private": o.is_private,
            "is_rich_html": o.is_rich_html,
            "is_communication": o.is_communication,
            "new_status_id": o.new_status_id or 0,
            "cascade_status": o.cascade_status,
        }
        if o.notify:
            # Without recipients the seed hashed its default ["null"]; tdxq sends none.
            overrides["notify"] = list(o.notify)
        return legacy_fields(self.TYPE, overrides)

    def describe(self, ctx: ActionContext) -> str:
        o = self.options
        privacy = "private" if o.is_private else "public"
        kind = f"{privacy} {'rich-HTML' if o.is_rich_html else 'plain-text'}"
        extras = []
        if o.new_status_id is not None:
            extras.append(
                f"set status {o.new_status_id}" + (" (cascade)" if o.cascade_status else "")
            )
        if o.notify:
            extras.append(f"notify {len(o.notify)}")
        if o.is_communication:
            extras.append("communication record")
        suffix = f"; {', '.join(extras)}" if extras else ""
        return f"post a {kind} comment: {preview(o.comment_text)!r}{suffix}"

    def execute(self, ctx: ActionContext) -> Outcome:
        o = self.options
        marker = marker_for(ctx.instance_key)
        entry = TicketFeedEntry(
            comments=with_marker(o.comment_text, marker, rich_html=o.is_rich_html),
            is_private=o.is_private,
            is_rich_html=o.is_rich_html,
            is_communication=o.is_communication,
            notify=list(o.notify),
            new_status_id=o.new_status_id,
            cascade_status=o.cascade_status,
        )
        item = post_marked_entry(ctx, entry, marker, doing="posting the comment")
        return Completed(
            details=self._details(item.id, marker),
            effects=[feed_effect(ctx, item.id, marker, new_status_id=o.new_status_id)],
        )

    def reconcile(self, ctx: ActionContext) -> Reconciliation:
        return reconcile_marked_entry(ctx, self._details(None, None))

    def _details(self, item_id: int | None, marker: str | None) -> dict[str, Any]:
        details: dict[str, Any] = {
            "is_private": self.options.is_private,
            "new_status_id": self.options.new_status_id,
            "comment_length": len(self.options.comment_text),
        }
        if item_id is not None:
            details["feed_item_id"] = item_id
            details["marker"] = marker
        return details
