"""Seed a PostgreSQL database with the data of a provincial service: a million accounts, a
million grants, five million refresh tokens, and what a service of that size holds beside them
where the hot paths read or write (token issuance records, the audit chain, consents, identity
verification records, lockout rows, revoked access tokens). `bench/run.py --seeded` measures on
a copy of it.

    .venv/bin/python bench/seed.py [--accounts 1000000] [--grants 1000000]
        [--refresh-tokens 5000000] [--clients 300] [--database idp_bench_seeded] [--reset]

Creates the database if it does not exist, runs the migrations (`idp db upgrade`), then fills it
server-side (INSERT ... SELECT over generate_series, with the indexes and constraints dropped
during the load and rebuilt after it), freezes and analyses every table. A database this script
seeded before with the same counts is left as it is (its migrations are brought up to date);
one it seeded with other counts, or did not finish, is dropped and seeded again; `--reset`
always starts over. Nothing but that one database is touched.

Every value has the shape and size the service writes: uuid4 account ids, `u` + 10 hex digit
usernames and 11-digit mobile numbers (both unique), one fixed argon2id hash (nobody signs in as
these people), AES-GCM-sized sealed ID numbers and TOTP secrets (`v2.k0.…`; they open under no
key), `f0.`-keyed fingerprints, SHA-256 hex token and code hashes, `<grant>.<16 chars>` jtis, and
an audit chain whose hashes are computed the way `idp audit verify` checks them (the head is left
unsigned: `idp serve` signs it at start). Timestamps are relative to the moment of seeding.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATABASE = "idp_bench_seeded"
SEED_VERSION = 1  # bump when the generated data changes: older seeds are then re-seeded
DAY = 86400
SYSTEM_DATABASES = {"postgres", "template0", "template1"}

# The tables this script fills; their indexes and constraints (and foreign keys pointing at them)
# are dropped for the load and rebuilt after it.
SEEDED_TABLES = ("user_account", "oauth_client", "oauth_grant", "oauth_refresh_token",
                 "token_issued", "oauth_consent", "audit_event", "identity_verification",
                 "recovery_code", "login_guard", "oauth_revoked_token")
SERIAL_TABLES = ("oauth_client", "oauth_refresh_token", "token_issued", "identity_verification",
                 "recovery_code", "audit_head")


def url(database: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database}"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", default=DEFAULT_DATABASE, help="the database to seed")
    p.add_argument("--accounts", type=int, default=1_000_000)
    p.add_argument("--grants", type=int, default=1_000_000,
                   help="one per account (round robin if there are more)")
    p.add_argument("--refresh-tokens", type=int, default=5_000_000,
                   help="spread evenly over the grants: each grant's chain of rotations")
    p.add_argument("--clients", type=int, default=300, help="business systems' clients")
    p.add_argument("--reset", action="store_true", help="drop the database and seed it again")
    args = p.parse_args()
    if not 1 <= args.accounts < 100_000_000:
        p.error("--accounts must be between 1 and 99,999,999 (phone numbers stay unique)")
    if args.grants < 1 or args.refresh_tokens < 0 or args.clients < 1:
        p.error("--grants and --clients must be positive, --refresh-tokens not negative")
    if args.database in SYSTEM_DATABASES or not args.database.replace("_", "").isalnum():
        p.error(f"refusing to seed {args.database!r}")
    return args


# --- the marker: a comment on the database, which CREATE DATABASE ... TEMPLATE does not copy ---
def seed_marker(admin: psycopg.Connection[Any], database: str) -> dict[str, Any] | None:
    """What seed.py recorded on `database` ({} if it exists without a marker; None if it does
    not exist)."""
    row = admin.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                        "WHERE datname = %s", (database,)).fetchone()
    if row is None:
        return None
    try:
        found = json.loads(row[0] or "")
    except ValueError:
        return {}
    return found if isinstance(found, dict) and "seed_version" in found else {}


def _set_marker(admin: psycopg.Connection[Any], database: str, marker: dict[str, Any]) -> None:
    admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
        sql.Identifier(database), sql.Literal(json.dumps(marker))))


def _requested(args: argparse.Namespace) -> dict[str, Any]:
    return {"seed_version": SEED_VERSION, "accounts": args.accounts, "grants": args.grants,
            "refresh_tokens": args.refresh_tokens, "clients": args.clients}


def _idp_env(database: str) -> dict[str, str]:
    return {**os.environ, "IDP_DATABASE_URL": url(database), "IDP_ENV": "development",
            "IDP_SECRET_KEY": secrets.token_hex(20),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def migrate(database: str) -> None:
    idp = str(Path(sys.executable).with_name("idp"))
    done = subprocess.run([idp, "db", "upgrade"], env=_idp_env(database), cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"idp db upgrade failed:\n{done.stderr[-3000:]}")


# --- helpers the generating statements call (schema bench_seed, dropped at the end) ---
def helper_functions(t0: float, args: argparse.Namespace, password_hash: str) -> list[str]:
    """SQL functions simple enough for PostgreSQL to inline. Everything random is a hash of a
    row number and a salt, so every table derives the same account, client or grant from it."""
    def fn(signature: str, returns: str, body: str) -> str:
        return (f"CREATE FUNCTION bench_seed.{signature} RETURNS {returns} LANGUAGE sql STABLE "
                f"PARALLEL SAFE AS $body$ SELECT {body} $body$")

    surnames = "陈李张黄梁林刘吴罗何郑杨谢周邓许冯曾朱蔡"
    given = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华玉萍红晓文建国志宏嘉欣俊浩子怡梓"
    prefixes = ",".join(f"'{p}'" for p in (
        "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
        "155", "156", "157", "158", "159", "166", "176", "177", "180", "181", "186", "188",
        "189", "191", "198", "199"))
    return [
        fn("t0()", "float8", f"{t0}::float8"),
        fn("n_accounts()", "bigint", f"{args.accounts}::bigint"),
        fn("n_grants()", "bigint", f"{args.grants}::bigint"),
        fn("n_tokens()", "bigint", f"{args.refresh_tokens}::bigint"),
        fn("n_clients()", "bigint", f"{args.clients}::bigint"),
        fn("password_hash()", "text", sql.Literal(password_hash).as_string()),
        # uniform in [0, 1)
        fn("rnd(n bigint, salt int)", "float8",
           "(hashint8extended(n, salt) & 4503599627370495)::float8 / 4503599627370496.0"),
        fn("pick(n bigint, salt int, size int)", "int",
           "1 + floor(bench_seed.rnd(n, salt) * size)::int"),
        fn("ts(epoch float8)", "timestamptz", "to_timestamp(epoch)"),
        fn("hex64(tag text, n bigint)", "text", "encode(sha256((tag || ':' || n)::bytea), 'hex')"),
        # secrets.token_urlsafe: base64url without padding (up to 43 characters)
        fn("urlsafe(tag text, n bigint, chars int)", "text",
           "left(translate(encode(sha256((tag || ':' || n)::bytea), 'base64'), '+/', '-_'), "
           "chars)"),
        # SealingBox.seal: v2.<kid>.base64url(12-byte nonce + ciphertext + 16-byte tag)
        fn("sealed(tag text, n bigint, plaintext_bytes int)", "text",
           "'v2.k0.' || translate(encode(substr(sha256((tag || ':a:' || n)::bytea) || "
           "sha256((tag || ':b:' || n)::bytea) || sha256((tag || ':c:' || n)::bytea), 1, "
           "28 + plaintext_bytes), 'base64'), E'+/\\n', '-_')"),
        fn("ip(n bigint, salt int)", "text",
           "(ARRAY['113','119','120','183','14','27','58','59','61','223'])"
           "[bench_seed.pick(n, salt, 10)] || '.' || floor(bench_seed.rnd(n, salt + 1) * 256) "
           "|| '.' || floor(bench_seed.rnd(n, salt + 2) * 256) || '.' || "
           "(1 + floor(bench_seed.rnd(n, salt + 3) * 254))"),
        # accounts: i = 1..n_accounts, registered in that order over five years
        fn("acct_id(i bigint)", "text",
           "overlay(overlay(md5('acct:' || i) placing '4' from 13) placing '8' from 17)"
           "::uuid::text"),
        fn("acct_created(i bigint)", "float8",
           "bench_seed.t0() - 1826.0 * 86400 * (bench_seed.n_accounts() - i "
           "+ bench_seed.rnd(i, 1)) / bench_seed.n_accounts()"),
        # trust levels: 35 % self-declared, 40 % two-element, 20 % real person, 5 % counter
        fn("acct_level(i bigint)", "int",
           "CASE WHEN bench_seed.rnd(i, 2) < 0.35 THEN 2 WHEN bench_seed.rnd(i, 2) < 0.75 THEN 3 "
           "WHEN bench_seed.rnd(i, 2) < 0.95 THEN 4 ELSE 5 END"),
        fn("acct_totp(i bigint)", "boolean", "bench_seed.rnd(i, 3) < 0.03"),
        fn("acct_document(i bigint)", "text",
           "CASE WHEN bench_seed.rnd(i, 10) < 0.98 THEN 'id-number' "
           "ELSE 'hk-macau-travel-permit' END"),
        # unique: the number's last eight digits are a bijection of i (48271 is prime to 10)
        fn("acct_phone(i bigint)", "text",
           f"CASE WHEN i % 33 <> 0 THEN (ARRAY[{prefixes}])[1 + (i % 28)::int] || "
           "lpad(((i * 48271) % 100000000)::text, 8, '0') END"),
        # unique: an odd multiplier is a bijection modulo 2^40
        fn("acct_username(i bigint)", "text",
           "'u' || lpad(to_hex((i * 2654435761) % 1099511627776), 10, '0')"),
        fn("acct_name(i bigint)", "text",
           f"CASE WHEN bench_seed.acct_level(i) >= 3 OR bench_seed.rnd(i, 4) < 0.5 THEN "
           f"substr('{surnames}', bench_seed.pick(i, 5, {len(surnames)}), 1) || "
           f"substr('{given}', bench_seed.pick(i, 6, {len(given)}), 1) || "
           f"CASE WHEN bench_seed.rnd(i, 7) < 0.7 THEN "
           f"substr('{given}', bench_seed.pick(i, 8, {len(given)}), 1) ELSE '' END END"),
        # clients: k = 1..n_clients; about 30 % first-party (no consent screen)
        fn("client_id(k bigint)", "text", "'c_' || left(md5('client:' || k), 24)"),
        fn("client_first_party(k bigint)", "boolean", "bench_seed.rnd(k, 31) < 0.3"),
        fn("client_host(k bigint)", "text", "'sys' || k || '.gdzwfw.gov.cn'"),
    ]


ACCOUNTS = """
INSERT INTO user_account (id, username, phone, name, password_hash, trust_level, disabled,
    phone_verified, id_number_sealed, id_number_hash, id_document_type, password_changed_at,
    totp_secret_sealed, totp_last_step, sessions_valid_after, created_at, updated_at)
