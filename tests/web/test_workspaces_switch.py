"""One workspace at a time: the first by default, another picked in the top bar."""

from __future__ import annotations


def test_the_first_workspace_is_the_default(agent, build, workspace):
    build.workspace("other", "Other brand")
    [mine] = build.store(workspace, [build.post()])
    page = agent.get("/listening").text
    assert agent.post_ids(page) == [mine]
    assert 'name="workspace_id"' in page


def test_the_selector_is_hidden_with_a_single_workspace(agent):
    assert 'name="workspace_id"' not in agent.get("/listening").text


def test_switching_workspace_shows_that_workspaces_posts(agent, build, workspace):
    other = build.workspace("other", "Other brand")
    build.store(workspace, [build.post()])
    [theirs] = build.store(other, [build.post()])
    response = agent.submit("/workspace", {"workspace_id": other}, follow_redirects=False)
    assert response.status_code == 303
    page = agent.get("/listening").text
    assert agent.post_ids(page) == [theirs]
    assert "Other brand" in page


def test_switching_to_an_unknown_workspace_keeps_the_current_one(agent, build, workspace):
    [mine] = build.store(workspace, [build.post()])
    agent.submit("/workspace", {"workspace_id": 999})
    assert agent.post_ids(agent.get("/listening").text) == [mine]


def test_without_any_workspace_the_page_says_what_to_do(client, build):
    build.user()
    client.sign_in()
    response = client.get("/listening")
    assert response.status_code == 404
    assert "clameur demo load" in response.text
