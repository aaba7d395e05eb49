"""Assisted registration (协助注册) ends with a printed slip; the person sets their own password
at /activate with its one-time code, then logs in like anyone else."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from idp.accounts.models import User
from idp.extensions import db
from tests import conftest
from tests.conftest import Browser, remember_secret
from tests.counter.conftest import VALID, error_of, id_number, text_of
from tests.integration.citizens import audit_events, clear_wait, csrf

CODE_RE = re.compile(r'<span class="code" id="activation-code">([A-Z0-9-]+)</span>')
USERNAME_RE = re.compile(r'<dd id="slip-username">([^<]+)</dd>')
NEW_PASSWORD = "Yi-Wang-Tong-Ban-7"


def _register(clerk, number: str, name: str = "赵六", phone: str = "", **extra: str):
    data = {"document_type": "id-number", "number": number, "name": name,
            "valid_until": VALID.isoformat(), "photo_compared": "y", "phone": phone, **extra}
    return clerk.post("/counter/register", data)


def _slip(clerk, response) -> tuple[str, str, str]:
    """Follow a registration to its slip: (page text, username, code)."""
    assert response.status_code == 303, error_of(response)
    page = text_of(clerk.client.get(response.headers["Location"]))
    code = CODE_RE.search(page).group(1)
    remember_secret(code)
    return page, USERNAME_RE.search(page).group(1), code


def _activate(app, identifier: str, code: str, password: str = NEW_PASSWORD):
    browser = Browser(app.test_client())
    browser.client.get("/activate")
    remember_secret(password)
    return browser.client.post("/activate", data={
        "csrf_token": csrf(browser), "identifier": identifier, "code": code,
        "password": password, "confirm": password})


def _accounts() -> int:
    return int(db.session.execute(select(func.count()).select_from(User)).scalar_one())


def test_assisted_registration_prints_a_slip_and_the_person_activates_and_logs_in(
        app, make_staff):
    clerk, number = make_staff("clerk"), id_number()
    page, username, code = _slip(clerk, _register(clerk, number, phone="13700001234"))
    assert number not in page and f"{number[:4]}{'*' * 10}{number[-4:]}" in page
    assert "/activate" in page
    user = app.extensions["idp.accounts"].find_by_login(username)
    assert user.trust_level == 5 and user.name == "赵六" and user.phone == "13700001234"
    [registered] = audit_events("counter:registration:completed")
    assert registered.user_id == user.id and registered.actor.startswith(f"staff:{clerk.id}@")
    # The code is shown once: a reload of the slip no longer carries it.
    again = text_of(clerk.client.get(f"/counter/slip/{registered.data['slip']}"))
    assert CODE_RE.search(again) is None and 'id="code-shown"' in again

    activated = _activate(app, username, code.lower().replace("-", " "))
    assert activated.status_code == 200, error_of(activated)
    browser = Browser(app.test_client())
    person = conftest.TestUser(user.id, username, NEW_PASSWORD, None)
    assert browser.login(person).status_code == 303
    [used] = audit_events("counter:activation_code:used")
    assert used.user_id == user.id and used.data["purpose"] == "activate"


def test_the_activated_person_can_log_in_with_their_id_number(app, make_staff):
    clerk, number = make_staff("clerk"), id_number()
    _, _, code = _slip(clerk, _register(clerk, number))
    assert _activate(app, number, code).status_code == 200


def test_an_activation_code_works_once(app, make_staff):
    clerk = make_staff("clerk")
    _, username, code = _slip(clerk, _register(clerk, id_number()))
    assert _activate(app, username, code).status_code == 200
    again = _activate(app, username, code, password="Another-Pass-99")
    assert again.status_code == 400
    assert error_of(again) == ("用户名或激活码不正确，或激活码已过期、已使用。"
                               "可到窗口重新打印凭条。")


def test_an_activation_code_expires_after_seven_days(app, make_staff):
    clerk = make_staff("clerk")
    _, username, code = _slip(clerk, _register(clerk, id_number()))
    app.extensions["idp.clock"].advance(7 * 24 * 3600 + 1)
    assert _activate(app, username, code).status_code == 400


def test_a_weak_password_is_refused_without_using_the_code(app, make_staff):
    clerk = make_staff("clerk")
    _, username, code = _slip(clerk, _register(clerk, id_number()))
    weak = _activate(app, username, code, password="12345678")
    assert weak.status_code == 400
    assert _activate(app, username, code).status_code == 200


def test_guessing_activation_codes_locks_activation_for_the_account(app, make_staff):
    clerk = make_staff("clerk")
    _, username, code = _slip(clerk, _register(clerk, id_number()))
    user = app.extensions["idp.accounts"].find_by_login(username)
    threshold = app.extensions["idp.accounts"].guard.threshold
    for n in range(threshold):
        clear_wait(app, "activation:" + user.id)
        _activate(app, username, f"AAAA-BBBB-CC{n:02d}")
    locked = _activate(app, username, code)
    assert locked.status_code == 400
    assert error_of(locked).startswith("失败次数过多，请于 ")
    assert audit_events("counter:activation_code:used") == []


def test_a_document_that_already_has_an_account_links_to_it_instead_of_a_duplicate(
        make_staff, citizen_with_document):
    clerk, holder = make_staff("clerk"), citizen_with_document()
    before = _accounts()
    answer = _register(clerk, holder.id_number)
    assert answer.status_code == 400
    assert error_of(answer) == "该证件已属于某个账户，请查阅该用户的档案，不要重复注册。"
    assert f'href="/counter/person/{holder.id}" id="existing-link"' in text_of(answer)
    assert holder.id_number not in text_of(answer)
    assert _accounts() == before


def test_a_registration_with_an_expired_document_creates_nothing(make_staff):
    clerk = make_staff("clerk")
    before = _accounts()
    answer = _register(clerk, id_number(), valid_until="2020-01-01")
    assert error_of(answer) == "证件已过期或未填写有效期。只能受理在有效期内的证件。"
    assert _accounts() == before


def test_a_registration_with_a_taken_mobile_number_creates_nothing(make_staff, make_user):
    clerk, other = make_staff("clerk"), make_user()
    before = _accounts()
    answer = _register(clerk, id_number(), phone=other.phone)
    assert error_of(answer) == "该手机号码已被其他账户注册，请留空或使用其他号码。"
    assert _accounts() == before
