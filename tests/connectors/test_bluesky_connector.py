"""The Bluesky connector (atproto SDK) against a replay of the documented XRPC API."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from connector_replay import Answer, ReplayServer, payload

from clameur.connectors.base import (
    AuthError,
    ListenSource,
    OutgoingPost,
    PermanentError,
    RateLimited,
)
from clameur.connectors.bluesky import BlueskyConfig, BlueskyConnector
from clameur.connectors.bluesky.connector import record_key

SESSION = "/xrpc/com.atproto.server.createSession"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"
BRAND_DID = "did:plc:brandbrandbrandbrand00"


def jwt(expires_in: timedelta = timedelta(hours=2)) -> str:
    """An access token shaped like Bluesky's (the client reads its expiry, never its signature)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    exp = int((datetime.now(UTC) + expires_in).timestamp())
    claims = {"scope": "com.atproto.appPass", "sub": BRAND_DID, "iat": exp - 7200, "exp": exp}
    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(claims)}.c2lnbmF0dXJl"


def session() -> dict[str, Any]:
    answer = payload("bluesky_session.json")
    answer["accessJwt"], answer["refreshJwt"] = jwt(), jwt(timedelta(days=60))
    return answer


def view(rkey: str, at: str, text: str = "", **record: Any) -> dict[str, Any]:
    """The documented PostView with another record key, time and text."""
    entity = payload("bluesky_post_view.json")
    entity["uri"] = f"at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/{rkey}"
    entity["indexedAt"] = entity["record"]["createdAt"] = at
    entity["record"]["text"] = text or f"post {rkey} about clameur"
    entity["record"].update(record)
    return entity


def connector(server: ReplayServer, **config: Any) -> BlueskyConnector:
    settings = BlueskyConfig(
        handle="clameur-brand.bsky.social",
        app_password="abcd-efgh-ijkl-mnop",
        service_url=server.url,
        **config,
    )
    return BlueskyConnector(settings, sleep=lambda _: None)


def uris(result: Any) -> list[str]:
    return [post.id.rsplit("/", 1)[1] for post in result.posts]


def test_bluesky_signs_in_once_and_a_restart_reuses_the_stored_session(
    server: ReplayServer,
) -> None:
    server.add("POST", SESSION, body=session())
    server.add("GET", SEARCH, body={"posts": []})
    first = connector(server)
    first.listen(ListenSource("search", "clameur"), None)
    stored = first.updated_config()
    assert stored is not None and stored.session is not None

    restarted = BlueskyConnector(stored, sleep=lambda _: None)
    restarted.listen(ListenSource("search", "clameur"), None)

    assert len(server.seen("POST", SESSION)) == 1
    assert restarted.updated_config() is None
    assert server.seen("GET", SEARCH)[1].headers["authorization"].startswith("Bearer ey")


def test_bluesky_search_resumes_its_sweep_and_returns_each_post_once(
    server: ReplayServer,
) -> None:
    server.add("POST", SESSION, body=session())
    server.add(
        "GET",
        SEARCH,
        body={
            "posts": [view("a", "2024-10-15T10:05:00.000Z"), view("b", "2024-10-15T10:04:00.000Z")]
        },
    )
    source = ListenSource("search", "clameur")
    first = connector(server).listen(source, None, limit=2)
    server.add(
        "GET",
        SEARCH,
        body={
            "cursor": "2",
            "posts": [view("c", "2024-10-15T10:20:00.000Z"), view("d", "2024-10-15T10:15:00.000Z")],
        },
        query={"since": "2024-10-15T09:55:00Z"},
    )
    server.add(
        "GET",
        SEARCH,
        # "e" was indexed late, behind "a" which was already returned.
        body={
            "posts": [view("e", "2024-10-15T10:06:00.000Z"), view("a", "2024-10-15T10:05:00.000Z")]
        },
        query={"since": "2024-10-15T09:55:00Z", "cursor": "2"},
    )

    second = connector(server).listen(source, first.checkpoint, limit=2)
    # A restart in the middle of the sweep, from the stored checkpoint.
    third = connector(server).listen(source, second.checkpoint, limit=2)

    assert uris(first) == ["b", "a"] and first.more is False
    assert uris(second) == ["d", "c"] and second.more is True
    assert uris(third) == ["e"] and third.more is False
    assert third.checkpoint["since"] == "2024-10-15T10:20:00+00:00"
    assert third.checkpoint["cursor"] is None
    assert server.seen("GET", SEARCH)[1].query["sort"] == ["latest"]


def test_bluesky_post_view_becomes_a_post_in_its_thread(server: ReplayServer) -> None:
    reply = view(
        "r1",
        "2024-10-15T10:05:00.000Z",
        "we hear you",
        reply={
            "root": {"uri": "at://did:plc:x/app.bsky.feed.post/root", "cid": "bafyroot"},
            "parent": {"uri": "at://did:plc:x/app.bsky.feed.post/parent", "cid": "bafyparent"},
        },
    )
    server.add("POST", SESSION, body=session())
    server.add("GET", SEARCH, body={"posts": [reply]})

    post = connector(server).listen(ListenSource("search", "clameur"), None).posts[0]

    assert post.id == "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/r1"
    assert post.url == "https://bsky.app/profile/bsky.app/post/r1"
    assert post.in_reply_to == "at://did:plc:x/app.bsky.feed.post/parent"
    assert post.conversation_id == "at://did:plc:x/app.bsky.feed.post/root"
    assert post.author is not None and post.author.name == "Bluesky"
    assert post.metrics == {"likes": 1500, "reposts": 305, "replies": 140, "quotes": 21}


