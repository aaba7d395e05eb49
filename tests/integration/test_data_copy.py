"""A copy of my data (个人信息副本, PIPL Art. 45; issue 12): a person with every kind of data
downloads the JSON, which is compared field by field with the database and the store; neither
it nor the printable page carries a full ID number, a password hash, a secret, a token, the
staff behind a record or anything of another person who has data of the same kinds. Making a
copy needs a recent sign-in (with the authenticator app where one is on), is limited to five a
day with a refusal that says when to come back, and is audited.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from idp.accounts.models import AgreementAcceptance, User
from idp.audit.actors import Actor, cli_operator
from idp.audit.models import AuditEvent
from idp.audit.tags import Tag
from idp.counter.models import ActivationCode, StaffAccount
from idp.extensions import db
from idp.identity.models import Verification
from idp.oauth.models import Consent, Grant, TokenIssued
from tests.conftest import (
    Browser,
    accept_agreements,
    csrf_from,
    exchange,
    pkce_pair,
    redirect_params,
    remember_secret,
)
from tests.conftest import TestClient as RegisteredClient
from tests.conftest import TestUser as Citizen
from tests.counter.conftest import HALL, VALID, ensure_hall, id_number
from tests.integration.citizens import (
    audit_events,
    enrol_totp,
    error_of,
    lock_time_text,
    next_totp,
    second_factor,
    sso_cookie,
    text_of,
)

HALL_NAME = "清远市政务服务中心"
CHROME_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                     "Gecko) Chrome/120.0.0.0 Safari/537.36")
PERSON_ADDRESS = "203.0.113.7"
OTHER_ADDRESS = "198.51.100.23"
STAFF_ADDRESS = "10.9.8.7"
OPERATOR = "op-zhang-ops"
OPERATOR_NOTE = "迁移自旧系统，经办：操作员甲"
SIGN_IN_TAGS = {Tag.LOGIN_SUCCESS.value, Tag.LOGIN_FAILURE.value, Tag.MFA_SUCCESS.value,
                Tag.MFA_FAILURE.value, Tag.ACCOUNT_LOCKED.value}
METHOD_WORDS = {"pwd": "密码", "otp": "身份验证器或恢复码", "mfa": "两步登录", "sms": "短信验证码"}
SCOPE_WORDS = {"openid": "账户标识和可信等级", "profile": "姓名", "phone": "手机号码"}
ACTOR_WORDS = {"citizen": "本人", "staff": "窗口人员", "operator": "管理员", "system": "平台",
               "anonymous": "未登录者", "client": "业务系统"}
NOT_INCLUDED_ZH = [
    "完整的身份证号码：与各页面一样遮盖显示。完整号码见您的身份证。",
    "密码、身份验证器密钥和恢复码：平台仅保存用于校验它们的数据，这些数据对阅读副本的人没有用处。",
    "发给您的浏览器和业务系统的令牌、授权码和会话密钥。",
    "为您办理业务的窗口人员和管理员的姓名：副本列出其所在的服务大厅。如需了解具体经办人，请咨询该服务大厅或服务热线。",
    "工作人员在审核或设置等级时填写的备注，以及任何关于他人的信息，例如曾持有同一身份证号码的另一账户。",
]


# --- building people with every kind of data ---
@dataclass
class Person:
    user: Citizen
    name: str
    number: str
    browser: Browser  # signed in with password and authenticator app: recent, may copy
    other: Browser  # an older sign-in with the password alone, still alive
    secret: str
    recovery_codes: list[str]
    tokens: dict[str, Any]
    activation_code: str


def _browser(app: Any, address: str) -> Browser:
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": CHROME_ON_WINDOWS, "REMOTE_ADDR": address})
    return Browser(client)


def _staff(app: Any, name: str) -> StaffAccount:
    """A clerk at HALL, as an operator creates one (its name must stay out of every copy)."""
    ensure_hall(app)
    credentials = app.extensions["idp.counter"].staff.create_staff(
        username=f"clerk{secrets.token_hex(3)}", hall_code=HALL, role="clerk",
        display_name=name, actor=cli_operator())
    db.session.commit()
    remember_secret(credentials.password, credentials.token)
    return credentials.staff


def _authorise(app: Any, browser: Browser, client: RegisteredClient) -> dict[str, Any]:
    """The person allows the business system on its consent page; its tokens."""
    verifier, challenge = pkce_pair()
    page = browser.authorize(client, scope="openid profile phone", code_challenge=challenge,
                             code_challenge_method="S256")
    assert page.status_code == 200 and 'name="decision"' in text_of(page)
    allowed = browser.client.post(page.request.full_path, data={
        "csrf_token": csrf_from(text_of(page)), "decision": "allow"})
    response = exchange(app, client, redirect_params(allowed)["code"], verifier)
    assert response.status_code == 200, response.json
    return dict(response.json)


def _person(app: Any, make_user: Any, client: RegisteredClient, staff: StaffAccount, *, name: str,
            address: str) -> Person:
    """An account with a document verified at a counter (after an operator's override with a
    note), an activation code printed at the counter, an authenticator app, two sessions, a
    consent and a grant with tokens to a business system, and accepted agreements."""
    user = make_user(name=name)
    number = id_number()
    identity, accounts = app.extensions["idp.identity"], app.extensions["idp.accounts"]
    identity.override(accounts.get(user.id), 3, reason=OPERATOR_NOTE,
                      actor=Actor.operator(OPERATOR))
    outcome = identity.verify_in_person(
        accounts.get(user.id), document_type="id-number", number=number, name=name,
        valid_until=VALID, photo_compared=True, actor=Actor.staff(staff.id, HALL),
        staff_id=staff.id, hall_code=HALL, ip=STAFF_ADDRESS)
    assert outcome.ok, outcome
    _, plain = app.extensions["idp.counter"].codes.issue(
        accounts.get(user.id), purpose="reset", staff=staff, ip=STAFF_ADDRESS)
    db.session.commit()
    remember_secret(plain)
    other = _browser(app, address)
    assert other.login(user).status_code == 303
    enrolled = enrol_totp(other)
    remember_secret(enrolled.secret, *enrolled.recovery_codes)
    browser = _browser(app, address)
    assert browser.login(user).headers["Location"] == "/login/mfa"
    assert second_factor(browser, "totp", next_totp(enrolled.secret)).status_code == 303
    tokens = _authorise(app, browser, client)
    return Person(user, name, number, browser, other, enrolled.secret, enrolled.recovery_codes,
                  tokens, plain)


def _two_people(app: Any, make_user: Any, make_client: Any) -> tuple[Person, Person]:
    client = make_client(name="社保业务系统", first_party=False)
    staff = _staff(app, "陈窗口")
    first = _person(app, make_user, client, staff, name="李四", address=PERSON_ADDRESS)
    second = _person(app, make_user, client, staff, name="王五", address=OTHER_ADDRESS)
    return first, second


def _csrf(browser: Browser) -> str:
    """The token of the offer page's forms (from the sign-in page when no copy is left)."""
    page = browser.client.get("/account/data")
    assert page.status_code == 200, page.headers.get("Location")
    return csrf_from(text_of(page) if 'name="csrf_token"' in text_of(page)
                     else text_of(browser.client.get("/login")))


