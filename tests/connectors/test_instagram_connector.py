"""The Instagram connector against a replay of the documented Graph API
(developers.facebook.com/docs/instagram-platform; payloads/README.md names each page)."""

from __future__ import annotations

import hashlib
import hmac
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
    WebhookRejected,
    WebhookRequest,
)
from clameur.connectors.instagram import InstagramConfig, InstagramConnector
from clameur.connectors.instagram.connector import mention_id, parse_mention

IG_USER = "17841405822304914"
APP_SECRET = "6f1c2a9be0d84f53a7c1e2d3b4a59687"
MEDIA = "17895695668004550"
# Someone else's media that mentions the account, and a comment on it that does.
TAGGED = "17918195224117851"
MENTIONING = "17894227972186120"
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


def test_publish_sends_the_images_description_as_alt_text(server: ReplayServer) -> None:
    # https://developers.facebook.com/docs/instagram-platform/content-publishing: `alt_text`
    # on image containers (added March 24, 2025).
    server.add("GET", f"{V}/{IG_USER}/media", body={"data": []})
    server.add("POST", f"{V}/{IG_USER}/media", body={"id": "17889615691921648"})
    server.add("GET", f"{V}/17889615691921648", body={"status_code": "FINISHED"})
    server.add("POST", f"{V}/{IG_USER}/media_publish", body={"id": "17920238422030506"})
    server.add("GET", f"{V}/17920238422030506", body={"id": "17920238422030506"})
    alt = "A cup of the winter blend on a wooden table, cinnamon sticks beside it."

    connector(server).publish(
        OutgoingPost(
            "Winter blend is here.",
            "key-alt",
            media_urls=("https://cdn.clameur.example/winter.jpg",),
            media_alts=(alt,),
        )
    )

    container = server.seen("POST", f"{V}/{IG_USER}/media")[0].form()
    assert container["alt_text"] == [alt]
    assert container["image_url"] == ["https://cdn.clameur.example/winter.jpg"]


def test_publish_without_a_description_sends_no_alt_text(server: ReplayServer) -> None:
    server.add("GET", f"{V}/{IG_USER}/media", body={"data": []})
    server.add("POST", f"{V}/{IG_USER}/media", body={"id": "17889615691921648"})
    server.add("GET", f"{V}/17889615691921648", body={"status_code": "FINISHED"})
    server.add("POST", f"{V}/{IG_USER}/media_publish", body={"id": "17920238422030506"})
    server.add("GET", f"{V}/17920238422030506", body={"id": "17920238422030506"})

    connector(server).publish(
        OutgoingPost(
            "Winter blend.",
            "key-noalt",
            media_urls=("https://cdn.clameur.example/winter.jpg",),
            media_alts=("",),
        )
    )

    container = server.seen("POST", f"{V}/{IG_USER}/media")[0].form()
    assert "alt_text" not in container


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

    assert [(p.id, p.event) for p in posts] == [(f"mention:{TAGGED}:{MENTIONING}", "mention")]
    mention = posts[0]
    assert mention.text == "@clameurcoffee best flat white in town"
    assert mention.in_reply_to == f"mention:{TAGGED}"
    assert mention.conversation_id == f"mention:{TAGGED}"
    assert mention.url == "https://www.instagram.com/p/BxbDz1ZhrtE/"
    assert mention.author is not None and mention.author.handle == "ines.p"
    assert mention.delivery == {"media_id": TAGGED, "comment_id": MENTIONING}
    fields = server.seen("GET", f"{V}/{IG_USER}")[0].query["fields"][0]
    assert fields.startswith(f"mentioned_comment.comment_id({MENTIONING})")


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


def test_instagram_expired_token_is_an_auth_error(server: ReplayServer) -> None:
    # Code 190, subcode 463 (https://developers.facebook.com/docs/graph-api/guides/error-handling).
    server.add(
        "GET", f"{V}/{IG_USER}/tags", status=400, body=payload("facebook/error_token_expired.json")
    )

    with pytest.raises(AuthError, match="#190.*Session has expired.*Connect the account again"):
        connector(server).listen(ListenSource("tags"), None)


def test_instagram_missing_permission_is_an_auth_error_naming_app_review(
    server: ReplayServer,
) -> None:
    server.add(
        "POST",
        f"{V}/17870913679156914/replies",
        status=403,
        body=payload("instagram/error_permission.json"),
    )
    server.add("GET", f"{V}/17870913679156914", body={"id": "17870913679156914"})
    server.add("GET", f"{V}/17870913679156914/replies", body={"data": []})

    with pytest.raises(AuthError, match=r"lacks a permission \(#10.*app review"):
        connector(server).reply(
            OutgoingPost("Decaf arrives Monday.", "key-1", in_reply_to="17870913679156914")
        )

    assert len(server.seen("POST", f"{V}/17870913679156914/replies")) == 1


