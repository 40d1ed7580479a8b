"""``TdxClient``: the TeamDynamix Web API calls tdxq's actions need.

Application ids are parameters (nothing tenant-specific here). Every method returns a model or
raises a ``TdxError``; none returns None to mean failure. See ``caller.py`` for rate limits,
tokens and retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from .caller import ApiCaller, Call, RatePolicy
from .credentials import Credentials
from .errors import UnexpectedResponse
from .models import (
    Asset,
    AssetSearch,
    CmdbRelationship,
    ConfigurationItem,
    ConfigurationItemSearch,
    FeedItem,
    PatchOperation,
    Person,
    PersonSearch,
    Report,
    Ticket,
    TicketFeedEntry,
    TicketSearch,
    TicketStatus,
)
from .options import ClientOptions
from .ratelimit import InMemoryRateBudget, RateBudget
from .retry import RetryPolicy
from .settings import TdxSettings
from .urls import normalize_base_url

ModelT = TypeVar("ModelT", bound=BaseModel)

USER_AGENT = "tdxq (+https://github.com/; TeamDynamix queue daemon)"


def _wall_clock() -> float:
    # Looked up at call time so freezegun's patched time.time is honoured.
    return time.time()


def _real_sleep(seconds: float) -> None:
    time.sleep(seconds)


class TdxClient:
    """A synchronous TDX Web API client; one instance may be shared by several threads."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        options: ClientOptions | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        budget: RateBudget | None = None,
        clock: Callable[[], float] = _wall_clock,
        sleep: Callable[[float], None] = _real_sleep,
    ) -> None:
        opts = options or ClientOptions()
        self.base_url = normalize_base_url(base_url)
        self.options = opts
        timeout = httpx.Timeout(
            connect=opts.connect_timeout_s,
            read=opts.read_timeout_s,
            write=opts.write_timeout_s,
            pool=opts.pool_timeout_s,
        )
        # httpx joins relative paths onto base_url only when it ends with "/".
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
            trust_env=False,
        )
        self.budget: RateBudget = budget or InMemoryRateBudget(
            clock=clock, margin_s=opts.rate_limit_margin_s
        )
        self._caller = ApiCaller(
            self._http,
            credentials,
            budget=self.budget,
            retry=RetryPolicy(opts.max_attempts, opts.backoff_initial_s, opts.backoff_max_s),
            rate=RatePolicy(opts.rate_limit_margin_s, opts.max_rate_limit_wait_s),
            timeout=timeout,
            refresh_margin_s=opts.token_refresh_margin_s,
            clock=clock,
            sleep=sleep,
        )

    @classmethod
    def from_settings(
        cls,
        settings: TdxSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        budget: RateBudget | None = None,
        clock: Callable[[], float] = _wall_clock,
        sleep: Callable[[float], None] = _real_sleep,
    ) -> Self:
        return cls(
            settings.base_url,
            settings.credentials(),
            settings.options(),
            transport=transport,
            budget=budget,
            clock=clock,
            sleep=sleep,
        )

    @classmethod
    def from_env(
        cls,
        *,
        env_file: str | Path | None = ".env",
        transport: httpx.BaseTransport | None = None,
        budget: RateBudget | None = None,
        clock: Callable[[], float] = _wall_clock,
        sleep: Callable[[float], None] = _real_sleep,
    ) -> Self:
        """Build from ``TDX_*`` environment variables (and ``env_file`` when it exists)."""
        settings = TdxSettings(_env_file=env_file)
        return cls.from_settings(
            settings, transport=transport, budget=budget, clock=clock, sleep=sleep
        )

    def __repr__(self) -> str:
        return f"TdxClient(base_url={self.base_url!r}, auth={self._caller.tokens!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def logins(self) -> int:
        """How many times this client has logged in (for diagnostics and tests)."""
        return self._caller.tokens.logins

    # -- reports ------------------------------------------------------------------------------

    def get_report(
        self, report_id: int, *, with_data: bool = True, sort_expression: str = ""
    ) -> Report:
        query = {
            "withData": "true" if with_data else "false",
            "dataSortExpression": sort_expression,
        }
        return self._one(Report, Call("GET", "reports/{id}", {"id": report_id}, query=query))

    # -- tickets ------------------------------------------------------------------------------

    def get_ticket(self, app_id: int, ticket_id: int) -> Ticket:
        return self._one(Ticket, self._ticket_call("GET", "", app_id, ticket_id))

    def search_tickets(self, app_id: int, search: TicketSearch) -> list[Ticket]:
        call = Call("POST", "{appId}/tickets/search", {"appId": app_id}, json=search.to_tdx())
        return self._many(Ticket, call)

    def patch_ticket(
        self,
        app_id: int,
        ticket_id: int,
        ops: list[PatchOperation],
        *,
        notify_new_responsible: bool = False,
    ) -> Ticket:
        """Apply JSON-Patch operations; a write (AmbiguousWrite when the outcome is unknown)."""
        if not ops:
            raise ValueError("patch_ticket needs at least one operation")
        call = Call(
            "PATCH",
            "{appId}/tickets/{id}",
            {"appId": app_id, "id": ticket_id},
            query={"notifyNewResponsible": "true" if notify_new_responsible else "false"},
            json=[op.to_tdx() for op in ops],
            safe=False,
        )
        return self._one(Ticket, call)

    def get_ticket_statuses(self, app_id: int) -> list[TicketStatus]:
        call = Call("GET", "{appId}/tickets/statuses", {"appId": app_id})
        return self._many(TicketStatus, call)

    # -- ticket feed --------------------------------------------------------------------------

    def get_ticket_feed(self, app_id: int, ticket_id: int) -> list[FeedItem]:
        return self._many(FeedItem, self._ticket_call("GET", "/feed", app_id, ticket_id))

    def get_feed_entry(self, feed_id: int) -> FeedItem:
        """One feed entry with its replies (``GET feed/{id}``)."""
        return self._one(FeedItem, Call("GET", "feed/{id}", {"id": feed_id}))

    def post_ticket_feed(self, app_id: int, ticket_id: int, entry: TicketFeedEntry) -> FeedItem:
        """Post a comment and/or status change. Never repeated when its outcome is unknown."""
        call = self._ticket_call(
            "POST", "/feed", app_id, ticket_id, json=entry.to_tdx(), safe=False
        )
        return self._one(FeedItem, call)

    # -- ticket ↔ assets and configuration items ----------------------------------------------

    def get_ticket_assets(self, app_id: int, ticket_id: int) -> list[ConfigurationItem]:
        """The assets linked to a ticket, as TDX returns them: configuration items."""
        return self._many(ConfigurationItem, self._ticket_call("GET", "/assets", app_id, ticket_id))

    def add_ticket_asset(self, app_id: int, ticket_id: int, asset_id: int) -> None:
        call = Call(
            "POST",
            "{appId}/tickets/{id}/assets/{assetId}",
            {"appId": app_id, "id": ticket_id, "assetId": asset_id},
            safe=False,
        )
        self._caller.send(call)

    def get_ticket_configuration_items(
        self, app_id: int, ticket_id: int
    ) -> list[ConfigurationItem]:
        call = self._ticket_call("GET", "/configurationItems", app_id, ticket_id)
        return self._many(ConfigurationItem, call)

    def add_ticket_configuration_item(self, app_id: int, ticket_id: int, ci_id: int) -> None:
        call = Call(
            "POST",
            "{appId}/tickets/{id}/configurationItems/{configurationItemId}",
            {"appId": app_id, "id": ticket_id, "configurationItemId": ci_id},
            safe=False,
        )
        self._caller.send(call)

    # -- assets -------------------------------------------------------------------------------

    def get_asset(self, app_id: int, asset_id: int) -> Asset:
        call = Call("GET", "{appId}/assets/{id}", {"appId": app_id, "id": asset_id})
        return self._one(Asset, call)

    def search_assets(self, app_id: int, search: AssetSearch) -> list[Asset]:
        call = Call("POST", "{appId}/assets/search", {"appId": app_id}, json=search.to_tdx())
        return self._many(Asset, call)

    # -- CMDB ---------------------------------------------------------------------------------

    def get_configuration_item(self, app_id: int, ci_id: int) -> ConfigurationItem:
        call = Call("GET", "{appId}/cmdb/{id}", {"appId": app_id, "id": ci_id})
        return self._one(ConfigurationItem, call)

    def search_configuration_items(
        self, app_id: int, search: ConfigurationItemSearch
    ) -> list[ConfigurationItem]:
        call = Call("POST", "{appId}/cmdb/search", {"appId": app_id}, json=search.to_tdx())
        return self._many(ConfigurationItem, call)

    def get_configuration_item_relationships(
        self, app_id: int, ci_id: int
    ) -> list[CmdbRelationship]:
        call = Call("GET", "{appId}/cmdb/{id}/relationships", {"appId": app_id, "id": ci_id})
        return self._many(CmdbRelationship, call)

    def get_configuration_item_tickets(self, app_id: int, ci_id: int) -> list[Ticket]:
        call = Call("GET", "{appId}/cmdb/{id}/tickets", {"appId": app_id, "id": ci_id})
        return self._many(Ticket, call)

    # -- people -------------------------------------------------------------------------------

    def get_person(self, uid_or_username: str) -> Person:
        """A person by UID (a username works too, as on real tenants)."""
        return self._one(Person, Call("GET", "people/{uid}", {"uid": uid_or_username}))

    def search_people(self, search: PersonSearch) -> list[Person]:
        return self._many(Person, Call("POST", "people/search", {}, json=search.to_tdx()))

    def lookup_people(self, search_text: str, *, max_results: int = 50) -> list[Person]:
        """The restricted lookup (``people/lookup``): minimal rows, 10 calls per second."""
        query = {"searchText": search_text, "maxResults": str(max_results)}
        return self._many(Person, Call("GET", "people/lookup", {}, query=query))

    # -- plumbing -----------------------------------------------------------------------------

    @staticmethod
    def _ticket_call(
        method: str,
        suffix: str,
        app_id: int,
        ticket_id: int,
        *,
        json: Any = None,
        safe: bool = True,
    ) -> Call:
        params: Mapping[str, object] = {"appId": app_id, "id": ticket_id}
        return Call(method, "{appId}/tickets/{id}" + suffix, params, json=json, safe=safe)

    def _one(self, model: type[ModelT], call: Call) -> ModelT:
        data = self._json(call)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise _shape_error(call, model.__name__, exc) from None

    def _many(self, model: type[ModelT], call: Call) -> list[ModelT]:
        data = self._json(call)
        try:
            return TypeAdapter(list[model]).validate_python(data)  # type: ignore[valid-type]
        except ValidationError as exc:
            raise _shape_error(call, f"list[{model.__name__}]", exc) from None

    def _json(self, call: Call) -> Any:
        response = self._caller.send(call)
        if not response.content.strip():
            raise UnexpectedResponse(
                f"{call.label} → {response.status_code} with an empty body where JSON was expected",
                method=call.method,
                path=call.template,
                status=response.status_code,
            )
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise UnexpectedResponse(
                f"{call.label} → {response.status_code} with a body that is not JSON",
                method=call.method,
                path=call.template,
                status=response.status_code,
            ) from None


def _shape_error(call: Call, expected: str, exc: ValidationError) -> UnexpectedResponse:
    # Name where the payload disagreed, without echoing payload values.
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
        for error in exc.errors(include_input=False)[:3]
    )
    return UnexpectedResponse(
        f"{call.label}: response is not a {expected} ({problems})",
        method=call.method,
        path=call.template,
    )
