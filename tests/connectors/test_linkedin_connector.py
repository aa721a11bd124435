"""The LinkedIn connector against a replay of the documented Community Management API
(learn.microsoft.com/linkedin; payloads/README.md names each page)."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from connector_replay import PNG, Answer, ReplayServer, image, payload

from clameur.connectors.base import (
    AuthError,
    Capability,
    ListenSource,
    OutgoingPost,
    PermanentError,
    RateLimited,
    RetryableError,
)
from clameur.connectors.linkedin import LinkedInConfig, LinkedInConnector
from clameur.connectors.linkedin.connector import LINKEDIN_VERSION
from clameur.connectors.linkedin.oauth import authorization_request, exchange_code

ORG = "urn:li:organization:5515715"
SHARE = "urn:li:share:6927318384839299072"
COMMENTS = f"/rest/socialActions/{quote(SHARE, safe='')}/comments"
TOKEN = "AQV-linkedin-access-token-abcdefghij"


def connector(
    server: ReplayServer, waits: list[float] | None = None, **overrides: Any
) -> LinkedInConnector:
    settings: dict[str, Any] = {
        "organization_id": "5515715",
        "client_id": "86abcd1234efgh",
        "client_secret": "linkedin-client-secret-value",
        "access_token": TOKEN,
        "linkedin_version": "202601",
        "api_url": server.url,
        "oauth_url": f"{server.url}/oauth/v2",
        **overrides,
    }
    return LinkedInConnector(
        LinkedInConfig(**settings), timeout=5, sleep=(waits if waits is not None else []).append
    )


def share(number: int, at: datetime, text: str) -> dict[str, Any]:
    """The documented post with another id, time and text."""
    post = payload("linkedin/posts_by_author.json")["elements"][0]
    millis = int(at.timestamp() * 1000)
    post.update(id=f"urn:li:share:{number}", createdAt=millis, publishedAt=millis, commentary=text)
    return post


def posts(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"paging": {"start": 0, "count": len(elements), "links": []}, "elements": list(elements)}


def test_calls_carry_the_version_the_restli_protocol_and_the_encoded_author(
    server: ReplayServer,
) -> None:
    server.add("GET", "/rest/posts", body=payload("linkedin/posts_by_author.json"))

    connector(server).listen(ListenSource("posts"), None, limit=2)

    sent = server.seen("GET", "/rest/posts")[0]
    assert sent.headers["linkedin-version"] == "202601"
    assert sent.headers["x-restli-protocol-version"] == "2.0.0"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.query["author"] == [ORG] and sent.query["q"] == ["author"]
    assert sent.query["sortBy"] == ["CREATED"]


def test_posts_listen_resumes_from_its_checkpoint_without_duplicates(
    server: ReplayServer,
) -> None:
    documented = payload("linkedin/posts_by_author.json")
    newest, older = documented["elements"]
    server.add("GET", "/rest/posts", body=documented, query={"start": "0"})
    source = ListenSource("posts")

    first = connector(server).listen(source, None, limit=2)

    assert [p.id for p in first.posts] == ["urn:li:share:6926222349862465536", SHARE]
    assert first.posts[1].text == "We are hiring baristas in Lyon and Nantes."
    assert first.more is False

    fresh = share(6927400000000000000, datetime(2022, 5, 2, 12, 0, tzinfo=UTC), "New menu")
    server.add("GET", "/rest/posts", body=posts(fresh, newest), query={"start": "0"})
    server.add("GET", "/rest/posts", body=posts(older), query={"start": "2"})

    second = connector(server).listen(source, first.checkpoint, limit=2)
    third = connector(server).listen(source, second.checkpoint, limit=2)

    assert [p.text for p in second.posts] == ["New menu"]
    assert second.more is True and second.checkpoint["cursor"] == "2"
    assert third.posts == [] and third.more is False
    assert third.checkpoint["since"] == "2022-05-02T12:00:00+00:00"


def test_comments_on_the_organisations_posts_become_replies_to_them(server: ReplayServer) -> None:
    comments = payload("linkedin/comments.json")
    own = {
        **comments["elements"][0],
        "actor": ORG,
        "commentUrn": "urn:li:comment:(urn:li:activity:6927318384839299072,6927339999999999999)",
        "message": {"attributes": [], "text": "Yes, both are open to part-time."},
    }
    comments["elements"].append(own)
    server.add(
        "GET", "/rest/posts", body=posts(payload("linkedin/posts_by_author.json")["elements"][0])
    )
    server.add("GET", COMMENTS, body=comments)

    result = connector(server).listen(ListenSource("comments"), None)

    assert [p.text for p in result.posts] == [
        "Applied last month and never heard back.",
        "Is the Nantes position open to part-time?",
    ]
    comment = result.posts[0]
    assert comment.in_reply_to == SHARE and comment.conversation_id == SHARE
    assert comment.author is not None and comment.author.handle == "urn:li:person:Z9y8X7w6V5"
    assert comment.created_at == datetime.fromtimestamp(1651489018, UTC)


def test_answer_to_a_comment_names_its_parent_and_returns_the_comment_urn(
    server: ReplayServer,
) -> None:
    parent = "urn:li:comment:(urn:li:activity:6927318384839299072,6927330511723814912)"
    path = f"/rest/socialActions/{quote(parent, safe='')}/comments"
    created = "urn:li:comment:(urn:li:activity:6927318384839299072,6927341111111111111)"
    server.add("GET", path, body={"paging": {"start": 0, "count": 50}, "elements": []})
    server.add("POST", path, status=201, body={"commentUrn": created, "actor": ORG})

    published = connector(server).reply(
        OutgoingPost("Yes, both positions are open to part-time.", "key-1", in_reply_to=parent)
    )

    assert published.external_id == created
    sent = server.seen("POST", path)[0].json()
    assert sent == {
        "actor": ORG,
        "object": "urn:li:activity:6927318384839299072",
        "message": {"text": "Yes, both positions are open to part-time."},
        "parentComment": parent,
    }


def test_comment_already_written_by_the_organisation_is_not_written_twice(
    server: ReplayServer,
) -> None:
    mine = {**payload("linkedin/comments.json")["elements"][0], "actor": ORG}
    mine["message"] = {"attributes": [], "text": "Thanks!"}
    server.add("GET", COMMENTS, body={"paging": {}, "elements": [mine]})

    published = connector(server).reply(OutgoingPost("Thanks!", "key-2", in_reply_to=SHARE))

    assert published.replayed is True and published.external_id == mine["commentUrn"]
    assert server.seen("POST", COMMENTS) == []


def test_publish_creates_a_public_post_and_returns_its_urn(server: ReplayServer) -> None:
    server.add("GET", "/rest/posts", body=payload("linkedin/posts_by_author.json"))
    server.add(
        "POST",
        "/rest/posts",
        Answer(201, raw=b"", headers={"x-restli-id": "urn:li:share:6927999999999999999"}),
    )

    published = connector(server).publish(OutgoingPost("Winter menu is out.", "key-3"))

    assert published.external_id == "urn:li:share:6927999999999999999"
    assert published.url == "https://www.linkedin.com/feed/update/urn:li:share:6927999999999999999/"
    body = server.seen("POST", "/rest/posts")[0].json()
    assert (body["author"], body["commentary"], body["visibility"]) == (
        ORG,
        "Winter menu is out.",
        "PUBLIC",
    )
    assert body["lifecycleState"] == "PUBLISHED"


def test_revoked_token_is_refreshed_once_and_the_new_one_kept(server: ReplayServer) -> None:
    server.add(
        "GET",
        "/rest/organizations/5515715",
        Answer(401, payload("linkedin/error_unauthorized.json")),
        Answer(200, payload("linkedin/organization.json")),
    )
    server.add("POST", "/oauth/v2/accessToken", body=payload("linkedin/token.json"))
    linkedin = connector(server, refresh_token="AQW-refresh-token-abcdefghijklmnop")

    identity = linkedin.check()

    assert identity.handle == "clameur-coffee" and identity.external_id == ORG
    form = server.seen("POST", "/oauth/v2/accessToken")[0].form()
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == ["AQW-refresh-token-abcdefghijklmnop"]
    retried = server.seen("GET", "/rest/organizations/5515715")[1]
    assert (
        retried.headers["authorization"]
        == f"Bearer {payload('linkedin/token.json')['access_token']}"
    )
    updated = linkedin.updated_config()
    assert updated is not None and updated.access_token is not None
    assert updated.access_token.get_secret_value().startswith("AQXNnd2kX")


def test_token_about_to_expire_is_refreshed_before_the_call(server: ReplayServer) -> None:
    server.add("POST", "/oauth/v2/accessToken", body=payload("linkedin/token.json"))
    server.add("GET", "/rest/organizations/5515715", body=payload("linkedin/organization.json"))
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    linkedin = connector(server, refresh_token="AQW-refresh-token", token_expires_at=soon)

    linkedin.check()

    assert [r.path for r in server.requests] == [
        "/oauth/v2/accessToken",
        "/rest/organizations/5515715",
    ]
    updated = linkedin.updated_config()
    assert updated is not None and updated.token_expires_at is not None
    assert datetime.fromisoformat(updated.token_expires_at) > datetime.now(UTC) + timedelta(days=59)


def test_revoked_token_without_refresh_token_is_an_auth_error(server: ReplayServer) -> None:
    server.add("GET", "/rest/posts", status=401, body=payload("linkedin/error_unauthorized.json"))

    with pytest.raises(AuthError, match="revoked by the user.*Connect the account again"):
        connector(server).listen(ListenSource("posts"), None)


def test_forbidden_names_the_partner_program(server: ReplayServer) -> None:
    denied = {
        "status": 403,
        "serviceErrorCode": 100,
        "code": "ACCESS_DENIED",
        "message": "Not enough permissions to access: GET-author /rest/posts",
    }
    server.add("GET", "/rest/posts", status=403, body=denied)

    with pytest.raises(AuthError, match="Community Management API"):
        connector(server).listen(ListenSource("posts"), None)


def test_answer_that_is_not_json_is_a_permanent_error(server: ReplayServer) -> None:
    server.add(
        "GET", "/rest/posts", Answer(200, raw=b"<html>oops</html>", content_type="text/html")
    )

    with pytest.raises(PermanentError, match="malformed answer: it is not JSON"):
        connector(server).listen(ListenSource("posts"), None)


def test_post_list_without_elements_is_a_permanent_error_naming_it(server: ReplayServer) -> None:
    server.add("GET", "/rest/posts", body={"paging": {"start": 0, "count": 10, "links": []}})

    with pytest.raises(PermanentError, match="malformed post list: it has no list of 'elements'"):
        connector(server).listen(ListenSource("posts"), None)


def test_post_without_an_id_is_a_permanent_error_naming_it(server: ReplayServer) -> None:
    broken = payload("linkedin/posts_by_author.json")
    del broken["elements"][0]["id"]
    server.add("GET", "/rest/posts", body=broken)

    with pytest.raises(PermanentError, match="malformed post: it has no 'id'"):
        connector(server).listen(ListenSource("posts"), None)


def test_outage_is_retried_in_place(server: ReplayServer) -> None:
    server.add(
        "GET",
        "/rest/posts",
        Answer(503, {"status": 503, "message": "Service Unavailable"}),
        Answer(200, payload("linkedin/posts_by_author.json")),
    )
    waits: list[float] = []

    result = connector(server, waits).listen(ListenSource("posts"), None, limit=2)

    assert len(result.posts) == 2 and len(waits) == 1


def test_daily_limit_waits_until_midnight_utc_or_an_hour(server: ReplayServer) -> None:
    server.add(
        "GET", "/rest/posts", status=429, body={"status": 429, "message": "Too Many Requests"}
    )

    with pytest.raises(RateLimited, match="midnight UTC") as caught:
        connector(server).listen(ListenSource("posts"), None)

    now = datetime.now(UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    expected = min(3600.0, (midnight - now).total_seconds())
    assert caught.value.delay == pytest.approx(expected, abs=5)


def test_retry_after_given_by_linkedin_is_used(server: ReplayServer) -> None:
    server.add("GET", "/rest/posts", status=429, body={}, headers={"Retry-After": "120"})

    with pytest.raises(RateLimited) as caught:
        connector(server).listen(ListenSource("posts"), None)

    assert 110 < caught.value.delay <= 120


def test_connection_sends_the_member_to_linkedin_and_keeps_both_tokens(
    server: ReplayServer,
) -> None:
    server.add("POST", "/oauth/v2/accessToken", body=payload("linkedin/token.json"))
    config = connector(server, access_token=None).config
    request = authorization_request(config, "https://clameur.example/accounts/linkedin/callback")
    query = parse_qs(urlsplit(request.url).query)

    connected = exchange_code(
        config, request, code="AQTQmah11lalyH65DAIivsjsAQV5P", state=request.state
    )

    assert request.url.startswith(f"{server.url}/oauth/v2/authorization?")
    assert query["response_type"] == ["code"] and query["state"] == [request.state]
    assert "w_organization_social" in query["scope"][0].split()
    form = server.seen("POST", "/oauth/v2/accessToken")[0].form()
    assert form["grant_type"] == ["authorization_code"]
    assert form["redirect_uri"] == ["https://clameur.example/accounts/linkedin/callback"]
    assert connected.access_token is not None and connected.refresh_token is not None
    assert connected.refresh_expires_at is not None


def test_callback_with_another_state_is_refused(server: ReplayServer) -> None:
    config = connector(server).config
    request = authorization_request(config, "https://clameur.example/cb")

    with pytest.raises(AuthError, match="state differs"):
        exchange_code(config, request, code="abc", state="forged")
    assert server.requests == []


def test_default_version_is_the_latest_documented_one_and_is_sent(server: ReplayServer) -> None:
    server.add("GET", "/rest/organizations/5515715", body=payload("linkedin/organization.json"))
    settings = connector(server).config.model_dump()
    del settings["linkedin_version"]

    LinkedInConnector(LinkedInConfig(**settings), timeout=5).check()

    # "August 2026 - Version 202608 (Latest)" on the recent-changes page.
    assert LINKEDIN_VERSION == "202608"
    sent = server.seen("GET", "/rest/organizations/5515715")[0]
    assert sent.headers["linkedin-version"] == "202608"


def test_version_field_tells_the_user_that_versions_are_turned_off_after_a_year() -> None:
    field = {f.name: f for f in LinkedInConfig.form_fields()}["linkedin_version"]

    assert field.default == "202608" and field.kind == "text"
    assert "YYYYMM" in field.description and "about a year" in field.description
    assert "learn.microsoft.com/en-us/linkedin/marketing/versioning" in field.description


def test_sunset_version_is_a_permanent_error_asking_for_a_newer_one(server: ReplayServer) -> None:
    server.add("GET", "/rest/posts", status=426, body=payload("linkedin/error_version_sunset.json"))
    waits: list[float] = []

    with pytest.raises(PermanentError) as caught:
        connector(server, waits, linkedin_version="202504").listen(ListenSource("posts"), None)

    message = caught.value.message
    assert "API version 202504" in message and "Requested version 20250401 is not active" in message
    assert "set a newer 'API version'" in message
    # Never retried: every call would be refused the same way.
    assert len(server.seen("GET", "/rest/posts")) == 1 and waits == []


def test_sunset_version_on_a_write_is_the_same_permanent_error(server: ReplayServer) -> None:
    refused = payload("linkedin/error_version_sunset.json")
    server.add("GET", COMMENTS, status=426, body=refused)
    server.add("POST", COMMENTS, status=426, body=refused)

    with pytest.raises(PermanentError, match="no longer accepts API version 202601"):
        connector(server).reply(OutgoingPost("Thanks!", "key-9", in_reply_to=SHARE))
    assert server.seen("POST", COMMENTS) == []


def test_version_refusal_is_recognised_by_its_code_whatever_the_status(
    server: ReplayServer,
) -> None:
    refused = {**payload("linkedin/error_version_sunset.json"), "status": 400}
    server.add("GET", "/rest/organizations/5515715", status=400, body=refused)

    with pytest.raises(PermanentError, match="set a newer 'API version'"):
        connector(server).check()


def test_426_without_a_json_body_is_still_a_version_refusal(server: ReplayServer) -> None:
    server.add(
        "GET",
        "/rest/posts",
        Answer(426, raw=b"<html>Upgrade Required</html>", content_type="text/html"),
    )

    with pytest.raises(PermanentError, match=r"API version 202601 \(HTTP 426: no message\)"):
        connector(server).listen(ListenSource("posts"), None)


# --- publications with images (Images API, Posts API, MultiImage API) -------------------------

IMAGES = "/rest/images"


def image_urn(number: int) -> str:
    return f"urn:li:image:C4E10AQFoyyAjHPMQ{number:02d}"


def upload_slot(server: ReplayServer, number: int, host: str | None = None) -> Answer:
    """The documented initializeUpload answer, for image `number`, uploading to the server."""
    answer = payload("linkedin/image_upload.json")
    path = f"/dms-uploads/C4E10AQFoyyAjHPMQ{number:02d}/uploaded-image/0"
    answer["value"]["uploadUrl"] = f"{host or server.url}{path}?ca=vector_ads&cn=uploads"
    answer["value"]["image"] = image_urn(number)
    return Answer(body=answer)


def processed(number: int, status: str = "AVAILABLE") -> Answer:
    entity = payload("linkedin/image.json")
    entity.update(id=image_urn(number), status=status)
    return Answer(body=entity)


def images_server(server: ReplayServer, count: int) -> tuple[str, ...]:
    """Images at public addresses, LinkedIn's upload slots, uploads and processed images."""
    server.add("GET", "/rest/posts", body=payload("linkedin/posts_by_author.json"))
    server.add(
        "POST",
        IMAGES,
        *(upload_slot(server, n) for n in range(1, count + 1)),
        query={"action": "initializeUpload"},
    )
    for number in range(1, count + 1):
        server.add("GET", f"/cdn/{number}.png", image())
        server.add(
            "PUT", f"/dms-uploads/C4E10AQFoyyAjHPMQ{number:02d}/uploaded-image/0", status=201
        )
        server.add("GET", f"{IMAGES}/{quote(image_urn(number), safe='')}", processed(number))
    server.add(
        "POST",
        "/rest/posts",
        Answer(201, raw=b"", headers={"x-restli-id": "urn:li:share:6927999999999999990"}),
    )
    return tuple(f"{server.url}/cdn/{n}.png" for n in range(1, count + 1))


