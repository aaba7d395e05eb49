"""The access-rate targets and the live window as configuration (IDP_ACCESS_TARGETS,
IDP_ACCESS_LIVE_DAYS): the 2017 provincial plan's 100 / 50 / 90 by default. Standard library
only, so settings validation can call it."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_SPEC = "province.licensing=100 province.public_service=50 city=90"
KEYS = {"province.licensing": "province_licensing",
        "province.public_service": "province_public_service", "city": "city"}
MAX_LIVE_DAYS = 366


@dataclass(frozen=True)
class Targets:
    """Target rates in percent: provincial departments' licensing items (行政许可事项) and
    public-service items (公共服务事项); each city's items overall (its counties included;
    counties on drill-down and the city groups are held to the city target)."""

    province_licensing: float = 100.0
    province_public_service: float = 50.0
    city: float = 90.0

    def spec(self) -> str:
        return " ".join(f"{key}={getattr(self, attr):g}" for key, attr in KEYS.items())


def parse_targets(spec: str) -> Targets:
    """Targets from "province.licensing=100 province.public_service=50 city=90" (spaces or
    commas between entries; a key left out keeps its default). ValueError names the
    variable and what is wrong."""
    values: dict[str, float] = {}
    for entry in (e for e in re.split(r"[\s,]+", spec.strip()) if e):
        key, sep, raw = entry.partition("=")
        if not sep or key not in KEYS:
            raise ValueError(f"IDP_ACCESS_TARGETS: {entry!r} is not one of "
                             + ", ".join(f"{k}=<percent>" for k in KEYS))
        if KEYS[key] in values:
            raise ValueError(f"IDP_ACCESS_TARGETS: {key} is given twice")
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 < value <= 100:
            raise ValueError(f"IDP_ACCESS_TARGETS: {key} must be a percentage above 0 and at "
                             f"most 100, not {raw!r}")
        values[KEYS[key]] = value
    return Targets(**values)


def check_live_days(days: int) -> int:
    """IDP_ACCESS_LIVE_DAYS: the days of logins that prove a system live (1 to 366)."""
    if not 1 <= days <= MAX_LIVE_DAYS:
        raise ValueError(f"IDP_ACCESS_LIVE_DAYS must be between 1 and {MAX_LIVE_DAYS} days, "
                         f"not {days}")
    return days
