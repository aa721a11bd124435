"""The X connector (API v2 over httpx) against a replay of the documented API (docs.x.com)."""

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
)
from clameur.connectors.x import XConfig, XConnector
from clameur.connectors.x.connector import post_time, same_text, snowflake_after
from clameur.connectors.x.oauth import authorization_request, code_challenge, exchange_code

SEARCH = "/2/tweets/search/recent"
ME = "2244994945"
MENTIONS = f"/2/users/{ME}/mentions"
TIMELINE = f"/2/users/{ME}/tweets"
TOKEN = "/2/oauth2/token"
# Post ids made an hour ago, one millisecond apart: recent enough for recent search.
BASE = int(snowflake_after(datetime.now(UTC) - timedelta(hours=1)))


def pid(n: int) -> str:
    """The id of the n-th post of the test (ids grow with time, like X's)."""
    return str(BASE + (n << 22))


def tweet(n: int, **overrides: Any) -> dict[str, Any]:
    """The documented Tweet example with another id (and any field changed)."""
    entity = payload("x/tweet.json")
    entity.pop("referenced_tweets")
    entity.pop("in_reply_to_user_id")
    entity["id"] = entity["conversation_id"] = pid(n)
    entity["text"] = f"post number {n} about clameur"
    entity.update(overrides)
    return entity


def page(*tweets: dict[str, Any], next_token: str | None = None) -> dict[str, Any]:
    """A search or timeline answer shaped like the documented one."""
    body = payload("x/search_recent.json")
    body["data"] = list(tweets)
    body["meta"] = {"result_count": len(tweets)}
    if tweets:
        body["meta"]["newest_id"] = max((t["id"] for t in tweets), key=int)
    if next_token:
        body["meta"]["next_token"] = next_token
    if not tweets:
        del body["data"]
    return body


def connector(server: ReplayServer, **config: Any) -> XConnector:
    values: dict[str, Any] = {
        "client_id": "rG9n6402A3dbUJKzXTNX4oWHJ",
        "access_token": "access-token-abcdefghijklmnop",
        "refresh_token": "refresh-token-abcdefghijklmnop",
        "user_id": ME,
        "username": "XDevelopers",
        "api_url": server.url,
    }
    settings = XConfig(**{**values, **config})
    return XConnector(settings, timeout=5, sleep=lambda _: None)


def ids(result: Any) -> list[str]:
    return [post.id for post in result.posts]


def test_x_search_first_read_takes_the_newest_page_oldest_first(server: ReplayServer) -> None:
    server.add("GET", SEARCH, body=page(tweet(3), tweet(2)))

    result = connector(server).listen(ListenSource("search", "clameur lang:fr"), None)

    assert ids(result) == [pid(2), pid(3)]
    assert result.checkpoint == {"since_id": pid(3)} and result.more is False
    sent = server.seen("GET", SEARCH)[0]
    assert sent.query["query"] == ["(clameur lang:fr) -is:retweet"]
    assert sent.query["expansions"] == ["author_id"]
    assert "public_metrics" in sent.query["user.fields"][0]
    assert "verified" in sent.query["user.fields"][0]
    for field in ("created_at", "conversation_id", "referenced_tweets", "lang"):
        assert field in sent.query["tweet.fields"][0]
    assert "since_id" not in sent.query
    assert sent.headers["authorization"] == "Bearer access-token-abcdefghijklmnop"


