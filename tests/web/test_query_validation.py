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


def test_the_detail_of_a_fault_is_in_the_user_s_language_with_its_values(client, build, workspace):
    build.user()
    build.user("eve@example.org", "agent", "Eve", "en")
    assert client.sign_in().status_code == 303
    response = validate(client, "sentiment:")
    assert "« sentiment: » attend une valeur, par exemple sentiment:negative" in response.text
    assert "needs a value" not in response.text
    response = validate(client, "network:myspace")
    assert "« myspace » pour network : valeurs possibles" in response.text
    client.cookies.clear()
    assert client.sign_in("eve@example.org").status_code == 303
    response = validate(client, "network:myspace")
    assert "'myspace' for network: expected one of x, facebook" in response.text
    # The values come from the query: escaped like the rest of the page.
    response = validate(client, "network:<b>")
    assert "&lt;b&gt;" in response.text and "<b>" not in response.text


def test_every_query_fault_has_its_french_words():
    """The parser's messages are fixed sentences the interface translates: each must be in the
    French catalogue, or a French user would read English."""
    import ast
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).parents[2] / "src" / "clameur"
    tree = ast.parse((root / "query" / "parser.py").read_text("utf-8"))
    sentences = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "QuerySyntaxError":
            sentences |= {a.value for a in node.args if isinstance(a, ast.Constant)} - {1}
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "detail":
            sentences.add(node.value.value)  # type: ignore[attr-defined]
    assert len(sentences) > 30
    po = root / "web" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as source:
        french = read_po(source, locale="fr")
    missing = [
        s for s in sentences if isinstance(s, str) and not (french.get(s) and french.get(s).string)
    ]
    assert missing == []
