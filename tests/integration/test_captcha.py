"""The picture code (图形验证码) before any SMS (ADR 0013): every page that sends a code to a
number a person types (registration, SMS login, recovery, changing the mobile number) sends
nothing without the right answer to a live, unused challenge; the picture and its recording
are served uncached; a challenge answers once; the refusal tells nothing about the number."""

from __future__ import annotations

import html
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest
from flask import Flask

from idp.extensions import get_store
from tests.conftest import (
    CAPTCHA_ID_RE,
    Browser,
    LiveServer,
    captcha_answer,
    remember_secret,
    sms_messages,
    solve_captcha,
)
from tests.conftest import TestUser as Citizen  # not `TestUser`: pytest would collect it
from tests.integration.citizens import (
    CODE_SENT,
    IF_REGISTERED,
    csrf,
    enrol_totp,
    error_of,
    notice_of,
    send_mfa_sms,
    text_of,
)

CAPTCHA_WRONG = "图形验证码错误或已过期，请重新输入。"
CAPTCHA_LIMITED = "您所在的网络请求图形验证码过于频繁，请稍后再试。"
NEW_NUMBER = "13722220000"
PHONE_SENT = "验证码已发送，5分钟内有效。"


@dataclass
class SmsForm:
    """A page that sends an SMS code: where, which fields, and what a right answer says."""

    path: str
    fields: Callable[[str], dict[str, str]]  # the number -> the form without csrf and captcha
    signed_in: bool  # the page is the account page's (a recent sign-in)
    registered: bool  # the number used has an account (else a new number)
    sent: str  # the notice after a send


FORMS = {
    "registration": SmsForm("/register", lambda phone: {"step": "send", "p-phone": phone},
                            False, False, CODE_SENT),
    "sms-login": SmsForm("/login/sms", lambda phone: {"step": "send", "p-phone": phone},
                         False, True, IF_REGISTERED),
    "recovery": SmsForm("/recover", lambda phone: {"step": "send", "p-phone": phone},
                        False, True, IF_REGISTERED),
    "phone-change-old-number": SmsForm("/account/phone", lambda phone: {"step": "send_old"},
                                       True, True, PHONE_SENT),
    "phone-change-new-number": SmsForm(
        "/account/phone", lambda phone: {"step": "send_new", "new_phone": phone}, True, False,
        PHONE_SENT),
}


@dataclass
class Case:
    app: Flask
    form: SmsForm
    browser: Browser
    phone: str
    user: Citizen

    def page(self, **query: str) -> Any:
        return self.browser.client.get(self.form.path, query_string=query)

    def post(self, captcha: dict[str, str] | None, **overrides: str) -> Any:
        token = csrf(self.browser)
        data = {"csrf_token": token, "p-csrf_token": token, **self.form.fields(self.phone),
                **(captcha or {}), **overrides}
        return self.browser.client.post(self.form.path, data=data)

    def solved(self) -> dict[str, str]:
        return solve_captcha(self.app, text_of(self.page()))

    def sms(self, sms_platform: LiveServer) -> list[dict[str, Any]]:
        return sms_messages(sms_platform, self.phone)


@pytest.fixture(params=list(FORMS), ids=list(FORMS))
def case(request: pytest.FixtureRequest, app: Flask, make_user: Any) -> Case:
    form = FORMS[request.param]
    user = make_user(phone="13811110000")
    browser = Browser(app.test_client())
    if form.signed_in:
        assert browser.login(user).status_code == 303
    phone = user.phone if form.registered else NEW_NUMBER
    assert phone is not None
    return Case(app, form, browser, phone, user)


def _wrong(answer: str) -> str:
    return "".join(str((int(d) + 1) % 10) for d in answer)


def _challenge_of(response: Any) -> str:
    match = CAPTCHA_ID_RE.search(text_of(response))
    assert match, "the page has no picture code"
    return match.group(1)


