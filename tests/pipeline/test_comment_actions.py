"""comment and summary_comment against the in-process sandbox: what is posted, and reconcile."""

from __future__ import annotations

from typing import Any

import pytest

from tdxq.actions.builtin.comment import CommentAction, CommentOptions
from tdxq.actions.builtin.summary_comment import SummaryCommentAction, SummaryCommentOptions
from tdxq.actions.feed import marker_for
from tdxq.actions.protocol import (
    ActionError,
    ActionInDoubt,
    Completed,
    PriorSummary,
    ReconcileVerdict,
    Skipped,
)
from tdxq.tdx.sandbox.faults import FaultConfig

from .tdx_env import TdxEnv

KEY = "ticket:9291804|comment:abc:v1|1"


def ticket_id(env: TdxEnv) -> int:
    return env.app.settings.sample_ticket_id


def body_of(write: dict[str, Any]) -> dict[str, Any]:
    body = write["body"]
    assert isinstance(body, dict)
    return body


def comment(**options: Any) -> CommentAction:
    return CommentAction(CommentOptions(**options), "v1")


def test_comment_posts_exactly_what_the_options_say(env: TdxEnv) -> None:
    in_process = env.app.settings.ticket_status_ids["In Process"]
    action = comment(
        comment_text="Hello <World>",
        is_private=True,
        is_communication=True,
        notify=["b@example.edu", "a@example.edu"],
        new_status_id=in_process,
    )
    ctx = env.context(ticket_id(env), instance_key=KEY)

    outcome = action.execute(ctx)

    writes = env.app.writes
    assert len(writes) == 1
    assert writes[0]["method"] == "POST"
    assert writes[0]["path"].lower().endswith(f"/tickets/{ticket_id(env)}/feed")
    marker = marker_for(KEY)
    assert body_of(writes[0]) == {
        "Comments": f"Hello <World>\n\n[{marker}]",
        "IsPrivate": True,
        "IsRichHtml": False,
        "IsCommunication": True,
        "Notify": ["a@example.edu", "b@example.edu"],
        "NewStatusID": in_process,
        "CascadeStatus": False,
    }
    assert isinstance(outcome, Completed)
    (effect,) = outcome.effects
    assert effect.kind == "feed_entry" and effect.ticket_id == ticket_id(env)
    assert effect.detail["marker"] == marker
    assert outcome.details["feed_item_id"] == effect.target_id
    # The shared cache forgot the feed and the ticket: the next reads see the change.
    assert any(item.id == effect.target_id for item in ctx.reads.feed())
    assert ctx.reads.ticket().status_id == in_process


def test_defaults_post_a_public_plain_comment_without_status_change(env: TdxEnv) -> None:
    comment(comment_text="Hello World").execute(env.context(ticket_id(env), instance_key=KEY))

    (write,) = env.app.writes
    body = body_of(write)
    assert body["IsPrivate"] is False and body["IsRichHtml"] is False
    assert "NewStatusID" not in body and body["Notify"] == []


def test_rich_comment_ends_with_the_marker_paragraph(env: TdxEnv) -> None:
    comment(comment_text="<p>Hi</p>", is_rich_html=True).execute(
        env.context(ticket_id(env), instance_key=KEY)
    )
    body = body_of(env.app.writes[0])
    assert body["Comments"].startswith("<p>Hi</p><p ")
    assert body["Comments"].endswith(f"[{marker_for(KEY)}]</p>")


def test_describe_makes_no_write(env: TdxEnv) -> None:
    text = comment(comment_text="Hello World", is_private=True).describe(
        env.context(ticket_id(env), instance_key=KEY)
    )
    assert text.startswith("post a private plain-text comment: 'Hello World'")
    assert env.app.writes == []


def test_reconcile_finds_its_own_entry_and_only_its_own(env: TdxEnv) -> None:
    action = comment(comment_text="Hello World")
    posted = action.execute(env.context(ticket_id(env), instance_key=KEY))
    assert isinstance(posted, Completed)

    found = action.reconcile(env.context(ticket_id(env), instance_key=KEY))
    assert found.verdict is ReconcileVerdict.FOUND
    assert found.outcome is not None
    assert found.outcome.effects[0].target_id == posted.effects[0].target_id
    assert found.outcome.details["feed_item_id"] == posted.details["feed_item_id"]

    other = action.reconcile(env.context(ticket_id(env), instance_key=KEY + "-again"))
    assert other.verdict is ReconcileVerdict.NOT_FOUND
    assert len(env.app.writes) == 1