def test_instagram_outage_is_retried_in_place(server: ReplayServer) -> None:
    server.add(
        "GET",
        f"{V}/{IG_USER}/tags",
        Answer(503, raw=b"Service Unavailable", content_type="text/plain"),
        Answer(200, payload("instagram/user_media.json")),
    )
    waits: list[float] = []

    result = connector(server, waits).listen(ListenSource("tags"), None)

    assert len(result.posts) == 2 and len(waits) == 1


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


# --- Mentions on other people's media ------------------------------------------------------

ACCOUNT = f"{V}/{IG_USER}"
MENTIONS = f"{V}/{IG_USER}/mentions"


def caption_mention() -> dict[str, Any]:
    """The documented mentions change for a caption: a media id, no comment id."""
    delivery = payload("instagram/webhook_mentions.json")
    del delivery["entry"][0]["changes"][0]["value"]["comment_id"]
    return delivery


def answers(edge: str, *items: dict[str, Any]) -> dict[str, Any]:
    """The account's node with the comments (or replies) of a mention expanded."""
    field = "comments" if edge == "mentioned_media" else "replies"
    ids = {"mentioned_media": TAGGED, "mentioned_comment": MENTIONING}
    return {edge: {"id": ids[edge], field: {"data": list(items)}}, "id": IG_USER}


def mine(text: str, comment_id: str = "17846319838228163") -> dict[str, Any]:
    return {"id": comment_id, "text": text, "username": "clameurcoffee"}


def test_mention_ids_name_the_media_and_the_comment() -> None:
    assert mention_id(TAGGED) == f"mention:{TAGGED}"
    assert parse_mention(mention_id(TAGGED, MENTIONING)) == (TAGGED, MENTIONING)
    assert parse_mention(f"mention:{TAGGED}") == (TAGGED, None)
    assert parse_mention(TAGGED) is None
    assert parse_mention("mention:") is None and parse_mention("mention:abc") is None
    assert parse_mention(f"mention:{TAGGED}:x1") is None


def test_signed_comment_mention_becomes_a_post_answered_through_the_mentions_edge(
    server: ReplayServer,
) -> None:
    server.add(
        "GET",
        ACCOUNT,
        Answer(200, payload("instagram/mentioned_comment.json")),
        # Before writing: the account's replies to the comment, none yet.
        Answer(200, answers("mentioned_comment")),
    )
    server.add("POST", MENTIONS, body=payload("instagram/mentions_reply.json"))
    instagram = connector(server)

    [pushed] = instagram.webhook_events(signed(payload("instagram/webhook_mentions.json")))
    published = instagram.reply(
        OutgoingPost("Thank you Ines, see you soon!", "key-m1", in_reply_to=pushed.id)
    )

    assert published.external_id == "17846319838228163" and published.replayed is False
    [sent] = server.seen("POST", MENTIONS)
    assert sent.form() == {
        "media_id": [TAGGED],
        "comment_id": [MENTIONING],
        "message": ["Thank you Ines, see you soon!"],
    }
    looked = server.seen("GET", ACCOUNT)[1].query["fields"][0]
    assert looked.startswith(f"mentioned_comment.comment_id({MENTIONING}){{id,replies")
    # Nothing is written under the media itself: it is not the account's.
    assert server.seen("POST", f"{V}/{TAGGED}/comments") == []


def test_signed_caption_mention_is_the_media_and_its_answer_a_comment_on_it(
    server: ReplayServer,
) -> None:
    server.add(
        "GET",
        ACCOUNT,
        Answer(200, payload("instagram/mentioned_media.json")),
        Answer(200, answers("mentioned_media", {"id": "1", "text": "so good", "username": "x"})),
    )
    server.add("POST", MENTIONS, body=payload("instagram/mentions_reply.json"))
    instagram = connector(server)

    [pushed] = instagram.webhook_events(signed(caption_mention()))
    instagram.reply(OutgoingPost("Thanks Lucas!", "key-m2", in_reply_to=pushed.id))

    assert (pushed.id, pushed.event) == (f"mention:{TAGGED}", "mention")
    assert pushed.in_reply_to is None and pushed.conversation_id == f"mention:{TAGGED}"
    assert pushed.text == "Best flat white in Lyon, thanks clameurcoffee"
    assert pushed.author is not None and pushed.author.handle == "lucas_b"
    read = server.seen("GET", ACCOUNT)[0].query["fields"][0]
    assert read.startswith(f"mentioned_media.media_id({TAGGED}){{id,caption,timestamp")
    assert server.seen("POST", MENTIONS)[0].form() == {
        "media_id": [TAGGED],
        "message": ["Thanks Lucas!"],
    }


