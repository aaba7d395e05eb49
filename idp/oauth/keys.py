"""Signing keys: created at first start, sealed at rest, rotated with a publish-ahead window."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import false, select, text, update

from idp.audit.actors import Actor, cli_operator
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db
from idp.oauth.models import SigningKey, aware
from idp.security.crypto import SealingBox

SUPPORTED_ALGS = ("RS256", "ES256")


@dataclass(frozen=True)
class _Loaded:
    signers: dict[str, list[tuple[datetime, RSAKey | ECKey]]]  # alg -> [(activates_at, key)]
    public: list[tuple[datetime | None, dict[str, Any]]]  # (expires_at, jwk)
    verify_set: KeySet
    loaded_at: float


def _generate(alg: str, kid: str) -> RSAKey | ECKey:
    params: dict[str, Any] = {"kid": kid, "use": "sig", "alg": alg}
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=params, private=True)  # type: ignore[arg-type]
    return ECKey.generate_key("P-256", parameters=params, private=True)  # type: ignore[arg-type]


def _lock_key_set() -> None:
    """Begin a transaction of its own (what the session holds is committed first) that holds
    the key set's lock until it ends: changes to the key set happen one after another across
    processes and nodes."""
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        # Held until the transaction ends; the key is this lock's, nobody else's.
        db.session.execute(text("SELECT pg_advisory_xact_lock(30839989)"))
    else:
        # SQLite: write transactions begin IMMEDIATE (idp/__init__.py), so a write that
        # changes nothing takes the database's write lock.
        db.session.execute(update(SigningKey).where(false()).values(alg=SigningKey.alg)
                           .execution_options(synchronize_session=False))


class KeyManager:
    """Holds the key set in memory per worker, reloading it every `cache_ttl` seconds."""

    def __init__(self, box: SealingBox, publish_lead: int, retire_after: int, cache_ttl: int):
        self.box = box
        self.publish_lead = publish_lead
        self.retire_after = retire_after
        self.cache_ttl = cache_ttl
        self._loaded: _Loaded | None = None
        self._parsed: dict[str, RSAKey | ECKey] = {}  # kid -> key, unsealed and parsed once
        self._lock = threading.Lock()

    # --- writing ---
    def ensure_keys(self) -> list[str]:
        """Create an active key for each algorithm that has none (first start). A transaction
        of its own (what the caller's session holds is committed first), serialised across
        processes and nodes: instances starting at once on a fresh database check and create
        one after another, so each algorithm gets one key, not one per instance."""
        _lock_key_set()
        have = set(db.session.execute(select(SigningKey.alg).distinct()).scalars())
        # The first keys sign at once; dated a minute back, since another node reading them
        # may run a little behind this one's clock (design.md "Clock").
        activates = datetime.now(UTC) - timedelta(minutes=1)
        created = [self._create(alg, activates_at=activates)
                   for alg in SUPPORTED_ALGS if alg not in have]
        db.session.commit()  # ends the transaction, and with it the lock
        if created:
            self.invalidate()
        return created

    def rotate(self, alg: str, activate_in: int | None = None) -> SigningKey:
        if alg not in SUPPORTED_ALGS:
            raise ValueError(f"unsupported algorithm {alg}")
        _lock_key_set()  # two rotations at once would each leave a key without an expiry
        now = datetime.now(UTC)
        lead = self.publish_lead if activate_in is None else activate_in
        activates = now + timedelta(seconds=lead)
        current = [k for k in db.session.execute(
            select(SigningKey).where(SigningKey.alg == alg)).scalars()
            if k.expires_at is None]
        for key in current:  # the old key verifies until every token it signed has expired
            key.expires_at = activates + timedelta(seconds=self.retire_after)
        kid = self._create(alg, activates_at=activates)
        record_event(Tag.KEY_ROTATED, actor=cli_operator(), data={"kid": kid, "alg": alg,
                     "activates_at": activates.isoformat()})
        db.session.commit()
        self.invalidate()
        return db.session.get(SigningKey, kid)  # type: ignore[return-value]

    def _create(self, alg: str, activates_at: datetime) -> str:
        kid = f"{alg.lower()}-{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:8]}"
        key = _generate(alg, kid)
        db.session.add(SigningKey(
            kid=kid, alg=alg, activates_at=activates_at,
            private_sealed=self.box.seal(json.dumps(key.as_dict(private=True))),
            public_jwk=key.as_dict(private=False)))
        record_event(Tag.KEY_CREATED, actor=Actor.system(), data={"kid": kid, "alg": alg})
        return kid

    # --- reading ---
    def invalidate(self) -> None:
        self._loaded = None

    def _load(self) -> _Loaded:
        loaded = self._loaded
        if loaded and time.monotonic() - loaded.loaded_at < self.cache_ttl:
            return loaded
        with self._lock:
            loaded = self._loaded  # another thread may have reloaded while this one waited
            if loaded and time.monotonic() - loaded.loaded_at < self.cache_ttl:
                return loaded
            now = datetime.now(UTC)
            signers: dict[str, list[tuple[datetime, RSAKey | ECKey]]] = {}
            public: list[tuple[datetime | None, dict[str, Any]]] = []
            keys: list[Any] = []
            parsed: dict[str, RSAKey | ECKey] = {}
            rows = db.session.execute(
                select(SigningKey.kid, SigningKey.alg, SigningKey.activates_at,
                       SigningKey.expires_at, SigningKey.public_jwk)
                .order_by(SigningKey.activates_at)).all()
            for kid, alg, activates_at, expires_at, public_jwk in rows:
                expires = aware(expires_at) if expires_at else None
                if expires and expires <= now:
                    continue
                # A key is unsealed and parsed once per process: a reload (every cache TTL)
                # only reads the list of keys, and parses the ones it has not seen.
                key = self._parsed.get(kid) or self._parse(kid, alg)
                parsed[kid] = key
                signers.setdefault(alg, []).append((aware(activates_at), key))
                public.append((expires, public_jwk))
                keys.append(key)
            self._parsed = parsed
            self._loaded = _Loaded(signers, public, KeySet(list(keys)), time.monotonic())
            return self._loaded

    def _parse(self, kid: str, alg: str) -> RSAKey | ECKey:
        sealed = db.session.execute(select(SigningKey.private_sealed)
                                    .where(SigningKey.kid == kid)).scalar_one()
        return (RSAKey if alg == "RS256" else ECKey).import_key(
            json.loads(self.box.open(sealed)))

    def signing_key(self, alg: str) -> RSAKey | ECKey:
        """The newest key of `alg` whose publish-ahead window has passed."""
        if alg not in self._load().signers:  # first start under a server other than `idp serve`
            self.ensure_keys()
        now = datetime.now(UTC)  # read after ensure_keys: a key it creates is active by now
        candidates = [k for at, k in self._load().signers.get(alg, []) if at <= now]
        if not candidates:
            raise LookupError(f"no active {alg} signing key; run `idp keys rotate`")
        return candidates[-1]

    def verify_set(self) -> KeySet:
        return self._load().verify_set

    def jwks(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {"keys": [jwk for expires, jwk in self._load().public
                         if expires is None or expires > now]}
