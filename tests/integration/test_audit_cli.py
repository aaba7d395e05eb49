"""`idp audit verify | export | purge` (GB/T 22239-2019 8.1.4.3 audit records protected from
tampering; 网络安全法 art. 21 logs kept at least six months): the chain verifies after real
flows, an edited row is named, an export can be verified on its own, and a retention purge
leaves a checkpoint from which the rest still verifies.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from idp.audit.actors import Actor
from idp.audit.models import AuditCheckpoint, AuditEvent, AuditHead
from idp.audit.services import GENESIS, _canonical, _digest, record_event
from idp.audit.tags import Tag
from idp.extensions import db
from tests.conftest import exchange
from tests.integration.citizens import audit_events


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def flow(app, browser, make_user, make_client):
    """A real login and code flow, so the log holds what production writes."""
    user, client = make_user(), make_client()
    browser.login(user)
    code, verifier = browser.code_for(client)
    assert exchange(app, client, code, verifier).status_code == 200
    return user


def _seqs() -> list[int]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars())


def _edit_data(seq: int) -> None:
    db.session.execute(text("UPDATE audit_event SET data = :data WHERE seq = :seq"),
                       {"data": json.dumps({"forged": True}), "seq": seq})
    db.session.commit()
    db.session.expire_all()


def test_verify_after_a_real_flow_reports_an_intact_chain(runner, flow):
    tags = [e.tag for e in audit_events()]
    assert {Tag.USER_CREATED.value, Tag.CLIENT_CREATED.value,
            Tag.LOGIN_SUCCESS.value} <= set(tags)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "audit chain intact\n"


def test_verify_names_exactly_the_row_edited_with_sql(runner, flow):
    seqs = _seqs()
    assert len(seqs) >= 3
    target = seqs[1]
    _edit_data(target)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.stderr == f"audit chain broken at record {target}\n"
    assert result.stdout == ""


def test_verify_names_the_row_after_a_deleted_one(runner, flow):
    seqs = _seqs()
    db.session.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": seqs[1]})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.stderr == f"audit chain broken at record {seqs[2]}\n"


def test_export_writes_one_verifiable_json_object_per_event(runner, flow):
    expected = _seqs()
    result = runner.invoke(args=["audit", "export", "--since", "2000-01-01",
                                 "--until", "2100-01-01"])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"exported {len(expected)} events\n"
    lines = result.stdout.splitlines()
    assert len(lines) == len(expected)
    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == expected
    prev = GENESIS
    for record in records:
        assert set(record) == {"seq", "at", "tag", "actor", "user_id", "client_id", "ip",
                               "data", "prev_hash", "hash"}
        hashed = {k: v for k, v in record.items() if k not in ("prev_hash", "hash")}
        assert record["prev_hash"] == prev
        assert _digest(prev, hashed) == record["hash"]  # verifiable without the database
        prev = record["hash"]


def test_export_is_itself_audited(runner, flow, monkeypatch):
    monkeypatch.setenv("IDP_OPERATOR", "ops-zhang")  # the operator the audit names
    count = len(_seqs())
    runner.invoke(args=["audit", "export", "--since", "2000-01-01", "--until", "2100-01-01"])
    [exported] = audit_events(Tag.AUDIT_EXPORTED.value)
    assert exported.actor == "operator:ops-zhang"
    assert exported.data == {"since": "2000-01-01T00:00:00", "until": "2100-01-01T00:00:00",
                             "count": count}
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_export_keeps_to_the_time_window(runner, flow):
    today = datetime.now(UTC).date()
    expected = _seqs()
    inside = runner.invoke(args=["audit", "export", "--since", str(today),
                                 "--until", str(today + timedelta(days=1))])
    assert [json.loads(line)["seq"] for line in inside.stdout.splitlines()] == expected
    after = runner.invoke(args=["audit", "export", "--since", str(today + timedelta(days=1)),
                                "--until", "2100-01-01"])
    assert after.exit_code == 0
    assert after.stdout == "" and after.stderr == "exported 0 events\n"
    before = runner.invoke(args=["audit", "export", "--since", "2000-01-01",
                                 "--until", str(today)])
    assert before.stdout == ""


def test_export_writes_the_output_file(runner, flow, tmp_path):
    out = tmp_path / "audit.jsonl"
    result = runner.invoke(args=["audit", "export", "--since", "2000-01-01",
                                 "--until", "2100-01-01", "--output", str(out)])
    assert result.exit_code == 0 and result.stdout == ""
    assert [json.loads(line)["seq"] for line in out.read_text().splitlines()] == \
        _seqs()[:-1]  # the last row is the export's own event


def test_an_export_of_an_empty_window_still_writes_an_empty_file(runner, flow, tmp_path):
    """An operator's script archives the file for every window, even a quiet one."""
    out = tmp_path / "audit.jsonl"
    result = runner.invoke(args=["audit", "export", "--since", "2099-01-01",
                                 "--until", "2100-01-01", "--output", str(out)])
    assert result.exit_code == 0 and result.stderr == "exported 0 events\n"
    assert out.exists() and out.read_text() == ""


