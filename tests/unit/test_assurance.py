"""The assurance rules (idp/accounts/assurance.py, ADR 0006): which amr a set of factors gives
(`mfa` only for a knowledge and a possession factor), which acr a session may assert, and which
methods a login's second step or a step-up may offer.
"""

from __future__ import annotations

from itertools import combinations, permutations

from idp.accounts.assurance import (
    METHOD_FACTORS,
    amr_for,
    has_mfa,
    level_needs_mfa,
    login_second_step,
    session_acr,
    step_up_methods,
)

MFA_LEVELS = frozenset({4, 5})
PROVIDER_VALUES = ("pwd", "sms", "otp", "mfa", "junk")


def _subsets(values):
    for size in range(len(values) + 1):
        yield from combinations(values, size)


# --- amr_for: what a set of factors gives ---
def test_a_password_and_an_sms_code_give_mfa():
    assert amr_for(["pwd", "sms"]) == ["mfa", "pwd", "sms"]


def test_a_password_and_an_app_or_recovery_code_give_mfa():
    assert amr_for(["pwd", "otp"]) == ["mfa", "otp", "pwd"]


def test_a_password_with_both_possession_factors_gives_mfa_once():
    assert amr_for(["pwd", "sms", "otp"]) == ["mfa", "otp", "pwd", "sms"]


def test_the_order_of_the_factors_does_not_matter():
    assert amr_for(["sms", "pwd"]) == amr_for(["pwd", "sms"]) == ["mfa", "pwd", "sms"]


def test_an_sms_code_twice_is_not_mfa():
    assert amr_for(["sms", "sms"]) == ["sms"]


def test_an_app_code_and_an_sms_code_are_two_possession_factors_and_not_mfa():
    assert amr_for(["otp", "sms"]) == ["otp", "sms"]
    assert amr_for(["sms", "otp"]) == ["otp", "sms"]


def test_an_app_code_twice_is_not_mfa():
    assert amr_for(["otp", "otp"]) == ["otp"]


def test_a_password_alone_is_not_mfa():
    assert amr_for(["pwd"]) == ["pwd"]
    assert amr_for(["pwd", "pwd"]) == ["pwd"]


def test_an_injected_mfa_marker_without_the_factors_is_dropped():
    assert amr_for(["mfa"]) == []
    assert amr_for(["mfa", "pwd"]) == ["pwd"]
    assert amr_for(["mfa", "sms"]) == ["sms"]
    assert amr_for(["mfa", "otp", "sms"]) == ["otp", "sms"]
    assert has_mfa(["mfa"]) is False
    assert has_mfa(["mfa", "pwd"]) is False


def test_unknown_values_are_dropped_and_never_give_mfa():
    assert amr_for(["pwd", "hwk"]) == ["pwd"]
    assert amr_for(["face", "sms"]) == ["sms"]
    assert amr_for(["PWD", "SMS", " pwd", "sms ", "kba", ""]) == []
    assert amr_for(["pwd", "swk", "fpt"]) == ["pwd"]
    assert has_mfa(["pwd", "hwk"]) is False


def test_no_factors_give_an_empty_amr():
    assert amr_for([]) == []
    assert has_mfa([]) is False


def test_mfa_appears_exactly_when_a_password_and_a_possession_factor_are_present():
    """Every subset of {pwd, sms, otp, mfa, junk}, in every order: mfa iff pwd and (sms or
    otp); the rest is the known factors, each once, sorted."""
    checked = 0
    for subset in _subsets(PROVIDER_VALUES):
        present = set(subset)
        expected_mfa = "pwd" in present and bool(present & {"sms", "otp"})
        expected = sorted((present & {"pwd", "sms", "otp"}) | ({"mfa"} if expected_mfa
                                                               else set()))
        for order in permutations(subset):
            assert amr_for(order) == expected, order
            assert amr_for([*order, *order]) == expected, order  # repeats change nothing
            assert has_mfa(order) is expected_mfa, order
            checked += 1
    assert checked == 326  # sum of k! * C(5, k): every order of every subset


# --- session_acr: the level a session may assert ---
def test_levels_4_and_5_are_capped_to_3_without_mfa():
    for level in (4, 5):
        for amr in (["pwd"], ["sms"], ["otp"], ["otp", "sms"], ["mfa"], ["mfa", "pwd"], []):
            assert session_acr(level, amr, MFA_LEVELS) == 3, (level, amr)


def test_levels_4_and_5_are_kept_with_mfa():
    assert session_acr(4, ["pwd", "sms"], MFA_LEVELS) == 4
    assert session_acr(5, ["pwd", "otp"], MFA_LEVELS) == 5
    assert session_acr(5, ["mfa", "otp", "pwd"], MFA_LEVELS) == 5


