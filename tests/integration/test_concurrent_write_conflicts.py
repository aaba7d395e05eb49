"""A unique violation no service foresaw is a concurrent write of the same data: the person
(or the API client) hears 409 "nothing was saved, try again", never a server error; the OAuth
endpoints keep the RFC's server_error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy.exc import IntegrityError

from tests.conftest import app_like


class _Duplicate(Exception):
    sqlstate = "23505"


@contextmanager
def losing_a_race(app: Flask, path: str) -> Iterator[Flask]:
    """A provider like the suite's with one route that loses a race at the database."""
    with app_like(app) as provider:
        def race() -> None:
            raise IntegrityError("INSERT …", {}, _Duplicate("duplicate key"))

        provider.add_url_rule(path, "race_test", race)
        yield provider


def test_a_page_that_loses_a_race_answers_409_in_the_persons_language(app):
    with losing_a_race(app, "/account/race-test") as provider:
        answer = provider.test_client().get("/account/race-test")
    assert answer.status_code == 409
    assert "同一时间" in answer.get_data(as_text=True)


def test_the_admin_api_answers_409_json(app):
    with losing_a_race(app, "/admin/api/race-test") as provider:
        answer = provider.test_client().get("/admin/api/race-test")
    assert answer.status_code == 409
    assert answer.json["error"] == "conflict"


def test_an_oauth_endpoint_keeps_the_rfc_server_error(app):
    with losing_a_race(app, "/token/race-test") as provider:
        answer = provider.test_client().get("/token/race-test")
    assert answer.status_code == 500
    assert answer.json["error"] == "server_error"
