"""Words a person reads for protocol terms: scopes and claims (the consent and account pages),
and trust levels (ADR 0005, 0008). One table each, so every page names a thing alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


@dataclass(frozen=True)
class ScopeLabel:
    """What a scope gives a business system, and what that is used for."""

    label: LazyString
    purpose: LazyString


SCOPE_LABELS: dict[str, ScopeLabel] = {
    "openid": ScopeLabel(_l("Account identifier and trust level"),
                         _l("used to recognise your account and how well your identity was "
                            "verified")),
    "profile": ScopeLabel(_l("Name"), _l("used to confirm who is applying")),
    "phone": ScopeLabel(_l("Mobile number"), _l("used to contact you about your application")),
    # Refresh tokens: the meaning is the offline_access rules' (idp.oauth); only the words here.
    "offline_access": ScopeLabel(_l("Continued access"),
                                 _l("Access while you are away (until you revoke it)")),
}

CLAIM_LABELS: dict[str, LazyString] = {
    "sub": _l("Account identifier"),
    "acr": _l("Trust level"),
    "amr": _l("How you logged in"),
    "auth_time": _l("When you logged in"),
    "name": _l("Name"),
    "preferred_username": _l("Username"),
    "updated_at": _l("When your details last changed"),
    "phone_number": _l("Mobile number"),
    "phone_number_verified": _l("Whether your mobile number is confirmed"),
}


def scope_label(scope: str) -> str:
    """The words for a scope; an unknown scope shows as itself."""
    found = SCOPE_LABELS.get(scope)
    return str(found.label) if found else scope


def claim_label(claim: str) -> str:
    found = CLAIM_LABELS.get(claim)
    return str(found) if found else claim


def word_list(words: Iterable[str]) -> str:
    """Words joined the way the page's language lists them (、 in Chinese, commas in English)."""
    return _(", ").join(words)


@dataclass(frozen=True)
class ConsentItem:
    scope: str
    label: str
    purpose: str
    claims: str  # the claims it releases, in words ("" when the label says it all)


def consent_items(scopes: Iterable[str],
                  claims_of: Mapping[str, Iterable[str]]) -> list[ConsentItem]:
    """One line per requested scope the person is asked about (unknown scopes are not shown:
    they release nothing). `claims_of` is the scope → claims table of the releasing code."""
    items = []
    for scope in scopes:
        found = SCOPE_LABELS.get(scope)
        if found is None:
            continue
        claims = [claim_label(c) for c in claims_of.get(scope, ())]
        items.append(ConsentItem(scope, str(found.label), str(found.purpose),
                                 word_list(claims) if len(claims) > 1 else ""))
    return items


TRUST_STATUS = {
    2: _l("Not verified"),
    3: _l("Verified (online)"),
    4: _l("Verified (face match)"),
    5: _l("Verified (counter or certificate)"),
}


def trust_status(level: int) -> str:
    """The verification status a level stands for (ADR 0008: 2 self-declared; 3 name and ID
    number confirmed online; 4 also a face match; 5 at a counter or by certificate)."""
    return str(TRUST_STATUS.get(level, TRUST_STATUS[2] if level < 2 else TRUST_STATUS[5]))



# How a person signed in (amr values, RFC 8176; idp.accounts.assurance): the data copy's words.
AMR_LABELS: dict[str, LazyString] = {
    "pwd": _l("Password"),
    "sms": _l("SMS code"),
    "otp": _l("Authenticator app or recovery code"),
    "mfa": _l("Two-step sign-in"),
}


def amr_words(amr: Iterable[str]) -> str:
    """The methods of a sign-in in words ("密码、短信验证码"); an unknown value as itself."""
    return word_list(str(AMR_LABELS.get(value, value)) for value in amr)
