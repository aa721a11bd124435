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
- rate limits, HTTP 429 with `ratelimit-reset` (a Unix time)
  (https://docs.bsky.app/docs/advanced-guides/rate-limits).

Bluesky has no idempotency header. A reply's record key is a TID derived from the reply's
creation time and its idempotency key, and it is written with putRecord: sending the same reply
again rewrites the same record with the same content instead of creating a second post.

Checkpoints: results come newest first and a cursor pages back in time. A checkpoint holds the
time up to which everything was read (`since`), the cursor of a sweep in progress, and the posts
already returned near the boundary, so a restart resumes the sweep and the next sweep overlaps
the previous one by a few minutes (late indexing) without returning a post twice.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta
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
    RetryableError,
    as_utc,
    payload_error,
    payload_time,
    validation_problem,
)
from clameur.connectors.http import retry_at_from_headers, with_retries
from clameur.connectors.sweep import Sweep
from clameur.kit.time import parse_datetime, utcnow
from clameur.pipeline.schemas import AuthorIn, PostIn

T = TypeVar("T")
NETWORK = "bluesky"
PAGE_LIMIT = 100
POST_COLLECTION = "app.bsky.feed.post"
# Search and notifications are re-read this far back, for posts indexed late.
OVERLAP = timedelta(minutes=10)
NOTIFICATION_REASONS = frozenset({"mention", "reply", "quote"})
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
        {Capability.listen, Capability.conversations, Capability.reply, Capability.publish}
    )
    config_model: ClassVar[type[ConnectorConfig]] = BlueskyConfig
    limitations: ClassVar[str] = (
        "Search returns what Bluesky's search indexes, and a search page may not reach back "
        "through the whole result set; posts from blocked or muted accounts and from accounts "
        "that hide from logged-out views may be missing. Direct messages are not read."
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
        record = models.AppBskyFeedPost.Record(
            text=post.text,
            created_at=created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            reply=reply,
            facets=detect_facets(post.text) or None,
        )
        rkey = record_key(post.idempotency_key, created)
        did = self._call(lambda: self.did)
        data = models.ComAtprotoRepoPutRecord.Data(
            repo=did, collection=POST_COLLECTION, rkey=rkey, record=record
        )
        written = self._call(lambda: self.client.com.atproto.repo.put_record(data))
        uri = str(_required(written, "uri", "written record"))
        return Published(external_id=uri, url=post_url(uri, self.config.handle))

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
        """Close the HTTP client."""
        self.client.request.close()


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
