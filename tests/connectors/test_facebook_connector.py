"""The Facebook Pages connector against a replay of the documented Graph API
(developers.facebook.com/docs/graph-api; payloads/README.md names each page)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from connector_replay import Answer, ReplayServer, image, payload

from clameur.connectors.base import (
    AuthError,
    ListenSource,
    OutgoingPost,
    PermanentError,
    RateLimited,
    RetryableError,
)
from clameur.connectors.facebook import FacebookConfig, FacebookConnector

PAGE_ID = "1353269864728879"
TOKEN = "EAAB-page-token-abcdefghijklmnop"
APP_SECRET = "6f1c2a9be0d84f53a7c1e2d3b4a59687"
FEED = f"/v21.0/{PAGE_ID}/feed"
POST_ID = f"{PAGE_ID}_2191966997525824"


def connector(server: ReplayServer, waits: list[float] | None = None) -> FacebookConnector:
    config = FacebookConfig(
        page_id=PAGE_ID,
        access_token=TOKEN,
        app_secret=APP_SECRET,
        verify_token="verify-token-of-this-page",
        graph_url=server.url,
    )
    return FacebookConnector(config, timeout=5, sleep=(waits if waits is not None else []).append)


def feed_post(local_id: str, created: str, message: str, **fields: Any) -> dict[str, Any]:
    """The documented feed item with another id, time and text."""
    post = payload("facebook/page_feed.json")["data"][1]
    post.update(
        id=f"{PAGE_ID}_{local_id}", created_time=created, updated_time=created, message=message
    )
    post.update(fields)
    return post


def page(items: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"data": items, "paging": {"cursors": {"before": "B", "after": "A"}}}
    if after:
        answer["paging"] = {
            "cursors": {"before": "B", "after": after},
            "next": f"https://graph.facebook.com/v21.0/{PAGE_ID}/feed?after={after}",
        }
    return answer


def unix(moment: str) -> str:
    return str(int(datetime.fromisoformat(moment.replace("+0000", "+00:00")).timestamp()))


def test_feed_listen_resumes_from_its_checkpoint_without_duplicates_or_gaps(
    server: ReplayServer,
) -> None:
    # Checkpoint of the first read: the newest post's time; the next sweep asks from it
    # less ten minutes of overlap.
    since = unix("2019-05-17T16:14:04+0000")
    server.add("GET", FEED, body=payload("facebook/page_feed.json"))
    server.add(
        "GET",
        FEED,
        body=page(
            [
                feed_post("3", "2019-05-18T10:00:00+0000", "Third"),
                feed_post("2", "2019-05-18T09:00:00+0000", "Second"),
            ],
            after="CURSOR2",
        ),
        query={"since": since},
    )
    server.add(
        "GET",
        FEED,
        body=page(
            [
                feed_post("1", "2019-05-17T20:00:00+0000", "First"),
                payload("facebook/page_feed.json")["data"][0],
                payload("facebook/page_feed.json")["data"][1],
            ],
            after="CURSOR3",
        ),
        query={"after": "CURSOR2"},
    )
    feed = ListenSource("feed")

    first = connector(server).listen(feed, None)
    # New connectors each time, as after restarts, with the stored checkpoint.
    second = connector(server).listen(feed, first.checkpoint)
    third = connector(server).listen(feed, second.checkpoint)

    assert [p.id for p in first.posts] == [
        f"{PAGE_ID}_2190817464307444",
        f"{PAGE_ID}_2191966997525824",
    ]
    assert first.more is False and first.checkpoint["since"] == "2019-05-17T16:24:04+00:00"
    assert [p.text for p in second.posts] == ["Second", "Third"]
    assert second.more is True and second.checkpoint["cursor"] == "CURSOR2"
    # The page reached the previous sweep: the sweep ends, the known post is not repeated.
    assert [p.text for p in third.posts] == ["First"]
    assert third.more is False and third.checkpoint["cursor"] is None
    assert third.checkpoint["since"] == "2019-05-18T10:00:00+00:00"
    assert server.seen("GET", FEED)[2].query["after"] == ["CURSOR2"]


def test_feed_post_becomes_a_post_of_its_own_conversation(server: ReplayServer) -> None:
    post = connector(server).post_to_post(payload("facebook/page_feed.json")["data"][1])

    assert post.text == "Does the Lyon shop open on Sundays?"
    assert post.author is not None and post.author.handle == "2408736859166357"
    assert post.author.name == "Camille Martin"
    assert post.conversation_id == post.id == f"{PAGE_ID}_2190817464307444"
    assert post.created_at == datetime(2019, 5, 16, 9, 10, 42, tzinfo=UTC)


def test_comments_are_read_from_posts_updated_since_the_checkpoint(server: ReplayServer) -> None:
    own_reply = {
        "created_time": "2019-05-17T18:30:00+0000",
        "from": {"name": "Clameur Coffee", "id": PAGE_ID},
        "message": "Sorry Lucas, we are looking into it.",
        "parent": {"id": "2191966997525824_2191973554191835"},
        "id": "2191966997525824_2191979999999999",
    }
    comments = payload("facebook/post_comments.json")
    comments["data"].insert(0, own_reply)
    quiet_post = f"{PAGE_ID}_2190817464307444"
    server.add("GET", FEED, body=payload("facebook/page_feed.json"))
    server.add("GET", f"/v21.0/{POST_ID}/comments", body=comments)
    server.add("GET", f"/v21.0/{quiet_post}/comments", body={"data": []})
    source = ListenSource("comments")

    first = connector(server).listen(source, None)

    assert [p.id for p in first.posts] == [
        "2191966997525824_2191973554191835",
        "2191966997525824_2191975084191682",
    ]
    question, complaint = first.posts
    assert question.in_reply_to == POST_ID and question.conversation_id == POST_ID
    assert complaint.in_reply_to == "2191966997525824_2191973554191835"
    assert question.metrics == {"likes": 2, "replies": 1}
    sent = server.seen("GET", f"/v21.0/{POST_ID}/comments")[0].query
    assert sent["filter"] == ["stream"] and sent["order"] == ["reverse_chronological"]

    new_comment = {
        "created_time": "2019-05-17T19:05:00+0000",
        "from": {"name": "Inès Petit", "id": "3011536832266699"},
        "message": "Same here, nothing since Monday.",
        "id": "2191966997525824_2191988888888888",
    }
    comments["data"].insert(0, new_comment)
    server.add("GET", f"/v21.0/{POST_ID}/comments", body=comments)

    second = connector(server).listen(source, first.checkpoint)

    assert [p.id for p in second.posts] == ["2191966997525824_2191988888888888"]
    # The other post was not updated since: its comments were not asked for again.
    assert len(server.seen("GET", f"/v21.0/{quiet_post}/comments")) == 1


def test_requests_carry_the_token_in_a_header_and_the_app_secret_proof(
    server: ReplayServer,
) -> None:
    server.add("GET", f"/v21.0/{PAGE_ID}", body=payload("facebook/page.json"))

    identity = connector(server).check()

    sent = server.seen("GET", f"/v21.0/{PAGE_ID}")[0]
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert "access_token" not in sent.query
    proof = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    assert sent.query["appsecret_proof"] == [proof]
    assert (identity.handle, identity.external_id) == ("clameurcoffee", PAGE_ID)


def test_expired_page_token_is_an_auth_error(server: ReplayServer) -> None:
    server.add("GET", FEED, status=400, body=payload("facebook/error_token_expired.json"))

    with pytest.raises(AuthError, match="#190.*Session has expired.*Connect the account again"):
        connector(server).listen(ListenSource("feed"), None)


def test_missing_permission_is_an_auth_error_naming_app_review(server: ReplayServer) -> None:
    denied = {
        "error": {
            "message": "(#10) This endpoint requires the 'pages_read_engagement' permission",
            "type": "OAuthException",
            "code": 10,
        }
    }
    server.add("GET", FEED, status=403, body=denied)

    with pytest.raises(AuthError, match="pages_read_engagement.*app review"):
        connector(server).listen(ListenSource("feed"), None)


def test_publishing_without_the_permission_is_an_auth_error_naming_it(
    server: ReplayServer,
) -> None:
    # Codes 10 and 200-299 come with HTTP 403: the token lacks a permission for every post.
    server.add("GET", FEED, body=payload("facebook/page_feed.json"))
    server.add("POST", FEED, status=403, body=payload("facebook/error_permission.json"))

    with pytest.raises(AuthError, match="#200.*pages_manage_posts.*app review"):
        connector(server).publish(OutgoingPost("Open on Sundays from May.", "key-p"))

    assert len(server.seen("POST", FEED)) == 1


def test_gateway_error_without_a_graph_body_is_retried_in_place(server: ReplayServer) -> None:
    server.add(
        "GET",
        FEED,
        Answer(502, raw=b"<html>502 Bad Gateway</html>", content_type="text/html"),
        Answer(200, payload("facebook/page_feed.json")),
    )
    waits: list[float] = []

    result = connector(server, waits).listen(ListenSource("feed"), None)

    assert len(result.posts) == 2 and len(waits) == 1


def test_throttling_waits_the_time_meta_estimates(server: ReplayServer) -> None:
    usage = {
        PAGE_ID: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 14,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    server.add(
        "GET",
        FEED,
        status=400,
        body=payload("facebook/error_rate_limited.json"),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
    )
    waits: list[float] = []

    with pytest.raises(RateLimited, match="#4.*Application request limit") as caught:
        connector(server, waits).listen(ListenSource("feed"), None)

    assert 410 < caught.value.delay <= 420
    # Seven minutes is not waited in place: the runner schedules it.
    assert waits == [] and len(server.seen("GET", FEED)) == 1


def test_throttling_without_an_estimate_waits_a_default(server: ReplayServer) -> None:
    page_limit = {"error": {"message": "(#32) Page request limit reached", "code": 32}}
    server.add("GET", FEED, status=400, body=page_limit)

    with pytest.raises(RateLimited) as caught:
        connector(server).listen(ListenSource("feed"), None)

    assert caught.value.delay == pytest.approx(3600, abs=5)


def test_usage_at_its_limit_holds_the_next_call_without_sending_it(server: ReplayServer) -> None:
    server.add(
        "GET",
        FEED,
        body=payload("facebook/page_feed.json"),
        headers={"X-App-Usage": '{"call_count":100,"total_time":25,"total_cputime":25}'},
    )
    facebook = connector(server)

    facebook.listen(ListenSource("feed"), None)
    with pytest.raises(RateLimited, match="usage 100 %"):
        facebook.listen(ListenSource("feed"), None)

    assert len(server.seen("GET", FEED)) == 1


def test_other_graph_errors_are_permanent_with_metas_message(server: ReplayServer) -> None:
    missing = {
        "error": {
            "message": "Unsupported get request. Object with ID '42' does not "
            "exist, cannot be loaded due to missing permissions, or does not "
            "support this operation.",
            "type": "GraphMethodException",
            "code": 100,
            "error_subcode": 33,
        }
    }
    server.add("GET", f"/v21.0/{PAGE_ID}_42", status=400, body=missing)

    with pytest.raises(PermanentError, match="#100: Unsupported get request. Object with ID '42'"):
        connector(server).conversation(f"{PAGE_ID}_42")


def test_temporary_graph_error_is_retried_in_place(server: ReplayServer) -> None:
    down = {
        "error": {
            "message": "An unexpected error has occurred. Please retry your request later.",
            "type": "OAuthException",
            "is_transient": True,
            "code": 2,
        }
    }
    server.add("GET", FEED, Answer(500, down), Answer(200, payload("facebook/page_feed.json")))
    waits: list[float] = []

    result = connector(server, waits).listen(ListenSource("feed"), None)

    assert len(result.posts) == 2 and len(waits) == 1


def test_answer_that_is_not_json_is_a_permanent_error(server: ReplayServer) -> None:
    server.add("GET", FEED, Answer(200, raw=b"<html>oops</html>", content_type="text/html"))

    with pytest.raises(PermanentError, match="malformed answer"):
        connector(server).listen(ListenSource("feed"), None)


def test_reply_to_a_reply_goes_under_its_parent_and_returns_the_comment_id(
    server: ReplayServer,
) -> None:
    reply_id = "2191966997525824_2191975084191682"
    parent_id = "2191966997525824_2191973554191835"
    server.add("GET", f"/v21.0/{reply_id}", body={"id": reply_id, "parent": {"id": parent_id}})
    server.add("GET", f"/v21.0/{parent_id}/comments", body={"data": []})
    server.add(
        "POST", f"/v21.0/{parent_id}/comments", body={"id": "2191966997525824_2192000000000001"}
    )

    published = connector(server).reply(
        OutgoingPost("Sorry Lucas, we are on it.", "key-1", in_reply_to=reply_id)
    )

    assert published.external_id == "2191966997525824_2192000000000001"
    assert published.replayed is False
    sent = server.seen("POST", f"/v21.0/{parent_id}/comments")[0]
    assert sent.form()["message"] == ["Sorry Lucas, we are on it."]


def test_reply_already_written_by_the_page_is_not_written_twice(server: ReplayServer) -> None:
    server.add(
        "GET",
        f"/v21.0/{POST_ID}/comments",
        body={
            "data": [
                {
                    "id": "2191966997525824_2192000000000001",
                    "message": "Thanks!",
                    "from": {"id": PAGE_ID, "name": "Clameur Coffee"},
                    "created_time": "2019-05-17T19:00:00+0000",
                }
            ]
        },
    )

    published = connector(server).reply(OutgoingPost("Thanks!", "key-2", in_reply_to=POST_ID))

    assert published.replayed is True
    assert published.external_id == "2191966997525824_2192000000000001"
    assert server.seen("POST", f"/v21.0/{POST_ID}/comments") == []


def test_publish_posts_on_the_page_feed_and_returns_the_post_id(server: ReplayServer) -> None:
    server.add("GET", FEED, body=payload("facebook/page_feed.json"))
    server.add("POST", FEED, body={"id": f"{PAGE_ID}_2192011111111111"})

    published = connector(server).publish(
        OutgoingPost(
            "Winter opening hours are online.",
            "key-3",
            created_at=datetime.now(UTC) - timedelta(minutes=2),
        )
    )

    assert published.external_id == f"{PAGE_ID}_2192011111111111"
    assert published.url == f"https://www.facebook.com/{PAGE_ID}/posts/2192011111111111"
    assert server.seen("POST", FEED)[0].form()["message"] == ["Winter opening hours are online."]


def test_conversation_of_a_comment_is_its_post_then_every_comment(server: ReplayServer) -> None:
    server.add("GET", f"/v21.0/{POST_ID}", body=payload("facebook/page_feed.json")["data"][0])
    comments = payload("facebook/post_comments.json")
    comments["data"].reverse()
    server.add("GET", f"/v21.0/{POST_ID}/comments", body=comments)

    thread = connector(server).conversation("2191966997525824_2191975084191682")

    assert [p.id for p in thread] == [
        POST_ID,
        "2191966997525824_2191973554191835",
        "2191966997525824_2191975084191682",
    ]
    assert server.seen("GET", f"/v21.0/{POST_ID}/comments")[0].query["order"] == ["chronological"]


# --- publications with images -----------------------------------------------------------------

PHOTOS = f"/v21.0/{PAGE_ID}/photos"


def image_urls(server: ReplayServer, *names: str) -> tuple[str, ...]:
    for name in names:
        server.add("GET", f"/cdn/{name}", image())
    return tuple(f"{server.url}/cdn/{name}" for name in names)


def with_images(urls: tuple[str, ...], key: str = "key-img") -> OutgoingPost:
    return OutgoingPost(
        "Our winter menu.",
        key,
        created_at=datetime.now(UTC) - timedelta(minutes=2),
        media_urls=urls,
    )


def unpublished(photo_id: str) -> Answer:
    return Answer(body={**payload("facebook/photo_unpublished.json"), "id": photo_id})


def test_one_image_is_a_photo_post_with_its_caption(server: ReplayServer) -> None:
    urls = image_urls(server, "menu.png")
    server.add("GET", FEED, body=payload("facebook/page_feed.json"))
    server.add("POST", PHOTOS, body=payload("facebook/photo_published.json"))

    published = connector(server).publish(with_images(urls))

    [sent] = server.seen("POST", PHOTOS)
    assert sent.form() == {"url": [urls[0]], "message": ["Our winter menu."]}
    assert published.external_id == f"{PAGE_ID}_2192033333333333"
    assert published.url == f"https://www.facebook.com/{PAGE_ID}/posts/2192033333333333"
    assert server.seen("POST", FEED) == []


def test_several_images_are_uploaded_unpublished_then_attached_to_one_post(
    server: ReplayServer,
) -> None:
    urls = image_urls(server, "a.png", "b.png", "c.png")
    server.add("GET", FEED, body=payload("facebook/page_feed.json"))
    server.add("POST", PHOTOS, unpublished("901"), unpublished("902"), unpublished("903"))
    server.add("POST", FEED, body={"id": f"{PAGE_ID}_2192055555555555"})

    published = connector(server).publish(with_images(urls))

    uploads = [seen.form() for seen in server.seen("POST", PHOTOS)]
    assert uploads == [{"url": [url], "published": ["false"]} for url in urls]
    form = server.seen("POST", FEED)[0].form()
    assert form["message"] == ["Our winter menu."]
    assert [json.loads(form[f"attached_media[{i}]"][0]) for i in range(3)] == [
        {"media_fbid": "901"},
        {"media_fbid": "902"},
        {"media_fbid": "903"},
    ]
    assert published.external_id == f"{PAGE_ID}_2192055555555555"


def test_an_image_address_that_is_missing_or_a_page_is_refused_before_writing(
    server: ReplayServer,
) -> None:
    server.add("GET", FEED, body=payload("facebook/page_feed.json"))
    server.add("GET", "/gallery", Answer(raw=b"<html>gallery</html>", content_type="text/html"))

    with pytest.raises(PermanentError, match=r"/cdn/gone\.png cannot be attached.*HTTP 404"):
        connector(server).publish(with_images((f"{server.url}/cdn/gone.png",)))
    with pytest.raises(PermanentError, match=r"/gallery is not an image.*text/html"):
        connector(server).publish(with_images((f"{server.url}/gallery",)))

    assert server.seen("POST", PHOTOS) == [] and server.seen("POST", FEED) == []


def test_an_image_over_metas_4_mb_is_refused_naming_the_limit(server: ReplayServer) -> None:
    server.add("GET", FEED, body=payload("facebook/page_feed.json"))
    server.add("GET", "/cdn/huge.png", image(bytes(4_000_001)))

    with pytest.raises(
        PermanentError, match=r"huge\.png is too big.*Facebook takes images up to 4 MB"
    ):
        connector(server).publish(with_images((f"{server.url}/cdn/huge.png",)))

    assert server.seen("POST", PHOTOS) == []


def test_a_retry_after_the_photos_were_uploaded_but_the_post_failed_posts_once(
    server: ReplayServer,
) -> None:
    urls = image_urls(server, "a.png", "b.png")
    written = feed_post("2192055555555555", "", "Our winter menu.", **{"from": {"id": PAGE_ID}})
    written["created_time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    server.add("GET", FEED, body=payload("facebook/page_feed.json"))
    server.add("POST", PHOTOS, unpublished("901"), unpublished("902"), unpublished("903"))
    server.add(
        "POST",
        FEED,
        Answer(status=500, body={"error": {"message": "An unexpected error", "code": 2}}),
        Answer(body={"id": written["id"]}),
    )
    post = with_images(urls)

    with pytest.raises(RetryableError):
        connector(server).publish(post)
    first = connector(server).publish(post)
    # The outbox tries once more after a lost answer: the post is on the Page now.
    server.add("GET", FEED, body=page([written]))
    again = connector(server).publish(post)

    assert len(server.seen("POST", FEED)) == 2  # the failed one, then the one written
    assert first.external_id == again.external_id == written["id"]
    assert again.replayed is True
    assert len(server.seen("POST", PHOTOS)) == 4  # uploaded again after the failure only
    second_form = server.seen("POST", FEED)[1].form()
    assert json.loads(second_form["attached_media[0]"][0]) == {"media_fbid": "903"}


def test_each_photo_carries_its_description_as_alt_text_custom(server: ReplayServer) -> None:
    # https://developers.facebook.com/docs/graph-api/reference/photo/ ("Creating"):
    # `alt_text_custom`, accessible alternative description for an image.
    urls = image_urls(server, "a.png", "b.png", "c.png")
    server.add("GET", FEED, body=payload("facebook/page_feed.json"))
    server.add("POST", PHOTOS, unpublished("901"), unpublished("902"), unpublished("903"))
    server.add("POST", FEED, body={"id": f"{PAGE_ID}_2192055555555555"})
    post = with_images(urls)
    described = OutgoingPost(
        post.text,
        post.idempotency_key,
        created_at=post.created_at,
        media_urls=urls,
        media_alts=("Pumpkin soup in a blue bowl.", "", "Chestnut tart, sliced."),
    )

    connector(server).publish(described)

    uploads = [seen.form() for seen in server.seen("POST", PHOTOS)]
    assert [upload.get("alt_text_custom") for upload in uploads] == [
        ["Pumpkin soup in a blue bowl."],
        None,
        ["Chestnut tart, sliced."],
    ]
    assert [upload["published"] for upload in uploads] == [["false"]] * 3


def test_a_single_photo_post_carries_its_alt_text(server: ReplayServer) -> None:
    urls = image_urls(server, "menu.png")
    server.add("GET", FEED, body=payload("facebook/page_feed.json"))
    server.add("POST", PHOTOS, body=payload("facebook/photo_published.json"))
    post = with_images(urls)

    connector(server).publish(
        OutgoingPost(
            post.text,
            post.idempotency_key,
            created_at=post.created_at,
            media_urls=urls,
            media_alts=("The winter menu, handwritten on a chalkboard.",),
        )
    )

    [sent] = server.seen("POST", PHOTOS)
    assert sent.form() == {
        "url": [urls[0]],
        "message": ["Our winter menu."],
        "alt_text_custom": ["The winter menu, handwritten on a chalkboard."],
    }
