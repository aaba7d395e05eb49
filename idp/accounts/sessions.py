"""The single sign-on session (SSO 会话): held in the store, named by a public `sid`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields

from idp.audit.actors import Actor
from idp.audit.services import record_event
from idp.audit.tags import Tag
from idp.clock import Clock
from idp.extensions import db
from idp.security.crypto import KeyedHash, random_token
from idp.store import Store


@dataclass
class SsoSession:
    sid: str
    user_id: str
    auth_time: int
    amr: list[str]
    created: int
    last_seen: int
    secret_hash: str
    clients: list[str] = field(default_factory=list)
    ip: str | None = None
    user_agent: str | None = None
    auth_count: int = 1  # authentications so far: a login made for a request is told apart
    #                      from an older one without comparing clocks of different nodes
    stored: str = field(default="", repr=False, compare=False)  # the value as read

    def encode(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if k != "stored"})


SESSION_FIELDS = {f.name for f in fields(SsoSession)} - {"stored"}


def decode_session(raw: str) -> SsoSession:
    """A stored session; fields written by a newer version are ignored, not fatal."""
    data = json.loads(raw)
    return SsoSession(**{k: v for k, v in data.items() if k in SESSION_FIELDS}, stored=raw)


class SessionService:
    """Creates, finds, extends and ends SSO sessions.

    The browser's cookie carries `sid.secret`; only an HMAC of the secret is stored, and
    `sid` alone (which appears in ID tokens and logout tokens) does not open the session.
    """

    def __init__(self, store: Store, hasher: KeyedHash, idle_ttl: int, max_ttl: int,
                 clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.store = store
        self.hasher = hasher
        self.idle_ttl = idle_ttl
        self.max_ttl = max_ttl
        # Called inside the transaction that ends a session (higher layers revoke its grants and
        # queue back-channel notices; they flush, never commit), then after it committed
        # (delivery of what was queued).
        self.on_end: list[Callable[[SsoSession], object]] = []
        self.after_end: list[Callable[[SsoSession], object]] = []

    def _ttl(self, session: SsoSession, now: int) -> int:
        return max(1, min(self.idle_ttl, session.created + self.max_ttl - now))

    def _save(self, session: SsoSession, now: int) -> None:
        """Write a new session."""
        value = session.encode()
        self.store.set("sso:" + session.sid, value, self._ttl(session, now))
        session.stored = value
        self.store.sadd("user-sessions:" + session.user_id, session.sid, self.max_ttl)

    def _update(self, session: SsoSession, change: Callable[[SsoSession], None]) -> bool:
        """Apply `change` with compare-and-set, re-reading on a race: a racing request never
        resurrects an ended session nor drops another's change (a client added, a step-up).
        False if the session has ended."""
        for _ in range(5):
            now = self.clock.seconds()
            change(session)
            value = session.encode()
            if self.store.compare_and_set("sso:" + session.sid, session.stored, value,
                                          self._ttl(session, now)):
                session.stored = value
                return True
            fresh = self.store.get("sso:" + session.sid)
            if fresh is None:
                return False
            latest = decode_session(fresh)
            for name in SESSION_FIELDS:
                setattr(session, name, getattr(latest, name))
            session.stored = fresh
        return False

    def create(self, user_id: str, amr: list[str], ip: str | None = None,
               user_agent: str | None = None) -> tuple[SsoSession, str]:
        now = self.clock.seconds()
        sid, secret = random_token(16), random_token(32)
        session = SsoSession(sid=sid, user_id=user_id, auth_time=now, amr=amr, created=now,
                             last_seen=now, secret_hash=self.hasher.digest(secret), ip=ip,
                             user_agent=(user_agent or "")[:200] or None)
        self._save(session, now)
        return session, f"{sid}.{secret}"

    def reauthenticated(self, session: SsoSession, amr: list[str]) -> None:
        def change(s: SsoSession) -> None:
            now = self.clock.seconds()
            s.auth_time, s.last_seen, s.amr = now, now, sorted(set(amr))
            s.auth_count += 1

        self._update(session, change)

    def get(self, sid: str) -> SsoSession | None:
        raw = self.store.get("sso:" + sid)
        if raw is None:
            return None
        session = decode_session(raw)
        now = self.clock.seconds()
        # Both lifetimes are checked here, not only by the store's TTL: a store that kept the
        # key longer (or a clock that moved) never extends a session.
        if session.created + self.max_ttl <= now or session.last_seen + self.idle_ttl <= now:
            return None
        return session

    def from_cookie(self, cookie: str | None, touch: bool = True) -> SsoSession | None:
        if not cookie or "." not in cookie:
            return None
        sid, secret = cookie.split(".", 1)
        session = self.get(sid)
        if session is None or not self.hasher.matches(secret, session.secret_hash):
            return None
        if touch and not self._touch(session):
            return None  # ended meanwhile
        return session

    def _touch(self, session: SsoSession) -> bool:
        """Count a use of the session as activity (its idle lifetime starts again); False if
        it ended meanwhile. Written at most every 30 s, not on every request."""
        now = self.clock.seconds()
        if now - session.last_seen < 30:
            return True

        def seen(s: SsoSession) -> None:
            s.last_seen = max(s.last_seen, now)

        return self._update(session, seen)

    def alive(self, sid: str, touch: bool = False) -> bool:
        """Whether the session `sid` lives (both lifetimes checked). With `touch`, this use
        counts as activity in it: a refresh of a token tied to the session (OIDC Core §11
        "online" tokens) keeps it alive, as the person's browsing at the platform does."""
        session = self.get(sid)
        if session is None:
            return False
        return self._touch(session) if touch else True

    def add_client(self, session: SsoSession, client_id: str) -> None:
        def add(s: SsoSession) -> None:
            if client_id not in s.clients:
                s.clients.append(client_id)

        if client_id not in session.clients:
            self._update(session, add)

    def end(self, sid: str, actor: Actor, ip: str | None = None) -> SsoSession | None:
        """End the session everywhere; None if it had already ended.

        The durable part commits first, as one unit: the session's grants are revoked, the
        back-channel notices queued and the logout audited. Only then does the session leave
        the store. If either step fails the request fails with the session still present, and
        a retry completes the work (the listeners are idempotent)."""
        raw = self.store.get("sso:" + sid)
        if raw is None:
            return None
        session = decode_session(raw)
        for listener in self.on_end:
            listener(session)
        record_event(Tag.LOGOUT, actor=actor, user_id=session.user_id, ip=ip,
                     data={"sid": sid, "clients": session.clients})
        db.session.commit()
        self.store.delete("sso:" + sid)
        self.store.srem("user-sessions:" + session.user_id, sid)
        for hook in self.after_end:
            hook(session)
        return session

    def end_all(self, user_id: str, actor: Actor, ip: str | None = None,
                keep: str | None = None) -> int:
        """End every session of the account, except the one named `keep`."""
        ended = 0
        for session in self.for_user(user_id):
            if session.sid != keep and self.end(session.sid, actor=actor, ip=ip) is not None:
                ended += 1
        return ended

    def for_user(self, user_id: str) -> list[SsoSession]:
        sessions: list[SsoSession] = []
        members: set[str] = self.store.smembers("user-sessions:" + user_id)
        for sid in sorted(members):
            session = self.get(sid)
            if session is None:
                self.store.srem("user-sessions:" + user_id, sid)
            else:
                sessions.append(session)
        return sessions
