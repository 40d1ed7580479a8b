"""The sandbox over real HTTP: loopback binding, keep-alive, both prefixes, introspection,
and closing."""

from __future__ import annotations

import socket

import httpx
import pytest

from tdxq.tdx.sandbox import (
    SANDBOX_BEID,
    SANDBOX_WEB_SERVICES_KEY,
    SandboxApp,
    SandboxServer,
    serve,
)


def test_binds_loopback_on_a_free_port(server: SandboxServer) -> None:
    assert server.host == "127.0.0.1"
    assert server.port > 0
    assert server.base_url == f"http://127.0.0.1:{server.port}/TDWebApi/api"
    assert server.base_urls[1] == f"http://127.0.0.1:{server.port}/SBTDWebApi/api"
    assert server.web_url_base == f"http://127.0.0.1:{server.port}/TDNext"


def test_login_report_and_ticket_over_http(server: SandboxServer) -> None:
    with httpx.Client(base_url=server.base_urls[1], timeout=5) as client:
        token = client.post(
            "auth/loginadmin",
            json={"BEID": SANDBOX_BEID, "WebServicesKey": SANDBOX_WEB_SERVICES_KEY},
        )
        headers = {"Authorization": f"Bearer {token.text}"}
        report = client.get(
            "reports/1344", params={"withData": "True", "dataSortExpression": ""}, headers=headers
        )
        ticket = client.get("46/tickets/9291804", headers=headers)

    assert token.headers["content-type"] == "text/plain; charset=utf-8"
    assert 9291804 in [row["TicketID"] for row in report.json()["DataRows"]]
    assert ticket.json()["ID"] == 9291804
    assert report.headers["X-RateLimit-Limit"] == "30"


def test_one_keep_alive_connection_serves_many_calls(
    http_client: httpx.Client, app: SandboxApp
) -> None:
    answers = [http_client.get("46/tickets/9291804") for _ in range(40)]
    assert {a.status_code for a in answers} == {200}
    assert {a.http_version for a in answers} == {"HTTP/1.1"}
    assert app.call_counts["GET {app}/tickets/{id}"] == 40


def test_doubled_slashes_and_unknown_paths_over_http(
    server: SandboxServer, http_client: httpx.Client
) -> None:
    doubled = http_client.get(f"{server.root_url}/TDWebApi/api//46/tickets//9291804/")
    unknown = http_client.get(f"{server.root_url}/nothing/here")

    assert doubled.status_code == 200
    assert unknown.status_code == 404
    assert unknown.json()["Message"]


def test_introspection_over_http(server: SandboxServer, http_client: httpx.Client) -> None:
    http_client.post("46/tickets/9291804/feed", json={"Comments": "over the wire"})

    writes = httpx.get(f"{server.root_url}/_sandbox/writes").json()["writes"]
    tenant = httpx.get(f"{server.root_url}/_sandbox/tenant").json()

    assert [w["body"]["Comments"] for w in writes] == ["over the wire"]
    assert tenant["settings"]["web_url_base"] == server.web_url_base
    assert tenant["reports"][0]["id"] == 1344


def test_requests_do_not_see_the_process_environment(
    server: SandboxServer,
    http_client: httpx.Client,
    app: SandboxApp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # wsgiref copies os.environ into every request; an HTTP_* variable must not become a header.
    monkeypatch.setenv("HTTP_AUTHORIZATION", "Bearer bogus")
    answer = httpx.get(f"{server.base_url}/46/tickets/9291804")
    assert answer.status_code == 401


def test_close_stops_listening(app: SandboxApp) -> None:
    server = serve(app)
    port = server.port
    server.close()
    server.close()  # idempotent

    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1),
    ):
        pass


def test_concurrent_writes_over_http_are_all_applied_and_logged(
    server: SandboxServer, app: SandboxApp
) -> None:
    import threading

    app.set_rate_limit(enabled=False)
    token = app.issue_token()
    before = len(app.store.feed_for(9291804))
    errors: list[BaseException] = []

    def post_many(worker: int) -> None:
        try:
            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                for n in range(25):
                    answer = client.post(
                        "46/tickets/9291804/feed",
                        json={"Comments": f"worker {worker} #{n}"},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    answer.raise_for_status()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=post_many, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(app.store.feed_for(9291804)) == before + 150
    ids = [w["effect"]["feed_entry_id"] for w in app.writes]
    assert len(ids) == len(set(ids)) == 150
