"""The real adapter for the national trusted-identity platform (CTID): signed JSON over HTTPS.

Adapters return a PlatformResult and never raise (design.md). The protocol, which
`realname.platform.simulator` also speaks:

Request (one per attempt)::

    POST {base_url}/v1/verify/two-element     body {"name": "...", "id_number": "..."}
    POST {base_url}/v1/verify/real-person     body {"name": "...", "id_number": "...",
                                                    "image": "<base64>", "image_type": "png|jpeg"}
    Content-Type: application/json; charset=utf-8   (UTF-8 JSON, ensure_ascii off)
    X-App-Id:     <app id>
    X-Timestamp:  <unix seconds>; the platform refuses more than 300 s either side
    X-Nonce:      <32 hex>; single use, a new one for every attempt
    X-Request-Id: <32 hex>; the same for every attempt of one check, so that the platform can
                  de-duplicate (and bill once)
    X-Signature:  base64(HMAC-SHA256(app secret, method + "\\n" + path + "\\n" + timestamp +
                  "\\n" + nonce + "\\n" + sha256hex(body)))   where path is the URL path as sent
                  (base_url's own path included, no query) and sha256hex is lower-case hex

    The image is the raw PNG or JPEG file, at most 2 MB (IMAGE_LIMIT) before base64; the adapter
    refuses a larger one or another type itself (bad_image, attempts 0) without sending it.

Response::

    200 {"code": "OK", "transaction_id": "T...", "result": "match|no_match|not_found",
         "score": 0.97}          score: real-person only, 0..1, null when no face was compared
    4xx/5xx {"code": "<ERROR>", "message": "..."}
    headers X-Transaction-Id: <the body's transaction_id, empty on errors>
            X-Signature: base64(HMAC-SHA256(app secret, status + "\\n" + transaction id + "\\n" +
                         request nonce + "\\n" + sha256hex(body)))

    The response signature binds the answer to this attempt's nonce: a 200 without a valid one,
    or whose body is not exactly the shape above (unknown extra keys are ignored), is
    `bad_response`, so that nobody between us and the platform can answer "match" or replay
    an old "match". Error responses need no signature (proxies produce them and they grant
    nothing). Error codes: 400 BAD_IMAGE → bad_image, other 400 → invalid_request,
    401/403 (UNKNOWN_APP, BAD_SIGNATURE, STALE_REQUEST, REPLAYED_NONCE) → rejected,
    413 → bad_image, 429 (Retry-After: seconds) → rate_limited, 5xx → unavailable,
    anything else → bad_response.

Meaning: two-element no_match is name_mismatch and not_found is number_not_found. Real-person
match needs score ≥ min_score (a lower "match" is taken as face_mismatch); no_match with a score
is face_mismatch, without one name_mismatch.

Retries: at most `retries` more attempts (default 2) after a connection error, a timeout, a 5xx
or a 429; a 429's Retry-After is honoured when it is at most `max_retry_after` seconds (else
rate_limited at once), other waits are backoff * 2**(attempt-1). A definitive answer, a 4xx or
a bad response is never retried. Logs carry the request id, outcome, reason, attempts and
elapsed time only: never names, ID numbers or images.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from realname.platform.results import Outcome, PlatformResult, Reason

logger = logging.getLogger(__name__)

TWO_ELEMENT_PATH = "/v1/verify/two-element"
REAL_PERSON_PATH = "/v1/verify/real-person"
IMAGE_LIMIT = 2 * 1024 * 1024
IMAGE_TYPES = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg"}
_RESULTS = {"match": Outcome.MATCH, "no_match": Outcome.NO_MATCH,
            "not_found": Outcome.NOT_FOUND}

Timeout = float | tuple[float, float]


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _mac(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_request(secret: str, method: str, path: str, timestamp: str, nonce: str,
                 body: bytes) -> str:
    return _mac(secret, "\n".join([method, path, timestamp, nonce, body_digest(body)]))


def sign_response(secret: str, status: int, transaction_id: str, nonce: str,
                  body: bytes) -> str:
    return _mac(secret, "\n".join([str(status), transaction_id, nonce, body_digest(body)]))


def normalise_image_type(image_type: str) -> str | None:
    value = image_type.strip().lower().removeprefix("image/")
    return IMAGE_TYPES.get(value)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError):
        return None


class HttpPlatform:
    """The national platform over HTTP; satisfies `realname.platform.IdentityPlatform`."""

    def __init__(self, base_url: str, app_id: str, app_secret: str, *,
                 timeout: Timeout = (3.05, 10.0), retries: int = 2, backoff: float = 0.25,
                 max_retry_after: float = 5.0, min_score: float = 0.8,
                 session: requests.Session | None = None,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if retries < 0 or backoff < 0:
            raise ValueError("retries and backoff must not be negative")
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._secret = app_secret
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.min_score = min_score
        self._own_session = session is None
        self.session = session or requests.Session()
        self._clock = clock
        self._sleep = sleep

    def __repr__(self) -> str:  # never show the secret
        return f"HttpPlatform({self.base_url!r}, app_id={self.app_id!r})"

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> HttpPlatform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # The interface ------------------------------------------------------------------------

    def check_name_and_number(self, name: str, id_number: str) -> PlatformResult:
        return self._check(TWO_ELEMENT_PATH, {"name": name, "id_number": id_number})

    def check_real_person(self, name: str, id_number: str, image: bytes,
                          image_type: str) -> PlatformResult:
        kind = normalise_image_type(image_type)
        if kind is None or not image or len(image) > IMAGE_LIMIT:
            logger.info("ctid real-person refused before sending: reason=bad_image")
            return PlatformResult.bad_image(attempts=0)
        return self._check(REAL_PERSON_PATH, {
            "name": name, "id_number": id_number,
            "image": base64.b64encode(image).decode(), "image_type": kind})

    # One check: attempts, waits and one log line -----------------------------------------

    def _check(self, path: str, payload: Mapping[str, str]) -> PlatformResult:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        request_id = uuid.uuid4().hex
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            result, wait = self._attempt(path, body, request_id, attempt)
            if wait is None or attempt > self.retries:
                break
            self._sleep(wait)
        logger.info("ctid %s request_id=%s outcome=%s reason=%s attempts=%d elapsed_ms=%d",
                    path.rsplit("/", 1)[-1], request_id, result.outcome.value, result.reason,
                    result.attempts, round((time.monotonic() - started) * 1000))
        return result

    def _attempt(self, path: str, body: bytes, request_id: str,
                 attempt: int) -> tuple[PlatformResult, float | None]:
        """The result of one attempt and, when it may be retried, how long to wait first."""
        url = self.base_url + path
        timestamp, nonce = str(int(self._clock())), secrets.token_hex(16)
        headers = {
            "Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
            "X-App-Id": self.app_id, "X-Timestamp": timestamp, "X-Nonce": nonce,
            "X-Request-Id": request_id,
            "X-Signature": sign_request(self._secret, "POST", urlsplit(url).path, timestamp,
                                        nonce, body)}
        backoff = self.backoff * 2 ** (attempt - 1)
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=self.timeout,
                                         allow_redirects=False)
        except requests.Timeout:
            self._note(request_id, attempt, "timeout")
            return PlatformResult.timeout(attempts=attempt), backoff
        except Exception as exc:  # noqa: BLE001 - every transport failure is a result
            self._note(request_id, attempt, type(exc).__name__)
            return PlatformResult.unavailable(attempts=attempt), backoff
        status = response.status_code
        if status == 200:
            return self._answer(response, path, nonce, attempt), None
        self._note(request_id, attempt, f"http_{status}:{_error_code(response)}")
        if status == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"), self._clock())
            if wait is not None and wait > self.max_retry_after:
                return PlatformResult.rate_limited(attempts=attempt), None
            return PlatformResult.rate_limited(attempts=attempt), (
                backoff if wait is None else wait)
        if status >= 500:
            return PlatformResult.unavailable(attempts=attempt), backoff
        if status in (401, 403):
            return PlatformResult.rejected(attempts=attempt), None
        if status == 413 or (status == 400 and _error_code(response) == "BAD_IMAGE"):
            return PlatformResult.bad_image(attempts=attempt), None
        if status == 400:
            return PlatformResult.invalid_request(attempts=attempt), None
        return PlatformResult.bad_response(attempts=attempt), None

    @staticmethod
    def _note(request_id: str, attempt: int, what: str) -> None:
        logger.debug("ctid attempt failed: request_id=%s attempt=%d %s", request_id, attempt,
                     what)

    # A 200: signed, well-formed, and what it means ----------------------------------------

    def _answer(self, response: requests.Response, path: str, nonce: str,
                attempt: int) -> PlatformResult:
        transaction_id = response.headers.get("X-Transaction-Id", "")
        expected = sign_response(self._secret, 200, transaction_id, nonce, response.content)
        given = response.headers.get("X-Signature", "")
        if not (given and transaction_id and hmac.compare_digest(expected, given)):
            logger.warning("ctid response signature missing or invalid: transaction_id=%s",
                           _printable(transaction_id))
            return PlatformResult.bad_response(attempts=attempt)
        try:
            data = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            data = None
        result = self._meaning(data, transaction_id, path, attempt)
        if result is None:
            logger.warning("ctid response malformed: transaction_id=%s",
                           _printable(transaction_id))
            return PlatformResult.bad_response(attempts=attempt)
        return result

    def _meaning(self, data: Any, transaction_id: str, path: str,
                 attempt: int) -> PlatformResult | None:
        if not isinstance(data, dict) or data.get("code") != "OK":
            return None
        result = data.get("result")
        outcome = _RESULTS.get(result) if isinstance(result, str) else None
        if outcome is None or data.get("transaction_id") != transaction_id:
            return None
        score = data.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)
                                  or not 0.0 <= score <= 1.0):
            return None
        if path == TWO_ELEMENT_PATH:
            if score is not None:
                return None
            reason = {Outcome.NO_MATCH: Reason.NAME_MISMATCH,
                      Outcome.NOT_FOUND: Reason.NUMBER_NOT_FOUND}.get(outcome)
            return PlatformResult(outcome, reason, transaction_id, attempts=attempt)
        return self._real_person(outcome, None if score is None else float(score),
                                 transaction_id, attempt)

    def _real_person(self, outcome: Outcome, score: float | None, transaction_id: str,
                     attempt: int) -> PlatformResult | None:
        if outcome is Outcome.MATCH:
            if score is None:
                return None
            if score < self.min_score:
                outcome = Outcome.NO_MATCH
        elif outcome is Outcome.NOT_FOUND and score is not None:
            return None
        reason: str | None = None
        if outcome is Outcome.NO_MATCH:
            reason = Reason.NAME_MISMATCH if score is None else Reason.FACE_MISMATCH
        elif outcome is Outcome.NOT_FOUND:
            reason = Reason.NUMBER_NOT_FOUND
        return PlatformResult(outcome, reason, transaction_id, score=score, attempts=attempt)


def _error_code(response: requests.Response) -> str:
    """The platform's error code for logs and mapping; only a short, safe token."""
    try:
        code = json.loads(response.content).get("code")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return "-"
    return _printable(code) if isinstance(code, str) else "-"


def _printable(value: str) -> str:
    """A header or code value fit for a log line: short, [A-Za-z0-9_-] only."""
    cleaned = "".join(c for c in value[:64] if c.isascii() and (c.isalnum() or c in "_-"))
    return cleaned or "-"


__all__ = ["IMAGE_LIMIT", "REAL_PERSON_PATH", "TWO_ELEMENT_PATH", "HttpPlatform",
           "body_digest", "sign_request", "sign_response"]
