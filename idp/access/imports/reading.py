"""Reading an import: the bytes of a CSV export (UTF-8 with or without BOM, or GBK/GB18030 as
Chinese Excel writes it), or a list of JSON records, into numbered records with known columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# kind -> (required columns, optional columns), in the documented order
COLUMNS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "departments": (("code", "name", "level", "division_code"), ()),
    "items": (("code", "name", "type", "department_code", "level", "division_code"), ()),
    "systems": (("code", "name", "department_code", "contact", "status", "item_codes"),
                ("client_ids",)),
}
LIST_COLUMNS = ("item_codes", "client_ids")
_COMMON = {"编码": "code", "代码": "code", "名称": "name", "层级": "level", "级别": "level",
           "行政区划代码": "division_code", "区划代码": "division_code",
           "部门编码": "department_code", "部门代码": "department_code"}
# Chinese headers as departments' own spreadsheets name the columns.
HEADER_ALIASES: Mapping[str, Mapping[str, str]] = {
    "departments": {**_COMMON, "部门编码": "code", "部门代码": "code", "部门名称": "name"},
    "items": {**_COMMON, "事项编码": "code", "事项代码": "code", "事项名称": "name",
              "事项类型": "type", "类型": "type"},
    "systems": {**_COMMON, "系统编码": "code", "系统名称": "name", "联系人": "contact",
                "状态": "status", "接入状态": "status", "事项编码": "item_codes",
                "客户端": "client_ids", "客户端编码": "client_ids"},
}


class FileRefused(ValueError):
    """The whole file is unusable (encoding, header); `line` is where it shows (0: none)."""

    def __init__(self, code: str, message: str, line: int = 0,
                 encoding: str | None = None) -> None:
        super().__init__(message)
        self.code, self.line, self.encoding = code, line, encoding


@dataclass
class Record:
    row: int  # CSV: the line it starts on (the header is line 1); JSON: its position from 1
    values: dict[str, str]
    problems: list[tuple[str, str]] = field(default_factory=list)  # found while reading


@dataclass
class Decoded:
    lines: list[str]
    encoding: str  # utf-8, utf-8-sig (with a BOM) or gb18030 (GBK exports)
    bad_lines: dict[int, str]  # line number -> why it cannot be read


def decode(raw: bytes) -> Decoded:
    """Decode line by line: a file whose non-ASCII lines are all UTF-8 is UTF-8, one whose
    non-ASCII lines are mostly not is GB18030 (a superset of GBK). Lines in the other
    encoding (two exports pasted together) are reported, never silently garbled."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw:
        raise FileRefused("bad_encoding", "the file is UTF-16 or not text (it has NUL bytes); "
                          "save it as CSV UTF-8 or as CSV (GBK)")
    bom = raw.startswith(b"\xef\xbb\xbf")
    chunks = [c.removesuffix(b"\r") for c in (raw[3:] if bom else raw).split(b"\n")]
    utf8 = {i: _utf8(c) for i, c in enumerate(chunks, 1) if not c.isascii()}
    good = sum(1 for ok in utf8.values() if ok)
    if bom or good >= len(utf8) - good:
        encoding, codec = ("utf-8-sig" if bom else "utf-8"), "utf-8"
        bad = {i: "this line is not UTF-8 (a GBK row in a UTF-8 file?)"
               for i, ok in utf8.items() if not ok}
    else:
        encoding = codec = "gb18030"
        bad = {i: "this line is UTF-8 while the file is GBK (two exports pasted together?)"
               for i, ok in utf8.items() if ok}
        for i in utf8:
            if i not in bad and not _decodes(chunks[i - 1], codec):
                bad[i] = "this line is neither UTF-8 nor GBK/GB18030"
    lines = [c.decode(codec, errors="replace") for c in chunks]
    for i, line in enumerate(lines, 1):
        if i not in bad and "\ufffd" in line:
            bad[i] = "this line holds U+FFFD (text damaged by an earlier conversion)"
    return Decoded(lines, encoding, bad)


def _utf8(chunk: bytes) -> bool:
    return _decodes(chunk, "utf-8")


