"""X (API v2): recent search and mentions in; conversations; replies and posts out.

A thin client on httpx (through `clameur.connectors.http`) for the endpoints documented at
docs.x.com:

- recent search, `GET /2/tweets/search/recent` with `since_id` and `next_token`: the last
  7 days only (https://docs.x.com/x-api/posts/search/introduction,
  https://docs.x.com/x-api/posts/search/quickstart/recent-search);
- mentions, `GET /2/users/:id/mentions` with `since_id` and `pagination_token`: the latest 800
  (https://docs.x.com/x-api/posts/timelines/quickstart/user-mention-quickstart);
- a post and its conversation, `GET /2/tweets/:id` then recent search for
  `conversation_id:<id>`;
- the account's own posts, `GET /2/users/:id/tweets` (to recognise a reply already sent);
- replies and posts, `POST /2/tweets` with `reply.in_reply_to_tweet_id`
  (https://docs.x.com/x-api/posts/manage-tweets/introduction);
- images and animated GIFs: each is downloaded (`clameur.connectors.media`) before anything is
  read or written on X. Size limits (https://docs.x.com/x-api/media/introduction): an image at
  most 5 MB, a GIF at most 15 MB. A post carries up to 4 photos or one animated GIF, not both
  (https://docs.x.com/x-api/media/quickstart/best-practices): a GIF beside another image is
  refused before anything is uploaded.
  A still image (JPEG, PNG, WebP, BMP or TIFF, the types the `tweet_image` category takes) goes
  through the simple upload, `POST /2/media/upload` as multipart/form-data with `media` and
  `media_category=tweet_image`, which answers the media `id`
  (https://docs.x.com/x-api/media/upload-media). X calls it "the older simple upload (images
  only)" and recommends the chunked one (https://docs.x.com/x-api/media/introduction), but
  documents it without deprecation; it is one request an image instead of three, so still
  images keep it.
  A GIF (image/gif) takes the chunked upload in the `tweet_gif` category, on the dedicated
  paths of the API reference: `POST /2/media/upload/initialize` with a JSON body
  (`media_type`, `total_bytes`, `media_category`), answering the media `id`
  (https://docs.x.com/x-api/media/initialize-media-upload); `POST
  /2/media/upload/{id}/append`, multipart/form-data with `media` (the chunk) and
  `segment_index` from 0 (https://docs.x.com/x-api/media/append-media-upload); `POST
  /2/media/upload/{id}/finalize`, which answers the media with its `processing_info`
  (https://docs.x.com/x-api/media/finalize-media-upload). The chunked quickstart
  (https://docs.x.com/x-api/media/quickstart/media-upload-chunked) still shows the older form,
  `command=INIT|APPEND|FINALIZE` on `POST /2/media/upload`, reported retired since mid-2025;
  the API reference's paths are the ones used. Chunks are `CHUNK_BYTES`: 4 MiB, as X's own
  v2 sample sends (https://github.com/xdevplatform/samples, Media Upload/media_upload_v2.py;
  the v1.1 APPEND reference allowed at most 5 MB a chunk), so a 15 MB GIF takes 4 of them.
  A chunk that failed is sent again in place with the same `segment_index` ("failed chunks
  can be retried individually", quickstart).
  Media still processing (`processing_info.state` pending or in_progress) is asked for again
  after the `check_after_secs` X gives, with `GET /2/media/upload?command=STATUS&media_id=`
  (https://docs.x.com/x-api/media/get-media-upload-status), at most `PROCESSING_WAIT` seconds
  in all (then the outbox tries the post again later, not in place); `failed` stops with X's
  `processing_info.error.message`, which a person must act on. The post carries the ids in
  `media.media_ids` (https://docs.x.com/x-api/posts/manage-tweets/introduction). Uploading
  needs the `media.write` scope
  (https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code);
- image descriptions (alt text): after an image or GIF is uploaded (and processed), its
  description, when one was written, is set with `POST /2/media/metadata` and the JSON body
  `{"id": <media id>, "metadata": {"alt_text": {"text": ...}}}`
  (https://docs.x.com/x-api/media/create-media-metadata), before the post is created. X takes
  at most 1,000 characters: a longer description is refused, naming the image, before
  anything is downloaded or sent;
- who the token belongs to, `GET /2/users/me`;
- fields and expansions: `tweet.fields=created_at,conversation_id,in_reply_to_user_id,
  referenced_tweets,public_metrics,lang`, `expansions=author_id`,
  `user.fields=public_metrics,verified`;
- rate limits, `x-rate-limit-remaining` and `x-rate-limit-reset` (a Unix time) on every answer,
  429 when spent, and the 24-hour posting limit in `x-user-limit-24hour-reset`
  (https://docs.x.com/fundamentals/rate-limits);
- 403 (https://docs.x.com/x-api/fundamentals/response-codes-and-errors): the `client-forbidden`
  and `unsupported-authentication` problems refuse the App (no Project, an access level without
  the endpoint) and need a person; any other 403 refuses that one request;
- OAuth 2.0 authorization code with PKCE, access tokens valid two hours, refresh tokens with
  `offline.access`, rotated on every refresh
  (https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code,
  https://docs.x.com/fundamentals/authentication/oauth-2-0/user-access-token); the flow that
  connects an account is in `clameur.connectors.x.oauth`;
- the filtered stream (opt-in, "Live stream"), `GET /2/tweets/search/stream`: newline-delimited
  JSON, one post a line with its `includes` and `matching_rules`, a blank line as keep-alive
  every 20 seconds (https://docs.x.com/x-api/posts/filtered-stream/introduction,
  https://docs.x.com/x-api/posts/filtered-stream/integrate/matching-returned-tweets); its rules
  through `GET` and `POST /2/tweets/search/stream/rules` with `add` and `delete`
  (https://docs.x.com/x-api/posts/filtered-stream/quickstart), with the app's bearer token
  (OAuth 2.0 App-Only). Rules belong to the app, not to the account: each account tags its
  rules `clameur:<account id>` and only ever deletes rules with its tag; a rule another tag
  already holds with the same value is used, not added twice, and posts are kept only when one
  of the account's rules matched them. Disconnections are expected
  (https://docs.x.com/x-api/fundamentals/handling-disconnections): a read silent for longer
  than the 20-second keep-alive reconnects; after an HTTP error the first wait is 5 seconds,
  after a 429 a minute (or until `x-rate-limit-reset`), doubling from there in the caller; an
  `operational-disconnect` line ends the connection. A line that cannot be read is logged and
  skipped. The stream cannot resume (backfill is for Enterprise): recent search fills the gap;
- pay-per-use credits, each post read billed, a monthly cap of 2 million post reads
  (https://docs.x.com/x-api/getting-started/pricing, https://docs.x.com/x-api/fundamentals/post-cap.md).

Why not tweepy or the official SDK: tweepy's `Client` sends every request to a fixed
api.twitter.com host, so the real code cannot run against a local replay of the API, and its
rate-limit handling sleeps in the worker instead of handing the reset time to the runner; the
official `xdk` would add a generated client for five endpoints. The shared `HttpClient` gives
the same error mapping as the other connectors.

Checkpoints: X returns the newest posts first and pages back in time with a token. A checkpoint
holds `since_id` (everything up to it is read), and while a sweep is in progress its
`next_token` and the newest id seen in it; when the sweep reaches `since_id` the newest id
becomes the new `since_id`. Post ids grow with time, so nothing is returned twice and nothing
between two sweeps is skipped. A `since_id` older than recent search's 7 days is replaced by
the oldest `start_time` X accepts (what fell out of the window in between cannot be read).

X has no idempotency header. Before a post is written, and again before it is written a second
time after a failure that leaves it uncertain whether X received it (a timeout, a 5xx, an answer
"duplicate content"), the account's own posts since the post answered (or since the reply was
created) are read: a post with the same text in reply to the same post is the one already sent,
and it is returned as replayed instead of posting again. This costs one read of the account's
own posts per reply, and covers retries by the outbox after a crash as well as retries in place.
A post with images shows its text followed by one t.co link to them, which the comparison allows.
Images are downloaded before anything is read or written on X, uploaded (and described) once
per attempt, and uploaded again when the outbox tries again (media ids left unused expire).
Media requests follow the rules of the other requests: a 429 waits in place when X's reset is
at most 10 seconds away and otherwise goes back to the outbox with X's reset time; a 5xx on the
initialize, append, status and metadata requests is retried in place. FINALIZE is not: if X
finalized before failing, finalizing again could be refused, so the attempt fails and the next
one (after a look for the post) starts a new upload.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr, ValidationError, field_validator

from clameur.connectors.base import (
    AccountIdentity,
    AuthError,
    Capability,
    Checkpoint,
    Connector,
    ConnectorConfig,
    ConnectorError,
    FetchResult,
    ListenSource,
    OutgoingPost,
    PermanentError,
    Published,
    RateLimited,
    RetryableError,
    StreamItem,
    as_list,
    as_object,
    as_utc,
    payload_error,
    required,
    validation_problem,
)
from clameur.connectors.http import (
    HttpClient,
    check_response,
    json_object,
    retry_at_from_headers,
    with_retries,
    write_once,
)
from clameur.connectors.media import Image, download_images, megabytes, shown
from clameur.connectors.oauth import apply_token
from clameur.connectors.streaming import Merged, http_lines, stream_client
from clameur.kit.time import utcnow
from clameur.pipeline.schemas import AuthorIn, PostIn

log = logging.getLogger(__name__)

NETWORK = "x"
API_URL = "https://api.x.com"
SCOPES = ("tweet.read", "users.read", "tweet.write", "media.write", "offline.access")
PAGE_LIMIT = 100
SEARCH_MIN_RESULTS = 10
MENTIONS_MIN_RESULTS = 5
SEARCH_WINDOW = timedelta(days=7)
# Renew the access token this long before it expires.
REFRESH_MARGIN = timedelta(minutes=2)
# Pages of a conversation read at most (100 posts each).
CONVERSATION_PAGES = 5
TWEET_FIELDS = (
    "created_at,conversation_id,in_reply_to_user_id,referenced_tweets,public_metrics,lang,"
    "author_id,note_tweet"
)
USER_FIELDS = "public_metrics,verified,username,name"
EXPANSIONS = "author_id"
STREAM = "/2/tweets/search/stream"
STREAM_RULES = "/2/tweets/search/stream/rules"
# X sends a keep-alive every 20 seconds: a little longer without a byte is a dead connection.
STREAM_TIMEOUT = 30.0
# The first waits X asks for after an HTTP error and after a 429 (the caller doubles them).
STREAM_HTTP_WAIT = 5.0
STREAM_RATE_WAIT = 60.0
_FIELDS = {"tweet.fields": TWEET_FIELDS, "expansions": EXPANSIONS, "user.fields": USER_FIELDS}
# Post ids are snowflakes: milliseconds since this epoch, shifted left 22 bits.
_SNOWFLAKE_EPOCH_MS = 1288834974657
# X's own codes for posts without a language (undetermined, media only, hashtags only...).
_NO_LANGUAGE = frozenset({"und", "zxx", "qam", "qct", "qht", "qme", "qst"})
_URL = re.compile(r"https?://\S+")
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 5_000_000
MAX_GIF_BYTES = 15_000_000
# The media types of the tweet_image category (the simple upload).
IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/pjpeg", "image/png", "image/webp", "image/bmp", "image/tiff"}
)
# An animated GIF: the chunked upload, in the tweet_gif category.
GIF = "image/gif"
MEDIA_TYPES = IMAGE_TYPES | {GIF}
MEDIA_UPLOAD = "/2/media/upload"
MEDIA_INITIALIZE = "/2/media/upload/initialize"
MEDIA_METADATA = "/2/media/metadata"
# Bytes sent by each APPEND of the chunked upload.
CHUNK_BYTES = 4 * 1024 * 1024
# The longest description (alt text) X takes, in characters.
MAX_ALT_TEXT = 1000
# Looks at media X is still processing, and seconds waited for it, at most.
PROCESSING_LOOKS = 10
PROCESSING_WAIT = 120.0


class XConfig(ConnectorConfig):
    """An X account connected with OAuth 2.0, and what it listens to."""

    requirements: ClassVar[str] = (
        "An X developer account with pay-per-use credits (or a legacy Basic or Pro plan): "
        "every post Clameur reads is billed by X (about $0.005 a post, up to 2 million post "
        "reads a month), every reply or post written too. In the Developer Console, create an "
        "App, turn on OAuth 2.0 under User authentication settings (App permissions: Read and "
        "write; type: Web App, Automated App or Bot), add Clameur's callback address, and "
        "copy the OAuth 2.0 Client ID and Client Secret. Clameur then sends you to X to "
        "approve the scopes tweet.read, users.read, tweet.write, media.write (images and GIFs) "
        "and offline.access. Recent search reaches back 7 days only."
    )

    client_id: str = Field(
        title="OAuth 2.0 Client ID",
        description="From the App's Keys and tokens page in the X Developer Console.",
    )
    client_secret: SecretStr | None = Field(
        default=None,
        title="OAuth 2.0 Client Secret",
        description="For confidential apps (Web App, Automated App or Bot); leave blank for a "
        "native app.",
    )
    searches: list[str] = Field(
        default_factory=list,
        title="Searches",
        description="Recent search queries to follow, one a line (X's search operators, for "
        "example: clameur lang:fr).",
    )
    mentions: bool = Field(
        default=True, title="Mentions", description="Bring the account's mentions to the inbox."
    )
    include_reposts: bool = Field(
        default=False,
        title="Reposts",
        description="Also bring reposts found by the searches (each one is billed).",
    )
    stream: bool = Field(
        default=False,
        title="Live stream",
        description="Receive the searches' posts and the mentions within seconds through X's "
        "filtered stream (needs the bearer token below and a plan that includes it); each "
        "post is billed like a read.",
    )
    bearer_token: SecretStr | None = Field(
        default=None,
        title="App bearer token",
        description="For the live stream only: the App's Bearer Token, from its Keys and "
        "tokens page in the X Developer Console.",
    )
    # Filled by the connection flow (clameur.connectors.x.oauth) and by token refreshes.
    access_token: SecretStr | None = Field(default=None, json_schema_extra={"form": False})
    refresh_token: SecretStr | None = Field(default=None, json_schema_extra={"form": False})
    token_expires_at: datetime | None = Field(default=None, json_schema_extra={"form": False})
    user_id: str | None = Field(default=None, json_schema_extra={"form": False})
    username: str | None = Field(default=None, json_schema_extra={"form": False})
    api_url: str = Field(default=API_URL, json_schema_extra={"form": False})

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("enter the app's OAuth 2.0 Client ID")
        return value.strip()

    @field_validator("searches")
    @classmethod
    def _searches(cls, value: list[str]) -> list[str]:
        return [query.strip() for query in value if query.strip()]

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return value.strip().rstrip("/")


def post_time(post_id: str) -> datetime | None:
    """When a post was created, read from its snowflake id (None for an id that is not one)."""
    if not post_id.isdigit():
        return None
    millis = (int(post_id) >> 22) + _SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(millis / 1000, UTC)


def snowflake_after(moment: datetime) -> str:
    """The smallest post id created after `moment`."""
    millis = int(as_utc(moment).timestamp() * 1000) - _SNOWFLAKE_EPOCH_MS
    return str(max(millis, 0) << 22)


def same_text(published: str, wanted: str) -> bool:
    """Whether a post's text as X returns it is `wanted`: X escapes &, < and > and wraps links in
    t.co addresses, so both are compared without entities, links and spacing."""

    def plain(text: str) -> str:
        return " ".join(_URL.sub("<link>", html.unescape(text)).split())

    return plain(published) == plain(wanted)


def _iso(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id_key(value: str) -> int:
    return int(value) if value.isdigit() else -1


def _replied_to(tweet: Mapping[str, Any]) -> str | None:
    for reference in tweet.get("referenced_tweets") or []:
        if isinstance(reference, Mapping) and reference.get("type") == "replied_to":
            return str(reference.get("id"))
    return None


def _is_repost(tweet: Mapping[str, Any]) -> bool:
    return any(
        isinstance(reference, Mapping) and reference.get("type") == "retweeted"
        for reference in tweet.get("referenced_tweets") or []
    )


class XConnector(Connector[XConfig]):
    """X API v2 with the account's OAuth 2.0 user token, through httpx."""

    network: ClassVar[str] = NETWORK
    title: ClassVar[str] = "X"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.listen,
            Capability.conversations,
            Capability.reply,
            Capability.publish,
            Capability.stream,
            Capability.images,
        }
    )
    config_model: ClassVar[type[ConnectorConfig]] = XConfig
    max_images: ClassVar[int | None] = MAX_IMAGES
    limitations: ClassVar[str] = (
        "X bills every post read and written (pay-per-use credits, 2 million post reads a "
        "month at most), so searches should be narrow. Recent search reaches back 7 days: posts "
        "older than that, or published while Clameur was stopped for more than 7 days, cannot "
        "be read. Mentions go back 800 posts. Protected accounts' posts and direct messages are "
        "not used; conversations show the last 7 days of replies. The live stream (filtered "
        "stream) needs a plan that includes it, and X allows one stream connection per app: "
        "give each streaming account its own app. While the stream is down, recent search "
        "fills the gap."
    )

    def __init__(
        self,
        config: XConfig,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        retry_attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config)
        self.sleep = sleep
        self.retry_attempts = retry_attempts
        # One try per request: reads are retried by `_api`, writes only after a look (below).
        self.http = HttpClient(
            NETWORK,
            base_url=config.api_url,
            timeout=timeout,
            attempts=1,
            transport=transport,
            title=self.title,
        )
        # The rate-limit state X gave per endpoint: requests left, and when the window resets.
        self.limits: dict[str, tuple[int, datetime]] = {}

    # --- tokens ----------------------------------------------------------------------------

    def _token(self) -> str:
        token = self.config.access_token
        if token is None:
            raise AuthError(
                "The X account is not connected yet: approve Clameur on X from the account's "
                "settings.",
                NETWORK,
            )
        expires = self.config.token_expires_at
        if (
            expires is not None
            and self.config.refresh_token is not None
            and utcnow() >= as_utc(expires) - REFRESH_MARGIN
        ):
            self.refresh()
            token = self.config.access_token
            assert token is not None
        return token.get_secret_value()

    def refresh(self) -> None:
        """Renew the access token with the refresh token; X rotates both, and the new pair is
        kept for `updated_config()`."""
        refresh_token = self.config.refresh_token
        if refresh_token is None:
            raise AuthError(
                "The X access token expired and there is no refresh token (the offline.access "
                "scope was not granted). Connect the account again.",
                NETWORK,
            )
        try:
            answer = self.token_request(
                {"grant_type": "refresh_token", "refresh_token": refresh_token.get_secret_value()}
            )
        except AuthError as error:
            raise AuthError(
                f"X refused to renew the account's token ({error.message}). It was revoked or "
                "already used; connect the account again.",
                NETWORK,
            ) from None
        except PermanentError as error:
            # 400 invalid_request / invalid_grant: the refresh token is no longer valid.
            raise AuthError(
                f"X refused to renew the account's token ({error.message}). Connect the "
                "account again.",
                NETWORK,
            ) from None
        self.config = apply_token(self.config, answer, NETWORK)
        self._config_changed = True

    def token_request(self, data: Mapping[str, str]) -> dict[str, Any]:
        """`POST /2/oauth2/token` with the app's client id (and, for a confidential app, its
        id and secret in a Basic header); the token answer."""
        secret = self.config.client_secret
        response = self._send(
            "POST",
            "/2/oauth2/token",
            "token",
            authorize=False,
            data={**data, "client_id": self.config.client_id},
            auth=(self.config.client_id, secret.get_secret_value()) if secret else None,
        )
        return json_object(response, NETWORK, "token answer")

    # --- calling the API -------------------------------------------------------------------

    def _send(
        self, method: str, path: str, endpoint: str, authorize: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """One request: the limit X gave for `endpoint` is respected, its new state kept, and
        failures turned into connector errors."""
        known = self.limits.get(endpoint)
        now = utcnow()
        if known is not None and known[0] <= 0 and known[1] > now:
            raise RateLimited(
                f"X rate limit for {endpoint} is spent; retrying at "
                f"{known[1].isoformat(timespec='seconds')}.",
                NETWORK,
                retry_at=known[1],
                now=now,
            )
        headers = dict(kwargs.pop("headers", None) or {})
        if authorize:
            headers["Authorization"] = f"Bearer {self._token()}"
        response = self.http.send(method, path, headers=headers, **kwargs)
        self._remember_limit(endpoint, response.headers)
        if response.status_code == 429:
            raise self._rate_limited(endpoint, response)
        if response.status_code == 401 and authorize:
            raise Unauthorised(_problem(response) or "HTTP 401")
        if response.status_code == 403:
            raise _forbidden(response)
        return check_response(response, NETWORK)

    def _remember_limit(self, endpoint: str, headers: Mapping[str, str]) -> None:
        remaining = headers.get("x-rate-limit-remaining")
        reset = headers.get("x-rate-limit-reset")
        if remaining is None or reset is None:
            return
        try:
            moment = retry_at_from_headers({"X-Rate-Limit-Reset": reset})
            count = int(remaining)
        except ValueError:
            return
        if moment is not None:
            self.limits[endpoint] = (count, moment)

    def _rate_limited(self, endpoint: str, response: httpx.Response) -> RateLimited:
        headers = response.headers
        retry_at = None
        which = "rate limit"
        # The 24-hour posting limits outlast the 15-minute window: their reset comes first.
        for scope in ("user", "app"):
            if headers.get(f"x-{scope}-limit-24hour-remaining") == "0":
                retry_at = retry_at_from_headers(
                    {"X-Rate-Limit-Reset": headers.get(f"x-{scope}-limit-24hour-reset", "")}
                )
                which = f"24-hour {'account' if scope == 'user' else 'app'} limit"
                break
        if retry_at is None:
            retry_at = retry_at_from_headers(headers)
        if retry_at is not None:
            self.limits[endpoint] = (0, retry_at)
        when = retry_at.isoformat(timespec="seconds") if retry_at else "later"
        said = _problem(response)
        detail = f" ({said})" if said else ""
        return RateLimited(
            f"X {which} reached for {endpoint}{detail}; retrying at {when}.",
            NETWORK,
            retry_at=retry_at,
        )

    def _api(
        self,
        method: str,
        path: str,
        endpoint: str,
        retry: bool = True,
        empty: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """A request with the user's token; a token refused once is renewed and the request
        sent again; short outages retried in place when `retry`. With `empty`, an answer
        without a body is an empty object."""

        def attempt() -> dict[str, Any]:
            try:
                response = self._send(method, path, endpoint, **kwargs)
            except Unauthorised as error:
                if self.config.refresh_token is None:
                    raise _expired(str(error)) from None
                self.refresh()
                try:
                    response = self._send(method, path, endpoint, **kwargs)
                except Unauthorised as again:
                    raise _expired(str(again)) from None
            if empty and not response.content.strip():
                return {}
            return json_object(response, NETWORK, f"answer to {endpoint}")

        if not retry:
            return attempt()
        return with_retries(attempt, attempts=self.retry_attempts, sleep=self.sleep)

    # --- normalising -----------------------------------------------------------------------

    def to_post(self, tweet: Any, users: Mapping[str, Mapping[str, Any]]) -> PostIn:
        """An X post (with the users expanded beside it) as a Clameur post."""
        entity = as_object(tweet, NETWORK, "post")
        post_id = str(required(entity, "id", NETWORK, "post"))
        what = f"post {post_id}"
        note = entity.get("note_tweet")
        text = note.get("text") if isinstance(note, Mapping) and note.get("text") else None
        text = html.unescape(str(text or required(entity, "text", NETWORK, what)))
        author = users.get(str(entity.get("author_id")))
        username = str(author.get("username") or "") if author else ""
        counts = entity.get("public_metrics") or {}
        metrics = {
            name: int(counts[field])
            for name, field in (
                ("likes", "like_count"),
                ("reposts", "retweet_count"),
                ("replies", "reply_count"),
                ("quotes", "quote_count"),
                ("bookmarks", "bookmark_count"),
                ("impressions", "impression_count"),
            )
            if isinstance(counts, Mapping) and isinstance(counts.get(field), int)
        }
        lang = entity.get("lang")
        try:
            return PostIn(
                id=post_id,
                network=NETWORK,
                text=text,
                created_at=required(entity, "created_at", NETWORK, what),
                author=AuthorIn(
                    handle=username,
                    name=str(author.get("name") or ""),
                    followers=int((author.get("public_metrics") or {}).get("followers_count") or 0),
                    verified=bool(author.get("verified")),
                )
                if author and username
                else None,
                lang=None if not lang or lang in _NO_LANGUAGE else str(lang),
                url=post_url(post_id, username),
                in_reply_to=_replied_to(entity),
                conversation_id=entity.get("conversation_id") or post_id,
                metrics=metrics,
            )
        except ValidationError as error:
            raise payload_error(NETWORK, what, validation_problem(error)) from None
        except (TypeError, ValueError, AttributeError) as error:
            raise payload_error(NETWORK, what, str(error)) from None

    def _page(self, body: dict[str, Any], what: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The posts of an answer and its users by id."""
        tweets = [
            as_object(item, NETWORK, "post")
            for item in as_list(body.get("data"), NETWORK, f"{what} data")
        ]
        includes = body.get("includes") or {}
        users: dict[str, Any] = {}
        for user in as_list(
            as_object(includes, NETWORK, f"{what} includes").get("users"), NETWORK, "users"
        ):
            user = as_object(user, NETWORK, "user")
            users[str(required(user, "id", NETWORK, "user"))] = user
        return tweets, users

    # --- capabilities ----------------------------------------------------------------------

    def check(self) -> AccountIdentity:
        """Who the token belongs to (`GET /2/users/me`); remembers the account's id."""
        body = self._api("GET", "/2/users/me", "me", params={"user.fields": USER_FIELDS})
        user = as_object(body.get("data"), NETWORK, "user")
        user_id = str(required(user, "id", NETWORK, "user"))
        username = str(required(user, "username", NETWORK, "user"))
        if (self.config.user_id, self.config.username) != (user_id, username):
            self.config = self.config.model_copy(update={"user_id": user_id, "username": username})
            self._config_changed = True
        return AccountIdentity(
            handle=username,
            display_name=str(user.get("name") or ""),
            external_id=user_id,
            url=f"https://x.com/{username}",
        )

    def _user_id(self) -> str:
        if self.config.user_id:
            return self.config.user_id
        identity = self.check()
        assert identity.external_id is not None
        return identity.external_id

    def sources(self) -> list[ListenSource]:
        """The account's searches, and its mentions."""
        found = [ListenSource("search", query) for query in self.config.searches]
        if self.config.mentions:
            found.append(ListenSource("mentions"))
        return found

    def listen(
        self, source: ListenSource, checkpoint: Checkpoint | None, limit: int = PAGE_LIMIT
    ) -> FetchResult:
        """The posts of a recent search or of the mentions newer than the checkpoint, one page a
        call, oldest first."""
        state = dict(checkpoint or {})
        since = str(state["since_id"]) if state.get("since_id") else None
        token = state.get("next_token") or None
        sweep_newest = str(state["sweep_newest_id"]) if state.get("sweep_newest_id") else None
        start_time = state.get("start_time") or None
        params: dict[str, Any] = dict(_FIELDS)
        if source.kind == "search":
            path, endpoint, token_name = "/2/tweets/search/recent", "search", "next_token"
            query = source.value
            if not self.config.include_reposts and "is:retweet" not in query:
                query = f"({query}) -is:retweet"
            params["query"] = query
            params["max_results"] = max(SEARCH_MIN_RESULTS, min(limit, PAGE_LIMIT))
        elif source.kind == "mentions":
            path, endpoint, token_name = (
                f"/2/users/{self._user_id()}/mentions",
                "mentions",
                "pagination_token",
            )
            params["max_results"] = max(MENTIONS_MIN_RESULTS, min(limit, PAGE_LIMIT))
        else:
            raise PermanentError(f"X cannot listen to {source.key!r}.", NETWORK)
        if since is not None:
            born = post_time(since)
            window_start = utcnow() - SEARCH_WINDOW + timedelta(minutes=1)
            if start_time is None and source.kind == "search" and born and born < window_start:
                # X refuses a since_id older than the 7 days search covers: read from the
                # oldest moment it accepts, and only the posts after the checkpoint.
                start_time = _iso(window_start)
            if start_time is not None:
                params["start_time"] = start_time
            else:
                params["since_id"] = since
        if token:
            params[token_name] = token
        body = self._api("GET", path, endpoint, params=params)
        tweets, users = self._page(body, endpoint)
        meta = as_object(body.get("meta") or {}, NETWORK, f"{endpoint} meta")
        fresh = sorted(
            (t for t in tweets if since is None or _id_key(str(t.get("id"))) > _id_key(since)),
            key=lambda t: _id_key(str(t.get("id"))),
        )
        posts = [
            self.to_post(t, users)
            for t in fresh
            if self.config.include_reposts or not _is_repost(t)
        ]
        for tweet in fresh:
            tweet_id = str(tweet.get("id"))
            if sweep_newest is None or _id_key(tweet_id) > _id_key(sweep_newest):
                sweep_newest = tweet_id
        next_token = meta.get("next_token")
        if since is not None and next_token:
            # More of this sweep is waiting, further back: keep the boundary until it is read.
            out: Checkpoint = {
                "since_id": since,
                "next_token": str(next_token),
                "sweep_newest_id": sweep_newest,
            }
            if start_time is not None:
                out["start_time"] = start_time
            return FetchResult(posts=posts, checkpoint=out, more=True)
        # The first read takes one page (from now on); a sweep that reached its boundary ends.
        return FetchResult(posts=posts, checkpoint={"since_id": sweep_newest or since})

    # --- the filtered stream -----------------------------------------------------------

    def stream_enabled(self) -> bool:
        """Whether the account streams: its setting is on, with a bearer token and terms."""
        return (
            super().stream_enabled()
            and self.config.bearer_token is not None
            and bool(self.config.searches or self.config.mentions)
        )

    def _bearer(self) -> str:
        if self.config.bearer_token is None:
            raise AuthError(
                "The X live stream needs the App's bearer token: copy it from the App's Keys and "
                "tokens page in the X Developer Console into the account's settings.",
                NETWORK,
            )
        return self.config.bearer_token.get_secret_value()

    @property
    def rule_tag(self) -> str:
        """The tag of this account's stream rules (the app's rules are shared by its users)."""
        return f"clameur:{self.config.user_id or self.config.username or self.config.client_id}"

    def stream_rules(self) -> list[str]:
        """The rules the account's searches and mentions make, in X's search operators."""
        wanted = []
        for query in self.config.searches:
            if not self.config.include_reposts and "is:retweet" not in query:
                query = f"({query}) -is:retweet"
            wanted.append(query)
        if self.config.mentions:
            username = self.config.username or self.check().handle
            wanted.append(f"@{username}")
        return list(dict.fromkeys(wanted))

    def _app(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A request with the app's bearer token (OAuth 2.0 App-Only)."""
        headers = {"Authorization": f"Bearer {self._bearer()}"}

        def attempt() -> dict[str, Any]:
            try:
                response = self._send(
                    method, path, "stream rules", authorize=False, headers=headers, **kwargs
                )
            except AppRefused:
                raise
            except AuthError as error:
                raise _bearer_refused(error.message) from None
            return json_object(response, NETWORK, "answer to stream rules")

        return with_retries(attempt, attempts=self.retry_attempts, sleep=self.sleep)

    def sync_stream_rules(self) -> dict[str, str]:
        """Make the app's rules tagged for this account its searches and mentions: rules of its
        own no longer wanted are deleted, missing ones added. The ids of the rules that serve
        the account (its own, or another tag's with the same value), by value."""
        wanted = self.stream_rules()
        body = self._app("GET", STREAM_RULES)
        serving: dict[str, str] = {}
        stale: list[str] = []
        for item in as_list(body.get("data"), NETWORK, "stream rules"):
            rule = as_object(item, NETWORK, "stream rule")
            rule_id = str(required(rule, "id", NETWORK, "stream rule"))
            value = str(rule.get("value") or "")
            if value in wanted:
                serving.setdefault(value, rule_id)
            elif rule.get("tag") == self.rule_tag:
                stale.append(rule_id)
        if stale:
            self._app("POST", STREAM_RULES, json={"delete": {"ids": stale}})
        missing = [value for value in wanted if value not in serving]
        if missing:
            added = self._app(
                "POST",
                STREAM_RULES,
                json={"add": [{"value": value, "tag": self.rule_tag} for value in missing]},
            )
            for item in as_list(added.get("data"), NETWORK, "added stream rules"):
                rule = as_object(item, NETWORK, "stream rule")
                serving[str(rule.get("value"))] = str(required(rule, "id", NETWORK, "stream rule"))
            refused = [value for value in missing if value not in serving]
            if refused:
                problems = "; ".join(
                    str(error.get("value") or error.get("title") or "")
                    + ": "
                    + str(error.get("details") or error.get("detail") or "")
                    for error in as_list(added.get("errors"), NETWORK, "rule errors")
                    if isinstance(error, Mapping)
                )
                raise PermanentError(
                    f"X refused the stream rules {refused} ({problems or 'no reason given'}). "
                    "Correct the searches in the account's settings.",
                    NETWORK,
                )
        return serving

    def stream(self, checkpoint: Checkpoint | None, stop: threading.Event) -> Iterator[StreamItem]:
        """The posts matching the account's rules as X publishes them (it cannot resume)."""
        ours = set(self.sync_stream_rules().values())
        client = stream_client(STREAM_TIMEOUT, {"Authorization": f"Bearer {self._bearer()}"})

        def read(done: threading.Event) -> Iterator[PostIn | None]:
            lines = http_lines(
                client,
                self.config.api_url + STREAM,
                NETWORK,
                self.title,
                done,
                params=dict(_FIELDS),
                refused=self._stream_refused,
            )
            for line in lines:
                yield None if line is None or not line.strip() else self._stream_post(line, ours)

        for post in Merged([read], stop, on_close=client.close):
            yield StreamItem(post)

    def _stream_refused(self, response: httpx.Response) -> ConnectorError:
        """The error a refused stream connection means, with the first wait X asks for."""
        if response.status_code == 429:
            limited = self._rate_limited("stream", response)
            if limited.requested_delay is None:
                return RateLimited(limited.message, NETWORK, delay=STREAM_RATE_WAIT)
            return limited
        if response.status_code == 403:
            return _forbidden(response)
        try:
            check_response(response, NETWORK)
        except AuthError:
            return _bearer_refused(_problem(response) or "HTTP 401")
        except RetryableError as error:
            if error.requested_delay is None:
                return RetryableError(error.message, NETWORK, delay=STREAM_HTTP_WAIT)
            return error
        except ConnectorError as error:
            return error
        return PermanentError(f"X answered the stream with HTTP {response.status_code}.", NETWORK)

    def _stream_post(self, line: str, ours: set[str]) -> PostIn | None:
        """The post of one stream line, when one of the account's rules matched it; a line
        that cannot be read is logged and skipped."""
        try:
            body = json.loads(line)
        except ValueError:
            log.warning("X stream: skipped a line that is not JSON: %.200r", line)
            return None
        if not isinstance(body, dict):
            log.warning("X stream: skipped a line that is not an object: %.200r", line)
            return None
        if body.get("data") is None:
            errors = [e for e in body.get("errors") or [] if isinstance(e, Mapping)]
            said = " ".join(
                str(e.get("title") or "") + " " + str(e.get("type") or "") for e in errors
            )
            if "disconnect" in said:
                detail = str(errors[0].get("detail") or errors[0].get("title"))
                raise RetryableError(f"X closed the stream ({detail}); reconnecting.", NETWORK)
            log.warning("X stream: skipped a line without a post: %.200r", line)
            return None
        matched = body.get("matching_rules")
        if isinstance(matched, list) and matched:
            ids = {str(rule.get("id")) for rule in matched if isinstance(rule, Mapping)}
            if not ids & ours:
                return None
        try:
            tweets, users = self._page(
                {"data": [body["data"]], "includes": body.get("includes") or {}}, "stream post"
            )
            if not self.config.include_reposts and _is_repost(tweets[0]):
                return None
            return self.to_post(tweets[0], users)
        except PermanentError as error:
            log.warning("X stream: skipped a post that cannot be read: %s", error)
            return None

    def _lookup(self, post_id: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        body = self._api("GET", f"/2/tweets/{post_id}", "lookup", params=_FIELDS)
        data = body.get("data")
        _, users = self._page({"includes": body.get("includes") or {}}, "lookup")
        return (as_object(data, NETWORK, "post") if data is not None else None), users

    def conversation(self, post_id: str) -> list[PostIn]:
        """The conversation's first post, then its posts of the last 7 days, in order."""
        tweet, users = self._lookup(post_id)
        if tweet is None:
            raise PermanentError(
                f"The X post {post_id} no longer exists or is not visible to the account.",
                NETWORK,
            )
        found = {str(tweet["id"]): tweet}
        conversation_id = str(tweet.get("conversation_id") or post_id)
        if conversation_id not in found:
            root, root_users = self._lookup(conversation_id)
            users.update(root_users)
            if root is not None:
                found[conversation_id] = root
        params: dict[str, Any] = {
            **_FIELDS,
            "query": f"conversation_id:{conversation_id}",
            "max_results": PAGE_LIMIT,
        }
        for _ in range(CONVERSATION_PAGES):
            body = self._api("GET", "/2/tweets/search/recent", "search", params=params)
            tweets, page_users = self._page(body, "conversation search")
            users.update(page_users)
            for item in tweets:
                found.setdefault(str(required(item, "id", NETWORK, "post")), item)
            next_token = (body.get("meta") or {}).get("next_token")
            if not next_token:
                break
            params["next_token"] = next_token
        ordered = sorted(found.values(), key=lambda t: _id_key(str(t.get("id"))))
        return [self.to_post(item, users) for item in ordered]

    def find_published(self, post: OutgoingPost) -> dict[str, Any] | None:
        """The account's post already made for `post`, if any: same text, same post answered,
        among its posts since the one answered (or since the reply was created)."""
        params: dict[str, Any] = {
            "max_results": PAGE_LIMIT,
            "tweet.fields": "created_at,conversation_id,referenced_tweets",
            "exclude": "retweets",
        }
        if post.in_reply_to and post.in_reply_to.isdigit():
            params["since_id"] = post.in_reply_to
        elif post.created_at is not None:
            params["since_id"] = snowflake_after(post.created_at - timedelta(minutes=5))
        body = self._api("GET", f"/2/users/{self._user_id()}/tweets", "timeline", params=params)
        tweets, _ = self._page(body, "timeline")
        for tweet in tweets:
            text = str(tweet.get("text") or "")
            # X ends the text of a post with images with one t.co link to them.
            with_media = bool(post.media_urls) and same_text(text, f"{post.text} https://t.co/")
            if not same_text(text, post.text) and not with_media:
                continue
            if post.in_reply_to and _replied_to(tweet) != post.in_reply_to:
                continue
            return tweet
        return None

    def _upload(self, image: Image) -> str:
        """Upload one still image (the simple upload); its media id once X has processed it."""
        answer = self._api(
            "POST",
            MEDIA_UPLOAD,
            "media upload",
            files={"media": (image.file_name, image.content, image.content_type)},
            data={"media_category": "tweet_image", "media_type": image.content_type},
        )
        media = as_object(answer.get("data"), NETWORK, "uploaded media")
        media_id = str(required(media, "id", NETWORK, "uploaded media"))
        return self._processed(media_id, answer, image)

    def _upload_gif(self, image: Image) -> str:
        """Upload an animated GIF (the chunked upload: initialize, append each chunk,
        finalize); its media id once X has processed it."""
        answer = self._api(
            "POST",
            MEDIA_INITIALIZE,
            "media initialize",
            json={
                "media_type": image.content_type,
                "total_bytes": len(image.content),
                "media_category": "tweet_gif",
            },
        )
        started = as_object(answer.get("data"), NETWORK, "initialized upload")
        media_id = str(required(started, "id", NETWORK, "initialized upload"))
        for segment, start in enumerate(range(0, len(image.content), CHUNK_BYTES)):
            chunk = image.content[start : start + CHUNK_BYTES]
            # Retried in place on a short outage: X takes a chunk sent again.
            self._api(
                "POST",
                f"{MEDIA_UPLOAD}/{media_id}/append",
                "media append",
                empty=True,
                files={"media": (image.file_name, chunk, "application/octet-stream")},
                data={"segment_index": str(segment)},
            )
        # Not retried in place: an upload X finalized before failing may refuse a second
        # finalize; the next attempt starts a new upload instead.
        finalized = self._api(
            "POST", f"{MEDIA_UPLOAD}/{media_id}/finalize", "media finalize", retry=False
        )
        return self._processed(media_id, finalized, image)

    def _processed(self, media_id: str, answer: Mapping[str, Any], image: Image) -> str:
        """`media_id` once X has processed the media (`answer` is X's last word on it):
        `check_after_secs` honoured, at most `PROCESSING_WAIT` seconds in all; a failure
        names X's reason."""
        kind = "GIF" if image.content_type == GIF else "image"
        waited = 0.0
        looks = 0
        while True:
            media = as_object(answer.get("data"), NETWORK, "uploaded media")
            found = media.get("processing_info")
            info: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
            state = info.get("state")
            if state in (None, "succeeded"):
                return media_id
            if state == "failed":
                error = info.get("error")
                said = (
                    error.get("message") or error.get("name") if isinstance(error, Mapping) else ""
                ) or _first_error(answer)
                raise PermanentError(
                    f"X could not process the {kind} {shown(image.url)}: "
                    f"{said or 'no reason given'}. Use another file.",
                    NETWORK,
                )
            after = info.get("check_after_secs")
            wait = float(after) if isinstance(after, int | float) and after > 0 else 1.0
            if looks >= PROCESSING_LOOKS or waited + wait > PROCESSING_WAIT:
                break
            self.sleep(wait)
            waited += wait
            looks += 1
            answer = self._api(
                "GET",
                MEDIA_UPLOAD,
                "media status",
                params={"command": "STATUS", "media_id": media_id},
            )
        raise StillProcessing(
            f"X is still processing the {kind} {shown(image.url)} after {waited:.0f} seconds; "
            "the post will be tried again."
        )

    def _describe(self, media_id: str, description: str) -> None:
        """Set the description (alt text) of uploaded media."""
        self._api(
            "POST",
            MEDIA_METADATA,
            "media metadata",
            json={"id": media_id, "metadata": {"alt_text": {"text": description}}},
        )

    def _attach(self, image: Image, description: str | None) -> str:
        """Upload one image or GIF and set its description; its media id."""
        media_id = self._upload_gif(image) if image.content_type == GIF else self._upload(image)
        if description:
            self._describe(media_id, description)
        return media_id

    def _write(self, post: OutgoingPost) -> Published:
        body: dict[str, Any] = {"text": post.text}
        if post.in_reply_to:
            body["reply"] = {"in_reply_to_tweet_id": post.in_reply_to}
        # Before anything is downloaded, read or written on X (reads are billed).
        descriptions = _descriptions(post)
        images = download_images(
            post.media_urls, NETWORK, MAX_GIF_BYTES, max_count=MAX_IMAGES, accepted=MEDIA_TYPES
        )
        _check_media(images)

        def write() -> Published:
            if images and "media" not in body:
                body["media"] = {
                    "media_ids": [
                        self._attach(image, description)
                        for image, description in zip(images, descriptions, strict=True)
                    ]
                }
            created = self._api("POST", "/2/tweets", "create", retry=False, json=body)
            data = as_object(created.get("data"), NETWORK, "created post")
            post_id = str(required(data, "id", NETWORK, "created post"))
            return Published(external_id=post_id, url=post_url(post_id, self.config.username))

        def find() -> Published | None:
            existing = self.find_published(post)
            if existing is None:
                return None
            post_id = str(required(existing, "id", NETWORK, "post"))
            return Published(
                external_id=post_id, url=post_url(post_id, self.config.username), replayed=True
            )

        # X may have written the post before failing, or answer that it is a duplicate.
        try:
            return write_once(
                write,
                find,
                self.retry_attempts,
                self.sleep,
                duplicate=lambda error: "duplicate" in error.message.lower(),
            )
        except StillProcessing as error:
            # Not uploaded again in place: the outbox tries later, so the bound holds.
            raise RetryableError(str(error), NETWORK) from None

    def reply(self, post: OutgoingPost) -> Published:
        """Reply to `post.in_reply_to`; a reply already on X is found, not posted twice."""
        if not post.in_reply_to:
            raise PermanentError("A reply needs the post it answers.", NETWORK)
        return self._write(post)

    def publish(self, post: OutgoingPost) -> Published:
        """Post from the account; a post already on X is found, not posted twice."""
        return self._write(post)

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


class Unauthorised(Exception):
    """X refused the access token (HTTP 401): renew it once, then give up."""


class StillProcessing(Exception):
    """X had not processed uploaded media within `PROCESSING_WAIT`: the post waits for the
    outbox's next try rather than for an upload again in place."""


def _bearer_refused(reason: str) -> AuthError:
    return AuthError(
        f"X refused the App's bearer token ({reason}): it was regenerated or revoked. Copy it "
        "again from the App's Keys and tokens page into the account's settings.",
        NETWORK,
    )


def _expired(reason: str) -> AuthError:
    return AuthError(
        f"X refused the account's access token ({reason}): it has expired or was revoked. "
        "Connect the account again.",
        NETWORK,
    )


class AppRefused(AuthError):
    """X refused the App itself (HTTP 403): its Project or access level, not a token."""


# 403 problem types that refuse the App or its kind of token, not one request
# (https://docs.x.com/x-api/fundamentals/response-codes-and-errors).
_ACCESS_PROBLEMS = ("/client-forbidden", "/unsupported-authentication")


def _forbidden(response: httpx.Response) -> ConnectorError:
    """What X's 403 means: the App lacks the access level (a Project, a plan) or the endpoint
    refuses its kind of token, which a person must change; otherwise this one request is not
    allowed (a reply the author's settings refuse, a duplicate post)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    said = _problem(response) or "HTTP 403"
    kind = str(body.get("type") or "")
    if kind.endswith(_ACCESS_PROBLEMS) or body.get("reason") == "client-not-enrolled":
        needed = body.get("required_enrollment")
        wanted = f" X asks for: {needed}." if isinstance(needed, str) and needed else ""
        return AppRefused(
            f"X refused the App access to this endpoint ({said}).{wanted} In the X developer "
            "portal, attach the App to a Project whose access level (plan) includes it, and "
            "allow OAuth 2.0 user authentication; then connect the account again.",
            NETWORK,
        )
    return PermanentError(f"X refused this request (HTTP 403: {said}).", NETWORK)


def post_url(post_id: str, username: str | None) -> str:
    """The x.com address of a post."""
    return (
        f"https://x.com/{username}/status/{post_id}"
        if username
        else f"https://x.com/i/web/status/{post_id}"
    )


def _descriptions(post: OutgoingPost) -> list[str | None]:
    """The description written for each image of `post` (None where there is none); a
    description longer than X takes is refused, naming its image."""
    found: list[str | None] = []
    for index, url in enumerate(post.media_urls):
        text = post.alt(index)
        if len(text) > MAX_ALT_TEXT:
            raise PermanentError(
                f"The description of image {index + 1} ({shown(url)}) is {len(text):,} "
                f"characters long: X takes descriptions up to {MAX_ALT_TEXT:,} characters. "
                "Shorten it.",
                NETWORK,
            )
        found.append(text or None)
    return found


def _check_media(images: list[Image]) -> None:
    """Refuse what X does not take in one post: a still image over 5 MB (GIFs go up to 15 MB),
    an animated GIF beside other images."""
    for image in images:
        size = len(image.content)
        if image.content_type != GIF and size > MAX_IMAGE_BYTES:
            raise PermanentError(
                f"The image at {shown(image.url)} is too big ({megabytes(size)}): X takes "
                f"images up to {megabytes(MAX_IMAGE_BYTES)} (animated GIFs up to "
                f"{megabytes(MAX_GIF_BYTES)}). Use a smaller or more compressed image.",
                NETWORK,
            )
    gifs = [image for image in images if image.content_type == GIF]
    if gifs and len(images) > 1:
        raise PermanentError(
            f"X attaches one animated GIF alone, or up to {MAX_IMAGES} images, to a post: "
            f"{shown(gifs[0].url)} comes with {len(images) - 1} other image(s). Publish the GIF "
            "in a post of its own.",
            NETWORK,
        )


def _first_error(body: Mapping[str, Any]) -> str:
    """The first of the `errors` an answer carries beside its data, as X words it."""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        first = errors[0]
        return str(first.get("detail") or first.get("message") or first.get("title") or "")
    return ""


def _problem(response: httpx.Response) -> str:
    """X's explanation of an error: a problem's detail or title, or the first error's message."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    for key in ("detail", "title", "error_description", "error"):
        if isinstance(body.get(key), str) and body[key]:
            return str(body[key])[:300]
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("detail") or "")[:300]
    return ""
