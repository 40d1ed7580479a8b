"""The API's routes: path template, handler, rate limit (TDX's documented values), whether it
needs a token, and whether it reads or writes (for faults and the write log)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from . import api_assets, api_auth, api_people, api_reports, api_tickets
from .calls import Handler
from .ratelimit import RateLimit
from .router import Router

Kind = Literal["auth", "read", "write"]
AppScope = Literal["ticket", "asset", "none"]

_TYPE_HINT = re.compile(r":\w+\}")

PER_IP = RateLimit(60, 60.0, "ip")
TICKET_SEARCH = RateLimit(30, 60.0, "ip")
REPORT_GET = RateLimit(30, 60.0, "user")
REPORT_LIST = RateLimit(45, 60.0, "user")
PEOPLE_LOOKUP = RateLimit(10, 1.0, "ip")


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    kind: Kind
    limit: RateLimit | None = PER_IP
    app: AppScope = "none"

    @property
    def name(self) -> str:
        """The method's identity: rate-limit windows and call counters are kept per name."""
        return f"{self.method} {_TYPE_HINT.sub('}', self.template)}"

    @property
    def needs_token(self) -> bool:
        return self.kind != "auth"


T: AppScope = "ticket"
A: AppScope = "asset"

ROUTES: tuple[Route, ...] = (
    Route("POST", "auth", api_auth.user_login, "auth"),
    Route("POST", "auth/login", api_auth.user_login, "auth"),
    Route("POST", "auth/loginadmin", api_auth.admin_login, "auth"),
    Route("GET", "auth/getuser", api_auth.get_user, "read"),
    Route("GET", "reports", api_reports.list_reports, "read", REPORT_LIST),
    Route("POST", "reports/search", api_reports.search_reports, "read", REPORT_LIST),
    Route("GET", "reports/{id:int}", api_reports.get_report, "read", REPORT_GET),
    Route("POST", "{app:int}/tickets/search", api_tickets.search_tickets, "read", TICKET_SEARCH, T),
    Route("GET", "{app:int}/tickets/statuses", api_tickets.get_statuses, "read", app=T),
    Route("GET", "{app:int}/tickets/{id:int}", api_tickets.get_ticket, "read", app=T),
    Route("PATCH", "{app:int}/tickets/{id:int}", api_tickets.patch_ticket, "write", app=T),
    Route("GET", "{app:int}/tickets/{id:int}/feed", api_tickets.get_feed, "read", app=T),
    Route("POST", "{app:int}/tickets/{id:int}/feed", api_tickets.post_feed, "write", app=T),
    Route("GET", "{app:int}/tickets/{id:int}/assets", api_tickets.get_ticket_assets, "read", app=T),
    Route(
        "POST",
        "{app:int}/tickets/{id:int}/assets/{asset_id:int}",
        api_tickets.add_ticket_asset,
        "write",
        app=T,
    ),
    Route(
        "DELETE",
        "{app:int}/tickets/{id:int}/assets/{asset_id:int}",
        api_tickets.remove_ticket_asset,
        "write",
        app=T,
    ),
    Route(
        "GET",
        "{app:int}/tickets/{id:int}/configurationItems",
        api_tickets.get_ticket_cis,
        "read",
        app=T,
    ),
    Route(
        "POST",
        "{app:int}/tickets/{id:int}/configurationItems/{ci_id:int}",
        api_tickets.add_ticket_ci,
        "write",
        app=T,
    ),
    Route(
        "DELETE",
        "{app:int}/tickets/{id:int}/configurationItems/{ci_id:int}",
        api_tickets.remove_ticket_ci,
        "write",
        app=T,
    ),
    Route("POST", "{app:int}/assets/search", api_assets.search_assets, "read", app=A),
    Route("GET", "{app:int}/assets/statuses", api_assets.get_asset_statuses, "read", app=A),
    Route("GET", "{app:int}/assets/forms", api_assets.get_asset_forms, "read", app=A),
    Route("GET", "{app:int}/assets/{id:int}", api_assets.get_asset, "read", app=A),
    Route(
        "POST",
        "{app:int}/assets/{id:int}/tickets/{ticket_id:int}",
        api_assets.add_asset_ticket,
        "write",
        app=A,
    ),
    Route("POST", "{app:int}/cmdb/search", api_assets.search_cis, "read", app=A),
    Route("GET", "{app:int}/cmdb/types", api_assets.get_ci_types, "read", app=A),
    Route("GET", "{app:int}/cmdb/{id:int}", api_assets.get_ci, "read", app=A),
    Route(
        "GET",
        "{app:int}/cmdb/{id:int}/relationships",
        api_assets.get_ci_relationships,
        "read",
        app=A,
    ),
    Route("GET", "{app:int}/cmdb/{id:int}/tickets", api_assets.get_ci_tickets, "read", app=A),
    Route(
        "POST",
        "{app:int}/cmdb/{id:int}/tickets/{ticket_id:int}",
        api_assets.add_ci_ticket,
        "write",
        app=A,
    ),
    Route("GET", "people/lookup", api_people.lookup_people, "read", PEOPLE_LOOKUP),
    Route("GET", "people/getuid/{username}", api_people.get_uid, "read"),
    Route("POST", "people/search", api_people.search_people, "read"),
    Route("GET", "people/{uid}", api_people.get_person, "read"),
)


def build_router() -> Router[Route]:
    router: Router[Route] = Router()
    for route in ROUTES:
        router.add(route.method, route.template, route)
    return router
