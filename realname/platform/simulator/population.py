"""Synthetic people and portraits for the CTID simulator: valid ID numbers, PNGs with a marker.

Nobody here is real. ID numbers are 18 characters with the GB 11643-1999 MOD 11-2 check digit,
computed here on purpose rather than borrowed from `realname.identifiers`, so that the tests can
check two implementations against each other. A portrait is a small PNG whose tEXt chunk
`ctid-sim-face` holds HMAC-SHA256(face key, id number) in hex; a JPEG carries the same bytes
(`ctid-sim-face\\0<hex>`) in a COM segment. The simulator's face check looks only for that marker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
import struct
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
            "于杜叶程魏苏吕丁任沈姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江薛尹段雷")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲芬燕彬鹏辉建文斌宇浩凯健俊"
         "帆旭宁颖婷欣雪琳晨思怡子涵梓轩嘉雨泽博宏志")
AREAS = ("441802", "440103", "440304", "110105", "440106", "441900", "440402", "445102")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
FACE_KEYWORD = b"ctid-sim-face"
_MARKER_RE = re.compile(re.escape(FACE_KEYWORD) + rb"\x00([0-9a-f]{64})")


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def is_well_formed(id_number: str) -> bool:
    """18 characters, 17 digits and a correct check character (the date is not checked)."""
    return bool(_SHAPE.match(id_number)) and check_digit(id_number[:17]) == id_number[17]


def make_id_number(area: str, born: date, sequence: int) -> str:
    first17 = f"{area}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)


def generate(seed: int, count: int) -> list[Person]:
    """`count` distinct synthetic people, always the same for the same seed."""
    rng = random.Random(f"ctid-simulator:{seed}")  # noqa: S311 - synthetic data, not secrets
    people: dict[str, Person] = {}
    while len(people) < count:
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
        number = make_id_number(rng.choice(AREAS), born, rng.randrange(1, 1000))
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        people.setdefault(number, Person(rng.choice(SURNAMES) + given, number))
    return list(people.values())


def load_people(path: str | Path) -> list[Person]:
    """People from a JSON file: a list of {"name": ..., "id_number": ...} (or {"people": [...]})."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = data.get("people") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a list of people")
    people = []
    for index, row in enumerate(rows):
        if not (isinstance(row, dict) and isinstance(row.get("name"), str)
                and isinstance(row.get("id_number"), str)):
            raise ValueError(f"{path}: entry {index} needs a name and an id_number")
        people.append(Person(row["name"].strip(), row["id_number"].strip().upper()))
    return people


# Portraits --------------------------------------------------------------------------------

def face_marker(key: bytes, id_number: str) -> str:
    return hmac.new(key, id_number.encode(), hashlib.sha256).hexdigest()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(pixels: list[list[tuple[int, int, int]]], text: dict[bytes, bytes]) -> bytes:
    """A truecolour 8-bit PNG of the given rows, with tEXt chunks."""
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(c for rgb in row for c in rgb) for row in pixels)
    chunks = [_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))]
    chunks += [_chunk(b"tEXt", key + b"\x00" + value) for key, value in text.items()]
    chunks += [_chunk(b"IDAT", zlib.compress(raw, 9)), _chunk(b"IEND", b"")]
    return PNG_MAGIC + b"".join(chunks)


def portrait_png(key: bytes, id_number: str, size: int = 24) -> bytes:
    """A small cartoon face, its colours and marker derived from the person."""
    marker = face_marker(key, id_number)
    tone = bytes.fromhex(marker[:12])
    background = (tone[0] // 2 + 64, tone[1] // 2 + 64, tone[2] // 2 + 64)
    skin = (200 + tone[3] % 50, 160 + tone[4] % 50, 120 + tone[5] % 50)
    centre, radius = (size - 1) / 2, size * 0.4
    eyes = {(round(size * 0.38), round(size * 0.35)), (round(size * 0.38), round(size * 0.62))}
    rows = []
    for y in range(size):
        row = []
        for x in range(size):
            if (y, x) in eyes:
                row.append((30, 30, 30))
            elif (x - centre) ** 2 + (y - centre) ** 2 <= radius ** 2:
                row.append(skin)
            else:
                row.append(background)
        rows.append(row)
    return png(rows, {FACE_KEYWORD: marker.encode(), b"Comment": b"synthetic portrait"})


def image_kind(image: bytes) -> str | None:
    """'png' or 'jpeg' by magic bytes, else None."""
    if image.startswith(PNG_MAGIC):
        return "png"
    if image.startswith(JPEG_MAGIC):
        return "jpeg"
    return None


def find_marker(image: bytes) -> str | None:
    found = _MARKER_RE.search(image)
    return found.group(1).decode() if found else None


def face_score(key: bytes, id_number: str, image: bytes) -> float:
    """0.90–0.99 when the image carries the person's marker, else 0.20–0.39 (deterministic)."""
    expected = face_marker(key, id_number)
    if hmac.compare_digest(find_marker(image) or "", expected):
        return round(0.90 + int(expected[:2], 16) % 10 / 100, 2)
    digest = hashlib.sha256(key + id_number.encode() + image).digest()
    return round(0.20 + digest[0] % 20 / 100, 2)
