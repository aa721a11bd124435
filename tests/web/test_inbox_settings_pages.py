"""The inbox's settings pages and the pieces around the inbox: triage rules (managers only,
tried before saving, errors shown where they are), the team page, the away switch, the bell,
profile merges, queue names in both languages."""

from __future__ import annotations

from datetime import timedelta

from clameur.inbox.sla import notify_breaches
from clameur.kit.time import utcnow
from clameur.models import (
    Conversation,
    Customer,
    NetworkAccount,
    Notification,
    Queue,
    Role,
    Rule,
    User,
)
from clameur.store.engine import unit_of_work

HTMX = {"HX-Request": "true"}


def _manager(client, build):  # type: ignore[no-untyped-def]
    build.user(email="max@example.com", role=Role.manager, name="Max Manager")
    assert client.sign_in("max@example.com").status_code == 303
    return client


def _complaint(build, workspace, **author):  # type: ignore[no-untyped-def]
    with unit_of_work(build.factory) as session:
        session.add(NetworkAccount(workspace_id=workspace, network="x", handle="acme"))
    author = {"handle": "marie", "name": "Marie", "followers": 48000, **author}
    build.store(
        workspace, [build.post(text="@acme my refund never came, a scandal", author=author)]
    )
    return build.all(Conversation)[-1].id


def test_a_manager_creates_a_rule_that_comes_last_in_the_list(client, build, workspace):
    manager = _manager(client, build)
    _complaint(build, workspace)
    token = manager.csrf("/inbox/rules/new")
    response = manager.post(
        "/inbox/rules",
        data={
            "csrf_token": token,
            "name": "Influential complaints",
            "condition": "intent:complaint",
            "min_followers": "10000",
            "network": "x",
            "hours": "any",
            "queue": "care",
            "tags": "vip, refund",
            "priority": "urgent",
            "stop": "on",
            "active": "on",
        },
    )
    page = response  # the client follows the redirect to the list
    assert page.status_code == 200 and "La règle est enregistrée." in page.text
    assert page.text.index("Spam to moderation") < page.text.index("Influential complaints")
    [rule] = [r for r in build.all(Rule) if r.name == "Influential complaints"]
    assert rule.actions == {"queue": "care", "tags": ["vip", "refund"], "priority": "urgent"}
    assert (rule.min_followers, rule.network, rule.stop) == (10000, "x", True)


def test_a_condition_that_does_not_parse_is_shown_with_its_position(client, build, workspace):
    manager = _manager(client, build)
    token = manager.csrf("/inbox/rules/new")
    response = manager.post(
        "/inbox/rules",
        data={
            "csrf_token": token,
            "name": "Broken",
            "condition": "intent:complaint AND (",
            "active": "on",
        },
    )
    assert response.status_code == 400
    assert "syntax-error" in response.text and "colonne" in response.text
    assert [r.name for r in build.all(Rule)] == []


