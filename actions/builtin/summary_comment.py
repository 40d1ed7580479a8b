"""summary_comment: post the summaries of completed actions not yet carried, as one comment.

``ctx.pending_summaries`` come from the event log (not from the run's memory, as in the seed), so
a failed post is retried with the same summaries, and a quiet poll posts nothing. Summaries are
already-escaped HTML fragments made by the actions; the prefix is plain text and is escaped here.
In plain-text mode the summaries' tags are stripped. The seed's layout is kept: the prefix, a
blank line, then ``1. …`` items joined by ``separator`` (in rich HTML its line breaks become
``<br/>``). The completed details list ``carried_action_ids``: the processor keys the next
summary on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tdxq.actions.base import ActionBase
from tdxq.actions.feed import (
    feed_effect,
    html_to_text,
    marker_for,
    post_marked_entry,
    reconcile_marked_entry,
    with_marker,
)
from tdxq.actions.html import escape
from tdxq.actions.protocol import (
    ActionContext,
    Completed,
    Outcome,
    PriorSummary,
    Reconciliation,
    Skipped,
)
from tdxq.actions.registry import register_action
from tdxq.tdx.models import TicketFeedEntry

NOTHING_TO_REPORT = "No actions were executed."


class SummaryCommentOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    comment_prefix: str = Field(default="\U0001f916 Automated Actions Summary", max_length=500)
    is_private: bool = True
    is_rich_html: bool = True
    skip_if_empty: bool = True
    separator: str = "\n"


def ordered(summaries: Sequence[PriorSummary]) -> list[PriorSummary]:
    """In the order the actions completed (the event log's order)."""
    return sorted(summaries, key=lambda s: (s.completed_position, s.action_id))


def render_summary(options: SummaryCommentOptions, summaries: Sequence[str]) -> str:
    """The comment body (without marker) for these summaries, in rich HTML or plain text."""
    if options.is_rich_html:
        heading = f"<p><strong>{escape(options.comment_prefix)}</strong></p>"
        separator = escape(options.separator).replace("\r\n", "\n").replace("\n", "<br/>")
        items = [f"{n}. {summary}" for n, summary in enumerate(summaries, start=1)]
        body = separator.join(items) if items else str(escape(NOTHING_TO_REPORT))
        return f"{heading}<div>{body}</div>"
    items = [f"{n}. {html_to_text(summary)}" for n, summary in enumerate(summaries, start=1)]
    body = options.separator.join(items) if items else NOTHING_TO_REPORT
    return f"{options.comment_prefix}\n\n{body}"


@register_action
class SummaryCommentAction(ActionBase[SummaryCommentOptions]):
    TYPE = "summary_comment"
    Options = SummaryCommentOptions

    def describe(self, ctx: ActionContext) -> str:
        pending = ordered(ctx.pending_summaries)
        if not pending and self.options.skip_if_empty:
            return "skip: no summaries to post"
        types = ", ".join(s.action_type for s in pending) or "none"
        privacy = "private" if self.options.is_private else "public"
        return f"post a {privacy} summary of {len(pending)} action(s): {types}"

    def execute(self, ctx: ActionContext) -> Outcome:
        o = self.options
        pending = ordered(ctx.pending_summaries)
        if not pending and o.skip_if_empty:
            return Skipped("no summaries to post")
        marker = marker_for(ctx.instance_key)
        body = render_summary(o, [s.summary for s in pending])
        entry = TicketFeedEntry(
            comments=with_marker(body, marker, rich_html=o.is_rich_html),
            is_private=o.is_private,
            is_rich_html=o.is_rich_html,
        )
        item = post_marked_entry(ctx, entry, marker, doing="posting the summary comment")
        details = {**self._details(pending), "feed_item_id": item.id, "marker": marker}
        carried = details["carried_action_ids"]
        return Completed(
            details=details,
            effects=[feed_effect(ctx, item.id, marker, carried_action_ids=carried)],
        )

    def reconcile(self, ctx: ActionContext) -> Reconciliation:
        return reconcile_marked_entry(ctx, self._details(ordered(ctx.pending_summaries)))

    @staticmethod
    def _details(pending: Sequence[PriorSummary]) -> dict[str, Any]:
        return {
            "carried_action_ids": sorted({s.action_id for s in pending}),
            "summary_count": len(pending),
        }
