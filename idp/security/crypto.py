"""Encryption at rest (AES-256-GCM) under a versioned keyring, and keyed hashes under a stable
lookup pepper (design.md "Keys"); nothing here is derived from the cookie secret unless the
deployment leaves those keys unset (development), which production refuses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idp.settings import parse_keyring


def derive_key(secret_key: str, purpose: str, length: int = 32) -> bytes:
    """Derive an independent key per purpose, so one leaked use does not expose another."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=b"unified-idp/v1",
                info=purpose.encode())
    return hkdf.derive(secret_key.encode())


class SecretBox:
    """Authenticated encryption for small secrets (signing keys, ID numbers)."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        self._aead = AESGCM(derive_key(secret_key, "secretbox:" + purpose))
        self._aad = purpose.encode()

    def seal(self, plaintext: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), self._aad)
        return "v1." + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str) -> str:
        if not token.startswith("v1."):
            raise ValueError("unknown sealed format")
        raw = base64.urlsafe_b64decode(token[3:])
        return self._aead.decrypt(raw[:12], raw[12:], self._aad).decode()


class KeyedHash:
    """HMAC-SHA256 fingerprints: look up high-entropy secrets and PII without storing them."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        self._key = derive_key(secret_key, "keyedhash:" + purpose)

    def digest(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    def matches(self, value: str, stored_digest: str) -> bool:
        return hmac.compare_digest(self.digest(value), stored_digest)


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()



class Keyring:
    """Versioned sealing keys: every sealed value names the key (`v2.<kid>.<…>`) that sealed
    it, the first key seals, all of them open, and values sealed before keyrings existed
    (`v1.`, derived from IDP_SECRET_KEY) still open while that secret is configured.
    Rotation: put a new key first, then `idp keys reseal` moves every value onto it."""

    def __init__(self, keys: list[tuple[str, bytes]], legacy_secret: str | None = None) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self.active = keys[0][0]
        self._keys = dict(keys)
        self._legacy_secret = legacy_secret

    @classmethod
    def parse(cls, spec: str, legacy_secret: str | None = None) -> Keyring:
        return cls(parse_keyring(spec), legacy_secret)

    def box(self, purpose: str) -> SealingBox:
        return SealingBox(self, purpose)

    def aead(self, kid: str, purpose: str) -> AESGCM:
        if kid not in self._keys:
            raise ValueError(f"no sealing key {kid!r} in the keyring")
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"unified-idp/keyring/v2",
                    info=purpose.encode())
        return AESGCM(hkdf.derive(self._keys[kid]))

    def legacy(self, purpose: str) -> SecretBox:
        if self._legacy_secret is None:
            raise ValueError("a v1 value, and no IDP_SECRET_KEY-derived key to open it")
        return SecretBox(self._legacy_secret, purpose)


class SealingBox:
    """SecretBox's interface over a keyring, for one purpose."""

    def __init__(self, keyring: Keyring, purpose: str) -> None:
        self.keyring = keyring
        self.purpose = purpose
        self._aad = purpose.encode()

    def seal(self, plaintext: str) -> str:
        kid = self.keyring.active
        nonce = secrets.token_bytes(12)
        sealed = self.keyring.aead(kid, self.purpose).encrypt(nonce, plaintext.encode(),
                                                               self._aad)
        return f"v2.{kid}." + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str) -> str:
        if token.startswith("v1."):
            return self.keyring.legacy(self.purpose).open(token)
        version, kid, body = (token.split(".", 2) + ["", ""])[:3]
        if version != "v2" or not kid or not body:
            raise ValueError("unknown sealed format")
        raw = base64.urlsafe_b64decode(body)
        return self.keyring.aead(kid, self.purpose).decrypt(raw[:12], raw[12:],
                                                            self._aad).decode()

    def is_current(self, token: str) -> bool:
        """Sealed with the active key (nothing to re-seal)."""
        return token.startswith(f"v2.{self.keyring.active}.")


class DocumentFingerprints:
    """Keyed fingerprints of identity document numbers under rotating keys
    (realname.fingerprints), plus the bare-hex digests written before keys had ids: a number
    is found under any of them, and stored under the current one."""

    def __init__(self, keys: list[tuple[str, bytes]], legacy: KeyedHash | None = None) -> None:
        from realname.fingerprints import Fingerprinter

        self._fingerprinter = Fingerprinter(dict(keys), keys[0][0])
        self._legacy = legacy

    def digest(self, value: str) -> str:
        return self._fingerprinter.fingerprint(value)

    def candidates(self, value: str) -> list[str]:
        found = list(self._fingerprinter.candidates(value))
        return found + ([self._legacy.digest(value)] if self._legacy else [])

    def is_current(self, fingerprint: str) -> bool:
        return self._fingerprinter.is_current(fingerprint)

