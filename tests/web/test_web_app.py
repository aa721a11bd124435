"""The application factory, its health check, its schema and its assets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clameur.kit.errors import SchemaOutOfDate
from clameur.store import migrate
from clameur.store.engine import make_engine
from clameur.web.app import SESSION_COOKIE, create_app

WEB = Path(__file__).parents[2] / "src" / "clameur" / "web"


def test_startup_refuses_a_database_that_was_never_migrated(settings_for, tmp_path):
    url = f"sqlite:///{(tmp_path / 'empty.db').as_posix()}"
    with pytest.raises(SchemaOutOfDate, match="clameur db upgrade"):
        create_app(settings_for(url))


def test_startup_accepts_a_migrated_database(settings_for, tmp_path):
    url = f"sqlite:///{(tmp_path / 'ready.db').as_posix()}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    assert create_app(settings_for(url)).title == "Clameur"


def test_health_reports_the_database_revision(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": migrate.head_revision()}


def test_the_openapi_schema_lists_the_posts_endpoint(client):
    schema = client.get("/openapi.json").json()
    assert "/api/v1/posts" in schema["paths"]
    assert "/api/v1/queries/{query_id}" in schema["paths"]
    assert "PostRead" in schema["components"]["schemas"]


def test_the_api_reference_is_served_without_a_cdn(agent):
    page = agent.get("/docs")
    assert page.status_code == 200
    assert "/api/v1/posts" in page.text
    assert not re.search(r'(src|href)="https?://', page.text)


def test_htmx_is_served_by_the_application_itself(client):
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200
    assert "htmx" in response.text[:200]


def test_no_template_loads_anything_from_another_site():
    for template in (WEB / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', text), template


def test_pages_carry_protective_headers(client):
    headers = client.get("/login").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in headers["Content-Security-Policy"]


def test_an_unknown_page_gets_the_error_page(agent):
    response = agent.get("/nowhere")
    assert response.status_code == 404
    assert "Introuvable" in response.text
    # Starlette's English "Not Found" is not shown to a French reader; the page says what to do.
    assert "Not Found" not in response.text
    assert "Cette page n’existe pas" in response.text
    assert 'href="/inbox"' in response.text


def test_an_unknown_api_path_gets_json(client):
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_the_session_cookie_is_marked_secure_when_the_settings_ask_for_it(
    engine, factory, settings_for, browser_for, workspace
):
    settings = settings_for(engine.url.render_as_string(hide_password=False), secure_cookies=True)
    with browser_for(create_app(settings, factory), base_url="https://testserver") as browser:
        cookie = browser.get("/login").headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "secure" in cookie.lower()
