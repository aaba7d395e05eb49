"""SMS gateways behind one interface: the signed HTTP adapter and the development outbox.

Adapters return a SendResult and never raise vendor exceptions to callers (design.md).
The HTTP protocol, which `clients/sms_gateway_sim` also speaks:

    POST {IDP_SMS_URL}   Content-Type: application/json
    X-App-Id: <app id>   X-Timestamp: <unix seconds>   X-Nonce: <random>
    X-Signature: base64(HMAC-SHA256(app secret, timestamp + "\\n" + nonce + "\\n" + body))
    body: {"phone": "13800000000", "template": "register", "params": {"code": "123456"},
           "request_id": "<uuid>"}
    200 {"code": "OK", "message_id": "..."}   otherwise {"code": "<ERROR>", "message": "..."}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

import requests
from sqlalchemy import insert

from idp.extensions import db
from idp.sms.models import OutboxMessage

TEMPLATES = {
    "register": "【统一身份认证平台】您的注册验证码为{code}，5分钟内有效，请勿告诉他人。",
    "login": "【统一身份认证平台】您的登录验证码为{code}，5分钟内有效，请勿告诉他人。",
    "mfa": "【统一身份认证平台】您的二次验证码为{code}，5分钟内有效，请勿告诉他人。",
    "reset": "【统一身份认证平台】您正在找回密码，验证码为{code}，5分钟内有效，请勿告诉他人。",
    "phone_old": "【统一身份认证平台】您正在更换手机号码，验证码为{code}，5分钟内有效。",
    "phone_new": "【统一身份认证平台】您正在绑定新手机号码，验证码为{code}，5分钟内有效。",
    "password_reset_done": "【统一身份认证平台】您的密码已被重置，所有设备已退出登录。"
                           "如非本人操作，请立即联系客服或到窗口办理。",
    "password_changed": "【统一身份认证平台】您的密码已修改，其他设备已退出登录。"
                        "如非本人操作，请立即找回密码或到窗口办理。",
    # Account lifecycle notices (docs/account-lifecycle.md); {date} is a Beijing-time date.
    "deletion_requested": "【统一身份认证平台】您已申请注销账号，所有设备已退出登录。账号将于"
                          "{date}注销，此前登录可取消注销。如非本人操作，请立即登录取消并修改密码。",
    "deletion_cancelled": "【统一身份认证平台】您的注销申请已取消，账号恢复正常使用。"
                          "如非本人操作，请立即修改密码。",
    "account_purged": "【统一身份认证平台】您的账号已按您的申请注销，个人信息已删除，"
                      "本号码可重新注册。",
    "account_disabled": "【统一身份认证平台】您的账号已被停用，所有设备已退出登录。"
                        "如有疑问，请联系客服或到服务大厅窗口咨询。",
    "account_enabled": "【统一身份认证平台】您的账号已恢复使用。如有疑问，请联系客服或到"
                       "服务大厅窗口咨询。",
    # Sent instead of a code where a code cannot help, so that the page's answer and timing do
    # not tell whether the number has an account (no enumeration).
    "register_exists": "【统一身份认证平台】本号码已注册统一身份认证账户，无需重复注册。"
                       "如忘记密码，请使用“找回密码”。如非本人操作，请忽略。",
    "no_account": "【统一身份认证平台】有人请求向本号码发送验证码，但本号码尚未注册统一身份"
                  "认证账户。如非本人操作，请忽略。",
}


@dataclass(frozen=True)
class SendResult:
    success: bool
    message_id: str | None = None
    error: str | None = None
    timed_out: bool = False


class SmsGateway(Protocol):
    def send(self, phone: str, template: str, params: dict[str, str]) -> SendResult: ...


def render(template: str, params: dict[str, str]) -> str:
    return TEMPLATES[template].format(**params)


class OutboxGateway:
    """Development gateway: keeps each message in the `sms_outbox` table (`idp sms outbox`)."""

    def send(self, phone: str, template: str, params: dict[str, str]) -> SendResult:
        # Its own transaction: the message exists even if the caller's request rolls back.
        with db.engine.begin() as conn:
            result = conn.execute(insert(OutboxMessage).values(
                phone=phone, template=template, text=render(template, params)))
        key = result.inserted_primary_key
        return SendResult(True, message_id=f"outbox-{key[0] if key else '?'}")


def sign(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


class HttpGateway:
    """The real adapter: a signed JSON POST to the province's SMS platform."""

    def __init__(self, url: str, app_id: str, app_secret: str, timeout: float = 5.0) -> None:
        self.url = url
        self.app_id = app_id
        self.app_secret = app_secret
        self.timeout = timeout
        self.http = requests.Session()

    def send(self, phone: str, template: str, params: dict[str, str]) -> SendResult:
        body = json.dumps({"phone": phone, "template": template, "params": params,
                           "request_id": str(uuid.uuid4())}, ensure_ascii=False).encode()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(12)
        headers = {"Content-Type": "application/json", "X-App-Id": self.app_id,
                   "X-Timestamp": timestamp, "X-Nonce": nonce,
                   "X-Signature": sign(self.app_secret, timestamp, nonce, body)}
        try:
            response = self.http.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.Timeout:
            return SendResult(False, error="timeout", timed_out=True)
        except requests.RequestException as exc:
            return SendResult(False, error=type(exc).__name__)
        try:
            answer = response.json()
        except ValueError:
            return SendResult(False, error=f"http_{response.status_code}")
        if response.status_code == 200 and answer.get("code") == "OK":
            return SendResult(True, message_id=str(answer.get("message_id")))
        return SendResult(False, error=str(answer.get("code") or response.status_code))