def test_levels_2_and_3_need_no_mfa():
    assert session_acr(2, ["pwd"], MFA_LEVELS) == 2
    assert session_acr(3, ["pwd"], MFA_LEVELS) == 3
    assert session_acr(3, ["sms"], MFA_LEVELS) == 3
    assert session_acr(3, ["pwd", "sms"], MFA_LEVELS) == 3


def test_other_mfa_levels_are_respected():
    every = frozenset({3, 4, 5})
    assert session_acr(5, ["pwd"], every) == 2
    assert session_acr(4, ["pwd"], every) == 2
    assert session_acr(3, ["pwd"], every) == 2
    assert session_acr(3, ["pwd", "otp"], every) == 3
    assert session_acr(5, ["pwd", "sms"], every) == 5
    only_5 = frozenset({5})
    assert session_acr(5, ["pwd"], only_5) == 4
    assert session_acr(4, ["pwd"], only_5) == 4
    assert session_acr(5, ["pwd", "otp"], only_5) == 5
    assert session_acr(5, ["pwd"], frozenset()) == 5


def test_level_2_is_the_floor_even_when_every_level_needs_mfa():
    assert session_acr(2, ["pwd"], frozenset({2, 3, 4, 5})) == 2
    assert session_acr(5, ["sms"], frozenset({2, 3, 4, 5})) == 2


def test_a_session_asserts_its_level_with_mfa_else_the_highest_needing_none():
    """Every level, amr subset and policy: the account's level with mfa; without it the
    highest level up to the account's that the policy lets a single factor assert."""
    for level in (2, 3, 4, 5):
        for subset in _subsets(PROVIDER_VALUES):
            for levels in (frozenset(), frozenset({5}), MFA_LEVELS, frozenset({3, 4, 5})):
                single = max(n for n in (2, 3, 4, 5) if n <= level and (n == 2 or
                                                                      n not in levels))
                expected = level if has_mfa(subset) else single
                assert session_acr(level, subset, levels) == expected, (level, subset, levels)


# --- step_up_methods: what turns a session into a multi-factor one ---
def _step_up(amr, *, has_totp=False, has_phone=True, sms_with_totp=False):
    return step_up_methods(amr, has_totp=has_totp, has_phone=has_phone,
                           sms_with_totp=sms_with_totp)


def test_a_password_session_with_an_app_is_offered_the_app_and_recovery_codes():
    assert _step_up(["pwd"], has_totp=True) == ["totp", "recovery"]
    assert _step_up(["pwd"], has_totp=True, has_phone=False) == ["totp", "recovery"]


def test_a_password_session_is_offered_sms_only_without_an_app_or_when_policy_allows():
    assert _step_up(["pwd"]) == ["sms"]
    assert _step_up(["pwd"], has_totp=True, sms_with_totp=True) == ["totp", "recovery", "sms"]
    assert _step_up(["pwd"], sms_with_totp=True) == ["sms"]


def test_a_password_session_without_phone_or_app_is_offered_nothing():
    assert _step_up(["pwd"], has_phone=False) == []
    assert _step_up(["pwd"], has_phone=False, sms_with_totp=True) == []


def test_an_sms_session_is_offered_the_password_only():
    for has_totp in (False, True):
        for sms_with_totp in (False, True):
            assert _step_up(["sms"], has_totp=has_totp, sms_with_totp=sms_with_totp) == \
                ["password"], (has_totp, sms_with_totp)


def test_an_sms_and_app_session_is_offered_the_password_only():
    for sms_with_totp in (False, True):
        assert _step_up(["otp", "sms"], has_totp=True, sms_with_totp=sms_with_totp) == \
            ["password"]


def test_a_multi_factor_session_is_offered_nothing():
    for amr in (["otp", "pwd"], ["pwd", "sms"], ["mfa", "otp", "pwd"], ["otp", "pwd", "sms"]):
        assert _step_up(amr, has_totp=True, sms_with_totp=True) == [], amr
        assert _step_up(amr) == [], amr


def test_an_injected_mfa_marker_does_not_spare_a_step_up():
    assert _step_up(["mfa", "pwd"]) == ["sms"]
    assert _step_up(["mfa", "sms"]) == ["password"]