def test_reconcile_cannot_tell_when_the_feed_cannot_be_read(env: TdxEnv) -> None:
    env.app.set_faults(FaultConfig(error_rate=1.0, applies_to="reads"))
    result = comment(comment_text="x").reconcile(env.context(ticket_id(env), instance_key=KEY))
    assert result.verdict is ReconcileVerdict.UNKNOWN
    assert "cannot read the ticket feed" in result.note


def test_lost_answer_is_in_doubt_and_reconcile_then_finds_the_entry(env: TdxEnv) -> None:
    action = comment(comment_text="Hello World")
    env.app.set_faults(FaultConfig(effect_then_fail_rate=1.0))

    with pytest.raises(ActionInDoubt) as caught:
        action.execute(env.context(ticket_id(env), instance_key=KEY))
    assert caught.value.retryable is True

    env.app.set_faults(FaultConfig())
    result = action.reconcile(env.context(ticket_id(env), instance_key=KEY))
    assert result.verdict is ReconcileVerdict.FOUND
    assert len(env.feed_writes()) == 1


def test_a_rejected_post_is_a_permanent_failure(env: TdxEnv) -> None:
    missing_ticket = 1
    with pytest.raises(ActionError) as caught:
        comment(comment_text="x").execute(env.context(missing_ticket, instance_key=KEY))
    assert not isinstance(caught.value, ActionInDoubt)
    assert caught.value.retryable is False
    assert str(caught.value).startswith("posting the comment failed: NotFound")


def summaries(*pairs: tuple[str, str]) -> list[PriorSummary]:
    return [
        PriorSummary(action_id=action_id, action_type=action_id.split(":")[0], summary=text,
                     completed_position=position)
        for position, (action_id, text) in enumerate(pairs, start=10)
    ]  # fmt: skip


def test_summary_escapes_the_prefix_and_carries_sorted_action_ids(env: TdxEnv) -> None:
    action = SummaryCommentAction(
        SummaryCommentOptions(comment_prefix="<script>alert('x')</script> Summary"), "v2"
    )
    pending = summaries(
        ("add_lab:bbbbbbbbbbbb:v2", "Linked lab <b>Chem Lab</b>"),
        ("add_asset:aaaaaaaaaaaa:v2", "Linked EH-CHEM-LAB-014 &lt;x&gt;"),
    )

    outcome = action.execute(env.context(ticket_id(env), instance_key=KEY, pending=pending))

    (write,) = env.app.writes
    body = body_of(write)
    assert body["IsPrivate"] is True and body["IsRichHtml"] is True
    comments = body["Comments"]
    assert "<script>" not in comments
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Summary" in comments
    assert "1. Linked lab <b>Chem Lab</b><br/>2. Linked EH-CHEM-LAB-014 &lt;x&gt;" in comments
    assert isinstance(outcome, Completed)
    assert outcome.summary is None
    assert outcome.details["carried_action_ids"] == [
        "add_asset:aaaaaaaaaaaa:v2",
        "add_lab:bbbbbbbbbbbb:v2",
    ]
    assert outcome.effects[0].detail["carried_action_ids"] == outcome.details["carried_action_ids"]


def test_summary_skips_when_nothing_is_pending(env: TdxEnv) -> None:
    action = SummaryCommentAction(SummaryCommentOptions(), "v2")
    outcome = action.execute(env.context(ticket_id(env), instance_key=KEY))
    assert isinstance(outcome, Skipped)
    assert env.app.writes == []


def test_summary_in_doubt_then_reconciled_with_its_carried_ids(env: TdxEnv) -> None:
    action = SummaryCommentAction(SummaryCommentOptions(is_rich_html=False), "v2")
    pending = summaries(("add_asset:aaaaaaaaaaaa:v2", "Linked <b>X1</b>"))
    env.app.set_faults(FaultConfig(effect_then_fail_rate=1.0))
    with pytest.raises(ActionInDoubt):
        action.execute(env.context(ticket_id(env), instance_key=KEY, pending=pending))
    env.app.set_faults(FaultConfig())

    result = action.reconcile(env.context(ticket_id(env), instance_key=KEY, pending=pending))

    assert result.verdict is ReconcileVerdict.FOUND
    assert result.outcome is not None
    assert result.outcome.details["carried_action_ids"] == ["add_asset:aaaaaaaaaaaa:v2"]
    (write,) = env.feed_writes()
    assert body_of(write)["Comments"].startswith(
        "\U0001f916 Automated Actions Summary\n\n1. Linked X1\n\n[tdxq:"
    )
