"""Registering a business system and its OIDC client as one unit of work: the client under
exactly the rules of `idp clients create` (ClientService.register), the system under the
access domain's (SystemService.create), the client attached to the system. Either both are
registered or, on any refusal, neither."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from idp.access.errors import AccessError
from idp.access.services import AccessService
from idp.audit.actors import Actor
from idp.extensions import db
from idp.oauth.services import ClientRegistrationError, ClientService


class RegistrationRefused(ValueError):
    """One half was refused; `part` says which ("system" or "client"), `code` why."""

    def __init__(self, part: str, code: str, message: str) -> None:
        super().__init__(message)
        self.part, self.code = part, code


@dataclass(frozen=True)
class SystemFields:
    code: str
    name: str
    department_code: str
    contact: str | None = None
    item_codes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Registration:
    system_code: str
    client_id: str
    client_secret: str | None  # shown once on the result page; only a keyed hash is stored


def register_system_and_client(access: AccessService, clients: ClientService, *,
                               system: SystemFields, client: dict[str, Any],
                               actor: Actor) -> Registration:
    """Register both (flushed and audited; the caller's request commits), or raise
    RegistrationRefused with nothing of either left in the session."""
    try:
        registered = clients.register(**client, actor=actor)
    except ClientRegistrationError as refused:
        db.session.rollback()
        raise RegistrationRefused("client", "invalid_client", str(refused)) from None
    try:
        access.systems.create(code=system.code, name=system.name,
                              department_code=system.department_code, contact=system.contact,
                              item_codes=system.item_codes,
                              client_ids=[registered.client.client_id], actor=actor)
    except AccessError as refused:
        db.session.rollback()  # the client registered above goes with it
        raise RegistrationRefused("system", refused.code, str(refused)) from None
    return Registration(system.code, registered.client.client_id, registered.client_secret)