def test_trying_a_rule_shows_what_it_would_have_done_without_saving(client, build, workspace):
    manager = _manager(client, build)
    conversation_id = _complaint(build, workspace)
    token = manager.csrf("/inbox/rules/new")
    response = manager.post(
        "/inbox/rules/try",
        data={"csrf_token": token, "name": "", "condition": "refund", "tags": "refund"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "1 message sur les 1" in response.text and f"#{conversation_id}" in response.text
    assert build.load(Conversation, conversation_id).tags == []


def test_moving_and_stopping_rules_from_the_list(client, build, workspace):
    manager = _manager(client, build)
    _complaint(build, workspace)
    rules = sorted(build.all(Rule), key=lambda r: r.position)
    token = manager.csrf("/inbox/rules")
    last = rules[-1]
    assert manager.post(f"/inbox/rules/{last.id}/up", data={"csrf_token": token}).status_code == 200
    stopped = manager.post(f"/inbox/rules/{last.id}/stop", data={"csrf_token": token, "stop": "on"})
    assert stopped.status_code == 200
    moved = build.load(Rule, last.id)
    assert moved.position == len(rules) - 2 and moved.stop is True


def test_an_agent_cannot_open_the_rules(agent, build, workspace):
    assert agent.get("/inbox/rules").status_code == 403
    assert 'href="/inbox/rules"' not in agent.get("/inbox").text


def test_the_team_page_sets_a_queue_to_round_robin_and_an_agent_away(client, build, workspace):
    manager = _manager(client, build)
    _complaint(build, workspace)
    ann = build.user()
    care = next(q for q in build.all(Queue) if q.slug == "care")
    token = manager.csrf("/inbox/team")
    queue = manager.post(
        f"/inbox/team/queues/{care.id}", data={"csrf_token": token, "mode": "round_robin"}
    )
    assert queue.status_code == 200 and "Enregistré." in queue.text
    agent = manager.post(
        f"/inbox/team/agents/{ann}", data={"csrf_token": token, "capacity": "5", "away": "on"}
    )
    assert agent.status_code == 200
    assert build.load(Queue, care.id).assignment == "round_robin"
    person = build.load(User, ann)
    assert (person.inbox_capacity, person.away) == (5, True)
    page = manager.get("/inbox/team")
    assert "À tour de rôle" in page.text and "absent" in page.text


def test_an_agent_sets_themselves_away_from_the_inbox(agent, build, workspace):
    token = agent.csrf("/inbox")
    response = agent.post("/inbox/away", data={"csrf_token": token, "away": "on"}, headers=HTMX)
    assert response.status_code == 200 and "Je suis de retour" in response.text
    assert [u.away for u in build.all(User)] == [True]


def test_the_bell_counts_a_breach_and_marks_it_read(client, build, workspace):
    manager = _manager(client, build)
    conversation_id = _complaint(build, workspace)
    build.update(
        Conversation,
        conversation_id,
        first_response_due=utcnow() - timedelta(minutes=5),
        resolution_due=utcnow() + timedelta(days=1),
    )
    with unit_of_work(build.factory) as session:
        assert notify_breaches(session).notifications == 1
    assert 'id="bell-count"' in manager.get("/inbox").text
    count = manager.get("/inbox/notifications/count", headers=HTMX)
    assert "1 notification non lue" in count.text
    panel = manager.get("/inbox/notifications", headers=HTMX)
    assert "Première réponse en retard : Marie" in panel.text
    [notification] = build.all(Notification)
    opened = manager.get(f"/inbox/notifications/{notification.id}")
    assert opened.status_code == 200 and f'data-thread="{conversation_id}"' in opened.text
    assert build.load(Notification, notification.id).read_at is not None
    build.update(Notification, notification.id, read_at=None)
    token = manager.csrf("/inbox")
    read = manager.post("/inbox/notifications/read", data={"csrf_token": token}, headers=HTMX)
    assert read.headers["HX-Trigger"] == "notifications-changed"
    assert "non lue" not in manager.get("/inbox/notifications/count", headers=HTMX).text


def test_an_agent_merges_a_suggested_profile_from_the_conversation(agent, build, workspace):
    first = _complaint(build, workspace, handle="marie_x", name="Marie Dupont")
    with unit_of_work(build.factory) as session:
        session.add(NetworkAccount(workspace_id=workspace, network="mastodon", handle="acme"))
    build.store(
        workspace,
        [
            build.post(
                network="mastodon",
                text="@acme still waiting",
                author={"handle": "marie@piaille.fr", "name": "Marie Dupont"},
            )
        ],
    )
    second = build.all(Conversation)[-1]
    target = build.load(Conversation, first).customer_id
    suggestions = agent.get(f"/inbox/customers/{target}/suggestions?c={first}", headers=HTMX)
    assert "même nom sur un autre réseau" in suggestions.text
    token = agent.csrf("/inbox")
    merged = agent.post(
        f"/inbox/customers/{target}/merge",
        data={"csrf_token": token, "source": second.customer_id, "conversation": first},
        headers=HTMX,
    )
    assert merged.status_code == 200 and "@marie@piaille.fr" in merged.text
    assert build.load(Customer, second.customer_id).merged_into_id == target


def test_queue_names_are_in_english_for_an_english_reader(client, build, workspace):
    build.user(email="eve@example.com", name="Eve", locale="en")
    assert client.sign_in("eve@example.com").status_code == 303
    _complaint(build, workspace)
    page = client.get("/inbox")
    assert (
        ">Care<" in page.text.replace("<span", "<").replace('">Care', ">Care")
        or "Care" in page.text
    )
    assert "Service client" not in page.text


def test_the_rule_form_offers_no_read_only_viewer_to_assign_to(client, build, workspace):
    from clameur.models import Role

    build.user("ines@example.com", Role.viewer, "Inès Viewer")
    build.user("yann@example.com", Role.agent, "Yann Agent")
    manager = _manager(client, build)
    form = manager.get("/inbox/rules/new").text
    assign = form[form.index('name="assign"') :]
    assign = assign[: assign.index("</select>")]
    assert "Yann Agent" in assign
    assert "Inès Viewer" not in assign
