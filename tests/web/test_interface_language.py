"""French by default, English on request; the choice is remembered."""

from __future__ import annotations

from clameur.models import User


def switch(client, locale: str, page: str = "/login"):
    return client.post(
        "/locale",
        data={"locale": locale, "csrf_token": client.csrf(page), "next": page},
        follow_redirects=False,
    )


def test_the_interface_is_in_french_by_default(client, workspace):
    page = client.get("/login").text
    assert '<html lang="fr">' in page
    assert "Mot de passe" in page


def test_switching_to_english_before_signing_in_changes_the_login_page(client, workspace):
    assert switch(client, "en").headers["location"] == "/login"
    page = client.get("/login").text
    assert '<html lang="en">' in page
    assert "Password" in page
    assert "Mot de passe" not in page


def test_the_language_chosen_before_signing_in_becomes_the_users(client, build, workspace):
    user_id = build.user()
    switch(client, "en")
    client.sign_in()
    assert build.load(User, user_id).locale == "en"
    assert "Listening" in client.get("/listening").text


def test_switching_language_when_signed_in_is_stored_on_the_user(agent, build):
    assert "Écoute" in agent.get("/listening").text
    switch(agent, "en", "/listening")
    page = agent.get("/listening").text
    assert "Listening" in page and "Écoute" not in page
    [user] = build.all(User)
    assert user.locale == "en"


def test_a_users_language_follows_them_to_a_new_session(client, build, workspace):
    build.user(locale="en")
    client.sign_in()
    assert "Saved queries" in client.get("/queries").text


def test_an_unknown_language_is_ignored(client, workspace):
    switch(client, "xx")
    assert "Mot de passe" in client.get("/login").text


def test_times_are_written_in_the_interface_language(agent, build, workspace):
    build.store(workspace, [build.post()])
    assert "il y a" in agent.get("/listening").text
    switch(agent, "en", "/listening")
    assert " ago<" in agent.get("/listening").text