def _refused_with_a_new_picture(response: Any, posted: str | None) -> None:
    assert response.status_code == 400
    assert error_of(response) == CAPTCHA_WRONG
    assert 'id="captcha-answer" name="captcha_answer"' in text_of(response)
    assert 'aria-invalid="true" aria-describedby="error"' in text_of(response)
    assert _challenge_of(response) != posted


# --- the four pages -------------------------------------------------------------------------
def test_the_right_answer_sends_exactly_one_sms(case, sms_platform):
    response = case.post(case.solved())
    assert response.status_code == 200, error_of(response)
    assert notice_of(response) == case.form.sent
    assert len(case.sms(sms_platform)) == 1


def test_no_answer_sends_no_sms(case, sms_platform):
    case.page()
    missing = case.post(None)
    unanswered = case.post({"captcha_id": case.solved()["captcha_id"], "captcha_answer": ""})
    for response in (missing, unanswered):
        _refused_with_a_new_picture(response, None)
    assert case.sms(sms_platform) == []


def test_a_wrong_answer_sends_no_sms_and_uses_the_challenge_up(case, sms_platform):
    solved = case.solved()
    wrong = case.post({**solved, "captcha_answer": _wrong(solved["captcha_answer"])})
    _refused_with_a_new_picture(wrong, solved["captcha_id"])
    assert get_store(case.app).get("captcha:" + solved["captcha_id"]) is None
    right_after_wrong = case.post(solved)  # the right answer comes too late
    _refused_with_a_new_picture(right_after_wrong, solved["captcha_id"])
    assert case.sms(sms_platform) == []


def test_a_used_answer_cannot_send_a_second_sms(case, sms_platform):
    solved = case.solved()
    assert case.post(solved).status_code == 200
    get_store(case.app).delete("sms-gap:" + case.phone)  # as if the minute had passed
    again = case.post(solved)
    _refused_with_a_new_picture(again, solved["captcha_id"])
    assert len(case.sms(sms_platform)) == 1


def test_an_expired_challenge_sends_no_sms(case, sms_platform):
    solved = case.solved()
    get_store(case.app).delete("captcha:" + solved["captcha_id"])  # the store let it expire
    _refused_with_a_new_picture(case.post(solved), solved["captcha_id"])
    assert case.sms(sms_platform) == []


def test_a_challenge_from_another_shape_of_id_is_refused(case, sms_platform):
    for challenge in ("", "x" * 22, "../" * 8, "a" * 200):
        refused = case.post({"captcha_id": challenge, "captcha_answer": "1234"})
        _refused_with_a_new_picture(refused, challenge or None)
    assert case.sms(sms_platform) == []


def test_the_answer_may_be_typed_with_full_width_digits_and_spaces(case, sms_platform):
    solved = case.solved()
    typed = " " + " ".join(chr(ord(d) + 0xFEE0) for d in solved["captcha_answer"]) + "\u3000"
    response = case.post({**solved, "captcha_answer": typed})
    assert response.status_code == 200, error_of(response)
    assert len(case.sms(sms_platform)) == 1


def test_every_page_shows_a_new_picture_with_its_recording_and_a_way_to_another(case):
    first, second = case.page(), case.page()
    page = text_of(first)
    challenge = _challenge_of(first)
    assert challenge != _challenge_of(second)
    assert f'<img id="captcha-image" src="/captcha/{challenge}.png"' in page
    assert 'alt="图片中是四位数字。如看不清，可收听下方的语音。"' in page
    assert f'<audio id="captcha-audio" controls preload="none" ' \
           f'aria-labelledby="captcha-audio-label"\n           src="/captcha/{challenge}.wav">' \
           in page
    assert f'href="/captcha/{challenge}.wav"\n       download="captcha.wav">下载语音文件</a>' \
        in page
    assert '<label for="captcha-answer">图片中的数字</label>' in page
    assert '<script src="/static/send-code.js" defer></script>' in page
    refresh = re.search(r'<a href="([^"]+)" id="captcha-refresh">看不清？换一张</a>', page)
    assert refresh, "no link to another picture"
    another = case.browser.client.get(html.unescape(refresh.group(1)))
    assert another.status_code == 200
    assert _challenge_of(another) not in (challenge, _challenge_of(second))


