"""Trust levels (可信等级) as Guangdong's platform defines them; carried in the `acr` claim."""

from __future__ import annotations

from enum import IntEnum


class TrustLevel(IntEnum):
    SELF_DECLARED = 2  # format checks only
    AUTHORITATIVE_MATCH = 3  # name + ID number confirmed by an authoritative source
    REAL_PERSON = 4  # real person + real name + real document via a trusted source (face match)
    CERTIFICATE_OR_COUNTER = 5  # digital certificate or in-person verification at a counter

    @property
    def acr(self) -> str:
        return str(int(self))
