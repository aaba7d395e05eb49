"""SMS gateways: one contract for the development outbox and the signed HTTP adapter, and the
HTTP protocol's own defences as the SMS platform (its simulator) enforces them: HMAC-SHA256
signature, single-use nonce, five-minute timestamp window.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from sqlalchemy import select

from idp.extensions import db
from idp.sms.gateways import HttpGateway, OutboxGateway, SendResult, render, sign
from idp.sms.models import OutboxMessage
from tests.conftest import SMS_APP_ID, SMS_APP_SECRET, sms_messages


def _outbox_texts(phone: str) -> list[str]:
    db.session.expire_all()
    return [m.text for m in db.session.execute(
        select(OutboxMessage).where(OutboxMessage.phone == phone)
        .order_by(OutboxMessage.id)).scalars()]


@pytest.fixture(params=["outbox", "http"])
def gateway(request, sms_platform) -> tuple[Any, Callable[[str], list[str]]]:
    """(gateway, texts delivered to a phone) for each adapter."""
    if request.param == "outbox":
        return OutboxGateway(), _outbox_texts

    def delivered(phone: str) -> list[str]:
        return [render(m["template"], m["params"]) for m in sms_messages(sms_platform, phone)]

    return HttpGateway(sms_platform.url + "/send", SMS_APP_ID, SMS_APP_SECRET), delivered


def test_send_succeeds_and_the_message_can_be_read_back(gateway):
    adapter, delivered = gateway
    result = adapter.send("13712345678", "register", {"code": "123456"})
    assert result.success is True and result.error is None and result.timed_out is False
    assert result.message_id
    assert delivered("13712345678") == [
        "【统一身份认证平台】您的注册验证码为123456，5分钟内有效，请勿告诉他人。"]


def test_messages_to_other_numbers_are_not_mixed_up(gateway):
    adapter, delivered = gateway
    assert adapter.send("13712345678", "login", {"code": "111111"}).success
    assert adapter.send("13787654321", "mfa", {"code": "222222"}).success
    assert delivered("13712345678") == [
        "【统一身份认证平台】您的登录验证码为111111，5分钟内有效，请勿告诉他人。"]
    assert delivered("13787654321") == [
        "【统一身份认证平台】您的二次验证码为222222，5分钟内有效，请勿告诉他人。"]


def test_a_notice_without_parameters_is_delivered(gateway):
    adapter, delivered = gateway
    assert adapter.send("13712345678", "password_reset_done", {}).success
    assert delivered("13712345678") == [
        "【统一身份认证平台】您的密码已被重置，所有设备已退出登录。如非本人操作，请立即联系客服或到窗口办理。"]


def test_http_gateway_sends_the_documented_signed_json(sms_platform):
    adapter = HttpGateway(sms_platform.url + "/send", SMS_APP_ID, SMS_APP_SECRET)
    result = adapter.send("13712345678", "reset", {"code": "654321"})
    [message] = sms_messages(sms_platform, "13712345678")
    assert result == SendResult(True, message_id=message["message_id"])
    assert message["template"] == "reset" and message["params"] == {"code": "654321"}


def test_http_gateway_with_a_wrong_secret_gets_bad_signature(sms_platform):
    adapter = HttpGateway(sms_platform.url + "/send", SMS_APP_ID, "not-the-secret")
    result = adapter.send("13712345678", "login", {"code": "123456"})
    assert result == SendResult(success=False, error="BAD_SIGNATURE")
    assert sms_messages(sms_platform, "13712345678") == []


def test_http_gateway_with_an_unknown_app_id_is_refused(sms_platform):
    adapter = HttpGateway(sms_platform.url + "/send", "someone-else", SMS_APP_SECRET)
    assert adapter.send("13712345678", "login", {"code": "123456"}) == SendResult(
        success=False, error="UNKNOWN_APP")


def test_http_gateway_reports_a_failed_delivery(sms_platform):
    adapter = HttpGateway(sms_platform.url + "/send", SMS_APP_ID, SMS_APP_SECRET)
    assert adapter.send("13999999999", "login", {"code": "123456"}) == SendResult(
        success=False, error="DELIVERY_FAILED")


def test_http_gateway_to_an_unreachable_platform_fails_without_raising():
    adapter = HttpGateway("http://127.0.0.1:1/send", SMS_APP_ID, SMS_APP_SECRET, timeout=2.0)
    result = adapter.send("13712345678", "login", {"code": "123456"})
    assert result == SendResult(success=False, error="ConnectionError")


def _signed_post(url: str, body: dict[str, Any], timestamp: str, nonce: str,
                 secret: str = SMS_APP_SECRET) -> requests.Response:
    raw = json.dumps(body).encode()
    return requests.post(url, data=raw, timeout=5, headers={
        "Content-Type": "application/json", "X-App-Id": SMS_APP_ID, "X-Timestamp": timestamp,
        "X-Nonce": nonce, "X-Signature": sign(secret, timestamp, nonce, raw)})


BODY = {"phone": "13712345678", "template": "login", "params": {"code": "123456"},
        "request_id": "r-1"}


def test_platform_accepts_a_correctly_signed_request(sms_platform):
    response = _signed_post(sms_platform.url + "/send", BODY, str(int(time.time())),
                            secrets.token_hex(12))
    assert response.status_code == 200 and response.json()["code"] == "OK"
    assert len(sms_messages(sms_platform, "13712345678")) == 1


def test_platform_refuses_a_replayed_nonce(sms_platform):
    timestamp, nonce = str(int(time.time())), secrets.token_hex(12)
    first = _signed_post(sms_platform.url + "/send", BODY, timestamp, nonce)
    replay = _signed_post(sms_platform.url + "/send", BODY, timestamp, nonce)
    assert first.status_code == 200
    assert replay.status_code == 401 and replay.json()["code"] == "REPLAYED_NONCE"
    assert len(sms_messages(sms_platform, "13712345678")) == 1


def test_platform_refuses_a_stale_timestamp(sms_platform):
    stale = str(int(time.time()) - 301)
    response = _signed_post(sms_platform.url + "/send", BODY, stale, secrets.token_hex(12))
    assert response.status_code == 401 and response.json()["code"] == "STALE_REQUEST"
    assert sms_messages(sms_platform, "13712345678") == []


def test_platform_refuses_a_body_changed_after_signing(sms_platform):
    timestamp, nonce = str(int(time.time())), secrets.token_hex(12)
    signature = sign(SMS_APP_SECRET, timestamp, nonce, json.dumps(BODY).encode())
    forged = json.dumps({**BODY, "phone": "13700000000"}).encode()
    response = requests.post(sms_platform.url + "/send", data=forged, timeout=5, headers={
        "Content-Type": "application/json", "X-App-Id": SMS_APP_ID, "X-Timestamp": timestamp,
        "X-Nonce": nonce, "X-Signature": signature})
    assert response.status_code == 401 and response.json()["code"] == "BAD_SIGNATURE"
    assert sms_messages(sms_platform, "13700000000") == []
