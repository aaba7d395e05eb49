"""Self-service verification through the national platform's HTTP adapter (simulator)."""

from __future__ import annotations

from sqlalchemy import select

from idp.accounts.models import User
from idp.extensions import db
from idp.identity.models import IdentityCase, Verification
from tests.identity.verify import two_element, verify_page, with_photo
from tests.integration.citizens import audit_events, error_of, text_of

LI_SI = ("李四", "11010519491231002X")
WANG_WU = ("王五", "440524188001010014")


def _signed_in(browser, make_user, **kw):
    user = make_user(**kw)
    assert browser.login(user).status_code == 303
    return user


def _user(user) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def _records(user) -> list[Verification]:
    return list(db.session.execute(select(Verification).where(
        Verification.user_id == user.id).order_by(Verification.id)).scalars())


def test_name_and_number_confirmed_by_the_platform_raise_the_account_to_level_3(
        browser, make_user, national_platform):
    national_platform.add_person(*LI_SI)
    user = _signed_in(browser, make_user, name=None)
    answer = two_element(browser, *LI_SI)
    assert answer.status_code == 303
    page = text_of(verify_page(browser))
    assert 'id="trust-level">3<' in page
    assert "1101**********002X" in page and LI_SI[1] not in page
    account = _user(user)
    assert account.trust_level == 3 and account.name == "李四"
    (record,) = _records(user)
    assert (record.method, record.level, record.result) == ("online_two_element", 3, "verified")
    assert record.transaction_id and record.masked_number == "1101**********002X"
    assert record.fingerprint and LI_SI[1] not in record.fingerprint
    (event,) = audit_events("identity:verification:succeeded", user.id)
    assert event.data["level"] == 3 and LI_SI[1] not in str(event.data)


def test_a_name_that_does_not_match_the_number_is_refused_and_grants_nothing(
        browser, make_user, national_platform):
    national_platform.add_person(*LI_SI)
    user = _signed_in(browser, make_user)
    answer = two_element(browser, "李五", LI_SI[1])
    assert answer.status_code == 400
    assert "does not match" in error_of(answer) or "不一致" in error_of(answer)
    account = _user(user)
    assert account.trust_level == 2 and account.id_number_sealed is None
    assert [r.result for r in _records(user)] == ["no_match"]


def test_a_number_the_platform_does_not_know_is_not_found(browser, make_user,
                                                          national_platform):
    user = _signed_in(browser, make_user)
    answer = two_element(browser, *WANG_WU)
    assert answer.status_code == 400
    assert _user(user).trust_level == 2
    assert [r.result for r in _records(user)] == ["not_found"]


def test_an_invalid_number_is_explained_and_never_sent_to_the_platform(
        browser, make_user, national_platform):
    _signed_in(browser, make_user)
    answer = two_element(browser, "李四", "110105194912310021")
    assert answer.status_code == 400
    assert "校验码" in error_of(answer)
    assert national_platform.transactions() == []


def test_a_face_photo_matched_by_the_platform_raises_the_account_to_level_4(
        browser, make_user, national_platform):
    national_platform.add_person(*LI_SI)
    user = _signed_in(browser, make_user)
    answer = with_photo(browser, national_platform.portrait(LI_SI[1]), name=LI_SI[0],
                        number=LI_SI[1])
    assert answer.status_code == 303
    assert _user(user).trust_level == 4
    (record,) = _records(user)
    assert record.method == "online_real_person" and record.score >= 0.8


def test_a_level_3_account_adds_only_a_photo_to_reach_level_4(browser, make_user,
                                                               national_platform):
    national_platform.add_person(*LI_SI)
    user = _signed_in(browser, make_user)
    two_element(browser, *LI_SI)
    answer = with_photo(browser, national_platform.portrait(LI_SI[1]))
    assert answer.status_code == 303
    assert _user(user).trust_level == 4
    assert [r.method for r in _records(user)] == ["online_two_element", "online_real_person"]


def test_someone_elses_face_is_a_mismatch_and_keeps_the_level(browser, make_user,
                                                              national_platform):
    national_platform.add_person(*LI_SI)
    other = national_platform.population()[0]
    user = _signed_in(browser, make_user)
    two_element(browser, *LI_SI)
    answer = with_photo(browser, national_platform.portrait(other.id_number))
    assert answer.status_code == 400
    assert _user(user).trust_level == 3
    assert _records(user)[-1].result == "face_mismatch"


def test_a_file_that_is_not_a_photo_is_refused_before_the_platform(browser, make_user,
                                                                   national_platform):
    national_platform.add_person(*LI_SI)
    _signed_in(browser, make_user)
    answer = with_photo(browser, b"%PDF-1.4 not a face", name=LI_SI[0], number=LI_SI[1])
    assert answer.status_code == 400
    assert "JPEG" in error_of(answer)
    assert national_platform.transactions() == []