SELECT acct_id(i), acct_username(i), acct_phone(i), acct_name(i),
       CASE WHEN rnd(i, 16) >= 0.01 THEN password_hash() END,
       acct_level(i), rnd(i, 9) < 0.002, acct_phone(i) IS NOT NULL,
       CASE WHEN acct_level(i) >= 3 THEN sealed('id', i, 18) END,
       CASE WHEN acct_level(i) >= 3 THEN 'f0.' || hex64('id', i) END,
       CASE WHEN acct_level(i) >= 3 THEN acct_document(i) END,
       CASE WHEN rnd(i, 16) >= 0.01
            THEN ts(acct_created(i) + (t0() - acct_created(i)) * rnd(i, 11) * 0.5) END,
       CASE WHEN acct_totp(i) THEN sealed('totp', i, 32) END,
       CASE WHEN acct_totp(i) THEN floor((t0() - 30.0 * 86400 * rnd(i, 12)) / 30)::bigint
            ELSE 0 END,
       CASE WHEN rnd(i, 13) < 0.02 THEN floor(t0() - 100.0 * 86400 * rnd(i, 14))::bigint END,
       ts(acct_created(i)), ts(acct_created(i) + (t0() - acct_created(i)) * rnd(i, 15))
FROM generate_series(1, n_accounts()) i
"""

CLIENTS = """
INSERT INTO oauth_client (id, client_id, name, secret_hash, auth_method, redirect_uris,
    post_logout_redirect_uris, grant_types, scope, jwks, jwks_uri, backchannel_logout_uri,
    subject_type, sector_identifier, first_party, id_token_alg, require_mfa, introspects_for,
    disabled, tokens_valid_after, created_at)
