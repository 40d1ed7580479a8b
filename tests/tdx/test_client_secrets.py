"""Credentials and tokens never show in reprs, exception messages or logs."""

from __future__ import annotations

import logging

import httpx
import pytest
from pydantic import SecretStr

from tdxq.tdx import (
    AdminKey,
    AmbiguousWrite,
    AuthError,
    StaticToken,
    TdxError,
    TicketFeedEntry,
    UserPassword,
)

from .conftest import ADMIN, TICKET_APP, TICKET_ID, SandboxFactory


def test_nothing_secret_leaks_through_a_rough_session(
    sandbox: SandboxFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    box = sandbox()
    issued: list[str] = []
    errors: list[TdxError] = []
    reprs: list[str] = []

    def keep_tokens(request: httpx.Request, response: httpx.Response) -> None:
        if request.url.path.lower().endswith(("/auth", "/auth/loginadmin")) and response.is_success:
            issued.append(response.text.strip())

    admin = box.client(ADMIN, tap=keep_tokens)
    admin.get_ticket(TICKET_APP, TICKET_ID)
    box.tokens(revoke=True)  # 401, re-login
    admin.get_ticket(TICKET_APP, TICKET_ID)
    box.set_faults(effect_then_fail_rate=1.0)
    try:
        admin.post_ticket_feed(TICKET_APP, TICKET_ID, TicketFeedEntry(comments="x"))
    except AmbiguousWrite as error:
        errors.append(error)
    box.set_faults()
    box.tokens(deny=True)
    try:
        admin.get_ticket(TICKET_APP, TICKET_ID)
    except AuthError as error:
        errors.append(error)
    box.tokens(deny=False)

    wrong_admin = AdminKey(
        beid=SecretStr("33333333-3333-3333-3333-333333333333"),
        web_services_key=SecretStr("44444444-4444-4444-4444-444444444444"),
    )
    wrong_user = UserPassword(
        username=SecretStr("sandbox"), password=SecretStr("hunter2-wrong-password")
    )
    for credentials in (wrong_admin, wrong_user):
        client = box.client(credentials)
        reprs.append(repr(client))
        try:
            client.get_ticket(TICKET_APP, TICKET_ID)
        except AuthError as error:
            errors.append(error)

    static_value = box.app.issue_token()
    issued.append(static_value)
    static = box.client(StaticToken(token=SecretStr(static_value)))
    static.get_ticket(TICKET_APP, TICKET_ID)
    box.tokens(revoke=True)
    try:
        static.get_ticket(TICKET_APP, TICKET_ID)
    except AuthError as error:
        errors.append(error)

    reprs += [repr(admin), str(admin), repr(static), repr(admin.budget), repr(ADMIN)]

    secrets = [
        ADMIN.beid.get_secret_value(),
        ADMIN.web_services_key.get_secret_value(),
        "33333333-3333-3333-3333-333333333333",
        "44444444-4444-4444-4444-444444444444",
        "hunter2-wrong-password",
        *issued,
    ]
    assert len(errors) == 5
    assert len(issued) == 4  # admin logged in three times; one static token
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + reprs
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.args) for record in caplog.records]
    for secret in secrets:
        for text in texts:
            assert secret not in text
        # token halves too: a JWT's signature or payload alone is still sensitive
        for part in secret.split(".") if secret.count(".") == 2 else []:
            assert all(part not in text for text in texts)
    assert any(record.name == "tdxq.tdx" for record in caplog.records)
