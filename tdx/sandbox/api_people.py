"""People endpoints: by UID (or username), search, lookup, getuid."""

from __future__ import annotations

from . import render
from .binding import query_int
from .calls import Call
from .errors import ApiError
from .tenant import Person
from .wire import Response, json_response


def get_person(call: Call) -> Response:
    person = call.store.person(call.params["uid"])
    if person is None:
        raise ApiError(404, f"Person {call.params['uid']} was not found.")
    return json_response(render.person(call.store, person))


def get_uid(call: Call) -> Response:
    person = call.store.people_by_username.get(call.params["username"].lower())
    if person is None:
        raise ApiError(404, f"User name {call.params['username']} was not found.")
    return json_response(person.uid)


def _matches_text(person: Person, text: str) -> bool:
    return any(
        text in field.lower()
        for field in (person.full_name, person.email, person.username, person.uid)
    )


def search_people(call: Call) -> Response:
    body = call.body("UserSearch")
    text = (body.text("SearchText") or "").strip().lower()
    username = (body.text("UserName") or "").strip().lower()
    is_active = body.optional_flag("IsActive")
    is_employee = body.optional_flag("IsEmployee")
    account_ids = set(body.int_list("AccountIDs") or [])
    max_results = body.integer("MaxResults", 50)
    found = [
        p
        for p in call.store.tenant.people
        if (not text or _matches_text(p, text))
        and (not username or p.username.lower() == username)
        and (is_active is None or p.is_active == is_active)
        and (is_employee is None or p.is_employee == is_employee)
        and (not account_ids or p.department_id in account_ids)
    ]
    if max_results > 0:
        found = found[:max_results]
    return json_response([render.person(call.store, p, summary=True) for p in found])


def lookup_people(call: Call) -> Response:
    text = call.request.query.get("searchtext", "").strip().lower()
    limit = query_int(call.request.query, "maxResults", 50)
    found = [p for p in call.store.tenant.people if p.is_active and _matches_text(p, text)]
    rows = [
        {
            "UID": p.uid,
            "FullName": p.full_name,
            "PrimaryEmail": p.email,
            "UserName": p.username,
            "IsActive": p.is_active,
            "Title": p.title,
        }
        for p in found[: max(limit, 0)]
    ]
    return json_response(rows)
