"""The access rates (接入率) exactly as the provincial plan defines them, each twice: declared
(a system handling the item is connected or live) and verified (one is live)."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case, func, select, text

from idp.access.evidence import Window, is_live
from idp.access.models import (
    CONNECTED,
    PROVINCE,
    RETIRED,
    BusinessSystem,
    Department,
    ServiceItem,
    system_item,
)
from idp.access.regions import CITIES, GROUP_NAMES, short_name
from idp.access.scopes import RATED_TYPES, Scope, parse_scope
from idp.access.targets import Targets
from idp.extensions import db
from realname.documents import divisions

TYPE_NAMES = {"licensing": "行政许可", "public_service": "公共服务", "other": "其他"}


@dataclass(frozen=True)
class Rate:
    """One scope's figures. Rates are percentages rounded to two places (None without
    items); `gap` is how far the verified rate is below the target (0 once met)."""

    scope: str
    kind: str  # province | department | group | city | county
    name: str
    items: int
    declared: int
    verified: int
    target: float
    item_type: str | None = None
    parent: str | None = None

    @property
    def declared_rate(self) -> float | None:
        return _percent(self.declared, self.items)

    @property
    def verified_rate(self) -> float | None:
        return _percent(self.verified, self.items)

    @property
    def met(self) -> bool | None:
        """Whether the verified figure reaches the target (exact, in integers)."""
        return None if not self.items else self.verified * 100 >= self.target * self.items

    @property
    def gap(self) -> float | None:
        if not self.items:
            return None
        return 0.0 if self.met else round(self.target - 100 * self.verified / self.items, 2)

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "kind": self.kind, "name": self.name,
                "item_type": self.item_type, "parent": self.parent, "items": self.items,
                "declared": self.declared, "verified": self.verified,
                "declared_rate": self.declared_rate, "verified_rate": self.verified_rate,
                "target": self.target, "gap": self.gap, "met": self.met}


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


@dataclass
class Report:
    """Every rate at one moment: computed now (`month` None) or read from a monthly snapshot.
    `rates` is ordered: provincial totals, departments, groups, cities, counties."""

    as_of: date
    rates: list[Rate]
    month: str | None = None
    _index: dict[str, Rate] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {r.scope: r for r in self.rates}

    def get(self, scope: str) -> Rate | None:
        return self._index.get(scope)

    def of_kind(self, kind: str) -> list[Rate]:
        return [r for r in self.rates if r.kind == kind]

    def children(self, scope: str) -> list[Rate]:
        """What a scope drills down to: a city's counties, a group's cities, a provincial
        total's departments."""
        return [r for r in self.rates if r.parent == scope]

    def __iter__(self) -> Iterator[Rate]:
        return iter(self.rates)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "month": self.month,
                "rates": [r.to_dict() for r in self.rates]}


Totals = tuple[int, int, int]  # items, declared, verified


def item_flags(window: Window) -> Any:
    """Per item handled by at least one non-retired system: 2 when one of them is live
    (verified, hence declared too), 1 when one is connected but none live (declared only),
    0 otherwise. One pass over access_system_item grouped by item, no per-item probes."""
    level = case((is_live(window), 2), (BusinessSystem.status == CONNECTED, 1), else_=0)
    return (select(system_item.c.item_code, func.max(level).label("flag"))
            .join(BusinessSystem, BusinessSystem.id == system_item.c.system_id)
            .where(BusinessSystem.status != RETIRED)
            .group_by(system_item.c.item_code).subquery())


def compute(window: Window, targets: Targets) -> Report:
    """Every rate from one GROUP BY over the catalogue (by department, type and division),
    assembled into scopes here."""
    if db.session.get_bind().dialect.name == "postgresql":
        # the per-item hash aggregate of a provincial catalogue needs more than the default
        # 4 MB, or it spills to disk; for this transaction only
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    flags = item_flags(window)
    flag = func.coalesce(flags.c.flag, 0)
    rows = db.session.execute(
        select(ServiceItem.department_code, ServiceItem.item_type, ServiceItem.division_code,
               func.count(), func.sum(case((flag >= 1, 1), else_=0)),
               func.sum(case((flag == 2, 1), else_=0)))
        .select_from(ServiceItem)
        .outerjoin(flags, flags.c.item_code == ServiceItem.code)
        .group_by(ServiceItem.department_code, ServiceItem.item_type,
                  ServiceItem.division_code)).all()
    departments = db.session.execute(select(Department.code, Department.name,
                                            Department.level).order_by(Department.code)).all()
    levels = {code: level for code, _, level in departments}
    provincial = [(code, name) for code, name, level in departments if level == PROVINCE]
    return Report(window.today, list(assemble(
        ((levels.get(dept, ""), dept, item_type, division, n, declared or 0, verified or 0)
         for dept, item_type, division, n, declared, verified in rows), provincial, targets)))


