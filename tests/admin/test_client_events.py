"""Security events in the console: a business system registered with an events URI, a client's
page showing how its events go and how many were delivered, given up and are pending with the
last error, the way they go changed under the rules of `idp events configure`, and given-up
events sent again; every change audited with the operator as staff at their hall."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, update

from idp.audit.actors import Actor
from idp.extensions import db
from idp.oauth.models import Client, SecurityEvent
from tests.admin.conftest import error_of, notice_of, text_of
from tests.admin.test_systems_and_clients import registered
from tests.counter.conftest import HALL
from tests.integration.citizens import audit_events
from tests.integration.helpers import tokens_for

EVENTS_URI = "https://gaj.example.gov.cn/events"


def _status(page: str) -> dict[str, str]:
    return dict(re.findall(r'<dd id="events-([a-z-]+)">([^<]*)</dd>', page))


def test_a_system_registered_with_an_events_uri_gets_its_events_pushed_there(
        app, make_operator):
    operator = make_operator()
    _answer, client = registered(operator, events_delivery="push", events_uri=EVENTS_URI)
    found = db.session.execute(select(Client).where(Client.client_id == client.client_id)
                               ).scalar_one()
    assert (found.events_delivery, found.events_uri) == ("push", EVENTS_URI)
    page = text_of(operator.get(f"/admin/clients/{client.client_id}"))
    assert _status(page) == {"delivery": f"推送到 {EVENTS_URI}", "delivered": "0",
                             "failed": "0", "pending": "0", "last-error": "—"}


def test_the_client_page_counts_events_shows_the_last_error_and_sends_given_up_ones_again(
        app, browser, make_user, make_client, make_operator):
    operator = make_operator()
    client = make_client(events_uri=EVENTS_URI)
    user = make_user()
    tokens_for(app, browser, user, client)
    account = app.extensions["idp.accounts"].get(user.id)
    for _ in range(3):
        app.extensions["idp.accounts"].end_every_session(account, Actor.operator("t"), 0)
    db.session.commit()
    first, second, _third = db.session.execute(
        select(SecurityEvent.id).order_by(SecurityEvent.id)).scalars()
    db.session.execute(update(SecurityEvent).where(SecurityEvent.id == first)
                       .values(status="delivered"))
    db.session.execute(update(SecurityEvent).where(SecurityEvent.id == second)
                       .values(status="failed", last_error="400 invalid_key: unknown kid"))
    db.session.commit()
    path = f"/admin/clients/{client.client_id}"
    page = text_of(operator.get(path))
    assert _status(page) == {"delivery": f"推送到 {EVENTS_URI}", "delivered": "1",
                             "failed": "1", "pending": "1",
                             "last-error": "400 invalid_key: unknown kid"}
    answer = operator.post(path + "/events/retry")
    assert answer.status_code == 303
    assert notice_of(operator.get(answer.headers["Location"])) == "将重新发送 1 个已放弃的事件。"
    assert _status(text_of(operator.get(path)))["pending"] == "2"
    [retried] = audit_events("oauth:security_event:retried")
    assert retried.actor == f"staff:{operator.id}@{HALL}" and retried.data == {"events": 1}


def test_an_operator_changes_how_a_client_receives_events_under_the_registration_rules(
        app, make_client, make_operator):
    operator = make_operator()
    client = make_client()
    path = f"/admin/clients/{client.client_id}"
    assert 'id="retry-events"' not in text_of(operator.get(path))
    refused = operator.post(path + "/events", {"events_delivery": "push",
                                               "events_uri": "http://gaj.example.gov.cn/e"})
    assert "events URI must use https" in error_of(operator.get(refused.headers["Location"]))
    answer: Any = operator.post(path + "/events", {"events_delivery": "poll",
                                                   "events_uri": ""})
    assert notice_of(operator.get(answer.headers["Location"])) == "安全事件将按此方式发送。"
    assert _status(text_of(operator.get(path)))["delivery"] == "由业务系统轮询"
    off = operator.post(path + "/events", {"events_delivery": "", "events_uri": ""})
    assert notice_of(operator.get(off.headers["Location"])) == "已停止向该客户端发送安全事件。"
    changes = audit_events("admin:client:events_changed")
    assert [c.data for c in changes] == [{"delivery": "poll", "uri": None},
                                         {"delivery": None, "uri": None}]
    assert {c.actor for c in changes} == {f"staff:{operator.id}@{HALL}"}
