"""The JSON API under /api/v1."""

from __future__ import annotations

from clameur.models import SavedQuery


def test_listing_posts_pages_with_the_cursor(agent, build, workspace):
    stored = build.store(workspace, [build.post(created_at=build.at(minutes=-n)) for n in range(5)])
    first = agent.get("/api/v1/posts", params={"limit": 3}).json()
    assert [item["id"] for item in first["items"]] == stored[:3]
    second = agent.get("/api/v1/posts", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [item["id"] for item in second["items"]] == stored[3:]
    assert second["next_cursor"] is None


def test_a_listed_post_carries_its_author(agent, build, workspace):
    build.store(
        workspace,
        [build.post(author={"handle": "zoe", "name": "Zoé", "followers": 7, "verified": True})],
    )
    [item] = agent.get("/api/v1/posts").json()["items"]
    assert item["author"]["handle"] == "zoe"
    assert item["author"]["display_name"] == "Zoé"
    assert item["author"]["followers"] == 7
    assert item["author"]["verified"] is True


def test_listing_posts_filters_by_network_language_and_search(agent, build, workspace):
    build.store(workspace, [build.post(network="x", lang="fr", text="un café")])
    [wanted] = build.store(workspace, [build.post(network="reddit", lang="fr", text="un café")])
    build.store(workspace, [build.post(network="reddit", lang="en", text="a café")])
    build.store(workspace, [build.post(network="reddit", lang="fr", text="un thé")])
    params = {"network": ["reddit", "mastodon"], "lang": "fr", "search": "cafe"}
    items = agent.get("/api/v1/posts", params=params).json()["items"]
    assert [item["id"] for item in items] == [wanted]


def test_listing_posts_with_an_ad_hoc_query(agent, build, workspace):
    [wanted] = build.store(workspace, [build.post(text="refund please")])
    build.store(workspace, [build.post(text="thank you")])
    items = agent.get("/api/v1/posts", params={"q": "refund*"}).json()["items"]
    assert [item["id"] for item in items] == [wanted]


def test_a_malformed_ad_hoc_query_is_a_400_with_its_position(agent, workspace):
    response = agent.get("/api/v1/posts", params={"q": "refund AND ("})
    assert response.status_code == 400
    assert response.json()["position"] == 12
    assert "unbalanced parenthesis" in response.json()["detail"]


def test_a_limit_above_200_is_refused(agent, workspace):
    assert agent.get("/api/v1/posts", params={"limit": 201}).status_code == 422


def test_getting_one_post(agent, build, workspace):
    [post_id] = build.store(workspace, [build.post(text="hello there")])
    response = agent.get(f"/api/v1/posts/{post_id}")
    assert response.status_code == 200
    assert response.json()["text"] == "hello there"


def test_a_post_of_another_workspace_is_not_found(agent, build, workspace):
    other = build.workspace("other", "Other")
    [post_id] = build.store(other, [build.post()])
    response = agent.get(f"/api/v1/posts/{post_id}")
    assert response.status_code == 404
    assert response.json() == {"detail": f"post {post_id} not found"}


def test_creating_a_query_returns_it_with_its_state(agent, build):
    response = agent.post(
        "/api/v1/queries",
        json={"name": "Weather", "query": "rain OR snow"},
        headers=agent.api_headers(),
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["query"], body["matches"], body["up_to_date"]) == (
        "Weather",
        "rain OR snow",
        0,
        False,
    )
    assert [row.id for row in build.all(SavedQuery)] == [body["id"]]


def test_creating_a_malformed_query_is_refused_with_the_message_and_position(agent, build):
    response = agent.post(
        "/api/v1/queries", json={"name": "Broken", "query": "rain OR"}, headers=agent.api_headers()
    )
    assert response.status_code == 400
    assert response.json()["position"] == 6
    assert response.json()["detail"].startswith("operator without operand at position 6")
    assert build.all(SavedQuery) == []


def test_listing_and_getting_queries(agent, build, workspace):
    query_id = build.query(workspace, "Weather", "rain")
    build.store(workspace, [build.post(text="rain")])
    [listed] = agent.get("/api/v1/queries").json()
    assert (listed["id"], listed["matches"]) == (query_id, 1)
    assert agent.get(f"/api/v1/queries/{query_id}").json()["name"] == "Weather"


def test_updating_a_query(agent, build, workspace):
    query_id = build.query(workspace, "Weather", "rain")
    response = agent.put(
        f"/api/v1/queries/{query_id}",
        json={"name": "Weather", "query": "rain OR hail", "description": "wet"},
        headers=agent.api_headers(),
    )
    assert response.status_code == 200
    assert response.json()["revision"] == 2
    saved = build.load(SavedQuery, query_id)
    assert (saved.query, saved.description) == ("rain OR hail", "wet")


def test_deleting_a_query(agent, build, workspace):
    query_id = build.query(workspace, "Weather", "rain")
    response = agent.delete(f"/api/v1/queries/{query_id}", headers=agent.api_headers())
    assert response.status_code == 204
    assert agent.get(f"/api/v1/queries/{query_id}").status_code == 404


def test_validating_a_query(agent):
    headers = agent.api_headers()
    good = agent.post("/api/v1/queries/validate", json={"query": "rain"}, headers=headers)
    assert good.json() == {"valid": True, "message": None, "position": None}
    bad = agent.post("/api/v1/queries/validate", json={"query": "rain OR"}, headers=headers)
    assert bad.json()["valid"] is False
    assert bad.json()["position"] == 6
    assert "operator without operand" in bad.json()["message"]


def test_a_competitor_of_another_workspace_cannot_be_attached(agent, build):
    build.workspace("other", "Other")
    response = agent.post(
        "/api/v1/queries",
        json={"name": "Rival", "query": "globex", "competitor_id": 999},
        headers=agent.api_headers(),
    )
    assert response.status_code == 404
