"""Account services: create accounts, check passwords, look people up."""

from __future__ import annotations

import re

from sqlalchemy import or_, select

from idp.accounts.errors import AccountError
from idp.accounts.models import User
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.extensions import db
from idp.security.passwords import Passwords
from realname import TrustLevel

USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,63}$")
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
TRUST_LEVELS = tuple(int(level) for level in TrustLevel)


class AccountService:
    def __init__(self, passwords: Passwords) -> None:
        self.passwords = passwords

    def create_user(self, *, username: str, password: str, phone: str | None = None,
                    name: str | None = None, trust_level: int = 2, actor: str = "system") -> User:
        if not USERNAME_RE.match(username):
            raise AccountError("invalid_username",
                               "username must be 3-64 letters, digits, '_', '.', '-', "
                               "starting with a letter")
        if phone is not None and not PHONE_RE.match(phone):
            raise AccountError("invalid_phone", "phone must be an 11-digit mainland mobile number")
        if len(password) < 8:
            raise AccountError("weak_password", "password must be at least 8 characters")
        if trust_level not in TRUST_LEVELS:
            raise AccountError("invalid_trust_level", "trust level must be 2, 3, 4 or 5")
        same = [User.username == username] + ([User.phone == phone] if phone else [])
        clash = db.session.execute(select(User.id).where(or_(*same))).first()
        if clash:
            raise AccountError("exists", "an account with this username or phone already exists")
        user = User(username=username, phone=phone, name=name,
                    password_hash=self.passwords.hash(password), trust_level=trust_level)
        db.session.add(user)
        db.session.flush()
        record_event(Tag.USER_CREATED, actor=actor, user_id=user.id,
                     data={"trust_level": trust_level})
        return user

    def set_trust_level(self, user: User, level: int, actor: str) -> None:
        if level not in TRUST_LEVELS:
            raise AccountError("invalid_trust_level", "trust level must be 2, 3, 4 or 5")
        user.trust_level = level
        record_event(Tag.TRUST_LEVEL_SET, actor=actor, user_id=user.id, data={"level": level})

    def find_by_login(self, identifier: str) -> User | None:
        identifier = identifier.strip()
        column = User.phone if PHONE_RE.match(identifier) else User.username
        return db.session.execute(select(User).where(column == identifier)).scalar_one_or_none()

    def authenticate(self, identifier: str, password: str) -> User | None:
        """Return the account if the password is right; the same cost whether or not it exists."""
        user = self.find_by_login(identifier)
        check = self.passwords.verify(user.password_hash if user else None, password)
        if not check.ok or user is None or user.disabled:
            return None
        if check.needs_rehash:
            user.password_hash = self.passwords.hash(password)
        return user

    def record_login_success(self, user_id: str, sid: str, amr: list[str],
                             ip: str | None) -> None:
        record_event(Tag.LOGIN_SUCCESS, actor="user:" + user_id, user_id=user_id, ip=ip,
                     data={"sid": sid, "amr": amr})
        db.session.commit()

    def record_login_failure(self, identifier: str, ip: str | None) -> None:
        known = self.find_by_login(identifier)
        record_event(Tag.LOGIN_FAILURE, actor="anonymous", user_id=known.id if known else None,
                     ip=ip, data={"reason": "bad_credentials"})
        db.session.commit()

    def get(self, user_id: str) -> User | None:
        return db.session.get(User, user_id)