def test_a_wrong_answer_is_refused_alike_for_registered_and_unregistered_numbers(
        app, make_user, sms_platform):
    make_user(phone="13811110000")
    for path in ("/register", "/login/sms", "/recover"):
        pages = []
        for phone in ("13811110000", "13811119999"):
            browser = Browser(app.test_client())
            solved = solve_captcha(app, text_of(browser.client.get(path)))
            response = browser.client.post(path, data={
                "p-csrf_token": csrf(browser), "step": "send", "p-phone": phone,
                **solved, "captcha_answer": _wrong(solved["captcha_answer"])})
            assert response.status_code == 400 and error_of(response) == CAPTCHA_WRONG
            pages.append(re.sub(r'(csrf_token"[^>]*value=")[^"]+"', "CSRF", text_of(response))
                         .replace(_challenge_of(response), "CHALLENGE").replace(phone, "PHONE"))
        assert pages[0] == pages[1], path
    assert len(app.extensions["sms_platform_messages"]) == 0


def test_the_answer_is_never_logged(app, sms_platform):
    browser = Browser(app.test_client())
    solved = solve_captcha(app, text_of(browser.client.get("/register")))
    typed = "noted-nowhere-" + solved["captcha_answer"]
    remember_secret(typed)  # clean_state fails the test if a log line or audit row has it
    response = browser.client.post("/register", data={
        "p-csrf_token": csrf(browser), "step": "send", "p-phone": NEW_NUMBER, **solved,
        "captcha_answer": typed})
    assert response.status_code == 400


# --- resending and its countdown ------------------------------------------------------------
def test_after_a_send_the_send_button_counts_down_the_minute(app, make_user, sms_platform):
    user = make_user()
    browser = Browser(app.test_client())
    solved = solve_captcha(app, text_of(browser.client.get("/login/sms")))
    sent = browser.client.post("/login/sms", data={
        "p-csrf_token": csrf(browser), "step": "send", "p-phone": user.phone, **solved})
    assert sent.status_code == 200
    assert '<button type="submit" data-wait="60" data-wait-text="{seconds} 秒后可重新发送">' \
           '发送验证码</button>' in text_of(sent)
    assert "data-wait" not in text_of(browser.client.get("/login/sms"))


def test_sending_again_on_the_registration_page_needs_a_new_answer(app, sms_platform):
    browser = Browser(app.test_client())
    solved = solve_captcha(app, text_of(browser.client.get("/register")))
    sent = browser.client.post("/register", data={
        "p-csrf_token": csrf(browser), "step": "send", "p-phone": NEW_NUMBER, **solved})
    page = text_of(sent)
    assert '<details class="resend">' in page and 'data-wait="60"' in page
    get_store(app).delete("sms-gap:" + NEW_NUMBER)
    resend = {"p-csrf_token": csrf(browser), "step": "send", "p-phone": NEW_NUMBER}
    refused = browser.client.post("/register", data={**resend, **solved})
    assert refused.status_code == 400 and error_of(refused) == CAPTCHA_WRONG
    assert '<details class="resend" open>' in text_of(refused)
    assert 'name="r-code"' in text_of(refused)  # still on the step that takes the code
    again = browser.client.post("/register", data={**resend, **solve_captcha(app, text_of(
        refused))})
    assert again.status_code == 200, error_of(again)
    assert [m["template"] for m in sms_messages(sms_platform, NEW_NUMBER)] == \
        ["register", "register"]
    # "another picture" on this step keeps the number (?again=1), without JavaScript
    link = re.search(r'<a href="([^"]+)" id="captcha-refresh">', text_of(again))
    assert link and html.unescape(link.group(1)) == "/register?again=1"
    assert 'name="r-code"' in text_of(browser.client.get("/register?again=1"))


