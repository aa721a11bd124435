"""The publishing page: compose for several accounts, schedule, approve, see what is held."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from clameur.accounts.service import save_account, secret_box
from clameur.models import Publication, Role
from clameur.radar.crisis import start_crisis
from clameur.store.engine import unit_of_work


def _accounts(client: Any, factory: sessionmaker[Session], workspace: int) -> dict[str, int]:
    box = secret_box(client.app.state.settings)
    ids = {}
    with unit_of_work(factory) as session:
        for network, settings in (
            ("mastodon", {"instance_url": "http://127.0.0.1:9", "access_token": "t" * 20}),
            ("bluesky", {"handle": "acme.bsky.social", "app_password": "abcd-efgh-ijkl-mnop"}),
        ):
            account = save_account(
                session, box, workspace, network, {"account_name": "acme", **settings}
            )
            ids[network] = account.id
    return ids


def _sign_in(client: Any, build: Any, role: Role, email: str) -> Any:
    build.user(email, role, email.split("@")[0].title(), "en")
    assert client.sign_in(email).status_code == 303
    return client


def test_a_manager_schedules_one_text_on_two_accounts(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    accounts = _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")
    page = client.get("/publish")
    assert page.status_code == 200
    assert 'name="account"' in page.text and "Nothing scheduled" in page.text
    done = client.submit(
        "/publish",
        {
            "body": "Doors open at 6 pm on Saturday!",
            "account": [str(accounts["mastodon"]), str(accounts["bluesky"])],
            "when": "later",
            "scheduled_at": "2030-01-05T09:30",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/publish?done=scheduled"
    publications = build.all(Publication)
    assert sorted(p.network for p in publications) == ["bluesky", "mastodon"]
    # 9:30 in Paris in winter is 8:30 UTC.
    assert {p.scheduled_at for p in publications} == {datetime(2030, 1, 5, 8, 30, tzinfo=UTC)}
    calendar = client.get("/publish").text
    # One card for the composition, one badge per account.
    assert calendar.count("Doors open at 6 pm on Saturday!") == 1
    assert calendar.count('class="badge net-mastodon"') == 1
    assert calendar.count('class="badge net-bluesky"') == 1
    assert "Scheduled." not in calendar and "scheduled" in calendar


def test_a_text_too_long_for_one_network_is_refused_and_kept(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    accounts = _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")
    text = "word " * 70  # 350 characters: Mastodon takes it, Bluesky does not
    refused = client.submit(
        "/publish",
        {"body": text, "account": [str(accounts["mastodon"]), str(accounts["bluesky"])]},
    )
    assert refused.status_code == 400
    assert "bluesky allows 300" in refused.text
    assert text.strip() in refused.text
    assert build.all(Publication) == []


def test_an_agents_post_waits_for_a_manager_who_approves_it(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int, browser_for: Any
) -> None:
    accounts = _accounts(client, factory, workspace)
    agent = _sign_in(client, build, Role.agent, "yan@example.com")
    submitted = agent.submit(
        "/publish",
        {"body": "New merch is out", "account": str(accounts["mastodon"])},
        follow_redirects=False,
    )
    assert submitted.headers["location"] == "/publish?done=submitted"
    [publication] = build.all(Publication)
    assert publication.status == "awaiting_approval"
    refused = agent.submit(f"/publish/{publication.id}/approve", {})
    assert refused.status_code == 403
    with browser_for(client.app) as manager:
        _sign_in(manager, build, Role.manager, "mia@example.com")
        assert "Awaiting approval" in manager.get("/publish").text
        approved = manager.submit(f"/publish/{publication.id}/approve", {}, follow_redirects=False)
        assert approved.status_code == 303
    assert build.load(Publication, publication.id).status == "scheduled"


def test_viewers_see_the_calendar_but_cannot_publish(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    accounts = _accounts(client, factory, workspace)
    viewer = _sign_in(client, build, Role.viewer, "vic@example.com")
    page = viewer.get("/publish")
    assert page.status_code == 200 and 'action="/publish"' not in page.text
    refused = viewer.submit("/publish", {"body": "hello", "account": str(accounts["mastodon"])})
    assert refused.status_code == 403
    assert build.all(Publication) == []


def test_promotional_posts_are_shown_held_during_a_crisis(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    accounts = _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")
    client.submit(
        "/publish",
        {
            "body": "Flash sale: 20% off tickets",
            "account": str(accounts["mastodon"]),
            "when": "later",
            "scheduled_at": "2030-01-05T09:30",
            "promotional": "on",
        },
    )
    with unit_of_work(factory) as session:
        start_crisis(session, workspace, None, reason="stage collapse")
    page = client.get("/publish").text
    assert "Crisis mode is on" in page
    assert "held: crisis mode" in page
    assert "promotional posts held: 1" in client.get("/radar/crisis").text


def test_the_api_composes_and_lists_publications(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    accounts = _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")
    created = client.post(
        "/api/v1/publications",
        json={
            "body": "Line-up announced tonight",
            "account_ids": [accounts["mastodon"], accounts["bluesky"]],
            "scheduled_at": "2030-01-05T08:30:00Z",
        },
        headers=client.api_headers(),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert {p["network"] for p in body} == {"mastodon", "bluesky"}
    assert {p["status"] for p in body} == {"scheduled"}
    assert len({p["batch_key"] for p in body}) == 1
    listed = client.get("/api/v1/publications", params={"status": "scheduled"}).json()
    assert sorted(p["id"] for p in listed) == sorted(p["id"] for p in body)
    too_long = client.post(
        "/api/v1/publications",
        json={"body": "x" * 400, "account_ids": [accounts["bluesky"]]},
        headers=client.api_headers(),
    )
    assert too_long.status_code == 400
    assert "bluesky allows 300" in too_long.json()["detail"]


def test_each_image_gets_a_description_field_labelled_in_the_users_language(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    _accounts(client, factory, workspace)
    build.user("lea@example.com", Role.manager, "Léa", "fr")
    assert client.sign_in("lea@example.com").status_code == 303

    page = client.get("/publish").text

    assert '<label for="image-alt-1">Description (texte alternatif)</label>' in page
    assert 'name="media_url"' in page and 'name="media_alt"' in page
    assert 'aria-describedby="alt-help"' in page
    assert "les lecteurs d'écran la lisent à voix haute. Jusqu'à 1\u202f000 caractères" in page
    assert "Ajouter une image" in page


def test_images_are_scheduled_with_their_descriptions_and_the_calendar_shows_alt(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    accounts = _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")
    done = client.submit(
        "/publish",
        {
            "body": "The new stage is ready.",
            "account": [str(accounts["mastodon"]), str(accounts["bluesky"])],
            "when": "later",
            "scheduled_at": "2030-01-05T09:30",
            "media_url": ["https://cdn.example.org/stage.jpg", "https://cdn.example.org/crowd.jpg"],
            "media_alt": ["The stage under blue lights, seen from the pit.", ""],
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    publications = build.all(Publication)
    assert {tuple(p.media_alts) for p in publications} == {
        ("The stage under blue lights, seen from the pit.", "")
    }
    calendar = client.get("/publish").text
    assert calendar.count('class="alt-badge"') == 1
    assert 'title="The stage under blue lights, seen from the pit."' in calendar
    assert "no description" in calendar


def test_a_description_too_long_is_refused_naming_the_image_and_the_form_kept(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    accounts = _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")
    long = "A very long description. " * 50  # 1,250 characters
    refused = client.submit(
        "/publish",
        {
            "body": "Doors open at 6 pm.",
            "account": str(accounts["mastodon"]),
            "media_url": ["https://cdn.example.org/a.jpg", "https://cdn.example.org/door.jpg"],
            "media_alt": ["", long],
        },
    )
    assert refused.status_code == 400
    assert "The description of image 2 (https://cdn.example.org/door.jpg)" in refused.text
    assert "at most 1,000 characters" in refused.text
    # What was written stays in the form, to be shortened.
    assert 'value="https://cdn.example.org/door.jpg"' in refused.text
    assert long.strip() in refused.text
    assert build.all(Publication) == []


def test_add_another_image_shows_one_more_row_and_publishes_nothing(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    accounts = _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")
    page = client.submit(
        "/publish",
        {
            "body": "Half written",
            "account": str(accounts["mastodon"]),
            "media_url": ["https://cdn.example.org/a.jpg"],
            "media_alt": ["A poster."],
            "more_images": "Add another image",
        },
    )
    assert page.status_code == 200
    assert 'id="image-url-2"' in page.text and 'id="image-url-3"' not in page.text
    assert 'value="https://cdn.example.org/a.jpg"' in page.text and "A poster." in page.text
    assert "Half written" in page.text
    assert build.all(Publication) == []


def test_the_api_takes_and_returns_the_descriptions(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    accounts = _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")
    created = client.post(
        "/api/v1/publications",
        json={
            "body": "Line-up poster",
            "account_ids": [accounts["mastodon"]],
            "media_urls": ["https://cdn.example.org/poster.jpg"],
            "media_alts": ["The line-up poster: twelve bands in white on red."],
        },
        headers=client.api_headers(),
    )
    assert created.status_code == 201, created.text
    [publication] = created.json()
    assert publication["media_alts"] == ["The line-up poster: twelve bands in white on red."]
    listed = client.get("/api/v1/publications").json()
    assert listed[0]["media_alts"] == ["The line-up poster: twelve bands in white on red."]
    too_long = client.post(
        "/api/v1/publications",
        json={
            "body": "Line-up poster",
            "account_ids": [accounts["mastodon"]],
            "media_urls": ["https://cdn.example.org/poster.jpg"],
            "media_alts": ["x" * 1001],
        },
        headers=client.api_headers(),
    )
    assert too_long.status_code == 400
    assert "description of image 1" in too_long.json()["detail"]


def test_networks_are_named_as_people_write_them_and_enter_schedules(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    import re

    accounts = _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")
    client.submit(
        "/publish",
        {"body": "Soundcheck tonight", "account": [str(accounts["mastodon"])], "when": "now"},
    )
    page = client.get("/publish").text
    assert "acme · Mastodon" in page and "acme · Bluesky" in page
    assert ">Mastodon · " in page and ">mastodon · " not in page
    # Enter in a one-line field uses the form's first submit control: it must schedule, not add
    # an image row.
    form = page[page.index('id="publish-form"') :]
    first = re.search(r'<(?:input|button)[^>]*type="submit"[^>]*>', form)
    assert first is not None and "more_images" not in first.group(0)
    assert 'value="Schedule"' in first.group(0)
