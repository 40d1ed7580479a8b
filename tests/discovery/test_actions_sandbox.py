"""add_asset, add_lab and find_active_tickets against the in-process sandbox (real client)."""

from __future__ import annotations

import pytest

from tdxq.actions.builtin.discovery_support import ticket_links
from tdxq.actions.builtin.find_active_tickets import (
    FindActiveTickets,
    FindActiveTicketsOptions,
    category_searches,
)
from tdxq.actions.identifiers import visible_text
from tdxq.actions.protocol import ActionError, ActionInDoubt, Completed, ReconcileVerdict, Skipped
from tdxq.tdx.sandbox.faults import FaultConfig
from tdxq.tdx.sandbox.generate import SAMPLE_LAB_COMPUTER

from .sandbox_world import CSS_HEAVY, SCRIPT_TITLE, TenantBuilder, World

ASSET_SEARCH = "POST {app}/assets/search"


def link_writes(world: World) -> list[str]:
    return [str(w["path"]) for w in world.env.app.writes if "/assets/" in str(w["path"])
            or "/configurationItems/" in str(w["path"])]  # fmt: skip


@pytest.fixture
def builder() -> TenantBuilder:
    return TenantBuilder()


# --- add_asset ------------------------------------------------------------------------------


def test_css_heavy_html_emails_and_phones_yield_no_identifiers(builder: TenantBuilder) -> None:
    nobody = builder.person_owning(0)
    ticket = builder.ticket("Screen flickers", CSS_HEAVY, nobody)
    builder.comment(ticket, "<p style='font-family:Arial'>Reach me at 734-555-0142.</p>", nobody)
    world = builder.world()

    plan = world.add_asset.plan(world.env.context(ticket.id))
    assert plan.identifiers == []
    world.env.app.reset()
    outcome = world.add_asset.execute(world.env.context(ticket.id))

    assert isinstance(outcome, Skipped)
    assert "no computer name or serial number" in outcome.reason
    # Phases 1 and 2 asked nothing; phase 3 made the one owner search.
    assert world.env.app.call_counts.get(ASSET_SEARCH) == 1
    assert world.env.app.writes == []


def test_a_ticket_already_linked_to_its_computer_is_not_linked_again(
    builder: TenantBuilder,
) -> None:
    computer = builder.computers[3]
    owner = builder.person_owning(0)
    ticket = builder.ticket(
        f"{computer.name} will not boot",
        f"<p>Serial {computer.serial}, tag {computer.tag}</p>",
        owner,
        linked=[computer.ci_id],
    )
    world = builder.world()

    outcome = world.add_asset.execute(world.env.context(ticket.id))

    assert isinstance(outcome, Skipped)
    assert "already linked" in outcome.reason
    assert world.env.app.writes == []


def test_phase_one_links_by_serial_once_and_shares_what_it_linked(builder: TenantBuilder) -> None:
    computer = builder.computer_with_serial(5)
    ticket = builder.ticket(
        "Laptop slow", f"<p>Dell tag {computer.serial} since Monday</p>", builder.person_owning(2)
    )
    world = builder.world()

    ctx = world.env.context(ticket.id)
    outcome = world.add_asset.execute(ctx)

    assert isinstance(outcome, Completed)
    assert [e.target_id for e in outcome.effects] == [computer.id]
    assert outcome.effects[0].kind == "asset_link"
    assert outcome.details["phase"] == 1
    assert ctx.shared["add_asset"]["linked_asset_ids"] == [computer.id]
    assert link_writes(world) == [f"/TDWebApi/api/46/tickets/{ticket.id}/assets/{computer.id}"]
    assert computer.ci_id in world.env.app.store.tickets_by_id[ticket.id].ci_ids

    again = world.add_asset.execute(world.env.context(ticket.id))
    assert isinstance(again, Skipped)
    assert len(link_writes(world)) == 1


def test_phase_two_reads_the_conversation_but_not_tdxq_own_entries(
    builder: TenantBuilder,
) -> None:
    requestor = builder.person_owning(2)
    wanted, foreign = builder.computer_with_serial(7), builder.computers[8]
    ticket = builder.ticket("Keyboard not responding", "<p>It just stopped.</p>", requestor)
    builder.comment(
        ticket,
        f"<p>Related tickets: {foreign.name}</p><p>[tdxq:0123456789abcdef0123]</p>",
        requestor,
        minutes=2,
    )
    builder.comment(ticket, f"The sticker says {wanted.serial}.", requestor, minutes=9)
    world = builder.world()

    outcome = world.add_asset.execute(world.env.context(ticket.id))

    assert isinstance(outcome, Completed)
    assert outcome.details["phase"] == 2
    assert [e.target_id for e in outcome.effects] == [wanted.id]
    assert outcome.details["identifiers"] == [wanted.serial]


