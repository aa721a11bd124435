"""The Instagram connector against a replay of the documented Graph API
(developers.facebook.com/docs/instagram-platform; payloads/README.md names each page)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from connector_replay import ReplayServer, payload

from clameur.connectors.base import (
    AuthError,
    ListenSource,
    OutgoingPost,
    PermanentError,
    RateLimited,
    WebhookRejected,
    WebhookRequest,
)
from clameur.connectors.instagram import InstagramConfig, InstagramConnector

IG_USER = "17841405822304914"
APP_SECRET = "6f1c2a9be0d84f53a7c1e2d3b4a59687"
MEDIA = "17895695668004550"
V = "/v21.0"


def connector(server: ReplayServer, waits: list[float] | None = None) -> InstagramConnector:
    config = InstagramConfig(
        ig_user_id=IG_USER,
        access_token="EAAB-instagram-token-abcdefghijkl",
        app_secret=APP_SECRET,
        verify_token="verify-token-of-this-account",
        username="clameurcoffee",
        graph_url=server.url,
    )
    return InstagramConnector(config, timeout=5, sleep=(waits if waits is not None else []).append)


def recent_media(comments_count: int = 2) -> dict[str, Any]:
    """The documented media list, posted yesterday (inside the comment window)."""
    media = payload("instagram/user_media.json")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    for item in media["data"]:
        item["timestamp"] = yesterday
    media["data"][0]["comments_count"] = comments_count
    return media


def signed(delivered: dict[str, Any]) -> WebhookRequest:
    body = json.dumps(delivered).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return WebhookRequest("POST", {"X-Hub-Signature-256": signature}, {}, body)


def test_comments_are_read_again_only_where_the_count_moved(server: ReplayServer) -> None:
    server.add("GET", f"{V}/{IG_USER}/media", body=recent_media(comments_count=3))
    server.add("GET", f"{V}/{MEDIA}/comments", body=payload("instagram/media_comments.json"))
    source = ListenSource("comments")

    first = connector(server).listen(source, None)

    # The account's own reply is left out; oldest first.
    assert [p.id for p in first.posts] == ["17870913679156914", "17873440459141021"]
    assert first.posts[0].author is not None and first.posts[0].author.handle == "camille.m"
    assert first.posts[1].in_reply_to == MEDIA and first.posts[1].conversation_id == MEDIA
    assert first.checkpoint["counts"] == {MEDIA: 3}
    # The media without comments was not asked for its comments.
    assert server.seen("GET", f"{V}/17918195224117851/comments") == []

    comments = payload("instagram/media_comments.json")
    comments["data"].append(
        {
            "id": "17899506182112222",
            "text": "Same problem with mine.",
            "timestamp": "2019-05-17T19:02:00+0000",
            "username": "ines.p",
            "from": {"id": "17841400000000001", "username": "ines.p"},
        }
    )
    server.add("GET", f"{V}/{MEDIA}/comments", body=comments)
    server.add("GET", f"{V}/{IG_USER}/media", body=recent_media(comments_count=4))

    second = connector(server).listen(source, first.checkpoint)
    third = connector(server).listen(source, second.checkpoint)

    assert [p.id for p in second.posts] == ["17899506182112222"]
    assert third.posts == []
    # The count did not move for the third read: the comments were not fetched again.
    assert len(server.seen("GET", f"{V}/{MEDIA}/comments")) == 2


def test_tagged_media_are_posts_by_their_authors(server: ReplayServer) -> None:
    tagged = payload("instagram/user_media.json")
    tagged["data"][0].update(username="lucas_b", caption="Morning with @clameurcoffee")
    server.add("GET", f"{V}/{IG_USER}/tags", body=tagged)

    result = connector(server).listen(ListenSource("tags"), None)

    assert [p.id for p in result.posts] == ["17918195224117851", MEDIA]
    assert result.posts[1].text == "Morning with @clameurcoffee"
    assert result.posts[1].author is not None and result.posts[1].author.handle == "lucas_b"


def test_reply_to_a_reply_goes_under_the_top_level_comment(server: ReplayServer) -> None:
    server.add(
        "GET",
        f"{V}/17881770991003328",
        body={"id": "17881770991003328", "parent_id": "17870913679156914"},
    )
    server.add("GET", f"{V}/17870913679156914/replies", body={"data": []})
    server.add("POST", f"{V}/17870913679156914/replies", body={"id": "17912345678901234"})

    published = connector(server).reply(
        OutgoingPost("Decaf arrives Monday.", "key-1", in_reply_to="17881770991003328")
    )

    assert published.external_id == "17912345678901234"
    sent = server.seen("POST", f"{V}/17870913679156914/replies")[0]
    assert sent.form()["message"] == ["Decaf arrives Monday."]


def test_reply_already_written_by_the_account_is_not_written_twice(server: ReplayServer) -> None:
    server.add("GET", f"{V}/17873440459141021", body={"id": "17873440459141021"})
    server.add(
        "GET",
        f"{V}/17873440459141021/replies",
        body={
            "data": [
                {"id": "17912345678901234", "text": "Sorry! DM us.", "username": "clameurcoffee"}
            ]
        },
    )

    published = connector(server).reply(
        OutgoingPost("Sorry! DM us.", "key-2", in_reply_to="17873440459141021")
    )

    assert published.replayed is True and published.external_id == "17912345678901234"
    assert server.seen("POST", f"{V}/17873440459141021/replies") == []


def test_publish_makes_a_container_then_publishes_it(server: ReplayServer) -> None:
    server.add("GET", f"{V}/{IG_USER}/media", body={"data": []})
    server.add("POST", f"{V}/{IG_USER}/media", body={"id": "17889615691921648"})
    server.add(
        "GET", f"{V}/17889615691921648", body={"status_code": "FINISHED", "id": "17889615691921648"}
    )
    server.add("POST", f"{V}/{IG_USER}/media_publish", body={"id": "17920238422030506"})
    server.add(
        "GET",
        f"{V}/17920238422030506",
        body={"id": "17920238422030506", "permalink": "https://www.instagram.com/p/C1a2b3c4/"},
    )

    published = connector(server).publish(
        OutgoingPost(
            "Winter blend is here.",
            "key-3",
            media_urls=("https://cdn.clameur.example/winter.jpg",),
        )
    )

    assert published.external_id == "17920238422030506"
    assert published.url == "https://www.instagram.com/p/C1a2b3c4/"
    container = server.seen("POST", f"{V}/{IG_USER}/media")[0].form()
    assert container["image_url"] == ["https://cdn.clameur.example/winter.jpg"]
    assert container["caption"] == ["Winter blend is here."]
    publish = server.seen("POST", f"{V}/{IG_USER}/media_publish")[0].form()
    assert publish["creation_id"] == ["17889615691921648"]


def test_publish_without_an_image_says_instagram_needs_one(server: ReplayServer) -> None:
    with pytest.raises(PermanentError, match="cannot publish text alone"):
        connector(server).publish(OutgoingPost("Just words.", "key-4"))
    assert server.requests == []


def test_container_in_error_is_a_permanent_error(server: ReplayServer) -> None:
    server.add("GET", f"{V}/{IG_USER}/media", body={"data": []})
    server.add("POST", f"{V}/{IG_USER}/media", body={"id": "17889615691921648"})
    server.add("GET", f"{V}/17889615691921648", body={"status_code": "ERROR", "status": "2207026"})

    with pytest.raises(PermanentError, match="could not prepare the image.*2207026"):
        connector(server).publish(
            OutgoingPost("x", "key-5", media_urls=("https://cdn.clameur.example/a.jpg",))
        )
    assert server.seen("POST", f"{V}/{IG_USER}/media_publish") == []


def test_comment_webhook_becomes_a_comment_at_the_deliverys_time(server: ReplayServer) -> None:
    posts = connector(server).webhook_events(signed(payload("instagram/webhook_comments.json")))

    assert [p.id for p in posts] == ["17865799348089039"]
    comment = posts[0]
    assert comment.event == "comment" and comment.in_reply_to == MEDIA
    assert comment.created_at == datetime.fromtimestamp(1558118530, UTC)
    assert comment.author is not None and comment.author.handle == "lucas_b"
    assert server.requests == []


def test_mention_webhook_reads_the_mentioning_comment(server: ReplayServer) -> None:
    server.add("GET", f"{V}/{IG_USER}", body=payload("instagram/mentioned_comment.json"))

    posts = connector(server).webhook_events(signed(payload("instagram/webhook_mentions.json")))

    assert [(p.id, p.event) for p in posts] == [("17894227972186120", "mention")]
    assert posts[0].text == "@clameurcoffee best flat white in town"
    assert posts[0].conversation_id == "17918195224117851"
    fields = server.seen("GET", f"{V}/{IG_USER}")[0].query["fields"][0]
    assert fields.startswith("mentioned_comment.comment_id(17894227972186120)")


def test_instagram_delivery_with_a_wrong_signature_is_refused(server: ReplayServer) -> None:
    request = signed(payload("instagram/webhook_mentions.json"))
    forged = WebhookRequest("POST", request.headers, {}, request.body.replace(b"179", b"178"))

    with pytest.raises(WebhookRejected):
        connector(server).webhook_events(forged)
    assert server.requests == []


def test_instagram_handshake_answers_only_its_own_verify_token(server: ReplayServer) -> None:
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": "verify-token-of-this-account",
        "hub.challenge": "987654",
    }

    assert connector(server).webhook_handshake(WebhookRequest("GET", {}, good)).body == "987654"
    with pytest.raises(WebhookRejected):
        connector(server).webhook_handshake(
            WebhookRequest("GET", {}, {**good, "hub.verify_token": "verify-token-of-another"})
        )


def test_instagram_throttling_waits_the_time_meta_estimates(server: ReplayServer) -> None:
    usage = {
        IG_USER: [
            {
                "type": "instagram",
                "call_count": 100,
                "total_cputime": 3,
                "total_time": 4,
                "estimated_time_to_regain_access": 12,
            }
        ]
    }
    server.add(
        "GET",
        f"{V}/{IG_USER}/tags",
        status=400,
        body={
            "error": {
                "message": "There have been too many calls for this Instagram account.",
                "type": "OAuthException",
                "code": 80002,
            }
        },
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )

    with pytest.raises(RateLimited, match="#80002") as caught:
        connector(server).listen(ListenSource("tags"), None)
    assert 710 < caught.value.delay <= 720


def test_instagram_revoked_token_is_an_auth_error(server: ReplayServer) -> None:
    server.add(
        "GET", f"{V}/{IG_USER}", status=400, body=payload("facebook/error_token_expired.json")
    )

    with pytest.raises(AuthError, match="expired or was revoked"):
        connector(server).check()


def test_check_remembers_the_username_as_a_config_change(server: ReplayServer) -> None:
    server.add(
        "GET",
        f"{V}/{IG_USER}",
        body={**payload("instagram/account.json"), "username": "clameur.coffee"},
    )
    instagram = connector(server)

    identity = instagram.check()

    assert identity.handle == "clameur.coffee"
    updated = instagram.updated_config()
    assert updated is not None and updated.username == "clameur.coffee"
