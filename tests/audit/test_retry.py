"""Permanent failure → `tdxq retry` → success on the next pass, end to end with the sandbox.

A comment action sets a ticket status the tenant does not have, so TDX answers 400 and the
action fails for good (a 4xx is not retryable). An administrator then creates the status; a
`tdxq retry` appends retry_requested events, and the next pass posts the comment, once.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tdxq.eventlog.events import ticket_stream
from tdxq.projectors.action_state import ActionStatus
from tdxq.projectors.ticket_state import fold
from tdxq.tdx.sandbox import Tenant

from ..conftest import Schema
from ..e2e.world import World, make_app, seed_config_text
from .conftest import REPORT, invoke, written_ticket

COMMENT = "Status moved by tdxq (retry test)"


def comment_posts(world: World) -> list[dict[str, object]]:
    return [
        w
        for w in world.writes()
        if w["method"] == "POST"
        and str(w["path"]).endswith("/feed")
        and COMMENT in str(w["body"].get("Comments", ""))  # type: ignore[union-attr]
    ]


@pytest.fixture
def failing_world(schema: Schema, audit_tenant: Tenant) -> tuple[World, int]:
    app = make_app(audit_tenant.model_copy(deep=True))
    missing_status = max(app.store.statuses_by_id) + 1000
    text = seed_config_text(app) + (
        f'\n[[pipelines.desktop.actions]]\ntype = "comment"\nversion = "v1"\n'
        f'[pipelines.desktop.actions.options]\ncomment_text = "{COMMENT}"\n'
        f"is_private = true\nnew_status_id = {missing_status}\n"
    )
    return World(app, schema, text), missing_status


def _json(schema: Schema, *args: str, code: int = 0) -> dict:  # type: ignore[type-arg]
    result = invoke(schema, *args, "--json")
    assert result.exit_code == code, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_permanent_failure_then_retry_then_success(
    failing_world: tuple[World, int], tmp_path: Path
) -> None:
    world, missing_status = failing_world
    schema = world.schema
    config = tmp_path / "tdxq.toml"
    config.write_text(world.config_text, encoding="utf-8")
    comment_id = world.config.pipeline_for(REPORT)[-1].action_id
    assert comment_id.startswith("comment:")

    first = world.run(REPORT)
    tickets = sorted(first.ingest.ticket_ids)
    rejected = comment_posts(world)
    assert sorted(written_ticket(w) for w in rejected) == tickets
    assert all(w["status"] == 400 and not w.get("effect") for w in rejected)
    assert first.stats["failed"] == len(tickets), "a 400 is not retried"

    target = tickets[0]
    (why,) = _json(schema, "audit", "why", str(target), comment_id, "--config", str(config))[
        "answers"
    ]
    assert (why["verdict"], why["reason"]) == ("not_due", "failed_not_retryable")
    assert "400" in why["facts"]["last_error"]

    # The administrator creates the status; without a retry request nothing happens.
    template = next(iter(world.app.store.statuses_by_id.values()))
    world.app.store.statuses_by_id[missing_status] = template.model_copy(
        update={"id": missing_status, "name": "Handled by tdxq"}
    )
    world.run(REPORT)
    assert len(comment_posts(world)) == len(tickets), "failed for good: no new attempt"

    one = _json(
        schema, "retry", "--ticket", str(target), "--action", comment_id,
        "--reason", "status created", "--by", "operator",
    )  # fmt: skip
    (requested,) = one["requested"]
    assert (requested["ticket_id"], requested["action_id"]) == (target, comment_id)
    stream = world.store().read_stream(ticket_stream(target))
    assert stream[-1].type == "retry_requested"
    assert stream[-1].data == {
        "action_id": comment_id,
        "requested_by": "operator",
        "reason": "status created",
    }
    assert stream[-1].position == requested["position"]

    world.run(REPORT)
    effective = [w for w in comment_posts(world) if w.get("effect")]
    assert [written_ticket(w) for w in effective] == [target], "only the retried ticket"
    state = fold(target, world.store().read_stream(ticket_stream(target)))
    assert state.action(comment_id).status is ActionStatus.DONE
    assert state.action(comment_id).attempts == 2

    head = world.store().head_position()
    preview = _json(schema, "retry", "--failed", "--since", "1h", "--dry-run")
    assert sorted(r["ticket_id"] for r in preview["requested"]) == tickets[1:]
    assert all(r["position"] is None for r in preview["requested"])
    assert world.store().head_position() == head, "a dry run appends nothing"

    rest = _json(schema, "retry", "--failed", "--action-type", "comment")
    assert sorted(r["ticket_id"] for r in rest["requested"]) == tickets[1:]
    assert _json(schema, "retry", "--failed")["requested"] == [], "nothing failed any more"

    world.run(REPORT)
    effective = [w for w in comment_posts(world) if w.get("effect")]
    per_ticket = Counter(written_ticket(w) for w in effective)
    assert per_ticket == dict.fromkeys(tickets, 1), "each comment posted exactly once"

    done = invoke(schema, "retry", "--ticket", str(target), "--action", comment_id)
    assert done.exit_code == 1
    assert f"{comment_id} is done" in done.output

    (why,) = _json(schema, "audit", "why", str(tickets[1]), comment_id, "--config", str(config))[
        "answers"
    ]
    assert why["reason"] in ("done", "not_on_report")
    assert why["facts"]["retry_requests"] == 1 and why["facts"]["status"] == "done"


def test_retry_needs_exactly_one_selector_and_a_valid_since(schema: Schema) -> None:
    for args in ([], ["--ticket", "1", "--failed"]):
        result = invoke(schema, "retry", *args)
        assert result.exit_code == 2 and "give --ticket ID or --failed" in result.output
    result = invoke(schema, "retry", "--failed", "--since", "last tuesday")
    assert result.exit_code == 2 and "--since" in result.output
    nothing = invoke(schema, "retry", "--ticket", "42")
    assert nothing.exit_code == 1 and "nothing failed" in nothing.output
