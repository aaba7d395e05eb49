"""A browser's user-agent string in words a person recognises ("Chrome · Windows"), for the
account page's sessions and sign-ins. The only module that imports ua-parser (ADR 0007)."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse_os, parse_user_agent

MAX_LENGTH = 512  # longer strings are cut before parsing (sessions keep 200 characters)
# ua-parser's family names where a shorter everyday one exists.
BROWSER_NAMES = {"Mobile Safari": "Safari", "Chrome Mobile": "Chrome",
                 "Chrome Mobile iOS": "Chrome", "Firefox Mobile": "Firefox",
                 "Firefox iOS": "Firefox", "Edge Mobile": "Edge", "WeChat Browser": "WeChat"}
OS_NAMES = {"Mac OS X": "macOS"}


@lru_cache(maxsize=512)
def device_label(user_agent: str | None) -> str | None:
    """"Browser · system" (or whichever of the two is known); None when neither is."""
    if not user_agent:
        return None
    text = user_agent[:MAX_LENGTH]
    browser, system = parse_user_agent(text), parse_os(text)
    parts = [BROWSER_NAMES.get(browser.family, browser.family) if browser else None,
             OS_NAMES.get(system.family, system.family) if system else None]
    known = [p for p in parts if p and p != "Other"]
    return " · ".join(known) or None
