"""Outages refuse service cleanly: with Redis or PostgreSQL stopped (nothing listens) or frozen
(the port accepts and never answers), the protocol endpoints answer RFC-shaped JSON
`temporarily_unavailable` with Retry-After, pages answer the localised error page, and what
needs no store keeps serving. Each app here talks to the dead service over a real socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.conftest import Browser, app_like, csrf_from, free_port
from tests.integration.helpers import tokens_for

UNAVAILABLE_PAGE = "服务暂时不可用，请稍后再试。"


class FrozenServer:
    """A TCP port that accepts connections and never says a word (a SIGSTOPped server)."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.listener.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def frozen() -> Iterator[FrozenServer]:
    server = FrozenServer()
    yield server
    server.close()


def app_with(app: Flask, **values: Any) -> Any:
    """An app like the session's (same database and keys unless told otherwise)."""
    return app_like(app, **values)


def assert_json_unavailable(response: Any) -> None:
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.json == {"error": "temporarily_unavailable",
                             "error_description": "A backing service is unavailable; retry "
                                                  "shortly."}
    assert response.headers["Retry-After"] == "2"


def assert_page_unavailable(response: Any) -> None:
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert UNAVAILABLE_PAGE in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "2"


def _redis_down_cases(app: Flask, browser: Browser, make_user: Any, make_client: Any,
                      redis_url: str) -> None:
    user, client = make_user(), make_client()
    tokens = tokens_for(app, browser, user, client)  # issued while everything was up
    with app_with(app, redis_url=redis_url) as down:
        http = down.test_client()
        # the code exchange needs the store: refused cleanly
        exchange = http.post("/token", data={"grant_type": "authorization_code",
                                              "code": "c" * 43, "redirect_uri":
                                              client.redirect_uri, "code_verifier": "v" * 43},
                             auth=(client.client_id, client.client_secret or ""))
        assert_json_unavailable(exchange)
        # what needs no store keeps serving: machine tokens, UserInfo, introspection
        machine = http.post("/token", data={"grant_type": "client_credentials"},
                            auth=(client.client_id, client.client_secret or ""))
        assert machine.status_code == 200 and "access_token" in machine.json
        info = http.get("/userinfo",
                        headers={"Authorization": "Bearer " + tokens["access_token"]})
        assert info.status_code == 200 and info.json["sub"] == user.id
        active = http.post("/introspect", data={"token": tokens["access_token"]},
                           auth=(client.client_id, client.client_secret or ""))
        assert active.status_code == 200 and active.json["active"] is True
        # a person's login needs the store for the session: the page says to try again
        person = Browser(down.test_client())
        page = person.client.get("/login")
        assert page.status_code == 200
        login = person.client.post("/login", data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "identifier": user.username, "password": user.password})
        assert_page_unavailable(login)
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json == {"status": "not ready", "database": True, "store": False}


def test_with_redis_stopped_endpoints_answer_503_or_keep_serving(app, browser, make_user,
                                                                  make_client):
    _redis_down_cases(app, browser, make_user, make_client,
                      f"redis://127.0.0.1:{free_port()}/0")


def test_with_redis_frozen_endpoints_answer_503_or_keep_serving(app, browser, make_user,
                                                                 make_client, frozen):
    _redis_down_cases(app, browser, make_user, make_client,
                      f"redis://127.0.0.1:{frozen.port}/0")


def _database_down_cases(app: Flask, make_client: Any, database_url: str) -> None:
    client = make_client()
    with app_with(app, database_url=database_url, database_timeout=1) as down:
        http = down.test_client()
        for path, data in (("/token", {"grant_type": "client_credentials"}),
                           ("/introspect", {"token": "t" * 40}),
                           ("/revoke", {"token": "t" * 40})):
            assert_json_unavailable(http.post(path, data=data, auth=(
                client.client_id, client.client_secret or "")))
        page = http.get("/login")
        assert page.status_code == 200  # a page that reads nothing still renders
        login = http.post("/login", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                          "identifier": "someone", "password": "x" * 10})
        assert_page_unavailable(login)
        ready = http.get("/readyz")
        assert ready.status_code == 503 and ready.json["database"] is False


def test_with_postgresql_stopped_endpoints_answer_503(app, make_client):
    _database_down_cases(app, make_client,
                         f"postgresql://postgres@127.0.0.1:{free_port()}/idp")


def test_with_postgresql_frozen_endpoints_answer_503(app, make_client, frozen):
    _database_down_cases(app, make_client, f"postgresql://postgres@127.0.0.1:{frozen.port}/idp")
