"""The simulator's HTTP surface: a stdlib threading server, routing and the /_sim/ controls."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from realname.platform.adapter import REAL_PERSON_PATH, TWO_ELEMENT_PATH
from realname.platform.simulator.population import is_well_formed

if TYPE_CHECKING:
    from realname.platform.simulator.service import PlatformSimulator

logger = logging.getLogger(__name__)

MAX_BODY = 4 * 1024 * 1024  # a 2 MB image in base64 plus the JSON around it


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Reply(status, body, {"Content-Type": "application/json; charset=utf-8",
                                **(headers or {})})


def read_object(body: bytes) -> dict[str, Any]:
    """The JSON object in a body, or {} for anything else."""
    try:
        data = json.loads(body) if body else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


class SimServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, simulator: PlatformSimulator, host: str, port: int) -> None:
        self.simulator = simulator
        super().__init__((host, port), _Handler)
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True,
                                        name="ctid-simulator")

    def server_bind(self) -> None:  # skip HTTPServer's reverse DNS lookup (getfqdn)
        TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


def start_server(simulator: PlatformSimulator, host: str, port: int) -> SimServer:
    server = SimServer(simulator, host, port)
    server._thread.start()
    return server


def dispatch(simulator: PlatformSimulator, method: str, target: str, headers: Any,
             body: bytes) -> Reply | None:
    """The reply to one HTTP request; None means: close the connection without one."""
    parts = urlsplit(target)
    if parts.path.startswith("/_sim/"):
        try:
            return _control(simulator, method, parts.path, parse_qs(parts.query), body)
        except (TypeError, ValueError) as exc:
            return json_reply(400, {"code": "INVALID_REQUEST", "message": str(exc)})
    if method == "POST" and parts.path in (TWO_ELEMENT_PATH, REAL_PERSON_PATH):
        return simulator.verify(parts.path, headers, body)
    return json_reply(404, {"code": "NOT_FOUND", "message": "no such endpoint"})


def _control(simulator: PlatformSimulator, method: str, path: str,
             query: dict[str, list[str]], body: bytes) -> Reply:
    data = read_object(body)
    if (method, path) == ("POST", "/_sim/outage"):
        simulator.set_outage(str(data.get("mode")), _number(data.get("seconds")),
                             _number(data.get("delay")) or 30.0)
    elif (method, path) == ("POST", "/_sim/rate-limit"):
        per_second = data.get("per_second")
        simulator.set_rate_limit(None if per_second is None else int(per_second))
    elif (method, path) == ("POST", "/_sim/tamper"):
        simulator.set_tamper(str(data.get("mode")))
    elif (method, path) == ("POST", "/_sim/reset"):
        simulator.reset()
    elif (method, path) == ("POST", "/_sim/people"):
        person = simulator.add_person(str(data.get("name", "")), str(data.get("id_number", "")))
        return json_reply(201, {"name": person.name, "id_number": person.id_number})
    elif (method, path) == ("GET", "/_sim/transactions"):
        return json_reply(200, simulator.transactions())
    elif (method, path) == ("GET", "/_sim/population"):
        return json_reply(200, [{"name": p.name, "id_number": p.id_number}
                                for p in simulator.population()])
    elif (method, path) == ("GET", "/_sim/portrait"):
        number = (query.get("id_number") or [""])[0].strip().upper()
        if not is_well_formed(number):
            raise ValueError("id_number must be a well-formed ID number")
        return Reply(200, simulator.portrait(number), {"Content-Type": "image/png"})
    else:
        return json_reply(404, {"code": "NOT_FOUND", "message": "no such control"})
    return json_reply(200, {"code": "OK"})


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


class _Handler(BaseHTTPRequestHandler):
    server: SimServer
    server_version = "ctid-simulator/1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def _serve(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._write(json_reply(413, {"code": "TOO_LARGE", "message": "body too large"}))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        reply = dispatch(self.server.simulator, method, self.path, self.headers, body)
        if reply is None:  # outage "down": hang up without an answer
            self.close_connection = True
            return
        self._write(reply)

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in {**reply.headers, "Content-Length": str(len(reply.body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # the client gave up (its timeout) or the server is stopping
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The path only: a portrait's query string holds an ID number.
        logger.debug("ctid-simulator %s %s %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        logger.debug("ctid-simulator: malformed request refused")
