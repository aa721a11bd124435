"""YouTube Data API v3: comments on the channel's videos in; their threads; replies out.

A thin client on httpx (through `clameur.connectors.http`) for the methods documented at
developers.google.com/youtube/v3:

- comments on all the channel's videos, `commentThreads.list` with
  `allThreadsRelatedToChannelId`, `order=time`, `textFormat=plainText` and `pageToken`
  (https://developers.google.com/youtube/v3/docs/commentThreads/list, the CommentThread
  resource https://developers.google.com/youtube/v3/docs/commentThreads); each thread carries
  its top-level comment and up to five replies;
- a thread's replies, `comments.list` with `parentId`
  (https://developers.google.com/youtube/v3/docs/comments/list, the Comment resource
  https://developers.google.com/youtube/v3/docs/comments);
- replies, `comments.insert` with `snippet.parentId` (the top-level comment: YouTube threads
  are one level deep) (https://developers.google.com/youtube/v3/docs/comments/insert);
- the channel, `channels.list` (https://developers.google.com/youtube/v3/docs/channels/list);
- quota: 10,000 units a day per Google Cloud project, a list costs 1, an insert 50, and the
  daily quota resets at midnight Pacific Time
  (https://developers.google.com/youtube/v3/determine_quota_cost); a spent quota is a 403
  with reason `quotaExceeded` (https://developers.google.com/youtube/v3/docs/errors), raised
  here as a `RateLimited` until that midnight; a 401 is an `AuthError`;
- reading with an API key (public comments), replying with an OAuth 2.0 user token for the
  scope `youtube.force-ssl`, renewed with its refresh token
  (https://developers.google.com/youtube/v3/guides/authentication,
  https://developers.google.com/identity/protocols/oauth2/web-server); the flow that connects
  the channel is in `clameur.connectors.youtube.oauth`.

Why not google-api-python-client: it could be pointed at a local server (`client_options`),
but it is a discovery-document client over httplib2 that would bypass the shared `HttpClient`
(error mapping, retries, the runner's retry times), for four REST calls; httpx keeps YouTube's
errors, quota and retries in the same shape as the other connectors.

Checkpoints: threads come newest first (by the top-level comment's time) and a page token goes
back in time. A checkpoint holds `since` (the publication time up to which everything was read),
the page token of a sweep in progress, the newest time seen in that sweep, and the ids
published at or after `since`, so a restart resumes the sweep, and comments published in the
same second as the boundary are neither skipped nor returned twice.

YouTube has no idempotency key. Before a reply is written, and again before it is written a
second time after a failure that leaves it uncertain whether YouTube received it, the thread's
replies are read (1 quota unit): a reply by the channel with the same text is the one already
sent and is returned as replayed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import Field, SecretStr, ValidationError, field_validator

from clameur.connectors.base import (
    AccountIdentity,
    AuthError,
    Capability,
    Checkpoint,
    Connector,
    ConnectorConfig,
    FetchResult,
    ListenSource,
    OutgoingPost,
    PermanentError,
    Published,
    RateLimited,
    as_list,
    as_object,
    as_utc,
    payload_error,
    payload_time,
    required,
    same_words,
    validation_problem,
)
from clameur.connectors.http import (
    HttpClient,
    check_response,
    json_object,
    with_retries,
    write_once,
)
from clameur.connectors.oauth import apply_token
from clameur.kit.time import parse_datetime, utcnow
from clameur.pipeline.schemas import AuthorIn, PostIn

NETWORK = "youtube"
API_URL = "https://www.googleapis.com/youtube/v3"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SCOPES = ("https://www.googleapis.com/auth/youtube.force-ssl",)
PAGE_LIMIT = 100
REFRESH_MARGIN = timedelta(minutes=2)
# Pages of a thread's replies read at most (100 each).
REPLY_PAGES = 10
# Short per-user limits ("rateLimitExceeded") say no time: come back after this.
SHORT_LIMIT_DELAY = 60.0
_QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_KEY_REASONS = frozenset(
    {"keyInvalid", "keyExpired", "accessNotConfigured", "ipRefererBlocked", "API_KEY_INVALID"}
)
_OAUTH_REASONS = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})
_SCOPE_REASONS = frozenset(
    {"insufficientPermissions", "forbidden", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}
)


class YoutubeConfig(ConnectorConfig):
    """A YouTube channel: an API key to read its comments, a Google sign-in to answer them."""

    requirements: ClassVar[str] = (
        "A Google Cloud project with the YouTube Data API v3 enabled (free, 10,000 quota "
        "units a day: reading a page of comments costs 1, a reply 50; the quota resets at "
        "midnight Pacific Time). To read comments, create an API key under APIs & Services > "
        "Credentials. To reply, also create an OAuth client ID (type Web application, with "
        "Clameur's callback address) and paste its ID and secret: Clameur then sends you to "
        "Google to approve the scope youtube.force-ssl with the Google account that owns the "
        "channel. The channel's id starts with UC (YouTube Studio > Settings > Channel > "
        "Advanced settings)."
    )

    channel_id: str = Field(
        title="Channel ID", description="The channel whose videos' comments to follow (UC...)."
    )
    api_key: SecretStr | None = Field(
        default=None,
        title="API key",
        description="A YouTube Data API v3 key, to read public comments.",
    )
    client_id: str | None = Field(
        default=None,
        title="OAuth client ID",
        description="To reply: the Google OAuth client ID (…apps.googleusercontent.com).",
    )
    client_secret: SecretStr | None = Field(
        default=None, title="OAuth client secret", description="To reply: its secret."
    )
    # Filled by the connection flow (clameur.connectors.youtube.oauth) and by refreshes.
    refresh_token: SecretStr | None = Field(default=None, json_schema_extra={"form": False})
    access_token: SecretStr | None = Field(default=None, json_schema_extra={"form": False})
    token_expires_at: datetime | None = Field(default=None, json_schema_extra={"form": False})
    api_url: str = Field(default=API_URL, json_schema_extra={"form": False})
    token_url: str = Field(default=TOKEN_URL, json_schema_extra={"form": False})

    @field_validator("channel_id")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        value = value.strip().rstrip("/").rsplit("/", 1)[-1]
        if not value.startswith("UC") or len(value) < 10:
            raise ValueError("a channel id starts with UC (YouTube Studio > Settings > Channel)")
        return value

    @field_validator("api_url", "token_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.strip().rstrip("/")


def next_quota_reset(now: datetime | None = None) -> datetime:
    """The next midnight Pacific Time (when YouTube's daily quota resets), in UTC."""
    now = as_utc(now or utcnow())
    try:
        zone = ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:  # no tz database: the US rule (PDT from March to November)
        return _pacific_midnight_by_rule(now)
    local = now.astimezone(zone)
    # Wall-clock arithmetic: the offset of the next day (PST or PDT) applies.
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone) + timedelta(days=1)
    return midnight.astimezone(UTC)


