"""The one enum of audit event tags, `source:subject:action` (docs/events.md lists them)."""

from __future__ import annotations

from enum import StrEnum


class Tag(StrEnum):
    LOGIN_SUCCESS = "accounts:login:success"
    LOGIN_FAILURE = "accounts:login:failure"
    LOGOUT = "accounts:session:logout"
    USER_CREATED = "accounts:user:created"
    TRUST_LEVEL_SET = "accounts:user:trust_level_set"
    CONSENT_GRANTED = "oauth:consent:granted"
    CONSENT_DENIED = "oauth:consent:denied"
    CODE_REPLAYED = "oauth:code:replayed"
    REFRESH_REUSED = "oauth:refresh_token:reused"
    TOKEN_REVOKED = "oauth:token:revoked"
    BACKCHANNEL_LOGOUT_FAILED = "oauth:backchannel_logout:failed"
    CLIENT_CREATED = "admin:client:created"
    KEY_CREATED = "admin:signing_key:created"
    KEY_ROTATED = "admin:signing_key:rotated"
