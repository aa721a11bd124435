"""The YouTube connector (Data API v3 over httpx) against a replay of the documented API
(developers.google.com/youtube/v3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfoNotFoundError

import pytest
from connector_replay import Answer, ReplayServer, payload

from clameur.connectors.base import (
    AuthError,
    ListenSource,
    OutgoingPost,
    PermanentError,
    RateLimited,
    RetryableError,
)
from clameur.connectors.youtube import YoutubeConfig, YoutubeConnector
from clameur.connectors.youtube.connector import next_quota_reset
from clameur.connectors.youtube.oauth import authorization_request, code_challenge, exchange_code

CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
THREADS = "/youtube/v3/commentThreads"
COMMENTS = "/youtube/v3/comments"
SOURCE = ListenSource("comments", CHANNEL)


def comment(comment_id: str, at: str, text: str = "", **snippet: Any) -> dict[str, Any]:
    """The documented top-level Comment with another id, time and text."""
    entity = payload("youtube/comment_thread.json")["snippet"]["topLevelComment"]
    entity["id"] = comment_id
    entity["snippet"].update(
        publishedAt=at, updatedAt=at, textDisplay=text or f"comment {comment_id}", **snippet
    )
    entity["snippet"]["textOriginal"] = entity["snippet"]["textDisplay"]
    return entity


def reply(thread_id: str, reply_id: str, at: str, text: str = "", **snippet: Any) -> dict[str, Any]:
    """The documented reply with another id, time and text, under `thread_id`."""
    entity = payload("youtube/comment_thread.json")["replies"]["comments"][0]
    entity["id"] = f"{thread_id}.{reply_id}"
    entity["snippet"].update(
        parentId=thread_id,
        publishedAt=at,
        textDisplay=text or f"reply {reply_id}",
        textOriginal=text or f"reply {reply_id}",
        **snippet,
    )
    return entity


def thread(thread_id: str, at: str, *replies: dict[str, Any]) -> dict[str, Any]:
    """The documented CommentThread with another top-level comment and replies."""
    entity = payload("youtube/comment_thread.json")
    entity["id"] = thread_id
    entity["snippet"]["topLevelComment"] = comment(thread_id, at)
    entity["snippet"]["totalReplyCount"] = len(replies)
    entity["replies"] = {"comments": list(replies)}
    if not replies:
        del entity["replies"]
    return entity


def threads(*items: dict[str, Any], next_token: str | None = None) -> dict[str, Any]:
    body = payload("youtube/comment_thread_list.json")
    body["items"] = list(items)
    if next_token:
        body["nextPageToken"] = next_token
    else:
        del body["nextPageToken"]
    return body


def comments(*items: dict[str, Any]) -> dict[str, Any]:
    body = payload("youtube/comment_list.json")
    body["items"] = list(items)
    return body


def connector(server: ReplayServer, **config: Any) -> YoutubeConnector:
    values: dict[str, Any] = {
        "channel_id": CHANNEL,
        "api_key": "AIzaSyD-example-key-abcdefghijklmnop",
        "client_id": "1234-abc.apps.googleusercontent.com",
        "client_secret": "GOCSPX-secret-abcdefghijklmnop",
        "refresh_token": "1//refresh-abcdefghijklmnop",
        "api_url": f"{server.url}/youtube/v3",
        "token_url": f"{server.url}/token",
    }
    return YoutubeConnector(YoutubeConfig(**{**values, **config}), timeout=5, sleep=lambda _: None)


def ids(result: Any) -> list[str]:
    return [post.id for post in result.posts]


def test_youtube_first_read_takes_the_newest_threads_with_their_replies(
    server: ReplayServer,
) -> None:
    server.add(
        "GET",
        THREADS,
        body=threads(
            thread("t2", "2024-10-15T10:10:00Z", reply("t2", "r1", "2024-10-15T10:12:00Z")),
            thread("t1", "2024-10-15T10:05:00Z"),
            next_token="older",
        ),
    )

    result = connector(server).listen(SOURCE, None)

    assert ids(result) == ["t1", "t2", "t2.r1"] and result.more is False
    assert result.checkpoint["since"] == "2024-10-15T10:12:00+00:00"
    assert result.checkpoint["page_token"] is None
    query = server.seen("GET", THREADS)[0].query
    assert query["allThreadsRelatedToChannelId"] == [CHANNEL]
    assert query["key"] == ["AIzaSyD-example-key-abcdefghijklmnop"]
    assert (query["order"], query["textFormat"]) == (["time"], ["plainText"])
    assert query["part"] == ["snippet,replies"]
    assert "authorization" not in server.seen("GET", THREADS)[0].headers


def test_youtube_sweep_resumes_after_a_restart_and_returns_each_comment_once(
    server: ReplayServer,
) -> None:
    # Read up to 10:05:00, where comment t1 was already returned.
    checkpoint = {
        "since": "2024-10-15T10:05:00+00:00",
        "page_token": None,
        "high": "2024-10-15T10:05:00+00:00",
        "seen": {"t1": "2024-10-15T10:05:00+00:00"},
    }
    server.add(
        "GET",
        THREADS,
        body=threads(
            thread("t4", "2024-10-15T10:30:00Z"),
            thread("t3", "2024-10-15T10:20:00Z"),
            next_token="page2",
        ),
    )
    server.add(
        "GET",
        THREADS,
        body=threads(
            # Same second as the boundary: new, though t1 (returned before) shares it.
            thread("t2", "2024-10-15T10:05:00Z"),
            # Older than the boundary, with a reply written since: the reply is new.
            thread("t1", "2024-10-15T10:05:00Z", reply("t1", "r9", "2024-10-15T10:25:00Z")),
            thread("t0", "2024-10-15T09:00:00Z"),
            next_token="page3",
        ),
        query={"pageToken": "page2"},
    )

    first = connector(server).listen(SOURCE, checkpoint, limit=2)
    second = connector(server).listen(SOURCE, first.checkpoint, limit=2)

    assert ids(first) == ["t3", "t4"] and first.more is True
    assert first.checkpoint["page_token"] == "page2"
    assert ids(second) == ["t2", "t1.r9"] and second.more is False
    assert second.checkpoint["since"] == "2024-10-15T10:30:00+00:00"
    assert second.checkpoint["seen"] == {"t4": "2024-10-15T10:30:00+00:00"}
    assert server.seen("GET", THREADS)[0].query["maxResults"] == ["2"]


def test_youtube_comment_becomes_a_post_with_its_video_address(server: ReplayServer) -> None:
    documented = payload("youtube/comment_thread.json")
    server.add("GET", THREADS, body=threads(documented))

    top, answer = connector(server).listen(SOURCE, None).posts

    assert top.id == "UgzDE2tasfmrYLyNkGt4AaABAg"
    assert top.text == "Great video, thanks for the walkthrough!"
    assert top.author is not None and top.author.handle == "GoogleDevelopersFan"
    assert top.url == "https://www.youtube.com/watch?v=wtLJPvx7-ys&lc=UgzDE2tasfmrYLyNkGt4AaABAg"
    assert top.metrics == {"likes": 12, "replies": 1}
    assert top.conversation_id == top.id and top.in_reply_to is None
    assert top.created_at == datetime(2024, 10, 15, 10, 5, tzinfo=UTC)
    assert answer.in_reply_to == answer.conversation_id == "UgzDE2tasfmrYLyNkGt4AaABAg"
    assert answer.author is not None and answer.author.handle == "GoogleDevelopers"


def test_youtube_spent_quota_waits_for_midnight_pacific_time(server: ReplayServer) -> None:
    server.add("GET", THREADS, status=403, body=payload("youtube/quota_exceeded.json"))

    with pytest.raises(RateLimited, match="daily quota") as caught:
        connector(server).listen(SOURCE, None)

    assert isinstance(caught.value, RetryableError)
    assert caught.value.retry_at == next_quota_reset()
    assert len(server.seen("GET", THREADS)) == 1


def test_youtube_quota_resets_at_pacific_midnight_in_summer_and_winter() -> None:
    summer = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)  # 05:00 PDT
    winter = datetime(2024, 1, 15, 3, 0, tzinfo=UTC)  # 19:00 PST the day before

    assert next_quota_reset(summer) == datetime(2024, 7, 2, 7, 0, tzinfo=UTC)
    assert next_quota_reset(winter) == datetime(2024, 1, 15, 8, 0, tzinfo=UTC)
    with mock.patch(
        "clameur.connectors.youtube.connector.ZoneInfo", side_effect=ZoneInfoNotFoundError
    ):
        assert next_quota_reset(summer) == datetime(2024, 7, 2, 7, 0, tzinfo=UTC)
        assert next_quota_reset(winter) == datetime(2024, 1, 15, 8, 0, tzinfo=UTC)


def test_youtube_wrong_api_key_is_an_auth_error(server: ReplayServer) -> None:
    server.add(
        "GET",
        THREADS,
        status=400,
        body={
            "error": {
                "code": 400,
                "message": "API key not valid. Please pass a valid API key.",
                "errors": [
                    {
                        "message": "API key not valid. Please pass a valid API key.",
                        "domain": "global",
                        "reason": "badRequest",
                    }
                ],
                "status": "INVALID_ARGUMENT",
                "details": [{"reason": "API_KEY_INVALID"}],
            }
        },
    )
    server.add("GET", "/youtube/v3/channels", status=401, body=payload("youtube/unauthorized.json"))

    with pytest.raises(AuthError, match="refused the API key.*API key not valid"):
        connector(server).listen(SOURCE, None)
    with pytest.raises(AuthError, match="refused the API key"):
        connector(server).check()


def test_youtube_refused_token_is_renewed_once_then_an_auth_error(server: ReplayServer) -> None:
    server.add("POST", "/token", body=payload("youtube/token.json"))
    server.add("GET", THREADS, status=401, body=payload("youtube/unauthorized.json"))

    youtube = connector(server, api_key=None, access_token="ya29.stale-abcdefghijklmnop")
    with pytest.raises(AuthError, match="Invalid Credentials|invalid authentication"):
        youtube.listen(SOURCE, None)

    assert len(server.seen("POST", "/token")) == 1
    sent = [r.headers["authorization"] for r in server.seen("GET", THREADS)]
    assert sent == ["Bearer ya29.stale-abcdefghijklmnop", "Bearer 1/fFAGRNJru1FTz70BzhT3Zg"]
    assert youtube.updated_config() is not None


def test_youtube_comments_turned_off_is_a_permanent_error_with_googles_reason(
    server: ReplayServer,
) -> None:
    server.add("GET", THREADS, status=403, body=payload("youtube/comments_disabled.json"))

    with pytest.raises(PermanentError, match="commentsDisabled"):
        connector(server).listen(SOURCE, None)


def test_youtube_thread_without_its_comment_is_a_permanent_error_naming_it(
    server: ReplayServer,
) -> None:
    broken = thread("t1", "2024-10-15T10:05:00Z")
    del broken["snippet"]["topLevelComment"]
    server.add("GET", THREADS, body=threads(broken))

    with pytest.raises(PermanentError, match="malformed comment thread t1.*topLevelComment"):
        connector(server).listen(SOURCE, None)


def test_youtube_conversation_is_the_comment_then_all_its_replies(server: ReplayServer) -> None:
    server.add("GET", THREADS, body=threads(thread("t1", "2024-10-15T10:05:00Z")))
    server.add(
        "GET",
        COMMENTS,
        Answer(200, {**comments(reply("t1", "r2", "2024-10-15T11:00:00Z")), "nextPageToken": "n"}),
        Answer(200, comments(reply("t1", "r1", "2024-10-15T10:30:00Z"))),
    )

    posts = connector(server).conversation("t1.r2")

    assert [p.id for p in posts] == ["t1", "t1.r1", "t1.r2"]
    assert server.seen("GET", THREADS)[0].query["id"] == ["t1"]
    assert server.seen("GET", COMMENTS)[0].query["parentId"] == ["t1"]
    assert server.seen("GET", COMMENTS)[1].query["pageToken"] == ["n"]
    assert posts[2].url == "https://www.youtube.com/watch?v=wtLJPvx7-ys&lc=t1.r2"


def test_youtube_reply_goes_under_the_thread_with_the_channels_token(
    server: ReplayServer,
) -> None:
    server.add("POST", "/token", body=payload("youtube/token.json"))
    server.add("GET", COMMENTS, body=comments())
    written = reply("t1", "new", "2024-10-15T11:00:00Z", "Thanks for watching!")
    server.add("POST", COMMENTS, body=written)
    youtube = connector(server)

    published = youtube.reply(OutgoingPost("Thanks for watching!", "key-1", "t1.r1"))

    assert published.external_id == "t1.new" and published.replayed is False
    assert published.url == "https://www.youtube.com/watch?v=wtLJPvx7-ys&lc=t1.new"
    insert = server.seen("POST", COMMENTS)[0]
    assert insert.json() == {"snippet": {"parentId": "t1", "textOriginal": "Thanks for watching!"}}
    assert insert.query["part"] == ["snippet"]
    assert insert.headers["authorization"] == "Bearer 1/fFAGRNJru1FTz70BzhT3Zg"
    token = server.seen("POST", "/token")[0].form()
    assert token["grant_type"] == ["refresh_token"]
    assert token["client_secret"] == ["GOCSPX-secret-abcdefghijklmnop"]
    stored = youtube.updated_config()
    assert stored is not None and stored.access_token is not None


def test_youtube_reply_refused_as_forbidden_is_an_auth_error_naming_the_scope(
    server: ReplayServer,
) -> None:
    server.add("POST", "/token", body=payload("youtube/token.json"))
    server.add("GET", COMMENTS, body=comments())
    server.add("POST", COMMENTS, status=403, body=payload("youtube/forbidden.json"))

    with pytest.raises(AuthError, match="insufficient permissions.*youtube.force-ssl"):
        connector(server).reply(OutgoingPost("Thanks for watching!", "key-1", "t1.r1"))

    assert len(server.seen("POST", COMMENTS)) == 1


def test_youtube_reply_already_there_is_not_written_twice(server: ReplayServer) -> None:
    mine = reply("t1", "mine", "2024-10-15T11:00:00Z", "Thanks  for watching!")
    theirs = reply(
        "t1", "x", "2024-10-15T11:01:00Z", "Thanks for watching!", authorChannelId={"value": "UCx"}
    )
    server.add("GET", COMMENTS, body=comments(theirs, mine))

    published = connector(server).reply(OutgoingPost("Thanks for watching!", "key-1", "t1"))

    assert published.external_id == "t1.mine" and published.replayed is True
    assert server.seen("POST", COMMENTS) == []


def test_youtube_reply_after_an_uncertain_failure_is_found_not_sent_twice(
    server: ReplayServer,
) -> None:
    mine = reply("t1", "mine", "2024-10-15T11:00:00Z", "Thanks for watching!")
    server.add("POST", "/token", body=payload("youtube/token.json"))
    server.add("GET", COMMENTS, Answer(200, comments()), Answer(200, comments(mine)))
    server.add("POST", COMMENTS, status=503, body={"error": {"code": 503, "message": "Backend"}})

    published = connector(server).reply(OutgoingPost("Thanks for watching!", "key-1", "t1"))

    assert published.external_id == "t1.mine" and published.replayed is True
    assert len(server.seen("POST", COMMENTS)) == 1


def test_youtube_reply_without_a_google_connection_says_what_to_do(server: ReplayServer) -> None:
    youtube = connector(server, refresh_token=None)

    with pytest.raises(AuthError, match="connected with Google"):
        youtube.reply(OutgoingPost("Thanks!", "key-1", "t1"))

    assert server.requests == []


def test_youtube_publish_is_not_supported(server: ReplayServer) -> None:
    with pytest.raises(PermanentError, match="YouTube connector cannot publish"):
        connector(server).publish(OutgoingPost("A new video?", "key-1"))


def test_youtube_channel_is_checked_with_the_api_key(server: ReplayServer) -> None:
    server.add("GET", "/youtube/v3/channels", body=payload("youtube/channel_list.json"))

    identity = connector(server).check()

    assert identity.handle == "@googledevelopers"
    assert identity.display_name == "Google for Developers"
    assert identity.url == f"https://www.youtube.com/channel/{CHANNEL}"


def test_youtube_consent_url_and_code_exchange(server: ReplayServer) -> None:
    server.add("POST", "/token", body=payload("youtube/token.json"))
    settings = connector(server, refresh_token=None).config

    request = authorization_request(settings, "https://clameur.example/callback")
    connected = exchange_code(settings, request, "4/0AY0e-code", request.state)

    query = parse_qs(urlsplit(request.url).query)
    assert query["scope"] == ["https://www.googleapis.com/auth/youtube.force-ssl"]
    assert query["access_type"] == ["offline"]
    assert query["code_challenge"] == [code_challenge(request.code_verifier)]
    form = server.seen("POST", "/token")[0].form()
    assert form["grant_type"] == ["authorization_code"]
    assert form["code_verifier"] == [request.code_verifier]
    assert connected.refresh_token is not None
    assert (
        connected.refresh_token.get_secret_value() == payload("youtube/token.json")["refresh_token"]
    )
    with pytest.raises(AuthError, match="state differs"):
        exchange_code(settings, request, "4/0AY0e-code", "forged")


def test_youtube_settings_take_a_channel_address_and_hide_tokens() -> None:
    settings = YoutubeConfig(channel_id=f"https://www.youtube.com/channel/{CHANNEL}")

    assert settings.channel_id == CHANNEL
    assert [f.name for f in YoutubeConfig.form_fields()] == [
        "channel_id",
        "api_key",
        "client_id",
        "client_secret",
    ]
    assert "midnight Pacific Time" in YoutubeConfig.requirements
    with pytest.raises(ValueError, match="starts with UC"):
        YoutubeConfig(channel_id="@googledevelopers")


def test_youtube_without_key_or_google_connection_says_what_to_add(server: ReplayServer) -> None:
    youtube = connector(server, api_key=None, refresh_token=None)

    with pytest.raises(AuthError, match="needs an API key"):
        youtube.listen(SOURCE, None)

    assert server.requests == []