def test_reply_to_a_mention_already_there_is_not_written_twice(server: ReplayServer) -> None:
    # Meta shows the account's text without the @ of its mentions.
    server.add(
        "GET", ACCOUNT, body=answers("mentioned_media", mine("Thanks lucas_b, see you soon"))
    )

    published = connector(server).reply(
        OutgoingPost("Thanks @lucas_b, see you soon", "key-m3", in_reply_to=f"mention:{TAGGED}")
    )

    assert published.replayed is True and published.external_id == "17846319838228163"
    assert server.seen("POST", MENTIONS) == []


def test_reply_to_a_mention_after_an_uncertain_failure_is_found_not_sent_twice(
    server: ReplayServer,
) -> None:
    server.add(
        "GET",
        ACCOUNT,
        Answer(200, answers("mentioned_comment")),
        Answer(200, answers("mentioned_comment", mine("Thank you Ines!"))),
    )
    server.add(
        "POST",
        MENTIONS,
        Answer(500, {"error": {"message": "An unexpected error has occurred.", "code": 2}}),
    )
    waits: list[float] = []

    published = connector(server, waits).reply(
        OutgoingPost("Thank you Ines!", "key-m4", in_reply_to=mention_id(TAGGED, MENTIONING))
    )

    assert published.replayed is True and published.external_id == "17846319838228163"
    assert len(server.seen("POST", MENTIONS)) == 1 and len(waits) == 1


def test_reply_to_a_mention_is_written_when_meta_refuses_to_list_the_replies(
    server: ReplayServer,
) -> None:
    refused = {
        "error": {
            "message": "(#100) Tried accessing nonexisting field (replies)",
            "type": "OAuthException",
            "code": 100,
        }
    }
    server.add("GET", ACCOUNT, status=400, body=refused)
    server.add("POST", MENTIONS, body=payload("instagram/mentions_reply.json"))

    published = connector(server).reply(
        OutgoingPost("Thank you!", "key-m5", in_reply_to=mention_id(TAGGED, MENTIONING))
    )

    assert published.external_id == "17846319838228163"
    assert len(server.seen("POST", MENTIONS)) == 1


def test_reply_to_a_mention_throttled_by_meta_waits_without_writing(
    server: ReplayServer,
) -> None:
    usage = {
        IG_USER: [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 7}]
    }
    server.add("GET", ACCOUNT, body=answers("mentioned_media"))
    server.add(
        "POST",
        MENTIONS,
        status=400,
        body={"error": {"message": "Too many calls", "type": "OAuthException", "code": 80002}},
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )

    with pytest.raises(RateLimited, match="#80002") as caught:
        connector(server).reply(OutgoingPost("Thanks!", "key-m6", in_reply_to=f"mention:{TAGGED}"))

    assert 410 < caught.value.delay <= 420
    # A throttled write was refused before anything was written: no second look.
    assert len(server.seen("GET", ACCOUNT)) == 1 and len(server.seen("POST", MENTIONS)) == 1


def test_mention_read_rate_limited_by_http_429_waits_the_time_given(server: ReplayServer) -> None:
    server.add("GET", ACCOUNT, status=429, body={}, headers={"Retry-After": "300"})

    with pytest.raises(RateLimited) as caught:
        connector(server).webhook_events(signed(payload("instagram/webhook_mentions.json")))

    assert 290 < caught.value.delay <= 300


def test_mention_read_with_a_refused_token_is_an_auth_error(server: ReplayServer) -> None:
    server.add("GET", ACCOUNT, status=401, body=payload("facebook/error_token_expired.json"))

    with pytest.raises(AuthError, match="expired or was revoked"):
        connector(server).webhook_events(signed(payload("instagram/webhook_mentions.json")))


def test_mention_answer_without_the_comment_is_a_permanent_error_naming_it(
    server: ReplayServer,
) -> None:
    server.add("GET", ACCOUNT, body={"id": IG_USER})

    with pytest.raises(PermanentError, match="malformed mentioned_comment .*'mentioned_comment'"):
        connector(server).webhook_events(signed(payload("instagram/webhook_mentions.json")))


