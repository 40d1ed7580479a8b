"""Safe HTML (and plain-text) fragments for summaries (pure).

The seed pasted ticket titles, asset and lab names into rich-HTML comments as they were, so a
title holding ``<script>`` reached the comment as markup. Here every value is text until it is
escaped: ``Html`` marks a fragment that is already safe (our own markup, or escaped values), and
every renderer escapes anything that is not ``Html``. Links are built only from the configured
web URL (http or https) and integer ids.
"""

from __future__ import annotations

import html as _stdlib_html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

# C0 controls other than tab, newline and carriage return: never meaningful in a comment.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Html(str):
    """A fragment of HTML that is safe to embed as is. Plain ``str`` values are text."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def _clean(value: object) -> str:
    return _CONTROL.sub("", "" if value is None else str(value))


def escape(value: object) -> Html:
    """``value`` as HTML text: ``Html`` passes through, anything else is escaped (None → "")."""
    if isinstance(value, Html):
        return value
    return Html(_stdlib_html.escape(_clean(value), quote=True))


def plain(value: object) -> str:
    """``value`` as plain text (None → "", control characters dropped)."""
    return _clean(value)


def join(parts: Iterable[object], separator: object = "") -> Html:
    """Escape each part that is not ``Html`` and join them with ``separator`` (escaped too)."""
    return Html(escape(separator).join(escape(part) for part in parts))


def element(tag: str, content: object = "", **attributes: str) -> Html:
    """``<tag attr="…">content</tag>``; ``tag`` and attribute names are ours, values escaped."""
    if not re.fullmatch(r"[a-z][a-z0-9]*", tag):
        raise ValueError(f"not an element name: {tag!r}")
    attrs = "".join(
        f' {name.rstrip("_")}="{escape(value)}"' for name, value in sorted(attributes.items())
    )
    return Html(f"<{tag}{attrs}>{escape(content)}</{tag}>")


def checked_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL; ValueError otherwise (no ``javascript:``)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"a link must be an absolute http(s) URL, got {url!r}")
    return url


class TicketLinker(Protocol):
    """Where ticket links come from: the configured tenant (``TenantSettings``)."""

    def ticket_link(self, ticket_id: int) -> str: ...


def ticket_url(linker: TicketLinker, ticket_id: int) -> str:
    """The web URL of a ticket, from the configured web URL and an integer id only."""
    if isinstance(ticket_id, bool) or not isinstance(ticket_id, int) or ticket_id <= 0:
        raise ValueError(f"a ticket id must be a positive integer, got {ticket_id!r}")
    return checked_url(linker.ticket_link(ticket_id))


def ticket_link(linker: TicketLinker, ticket_id: int, text: object = None) -> Html:
    """``<a href="…TicketID=N">text</a>``; the text defaults to the id."""
    return element("a", ticket_id if text is None else text, href=ticket_url(linker, ticket_id))


def bullet_list(items: Iterable[object]) -> Html:
    """``<ul><li>…</li></ul>`` of the items (escaped unless ``Html``); "" when there are none."""
    rows = [element("li", item) for item in items]
    return Html(f"<ul>{''.join(rows)}</ul>") if rows else Html("")


def text_list(items: Iterable[object]) -> str:
    """The plain-text counterpart of ``bullet_list``: one ``- item`` per line."""
    return "\n".join(f"- {plain(item)}" for item in items)


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One line of a ticket table; every text field comes from TDX and is escaped on output."""

    id: int
    title: str | None = None
    status: str | None = None
    modified: datetime | None = None

    def modified_day(self) -> str:
        return self.modified.strftime("%Y-%m-%d") if self.modified is not None else ""


_TABLE_HEADER = Html("<tr><th>ID</th><th>Title</th><th>Status</th><th>Modified</th></tr>")


def ticket_table(rows: Sequence[TicketRow], linker: TicketLinker) -> Html:
    """An HTML table of tickets, the id linking to the ticket; "" when there are none."""
    if not rows:
        return Html("")
    body = "".join(
        "<tr>"
        + element("td", ticket_link(linker, row.id))
        + element("td", row.title)
        + element("td", row.status)
        + element("td", row.modified_day())
        + "</tr>"
        for row in rows
    )
    return Html(f'<table border="1" cellpadding="4">{_TABLE_HEADER}{body}</table>')


def text_ticket_table(rows: Sequence[TicketRow], linker: TicketLinker) -> str:
    """Plain-text tickets, one per line: ``#id title [status, day] url``."""
    lines = []
    for row in rows:
        facts = ", ".join(part for part in (plain(row.status), row.modified_day()) if part)
        suffix = f" [{facts}]" if facts else ""
        lines.append(f"#{row.id} {plain(row.title)}{suffix} {ticket_url(linker, row.id)}")
    return "\n".join(lines)
