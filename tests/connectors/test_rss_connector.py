"""The RSS/Atom connector against a local server replaying the specifications' sample feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from connector_replay import PAYLOADS, Answer, ReplayServer

from clameur.connectors.base import (
    AuthError,
    ListenSource,
    PermanentError,
    RateLimited,
    RetryableError,
)
from clameur.connectors.rss import RssConfig, RssConnector

RSS = (PAYLOADS / "rss_feed.xml").read_bytes()
ATOM = (PAYLOADS / "atom_feed.xml").read_bytes()


def feed_answer(body: bytes, **headers: str) -> Answer:
    return Answer(200, raw=body, content_type="application/rss+xml", headers=headers)


def connector(server: ReplayServer) -> RssConnector:
    return RssConnector(RssConfig(feeds=[f"{server.url}/feed"]), sleep=lambda _: None)


def test_rss_entries_become_posts_oldest_first_with_plain_text(server: ReplayServer) -> None:
    server.add("GET", "/feed", feed_answer(RSS))
    rss = connector(server)

    result = rss.listen(rss.sources()[0], None)

    assert [p.id.rsplit("#", 1)[1] for p in result.posts] == [
        "item570",
        "item571",
        "item572",
        "item573",
    ]
    star_city = result.posts[-1]
    assert star_city.network == "rss"
    assert star_city.text.startswith("Star City\nHow do Americans get ready")
    assert "<a" not in star_city.text and star_city.text.endswith("Russia's Star City.")
    assert star_city.created_at == datetime(2003, 6, 3, 9, 39, 21, tzinfo=UTC)
    assert star_city.url == "http://liftoff.msfc.nasa.gov/news/2003/news-starcity.asp"
    assert star_city.author is not None and star_city.author.handle == "liftoff.msfc.nasa.gov"
    assert star_city.lang == "en"


def test_rss_unchanged_feed_is_asked_conditionally_and_returns_nothing(
    server: ReplayServer,
) -> None:
    etag = '"5f3-1a2b"'
    modified = "Tue, 10 Jun 2003 09:41:01 GMT"
    server.add("GET", "/feed", feed_answer(RSS, ETag=etag, **{"Last-Modified": modified}))
    first = connector(server).listen(ListenSource("feed", f"{server.url}/feed"), None)
    server.add("GET", "/feed", Answer(304))

    second = connector(server).listen(ListenSource("feed", f"{server.url}/feed"), first.checkpoint)

    conditional = server.seen("GET", "/feed")[1].headers
    assert conditional["if-none-match"] == etag
    assert conditional["if-modified-since"] == modified
    assert second.posts == [] and second.checkpoint == first.checkpoint


def test_rss_new_entries_after_a_restart_are_returned_once(server: ReplayServer) -> None:
    server.add("GET", "/feed", feed_answer(RSS))
    first = connector(server).listen(ListenSource("feed", f"{server.url}/feed"), None)
    newer = RSS.replace(
        b"<item>",
        b"<item><title>New launch</title><link>http://liftoff.msfc.nasa.gov/new</link>"
        b"<pubDate>Wed, 11 Jun 2003 08:00:00 GMT</pubDate>"
        b"<guid>http://liftoff.msfc.nasa.gov/2003/06/11.html#item574</guid></item><item>",
        1,
    )
    server.add("GET", "/feed", feed_answer(newer))

    second = connector(server).listen(ListenSource("feed", f"{server.url}/feed"), first.checkpoint)

    assert [p.id for p in second.posts] == ["http://liftoff.msfc.nasa.gov/2003/06/11.html#item574"]


def test_rss_a_long_feed_is_handed_back_in_batches_without_losing_entries(
    server: ReplayServer,
) -> None:
    server.add("GET", "/feed", feed_answer(RSS, ETag='"v1"'))
    source = ListenSource("feed", f"{server.url}/feed")

    first = connector(server).listen(source, None, limit=3)
    second = connector(server).listen(source, first.checkpoint, limit=3)

    assert len(first.posts) == 3 and first.more is True
    assert "If-None-Match".lower() not in server.seen("GET", "/feed")[1].headers
    assert [p.id.rsplit("#", 1)[1] for p in second.posts] == ["item573"]
    assert second.more is False and second.checkpoint["etag"] == '"v1"'


def test_atom_feed_entry_uses_its_id_and_author(server: ReplayServer) -> None:
    server.add("GET", "/feed", Answer(200, raw=ATOM, content_type="application/atom+xml"))

    result = connector(server).listen(ListenSource("feed", f"{server.url}/feed"), None)

    (post,) = result.posts
    assert post.id == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert post.text == "Atom-Powered Robots Run Amok\nSome text."
    assert post.author is not None and post.author.name == "John Doe"
    assert post.created_at == datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC)


def test_rss_page_that_is_not_a_feed_is_a_permanent_error(server: ReplayServer) -> None:
    server.add("GET", "/feed", Answer(200, raw=b"<html><body>Moved", content_type="text/html"))

    with pytest.raises(PermanentError, match="malformed feed.*not RSS or Atom"):
        connector(server).listen(ListenSource("feed", f"{server.url}/feed"), None)


def test_rss_server_errors_are_retried_then_raised_as_retryable(server: ReplayServer) -> None:
    server.add(
        "GET", "/feed", status=503, body={"error": "maintenance"}, headers={"Retry-After": "120"}
    )

    with pytest.raises(RetryableError) as caught:
        connector(server).listen(ListenSource("feed", f"{server.url}/feed"), None)

    assert caught.value.delay == pytest.approx(120, abs=2)
    # A two-minute wait is not spent in place: one request, then the runner reschedules.
    assert len(server.seen("GET", "/feed")) == 1


def test_rss_feed_behind_a_login_fails_that_feed_only_saying_what_to_do(
    server: ReplayServer,
) -> None:
    server.add("GET", "/feed", status=401, body={"error": "login required"})

    with pytest.raises(PermanentError, match="asks for a login") as raised:
        connector(server).listen(ListenSource("feed", f"{server.url}/feed"), None)
    assert not isinstance(raised.value, AuthError)


def test_rss_feed_refused_by_its_site_is_a_permanent_error_saying_what_to_do(
    server: ReplayServer,
) -> None:
    # RFC 9110, 15.5.4: the server understood and refuses; retrying will not help.
    server.add(
        "GET", "/feed", Answer(403, raw=b"<html>Access denied</html>", content_type="text/html")
    )

    with pytest.raises(
        PermanentError, match=r"/feed refused Clameur \(HTTP 403\).*browser"
    ) as caught:
        connector(server).listen(ListenSource("feed", f"{server.url}/feed"), None)

    assert not isinstance(caught.value, AuthError)
    assert len(server.seen("GET", "/feed")) == 1


def test_rss_too_many_requests_waits_the_time_the_site_gave(server: ReplayServer) -> None:
    # RFC 6585, section 4: 429 with Retry-After (RFC 9110, 10.2.3).
    server.add(
        "GET",
        "/feed",
        Answer(429, raw=b"Slow down", content_type="text/plain", headers={"Retry-After": "600"}),
    )

    with pytest.raises(RateLimited) as caught:
        connector(server).listen(ListenSource("feed", f"{server.url}/feed"), None)

    assert caught.value.delay == pytest.approx(600, abs=2)
    assert len(server.seen("GET", "/feed")) == 1


def test_rss_short_outage_is_retried_in_place(server: ReplayServer) -> None:
    server.add(
        "GET", "/feed", Answer(502, raw=b"Bad gateway", content_type="text/plain"), feed_answer(RSS)
    )

    result = connector(server).listen(ListenSource("feed", f"{server.url}/feed"), None)

    assert len(result.posts) == 4
    assert len(server.seen("GET", "/feed")) == 2


def test_rss_feed_cut_off_before_its_first_entry_ends_is_a_permanent_error(
    server: ReplayServer,
) -> None:
    cut = RSS[: RSS.index(b"<item>") + len(b"<item><title>Star")]
    server.add("GET", "/feed", feed_answer(cut))

    with pytest.raises(PermanentError, match="malformed feed.*not RSS or Atom"):
        connector(server).listen(ListenSource("feed", f"{server.url}/feed"), None)


def test_rss_feed_with_a_stray_entity_still_gives_its_entries(server: ReplayServer) -> None:
    broken = RSS.replace(b"</title>", b" &nbsp;</title>", 1)
    server.add("GET", "/feed", feed_answer(broken))

    result = connector(server).listen(ListenSource("feed", f"{server.url}/feed"), None)

    assert len(result.posts) == 4


def test_rss_settings_refuse_an_address_that_is_not_a_web_page() -> None:
    with pytest.raises(PermanentError, match="feeds: .*not a web address"):
        RssConfig.from_form({"feeds": "https://example.org/feed\nftp://example.org/feed"})
