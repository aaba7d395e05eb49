"""Settings.from_env: typed IDP_* variables and the production guard rails.

Covers OIDC Core §2 / OIDC Discovery §3 (the issuer is an https URL without query, fragment
or trailing slash), the production refusals (development secret, http issuer, no shared
store, SQLite), and type errors naming the offending variable.
"""

from __future__ import annotations

import pytest

from idp.settings import DEV_SECRET_KEY, Settings, SettingsError

PRODUCTION = {
    "IDP_ENV": "production",
    "IDP_SECRET_KEY": "Vq3r8ZxP0mL7tN2wK9sB4yF6hJ1cD5gA8eR0uT3iO6pQwE",
    "IDP_SEALING_KEYS": "k2:Nf8sQ3vL1xW7pR4tY9bE2mK6hJ0cA5gD k1:Zq1wX2cV3bN4mL5kJ6hG7fD8sA9pO0iU",
    "IDP_LOOKUP_PEPPER": "pepper-Xy7Lm2Qw9Rt4Vb8Nc3Ks6Hd1Fg5Ja0Pz",
    "IDP_AUDIT_KEY": "audit-Mn4Bv7Cx2Zl9Kj5Hg8Fd3Sa6Qw1Er0Ty",
    "IDP_ISSUER": "https://id.example.gov.cn",
    "IDP_DATABASE_URL": "postgresql://idp@db.internal/idp",
    "IDP_REDIS_URL": "redis://cache.internal:6379/0",
    "IDP_SMS_GATEWAY": "http",
    "IDP_SMS_URL": "https://sms.internal/send",
    "IDP_SMS_APP_ID": "idp",
    "IDP_SMS_APP_SECRET": "sms-" + "s" * 30,
}


def production(**changes: str | None) -> dict[str, str]:
    env = dict(PRODUCTION)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def test_valid_production_settings_pass():
    settings = Settings.from_env(production(IDP_ACCESS_TOKEN_TTL="300"))
    assert settings.is_production is True
    assert settings.issuer == "https://id.example.gov.cn"
    assert settings.access_token_ttl == 300
    assert settings.secure_cookies is True


def test_production_refuses_the_development_secret():
    with pytest.raises(SettingsError, match=r"^IDP_SECRET_KEY is the development default"):
        Settings.from_env(production(IDP_SECRET_KEY=DEV_SECRET_KEY))


def test_production_refuses_an_http_issuer():
    with pytest.raises(SettingsError, match=r"^IDP_ISSUER must be https in production$"):
        Settings.from_env(production(IDP_ISSUER="http://id.example.gov.cn"))


def test_production_requires_a_redis_url():
    with pytest.raises(SettingsError, match=r"^IDP_REDIS_URL is required in production"):
        Settings.from_env(production(IDP_REDIS_URL=None))


def test_production_refuses_sqlite():
    with pytest.raises(SettingsError, match=r"^IDP_DATABASE_URL must be PostgreSQL in production$"):
        Settings.from_env(production(IDP_DATABASE_URL="sqlite:///instance/idp.db"))


def test_non_integer_ttl_names_the_variable():
    with pytest.raises(SettingsError, match=r"^IDP_ACCESS_TOKEN_TTL must be an? int, got 'ten'$"):
        Settings.from_env(production(IDP_ACCESS_TOKEN_TTL="ten"))


def test_issuer_with_a_trailing_slash_is_refused_oidc_discovery_3():
    with pytest.raises(SettingsError, match=r"^IDP_ISSUER must have no query, fragment or "
                                            r"trailing slash$"):
        Settings.from_env(production(IDP_ISSUER="https://id.example.gov.cn/"))


def test_the_secret_must_be_long_enough():
    with pytest.raises(SettingsError, match=r"^IDP_SECRET_KEY must be at least 32 characters$"):
        Settings.from_env(production(IDP_SECRET_KEY="short"))


def test_overrides_win_over_the_environment():
    settings = Settings.from_env(production(IDP_ACCESS_TOKEN_TTL="300"), access_token_ttl=120)
    assert settings.access_token_ttl == 120
