"""Checking each imported record: formats, the values the model accepts (English or the
Chinese terms departments use), codes that must exist, duplicates within the file."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from idp.access.imports.reading import Record, split_list
from idp.access.models import (
    CITY,
    CONNECTED,
    COUNTY,
    LICENSING,
    OTHER,
    PROVINCE,
    PUBLIC_SERVICE,
    REGISTERED,
    RETIRED,
    TESTING,
)
from idp.access.regions import division_level, division_problem

CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
CODE_MAX = {"departments": 40, "items": 64, "systems": 64}
NAME_MAX = {"departments": 200, "items": 300, "systems": 200}
LEVELS = {PROVINCE: PROVINCE, "省级": PROVINCE, "省": PROVINCE, "省直": PROVINCE,
          CITY: CITY, "市级": CITY, "市": CITY, "地市": CITY, "地市级": CITY,
          COUNTY: COUNTY, "县级": COUNTY, "县": COUNTY, "区县": COUNTY, "县区": COUNTY}
TYPES = {LICENSING: LICENSING, "行政许可": LICENSING, "行政许可事项": LICENSING,
         PUBLIC_SERVICE: PUBLIC_SERVICE, "公共服务": PUBLIC_SERVICE,
         "公共服务事项": PUBLIC_SERVICE, OTHER: OTHER, "其他": OTHER, "其它": OTHER}
STATUS_NAMES = {REGISTERED: REGISTERED, "已登记": REGISTERED, "登记": REGISTERED,
                TESTING: TESTING, "联调测试": TESTING, "测试": TESTING, "测试中": TESTING,
                CONNECTED: CONNECTED, "已接入": CONNECTED, "接入": CONNECTED,
                RETIRED: RETIRED, "已停用": RETIRED, "停用": RETIRED, "已下线": RETIRED}


@dataclass
class Context:
    """What the checks look up, loaded once per import for the codes the file names."""

    departments: Mapping[str, tuple[str, str]]  # code -> (level, division_code)
    items: set[str] = field(default_factory=set)  # item codes that exist
    clients: set[str] = field(default_factory=set)  # client ids that exist
    client_system: Mapping[str, str] = field(default_factory=dict)  # client -> system code


Problems = list[tuple[str, str]]


def _key(value: str) -> str:
    return value.strip().lower().replace("-", "_").replace(" ", "_")


def _choice(record: Record, column: str, names: Mapping[str, str], code: str,
            label: str, problems: Problems) -> str:
    raw = record.values.get(column, "")
    found = names.get(_key(raw)) or names.get(raw.strip())
    if found is None:
        english = sorted({v for v in names.values()})
        chinese = [k for k in names if not k.isascii()]
        problems.append((code, f"{label} {raw!r} is not one of {', '.join(english)} "
                         f"({'/'.join(chinese)})" if raw else f"{label} is empty"))
        return ""
    return found


def _text(record: Record, column: str, limit: int, problems: Problems,
          required: bool = True) -> str:
    value = record.values.get(column, "")
    if required and not value:
        problems.append(("empty_value", f"{column} is empty"))
    elif len(value) > limit:
        problems.append(("too_long", f"{column} is longer than {limit} characters"))
    return value


def _code(kind: str, record: Record, problems: Problems) -> str:
    code = record.values.get("code", "")
    if not code:
        problems.append(("empty_value", "code is empty"))
    elif len(code) > CODE_MAX[kind] or not CODE_RE.fullmatch(code):
        problems.append(("bad_code", f"code {code!r} must be 1-{CODE_MAX[kind]} letters, "
                         "digits, '.', '_' or '-', starting with a letter or digit"))
    return code


def _division(record: Record, level: str, problems: Problems) -> str:
    division = record.values.get("division_code", "")
    problem = division_problem(division)
    if problem:
        problems.append(("bad_division", problem))
    elif level and division_level(division) != level:
        problems.append(("level_mismatch", f"level {level} does not match division "
                         f"{division}, a {division_level(division)}-level code"))
    return division


def _department(record: Record, ctx: Context, problems: Problems) -> str:
    code = record.values.get("department_code", "")
    if not code:
        problems.append(("empty_value", "department_code is empty"))
    elif code not in ctx.departments:
        problems.append(("unknown_department", f"there is no department {code} "
                         "(import departments first)"))
    return code


def check_department(record: Record, ctx: Context, problems: Problems) -> dict[str, Any]:
    level = _choice(record, "level", LEVELS, "bad_level", "level", problems)
    return {"code": _code("departments", record, problems),
            "name": _text(record, "name", NAME_MAX["departments"], problems),
            "level": level, "division_code": _division(record, level, problems)}


def check_item(record: Record, ctx: Context, problems: Problems) -> dict[str, Any]:
    level = _choice(record, "level", LEVELS, "bad_level", "level", problems)
    department = _department(record, ctx, problems)
    division = _division(record, level, problems)
    owner = ctx.departments.get(department)
    if owner and division and not problems and owner[0] != PROVINCE:
        area = owner[1][:4] if owner[0] == CITY else owner[1]
        if not division.startswith(area):
            problems.append(("outside_department", f"division {division} lies outside its "
                             f"{owner[0]} department's division {owner[1]}"))
    return {"code": _code("items", record, problems),
            "name": _text(record, "name", NAME_MAX["items"], problems),
            "item_type": _choice(record, "type", TYPES, "bad_type", "type", problems),
            "department_code": department, "level": level, "division_code": division}


def check_system(record: Record, ctx: Context, problems: Problems) -> dict[str, Any]:
    status_raw = record.values.get("status", "")
    if _key(status_raw) in ("live", "已上线"):
        problems.append(("bad_status", "live is proven by SSO logins, never declared: use "
                         "connected"))
        status = ""
    else:
        status = _choice(record, "status", STATUS_NAMES, "bad_status", "status", problems)
    items = sorted(set(split_list(record.values.get("item_codes", ""))))
    unknown = [c for c in items if c not in ctx.items]
    if unknown:
        problems.append(("unknown_item", "no such item(s): " + ", ".join(unknown[:10])
                         + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")))
    clients = sorted(set(split_list(record.values.get("client_ids", ""))))
    code = _code("systems", record, problems)
    for client in clients:
        if client not in ctx.clients:
            problems.append(("unknown_client", f"there is no client {client}"))
        elif ctx.client_system.get(client, code) != code:
            problems.append(("client_taken", f"client {client} belongs to system "
                             f"{ctx.client_system[client]}"))
    return {"code": code, "name": _text(record, "name", NAME_MAX["systems"], problems),
            "department_code": _department(record, ctx, problems),
            "contact": _text(record, "contact", 200, problems, required=False) or None,
            "status": status, "item_codes": tuple(items), "client_ids": tuple(clients)}


CHECKS: Mapping[str, Callable[[Record, Context, Problems], dict[str, Any]]] = {
    "departments": check_department, "items": check_item, "systems": check_system}