def _pacific_midnight_by_rule(now: datetime) -> datetime:
    def offset(moment: datetime) -> timedelta:
        year = moment.year
        march = datetime(year, 3, 8, tzinfo=UTC)
        start = march + timedelta(days=(6 - march.weekday()) % 7, hours=10)
        november = datetime(year, 11, 1, tzinfo=UTC)
        end = november + timedelta(days=(6 - november.weekday()) % 7, hours=9)
        return timedelta(hours=-7) if start <= moment < end else timedelta(hours=-8)

    local = now + offset(now)
    day = datetime(local.year, local.month, local.day, tzinfo=UTC) + timedelta(days=1)
    guess = day - offset(now)
    return day - offset(guess)


def comment_url(video_id: str | None, comment_id: str) -> str | None:
    """The address that opens a video at a comment."""
    return f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}" if video_id else None


def thread_id_of(comment_id: str) -> str:
    """The thread (top-level comment) a comment belongs to: replies' ids are `thread.reply`."""
    return comment_id.split(".", 1)[0]


class YoutubeConnector(Connector[YoutubeConfig]):
    """The channel's comments through the YouTube Data API v3 over httpx."""

    network: ClassVar[str] = NETWORK
    title: ClassVar[str] = "YouTube"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.listen, Capability.conversations, Capability.reply}
    )
    config_model: ClassVar[type[ConnectorConfig]] = YoutubeConfig
    limitations: ClassVar[str] = (
        "Clameur reads the public comments on the channel's videos: comments held for review, "
        "likely spam or on private videos are not listed, and a new reply under an older "
        "comment appears when its conversation is opened (the listing follows new top-level "
        "comments, with the replies shown beside them). Publishing videos is not supported. "
        "The daily quota (10,000 units) limits how often comments are read and how many replies "
        "can be sent (50 units each)."
    )

    def __init__(
        self,
        config: YoutubeConfig,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        retry_attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config)
        self.sleep = sleep
        self.retry_attempts = retry_attempts
        self.http = HttpClient(
            NETWORK, timeout=timeout, attempts=1, transport=transport, title=self.title
        )

    # --- credentials -----------------------------------------------------------------------

    @property
    def can_reply(self) -> bool:
        """Whether the channel is connected with Google (OAuth), as replies need."""
        return bool(self.config.refresh_token or self.config.access_token)

    def _user_token(self) -> str:
        token = self.config.access_token
        expires = self.config.token_expires_at
        stale = expires is not None and utcnow() >= as_utc(expires) - REFRESH_MARGIN
        if token is None or stale:
            if self.config.refresh_token is None:
                raise AuthError(
                    "Replying on YouTube needs the channel connected with Google: add the "
                    "OAuth client ID and secret, then approve Clameur with the channel's "
                    "Google account.",
                    NETWORK,
                )
            self.refresh()
            token = self.config.access_token
            assert token is not None
        return token.get_secret_value()

    def refresh(self) -> None:
        """A new access token from the refresh token (`POST https://oauth2.googleapis.com/token`,
        grant_type=refresh_token)."""
        if self.config.refresh_token is None or not self.config.client_id:
            raise AuthError(
                "The YouTube channel is not connected with Google; connect it again.", NETWORK
            )
        try:
            answer = self.token_request(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": self.config.refresh_token.get_secret_value(),
                }
            )
        except (AuthError, PermanentError) as error:
            # 400 invalid_grant: the token was revoked, or expired (7 days for apps "in testing").
            raise AuthError(
                f"Google refused to renew the channel's access ({error.message}). Connect the "
                "YouTube channel again.",
                NETWORK,
            ) from None
        self.config = apply_token(self.config, answer, NETWORK)
        self._config_changed = True

    def token_request(self, data: Mapping[str, str]) -> dict[str, Any]:
        """`POST` to Google's token endpoint with the OAuth client's id and secret."""
        secret = self.config.client_secret
        response = self._send(
            "POST",
            self.config.token_url,
            data={
                **data,
                "client_id": self.config.client_id or "",
                "client_secret": secret.get_secret_value() if secret else "",
            },
        )
        return json_object(response, NETWORK, "token answer")

    # --- calling the API -------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.http.send(method, url, **kwargs)
        if response.status_code in (400, 401, 403, 429):
            raise self._refusal(response)
        return check_response(response, NETWORK)

    def _refusal(self, response: httpx.Response) -> Exception:
        """The error a refusal means, read from Google's error body (`error.errors[].reason`)."""
        status = response.status_code
        reasons, message = _google_error(response)
        said = message or ", ".join(sorted(reasons))
        if reasons & _QUOTA_REASONS:
            reset = next_quota_reset()
            return RateLimited(
                f"The YouTube Data API daily quota of this Google Cloud project is spent; "
                f"retrying after it resets at midnight Pacific Time "
                f"({reset.isoformat(timespec='seconds')}).",
                NETWORK,
                retry_at=reset,
            )
        if status == 429 or reasons & _RATE_REASONS:
            return RateLimited(
                f"YouTube asks to slow down ({said}); retrying in a minute.",
                NETWORK,
                delay=SHORT_LIMIT_DELAY,
            )
        if status == 401:
            return _Unauthorised(said or "HTTP 401")
        if reasons & _KEY_REASONS:
            return AuthError(
                f"YouTube refused the API key ({said}). Check the key, and that the YouTube "
                "Data API v3 is enabled for its Google Cloud project.",
                NETWORK,
            )
        if reasons & _SCOPE_REASONS:
            return AuthError(
                f"YouTube refused the request ({said}): the Google account lacks the "
                "permission (scope youtube.force-ssl, or it does not own the channel). Connect "
                "the YouTube channel again.",
                NETWORK,
            )
        if reasons & _OAUTH_REASONS:
            return AuthError(f"Google refused the credentials ({said}).", NETWORK)
        named = ", ".join(sorted(reasons))
        detail = f"{named}: {message}" if named and message else said
        return PermanentError(
            f"YouTube refused the request (HTTP {status}{', ' + detail if detail else ''}).",
            NETWORK,
        )

    def _read(self, path: str, params: dict[str, Any], what: str) -> dict[str, Any]:
        """A list call with the API key (or the channel's token when there is no key); short
        outages retried in place; a refused token renewed once."""

        def attempt() -> dict[str, Any]:
            if self.config.api_key is not None:
                query = {**params, "key": self.config.api_key.get_secret_value()}
                response = self._translate_key_401(
                    lambda: self._send("GET", self._url(path), params=query)
                )
            elif self.can_reply:
                response = self._as_user("GET", path, params=params)
            else:
                raise AuthError(
                    "Reading YouTube comments needs an API key (or the channel connected with "
                    "Google): add one in the settings.",
                    NETWORK,
                )
            return json_object(response, NETWORK, what)

        return with_retries(attempt, attempts=self.retry_attempts, sleep=self.sleep)

    def _translate_key_401(self, call: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            return call()
        except _Unauthorised as error:
            raise AuthError(
                f"YouTube refused the API key ({error}). Check the key in the settings.", NETWORK
            ) from None

    def _as_user(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request with the channel's OAuth token, renewed once if refused."""

        def send() -> httpx.Response:
            headers = {"Authorization": f"Bearer {self._user_token()}"}
            return self._send(method, self._url(path), headers=headers, **kwargs)

        try:
            return send()
        except _Unauthorised as error:
            if self.config.refresh_token is None:
                raise _expired(str(error)) from None
            self.refresh()
        try:
            return send()
        except _Unauthorised as error:
            raise _expired(str(error)) from None

    def _url(self, path: str) -> str:
        return f"{self.config.api_url}/{path.lstrip('/')}"

    # --- normalising -----------------------------------------------------------------------

    def to_post(self, comment: Any, thread: Mapping[str, Any] | None = None) -> PostIn:
        """A YouTube comment (a top-level one with its thread, or a reply) as a Clameur post."""
        entity = as_object(comment, NETWORK, "comment")
        comment_id = str(required(entity, "id", NETWORK, "comment"))
        what = f"comment {comment_id}"
        snippet = as_object(entity.get("snippet"), NETWORK, f"{what} snippet")
        text = str(snippet.get("textDisplay") or snippet.get("textOriginal") or "").strip()
        if not text:
            raise payload_error(NETWORK, what, "it has no text")
        author = str(snippet.get("authorDisplayName") or "").strip()
        channel = snippet.get("authorChannelId")
        author_channel = channel.get("value") if isinstance(channel, Mapping) else None
        video_id = snippet.get("videoId") or (
            (thread.get("snippet") or {}).get("videoId") if thread else None
        )
        metrics = {"likes": int(snippet.get("likeCount") or 0)}
        if thread is not None:
            metrics["replies"] = int((thread.get("snippet") or {}).get("totalReplyCount") or 0)
        handle = author or str(author_channel or "")
        try:
            return PostIn(
                id=comment_id,
                network=NETWORK,
                text=text,
                created_at=payload_time(
                    required(snippet, "publishedAt", NETWORK, what), NETWORK, what
                ),
                author=AuthorIn(handle=handle, name=author) if handle else None,
                url=comment_url(video_id, comment_id),
                in_reply_to=snippet.get("parentId"),
                conversation_id=snippet.get("parentId") or thread_id_of(comment_id),
                metrics=metrics,
            )
        except ValidationError as error:
            raise payload_error(NETWORK, what, validation_problem(error)) from None

    def _thread_comments(self, thread: Any) -> list[tuple[dict[str, Any], PostIn]]:
        """A thread's top-level comment and the replies listed with it, as (comment, post)."""
        entity = as_object(thread, NETWORK, "comment thread")
        what = f"comment thread {entity.get('id')}"
        snippet = as_object(entity.get("snippet"), NETWORK, f"{what} snippet")
        top = as_object(
            required(snippet, "topLevelComment", NETWORK, what),
            NETWORK,
            f"{what} top-level comment",
        )
        found = [(top, self.to_post(top, entity))]
        replies = entity.get("replies") or {}
        for reply in as_list(
            as_object(replies, NETWORK, f"{what} replies").get("comments"), NETWORK, "replies"
        ):
            reply = as_object(reply, NETWORK, "reply")
            reply.setdefault("snippet", {}).setdefault("videoId", snippet.get("videoId"))
            found.append((reply, self.to_post(reply)))
        return found

    # --- capabilities ----------------------------------------------------------------------

    def check(self) -> AccountIdentity:
        """The channel's name and address (`channels.list`)."""
        body = self._read(
            "channels", {"part": "snippet", "id": self.config.channel_id}, "channel list"
        )
        items = as_list(body.get("items"), NETWORK, "channel list items")
        if not items:
            raise PermanentError(
                f"YouTube has no channel {self.config.channel_id}; check the channel ID.", NETWORK
            )
        channel = as_object(items[0], NETWORK, "channel")
        snippet = as_object(channel.get("snippet"), NETWORK, "channel snippet")
        title = str(snippet.get("title") or "")
        return AccountIdentity(
            handle=str(snippet.get("customUrl") or title or self.config.channel_id),
            display_name=title,
            external_id=self.config.channel_id,
            url=f"https://www.youtube.com/channel/{self.config.channel_id}",
        )

    def sources(self) -> list[ListenSource]:
        """The comments on the channel's videos."""
        return [ListenSource("comments", self.config.channel_id)]

    def listen(
        self, source: ListenSource, checkpoint: Checkpoint | None, limit: int = PAGE_LIMIT
    ) -> FetchResult:
        """The comments published since the checkpoint, one page of threads a call, oldest
        first."""
        if source.kind != "comments":
            raise PermanentError(f"YouTube cannot listen to {source.key!r}.", NETWORK)
        state = _Sweep.load(checkpoint)
        params: dict[str, Any] = {
            "part": "snippet,replies",
            "allThreadsRelatedToChannelId": source.value or self.config.channel_id,
            "order": "time",
            "textFormat": "plainText",
            "maxResults": max(1, min(limit, PAGE_LIMIT)),
        }
        if state.page_token:
            params["pageToken"] = state.page_token
        body = self._read("commentThreads", params, "comment thread list")
        threads = as_list(body.get("items"), NETWORK, "comment thread list items")
        fresh: list[PostIn] = []
        reached_old = False
        for thread in threads:
            comments = self._thread_comments(thread)
            top_at = comments[0][1].created_at
            if state.since is not None and top_at < state.since:
                reached_old = True
            for _, post in comments:
                if state.take(post.id, post.created_at):
                    fresh.append(post)
        next_token = body.get("nextPageToken")
        more = state.advance(next_token if isinstance(next_token, str) else None, reached_old)
        fresh.sort(key=lambda post: post.created_at)
        return FetchResult(posts=fresh, checkpoint=state.dump(), more=more)

    def _replies(self, parent_id: str, pages: int = REPLY_PAGES) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "part": "snippet",
            "parentId": parent_id,
            "maxResults": PAGE_LIMIT,
            "textFormat": "plainText",
        }
        found: list[dict[str, Any]] = []
        for _ in range(pages):
            body = self._read("comments", params, "comment list")
            found += [
                as_object(item, NETWORK, "comment")
                for item in as_list(body.get("items"), NETWORK, "comments")
            ]
            token = body.get("nextPageToken")
            if not token:
                break
            params["pageToken"] = token
        return found

    def conversation(self, post_id: str) -> list[PostIn]:
        """A thread: its top-level comment, then all its replies in order."""
        thread_id = thread_id_of(post_id)
        body = self._read(
            "commentThreads",
            {"part": "snippet", "id": thread_id, "textFormat": "plainText"},
            "comment thread",
        )
        items = as_list(body.get("items"), NETWORK, "comment thread items")
        if not items:
            raise PermanentError(
                f"The YouTube comment {thread_id} no longer exists or is not public.", NETWORK
            )
        thread = as_object(items[0], NETWORK, "comment thread")
        top = self._thread_comments({**thread, "replies": None})[0][1]
        video_id = (thread.get("snippet") or {}).get("videoId")
        replies = []
        for reply in self._replies(thread_id):
            reply.setdefault("snippet", {}).setdefault("videoId", video_id)
            replies.append(self.to_post(reply))
        replies.sort(key=lambda post: post.created_at)
        return [top, *replies]

    def find_published(self, parent_id: str, text: str) -> dict[str, Any] | None:
        """The channel's reply with this text already under the thread, if any."""
        for reply in self._replies(parent_id, pages=1):
            snippet = reply.get("snippet") or {}
            author = snippet.get("authorChannelId")
            author_id = author.get("value") if isinstance(author, Mapping) else None
            said = str(snippet.get("textOriginal") or snippet.get("textDisplay") or "")
            if author_id == self.config.channel_id and same_words(said, text):
                return reply
        return None

    def reply(self, post: OutgoingPost) -> Published:
        """Answer a comment in its thread (`comments.insert`); a reply already there is found,
        not written twice."""
        if not post.in_reply_to:
            raise PermanentError("A reply needs the comment it answers.", NETWORK)
        if not self.can_reply:
            raise AuthError(
                "Replying on YouTube needs the channel connected with Google: add the OAuth "
                "client ID and secret, then approve Clameur with the channel's Google account.",
                NETWORK,
            )
        parent_id = thread_id_of(post.in_reply_to)

        def write() -> Published:
            response = self._as_user(
                "POST",
                "comments",
                params={"part": "snippet"},
                json={"snippet": {"parentId": parent_id, "textOriginal": post.text}},
            )
            return self._published(json_object(response, NETWORK, "inserted comment"), False)

        def find() -> Published | None:
            existing = self.find_published(parent_id, post.text)
            return self._published(existing, replayed=True) if existing is not None else None

        # YouTube may have written the reply before failing: look before writing again.
        return write_once(write, find, self.retry_attempts, self.sleep)

    def _published(self, comment: dict[str, Any], replayed: bool) -> Published:
        comment_id = str(required(comment, "id", NETWORK, "inserted comment"))
        snippet = comment.get("snippet") or {}
        return Published(
            external_id=comment_id,
            url=comment_url(snippet.get("videoId"), comment_id),
            replayed=replayed,
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


class _Unauthorised(Exception):
    """Google refused the credentials (HTTP 401)."""


def _expired(reason: str) -> AuthError:
    return AuthError(
        f"YouTube refused the channel's access token ({reason}): it expired or was revoked. "
        "Connect the YouTube channel again.",
        NETWORK,
    )


def _google_error(response: httpx.Response) -> tuple[set[str], str]:
    """The reasons and message of a Google error body (API errors and OAuth errors)."""
    try:
        body = response.json()
    except ValueError:
        return set(), ""
    if not isinstance(body, dict):
        return set(), ""
    error = body.get("error")
    if isinstance(error, str):  # OAuth: {"error": "invalid_grant", "error_description": ...}
        return {error}, str(body.get("error_description") or "")[:300]
    if not isinstance(error, dict):
        return set(), ""
    items = [*(error.get("errors") or []), *(error.get("details") or [])]
    reasons = {
        str(item["reason"]) for item in items if isinstance(item, dict) and item.get("reason")
    }
    return reasons, str(error.get("message") or "")[:300]


class _Sweep:
    """Checkpoint of the newest-first thread listing: read back to `since`, one page a call."""

    def __init__(
        self,
        since: datetime | None,
        page_token: str | None,
        high: datetime | None,
        seen: dict[str, str],
    ) -> None:
        self.since = since
        self.page_token = page_token
        self.high = high
        self.seen = seen

    @classmethod
    def load(cls, checkpoint: Checkpoint | None) -> _Sweep:
        data = checkpoint or {}

        def moment(name: str) -> datetime | None:
            value = data.get(name)
            return parse_datetime(value) if isinstance(value, str) and value else None

        seen = data.get("seen")
        return cls(
            moment("since"),
            data.get("page_token") or None,
            moment("high"),
            {str(k): str(v) for k, v in seen.items()} if isinstance(seen, dict) else {},
        )

    def take(self, comment_id: str, published: datetime) -> bool:
        """Whether a comment is new: published at or after `since`, and not returned before."""
        if self.since is not None and published < self.since:
            return False
        if comment_id in self.seen:
            return False
        self.seen[comment_id] = published.isoformat()
        if self.high is None or published > self.high:
            self.high = published
        return True

    def advance(self, next_token: str | None, reached_old: bool) -> bool:
        """Move on after a page; whether the sweep goes on (more waiting now)."""
        # The first read takes one page (from now on); later ones read back to `since`.
        if self.since is not None and next_token and not reached_old:
            self.page_token = next_token
            return True
        self.page_token = None
        self.since = self.high or self.since or utcnow()
        # Only the ids at the new boundary can come again.
        self.seen = {key: at for key, at in self.seen.items() if parse_datetime(at) >= self.since}
        return False

    def dump(self) -> Checkpoint:
        return {
            "since": self.since.isoformat() if self.since else None,
            "page_token": self.page_token,
            "high": self.high.isoformat() if self.high else None,
            "seen": self.seen,
        }
