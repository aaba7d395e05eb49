"""One typed Settings object: every IDP_* variable, documented and validated at start-up."""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse, urlsplit

log = logging.getLogger(__name__)

DEV_SECRET_KEY = "dev-only-secret-key-change-me-0123456789abcdef"
DEV_ISSUER = "http://127.0.0.1:5000"


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Every setting the provider reads. `docs/configuration.md` documents each one."""

    env: str = "development"  # IDP_ENV: development | production | test
    secret_key: str = DEV_SECRET_KEY  # IDP_SECRET_KEY: signs cookies, derives encryption keys
    audit_key: str = ""  # IDP_AUDIT_KEY: seals the audit chain head; empty = from IDP_SECRET_KEY
    sealing_keys: str = ""  # IDP_SEALING_KEYS: "kid:secret …", the first seals; empty = dev key
    lookup_pepper: str = ""  # IDP_LOOKUP_PEPPER: keyed hashes and pairwise subjects (stable)
    issuer: str = DEV_ISSUER  # IDP_ISSUER: the `iss` of every token; https in production
    database_url: str = "sqlite:///instance/idp.db"  # IDP_DATABASE_URL
    redis_url: str = ""  # IDP_REDIS_URL: empty = in-process store (single process only)
    redis_timeout: float = 0.5  # IDP_REDIS_TIMEOUT: seconds to connect to or hear from Redis
    database_timeout: int = 5  # IDP_DATABASE_TIMEOUT: seconds to connect, and per statement
    graceful_timeout: int = 1  # IDP_GRACEFUL_TIMEOUT: seconds a stopping worker drains
    access_token_ttl: int = 600  # IDP_ACCESS_TOKEN_TTL seconds
    id_token_ttl: int = 600  # IDP_ID_TOKEN_TTL seconds
    refresh_token_ttl: int = 30 * 24 * 3600  # IDP_REFRESH_TOKEN_TTL seconds
    grant_max_ttl: int = 90 * 24 * 3600  # IDP_GRANT_MAX_TTL: absolute grant lifetime, seconds
    token_retention_days: float = 30  # IDP_TOKEN_RETENTION_DAYS: spent/expired rows kept
    token_record_retention_days: float = 180  # IDP_TOKEN_RECORD_RETENTION_DAYS: issuance log
    code_ttl: int = 60  # IDP_CODE_TTL seconds, counted from issue
    session_idle_ttl: int = 30 * 60  # IDP_SESSION_IDLE_TTL seconds
    session_max_ttl: int = 12 * 3600  # IDP_SESSION_MAX_TTL seconds
    key_publish_lead: int = 3600  # IDP_KEY_PUBLISH_LEAD: seconds a rotated key waits in JWKS
    key_cache_ttl: int = 60  # IDP_KEY_CACHE_TTL: seconds each worker caches the key set
    client_assertion_max_lifetime: int = 300  # IDP_CLIENT_ASSERTION_MAX_LIFETIME seconds
    clock_leeway: int = 30  # IDP_CLOCK_LEEWAY: seconds allowed between clocks of different nodes
    backchannel_timeout: float = 3.0  # IDP_BACKCHANNEL_TIMEOUT seconds per business system
    argon2_memory_kib: int = 19456  # IDP_ARGON2_MEMORY_KIB (OWASP: 19 MiB)
    argon2_time_cost: int = 2  # IDP_ARGON2_TIME_COST
    argon2_parallelism: int = 1  # IDP_ARGON2_PARALLELISM
    default_locale: str = "zh_Hans_CN"  # IDP_DEFAULT_LOCALE: zh_Hans_CN | en
    demo_data: bool = False  # IDP_DEMO_DATA: create the demo client and citizen on start
    demo_redirect_uri: str = "http://127.0.0.1:5001/callback"  # IDP_DEMO_REDIRECT_URI
    workers: int = 0  # IDP_WORKERS: worker processes for `idp serve`; 0 = one per core
    server: str = "granian"  # IDP_SERVER: granian or gunicorn, for `idp serve`
    threads: int = 4  # IDP_THREADS: threads per worker (overlap database/store waits)
    access_log: bool = False  # IDP_ACCESS_LOG: `idp serve` logs every request (method, path)
    client_cache_ttl: int = 30  # IDP_CLIENT_CACHE_TTL: seconds a worker caches a client lookup
    sms_gateway: str = "outbox"  # IDP_SMS_GATEWAY: outbox (development) | http
    sms_url: str = ""  # IDP_SMS_URL: the SMS platform's send endpoint (http gateway)
    sms_app_id: str = ""  # IDP_SMS_APP_ID
    sms_app_secret: str = ""  # IDP_SMS_APP_SECRET: signs each request (HMAC-SHA256)
    sms_code_ttl: int = 300  # IDP_SMS_CODE_TTL seconds a code is valid
    sms_max_tries: int = 5  # IDP_SMS_MAX_TRIES wrong entries before a code dies
    sms_interval: int = 60  # IDP_SMS_INTERVAL seconds between codes to one number
    sms_daily_limit: int = 10  # IDP_SMS_DAILY_LIMIT codes per number per day
    sms_ip_hourly_limit: int = 30  # IDP_SMS_IP_HOURLY_LIMIT codes requested per client IP
    lockout_threshold: int = 5  # IDP_LOCKOUT_THRESHOLD wrong passwords before the lock
    lockout_seconds: int = 900  # IDP_LOCKOUT_SECONDS the lock lasts
    login_ip_limit: int = 100  # IDP_LOGIN_IP_LIMIT failed logins per client IP per lock period
    mfa_acr_levels: str = "4 5"  # IDP_MFA_ACR_LEVELS: acr values whose policy needs 2 factors
    sms_with_totp: bool = False  # IDP_SMS_WITH_TOTP: SMS still a second factor once TOTP is on
    reauth_max_age: int = 300  # IDP_REAUTH_MAX_AGE: seconds a sign-in counts as recent for
    #                            changing factors, password or phone
    data_copy_daily_limit: int = 5  # IDP_DATA_COPY_DAILY_LIMIT: copies of their data (个人信息
    #                                 副本) a person may make in 24 hours
    trusted_proxies: str = ""  # IDP_TRUSTED_PROXIES: CIDRs of reverse proxies whose
    #                            X-Forwarded-For is believed (space or comma separated)
    audit_retention_days: int = 180  # IDP_AUDIT_RETENTION_DAYS (网络安全法 art. 21: ≥ 180)
    deletion_cooling_off_days: int = 15  # IDP_DELETION_COOLING_OFF_DAYS: days between a
    #                                      deletion request (注销) and the account's erasure
    fingerprint_keys: str = ""  # IDP_FINGERPRINT_KEYS: "kid:secret …" for document
    #                             fingerprints, the first is current; empty = from the pepper
    realname_url: str = ""  # IDP_REALNAME_URL: the national platform's base URL; empty = online
    #                         verification is off (people are sent to a counter)
    realname_app_id: str = ""  # IDP_REALNAME_APP_ID
    realname_app_secret: str = ""  # IDP_REALNAME_APP_SECRET: signs each request (HMAC-SHA256)
    realname_timeout: float = 5.0  # IDP_REALNAME_TIMEOUT: seconds to wait for one answer
    realname_retries: int = 2  # IDP_REALNAME_RETRIES: retries after an outage answer (bounded)
    realname_daily_attempts: int = 5  # IDP_REALNAME_DAILY_ATTEMPTS: failed online checks a day
    realname_ip_daily_attempts: int = 20  # IDP_REALNAME_IP_DAILY_ATTEMPTS: failed online checks
    #                                       a day from one client address, across accounts
    staff_idle_ttl: int = 600  # IDP_STAFF_IDLE_TTL: seconds a counter session stays idle
    staff_max_ttl: int = 10 * 3600  # IDP_STAFF_MAX_TTL: seconds a counter session may last
    staff_enrolment_ttl: int = 72 * 3600  # IDP_STAFF_ENROLMENT_TTL: seconds an enrolment link
    #                                       (new staff: password and authenticator app) works
    activation_code_ttl: int = 7 * 24 * 3600  # IDP_ACTIVATION_CODE_TTL: seconds an activation
    #                                           slip's code works
    access_live_days: int = 30  # IDP_ACCESS_LIVE_DAYS: a system with logins in this many days
    #                             is live (接入率 "verified")
    access_targets: str = "province.licensing=100 province.public_service=50 city=90"
    #                     IDP_ACCESS_TARGETS: the access-rate targets in percent
    access_refresh_seconds: int = 30  # IDP_ACCESS_REFRESH_SECONDS: console pages roll the login
    #                                   evidence up at most this often (0: on every view)
    brand_dir: str = ""  # IDP_BRAND_DIR: the folder with brand.toml (region, emblem, footer,
    #                      agreements); empty = idp/data/brand (the Guangdong look)
    extra: Mapping[str, Any] = field(default_factory=dict)  # Flask config overrides (tests)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        return urlparse(self.issuer).scheme == "https"

    @property
    def mfa_levels(self) -> frozenset[int]:
        return frozenset(int(v) for v in self.mfa_acr_levels.split())

    @property
    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        try:
            return tuple(ipaddress.ip_network(part, strict=False)
                         for part in self.trusted_proxies.replace(",", " ").split())
        except ValueError:
            raise SettingsError("IDP_TRUSTED_PROXIES must be IP networks in CIDR form, e.g. "
                                "10.0.0.0/8 192.168.1.10/32") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = environ.get("IDP_" + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _coerce(f.name, f.type, raw)
        values.update(overrides)
        settings = cls(**values)
        settings.validate(environ)
        return settings

    def validate(self, environ: Mapping[str, str] | None = None) -> None:
        if self.env not in {"development", "production", "test"}:
            raise SettingsError("IDP_ENV must be development, production or test")
        issuer = urlparse(self.issuer)
        if issuer.scheme not in {"http", "https"} or not issuer.netloc:
            raise SettingsError("IDP_ISSUER must be an absolute http(s) URL")
        if issuer.query or issuer.fragment or self.issuer.endswith("/"):
            raise SettingsError("IDP_ISSUER must have no query, fragment or trailing slash")
        if len(self.secret_key) < 32:
            raise SettingsError("IDP_SECRET_KEY must be at least 32 characters")
        if not self.database_url.startswith(("sqlite:", "postgresql")):
            raise SettingsError("IDP_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        if self.redis_url.startswith(SENTINEL_SCHEMES):
            parse_sentinel_url(self.redis_url)
        elif self.redis_url and not self.redis_url.startswith(("redis://", "rediss://",
                                                                "unix://")):
            raise SettingsError("IDP_REDIS_URL must be a redis://, rediss:// or "
                                "redis+sentinel:// URL")
        for name in ("access_token_ttl", "id_token_ttl", "refresh_token_ttl", "code_ttl",
                     "session_idle_ttl", "session_max_ttl", "grant_max_ttl",
                     "token_retention_days", "token_record_retention_days"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"IDP_{name.upper()} must be a positive number of seconds")
        if self.sms_gateway not in {"outbox", "http"}:
            raise SettingsError("IDP_SMS_GATEWAY must be outbox or http")
        if self.sms_gateway == "http" and not (self.sms_url and self.sms_app_id
                                               and self.sms_app_secret):
            raise SettingsError("IDP_SMS_GATEWAY=http needs IDP_SMS_URL, IDP_SMS_APP_ID and "
                                "IDP_SMS_APP_SECRET")
        for name in ("sms_code_ttl", "sms_max_tries", "sms_interval", "sms_daily_limit",
                     "sms_ip_hourly_limit", "lockout_threshold", "lockout_seconds",
                     "login_ip_limit", "audit_retention_days"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"IDP_{name.upper()} must be a positive number")
        if any(v not in {"3", "4", "5"} for v in self.mfa_acr_levels.split()):
            raise SettingsError("IDP_MFA_ACR_LEVELS must list trust levels among 3 4 5 (level 2 "
                                "is every session's floor)")
        if not 0 < self.redis_timeout <= 10 or not 0 < self.database_timeout <= 120 or \
                not 0 < self.graceful_timeout <= 120:
            raise SettingsError("IDP_REDIS_TIMEOUT (≤ 10), IDP_DATABASE_TIMEOUT (≤ 120) and "
                                "IDP_GRACEFUL_TIMEOUT (≤ 120) must be positive seconds")
        if not 0 <= self.clock_leeway <= 300:
            raise SettingsError("IDP_CLOCK_LEEWAY must be between 0 and 300 seconds")
        if self.sealing_keys:
            try:
                parse_keyring(self.sealing_keys)
            except ValueError as error:
                raise SettingsError(f"IDP_SEALING_KEYS: {error}") from None
        if self.lookup_pepper and len(self.lookup_pepper) < 32:
            raise SettingsError("IDP_LOOKUP_PEPPER must be at least 32 characters")
        if self.audit_key and len(self.audit_key) < 32:
            raise SettingsError("IDP_AUDIT_KEY must be at least 32 characters")
        if not 1 <= self.deletion_cooling_off_days <= 30:
            raise SettingsError("IDP_DELETION_COOLING_OFF_DAYS must be between 1 and 30 days")
        if self.reauth_max_age <= 0:
            raise SettingsError("IDP_REAUTH_MAX_AGE must be a positive number of seconds")
        if not 1 <= self.data_copy_daily_limit <= 100:
            raise SettingsError("IDP_DATA_COPY_DAILY_LIMIT must be between 1 and 100")
        self.proxy_networks  # noqa: B018 - parses IDP_TRUSTED_PROXIES, raising if malformed
        if self.server not in {"granian", "gunicorn"}:
            raise SettingsError("IDP_SERVER must be granian or gunicorn")
        if self.threads < 1 or self.client_cache_ttl < 0:
            raise SettingsError("IDP_THREADS must be at least 1 and IDP_CLIENT_CACHE_TTL at "
                                "least 0")
        if self.code_ttl > 600:
            raise SettingsError("IDP_CODE_TTL must be at most 600 seconds (RFC 6749 §4.1.2)")
        if self.client_assertion_max_lifetime > 3600:
            raise SettingsError("IDP_CLIENT_ASSERTION_MAX_LIFETIME must be at most 3600")
        if self.default_locale not in {"zh_Hans_CN", "en"}:
            raise SettingsError("IDP_DEFAULT_LOCALE must be zh_Hans_CN or en")
        self._validate_realname()
        if self.is_production:
            self._validate_production(environ)
        elif self.secret_key == DEV_SECRET_KEY and self.env == "development":
            log.warning("IDP_SECRET_KEY is the development default: never use it in production")

    def _validate_realname(self) -> None:
        if self.fingerprint_keys:
            try:
                parse_keyring(self.fingerprint_keys)
            except ValueError as error:
                raise SettingsError(f"IDP_FINGERPRINT_KEYS: {error}") from None
        if self.realname_url:
            url = urlparse(self.realname_url)
            if url.scheme not in {"http", "https"} or not url.netloc:
                raise SettingsError("IDP_REALNAME_URL must be an absolute http(s) URL")
            if not (self.realname_app_id and self.realname_app_secret):
                raise SettingsError("IDP_REALNAME_URL needs IDP_REALNAME_APP_ID and "
                                    "IDP_REALNAME_APP_SECRET")
            if self.is_production and url.scheme != "https":
                raise SettingsError("IDP_REALNAME_URL must be https in production")
        if not 0 <= self.access_refresh_seconds <= 3600:
            raise SettingsError("IDP_ACCESS_REFRESH_SECONDS must be between 0 and 3600")
        if not 0 < self.realname_timeout <= 60 or not 0 <= self.realname_retries <= 5:
            raise SettingsError("IDP_REALNAME_TIMEOUT must be in (0, 60] seconds and "
                                "IDP_REALNAME_RETRIES in [0, 5]")
        for name in ("realname_daily_attempts", "realname_ip_daily_attempts", "staff_idle_ttl",
                     "staff_max_ttl", "staff_enrolment_ttl", "activation_code_ttl",
                     "access_live_days"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"IDP_{name.upper()} must be a positive number")

    def _validate_production(self, environ: Mapping[str, str] | None = None) -> None:
        if self.secret_key == DEV_SECRET_KEY:
            raise SettingsError("IDP_SECRET_KEY is the development default; set a real secret")
        if secret_strength_bits(self.secret_key) < MIN_SECRET_BITS:
            raise SettingsError(f"IDP_SECRET_KEY is too predictable (needs about {MIN_SECRET_BITS}"
                                " bits of randomness): generate one with `python3 -c 'import "
                                "secrets; print(secrets.token_urlsafe(48))'`")
        for name in ("sealing_keys", "lookup_pepper", "audit_key"):
            value = getattr(self, name)
            if not value or self.secret_key in value:
                raise SettingsError(f"IDP_{name.upper()} must be set in production, apart from "
                                    "IDP_SECRET_KEY (which only signs cookies)")
        environ = os.environ if environ is None else environ
        if environ.get("FLASK_DEBUG", "").strip().lower() not in {"", "0", "false", "no",
                                                                  "off"}:
            raise SettingsError("FLASK_DEBUG must be off in production (the debugger runs code)")
        if urlparse(self.issuer).scheme != "https":
            raise SettingsError("IDP_ISSUER must be https in production")
        if not self.redis_url:
            raise SettingsError("IDP_REDIS_URL is required in production (shared store)")
        if self.database_url.startswith("sqlite:"):
            raise SettingsError("IDP_DATABASE_URL must be PostgreSQL in production")
        if self.demo_data:
            raise SettingsError("IDP_DEMO_DATA must be off in production")
        if self.sms_gateway != "http":
            raise SettingsError("IDP_SMS_GATEWAY must be http in production (the outbox "
                                "delivers nothing)")
        if self.audit_retention_days < 180:
            raise SettingsError("IDP_AUDIT_RETENTION_DAYS must be at least 180 in production")


def parse_keyring(spec: str) -> list[tuple[str, bytes]]:
    """`kid:secret kid:secret …` (the first seals); each secret at least 32 characters."""
    keys = []
    for item in spec.split():
        kid, sep, secret = item.partition(":")
        if not sep or not kid.isalnum() or len(kid) > 16 or len(secret) < 32:
            raise ValueError("each key is kid:secret, kid alphanumeric (at most 16), the secret "
                             "at least 32 characters")
        keys.append((kid, secret.encode()))
    if not keys or len({kid for kid, _ in keys}) != len(keys):
        raise ValueError("give at least one key, each key id once")
    return keys


SENTINEL_SCHEMES = ("redis+sentinel://", "rediss+sentinel://")
SENTINEL_PARAMETERS = ("sentinel_username", "sentinel_password", "ssl_ca_certs")


@dataclass(frozen=True)
class SentinelURL:
    """IDP_REDIS_URL naming a Redis master through its Sentinels (docs/configuration.md):
    `redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/service[/db][?…]`.
    The user and password are the data nodes'; the Sentinels' are parameters."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_username: str | None = None
    sentinel_password: str | None = field(default=None, repr=False)
    tls: bool = False  # rediss+sentinel://: TLS to the Sentinels and to the data nodes
    ssl_ca_certs: str | None = None


