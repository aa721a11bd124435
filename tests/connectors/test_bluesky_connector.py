"""The Bluesky connector (atproto SDK) against a replay of the documented XRPC API."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from connector_replay import PNG, Answer, ReplayServer, WebsocketReplay, image, payload

from clameur.connectors.base import (
    AuthError,
    ListenSource,
    OutgoingPost,
    PermanentError,
    RateLimited,
    RetryableError,
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


def stored_session(server: ReplayServer) -> str:
    """A session string as the SDK exports it, as kept in the account's settings."""
    stale = session()
    return (
        f"clameur-brand.bsky.social:::{BRAND_DID}:::{stale['accessJwt']}:::"
        f"{stale['refreshJwt']}:::{server.url}"
    )


def test_bluesky_session_refused_again_after_signing_in_is_an_auth_error(
    server: ReplayServer,
) -> None:
    # 401 AuthMissing (https://atproto.com/specs/xrpc): renewed once, then a person must act.
    server.add("POST", SESSION, body=session())
    server.add(
        "GET",
        SEARCH,
        status=401,
        body={"error": "AuthMissing", "message": "Authentication Required"},
    )

    with pytest.raises(AuthError, match="right after signing in.*new app password"):
        connector(server, session=stored_session(server)).listen(
            ListenSource("search", "clameur"), None
        )

    assert len(server.seen("POST", SESSION)) == 1
    assert len(server.seen("GET", SEARCH)) == 2


def test_bluesky_forbidden_is_an_auth_error_without_signing_in_again(
    server: ReplayServer,
) -> None:
    # 403: "The client lacks permission for this endpoint" (https://atproto.com/specs/xrpc).
    server.add(
        "GET",
        NOTIFICATIONS,
        status=403,
        body={"error": "Forbidden", "message": "Bad token scope"},
    )

    with pytest.raises(AuthError, match="HTTP 403 Forbidden: Bad token scope.*app password"):
        connector(server, session=stored_session(server)).listen(ListenSource("mentions"), None)

    assert server.seen("POST", SESSION) == []
    assert len(server.seen("GET", NOTIFICATIONS)) == 1


def test_bluesky_outage_is_retried_in_place(server: ReplayServer) -> None:
    server.add("POST", SESSION, body=session())
    server.add(
        "GET",
        SEARCH,
        Answer(503, {"error": "InternalServerError", "message": "Internal Server Error"}),
        Answer(200, {"posts": [view("a", "2024-10-15T10:05:00.000Z")]}),
    )

    result = connector(server).listen(ListenSource("search", "clameur"), None)

    assert uris(result) == ["a"]
    assert len(server.seen("GET", SEARCH)) == 2


def test_bluesky_outage_that_lasts_is_a_retryable_error(server: ReplayServer) -> None:
    server.add("POST", SESSION, body=session())
    server.add(
        "GET", SEARCH, Answer(500, raw=b"<html>Bad gateway</html>", content_type="text/html")
    )

    with pytest.raises(RetryableError):
        connector(server).listen(ListenSource("search", "clameur"), None)

    assert len(server.seen("GET", SEARCH)) == 3


