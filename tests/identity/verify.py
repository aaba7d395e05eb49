"""Helpers for driving the self-service verification page like a browser."""

from __future__ import annotations

from typing import Any

from tests.conftest import Browser, csrf_from, remember_secret


def verify_page(browser: Browser, query: str = "") -> Any:
    return browser.client.get("/account/identity" + query)


def two_element(browser: Browser, name: str, number: str, query: str = "",
                **extra: str) -> Any:
    remember_secret(number)  # the suite-wide check: never in a log line or an audit row
    page = verify_page(browser, query)
    return browser.client.post("/account/identity" + query, data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "step": "two",
        "name": name, "id_number": number, **extra})


def with_photo(browser: Browser, photo: bytes, *, name: str | None = None,
               number: str | None = None, query: str = "", **extra: str) -> Any:
    """The level-4 form: name, number and photo; or the photo alone (`face`) when the account
    already holds a confirmed number."""
    import io

    remember_secret(number)
    page = verify_page(browser, query)
    step = "face" if name is None else "real"
    data: dict[str, Any] = {"csrf_token": csrf_from(page.get_data(as_text=True)),
                            "step": step, "photo": (io.BytesIO(photo), "me.png"),
                            **extra}
    if name is not None:
        data.update({"name": name, "id_number": number})
    return browser.client.post("/account/identity" + query, data=data,
                               content_type="multipart/form-data")