SELECT k, client_id(k),
       (ARRAY['广东省公安厅', '广东省人力资源和社会保障厅', '广东省市场监督管理局', '广东省税务局',
              '广州市政务服务数据管理局', '深圳市政务服务数据管理局', '佛山市', '东莞市', '珠海市',
              '汕头市', '湛江市', '惠州市'])[pick(k, 33, 12)] || '业务系统' || k,
       CASE WHEN method <> 'private_key_jwt' THEN hex64('client-secret', k) END, method,
       ('["https://' || client_host(k) || '/oidc/callback"]')::json,
       ('["https://' || client_host(k) || '/"]')::json,
       CASE WHEN k % 5 = 0
            THEN '["authorization_code", "refresh_token", "client_credentials"]'
            ELSE '["authorization_code", "refresh_token"]' END::json,
       'openid profile phone', NULL,
       CASE WHEN method = 'private_key_jwt' THEN 'https://' || client_host(k) || '/jwks.json' END,
       CASE WHEN rnd(k, 34) < 0.5 THEN 'https://' || client_host(k) || '/oidc/backchannel' END,
       CASE WHEN rnd(k, 35) < 0.2 THEN 'pairwise' ELSE 'public' END, client_host(k),
       client_first_party(k), 'RS256', rnd(k, 36) < 0.05, '[]'::json, false, NULL,
       ts(t0() - 730.0 * 86400 * rnd(k, 37))
