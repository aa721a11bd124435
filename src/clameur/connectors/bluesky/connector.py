"""Bluesky: searches and mentions in; threads; replies and posts out, with an app password.

Built on the atproto SDK (https://atproto.blue) against the XRPC API documented at
docs.bsky.app:

- sign-in with an app password, `com.atproto.server.createSession`, and its renewal,
  `com.atproto.server.refreshSession`
  (https://docs.bsky.app/docs/api/com-atproto-server-create-session,
  https://docs.bsky.app/docs/api/com-atproto-server-refresh-session); the session is kept in the
  account's encrypted settings, so a restart does not sign in again (sign-ins are limited to
  30 per 5 minutes and 300 a day per account);
- search, `app.bsky.feed.searchPosts` with `sort=latest`, `since` and a `cursor`
  (https://docs.bsky.app/docs/api/app-bsky-feed-search-posts);
- mentions, replies and quotes, `app.bsky.notification.listNotifications`
  (https://docs.bsky.app/docs/api/app-bsky-notification-list-notifications);
- threads, `app.bsky.feed.getPostThread`
  (https://docs.bsky.app/docs/api/app-bsky-feed-get-post-thread);
- replies and posts, a `app.bsky.feed.post` record with its reply references
  (https://docs.bsky.app/docs/advanced-guides/posts#replies) written with
  `com.atproto.repo.putRecord` (https://docs.bsky.app/docs/api/com-atproto-repo-put-record);
- images: each is downloaded (`clameur.connectors.media`), uploaded with
  `com.atproto.repo.uploadBlob` with its media type
  (https://docs.bsky.app/docs/api/com-atproto-repo-upload-blob), and the post record embeds the
  returned blobs as `app.bsky.embed.images`, at most 4, each at most 1,000,000 bytes, each with
  its `alt`, "alt text description of the image, for accessibility", required by the lexicon
  and empty where the author wrote none
  (https://docs.bsky.app/docs/advanced-guides/posts#images-embeds, the lexicon
  https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/images.json); the
  lexicon sets no length for `alt` (Bluesky's own app stops at 2,000 characters, `MAX_ALT_TEXT`
  in https://github.com/bluesky-social/social-app/blob/main/src/lib/constants.ts);
- rate limits, HTTP 429 with `ratelimit-reset` (a Unix time)
  (https://docs.bsky.app/docs/advanced-guides/rate-limits);
- refusals (https://atproto.com/specs/xrpc, "Summary of HTTP Status Codes"): 401 (`AuthMissing`,
  `AuthenticationRequired`) and 400 `ExpiredToken`/`InvalidToken` mean the session must be
  renewed, which is done once with the app password; 403 means the client lacks permission for
  the endpoint, which a new sign-in does not change.

Streaming (optional, the account's "Live stream" setting) reads Jetstream
(https://docs.bsky.app/blog/jetstream, https://github.com/bluesky-social/jetstream): a websocket
`/subscribe?wantedCollections=app.bsky.feed.post&cursor=<time_us>` on a public instance run by
Bluesky (or the one set in the account), sending JSON events; a `commit` event with the
operation `create` carries the new post's record, its author's DID and its record key. Its
`time_us` is the checkpoint: a reconnection asks for the events from there, so nothing published
meanwhile is missed (Jetstream keeps about a day). Jetstream is the whole network's firehose
without any keyword filter, so the connector keeps the posts that match one of the account's
searches, read with Clameur's own query language (words, "phrases", #tags, OR, -word, lang:;
Bluesky-only operators such as from: do not apply to the stream), and the posts that mention
the account, answer one of its posts or quote one. Authors are known by DID in Jetstream: their
handle and name are looked up with `app.bsky.actor.getProfiles` for the posts kept. The sync
websocket client of the `websockets` library is used (https://websockets.readthedocs.io).

Bluesky has no idempotency header. A reply's record key is a TID derived from the reply's
creation time and its idempotency key, and it is written with putRecord: sending the same reply
again rewrites the same record with the same content instead of creating a second post. A
publication with images tried again uploads them again: the same bytes are the same blob (a
blob's id is the hash of its content), so the record written is the same.

Checkpoints: results come newest first and a cursor pages back in time. A checkpoint holds the
time up to which everything was read (`since`), the cursor of a sweep in progress, and the posts
already returned near the boundary, so a restart resumes the sweep and the next sweep overlaps
the previous one by a few minutes (late indexing) without returning a post twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, ClassVar, TypeVar

from atproto import Client, models
from atproto_client.client.session import SessionEvent
from atproto_client.exceptions import (
    BadRequestError,
    LoginRequiredError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    RequestException,
    UnauthorizedError,
)
from atproto_client.models.common import XrpcError
from atproto_client.request import Request
from atproto_client.utils.facet_detection import detect_facets
from atproto_core.exceptions import AtProtocolError
from pydantic import Field, SecretStr, ValidationError, field_validator
from websockets.exceptions import (
    ConnectionClosedError,
    InvalidStatus,
    InvalidURI,
    WebSocketException,
)
from websockets.sync.client import ClientConnection, connect

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
    as_utc,
    payload_error,
    payload_time,
    validation_problem,
)
from clameur.connectors.http import USER_AGENT, retry_at_from_headers, with_retries
from clameur.connectors.media import Image, download_images
from clameur.connectors.sweep import Sweep
from clameur.kit.time import parse_datetime, utcnow
from clameur.pipeline.schemas import AuthorIn, PostIn
from clameur.query import PostDoc, Query, QuerySyntaxError, parse

log = logging.getLogger(__name__)
T = TypeVar("T")
NETWORK = "bluesky"
PAGE_LIMIT = 100
POST_COLLECTION = "app.bsky.feed.post"
# Search and notifications are re-read this far back, for posts indexed late.
OVERLAP = timedelta(minutes=10)
NOTIFICATION_REASONS = frozenset({"mention", "reply", "quote"})
JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
# Profiles remembered by DID, so that a busy author is looked up once.
PROFILE_CACHE = 5_000
_MENTION = "app.bsky.richtext.facet#mention"
MAX_IMAGES = 4
# The blob limit of app.bsky.embed.images.
MAX_IMAGE_BYTES = 1_000_000
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})
_ACCOUNT_ERRORS = frozenset({"AccountTakedown", "AccountDeactivated", "AccountSuspended"})


class BlueskyConfig(ConnectorConfig):
    """A Bluesky account (handle and app password) and what it listens to."""

    requirements: ClassVar[str] = (
        "A Bluesky account and an app password for Clameur: in Bluesky, Settings > Privacy "
        "and security > App passwords > Add app password. Do not use the account's main "
        "password. Accounts on another server (PDS) enter its address."
    )

    handle: str = Field(
        title="Handle", description="The account's handle, for example brand.bsky.social."
    )
    app_password: SecretStr = Field(
        title="App password",
        description="An app password created for Clameur (xxxx-xxxx-xxxx-xxxx).",
    )
    service_url: str = Field(
        default="https://bsky.social",
        title="Server",
        description="Leave as is unless the account is hosted on its own server (PDS).",
    )
    searches: list[str] = Field(
        default_factory=list,
        title="Searches",
        description="Search terms to follow, one a line (Bluesky's search syntax).",
    )
    mentions: bool = Field(
        default=True,
        title="Mentions",
        description="Bring mentions, replies and quotes of the account to the inbox.",
    )
    stream: bool = Field(
        default=False,
        title="Live stream",
        description="Also read Bluesky's public firehose (Jetstream) and keep, within seconds, "
        "the posts matching the searches and those mentioning the account. Optional: the "
        "searches and mentions are read every few minutes anyway.",
    )
    jetstream_url: str = Field(
        default=JETSTREAM_URL,
        title="Jetstream address",
        description="The Jetstream instance to read (a public one run by Bluesky by default).",
    )
    # The signed-in session (tokens), kept so a restart does not sign in again.
    session: SecretStr | None = Field(default=None, json_schema_extra={"form": False})

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str) -> str:
        value = value.strip().lstrip("@")
        if not value:
            raise ValueError("enter the account's handle")
        return value

    @field_validator("service_url")
    @classmethod
    def _service_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        return value if "://" in value else "https://" + value

    @field_validator("jetstream_url")
    @classmethod
    def _jetstream_url(cls, value: str) -> str:
        value = value.strip() or JETSTREAM_URL
        value = value if "://" in value else "wss://" + value
        return (
            value if value.rstrip("/").endswith("/subscribe") else value.rstrip("/") + "/subscribe"
        )


_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def record_key(key: str, created_at: datetime) -> str:
    """A TID record key (https://atproto.com/specs/tid) fixed by a time and an idempotency key:
    the microseconds of `created_at` and a 10-bit clock id taken from the key."""
    micros = int(as_utc(created_at).timestamp() * 1_000_000)
    clock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big") & 0x3FF
    value = ((micros & ((1 << 53) - 1)) << 10) | clock
    out = []
    for _ in range(13):
        out.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


def post_url(uri: str, handle: str) -> str | None:
    """The bsky.app address of a post's AT URI."""
    prefix, _, rkey = uri.rpartition("/")
    if not prefix.endswith(POST_COLLECTION) or not rkey:
        return None
    return f"https://bsky.app/profile/{handle}/post/{rkey}"


def _get(entity: Any, name: str) -> Any:
    # Records are typed models, or DotDicts when the lexicon is unknown; both answer getattr.
    return getattr(entity, name, None)


def _required(entity: Any, name: str, what: str) -> Any:
    value = _get(entity, name)
    if value is None or value == "":
        raise payload_error(NETWORK, what, f"it has no {name!r}")
    return value


class BlueskyConnector(Connector[BlueskyConfig]):
    """Bluesky through the atproto SDK, signed in with the account's app password."""

    network: ClassVar[str] = NETWORK
    title: ClassVar[str] = "Bluesky"
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
    config_model: ClassVar[type[ConnectorConfig]] = BlueskyConfig
    max_images: ClassVar[int | None] = MAX_IMAGES
    limitations: ClassVar[str] = (
        "Search returns what Bluesky's search indexes, and a search page may not reach back "
        "through the whole result set; posts from blocked or muted accounts and from accounts "
        "that hide from logged-out views may be missing. Direct messages are not read. The "
        "live stream (Jetstream) sees every public post but matches the searches with "
        "Clameur's own query language: Bluesky's own operators (from:, since:) only apply to "
        "the regular search."
    )

    def __init__(
        self,
        config: BlueskyConfig,
        sleep: Callable[[float], None] = time.sleep,
        retry_attempts: int = 3,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(config)
        self.sleep = sleep
        self.retry_attempts = retry_attempts
        self.client = Client(base_url=config.service_url, request=Request(timeout=timeout))
        self.client.on_session_change(self._session_changed)
        self._signed_in = False
        self._profiles: dict[str, Any] = {}
        self._socket: ClientConnection | None = None

    # --- session ---------------------------------------------------------------------------

    def _session_changed(self, event: SessionEvent, session: Any) -> None:
        # A new or refreshed session: store it (encrypted) so the next run reuses it.
        if event == SessionEvent.IMPORT:
            return
        self.config = self.config.model_copy(update={"session": SecretStr(session.encode())})
        self._config_changed = True

    def _sign_in(self, fresh: bool = False) -> None:
        if self._signed_in and not fresh:
            return
        session = self.config.session
        if session is not None and not fresh:
            try:
                self.client.login(
                    session_string=session.get_secret_value(), fetch_bsky_profile=False
                )
                self._signed_in = True
                return
            except (ValueError, AtProtocolError):
                pass  # an unreadable stored session: sign in again below
        self._translate(
            lambda: self.client.login(
                self.config.handle,
                self.config.app_password.get_secret_value(),
                fetch_bsky_profile=False,
            ),
            signing_in=True,
        )
        self._signed_in = True

    @property
    def did(self) -> str:
        """The signed-in account's DID."""
        self._sign_in()
        session = self.client._session  # noqa: SLF001 - the SDK exposes no public getter
        if session is None:
            raise AuthError("Bluesky sign-in did not return a session.", NETWORK)
        return str(session.did)

    # --- calling the API -----------------------------------------------------------------

    def _call(self, call: Callable[[], T]) -> T:
        """`call` signed in, with errors translated; a rejected session is renewed once with
        the app password; short outages are retried in place."""

        def attempt() -> T:
            self._sign_in()
            try:
                return self._translate(call)
            except _SessionRejected:
                self._sign_in(fresh=True)
            try:
                return self._translate(call)
            except _SessionRejected as error:
                raise AuthError(
                    f"Bluesky refused the account's session right after signing in ({error}). "
                    "Create a new app password and enter it again.",
                    NETWORK,
                ) from None

        return with_retries(attempt, attempts=self.retry_attempts, sleep=self.sleep)

    def _translate(self, call: Callable[[], T], signing_in: bool = False) -> T:
        try:
            return call()
        except RateLimitExceededError as error:
            headers = error.response.headers if error.response is not None else {}
            retry_at = retry_at_from_headers(headers)
            when = retry_at.isoformat(timespec="seconds") if retry_at else "later"
            raise RateLimited(
                f"Bluesky rate limit reached; retrying at {when}.", NETWORK, retry_at=retry_at
            ) from None
        except (UnauthorizedError, BadRequestError, LoginRequiredError) as error:
            code, message = _xrpc(error)
            if signing_in or isinstance(error, LoginRequiredError):
                raise AuthError(
                    f"Bluesky refused to sign in as {self.config.handle} ({message or code}). "
                    "Check the handle, or create a new app password and enter it again.",
                    NETWORK,
                ) from None
            if code in _ACCOUNT_ERRORS:
                raise AuthError(
                    f"Bluesky says the account is not active ({code}: {message}).", NETWORK
                ) from None
            if error.response is not None and error.response.status_code == 403:
                # The session is valid but may not do this: signing in again would not help
                # (and sign-ins are limited).
                raise AuthError(
                    f"Bluesky refused the app password access to this ({_describe(error)}). "
                    "Create a new app password for Clameur in Bluesky (Settings > Privacy and "
                    "security > App passwords) and enter it; on another server (PDS), ask its "
                    "operator whether apps may do this.",
                    NETWORK,
                ) from None
            if isinstance(error, UnauthorizedError) or code in _TOKEN_ERRORS:
                raise _SessionRejected(message or code) from None
            raise PermanentError(
                f"Bluesky refused the request ({code}: {message}).", NETWORK
            ) from None
        except NetworkError as error:
            raise RetryableError(
                f"Bluesky could not be reached ({_describe(error)}).", NETWORK
            ) from None
        except RequestException as error:
            status = error.response.status_code if error.response is not None else 0
            if status >= 500:
                raise RetryableError(
                    f"Bluesky is unavailable (HTTP {status}); will try again.",
                    NETWORK,
                    retry_at=retry_at_from_headers(error.response.headers)
                    if error.response
                    else None,
                ) from None
            raise PermanentError(
                f"Bluesky refused the request ({_describe(error)}).", NETWORK
            ) from None
        except (ModelError, ValidationError) as error:
            raise payload_error(NETWORK, "answer", str(error).splitlines()[0][:300]) from None

    # --- normalising -----------------------------------------------------------------------

    def _to_post(self, uri: str, author: Any, record: Any, counts: Any = None) -> PostIn:
        what = f"post {uri}"
        if _get(record, "py_type") not in (None, POST_COLLECTION) and _get(record, "text") is None:
            raise payload_error(NETWORK, what, "its record is not a post")
        handle = str(_required(author, "handle", what))
        text = str(_get(record, "text") or "").strip()
        if not text:
            text = "(post without text: an image, a video or a link)"
        reply = _get(record, "reply")
        parent = _get(_get(reply, "parent"), "uri") if reply is not None else None
        root = _get(_get(reply, "root"), "uri") if reply is not None else None
        langs = _get(record, "langs") or []
        metrics = {}
        if counts is not None:
            for name, field in (
                ("likes", "like_count"),
                ("reposts", "repost_count"),
                ("replies", "reply_count"),
                ("quotes", "quote_count"),
            ):
                metrics[name] = int(_get(counts, field) or 0)
        try:
            return PostIn(
                id=uri,
                network=NETWORK,
                text=text,
                created_at=_required(record, "created_at", what),
                author=AuthorIn(handle=handle, name=str(_get(author, "display_name") or "")),
                lang=langs[0] if langs else None,
                url=post_url(uri, handle),
                in_reply_to=parent,
                conversation_id=root or uri,
                metrics=metrics,
            )
        except ValidationError as error:
            raise payload_error(NETWORK, what, validation_problem(error)) from None

    def to_post(self, view: Any) -> PostIn:
        """A PostView (search, threads) as a Clameur post."""
        uri = str(_required(view, "uri", "post view"))
        return self._to_post(
            uri,
            _required(view, "author", f"post {uri}"),
            _required(view, "record", f"post {uri}"),
            view,
        )

    @staticmethod
    def _sort_at(view: Any, what: str) -> datetime:
        # Bluesky sorts on the earlier of the record's createdAt and its indexedAt.
        indexed = payload_time(_required(view, "indexed_at", what), NETWORK, what)
        created = _get(_get(view, "record"), "created_at")
        if created is None:
            return indexed
        try:
            return min(indexed, parse_datetime(str(created)))
        except ValueError:
            return indexed

    # --- capabilities ----------------------------------------------------------------------

    def check(self) -> AccountIdentity:
        """Sign in; the account's handle, name and DID."""
        did = self._call(lambda: self.did)
        profile = self._call(lambda: self.client.get_profile(did))
        handle = str(_get(profile, "handle") or self.config.handle)
        return AccountIdentity(
            handle=handle,
            display_name=str(_get(profile, "display_name") or ""),
            external_id=did,
            url=f"https://bsky.app/profile/{handle}",
        )

    def sources(self) -> list[ListenSource]:
        """The account's searches and its mentions."""
        found = [ListenSource("search", query) for query in self.config.searches]
        if self.config.mentions:
            found.append(ListenSource("mentions"))
        return found

    def listen(
        self, source: ListenSource, checkpoint: Checkpoint | None, limit: int = PAGE_LIMIT
    ) -> FetchResult:
        """The posts of a search, or the mentions, after the checkpoint."""
        page_size = max(1, min(limit, PAGE_LIMIT))
        state = Sweep.load(checkpoint, overlap=OVERLAP)
        if source.kind == "search":
            since = state.lower_bound()
            params = models.AppBskyFeedSearchPosts.Params(
                q=source.value,
                sort="latest",
                limit=page_size,
                cursor=state.cursor,
                since=since.isoformat().replace("+00:00", "Z") if since else None,
            )
            page = self._call(lambda: self.client.app.bsky.feed.search_posts(params))
            items = [
                (str(_required(view, "uri", "post view")), self._sort_at(view, "post view"), view)
                for view in _required(page, "posts", "search result")
            ]
            convert: Callable[[Any], PostIn] = self.to_post
        elif source.kind == "mentions":
            notes = models.AppBskyNotificationListNotifications.Params(
                limit=page_size, cursor=state.cursor
            )
            page = self._call(lambda: self.client.app.bsky.notification.list_notifications(notes))
            items = [
                (
                    str(_required(note, "uri", "notification")),
                    payload_time(
                        _required(note, "indexed_at", "notification"), NETWORK, "notification"
                    ),
                    note,
                )
                for note in _required(page, "notifications", "notification list")
                if _get(note, "reason") in NOTIFICATION_REASONS
            ]
            raw_count = len(_get(page, "notifications") or [])

            def convert(note: Any) -> PostIn:
                uri = str(note.uri)
                return self._to_post(
                    uri,
                    _required(note, "author", f"notification {uri}"),
                    _required(note, "record", f"notification {uri}"),
                )

        else:
            raise PermanentError(f"Bluesky cannot listen to {source.key!r}.", NETWORK)
        cursor = _get(page, "cursor")
        full = (raw_count if source.kind == "mentions" else len(items)) >= page_size
        posts, more = state.advance(items, cursor if full else None)
        return FetchResult(
            posts=[convert(entity) for entity in posts], checkpoint=state.dump(), more=more
        )

    # --- the live stream (Jetstream) --------------------------------------------------------

    def stream_enabled(self) -> bool:
        """Whether the account streams: its setting is on and it has searches or mentions."""
        return super().stream_enabled() and bool(self.config.searches or self.config.mentions)

    def stream_queries(self) -> list[Query]:
        """The account's searches in Clameur's query language; a search it cannot read (a
        Bluesky operator) is kept as its plain words."""
        queries = []
        for term in self.config.searches:
            try:
                queries.append(parse(term))
                continue
            except QuerySyntaxError:
                pass
            words = [word.replace('"', "") for word in term.split() if ":" not in word]
            words = [word for word in words if word]
            if words:
                log.info("Bluesky stream: the search %r is matched as the words %s", term, words)
                queries.append(parse(" ".join(f'"{word}"' for word in words)))
        return queries

    def stream(self, checkpoint: Checkpoint | None, stop: threading.Event) -> Iterator[StreamItem]:
        """New posts of the whole network, from Jetstream, that match a search or concern the
        account; the checkpoint is Jetstream's `time_us` cursor."""
        queries = self.stream_queries()
        did = self._call(lambda: self.did) if self.config.mentions else None
        cursor = (checkpoint or {}).get("cursor")
        query = f"wantedCollections={POST_COLLECTION}"
        if isinstance(cursor, int) and cursor > 0:
            query += f"&cursor={cursor}"
        with self._open(f"{self.config.jetstream_url}?{query}") as socket:
            self._socket = socket
            try:
                yield StreamItem()
                while not stop.is_set():
                    try:
                        message = socket.recv(timeout=1.0)
                    except TimeoutError:
                        yield StreamItem()
                        continue
                    except ConnectionClosedError as error:
                        raise RetryableError(
                            f"Jetstream closed the connection ({error}); reconnecting.", NETWORK
                        ) from None
                    except WebSocketException:
                        return  # closed normally (or by `close`): the caller reconnects
                    item = self._stream_event(message, queries, did)
                    if item is not None:
                        yield item
            finally:
                self._socket = None

    def _open(self, url: str) -> ClientConnection:
        try:
            return connect(
                url,
                open_timeout=10,
                close_timeout=2,
                user_agent_header=USER_AGENT,
                max_size=4 * 1024 * 1024,
            )
        except InvalidStatus as error:
            status = error.response.status_code
            if status == 429:
                retry_at = retry_at_from_headers(error.response.headers)
                raise RateLimited(
                    "Jetstream refused the connection (HTTP 429).", NETWORK, retry_at=retry_at
                ) from None
            if status >= 500:
                raise RetryableError(
                    f"Jetstream is unavailable (HTTP {status}); will try again.", NETWORK
                ) from None
            raise PermanentError(
                f"Jetstream refused the connection (HTTP {status}): check its address.", NETWORK
            ) from None
        except InvalidURI:
            raise PermanentError(
                f"{url!r} is not a Jetstream address (wss://host/subscribe).", NETWORK
            ) from None
        except (OSError, WebSocketException) as error:
            raise RetryableError(
                f"Jetstream could not be reached ({type(error).__name__}: {error}).", NETWORK
            ) from None

    def _stream_event(
        self, message: str | bytes, queries: list[Query], did: str | None
    ) -> StreamItem | None:
        """What one Jetstream event brings: its cursor, and its post when the account wants
        it; an event that cannot be read is logged and skipped."""
        try:
            event = json.loads(message)
        except ValueError:
            log.warning("Jetstream: skipped a message that is not JSON: %.200r", message)
            return None
        if not isinstance(event, dict):
            return None
        time_us = event.get("time_us")
        checkpoint = {"cursor": time_us} if isinstance(time_us, int) else None
        commit = event.get("commit")
        if (
            event.get("kind") != "commit"
            or not isinstance(commit, dict)
            or commit.get("operation") != "create"
            or commit.get("collection") != POST_COLLECTION
            or not isinstance(commit.get("record"), dict)
        ):
            return StreamItem(checkpoint=checkpoint) if checkpoint else None
        author = str(event.get("did") or "")
        record = commit["record"]
        if not author or not self._wanted(record, author, queries, did):
            return StreamItem(checkpoint=checkpoint)
        uri = f"at://{author}/{POST_COLLECTION}/{commit.get('rkey')}"
        try:
            typed = models.get_or_create(record, strict=False)
            post = self._to_post(uri, self._profile(author), typed)
        except (ConnectorError, ModelError, ValidationError, ValueError) as error:
            log.warning("Jetstream: skipped the post %s: %s", uri, error)
            return StreamItem(checkpoint=checkpoint)
        return StreamItem(post, checkpoint)

    def _wanted(
        self, record: dict[str, Any], author: str, queries: list[Query], did: str | None
    ) -> bool:
        """Whether a new post concerns the account or matches one of its searches."""
        if did is not None and author != did and _concerns(record, did):
            return True
        text = record.get("text")
        if not queries or not isinstance(text, str) or not text:
            return False
        langs = record.get("langs")
        lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
        doc = PostDoc.from_fields(text, lang=lang, network=NETWORK)
        return any(query.matches(doc) for query in queries)

    def _profile(self, did: str) -> Any:
        """An author's profile (handle, name), looked up once; the DID alone when unknown."""
        known = self._profiles.get(did)
        if known is not None:
            return known
        try:
            found = self._call(lambda: self.client.get_profiles([did]))
            profiles = _get(found, "profiles") or []
        except ConnectorError as error:
            log.info("Jetstream: no profile for %s (%s)", did, error)
            profiles = []
        if not profiles:
            return SimpleNamespace(handle=did, display_name="")
        if len(self._profiles) >= PROFILE_CACHE:
            self._profiles.clear()
        self._profiles[did] = profiles[0]
        return profiles[0]

    def conversation(self, post_id: str) -> list[PostIn]:
        """The thread of a post: its parents, itself, and the replies below it."""
        answer = self._call(
            lambda: self.client.get_post_thread(post_id, depth=10, parent_height=50)
        )
        thread = _required(answer, "thread", "thread")
        if _get(thread, "post") is None:
            raise PermanentError(
                f"Bluesky cannot show the thread of {post_id} (deleted or blocked).", NETWORK
            )
        parents: list[Any] = []
        node = _get(thread, "parent")
        while node is not None and _get(node, "post") is not None:
            parents.append(node.post)
            node = _get(node, "parent")
        replies: list[Any] = []
        _walk_replies(thread, replies)
        return [self.to_post(view) for view in [*reversed(parents), thread.post, *replies]]

    def _write(self, post: OutgoingPost, reply: Any = None) -> Published:
        created = as_utc(post.created_at or utcnow())
        images = download_images(post.media_urls, NETWORK, MAX_IMAGE_BYTES, max_count=MAX_IMAGES)
        embed = (
            models.AppBskyEmbedImages.Main(
                images=[
                    models.AppBskyEmbedImages.Image(alt=post.alt(index), image=self._upload(image))
                    for index, image in enumerate(images)
                ]
            )
            if images
            else None
        )
        record = models.AppBskyFeedPost.Record(
            text=post.text,
            created_at=created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            reply=reply,
            facets=detect_facets(post.text) or None,
            embed=embed,
        )
        rkey = record_key(post.idempotency_key, created)
        did = self._call(lambda: self.did)
        data = models.ComAtprotoRepoPutRecord.Data(
            repo=did, collection=POST_COLLECTION, rkey=rkey, record=record
        )
        written = self._call(lambda: self.client.com.atproto.repo.put_record(data))
        uri = str(_required(written, "uri", "written record"))
        return Published(external_id=uri, url=post_url(uri, self.config.handle))

    def _upload(self, image: Image) -> Any:
        """The blob of one image, uploaded with its media type."""
        uploaded = self._call(
            lambda: self.client.com.atproto.repo.upload_blob(
                image.content, headers={"Content-Type": image.content_type}
            )
        )
        return _required(uploaded, "blob", "uploaded blob")

    def reply(self, post: OutgoingPost) -> Published:
        """Reply under `post.in_reply_to` (an AT URI), in its thread; once per key."""
        if not post.in_reply_to:
            raise PermanentError("A reply needs the post it answers.", NETWORK)
        uri = post.in_reply_to
        found = self._call(lambda: self.client.get_posts([uri]))
        views = _required(found, "posts", "post lookup")
        if not views:
            raise PermanentError(
                f"The Bluesky post {uri} no longer exists; it cannot be answered.", NETWORK
            )
        parent = views[0]
        parent_ref = models.ComAtprotoRepoStrongRef.Main(
            uri=str(_required(parent, "uri", "post")), cid=str(_required(parent, "cid", "post"))
        )
        parent_reply = _get(_get(parent, "record"), "reply")
        root = _get(parent_reply, "root") if parent_reply is not None else None
        root_ref = (
            models.ComAtprotoRepoStrongRef.Main(uri=str(root.uri), cid=str(root.cid))
            if root is not None
            else parent_ref
        )
        return self._write(post, models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=parent_ref))

    def publish(self, post: OutgoingPost) -> Published:
        """Post from the account; once per key."""
        return self._write(post)

    def close(self) -> None:
        """Close the HTTP client and the stream's connection."""
        socket = self._socket
        if socket is not None:
            socket.close()
        self.client.request.close()


def _concerns(record: dict[str, Any], did: str) -> bool:
    """Whether a post record mentions the account, answers one of its posts or quotes one."""
    own = f"at://{did}/"
    for facet in record.get("facets") or []:
        for feature in (facet.get("features") or []) if isinstance(facet, dict) else []:
            if isinstance(feature, dict) and feature.get("$type") == _MENTION:
                if feature.get("did") == did:
                    return True
    reply = record.get("reply")
    if isinstance(reply, dict):
        for link in ("parent", "root"):
            target = reply.get(link)
            if isinstance(target, dict) and str(target.get("uri") or "").startswith(own):
                return True
    embed = record.get("embed")
    if isinstance(embed, dict):
        quoted = embed.get("record")
        if isinstance(quoted, dict) and isinstance(quoted.get("record"), dict):
            quoted = quoted["record"]  # a quote with media: recordWithMedia
        if isinstance(quoted, dict) and str(quoted.get("uri") or "").startswith(own):
            return True
    return False


class _SessionRejected(Exception):
    """The stored session was refused; sign in again with the app password."""


def _walk_replies(node: Any, out: list[Any]) -> None:
    for child in _get(node, "replies") or []:
        if _get(child, "post") is not None:
            out.append(child.post)
            _walk_replies(child, out)


def _xrpc(error: Exception) -> tuple[str, str]:
    response = getattr(error, "response", None)
    content = getattr(response, "content", None)
    if isinstance(content, XrpcError):
        return content.error, content.message or ""
    return type(error).__name__, ""


def _describe(error: RequestErrorBase) -> str:
    if error.response is None:
        cause = error.__cause__ or error.__context__
        return type(cause).__name__ if cause else type(error).__name__
    code, message = _xrpc(error)
    return f"HTTP {error.response.status_code} {code}: {message}".strip(": ")
