"""The simulated platform itself: population, signature checks, answers, faults and records."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from email.message import Message
from pathlib import Path
from typing import Any

from realname.identifiers import mask_id_number
from realname.platform.adapter import (
    IMAGE_LIMIT,
    REAL_PERSON_PATH,
    sign_request,
    sign_response,
)
from realname.platform.simulator.population import (
    Person,
    face_score,
    generate,
    image_kind,
    is_well_formed,
    load_people,
    portrait_png,
)
from realname.platform.simulator.server import (
    Reply,
    SimServer,
    json_reply,
    read_object,
    start_server,
)

FRESHNESS = 300  # seconds either side of the platform's clock
MATCH_THRESHOLD = 0.8
OUTAGE_MODES = ("down", "slow", "error", "off")
TAMPER_MODES = ("forge", "unsigned", "replay", "off")
DEFAULT_APP_ID = "ctid-dev"
DEFAULT_SECRET = "ctid-dev-secret"  # development only: the simulator is not a real platform
Headers = Message | Mapping[str, str]


class PlatformSimulator:
    """The platform in a thread: `start()` returns its URL, `stop()` ends it."""

    def __init__(self, app_id: str = DEFAULT_APP_ID, app_secret: str = DEFAULT_SECRET, *,
                 seed: int = 0, people: int = 20, latency_ms: int | tuple[int, int] = (30, 120),
                 population_file: str | Path | None = None, host: str = "127.0.0.1",
                 port: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.app_id, self._secret = app_id, app_secret
        self.host, self.port = host, port
        self._clock = clock
        self._latency = (latency_ms, latency_ms) if isinstance(latency_ms, int) else latency_ms
        self._face_key = hashlib.sha256(f"ctid-simulator-face:{seed}".encode()).digest()
        self._lock = threading.Lock()
        self._wake = threading.Event()  # set by stop(): sleeping handlers finish at once
        self._people: dict[str, Person] = {p.id_number: p for p in generate(seed, people)}
        for person in load_people(population_file) if population_file else []:
            self.add_person(person.name, person.id_number)
        self._server: SimServer | None = None
        self._outage: tuple[str, float, float] = ("off", math.inf, 0.0)
        self._per_second: int | None = None
        self._hits: deque[float] = deque()
        self._tamper = "off"
        self._transactions: list[dict[str, Any]] = []
        self._nonces: dict[str, float] = {}
        self._answered: dict[str, str] = {}
        self._last_ok: Reply | None = None

    # Population ---------------------------------------------------------------------------

    def add_person(self, name: str, id_number: str) -> Person:
        id_number = id_number.strip().upper()
        if not name.strip() or not is_well_formed(id_number):
            raise ValueError("a person needs a name and an 18-character ID number with a "
                             "correct check digit")
        person = Person(name.strip(), id_number)
        with self._lock:
            self._people[id_number] = person
        return person

    def population(self) -> list[Person]:
        with self._lock:
            return list(self._people.values())

    def portrait(self, id_number: str) -> bytes:
        return portrait_png(self._face_key, id_number.strip().upper())

    # Faults and records -------------------------------------------------------------------

    def set_outage(self, mode: str, seconds: float | None = None, delay: float = 30.0) -> None:
        if mode not in OUTAGE_MODES:
            raise ValueError(f"outage mode must be one of {OUTAGE_MODES}")
        with self._lock:
            until = self._clock() + seconds if seconds else math.inf
            self._outage = (mode, until, delay)

    def set_rate_limit(self, per_second: int | None) -> None:
        with self._lock:
            self._per_second = per_second
            self._hits.clear()

    def set_tamper(self, mode: str) -> None:
        if mode not in TAMPER_MODES:
            raise ValueError(f"tamper mode must be one of {TAMPER_MODES}")
        with self._lock:
            self._tamper = mode

    def transactions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._transactions]

    def reset(self) -> None:
        with self._lock:
            self._outage = ("off", math.inf, 0.0)
            self._per_second = None
            self._hits.clear()
            self._tamper = "off"
            self._transactions.clear()
            self._nonces.clear()
            self._answered.clear()
            self._last_ok = None

    # Lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> str:
        if self._server is None:
            self._wake.clear()
            self._server = start_server(self, self.host, self.port)
        return self.url

    def stop(self) -> None:
        server, self._server = self._server, None
        self._wake.set()  # handlers sleeping for latency or a "slow" outage answer now
        if server is not None:
            server.stop()

    def __enter__(self) -> PlatformSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


    # Verification requests ------------------------------------------------------------------

    def verify(self, path: str, headers: Headers, body: bytes) -> Reply | None:
        """The answer to a verification request; None: hang up without one (outage "down")."""
        nonce, request_id = headers.get("X-Nonce") or "", headers.get("X-Request-Id") or ""
        data = read_object(body)
        entry: dict[str, Any] = {
            "at": self._clock(), "endpoint": path.rsplit("/", 1)[-1], "request_id": request_id,
            "id_number": mask_id_number(str(data.get("id_number", ""))),
            "name": _mask_name(str(data.get("name", ""))), "status": None, "code": None,
            "result": None, "score": None, "transaction_id": None, "duplicate": False}
        lo, hi = self._latency
        if hi > 0:  # deterministic jitter: the same nonce always waits as long
            jitter = int(hashlib.sha256(nonce.encode()).hexdigest(), 16) % (hi - lo + 1)
            self._wake.wait((lo + jitter) / 1000)
        mode, delay = self._fault()
        if mode == "down":
            self._record(entry, None, "CONNECTION_CLOSED")
            return None
        if mode == "slow":
            self._wake.wait(delay)
        if mode == "error":
            return self._error(entry, 500, "INTERNAL_ERROR", nonce)
        refusal = self._authenticate(path, headers, body)
        if refusal is not None:
            return self._error(entry, 401, refusal, nonce)
        retry_after = self._rate_check()  # per app, so after authentication
        if retry_after is not None:
            return self._error(entry, 429, "RATE_LIMITED", nonce,
                               {"Retry-After": str(retry_after)})
        if not request_id:
            return self._error(entry, 400, "INVALID_REQUEST", nonce)
        answer = self._answer(path, data)
        if isinstance(answer, str):
            return self._error(entry, 400, answer, nonce)
        return self._ok(entry, request_id, nonce, answer)

    def _fault(self) -> tuple[str, float]:
        with self._lock:
            mode, until, delay = self._outage
            if self._clock() >= until:
                mode, self._outage = "off", ("off", math.inf, 0.0)
            return mode, delay

    def _rate_check(self) -> int | None:
        with self._lock:
            if self._per_second is None:
                return None
            now = self._clock()
            while self._hits and self._hits[0] <= now - 1:
                self._hits.popleft()
            if len(self._hits) >= self._per_second:
                oldest = self._hits[0] if self._hits else now
                return max(1, math.ceil(oldest + 1 - now))
            self._hits.append(now)
            return None

    def _authenticate(self, path: str, headers: Headers, body: bytes) -> str | None:
        timestamp, nonce = headers.get("X-Timestamp") or "", headers.get("X-Nonce") or ""
        if headers.get("X-App-Id") != self.app_id:
            return "UNKNOWN_APP"
        expected = sign_request(self._secret, "POST", path, timestamp, nonce, body)
        if not hmac.compare_digest(expected, headers.get("X-Signature") or ""):
            return "BAD_SIGNATURE"
        now = self._clock()
        if not timestamp.isdigit() or abs(now - int(timestamp)) > FRESHNESS:
            return "STALE_REQUEST"
        with self._lock:
            for old in [n for n, seen in self._nonces.items() if seen < now - 2 * FRESHNESS]:
                del self._nonces[old]
            if not nonce or nonce in self._nonces:
                return "REPLAYED_NONCE"
            self._nonces[nonce] = now
        return None

    def _answer(self, path: str, data: dict[str, Any]) -> dict[str, Any] | str:
        """{"result"} (two-element), {"result", "score"} (real-person) or a 400 error code."""
        name, number = data.get("name"), data.get("id_number")
        if not (isinstance(name, str) and name.strip() and isinstance(number, str)
                and len(number) == 18):
            return "INVALID_REQUEST"
        number = number.upper()
        image = _image(data) if path == REAL_PERSON_PATH else None
        if path == REAL_PERSON_PATH and image is None:
            return "BAD_IMAGE"
        with self._lock:
            person = self._people.get(number)
        if person is None or person.name != name.strip():
            result = {"result": "not_found" if person is None else "no_match"}
            return result if image is None else {**result, "score": None}
        if image is None:
            return {"result": "match"}
        score = face_score(self._face_key, number, image)
        return {"result": "match" if score >= MATCH_THRESHOLD else "no_match", "score": score}

    def _ok(self, entry: dict[str, Any], request_id: str, nonce: str,
            answer: dict[str, Any]) -> Reply:
        with self._lock:
            entry["duplicate"] = request_id in self._answered
            transaction_id = self._answered.setdefault(request_id, "T" + uuid.uuid4().hex)
            tamper, last_ok = self._tamper, self._last_ok
        payload = {"code": "OK", "transaction_id": transaction_id, **answer}
        reply = self._signed(200, payload, nonce)
        entry.update(result=answer["result"], score=answer.get("score"),
                     transaction_id=transaction_id)
        self._record(entry, 200, "OK")
        with self._lock:
            self._last_ok = reply
        if tamper == "replay" and last_ok is not None:
            return last_ok
        if tamper == "unsigned":
            reply.headers.pop("X-Signature")
        if tamper == "forge" and answer["result"] != "match":
            forged = {**payload, "result": "match"}
            if "score" in forged:  # real-person
                forged["score"] = 0.99
            reply.body = json.dumps(forged, ensure_ascii=False).encode()
        return reply

    def _error(self, entry: dict[str, Any], status: int, code: str, nonce: str,
               headers: dict[str, str] | None = None) -> Reply:
        self._record(entry, status, code)
        reply = self._signed(status, {"code": code, "message": code.lower().replace("_", " ")},
                             nonce)
        reply.headers.update(headers or {})
        return reply

    def _signed(self, status: int, payload: dict[str, Any], nonce: str) -> Reply:
        reply = json_reply(status, payload)
        transaction_id = str(payload.get("transaction_id", ""))
        reply.headers["X-Transaction-Id"] = transaction_id
        reply.headers["X-Signature"] = sign_response(self._secret, status, transaction_id,
                                                     nonce, reply.body)
        return reply

    def _record(self, entry: dict[str, Any], status: int | None, code: str) -> None:
        entry.update(status=status, code=code)
        with self._lock:
            self._transactions.append(entry)



def _image(data: dict[str, Any]) -> bytes | None:
    kind, encoded = data.get("image_type"), data.get("image")
    if kind not in ("png", "jpeg") or not isinstance(encoded, str):
        return None
    try:
        image = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return image if 0 < len(image) <= IMAGE_LIMIT and image_kind(image) == kind else None


def _mask_name(name: str) -> str:
    return name[:1] + "*" * (len(name) - 1) if name else ""