FROM generate_series(1, n_clients()) k,
     LATERAL (SELECT CASE WHEN rnd(k, 38) < 0.85 THEN 'client_secret_basic'
                          WHEN rnd(k, 38) < 0.95 THEN 'private_key_jwt'
                          ELSE 'client_secret_post' END AS method) m
"""

# One row per grant with everything the other tables derive from it: created in the last 110
# days (ones past the 90-day absolute lifetime are kept 30 more days before the purge), 6 %
# revoked, and the chain of its refresh tokens: `len` tokens, the last issued at `last`, one
# every `step` seconds (1 to 72 hours, or evenly from the code exchange when the grant is
# younger than that); `from_start` when the first kept token is the code exchange's.
GRANT_PLAN = """
CREATE UNLOGGED TABLE bench_seed.grant_plan AS
SELECT g, a, k, id, user_id, client_id, first_party, created, revoked, ended, scope, amr, acr,
       sid, len, last, step, (last - created) / greatest(len - 1, 1) <= random_step AS from_start
FROM (
    SELECT *, least((last - created) / greatest(len - 1, 1), random_step) AS step
    FROM (
        SELECT *, ended - (ended - created) * power(rnd(g, 21), 2) AS last,
               3600.0 * (1 + 71 * rnd(g, 22)) AS random_step
        FROM (
            SELECT *, least(t0(), created + 90.0 * 86400, coalesce(revoked, t0())) AS ended
            FROM (
                SELECT g, a, k, md5('grant:' || g) AS id, acct_id(a) AS user_id,
                       client_id(k) AS client_id, client_first_party(k) AS first_party, created,
                       CASE WHEN rnd(g, 13) < 0.06 THEN created
                            + (least(t0(), created + 90.0 * 86400) - created) * rnd(g, 14)
                       END AS revoked,
                       CASE WHEN rnd(g, 16) < 0.6 THEN 'openid profile'
                            ELSE 'openid profile phone' END AS scope,
                       CASE WHEN rnd(g, 15) < 0.55 THEN '["pwd"]'
                            WHEN rnd(g, 15) < 0.9 THEN '["sms"]'
                            WHEN rnd(g, 15) < 0.96 THEN '["mfa", "otp", "pwd"]'
                            ELSE '["mfa", "pwd", "sms"]' END AS amr,
                       (CASE WHEN rnd(g, 15) >= 0.9 THEN acct_level(a)
                             ELSE least(acct_level(a), 3) END)::text AS acr,
                       urlsafe('sid', g, 22) AS sid,
                       n_tokens() / n_grants()
                           + CASE WHEN g <= n_tokens() % n_grants() THEN 1 ELSE 0 END AS len
                FROM (
                    SELECT g, a, k, least(t0() - 1, greatest(acct_created(a) + 60,
                                                             t0() - 110.0 * 86400 * rnd(g, 12)))
                               AS created
                    FROM (SELECT g, (g - 1) % n_accounts() + 1 AS a,
                                 1 + floor(n_clients() * power(rnd(g, 11), 2.5))::bigint AS k
                          FROM generate_series(1, n_grants()) g) s0
                ) s1
            ) s2
        ) s3
    ) s4
) s5
"""

GRANTS = """
INSERT INTO oauth_grant (id, client_id, user_id, sid, scope, auth_time, acr, amr, claims,
    code_hash, created_at, revoked_at)
SELECT id, client_id, user_id, sid, scope, floor(created - 5 - 115 * rnd(g, 41))::int, acr,
       amr::json, NULL, hex64('code', g), ts(created), ts(revoked)
FROM bench_seed.grant_plan ORDER BY created
"""

# Each grant's chain: all spent but the last, which is live unless it (30 days) or its grant
# (90 days, or revoked) ran out. In the order they were issued, as the serial ids are.
REFRESH_TOKENS = """
INSERT INTO oauth_refresh_token (id, token_hash, grant_id, client_id, scope, issued_at,
    expires_at, spent_at)
SELECT row_number() OVER (ORDER BY issued, g, pos), hex64('rt:' || g, pos), id, client_id,
       scope, ts(issued), ts(least(issued + 30.0 * 86400, created + 90.0 * 86400)),
       CASE WHEN pos < len THEN ts(issued + step) END
FROM (SELECT p.g, pos, p.len, p.id, p.client_id, p.scope, p.created, p.step,
             CASE WHEN p.from_start THEN p.created + (pos - 1) * p.step
                  ELSE p.last - (p.len - pos) * p.step END AS issued
      FROM bench_seed.grant_plan p CROSS JOIN LATERAL generate_series(1, p.len) pos) t