def test_x_search_sweep_resumes_after_a_restart_without_duplicates_or_gaps(
    server: ReplayServer,
) -> None:
    source = ListenSource("search", "clameur")
    # Five new posts since the checkpoint (post 1), two a page, newest first.
    server.add("GET", SEARCH, body=page(tweet(6), tweet(5), next_token="p2"), query={})
    server.add(
        "GET",
        SEARCH,
        body=page(tweet(4), tweet(3), next_token="p3"),
        query={"since_id": pid(1), "next_token": "p2"},
    )
    server.add(
        "GET",
        SEARCH,
        # X may repeat the boundary post: it was returned before and is left out.
        body=page(tweet(2), tweet(1)),
        query={"since_id": pid(1), "next_token": "p3"},
    )
    server.add("GET", SEARCH, body=page(tweet(7)), query={"since_id": pid(6)})

    first = connector(server).listen(source, {"since_id": pid(1)}, limit=2)
    second = connector(server).listen(source, first.checkpoint, limit=2)
    third = connector(server).listen(source, second.checkpoint, limit=2)
    fourth = connector(server).listen(source, third.checkpoint, limit=2)

    assert ids(first) == [pid(5), pid(6)] and first.more is True
    assert first.checkpoint == {"since_id": pid(1), "next_token": "p2", "sweep_newest_id": pid(6)}
    assert ids(second) == [pid(3), pid(4)] and second.more is True
    assert ids(third) == [pid(2)] and third.more is False
    assert third.checkpoint == {"since_id": pid(6)}
    assert ids(fourth) == [pid(7)]
    assert server.seen("GET", SEARCH)[0].query["max_results"] == ["10"]


def test_x_search_checkpoint_older_than_seven_days_reads_from_the_window_start(
    server: ReplayServer,
) -> None:
    old = snowflake_after(datetime.now(UTC) - timedelta(days=9))
    server.add("GET", SEARCH, body=page(tweet(2), tweet(1)))

    result = connector(server).listen(ListenSource("search", "clameur"), {"since_id": old})

    sent = server.seen("GET", SEARCH)[0].query
    assert "since_id" not in sent
    start = datetime.fromisoformat(sent["start_time"][0].replace("Z", "+00:00"))
    assert timedelta(days=6, hours=23) < datetime.now(UTC) - start < timedelta(days=7)
    assert ids(result) == [pid(1), pid(2)]
    assert result.checkpoint == {"since_id": pid(2)}


def test_x_post_becomes_a_post_with_its_author_thread_and_metrics(server: ReplayServer) -> None:
    entity = payload("x/tweet.json")
    entity["text"] = "Q&amp;A: is this &lt;fixed&gt;?"
    users = {"2244994945": payload("x/user.json")}

    post = connector(server).to_post(entity, users)

    assert post.id == "1212092628029698048"
    assert post.text == "Q&A: is this <fixed>?"
    assert post.created_at == datetime(2019, 12, 31, 19, 26, 16, tzinfo=UTC)
    assert post.author is not None
    assert (post.author.handle, post.author.name) == ("XDevelopers", "Developers")
    assert post.author.followers == 513958 and post.author.verified is True
    assert post.url == "https://x.com/XDevelopers/status/1212092628029698048"
    assert post.in_reply_to == "1212092627178287104"
    assert post.conversation_id == "1212092628029698048"
    assert post.lang == "en"
    assert post.metrics == {"likes": 38, "reposts": 7, "replies": 3, "quotes": 1}


def test_x_long_post_text_and_undetermined_language(server: ReplayServer) -> None:
    entity = tweet(1, lang="und", note_tweet={"text": "a long post " * 40})

    post = connector(server).to_post(entity, {})

    assert post.text.startswith("a long post a long post") and len(post.text) > 280
    assert post.lang is None and post.author is None


def test_x_reposts_are_left_out_but_move_the_checkpoint(server: ReplayServer) -> None:
    repost = tweet(3, referenced_tweets=[{"type": "retweeted", "id": pid(1)}])
    server.add("GET", SEARCH, body=page(repost, tweet(2)), query={"since_id": pid(1)})

    result = connector(server).listen(ListenSource("search", "clameur"), {"since_id": pid(1)})

    assert ids(result) == [pid(2)]
    assert result.checkpoint == {"since_id": pid(3)}


def test_x_mentions_find_the_account_id_once_and_keep_it(server: ReplayServer) -> None:
    server.add("GET", "/2/users/me", body=payload("x/users_me.json"))
    server.add("GET", MENTIONS, body=page(tweet(5)), query={"since_id": pid(4)})
    x = connector(server, user_id=None, username=None)

    result = x.listen(ListenSource("mentions"), {"since_id": pid(4)})
    x.listen(ListenSource("mentions"), {"since_id": pid(4)})

    assert ids(result) == [pid(5)]
    assert len(server.seen("GET", "/2/users/me")) == 1
    stored = x.updated_config()
    assert stored is not None and (stored.user_id, stored.username) == (ME, "XDevelopers")
    assert server.seen("GET", MENTIONS)[0].query["max_results"] == ["100"]