def test_bluesky_publish_writes_a_post_record_once_per_key(server: ReplayServer) -> None:
    # A post is an app.bsky.feed.post record (https://docs.bsky.app/docs/advanced-guides/posts).
    # XRPC has no idempotency header: the record key comes from the idempotency key and the
    # time, and putRecord (https://docs.bsky.app/docs/api/com-atproto-repo-put-record) writes
    # the same record again instead of a second post when the outbox retries.
    created = datetime(2024, 10, 15, 11, 0, tzinfo=UTC)
    rkey = record_key("publication-7", created)
    uri = f"at://{BRAND_DID}/app.bsky.feed.post/{rkey}"
    server.add("POST", SESSION, body=session())
    server.add(
        "POST",
        "/xrpc/com.atproto.repo.putRecord",
        Answer(503, {"error": "InternalServerError", "message": "Internal Server Error"}),
        Answer(200, {"uri": uri, "cid": "bafypost", "validationStatus": "valid"}),
    )
    outgoing = OutgoingPost(
        "Our Lyon shop opens on Sundays from May.", "publication-7", None, created
    )

    first = connector(server).publish(outgoing)
    again = connector(server).publish(outgoing)

    writes = [r.json() for r in server.seen("POST", "/xrpc/com.atproto.repo.putRecord")]
    assert len(writes) == 3 and writes[0] == writes[1] == writes[2]
    assert writes[0]["collection"] == "app.bsky.feed.post"
    assert (writes[0]["repo"], writes[0]["rkey"]) == (BRAND_DID, rkey)
    record = writes[0]["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == "Our Lyon shop opens on Sundays from May."
    assert record["createdAt"] == "2024-10-15T11:00:00.000Z"
    assert "reply" not in record
    assert first.external_id == again.external_id == uri
    assert first.url == f"https://bsky.app/profile/clameur-brand.bsky.social/post/{rkey}"
    assert server.seen("POST", "/xrpc/com.atproto.repo.createRecord") == []


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


# --- live stream: Jetstream ---------------------------------------------------------------
# Events as the Jetstream README shows them (https://github.com/bluesky-social/jetstream,
# https://docs.bsky.app/blog/jetstream): kind "commit" with did, time_us and commit.operation,
# collection, rkey, record; kind "identity" and "account" besides.

PROFILES = "/xrpc/app.bsky.actor.getProfiles"
AUTHOR = "did:plc:eygmaihciaxprqvxpfvl6flk"


def commit(
    time_us: int, rkey: str, text: str, operation: str = "create", **record: Any
) -> dict[str, Any]:
    """A Jetstream commit event creating (or changing) a post."""
    return {
        "did": AUTHOR,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": "3l3qo2vutsw2b",
            "operation": operation,
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": {
                "$type": "app.bsky.feed.post",
                "createdAt": "2024-09-09T19:46:02.102Z",
                "langs": ["en"],
                "text": text,
                **record,
            },
            "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi",
        },
    }


def mention(did: str) -> dict[str, Any]:
    """A mention facet (https://docs.bsky.app/docs/advanced-guides/post-richtext)."""
    return {
        "index": {"byteStart": 0, "byteEnd": 6},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
    }