def parse_sentinel_url(url: str) -> SentinelURL:
    """The parts of a redis+sentinel:// or rediss+sentinel:// URL; a SettingsError that says
    in one sentence what is wrong otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise SettingsError("IDP_REDIS_URL is not a well-formed URL") from None
    if parts.scheme not in {"redis+sentinel", "rediss+sentinel"}:
        raise SettingsError("IDP_REDIS_URL must start with redis+sentinel:// or "
                            "rediss+sentinel:// to reach Redis through Sentinel")
    if parts.fragment:
        raise SettingsError("IDP_REDIS_URL must have no #fragment")
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    username = password = None
    if userinfo:
        user, has_password, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if has_password else None
    if not hostlist:
        raise SettingsError("IDP_REDIS_URL names no Sentinel: list them as host:port,host:port "
                            "after the scheme")
    sentinels = tuple(_sentinel_address(item, n)
                      for n, item in enumerate(hostlist.split(","), start=1))
    path = [unquote(p) for p in parts.path.split("/")[1:]] if parts.path else []
    if path and path[-1] == "" and len(path) > 1:
        path.pop()  # a trailing slash
    if not path or not path[0].strip():
        raise SettingsError("IDP_REDIS_URL names no Sentinel service: put the master's name "
                            "after the hosts, as in redis+sentinel://host:26379/mymaster")
    if len(path) > 2:
        raise SettingsError("IDP_REDIS_URL has more than a service name and a database number "
                            "in its path")
    if len(path) == 2 and not (path[1].isascii() and path[1].isdigit()):
        raise SettingsError("IDP_REDIS_URL has a bad database after the service name: a "
                            "database is a number")
    params: dict[str, str] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in SENTINEL_PARAMETERS:
            raise SettingsError(f"IDP_REDIS_URL has an unknown parameter {name!r}: only "
                                f"{', '.join(SENTINEL_PARAMETERS)} are read")
        if name in params or not value:
            raise SettingsError(f"IDP_REDIS_URL must give the parameter {name} once, not empty")
        params[name] = value
    tls = parts.scheme == "rediss+sentinel"
    if "ssl_ca_certs" in params and not tls:
        raise SettingsError("IDP_REDIS_URL sets ssl_ca_certs without TLS: use "
                            "rediss+sentinel://")
    return SentinelURL(sentinels=sentinels, service=path[0], db=int(path[1]) if len(path) > 1
                       else 0, username=username, password=password,
                       sentinel_username=params.get("sentinel_username"),
                       sentinel_password=params.get("sentinel_password"), tls=tls,
                       ssl_ca_certs=params.get("ssl_ca_certs"))


def _sentinel_address(item: str, n: int) -> tuple[str, int]:
    """`host`, `host:port` or `[IPv6]:port`; the port defaults to Sentinel's 26379. Errors
    do not quote the text: a password with an unencoded / or ? lands here."""
    bad = SettingsError(f"IDP_REDIS_URL has a bad Sentinel address (number {n} in the list): "
                        "each one is host, host:port or [IPv6]:port")
    port: str | None
    if item.startswith("["):
        host, bracket, rest = item[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise bad
        port = rest[1:] if rest else None
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad from None
    else:
        host, colon, port = item.partition(":")
        port = port if colon else None
        if not host or any(c.isspace() or c in "/?#@[]" for c in host):
            raise bad
    if port is None:
        return host, 26379
    if not (port.isascii() and port.isdigit() and 0 < int(port) <= 65535):
        raise SettingsError(f"IDP_REDIS_URL has a bad Sentinel port (address number {n} in "
                            "the list): a port is a number from 1 to 65535")
    return host, int(port)


MIN_SECRET_BITS = 128


def secret_strength_bits(secret: str) -> float:
    """A conservative estimate of a secret's randomness in bits: the smaller of its Shannon
    entropy (characters' spread) and its zlib-compressed size (repeats and patterns), with
    runs of consecutive characters ("abcd", "1234") counted as free. Machine-generated secrets
    (`secrets.token_urlsafe(48)`) score far above MIN_SECRET_BITS; words typed twice, repeats
    and keyboard sequences score below it."""
    if not secret:
        return 0.0
    unpredictable = [b for a, b in zip(" " + secret[:-1], secret, strict=True)
                     if abs(ord(b) - ord(a)) != 1]
    counts = Counter(unpredictable)
    total = len(unpredictable)
    shannon = -sum(n / total * math.log2(n / total) for n in counts.values()) * total
    compressed = (len(zlib.compress("".join(unpredictable).encode(), 9)) - 11) * 8
    return max(0.0, min(shannon, float(compressed)))


def _coerce(name: str, kind: Any, raw: str) -> Any:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    var = "IDP_" + name.upper()
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
    except ValueError:
        raise SettingsError(f"{var} must be a {kind}, got {raw!r}") from None
    return raw
