"""The inbox page: conversations listed by urgency, one opened with its customer, the team's
actions (assign, resolve, note, tag, bulk), and who else is on a conversation."""

from __future__ import annotations

import re

from clameur.inbox.routing import audit
from clameur.models import (
    AuditEvent,
    Conversation,
    ConversationItem,
    NetworkAccount,
    Note,
    Post,
    Reply,
    Role,
)
from clameur.radar.crisis import start_crisis
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


def _opened_by(build, external_id):  # type: ignore[no-untyped-def]
    """The conversation that the post with this id on the network started."""
    [post] = [post for post in build.all(Post) if post.external_id == external_id]
    [item] = [item for item in build.all(ConversationItem) if item.post_id == post.id]
    return item.conversation_id


def _english(build, app, browser_for, role=Role.agent):  # type: ignore[no-untyped-def]
    """A client signed in as someone who reads the interface in English."""
    build.user(email="eve@example.com", name="Eve English", role=role, locale="en")
    eve = browser_for(app)
    assert eve.sign_in("eve@example.com").status_code == 303
    return eve


def test_the_history_names_each_state_of_a_reply(build, workspace, app, browser_for):
    conversation_id = _conversation(build, workspace)
    eve = _english(build, app, browser_for)
    sent = eve.post(
        f"/inbox/c/{conversation_id}/reply",
        data={"body": "Sorry Marie, we are on it", "seen_item_id": "", "csrf_token": eve.csrf()},
        headers=HTMX,
    )
    assert sent.status_code == 200
    history = sent.text.split('class="history"')[1]
    assert "reply queued for sending" in history
    assert "(queued)" not in history and "reply (" not in history
    reply = build.all(Reply)[0]
    for action, data, label in (
        ("reply_awaiting_approval", {}, "reply waiting for a manager's approval"),
        ("reply_approved", {"edited": True}, "reply edited and approved"),
        ("reply_sent", {}, "reply sent"),
        ("reply_failed", {"error": "rate limited"}, "reply not sent"),
        ("reply_discarded", {}, "reply discarded"),
    ):
        with unit_of_work(build.factory) as session:
            audit(session, workspace, conversation_id, action, reply=reply.id, **data)
        pane = eve.get(f"/inbox/c/{conversation_id}", headers=HTMX).text
        assert label in pane.split('class="history"')[1], action


def test_the_inbox_says_when_crisis_mode_holds_the_agents_replies(
    build, workspace, app, browser_for
):
    conversation_id = _conversation(build, workspace)
    eve = _english(build, app, browser_for)
    assert "crisis-banner" not in eve.get("/inbox").text
    with unit_of_work(build.factory) as session:
        start_crisis(session, workspace, None, reason="stage collapse")
    page = eve.get(f"/inbox?c={conversation_id}").text
    banner = page.split('crisis-banner"')[1].split("</div>")[0]
    assert "agents' replies to every conversation wait for a manager's approval" in banner
    assert 'href="/radar/crisis"' in banner
    # The composer says it too, to the agent whose reply it will hold.
    assert "Your reply will wait for a manager's approval" in page


def test_a_crisis_on_one_query_names_it_in_the_inbox(build, workspace, app, browser_for):
    _conversation(build, workspace)
    query = build.query(workspace, name="Refunds", query="refund")
    with unit_of_work(build.factory) as session:
        start_crisis(session, workspace, None, reason="refunds", query_id=query)
    page = _english(build, app, browser_for).get("/inbox").text
    assert "conversations matching “Refunds”" in page.split('crisis-banner"')[1]


