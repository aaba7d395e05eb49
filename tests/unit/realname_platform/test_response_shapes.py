"""The adapter trusts only a signed 200 of exactly the documented shape (canned transport)."""

from __future__ import annotations

import hashlib
import json
from email.utils import formatdate
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from realname.platform import HttpPlatform, Outcome, PlatformResult, Reason
from tests.unit.realname_platform.conftest import APP_ID, APP_SECRET, documented_signature


class Canned(BaseAdapter):
    """Answers every request with the given status and body, signed for that request."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None,
                 transaction_id: str = "T1") -> None:
        super().__init__()
        self.status, self.headers, self.transaction_id = status, headers or {}, transaction_id
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.sent = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent += 1
        response = requests.Response()
        response.status_code, response._content, response.url = self.status, self.body, "x"
        response.headers.update({"X-Transaction-Id": self.transaction_id, **self.headers,
                                 "X-Signature": documented_signature(
                                     APP_SECRET, str(self.status), self.transaction_id,
                                     str(request.headers["X-Nonce"]),
                                     hashlib.sha256(self.body).hexdigest())})
        response.request = request
        return response

    def close(self) -> None:
        pass


def _adapter(canned: Canned, fake_time: Any, **options: Any) -> HttpPlatform:
    session = requests.Session()
    session.mount("https://", canned)
    return HttpPlatform("https://ctid.example", APP_ID, APP_SECRET, session=session,
                        clock=fake_time.time, sleep=fake_time.sleep, **options)


OK = {"code": "OK", "transaction_id": "T1"}
FACE = ("张三", "11010519491231002X", b"\x89PNG\r\n\x1a\n", "png")


@pytest.mark.parametrize("body", [
    b"not json", b"[1]", {**OK, "code": "PENDING", "result": "match"},
    {**OK, "result": "maybe"}, {**OK, "result": None}, {**OK, "result": "match", "score": 0.5},
    {"code": "OK", "transaction_id": "T2", "result": "match"}])
def test_a_malformed_two_element_answer_is_a_bad_response(fake_time, body):
    canned = Canned(200, body)
    with _adapter(canned, fake_time) as adapter:
        assert adapter.check_name_and_number("张三", "11010519491231002X") == (
            PlatformResult.bad_response(attempts=1))
    assert canned.sent == 1


@pytest.mark.parametrize("body", [
    {**OK, "result": "match"}, {**OK, "result": "match", "score": 1.5},
    {**OK, "result": "match", "score": True}, {**OK, "result": "match", "score": "0.9"},
    {**OK, "result": "not_found", "score": 0.3}])
def test_a_malformed_real_person_answer_is_a_bad_response(fake_time, body):
    with _adapter(Canned(200, body), fake_time) as adapter:
        assert adapter.check_real_person(*FACE) == PlatformResult.bad_response(attempts=1)


def test_unknown_extra_keys_in_a_signed_answer_are_ignored(fake_time):
    body = {**OK, "result": "match", "score": 0.93, "liveness": "passed"}
    with _adapter(Canned(200, body), fake_time) as adapter:
        assert adapter.check_real_person(*FACE) == PlatformResult(
            Outcome.MATCH, None, "T1", score=0.93, attempts=1)


@pytest.mark.parametrize(("status", "code", "expected", "sent"), [
    (403, "FORBIDDEN", Reason.REJECTED, 1), (413, "TOO_LARGE", Reason.BAD_IMAGE, 1),
    (404, "NOT_FOUND", Reason.BAD_RESPONSE, 1), (302, "MOVED", Reason.BAD_RESPONSE, 1),
    (502, "BAD_GATEWAY", Reason.UNAVAILABLE, 3), (503, "UNAVAILABLE", Reason.UNAVAILABLE, 3)])
def test_error_statuses_map_to_reasons_and_only_5xx_is_retried(fake_time, status, code,
                                                               expected, sent):
    canned = Canned(status, {"code": code, "message": "..."}, transaction_id="")
    with _adapter(canned, fake_time) as adapter:
        result = adapter.check_name_and_number("张三", "11010519491231002X")
    assert (result.outcome, result.reason, result.attempts) == (Outcome.ERROR, expected, sent)
    assert canned.sent == sent


def test_retry_after_as_an_http_date_is_honoured(fake_time):
    retry_at = formatdate(fake_time.now + 3, usegmt=True)
    canned = Canned(429, {"code": "RATE_LIMITED"}, {"Retry-After": retry_at}, "")
    with _adapter(canned, fake_time, retries=1) as adapter:
        assert adapter.check_name_and_number("张三", "11010519491231002X") == (
            PlatformResult.rate_limited(attempts=2))
    assert len(fake_time.sleeps) == 1 and 2.0 <= fake_time.sleeps[0] <= 3.0