def test_linkedin_attaches_up_to_twenty_images() -> None:
    assert Capability.images in LinkedInConnector.capabilities
    assert LinkedInConnector.max_images == 20


def test_one_image_is_uploaded_then_posted_as_media_with_its_alt_text(
    server: ReplayServer,
) -> None:
    urls = images_server(server, 1)
    alt = "A barista pours latte art into a white cup."

    published = connector(server).publish(
        OutgoingPost("Our new roast is in.", "key-img", media_urls=urls, media_alts=(alt,))
    )

    [initialize] = server.seen("POST", IMAGES)
    assert initialize.query["action"] == ["initializeUpload"]
    assert initialize.json() == {"initializeUploadRequest": {"owner": ORG}}
    assert initialize.headers["linkedin-version"] == "202601"
    [upload] = server.seen("PUT", "/dms-uploads/C4E10AQFoyyAjHPMQ01/uploaded-image/0")
    assert upload.body == PNG
    assert upload.headers["authorization"] == f"Bearer {TOKEN}"
    body = server.seen("POST", "/rest/posts")[0].json()
    assert body["content"] == {"media": {"id": image_urn(1), "altText": alt}}
    assert body["commentary"] == "Our new roast is in." and body["author"] == ORG
    assert published.external_id == "urn:li:share:6927999999999999990"