def assemble(rows: Iterable[tuple[str, str, str, str, int, int, int]],
             provincial: Sequence[tuple[str, str]], targets: Targets) -> Iterator[Rate]:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for level, department, item_type, division, items, declared, verified in rows:
        figures = (int(items), int(declared), int(verified))
        for key in _scopes_of(level, department, item_type, division):
            _add(totals[key], figures)
    for item_type in RATED_TYPES:
        yield _rate(Scope("province", None, item_type), "省级部门", totals, targets)
    for code, name in provincial:
        for item_type in RATED_TYPES:
            yield _rate(Scope("department", code, item_type), name, totals, targets)
    for group, group_name in GROUP_NAMES.items():
        yield _rate(Scope("group", group), group_name, totals, targets)
    for city in CITIES:
        yield _rate(Scope("city", city.code), city.name, totals, targets)
    for city in CITIES:
        codes = set(counties_of(city.prefix)) | {
            key[7:] for key in totals if key.startswith(f"county:{city.prefix}")}
        for code in sorted(codes):
            yield _rate(Scope("county", code), short_name(code), totals, targets)


def _scopes_of(level: str, department: str, item_type: str, division: str) -> list[str]:
    if level == PROVINCE:
        if item_type not in RATED_TYPES:
            return []
        return [f"province:{item_type}", f"dept:{department}:{item_type}"]
    city = next((c for c in CITIES if c.prefix == division[:4]), None)
    if city is None:
        return []
    keys = [f"group:{city.group}", f"city:{city.code}"]
    if division != city.code:
        keys.append(f"county:{division}")
    return keys


def _add(into: list[int], figures: Totals) -> None:
    for i, value in enumerate(figures):
        into[i] += value


def _rate(scope: Scope, name: str, totals: dict[str, list[int]], targets: Targets) -> Rate:
    items, declared, verified = totals.get(scope.key, (0, 0, 0))
    return Rate(scope.key, scope.kind, name, items, declared, verified,
                target_for(scope, targets), scope.item_type, scope.parent)


def target_for(scope: Scope, targets: Targets) -> float:
    if scope.item_type == "licensing":
        return targets.province_licensing
    if scope.item_type == "public_service":
        return targets.province_public_service
    return targets.city


@functools.cache
def counties_of(prefix: str) -> tuple[str, ...]:
    """The current county-level codes (县、县级市、市辖区) of a city in the GB/T 2260 data."""
    return tuple(sorted(
        code for code, found in divisions().items()
        if code[:4] == prefix and not code.endswith("00") and found.current
        and not found.name.endswith("市辖区")))


def from_snapshot(month: str, taken: date,
                  rows: Iterable[tuple[str, str, int, int, int, float]]) -> Report:
    """A stored month's report, in the same order and with the same drill-down links as a
    computed one (both follow from the scope keys)."""
    rates = []
    for key, name, items, declared, verified, target in rows:
        scope = parse_scope(key)
        rates.append(Rate(key, scope.kind, name, items, declared, verified, target,
                          scope.item_type, scope.parent))
    rates.sort(key=_position)
    return Report(taken, rates, month)


KIND_ORDER = ("province", "department", "group", "city", "county")
CITY_ORDER = {f"city:{c.code}": i for i, c in enumerate(CITIES)}
GROUP_ORDER = {f"group:{g}": i for i, g in enumerate(GROUP_NAMES)}


def _position(rate: Rate) -> tuple[int, int, str, int]:
    code = rate.scope.split(":")[1]
    type_index = RATED_TYPES.index(rate.item_type) if rate.item_type else 0
    place = CITY_ORDER.get(rate.scope if rate.kind == "city" else str(rate.parent),
                           GROUP_ORDER.get(rate.scope, 0))
    return (KIND_ORDER.index(rate.kind), place, code if rate.kind != "province" else "",
            type_index)
