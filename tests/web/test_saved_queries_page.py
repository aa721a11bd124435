"""The saved queries page: list, create, edit, delete, with the parser's errors shown inline."""

from __future__ import annotations

from clameur.models import Match, SavedQuery


def test_the_list_shows_each_query_with_its_number_of_matches(agent, build, workspace):
    query_id = build.query(workspace, "Weather", "rain OR snow")
    build.store(workspace, [build.post(text="rain again"), build.post(text="snow at last")])
    build.store(workspace, [build.post(text="sunny")])
    assert len([m for m in build.all(Match) if m.query_id == query_id]) == 2
    page = agent.get("/queries").text
    row = page[page.index(f'id="query-{query_id}"') :]
    assert "Weather" in row
    assert "<strong>2</strong>" in row


def test_a_query_not_yet_backfilled_says_it_is_indexing_past_posts(agent, build, workspace):
    build.query(workspace, "Weather", "rain")
    assert "indexation de l’historique…" in agent.get("/queries").text


def test_a_backfilled_query_says_it_is_up_to_date(agent, build, workspace):
    query_id = build.query(workspace, "Weather", "rain")
    build.update(SavedQuery, query_id, backfilled_revision=1)
    page = agent.get("/queries").text
    assert "à jour" in page
    assert "indexation de l’historique…" not in page


def test_creating_a_query_saves_it_and_goes_back_to_the_list(agent, build):
    response = agent.submit(
        "/queries",
        {"name": "Weather", "query": "rain OR snow", "description": "Bad days"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    [saved] = build.all(SavedQuery)
    assert (saved.name, saved.query, saved.description) == ("Weather", "rain OR snow", "Bad days")
    assert "La requête est enregistrée" in agent.get("/queries").text


def test_creating_a_malformed_query_shows_the_error_and_its_position(agent, build):
    response = agent.submit("/queries", {"name": "Broken", "query": "rain OR"})
    assert response.status_code == 400
    assert "opérateur sans opérande" in response.text
    assert "ligne 1, colonne 6" in response.text
    assert "rain OR\n" in response.text
    assert "     ^" in response.text
    assert 'value="Broken"' in response.text
    assert build.all(SavedQuery) == []


def test_a_second_query_with_the_same_name_is_refused(agent, build, workspace):
    build.query(workspace, "Weather", "rain")
    response = agent.submit("/queries", {"name": "Weather", "query": "snow"})
    assert response.status_code == 409
    assert "already exists" in response.text
    assert len(build.all(SavedQuery)) == 1


def test_editing_a_query_changes_it_and_bumps_its_revision(agent, build, workspace):
    query_id = build.query(workspace, "Weather", "rain")
    assert "rain" in agent.get(f"/queries/{query_id}/edit").text
    response = agent.submit(
        f"/queries/{query_id}",
        {"name": "Bad weather", "query": "rain OR hail"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    saved = build.load(SavedQuery, query_id)
    assert (saved.name, saved.query, saved.revision) == ("Bad weather", "rain OR hail", 2)


def test_deleting_a_query_asks_for_confirmation_first(agent, build, workspace):
    query_id = build.query(workspace, "Weather", "rain")
    page = agent.get("/queries").text
    assert "Supprimer « Weather » et ses correspondances ?" in page
    assert f'action="/queries/{query_id}/delete"' in page


def test_deleting_a_query_removes_it_and_its_matches(agent, build, workspace):
    query_id = build.query(workspace, "Weather", "rain")
    build.store(workspace, [build.post(text="rain")])
    response = agent.submit(f"/queries/{query_id}/delete", follow_redirects=False)
    assert response.status_code == 303
    assert build.all(SavedQuery) == []
    assert build.all(Match) == []


def test_editing_a_query_of_another_workspace_is_not_found(agent, build):
    other = build.workspace("other", "Other")
    query_id = build.query(other, "Secret", "rain")
    assert agent.get(f"/queries/{query_id}/edit").status_code == 404
    assert agent.submit(f"/queries/{query_id}/delete").status_code == 404
    assert len(build.all(SavedQuery)) == 1


def test_the_sidebar_lists_the_saved_queries_by_name(agent, build, workspace):
    build.query(workspace, "Zebra", "zebra")
    build.query(workspace, "Apple", "apple")
    page = agent.get("/listening").text
    assert page.index("Apple") < page.index("Zebra")


def test_a_query_can_send_its_matches_to_the_inbox(agent, build, workspace):
    response = agent.submit(
        "/queries", {"name": "Shuttles", "query": "navette", "inbox": "on"}, follow_redirects=False
    )
    assert response.status_code == 303
    [saved] = build.all(SavedQuery)
    assert saved.inbox is True
    assert "checked" in agent.get(f"/queries/{saved.id}/edit").text.split('name="inbox"')[1][:40]
    agent.submit(f"/queries/{saved.id}", {"name": "Shuttles", "query": "navette"})
    assert build.load(SavedQuery, saved.id).inbox is False
