"""Posting a feed entry that tdxq can find again, and finding it (shared by comment actions).

**The marker.** Every feed entry tdxq posts ends with a marker derived from the action instance's
``instance_key``: ``[tdxq:<20 hex digits>]`` where the digits are the start of the SHA-256 of the
key. It is visible text on purpose: TDX sanitizes rich HTML (a hidden ``<span>`` or a ``style``
may be stripped) and turns plain-text line breaks into ``<br/>``, but it keeps text, and hex
digits survive every escaping. In plain text the marker is the final line; in rich HTML it is a
final small grey paragraph. ``reconcile`` looks for ``tdxq:<digits>`` in the bodies of the
ticket's feed: found → the post happened (its feed item id is the effect); not found → it did not;
feed unreadable → cannot tell.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from html.parser import HTMLParser
from typing import Any

from tdxq.eventlog.events import Effect
from tdxq.tdx.errors import TdxError
from tdxq.tdx.models import FeedItem, TicketFeedEntry

from .failures import action_error
from .protocol import (
    ActionContext,
    ActionError,
    Completed,
    ReconcileVerdict,
    Reconciliation,
)

MARKER_HEX_DIGITS = 20
_MARKER_TEXT = re.compile(rf"tdxq:[0-9a-f]{{{MARKER_HEX_DIGITS}}}")


def marker_for(instance_key: str) -> str:
    """``tdxq:<hex>`` for this action instance; the same key always gives the same marker."""
    if not instance_key:
        raise ActionError(
            "no instance key: the processor must give each action instance a key so its feed "
            "entry can be found again",
            retryable=False,
        )
    digest = hashlib.sha256(instance_key.encode("utf-8")).hexdigest()
    return f"tdxq:{digest[:MARKER_HEX_DIGITS]}"


def with_marker(body: str, marker: str, *, rich_html: bool) -> str:
    """``body`` with the marker appended in the form documented above."""
    if rich_html:
        return f'{body}<p style="color:#888888;font-size:smaller">[{marker}]</p>'
    return f"{body.rstrip()}\n\n[{marker}]"


def markers_in(text: str) -> set[str]:
    return set(_MARKER_TEXT.findall(text))


def find_marked(feed: Iterable[FeedItem], marker: str) -> FeedItem | None:
    """The first feed entry whose body carries ``marker``."""
    for item in feed:
        if item.body and marker in item.body:
            return item
    return None


def feed_effect(ctx: ActionContext, item_id: int, marker: str, **detail: Any) -> Effect:
    return Effect(
        kind="feed_entry",
        ticket_id=ctx.ticket_id,
        target_id=item_id,
        detail={"marker": marker, **detail},
    )


def post_marked_entry(
    ctx: ActionContext, entry: TicketFeedEntry, marker: str, *, doing: str
) -> FeedItem:
    """Post ``entry`` (whose comments already carry ``marker``); TDX errors → ActionError."""
    if entry.comments is None or marker not in entry.comments:
        raise ValueError("the entry's comments must carry the marker before posting")
    reads = ctx.reads
    try:
        item = reads.client.post_ticket_feed(ctx.tenant.ticket_app_id, ctx.ticket_id, entry)
    except TdxError as exc:
        raise action_error(exc, doing) from exc
    finally:
        # Even a failed post may have landed: later reads must not trust the cached feed.
        reads.invalidate_feed()
        if entry.new_status_id is not None:
            reads.invalidate_ticket()
    return item


def reconcile_marked_entry(
    ctx: ActionContext, details: Mapping[str, Any], *, summary: str | None = None
) -> Reconciliation:
    """Look for this instance's marker in the ticket feed (always read fresh)."""
    marker = marker_for(ctx.instance_key)
    ctx.reads.invalidate_feed()
    try:
        feed = ctx.reads.feed()
    except TdxError as exc:
        return Reconciliation(
            ReconcileVerdict.UNKNOWN,
            note=f"cannot read the ticket feed: {type(exc).__name__}: {exc}",
        )
    item = find_marked(feed, marker)
    if item is None:
        return Reconciliation(ReconcileVerdict.NOT_FOUND, note=f"no feed entry carries {marker}")
    outcome = Completed(
        summary=summary,
        details={**details, "feed_item_id": item.id, "marker": marker},
        effects=[feed_effect(ctx, item.id, marker, reconciled=True)],
    )
    return Reconciliation(
        ReconcileVerdict.FOUND, outcome=outcome, note=f"found feed entry {item.id}"
    )


# --- HTML → plain text, for plain-text comments built from HTML summaries ---------------------

_BLOCK = frozenset(
    {"br", "p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
     "blockquote", "pre", "hr", "section", "thead", "tbody"}
)  # fmt: skip
_CELL = frozenset({"td", "th"})
_HIDDEN = frozenset({"script", "style", "head", "title", "template"})


class _PlainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag in _CELL:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """The readable text of an HTML fragment: tags dropped, entities decoded, blocks on lines."""
    parser = _PlainText()
    parser.feed(fragment)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def preview(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
