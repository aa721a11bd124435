"""Every unsafe request must carry the session's CSRF token."""

from __future__ import annotations

from clameur.models import SavedQuery


def test_a_form_posted_without_the_token_is_refused(agent, build):
    response = agent.post("/queries", data={"name": "Brand", "query": "acme"})
    assert response.status_code == 403
    assert build.all(SavedQuery) == []


def test_a_form_posted_with_another_token_is_refused(agent, build):
    response = agent.post(
        "/queries", data={"name": "Brand", "query": "acme", "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert build.all(SavedQuery) == []


def test_a_form_posted_with_the_token_is_accepted(agent, build):
    response = agent.submit("/queries", {"name": "Brand", "query": "acme"}, follow_redirects=False)
    assert response.status_code == 303
    assert [row.name for row in build.all(SavedQuery)] == ["Brand"]


def test_an_api_call_without_the_header_is_refused_in_json(agent, build):
    response = agent.post("/api/v1/queries", json={"name": "Brand", "query": "acme"})
    assert response.status_code == 403
    assert "detail" in response.json()
    assert build.all(SavedQuery) == []


def test_an_htmx_request_sends_the_token_as_a_header(agent):
    headers = {"X-CSRF-Token": agent.csrf("/listening"), "HX-Request": "true"}
    response = agent.post("/queries/validate", data={"query": "acme"}, headers=headers)
    assert response.status_code == 200


def test_the_login_form_itself_needs_the_token(client, build, workspace):
    build.user()
    response = client.post("/login", data={"email": "ann@example.com", "password": build.password})
    assert response.status_code == 403