def test_the_bulk_bar_is_a_form_that_works_without_javascript(agent, build, workspace):
    _brand(build, workspace)
    build.store(workspace, [build.post(text=f"@acme question {n}?") for n in range(2)])
    ids = [conversation.id for conversation in build.all(Conversation)]
    page = agent.get("/inbox?queue=care").text
    bar = page.split('<form id="bulk"')[1].split("</form>")[0]
    assert 'method="post" action="/inbox/bulk"' in bar and 'name="csrf_token"' in bar
    assert 'data-one="{n} sélectionnée"' in bar or 'data-one="{n} selected"' in bar
    sent = agent.post(
        "/inbox/bulk",
        data={"ids": ids, "action": "resolve", "csrf_token": agent.csrf("/inbox")},
        headers={"Referer": "http://testserver/inbox?queue=care&view=mine"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/inbox?queue=care&view=mine"
    assert {c.status for c in build.all(Conversation)} == {"resolved"}


def test_a_read_only_viewer_is_not_offered_as_assignee_and_is_refused(agent, build, workspace):
    conversation_id = _conversation(build, workspace)
    vic = build.user(email="vic@example.com", role=Role.viewer, name="Vic Viewer")
    page = agent.get("/inbox").text
    assert "Bob" not in page  # nobody else yet; the agent herself is offered
    assert f'value="{vic}"' not in page.split('id="assignee"')[1].split("</select>")[0]
    assert "Vic Viewer" not in page.split('id="bulk-assignee"')[1].split("</select>")[0]
    token = agent.csrf("/inbox")
    refused = agent.post(
        f"/inbox/c/{conversation_id}/assign",
        data={"assignee": str(vic), "csrf_token": token},
        headers=HTMX,
    )
    assert refused.status_code == 400
    assert "Vic Viewer" in refused.text and 'role="alert"' in refused.text
    assert 'id="assignee"' in refused.text  # the conversation stays on screen
    bulk = agent.post(
        "/inbox/bulk",
        data={
            "ids": [conversation_id],
            "action": "assign",
            "assignee": str(vic),
            "csrf_token": token,
        },
        headers=HTMX,
    )
    assert bulk.status_code == 400 and "Vic Viewer" in bulk.text
    assert bulk.headers["HX-Retarget"] == "#inbox-notice"
    assert build.load(Conversation, conversation_id).assignee_id is None
    assert not [e for e in build.all(AuditEvent) if e.action == "assigned"]


def test_the_list_refresh_brings_the_queue_counts_along(agent, build, workspace):
    conversation_id = _conversation(build, workspace)
    page = agent.get("/inbox").text
    assert '<span id="inbox-count-mine" class="nav-count">0</span>' in page
    agent.post(
        f"/inbox/c/{conversation_id}/assign",
        data={"assignee": "me", "csrf_token": agent.csrf("/inbox")},
        headers=HTMX,
    )
    listed = agent.get("/inbox/list", headers=HTMX).text
    assert '<span id="inbox-count-mine" class="nav-count" hx-swap-oob="true">1</span>' in listed
    assert 'id="inbox-count-unassigned" class="nav-count" hx-swap-oob="true">0<' in listed


def test_a_conversation_asked_for_is_read_instead_of_the_list_on_a_narrow_screen(
    agent, build, workspace
):
    conversation_id = _conversation(build, workspace)
    listing = agent.get("/inbox?queue=care").text
    assert 'class="inbox" data-inbox' in listing  # the list first; the first one beside it
    reading = agent.get(f"/inbox?queue=care&c={conversation_id}").text
    assert 'class="inbox is-reading" data-inbox' in reading
    assert 'class="inbox-back" href="/inbox?status=open&amp;queue=care"' in reading
    assert 'class="inbox-skip" href="#conversation"' in reading
    assert "/static/inbox.css" in reading


def test_a_suggestion_says_how_similar_its_message_was(build, workspace, app, browser_for):
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
            build.post(id="q3", text="@acme lovely weather at the seaside today"),
        ],
    )
    eve = _english(build, app, browser_for)
    related, unrelated = (_opened_by(build, post_id) for post_id in ("q2", "q3"))
    pane = eve.get(f"/inbox/c/{related}", headers=HTMX).text
    suggested = pane.split('class="suggestions"')[1]
    assert re.search(r'class="suggestion-match" title="[^"]+">\d{2,3}% similar<', suggested)
    # A message about something else gets no suggestion rather than an unrelated one.
    assert 'class="suggestions"' not in eve.get(f"/inbox/c/{unrelated}", headers=HTMX).text