def test_jetstream_keeps_matching_posts_and_mentions_and_resumes_from_its_cursor(
    server: ReplayServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.add("POST", SESSION, body=session())
    server.add(
        "GET",
        PROFILES,
        body={"profiles": [{"did": AUTHOR, "handle": "jay.bsky.team", "displayName": "Jay"}]},
    )
    events = [
        {
            "did": AUTHOR,
            "time_us": 1725911162329308,
            "kind": "identity",
            "identity": {
                "did": AUTHOR,
                "handle": "jay.bsky.team",
                "seq": 1,
                "time": "2024-09-05T06:11:04.870Z",
            },
        },
        commit(1725911162329310, "3l3qo2vuowo2b", "Trying Clameur today"),
        commit(1725911162329320, "3l3qo2vuowo2c", "nothing to see here"),
        "{not json",
        commit(1725911162329330, "3l3qo2vuowo2d", "@brand hello", facets=[mention(BRAND_DID)]),
        commit(1725911162329340, "3l3qo2vuowo2e", "clameur edited", operation="update"),
        commit(1725911162329350, "3l3qo2vuowo2f", "Le clameur en français", langs=["fr"]),
    ]
    jetstream = WebsocketReplay(events)
    try:
        source = connector(
            server, searches=["clameur lang:en"], stream=True, jetstream_url=jetstream.url
        )
        items = list(source.stream(None, threading.Event()))
        again = list(source.stream(items[-1].checkpoint, threading.Event()))
    finally:
        jetstream.close()

    posts = [item.post for item in items if item.post]
    assert [post.id.rsplit("/", 1)[1] for post in posts] == ["3l3qo2vuowo2b", "3l3qo2vuowo2d"]
    assert posts[0].id == f"at://{AUTHOR}/app.bsky.feed.post/3l3qo2vuowo2b"
    assert posts[0].author is not None and posts[0].author.handle == "jay.bsky.team"
    assert posts[0].url == "https://bsky.app/profile/jay.bsky.team/post/3l3qo2vuowo2b"
    # The author was looked up once for both posts.
    assert len(server.seen("GET", PROFILES)) == 1
    assert "not JSON" in caplog.text
    # The cursor moved with every event, kept or not.
    assert items[-1].checkpoint == {"cursor": 1725911162329350}
    assert jetstream.paths[0] == "/subscribe?wantedCollections=app.bsky.feed.post"
    assert jetstream.paths[1] == (
        "/subscribe?wantedCollections=app.bsky.feed.post&cursor=1725911162329350"
    )
    assert len(again) == len(items)


def test_jetstream_unreachable_is_retried_and_the_stream_is_opt_in(server: ReplayServer) -> None:
    source = connector(
        server,
        searches=["clameur"],
        mentions=False,
        stream=True,
        jetstream_url="ws://127.0.0.1:9/subscribe",
    )

    with pytest.raises(RetryableError, match="Jetstream could not be reached"):
        list(source.stream(None, threading.Event()))
    assert source.stream_enabled()
    assert not connector(server, searches=["clameur"]).stream_enabled()
    assert (
        BlueskyConfig(
            handle="a.bsky.social",
            app_password="x",
            jetstream_url="jetstream1.us-west.bsky.network",
        ).jetstream_url
        == "wss://jetstream1.us-west.bsky.network/subscribe"
    )


# --- publications with images -----------------------------------------------------------------

UPLOAD = "/xrpc/com.atproto.repo.uploadBlob"
PUT = "/xrpc/com.atproto.repo.putRecord"


def blob(link: str) -> Answer:
    """The documented uploadBlob answer for another blob."""
    answer = payload("bluesky_upload_blob.json")
    answer["blob"]["ref"]["$link"] = link
    return Answer(body=answer)


def with_images(server: ReplayServer, urls: tuple[str, ...], key: str) -> OutgoingPost:
    server.add("POST", SESSION, body=session())
    created = datetime(2024, 10, 15, 11, 0, tzinfo=UTC)
    return OutgoingPost("Our winter menu.", key, created_at=created, media_urls=urls)


def written(server: ReplayServer, key: str) -> Answer:
    rkey = record_key(key, datetime(2024, 10, 15, 11, 0, tzinfo=UTC))
    return Answer(body={"uri": f"at://{BRAND_DID}/app.bsky.feed.post/{rkey}", "cid": "bafypost"})


def test_bluesky_publishes_images_as_uploaded_blobs_embedded_in_the_record(
    server: ReplayServer,
) -> None:
    for name in ("a.png", "b.png", "c.png"):
        server.add("GET", f"/cdn/{name}", image())
    urls = tuple(f"{server.url}/cdn/{name}" for name in ("a.png", "b.png", "c.png"))
    post = with_images(server, urls, "publication-img")
    server.add("POST", UPLOAD, blob("bafkreia"), blob("bafkreib"), blob("bafkreic"))
    server.add("POST", PUT, written(server, "publication-img"))

    connector(server).publish(post)

    uploads = server.seen("POST", UPLOAD)
    assert [seen.body for seen in uploads] == [PNG, PNG, PNG]
    assert {seen.headers["content-type"] for seen in uploads} == {"image/png"}
    embed = server.seen("POST", PUT)[0].json()["record"]["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [item["image"]["ref"]["$link"] for item in embed["images"]] == [
        "bafkreia",
        "bafkreib",
        "bafkreic",
    ]
    assert {item["alt"] for item in embed["images"]} == {""}
    assert embed["images"][0]["image"]["mimeType"] == "image/png"


def test_bluesky_publishes_one_image(server: ReplayServer) -> None:
    server.add("GET", "/cdn/menu.png", image())
    post = with_images(server, (f"{server.url}/cdn/menu.png",), "publication-one")
    server.add("POST", UPLOAD, blob("bafkreione"))
    server.add("POST", PUT, written(server, "publication-one"))

    connector(server).publish(post)

    [item] = server.seen("POST", PUT)[0].json()["record"]["embed"]["images"]
    assert item["image"]["ref"]["$link"] == "bafkreione"


def test_bluesky_image_address_missing_or_a_page_is_refused_before_writing(
    server: ReplayServer,
) -> None:
    server.add("GET", "/gallery", Answer(raw=b"<html></html>", content_type="text/html"))

    with pytest.raises(PermanentError, match=r"/cdn/gone\.png cannot be attached.*HTTP 404"):
        connector(server).publish(with_images(server, (f"{server.url}/cdn/gone.png",), "k-404"))
    with pytest.raises(PermanentError, match=r"/gallery is not an image.*text/html"):
        connector(server).publish(with_images(server, (f"{server.url}/gallery",), "k-html"))

    assert server.seen("POST", UPLOAD) == [] and server.seen("POST", PUT) == []


def test_bluesky_image_over_1_mb_is_refused_naming_the_limit(server: ReplayServer) -> None:
    server.add("GET", "/cdn/big.jpg", image(bytes(1_000_001), "image/jpeg"))

    with pytest.raises(
        PermanentError, match=r"big\.jpg is too big.*Bluesky takes images up to 1 MB"
    ):
        connector(server).publish(with_images(server, (f"{server.url}/cdn/big.jpg",), "k-big"))

    assert server.seen("POST", UPLOAD) == []


def test_bluesky_refuses_a_fifth_image(server: ReplayServer) -> None:
    urls = tuple(f"{server.url}/cdn/{n}.png" for n in range(5))

    with pytest.raises(PermanentError, match="Bluesky attaches at most 4 images"):
        connector(server).publish(with_images(server, urls, "k-five"))

    assert server.seen("GET", "/cdn/0.png") == []


def test_bluesky_retry_after_the_upload_rewrites_the_same_record(server: ReplayServer) -> None:
    server.add("GET", "/cdn/menu.png", image())
    post = with_images(server, (f"{server.url}/cdn/menu.png",), "publication-retry")
    server.add("POST", UPLOAD, blob("bafkreimenu"))
    server.add(
        "POST",
        PUT,
        # An outage outlasting the retries in place; the outbox tries again later.
        *[Answer(503, {"error": "InternalServerError", "message": "Internal Server Error"})] * 3,
        written(server, "publication-retry"),
    )

    with pytest.raises(RetryableError):
        connector(server).publish(post)
    published = connector(server).publish(post)

    writes = [seen.json() for seen in server.seen("POST", PUT)]
    assert len(writes) == 4 and all(write == writes[0] for write in writes)
    assert writes[0]["rkey"] == record_key(
        "publication-retry", datetime(2024, 10, 15, 11, 0, tzinfo=UTC)
    )
    assert len(server.seen("POST", UPLOAD)) == 2
    assert published.external_id.endswith(writes[0]["rkey"])


def test_bluesky_sends_each_images_description_as_its_alt_text(server: ReplayServer) -> None:
    # https://docs.bsky.app/docs/advanced-guides/posts#images-embeds: `alt` on each image.
    for name in ("a.png", "b.png", "c.png"):
        server.add("GET", f"/cdn/{name}", image())
    urls = tuple(f"{server.url}/cdn/{name}" for name in ("a.png", "b.png", "c.png"))
    post = with_images(server, urls, "publication-alt")
    described = OutgoingPost(
        post.text,
        post.idempotency_key,
        created_at=post.created_at,
        media_urls=urls,
        # The second image has no description; the third none written either (shorter list).
        media_alts=("Soup of the day: pumpkin.", ""),
    )
    server.add("POST", UPLOAD, blob("bafkreia"), blob("bafkreib"), blob("bafkreic"))
    server.add("POST", PUT, written(server, "publication-alt"))

    connector(server).publish(described)

    embed = server.seen("POST", PUT)[0].json()["record"]["embed"]
    assert [item["alt"] for item in embed["images"]] == ["Soup of the day: pumpkin.", "", ""]
    assert [item["image"]["ref"]["$link"] for item in embed["images"]] == [
        "bafkreia",
        "bafkreib",
        "bafkreic",
    ]
