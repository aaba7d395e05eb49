"""The look a deployment gives the pages: region, emblem, footer and its agreements, from a folder.

A province or city copies `idp/data/brand/`, edits `brand.toml` (and the agreement documents
beside it) and points `IDP_BRAND_DIR` at the copy; no template is edited. The file is read once at
start-up and every problem stops the process with a sentence naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path(__file__).resolve().parent / "data" / "brand"
AGREEMENT_KEYS = ("terms", "privacy")  # 用户服务协议, 隐私政策: both are required
EMBLEM_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg",
                ".jpeg": "image/jpeg", ".webp": "image/webp"}
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")
MAX_DOCUMENT_BYTES = 512 * 1024


class BrandError(ValueError):
    """brand.toml or a file it names is missing or invalid; the message says which."""


@dataclass(frozen=True)
class Text:
    """One piece of text in both page languages."""

    zh: str
    en: str

    def get(self, locale: str) -> str:
        return self.en if locale == "en" and self.en else self.zh


@dataclass(frozen=True)
class Agreement:
    """A document people accept (用户服务协议, 隐私政策), in the version now in force."""

    key: str
    version: str
    title: Text
    body: Text  # trusted HTML fragments written by the operator

    def text(self, locale: str) -> str:
        return self.body.get(locale)


@dataclass(frozen=True)
class Brand:
    region: Text  # 省/市 name, e.g. 广东省
    platform: Text  # the platform's name in the banner
    subtitle: Text  # the line under it
    emblem_file: Path | None  # an image shown in the banner, or None
    emblem_text: str  # the character in the round badge when there is no image
    sponsor: Text  # 主办单位
    icp: str  # ICP 备案号
    psb: str  # 公安机关备案号
    psb_url: str  # the record's page at beian.gov.cn (optional)
    hotline: str  # 服务热线
    colour: str  # the banner colour (#rrggbb)
    agreements: tuple[Agreement, ...]

    @property
    def emblem_type(self) -> str | None:
        return EMBLEM_TYPES.get(self.emblem_file.suffix.lower()) if self.emblem_file else None

    def agreement(self, key: str) -> Agreement | None:
        return next((a for a in self.agreements if a.key == key), None)

    def versions(self) -> dict[str, str]:
        """What a person must have accepted: {key: version in force}."""
        return {a.key: a.version for a in self.agreements}


def load_brand(directory: str | Path | None = None) -> Brand:
    folder = Path(directory) if directory else DEFAULT_DIR
    path = folder / "brand.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BrandError(f"IDP_BRAND_DIR: {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise BrandError(f"IDP_BRAND_DIR: {path} is not valid TOML: {error}") from None
    reader = _Reader(raw, path)
    emblem = reader.text("emblem", required=False)
    emblem_file = None
    if emblem:
        emblem_file = (folder / emblem).resolve()
        if emblem_file.suffix.lower() not in EMBLEM_TYPES or not emblem_file.is_file():
            raise BrandError(f"{path}: emblem must name a PNG, SVG, JPEG or WebP file in the "
                             f"folder ({emblem!r} is not one)")
    colour = reader.text("colour", required=False) or "#b3261e"
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
        raise BrandError(f"{path}: colour must be #rrggbb, not {colour!r}")
    if contrast_with_white(colour) < 4.5:
        raise BrandError(f"{path}: colour {colour} is too light for the banner's white text "
                         f"(contrast {contrast_with_white(colour):.2f}:1; WCAG AA needs 4.5:1)")
    agreements = tuple(_agreement(item, folder, path) for item in raw.get("agreement", []))
    if sorted(a.key for a in agreements) != sorted(AGREEMENT_KEYS):
        raise BrandError(f"{path}: needs exactly one [[agreement]] with key \"terms\" "
                         "(用户服务协议) and one with key \"privacy\" (隐私政策)")
    return Brand(region=reader.pair("region"), platform=reader.pair("platform"),
                 subtitle=reader.pair("subtitle"), emblem_file=emblem_file,
                 emblem_text=reader.text("emblem_text", required=False)[:2] or "",
                 sponsor=reader.pair("sponsor"), icp=reader.text("icp", required=False),
                 psb=reader.text("psb", required=False),
                 psb_url=reader.text("psb_url", required=False),
                 hotline=reader.text("hotline"), colour=colour, agreements=agreements)


def contrast_with_white(colour: str) -> float:
    """WCAG 2.1 contrast ratio of white text on `colour` (#rrggbb)."""
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i:i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return 1.05 / (luminance + 0.05)


def _agreement(item: Any, folder: Path, path: Path) -> Agreement:
    if not isinstance(item, dict):
        raise BrandError(f"{path}: each [[agreement]] must be a table")
    reader = _Reader(item, path, "agreement.")
    key, version = reader.text("key"), reader.text("version")
    if not VERSION_RE.match(version):
        raise BrandError(f"{path}: agreement {key!r} version must be 1–32 letters, digits, "
                         f"dots, dashes or underscores, not {version!r}")
    bodies = []
    for language in ("zh", "en"):
        name = reader.text(language)
        file = (folder / name).resolve()
        try:
            if file.stat().st_size > MAX_DOCUMENT_BYTES:
                raise BrandError(f"{path}: {name} is larger than 512 KiB")
            bodies.append(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            raise BrandError(f"{path}: agreement {key!r} names {name!r}, which is not a "
                             "readable UTF-8 file in the folder") from None
    return Agreement(key=key, version=version, title=reader.pair("title"),
                     body=Text(bodies[0], bodies[1]))


class _Reader:
    """Typed reads of one TOML table, each failure naming the key."""

    def __init__(self, table: dict[str, Any], path: Path, prefix: str = "") -> None:
        self.table, self.path, self.prefix = table, path, prefix

    def text(self, key: str, required: bool = True) -> str:
        value = self.table.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise BrandError(f"{self.path}: {self.prefix}{key} must be a non-empty string")
        return value.strip()

    def pair(self, key: str) -> Text:
        zh = self.text(key)
        return Text(zh, self.text(key + "_en", required=False) or zh)



class BrandView:
    """What the templates read: the brand's texts in one language."""

    def __init__(self, brand: Brand, locale: str) -> None:
        self.brand, self.locale = brand, "en" if locale == "en" else "zh"
        for name in ("region", "platform", "subtitle", "sponsor"):
            setattr(self, name, getattr(brand, name).get(self.locale))
        self.emblem_text, self.icp, self.psb = brand.emblem_text, brand.icp, brand.psb
        self.psb_url, self.hotline, self.colour = brand.psb_url, brand.hotline, brand.colour
        self.has_emblem = brand.emblem_file is not None

    def agreements(self) -> list[tuple[str, str]]:
        """(key, title) of each document, for the footer's links."""
        return [(a.key, a.title.get(self.locale)) for a in self.brand.agreements]

    def title(self, key: str) -> str:
        found = self.brand.agreement(key)
        return found.title.get(self.locale) if found else key
