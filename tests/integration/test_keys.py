"""Keys apart (design.md "Keys"): the cookie secret signs cookies only; values sealed at rest
name the keyring key that sealed them and rotate with `idp keys reseal`; lookups and pairwise
subjects use a stable pepper, so rotating the cookie secret changes neither."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from idp.accounts.models import User
from idp.audit.actors import Actor
from idp.extensions import db
from idp.oauth.models import SigningKey
from idp.reseal import reseal
from idp.security.crypto import Keyring, SealingBox, SecretBox
from tests.conftest import TEST_SECRET, app_like, remember_secret

OLD = "k1:" + "o" * 8 + secrets.token_urlsafe(32)
NEW = "k2:" + "n" * 8 + secrets.token_urlsafe(32)
PEPPER = "pepper-" + secrets.token_urlsafe(32)
ID_NUMBER = "11010519491231002X"


def test_a_sealed_value_names_its_key_and_any_key_of_the_ring_opens_it():
    old = Keyring.parse(OLD)
    sealed = old.box("id-number").seal(ID_NUMBER)
    assert sealed.startswith("v2.k1.")
    rotated = Keyring.parse(NEW + " " + OLD)
    assert rotated.box("id-number").open(sealed) == ID_NUMBER
    assert rotated.box("id-number").seal(ID_NUMBER).startswith("v2.k2.")
    assert SealingBox(Keyring.parse(NEW), "id-number").is_current(sealed) is False


def test_values_sealed_before_keyrings_still_open_with_the_secret_they_came_from():
    legacy = SecretBox(TEST_SECRET, "totp").seal("JBSWY3DPEHPK3PXP")
    assert Keyring.parse(NEW, legacy_secret=TEST_SECRET).box("totp").open(legacy) == \
        "JBSWY3DPEHPK3PXP"


def app_with_keys(app, database: str, **values):
    """An app on a database of its own (its signing keys sealed under its own keyring)."""
    return app_like(app, database_url=database, **values)


def _first_app(app, database: str, **values) -> None:
    with app_with_keys(app, database, **values) as first, first.app_context():
        from flask_migrate import upgrade

        upgrade()
        first.extensions["idp.provider"].keys.ensure_keys()
        remember_secret("Correct-Horse-9")
        user = first.extensions["idp.accounts"].create_user(
            username="citizen-sealed", password="Correct-Horse-9")
        first.extensions["idp.identity"].override(user, 3, reason="test", number=ID_NUMBER,
                                                  actor=Actor.operator("tests"))
        db.session.commit()


def test_reseal_moves_every_sealed_value_onto_the_new_key_and_can_run_again(app, tmp_path):
    database = "sqlite:///" + str(tmp_path / "keys.db")
    _first_app(app, database, sealing_keys=OLD, lookup_pepper=PEPPER)
    with app_with_keys(app, database, sealing_keys=NEW + " " + OLD,
                       lookup_pepper=PEPPER) as rotated, rotated.app_context():
        keyring = rotated.extensions["idp.keyring"]
        done = reseal(keyring, batch=1)
        assert done == {"ID numbers": 1, "authenticator secrets": 0,
                        "disputed document numbers": 0, "signing keys": 2}
        user = db.session.execute(select(User)).scalar_one()
        assert user.id_number_sealed.startswith("v2.k2.")
        assert rotated.extensions["idp.accounts"].masked_id_number(user) == \
            "1101**********002X"
        keys = db.session.execute(select(SigningKey)).scalars().all()
        assert all(k.private_sealed.startswith("v2.k2.") for k in keys)
        assert rotated.extensions["idp.provider"].keys.jwks()["keys"]  # still usable
        assert reseal(keyring) == {"ID numbers": 0, "authenticator secrets": 0,
                                   "disputed document numbers": 0, "signing keys": 0}
    with app_with_keys(app, database, sealing_keys=NEW, lookup_pepper=PEPPER) as only_new, \
            only_new.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert only_new.extensions["idp.accounts"].masked_id_number(user) == \
            "1101**********002X"  # the old key can now leave the ring


def test_rotating_the_cookie_secret_keeps_lookups_and_pairwise_subjects(app, tmp_path):
    database = "sqlite:///" + str(tmp_path / "pepper.db")
    _first_app(app, database, sealing_keys=OLD, lookup_pepper=PEPPER)
    with app_with_keys(app, database, lookup_pepper=PEPPER, sealing_keys=OLD) as before, \
            before.app_context():
        sub = before.extensions["idp.provider"].tokens.pairwise.digest("sector|u")
    new_cookie_secret = "cookie-" + secrets.token_urlsafe(40)
    with app_with_keys(app, database, secret_key=new_cookie_secret, lookup_pepper=PEPPER,
                       sealing_keys=OLD) as after, after.app_context():
        found = after.extensions["idp.accounts"].find_by_login(ID_NUMBER)
        assert found is not None and found.username == "citizen-sealed"
        assert after.extensions["idp.accounts"].masked_id_number(found) == "1101**********002X"
        assert after.extensions["idp.provider"].tokens.pairwise.digest("sector|u") == sub
