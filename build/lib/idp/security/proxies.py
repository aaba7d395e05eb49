"""The client's address behind reverse proxies: X-Forwarded-For is believed only from proxies
listed in IDP_TRUSTED_PROXIES, so per-IP limits, the audit log and the session list see the
person's address and a client cannot forge one."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """Walk X-Forwarded-For from the nearest hop back while each hop is a trusted proxy; the
    first untrusted hop is the client. A malformed entry stops the walk at the last proxy."""
    def is_trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return addr is not None and any(addr in net for net in trusted)

    current = peer
    if not trusted or not forwarded_for or not is_trusted(_address(peer)):
        return current
    for hop in reversed(forwarded_for.split(",")):
        addr = _address(hop)
        if addr is None:
            return current
        current = str(addr)
        if not is_trusted(addr):
            return current
    return current


class TrustedProxies:
    """WSGI middleware: sets REMOTE_ADDR to the client's address (keeps the peer's as
    `idp.peer_addr`). With no trusted proxies it changes nothing."""

    def __init__(self, app: WsgiApp, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        peer = environ.get("REMOTE_ADDR", "")
        environ["idp.peer_addr"] = peer
        environ["REMOTE_ADDR"] = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR"),
                                                self.trusted)
        return self.app(environ, start_response)
