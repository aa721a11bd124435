"""A new user's first minutes: log in to the demo, watch posts stream in, search with a query."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e


def _login(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/")
    assert "/login" in page.url
    page.fill("input[name=email]", "demo@clameur.local")
    page.fill("input[name=password]", "clameur-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("#feed article.post")


def test_a_wrong_password_is_refused(page, server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/login")
    page.fill("input[name=email]", "demo@clameur.local")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert "/login" in page.url
    assert page.locator("#feed").count() == 0


def test_new_posts_stream_into_the_listening_page(page, server: str) -> None:  # type: ignore[no-untyped-def]
    _login(page, server)
    first = page.locator("#feed article.post").first.get_attribute("data-post-id")
    # The demo stream and the live poller bring newer posts to the top without a reload.
    page.wait_for_function(
        "first => document.querySelector('#feed article.post').dataset.postId !== first",
        arg=first,
        timeout=30_000,
    )
    newest = page.locator("#feed article.post").first.get_attribute("data-post-id")
    assert int(newest or 0) > int(first or 0)


def test_a_boolean_query_narrows_the_stream(page, server: str) -> None:  # type: ignore[no-untyped-def]
    _login(page, server)
    page.fill("#query-box", "lueurs* OR #lueursfest OR @lueursfest")
    page.press("#query-box", "Enter")
    page.wait_for_url(re.compile(r"q=lueurs"))
    texts = page.locator("#feed article.post .post-text").all_inner_texts()
    assert texts, "the query should find posts about the festival"
    for text in texts:
        assert "lueurs" in text.lower(), text


def test_a_malformed_query_shows_where_the_problem_is(page, server: str) -> None:  # type: ignore[no-untyped-def]
    _login(page, server)
    page.fill("#query-box", "(navette OR shuttle")
    page.press("#query-box", "Enter")
    error = page.locator("#query-error")
    error.wait_for()
    message = error.inner_text().lower()
    assert "colonne 1" in message or "column 1" in message
    assert "(navette or shuttle\n^" in message


def test_a_post_s_sentiment_is_corrected_from_its_card(page, server: str) -> None:  # type: ignore[no-untyped-def]
    _login(page, server)
    card = page.locator("#feed article.post").nth(3)
    post_id = card.get_attribute("data-post-id")
    card.locator("summary.sentiment").click()
    # The menu's choices load when it opens; pick one the post does not have yet.
    choices = card.locator("button[aria-pressed=false]")
    choices.first.wait_for()
    wanted = choices.first.get_attribute("value")
    choices.first.click()
    fresh = page.locator(f"#post-{post_id}")
    fresh.locator(f"summary.sentiment-{wanted}").wait_for()
    assert fresh.locator(".corrected").count() == 1