def test_mentioned_comment_without_a_time_is_a_permanent_error_naming_it(
    server: ReplayServer,
) -> None:
    answer = payload("instagram/mentioned_comment.json")
    del answer["mentioned_comment"]["timestamp"]
    server.add("GET", ACCOUNT, body=answer)

    with pytest.raises(PermanentError, match=f"malformed comment {MENTIONING}: .*'timestamp'"):
        connector(server).webhook_events(signed(payload("instagram/webhook_mentions.json")))


def test_mentions_answer_without_an_id_is_a_permanent_error(server: ReplayServer) -> None:
    server.add("GET", ACCOUNT, body=answers("mentioned_media"))
    server.add("POST", MENTIONS, body={"success": True})

    with pytest.raises(PermanentError, match="malformed reply to a mention: it has no 'id'"):
        connector(server).reply(OutgoingPost("Thanks!", "key-m7", in_reply_to=f"mention:{TAGGED}"))


def test_mention_of_the_account_by_itself_is_left_out(server: ReplayServer) -> None:
    own = payload("instagram/mentioned_comment.json")
    own["mentioned_comment"]["username"] = "clameurcoffee"
    server.add("GET", ACCOUNT, body=own)

    assert (
        connector(server).webhook_events(signed(payload("instagram/webhook_mentions.json"))) == []
    )


def test_conversation_of_a_comment_mention_is_what_the_account_may_read(
    server: ReplayServer,
) -> None:
    not_mentioned = {
        "error": {
            "message": "(#100) Invalid mentioned_media",
            "type": "OAuthException",
            "code": 100,
        }
    }
    server.add(
        "GET",
        ACCOUNT,
        Answer(400, not_mentioned),
        Answer(200, payload("instagram/mentioned_comment.json")),
    )

    thread = connector(server).conversation(mention_id(TAGGED, MENTIONING))

    # The caption does not mention the account: only the comment can be read.
    assert [p.id for p in thread] == [mention_id(TAGGED, MENTIONING)]


def test_conversation_of_a_caption_mention_is_the_media(server: ReplayServer) -> None:
    server.add("GET", ACCOUNT, body=payload("instagram/mentioned_media.json"))

    thread = connector(server).conversation(f"mention:{TAGGED}")

    assert [(p.id, p.author.handle if p.author else None) for p in thread] == [
        (f"mention:{TAGGED}", "lucas_b")
    ]


def test_tagged_media_sweep_pages_back_to_the_checkpoint_then_stops(
    server: ReplayServer,
) -> None:
    def tagged(*items: tuple[str, str], after: str | None = None) -> dict[str, Any]:
        page: dict[str, Any] = {
            "data": [
                {**payload("instagram/user_media.json")["data"][0], "id": i, "timestamp": t}
                for i, t in items
            ],
            "paging": {"cursors": {"before": "b", "after": after or "end"}},
        }
        if after:
            page["paging"]["next"] = (
                f"https://graph.facebook.com/v21.0/{IG_USER}/tags?after={after}"
            )
        return page

    tags = f"{V}/{IG_USER}/tags"
    server.add(
        "GET",
        tags,
        body=tagged(
            ("4", "2019-05-20T10:00:00+0000"), ("3", "2019-05-19T10:00:00+0000"), after="page2"
        ),
    )
    server.add(
        "GET",
        tags,
        body=tagged(
            ("2", "2019-05-18T10:00:00+0000"), ("1", "2019-05-10T10:00:00+0000"), after="page3"
        ),
        query={"after": "page2"},
    )
    checkpoint = {"since": "2019-05-15T00:00:00+00:00", "cursor": None, "high": None, "seen": {}}

    first = connector(server).listen(ListenSource("tags"), checkpoint, limit=2)
    second = connector(server).listen(ListenSource("tags"), first.checkpoint, limit=2)

    assert [p.id for p in first.posts] == ["3", "4"] and first.more is True
    assert first.checkpoint["cursor"] == "page2"
    # Media 1 is older than the checkpoint: the sweep ends there, without page 3.
    assert [p.id for p in second.posts] == ["2"] and second.more is False
    assert second.checkpoint["since"] == "2019-05-20T10:00:00+00:00"
    assert [r.query.get("after") for r in server.seen("GET", tags)] == [None, ["page2"]]


def test_tagged_media_page_without_data_is_a_permanent_error(server: ReplayServer) -> None:
    server.add("GET", f"{V}/{IG_USER}/tags", body={"paging": {}})

    with pytest.raises(PermanentError, match="malformed tagged media: it has no list of 'data'"):
        connector(server).listen(ListenSource("tags"), None)
