"""The copy of a person's data (个人信息副本, docs/personal-data.md) in real Chromium: reached from
the account page, the offer and the copy pass axe in Chinese and English and fit a phone (each
photographed into docs/screenshots/, as every page is); the JSON arrives as a download; printed,
the copy keeps its content and drops the parts that only serve the screen."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages_in_chromium import (  # noqa: F401 - `visit` is a fixture
    VARIANTS,
    Visit,
    photograph_and_check,
    visit,
)
from tests.counter.conftest import id_number

pytestmark = pytest.mark.browser


def _offer(v: Visit) -> str:
    """A verified person goes from their account page to the offer; their ID number."""
    number = id_number()
    v.signed_in(name="林晓", trust_level=3, id_number=number)
    v.go("/account")
    v.page.click("#data-copy")
    expect(v.page.locator("#download-json")).to_be_visible()
    return number


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_offer_and_the_copy_are_accessible_and_photographed(
        variant: str, visit: Visit) -> None:  # noqa: F811
    number = _offer(visit)
    photograph_and_check(visit.page, "data-copy", variant)
    visit.page.click("#open-html")
    expect(visit.page.locator("h1")).to_have_text(
        "A copy of my data" if visit.lang == "en" else "个人信息副本")
    expect(visit.page.locator("#copy-profile")).to_contain_text(
        number[:4] + "*" * 10 + number[-4:])
    assert number not in visit.page.content()
    photograph_and_check(visit.page, "data-copy-page", variant)


@pytest.mark.parametrize("variant", ["zh"])
def test_the_json_copy_arrives_as_a_download(
        variant: str, visit: Visit) -> None:  # noqa: F811
    number = _offer(visit)
    with visit.page.expect_download() as download:
        visit.page.click("#download-json")
    assert re.fullmatch(r"personal-data-\d{8}-\d{6}\.json", download.value.suggested_filename)
    path = download.value.path()
    text = path.read_text(encoding="utf-8")
    assert number not in text
    doc = json.loads(text)
    assert (doc["account"]["name"], doc["account"]["trust_level"]) == ("林晓", 3)


@pytest.mark.parametrize("variant", ["zh"])
def test_the_printed_copy_keeps_the_content_and_drops_the_screen_parts(
        variant: str, visit: Visit) -> None:  # noqa: F811
    _offer(visit)
    visit.page.click("#open-html")
    visit.page.emulate_media(media="print")
    for screen_only in ("nav.lang", "p.no-print", "a.skip-link"):
        expect(visit.page.locator(screen_only)).to_be_hidden()
    for kept in ("h1", "#copy-profile", "#copy-sign-ins", "#copy-not-included", ".brand-title"):
        expect(visit.page.locator(kept)).to_be_visible()
    assert visit.page.locator(".banner").evaluate(
        "el => getComputedStyle(el).backgroundColor") == "rgba(0, 0, 0, 0)"
    assert visit.page.pdf(format="A4")[:5] == b"%PDF-"