def test_a_platform_outage_changes_nothing_and_points_to_a_counter(browser, make_user,
                                                                   national_platform):
    national_platform.add_person(*LI_SI)
    national_platform.set_outage("error")
    user = _signed_in(browser, make_user)
    answer = two_element(browser, *LI_SI)
    assert answer.status_code == 400
    assert "柜台" in error_of(answer)
    account = _user(user)
    assert account.trust_level == 2 and account.id_number_sealed is None
    assert account.id_number_hash is None
    assert [r.result for r in _records(user)] == ["unavailable"]
    # the adapter tried a bounded number of times (1 + IDP retries), then gave up
    assert len(national_platform.transactions()) == 3


def test_failed_answers_are_limited_per_day_but_outages_do_not_count(
        browser, make_user, national_platform, change_settings):
    national_platform.add_person(*LI_SI)
    user = _signed_in(browser, make_user)
    identity = browser.client.application.extensions["idp.identity"]
    limit = identity.daily_attempts
    national_platform.set_outage("error")
    two_element(browser, *LI_SI)
    national_platform.set_outage("off")
    for _ in range(limit):
        assert two_element(browser, "李五", LI_SI[1]).status_code == 400
    asked = len(national_platform.transactions())
    refused = two_element(browser, *LI_SI)
    assert "明天" in error_of(refused) or "tomorrow" in error_of(refused)
    assert len(national_platform.transactions()) == asked
    assert _user(user).trust_level == 2


def test_a_verified_account_cannot_take_on_a_second_number(browser, make_user,
                                                           national_platform):
    national_platform.add_person(*LI_SI)
    other = national_platform.population()[1]
    user = _signed_in(browser, make_user)
    two_element(browser, *LI_SI)
    answer = with_photo(browser, national_platform.portrait(other.id_number), name=other.name,
                        number=other.id_number)
    # the level-3 account is offered the photo-only form; a hand-made post with another
    # number is refused all the same
    assert answer.status_code == 400
    assert _user(user).trust_level == 3


def test_a_number_verified_on_another_account_opens_a_case_and_links_nothing(
        app, browser, make_user, national_platform):
    national_platform.add_person(*LI_SI)
    holder = _signed_in(browser, make_user)
    two_element(browser, *LI_SI)
    from tests.conftest import Browser

    second = Browser(app.test_client())
    claimant = _signed_in(second, make_user)
    answer = two_element(second, *LI_SI)
    assert answer.status_code == 400
    assert "case" in error_of(answer) or "案件" in error_of(answer) or "审核" in error_of(answer)
    claimed = _user(claimant)
    assert claimed.trust_level == 2 and claimed.id_number_sealed is None
    (case,) = db.session.execute(select(IdentityCase)).scalars().all()
    assert (case.claimant_id, case.holder_id, case.status) == (claimant.id, holder.id, "open")
    assert case.masked_number == "1101**********002X"
    page = text_of(verify_page(second))
    assert 'id="case"' in page and LI_SI[1] not in page


def test_a_verified_person_logs_in_with_their_id_number(app, browser, make_user,
                                                        national_platform):
    national_platform.add_person(*LI_SI)
    user = _signed_in(browser, make_user)
    two_element(browser, *LI_SI)
    from tests.conftest import Browser, csrf_from

    fresh = Browser(app.test_client())
    page = fresh.client.get("/login")
    answer = fresh.client.post("/login", data={"csrf_token": csrf_from(text_of(page)),
                                               "identifier": LI_SI[1].lower(),
                                               "password": user.password})
    assert answer.status_code == 303


def test_the_page_offers_counters_when_online_verification_is_off(browser, make_user):
    _signed_in(browser, make_user)
    page = text_of(verify_page(browser))
    assert 'id="offline"' in page and 'id="two-element"' not in page


def test_failed_answers_from_one_network_are_limited_across_accounts(
        app, make_user, national_platform):
    """Accounts are cheap to register: the per-account daily limit alone would let one
    network probe the platform for name and number pairs. Outages do not count."""
    from tests.conftest import Browser

    national_platform.add_person(*LI_SI)
    identity = app.extensions["idp.identity"]
    original = identity.ip_daily_attempts
    identity.ip_daily_attempts = 3
    try:
        national_platform.set_outage("error")
        outage = Browser(app.test_client())
        _signed_in(outage, make_user)
        two_element(outage, *LI_SI)
        national_platform.set_outage("off")
        for _ in range(3):  # three accounts, one wrong guess each, all from 127.0.0.1
            prober = Browser(app.test_client())
            _signed_in(prober, make_user)
            assert two_element(prober, "李五", LI_SI[1]).status_code == 400
        asked = len(national_platform.transactions())
        fourth = Browser(app.test_client())
        user = _signed_in(fourth, make_user)
        refused = two_element(fourth, *LI_SI)
        assert "明天" in error_of(refused)
        assert len(national_platform.transactions()) == asked
        assert _user(user).trust_level == 2
    finally:
        identity.ip_daily_attempts = original
