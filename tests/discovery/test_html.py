"""Safe HTML fragments: escaping, links only from the configured web URL and integer ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tdxq.actions.context import TenantSettings
from tdxq.actions.html import (
    Html,
    TicketRow,
    bullet_list,
    element,
    escape,
    join,
    text_list,
    text_ticket_table,
    ticket_link,
    ticket_table,
    ticket_url,
)
from tdxq.actions.identifiers import visible_text

TENANT = TenantSettings(ticket_app_id=46, asset_app_id=48, web_url="https://tdx.example.edu/TDNext")
HOSTILE = "<script>alert('x')</script> & \"quoted\" <img src=x onerror=alert(1)>\x00"


def test_escape_text_but_not_html() -> None:
    assert escape(HOSTILE) == (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot; "
        "&lt;img src=x onerror=alert(1)&gt;"
    )
    assert escape(Html("<b>ok</b>")) == "<b>ok</b>"
    assert escape(None) == ""
    assert escape(42) == "42"


def test_join_and_element_escape_every_plain_value() -> None:
    fragment = join([Html("<p>"), HOSTILE, Html("</p>")])
    assert "<script>" not in fragment
    assert fragment.startswith("<p>") and fragment.endswith("</p>")
    assert element("td", HOSTILE, title=HOSTILE).count("<script>") == 0
    with pytest.raises(ValueError, match="element name"):
        element("td onmouseover=x", "a")


def test_ticket_links_come_from_the_web_url_and_integer_ids_only() -> None:
    link = ticket_link(TENANT, 123, HOSTILE)
    assert link.startswith(
        '<a href="https://tdx.example.edu/TDNext/Apps/46/Tickets/TicketDet?TicketID=123">'
    )
    assert "<script>" not in link
    for bad in ("123", 1.5, True, 0, -4):
        with pytest.raises(ValueError, match="positive integer"):
            ticket_url(TENANT, bad)  # type: ignore[arg-type]
    evil = TenantSettings(ticket_app_id=46, asset_app_id=48, web_url="javascript:alert(1)//")
    with pytest.raises(ValueError, match="http"):
        ticket_url(evil, 5)


def test_ticket_table_and_plain_text() -> None:
    rows = [
        TicketRow(7, HOSTILE, "In <b>Process</b>", datetime(2026, 5, 1, 20, tzinfo=UTC)),
        TicketRow(8, None, None, None),
    ]
    table = ticket_table(rows, TENANT)
    assert table.count("<tr>") == 3
    assert "<script>" not in table and "<b>Process</b>" not in table
    assert "TicketID=7" in table and "2026-05-01" in table
    # What a reader sees is the original text.
    assert HOSTILE.replace("\x00", "") in visible_text(table)
    text = text_ticket_table(rows, TENANT)
    assert text.splitlines()[0].startswith("#7 <script>alert('x')</script>")
    assert "[In <b>Process</b>, 2026-05-01]" in text
    assert ticket_table([], TENANT) == ""


def test_lists() -> None:
    assert bullet_list(["a<b", Html("<i>c</i>")]) == "<ul><li>a&lt;b</li><li><i>c</i></li></ul>"
    assert bullet_list([]) == ""
    assert text_list(["a", "b\x07"]) == "- a\n- b"


@given(st.text(max_size=200))
def test_escaped_text_never_opens_a_tag_and_reads_back_unchanged(text: str) -> None:
    fragment = element("p", text)
    inner = fragment[len("<p>") : -len("</p>")]
    assert "<" not in inner and ">" not in inner
    cleaned = "".join(ch for ch in text if ch in "\t\n\r" or (ord(ch) >= 0x20 and ord(ch) != 0x7F))
    assert visible_text(fragment)[1:-1] == cleaned