def test_x_rate_limit_raises_with_the_reset_time_and_skips_the_next_call(
    server: ReplayServer,
) -> None:
    reset = int((datetime.now(UTC) + timedelta(minutes=12)).timestamp())
    server.add(
        "GET",
        SEARCH,
        status=429,
        body=payload("x/too_many_requests.json"),
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    x = connector(server)

    with pytest.raises(RateLimited) as caught:
        x.listen(ListenSource("search", "clameur"), None)
    with pytest.raises(RateLimited):
        x.listen(ListenSource("search", "other"), None)

    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert len(server.seen("GET", SEARCH)) == 1


def test_x_last_request_of_a_window_is_served_and_the_next_waits(server: ReplayServer) -> None:
    reset = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    server.add(
        "GET",
        SEARCH,
        body=page(tweet(1)),
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
    )
    x = connector(server)

    assert ids(x.listen(ListenSource("search", "clameur"), None)) == [pid(1)]
    with pytest.raises(RateLimited) as caught:
        x.listen(ListenSource("search", "clameur"), {"since_id": pid(1)})

    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert len(server.seen("GET", SEARCH)) == 1


def test_x_daily_posting_limit_waits_for_its_own_reset(server: ReplayServer) -> None:
    window = int((datetime.now(UTC) + timedelta(minutes=15)).timestamp())
    day = int((datetime.now(UTC) + timedelta(hours=20)).timestamp())
    server.add("GET", TIMELINE, body=page())
    server.add(
        "POST",
        "/2/tweets",
        status=429,
        body=payload("x/too_many_requests.json"),
        headers={
            "x-rate-limit-remaining": "99",
            "x-rate-limit-reset": str(window),
            "x-user-limit-24hour-limit": "100",
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": str(day),
        },
    )

    with pytest.raises(RateLimited, match="24-hour account limit") as caught:
        connector(server).reply(OutgoingPost("Thanks!", "key-1", pid(1)))

    assert caught.value.retry_at == datetime.fromtimestamp(day, UTC)
    assert len(server.seen("POST", "/2/tweets")) == 1


def test_x_refused_token_is_refreshed_once_and_the_rotated_pair_kept(server: ReplayServer) -> None:
    server.add(
        "GET",
        SEARCH,
        Answer(401, payload("x/unauthorized.json")),
        Answer(200, page(tweet(1))),
    )
    server.add("POST", TOKEN, body=payload("x/token.json"))
    x = connector(server, client_secret="app-secret-abcdefghijklmnop")

    result = x.listen(ListenSource("search", "clameur"), None)

    assert ids(result) == [pid(1)]
    stored = x.updated_config()
    assert stored is not None and stored.refresh_token is not None
    assert stored.refresh_token.get_secret_value() == payload("x/token.json")["refresh_token"]
    assert stored.token_expires_at is not None
    refresh = server.seen("POST", TOKEN)[0]
    assert refresh.form()["grant_type"] == ["refresh_token"]
    assert refresh.form()["refresh_token"] == ["refresh-token-abcdefghijklmnop"]
    expected = base64.b64encode(b"rG9n6402A3dbUJKzXTNX4oWHJ:app-secret-abcdefghijklmnop")
    assert refresh.headers["authorization"] == f"Basic {expected.decode()}"
    retried = server.seen("GET", SEARCH)[1]
    assert retried.headers["authorization"] == f"Bearer {payload('x/token.json')['access_token']}"


def test_x_token_about_to_expire_is_refreshed_before_the_call(server: ReplayServer) -> None:
    server.add("POST", TOKEN, body=payload("x/token.json"))
    server.add("GET", SEARCH, body=page())
    x = connector(server, token_expires_at=datetime.now(UTC) + timedelta(seconds=30))

    x.listen(ListenSource("search", "clameur"), None)

    assert [r.path for r in server.requests] == [TOKEN, SEARCH]
    assert x.updated_config() is not None


def test_x_revoked_refresh_token_is_an_auth_error(server: ReplayServer) -> None:
    server.add("GET", SEARCH, status=401, body=payload("x/unauthorized.json"))
    server.add(
        "POST",
        TOKEN,
        status=400,
        body={
            "error": "invalid_request",
            "error_description": "Value passed for the token was invalid.",
        },
    )

    with pytest.raises(AuthError, match="token was invalid.*Connect the account again"):
        connector(server).listen(ListenSource("search", "clameur"), None)


def test_x_refused_token_without_refresh_token_is_an_auth_error(server: ReplayServer) -> None:
    server.add("GET", SEARCH, status=401, body=payload("x/unauthorized.json"))

    with pytest.raises(AuthError, match="expired or was revoked"):
        connector(server, refresh_token=None).listen(ListenSource("search", "clameur"), None)

    assert server.seen("POST", TOKEN) == []


def test_x_reply_names_the_post_answered_after_looking_for_an_earlier_copy(
    server: ReplayServer,
) -> None:
    server.add("GET", TIMELINE, body=page())
    server.add("POST", "/2/tweets", status=201, body=payload("x/create_post.json"))

    published = connector(server).reply(OutgoingPost("Hello world!", "key-1", pid(1)))

    assert published.external_id == "1445880548472328192" and published.replayed is False
    assert published.url == "https://x.com/XDevelopers/status/1445880548472328192"
    assert server.seen("POST", "/2/tweets")[0].json() == {
        "text": "Hello world!",
        "reply": {"in_reply_to_tweet_id": pid(1)},
    }
    assert server.seen("GET", TIMELINE)[0].query["since_id"] == [pid(1)]


def test_x_reply_already_on_x_is_not_posted_again(server: ReplayServer) -> None:
    sent = tweet(
        2,
        text="Sorry &amp; thanks: https://t.co/abc123",
        referenced_tweets=[{"type": "replied_to", "id": pid(1)}],
    )
    other = tweet(3, text="Sorry & thanks: https://example.com/help")
    server.add("GET", TIMELINE, body=page(other, sent))

    published = connector(server).reply(
        OutgoingPost("Sorry & thanks: https://example.com/help", "key-1", pid(1))
    )

    assert published.external_id == pid(2) and published.replayed is True
    assert server.seen("POST", "/2/tweets") == []


def test_x_reply_after_an_uncertain_failure_is_found_not_sent_twice(server: ReplayServer) -> None:
    sent = tweet(2, text="Hello world!", referenced_tweets=[{"type": "replied_to", "id": pid(1)}])
    server.add("GET", TIMELINE, Answer(200, page()), Answer(200, page(sent)))
    server.add("POST", "/2/tweets", status=503, body={"title": "Service Unavailable"})

    published = connector(server).reply(OutgoingPost("Hello world!", "key-1", pid(1)))

    assert published.external_id == pid(2) and published.replayed is True
    assert len(server.seen("POST", "/2/tweets")) == 1


def test_x_reply_is_sent_again_when_the_failed_one_did_not_arrive(server: ReplayServer) -> None:
    server.add("GET", TIMELINE, body=page())
    server.add(
        "POST",
        "/2/tweets",
        Answer(503, {"title": "Service Unavailable"}),
        Answer(201, payload("x/create_post.json")),
    )

    published = connector(server).reply(OutgoingPost("Hello world!", "key-1", pid(1)))

    assert published.external_id == "1445880548472328192" and published.replayed is False
    assert len(server.seen("POST", "/2/tweets")) == 2
    assert len(server.seen("GET", TIMELINE)) == 2


def test_x_post_without_a_date_is_a_permanent_error_naming_it(server: ReplayServer) -> None:
    broken = tweet(1)
    del broken["created_at"]
    server.add("GET", SEARCH, body=page(broken))

    with pytest.raises(PermanentError, match=f"malformed post {pid(1)}: it has no 'created_at'"):
        connector(server).listen(ListenSource("search", "clameur"), None)


def test_x_answer_that_is_not_json_is_a_permanent_error(server: ReplayServer) -> None:
    server.add("GET", SEARCH, Answer(200, raw=b"<html>oops</html>", content_type="text/html"))

    with pytest.raises(PermanentError, match="not JSON"):
        connector(server).listen(ListenSource("search", "clameur"), None)


def test_x_conversation_is_its_first_post_then_the_replies_in_order(server: ReplayServer) -> None:
    root = tweet(1)
    mid = tweet(3, conversation_id=pid(1), referenced_tweets=[{"type": "replied_to", "id": pid(1)}])
    late = tweet(
        5, conversation_id=pid(1), referenced_tweets=[{"type": "replied_to", "id": pid(3)}]
    )
    includes = payload("x/search_recent.json")["includes"]
    server.add("GET", f"/2/tweets/{pid(3)}", body={"data": mid, "includes": includes})
    server.add("GET", f"/2/tweets/{pid(1)}", body={"data": root, "includes": includes})
    server.add("GET", SEARCH, body=page(late, mid))

    posts = connector(server).conversation(pid(3))

    assert [p.id for p in posts] == [pid(1), pid(3), pid(5)]
    assert server.seen("GET", SEARCH)[0].query["query"] == [f"conversation_id:{pid(1)}"]
    assert posts[2].in_reply_to == pid(3) and posts[2].conversation_id == pid(1)


def test_x_conversation_of_a_deleted_post_says_so(server: ReplayServer) -> None:
    server.add("GET", f"/2/tweets/{pid(1)}", body=payload("x/not_found.json"))

    with pytest.raises(PermanentError, match="no longer exists"):
        connector(server).conversation(pid(1))


def test_x_authorization_url_carries_the_scopes_and_a_pkce_challenge(server: ReplayServer) -> None:
    settings = XConfig(client_id="rG9n6402A3dbUJKzXTNX4oWHJ", api_url=server.url)

    request = authorization_request(settings, "https://clameur.example/callback")

    query = parse_qs(urlsplit(request.url).query)
    assert request.url.startswith("https://x.com/i/oauth2/authorize?")
    assert query["scope"] == ["tweet.read users.read tweet.write offline.access"]
    assert query["code_challenge"] == [code_challenge(request.code_verifier)]
    assert query["code_challenge_method"] == ["S256"] and query["state"] == [request.state]
    assert request.code_verifier not in repr(request)


def test_x_approval_code_is_exchanged_for_tokens_and_the_account_id(server: ReplayServer) -> None:
    server.add("POST", TOKEN, body=payload("x/token.json"))
    server.add("GET", "/2/users/me", body=payload("x/users_me.json"))
    settings = XConfig(client_id="rG9n6402A3dbUJKzXTNX4oWHJ", api_url=server.url)
    request = authorization_request(settings, "https://clameur.example/callback")

    connected = exchange_code(settings, request, "the-code", request.state)

    form = server.seen("POST", TOKEN)[0].form()
    assert form["grant_type"] == ["authorization_code"] and form["code"] == ["the-code"]
    assert form["code_verifier"] == [request.code_verifier]
    assert form["client_id"] == ["rG9n6402A3dbUJKzXTNX4oWHJ"]
    assert connected.access_token is not None and connected.refresh_token is not None
    assert (connected.user_id, connected.username) == (ME, "XDevelopers")
    with pytest.raises(AuthError, match="state differs"):
        exchange_code(settings, request, "the-code", "forged")


def test_x_settings_form_hides_tokens_and_masks_secrets() -> None:
    settings = XConfig(
        client_id="rG9n6402A3dbUJKzXTNX4oWHJ",
        client_secret="app-secret-abcdefghijklmnop",
        access_token="access-token-abcdefghijklmnop",
    )

    names = [field.name for field in XConfig.form_fields()]

    assert names == ["client_id", "client_secret", "searches", "mentions", "include_reposts"]
    assert settings.masked()["client_secret"] == "••••mnop"
    assert "abcdefghijklmnop" not in repr(settings)
    assert "pay-per-use" in XConfig.requirements and "7 days" in XConfig.requirements


def test_x_helpers_read_post_times_and_compare_texts() -> None:
    moment = datetime(2024, 10, 15, 10, 0, tzinfo=UTC)

    assert post_time(snowflake_after(moment)) == moment
    assert post_time("1212092628029698048") == datetime(
        2019, 12, 31, 19, 26, 16, 771000, tzinfo=UTC
    )
    assert same_text("a &amp; b https://t.co/x", "a & b  https://example.com")
    assert not same_text("a & b", "a & c")