def test_several_images_are_one_multi_image_post_each_with_its_alt_text(
    server: ReplayServer,
) -> None:
    urls = images_server(server, 3)

    connector(server).publish(
        OutgoingPost(
            "Three new cups.",
            "key-3img",
            media_urls=urls,
            media_alts=("The red cup.", "", "The blue cup."),
        )
    )

    body = server.seen("POST", "/rest/posts")[0].json()
    assert body["content"] == {
        "multiImage": {
            "images": [
                {"id": image_urn(1), "altText": "The red cup."},
                {"id": image_urn(2)},
                {"id": image_urn(3), "altText": "The blue cup."},
            ]
        }
    }
    assert len(server.seen("POST", IMAGES)) == 3


def test_an_image_without_a_description_is_posted_without_alt_text(server: ReplayServer) -> None:
    urls = images_server(server, 1)

    connector(server).publish(OutgoingPost("No words.", "key-noalt", media_urls=urls))

    body = server.seen("POST", "/rest/posts")[0].json()
    assert body["content"] == {"media": {"id": image_urn(1)}}


def test_an_image_linkedin_is_still_processing_is_waited_for(server: ReplayServer) -> None:
    urls = images_server(server, 1)
    server.add(
        "GET",
        f"{IMAGES}/{quote(image_urn(1), safe='')}",
        processed(1, "PROCESSING"),
        processed(1, "AVAILABLE"),
    )
    waits: list[float] = []

    connector(server, waits).publish(OutgoingPost("Slow image.", "key-slow", media_urls=urls))

    assert waits == [1.0]
    assert len(server.seen("POST", "/rest/posts")) == 1


