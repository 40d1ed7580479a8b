"""The TDX read cache of one ticket pass, shared by every action of that ticket.

The seed fetched the same ticket four times and the same asset list three times per run. Here each
read is made at most once per pass: the first call fetches, later calls are hits. Failures are not
cached (a later action may try again). Searches are keyed by the canonical JSON of their body, so
two actions asking the same question share one call. Writes go through ``client`` directly; after
linking an asset or CI call ``invalidate_links()``, after posting to the feed ``invalidate_feed()``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

from tdxq.tdx import TdxClient
from tdxq.tdx.models import (
    Asset,
    AssetSearch,
    CmdbRelationship,
    ConfigurationItem,
    ConfigurationItemSearch,
    FeedItem,
    Person,
    Ticket,
    TicketSearch,
)

from .context import TenantSettings

T = TypeVar("T")


def canonical_json(model: BaseModel) -> str:
    """Sorted-key JSON of a request body as sent to TDX (unset fields left out)."""
    body = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()


class TicketReads:
    """Memoized TDX reads for one ticket; one instance per ticket pass."""

    def __init__(self, client: TdxClient, tenant: TenantSettings, ticket_id: int) -> None:
        self._client = client
        self._tenant = tenant
        self._ticket_id = ticket_id
        self._cache: dict[tuple[str, Any], Any] = {}
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()

    @property
    def client(self) -> TdxClient:
        return self._client

    @property
    def tenant(self) -> TenantSettings:
        return self._tenant

    @property
    def ticket_id(self) -> int:
        return self._ticket_id

    # --- the ticket itself ---

    def ticket(self) -> Ticket:
        app, tid = self._tenant.ticket_app_id, self._ticket_id
        return self._memo("ticket", None, lambda: self._client.get_ticket(app, tid))

    def feed(self) -> list[FeedItem]:
        app, tid = self._tenant.ticket_app_id, self._ticket_id
        return list(self._memo("feed", None, lambda: self._client.get_ticket_feed(app, tid)))

    def ticket_assets(self) -> list[ConfigurationItem]:
        """The ticket's linked assets, as TDX returns them: CIs (compare ``backing_item_id``)."""
        app, tid = self._tenant.ticket_app_id, self._ticket_id
        return list(
            self._memo("ticket_assets", None, lambda: self._client.get_ticket_assets(app, tid))
        )

    def ticket_cis(self) -> list[ConfigurationItem]:
        app, tid = self._tenant.ticket_app_id, self._ticket_id
        return list(
            self._memo(
                "ticket_cis",
                None,
                lambda: self._client.get_ticket_configuration_items(app, tid),
            )
        )

    # --- other objects, shared by several actions ---

    def asset(self, asset_id: int) -> Asset:
        app = self._tenant.asset_app_id
        return self._memo("asset", asset_id, lambda: self._client.get_asset(app, asset_id))

    def ci(self, ci_id: int) -> ConfigurationItem:
        app = self._tenant.asset_app_id
        return self._memo("ci", ci_id, lambda: self._client.get_configuration_item(app, ci_id))

    def ci_relationships(self, ci_id: int) -> list[CmdbRelationship]:
        app = self._tenant.asset_app_id
        return list(
            self._memo(
                "ci_relationships",
                ci_id,
                lambda: self._client.get_configuration_item_relationships(app, ci_id),
            )
        )

    def person(self, uid: str) -> Person:
        return self._memo("person", uid.lower(), lambda: self._client.get_person(uid))

    def search_assets(self, search: AssetSearch) -> list[Asset]:
        app = self._tenant.asset_app_id
        key = canonical_json(search)
        return list(
            self._memo("search_assets", key, lambda: self._client.search_assets(app, search))
        )

    def search_cis(self, search: ConfigurationItemSearch) -> list[ConfigurationItem]:
        app = self._tenant.asset_app_id
        key = canonical_json(search)
        return list(
            self._memo(
                "search_cis", key, lambda: self._client.search_configuration_items(app, search)
            )
        )

    def search_tickets(self, search: TicketSearch) -> list[Ticket]:
        app = self._tenant.ticket_app_id
        key = canonical_json(search)
        return list(
            self._memo("search_tickets", key, lambda: self._client.search_tickets(app, search))
        )

    # --- after writes ---

    def invalidate_links(self) -> None:
        """Forget the ticket's asset and CI lists (call after linking either)."""
        self._forget("ticket_assets", "ticket_cis")

    def invalidate_feed(self) -> None:
        """Forget the ticket's feed (call after posting to it)."""
        self._forget("feed")

    def invalidate_ticket(self) -> None:
        """Forget the ticket record (call after changing its status)."""
        self._forget("ticket")

    # --- figures ---

    @property
    def calls(self) -> int:
        """TDX reads actually made through this cache."""
        return sum(self.misses.values())

    def stats(self) -> dict[str, dict[str, int]]:
        kinds = sorted(set(self.hits) | set(self.misses))
        return {kind: {"hits": self.hits[kind], "misses": self.misses[kind]} for kind in kinds}

    def _memo(self, kind: str, key: Any, fetch: Callable[[], T]) -> T:
        slot = (kind, key)
        if slot in self._cache:
            self.hits[kind] += 1
            cached: T = self._cache[slot]
            return cached
        self.misses[kind] += 1
        value = fetch()
        self._cache[slot] = value
        return value

    def _forget(self, *kinds: str) -> None:
        for slot in [slot for slot in self._cache if slot[0] in kinds]:
            del self._cache[slot]