ORDER BY issued, g, pos
"""

# One access token per refresh token issued (the token response carries both), the code
# exchange of grants whose first tokens were purged already, and client_credentials tokens
# (a tenth as many, over the 180 days the records are kept) of every fifth client.
TOKEN_RECORDS = """
INSERT INTO token_issued (id, issued_at, grant_type, client_id, user_id, grant_id, jti, scope)
SELECT row_number() OVER (ORDER BY issued_at, jti), issued_at, grant_type, client_id, user_id,
       grant_id, jti, scope
FROM (
    SELECT rt.issued_at,
           CASE WHEN p.from_start AND rt.issued_at = ts(p.created) THEN 'authorization_code'
                ELSE 'refresh_token' END AS grant_type,
           rt.client_id, p.user_id, p.id AS grant_id,
           p.id || '.' || urlsafe('jti', rt.id, 16) AS jti, rt.scope
    FROM oauth_refresh_token rt JOIN bench_seed.grant_plan p ON p.id = rt.grant_id
    UNION ALL
    SELECT ts(created), 'authorization_code', client_id, user_id, id,
           id || '.' || urlsafe('jti-code', g, 16), scope
    FROM bench_seed.grant_plan WHERE NOT from_start OR len = 0
    UNION ALL
    SELECT ts(t0() - 180.0 * 86400 * rnd(c, 52)), 'client_credentials', client_id(k), NULL, NULL,
           'cc.' || urlsafe('jti-cc', c, 16), 'profile phone'
    FROM generate_series(1, n_tokens() / 10) c,
         LATERAL (SELECT 5 * pick(c, 51, (n_clients() / 5)::int)::bigint AS k) kk
    WHERE n_clients() >= 5
) t
ORDER BY issued_at, jti
"""

CONSENTS = """
INSERT INTO oauth_consent (user_id, client_id, scope, granted_at)
SELECT DISTINCT ON (user_id, client_id) user_id, client_id, scope, ts(created - 2)
FROM bench_seed.grant_plan WHERE NOT first_party
ORDER BY user_id, client_id, created DESC
"""

# The audit log keeps 180 days: the sign-in behind every grant, the consents to third-party
# clients, revocations, logouts, failed sign-ins, registrations and new clients.
AUDIT_EVENTS = """
SELECT ts(at), tag, actor, user_id, client_id, ip, data FROM (
    SELECT created - 5 - 115 * rnd(g, 41) AS at, 'accounts:login:success' AS tag,
           'citizen:' || user_id AS actor, user_id, NULL AS client_id, ip(g, 42) AS ip,
           '{"sid": "' || sid || '", "amr": ' || amr || '}' AS data
    FROM bench_seed.grant_plan
    UNION ALL
    SELECT created - 2, 'oauth:consent:granted', 'citizen:' || user_id, user_id, client_id,
           NULL, '{"scope": "' || scope || '"}'
    FROM bench_seed.grant_plan WHERE NOT first_party
    UNION ALL
    SELECT revoked, 'oauth:token:revoked', 'client:' || client_id, user_id, client_id,
           '10.20.' || pick(g, 43, 255) || '.' || pick(g, 44, 254), '{"grant": "' || id || '"}'
    FROM bench_seed.grant_plan WHERE revoked IS NOT NULL
    UNION ALL
    SELECT created + (ended - created) * rnd(g, 45), 'accounts:session:logout',
           'citizen:' || user_id, user_id, NULL, ip(g, 46),
           '{"sid": "' || sid || '", "clients": ["' || client_id || '"]}'
    FROM bench_seed.grant_plan WHERE revoked IS NULL AND rnd(g, 47) < 0.2
    UNION ALL
    SELECT greatest(acct_created(i), t0() - 180.0 * 86400) + 600
               + (t0() - 600 - greatest(acct_created(i), t0() - 180.0 * 86400)) * rnd(i, 48),
           'accounts:login:failure', 'anonymous', acct_id(i), NULL, ip(i, 49),
           '{"reason": "bad_credentials", "failures": ' || pick(i, 50, 4) || '}'
    FROM generate_series(1, n_accounts()) i WHERE rnd(i, 51) < 0.12
    UNION ALL
    SELECT acct_created(i) + e.n * 0.000001,
           CASE e.n WHEN 0 THEN 'accounts:user:created' ELSE 'accounts:user:registered' END,
           'citizen:' || acct_id(i), acct_id(i), NULL,
           CASE e.n WHEN 1 THEN ip(i, 52) END, '{}'
    FROM generate_series(greatest(1, n_accounts()
                                     - ceil(n_accounts() * 180.0 / 1826)::bigint - 1),
                         n_accounts()) i,
         (VALUES (0), (1)) e (n)
    WHERE acct_phone(i) IS NOT NULL
    UNION ALL
    SELECT extract(epoch FROM created_at), 'admin:client:created', 'operator:admin', NULL,
           client_id, NULL,
           json_build_object('name', name, 'auth_method', auth_method)::text
    FROM oauth_client
) e
WHERE at > t0() - 180.0 * 86400 AND at < t0()
ORDER BY at, tag, user_id
"""

# Accounts above level 2 hold the verification record their level derives from.
VERIFICATIONS = """
INSERT INTO identity_verification (id, user_id, method, level, result, document_type,
    fingerprint, masked_number, transaction_id, score, actor, staff_id, hall_code, reason,
    evidence, created_at, revoked_at)
