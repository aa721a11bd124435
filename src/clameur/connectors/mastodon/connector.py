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
- rate limits, `X-RateLimit-Reset` as an ISO 8601 date
  (https://docs.joinmastodon.org/api/rate-limits/); Mastodon.py runs in "throw" mode and keeps
  the reset time it read (corrected for the server's clock), which becomes `retry_at`.

Checkpoints are the newest id returned per source. A listen asks for `min_id`, the page
immediately newer than the checkpoint ("since_id" would give the newest page and leave a gap
after a long stop), so a restart walks forward from where it was and neither skips nor repeats.
Entities: Status https://docs.joinmastodon.org/entities/Status/, Account
https://docs.joinmastodon.org/entities/Account/, Notification
https://docs.joinmastodon.org/entities/Notification/, Context
https://docs.joinmastodon.org/entities/Context/.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

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
    FetchResult,
    ListenSource,
    OutgoingPost,
    PermanentError,
    Published,
    RateLimited,
    RetryableError,
    html_to_text,
    payload_error,
    validation_problem,
)
from clameur.connectors.http import USER_AGENT, with_retries
from clameur.pipeline.schemas import AuthorIn, PostIn

T = TypeVar("T")
NETWORK = "mastodon"
# Mastodon returns at most 40 statuses a page (80 notifications).
PAGE_LIMIT = 40
SCOPES = ["read", "write:statuses"]


class MastodonConfig(ConnectorConfig):
    """A Mastodon account and what it listens to."""

    requirements: ClassVar[str] = (
        "An account on a Mastodon server. Enter the server's address: Clameur registers itself "
        "there as an app and sends you to the server to approve access (read, and write "
        "statuses to reply). Alternatively, create an application under Preferences > "
        "Development on your server with the scopes read and write:statuses, and paste its "
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
        {Capability.listen, Capability.conversations, Capability.reply, Capability.publish}
    )
    config_model: ClassVar[type[ConnectorConfig]] = MastodonConfig
    limitations: ClassVar[str] = (
        "Clameur sees what your server sees: public posts that reached it under the hashtags "
        "you follow, posts its search indexes, and your mentions. Followers-only and direct "
        "posts of others are not listened to."
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

    # --- calling the API -----------------------------------------------------------------

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
            reason = _reason(error)
            if status == 403 and "scope" in reason.lower():
                raise AuthError(
                    f"{self.host} says the token lacks a permission ({reason}). Connect the "
                    f"account again and approve the scopes {', '.join(SCOPES)}.",
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
        status = self._call(
            lambda: self.api.status_post(
                post.text,
                in_reply_to_id=post.in_reply_to,
                idempotency_key=post.idempotency_key,
            )
        )
        if not isinstance(status, Mapping):
            raise payload_error(NETWORK, "published status", "expected an object")
        return Published(
            external_id=str(_field(status, "id", "published status")),
            url=status.get("url") or status.get("uri"),
        )

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


def _reason(error: Exception) -> str:
    args = error.args
    if len(args) >= 4:
        parts = [str(args[1]), str(args[3] or args[2])]
        return " ".join(part for part in parts if part and part != "None")
    return str(args[0]) if args else type(error).__name__
