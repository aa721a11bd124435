"""The publishing page: compose for several accounts, schedule, approve, see what is held."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from clameur.accounts.service import save_account, secret_box
from clameur.models import NetworkAccount, Publication, Role
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
    accounts = _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")
    client.submit(
        "/publish",
        {"body": "Soundcheck tonight", "account": [str(accounts["mastodon"])], "when": "now"},
    )
    page = client.get("/publish").text
    assert "acme · Mastodon" in page and "acme · Bluesky" in page
    assert ">Mastodon · " in page and ">mastodon · " not in page
    assert "Images are attached on: Bluesky, Mastodon." in page
    # Enter in a one-line field uses the form's first submit control: it must schedule, not add
    # an image row.
    form = page[page.index('id="publish-form"') :]
    first = re.search(r'<(?:input|button)[^>]*type="submit"[^>]*>', form)
    assert first is not None and "more_images" not in first.group(0)
    assert 'value="Schedule"' in first.group(0)


# The month view.


def _plan(
    factory: sessionmaker[Session],
    workspace: int,
    account: int,
    when: datetime,
    body: str = "Doors open at 6 pm",
    status: str = "scheduled",
) -> int:
    """A publication on `account`, due (or sent) at `when`, whatever the time now."""
    with unit_of_work(factory) as session:
        publication = Publication(
            workspace_id=workspace,
            account_id=account,
            network=session.get(NetworkAccount, account).network,  # type: ignore[union-attr]
            batch_key=str(uuid.uuid4()),
            body=body,
            status=status,
            scheduled_at=when,
            sent_at=when if status == "sent" else None,
            idempotency_key=uuid.uuid4().hex,
        )
        session.add(publication)
        session.flush()
        return publication.id


def _cell(page: str, day: str) -> str:
    """The HTML of the month grid's cell for `day` (2026-11-30)."""
    cells = page.split('<td class="month-day')[1:]
    [cell] = [c for c in cells if f'<time class="month-date" datetime="{day}">' in c]
    return cell.split("</td>")[0]