def test_every_offered_step_up_adds_a_new_kind_and_completes_mfa():
    """Over every amr of a signed-in session (at least one factor) and every account option:
    an offered method never proves a factor the session already has, and finishing it always
    gives mfa."""
    sessions = [s for s in _subsets(PROVIDER_VALUES) if {"pwd", "sms", "otp"} & set(s)]
    assert len(sessions) == 28
    for subset in sessions:
        for has_totp in (False, True):
            for has_phone in (False, True):
                for sms_with_totp in (False, True):
                    methods = step_up_methods(subset, has_totp=has_totp, has_phone=has_phone,
                                              sms_with_totp=sms_with_totp)
                    for method in methods:
                        factor = METHOD_FACTORS[method]
                        assert factor not in subset, (subset, method)
                        assert has_mfa([*subset, factor]), (subset, method)
                    if has_mfa(subset):
                        assert methods == [], subset
                    if "sms" in methods:
                        assert has_phone and (sms_with_totp or not has_totp), subset
                    if "totp" in methods or "recovery" in methods:
                        assert has_totp, subset


# --- login_second_step: what may finish a login ---
def _second(amr, *, has_totp=True, has_phone=True, sms_with_totp=False):
    return login_second_step(amr, has_totp=has_totp, has_phone=has_phone,
                             sms_with_totp=sms_with_totp)


def test_a_login_without_an_app_has_no_second_step():
    for amr in (["pwd"], ["sms"]):
        for sms_with_totp in (False, True):
            assert _second(amr, has_totp=False, sms_with_totp=sms_with_totp) == [], amr


def test_a_login_with_an_app_asks_for_the_app_or_a_recovery_code():
    assert _second(["pwd"]) == ["totp", "recovery"]
    assert _second(["sms"]) == ["totp", "recovery"]
    assert _second(["pwd"], has_phone=False) == ["totp", "recovery"]


def test_sms_finishes_a_login_only_when_policy_allows_and_sms_was_not_the_first_factor():
    assert _second(["pwd"], sms_with_totp=True) == ["totp", "recovery", "sms"]
    assert _second(["pwd"], sms_with_totp=False) == ["totp", "recovery"]
    assert _second(["sms"], sms_with_totp=True) == ["totp", "recovery"]
    assert _second(["pwd"], has_phone=False, sms_with_totp=True) == ["totp", "recovery"]


def test_the_method_factors_are_the_documented_kinds():
    assert METHOD_FACTORS == {"password": "pwd", "sms": "sms", "totp": "otp",
                              "recovery": "otp"}


def test_a_level_above_a_listed_one_needs_mfa_too():
    """Levels are ordered: listing only "4" cannot let level 5 through on one factor."""
    assert [level_needs_mfa(level, {4}) for level in (2, 3, 4, 5)] == [False, False, True, True]
    assert session_acr(5, ["pwd"], {4}) == 3
    assert session_acr(5, ["pwd", "otp"], {4}) == 5


# --- trust levels from verification records (ADR 0008) ---
from pathlib import Path  # noqa: E402

from idp.accounts.assurance import derive_trust_level  # noqa: E402


def test_no_record_leaves_an_account_self_declared():
    assert derive_trust_level([]) == 2


def test_each_method_grants_at_most_its_own_level():
    assert derive_trust_level([("online_two_element", 5, "verified", False)]) == 3
    assert derive_trust_level([("online_real_person", 5, "verified", False)]) == 4
    assert derive_trust_level([("counter", 5, "verified", False)]) == 5


def test_only_a_verified_result_grants_anything():
    for result in ("no_match", "not_found", "face_mismatch", "bad_image", "unavailable",
                   "conflict", "invalid"):
        assert derive_trust_level([("counter", 5, result, False)]) == 2, result


def test_revoked_records_and_unknown_methods_grant_nothing():
    assert derive_trust_level([("counter", 5, "verified", True)]) == 2
    assert derive_trust_level([("self_service_claim", 5, "verified", False)]) == 2


def test_an_override_sets_the_level_and_earlier_records_stop_counting():
    records = [("counter", 5, "verified", False), ("override", 2, "verified", False)]
    assert derive_trust_level(records) == 2
    assert derive_trust_level([*records, ("online_two_element", 3, "verified", False)]) == 3


def test_the_level_never_drops_because_of_a_later_weaker_verification():
    records = [("online_real_person", 4, "verified", False),
               ("online_two_element", 3, "verified", False)]
    assert derive_trust_level(records) == 4


def test_nothing_but_recompute_writes_the_stored_trust_level():
    """ADR 0008: `user_account.trust_level` is a stored copy of the derived level."""
    root = Path(__file__).resolve().parents[2] / "idp"
    writers = [str(p.relative_to(root)) for p in root.rglob("*.py")
               if ".trust_level =" in p.read_text(encoding="utf-8")]
    assert writers == ["identity/services.py"]
    text = (root / "identity" / "services.py").read_text(encoding="utf-8")
    assert text.count(".trust_level =") == 1
