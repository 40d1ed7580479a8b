"""What an API handler receives: the request, its path parameters, the live tenant, who is
calling, and the time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .auth import Principal
from .binding import Body
from .errors import ApiError
from .store import TenantStore
from .tenant import Person
from .wire import Request, Response


class Logins(Protocol):
    """Token issuing, for the auth endpoints (implemented by the app)."""

    def user_token(self, username: str | None, password: str | None) -> str | None: ...

    def admin_token(self, beid: str | None, key: str | None) -> str | None: ...


@dataclass(frozen=True)
class Call:
    request: Request
    params: dict[str, str]
    store: TenantStore
    principal: Principal | None
    now: datetime
    logins: Logins

    def int_param(self, name: str) -> int:
        return int(self.params[name])

    def body(self, what: str) -> Body:
        return Body(self.request.json(), what)

    def actor(self) -> Person | None:
        return self.store.person(self.principal.username) if self.principal else None

    def actor_uid(self) -> str:
        actor = self.actor()
        if actor is None:
            raise ApiError(401, "Authorization has been denied for this request.")
        return actor.uid


Handler = Callable[[Call], Response]