def test_the_second_factor_sms_needs_no_picture_code(app, make_user, sms_platform,
                                                    change_settings):
    """Sent only after the password was proven, and only to the account's own verified
    number (ADR 0013)."""
    change_settings(sms_with_totp=True)
    user = make_user()
    enrolling = Browser(app.test_client())
    enrolling.login(user)
    enrol_totp(enrolling)
    browser = Browser(app.test_client())
    assert browser.login(user).status_code == 303
    sent = send_mfa_sms(browser)
    assert sent.status_code == 200, error_of(sent)
    assert 'name="captcha_answer"' not in text_of(sent)
    assert [m["template"] for m in sms_messages(sms_platform, user.phone)] == ["mfa"]


# --- the picture and the recording ----------------------------------------------------------
def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_picture_is_a_png_that_is_never_stored(app):
    challenge = _challenge_of(Browser(app.test_client()).client.get("/register"))
    response = app.test_client().get(f"/captcha/{challenge}.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    assert _png_size(response.get_data()) == (160, 60)


def test_the_recording_is_a_wav_that_is_never_stored(app):
    challenge = _challenge_of(Browser(app.test_client()).client.get("/register"))
    response = app.test_client().get(f"/captcha/{challenge}.wav")
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert struct.unpack("<HHI", data[20:28]) == (1, 1, 8000)  # PCM, mono, 8 kHz


def test_an_unknown_or_used_challenge_has_no_picture_and_no_recording(app):
    browser = Browser(app.test_client())
    solved = solve_captcha(app, text_of(browser.client.get("/register")))
    assert app.extensions["idp.captchas"].check(solved["captcha_id"], solved["captcha_answer"])
    for challenge in (solved["captcha_id"], "x" * 22, "not-an-id"):
        for kind in ("png", "wav"):
            response = app.test_client().get(f"/captcha/{challenge}.{kind}")
            assert response.status_code == 404
            assert response.headers["Cache-Control"] == "no-store"


def test_one_challenge_is_drawn_and_spoken_only_a_few_times(app):
    challenge = _challenge_of(Browser(app.test_client()).client.get("/register"))
    client = app.test_client()
    pictures = [client.get(f"/captcha/{challenge}.png").status_code for _ in range(6)]
    recordings = [client.get(f"/captcha/{challenge}.wav").status_code for _ in range(4)]
    assert pictures == [200] * 5 + [404]
    assert recordings == [200] * 3 + [404]
    assert captcha_answer(app, challenge)  # still answerable


# --- the service ----------------------------------------------------------------------------
def test_a_challenge_answers_once_even_when_right(app):
    captchas = app.extensions["idp.captchas"]
    challenge = captchas.issue("192.0.2.1")
    answer = captcha_answer(app, challenge)
    assert re.fullmatch(r"[0-9]{4}", answer)
    assert captchas.check(challenge, answer) is True
    assert captchas.check(challenge, answer) is False


def test_challenges_are_random_and_unguessable(app):
    captchas = app.extensions["idp.captchas"]
    ids = {captchas.issue(None) for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)  # 128 random bits


def test_too_many_challenges_for_one_address_show_no_picture_and_send_nothing(
        app, monkeypatch, sms_platform):
    captchas = app.extensions["idp.captchas"]
    monkeypatch.setattr(captchas, "limits", replace(captchas.limits, ip_hourly=3))
    browser = Browser(app.test_client())
    address = {"REMOTE_ADDR": "198.51.100.77"}
    pages = [browser.client.get("/login/sms", environ_overrides=address) for _ in range(4)]
    assert [CAPTCHA_ID_RE.search(text_of(p)) is not None for p in pages] == \
        [True, True, True, False]
    assert f'<p class="field-error" role="alert" id="captcha-limited">{CAPTCHA_LIMITED}</p>' \
        in text_of(pages[3])
    other = Browser(app.test_client()).client.get("/login/sms",
                                                  environ_overrides={"REMOTE_ADDR": "192.0.2.9"})
    assert CAPTCHA_ID_RE.search(text_of(other))  # another address is not affected