def test_phase_three_links_the_requestors_only_active_computer(builder: TenantBuilder) -> None:
    one_active = builder.person_owning(1, retired=1)
    two_active = builder.person_owning(2)
    lone = builder.ticket("Outlook asks for my password", "<p>Again.</p>", one_active)
    many = builder.ticket("Outlook asks for my password", "<p>Again.</p>", two_active)
    world = builder.world()
    (only,) = [c for c in builder.computers if c.owner_uid == one_active.uid]

    linked = world.add_asset.execute(world.env.context(lone.id))
    skipped = world.add_asset.execute(world.env.context(many.id))

    assert isinstance(linked, Completed)
    assert linked.details["phase"] == 3
    assert [e.target_id for e in linked.effects] == [only.id]
    assert "requestor's only active computer" in visible_text(str(linked.summary))
    assert isinstance(skipped, Skipped)
    assert "owns 2 active computers" in skipped.reason


def test_an_ambiguous_link_is_in_doubt_and_reconciles_without_linking_twice(
    builder: TenantBuilder,
) -> None:
    computer = builder.computers[11]
    ticket = builder.ticket(f"{computer.name} dead", "", builder.person_owning(0))
    world = builder.world()
    world.env.app.set_faults(FaultConfig(effect_then_fail_rate=1.0, applies_to="writes"))

    with pytest.raises(ActionInDoubt):
        world.add_asset.execute(world.env.context(ticket.id))
    world.env.app.set_faults(FaultConfig())

    verdict = world.add_asset.reconcile(world.env.context(ticket.id))
    assert verdict.verdict is ReconcileVerdict.FOUND
    assert verdict.outcome is not None
    assert [e.target_id for e in verdict.outcome.effects] == [computer.id]
    assert isinstance(world.add_asset.execute(world.env.context(ticket.id)), Skipped)
    assert len(link_writes(world)) == 1


def test_reconcile_before_any_link_says_not_found(builder: TenantBuilder) -> None:
    computer = builder.computers[12]
    ticket = builder.ticket(f"{computer.name} dead", "", builder.person_owning(0))
    world = builder.world()

    verdict = world.add_asset.reconcile(world.env.context(ticket.id))
    assert verdict.verdict is ReconcileVerdict.NOT_FOUND
    assert world.env.app.writes == []


# --- add_lab --------------------------------------------------------------------------------


def test_add_lab_uses_the_computers_lab_and_skips_when_a_lab_is_linked(
    builder: TenantBuilder,
) -> None:
    lab = builder.tenant.labs[0]
    computer = next(a for a in builder.tenant.assets if a.id == lab.computer_asset_ids[0])
    outsider = builder.person_owning(0)
    with_computer = builder.ticket("Lab PC", "", outsider, linked=[computer.ci_id])
    with_lab = builder.ticket("Lab PC", "", outsider, linked=[computer.ci_id, lab.ci_id])
    world = builder.world()

    outcome = world.add_lab.execute(world.env.context(with_computer.id))
    assert isinstance(outcome, Completed)
    assert [(e.kind, e.target_id) for e in outcome.effects] == [("ci_link", lab.ci_id)]
    assert outcome.details["found_by"] == "computers"
    assert world.add_lab.reconcile(world.env.context(with_computer.id)).verdict is (
        ReconcileVerdict.FOUND
    )

    skipped = world.add_lab.execute(world.env.context(with_lab.id))
    assert isinstance(skipped, Skipped)
    assert "already has a lab" in skipped.reason
    assert link_writes(world) == [
        f"/TDWebApi/api/46/tickets/{with_computer.id}/configurationItems/{lab.ci_id}"
    ]


def test_add_lab_falls_back_to_the_requestors_lab(builder: TenantBuilder) -> None:
    lab = builder.tenant.labs[1]
    member = next(p for p in builder.tenant.people if p.uid == lab.member_uids[0])
    ticket = builder.ticket("Printer", "<p>No computer here.</p>", member)
    world = builder.world()

    assert world.add_lab.reconcile(world.env.context(ticket.id)).verdict is (
        ReconcileVerdict.NOT_FOUND
    )
    outcome = world.add_lab.execute(world.env.context(ticket.id))
    assert isinstance(outcome, Completed)
    assert outcome.details["found_by"] == "membership"
    assert outcome.effects[0].target_id in {
        lab.ci_id for lab in builder.tenant.labs if member.uid in lab.member_uids
    }


# --- find_active_tickets --------------------------------------------------------------------


