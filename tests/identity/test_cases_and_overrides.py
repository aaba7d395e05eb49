"""Cases (one document claimed by two accounts) and operator overrides (ADR 0008)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from idp.accounts.errors import AccountError
from idp.accounts.models import User
from idp.audit.actors import Actor
from idp.extensions import db
from idp.identity.models import IdentityCase, Verification
from tests.conftest import Browser
from tests.identity.verify import two_element
from tests.integration.citizens import audit_events

LI_SI = ("李四", "11010519491231002X")
SUPERVISOR = Actor.staff("sup-1", "441802-01")


def _user(user_id: str) -> User:
    db.session.expire_all()
    return db.session.get(User, user_id)


def _disputed(app, make_user, national_platform):
    national_platform.add_person(*LI_SI)
    holder, claimant = make_user(), make_user()
    first, second = Browser(app.test_client()), Browser(app.test_client())
    first.login(holder)
    two_element(first, *LI_SI)
    second.login(claimant)
    two_element(second, *LI_SI)
    case = db.session.execute(select(IdentityCase)).scalar_one()
    return holder, claimant, case, first


def test_transferring_a_case_moves_the_document_and_ends_the_holders_sessions(
        app, make_user, national_platform):
    holder, claimant, case, holder_browser = _disputed(app, make_user, national_platform)
    identity = app.extensions["idp.identity"]
    identity.resolve_case(case.id, decision="transfer", note="ID card seen at counter",
                          actor=SUPERVISOR)
    db.session.commit()
    old, new = _user(holder.id), _user(claimant.id)
    assert (old.trust_level, old.id_number_sealed, old.id_number_hash) == (2, None, None)
    assert new.trust_level == 3 and identity.masked_number(new) == "1101**********002X"
    assert app.extensions["idp.accounts"].find_by_login(LI_SI[1]).id == claimant.id
    revoked = db.session.execute(select(Verification).where(
        Verification.user_id == holder.id)).scalars().all()
    assert [r.revoked_at is not None for r in revoked] == [True]
    assert holder_browser.client.get("/account").status_code == 303  # signed out
    (event,) = audit_events("identity:case:resolved")
    assert event.actor == "staff:sup-1@441802-01" and event.data["resolution"] == "transferred"
    assert audit_events("identity:document:removed", holder.id)


def test_keeping_a_case_leaves_both_accounts_as_they_were(app, make_user, national_platform):
    holder, claimant, case, _ = _disputed(app, make_user, national_platform)
    app.extensions["idp.identity"].resolve_case(case.id, decision="keep", note="claim unproven",
                                                actor=SUPERVISOR)
    db.session.commit()
    assert _user(holder.id).trust_level == 3 and _user(claimant.id).trust_level == 2
    assert db.session.get(IdentityCase, case.id).resolution == "kept"


def test_a_case_is_decided_once_and_only_with_a_note(app, make_user, national_platform):
    _, _, case, _ = _disputed(app, make_user, national_platform)
    identity = app.extensions["idp.identity"]
    with pytest.raises(AccountError) as no_note:
        identity.resolve_case(case.id, decision="keep", note=" ", actor=SUPERVISOR)
    assert no_note.value.code == "reason_required"
    identity.resolve_case(case.id, decision="keep", note="done", actor=SUPERVISOR)
    with pytest.raises(AccountError) as again:
        identity.resolve_case(case.id, decision="transfer", note="again", actor=SUPERVISOR)
    assert again.value.code == "no_such_case"


def test_claiming_the_same_number_twice_keeps_one_open_case(app, make_user, national_platform):
    _, claimant, case, _ = _disputed(app, make_user, national_platform)
    again = Browser(app.test_client())
    again.login(claimant)
    two_element(again, *LI_SI)
    assert len(db.session.execute(select(IdentityCase)).scalars().all()) == 1


def test_set_trust_level_needs_a_reason_and_is_recorded_as_an_override(app, make_user):
    user = make_user()
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["users", "set-trust-level", "--username", user.username,
                                  "--level", "4"])
    assert refused.exit_code == 2 and "--reason" in refused.output
    assert _user(user.id).trust_level == 2
    done = runner.invoke(args=["users", "set-trust-level", "--username", user.username,
                               "--level", "4", "--reason", "ticket 2026-118: records lost"],
                         env={"IDP_OPERATOR": "ops-li"})
    assert done.exit_code == 0, done.output
    assert _user(user.id).trust_level == 4
    (row,) = db.session.execute(select(Verification).where(
        Verification.user_id == user.id)).scalars().all()
    assert (row.method, row.level, row.actor) == ("override", 4, "operator:ops-li")
    (event,) = audit_events("accounts:user:trust_level_set", user.id)
    assert event.data == {"level": 4, "previous": 2, "reason": "ticket 2026-118: records lost"}


def test_users_create_above_level_2_is_an_override_that_needs_a_reason(app):
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["users", "create", "--username", "lvl-cli", "--password",
                                  "Correct-Horse-9", "--trust-level", "3"])
    assert refused.exit_code == 2
    assert db.session.execute(select(User).where(User.username == "lvl-cli")).first() is None
    done = runner.invoke(args=["users", "create", "--username", "lvl-cli", "--password",
                               "Correct-Horse-9", "--trust-level", "3", "--id-number",
                               LI_SI[1], "--reason", "carried over from the old portal",
                               "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["trust_level"] == 3


def test_an_override_cannot_link_a_document_another_account_holds(app, make_user):
    make_user(trust_level=3, id_number=LI_SI[1])
    other = make_user()
    with pytest.raises(AccountError) as refused:
        app.extensions["idp.identity"].override(
            _user(other.id), 3, reason="x", actor=Actor.operator("t"), number=LI_SI[1])
    assert refused.value.code == "exists"


def test_a_document_linked_by_a_concurrent_verification_opens_a_case_instead_of_failing(
        app, make_user, national_platform, monkeypatch):
    """Two verifications of one number race: the second finds no holder, then meets the
    first's committed link at the unique fingerprint. It opens a case; nothing fails."""
    national_platform.add_person(*LI_SI)
    holder, claimant = make_user(), make_user()
    first = Browser(app.test_client())
    first.login(holder)
    two_element(first, *LI_SI)
    identity = app.extensions["idp.identity"]
    looks = []
    real_find = identity.find_by_document

    def find_late(number, document_type="id-number"):
        looks.append(number)
        return None if len(looks) == 1 else real_find(number, document_type)

    monkeypatch.setattr(identity, "find_by_document", find_late)
    second = Browser(app.test_client())
    second.login(claimant)
    answer = two_element(second, *LI_SI)
    assert answer.status_code == 400 and len(looks) == 2
    case = db.session.execute(select(IdentityCase)).scalar_one()
    assert (case.claimant_id, case.holder_id) == (claimant.id, holder.id)
    assert _user(claimant.id).id_number_sealed is None
    assert _user(holder.id).trust_level == 3
