"""Password policy (等保 2.0 identity controls): length, character classes, no personal data,
not a common password. Returns reason codes that pages translate."""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

MIN_LENGTH = 8
MAX_LENGTH = 128


@cache
def common_passwords() -> frozenset[str]:
    """Our own list (Chinese favourites) and ~40,000 from published lists (idp/data/README.md)."""
    data = resources.files("idp").joinpath("data")
    ours = data.joinpath("common-passwords.txt").read_text("utf-8")
    published = gzip.decompress(data.joinpath("common-passwords-lists.txt.gz").read_bytes())
    lines = ours.splitlines() + published.decode("utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.startswith("#"))


def _classes(password: str) -> int:
    return sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password)))


def password_problems(password: str, *, phone: str | None = None,
                      username: str | None = None) -> list[str]:
    """Every rule the password breaks, as codes: too_short, too_long, too_few_classes,
    contains_phone, contains_username, common."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append("too_short")
    if len(password) > MAX_LENGTH:
        problems.append("too_long")
    if _classes(password) < 3:
        problems.append("too_few_classes")
    lowered = password.lower()
    if phone and phone in password:
        problems.append("contains_phone")
    if username and len(username) >= 3 and username.lower() in lowered:
        problems.append("contains_username")
    if lowered in common_passwords():
        problems.append("common")
    return problems


# The rules in words, for operators' tools (the pages use their own translated messages).
PROBLEM_WORDS = {
    "too_short": f"it must be at least {MIN_LENGTH} characters long",
    "too_long": f"it must be at most {MAX_LENGTH} characters long",
    "too_few_classes": "it must use at least three of: lower-case letters, upper-case letters, "
                       "digits, symbols",
    "contains_phone": "it must not contain the mobile number",
    "contains_username": "it must not contain the username",
    "common": "it is too common",
}


def describe_problems(problems: list[str]) -> str:
    """One sentence: "the password does not meet the rules: it …; it …"."""
    return "the password does not meet the rules: " + \
        "; ".join(PROBLEM_WORDS.get(p, p) for p in problems)
