"""Viewers can look but not change anything."""

from __future__ import annotations

from clameur.models import SavedQuery


def test_a_viewer_sees_the_saved_queries(viewer, build, workspace):
    build.query(workspace, "Brand", "acme")
    page = viewer.get("/queries")
    assert page.status_code == 200
    assert "Brand" in page.text


def test_a_viewer_cannot_create_a_saved_query_from_the_form(viewer, build):
    response = viewer.submit("/queries", {"name": "Brand", "query": "acme"})
    assert response.status_code == 403
    assert build.all(SavedQuery) == []


def test_a_viewer_cannot_create_a_saved_query_through_the_api(viewer, build):
    response = viewer.post(
        "/api/v1/queries", json={"name": "Brand", "query": "acme"}, headers=viewer.api_headers()
    )
    assert response.status_code == 403
    assert build.all(SavedQuery) == []


def test_a_viewer_cannot_delete_a_saved_query(viewer, build, workspace):
    query_id = build.query(workspace, "Brand", "acme")
    assert viewer.submit(f"/queries/{query_id}/delete").status_code == 403
    headers = viewer.api_headers()
    assert viewer.delete(f"/api/v1/queries/{query_id}", headers=headers).status_code == 403
    assert [row.id for row in build.all(SavedQuery)] == [query_id]


def test_a_viewer_cannot_edit_a_saved_query(viewer, build, workspace):
    query_id = build.query(workspace, "Brand", "acme")
    response = viewer.put(
        f"/api/v1/queries/{query_id}",
        json={"name": "Renamed", "query": "acme"},
        headers=viewer.api_headers(),
    )
    assert response.status_code == 403
    assert viewer.get(f"/queries/{query_id}/edit").status_code == 403
    assert build.load(SavedQuery, query_id).name == "Brand"


def test_a_viewer_is_not_offered_the_edit_buttons(viewer, build, workspace):
    query_id = build.query(workspace, "Brand", "acme")
    page = viewer.get("/queries").text
    assert "/queries/new" not in page
    assert f"/queries/{query_id}/edit" not in page
    assert f"/queries/{query_id}/delete" not in page
