"""The live check of a query while it is typed (HTMX posts it after each pause)."""

from __future__ import annotations


def validate(client, query: str):
    return client.post(
        "/queries/validate",
        data={"query": query},
        headers={"X-CSRF-Token": client.csrf("/listening"), "HX-Request": "true"},
    )


def test_a_valid_query_is_confirmed(agent):
    response = validate(agent, '"service client" AND lang:fr')
    assert response.status_code == 200
    assert "✓ requête valide" in response.text


def test_a_malformed_query_gets_the_message_and_a_caret_under_the_fault(agent):
    response = validate(agent, "cafe AND (lait")
    assert response.status_code == 200
    assert "parenthèse non fermée ou en trop" in response.text
    assert "ligne 1, colonne 10" in response.text
    assert "cafe AND (lait\n" + '<span class="caret-mark">' + " " * 9 + "^" in response.text


def test_the_caret_lands_on_the_right_line_of_a_multi_line_query(agent):
    response = validate(agent, "rain\nOR (snow")
    assert "ligne 2, colonne 4" in response.text
    assert "OR (snow\n" in response.text


def test_an_empty_query_gets_a_hint_rather_than_an_error(agent):
    response = validate(agent, "   ")
    assert "Saisissez une requête" in response.text
    assert "empty query" not in response.text


def test_the_form_asks_for_a_check_after_each_pause_in_typing(agent):
    page = agent.get("/queries/new").text
    assert 'hx-post="/queries/validate"' in page
    assert 'hx-trigger="keyup changed delay:300ms' in page
