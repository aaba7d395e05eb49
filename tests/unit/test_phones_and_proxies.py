"""Two kinds of untrusted input with one canonical meaning.

Mobile numbers: full-width digits, separators and the +86 / 0086 / 86 country prefix fold to
the 11 ASCII digits that limits, uniqueness and login use (normalize_phone, is_mobile,
login_identifier).

Client addresses behind reverse proxies: X-Forwarded-For is believed only from the proxies
listed in IDP_TRUSTED_PROXIES, walking from the nearest hop back to the first untrusted one
(client_address, the TrustedProxies middleware, Settings.proxy_networks).
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from idp.accounts.phones import is_mobile, normalize_phone
from idp.accounts.services import login_identifier
from idp.security.proxies import TrustedProxies, client_address
from idp.settings import Settings, SettingsError

CANONICAL = "13912345678"


# --- mobile numbers ---
@pytest.mark.parametrize("typed", [
    "13912345678",
    "１３９１２３４５６７８",
    "139 1234 5678",
    "139-1234-5678",
    "(139) 1234.5678",
    "139\u30001234\u00a05678",
    "+86 139 1234 5678",
    "+8613912345678",
    "＋８６ １３９ １２３４ ５６７８",
    "0086 139 1234 5678",
    "008613912345678",
    "8613912345678",
    " 139-1234-5678 ",
], ids=["canonical", "full-width", "spaces", "dashes", "brackets-and-dots",
        "ideographic-and-no-break-spaces", "plus-86-spaced", "plus-86", "full-width-plus-86",
        "0086-spaced", "0086", "86", "surrounding-spaces"])
def test_every_spelling_of_a_mobile_number_normalises_to_its_eleven_digits(typed):
    assert normalize_phone(typed) == CANONICAL
    assert is_mobile(normalize_phone(typed)) is True


@pytest.mark.parametrize("raw", [None, ""])
def test_nothing_typed_normalises_to_the_empty_string(raw):
    assert normalize_phone(raw) == ""


def test_a_number_that_is_not_a_mobile_number_is_only_cleaned():
    assert normalize_phone("010-1234 5678") == "01012345678"
    assert is_mobile(normalize_phone("010-1234 5678")) is False


@pytest.mark.parametrize("value", [
    "１３９１２３４５６７８",
    "١٣٩١٢٣٤٥٦٧٨",
    "१३९१२३४५६७८",
    "1391234567",
    "139123456789",
    "+8613912345678",
    "8613912345678",
    "008613912345678",
    "139 1234 5678",
    "12912345678",
    "1391234567８",
    "",
    None,
], ids=["full-width", "arabic-indic", "devanagari", "10-digits", "12-digits", "plus-86",
        "86", "0086", "spaces", "second-digit-2", "one-full-width-digit", "empty", "none"])
def test_is_mobile_accepts_only_eleven_ascii_digits_of_a_mainland_mobile_number(value):
    assert is_mobile(value) is False


@pytest.mark.parametrize("digits", ["١٣٩١٢٣٤٥٦٧٨", "१३९१२३४५६७८"])
def test_digits_of_other_scripts_do_not_become_a_mobile_number(digits):
    assert is_mobile(normalize_phone(digits)) is False


@pytest.mark.parametrize("typed", ["１３９１２３４５６７８", "+86 139-1234-5678",
                                   "0086 13912345678", " 13912345678 "])
def test_a_typed_mobile_number_logs_in_as_its_canonical_form(typed):
    assert login_identifier(typed) == CANONICAL


@pytest.mark.parametrize(("typed", "meant"), [
    ("citizen1", "citizen1"),
    ("  citizen1\t", "citizen1"),
    ("ｃｉｔｉｚｅｎ１", "citizen1"),
    ("11010519491231002X", "11010519491231002X"),
    ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
])
def test_a_username_or_id_number_logs_in_folded_and_trimmed_but_not_as_a_phone(typed, meant):
    assert login_identifier(typed) == meant


# --- client addresses behind reverse proxies ---
def nets(*cidrs: str) -> tuple[Any, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


PROXIES = nets("10.0.0.0/8")


def test_without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says():
    assert client_address("198.51.100.1", "203.0.113.5", ()) == "198.51.100.1"


def test_an_untrusted_peer_is_the_client_even_when_it_sends_x_forwarded_for():
    assert client_address("198.51.100.1", "203.0.113.5", PROXIES) == "198.51.100.1"


@pytest.mark.parametrize("header", [None, ""])
def test_a_trusted_peer_without_x_forwarded_for_is_the_client(header):
    assert client_address("10.0.0.1", header, PROXIES) == "10.0.0.1"


def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client():
    # The leftmost entry is whatever the client claimed: never believed.
    assert client_address("10.0.0.1", "192.0.2.66, 203.0.113.5", PROXIES) == "203.0.113.5"


def test_a_chain_of_trusted_proxies_is_walked_back_to_the_client():
    assert client_address("10.0.0.1", "192.0.2.66, 203.0.113.5, 10.0.0.3, 10.0.0.2",
                          PROXIES) == "203.0.113.5"


def test_when_every_hop_is_a_trusted_proxy_the_farthest_one_is_the_client():
    assert client_address("10.0.0.1", "10.0.0.3, 10.0.0.2", PROXIES) == "10.0.0.3"


@pytest.mark.parametrize(("header", "client"), [
    ("unknown", "10.0.0.1"),
    ("203.0.113.5, garbage", "10.0.0.1"),
    ("203.0.113.5, garbage, 10.0.0.2", "10.0.0.2"),
    ("203.0.113.5, , 10.0.0.2", "10.0.0.2"),
    ("203.0.113.5 10.0.0.2", "10.0.0.1"),
    ("999.1.1.1", "10.0.0.1"),
    ("garbage, 203.0.113.5", "203.0.113.5"),
], ids=["word", "garbage-nearest", "garbage-behind-a-proxy", "empty-entry", "no-comma",
        "out-of-range", "garbage-beyond-the-client"])
def test_a_malformed_entry_stops_the_walk_at_the_last_proxy(header, client):
    assert client_address("10.0.0.1", header, PROXIES) == client


@pytest.mark.parametrize(("header", "client"), [
    ("203.0.113.5:51234", "203.0.113.5"),
    ("2001:db8::5", "2001:db8::5"),
    ("[2001:db8::5]:443", "2001:db8::5"),
    ("[2001:db8::5]", "2001:db8::5"),
    ("2001:DB8:0:0::5", "2001:db8::5"),
], ids=["v4-with-port", "v6", "v6-bracketed-with-port", "v6-bracketed", "v6-uncompressed"])
def test_forwarded_addresses_with_ports_and_ipv6_forms_are_read_and_normalised(header, client):
    assert client_address("10.0.0.1", header, PROXIES) == client


def test_an_ipv6_proxy_network_is_trusted_for_an_ipv6_peer():
    assert client_address("fd00::1", "2001:db8::5, fd00::2", nets("fd00::/8")) == "2001:db8::5"


def test_an_ipv4_network_does_not_trust_an_ipv6_peer():
    assert client_address("::1", "203.0.113.5", nets("127.0.0.1/32")) == "::1"


def test_a_peer_with_a_port_is_still_recognised_as_a_trusted_proxy():
    assert client_address("10.0.0.1:8443", "203.0.113.5", PROXIES) == "203.0.113.5"


def _environ_seen_by_the_app(trusted: tuple[Any, ...], environ: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def app(env: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(env)
        return [b""]

    TrustedProxies(app, trusted)(environ, lambda *args: None)
    return seen


def test_the_middleware_gives_the_app_the_client_address_and_keeps_the_peer():
    seen = _environ_seen_by_the_app(PROXIES, {"REMOTE_ADDR": "10.0.0.1",
                                              "HTTP_X_FORWARDED_FOR": "203.0.113.5"})
    assert seen["REMOTE_ADDR"] == "203.0.113.5"
    assert seen["idp.peer_addr"] == "10.0.0.1"


def test_the_middleware_without_trusted_proxies_changes_no_address():
    seen = _environ_seen_by_the_app((), {"REMOTE_ADDR": "10.0.0.1",
                                         "HTTP_X_FORWARDED_FOR": "203.0.113.5"})
    assert seen["REMOTE_ADDR"] == "10.0.0.1"
    assert seen["idp.peer_addr"] == "10.0.0.1"


def test_trusted_proxies_are_read_as_networks_separated_by_spaces_or_commas():
    settings = Settings.from_env({"IDP_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.10/32 fd00::/8"},
                                 env="test")
    assert settings.proxy_networks == nets("10.0.0.0/8", "192.168.1.10/32", "fd00::/8")


def test_no_trusted_proxies_by_default():
    assert Settings.from_env({}, env="test").proxy_networks == ()


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.internal", "10.0.0.0/8; 10.1.0.0/16"])
def test_a_malformed_trusted_proxy_setting_is_refused_naming_the_variable(value):
    with pytest.raises(SettingsError, match=r"^IDP_TRUSTED_PROXIES must be IP networks"):
        Settings.from_env({"IDP_TRUSTED_PROXIES": value}, env="test")
