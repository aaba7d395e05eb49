"""A simulator of the province's SMS platform: same signed HTTP protocol, messages in memory.

Run it with `python -m clients.sms_gateway_sim`; the provider talks to it through its real
HTTP adapter (IDP_SMS_GATEWAY=http). GET /messages?phone=... lists what was "delivered".
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import threading
import time
import uuid
from typing import Any

from flask import Flask, jsonify, request

TEMPLATES = {"register", "login", "mfa", "reset", "phone_old", "phone_new",
             "password_reset_done", "password_changed", "register_exists", "no_account",
             "deletion_requested", "deletion_cancelled", "account_purged", "account_disabled",
             "account_enabled"}


def create_simulator(app_id: str, app_secret: str, *, fail_phones: set[str] | None = None
                     ) -> Flask:
    app = Flask(__name__)
    messages: list[dict[str, Any]] = []
    nonces: set[str] = set()
    lock = threading.Lock()
    app.extensions["sms_messages"] = messages

    def refuse(code: str, status: int) -> Any:
        return jsonify({"code": code, "message": code.lower().replace("_", " ")}), status

    @app.post("/send")
    def send() -> Any:
        body = request.get_data()
        timestamp = request.headers.get("X-Timestamp", "")
        nonce = request.headers.get("X-Nonce", "")
        if request.headers.get("X-App-Id") != app_id:
            return refuse("UNKNOWN_APP", 401)
        expected = base64.b64encode(hmac.new(
            app_secret.encode(), timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body,
            hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, request.headers.get("X-Signature", "")):
            return refuse("BAD_SIGNATURE", 401)
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return refuse("STALE_REQUEST", 401)
        with lock:
            if nonce in nonces:
                return refuse("REPLAYED_NONCE", 401)
            nonces.add(nonce)
        data = request.get_json(silent=True) or {}
        if data.get("template") not in TEMPLATES or not isinstance(data.get("params"), dict):
            return refuse("BAD_TEMPLATE", 400)
        if data.get("phone") in (fail_phones or set()):
            return refuse("DELIVERY_FAILED", 502)
        message = {"message_id": uuid.uuid4().hex, "phone": data.get("phone"),
                   "template": data["template"], "params": data["params"],
                   "received_at": int(time.time())}
        with lock:
            messages.append(message)
        return jsonify({"code": "OK", "message_id": message["message_id"]})

    @app.get("/messages")
    def list_messages() -> Any:
        phone = request.args.get("phone")
        with lock:
            return jsonify([m for m in messages if phone in (None, m["phone"])])

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the SMS platform simulator.")
    parser.add_argument("--app-id", default="idp-dev")
    parser.add_argument("--app-secret", default="idp-dev-sms-secret")
    parser.add_argument("--port", type=int, default=5002)
    args = parser.parse_args()
    create_simulator(args.app_id, args.app_secret).run(host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