def _copy(browser: Browser, fmt: str = "json") -> Any:
    return browser.client.post(f"/account/data.{fmt}", data={"csrf_token": _csrf(browser)})


# --- what the database says, in the copy's shape ---
def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds")


def _masked(number: str) -> str:
    return number[:4] + "*" * 10 + number[-4:]


def _rows(model: Any, *where: Any, order: Any) -> list[Any]:
    db.session.expire_all()
    return list(db.session.execute(select(model).where(*where).order_by(*order)).scalars())


def _audit_view(event: AuditEvent) -> dict[str, Any]:
    kind, _, rest = event.actor.partition(":")
    return {"at": _iso(event.at), "event": event.tag, "by": kind,
            "by_label": ACTOR_WORDS[kind], "hall": HALL_NAME if kind == "staff" else None,
            "ip": event.ip if kind in ("citizen", "anonymous") else None,
            "business_system": "社保业务系统" if event.client_id else None}


def _methods(event: AuditEvent) -> list[str]:
    if event.tag == Tag.LOGIN_SUCCESS.value:
        return list(event.data["amr"])
    if event.tag == Tag.MFA_SUCCESS.value:
        return {"totp": ["otp"], "recovery": ["otp"], "sms": ["sms"],
                "password": ["pwd"]}[event.data["method"]]
    return ["pwd"] if event.tag == Tag.LOGIN_FAILURE.value else []


