"""Accessibility checks for the browser tests: axe-core (bundled by axe-playwright-python, never
downloaded) against WCAG 2.1 A/AA and axe's best practices, and contrast arithmetic for what
axe cannot measure (focus rings and field borders, WCAG 1.4.11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

# WCAG 2.0 and 2.1, levels A and AA, and axe's best practices (landmarks, headings, …).
AXE_OPTIONS = {
    "runOnly": {"type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations", "incomplete"],
}
BLOCKING = {"serious", "critical"}

_AXE = Axe()


def axe_violations(page: Page, report: Path | None = None) -> list[dict[str, Any]]:
    """Every violation axe finds on the page as it is now. With `report`, all of them and what
    axe could not decide ("incomplete": to review by hand) are written there as JSON, so minor
    and moderate findings can be read after the run."""
    response = _AXE.run(page, options=AXE_OPTIONS).response
    violations: list[dict[str, Any]] = response["violations"]
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps({"violations": violations,
                                      "incomplete": response["incomplete"]},
                                     ensure_ascii=False, indent=1))
    return violations


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v.get("impact") in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    """What to fix: each rule's id, impact and help, and the elements it failed on."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:8]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {', '.join(map(str, node['target']))}: {summary}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def _channel(value: float) -> float:
    value /= 255
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[float, float, float]) -> float:
    r, g, b = (_channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """The WCAG 2.1 contrast ratio of two opaque colours."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def parse_rgb(css: str) -> tuple[float, float, float]:
    """`rgb(r, g, b)` / `rgba(r, g, b, 1)` as getComputedStyle writes them."""
    inside = css[css.index("(") + 1:css.index(")")].replace("/", " ").replace(",", " ")
    parts = [float(p) for p in inside.split()]
    if len(parts) == 4 and parts[3] != 1:
        raise AssertionError(f"translucent colour {css}: its contrast depends on what is behind")
    return parts[0], parts[1], parts[2]


# The colour actually painted behind an element: the first ancestor with an opaque background.
BACKGROUND_JS = """el => {
  for (let node = el.parentElement; node; node = node.parentElement) {
    const c = getComputedStyle(node).backgroundColor;
    if (c && c !== 'transparent' && !c.endsWith(', 0)')) return c;
  }
  return 'rgb(255, 255, 255)';
}"""
