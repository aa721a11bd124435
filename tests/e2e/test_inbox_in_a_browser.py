"""An agent's morning in the inbox: take a complaint from the Care queue, answer it with a saved
reply, resolve it; a colleague who opens the same conversation sees who is on it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def _login(page, server: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "clameur-demo")
    page.click("button[type=submit]")
    page.wait_for_selector(".sidebar")


def _settled(page) -> None:  # type: ignore[no-untyped-def]
    """Waits until no htmx request is in flight, so a key acts on what the page now shows."""
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def test_an_agent_answers_a_complaint_and_a_colleague_sees_her(page, browser, server: str) -> None:  # type: ignore[no-untyped-def]
    _login(page, server, "yanis@clameur.local")
    page.goto(server + "/inbox?queue=care")
    rows = page.locator("#inbox-list .conversation-row")
    rows.first.wait_for()
    # The most urgent conversation is open; j moves to the next one, k back; a takes it.
    page.locator("#conversation .thread").wait_for()
    page.keyboard.press("j")
    second = page.locator("#inbox-list .conversation-row.is-selected").get_attribute(
        "data-conversation"
    )
    page.locator(f'#conversation .thread[data-thread="{second}"]').wait_for()
    _settled(page)
    # The list refreshes itself: the row chosen with j stays the selected one.
    page.evaluate("htmx.trigger(document.body, 'inbox-changed')")
    page.wait_for_function(
        "(id) => document.querySelector('#inbox-list .conversation-row.is-selected')"
        "?.dataset.conversation === id && !document.querySelector('.htmx-request')",
        arg=second,
    )
    page.keyboard.press("k")
    conversation_id = rows.first.get_attribute("data-conversation")
    assert conversation_id != second
    page.locator(f'#conversation .thread[data-thread="{conversation_id}"]').wait_for()
    _settled(page)
    page.keyboard.press("a")
    page.wait_for_function(
        "() => (document.querySelector('#assignee')?.selectedOptions[0]?.text || '')"
        ".includes('Yanis')"
    )
    # The queues' counts follow without a reload: at least this one is hers now.
    page.wait_for_function(
        "() => parseInt(document.querySelector('#inbox-count-mine').textContent, 10) >= 1"
    )

    # A colleague opens the same conversation: each sees the other there.
    colleague_context = browser.new_context(viewport={"width": 1400, "height": 900})
    colleague = colleague_context.new_page()
    colleague.set_default_timeout(20_000)
    _login(colleague, server, "camille@clameur.local")
    colleague.goto(f"{server}/inbox?c={conversation_id}")
    page.locator("#presence .presence").first.wait_for(timeout=15_000)
    assert "Camille" in page.locator("#presence").inner_text()

    # r focuses the composer; a saved reply fills it; the reply goes out through the outbox.
    page.keyboard.press("r")
    page.select_option("#template", index=1)
    body = page.input_value("#reply-body")
    assert body and "{customer}" not in body
    page.click("text=" + ("Envoyer la réponse"))
    page.locator("#conversation .message-out, #conversation .outgoing").first.wait_for()
    # The colleague, who saw the conversation before that reply, is refused if she answers.
    colleague.fill("#reply-body", "Bonjour, on s'en occupe")
    colleague.click("text=Envoyer la réponse")
    colleague.locator("#conversation .alert-error").wait_for()
    assert "a répondu entre-temps" in colleague.locator("#conversation .alert-error").inner_text()
    colleague_context.close()

    # e resolves it: it leaves the open list.
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("e")
    page.locator("#conversation .status-resolved").wait_for()
    page.goto(server + "/inbox?queue=care")
    assert page.locator(f'[data-conversation="{conversation_id}"]').count() == 0

    # The bulk-action bar shows once a row is ticked, with how many are.
    assert not page.locator("#bulk").is_visible()
    rows.first.locator(".row-check").check()
    page.locator("#bulk").wait_for(state="visible")
    assert page.locator("#bulk [data-bulk-count]").inner_text().startswith("1 ")


def test_a_manager_tries_a_rule_before_saving_it(page, server: str) -> None:  # type: ignore[no-untyped-def]
    _login(page, server, "camille@clameur.local")
    page.goto(server + "/inbox")
    page.click("text=Règles")
    page.click("text=Nouvelle règle")
    page.fill("input[name=name]", "Réclamations influentes")
    # The condition is checked as it is typed; a mistake is shown where it is.
    page.type("#rule-condition", "intent:complaint AND (")
    page.locator("#condition-check .syntax-error").wait_for()
    page.fill("#rule-condition", "")
    page.type("#rule-condition", "intent:complaint")
    page.locator("#condition-check .validation-ok").wait_for()
    page.fill("input[name=tags]", "réclamation")
    # t tries the rule on the latest messages, before anything is saved.
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("t")
    page.locator("#trial .trial-count").wait_for()
    assert "derniers" in page.locator("#trial .trial-count").inner_text()
    page.click("text=Enregistrer la règle")
    page.locator(".alert-success").wait_for()
    assert "Réclamations influentes" in page.locator(".rules-table").inner_text()


def test_on_a_phone_a_conversation_opens_in_place_of_the_list(browser, server: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    phone.set_default_timeout(20_000)
    try:
        _login(phone, server, "yanis@clameur.local")
        phone.goto(server + "/inbox?queue=care")
        row = phone.locator("#inbox-list .conversation-row").nth(1)
        row.wait_for()
        assert not phone.locator("#conversation").is_visible()
        chosen = row.get_attribute("data-conversation")
        row.locator(".row-link").click()
        phone.locator(f'#conversation .thread[data-thread="{chosen}"]').wait_for()
        phone.locator("#inbox-list").wait_for(state="hidden")
        assert phone.locator("#conversation").bounding_box()["y"] < 844
        phone.click(".inbox-back")
        phone.locator("#inbox-list").wait_for(state="visible")
        assert not phone.locator("#conversation").is_visible()
    finally:
        context.close()
