"""Publications: composed once for several accounts, approved, sent once, held in a crisis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from builders import BASE_TIME, make_workspace
from clameur.connectors.base import Published, RateLimited
from clameur.connectors.demo.replies import DemoReplies
from clameur.inbox.outbox import MAX_ATTEMPTS, STUCK_AFTER
from clameur.kit.errors import ClameurError, Conflict, Forbidden
from clameur.models import NetworkAccount, Post, Publication, Role, User
from clameur.pipeline.runner import Runner
from clameur.publishing import service
from clameur.publishing.dispatch import deliver_due_publications
from clameur.publishing.senders import outgoing
from clameur.radar.crisis import end_crisis, start_crisis
from clameur.store.engine import unit_of_work

NOW = BASE_TIME


class FakeNetwork:
    """Keeps the idempotency contract and counts what it really published."""

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.published: dict[str, str] = {}
        self.calls: list[str] = []

    def send_publication(self, publication: Publication, account: NetworkAccount) -> Published:
        self.calls.append(publication.idempotency_key)
        if self.failures:
            raise self.failures.pop(0)
        key = publication.idempotency_key
        replayed = key in self.published
        if not replayed:
            self.published[key] = f"{account.network}-{len(self.published) + 1}"
        return Published(self.published[key], f"https://example.org/{key}", replayed=replayed)


class WorkerDied(BaseException):
    """The process vanished after the network accepted the post."""


class DiesAfterTheNetworkAccepts:
    def __init__(self, network: FakeNetwork) -> None:
        self.network = network

    def send_publication(self, publication: Publication, account: NetworkAccount) -> Published:
        self.network.send_publication(publication, account)
        raise WorkerDied


def _world(session: Session) -> dict[str, Any]:
    ws = make_workspace(session)
    accounts = {}
    for network, handle in (
        ("x", "acme"),
        ("mastodon", "acme@mastodon.social"),
        ("instagram", "acme"),
    ):
        account = NetworkAccount(workspace_id=ws.id, network=network, handle=handle)
        session.add(account)
        accounts[network] = account
    users = {}
    for name, role in (("camille", Role.manager), ("yanis", Role.agent), ("vic", Role.viewer)):
        users[name] = User(email=f"{name}@example.org", name=name, password_hash="-", role=role)
        session.add(users[name])
    session.flush()
    return {"ws": ws.id, "accounts": accounts, **users}


def _compose(
    session: Session, world: dict[str, Any], user: str = "camille", **kw: Any
) -> list[Publication]:
    networks = kw.pop("networks", ("x", "mastodon"))
    return service.compose(
        session,
        world["ws"],
        world[user],
        kw.pop("body", "Les billets du samedi sont en vente !"),
        [world["accounts"][n].id for n in networks],
        include_unconnected=True,
        now=NOW,
        **kw,
    )


def _status(factory: sessionmaker[Session], ids: list[int]) -> list[str]:
    with factory() as session:
        return [session.get(Publication, i).status for i in ids]  # type: ignore[union-attr]


def test_a_composition_becomes_one_publication_per_account(session: Session) -> None:
    world = _world(session)
    publications = _compose(session, world)
    assert [p.network for p in publications] == ["x", "mastodon"]
    assert len({p.batch_key for p in publications}) == 1
    assert len({p.idempotency_key for p in publications}) == 2
    assert {p.status for p in publications} == {"scheduled"}


def test_the_text_is_checked_against_every_chosen_network(session: Session) -> None:
    world = _world(session)
    with pytest.raises(ClameurError, match="x allows 280"):
        _compose(session, world, body="a" * 300)
    # Mastodon alone takes 300 characters.
    assert _compose(session, world, body="a" * 300, networks=("mastodon",))


def test_instagram_needs_an_image_and_images_must_be_public_addresses(session: Session) -> None:
    world = _world(session)
    with pytest.raises(ClameurError, match="without an image"):
        _compose(session, world, networks=("instagram",))
    with pytest.raises(ClameurError, match="not a public image address"):
        _compose(session, world, networks=("instagram",), media_urls=["file:///etc/passwd"])
    [post] = _compose(
        session, world, networks=("instagram",), media_urls=["https://cdn.example.org/a.jpg"]
    )
    assert post.media_urls == ["https://cdn.example.org/a.jpg"]


def test_images_are_refused_where_clameur_cannot_attach_them(session: Session) -> None:
    world = _world(session)
    # The demo network publishes text only.
    demo = NetworkAccount(workspace_id=world["ws"], network="demo", handle="acme")
    session.add(demo)
    session.flush()
    with pytest.raises(ClameurError, match="cannot attach images on demo"):
        service.compose(
            session,
            world["ws"],
            world["camille"],
            "Our new stage",
            [world["accounts"]["instagram"].id, demo.id],
            media_urls=["https://cdn.example.org/stage.jpg"],
            include_unconnected=True,
            now=NOW,
        )
    assert session.scalars(select(Publication)).all() == []


def test_linkedin_takes_up_to_twenty_images(session: Session) -> None:
    world = _world(session)
    linkedin = NetworkAccount(workspace_id=world["ws"], network="linkedin", handle="acme")
    session.add(linkedin)
    session.flush()
    images = [f"https://cdn.example.org/{n}.jpg" for n in range(21)]

    def compose(urls: list[str]) -> list[Publication]:
        return service.compose(
            session,
            world["ws"],
            world["camille"],
            "Our new stage",
            [linkedin.id],
            media_urls=urls,
            include_unconnected=True,
            now=NOW,
        )

    with pytest.raises(ClameurError, match="linkedin takes at most 20 images"):
        compose(images)
    [post] = compose(images[:20])
    assert len(post.media_urls) == 20


def test_each_image_keeps_its_description_in_order(session: Session) -> None:
    world = _world(session)
    publications = _compose(
        session,
        world,
        media_urls=["https://cdn.example.org/a.jpg", "  ", "https://cdn.example.org/b.jpg"],
        # The blank row in the middle (no address, no description) is left out.
        media_alts=["  The stage at dusk. ", "", ""],
    )
    assert {tuple(p.media_urls) for p in publications} == {
        ("https://cdn.example.org/a.jpg", "https://cdn.example.org/b.jpg")
    }
    assert {tuple(p.media_alts) for p in publications} == {("The stage at dusk.", "")}


def test_fewer_descriptions_than_images_leave_the_others_undescribed(session: Session) -> None:
    world = _world(session)
    [post] = _compose(
        session,
        world,
        networks=("mastodon",),
        media_urls=["https://cdn.example.org/a.jpg", "https://cdn.example.org/b.jpg"],
        media_alts=["The crowd."],
    )
    assert post.media_alts == ["The crowd.", ""]


def test_a_description_over_the_limit_is_refused_naming_the_image(session: Session) -> None:
    world = _world(session)
    urls = ["https://cdn.example.org/a.jpg", "https://cdn.example.org/poster.jpg?sig=secret"]
    with pytest.raises(ClameurError) as refused:
        _compose(session, world, media_urls=urls, media_alts=["Short.", "x" * 1001])
    message = refused.value.message
    assert "image 2" in message and "https://cdn.example.org/poster.jpg" in message
    assert "1,001 characters" in message and "at most 1,000" in message
    # The signature of a signed address stays out of the message.
    assert "secret" not in message
    assert session.scalars(select(Publication)).all() == []
    # 1,000 characters are taken.
    assert _compose(session, world, media_urls=urls, media_alts=["Short.", "x" * 1000])


def test_a_network_whose_documented_limit_is_lower_refuses_a_longer_description(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world(session)
    monkeypatch.setitem(service.ALT_TEXT_LIMITS, "mastodon", 420)
    urls = ["https://cdn.example.org/a.jpg"]
    with pytest.raises(ClameurError, match=r"image 1 .* 421 characters long; mastodon takes"):
        _compose(session, world, media_urls=urls, media_alts=["x" * 421])
    assert _compose(session, world, networks=("x",), media_urls=urls, media_alts=["x" * 421])


def test_alt_text_limits_follow_the_networks_documentation() -> None:
    # Mastodon 1,500, LinkedIn 4,086, X 1,000: each capped at Clameur's 1,000.
    assert {n: service.alt_text_limit(n) for n in ("mastodon", "linkedin", "x", "bluesky")} == {
        "mastodon": 1000,
        "linkedin": 1000,
        "x": 1000,
        "bluesky": 1000,
    }


def test_a_description_without_its_image_address_is_refused(session: Session) -> None:
    world = _world(session)
    with pytest.raises(ClameurError, match="Image 2 has a description but no address"):
        _compose(
            session,
            world,
            media_urls=["https://cdn.example.org/a.jpg", ""],
            media_alts=["", "A stage."],
        )


def test_the_publication_goes_out_with_its_descriptions(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        [publication] = _compose(
            session,
            _world(session),
            networks=("mastodon",),
            media_urls=["https://cdn.example.org/a.jpg", "https://cdn.example.org/b.jpg"],
            media_alts=["", "The band on stage."],
        )
        pid = publication.id
    with factory() as session:
        stored = session.get(Publication, pid)
        assert stored is not None
        post = outgoing(stored)
    assert post.media_urls == ("https://cdn.example.org/a.jpg", "https://cdn.example.org/b.jpg")
    assert post.media_alts == ("", "The band on stage.")


def test_a_post_with_more_images_than_a_network_takes_is_refused(session: Session) -> None:
    world = _world(session)
    images = [f"https://cdn.example.org/{n}.jpg" for n in range(5)]
    with pytest.raises(ClameurError, match="x takes at most 4 images in a post; this one has 5"):
        _compose(session, world, networks=("x",), media_urls=images)
    with pytest.raises(ClameurError, match="instagram takes at most 1 image"):
        _compose(session, world, networks=("instagram",), media_urls=images[:2])
    assert _compose(session, world, networks=("x", "mastodon"), media_urls=images[:4])


def test_nothing_is_composed_without_an_account_or_for_the_past(session: Session) -> None:
    world = _world(session)
    with pytest.raises(ClameurError, match="at least one account"):
        _compose(session, world, networks=())
    with pytest.raises(ClameurError, match="in the past"):
        _compose(session, world, scheduled_at=NOW - timedelta(hours=1))


def test_an_account_that_is_not_connected_cannot_publish_outside_the_demo(session: Session) -> None:
    world = _world(session)
    with pytest.raises(ClameurError, match="cannot publish"):
        service.compose(
            session, world["ws"], world["camille"], "Bonjour", [world["accounts"]["x"].id]
        )


def test_an_agents_publication_waits_for_a_manager(session: Session) -> None:
    world = _world(session)
    publications = _compose(session, world, user="yanis")
    assert {p.status for p in publications} == {"awaiting_approval"}
    with pytest.raises(Forbidden):
        service.approve(session, publications[0], world["yanis"])
    service.approve(session, publications[0], world["camille"])
    assert publications[0].status == "scheduled"
    assert publications[0].approved_by_id == world["camille"].id
    with pytest.raises(Conflict):
        service.approve(session, publications[0], world["camille"])


def test_viewers_cannot_publish(session: Session) -> None:
    world = _world(session)
    with pytest.raises(Forbidden):
        _compose(session, world, user="vic")


def test_a_composition_is_approved_or_cancelled_on_every_account_at_once(
    session: Session,
) -> None:
    world = _world(session)
    first = _compose(session, world, user="yanis")
    together = service.batch(session, world["ws"], first[0].batch_key)
    assert service.approve_batch(session, together, world["camille"]) == 2
    assert {p.status for p in first} == {"scheduled"}
    first[0].status = "sent"
    assert service.cancel_batch(session, together, world["yanis"]) == 1
    assert [p.status for p in first] == ["sent", "cancelled"]
    with pytest.raises(Conflict):
        service.cancel_batch(session, together, world["yanis"])


def test_only_what_has_not_gone_out_can_be_cancelled(session: Session) -> None:
    world = _world(session)
    first, second = _compose(session, world, user="yanis")
    service.cancel(session, first, world["yanis"])
    assert first.status == "cancelled"
    second.status = "sent"
    with pytest.raises(Conflict):
        service.cancel(session, second, world["camille"])


def test_due_publications_go_out_once_and_join_the_brands_posts(
    factory: sessionmaker[Session],
) -> None:
    with unit_of_work(factory) as session:
        world = _world(session)
        now_ids = [p.id for p in _compose(session, world)]
        later_ids = [p.id for p in _compose(session, world, scheduled_at=NOW + timedelta(hours=2))]
    network = FakeNetwork()
    report = deliver_due_publications(factory, network, now=NOW)
    assert sorted(report.sent) == sorted(now_ids)
    assert _status(factory, now_ids) == ["sent", "sent"]
    assert _status(factory, later_ids) == ["scheduled", "scheduled"]
    assert not deliver_due_publications(factory, network, now=NOW).busy
    with factory() as session:
        stored = session.scalars(
            select(Post).where(Post.external_id.in_(["x-1", "mastodon-2"]))
        ).all()
        assert {p.text for p in stored} == {"Les billets du samedi sont en vente !"}
        assert {p.author.handle for p in stored} == {"acme", "acme@mastodon.social"}
        sent = session.get(Publication, now_ids[0])
        assert sent is not None and sent.url and sent.sent_at is not None
    later = deliver_due_publications(factory, network, now=NOW + timedelta(hours=3))
    assert sorted(later.sent) == sorted(later_ids)
    assert len(network.published) == 4


def test_a_publication_sent_when_the_runner_died_is_not_published_twice(
    factory: sessionmaker[Session],
) -> None:
    with unit_of_work(factory) as session:
        [publication] = _compose(session, _world(session), networks=("x",))
        pid = publication.id
    network = FakeNetwork()
    with pytest.raises(WorkerDied):
        deliver_due_publications(factory, DiesAfterTheNetworkAccepts(network), now=NOW)
    assert _status(factory, [pid]) == ["sending"]
    # Too early: another runner leaves a post that is still being sent alone.
    assert not deliver_due_publications(factory, network, now=NOW + timedelta(minutes=1)).busy
    report = deliver_due_publications(
        factory, network, now=NOW + STUCK_AFTER + timedelta(seconds=1)
    )
    assert report.sent == [pid]
    assert len(network.published) == 1
    assert len(set(network.calls)) == 1


def test_a_rate_limit_is_waited_out_then_the_post_goes(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        [publication] = _compose(session, _world(session), networks=("x",))
        pid = publication.id
    limited = RateLimited("too many posts", "x", retry_at=NOW + timedelta(minutes=15), now=NOW)
    network = FakeNetwork([limited])
    report = deliver_due_publications(factory, network, now=NOW)
    assert report.retrying == [pid]
    with factory() as session:
        waiting = session.get(Publication, pid)
        assert waiting is not None and waiting.status == "scheduled"
        assert waiting.error == "too many posts"
        assert waiting.next_attempt_at == NOW + timedelta(minutes=15)
    assert not deliver_due_publications(factory, network, now=NOW + timedelta(minutes=10)).busy
    assert deliver_due_publications(factory, network, now=NOW + timedelta(minutes=16)).sent == [pid]


def test_a_permanent_error_fails_the_publication_and_a_retry_keeps_its_key(
    factory: sessionmaker[Session],
) -> None:
    with unit_of_work(factory) as session:
        world = _world(session)
        [publication] = _compose(session, world, networks=("x",))
        pid, key, manager_id = publication.id, publication.idempotency_key, world["camille"].id
    network = FakeNetwork([ValueError("duplicate content")])
    assert deliver_due_publications(factory, network, now=NOW).failed == [pid]
    with unit_of_work(factory) as session:
        failed = session.get(Publication, pid)
        assert failed is not None and failed.error == "duplicate content"
        service.retry(session, failed, session.get(User, manager_id))  # type: ignore[arg-type]
    assert deliver_due_publications(factory, network, now=NOW).sent == [pid]
    assert network.calls == [key, key]


def test_retryable_errors_give_up_after_the_last_attempt(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        [publication] = _compose(session, _world(session), networks=("x",))
        pid = publication.id
    network = FakeNetwork([RateLimited("busy", "x", delay=1.0, now=NOW)] * MAX_ATTEMPTS)
    moment = NOW
    for _ in range(MAX_ATTEMPTS):
        deliver_due_publications(factory, network, now=moment)
        moment += timedelta(seconds=2)
    with factory() as session:
        given_up = session.get(Publication, pid)
        assert given_up is not None and given_up.status == "failed"
        assert given_up.error.startswith(f"gave up after {MAX_ATTEMPTS} attempts")  # type: ignore[union-attr]


def test_crisis_mode_holds_promotional_posts_until_it_ends(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        world = _world(session)
        promo = [p.id for p in _compose(session, world, promotional=True)]
        notice = [p.id for p in _compose(session, world, body="Info trafic : navettes retardées")]
        start_crisis(session, world["ws"], world["camille"].id, reason="rappel produit")
        board = service.board(session, world["ws"], now=NOW)
        assert board.crisis and board.held == set(promo)
        ws, manager_id = world["ws"], world["camille"].id
    network = FakeNetwork()
    report = deliver_due_publications(factory, network, now=NOW)
    assert sorted(report.sent) == sorted(notice)
    assert _status(factory, promo) == ["scheduled", "scheduled"]
    with unit_of_work(factory) as session:
        end_crisis(session, ws, manager_id)
    assert sorted(deliver_due_publications(factory, network, now=NOW).sent) == sorted(promo)


def test_the_board_groups_the_calendar_by_day_in_the_workspace_time_zone(session: Session) -> None:
    world = _world(session)
    _compose(session, world, scheduled_at=NOW + timedelta(days=1))
    _compose(session, world, scheduled_at=NOW + timedelta(days=1, hours=1))
    _compose(session, world, user="yanis", scheduled_at=NOW + timedelta(days=3))
    board = service.board(session, world["ws"], now=NOW)
    [day] = board.upcoming
    assert [len(group.items) for group in day.groups] == [2, 2]
    [waiting] = board.awaiting
    assert [p.network for p in waiting.items] == ["x", "mastodon"]
    assert not board.crisis and not board.held


def test_the_runner_publishes_through_the_demo_network(factory: sessionmaker[Session]) -> None:
    with unit_of_work(factory) as session:
        world = _world(session)
        ids = [p.id for p in _compose(session, world, scheduled_at=None)]
    runner = Runner(factory, publisher=DemoReplies(factory))
    runner.drain()
    assert _status(factory, ids) == ["sent", "sent"]
    with factory() as session:
        sent = session.scalars(select(Publication).where(Publication.id.in_(ids))).all()
        assert all(p.external_id and p.external_id.startswith("post-") for p in sent)