def _backdate_first(count: int, days: int) -> None:
    """Move the first `count` events `days` into the past, re-hashing the whole chain so it
    stays valid (what a log written `days` ago would hold)."""
    db.session.expire_all()
    rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    old = datetime.now(UTC) - timedelta(days=days)
    for n, row in enumerate(rows[:count]):
        row.at = old + timedelta(seconds=n)
    db.session.commit()
    db.session.expire_all()
    prev = GENESIS
    for row in db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
        row.prev_hash = prev
        row.hash = _digest(prev, _canonical(row))
        prev = row.hash
    db.session.get(AuditHead, 1).hash = prev
    db.session.commit()
    db.session.expire_all()


@pytest.fixture
def aged_log(browser, make_user):
    """Three events written 200 days ago, then a real login today."""
    for n in range(3):
        record_event(Tag.LOGIN_SUCCESS, actor=Actor.citizen(f"old{n}"), user_id=f"old{n}",
                     ip="10.0.0.1", data={"sid": f"s{n}", "amr": ["pwd"]})
    db.session.commit()
    _backdate_first(3, 200)
    user = make_user()
    assert browser.login(user).status_code == 303
    return _seqs()


def test_purge_removes_events_past_retention_and_the_rest_still_verifies(runner, aged_log):
    assert aged_log[:3] == [1, 2, 3]
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    result = runner.invoke(args=["audit", "purge"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "removed 3 events older than 180 days\n"
    remaining = _seqs()
    assert remaining[0] == 4 and remaining[:-1] == aged_log[3:]
    checkpoint = db.session.get(AuditCheckpoint, 1)
    assert checkpoint.seq == 3
    [purged] = audit_events(Tag.AUDIT_PURGED.value)
    assert purged.seq == remaining[-1]
    assert purged.data == {"through_seq": 3, "removed": 3}
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and verify.stdout == "audit chain intact\n"


def test_purge_with_nothing_past_retention_removes_nothing(runner, flow):
    before = _seqs()
    result = runner.invoke(args=["audit", "purge"])
    assert result.stdout == "removed 0 events older than 180 days\n"
    assert _seqs() == before
    assert db.session.get(AuditCheckpoint, 1) is None


@pytest.mark.parametrize("which", ["first", "last"])
def test_an_edit_after_a_purge_is_still_detected(runner, aged_log, which):
    runner.invoke(args=["audit", "purge"])
    remaining = _seqs()
    target = remaining[0] if which == "first" else remaining[-1]
    _edit_data(target)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.stderr == f"audit chain broken at record {target}\n"


def test_deleting_the_first_row_after_a_purge_is_detected(runner, aged_log):
    runner.invoke(args=["audit", "purge"])
    remaining = _seqs()
    db.session.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": remaining[0]})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert result.stderr == f"audit chain broken at record {remaining[1]}\n"
