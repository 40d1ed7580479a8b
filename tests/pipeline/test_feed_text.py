"""The pure parts of posting feed entries: markers, summary layout, HTML to text, error mapping."""

from __future__ import annotations

import pytest

from tdxq.actions.builtin.summary_comment import SummaryCommentOptions, render_summary
from tdxq.actions.failures import action_error
from tdxq.actions.feed import html_to_text, marker_for, markers_in, with_marker
from tdxq.actions.protocol import ActionError, ActionInDoubt
from tdxq.tdx.errors import (
    AmbiguousWrite,
    BadRequest,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    TdxError,
    TransportError,
)


def test_marker_is_stable_per_instance_key_and_differs_between_keys() -> None:
    first = marker_for("ticket:1|comment:abc:v1|1")
    assert first == marker_for("ticket:1|comment:abc:v1|1")
    assert first != marker_for("ticket:1|comment:abc:v1|2")
    assert first.startswith("tdxq:") and len(first) == len("tdxq:") + 20


def test_marker_needs_an_instance_key() -> None:
    with pytest.raises(ActionError, match="no instance key") as caught:
        marker_for("")
    assert caught.value.retryable is False


@pytest.mark.parametrize("rich", [True, False])
def test_marker_survives_the_forms_tdx_stores(rich: bool) -> None:
    marker = marker_for("k")
    body = with_marker("Hello <b>there</b>" if rich else "Hello\nthere", marker, rich_html=rich)
    # TDX keeps rich HTML as sent, and turns plain-text line breaks into <br/>.
    stored = body if rich else body.replace("\n", "<br/>")
    assert markers_in(stored) == {marker}
    assert markers_in(html_to_text(stored)) == {marker}
    if not rich:
        assert body.splitlines()[-1] == f"[{marker}]"


def test_rich_summary_escapes_the_prefix_and_keeps_summaries_as_html() -> None:
    options = SummaryCommentOptions(comment_prefix="<script>alert(1)</script> & co")
    body = render_summary(options, ["Linked <b>EH-LAB-1</b>", "<table><tr><td>x</td></tr></table>"])

    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in body
    assert "1. Linked <b>EH-LAB-1</b><br/>2. <table>" in body


def test_plain_summary_strips_tags_and_uses_the_separator() -> None:
    options = SummaryCommentOptions(is_rich_html=False, separator="\n---\n")
    body = render_summary(
        options,
        ["Linked <b>EH-LAB-1</b> &amp; more", "<table><tr><td>#5</td><td>VPN</td></tr></table>"],
    )

    assert body == (
        "\U0001f916 Automated Actions Summary\n\n1. Linked EH-LAB-1 & more\n---\n2. #5 VPN"
    )


def test_empty_summary_says_so() -> None:
    options = SummaryCommentOptions(skip_if_empty=False, is_rich_html=False)
    assert render_summary(options, []).endswith("\n\nNo actions were executed.")


def test_html_to_text_drops_scripts_and_styles_and_keeps_lines() -> None:
    text = html_to_text(
        "<style>p{font-family:x}</style><p>One&nbsp;two</p><script>evil()</script>"
        "<ul><li>a</li><li>b</li></ul>"
    )
    assert text == "One two\na\nb"
    assert "evil" not in text and "font-family" not in text


@pytest.mark.parametrize(
    ("error", "retryable", "in_doubt"),
    [
        (BadRequest("400", tdx_message="bad", status=400), False, False),
        (NotFound("404", status=404), False, False),
        (Forbidden("403", status=403), False, False),
        (RateLimited("429", status=429), True, False),
        (ServerError("503", status=503), True, False),
        (TransportError("timeout"), True, False),
        (AmbiguousWrite("lost", reason="timeout", method="POST", path="{appId}/x"), True, True),
    ],
)
def test_tdx_errors_map_to_retryable_or_not(
    error: Exception, retryable: bool, in_doubt: bool
) -> None:
    assert isinstance(error, TdxError)
    mapped = action_error(error, "posting the comment")
    assert mapped.retryable is retryable
    assert isinstance(mapped, ActionInDoubt) is in_doubt
    assert str(mapped).startswith("posting the comment")
