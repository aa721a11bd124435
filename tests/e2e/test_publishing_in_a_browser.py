"""Publishing in a real browser: the demo's due post goes out, a new one is counted,
scheduled for several networks, and shown on its day of the month grid."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_a_manager_sees_the_demo_post_published_and_schedules_another(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/login")
    page.fill("input[name=email]", "camille@clameur.local")
    page.fill("input[name=password]", "clameur-demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    # The demo's runner publishes the post that was due when the demo was loaded.
    # (up to 30 s: the first test to run may meet a server that has only just started)
    for _attempt in range(60):
        page.goto(server + "/publish")
        if page.locator(".publish-item .state-ok", has_text="publiée").count() >= 2:
            break
        page.wait_for_timeout(500)
    assert page.locator(".publish-item .state-ok", has_text="publiée").count() >= 2
    assert page.locator(".publish-day").count() >= 2

    page.check(".publish-form .chip.net-x input")
    page.check(".publish-form .chip.net-mastodon input")
    page.fill("#publish-body", "a" * 290)
    counts = page.locator("[data-counts]")
    assert "X : 10 caractères de trop" in counts.inner_text()
    assert "Mastodon : encore 210 caractères" in counts.inner_text()
    assert page.locator("[data-counts] .badge.is-over").count() == 1
    page.fill("#publish-body", "Les horaires de dimanche sont en ligne.")
    assert page.locator("[data-counts] .badge.is-over").count() == 0
    page.check("input[name=when][value=later]")
    page.fill("#scheduled-at", "2031-07-14T10:00")
    page.click(".publish-form button[type=submit]")
    page.wait_for_selector("text=Programmée.")
    card = page.locator(".publish-item", has_text="Les horaires de dimanche")
    assert card.count() == 1
    assert card.locator(".publish-targets li").count() == 2

    # The month view shows it as a chip on its day, which leads to its card in that day's list.
    page.click(".publish-views a[href^='/publish?view=month']")
    page.wait_for_selector(".month-grid")
    assert page.locator(".month-grid th abbr").first.get_attribute("title") == "lundi"
    page.goto(server + "/publish?view=month&month=2031-07")
    chip = page.locator(
        ".month-day:has(time[datetime='2031-07-14']) .month-chip", has_text="Les horaires"
    )
    chip.wait_for()
    assert chip.locator("time").inner_text() == "10:00"
    assert chip.locator(".month-dot").count() == 2
    chip.click()
    page.wait_for_url("**/publish?view=list&day=2031-07-14#publication-*")
    assert page.locator(".publish-item", has_text="Les horaires de dimanche").is_visible()