def _without_labels(items: list[dict[str, Any]], *labels: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in labels} for item in items]


# --- the copy holds every item, as the database holds it ---
def test_the_json_copy_matches_the_database_field_by_field(app, make_user, make_client):
    person, _other = _two_people(app, make_user, make_client)
    response = _copy(person.browser)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert re.fullmatch(r'attachment; filename="personal-data-\d{8}-\d{6}\.json"',
                        response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "no-store"
    doc = json.loads(response.get_data(as_text=True))
    db.session.expire_all()
    row = db.session.get(User, person.user.id)

    assert (doc["title"], doc["format"], doc["format_version"], doc["language"]) == \
        ("个人信息副本", "unified-idp/personal-data", 1, "zh-CN")
    assert doc["account"] == {
        "id": row.id, "username": person.user.username, "name": "李四",
        "mobile_number": person.user.phone, "mobile_number_verified": True,
        "trust_level": 5, "trust_level_label": "已实名核验（窗口或证书）",
        "id_document_type": "id-number", "id_document_type_label": "公民身份号码",
        "id_number_masked": _masked(person.number), "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "password_changed_at": _iso(row.password_changed_at)}
    assert doc["second_factors"] == {"authenticator_app": True, "recovery_codes_left": 10}

    verifications = _rows(Verification, Verification.user_id == row.id, order=[Verification.id])
    assert [v.method for v in verifications] == ["override", "counter"]
    assert doc["verifications"] == [{
        "at": _iso(v.created_at), "method": v.method,
        "method_label": {"override": "管理员设定", "counter": "窗口现场核验"}[v.method],
        "level": v.level, "result": "verified", "result_label": "已核验",
        "document_type": v.document_type,
        "document_type_label": "公民身份号码" if v.document_type else None,
        "number_masked": v.masked_number, "hall": HALL_NAME if v.hall_code else None,
        "transaction_id": v.transaction_id, "face_match_score": v.score,
        "document_valid_until": "2035-06-30" if v.method == "counter" else None,
        "withdrawn_at": None} for v in verifications]
    assert doc["verifications"][1]["number_masked"] == _masked(person.number)
    assert doc["id_number_reviews"] == []

    # The copy's own audit row is written after the copy was made (it is the first copy).
    *events, made = _rows(AuditEvent, AuditEvent.user_id == row.id, order=[AuditEvent.seq])
    assert made.tag == Tag.DATA_COPY_GENERATED.value
    events.reverse()
    sign_ins = [e for e in events if e.tag in SIGN_IN_TAGS]
    assert [e.tag for e in sign_ins] == [Tag.LOGIN_SUCCESS.value, Tag.MFA_SUCCESS.value,
                                         Tag.LOGIN_SUCCESS.value]
    assert doc["sign_ins"] == [{
        **_audit_view(e), "event_label": {Tag.LOGIN_SUCCESS.value: "登录成功",
                                          Tag.MFA_SUCCESS.value: "二次验证通过"}[e.tag],
        "methods": _methods(e), "methods_label": "、".join(METHOD_WORDS[m] for m in _methods(e)),
        "device": "Chrome · Windows" if e.tag == Tag.LOGIN_SUCCESS.value else None}
        for e in sign_ins]
    assert doc["sign_ins"][0]["methods_label"] == "两步登录、身份验证器或恢复码、密码"
    assert doc["sign_ins"][0]["ip"] == PERSON_ADDRESS
    activity = [e for e in events if e.tag not in SIGN_IN_TAGS]
    assert _without_labels(doc["account_activity"], "event_label") == \
        [_audit_view(e) for e in activity]
    by_event = {item["event"]: item for item in doc["account_activity"]}
    assert by_event[Tag.VERIFICATION_SUCCEEDED.value] | {"at": None} == {
        "at": None, "event": Tag.VERIFICATION_SUCCEEDED.value, "event_label": "实名核验通过",
        "by": "staff", "by_label": "窗口人员", "hall": HALL_NAME, "ip": None,
        "business_system": None}
    assert by_event[Tag.TRUST_LEVEL_SET.value]["by_label"] == "管理员"
    assert by_event[Tag.CONSENT_GRANTED.value]["business_system"] == "社保业务系统"

    live = sorted(app.extensions["idp.sessions"].for_user(row.id), key=lambda s: -s.last_seen)
    assert len(live) == 2
    this_sid = sso_cookie(person.browser).split(".", 1)[0]
    assert doc["sessions"] == [{
        "started_at": _iso(datetime.fromtimestamp(s.created, UTC)),
        "last_active_at": _iso(datetime.fromtimestamp(s.last_seen, UTC)),
        "ip": PERSON_ADDRESS, "device": "Chrome · Windows",
        "business_systems": ["社保业务系统"] * len(s.clients),
        "this_browser": s.sid == this_sid} for s in live]
    assert sorted(s["this_browser"] for s in doc["sessions"]) == [False, True]

    [consent] = _rows(Consent, Consent.user_id == row.id, order=[Consent.client_id])
    assert doc["authorised_systems"] == [{
        "client_id": consent.client_id, "name": "社保业务系统", "scopes": consent.scope.split(),
        "scope_labels": [SCOPE_WORDS[s] for s in consent.scope.split()],
        "consented_at": _iso(consent.granted_at)}]
    assert sorted(consent.scope.split()) == ["openid", "phone", "profile"]
    [grant] = _rows(Grant, Grant.user_id == row.id, order=[Grant.created_at])
    [issued] = _rows(TokenIssued, TokenIssued.grant_id == grant.id, order=[TokenIssued.id])
    assert doc["authorisations"] == [{
        "client_id": grant.client_id, "name": "社保业务系统", "scopes": grant.scope.split(),
        "scope_labels": [SCOPE_WORDS[s] for s in grant.scope.split()],
        "granted_at": _iso(grant.created_at), "withdrawn_at": None, "trust_level": grant.acr,
        "methods": grant.amr, "methods_label": "、".join(METHOD_WORDS[m] for m in grant.amr),
        "tokens_issued": 1, "last_token_at": _iso(issued.issued_at)}]

    accepted = _rows(AgreementAcceptance, AgreementAcceptance.user_id == row.id,
                     order=[AgreementAcceptance.accepted_at, AgreementAcceptance.id])
    titles = {"terms": "用户服务协议", "privacy": "隐私政策"}
    assert doc["agreements"] == [{
        "document": a.document, "title": titles[a.document], "version": a.version,
        "accepted_at": _iso(a.accepted_at)} for a in accepted]
    assert sorted(a["document"] for a in doc["agreements"]) == ["privacy", "terms"]

    [code] = _rows(ActivationCode, ActivationCode.user_id == row.id,
                   order=[ActivationCode.created_at])
    assert doc["counter_activation_codes"] == [{
        "purpose": "reset", "purpose_label": "设置新密码", "hall": HALL_NAME,
        "issued_at": _iso(code.created_at), "expires_at": _iso(code.expires_at),
        "used_at": None, "withdrawn_at": None}]
    assert doc["not_included"] == NOT_INCLUDED_ZH
    assert set(doc) == {"title", "format", "format_version", "platform", "language",
                        "generated_at", "account", "second_factors", "verifications",
                        "id_number_reviews", "sign_ins", "account_activity", "sessions",
                        "authorised_systems", "authorisations", "agreements",
                        "counter_activation_codes", "not_included"}


def _forbidden(app: Any, person: Person, other: Person) -> dict[str, str]:
    """What no copy of `person` may contain, by what it is."""
    db.session.expire_all()
    mine, theirs = (db.session.get(User, p.user.id) for p in (person, other))
    staff = db.session.execute(select(StaffAccount)).scalar_one()
    found = {
        "full ID number": person.number, "password": person.user.password,
        "password hash": mine.password_hash, "sealed ID number": mine.id_number_sealed,
        "ID fingerprint": mine.id_number_hash, "TOTP secret": person.secret,
        "sealed TOTP secret": mine.totp_secret_sealed,
        "activation code": person.activation_code.replace("-", ""),
        "SSO cookie secret": sso_cookie(person.browser).split(".", 1)[1],
        "session id": sso_cookie(person.browser).split(".", 1)[0],
        "other session id": sso_cookie(person.other).split(".", 1)[0],
        "staff id": staff.id, "staff name": "陈窗口", "staff username": staff.username,
        "staff workstation": STAFF_ADDRESS, "operator": OPERATOR, "operator note": OPERATOR_NOTE,
        "other's full ID number": other.number, "other's masked ID number": _masked(other.number),
        "other's name": other.name, "other's username": other.user.username,
        "other's account": theirs.id, "other's phone": other.user.phone,
        "other's address": OTHER_ADDRESS, "other's TOTP secret": other.secret,
    }
    for kind in ("access_token", "refresh_token", "id_token"):
        if person.tokens.get(kind):
            found[kind] = person.tokens[kind]
    for i, code in enumerate(person.recovery_codes):
        found[f"recovery code {i}"] = code
    return found


def test_no_copy_carries_secrets_full_numbers_staff_or_another_person(app, make_user,
                                                                       make_client):
    person, other = _two_people(app, make_user, make_client)
    as_json = _copy(person.browser, "json").get_data(as_text=True)
    as_page = _copy(person.browser, "html").get_data(as_text=True)
    forbidden = _forbidden(app, person, other)
    leaks = {what for what, value in forbidden.items() for body in (as_json, as_page)
             if value and value in body}
    assert leaks == set()
    # … while the person's own data is there, in both
    for body in (as_json, as_page):
        assert _masked(person.number) in body and person.user.phone in body
        assert "李四" in body and HALL_NAME in body and "社保业务系统" in body


# --- the printable page ---
def test_the_page_copy_is_in_chinese_by_default_and_prints_without_inline_code(app, make_user,
                                                                              make_client):
    person, _ = _two_people(app, make_user, make_client)
    response = _copy(person.browser, "html")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]
    assert re.fullmatch(r'inline; filename="personal-data-\d{8}-\d{6}\.html"',
                        response.headers["Content-Disposition"])
    page = text_of(response)
    assert '<main class="card wide data-copy" id="main">' in page
    assert "<h1>个人信息副本</h1>" in page
    assert f"<dd>公民身份号码 {_masked(person.number)}</dd>" in page
    assert f"<dd>{person.user.phone}</dd>" in page
    assert "<dd>5级 · 已实名核验（窗口或证书）</dd>" in page
    assert "<h2>副本未包含的内容及原因</h2>" in page
    assert '<p class="no-print">' in page
    assert "<script" not in page and " style=" not in page and "<style" not in page
    with app.test_client().get("/static/style.css") as stylesheet:
        css = stylesheet.get_data(as_text=True)
    assert "@media print" in css and ".no-print" in css.split("@media print", 1)[1]


def test_the_page_copy_speaks_english_to_a_person_who_chose_it(app, make_user, make_client):
    person, _ = _two_people(app, make_user, make_client)
    person.browser.client.set_cookie("idp_lang", "en")
    page = text_of(_copy(person.browser, "html"))
    assert '<html lang="en">' in page
    assert "<h1>A copy of my data</h1>" in page
    assert f"<dd>Citizen ID number {_masked(person.number)}</dd>" in page
    assert "<dd>Level 5 · Verified (counter or certificate)</dd>" in page
    assert "<h2>Not in this copy, and why</h2>" in page
    doc = _copy(person.browser, "json").json
    assert (doc["title"], doc["language"]) == ("A copy of my data", "en")
    assert doc["account"]["trust_level_label"] == "Verified (counter or certificate)"


def test_a_username_the_platform_made_up_is_not_in_the_copy(app):
    accounts = app.extensions["idp.accounts"]
    remember_secret("Correct-Horse-7")
    user = accounts.register(phone="13700001111", password="Correct-Horse-7", name="赵六",
                             ip=None)
    accept_agreements(app, user.id)
    db.session.commit()
    browser = _browser(app, PERSON_ADDRESS)
    assert browser.login(Citizen(user.id, "13700001111", "Correct-Horse-7",
                                  "13700001111")).status_code == 303
    body = _copy(browser).get_data(as_text=True)
    assert json.loads(body)["account"]["username"] is None
    assert user.username not in body


def test_a_claim_on_a_number_another_account_holds_shows_the_review_not_the_holder(
        app, make_user):
    staff = _staff(app, "陈窗口")
    holder, claimant = make_user(name="王五"), make_user(name="李四")
    number = id_number()
    identity, accounts = app.extensions["idp.identity"], app.extensions["idp.accounts"]

    def verify(user: Citizen, name: str) -> Any:
        return identity.verify_in_person(
            accounts.get(user.id), document_type="id-number", number=number, name=name,
            valid_until=VALID, photo_compared=True, actor=Actor.staff(staff.id, HALL),
            staff_id=staff.id, hall_code=HALL)

    assert verify(holder, "王五").ok
    assert verify(claimant, "李四").code == "case_opened"
    db.session.commit()
    browser = _browser(app, PERSON_ADDRESS)
    assert browser.login(claimant).status_code == 303
    body = _copy(browser).get_data(as_text=True)
    [review] = json.loads(body)["id_number_reviews"]
    assert review | {"opened_at": None} == {
        "opened_at": None, "document_type": "id-number", "document_type_label": "公民身份号码",
        "number_masked": _masked(number), "name": "李四", "method": "counter",
        "method_label": "窗口现场核验", "level": 5, "status": "open", "status_label": "审核中",
        "resolution": None, "resolution_label": None, "decided_at": None}
    assert holder.id not in body and holder.username not in body and "王五" not in body
    assert number not in body


# --- who may make a copy, how often, and the audit ---
def test_the_account_page_links_to_the_copy(app, make_user):
    browser = _browser(app, PERSON_ADDRESS)
    browser.login(make_user())
    page = text_of(browser.client.get("/account"))
    assert re.search(r'<section id="data">\s*<h2>个人信息副本</h2>.*?'
                     r'<a href="/account/data" id="data-copy">获取副本</a>', page, re.S)


def test_a_copy_needs_a_signed_in_person(app):
    client = app.test_client()
    token = {"csrf_token": csrf_from(text_of(client.get("/login")))}
    for response in (client.get("/account/data"), client.post("/account/data.json", data=token),
                     client.post("/account/data.html", data=token)):
        assert response.status_code == 303
        location = urlparse(response.headers["Location"])
        assert (location.path, parse_qs(location.query)["next"]) == ("/login", ["/account/data"])
    assert audit_events(Tag.DATA_COPY_GENERATED.value) == []


def test_a_copy_needs_a_recent_sign_in(app, make_user):
    user = make_user()
    browser = _browser(app, PERSON_ADDRESS)
    browser.login(user)
    token = _csrf(browser)
    app.extensions["idp.clock"].advance(app.extensions["idp.settings"].reauth_max_age + 1)
    for response in (browser.client.get("/account/data"),
                     browser.client.post("/account/data.json", data={"csrf_token": token}),
                     browser.client.post("/account/data.html", data={"csrf_token": token})):
        assert response.status_code == 303
        query = parse_qs(urlparse(response.headers["Location"]).query)
        assert (query["next"], query["reauth"]) == (["/account/data"], ["1"])
    assert audit_events(Tag.DATA_COPY_GENERATED.value) == []


def test_with_an_authenticator_app_a_password_alone_does_not_make_a_copy(app, make_user,
                                                                          make_client):
    person, _ = _two_people(app, make_user, make_client)
    token = csrf_from(text_of(person.other.client.get("/login")))
    response = person.other.client.post("/account/data.json", data={"csrf_token": token})
    assert response.status_code == 303
    assert parse_qs(urlparse(response.headers["Location"]).query)["reauth"] == ["1"]
    assert audit_events(Tag.DATA_COPY_GENERATED.value) == []


def test_a_copy_without_the_csrf_token_is_refused(app, make_user):
    browser = _browser(app, PERSON_ADDRESS)
    browser.login(make_user())
    assert browser.client.post("/account/data.json").status_code == 400
    assert audit_events(Tag.DATA_COPY_GENERATED.value) == []


def test_each_copy_is_audited_with_its_format(app, make_user):
    user = make_user()
    browser = _browser(app, PERSON_ADDRESS)
    browser.login(user)
    assert _copy(browser, "json").status_code == 200
    assert _copy(browser, "html").status_code == 200
    events = audit_events(Tag.DATA_COPY_GENERATED.value)
    assert [(e.user_id, e.actor, e.ip, e.data) for e in events] == [
        (user.id, f"citizen:{user.id}", PERSON_ADDRESS, {"format": "json"}),
        (user.id, f"citizen:{user.id}", PERSON_ADDRESS, {"format": "html"})]


def test_five_copies_a_day_then_a_refusal_that_says_when(app, make_user):
    user = make_user()
    browser = _browser(app, PERSON_ADDRESS)
    browser.login(user)
    for fmt in ("json", "html", "json", "html", "json"):
        assert _copy(browser, fmt).status_code == 200
    first = audit_events(Tag.DATA_COPY_GENERATED.value, user.id)[0]
    retry_at = first.at.replace(tzinfo=UTC) + timedelta(hours=24)
    retry_text = lock_time_text(int(retry_at.timestamp()))
    message = f"您在24小时内已生成 5 份副本，请于 {retry_text} 后再生成。"
    for fmt in ("json", "html"):
        refused = _copy(browser, fmt)
        assert refused.status_code == 429 and refused.mimetype == "text/html"
        assert error_of(refused) == message
        assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
        assert 'id="download-json"' not in text_of(refused)
    offer = text_of(browser.client.get("/account/data"))
    assert f'<p id="allowance">{message}</p>' in offer and 'id="download-json"' not in offer
    assert len(audit_events(Tag.DATA_COPY_GENERATED.value, user.id)) == 5
    app.extensions["idp.clock"].advance(24 * 3600 + 1)  # the day has passed (and the session)
    browser.login(user)
    assert _copy(browser).status_code == 200
    assert len(audit_events(Tag.DATA_COPY_GENERATED.value, user.id)) == 6


def test_the_offer_counts_the_copies_left(app, make_user):
    browser = _browser(app, PERSON_ADDRESS)
    browser.login(make_user())
    assert _copy(browser).status_code == 200
    page = text_of(browser.client.get("/account/data"))
    assert '<p id="allowance">24小时内可生成 5 份副本，目前还可生成 4 份。</p>' in page
    assert 'id="download-json"' in page and 'id="open-html"' in page


def test_every_account_event_a_living_account_can_have_is_named_in_words():
    """A new `accounts:` audit tag without words would show in the copy as its code. The one
    left out, purged, never appears: an erased account has no copy."""
    from idp.accounts.views.account import EVENT_NAMES
    from idp.accounts.views.data_copy import ACTIVITY_NAMES

    named = set(EVENT_NAMES) | set(ACTIVITY_NAMES)
    unnamed = {t.value for t in Tag if t.value.startswith("accounts:")} - named
    assert unnamed == {Tag.ACCOUNT_PURGED.value}
