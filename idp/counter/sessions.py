"""Staff sessions (窗口会话): held server-side in the store, named by the keyed hash of a
random cookie token, with a short idle timeout and an absolute limit. A store that does not
answer raises StoreUnavailable (the request answers 503): nobody is let in without it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from idp.clock import Clock
from idp.security.crypto import KeyedHash, random_token
from idp.store import Store

COOKIE = "idp_counter"
OPEN_RECORD_TTL = 30 * 60  # seconds a record opened with a reason stays open to its staff


@dataclass
class StaffSession:
    key: str  # the store key's suffix: a keyed hash of the cookie token, never the token
    staff_id: str
    hall: str
    role: str
    created: int
    last_seen: int
    ip: str | None = None
    # Records opened with a reason in this session: account id -> unix seconds opened.
    opened: dict[str, int] = field(default_factory=dict)

    def encode(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if k != "key"})


class StaffSessions:
    def __init__(self, store: Store, hasher: KeyedHash, clock: Clock, idle_ttl: int = 600,
                 max_ttl: int = 10 * 3600) -> None:
        self.store = store
        self.hasher = hasher
        self.clock = clock
        self.idle_ttl = idle_ttl
        self.max_ttl = max_ttl

    def _ttl(self, session: StaffSession, now: int) -> int:
        return max(1, min(self.idle_ttl, session.created + self.max_ttl - now))

    def _save(self, session: StaffSession, now: int) -> None:
        self.store.set("staff:" + session.key, session.encode(), self._ttl(session, now))

    def create(self, staff_id: str, hall: str, role: str,
               ip: str | None) -> tuple[StaffSession, str]:
        now = self.clock.seconds()
        token = random_token(32)
        session = StaffSession(self.hasher.digest(token), staff_id, hall, role, now, now, ip)
        self._save(session, now)
        self.store.sadd("staff-sessions:" + staff_id, session.key, self.max_ttl)
        return session, token

    def load(self, token: str | None) -> StaffSession | None:
        """The live session a cookie names, its idle time restarted; None when there is none
        or it passed either limit (checked here, whatever the store's TTL did)."""
        if not token or len(token) > 100:
            return None
        key = self.hasher.digest(token)
        raw = self.store.get("staff:" + key)
        if raw is None:
            return None
        data = json.loads(raw)
        session = StaffSession(key=key, **{k: v for k, v in data.items()
                                           if k in StaffSession.__dataclass_fields__})
        now = self.clock.seconds()
        if now - session.last_seen >= self.idle_ttl or now - session.created >= self.max_ttl:
            self.store.delete("staff:" + key)
            return None
        session.last_seen = now
        session.opened = {uid: at for uid, at in session.opened.items()
                          if now - at < OPEN_RECORD_TTL}
        self._save(session, now)
        return session

    def end(self, session: StaffSession) -> None:
        self.store.delete("staff:" + session.key)
        self.store.srem("staff-sessions:" + session.staff_id, session.key)

    def end_all(self, staff_id: str) -> None:
        """Every session of a staff member (disabled, or credentials re-issued). The account's
        state in the database is checked on every request too, so a lost store entry never
        keeps a disabled member in."""
        keys = self.store.smembers("staff-sessions:" + staff_id)
        if keys:
            self.store.delete(*["staff:" + k for k in keys])
        self.store.delete("staff-sessions:" + staff_id)

    # --- records opened with a reason ---
    def open_record(self, session: StaffSession, user_id: str) -> None:
        now = self.clock.seconds()
        session.opened[user_id] = now
        self._save(session, now)

    def is_open(self, session: StaffSession, user_id: str) -> bool:
        opened = session.opened.get(user_id)
        return opened is not None and self.clock.seconds() - opened < OPEN_RECORD_TTL
