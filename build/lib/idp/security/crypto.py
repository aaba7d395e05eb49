"""Encryption at rest (AES-256-GCM) and keyed hashes, all keys derived from IDP_SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


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