def test_bluesky_mentions_come_from_notifications_without_likes(server: ReplayServer) -> None:
    mention = payload("bluesky_notification.json")
    like = {**payload("bluesky_notification.json"), "reason": "like", "uri": "at://x/like/1"}
    server.add("POST", SESSION, body=session())
    server.add("GET", NOTIFICATIONS, body={"notifications": [like, mention]})

    result = connector(server).listen(ListenSource("mentions"), None)

    assert [p.id for p in result.posts] == [mention["uri"]]
    assert result.posts[0].text == "@clameur-brand.bsky.social my order never arrived"
    assert result.posts[0].author is not None
    assert result.posts[0].author.handle == "alice.bsky.social"


def test_bluesky_rate_limit_raises_with_the_reset_time(server: ReplayServer) -> None:
    reset = int((datetime.now(UTC) + timedelta(minutes=3)).timestamp())
    server.add("POST", SESSION, body=session())
    server.add(
        "GET",
        SEARCH,
        status=429,
        body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(reset),
        },
    )

    with pytest.raises(RateLimited) as caught:
        connector(server).listen(ListenSource("search", "clameur"), None)

    assert caught.value.retry_at == datetime.fromtimestamp(reset, UTC)


def test_bluesky_expired_session_signs_in_again_with_the_app_password(
    server: ReplayServer,
) -> None:
    server.add("POST", SESSION, body=session())
    server.add(
        "GET",
        SEARCH,
        Answer(400, {"error": "ExpiredToken", "message": "Token has expired"}),
        Answer(200, {"posts": [view("a", "2024-10-15T10:05:00.000Z")]}),
    )
    stale = session()
    stored = (
        f"clameur-brand.bsky.social:::{BRAND_DID}:::{stale['accessJwt']}:::"
        f"{stale['refreshJwt']}:::{server.url}"
    )

    bluesky = connector(server, session=stored)
    result = bluesky.listen(ListenSource("search", "clameur"), None)

    assert uris(result) == ["a"]
    assert len(server.seen("POST", SESSION)) == 1
    assert bluesky.updated_config() is not None


def test_bluesky_wrong_app_password_is_an_auth_error(server: ReplayServer) -> None:
    server.add(
        "POST",
        SESSION,
        status=401,
        body={"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
    )

    with pytest.raises(AuthError, match="Invalid identifier or password.*new app password"):
        connector(server).listen(ListenSource("search", "clameur"), None)


def test_bluesky_reply_references_root_and_parent_and_reuses_its_record_key(
    server: ReplayServer,
) -> None:
    parent = view(
        "p1",
        "2024-10-15T10:05:00.000Z",
        reply={
            "root": {"uri": "at://did:plc:x/app.bsky.feed.post/root", "cid": "bafyroot"},
            "parent": {"uri": "at://did:plc:x/app.bsky.feed.post/mid", "cid": "bafymid"},
        },
    )
    server.add("POST", SESSION, body=session())
    server.add("GET", "/xrpc/app.bsky.feed.getPosts", body={"posts": [parent]})
    created = datetime(2024, 10, 15, 10, 30, tzinfo=UTC)
    rkey = record_key("key-42", created)
    server.add(
        "POST",
        "/xrpc/com.atproto.repo.putRecord",
        body={
            "uri": f"at://{BRAND_DID}/app.bsky.feed.post/{rkey}",
            "cid": "bafyreply",
            "validationStatus": "valid",
        },
    )
    outgoing = OutgoingPost("Sorry! DM us your order number.", "key-42", parent["uri"], created)

    first = connector(server).reply(outgoing)
    again = connector(server).reply(outgoing)

    writes = [r.json() for r in server.seen("POST", "/xrpc/com.atproto.repo.putRecord")]
    assert writes[0] == writes[1]
    assert writes[0]["rkey"] == rkey and len(rkey) == 13
    assert writes[0]["repo"] == BRAND_DID
    root = writes[0]["record"]["reply"]["root"]
    assert (root["uri"], root["cid"]) == ("at://did:plc:x/app.bsky.feed.post/root", "bafyroot")
    assert writes[0]["record"]["reply"]["parent"]["uri"] == parent["uri"]
    assert first.external_id == again.external_id == f"at://{BRAND_DID}/app.bsky.feed.post/{rkey}"


def test_bluesky_record_keys_differ_by_key_and_sort_by_time() -> None:
    moment = datetime(2024, 10, 15, 10, 30, tzinfo=UTC)

    assert record_key("a", moment) != record_key("b", moment)
    assert record_key("a", moment) < record_key("a", moment + timedelta(seconds=1))


def test_bluesky_post_without_author_is_a_permanent_error_naming_it(server: ReplayServer) -> None:
    broken = view("x", "2024-10-15T10:05:00.000Z")
    del broken["author"]
    server.add("POST", SESSION, body=session())
    server.add("GET", SEARCH, body={"posts": [broken]})

    with pytest.raises(PermanentError, match="malformed"):
        connector(server).listen(ListenSource("search", "clameur"), None)


def test_bluesky_thread_is_parents_then_post_then_replies(server: ReplayServer) -> None:
    def node(rkey: str, minute: int, **more: Any) -> dict[str, Any]:
        return {
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": view(rkey, f"2024-10-15T10:{minute:02d}:00.000Z"),
            **more,
        }

    thread = node(
        "mid",
        10,
        parent=node("root", 5),
        replies=[node("r1", 15, replies=[node("r2", 20)])],
    )
    server.add("POST", SESSION, body=session())
    server.add("GET", "/xrpc/app.bsky.feed.getPostThread", body={"thread": thread})

    posts = connector(server).conversation(
        "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/mid"
    )

    assert [p.id.rsplit("/", 1)[1] for p in posts] == ["root", "mid", "r1", "r2"]
