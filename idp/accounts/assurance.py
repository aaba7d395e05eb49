"""Assurance rules in one place: what each factor may grant (amr, `mfa`) and which acr a session
may carry. Nothing else in the provider decides these; docs/adr/0006 lists the rules.

- Factors are amr values (RFC 8176): `pwd` (something you know), `sms` and `otp` (something you
  have: the registered phone, the authenticator app or a printed recovery code).
- `mfa` is granted only for factors of two different kinds: a knowledge factor and a possession
  factor. Two possession factors (an SMS code and a TOTP code), or one factor used twice, are
  not multi-factor (NIST SP 800-63B §5.1, §4.2.1).
- A trust level whose policy demands a second factor (IDP_MFA_ACR_LEVELS) is carried in `acr`
  only by a session that holds `mfa`; otherwise the session's acr is capped at the highest level
  that needs none.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from realname import TrustLevel

KNOWLEDGE, POSSESSION = "knowledge", "possession"
FACTOR_KINDS = {"pwd": KNOWLEDGE, "sms": POSSESSION, "otp": POSSESSION}
LEVELS = tuple(int(level) for level in TrustLevel)
FLOOR = min(LEVELS)

# Second-step methods (what the form posts) and the factor (amr value) each proves.
METHOD_FACTORS = {"password": "pwd", "sms": "sms", "totp": "otp", "recovery": "otp"}


def factors_of(amr: Iterable[str]) -> set[str]:
    """The known factors in an amr list; derived markers such as `mfa` are dropped."""
    return {value for value in amr if value in FACTOR_KINDS}


def kinds_of(amr: Iterable[str]) -> set[str]:
    return {FACTOR_KINDS[f] for f in factors_of(amr)}


def amr_for(factors: Iterable[str]) -> list[str]:
    """The amr of a session that used `factors`: each factor once, plus `mfa` only when a
    knowledge and a possession factor are both present. A stored `mfa` is never trusted."""
    known = factors_of(factors)
    marker = {"mfa"} if kinds_of(known) >= {KNOWLEDGE, POSSESSION} else set()
    return sorted(known | marker)


def has_mfa(amr: Iterable[str]) -> bool:
    return "mfa" in amr_for(amr)


def level_needs_mfa(level: int, mfa_levels: Collection[int]) -> bool:
    """Whether asserting `level` needs a second factor. Levels are ordered: a level at or
    above any listed one needs it too (listing only "4" cannot let 5 through on one factor)."""
    return any(level >= listed for listed in mfa_levels)


def session_acr(trust_level: int, amr: Iterable[str], mfa_levels: Collection[int]) -> int:
    """The level a session may assert: the account's level, capped below the levels whose
    policy needs a second factor when the session has none."""
    if has_mfa(amr):
        return trust_level
    allowed = [level for level in LEVELS
               if level <= trust_level and not level_needs_mfa(level, mfa_levels)]
    return max(allowed) if allowed else FLOOR


def login_second_step(amr: Iterable[str], *, has_totp: bool, has_phone: bool,
                      sms_with_totp: bool) -> list[str]:
    """Methods that may finish a login whose first factor was `amr`, for an account with an
    authenticator app: the app (or a recovery code), and SMS only where the policy allows it
    and it was not the first factor. Empty when no second step is due."""
    if not has_totp:
        return []
    used = factors_of(amr)
    methods = ["totp", "recovery"]
    if sms_with_totp and has_phone and "sms" not in used:
        methods.append("sms")
    return methods


def step_up_methods(amr: Iterable[str], *, has_totp: bool, has_phone: bool,
                    sms_with_totp: bool) -> list[str]:
    """Methods that turn a session into a multi-factor one: only factors of the kind it lacks,
    so the same factor (or kind) never counts twice. Empty when the session already has `mfa`."""
    kinds = kinds_of(amr)
    methods: list[str] = []
    if KNOWLEDGE not in kinds:
        methods.append("password")
    if POSSESSION not in kinds:
        if has_totp:
            methods += ["totp", "recovery"]
        if has_phone and (sms_with_totp or not has_totp):
            methods.append("sms")
    return methods if len(kinds) < 2 else []


# --- Trust levels (可信等级) from verification records (ADR 0008) ---
# The most each kind of verification record may grant. A record grants min(its level, this)
# and only when its result is "verified"; nothing else raises an account's level.
METHOD_MAX_LEVEL = {
    "online_two_element": int(TrustLevel.AUTHORITATIVE_MATCH),  # 3: name + number confirmed
    "online_real_person": int(TrustLevel.REAL_PERSON),  # 4: ... and the face matched
    "counter": int(TrustLevel.CERTIFICATE_OR_COUNTER),  # 5: in person, document in hand
    "case_transfer": int(TrustLevel.CERTIFICATE_OR_COUNTER),  # the level the claimant proved
}
OVERRIDE_METHOD = "override"  # an operator's audited decision: sets the level outright


def derive_trust_level(records: Iterable[tuple[str, int, str, bool]]) -> int:
    """An account's trust level from its verification records, oldest first, each given as
    (method, level, result, revoked). Revoked records count for nothing. An operator override
    sets the level outright and the records before it stop counting; after it, each verified
    record raises the level to what its method may grant. With no record: self-declared (2)."""
    level = FLOOR
    for method, recorded, result, revoked in records:
        if revoked:
            continue
        if method == OVERRIDE_METHOD:
            level = recorded if recorded in LEVELS else FLOOR
        elif result == "verified" and method in METHOD_MAX_LEVEL:
            level = max(level, min(recorded, METHOD_MAX_LEVEL[method]))
    return level
