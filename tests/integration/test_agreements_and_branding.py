"""Branding is configuration (idp.branding, IDP_BRAND_DIR), and the 用户服务协议 and 隐私政策 are
accepted at registration and first login, recorded with their versions, and asked again when a
version changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from idp.accounts.models import AgreementAcceptance, User
from idp.audit.tags import Tag
from idp.branding import DEFAULT_DIR, BrandError, load_brand
from idp.extensions import db
from idp.settings import Settings, SettingsError
from tests.conftest import Browser, app_like, csrf_from
from tests.integration.citizens import audit_events, csrf, sso_cookie, text_of

VERSION = "2026-11-01"  # of both documents in idp/data/brand/brand.toml


def accepted(user_id: str) -> set[tuple[str, str]]:
    return {(row.document, row.version) for row in db.session.execute(
        select(AgreementAcceptance.document, AgreementAcceptance.version)
        .where(AgreementAcceptance.user_id == user_id))}


def brand_copy(tmp_path: Path, **replace: str) -> Path:
    folder = tmp_path / "brand"
    shutil.copytree(DEFAULT_DIR, folder)
    toml = (folder / "brand.toml").read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in toml
        toml = toml.replace(old, new)
    (folder / "brand.toml").write_text(toml, encoding="utf-8")
    return folder


def test_a_first_login_asks_for_the_agreements_before_any_session_exists(app, make_user):
    user = make_user(accepted_agreements=False)
    browser = Browser(app.test_client())
    response = browser.login(user, next_url="/account")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/agreements/accept")
    assert sso_cookie(browser) is None and audit_events(Tag.LOGIN_SUCCESS.value, user.id) == []
    page = browser.client.get("/agreements/accept")
    html = text_of(page)
    assert page.status_code == 200 and "用户服务协议" in html and "隐私政策" in html
    assert "首次使用本平台前" in html
    done = browser.client.post("/agreements/accept", data={
        "csrf_token": csrf_from(html), "agree": "y", "decision": "accept"})
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    assert sso_cookie(browser) is not None
    assert accepted(user.id) == {("terms", VERSION), ("privacy", VERSION)}
    [event] = audit_events(Tag.AGREEMENTS_ACCEPTED.value, user.id)
    assert event.data == {"terms": VERSION, "privacy": VERSION}
    # the next login goes straight through
    again = Browser(app.test_client()).login(user, next_url="/account")
    assert again.headers["Location"] == "/account"


def test_accepting_needs_the_box_ticked(app, make_user):
    user = make_user(accepted_agreements=False)
    browser = Browser(app.test_client())
    browser.login(user)
    html = text_of(browser.client.get("/agreements/accept"))
    refused = browser.client.post("/agreements/accept", data={
        "csrf_token": csrf_from(html), "decision": "accept"})
    assert refused.status_code == 400 and "请勾选同意" in text_of(refused)
    assert sso_cookie(browser) is None and accepted(user.id) == set()


def test_declining_signs_nobody_in_says_why_and_is_audited(app, make_user):
    user = make_user(accepted_agreements=False)
    browser = Browser(app.test_client())
    browser.login(user)
    html = text_of(browser.client.get("/agreements/accept"))
    declined = browser.client.post("/agreements/accept", data={
        "csrf_token": csrf_from(html), "decision": "decline"})
    assert declined.status_code == 303 and "declined=1" in declined.headers["Location"]
    assert sso_cookie(browser) is None and accepted(user.id) == set()
    assert len(audit_events(Tag.AGREEMENTS_DECLINED.value, user.id)) == 1
    login_page = browser.client.get(declined.headers["Location"])
    assert "您未同意用户服务协议和隐私政策，因此未登录。" in text_of(login_page)
    # the pending sign-in is gone: the page sends the person back to log in
    assert browser.client.get("/agreements/accept").headers["Location"].endswith("/login")


def test_the_acceptance_page_without_a_pending_sign_in_sends_to_the_login(app):
    response = app.test_client().get("/agreements/accept")
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")


def test_a_new_version_asks_again_and_records_only_what_changed(app, make_user, tmp_path):
    user = make_user()  # accepted 2026-11-01 of both
    folder = brand_copy(tmp_path, **{'key = "privacy"\nversion = "2026-11-01"':
                                     'key = "privacy"\nversion = "2027-01-01"'})
    with app_like(app, brand_dir=str(folder)) as newer, newer.app_context():
        browser = Browser(newer.test_client())
        first = browser.login(user, next_url="/account")
        assert first.headers["Location"].endswith("/agreements/accept")
        html = text_of(browser.client.get("/agreements/accept"))
        assert "以下协议已更新" in html and "隐私政策" in html and "2027-01-01" in html
        assert "doc-terms" not in html  # the unchanged document is not asked again
        browser.client.post("/agreements/accept", data={
            "csrf_token": csrf_from(html), "agree": "y", "decision": "accept"})
        assert sso_cookie(browser) is not None
    assert accepted(user.id) == {("terms", VERSION), ("privacy", VERSION),
                                 ("privacy", "2027-01-01")}


def test_registration_records_the_acceptance_with_the_versions(app, browser, sms_platform):
    from tests.integration.citizens import register

    response = register(browser, sms_platform, "13712340001", "Correct-Horse-9")
    assert response.status_code == 303
    user = db.session.execute(select(User).where(User.phone == "13712340001")).scalar_one()
    assert accepted(user.id) == {("terms", VERSION), ("privacy", VERSION)}


def test_registration_without_the_box_ticked_creates_nothing(app, browser, sms_platform):
    from tests.conftest import last_code
    from tests.integration.citizens import send_register_code

    send_register_code(browser, "13712340002")
    response = browser.client.post("/register", data={
        "r-csrf_token": csrf(browser),
        "step": "create", "r-code": last_code(sms_platform, "13712340002", "register"),
        "r-password": "Correct-Horse-9", "r-confirm": "Correct-Horse-9"})
    assert response.status_code == 400
    assert "请阅读并同意用户服务协议和隐私政策。" in text_of(response)
    assert db.session.execute(select(User).where(User.phone == "13712340002")).first() is None


def test_a_chosen_username_signs_in_and_is_released_a_made_up_one_is_never_shown(
        app, browser, sms_platform):
    from tests.integration.citizens import register

    register(browser, sms_platform, "13712340003", "Correct-Horse-9", name="")
    made_up = db.session.execute(select(User).where(User.phone == "13712340003")).scalar_one()
    assert made_up.username_chosen is False
    home = text_of(browser.client.get("/"))
    assert "137****0003" in home and made_up.username not in home
    account = text_of(browser.client.get("/account"))
    assert made_up.username not in account
    from idp.oauth.services import user_claims

    assert "preferred_username" not in user_claims(made_up, "openid profile")

    other = Browser(app.test_client())
    from tests.integration.citizens import send_register_code

    send_register_code(other, "13712340004")
    from tests.conftest import last_code

    other.client.post("/register", data={
        "r-csrf_token": csrf(other), "step": "create",
        "r-code": last_code(sms_platform, "13712340004", "register"),
        "r-password": "Correct-Horse-9", "r-confirm": "Correct-Horse-9",
        "r-username": "wang.wu", "r-agree": "y"})
    chosen = db.session.execute(select(User).where(User.phone == "13712340004")).scalar_one()
    assert chosen.username == "wang.wu" and chosen.username_chosen is True
    assert user_claims(chosen, "openid profile")["preferred_username"] == "wang.wu"


def test_a_taken_username_is_refused_on_the_form_and_the_code_still_works(
        app, browser, sms_platform, make_user):
    from tests.conftest import last_code
    from tests.integration.citizens import send_register_code

    make_user(username="zhao.liu")
    send_register_code(browser, "13712340005")
    code = last_code(sms_platform, "13712340005", "register")
    form = {"step": "create", "r-code": code, "r-password": "Correct-Horse-9",
            "r-confirm": "Correct-Horse-9", "r-agree": "y"}
    taken = browser.client.post("/register", data={
        **form, "r-csrf_token": csrf(browser),
        "r-username": "zhao.liu"})
    assert taken.status_code == 400 and "该用户名已被使用" in text_of(taken)
    done = browser.client.post("/register", data={
        **form, "r-csrf_token": csrf(browser), "r-username": ""})
    assert done.status_code == 303


def test_the_pages_wear_the_configured_brand(app, tmp_path):
    folder = brand_copy(tmp_path, **{
        'region = "广东省"': 'region = "深圳市"',
        'subtitle = "广东省网上办事大厅"': 'subtitle = "深圳市网上办事大厅"',
        'sponsor = "广东省政务服务和数据管理局"': 'sponsor = "深圳市政务服务和数据管理局"',
        'sponsor_en = "Guangdong Government Service and Data Administration"': 'sponsor_en = ""',
        'icp = ""': 'icp = "粤ICP备12345678号"',
        'psb = ""': 'psb = "粤公网安备 44030000000001号"',
        'hotline = "12345"': 'hotline = "0755-12345"',
        '# emblem = "emblem.png"': 'emblem = "emblem.svg"',
        'colour = "#b3261e"': 'colour = "#004b87"'})
    (folder / "emblem.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
        '<circle cx="20" cy="20" r="18" fill="#fff"/></svg>', encoding="utf-8")
    with app_like(app, brand_dir=str(folder)) as city, city.app_context():
        client = city.test_client()
        html = text_of(client.get("/login"))
        for shown in ("深圳市网上办事大厅", "深圳市政务服务和数据管理局", "粤ICP备12345678号",
                      "粤公网安备 44030000000001号", "0755-12345", "/brand/emblem"):
            assert shown in html, shown
        assert "广东省" not in html
        emblem = client.get("/brand/emblem")
        assert emblem.status_code == 200 and emblem.mimetype == "image/svg+xml"
        assert emblem.get_data().startswith(b"<svg")
        emblem.close()
        assert client.get("/brand/style.css").get_data(as_text=True) == \
            ":root { --brand: #004b87; }\n"
        english = text_of(client.get("/login?ui_locales=en"))
        assert "Guangdong Government Service and Data Administration" not in english
        assert "深圳市政务服务和数据管理局" in english  # no English given: the Chinese name


def test_the_default_brand_is_the_guangdong_look_with_links_to_both_documents(app):
    client = app.test_client()
    html = text_of(client.get("/login"))
    assert 'class="emblem" aria-hidden="true">粤</span>' in html
    assert "广东省政务服务和数据管理局" in html and "12345" in html
    assert 'href="/agreements/terms"' in html and 'href="/agreements/privacy"' in html
    assert client.get("/brand/emblem").status_code == 404  # no image: the badge
    terms = client.get("/agreements/terms")
    assert terms.status_code == 200 and "版本 2026-11-01" in text_of(terms)
    english = text_of(client.get("/agreements/privacy?ui_locales=en"))
    assert "<h1>Privacy Policy</h1>" in english and 'lang="en"' in english
    assert client.get("/agreements/other").status_code == 404


@pytest.mark.parametrize("replace, says", [
    ({'hotline = "12345"': 'hotline = ""'}, "hotline must be a non-empty string"),
    ({'colour = "#b3261e"': 'colour = "red"'}, "colour must be #rrggbb"),
    ({'colour = "#b3261e"': 'colour = "#f0b429"'}, "too light for the banner's white text"),
    ({'# emblem = "emblem.png"': 'emblem = "missing.png"'}, "emblem must name"),
    ({'zh = "terms.zh.html"': 'zh = "nope.html"'}, "not a readable UTF-8 file"),
    ({'key = "privacy"': 'key = "cookies"'}, 'key "terms"'),
    ({'version = "2026-11-01"': 'version = "1 / 2"'}, "version must be"),
])
def test_a_broken_brand_folder_stops_the_start_with_a_sentence(tmp_path, replace, says):
    folder = brand_copy(tmp_path, **replace)
    with pytest.raises(BrandError, match=says):
        load_brand(folder)


def test_a_missing_brand_folder_is_a_settings_error_naming_the_variable(tmp_path):
    from idp import create_app

    with pytest.raises(SettingsError, match="IDP_BRAND_DIR"):
        create_app(Settings.from_env({}, env="test", brand_dir=str(tmp_path / "nowhere")))
