"""Where a page may send the person next (`next`): only a same-origin path.

is_local_path parses the target and refuses anything a browser could turn into another site:
a scheme, a host ("//"), a backslash, control or space characters (browsers drop tabs and
newlines, so "/\\t/evil" becomes "//evil"), dot segments, encoded slashes, backslashes and
controls, and absurd lengths. safe_next falls back to the home page.
"""

from __future__ import annotations

import pytest

from idp.accounts.views.common import is_local_path, safe_next


@pytest.mark.parametrize("target", [
    "/",
    "/account",
    "/authorize?redirect_uri=https%3A%2F%2Frp%2Fcb&x=1",
])
def test_a_same_origin_path_is_a_local_target(target):
    assert is_local_path(target) is True


@pytest.mark.parametrize("target", [
    "//evil.example",
    "/\\evil",
    "/\t/evil.example",
    "/%09/evil",
    "/%2F%2Fevil",
    "/%5cevil",
    "/..//evil",
    "/a/../b",
    "https://evil",
    "javascript:alert(1)",
    "/a\r\nSet-Cookie: x",
    " /x",
    "",
    "/" + "a" * 4999,
], ids=["protocol-relative", "backslash", "tab", "encoded-tab", "encoded-slashes",
        "encoded-backslash", "dot-dot-then-slashes", "dot-dot", "absolute-url", "javascript",
        "crlf-header-injection", "leading-space", "empty", "5000-characters"])
def test_anything_a_browser_could_resolve_elsewhere_is_not_a_local_target(target):
    assert is_local_path(target) is False


def test_none_is_not_a_local_target():
    assert is_local_path(None) is False


def test_safe_next_keeps_a_local_path_with_its_query(app):
    with app.test_request_context():
        assert safe_next("/authorize?redirect_uri=https%3A%2F%2Frp%2Fcb&x=1") == \
            "/authorize?redirect_uri=https%3A%2F%2Frp%2Fcb&x=1"


@pytest.mark.parametrize("target", [None, "", "//evil.example", "/\t/evil.example",
                                    "https://evil.example/"])
def test_safe_next_sends_anything_else_to_the_home_page(app, target):
    with app.test_request_context():
        assert safe_next(target) == "/"
