"""`tdxq sandbox serve` and `tdxq sandbox dump-tenant` from the real command line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from tdxq.commands.sandbox import sandbox_app
from tdxq.tdx.sandbox import (
    SANDBOX_BEID,
    SANDBOX_PASSWORD,
    SANDBOX_USERNAME,
    SANDBOX_WEB_SERVICES_KEY,
    Tenant,
)

TDXQ = Path(sys.executable).with_name("tdxq")


def _start(*args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(
        [str(TDXQ), "sandbox", "serve", "--port", "0", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        raise AssertionError(
            f"sandbox did not start: {process.stderr.read() if process.stderr else ''}"
        )
    return process, json.loads(line)


@pytest.fixture
def served() -> Iterator[dict[str, Any]]:
    process, info = _start("--tickets", "40", "--rate-window-scale", "0.5")
    try:
        yield info
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_serve_answers_a_login_report_1344_and_ticket_9291804(served: dict[str, Any]) -> None:
    assert served["base_url"].startswith("http://127.0.0.1:")
    assert served["beid"] == SANDBOX_BEID
    assert served["reports"] == {"1344": 13, "2000": 40}
    with httpx.Client(base_url=served["base_url"], timeout=10) as client:
        admin = client.post(
            "auth/loginadmin",
            json={"BEID": SANDBOX_BEID, "WebServicesKey": SANDBOX_WEB_SERVICES_KEY},
        )
        user = client.post(
            "auth", json={"username": SANDBOX_USERNAME, "password": SANDBOX_PASSWORD}
        )
        headers = {"Authorization": f"Bearer {user.text}"}
        report = client.get("reports/1344?withData=true&dataSortExpression=", headers=headers)
        ticket = client.get("46/tickets/9291804", headers=headers)

    assert admin.status_code == user.status_code == 200
    assert admin.text.count(".") == 2
    assert report.status_code == 200
    assert report.json()["Name"] == "Desktop Support-East Hall Unassigned Tickets"
    assert 9291804 in [row["TicketID"] for row in report.json()["DataRows"]]
    assert report.headers["X-RateLimit-Limit"] == "30"
    assert ticket.json()["ID"] == 9291804


def test_the_human_banner_shows_url_and_credentials() -> None:
    process = subprocess.Popen(
        [
            str(TDXQ),
            "sandbox",
            "serve",
            "--port",
            "0",
            "--tickets",
            "5",
            "--no-rate-limit",
            "--error-rate",
            "0.1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(12)]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    text = "".join(lines)
    assert "base URL       http://127.0.0.1:" in text
    assert f"TDX_BEID={SANDBOX_BEID}" in text
    assert f"TDX_USERNAME={SANDBOX_USERNAME} TDX_PASSWORD={SANDBOX_PASSWORD}" in text
    assert "rate limits    off" in text
    assert "errors 0.1" in text


def test_dump_tenant_then_serve_it(tmp_path: Path) -> None:
    path = tmp_path / "tenant.json"
    dumped = CliRunner().invoke(
        sandbox_app, ["dump-tenant", str(path), "--seed", "3", "--tickets", "7"]
    )

    assert dumped.exit_code == 0, dumped.output
    assert "wrote" in dumped.output
    tenant = Tenant.load_json(path)
    assert (tenant.seed, tenant.load_tickets) == (3, 7)

    process, info = _start("--data", str(path))
    try:
        assert info["reports"]["2000"] == 7
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--error-rate", "0.7", "--drop-rate", "0.5"], "must not exceed 1"),
        (["serve", "--data", "/nonexistent/tenant.json"], "no such file"),
        (["serve", "--effect-then-fail-mode", "explode"], "explode"),
    ],
)
def test_bad_options_are_reported(args: list[str], message: str) -> None:
    result = CliRunner().invoke(sandbox_app, args)
    assert result.exit_code == 2
    assert message in result.output
