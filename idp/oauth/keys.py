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
from sqlalchemy import select

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


class KeyManager:
    """Holds the key set in memory per worker, reloading it every `cache_ttl` seconds."""

    def __init__(self, box: SealingBox, publish_lead: int, retire_after: int, cache_ttl: int):
        self.box = box
        self.publish_lead = publish_lead
        self.retire_after = retire_after
        self.cache_ttl = cache_ttl
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    # --- writing ---
    def ensure_keys(self) -> list[str]:
        """Create an active key for each algorithm that has none (first start)."""
        created = []
        now = datetime.now(UTC)
        for alg in SUPPORTED_ALGS:
            exists = db.session.execute(
                select(SigningKey.kid).where(SigningKey.alg == alg)).first()
            if not exists:
                created.append(self._create(alg, activates_at=now))
        if created:
            db.session.commit()
            self.invalidate()
        return created

    def rotate(self, alg: str, activate_in: int | None = None) -> SigningKey:
        if alg not in SUPPORTED_ALGS:
            raise ValueError(f"unsupported algorithm {alg}")
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
            now = datetime.now(UTC)
            signers: dict[str, list[tuple[datetime, RSAKey | ECKey]]] = {}
            public: list[tuple[datetime | None, dict[str, Any]]] = []
            keys: list[Any] = []
            rows = db.session.execute(
                select(SigningKey).order_by(SigningKey.activates_at)).scalars()
            for row in rows:
                expires = aware(row.expires_at) if row.expires_at else None
                if expires and expires <= now:
                    continue
                key = (RSAKey if row.alg == "RS256" else ECKey).import_key(
                    json.loads(self.box.open(row.private_sealed)))
                signers.setdefault(row.alg, []).append((aware(row.activates_at), key))
                public.append((expires, row.public_jwk))
                keys.append(key)
            self._loaded = _Loaded(signers, public, KeySet(list(keys)), time.monotonic())
            return self._loaded

    def signing_key(self, alg: str) -> RSAKey | ECKey:
        """The newest key of `alg` whose publish-ahead window has passed."""
        now = datetime.now(UTC)
        if alg not in self._load().signers:  # first start under a server other than `idp serve`
            self.ensure_keys()
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
