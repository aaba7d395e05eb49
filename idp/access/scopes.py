"""Scope keys: what one rate measures. `province:<type>` (every provincial department),
`dept:<code>:<type>` (one provincial department), `group:<group>` (珠三角九市 / 粤东西北),
`city:<code>` (a city, its counties included), `county:<code>` (one county on drill-down)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_

from idp.access.errors import AccessError
from idp.access.models import CITY, COUNTY, LICENSING, PROVINCE, PUBLIC_SERVICE, Department
from idp.access.models import ServiceItem as Item
from idp.access.regions import CITIES, CITY_BY_PREFIX, GROUP_NAMES, division_level

RATED_TYPES = (LICENSING, PUBLIC_SERVICE)  # the item types provincial departments are held to
KINDS = ("province", "department", "group", "city", "county")


@dataclass(frozen=True)
class Scope:
    kind: str
    code: str | None = None  # department code, division code or group name
    item_type: str | None = None

    @property
    def key(self) -> str:
        if self.kind == "province":
            return f"province:{self.item_type}"
        if self.kind == "department":
            return f"dept:{self.code}:{self.item_type}"
        return f"{self.kind}:{self.code}"

    @property
    def parent(self) -> str | None:
        """The scope this one is drilled down from."""
        if self.kind == "department":
            return f"province:{self.item_type}"
        if self.kind == "city":
            return f"group:{CITY_BY_PREFIX[str(self.code)[:4]].group}"
        if self.kind == "county":
            return f"city:{str(self.code)[:4]}00"
        return None

    def items_where(self) -> Any:
        """The WHERE clause selecting this scope's items (ServiceItem joined to Department)."""
        local = Department.level.in_((CITY, COUNTY))
        if self.kind == "province":
            return and_(Department.level == PROVINCE, Item.item_type == self.item_type)
        if self.kind == "department":
            return and_(Item.department_code == self.code, Item.item_type == self.item_type)
        if self.kind == "county":
            return and_(local, Item.division_code == self.code)
        if self.kind == "city":
            return and_(local, _in_city(str(self.code)[:4]))
        return and_(local, or_(*(_in_city(c.prefix) for c in CITIES if c.group == self.code)))


def _in_city(prefix: str) -> Any:
    # a range, not LIKE: the division_code index serves it under any collation
    return Item.division_code.between(prefix + "00", prefix + "99")


def parse_scope(key: str) -> Scope:
    """The scope a key names; AccessError("unknown_scope") when it names none."""
    parts = key.split(":")
    kind = parts[0]
    scope: Scope | None = None
    if kind == "province" and len(parts) == 2 and parts[1] in RATED_TYPES:
        scope = Scope("province", None, parts[1])
    elif kind == "dept" and len(parts) == 3 and parts[1] and parts[2] in RATED_TYPES:
        scope = Scope("department", parts[1], parts[2])
    elif kind == "group" and len(parts) == 2 and parts[1] in GROUP_NAMES:
        scope = Scope("group", parts[1])
    elif kind == "city" and len(parts) == 2 and any(c.code == parts[1] for c in CITIES):
        scope = Scope("city", parts[1])
    elif (kind == "county" and len(parts) == 2 and len(parts[1]) == 6 and parts[1].isdigit()
          and parts[1][:4] in CITY_BY_PREFIX and division_level(parts[1]) == COUNTY):
        scope = Scope("county", parts[1])
    if scope is None:
        raise AccessError("unknown_scope", f"{key!r} names no access-rate scope (e.g. "
                          "dept:<code>:licensing, city:441800, county:441802)")
    return scope
