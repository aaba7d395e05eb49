"""Guangdong's prefecture-level cities (地市) in the two groups the provincial plan uses, and the
GB/T 2260 rules a department's or item's division code must follow."""

from __future__ import annotations

import re
from dataclasses import dataclass

from idp.access.models import CITY, COUNTY, PROVINCE
from realname.documents import division

PROVINCE_CODE = "440000"  # 广东省
PEARL_RIVER_DELTA, EAST_WEST_NORTH = "pearl_river_delta", "east_west_north"
GROUP_NAMES = {PEARL_RIVER_DELTA: "珠三角九市", EAST_WEST_NORTH: "粤东西北"}


@dataclass(frozen=True)
class City:
    code: str
    name: str
    group: str

    @property
    def prefix(self) -> str:
        return self.code[:4]


# In the order the brief and the provincial plan list them.
CITIES: tuple[City, ...] = tuple(
    [City(code, name, PEARL_RIVER_DELTA) for code, name in (
        ("440100", "广州市"), ("440300", "深圳市"), ("440400", "珠海市"), ("440600", "佛山市"),
        ("440700", "江门市"), ("441200", "肇庆市"), ("441300", "惠州市"), ("441900", "东莞市"),
        ("442000", "中山市"))]
    + [City(code, name, EAST_WEST_NORTH) for code, name in (
        ("440200", "韶关市"), ("440500", "汕头市"), ("440800", "湛江市"), ("440900", "茂名市"),
        ("441400", "梅州市"), ("441500", "汕尾市"), ("441600", "河源市"), ("441700", "阳江市"),
        ("441800", "清远市"), ("445100", "潮州市"), ("445200", "揭阳市"), ("445300", "云浮市"))])
CITY_BY_PREFIX = {c.prefix: c for c in CITIES}


def city_of(code: str) -> City | None:
    """The prefecture-level city a division code lies in (None for the province itself)."""
    return CITY_BY_PREFIX.get(code[:4])


def division_level(code: str) -> str:
    """The level a six-digit code names by its shape: XX0000 province, XXXX00 city, else
    county (县、县级市、市辖区)."""
    if code.endswith("0000"):
        return PROVINCE
    return CITY if code.endswith("00") else COUNTY


def division_problem(code: str) -> str | None:
    """Why a code cannot be a division of this province's catalogue, or None. Abolished codes
    are accepted: old catalogue entries keep the code they were registered under."""
    if not re.fullmatch(r"[0-9]{6}", code):
        return f"division code {code!r} is not 6 digits (GB/T 2260, e.g. 441802)"
    if division(code) is None:
        return f"{code} is not a GB/T 2260 division code, current or abolished"
    if code != PROVINCE_CODE and city_of(code) is None:
        return f"{code} is not Guangdong (440000) nor in one of its 21 cities"
    return None


def short_name(code: str) -> str:
    """清城区 for 441802, 清远市 for 441800 (the name without the province and city)."""
    city = city_of(code)
    if code == PROVINCE_CODE:
        return "广东省"
    if city is not None and code == city.code:
        return city.name
    found = division(code)
    if found is None:
        return code
    name = found.name.removeprefix("广东省")
    if city is not None and name != city.name:
        name = name.removeprefix(city.name)
    return name