def test_an_image_linkedin_failed_to_process_is_refused_naming_it(server: ReplayServer) -> None:
    urls = images_server(server, 1)
    server.add("GET", f"{IMAGES}/{quote(image_urn(1), safe='')}", processed(1, "PROCESSING_FAILED"))

    with pytest.raises(PermanentError, match=r"could not process the image at .*/cdn/1\.png"):
        connector(server).publish(OutgoingPost("Broken.", "key-broken", media_urls=urls))

    assert server.seen("POST", "/rest/posts") == []


def test_a_retry_after_the_images_were_uploaded_publishes_once(server: ReplayServer) -> None:
    urls = images_server(server, 2)
    text = "Opening hours for the holidays."
    # LinkedIn wrote the post, but the answer was lost (a gateway timeout).
    server.add(
        "POST",
        "/rest/posts",
        Answer(504, {"status": 504, "message": "Gateway Timeout"}),
        Answer(201, raw=b"", headers={"x-restli-id": "urn:li:share:6927999999999999991"}),
    )
    written = share(6927999999999999992, datetime.now(UTC), text)
    server.add(
        "GET",
        "/rest/posts",
        Answer(body=payload("linkedin/posts_by_author.json")),
        Answer(body=posts(written)),
    )
    post = OutgoingPost(text, "key-retry", media_urls=urls, created_at=datetime.now(UTC))

    with pytest.raises(RetryableError):
        connector(server).publish(post)
    again = connector(server).publish(post)

    assert again.replayed is True
    assert again.external_id == "urn:li:share:6927999999999999992"
    assert len(server.seen("POST", "/rest/posts")) == 1
    # The images were uploaded once, by the first attempt; the retry uploaded nothing.
    assert len(server.seen("POST", IMAGES)) == 2


