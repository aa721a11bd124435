"""The X connector (API v2 over httpx) against a replay of the documented API (docs.x.com)."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from connector_replay import PNG, Answer, ReplayServer, image, payload

from clameur.connectors.base import (
    AuthError,
    ListenSource,
    OutgoingPost,
    PermanentError,
    RateLimited,
    RetryableError,
)
from clameur.connectors.x import XConfig, XConnector
from clameur.connectors.x import connector as x_connector
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


def test_x_app_without_the_access_level_is_an_auth_error_naming_what_to_obtain(
    server: ReplayServer,
) -> None:
    server.add("GET", SEARCH, status=403, body=payload("x/client_forbidden.json"))

    with pytest.raises(AuthError, match="Appropriate Level of API Access.*Project") as caught:
        connector(server).listen(ListenSource("search", "clameur"), None)

    assert "bearer" not in caught.value.message
    assert len(server.seen("GET", SEARCH)) == 1
    assert server.seen("POST", TOKEN) == []


def test_x_reply_the_author_does_not_allow_is_a_permanent_error_for_that_reply(
    server: ReplayServer,
) -> None:
    server.add("GET", TIMELINE, body=page())
    server.add("POST", "/2/tweets", status=403, body=payload("x/forbidden.json"))

    with pytest.raises(PermanentError, match="HTTP 403: Reply to this conversation is not allowed"):
        connector(server).reply(OutgoingPost("Hello world!", "key-1", pid(1)))

    assert len(server.seen("POST", "/2/tweets")) == 1
    # Not a duplicate: X wrote nothing, so there is nothing to look for again.
    assert len(server.seen("GET", TIMELINE)) == 1


def test_x_duplicate_refused_with_403_is_found_as_already_published(
    server: ReplayServer,
) -> None:
    sent = tweet(2, text="Hello world!", referenced_tweets=[{"type": "replied_to", "id": pid(1)}])
    server.add("GET", TIMELINE, Answer(200, page()), Answer(200, page(sent)))
    duplicate = {
        **payload("x/forbidden.json"),
        "detail": "You are not allowed to create a Tweet with duplicate content.",
    }
    server.add("POST", "/2/tweets", status=403, body=duplicate)

    published = connector(server).reply(OutgoingPost("Hello world!", "key-1", pid(1)))

    assert published.external_id == pid(2) and published.replayed is True


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
    assert query["scope"] == ["tweet.read users.read tweet.write media.write offline.access"]
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

    assert names == [
        "client_id",
        "client_secret",
        "searches",
        "mentions",
        "include_reposts",
        "stream",
        "bearer_token",
    ]
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


# --- live stream: the filtered stream ------------------------------------------------------
# https://docs.x.com/x-api/posts/filtered-stream/introduction (newline-delimited posts with
# their includes and matching_rules, blank keep-alive lines), rules from
# https://docs.x.com/x-api/posts/filtered-stream/quickstart, disconnections from
# https://docs.x.com/x-api/fundamentals/handling-disconnections.

STREAM = "/2/tweets/search/stream"
RULES = "/2/tweets/search/stream/rules"
OUR_TAG = f"clameur:{ME}"


def streaming(server: ReplayServer, **config: Any) -> XConnector:
    values: dict[str, Any] = {
        "searches": ["clameur", "brand"],
        "stream": True,
        "bearer_token": "app-bearer-token-abcdefghijklmnop",
    }
    return connector(server, **{**values, **config})


def line(n: int, *rule_ids: str) -> bytes:
    """One stream line: a post, its author in includes, the rules it matched."""
    body = payload("x/search_recent.json")
    return (
        json.dumps(
            {
                "data": tweet(n),
                "includes": body["includes"],
                "matching_rules": [{"id": rule_id, "tag": "any"} for rule_id in rule_ids],
            }
        ).encode()
        + b"\r\n"
    )


def rules_answer(*rules: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "data": [{"id": i, "value": v, "tag": t} for i, v, t in rules],
        "meta": {"sent": "2024-01-15T10:30:00.000Z", "result_count": len(rules)},
    }


def test_x_stream_syncs_its_own_rules_and_keeps_the_posts_they_match(
    server: ReplayServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.add(
        "GET",
        RULES,
        body=rules_answer(
            ("1", "old search", OUR_TAG),  # ours, no longer wanted: deleted
            ("2", "someone else's", "their-tag"),  # not ours: left alone
            ("3", "(clameur) -is:retweet", "their-tag"),  # same value: used, not added again
        ),
    )
    server.add(
        "POST",
        RULES,
        Answer(body={"meta": {"sent": "2024-01-15T10:30:00.000Z", "summary": {"deleted": 1}}}),
        Answer(
            body={
                "data": [
                    {"id": "10", "value": "(brand) -is:retweet", "tag": OUR_TAG},
                    {"id": "11", "value": "@XDevelopers", "tag": OUR_TAG},
                ],
                "meta": {"summary": {"created": 2, "not_created": 0, "valid": 2}},
            }
        ),
    )
    server.add(
        "GET",
        STREAM,
        Answer(
            raw=b"\r\n"
            + line(1, "10")
            + b"\r\n\r\n{not json\r\n"
            + line(2, "2")  # matched only another app user's rule
            + line(3, "3", "2")
            + b'{"errors":[{"title":"Invalid Request"}]}\r\n'
            + line(4, "11")
            + b"\r\n",
            content_type="application/json",
        ),
    )
    source = streaming(server)

    items = list(source.stream(None, threading.Event()))

    assert [item.post.id for item in items if item.post] == [pid(1), pid(3), pid(4)]
    assert all(item.checkpoint is None for item in items)
    first = next(item.post for item in items if item.post)
    assert first.author is not None and first.author.handle == "XDevelopers"
    assert "not JSON" in caplog.text  # the malformed line was logged and skipped
    delete, add = (seen.json() for seen in server.seen("POST", RULES))
    assert delete == {"delete": {"ids": ["1"]}}
    assert add == {
        "add": [
            {"value": "(brand) -is:retweet", "tag": OUR_TAG},
            {"value": "@XDevelopers", "tag": OUR_TAG},
        ]
    }
    for seen in [*server.seen("GET", RULES), *server.seen("GET", STREAM)]:
        assert seen.headers["authorization"] == "Bearer app-bearer-token-abcdefghijklmnop"
    sent = server.seen("GET", STREAM)[0]
    assert sent.query["expansions"] == ["author_id"]


def test_x_stream_rate_limit_waits_until_the_reset_and_a_refused_token_needs_attention(
    server: ReplayServer,
) -> None:
    reset = int((datetime.now(UTC) + timedelta(minutes=15)).timestamp())
    server.add(
        "GET",
        RULES,
        body=rules_answer(
            ("3", "(clameur) -is:retweet", OUR_TAG), ("4", "(brand) -is:retweet", OUR_TAG)
        ),
    )
    server.add(
        "GET",
        STREAM,
        Answer(
            status=429,
            body=payload("x/too_many_requests.json"),
            headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        ),
        Answer(status=401, body={"title": "Unauthorized", "detail": "Unauthorized"}),
    )

    with pytest.raises(RateLimited) as limited:
        list(streaming(server, mentions=False).stream(None, threading.Event()))
    with pytest.raises(AuthError, match="bearer token"):
        list(streaming(server, mentions=False).stream(None, threading.Event()))

    assert limited.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert server.seen("POST", RULES) == []  # the rules were already in place


def test_x_stream_on_an_app_without_the_access_level_says_what_to_obtain(
    server: ReplayServer,
) -> None:
    server.add("GET", RULES, status=403, body=payload("x/client_forbidden.json"))

    with pytest.raises(AuthError, match="Appropriate Level of API Access.*Project") as caught:
        list(streaming(server, mentions=False).stream(None, threading.Event()))

    assert "Copy it again" not in caught.value.message
    assert server.seen("GET", STREAM) == []


def test_x_stream_operational_disconnect_ends_the_connection_to_reconnect(
    server: ReplayServer,
) -> None:
    server.add(
        "GET",
        RULES,
        body=rules_answer(
            ("3", "(clameur) -is:retweet", OUR_TAG), ("4", "(brand) -is:retweet", OUR_TAG)
        ),
    )
    disconnect = {
        "errors": [
            {
                "title": "operational-disconnect",
                "disconnect_type": "UpstreamOperationalDisconnect",
                "detail": "This stream has been disconnected upstream for operational reasons.",
                "type": "https://api.twitter.com/2/problems/operational-disconnect",
            }
        ]
    }
    server.add("GET", STREAM, Answer(raw=line(1, "3") + json.dumps(disconnect).encode() + b"\r\n"))
    posts = []

    with pytest.raises(RetryableError, match="disconnected upstream"):
        for item in streaming(server, mentions=False).stream(None, threading.Event()):
            if item.post:
                posts.append(item.post.id)

    assert posts == [pid(1)]


def test_x_streams_only_with_the_setting_a_bearer_token_and_something_to_follow(
    server: ReplayServer,
) -> None:
    assert streaming(server).stream_enabled()
    assert not connector(server, stream=True).stream_enabled()  # no bearer token
    assert not streaming(server, stream=False).stream_enabled()
    assert not streaming(server, searches=[], mentions=False).stream_enabled()


# --- posts with images ------------------------------------------------------------------------

UPLOAD = "/2/media/upload"


def uploaded(media_id: str, **data: Any) -> Answer:
    """The documented media upload answer with another id (and any field changed)."""
    body = payload("x/media_upload.json")
    body["data"].update(id=media_id, media_key=f"3_{media_id}", **data)
    return Answer(body=body)


def images(server: ReplayServer, *names: str) -> tuple[str, ...]:
    for name in names:
        server.add("GET", f"/cdn/{name}", image())
    return tuple(f"{server.url}/cdn/{name}" for name in names)


def test_x_uploads_each_image_then_posts_with_their_media_ids(server: ReplayServer) -> None:
    urls = images(server, "a.png", "b.png", "c.png")
    server.add("GET", TIMELINE, body=page())
    server.add("POST", UPLOAD, uploaded("701"), uploaded("702"), uploaded("703"))
    server.add("POST", "/2/tweets", status=201, body=payload("x/create_post.json"))

    published = connector(server).publish(OutgoingPost("Winter menu", "key-img", media_urls=urls))

    uploads = server.seen("POST", UPLOAD)
    assert len(uploads) == 3
    assert uploads[0].headers["content-type"].startswith("multipart/form-data")
    assert uploads[0].headers["authorization"] == "Bearer access-token-abcdefghijklmnop"
    assert PNG in uploads[0].body
    assert b'name="media_category"\r\n\r\ntweet_image' in uploads[0].body
    assert server.seen("POST", "/2/tweets")[0].json() == {
        "text": "Winter menu",
        "media": {"media_ids": ["701", "702", "703"]},
    }
    assert published.external_id == "1445880548472328192"


def test_x_publishes_one_image_after_waiting_for_its_processing(server: ReplayServer) -> None:
    urls = images(server, "menu.png")
    server.add("GET", TIMELINE, body=page())
    pending = {"state": "pending", "check_after_secs": 2}
    server.add("POST", UPLOAD, uploaded("711", processing_info=pending))
    server.add(
        "GET",
        UPLOAD,
        uploaded("711", processing_info={"state": "succeeded", "progress_percent": 100}),
        query={"command": "STATUS"},
    )
    server.add("POST", "/2/tweets", status=201, body=payload("x/create_post.json"))

    connector(server).publish(OutgoingPost("Menu", "key-one", media_urls=urls))

    assert server.seen("GET", UPLOAD)[0].query == {"command": ["STATUS"], "media_id": ["711"]}
    assert server.seen("POST", "/2/tweets")[0].json()["media"] == {"media_ids": ["711"]}


def test_x_image_address_missing_or_a_page_is_refused_before_reading_x(
    server: ReplayServer,
) -> None:
    server.add("GET", "/gallery", Answer(raw=b"<html></html>", content_type="text/html"))

    with pytest.raises(PermanentError, match=r"/cdn/gone\.png cannot be attached.*HTTP 404"):
        connector(server).publish(
            OutgoingPost("Gone", "k1", media_urls=(f"{server.url}/cdn/gone.png",))
        )
    with pytest.raises(PermanentError, match=r"/gallery is not an image.*text/html"):
        connector(server).publish(OutgoingPost("Page", "k2", media_urls=(f"{server.url}/gallery",)))

    # Nothing read on X (reads are billed), nothing uploaded or posted.
    assert [r.path for r in server.requests if not r.path.startswith(("/cdn", "/gallery"))] == []


def test_x_image_over_5_mb_or_a_gif_over_15_mb_is_refused_naming_why(
    server: ReplayServer,
) -> None:
    server.add("GET", "/cdn/huge.jpg", image(bytes(5_000_001), "image/jpeg"))
    server.add("GET", "/cdn/huge.gif", image(b"GIF89a" + bytes(15_000_000), "image/gif"))
    server.add("GET", "/cdn/photo.heic", image(b"heic", "image/heic"))

    with pytest.raises(PermanentError, match=r"huge\.jpg is too big.*X takes images up to 5 MB"):
        connector(server).publish(
            OutgoingPost("Huge", "k3", media_urls=(f"{server.url}/cdn/huge.jpg",))
        )
    with pytest.raises(PermanentError, match=r"huge\.gif is too big.*X takes images up to 15 MB"):
        connector(server).publish(
            OutgoingPost("Gif", "k4", media_urls=(f"{server.url}/cdn/huge.gif",))
        )
    with pytest.raises(PermanentError, match=r"X does not take image/heic images.*image/gif"):
        connector(server).publish(
            OutgoingPost("Heic", "k5", media_urls=(f"{server.url}/cdn/photo.heic",))
        )

    assert [r.path for r in server.requests if not r.path.startswith("/cdn")] == []


def test_x_refuses_a_fifth_image(server: ReplayServer) -> None:
    urls = tuple(f"{server.url}/cdn/{n}.png" for n in range(5))

    with pytest.raises(PermanentError, match="X attaches at most 4 images"):
        connector(server).publish(OutgoingPost("Five", "k5", media_urls=urls))

    assert server.requests == []


def test_x_retry_after_the_upload_finds_the_post_that_arrived_not_posting_twice(
    server: ReplayServer,
) -> None:
    urls = images(server, "menu.png")
    # X shows the text of a post with images followed by a t.co link to them.
    sent = tweet(5, text="Winter menu https://t.co/1a2b3c4d5e")
    server.add("GET", TIMELINE, Answer(200, page()), Answer(200, page(sent)))
    server.add("POST", UPLOAD, uploaded("721"))
    server.add("POST", "/2/tweets", status=503, body={"title": "Service Unavailable"})

    published = connector(server).publish(OutgoingPost("Winter menu", "key-lost", media_urls=urls))

    assert published.replayed is True and published.external_id == pid(5)
    assert len(server.seen("POST", "/2/tweets")) == 1
    assert len(server.seen("POST", UPLOAD)) == 1


def test_x_retry_after_the_upload_posts_once_when_the_first_post_did_not_arrive(
    server: ReplayServer,
) -> None:
    urls = images(server, "menu.png")
    server.add("GET", TIMELINE, body=page())
    server.add("POST", UPLOAD, uploaded("731"), uploaded("732"))
    server.add(
        "POST",
        "/2/tweets",
        Answer(503, {"title": "Service Unavailable"}),
        Answer(201, payload("x/create_post.json")),
    )
    post = OutgoingPost("Winter menu", "key-again", media_urls=urls)

    published = connector(server).publish(post)

    posts = [seen.json() for seen in server.seen("POST", "/2/tweets")]
    assert len(posts) == 2
    # Uploaded once for this attempt: the second post carries the same media id.
    assert posts[0]["media"] == posts[1]["media"] == {"media_ids": ["731"]}
    assert len(server.seen("POST", UPLOAD)) == 1
    assert published.replayed is False


# --- animated GIFs (chunked upload) and descriptions (alt text) -----------------------------
# Payloads, from the documentation pages:
# - x/media_initialize.json: the INIT response of
#   https://docs.x.com/x-api/media/quickstart/media-upload-chunked
# - x/media_append.json: https://docs.x.com/x-api/media/append-media-upload
# - x/media_finalize.json: https://docs.x.com/x-api/media/finalize-media-upload
# - x/media_status.json, x/media_status_failed.json: the STATUS answers of
#   https://docs.x.com/x-api/media/get-media-upload-status, with processing_info.error as in
#   https://developer.x.com/en/docs/twitter-api/v1/media/upload-media/api-reference/get-media-upload-status
# - x/media_metadata.json: https://docs.x.com/x-api/media/create-media-metadata

INITIALIZE = "/2/media/upload/initialize"
METADATA = "/2/media/metadata"
GIF_BYTES = b"GIF89a" + bytes(range(256)) * 9 + b"\x3b"  # 2,311 bytes


def media_answer(name: str, media_id: str, **processing: Any) -> Answer:
    """A documented media answer for `media_id`, its processing_info changed by `processing`."""
    body = payload(name)
    body["data"].update(id=media_id, media_key=f"16_{media_id}")
    if processing:
        body["data"]["processing_info"] = {**body["data"].get("processing_info", {}), **processing}
    return Answer(body=body)


def chunked_upload(
    server: ReplayServer, media_id: str, *statuses: Answer, finalized: Answer | None = None
) -> None:
    """X's answers to the chunked upload of one GIF as `media_id`, then to STATUS."""
    server.add("POST", INITIALIZE, media_answer("x/media_initialize.json", media_id))
    server.add("POST", f"{UPLOAD}/{media_id}/append", body=payload("x/media_append.json"))
    server.add(
        "POST",
        f"{UPLOAD}/{media_id}/finalize",
        finalized or media_answer("x/media_finalize.json", media_id),
    )
    if statuses:
        server.add("GET", UPLOAD, *statuses, query={"command": "STATUS"})


