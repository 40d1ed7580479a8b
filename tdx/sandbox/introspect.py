"""`/_sandbox/...`: outside the API path, no token, no rate limit.

GET  /_sandbox/writes   {"writes": [{"method","path","query","body","effect","time","status",
                         "fault","user","remote_addr"}, ...]} - every mutating call received;
                         effect is what changed, or null if the call was rejected or faulted
                         before it took effect.
GET  /_sandbox/calls    {"calls": {endpoint: n}, "outcomes": {endpoint: {status: n}}, "total": n}
POST /_sandbox/reset    body {"tenant": bool, "rate_limits": bool} (both optional, default false)
GET  /_sandbox/tenant   counts, settings (with web_url_base for this host), credentials, reports
GET  /_sandbox/labs     labs as plain data (members, computers) for SQL-lookup loaders
GET  /_sandbox/assets   assets as plain data (id, name, serial, tag, form, status, owner, CI)
GET|POST /_sandbox/faults   the fault config; POST replaces it (FaultConfig fields)
POST /_sandbox/tokens   body {"revoke": true} and/or {"deny": bool} and/or {"lifetime_s": n}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .auth import SANDBOX_BEID, SANDBOX_PASSWORD, SANDBOX_USERNAME, SANDBOX_WEB_SERVICES_KEY
from .binding import Body
from .errors import ApiError
from .faults import FaultConfig
from .wire import Request, Response, error_response, json_response

if TYPE_CHECKING:
    from .app import SandboxApp


def handle(app: SandboxApp, request: Request) -> Response:
    name = request.path.lower().removeprefix("/_sandbox").strip("/")
    key = (request.method, name)
    try:
        if key == ("GET", "writes"):
            return json_response({"writes": app.writes})
        if key == ("GET", "calls"):
            calls = app.call_counts
            return json_response(
                {"calls": calls, "outcomes": app.call_outcomes, "total": sum(calls.values())}
            )
        if key == ("POST", "reset"):
            body = Body(request.json(), "reset")
            app.reset(tenant=body.flag("tenant"), rate_limits=body.flag("rate_limits"))
            return json_response({"reset": True})
        if key == ("GET", "tenant"):
            return json_response(tenant_summary(app, request))
        if key == ("GET", "labs"):
            return json_response({"labs": [lab.model_dump() for lab in app.tenant.labs]})
        if key == ("GET", "assets"):
            return json_response({"assets": plain_assets(app)})
        if key == ("GET", "faults"):
            return json_response(app.faults.model_dump())
        if key == ("POST", "faults"):
            return _set_faults(app, request)
        if key == ("POST", "tokens"):
            return _tokens(app, request)
    except ApiError as error:
        return error_response(error.status, error.message)
    return error_response(404, f"No sandbox resource '{request.method} {request.path}'.")


def _set_faults(app: SandboxApp, request: Request) -> Response:
    try:
        faults = FaultConfig.model_validate(request.json() or {})
    except ValidationError as exc:
        return error_response(400, f"Invalid fault config: {exc.errors()[0]['msg']}")
    app.set_faults(faults)
    return json_response(faults.model_dump())


def _tokens(app: SandboxApp, request: Request) -> Response:
    body = Body(request.json(), "tokens")
    if body.flag("revoke"):
        app.revoke_tokens()
    deny = body.optional_flag("deny")
    if deny is not None:
        app.deny_tokens(deny)
    lifetime = body.optional_integer("lifetime_s")
    if lifetime is not None:
        if lifetime <= 0:
            return error_response(400, "lifetime_s must be positive.")
        app.token_lifetime_s = lifetime
    return json_response({"token_lifetime_s": app.token_lifetime_s})


def root_url(request: Request) -> str:
    return f"http://{request.headers.get('host', '127.0.0.1')}"


def tenant_summary(app: SandboxApp, request: Request) -> dict[str, Any]:
    settings = app.settings
    root = root_url(request)
    return {
        "seed": app.tenant.seed,
        "counts": app.tenant.summary(),
        "settings": {
            **settings.model_dump(),
            "web_url_base": settings.web_url_base(root),
            "base_urls": [root + prefix for prefix in app.config.api_prefixes],
        },
        "credentials": {
            "beid": SANDBOX_BEID,
            "web_services_key": SANDBOX_WEB_SERVICES_KEY,
            "username": SANDBOX_USERNAME,
            "password": SANDBOX_PASSWORD,
        },
        "reports": [
            {"id": r.id, "name": r.name, "tickets": len(app.store.report_tickets(r))}
            for r in app.tenant.reports
        ],
        "rate_limit": {"enabled": app.rate_limit_enabled, "window_scale": app.rate_window_scale},
        "faults": app.faults.model_dump(),
    }


def plain_assets(app: SandboxApp) -> list[dict[str, Any]]:
    return [
        {
            "id": a.id,
            "name": a.name,
            "serial": a.serial,
            "tag": a.tag,
            "form_id": a.form_id,
            "status_id": a.status_id,
            "owner_uid": a.owner_uid,
            "ci_id": a.ci_id,
            "lab_ci_id": a.lab_ci_id,
        }
        for a in app.tenant.assets
    ]
