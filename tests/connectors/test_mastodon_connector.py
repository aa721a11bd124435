"""The Mastodon connector against a replay of the documented API (docs.joinmastodon.org)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
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
