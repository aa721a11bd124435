"""The radar in a real browser: its charts are drawn, a rule is backtested, crisis mode works."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def _login_as_manager(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/login")
    page.fill("input[name=email]", "camille@clameur.local")
    page.fill("input[name=password]", "clameur-demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def test_the_radar_page_draws_its_charts(page, server: str) -> None:  # type: ignore[no-untyped-def]
    _login_as_manager(page, server)
    # The radar counts and scores the demo's posts in the background: wait for the band.
    for _attempt in range(30):
        page.goto(server + "/radar?period=7d")
        if page.locator("figure.chart-volume path.chart-band").count():
            break
        page.wait_for_timeout(1000)
    assert page.locator(".kpi-value").first.inner_text().strip() not in ("0", "")
    volume = page.locator("figure.chart-volume svg.chart-svg")
    volume.wait_for()
    box = volume.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 80
    line = page.locator("figure.chart-volume path.chart-line")
    assert len(line.get_attribute("d") or "") > 50
    assert page.locator("figure.chart-volume path.chart-band").count() == 1
    assert page.locator("figure.chart-share path.chart-line").count() == 1
    # Brand against competitors, one coloured segment per brand.
    assert page.locator("figure.chart-voice rect.chart-bar").count() > 0
    assert page.locator(".voice-legend li").count() >= 2
    # Hovering a bucket tells its figures.
    assert "publications" in (
        page.locator("figure.chart-volume .chart-hover rect title").last.text_content() or ""
    )


def test_a_manager_backtests_a_rule_then_switches_crisis_mode_on_and_off(page, server: str) -> None:  # type: ignore[no-untyped-def]
    _login_as_manager(page, server)
    page.goto(server + "/radar/rules")
    page.fill("#alert-rule-form input[name=name]", "Beaucoup de bruit")
    page.select_option("#alert-rule-form select[name=kind]", "volume")
    page.fill("#alert-rule-form input[name=threshold]", "5")
    page.click("text=Tester sur les 30 derniers jours")
    result = page.locator("#backtest-result")
    result.wait_for()
    page.wait_for_function(
        "() => document.querySelector('#backtest-result').innerText.includes('fois')"
    )
    page.click("#alert-rule-form button[type=submit]")
    page.wait_for_selector("text=Beaucoup de bruit")

    page.goto(server + "/radar/crisis")
    page.fill("input[name=reason]", "Tête d'affiche annulée")
    page.click("form.crisis-form button[type=submit]")
    page.wait_for_selector("text=Cellule de crise")
    page.goto(server + "/radar")
    assert page.locator(".crisis-banner").count() == 1
    page.goto(server + "/radar/crisis")
    page.click("text=Clore la crise et rédiger le bilan")
    page.wait_for_selector("text=Bilan de crise")
    assert page.locator("a[href$='report.md']").count() == 1
