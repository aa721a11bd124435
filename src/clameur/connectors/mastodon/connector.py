"""Mastodon: hashtags, searches and mentions in; conversations; replies and posts out.

Built on Mastodon.py (https://mastodonpy.readthedocs.io/) against the REST API documented at
docs.joinmastodon.org:

- hashtag timeline, `GET /api/v1/timelines/tag/:hashtag`
  (https://docs.joinmastodon.org/methods/timelines/#tag);
- search, `GET /api/v2/search?type=statuses` (https://docs.joinmastodon.org/methods/search/);
  a server finds only the posts its full-text search indexes (posts of people who opted in to
  search, or that the account interacted with), and only if search is enabled there;
- mentions, `GET /api/v1/notifications?types[]=mention`
  (https://docs.joinmastodon.org/methods/notifications/);
- a conversation, `GET /api/v1/statuses/:id/context`
  (https://docs.joinmastodon.org/methods/statuses/#context);
- replies and posts, `POST /api/v1/statuses` with the `Idempotency-Key` header, which Mastodon
  remembers for an hour (https://docs.joinmastodon.org/methods/statuses/#create);
- images (https://docs.joinmastodon.org/methods/media/#v2, Mastodon.py's `media_post`): each is
  downloaded (`clameur.connectors.media`, at most 16 MB, Mastodon's default image limit; a server
  set lower refuses with its own limit), uploaded with `POST /api/v2/media`, which answers 200
  when the image is processed and 202 (its `url` null) while it is; then
  `GET /api/v1/media/:id` is asked until it answers 200 with a `url` (206 while processing),
  and the status is posted with their `media_ids`, at most 4
  (https://docs.joinmastodon.org/entities/MediaAttachment/). Each image's description (alt
  text) goes with its upload as `description`, "a plain-text description of the media, for
  accessibility purposes" (https://docs.joinmastodon.org/methods/media/#v2); Mastodon takes up
  to 1,500 characters (`MAX_DESCRIPTION_LENGTH` of its MediaAttachment model,
  https://github.com/mastodon/mastodon/blob/main/app/models/media_attachment.rb). Mastodon.py picks
  `/api/v2/media` once it read the server's version from `GET /api/v1/instance`
  (https://docs.joinmastodon.org/methods/instance/#v1; servers older than 3.1.4 get
  `/api/v1/media`). Uploading needs the `write:media` scope. The Idempotency-Key stays on the
  status: a retry after the upload uploads the images again (Mastodon deletes media left
  unattached after a day), and a status already posted with the key is returned;
- rate limits, `X-RateLimit-Reset` as an ISO 8601 date
  (https://docs.joinmastodon.org/api/rate-limits/); Mastodon.py runs in "throw" mode and keeps
  the reset time it read (corrected for the server's clock), which becomes `retry_at`;
- refusals (https://docs.joinmastodon.org/entities/Error/): a 403 "This action is not allowed"
  concerns the one call (a post the account may not see or answer); "This action is outside
  the authorized scopes" and "Your login is ..." (disabled, unconfirmed, pending approval) hold
  the whole account until a person acts, so they are an `AuthError`.

Streaming (opt-in, the account's "Live stream" setting), server-sent events
(https://docs.joinmastodon.org/methods/streaming/): `GET /api/v1/streaming/hashtag?tag=` (or
`/hashtag/local`) per hashtag and `GET /api/v1/streaming/user/notification` for the mentions,
read on the streaming server that `GET /api/v2/instance` names in `configuration.urls.streaming`
(https://docs.joinmastodon.org/methods/instance/#v2), the server itself when it names none.
`update` events carry a Status, `notification` events a Notification; lines starting with ":"
are heartbeats. Mastodon.py's streaming is not used: it reports any refusal as a network error
(an expired token would look like an outage) and reconnects on its own; httpx with a small
event reader maps 401 and 429 like the rest of the connector and leaves reconnecting to the
caller. A stream cannot resume: what was published while it was down is read by the polling,
and the store keeps each post once. Searches are not streamed (Mastodon has no such stream).

Checkpoints are the newest id returned per source. A listen asks for `min_id`, the page
immediately newer than the checkpoint ("since_id" would give the newest page and leave a gap
after a long stop), so a restart walks forward from where it was and neither skips nor repeats.
Entities: Status https://docs.joinmastodon.org/entities/Status/, Account
https://docs.joinmastodon.org/entities/Account/, Notification
https://docs.joinmastodon.org/entities/Notification/, Context
https://docs.joinmastodon.org/entities/Context/.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import httpx
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)
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
    html_to_text,
    payload_error,
    validation_problem,
)
from clameur.connectors.http import USER_AGENT, with_retries
from clameur.connectors.media import Image, download_images, shown
from clameur.connectors.streaming import Merged, http_lines, server_events, stream_client
from clameur.pipeline.schemas import AuthorIn, PostIn

log = logging.getLogger(__name__)
T = TypeVar("T")
NETWORK = "mastodon"
# Mastodon returns at most 40 statuses a page (80 notifications).
PAGE_LIMIT = 40
SCOPES = ["read", "write:statuses", "write:media"]
# Mastodon sends a heartbeat comment every few seconds: a minute of silence is a dead connection.
STREAM_TIMEOUT = 60.0
MAX_IMAGES = 4
# Mastodon's default image size limit; a server set lower refuses with its own.
MAX_IMAGE_BYTES = 16_000_000
IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif"}
)
# Seconds between looks at an image the server is still processing (about a minute in all).
PROCESSING_WAITS = (1.0, 1.0, 2.0, 3.0, 5.0, 5.0, 10.0, 10.0, 10.0, 15.0)


class MastodonConfig(ConnectorConfig):
    """A Mastodon account and what it listens to."""

    requirements: ClassVar[str] = (
        "An account on a Mastodon server. Enter the server's address: Clameur registers itself "
        "there as an app and sends you to the server to approve access (read, write statuses "
        "to reply and publish, write media to attach images). Alternatively, create an "
        "application under Preferences > Development on your server with the scopes read, "
        "write:statuses and write:media, and paste its "
        "access token. Search finds only the posts your server's full-text search indexes."
    )

    instance_url: str = Field(
        title="Server",
        description="Your Mastodon server's address, for example https://mastodon.social.",
    )
    access_token: SecretStr | None = Field(
        default=None,
        title="Access token",
        description="Filled in when you approve access; or paste one from Preferences > "
        "Development.",
    )
    hashtags: list[str] = Field(
        default_factory=list,
        title="Hashtags",
        description="Hashtags to follow, one a line, without the #.",
    )
    searches: list[str] = Field(
        default_factory=list,
        title="Searches",
        description="Search terms to follow, one a line (your server must have search).",
    )
    mentions: bool = Field(
        default=True, title="Mentions", description="Bring the account's mentions to the inbox."
    )
    local_only: bool = Field(
        default=False,
        title="This server only",
        description="Hashtags: only posts from your server, not from the whole fediverse.",
    )
    stream: bool = Field(
        default=False,
        title="Live stream",
        description="Receive hashtag posts and mentions as they are published, over a "
        "connection kept open to your server; searches are still read every few minutes.",
    )
    # Filled by app registration (see clameur.connectors.mastodon.oauth).
    client_id: str | None = Field(default=None, json_schema_extra={"form": False})
    client_secret: SecretStr | None = Field(default=None, json_schema_extra={"form": False})

    @field_validator("instance_url")
    @classmethod
    def _instance_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            raise ValueError("enter your server's address")
        if "://" not in value:
            value = "https://" + value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not a server address")
        return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"

    @field_validator("hashtags")
    @classmethod
    def _hashtags(cls, value: list[str]) -> list[str]:
        return [tag.strip().lstrip("#") for tag in value if tag.strip().lstrip("#")]


def _id_key(value: str) -> tuple[int, int, str]:
    # Mastodon ids are numeric strings; other servers (Pleroma) use sortable flake ids.
    return (0, int(value), "") if value.isdigit() else (1, 0, value)


def _newer(value: str, than: str | None) -> bool:
    return than is None or _id_key(value) > _id_key(than)


def _field(entity: Mapping[str, Any], name: str, what: str) -> Any:
    if name not in entity or entity[name] is None:
        raise payload_error(NETWORK, what, f"it has no {name!r}")
    return entity[name]


class MastodonConnector(Connector[MastodonConfig]):
    """Mastodon through Mastodon.py, with the account's own token on its own server."""

    network: ClassVar[str] = NETWORK
    title: ClassVar[str] = "Mastodon"
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
    config_model: ClassVar[type[ConnectorConfig]] = MastodonConfig
    max_images: ClassVar[int | None] = MAX_IMAGES
    limitations: ClassVar[str] = (
        "Clameur sees what your server sees: public posts that reached it under the hashtags "
        "you follow, posts its search indexes, and your mentions. Followers-only and direct "
        "posts of others are not listened to. The live stream covers hashtags and mentions, "
        "not searches, and only while connected: the regular reading fills the gaps."
    )

    def __init__(
        self,
        config: MastodonConfig,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        retry_attempts: int = 3,
    ) -> None:
        super().__init__(config)
        self.sleep = sleep
        self.retry_attempts = retry_attempts
        token = config.access_token.get_secret_value() if config.access_token else None
        self.api = Mastodon(
            access_token=token,
            api_base_url=config.instance_url,
            ratelimit_method="throw",
            request_timeout=timeout,
            version_check_mode="none",
            user_agent=USER_AGENT,
        )
        self.host = urlsplit(config.instance_url).netloc
        # Mastodon.py drops the error body of a call that returns a list (a timeline, the
        # notifications): the last refusal's `error` is kept here to say why.
        self._refusal: str | None = None
        self._version_read = False
        self.api.session.hooks["response"].append(self._note_refusal)

    # --- calling the API -----------------------------------------------------------------

    def _note_refusal(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self._refusal = None
        if response.status_code < 400:
            return
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            self._refusal = body["error"][:300]

    def _call(self, call: Callable[[], T]) -> T:
        """`call` with Mastodon.py's errors turned into connector errors, short outages
        retried in place."""
        return with_retries(
            lambda: self._translate(call), attempts=self.retry_attempts, sleep=self.sleep
        )

    def _translate(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except MastodonRatelimitError:
            reset = self.api.ratelimit_reset
            retry_at = datetime.fromtimestamp(reset, UTC) if reset else None
            when = retry_at.isoformat(timespec="seconds") if retry_at else "later"
            raise RateLimited(
                f"Mastodon rate limit reached on {self.host}; retrying at {when}.",
                NETWORK,
                retry_at=retry_at,
            ) from None
        except MastodonUnauthorizedError as error:
            raise AuthError(
                f"{self.host} refused the access token ({_reason(error)}): it has expired or "
                "was revoked. Connect the Mastodon account again.",
                NETWORK,
            ) from None
        except MastodonNotFoundError as error:
            raise PermanentError(
                f"{self.host} has no such post or page ({_reason(error)}); it may have been "
                "deleted.",
                NETWORK,
            ) from None
        except MastodonServerError as error:
            raise RetryableError(
                f"{self.host} is unavailable ({_reason(error)}); will try again.", NETWORK
            ) from None
        except MastodonNetworkError as error:
            raise RetryableError(f"{self.host} could not be reached ({error}).", NETWORK) from None
        except MastodonAPIError as error:
            status = _status(error)
            reason = _reason(error, self._refusal)
            if status == 403 and "scope" in reason.lower():
                raise AuthError(
                    f"{self.host} says the token lacks a permission ({reason}). Connect the "
                    f"account again and approve the scopes {', '.join(SCOPES)}.",
                    NETWORK,
                ) from None
            if status == 403 and "your login is" in reason.lower():
                # The account itself is held (disabled, unconfirmed, awaiting approval): every
                # call will be refused until someone settles it on the server.
                raise AuthError(
                    f"{self.host} refused the account ({reason}). Sign in on {self.host} to "
                    "settle it (confirm the e-mail address, wait for a moderator's approval, "
                    "or ask the moderators why it was disabled), then connect it again.",
                    NETWORK,
                ) from None
            if status is None:
                raise payload_error(NETWORK, "answer", reason) from None
            raise PermanentError(
                f"{self.host} refused the request (HTTP {status}: {reason}).", NETWORK
            ) from None
        except MastodonIllegalArgumentError as error:
            raise PermanentError(f"Mastodon request not valid: {error}.", NETWORK) from None

    # --- normalising -----------------------------------------------------------------------

    def _handle(self, account: Mapping[str, Any]) -> str:
        acct = str(_field(account, "acct", "account"))
        # Local accounts have no domain in `acct`: add the server's, so handles are global.
        return acct if "@" in acct else f"{acct}@{self.host}"

    def to_post(self, status: Any) -> PostIn:
        """A Mastodon Status as a Clameur post."""
        if not isinstance(status, Mapping):
            raise payload_error(NETWORK, "status", f"expected an object, got {type(status)}")
        status_id = str(_field(status, "id", "status"))
        account = _field(status, "account", "status")
        if not isinstance(account, Mapping):
            raise payload_error(NETWORK, "status", "its account is not an object")
        text = html_to_text(str(status.get("content") or ""))
        spoiler = str(status.get("spoiler_text") or "").strip()
        if spoiler:
            text = f"CW: {spoiler}\n{text}".strip()
        if not text:
            media = status.get("media_attachments") or []
            described = [str(item.get("description")) for item in media if item.get("description")]
            text = " ".join(described) or f"({len(media)} media attachment(s), no text)"
        created = _field(status, "created_at", "status")
        try:
            return PostIn(
                id=status_id,
                network=NETWORK,
                text=text,
                created_at=created,
                author=AuthorIn(
                    handle=self._handle(account),
                    name=str(account.get("display_name") or ""),
                    followers=int(account.get("followers_count") or 0),
                ),
                lang=status.get("language"),
                url=status.get("url") or status.get("uri"),
                in_reply_to=status.get("in_reply_to_id"),
                metrics={
                    "replies": int(status.get("replies_count") or 0),
                    "reblogs": int(status.get("reblogs_count") or 0),
                    "favourites": int(status.get("favourites_count") or 0),
                },
            )
        except (ValidationError, ValueError, TypeError) as error:
            raise payload_error(NETWORK, f"status {status_id}", validation_problem(error)) from None

    def _statuses(self, page: Any, what: str) -> list[Any]:
        if not isinstance(page, list):
            raise payload_error(NETWORK, what, f"expected a list, got {type(page).__name__}")
        return page

    # --- capabilities ----------------------------------------------------------------------

    def check(self) -> AccountIdentity:
        """Who the token belongs to (`GET /api/v1/accounts/verify_credentials`)."""
        account = self._call(self.api.account_verify_credentials)
        if not isinstance(account, Mapping):
            raise payload_error(NETWORK, "account", "expected an object")
        return AccountIdentity(
            handle=self._handle(account),
            display_name=str(account.get("display_name") or ""),
            external_id=str(_field(account, "id", "account")),
            url=account.get("url"),
        )

    def sources(self) -> list[ListenSource]:
        """The account's hashtags, searches, and mentions."""
        found = [ListenSource("hashtag", tag) for tag in self.config.hashtags]
        found += [ListenSource("search", query) for query in self.config.searches]
        if self.config.mentions:
            found.append(ListenSource("mentions"))
        return found

    def listen(
        self, source: ListenSource, checkpoint: Checkpoint | None, limit: int = PAGE_LIMIT
    ) -> FetchResult:
        """The posts of a hashtag, a search or the mentions newer than the checkpoint."""
        since = (checkpoint or {}).get("since_id")
        since = str(since) if since is not None else None
        page_size = max(1, min(limit, PAGE_LIMIT))
        if source.kind == "hashtag":
            page = self._call(
                lambda: self.api.timeline_hashtag(
                    source.value, local=self.config.local_only, min_id=since, limit=page_size
                )
            )
            items = [(str(_field(s, "id", "status")), s) for s in self._statuses(page, "timeline")]
        elif source.kind == "search":
            found = self._call(
                lambda: self.api.search_v2(
                    source.value, result_type="statuses", min_id=since, limit=page_size
                )
            )
            if not isinstance(found, Mapping) or not isinstance(found.get("statuses"), list):
                raise payload_error(NETWORK, "search result", "it has no list of 'statuses'")
            items = [(str(_field(s, "id", "status")), s) for s in found["statuses"]]
        elif source.kind == "mentions":
            page = self._call(
                lambda: self.api.notifications(types=["mention"], min_id=since, limit=page_size)
            )
            items = []
            for notification in self._statuses(page, "notification list"):
                notification_id = str(_field(notification, "id", "notification"))
                # A mention whose post was deleted meanwhile has no status: skip it, keep going.
                items.append((notification_id, notification.get("status")))
        else:
            raise PermanentError(f"Mastodon cannot listen to {source.key!r}.", NETWORK)
        # Servers may ignore min_id (search does on some versions): filter, then go oldest first.
        fresh = sorted(
            ((key, entity) for key, entity in items if _newer(key, since)),
            key=lambda pair: _id_key(pair[0]),
        )
        posts = [
            self.to_post(entity)
            for _, entity in fresh
            if entity is not None and not entity.get("reblog")
        ]
        newest = fresh[-1][0] if fresh else since
        more = since is not None and len(fresh) >= page_size and source.kind != "search"
        return FetchResult(posts=posts, checkpoint={"since_id": newest}, more=more)

    def stream_enabled(self) -> bool:
        """Whether the account streams: its setting is on and it has hashtags or mentions."""
        return super().stream_enabled() and bool(self.config.hashtags or self.config.mentions)

    def stream(self, checkpoint: Checkpoint | None, stop: threading.Event) -> Iterator[StreamItem]:
        """Hashtag posts and mentions as the server publishes them (it cannot resume)."""
        if self.config.access_token is None:
            raise AuthError(
                "The Mastodon account is not connected yet: approve Clameur on your server.",
                NETWORK,
            )
        token = self.config.access_token.get_secret_value()
        client = stream_client(STREAM_TIMEOUT, {"Authorization": f"Bearer {token}"})
        try:
            base = self._streaming_url(client)
        except BaseException:
            client.close()
            raise
        streams: list[tuple[str, dict[str, str]]] = [
            (
                "/api/v1/streaming/hashtag/local"
                if self.config.local_only
                else "/api/v1/streaming/hashtag",
                {"tag": tag},
            )
            for tag in self.config.hashtags
        ]
        if self.config.mentions:
            streams.append(("/api/v1/streaming/user/notification", {}))
        if not streams:
            client.close()
            raise self._unsupported("stream searches (only hashtags and mentions)")

        def reader(
            path: str, params: dict[str, str]
        ) -> Callable[[threading.Event], Iterator[PostIn | None]]:
            def read(done: threading.Event) -> Iterator[PostIn | None]:
                lines = http_lines(client, base + path, NETWORK, self.title, done, params)
                for event in server_events(lines):
                    yield None if event is None else self._stream_post(event.name, event.data)

            return read

        merged = Merged(
            [reader(path, params) for path, params in streams], stop, on_close=client.close
        )
        for post in merged:
            yield StreamItem(post)

    def _streaming_url(self, client: httpx.Client) -> str:
        """The streaming server's address: `configuration.urls.streaming` of the instance."""
        try:
            answer = client.get(f"{self.config.instance_url}/api/v2/instance")
            streaming = answer.json()["configuration"]["urls"]["streaming"]
        except (ValueError, KeyError, TypeError, httpx.HTTPError) as error:
            log.debug("no streaming address from %s (%s): using the server", self.host, error)
            return self.config.instance_url
        if not isinstance(streaming, str) or "://" not in streaming:
            return self.config.instance_url
        scheme, _, rest = streaming.partition("://")
        scheme = {"wss": "https", "ws": "http"}.get(scheme, scheme)
        return f"{scheme}://{rest.rstrip('/')}"

    def _stream_post(self, event: str, data: str) -> PostIn | None:
        """The post an event carries: a new status (reposts left out), or a mention's status;
        None for the rest. A malformed event is logged and skipped, the stream goes on."""
        if event not in ("update", "notification"):
            return None
        try:
            entity = json.loads(data)
            if event == "notification":
                if not isinstance(entity, Mapping) or entity.get("type") != "mention":
                    return None
                entity = entity.get("status")
                if entity is None:
                    return None
            if isinstance(entity, Mapping) and entity.get("reblog"):
                return None
            return self.to_post(entity)
        except (ValueError, ConnectorError) as error:
            log.warning("Mastodon stream: skipped a malformed %s event: %s", event, error)
            return None

    def conversation(self, post_id: str) -> list[PostIn]:
        """A status with its ancestors and replies, in order."""
        status = self._call(lambda: self.api.status(post_id))
        context = self._call(lambda: self.api.status_context(post_id))
        if not isinstance(context, Mapping):
            raise payload_error(NETWORK, "context", "expected an object")
        ancestors = self._statuses(_field(context, "ancestors", "context"), "context ancestors")
        descendants = self._statuses(
            _field(context, "descendants", "context"), "context descendants"
        )
        return [self.to_post(item) for item in _chain(ancestors, [status], descendants)]

    def _post_status(self, post: OutgoingPost) -> Published:
        images = download_images(
            post.media_urls, NETWORK, MAX_IMAGE_BYTES, max_count=MAX_IMAGES, accepted=IMAGE_TYPES
        )
        media_ids = [
            self._upload(image, post.alt(index)) for index, image in enumerate(images)
        ] or None
        status = self._call(
            lambda: self.api.status_post(
                post.text,
                in_reply_to_id=post.in_reply_to,
                media_ids=media_ids,
                idempotency_key=post.idempotency_key,
            )
        )
        if not isinstance(status, Mapping):
            raise payload_error(NETWORK, "published status", "expected an object")
        return Published(
            external_id=str(_field(status, "id", "published status")),
            url=status.get("url") or status.get("uri"),
        )

    def _read_version(self) -> None:
        """Have Mastodon.py read the server's version, by which `media_post` picks
        `/api/v2/media`. The instance is read through `_call` first, so that a server that does
        not answer fails like any call: Mastodon.py's own look-up, when the instance does not
        answer, asks again and again until Python's recursion limit."""
        if self._version_read:
            return
        self._call(self.api.instance_v1)
        self.api.retrieve_mastodon_version()
        self._version_read = True

    def _upload(self, image: Image, description: str = "") -> str:
        """Upload one image with its description (alt text, when there is one); its media id
        once the server has processed it."""
        self._read_version()
        media = self._call(
            lambda: self.api.media_post(
                image.content,
                mime_type=image.content_type,
                description=description or None,
                file_name=image.file_name,
            )
        )
        if not isinstance(media, Mapping):
            raise payload_error(NETWORK, "media attachment", "expected an object")
        media_id = str(_field(media, "id", "media attachment"))
        waits = iter(PROCESSING_WAITS)
        while media.get("url") is None:
            wait = next(waits, None)
            if wait is None:
                raise RetryableError(
                    f"{self.host} is still processing the image {shown(image.url)}; the "
                    "publication will be tried again.",
                    NETWORK,
                )
            self.sleep(wait)
            media = self._call(lambda: self.api.media(media_id))
            if not isinstance(media, Mapping):
                raise payload_error(NETWORK, "media attachment", "expected an object")
        return media_id

    def reply(self, post: OutgoingPost) -> Published:
        """Reply with the `Idempotency-Key` header: the same key posts once."""
        if not post.in_reply_to:
            raise PermanentError("A reply needs the post it answers.", NETWORK)
        return self._post_status(post)

    def publish(self, post: OutgoingPost) -> Published:
        """Post a new status with the `Idempotency-Key` header."""
        return self._post_status(post)

    def close(self) -> None:
        """Close the HTTP session."""
        self.api.session.close()


def _chain(*parts: Iterable[Any]) -> list[Any]:
    return [item for part in parts for item in part]


def _status(error: MastodonAPIError) -> int | None:
    args = error.args
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


def _reason(error: Exception, said: str | None = None) -> str:
    args = error.args
    if len(args) >= 4:
        parts = [str(args[1]), str(args[3] or said or args[2])]
        return " ".join(part for part in parts if part and part != "None")
    return str(args[0]) if args else type(error).__name__