def gif(server: ReplayServer, name: str = "anim.gif", content: bytes = GIF_BYTES) -> str:
    server.add("GET", f"/cdn/{name}", image(content, "image/gif"))
    return f"{server.url}/cdn/{name}"


def form(seen: Any) -> dict[str, bytes]:
    """The parts of a multipart/form-data request, by name."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {seen.headers['content-type']}\r\n\r\n".encode() + seen.body
    )
    return {
        str(part.get_param("name", header="content-disposition")): part.get_payload(decode=True)
        for part in message.iter_parts()
    }


def test_x_gif_goes_through_the_chunked_upload_in_several_chunks_then_is_posted(
    server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(x_connector, "CHUNK_BYTES", 1000)
    url = gif(server)
    server.add("GET", TIMELINE, body=page())
    chunked_upload(
        server,
        "741",
        media_answer("x/media_status.json", "741", check_after_secs=3),
        media_answer("x/media_status.json", "741", state="succeeded", progress_percent=100),
        finalized=media_answer("x/media_finalize.json", "741", check_after_secs=2),
    )
    server.add("POST", "/2/tweets", status=201, body=payload("x/create_post.json"))
    x = connector(server)
    waits: list[float] = []
    x.sleep = waits.append

    published = x.publish(OutgoingPost("It moves", "key-gif", media_urls=(url,)))

    assert server.seen("POST", INITIALIZE)[0].json() == {
        "media_type": "image/gif",
        "total_bytes": len(GIF_BYTES),
        "media_category": "tweet_gif",
    }
    appends = [form(seen) for seen in server.seen("POST", f"{UPLOAD}/741/append")]
    assert [part["segment_index"] for part in appends] == [b"0", b"1", b"2"]
    assert [len(part["media"]) for part in appends] == [1000, 1000, len(GIF_BYTES) - 2000]
    assert b"".join(part["media"] for part in appends) == GIF_BYTES
    assert server.seen("POST", f"{UPLOAD}/741/append")[0].headers["authorization"] == (
        "Bearer access-token-abcdefghijklmnop"
    )
    # Finalized after the last chunk, then looked at after each check_after_secs X gave.
    order = [r.path for r in server.requests if r.path.startswith(UPLOAD)]
    assert (
        order
        == [INITIALIZE, *[f"{UPLOAD}/741/append"] * 3, f"{UPLOAD}/741/finalize"] + [UPLOAD] * 2
    )
    assert server.seen("GET", UPLOAD)[0].query == {"command": ["STATUS"], "media_id": ["741"]}
    assert waits == [2.0, 3.0]
    assert server.seen("POST", UPLOAD) == []  # not the simple upload
    assert server.seen("POST", "/2/tweets")[0].json() == {
        "text": "It moves",
        "media": {"media_ids": ["741"]},
    }
    assert published.external_id == "1445880548472328192"


def test_x_descriptions_reach_the_metadata_endpoint_only_for_images_that_have_one(
    server: ReplayServer,
) -> None:
    urls = images(server, "a.png", "b.png", "c.png")
    server.add("GET", TIMELINE, body=page())
    server.add("POST", UPLOAD, uploaded("701"), uploaded("702"), uploaded("703"), uploaded("704"))
    server.add("POST", METADATA, body=payload("x/media_metadata.json"))
    server.add("POST", "/2/tweets", status=201, body=payload("x/create_post.json"))
    longest = "é" * 1000  # X counts characters, not bytes
    post = OutgoingPost(
        "Winter menu", "key-alt", media_urls=urls, media_alts=("  A bowl of soup ", "   ")
    )

    connector(server).publish(post)
    connector(server).publish(
        OutgoingPost("Longest", "key-long", media_urls=urls[:1], media_alts=(longest,))
    )

    described = [seen.json() for seen in server.seen("POST", METADATA)]
    assert described == [
        {"id": "701", "metadata": {"alt_text": {"text": "A bowl of soup"}}},
        {"id": "704", "metadata": {"alt_text": {"text": longest}}},
    ]
    # Described after its upload and before the post that shows it.
    paths = [r.path for r in server.requests if r.method == "POST"]
    assert paths[:5] == [UPLOAD, METADATA, UPLOAD, UPLOAD, "/2/tweets"]
    assert server.seen("POST", "/2/tweets")[0].json()["media"] == {
        "media_ids": ["701", "702", "703"]
    }


def test_x_gif_description_is_set_once_it_is_processed(server: ReplayServer) -> None:
    url = gif(server)
    server.add("GET", TIMELINE, body=page())
    chunked_upload(
        server,
        "751",
        media_answer("x/media_status.json", "751", state="succeeded"),
    )
    server.add("POST", METADATA, body=payload("x/media_metadata.json"))
    server.add("POST", "/2/tweets", status=201, body=payload("x/create_post.json"))

    connector(server).publish(
        OutgoingPost("Cat", "key-cat", media_urls=(url,), media_alts=("A dancing cat",))
    )

    assert server.seen("POST", METADATA)[0].json() == {
        "id": "751",
        "metadata": {"alt_text": {"text": "A dancing cat"}},
    }
    paths = [r.path for r in server.requests if not r.path.startswith("/cdn")]
    assert paths.index(METADATA) > paths.index(UPLOAD)  # after the STATUS that said succeeded
    assert paths.index(METADATA) < paths.index("/2/tweets")


def test_x_description_over_1000_characters_is_refused_before_anything_is_sent(
    server: ReplayServer,
) -> None:
    urls = images(server, "a.png", "b.png")
    post = OutgoingPost(
        "Menu", "key-too-long", media_urls=urls, media_alts=("Fine", "word " * 200 + "!")
    )

    with pytest.raises(
        PermanentError, match=r"image 2 \(.*/cdn/b\.png\) is 1,001 characters.*1,000"
    ):
        connector(server).publish(post)

    assert server.requests == []  # nothing downloaded, read, uploaded or posted


def test_x_gif_processing_failure_names_xs_reason_and_posts_nothing(server: ReplayServer) -> None:
    url = gif(server)
    server.add("GET", TIMELINE, body=page())
    chunked_upload(server, "761", media_answer("x/media_status_failed.json", "761"))

    with pytest.raises(
        PermanentError,
        match=r"could not process the GIF .*/cdn/anim\.gif: Unsupported video format",
    ):
        connector(server).publish(OutgoingPost("Broken", "key-bad", media_urls=(url,)))

    assert len(server.seen("GET", UPLOAD)) == 1
    assert server.seen("POST", "/2/tweets") == []


def test_x_gif_still_processing_after_two_minutes_is_tried_again_later(
    server: ReplayServer,
) -> None:
    url = gif(server)
    server.add("GET", TIMELINE, body=page())
    chunked_upload(server, "762", media_answer("x/media_status.json", "762", check_after_secs=50))
    x = connector(server)
    waits: list[float] = []
    x.sleep = waits.append

    with pytest.raises(RetryableError, match=r"still processing the GIF .*after 101 seconds"):
        x.publish(OutgoingPost("Slow", "key-slow", media_urls=(url,)))

    # finalize said 1 s, then 50 s, then 50 s: another 50 would pass the 120-second bound,
    # and the outbox (not an upload again in place) tries later.
    assert waits == [1.0, 50.0, 50.0] and sum(waits) <= x_connector.PROCESSING_WAIT
    assert len(server.seen("GET", UPLOAD)) == 3  # one STATUS after each wait
    assert len(server.seen("POST", INITIALIZE)) == 1
    assert server.seen("POST", "/2/tweets") == []


def test_x_gif_with_another_image_is_refused_before_anything_reaches_x(
    server: ReplayServer,
) -> None:
    urls = (*images(server, "a.png"), gif(server))

    with pytest.raises(PermanentError, match=r"one animated GIF alone.*anim\.gif comes with 1"):
        connector(server).publish(OutgoingPost("Both", "key-both", media_urls=urls))

    assert [r.path for r in server.requests if not r.path.startswith("/cdn")] == []


def test_x_short_rate_limit_during_append_waits_for_the_reset_and_resumes(
    server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(x_connector, "CHUNK_BYTES", 1000)
    url = gif(server)
    server.add("GET", TIMELINE, body=page())
    chunked_upload(server, "771", media_answer("x/media_status.json", "771", state="succeeded"))
    reset = int(time.time()) + 3
    server.add(
        "POST",
        f"{UPLOAD}/771/append",
        Answer(body=payload("x/media_append.json")),
        Answer(
            429,
            payload("x/too_many_requests.json"),
            headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        ),
        Answer(body=payload("x/media_append.json")),
    )
    server.add("POST", "/2/tweets", status=201, body=payload("x/create_post.json"))
    # The connector's clock moves on by what it slept, as a real sleep would.
    slept: list[float] = []
    monkeypatch.setattr(
        x_connector, "utcnow", lambda: datetime.now(UTC) + timedelta(seconds=sum(slept))
    )
    x = connector(server)
    x.sleep = slept.append

    published = x.publish(OutgoingPost("It moves", "key-limit", media_urls=(url,)))

    segments = [form(seen)["segment_index"] for seen in server.seen("POST", f"{UPLOAD}/771/append")]
    assert segments == [b"0", b"1", b"1", b"2"]  # the refused chunk sent again, not the others
    assert 1.5 < slept[0] <= 3.0  # until x-rate-limit-reset
    assert published.external_id == "1445880548472328192"
    assert server.seen("POST", "/2/tweets")[0].json()["media"] == {"media_ids": ["771"]}


def test_x_long_rate_limit_during_append_goes_back_to_the_outbox_with_xs_reset(
    server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(x_connector, "CHUNK_BYTES", 1000)
    url = gif(server)
    server.add("GET", TIMELINE, body=page())
    chunked_upload(server, "772")
    reset = int((datetime.now(UTC) + timedelta(minutes=12)).timestamp())
    server.add(
        "POST",
        f"{UPLOAD}/772/append",
        Answer(body=payload("x/media_append.json")),
        Answer(
            429,
            payload("x/too_many_requests.json"),
            headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        ),
    )

    with pytest.raises(RateLimited, match="media append") as caught:
        connector(server).publish(OutgoingPost("It moves", "key-later", media_urls=(url,)))

    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)
    assert len(server.seen("POST", f"{UPLOAD}/772/append")) == 2
    assert server.seen("POST", f"{UPLOAD}/772/finalize") == []
    assert server.seen("POST", "/2/tweets") == []


def test_x_append_outage_is_retried_in_place_with_the_same_segment(
    server: ReplayServer,
) -> None:
    url = gif(server)
    server.add("GET", TIMELINE, body=page())
    chunked_upload(server, "773", media_answer("x/media_status.json", "773", state="succeeded"))
    server.add(
        "POST",
        f"{UPLOAD}/773/append",
        Answer(503, {"title": "Service Unavailable"}),
        # X's v1.1 APPEND answered 2xx with an empty body: taken as well.
        Answer(204),
    )
    server.add("POST", "/2/tweets", status=201, body=payload("x/create_post.json"))

    connector(server).publish(OutgoingPost("It moves", "key-outage", media_urls=(url,)))

    segments = [form(seen)["segment_index"] for seen in server.seen("POST", f"{UPLOAD}/773/append")]
    assert segments == [b"0", b"0"]
    assert len(server.seen("POST", INITIALIZE)) == 1
    assert server.seen("POST", "/2/tweets")[0].json()["media"] == {"media_ids": ["773"]}


def test_x_finalize_outage_starts_a_new_upload_after_looking_for_the_post(
    server: ReplayServer,
) -> None:
    url = gif(server)
    server.add("GET", TIMELINE, body=page())
    server.add(
        "POST",
        INITIALIZE,
        media_answer("x/media_initialize.json", "781"),
        media_answer("x/media_initialize.json", "782"),
    )
    for media_id in ("781", "782"):
        server.add("POST", f"{UPLOAD}/{media_id}/append", body=payload("x/media_append.json"))
    server.add("POST", f"{UPLOAD}/781/finalize", status=503, body={"title": "Service Unavailable"})
    server.add(
        "POST",
        f"{UPLOAD}/782/finalize",
        media_answer("x/media_finalize.json", "782", state="succeeded"),
    )
    server.add("POST", "/2/tweets", status=201, body=payload("x/create_post.json"))

    published = connector(server).publish(OutgoingPost("It moves", "key-fin", media_urls=(url,)))

    # Never finalized twice: the uncertain upload is left to expire.
    assert len(server.seen("POST", f"{UPLOAD}/781/finalize")) == 1
    assert len(server.seen("GET", TIMELINE)) == 2  # looked again before writing again
    assert server.seen("POST", "/2/tweets")[0].json()["media"] == {"media_ids": ["782"]}
    assert published.replayed is False


def test_x_gif_post_that_arrived_despite_an_error_is_found_not_uploaded_again(
    server: ReplayServer,
) -> None:
    url = gif(server)
    sent = tweet(5, text="It moves https://t.co/1a2b3c4d5e")
    server.add("GET", TIMELINE, Answer(200, page()), Answer(200, page(sent)))
    chunked_upload(server, "791", media_answer("x/media_status.json", "791", state="succeeded"))
    server.add("POST", METADATA, body=payload("x/media_metadata.json"))
    server.add("POST", "/2/tweets", status=503, body={"title": "Service Unavailable"})
    post = OutgoingPost("It moves", "key-once", media_urls=(url,), media_alts=("A cat",))

    published = connector(server).publish(post)
    # The outbox tries the same post again later: found at once, nothing uploaded.
    again = connector(server).publish(post)

    assert published.replayed is True and published.external_id == pid(5)
    assert again.replayed is True and again.external_id == pid(5)
    assert len(server.seen("POST", INITIALIZE)) == 1
    assert len(server.seen("POST", METADATA)) == 1
    assert len(server.seen("POST", "/2/tweets")) == 1