def test_the_list_stays_the_default_view_and_the_month_is_one_link_away(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")
    page = client.get("/publish").text
    assert 'class="month-grid"' not in page
    assert '<a class="segment is-active" href="/publish?view=list" aria-current="page">List' in page
    month = client.get("/publish?view=month&month=2026-11").text
    assert 'class="month-grid"' in month
    assert 'href="/publish?view=month&amp;month=2026-11" aria-current="page">Month' in month


def test_a_month_starting_on_a_sunday_has_six_weeks_from_monday_with_links_around_it(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    _accounts(client, factory, workspace)
    client = _sign_in(client, build, Role.manager, "mia@example.com")

    page = client.get("/publish?view=month&month=2026-11").text

    grid = page[page.index('<table class="month-grid">') : page.index("</table>")]
    titles = re.findall(r'<th scope="col"><abbr title="([^"]+)">([^<]+)</abbr></th>', grid)
    assert titles == [
        ("Monday", "Mon"),
        ("Tuesday", "Tue"),
        ("Wednesday", "Wed"),
        ("Thursday", "Thu"),
        ("Friday", "Fri"),
        ("Saturday", "Sat"),
        ("Sunday", "Sun"),
    ]
    rows = grid.split("<tbody>")[1].split("</tr>")[:-1]
    days = [re.findall(r'datetime="(\d{4}-\d\d-\d\d)"', row) for row in rows]
    assert len(days) == 6 and all(len(week) == 7 for week in days)
    assert days[0][0] == "2026-10-26" and days[0][6] == "2026-11-01"
    assert days[5] == ["2026-11-30", *(f"2026-12-0{d}" for d in range(1, 7))]
    # Days of other months are greyed, the others not.
    assert "is-other" in _cell(page, "2026-10-26") and "is-other" not in _cell(page, "2026-11-01")
    assert "November 2026" in page
    assert 'rel="prev" href="/publish?view=month&amp;month=2026-10"' in page
    assert 'rel="next" href="/publish?view=month&amp;month=2026-12"' in page
    assert 'href="/publish?view=month">Today</a>' in page
    # Today is marked in this month's grid, in the workspace's time zone.
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    assert 'aria-current="date"' in _cell(client.get("/publish?view=month").text, today)
    assert 'aria-current="date"' not in client.get("/publish?view=month&month=2020-01").text


def test_the_month_is_written_in_french_for_a_french_reader(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    build.user("lea@example.com", Role.manager, "Léa", "fr")
    assert client.sign_in("lea@example.com").status_code == 303

    page = client.get("/publish?view=month&month=2026-11").text

    titles = re.findall(r'<th scope="col"><abbr title="([^"]+)">', page)
    assert titles == ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
    assert "Novembre 2026" in page and "Octobre 2026" in page and "Décembre 2026" in page
    assert "Lundi 30 novembre 2026" in _cell(page, "2026-11-30")


def test_a_post_at_half_past_eleven_in_paris_on_the_last_day_is_in_that_days_cell(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    accounts = _accounts(client, factory, workspace)
    # 23:30 in Paris is 22:30 UTC: the next day it is not, whatever the server's zone.
    late = _plan(
        factory,
        workspace,
        accounts["mastodon"],
        datetime(2026, 11, 30, 22, 30, tzinfo=UTC),
        body="Last call for the November raffle, the winners are drawn at midnight",
    )
    # 23:30 UTC is half past midnight on 1 December in Paris.
    _plan(
        factory,
        workspace,
        accounts["mastodon"],
        datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
        body="December is here",
    )
    client = _sign_in(client, build, Role.manager, "mia@example.com")

    page = client.get("/publish?view=month&month=2026-11").text

    cell = _cell(page, "2026-11-30")
    assert f'href="/publish?view=list&amp;day=2026-11-30#publication-{late}"' in cell
    assert ">11:30\u202fPM</time>" in cell
    assert 'class="month-chip is-scheduled"' in cell
    assert '<span class="month-dot net-mastodon"></span>' in cell
    # The full text and the account in the title; the first words on the chip.
    assert (
        'title="Last call for the November raffle, the winners are drawn at midnight&#10;&#10;'
        "scheduled · acme · Mastodon" in cell
    )
    assert ">Last call for the November raffle, the winners…</span>" in cell
    assert "Last call" not in _cell(page, "2026-12-01")
    assert "December is here" in _cell(page, "2026-12-01") and "December" not in cell
    # The chip leads to the post's card in the list of that day.
    day = client.get("/publish?view=list&day=2026-11-30").text
    assert f'id="publication-{late}"' in day and "Monday, November 30, 2026" in day


def test_a_day_with_more_than_three_posts_shows_three_and_links_to_the_others(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int
) -> None:
    accounts = _accounts(client, factory, workspace)
    ids = [
        _plan(
            factory,
            workspace,
            accounts["bluesky"],
            datetime(2026, 11, 23, 8 + hour, 0, tzinfo=UTC),
            body=f"Post number {hour}",
            status="sent",
        )
        for hour in range(5)
    ]
    client = _sign_in(client, build, Role.manager, "mia@example.com")

    cell = _cell(client.get("/publish?view=month&month=2026-11").text, "2026-11-23")

    assert cell.count('class="month-chip is-sent"') == 3
    assert "Post number 2" in cell and "Post number 3" not in cell
    assert '<a class="month-more" href="/publish?view=list&amp;day=2026-11-23">+2 more</a>' in cell
    day = client.get("/publish?view=list&day=2026-11-23").text
    assert [int(i) for i in re.findall(r'id="publication-(\d+)"', day)] == ids
    assert "Nothing scheduled" not in day


def test_an_agent_and_a_viewer_see_the_month_without_acting_on_it(
    client: Any, build: Any, factory: sessionmaker[Session], workspace: int, browser_for: Any
) -> None:
    accounts = _accounts(client, factory, workspace)
    waiting = _plan(
        factory,
        workspace,
        accounts["mastodon"],
        datetime(2026, 11, 12, 9, 0, tzinfo=UTC),
        body="Merch restock",
        status="awaiting_approval",
    )
    agent = _sign_in(client, build, Role.agent, "yan@example.com")
    page = agent.get("/publish?view=month&month=2026-11").text
    cell = _cell(page, "2026-11-12")
    assert 'class="month-chip is-awaiting"' in cell and f"#publication-{waiting}" in cell
    assert "/approve" not in page
    with browser_for(client.app) as viewer:
        _sign_in(viewer, build, Role.viewer, "vic@example.com")
        page = viewer.get("/publish?view=month&month=2026-11").text
        assert f"#publication-{waiting}" in _cell(page, "2026-11-12")
        assert 'action="/publish"' not in page and 'href="#publish-form"' not in page
        assert "/approve" not in page and "/cancel" not in page
