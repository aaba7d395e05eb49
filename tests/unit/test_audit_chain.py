"""The hash-chained audit log: appends link to their predecessor, edits are detected, and
secrets passed by callers never reach a stored row (GB/T 22239-2019 8.1.4.3 audit integrity;
OWASP ASVS 4.0 §7.1.1 no credentials in logs).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from idp.audit.actors import Actor
from idp.audit.models import AuditEvent
from idp.audit.services import FORBIDDEN_KEYS, GENESIS, record_event, verify_chain
from idp.audit.tags import Tag
from idp.extensions import db


def record_three() -> list[int]:
    seqs = []
    for n in range(3):
        event = record_event(Tag.LOGIN_SUCCESS, actor=Actor.citizen(f"u{n}"), user_id=f"u{n}",
                             ip="10.0.0.1", data={"sid": f"s{n}", "amr": ["pwd"]})
        seqs.append(event.seq)
    db.session.commit()
    db.session.expire_all()
    return seqs


def test_events_chain_from_genesis_and_verify():
    seqs = record_three()
    assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
    events = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    assert events[0].prev_hash == GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert verify_chain() is None


def test_empty_log_verifies():
    assert verify_chain() is None


def test_editing_one_row_data_is_detected_at_that_row():
    seqs = record_three()
    event = db.session.get(AuditEvent, seqs[1])
    event.data = {"sid": "forged", "amr": ["pwd"]}
    db.session.commit()
    db.session.expire_all()
    assert verify_chain() == seqs[1]


def test_editing_a_row_with_sql_is_detected_at_that_row():
    seqs = record_three()
    db.session.execute(text("UPDATE audit_event SET actor = 'user:someone-else' "
                            "WHERE seq = :seq"), {"seq": seqs[2]})
    db.session.commit()
    db.session.expire_all()
    assert verify_chain() == seqs[2]


def test_deleting_a_row_is_detected_at_the_next_row():
    seqs = record_three()
    db.session.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": seqs[1]})
    db.session.commit()
    db.session.expire_all()
    assert verify_chain() == seqs[2]


def test_chain_verifies_whatever_the_time_zone_of_the_reader(china_standard_time):
    """An untouched log must verify when read by a session in another zone (UTC+8 here).

    PostgreSQL hands timestamptz back in the session's TimeZone, which a server installed
    in China defaults to (initdb takes the system zone); SQLite has no zone but the process's.
    """
    seqs = record_three()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
    try:
        assert verify_chain() is None, f"untouched rows {seqs} reported as broken"
    finally:
        db.session.rollback()


@pytest.mark.parametrize("key", sorted(FORBIDDEN_KEYS))
def test_forbidden_keys_never_reach_the_stored_row(key):
    event = record_event(Tag.TOKEN_REVOKED, actor=Actor.client("c1"), client_id="c1",
                         data={key: "s3cr3t-value", "grant": "g1"})
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(AuditEvent, event.seq)
    assert stored.data == {"grant": "g1"}
    raw = db.session.execute(text("SELECT data FROM audit_event WHERE seq = :seq"),
                             {"seq": event.seq}).scalar_one()
    assert "s3cr3t-value" not in str(raw)
    assert verify_chain() is None


def test_password_and_token_are_among_the_forbidden_keys():
    assert {"password", "token", "client_secret", "refresh_token"} <= FORBIDDEN_KEYS


def test_forbidden_keys_are_dropped_at_any_depth():
    event = record_event(Tag.LOGIN_FAILURE, actor=Actor.anonymous(),
                         data={"details": {"password": "s3cr3t-value", "reason": "x"},
                               "steps": [{"token": "s3cr3t-value", "n": 1}]})
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(AuditEvent, event.seq).data == {"details": {"reason": "x"},
                                                          "steps": [{"n": 1}]}


def _rehash_from(seq: int) -> None:
    """What someone with only database access can do: recompute every hash after an edit,
    and point the head at the new end (without the key the head's MAC stays as it was)."""
    from idp.audit.models import AuditHead
    from idp.audit.services import _canonical, _digest

    events = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    prev = GENESIS
    for event in events:
        if event.seq >= seq:
            event.prev_hash = prev
            event.hash = _digest(prev, _canonical(event))
        prev = event.hash
    head = db.session.get(AuditHead, 1)
    head.seq, head.hash = events[-1].seq, prev
    db.session.commit()
    db.session.expire_all()


def test_rewriting_history_and_recomputing_every_hash_is_detected_at_the_head():
    from idp.audit.models import AuditHead

    seqs = record_three()
    event = db.session.get(AuditEvent, seqs[1])
    event.data = {"sid": "forged", "amr": ["pwd"]}
    db.session.commit()
    _rehash_from(seqs[1])
    assert verify_chain() == db.session.get(AuditHead, 1).seq


def test_cutting_off_the_latest_events_is_detected_at_the_head():
    from idp.audit.models import AuditHead

    seqs = record_three()
    db.session.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": seqs[2]})
    db.session.commit()
    _rehash_from(seqs[0])  # the head now names the second event, as if it were the last
    assert db.session.get(AuditHead, 1).seq == seqs[1]
    assert verify_chain() == seqs[1]


def test_a_head_whose_seal_was_removed_is_detected():
    from idp.audit.models import AuditHead

    record_three()
    head = db.session.get(AuditHead, 1)
    head.mac = None
    db.session.commit()
    assert verify_chain() == head.seq
