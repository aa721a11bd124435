"""Signing in and out, and what an anonymous visitor may see."""

from __future__ import annotations

from clameur.models import User


def test_signing_in_with_the_right_password_opens_the_page_asked_for(client, build, workspace):
    build.user(name="Ann Example")
    response = client.sign_in()
    assert response.status_code == 303
    assert response.headers["location"] == "/listening"
    assert "Ann Example" in client.get("/listening").text


def test_signing_in_with_a_wrong_password_is_refused_with_a_message(client, build, workspace):
    build.user()
    response = client.sign_in(password="not the password")
    assert response.status_code == 401
    assert "E-mail ou mot de passe incorrect." in response.text
    assert client.get("/listening", follow_redirects=False).status_code == 303


def test_an_unknown_email_is_refused_like_a_wrong_password(client, build, workspace):
    build.user()
    assert client.sign_in(email="nobody@example.com").status_code == 401


def test_an_inactive_user_cannot_sign_in(client, build, workspace):
    user_id = build.user()
    build.update(User, user_id, active=False)
    assert client.sign_in().status_code == 401


def test_a_page_sends_an_anonymous_visitor_to_the_login_page_and_back(client, workspace):
    response = client.get("/queries?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/queries%3Fx%3D1"


def test_the_api_answers_401_in_json_to_an_anonymous_caller(client, workspace):
    response = client.get("/api/v1/posts")
    assert response.status_code == 401
    assert response.json() == {"detail": "Sign in to continue."}


def test_an_htmx_call_without_a_session_asks_the_browser_to_go_to_login(client, workspace):
    response = client.get(
        "/listening/new?after=abc",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/listening?lang=fr"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/listening%3Flang%3Dfr"


def test_signing_out_ends_the_session(agent):
    response = agent.submit("/logout", follow_redirects=False)
    assert response.headers["location"] == "/login"
    assert agent.get("/listening", follow_redirects=False).status_code == 303


def test_the_next_parameter_cannot_send_a_person_to_another_site(client, build, workspace):
    build.user()
    response = client.post(
        "/login",
        data={
            "email": "ann@example.com",
            "password": build.password,
            "csrf_token": client.csrf(),
            "next": "//evil.example.com/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_the_session_cookie_is_http_only_and_same_site_lax(client, build, workspace):
    build.user()
    cookie = client.sign_in().headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