SELECT row_number() OVER (ORDER BY at, i), acct_id(i),
       CASE level WHEN 3 THEN 'online_two_element' WHEN 4 THEN 'online_real_person'
                  ELSE 'counter' END,
       level, 'verified', acct_document(i), 'f0.' || hex64('id', i),
       CASE WHEN acct_document(i) = 'id-number'
            THEN '44' || lpad((pick(i, 53, 99))::text, 2, '0') || '**********'
                 || lpad((pick(i, 54, 9999))::text, 4, '0')
            ELSE 'H' || pick(i, 55, 9) || '*****' || lpad(pick(i, 56, 99)::text, 2, '0') END,
       CASE WHEN level < 5 THEN 'GDRN' || upper(left(md5('tx:' || i), 24)) END,
       CASE WHEN level = 4 THEN round((0.80 + 0.19 * rnd(i, 57))::numeric, 4) END,
       CASE WHEN level < 5 THEN 'citizen:' || acct_id(i)
            ELSE 'staff:' || overlay(overlay(md5('staff:' || pick(i, 58, 2000)) placing '4'
                 from 13) placing '8' from 17)::uuid || '@HALL-4401-' || pick(i, 58, 2000) % 40
       END,
       CASE WHEN level = 5 THEN overlay(overlay(md5('staff:' || pick(i, 58, 2000)) placing '4'
                 from 13) placing '8' from 17)::uuid::text END,
       CASE WHEN level = 5 THEN 'HALL-4401-' || pick(i, 58, 2000) % 40 END,
       NULL, NULL, ts(at), NULL
FROM (SELECT i, acct_level(i) AS level,
             acct_created(i) + (t0() - acct_created(i)) * 0.5 * rnd(i, 59) AS at
      FROM generate_series(1, n_accounts()) i WHERE acct_level(i) >= 3) v
ORDER BY at, i
"""

RECOVERY_CODES = """
INSERT INTO recovery_code (id, user_id, code_hash, used_at)
SELECT row_number() OVER (ORDER BY i, n), acct_id(i), hex64('recovery:' || i, n),
       CASE WHEN n = 1 AND rnd(i, 60) < 0.1 THEN ts(t0() - 300.0 * 86400 * rnd(i, 61)) END
FROM generate_series(1, n_accounts()) i, generate_series(1, 10) n
WHERE acct_totp(i)
ORDER BY i, n
"""

# Lockout state of the current window: accounts (1 %), unknown identifiers and addresses.
LOGIN_GUARD = """
INSERT INTO login_guard (subject, slots, failures, window_start, wait_until, locked_until)
SELECT subject, failures, failures, window_start,
       CASE WHEN failures >= 2 THEN window_start + 2 * failures END,
       CASE WHEN failures >= 5 THEN window_start + 900 END
FROM (
    SELECT 'acct:' || acct_id(i) AS subject, pick(i, 62, 6) AS failures,
           floor(t0() - 900 * rnd(i, 63))::bigint AS window_start
    FROM generate_series(1, n_accounts()) i WHERE rnd(i, 64) < 0.01
    UNION ALL
    SELECT 'who:' || hex64('who', j), pick(j, 65, 3), floor(t0() - 900 * rnd(j, 66))::bigint
    FROM generate_series(1, n_accounts() / 300) j
    UNION ALL
    SELECT 'ip:' || (ARRAY['113','120','183','14'])[pick(j, 67, 4)] || '.' || (j / 65536) % 256
               || '.' || (j / 256) % 256 || '.' || j % 256,
           pick(j, 68, 20), floor(t0() - 900 * rnd(j, 69))::bigint
    FROM generate_series(1, n_accounts() / 500) j
) s
"""

# Access tokens revoked before they expired (600 s), not yet purged.
REVOKED_TOKENS = """
INSERT INTO oauth_revoked_token (jti, client_id, expires_at, revoked_at)
SELECT id || '.' || urlsafe('revoked', g, 16), client_id, ts(expires),
       ts(expires - 600 * rnd(g, 71))
FROM (SELECT g, id, client_id, t0() - 1800 + 2400 * rnd(g, 72) AS expires
      FROM bench_seed.grant_plan WHERE rnd(g, 73) < 0.002) r
