"""The per-ticket read cache: each TDX read at most once per pass, until a write invalidates it."""

from __future__ import annotations

import pytest

from tdxq.tdx.models import AssetSearch

from .tdx_env import TdxEnv


def calls(env: TdxEnv, fragment: str) -> int:
    return sum(n for endpoint, n in env.app.call_counts.items() if fragment in endpoint.lower())


def test_each_read_is_made_once_per_pass(env: TdxEnv) -> None:
    ticket_id = env.app.settings.sample_ticket_id
    reads = env.context(ticket_id).reads

    first = reads.ticket()
    assert reads.ticket() is first
    reads.feed()
    reads.feed()
    reads.ticket_assets()
    reads.ticket_assets()

    assert reads.misses == {"ticket": 1, "feed": 1, "ticket_assets": 1}
    assert reads.hits == {"ticket": 1, "feed": 1, "ticket_assets": 1}
    assert reads.calls == 3
    assert calls(env, "/feed") == 1


def test_equal_searches_share_one_call_and_links_can_be_invalidated(env: TdxEnv) -> None:
    settings = env.app.settings
    reads = env.context(settings.sample_ticket_id).reads
    search = AssetSearch(search_text="EH-CHEM-LAB-014", form_ids=[settings.computer_form_id])
    same = AssetSearch(form_ids=[settings.computer_form_id], search_text="EH-CHEM-LAB-014")

    found = reads.search_assets(search)
    assert [a.name for a in reads.search_assets(same)] == [a.name for a in found]
    assert reads.misses["search_assets"] == 1 and reads.hits["search_assets"] == 1

    asset = found[0]
    reads.ticket_assets()
    reads.client.add_ticket_asset(settings.ticket_app_id, settings.sample_ticket_id, asset.id)
    reads.invalidate_links()
    linked = reads.ticket_assets()
    assert asset.id in {item.backing_item_id for item in linked}
    assert reads.misses["ticket_assets"] == 2


def test_a_failed_read_is_not_cached(env: TdxEnv) -> None:
    from tdxq.tdx.errors import NotFound

    reads = env.context(1).reads
    for _ in range(2):
        with pytest.raises(NotFound):
            reads.ticket()
    assert reads.misses["ticket"] == 2
