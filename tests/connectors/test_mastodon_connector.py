"""The Mastodon connector against a replay of the documented API (docs.joinmastodon.org)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
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
from clameur.connectors.mastodon import MastodonConfig, MastodonConnector
from clameur.connectors.mastodon.oauth import (
    authorization_request,
    code_challenge,
    exchange_code,
    register_app,
)

TAG = "/api/v1/timelines/tag/clameur"


def status(status_id: int, **overrides: Any) -> dict[str, Any]:
    """The documented Status example with another id (and any field changed)."""
    entity = payload("mastodon_status.json")
    entity["id"] = str(status_id)
    entity["content"] = f"<p>post number {status_id} about #clameur</p>"
    entity["url"] = f"https://mastodon.social/@Gargron/{status_id}"
    entity.update(overrides)
    return entity


def connector(
    server: ReplayServer, waits: list[float] | None = None, **config: Any
) -> MastodonConnector:
    settings = MastodonConfig(
        instance_url=server.url, access_token="token-abcdefghijklmnop", **config
    )
    return MastodonConnector(settings, timeout=5, sleep=(waits if waits is not None else []).append)


def test_mastodon_hashtag_listen_resumes_from_its_checkpoint_without_duplicates(
    server: ReplayServer,
) -> None:
    server.add("GET", TAG, body=[status(3), status(2)])
    server.add("GET", TAG, body=[status(5), status(4)], query={"min_id": "3"})
    server.add("GET", TAG, body=[], query={"min_id": "5"})
    source = ListenSource("hashtag", "clameur")

    first = connector(server).listen(source, None)
    # A new connector, as after a restart, given the stored checkpoint.
    second = connector(server).listen(source, first.checkpoint)
    third = connector(server).listen(source, second.checkpoint)

    assert [p.id for p in first.posts] == ["2", "3"]
    assert first.checkpoint == {"since_id": "3"}
    assert [p.id for p in second.posts] == ["4", "5"]
    assert second.checkpoint == {"since_id": "5"}
    assert third.posts == [] and third.checkpoint == {"since_id": "5"}
    assert server.seen("GET", TAG)[1].query["min_id"] == ["3"]


def test_mastodon_full_page_says_more_is_waiting(server: ReplayServer) -> None:
    server.add("GET", TAG, body=[status(12), status(11)], query={"min_id": "10"})

    result = connector(server).listen(ListenSource("hashtag", "clameur"), {"since_id": "10"}, 2)

    assert result.more is True
    assert server.seen("GET", TAG)[0].query["limit"] == ["2"]


def test_mastodon_status_becomes_a_post_with_plain_text_and_global_handle(
    server: ReplayServer,
) -> None:
    post = connector(server).to_post(payload("mastodon_status.json"))

    assert post.text.startswith('"I lost my inheritance with one wrong digit on my sort code"\n')
    assert "<" not in post.text
    assert post.author is not None
    assert post.author.handle == f"Gargron@{urlsplit(server.url).netloc}"
    assert post.author.followers == 322930
    assert post.created_at == datetime(2019, 12, 8, 3, 48, 33, 901000, tzinfo=UTC)
    assert post.metrics == {"replies": 5, "reblogs": 6, "favourites": 11}


def test_mastodon_mentions_come_from_notifications_with_their_own_checkpoint(
    server: ReplayServer,
) -> None:
    mention = payload("mastodon_notification_mention.json")
    deleted = {**payload("mastodon_notification_mention.json"), "id": "34975870", "status": None}
    server.add("GET", "/api/v1/notifications", body=[deleted, mention], query={"min_id": "3"})

    result = connector(server).listen(ListenSource("mentions"), {"since_id": "3"})

    assert [p.id for p in result.posts] == ["103186126728896492"]
    assert result.posts[0].in_reply_to == "103186038209478945"
    assert result.posts[0].text == "@trwnh sup!"
    assert result.checkpoint == {"since_id": "34975870"}
    assert server.seen("GET", "/api/v1/notifications")[0].query["types[]"] == ["mention"]


def test_mastodon_rate_limit_raises_with_the_reset_time_the_server_gave(
    server: ReplayServer,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    reset = now + timedelta(minutes=4)
    server.add(
        "GET",
        TAG,
        status=429,
        body={"error": "Too many requests"},
        headers={
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.isoformat().replace("+00:00", ".000Z"),
            "Date": format_datetime(now, usegmt=True),
        },
    )

    with pytest.raises(RateLimited) as caught:
        connector(server).listen(ListenSource("hashtag", "clameur"), None)

    assert caught.value.retry_at is not None
    assert abs((caught.value.retry_at - reset).total_seconds()) < 2
    assert 230 < caught.value.delay <= 240


def test_mastodon_revoked_token_is_an_auth_error(server: ReplayServer) -> None:
    server.add("GET", TAG, status=401, body={"error": "The access token is invalid"})

    with pytest.raises(AuthError, match="refused the access token.*Connect the Mastodon account"):
        connector(server).listen(ListenSource("hashtag", "clameur"), None)


# 403 bodies as https://docs.joinmastodon.org/entities/Error/ lists them ("Possible reasons").


def test_mastodon_action_not_allowed_is_a_permanent_error_for_that_reply_only(
    server: ReplayServer,
) -> None:
    # The author blocks the account: this reply is refused, the token is fine.
    server.add("POST", "/api/v1/statuses", status=403, body={"error": "This action is not allowed"})

    with pytest.raises(PermanentError, match="HTTP 403: .*This action is not allowed") as caught:
        connector(server).reply(
            OutgoingPost("Thanks!", "key-403", in_reply_to="103186126728896492")
        )

    assert not isinstance(caught.value, AuthError)
    assert len(server.seen("POST", "/api/v1/statuses")) == 1


def test_mastodon_token_without_the_scope_is_an_auth_error_naming_the_scopes(
    server: ReplayServer,
) -> None:
    server.add(
        "POST",
        "/api/v1/statuses",
        status=403,
        body={"error": "This action is outside the authorized scopes"},
    )

    with pytest.raises(AuthError, match="lacks a permission.*read, write:statuses"):
        connector(server).publish(OutgoingPost("Hello", "key-scope"))


@pytest.mark.parametrize(
    "said",
    [
        "Your login is currently disabled",
        "Your login is missing a confirmed e-mail address",
        "Your login is currently pending approval",
    ],
)
def test_mastodon_account_held_by_its_server_is_an_auth_error_saying_what_to_do(
    server: ReplayServer, said: str
) -> None:
    server.add("GET", TAG, status=403, body={"error": said})

    with pytest.raises(AuthError, match=f"refused the account .*{said}.*Sign in on"):
        connector(server).listen(ListenSource("hashtag", "clameur"), None)


def test_mastodon_outage_is_retried_with_back_off(server: ReplayServer) -> None:
    server.add("GET", TAG, Answer(503, {"error": "down"}), Answer(200, [status(7)]))
    waits: list[float] = []

    result = connector(server, waits).listen(ListenSource("hashtag", "clameur"), None)

    assert [p.id for p in result.posts] == ["7"]
    assert len(waits) == 1 and 0 < waits[0] <= 1


def test_mastodon_reply_sends_the_idempotency_key_and_returns_the_status_id(
    server: ReplayServer,
) -> None:
    published = status(103270115826049000, in_reply_to_id="103186126728896492")
    server.add("POST", "/api/v1/statuses", body=published)

    result = connector(server).reply(
        OutgoingPost("Thanks, we are on it.", "key-123", in_reply_to="103186126728896492")
    )

    sent = server.seen("POST", "/api/v1/statuses")[0]
    assert sent.headers["idempotency-key"] == "key-123"
    assert sent.form()["in_reply_to_id"] == ["103186126728896492"]
    assert sent.form()["status"] == ["Thanks, we are on it."]
    assert sent.headers["authorization"] == "Bearer token-abcdefghijklmnop"
    assert result.external_id == "103270115826049000"
    assert result.url == "https://mastodon.social/@Gargron/103270115826049000"


def test_mastodon_status_without_account_is_a_permanent_error_naming_it(
    server: ReplayServer,
) -> None:
    broken = status(9)
    del broken["account"]
    server.add("GET", TAG, body=[broken])

    with pytest.raises(PermanentError, match="malformed status.*'account'"):
        connector(server).listen(ListenSource("hashtag", "clameur"), None)


def test_mastodon_answer_that_is_not_json_is_a_permanent_error(server: ReplayServer) -> None:
    server.add("GET", TAG, Answer(200, raw=b"<html>maintenance</html>", content_type="text/html"))

    with pytest.raises(PermanentError, match="malformed answer"):
        connector(server).listen(ListenSource("hashtag", "clameur"), None)


def test_mastodon_conversation_is_ancestors_then_status_then_replies(server: ReplayServer) -> None:
    server.add("GET", "/api/v1/statuses/20", body=status(20, in_reply_to_id="10"))
    server.add(
        "GET",
        "/api/v1/statuses/20/context",
        body={
            "ancestors": [status(10)],
            "descendants": [status(30, in_reply_to_id="20"), status(31, in_reply_to_id="30")],
        },
    )

    thread = connector(server).conversation("20")

    assert [p.id for p in thread] == ["10", "20", "30", "31"]
    assert thread[3].in_reply_to == "30"


def test_mastodon_connection_registers_the_app_and_exchanges_the_code_with_pkce(
    server: ReplayServer,
) -> None:
    server.add(
        "POST",
        "/api/v1/apps",
        body={
            "id": "563419",
            "name": "Clameur",
            "website": None,
            "redirect_uri": "https://clameur.example/accounts/mastodon/callback",
            "client_id": "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM",
            "client_secret": "ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw",
            "vapid_key": "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_OH5mMlI4Ukk",
        },
    )
    server.add(
        "POST",
        "/oauth/token",
        body={
            "access_token": "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0",
            "token_type": "Bearer",
            "scope": "read write:statuses",
            "created_at": 1573979017,
        },
    )
    redirect = "https://clameur.example/accounts/mastodon/callback"
    config = register_app(MastodonConfig(instance_url=server.url), redirect)
    request = authorization_request(config, redirect)
    query = parse_qs(urlsplit(request.url).query)

    connected = exchange_code(
        config, request, code="qDFUEaYrRK5c-HNmTCJbAzazwLRInJ7VHFat0wcMgCU", state=request.state
    )

    token_form = server.seen("POST", "/oauth/token")[0].form()
    assert config.client_id == "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM"
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [code_challenge(token_form["code_verifier"][0])]
    assert token_form["grant_type"] == ["authorization_code"]
    assert connected.access_token is not None
    assert (
        connected.access_token.get_secret_value() == "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0"
    )


def test_mastodon_callback_with_another_state_is_refused(server: ReplayServer) -> None:
    config = MastodonConfig(instance_url=server.url, client_id="id", client_secret="secret")
    request = authorization_request(config, "https://clameur.example/cb")

    with pytest.raises(AuthError, match="state differs"):
        exchange_code(config, request, code="abc", state="forged")
    assert server.requests == []


def test_mastodon_check_names_the_account(server: ReplayServer) -> None:
    server.add("GET", "/api/v1/accounts/verify_credentials", body=payload("mastodon_account.json"))

    identity = connector(server).check()

    assert identity.handle == f"trwnh@{urlsplit(server.url).netloc}"
    assert identity.external_id == "14715"


# --- live stream: server-sent events (https://docs.joinmastodon.org/methods/streaming/) ------


def sse(*events: tuple[str, Any] | str) -> bytes:
    """A server-sent event stream as Mastodon writes it: `event:` and `data:` lines, a blank
    line after each event, and ":thump" heartbeat comments."""
    out = []
    for event in events:
        if isinstance(event, str):
            out.append(f":{event}\n\n")
        else:
            name, data = event
            text = data if isinstance(data, str) else json.dumps(data)
            out.append(f"event: {name}\ndata: {text}\n\n")
    return "".join(out).encode()


def streamed(source: Any) -> list[Any]:
    """Every item of a stream until the server closes it."""
    return list(source.stream(None, threading.Event()))


def test_mastodon_stream_reads_hashtag_updates_between_heartbeats(server: ReplayServer) -> None:
    server.add(
        "GET",
        "/api/v2/instance",
        body={
            "domain": "mastodon.social",
            "configuration": {"urls": {"streaming": server.url.replace("http", "ws")}},
        },
    )
    reblog = status(12)
    reblog["reblog"] = status(11)
    server.add(
        "GET",
        "/api/v1/streaming/hashtag",
        Answer(
            raw=sse(
                "thump",
                ("update", status(10)),
                ("delete", "9"),
                ("update", reblog),
                "thump",
                ("status.update", status(8)),
                ("update", status(13)),
            ),
            content_type="text/event-stream",
        ),
        query={"tag": "clameur"},
    )
    source = connector(server, hashtags=["clameur"], mentions=False, stream=True)

    items = streamed(source)

    assert source.stream_enabled()
    assert [item.post.id for item in items if item.post] == ["10", "13"]
    assert items[0].post is None  # a keep-alive once connected
    assert all(item.checkpoint is None for item in items)  # Mastodon streams cannot resume
    assert server.seen("GET", "/api/v2/instance")  # where the server streams
    sent = server.seen("GET", "/api/v1/streaming/hashtag")[0]
    assert sent.headers["authorization"] == "Bearer token-abcdefghijklmnop"
    assert (
        items[1:]
        and items[-1].post is not None
        and items[-1].post.text.startswith("post number 13")
    )


def test_mastodon_stream_brings_mentions_and_skips_other_notifications(
    server: ReplayServer,
) -> None:
    favourite = payload("mastodon_notification_mention.json")
    favourite["type"] = "favourite"
    server.add(
        "GET",
        "/api/v1/streaming/user/notification",
        Answer(
            raw=sse(
                ("notification", favourite),
                ("notification", "{not json"),
                "thump",
                ("notification", payload("mastodon_notification_mention.json")),
            ),
            content_type="text/event-stream",
        ),
    )
    source = connector(server, mentions=True, stream=True)

    posts = [item.post for item in streamed(source) if item.post]

    # No streaming address from the instance (404 here): the server itself streams.
    assert [post.id for post in posts] == ["103186126728896492"]
    assert posts[0].author is not None and posts[0].author.handle == f"zsc@{source.host}"


def test_mastodon_stream_refusals_are_an_expired_token_or_a_rate_limit(
    server: ReplayServer,
) -> None:
    server.add(
        "GET",
        "/api/v1/streaming/user/notification",
        Answer(status=401, body={"error": "The access token is invalid"}),
        Answer(
            status=429,
            body={"error": "Too many requests"},
            headers={"X-RateLimit-Reset": "2099-01-01T00:00:00.000Z"},
        ),
    )
    source = connector(server, stream=True)

    with pytest.raises(AuthError, match="invalid"):
        streamed(source)
    with pytest.raises(RateLimited) as limited:
        streamed(source)
    assert limited.value.retry_at is not None and limited.value.retry_at.year == 2099


def test_mastodon_streams_only_when_turned_on_with_hashtags_or_mentions(
    server: ReplayServer,
) -> None:
    assert not connector(server, hashtags=["a"]).stream_enabled()
    assert not connector(server, searches=["a"], mentions=False, stream=True).stream_enabled()
    assert connector(server, hashtags=["a"], mentions=False, stream=True).stream_enabled()


# --- publications with images -----------------------------------------------------------------

STATUSES = "/api/v1/statuses"
MEDIA = "/api/v2/media"


def media(media_id: str, processed: bool = True) -> Answer:
    """The documented MediaAttachment with another id; 202 and no url while processing."""
    entity = payload("mastodon_media_attachment.json")
    entity["id"] = media_id
    if not processed:
        entity["url"] = None
    return Answer(status=200 if processed else 202, body=entity)


def image_server(server: ReplayServer, *names: str) -> tuple[str, ...]:
    server.add("GET", "/api/v1/instance/", body=payload("mastodon_instance.json"))
    for name in names:
        server.add("GET", f"/cdn/{name}", image())
    return tuple(f"{server.url}/cdn/{name}" for name in names)


def uploaded_files(server: ReplayServer) -> list[bytes]:
    return [seen.body for seen in server.seen("POST", MEDIA)]


def test_mastodon_publishes_an_image_uploaded_then_attached_by_its_id(
    server: ReplayServer,
) -> None:
    urls = image_server(server, "poster.png")
    server.add("POST", MEDIA, media("22345792"))
    server.add("POST", STATUSES, body=status(103270115826049001))

    published = connector(server).publish(OutgoingPost("Winter menu", "key-img", media_urls=urls))

    [upload] = server.seen("POST", MEDIA)
    assert upload.headers["content-type"].startswith("multipart/form-data")
    assert PNG in upload.body and b'filename="poster.png"' in upload.body
    assert b"Content-Type: image/png" in upload.body
    sent = server.seen("POST", STATUSES)[0]
    assert sent.form()["media_ids[]"] == ["22345792"]
    assert sent.headers["idempotency-key"] == "key-img"
    assert published.external_id == "103270115826049001"


def test_mastodon_uploads_each_image_with_its_description(server: ReplayServer) -> None:
    # https://docs.joinmastodon.org/methods/media/#v2: `description`, for accessibility.
    urls = image_server(server, "a.png", "b.png")
    server.add("POST", MEDIA, media("61"), media("62"))
    server.add("POST", STATUSES, body=status(103270115826049004))
    alt = "Chef Ana plating the winter soup, steam rising — « bon appétit »."

    connector(server).publish(
        OutgoingPost("Two dishes", "key-alt", media_urls=urls, media_alts=(alt, ""))
    )

    first, second = server.seen("POST", MEDIA)
    assert b'name="description"' in first.body and alt.encode() in first.body
    # No description written: none sent (Mastodon keeps it null).
    assert b'name="description"' not in second.body
    assert server.seen("POST", STATUSES)[0].form()["media_ids[]"] == ["61", "62"]


def test_mastodon_waits_for_images_the_server_is_still_processing(server: ReplayServer) -> None:
    urls = image_server(server, "a.png", "b.png", "c.png")
    server.add("POST", MEDIA, media("31", False), media("32"), media("33", False))
    server.add(
        "GET", "/api/v1/media/31", Answer(206, {**media("31").body, "url": None}), media("31")
    )
    server.add("GET", "/api/v1/media/33", media("33"))
    server.add("POST", STATUSES, body=status(103270115826049002))
    waits: list[float] = []

    connector(server, waits).publish(OutgoingPost("Three", "key-3img", media_urls=urls))

    assert len(uploaded_files(server)) == 3
    assert len(server.seen("GET", "/api/v1/media/31")) == 2
    assert len(server.seen("GET", "/api/v1/media/33")) == 1
    assert waits == [1.0, 1.0, 1.0]
    assert server.seen("POST", STATUSES)[0].form()["media_ids[]"] == ["31", "32", "33"]


def test_mastodon_image_still_processing_after_a_minute_is_retried_later(
    server: ReplayServer,
) -> None:
    urls = image_server(server, "slow.png")
    server.add("POST", MEDIA, media("41", False))
    server.add("GET", "/api/v1/media/41", Answer(206, {**media("41").body, "url": None}))

    with pytest.raises(RetryableError, match=r"still processing the image .*/cdn/slow\.png"):
        connector(server).publish(OutgoingPost("Slow", "key-slow", media_urls=urls))

    assert server.seen("POST", STATUSES) == []


def test_mastodon_refuses_a_fifth_image_before_downloading_any(server: ReplayServer) -> None:
    urls = image_server(server, *(f"{n}.png" for n in range(5)))

    with pytest.raises(PermanentError, match="Mastodon attaches at most 4 images"):
        connector(server).publish(OutgoingPost("Five", "key-5", media_urls=urls))

    assert server.requests == []


def test_mastodon_image_address_missing_or_a_page_is_refused_before_uploading(
    server: ReplayServer,
) -> None:
    image_server(server)
    server.add("GET", "/gallery", Answer(raw=b"<html></html>", content_type="text/html"))

    with pytest.raises(PermanentError, match=r"/cdn/gone\.png cannot be attached.*HTTP 404"):
        connector(server).publish(
            OutgoingPost("Gone", "key-404", media_urls=(f"{server.url}/cdn/gone.png",))
        )
    with pytest.raises(
        PermanentError, match=r"/gallery is not an image: its server sent text/html"
    ):
        connector(server).publish(
            OutgoingPost("Page", "key-html", media_urls=(f"{server.url}/gallery",))
        )

    assert uploaded_files(server) == [] and server.seen("POST", STATUSES) == []


def test_mastodon_image_over_16_mb_is_refused_naming_the_limit(server: ReplayServer) -> None:
    image_server(server)
    server.add("GET", "/cdn/huge.png", image(bytes(16_000_001)))

    with pytest.raises(PermanentError, match="too big.*Mastodon takes images up to 16 MB"):
        connector(server).publish(
            OutgoingPost("Huge", "key-huge", media_urls=(f"{server.url}/cdn/huge.png",))
        )

    assert uploaded_files(server) == []


def test_mastodon_retry_after_the_upload_keeps_the_idempotency_key_on_the_status(
    server: ReplayServer,
) -> None:
    urls = image_server(server, "poster.png")
    server.add("POST", MEDIA, media("51"), media("52"))
    # The first status is refused by an outage; the outbox tries again later.
    server.add(
        "POST",
        STATUSES,
        Answer(503, {"error": "down"}),
        Answer(503, {"error": "down"}),
        Answer(503, {"error": "down"}),
        Answer(body=status(103270115826049003)),
    )
    post = OutgoingPost("Poster", "key-retry", media_urls=urls)

    with pytest.raises(RetryableError):
        connector(server).publish(post)
    published = connector(server).publish(post)

    statuses = server.seen("POST", STATUSES)
    assert {seen.headers["idempotency-key"] for seen in statuses} == {"key-retry"}
    assert statuses[-1].form()["media_ids[]"] == ["52"]
    assert len(uploaded_files(server)) == 2
    assert published.external_id == "103270115826049003"


def test_mastodon_token_without_the_media_scope_is_an_auth_error_naming_it(
    server: ReplayServer,
) -> None:
    urls = image_server(server, "poster.png")
    server.add(
        "POST", MEDIA, status=403, body={"error": "This action is outside the authorized scopes"}
    )

    with pytest.raises(AuthError, match="lacks a permission.*write:media"):
        connector(server).publish(OutgoingPost("Poster", "key-scope-media", media_urls=urls))

    assert server.seen("POST", STATUSES) == []


def test_mastodon_server_whose_instance_does_not_answer_is_retried_without_uploading(
    server: ReplayServer,
) -> None:
    server.add("GET", "/cdn/poster.png", image())
    server.add("GET", "/api/v1/instance/", status=503, body={"error": "down"})

    with pytest.raises(RetryableError, match="unavailable"):
        connector(server).publish(
            OutgoingPost("Poster", "key-down", media_urls=(f"{server.url}/cdn/poster.png",))
        )

    assert uploaded_files(server) == [] and server.seen("POST", STATUSES) == []
