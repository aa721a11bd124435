"""The inbox page: conversations listed by urgency, one opened with its customer, the team's
actions (assign, resolve, note, tag, bulk), and who else is on a conversation."""

from __future__ import annotations

from clameur.models import AuditEvent, Conversation, NetworkAccount, Note
from clameur.store.engine import unit_of_work

HTMX = {"HX-Request": "true"}


def _brand(build, workspace):  # type: ignore[no-untyped-def]
    with unit_of_work(build.factory) as session:
        session.add(NetworkAccount(workspace_id=workspace, network="x", handle="acme"))


def _conversation(build, workspace, text="@acme my refund never came, this is a scandal"):  # type: ignore[no-untyped-def]
    _brand(build, workspace)
    build.store(
        workspace,
        [build.post(text=text, author={"handle": "marie", "name": "Marie", "followers": 48000})],
    )
    [conversation] = build.all(Conversation)
    return conversation.id


def test_the_inbox_lists_conversations_and_opens_the_first(agent, build, workspace):
    conversation_id = _conversation(build, workspace)
    page = agent.get("/inbox")
    assert page.status_code == 200
    assert "Marie" in page.text and "my refund never came" in page.text
    assert f'data-conversation="{conversation_id}"' in page.text
    # The default rules sent the complaint to the Care queue, named in the reader's language.
    assert "Service client" in page.text and ">Care<" not in page.text
    pane = agent.get(f"/inbox/c/{conversation_id}", headers=HTMX)
    assert "my refund never came" in pane.text and 'data-key="e"' in pane.text


def test_an_agent_takes_resolves_and_notes_a_conversation(agent, build, workspace):
    conversation_id = _conversation(build, workspace)
    token = agent.csrf("/inbox")
    for path, data in (
        ("assign", {"assignee": "me"}),
        ("note", {"body": "Refund sent by bank transfer"}),
        ("tags", {"add": "refund"}),
        ("status", {"status": "resolved"}),
    ):
        response = agent.post(
            f"/inbox/c/{conversation_id}/{path}", data={**data, "csrf_token": token}, headers=HTMX
        )
        assert response.status_code == 200, (path, response.text[:300])
        assert response.headers["HX-Trigger"] == "inbox-changed"
    conversation = build.load(Conversation, conversation_id)
    assert conversation.status == "resolved" and conversation.assignee_id is not None
    assert conversation.tags == ["refund"]
    assert [note.body for note in build.all(Note)] == ["Refund sent by bank transfer"]
    actions = [event.action for event in build.all(AuditEvent)]
    assert {"assigned", "noted", "tagged", "status"} <= set(actions)
    # Resolved conversations leave the open list.
    assert f'data-conversation="{conversation_id}"' not in agent.get("/inbox/list").text
    assert f'data-conversation="{conversation_id}"' in agent.get("/inbox/list?status=resolved").text


def test_bulk_actions_apply_to_every_selected_conversation(agent, build, workspace):
    _brand(build, workspace)
    build.store(workspace, [build.post(text=f"@acme question {n}?") for n in range(3)])
    ids = [conversation.id for conversation in build.all(Conversation)]
    token = agent.csrf("/inbox")
    response = agent.post(
        "/inbox/bulk", data={"ids": ids, "action": "resolve", "csrf_token": token}, headers=HTMX
    )
    assert response.status_code == 204
    assert {c.status for c in build.all(Conversation)} == {"resolved"}


def test_bulk_assignment_gives_the_selected_conversations_to_a_colleague(agent, build, workspace):
    _brand(build, workspace)
    build.store(workspace, [build.post(text=f"@acme question {n}?") for n in range(2)])
    bob = build.user(email="bob@example.com", name="Bob Martin")
    ids = [conversation.id for conversation in build.all(Conversation)]
    token = agent.csrf("/inbox")
    response = agent.post(
        "/inbox/bulk",
        data={"ids": ids, "action": "assign", "assignee": str(bob), "csrf_token": token},
        headers=HTMX,
    )
    assert response.status_code == 204
    assert {c.assignee_id for c in build.all(Conversation)} == {bob}
    history = [e.data for e in build.all(AuditEvent) if e.action == "assigned"]
    assert [entry["to"] for entry in history] == [bob, bob]