def test_a_script_title_reaches_the_summary_escaped(builder: TenantBuilder) -> None:
    requestor = builder.person_owning(0)
    builder.ticket(SCRIPT_TITLE, "", requestor, age_days=1)
    closed = builder.ticket(
        "Closed one",
        "",
        requestor,
        status_id=builder.tenant.settings.ticket_status_ids["Closed"],
    )
    current = builder.ticket("Current", "", requestor)
    world = builder.world()

    outcome = world.find.execute(world.env.context(current.id))

    assert isinstance(outcome, Completed)
    summary = str(outcome.summary)
    assert "<script" not in summary and "<b>URGENT" not in summary
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in summary
    assert SCRIPT_TITLE in visible_text(summary)
    ids = outcome.details["ticket_ids"]["requestor"]
    assert current.id not in ids and closed.id not in ids
    assert world.env.tenant.ticket_link(ids[0]) in summary
    assert world.env.app.writes == []


def test_nothing_found_is_a_short_summary(builder: TenantBuilder) -> None:
    ticket = builder.ticket("Alone", "", builder.person_owning(0))
    world = builder.world()

    outcome = world.find.execute(world.env.context(ticket.id))

    assert isinstance(outcome, Completed)
    assert "No related active tickets (searched by requestor)" in str(outcome.summary)


def test_a_failing_category_gives_a_partial_summary_or_an_error(builder: TenantBuilder) -> None:
    lab = builder.tenant.labs[0]
    computer = next(a for a in builder.tenant.assets if a.id == lab.computer_asset_ids[0])
    requestor = builder.person_owning(0)
    ticket = builder.ticket("Lab PC", "", requestor, linked=[computer.ci_id, lab.ci_id])
    builder.ticket("Lab neighbour", "", builder.person_owning(2), linked=[lab.ci_id])
    world = builder.world()
    strict = FindActiveTickets(
        FindActiveTicketsOptions.model_validate(
            {**world.find.options.model_dump(), "show_partial_on_error": False}
        ),
        "v1",
    )

    def warmed_context():  # the lab search answered before the fault: only the others fail
        ctx = world.env.context(ticket.id)
        searches = category_searches(ctx.reads.ticket(), ticket_links(ctx), world.find.options)
        ctx.reads.search_tickets(next(s.search for s in searches if s.category == "lab"))
        return ctx

    ctx, strict_ctx = warmed_context(), warmed_context()
    world.env.app.set_faults(FaultConfig(error_rate=1.0, applies_to="reads"))

    outcome = world.find.execute(ctx)
    assert isinstance(outcome, Completed)
    assert set(outcome.details["errors"]) == {"requestor", "asset"}
    assert outcome.details["ticket_ids"]["lab"]
    assert "Could not search requestor tickets" in str(outcome.summary)
    with pytest.raises(ActionError) as failed:
        strict.execute(strict_ctx)
    assert failed.value.retryable
    with pytest.raises(ActionError):  # every search failed: nothing to show
        world.find.execute(world.env.context(ticket.id))


# --- the three together ---------------------------------------------------------------------


def test_the_pipeline_on_one_ticket_makes_few_calls_and_describe_writes_nothing(
    builder: TenantBuilder,
) -> None:
    world = builder.world()
    sample = builder.tenant.settings.sample_ticket_id
    actions = (world.add_asset, world.add_lab, world.find)

    preview = [action.describe(world.env.context(sample)) for action in actions]
    assert SAMPLE_LAB_COMPUTER in preview[0]
    assert world.env.app.writes == []
    world.env.app.reset()

    ctx = world.env.context(sample)
    outcomes = [action.execute(ctx) for action in actions]

    assert all(isinstance(outcome, Completed) for outcome in outcomes)
    assert world.env.app.call_counts == {
        "GET {app}/tickets/{id}": 1,  # shared by the three actions
        # read by add_asset, re-read after its link by add_lab, after the lab link by find
        "GET {app}/tickets/{id}/assets": 3,
        "GET {app}/tickets/{id}/configurationItems": 2,
        "POST {app}/assets/search": 2,  # one identifier: by serial and by text
        "POST {app}/tickets/{id}/assets/{asset_id}": 1,
        "GET {app}/cmdb/{id}/relationships": 1,  # the computer's lab
        "GET {app}/cmdb/{id}": 1,  # the lab, checked and named
        "POST {app}/tickets/{id}/configurationItems/{ci_id}": 1,
        "POST {app}/tickets/search": 3,  # requestor, computers, lab: one search each
    }


def test_an_announced_numeric_asset_tag_is_matched_on_tag(builder: TenantBuilder) -> None:
    computer = next(c for c in builder.computers[20:] if c.tag and c.tag.isdigit())
    ticket = builder.ticket(
        "No sound",
        f"<p>Our inventory sticker says {computer.tag}. Room 20411.</p>",
        builder.person_owning(2),
    )
    world = builder.world()

    outcome = world.add_asset.execute(world.env.context(ticket.id))

    assert isinstance(outcome, Completed)
    assert outcome.details["identifiers"] == [computer.tag]
    assert outcome.details["linked"] == [
        {"asset_id": computer.id, "name": computer.name, "matched": "tag"}
    ]
