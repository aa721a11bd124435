"""On a 390-pixel phone: the sidebar folds into a "Menu" button, no page scrolls sideways."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def _login_as_manager(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/login")
    page.fill("input[name=email]", "camille@clameur.local")
    page.fill("input[name=password]", "clameur-demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def _page_width(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _open(page, url: str) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(url)
    assert response is not None and response.status == 200, url


def test_the_phone_menu_unfolds_the_sidebar_and_leads_to_the_radar(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(PHONE)
    _login_as_manager(page, server)
    page.goto(server + "/listening")
    toggle = page.locator(".nav-toggle")
    radar = page.locator(".sidebar-panel a[href='/radar']")
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not radar.is_visible()

    # The keyboard opens it, Escape folds it and gives the focus back to the button.
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    for link in ("/radar", "/queries", "/queries/new", "/settings/accounts", "/docs"):
        assert page.locator(f".sidebar-panel a[href='{link}']").is_visible(), link
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.classList.contains('nav-toggle')")
    assert not radar.is_visible()

    toggle.click()
    radar.click()
    page.wait_for_url("**/radar")
    assert page.url == server + "/radar"


@pytest.mark.parametrize("path", ["/listening", "/radar"])
def test_a_page_is_no_wider_than_a_phone(page, server: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(PHONE)
    _login_as_manager(page, server)
    _open(page, server + path)
    assert page.locator("h1").count() == 1
    assert _page_width(page) <= PHONE["width"]
    page.locator(".nav-toggle").click()
    assert _page_width(page) <= PHONE["width"]