def test_a_retry_when_the_post_was_not_written_uploads_again_and_posts_once(
    server: ReplayServer,
) -> None:
    urls = images_server(server, 1)
    server.add(
        "POST",
        IMAGES,
        upload_slot(server, 1),
        upload_slot(server, 2),
        query={"action": "initializeUpload"},
    )
    server.add("PUT", "/dms-uploads/C4E10AQFoyyAjHPMQ02/uploaded-image/0", status=201)
    server.add("GET", f"{IMAGES}/{quote(image_urn(2), safe='')}", processed(2))
    server.add(
        "POST",
        "/rest/posts",
        Answer(500, {"status": 500, "message": "Internal Server Error"}),
        Answer(201, raw=b"", headers={"x-restli-id": "urn:li:share:6927999999999999993"}),
    )
    post = OutgoingPost("Try again.", "key-again", media_urls=urls, media_alts=("A cup.",))

    with pytest.raises(RetryableError):
        connector(server).publish(post)
    published = connector(server).publish(post)

    attempts = server.seen("POST", "/rest/posts")
    assert len(attempts) == 2 and published.external_id == "urn:li:share:6927999999999999993"
    assert attempts[1].json()["content"] == {"media": {"id": image_urn(2), "altText": "A cup."}}


def test_an_image_of_too_many_pixels_is_refused_before_any_upload(server: ReplayServer) -> None:
    images_server(server, 0)
    header = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", 7000, 6000)
    server.add("GET", "/cdn/poster.png", image(header + PNG[24:]))

    with pytest.raises(PermanentError, match="7000 x 6000 pixels.*fewer than 36,152,320"):
        connector(server).publish(
            OutgoingPost("Huge.", "key-huge", media_urls=(f"{server.url}/cdn/poster.png",))
        )

    assert server.seen("POST", IMAGES) == [] and server.seen("POST", "/rest/posts") == []