def test_a_second_agent_sees_who_is_on_the_conversation(agent, build, workspace, app, browser_for):
    conversation_id = _conversation(build, workspace)
    agent.get(f"/inbox/c/{conversation_id}", headers=HTMX)  # Ann opens it
    build.user(email="bob@example.com", name="Bob Martin")
    bob = browser_for(app)
    assert bob.sign_in("bob@example.com").status_code == 303
    token = bob.csrf("/inbox")
    seen = bob.post(
        f"/inbox/c/{conversation_id}/presence",
        data={"state": "viewing", "csrf_token": token},
        headers=HTMX,
    )
    assert "Ann Example" in seen.text
    typing = agent.post(
        f"/inbox/c/{conversation_id}/presence",
        data={"state": "typing", "csrf_token": agent.csrf("/inbox")},
        headers=HTMX,
    )
    assert "Bob Martin" in typing.text
    again = bob.post(
        f"/inbox/c/{conversation_id}/presence",
        data={"state": "viewing", "csrf_token": token},
        headers=HTMX,
    )
    assert "Ann Example" in again.text and "écrit" in again.text


def test_a_viewer_cannot_act_on_conversations(viewer, build, workspace):
    conversation_id = _conversation(build, workspace)
    page = viewer.get("/inbox")
    assert page.status_code == 200 and 'data-key="e"' not in page.text
    response = viewer.post(
        f"/inbox/c/{conversation_id}/status",
        data={"status": "resolved", "csrf_token": viewer.csrf("/inbox")},
        headers=HTMX,
    )
    assert response.status_code == 403


def test_a_reply_goes_through_the_outbox_and_a_late_colleague_is_refused(
    agent, build, workspace, app, browser_for
):
    conversation_id = _conversation(build, workspace)
    pane = agent.get(f"/inbox/c/{conversation_id}", headers=HTMX).text
    seen = pane.split('name="seen_item_id" value="')[1].split('"')[0]
    token = agent.csrf("/inbox")
    sent = agent.post(
        f"/inbox/c/{conversation_id}/reply",
        data={"body": "Sorry Marie, we are on it", "seen_item_id": seen, "csrf_token": token},
        headers=HTMX,
    )
    assert sent.status_code == 200 and "Sorry Marie, we are on it" in sent.text
    # Bob opened the conversation before Ann's reply, and answers too: refused, shown Ann's.
    build.user(email="bob@example.com", name="Bob Martin")
    bob = browser_for(app)
    assert bob.sign_in("bob@example.com").status_code == 303
    late = bob.post(
        f"/inbox/c/{conversation_id}/reply",
        data={"body": "Hello!", "seen_item_id": seen, "csrf_token": bob.csrf("/inbox")},
        headers=HTMX,
    )
    assert late.status_code == 409
    assert "Ann Example" in late.text and "Sorry Marie, we are on it" in late.text
    assert "Hello!" in late.text  # the draft is kept


def test_a_reply_too_long_for_the_network_is_refused_with_the_limit(agent, build, workspace):
    conversation_id = _conversation(build, workspace)
    response = agent.post(
        f"/inbox/c/{conversation_id}/reply",
        data={"body": "x" * 300, "seen_item_id": "", "csrf_token": agent.csrf("/inbox")},
        headers=HTMX,
    )
    assert response.status_code == 400 and "280" in response.text


def test_the_composer_suggests_how_the_team_answered_a_similar_message(agent, build, workspace):
    _brand(build, workspace)
    build.store(
        workspace,
        [
            build.post(id="q1", text="@acme where is my refund for the cancelled show?"),
            build.post(
                id="a1",
                text="@author Refunds for cancelled shows take 5 working days, sorry!",
                in_reply_to="q1",
                author="acme",
            ),
            build.post(id="q2", text="@acme still no refund for the cancelled concert"),
        ],
    )
    [unanswered] = [c.id for c in build.all(Conversation) if c.message_count == 1]
    pane = agent.get(f"/inbox/c/{unanswered}", headers=HTMX).text
    suggested = pane.split('class="suggestions"')[1]
    assert "Refunds for cancelled shows take 5 working days" in suggested
    assert "data-fill-text=" in suggested
