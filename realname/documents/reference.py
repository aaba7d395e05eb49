"""Reference data shipped in realname/data: GB/T 2260 divisions and nationality codes."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

# Codes that appear in identity numbers but are not GB/T 2260 divisions, or are special there.
NATIONAL_LEVEL = "100000"  # GB 32100-2015 §4.1.3: 国家 (national-level registering authorities)
RESIDENCE_PERMIT_REGIONS: Mapping[str, str] = MappingProxyType({
    "810000": "香港特别行政区",
    "820000": "澳门特别行政区",
    "830000": "台湾地区",  # 830000 is the permits' own code; GB/T 2260 lists 台湾省 as 710000
})


@dataclass(frozen=True, slots=True)
class Division:
    """A GB/T 2260 code as the shipped data lists it. `name` is the full name in the last
    revision that listed it (广东省清远市清城区); `until` is None while it is still listed."""

    code: str
    name: str
    since: str  # YYYYMM of the first revision in the data that lists it
    until: str | None  # YYYYMM of the last revision that listed it; None = current

    @property
    def current(self) -> bool:
        return self.until is None


@dataclass(frozen=True, slots=True)
class Nationality:
    alpha3: str
    numeric: str | None  # None for the ICAO codes of stateless people and refugees
    name_zh: str


def _rows(filename: str) -> Iterator[list[str]]:
    text = resources.files("realname").joinpath("data").joinpath(filename).read_text("utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            yield line.split("\t")


@functools.cache
def divisions() -> Mapping[str, Division]:
    """Every code, current and abolished, read once on first use."""
    return MappingProxyType({
        code: Division(code, name, since, until or None)
        for code, name, since, until in _rows("gb2260.tsv")
    })


@functools.cache
def _nationalities() -> tuple[Mapping[str, Nationality], Mapping[str, Nationality]]:
    rows = [Nationality(alpha3, numeric or None, name) for alpha3, numeric, name
            in _rows("nationalities.tsv")]
    by_alpha = {n.alpha3: n for n in rows}
    by_numeric = {n.numeric: n for n in rows if n.numeric}
    return MappingProxyType(by_alpha), MappingProxyType(by_numeric)


def division(code: str) -> Division | None:
    return divisions().get(code)


def is_province(prefix: str) -> bool:
    """Whether two digits are a province-level code (XX0000) in the data, past or present."""
    return len(prefix) == 2 and prefix + "0000" in divisions()


def nationality_by_alpha3(code: str) -> Nationality | None:
    return _nationalities()[0].get(code)


def nationality_by_numeric(code: str) -> Nationality | None:
    return _nationalities()[1].get(code)