"""


def password_hash() -> str:
    """One argon2id hash with the service's default cost (idp.security.passwords), of a password
    nobody knows."""
    from argon2 import PasswordHasher, Type

    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1,
                          type=Type.ID).hash(secrets.token_urlsafe(16))


class Seeder:
    def __init__(self, conn: psycopg.Connection[Any], database: str) -> None:
        self.conn = conn  # autocommit; loads run in explicit transactions
        self.database = database
        self.report: dict[str, dict[str, float]] = {}
        self.constraints: list[tuple[str, str, str, str]] = []
        self.indexes: list[tuple[str, str, str]] = []

    def timed(self, table: str, what: str, started: float) -> float:
        took = time.monotonic() - started
        self.report.setdefault(table, {})[what] = round(took, 1)
        return took

    # --- indexes and constraints off during the load, rebuilt after it ---
    def drop_indexes(self) -> None:
        tables = list(SEEDED_TABLES)
        self.constraints = [tuple(r) for r in self.conn.execute(
            "SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype IN ('p', 'u', 'f') AND connamespace = "
            "'public'::regnamespace AND (conrelid::regclass::text = ANY(%s) "
            "OR (contype = 'f' AND confrelid::regclass::text = ANY(%s))) "
            "ORDER BY contype = 'f' DESC", (tables, tables))]
        self.indexes = [tuple(r) for r in self.conn.execute(
            "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, "
            "pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid::regclass::text = ANY(%s) AND NOT EXISTS (SELECT 1 FROM "
            "pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid "
            "AND c.contype IN ('p', 'u', 'x'))", (tables,))]
        with self.conn.transaction():
            for table, name, _, _ in self.constraints:  # foreign keys first
                self.conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(table), sql.Identifier(name)))
            for _, name, _ in self.indexes:
                self.conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))

    def build_indexes(self, table: str) -> None:
        started = time.monotonic()
        for owner, name, kind, definition in self.constraints:
            if owner == table and kind != "f":
                self.conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                    sql.Identifier(owner), sql.Identifier(name)) + sql.SQL(definition))
        for owner, _, definition in self.indexes:
            if owner == table:
                self.conn.execute(sql.SQL(definition))
        self.timed(table, "indexes", started)

    def add_foreign_keys(self) -> float:
        started = time.monotonic()
        for owner, name, kind, definition in self.constraints:
            if kind == "f":
                self.conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                    sql.Identifier(owner), sql.Identifier(name)) + sql.SQL(definition))
        return time.monotonic() - started

    # --- loading ---
    def load(self, table: str, statement: str) -> None:
        """Fill `table` in one transaction, freeze and analyse it, then build its indexes."""
        started = time.monotonic()
        with self.conn.transaction():
            rows = self.conn.execute(statement).rowcount
        self.finish(table, rows, started)

    def finish(self, table: str, rows: int, started: float) -> None:
        self.timed(table, "load", started)
        self.report[table]["rows"] = rows
        vacuumed = time.monotonic()
        self.conn.execute(sql.SQL("VACUUM (FREEZE, ANALYZE) {}").format(sql.Identifier(table)))
        self.timed(table, "vacuum", vacuumed)
        self.build_indexes(table)
        r = self.report[table]
        print(f"  {table:<22} {int(rows):>11,} rows  load {r['load']:6.1f} s  "
              f"freeze+analyze {r['vacuum']:5.1f} s  indexes {r['indexes']:6.1f} s", flush=True)

    def audit_events(self) -> None:
        """The chain is sequential, so Python computes it (with the service's own functions)
        over events PostgreSQL generates in time order, and COPYs it in."""
        sys.path.insert(0, str(ROOT))
        from idp.audit.services import GENESIS, _canonical, _digest

        started = time.monotonic()
        prev, seq = GENESIS, 0
        with psycopg.connect(url(self.database)) as reader, reader.cursor("events") as source, \
                self.conn.transaction(), self.conn.cursor() as cursor, \
                cursor.copy("COPY audit_event (seq, at, tag, actor, user_id, client_id, ip, "
                            "data, prev_hash, hash) FROM STDIN") as copy:
            reader.execute("SET search_path = public, bench_seed")
            reader.execute("SET work_mem = '1GB'")
            source.itersize = 20000
            source.execute(AUDIT_EVENTS)
            for at, tag, actor, user_id, client_id, ip, data in source:
                seq += 1
                event = SimpleNamespace(seq=seq, at=at, tag=tag, actor=actor, user_id=user_id,
                                        client_id=client_id, ip=ip, data=json.loads(data))
                digest = _digest(prev, _canonical(event))
                copy.write_row((seq, at, tag, actor, user_id, client_id, ip, data, prev, digest))
                prev = digest
        with self.conn.transaction():
            self.conn.execute("INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, %s, %s, "
                              "NULL)", (seq, prev))
        self.finish("audit_event", seq, started)

    def sequences(self) -> None:
        for table in SERIAL_TABLES:
            self.conn.execute(sql.SQL(
                "SELECT setval(pg_get_serial_sequence({name}, 'id'), "
                "coalesce((SELECT max(id) FROM {table}), 0) + 1, false)").format(
                name=sql.Literal(table), table=sql.Identifier(table)))


@contextmanager
def helpers(conn: psycopg.Connection[Any], args: argparse.Namespace, t0: float
            ) -> Iterator[None]:
    conn.execute("DROP SCHEMA IF EXISTS bench_seed CASCADE")
    conn.execute("CREATE SCHEMA bench_seed")
    for statement in helper_functions(t0, args, password_hash()):
        conn.execute(statement)
    conn.execute("SET search_path = public, bench_seed")
    try:
        yield
    finally:
        conn.execute("DROP SCHEMA IF EXISTS bench_seed CASCADE")
        conn.execute("SET search_path = public")


def _scalar(conn: psycopg.Connection[Any], query: str) -> Any:
    row = conn.execute(query).fetchone()
    return row[0] if row else None


def seed(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.time()
    with psycopg.connect(url(args.database), autocommit=True) as conn:
        for setting in ("synchronous_commit = off", "maintenance_work_mem = '1GB'",
                        "work_mem = '1GB'"):
            conn.execute(f"SET {setting}")
        if _scalar(conn, "SELECT count(*) FROM user_account"):
            raise SystemExit(f"{args.database} already holds accounts; use --reset")
        seeder = Seeder(conn, args.database)
        seeder.drop_indexes()
        with helpers(conn, args, t0):
            seeder.load("user_account", ACCOUNTS)
            seeder.load("oauth_client", CLIENTS)
            started = time.monotonic()
            with conn.transaction():
                conn.execute(GRANT_PLAN)
            conn.execute("ANALYZE bench_seed.grant_plan")
            print(f"  (grant plan {time.monotonic() - started:.1f} s)", flush=True)
            seeder.load("oauth_grant", GRANTS)
            seeder.load("oauth_refresh_token", REFRESH_TOKENS)
            seeder.load("token_issued", TOKEN_RECORDS)
            seeder.load("oauth_consent", CONSENTS)
            seeder.audit_events()
            seeder.load("identity_verification", VERIFICATIONS)
            seeder.load("recovery_code", RECOVERY_CODES)
            seeder.load("login_guard", LOGIN_GUARD)
            seeder.load("oauth_revoked_token", REVOKED_TOKENS)
        took = seeder.add_foreign_keys()
        print(f"  foreign keys checked and restored in {took:.1f} s", flush=True)
        seeder.sequences()
        started = time.monotonic()
        conn.execute("ANALYZE")
        print(f"  ANALYZE {time.monotonic() - started:.1f} s", flush=True)
        size = _scalar(conn, "SELECT pg_size_pretty(pg_database_size(current_database()))")
        return {"tables": seeder.report, "size": size}


def main() -> int:
    args = parse_args()
    requested = _requested(args)
    started = time.monotonic()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        found = seed_marker(admin, args.database)
        if found is not None and not args.reset:
            if found == {}:
                raise SystemExit(f"database {args.database} exists and was not seeded by "
                                 "bench/seed.py; pass --reset to drop it and seed it")
            if found.get("complete") and {k: found.get(k) for k in requested} == requested:
                migrate(args.database)  # a no-op unless migrations were added since
                print(f"{args.database} already holds what was asked for (seeded "
                      f"{found.get('seeded_at')}, {found.get('seconds')} s, "
                      f"{found.get('size')}); nothing to do (--reset seeds it again)")
                return 0
            print(f"{args.database} holds another or an unfinished seed: seeding it again")
        if found is not None:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
                sql.Identifier(args.database)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.database)))
        _set_marker(admin, args.database, {**requested, "complete": False})
        print(f"seeding {args.database}: {args.accounts:,} accounts, {args.grants:,} grants, "
              f"{args.refresh_tokens:,} refresh tokens, {args.clients:,} clients", flush=True)
        migrate(args.database)
        print(f"  migrations {time.monotonic() - started:.1f} s", flush=True)
        done = seed(args)
        seconds = round(time.monotonic() - started, 1)
        marker = {**requested, "complete": True, "seconds": seconds, "size": done["size"],
                  "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                  "rows": {t: int(r["rows"]) for t, r in done["tables"].items()}}
        _set_marker(admin, args.database, marker)
    print(f"done in {seconds:.1f} s; {args.database} is {done['size']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
