"""People correct what the analysis said about a post, from its card or through the API."""

from __future__ import annotations

import html

from clameur.models import Correction, Post, User

HTMX = {"HX-Request": "true"}


def _correct(browser, post_id, field, value, headers=HTMX):
    return browser.submit(
        f"/posts/{post_id}/correct",
        {"field": field, "value": value},
        headers=headers,
        follow_redirects=False,
    )


def test_an_agent_corrects_the_sentiment_and_the_card_shows_it(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post(sentiment="negative")])
    response = _correct(agent, post_id, "sentiment", "positive")
    assert response.status_code == 200
    assert agent.post_ids(response.text) == [post_id]
    assert 'class="sentiment sentiment-positive"' in response.text
    assert "corrigé par Ann Example" in response.text


def test_a_correction_is_stored_with_who_made_it(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post(sentiment="negative")])
    _correct(agent, post_id, "sentiment", "positive")
    [correction] = build.all(Correction)
    [ann] = build.all(User)
    assert (correction.post_id, correction.user_id) == (post_id, ann.id)
    assert (correction.field, correction.value, correction.previous) == (
        "sentiment",
        "positive",
        "negative",
    )
    assert build.load(Post, post_id).sentiment == "positive"


def test_the_listening_page_says_who_corrected_a_post(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post(sentiment="negative")])
    _correct(agent, post_id, "sentiment", "neutral")
    assert "corrigé par Ann Example" in agent.get("/listening").text


def test_toggling_intents_sends_the_new_list(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post(intents=["question"])])
    page = agent.get("/listening").text
    # The list loads a menu's choices when it opens.
    assert f'hx-get="/posts/{post_id}/menu/correct"' in page
    menu = agent.get(f"/posts/{post_id}/menu/correct", headers=HTMX).text
    # The "Complaint" toggle of a post that is a question sends both.
    assert 'name="value" value="complaint,question" aria-pressed="false"' in menu
    response = _correct(agent, post_id, "intents", "complaint,question")
    assert response.status_code == 200
    assert build.load(Post, post_id).intents == ["complaint", "question"]


def test_removing_the_last_intent_leaves_none(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post(intents=["spam"])])
    assert _correct(agent, post_id, "intents", "").status_code == 200
    assert build.load(Post, post_id).intents == []


def test_marking_a_post_hostile_shows_the_badge(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post()])
    build.update(Post, post_id, hostile=False)
    response = _correct(agent, post_id, "hostile", "true")
    assert 'class="hostile"' in response.text
    assert build.load(Post, post_id).hostile is True


def test_a_post_can_be_unmarked_hostile(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post()])
    build.update(Post, post_id, hostile=True)
    response = _correct(agent, post_id, "hostile", "false")
    assert 'class="hostile"' not in response.text
    assert build.load(Post, post_id).hostile is False


def test_an_unknown_sentiment_is_refused_on_the_card_with_a_400(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post(sentiment="negative")])
    response = _correct(agent, post_id, "sentiment", "furious")
    assert response.status_code == 400
    assert agent.post_ids(response.text) == [post_id]
    assert "sentiment must be one of negative, neutral, positive" in response.text
    assert build.all(Correction) == []


def test_an_unknown_field_is_a_400_not_a_crash(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post()])
    response = _correct(agent, post_id, "text", "hello", headers={})
    assert response.status_code == 400
    assert "cannot correct 'text'" in html.unescape(response.text)


def test_a_correction_without_javascript_returns_to_the_page(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post(sentiment="negative")])
    headers = {"Referer": "http://testserver/listening?lang=en"}
    response = _correct(agent, post_id, "sentiment", "positive", headers=headers)
    assert response.status_code == 303
    assert response.headers["location"] == f"/listening?lang=en#post-{post_id}"


def test_a_correction_of_a_post_of_another_workspace_is_not_found(agent, build):
    other = build.workspace("other", "Other")
    [post_id] = build.store(other, [build.post(sentiment="negative")])
    assert _correct(agent, post_id, "sentiment", "positive").status_code == 404
    assert build.load(Post, post_id).sentiment == "negative"


def test_a_viewer_cannot_correct_a_post(viewer, build, workspace):
    [post_id] = build.store(workspace, [build.post(sentiment="negative")])
    assert _correct(viewer, post_id, "sentiment", "positive").status_code == 403
    assert build.load(Post, post_id).sentiment == "negative"
    assert build.all(Correction) == []


def test_a_viewer_is_not_offered_the_correction_menus(viewer, build, workspace):
    [post_id] = build.store(workspace, [build.post(sentiment="negative")])
    page = viewer.get("/listening").text
    assert f"/posts/{post_id}/correct" not in page
    assert f"/posts/{post_id}/menu" not in page
    assert 'class="sentiment sentiment-negative"' in page
    assert viewer.get(f"/posts/{post_id}/menu/sentiment").status_code == 403


def test_the_sentiment_menu_offers_each_label_with_the_current_one_pressed(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post(sentiment="negative")])
    menu = agent.get(f"/posts/{post_id}/menu/sentiment", headers=HTMX).text
    assert f'hx-post="/posts/{post_id}/correct"' in menu
    assert 'value="negative" aria-pressed="true"' in menu
    assert 'value="positive" aria-pressed="false"' in menu
    assert agent.get(f"/posts/{post_id}/menu/nothing").status_code == 404
    # The post's own page renders the menus at once (and works without scripts).
    page = agent.get(f"/posts/{post_id}").text
    assert 'value="positive" aria-pressed="false"' in page


def test_the_api_corrects_a_post(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post(intents=["question"])])
    response = agent.post(
        f"/api/v1/posts/{post_id}/corrections",
        json={"field": "intents", "value": ["praise", "question"]},
        headers=agent.api_headers(),
    )
    assert response.status_code == 200
    assert response.json()["intents"] == ["question", "praise"]
    [correction] = build.all(Correction)
    assert correction.value == ["question", "praise"]


def test_the_api_correction_requires_the_csrf_header(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post()])
    response = agent.post(
        f"/api/v1/posts/{post_id}/corrections", json={"field": "hostile", "value": True}
    )
    assert response.status_code == 403
    assert build.all(Correction) == []


def test_the_api_refuses_an_unknown_intent_with_a_400(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post()])
    response = agent.post(
        f"/api/v1/posts/{post_id}/corrections",
        json={"field": "intents", "value": ["gossip"]},
        headers=agent.api_headers(),
    )
    assert response.status_code == 400
    assert "unknown intent 'gossip'" in response.json()["detail"]


def test_a_viewer_cannot_correct_through_the_api(viewer, build, workspace):
    [post_id] = build.store(workspace, [build.post()])
    response = viewer.post(
        f"/api/v1/posts/{post_id}/corrections",
        json={"field": "hostile", "value": True},
        headers=viewer.api_headers(),
    )
    assert response.status_code == 403
