"""Who acted, as every audit event records it: a structured actor the caller passes in
(design.md "Actors"), stored as one parsable label in the hash-chained row."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass

KINDS = ("citizen", "staff", "operator", "client", "system", "anonymous")


@dataclass(frozen=True)
class Actor:
    kind: str
    id: str | None = None
    hall: str | None = None  # staff only: the service hall (行政服务中心) they act at

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")
        if (self.kind == "staff") != (self.hall is not None):
            raise ValueError("a hall is named for staff, and only for staff")

    @property
    def label(self) -> str:
        """`citizen:<account id>`, `staff:<staff id>@<hall>`, `operator:<name>`,
        `client:<client_id>`, `system[:<job>]`, `anonymous`."""
        if self.id is None:
            return self.kind
        return f"{self.kind}:{self.id}" + (f"@{self.hall}" if self.hall else "")

    def __str__(self) -> str:
        return self.label

    @classmethod
    def citizen(cls, user_id: str) -> Actor:
        return cls("citizen", user_id)

    @classmethod
    def staff(cls, staff_id: str, hall: str) -> Actor:
        return cls("staff", staff_id, hall)

    @classmethod
    def operator(cls, name: str) -> Actor:
        return cls("operator", name)

    @classmethod
    def client(cls, client_id: str) -> Actor:
        return cls("client", client_id)

    @classmethod
    def system(cls, job: str | None = None) -> Actor:
        return cls("system", job)

    @classmethod
    def anonymous(cls) -> Actor:
        return cls("anonymous")


def cli_operator() -> Actor:
    """The operator running an `idp` command: IDP_OPERATOR, else the login name."""
    name = os.environ.get("IDP_OPERATOR") or getpass.getuser()
    return Actor.operator(name.strip() or "unknown")
