"""The one enum of audit event tags, `source:subject:action` (docs/events.md lists them)."""

from __future__ import annotations

from enum import StrEnum


class Tag(StrEnum):
    LOGIN_SUCCESS = "accounts:login:success"
    LOGIN_FAILURE = "accounts:login:failure"
    LOGOUT = "accounts:session:logout"
    SESSIONS_ENDED = "accounts:sessions:ended"
    USER_CREATED = "accounts:user:created"
    USER_REGISTERED = "accounts:user:registered"
    ACCOUNT_LOCKED = "accounts:user:locked"
    ACCOUNT_UNLOCKED = "accounts:user:unlocked"
    PASSWORD_CHANGED = "accounts:password:changed"
    PASSWORD_RESET = "accounts:password:reset"
    PHONE_CHANGED = "accounts:phone:changed"
    SMS_CODE_SENT = "accounts:sms_code:sent"
    TOTP_ENROLLED = "accounts:totp:enrolled"
    TOTP_REMOVED = "accounts:totp:removed"
    RECOVERY_CODES_ISSUED = "accounts:recovery_codes:issued"
    RECOVERY_CODE_USED = "accounts:recovery_code:used"
    MFA_SUCCESS = "accounts:mfa:success"
    MFA_FAILURE = "accounts:mfa:failure"
    TRUST_LEVEL_SET = "accounts:user:trust_level_set"
    CONSENT_GRANTED = "oauth:consent:granted"
    CONSENT_DENIED = "oauth:consent:denied"
    CONSENT_REVOKED = "oauth:consent:revoked"
    CODE_REPLAYED = "oauth:code:replayed"
    REFRESH_REUSED = "oauth:refresh_token:reused"
    TOKEN_REVOKED = "oauth:token:revoked"
    BACKCHANNEL_LOGOUT_FAILED = "oauth:backchannel_logout:failed"
    CLIENT_CREATED = "admin:client:created"
    KEY_CREATED = "admin:signing_key:created"
    KEY_ROTATED = "admin:signing_key:rotated"
    AUDIT_EXPORTED = "admin:audit:exported"
    AUDIT_PURGED = "admin:audit:purged"