def _decodes(chunk: bytes, codec: str) -> bool:
    try:
        chunk.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def read_csv(kind: str, raw: bytes) -> tuple[str, list[Record]]:
    """(encoding, records) of a CSV file; FileRefused when the file cannot be read at all."""
    decoded = decode(raw)
    reader = csv.reader(io.StringIO("\n".join(decoded.lines), newline=""))
    header: list[str] | None = None
    records: list[Record] = []
    line = 0
    for cells in reader:
        first, line = line + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        bad = [decoded.bad_lines[n] for n in range(first, line + 1) if n in decoded.bad_lines]
        if header is None:
            if bad:
                raise FileRefused("bad_encoding", bad[0], first, decoded.encoding)
            try:
                header = normalise_header(kind, cells, first)
            except FileRefused as refused:
                refused.encoding = decoded.encoding
                raise
            continue
        records.append(_record(header, cells, first, bad))
    if header is None:
        raise FileRefused("empty_file", "the file is empty: the first line must be the header "
                          + ",".join(COLUMNS[kind][0]), 0, decoded.encoding)
    return decoded.encoding, records


def _record(header: list[str], cells: list[str], row: int, bad: list[str]) -> Record:
    record = Record(row, {})
    if bad:
        record.problems.append(("bad_encoding", bad[0]))
        return record
    while len(cells) > len(header) and not cells[-1].strip():
        cells = cells[:-1]  # spreadsheets pad rows with empty cells
    if len(cells) != len(header):
        record.problems.append(("wrong_field_count", f"{len(cells)} fields where the header "
                                f"has {len(header)}"))
    record.values = {name: value.strip() for name, value in zip(header, cells, strict=False)}
    return record


def normalise_header(kind: str, cells: Sequence[str], line: int = 1) -> list[str]:
    """The header's column names in canonical form; FileRefused when columns are missing,
    unknown or repeated (the wrong kind of file, usually)."""
    required, optional = COLUMNS[kind]
    names = [column_name(kind, c) for c in cells]
    while names and not names[-1]:
        names.pop()
    unknown = [c for c, n in zip(cells, names, strict=False) if n not in required + optional]
    repeated = sorted({n for n in names if names.count(n) > 1})
    missing = [c for c in required if c not in names]
    if unknown or repeated or missing:
        parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + \
            ([f"unknown column(s) {', '.join(c.strip() for c in unknown)}"] if unknown else []) \
            + ([f"repeated column(s) {', '.join(repeated)}"] if repeated else [])
        raise FileRefused("wrong_header", f"not a {kind} file: " + "; ".join(parts) +
                          f" (expected {','.join(required + optional)})", line)
    return names


def column_name(kind: str, raw: str) -> str:
    name = raw.strip().lstrip("\ufeff").strip()
    name = HEADER_ALIASES[kind].get(name, name)
    return name.lower().replace(" ", "_").replace("-", "_")


def read_records(kind: str, records: Sequence[Any]) -> list[Record]:
    """JSON records (a list of objects whose keys are the CSV columns); a list of strings is
    accepted for item_codes and client_ids. Problems are the record's, never the batch's."""
    out = []
    for position, raw in enumerate(records, 1):
        record = Record(position, {})
        if not isinstance(raw, Mapping):
            record.problems.append(("not_an_object", "each record must be a JSON object"))
            out.append(record)
            continue
        record.values, record.problems = _json_values(kind, raw)
        out.append(record)
    return out


def _json_values(kind: str, raw: Mapping[str, Any]) -> tuple[dict[str, str],
                                                              list[tuple[str, str]]]:
    required, optional = COLUMNS[kind]
    values: dict[str, str] = {}
    problems: list[tuple[str, str]] = []
    for key, value in raw.items():
        name = column_name(kind, str(key))
        if name not in required + optional:
            problems.append(("unknown_field", f"unknown field {key!r}"))
        elif value is None:
            values[name] = ""
        elif name in LIST_COLUMNS and isinstance(value, list) and \
                all(isinstance(v, str) for v in value):
            values[name] = ";".join(value)
        elif isinstance(value, str) or (name == "division_code" and isinstance(value, int)
                                        and not isinstance(value, bool)):
            values[name] = str(value).strip()
        else:
            problems.append(("bad_value", f"{name} must be a string"
                             + (" or a list of strings" if name in LIST_COLUMNS else "")))
    missing = [c for c in required if c not in values and not any(
        p[1].startswith(f"{c} ") for p in problems)]
    if missing:
        problems.append(("missing_field", f"missing field(s) {', '.join(missing)}"))
    return values, problems


def split_list(value: str) -> Iterator[str]:
    """Codes separated by ";" (or the full-width "；", or ","), blanks dropped."""
    for part in value.replace("；", ";").replace(",", ";").split(";"):
        if part.strip():
            yield part.strip()
