"""The Reddit connector (OAuth API over httpx) against a replay of the documented API
(reddit.com/dev/api and the reddit-archive wiki)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from connector_replay import Answer, ReplayServer, payload

from clameur.connectors.base import (
    AuthError,
    ListenSource,
    OutgoingPost,
    PermanentError,
    RateLimited,
    Unsupported,
)
from clameur.connectors.reddit import RedditConfig, RedditConnector
from clameur.connectors.reddit.connector import fullname_key
from clameur.connectors.reddit.oauth import authorization_request, exchange_code

NEW = "/r/redditdev/new"
TOKEN = "/api/v1/access_token"
MINE = "/user/clameur_brand/comments"
SOURCE = ListenSource("subreddit", "redditdev")


def name(n: int) -> str:
    """The fullname of the n-th post of the test (base 36 ids grow with time)."""
    return "t3_" + _base36(int("1g3z9rk", 36) + n)


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while value:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
    return out


def link(n: int, **data: Any) -> dict[str, Any]:
    """The documented link (t3) with another id (and any field changed)."""
    thing = payload("reddit/link.json")
    thing["data"].update(
        name=name(n),
        id=name(n)[3:],
        title=f"post number {n} about clameur",
        created_utc=1728986700.0 + 60 * n,
        **data,
    )
    return thing


def comment(fullname: str, parent: str, replies: Any = "", **data: Any) -> dict[str, Any]:
    """The documented comment (t1) with another id and parent."""
    thing = payload("reddit/comment.json")
    thing["data"].update(name=fullname, id=fullname[3:], parent_id=parent, replies=replies, **data)
    return thing


def listing(*things: dict[str, Any], after: str | None = None) -> dict[str, Any]:
    body = payload("reddit/listing.json")
    body["data"]["children"] = list(things)
    body["data"]["after"] = after
    body["data"]["dist"] = len(things)
    return body


def connector(server: ReplayServer, **config: Any) -> RedditConnector:
    values: dict[str, Any] = {
        "client_id": "p-jcoLKBynTLew",
        "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI",
        "username": "clameur_brand",
        "password": "hunter2-abcdefghijklmnop",
        "access_token": "token-abcdefghijklmnop",
        "token_expires_at": datetime.now(UTC) + timedelta(hours=20),
        "api_url": server.url,
        "auth_url": server.url,
    }
    return RedditConnector(RedditConfig(**{**values, **config}), timeout=5, sleep=lambda _: None)


def ids(result: Any) -> list[str]:
    return [post.id for post in result.posts]


def test_reddit_first_read_signs_in_and_takes_the_newest_page(server: ReplayServer) -> None:
    server.add("POST", TOKEN, body={**payload("reddit/token.json"), "refresh_token": None})
    server.add("GET", NEW, body=listing(link(3), link(2), after=name(2)))
    reddit = connector(server, access_token=None, token_expires_at=None)

    result = reddit.listen(SOURCE, None)

    assert ids(result) == [name(2), name(3)] and result.more is False
    assert result.checkpoint == {"since": name(3)}
    token = server.seen("POST", TOKEN)[0]
    assert token.form() == {
        "grant_type": ["password"],
        "username": ["clameur_brand"],
        "password": ["hunter2-abcdefghijklmnop"],
    }
    basic = base64.b64encode(b"p-jcoLKBynTLew:gko_LXELoV07ZBNUXrvWZfzE3aI").decode()
    assert token.headers["authorization"] == f"Basic {basic}"
    sent = server.seen("GET", NEW)[0]
    assert sent.headers["user-agent"] == "server:clameur:0.1 (by /u/clameur_brand)"
    assert sent.headers["authorization"] == "bearer J1qK1c18UUGJFAzz9xnH56584l4"
    assert sent.query["raw_json"] == ["1"] and "after" not in sent.query
    stored = reddit.updated_config()
    assert stored is not None and stored.access_token is not None


def test_reddit_sweep_resumes_after_a_restart_without_duplicates_or_gaps(
    server: ReplayServer,
) -> None:
    server.add("GET", NEW, body=listing(link(6), link(5), after=name(5)))
    server.add("GET", NEW, body=listing(link(4), link(3), after=name(3)), query={"after": name(5)})
    # The page reaches the checkpoint (post 1, deleted since: only its number matters).
    server.add("GET", NEW, body=listing(link(2), link(0), after=name(0)), query={"after": name(3)})
    server.add("GET", NEW, body=listing(link(7)), query={"after": name(7)})

    first = connector(server).listen(SOURCE, {"since": name(1)}, limit=2)
    second = connector(server).listen(SOURCE, first.checkpoint, limit=2)
    third = connector(server).listen(SOURCE, second.checkpoint, limit=2)

    assert ids(first) == [name(5), name(6)] and first.more is True
    assert first.checkpoint == {"since": name(1), "after": name(5), "high": name(6)}
    assert ids(second) == [name(3), name(4)] and second.more is True
    assert ids(third) == [name(2)] and third.more is False
    assert third.checkpoint == {"since": name(6)}
    assert server.seen("GET", NEW)[0].query["limit"] == ["2"]


def test_reddit_search_asks_for_the_newest_posts(server: ReplayServer) -> None:
    server.add("GET", "/search", body=listing(link(1)))

    result = connector(server).listen(ListenSource("search", "clameur OR clamor"), None)

    query = server.seen("GET", "/search")[0].query
    assert query["q"] == ["clameur OR clamor"]
    assert (query["sort"], query["type"]) == (["new"], ["link"])
    assert ids(result) == [name(1)]


def test_reddit_post_and_comment_become_posts_in_their_thread(server: ReplayServer) -> None:
    reddit = connector(server)

    post = reddit.to_post(payload("reddit/link.json"))
    answer = reddit.to_post(payload("reddit/comment.json"))

    assert post.id == "t3_1g3z9rk" and post.conversation_id == "t3_1g3z9rk"
    assert post.text.startswith("Paging through /new with after\n\nI'm trying to page")
    assert post.author is not None and post.author.handle == "example_dev"
    assert post.url == (
        "https://www.reddit.com/r/redditdev/comments/1g3z9rk/paging_through_new_with_after/"
    )
    assert post.created_at == datetime(2024, 10, 15, 10, 5, tzinfo=UTC)
    assert post.metrics == {"score": 12, "comments": 4}
    assert answer.id == "t1_lrz1abc" and answer.in_reply_to == "t3_1g3z9rk"
    assert answer.conversation_id == "t3_1g3z9rk" and answer.metrics == {"score": 5}


def test_reddit_rate_limit_raises_with_the_reset_seconds(server: ReplayServer) -> None:
    server.add(
        "GET",
        NEW,
        status=429,
        body={"message": "Too Many Requests", "error": 429},
        headers={
            "X-Ratelimit-Used": "100",
            "X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Reset": "42",
        },
    )
    before = datetime.now(UTC)

    with pytest.raises(RateLimited) as caught:
        connector(server).listen(SOURCE, None)

    assert caught.value.retry_at is not None
    waited = caught.value.retry_at - before
    assert timedelta(seconds=41) < waited < timedelta(seconds=44)


def test_reddit_spent_budget_waits_without_asking_again(server: ReplayServer) -> None:
    server.add(
        "GET",
        NEW,
        body=listing(link(1)),
        headers={
            "X-Ratelimit-Used": "100",
            "X-Ratelimit-Remaining": "0.0",
            "X-Ratelimit-Reset": "300",
        },
    )
    reddit = connector(server)

    reddit.listen(SOURCE, None)
    with pytest.raises(RateLimited):
        reddit.listen(SOURCE, {"since": name(1)})

    assert len(server.seen("GET", NEW)) == 1


def test_reddit_refused_token_is_renewed_with_the_refresh_token(server: ReplayServer) -> None:
    server.add(
        "GET", NEW, Answer(401, {"message": "Unauthorized", "error": 401}), Answer(200, listing())
    )
    server.add("POST", TOKEN, body=payload("reddit/token.json"))
    reddit = connector(server, password=None, refresh_token="o4Gx0t1D6QoVSxz5sZ7F_sA7Xl4")

    result = reddit.listen(SOURCE, None)

    assert result.posts == []
    assert server.seen("POST", TOKEN)[0].form()["grant_type"] == ["refresh_token"]
    assert reddit.updated_config() is not None


def test_reddit_wrong_password_says_how_to_connect_instead(server: ReplayServer) -> None:
    # Reddit answers a wrong password with HTTP 200 and an error.
    server.add("POST", TOKEN, body={"error": "invalid_grant"})

    with pytest.raises(AuthError, match="invalid_grant.*two-factor"):
        connector(server, access_token=None).listen(SOURCE, None)


def test_reddit_listing_without_children_is_a_permanent_error_naming_it(
    server: ReplayServer,
) -> None:
    server.add("GET", NEW, body={"kind": "Listing", "data": {"after": None}})

    with pytest.raises(PermanentError, match="malformed listing: it has no list of 'children'"):
        connector(server).listen(SOURCE, None)


def test_reddit_post_without_a_date_is_a_permanent_error_naming_it(server: ReplayServer) -> None:
    broken = link(1)
    del broken["data"]["created_utc"]
    server.add("GET", NEW, body=listing(broken))

    with pytest.raises(PermanentError, match=f"malformed post {name(1)}: it has no 'created_utc'"):
        connector(server).listen(SOURCE, None)


def test_reddit_conversation_of_a_comment_is_its_post_then_the_thread(
    server: ReplayServer,
) -> None:
    nested = listing(comment("t1_b", "t1_a"), {"kind": "more", "data": {"count": 3}})
    server.add("GET", "/api/info", body=listing(comment("t1_b", "t1_a")))
    server.add(
        "GET",
        "/comments/1g3z9rk",
        body=[
            listing(payload("reddit/link.json")),
            listing(comment("t1_a", "t3_1g3z9rk", replies=nested), comment("t1_c", "t3_1g3z9rk")),
        ],
    )

    posts = connector(server).conversation("t1_b")

    assert [p.id for p in posts] == ["t3_1g3z9rk", "t1_a", "t1_b", "t1_c"]
    assert server.seen("GET", "/api/info")[0].query["id"] == ["t1_b"]
    assert posts[2].in_reply_to == "t1_a"


def test_reddit_reply_is_a_comment_under_the_thing_answered(server: ReplayServer) -> None:
    made = comment("t1_new", "t3_1g3z9rk", body="Thanks for asking!")
    answer = payload("reddit/comment_answer.json")
    answer["json"]["data"]["things"] = [made]
    server.add("GET", MINE, body=listing())
    server.add("POST", "/api/comment", body=answer)

    published = connector(server).reply(OutgoingPost("Thanks for asking!", "k1", "t3_1g3z9rk"))

    assert published.external_id == "t1_new" and published.replayed is False
    assert published.url is not None and published.url.startswith("https://www.reddit.com/r/")
    assert server.seen("POST", "/api/comment")[0].form() == {
        "api_type": ["json"],
        "thing_id": ["t3_1g3z9rk"],
        "text": ["Thanks for asking!"],
    }


def test_reddit_reply_already_there_is_not_written_twice(server: ReplayServer) -> None:
    mine = comment("t1_mine", "t3_1g3z9rk", body="Thanks for asking!")
    server.add("GET", MINE, body=listing(comment("t1_other", "t3_x", body="Thanks"), mine))

    published = connector(server).reply(OutgoingPost("Thanks for asking!", "k1", "t3_1g3z9rk"))

    assert published.external_id == "t1_mine" and published.replayed is True
    assert server.seen("POST", "/api/comment") == []


def test_reddit_reply_after_an_uncertain_failure_is_found_not_sent_twice(
    server: ReplayServer,
) -> None:
    mine = comment("t1_mine", "t3_1g3z9rk", body="Thanks for asking!")
    server.add("GET", MINE, Answer(200, listing()), Answer(200, listing(mine)))
    server.add(
        "POST",
        "/api/comment",
        Answer(502, raw=b"<html>bad gateway</html>", content_type="text/html"),
    )

    published = connector(server).reply(OutgoingPost("Thanks for asking!", "k1", "t3_1g3z9rk"))

    assert published.external_id == "t1_mine" and published.replayed is True
    assert len(server.seen("POST", "/api/comment")) == 1


def test_reddit_comment_limit_waits_the_seconds_reddit_gave(server: ReplayServer) -> None:
    server.add("GET", MINE, body=listing())
    server.add("POST", "/api/comment", body=payload("reddit/ratelimit_answer.json"))

    with pytest.raises(RateLimited, match="try again in 9 minutes") as caught:
        connector(server).reply(OutgoingPost("Thanks!", "k1", "t3_1g3z9rk"))

    assert caught.value.delay == pytest.approx(512.2)


def test_reddit_locked_thread_is_a_permanent_error(server: ReplayServer) -> None:
    server.add("GET", MINE, body=listing())
    server.add(
        "POST",
        "/api/comment",
        body={"json": {"errors": [["THREAD_LOCKED", "Comments are locked.", "parent"]]}},
    )

    with pytest.raises(PermanentError, match="THREAD_LOCKED: Comments are locked"):
        connector(server).reply(OutgoingPost("Thanks!", "k1", "t3_1g3z9rk"))


def test_reddit_cannot_publish(server: ReplayServer) -> None:
    with pytest.raises(Unsupported, match="Reddit connector cannot publish"):
        connector(server).publish(OutgoingPost("A new post", "k1"))


def test_reddit_account_is_checked(server: ReplayServer) -> None:
    server.add("GET", "/api/v1/me", body=payload("reddit/me.json"))

    identity = connector(server).check()

    assert (identity.handle, identity.external_id) == ("u/clameur_brand", "t2_1w72")


def test_reddit_approval_url_and_code_exchange(server: ReplayServer) -> None:
    server.add("POST", TOKEN, body=payload("reddit/token.json"))
    settings = connector(server, password=None, access_token=None).config

    request = authorization_request(settings, "https://clameur.example/callback")
    connected = exchange_code(settings, request, "the-code", request.state)

    query = parse_qs(urlsplit(request.url).query)
    assert query["duration"] == ["permanent"]
    assert query["scope"] == ["identity read submit history privatemessages"]
    form = server.seen("POST", TOKEN)[0].form()
    assert form["grant_type"] == ["authorization_code"] and form["code"] == ["the-code"]
    assert connected.refresh_token is not None
    with pytest.raises(AuthError, match="state differs"):
        exchange_code(settings, request, "the-code", "forged")


def test_reddit_settings_clean_names_and_hide_secrets() -> None:
    settings = RedditConfig(
        client_id="p-jcoLKBynTLew",
        username="u/clameur_brand",
        subreddits=["r/redditdev", "/r/python/"],
        password="hunter2-abcdefghijklmnop",
    )

    assert settings.username == "clameur_brand"
    assert settings.subreddits == ["redditdev", "python"]
    assert settings.masked()["password"] == "••••mnop"
    assert "refresh_token" not in [f.name for f in RedditConfig.form_fields()]
    assert fullname_key("t3_1g3z9rk") < fullname_key("t3_1g3z9rl")
    with pytest.raises(ValueError, match="not a subreddit name"):
        RedditConfig(client_id="x", username="y", subreddits=["not a sub"])


# --- Comments of the subreddits and mentions of the account --------------------------------

COMMENTS = "/r/redditdev/comments"
MENTIONS = "/message/mentions"


def cname(n: int) -> str:
    """The fullname of the n-th comment of the test (base 36 ids grow with time)."""
    return "t1_" + _base36(int("lrz1abc", 36) + n)


def new_comment(
    n: int, body: str, author: str = "another_dev", parent: str = "t3_1g3z9rk", **data: Any
) -> dict[str, Any]:
    """The documented comment as the n-th new comment of the subreddit."""
    return comment(
        cname(n),
        parent,
        body=body,
        author=author,
        created_utc=1728987000.0 + 60 * n,
        permalink=f"/r/redditdev/comments/1g3z9rk/paging_through_new_with_after/{cname(n)[3:]}/",
        **data,
    )


def test_reddit_follows_posts_comments_searches_and_mentions_each_with_its_checkpoint(
    server: ReplayServer,
) -> None:
    reddit = connector(server, subreddits=["redditdev"], searches=["clameur"])
    quiet = connector(
        server, subreddits=["redditdev"], listen_comments=False, listen_mentions=False
    )

    assert [s.key for s in reddit.sources()] == [
        "subreddit:redditdev",
        "comments:redditdev",
        "search:clameur",
        "mentions",
    ]
    assert [s.key for s in quiet.sources()] == ["subreddit:redditdev"]


def test_reddit_new_comments_join_their_thread_without_the_accounts_own(
    server: ReplayServer,
) -> None:
    server.add(
        "GET",
        COMMENTS,
        body=listing(
            new_comment(3, "Mine is the same.", parent=cname(1)),
            new_comment(2, "I answered that.", author="clameur_brand"),
            new_comment(1, "Does after skip deleted posts?"),
            after=cname(1),
        ),
    )

    result = connector(server).listen(ListenSource("comments", "redditdev"), None)

    assert ids(result) == [cname(1), cname(3)] and result.more is False
    first, reply = result.posts
    assert first.in_reply_to == "t3_1g3z9rk" and first.conversation_id == "t3_1g3z9rk"
    assert reply.in_reply_to == cname(1) and reply.conversation_id == "t3_1g3z9rk"
    assert reply.url is not None and reply.url.endswith(f"/{cname(3)[3:]}/")
    # The account's own comment is not brought in, but the checkpoint passed it.
    assert result.checkpoint == {"since": cname(3)}
    query = server.seen("GET", COMMENTS)[0].query
    assert query["limit"] == ["100"] and "after" not in query


def test_reddit_comments_are_kept_only_with_a_keyword_when_there_are_keywords(
    server: ReplayServer,
) -> None:
    server.add(
        "GET",
        COMMENTS,
        body=listing(
            new_comment(4, "Clamour is a different thing."),
            new_comment(3, "Le CAFÉ de Clameur, trop bon"),
            new_comment(2, "clameurs are loud"),
            new_comment(1, "I tried Clameur's app yesterday"),
        ),
    )
    reddit = connector(server, keywords=["clameur", "cafe de clameur", "  "])

    result = reddit.listen(ListenSource("comments", "redditdev"), None)

    # Whole words, case and accents ignored; "clameurs" is another word.
    assert ids(result) == [cname(1), cname(3)]
    assert result.checkpoint == {"since": cname(4)}
    assert reddit.config.keywords == ["clameur", "cafe de clameur"]


def test_reddit_comment_sweep_resumes_after_a_restart_without_duplicates_or_gaps(
    server: ReplayServer,
) -> None:
    source = ListenSource("comments", "redditdev")
    server.add(
        "GET", COMMENTS, body=listing(new_comment(6, "six"), new_comment(5, "five"), after=cname(5))
    )
    server.add(
        "GET",
        COMMENTS,
        body=listing(new_comment(4, "four"), new_comment(3, "three"), after=cname(3)),
        query={"after": cname(5)},
    )
    # Reaches the checkpoint: comment 2 was read by the previous sweep.
    server.add(
        "GET",
        COMMENTS,
        body=listing(new_comment(2, "two"), new_comment(1, "one"), after=cname(1)),
        query={"after": cname(3)},
    )

    first = connector(server).listen(source, {"since": cname(2)}, limit=2)
    # A restart: a new connector, with the checkpoint the runner stored.
    second = connector(server).listen(source, first.checkpoint, limit=2)
    third = connector(server).listen(source, second.checkpoint, limit=2)
    fourth = connector(server).listen(source, third.checkpoint, limit=2)

    assert ids(first) == [cname(5), cname(6)] and first.more is True
    assert first.checkpoint == {"since": cname(2), "after": cname(5), "high": cname(6)}
    assert ids(second) == [cname(3), cname(4)] and second.more is True
    assert third.posts == [] and third.more is False
    assert third.checkpoint == {"since": cname(6)}
    # The next pass starts from the top again and finds nothing it has not returned.
    assert fourth.posts == [] and fourth.checkpoint == {"since": cname(6)}


def test_reddit_mentions_are_read_without_marking_them_and_join_their_post(
    server: ReplayServer,
) -> None:
    server.add("GET", MENTIONS, body=listing(payload("reddit/mention.json")))

    result = connector(server).listen(ListenSource("mentions"), None)

    [mention] = result.posts
    assert mention.id == "t1_lrz9xyz" and mention.text.startswith("u/clameur_brand does")
    # Inbox items have no link_id or permalink: both come from the context.
    assert mention.in_reply_to == "t3_1g3z9rk" and mention.conversation_id == "t3_1g3z9rk"
    assert mention.url == (
        "https://www.reddit.com/r/redditdev/comments/1g3z9rk/paging_through_new_with_after/lrz9xyz/"
    )
    assert mention.author is not None and mention.author.handle == "curious_dev"
    assert result.checkpoint == {"since": "t1_lrz9xyz"}
    assert server.seen("GET", MENTIONS)[0].query["mark"] == ["false"]


def test_reddit_mentions_without_the_scope_say_to_connect_again(server: ReplayServer) -> None:
    server.add("GET", MENTIONS, status=403, body={"message": "Forbidden", "error": 403})

    with pytest.raises(PermanentError, match="without the privatemessages scope"):
        connector(server).listen(ListenSource("mentions"), None)


def test_reddit_mentions_renew_a_refused_token(server: ReplayServer) -> None:
    server.add(
        "GET",
        MENTIONS,
        Answer(401, {"message": "Unauthorized", "error": 401}),
        Answer(200, listing(payload("reddit/mention.json"))),
    )
    server.add("POST", TOKEN, body=payload("reddit/token.json"))
    reddit = connector(server, password=None, refresh_token="o4Gx0t1D6QoVSxz5sZ7F_sA7Xl4")

    result = reddit.listen(ListenSource("mentions"), None)

    assert ids(result) == ["t1_lrz9xyz"]
    retried = server.seen("GET", MENTIONS)[1]
    assert retried.headers["authorization"] == "bearer J1qK1c18UUGJFAzz9xnH56584l4"


def test_reddit_comment_rate_limit_raises_with_the_reset_seconds(server: ReplayServer) -> None:
    server.add(
        "GET",
        COMMENTS,
        status=429,
        body={"message": "Too Many Requests", "error": 429},
        headers={
            "X-Ratelimit-Used": "100",
            "X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Reset": "90",
        },
    )
    before = datetime.now(UTC)

    with pytest.raises(RateLimited) as caught:
        connector(server).listen(ListenSource("comments", "redditdev"), None)

    assert caught.value.retry_at is not None
    assert timedelta(seconds=89) < caught.value.retry_at - before < timedelta(seconds=92)
    assert len(server.seen("GET", COMMENTS)) == 1


def test_reddit_comment_without_a_parent_is_a_permanent_error_naming_it(
    server: ReplayServer,
) -> None:
    broken = new_comment(1, "orphan")
    del broken["data"]["parent_id"]
    server.add("GET", COMMENTS, body=listing(broken))

    with pytest.raises(
        PermanentError, match=f"malformed comment {cname(1)}: it has no 'parent_id'"
    ):
        connector(server).listen(ListenSource("comments", "redditdev"), None)


def test_reddit_mention_without_a_post_is_a_permanent_error_naming_it(
    server: ReplayServer,
) -> None:
    broken = payload("reddit/mention.json")
    del broken["data"]["context"]
    server.add("GET", MENTIONS, body=listing(broken))

    with pytest.raises(PermanentError, match="malformed comment t1_lrz9xyz: it has no 'link_id'"):
        connector(server).listen(ListenSource("mentions"), None)


def test_reddit_comment_listing_that_is_not_a_listing_is_a_permanent_error(
    server: ReplayServer,
) -> None:
    server.add("GET", COMMENTS, body=[listing()])

    with pytest.raises(PermanentError, match="malformed listing: expected an object, got list"):
        connector(server).listen(ListenSource("comments", "redditdev"), None)