def test_an_image_type_linkedin_does_not_take_is_refused_naming_the_types(
    server: ReplayServer,
) -> None:
    images_server(server, 0)
    server.add("GET", "/cdn/photo.webp", image(b"RIFF0000WEBPVP8 ", "image/webp"))

    with pytest.raises(PermanentError, match=r"LinkedIn does not take image/webp images"):
        connector(server).publish(
            OutgoingPost("WebP.", "key-webp", media_urls=(f"{server.url}/cdn/photo.webp",))
        )

    assert server.seen("POST", IMAGES) == []


def test_more_than_twenty_images_are_refused_before_downloading_any(server: ReplayServer) -> None:
    urls = tuple(f"{server.url}/cdn/{n}.png" for n in range(21))
    server.add("GET", "/rest/posts", body=payload("linkedin/posts_by_author.json"))

    with pytest.raises(PermanentError, match="LinkedIn attaches at most 20 images"):
        connector(server).publish(OutgoingPost("Too many.", "key-21", media_urls=urls))

    assert not any(seen.path.startswith("/cdn/") for seen in server.requests)


def test_the_token_is_never_sent_to_an_upload_address_off_linkedin(server: ReplayServer) -> None:
    urls = images_server(server, 1)
    server.add(
        "POST",
        IMAGES,
        upload_slot(server, 1, host="https://uploads.example.net"),
        query={"action": "initializeUpload"},
    )

    with pytest.raises(PermanentError, match="not on linkedin.com"):
        connector(server).publish(OutgoingPost("Elsewhere.", "key-off", media_urls=urls))

    assert [seen for seen in server.requests if seen.method == "PUT"] == []
    assert server.seen("POST", "/rest/posts") == []
