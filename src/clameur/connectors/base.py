"""What a network connector is: its capabilities, its settings, what it returns, how it fails.

A connector is the client code for one network's documented API. It takes its configuration
(a `ConnectorConfig`, decrypted by the caller), talks to the network, and returns normalised
objects: `PostIn` for what it read, `Published` for what it wrote. It never touches the
database: the runner stores the posts, then the checkpoint, in one transaction.

Failures are one of three kinds, so the runner knows what to do without knowing the network:

- `RetryableError`: try again at `retry_at` (the time a rate limit gave) or after `delay`;
- `AuthError`: the token expired or was revoked; the account needs a person's attention, the
  other accounts go on;
- `PermanentError`: retrying will not help (a malformed answer, a deleted post); the message
  says what happened and is shown to the team.

Networks that push (Meta's webhooks) are received through three transport-neutral methods, so
the web route stays thin: `webhook_handshake` answers the subscription check, `webhook_verify`
refuses a delivery that is not signed by the network (`WebhookRejected`), and `webhook_events`
verifies again, then turns the delivery into posts (`PushedPost`).

Networks that stream (Mastodon's server-sent events, X's filtered stream, Bluesky's Jetstream)
declare `Capability.stream`: `stream` is a generator of `StreamItem`s, a post as it arrives with
the checkpoint to resume after it, until the `stop` event is set or the network closes the
connection; it raises the same three kinds of errors, and the caller reconnects.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from abc import ABC
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from clameur.kit.errors import ClameurError
from clameur.kit.time import parse_datetime, utcnow
from clameur.pipeline.jobs import RetryableError as JobRetryableError
from clameur.pipeline.schemas import PostIn

if TYPE_CHECKING:
    from clameur.models import Conversation, Post, Reply


class Capability(StrEnum):
    """What a connector can do on its network."""

    listen = "listen"
    conversations = "conversations"
    reply = "reply"
    publish = "publish"
    webhooks = "webhooks"
    # Answers a direct message in private.
    messages = "messages"
    # Reads posts as the network publishes them, over one long-lived connection.
    stream = "stream"
    # Attaches images (`OutgoingPost.media_urls`) to what it publishes.
    images = "images"


# --- Errors -------------------------------------------------------------------------------


class ConnectorError(ClameurError):
    """A network could not do what was asked."""

    status_code = 502

    def __init__(self, message: str, network: str = "") -> None:
        super().__init__(message)
        self.network = network


class RetryableError(ConnectorError, JobRetryableError):
    """Worth retrying later: a rate limit (at the time the network gave), an outage, a timeout.

    `retry_at` is when to try again when the network said so; `delay` is the same in seconds
    from when the error was raised (the job runner and the outbox read `delay`)."""

    status_code = 503
    DEFAULT_DELAY = 60.0

    def __init__(
        self,
        message: str,
        network: str = "",
        retry_at: datetime | None = None,
        delay: float | None = None,
        now: datetime | None = None,
    ) -> None:
        ConnectorError.__init__(self, message, network)
        now = now or utcnow()
        if retry_at is not None:
            delay = max((retry_at - now).total_seconds(), 0.0)
        elif delay is not None:
            retry_at = now + timedelta(seconds=delay)
        self.retry_at = retry_at
        # Whether the network said when: a runner backs off exponentially when it did not.
        self.requested_delay = delay
        self.delay = delay if delay is not None else self.DEFAULT_DELAY


class RateLimited(RetryableError):
    """The network's rate limit is spent until `retry_at`."""

    status_code = 429


class AuthError(ConnectorError):
    """The network refused the credentials (expired, revoked, missing scope): the account needs
    to be connected again; nothing is retried until then."""

    status_code = 401


class PermanentError(ConnectorError):
    """Retrying will not help; the message says what is wrong."""

    status_code = 422


class Unsupported(PermanentError):
    """The connector cannot do this on its network."""

    status_code = 400


class WebhookRejected(PermanentError):
    """A webhook request that does not come from the network: a wrong verify token, a missing
    or wrong signature, a body changed on the way. Answer 403, log it, process nothing."""

    status_code = 403


# --- Configuration and its form -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormField:
    """One input of a connector's settings form, derived from its configuration model."""

    name: str
    title: str
    description: str
    kind: str  # "text", "secret", "url", "lines", "number", "checkbox"
    required: bool
    default: Any = None

    @property
    def secret(self) -> bool:
        """Whether the value is a secret: never shown back, kept when the form leaves it blank."""
        return self.kind == "secret"


def mask_secret(value: str) -> str:
    """A secret as it may be shown: its last four characters when it is long enough to keep
    the rest hidden, otherwise nothing of it."""
    if not value:
        return ""
    if len(value) >= 16:
        return "••••" + value[-4:]
    return "••••"


def _field_kind(annotation: Any, name: str) -> str:
    args = get_args(annotation)
    if annotation is SecretStr or SecretStr in args:
        return "secret"
    if annotation is bool:
        return "checkbox"
    if annotation in (int, float):
        return "number"
    if get_origin(annotation) is list or any(get_origin(arg) is list for arg in args):
        return "lines"
    if name.endswith("url"):
        return "url"
    return "text"


def comment_window(note: str = "") -> Any:
    """The setting "comments on posts of the last N days" that the networks swept post by post
    share (Facebook, Instagram, LinkedIn): older posts are not read again for new comments."""
    return Field(
        default=14,
        ge=1,
        le=365,
        title="Comments on posts of the last ... days",
        description=f"Older posts are not read again for new comments{note}.",
    )


class ConnectorConfig(BaseModel):
    """A connector's settings: what the user enters to connect an account, plus what the
    connection flow stores (tokens). Secrets are `SecretStr`, so they never print.

    The same model describes the settings form (`form_fields`): each field's `title` and
    `description`, which ones are secret; `requirements` says in plain words what the user must
    obtain from the network first. Fields marked `json_schema_extra={"form": False}` are filled
    by a connection flow, not typed by the user."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    requirements: ClassVar[str] = ""

    @classmethod
    def form_fields(cls) -> list[FormField]:
        """The settings form's inputs, in declaration order."""
        fields = []
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if extra.get("form") is False:
                continue
            default = None if info.is_required() else info.get_default(call_default_factory=True)
            if isinstance(default, SecretStr):
                default = None
            fields.append(
                FormField(
                    name=name,
                    title=info.title or name.replace("_", " ").capitalize(),
                    description=info.description or "",
                    kind=_field_kind(info.annotation, name),
                    required=info.is_required(),
                    default=default,
                )
            )
        return fields

    @classmethod
    def secret_names(cls) -> list[str]:
        """The fields holding secrets, form or not."""
        return [
            name
            for name, info in cls.model_fields.items()
            if _field_kind(info.annotation, name) == "secret"
        ]

    @classmethod
    def from_form(
        cls: type[ConfigT], form: Mapping[str, Any], previous: ConfigT | None = None
    ) -> ConfigT:
        """Build the settings from a submitted form. A secret left blank keeps its previous
        value (secrets are never shown back, so a blank means "unchanged"); fields the form does
        not show keep theirs; "lines" fields take one value a line."""
        data: dict[str, Any] = previous.secret_dump() if previous is not None else {}
        for spec in cls.form_fields():
            if spec.name not in form:
                if spec.kind == "checkbox":
                    data[spec.name] = False
                continue
            value = form[spec.name]
            if spec.secret and (value is None or str(value).strip() == ""):
                continue
            if spec.kind == "lines" and isinstance(value, str):
                value = [line.strip() for line in value.splitlines() if line.strip()]
            data[spec.name] = value
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item['loc']) or 'settings'}: {item['msg']}"
                for item in error.errors()
            )
            raise PermanentError(f"These settings are not valid: {problems}.") from None

    def secret_dump(self) -> dict[str, Any]:
        """Every value in clear, secrets included: only for encrypting it (see `secrets`)."""
        data = self.model_dump(mode="json")
        for name in self.secret_names():
            value = getattr(self, name)
            data[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
        return data

    def masked(self) -> dict[str, Any]:
        """The settings as they may be shown: secrets masked, the rest as is."""
        data = self.model_dump(mode="json")
        for name in self.secret_names():
            value = getattr(self, name)
            data[name] = mask_secret(value.get_secret_value()) if value is not None else ""
        return data


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


# --- What connectors return ---------------------------------------------------------------

# An opaque, JSON-serialisable cursor for one listen source (since ids, cursors, ETags); the
# runner stores it after the batch it came with is committed and hands it back next time.
Checkpoint = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ListenSource:
    """One thing an account listens to: a hashtag, a search, its mentions, a feed."""

    kind: str
    value: str = ""

    @property
    def key(self) -> str:
        """A stable name for the source, under which its checkpoint is stored."""
        return f"{self.kind}:{self.value}" if self.value else self.kind

    @classmethod
    def parse(cls, key: str) -> ListenSource:
        """The source named by `key`."""
        kind, _, value = key.partition(":")
        return cls(kind, value)


@dataclass(slots=True)
class FetchResult:
    """One batch read from a source: the posts (oldest first), the checkpoint to store once
    they are committed, and whether more is waiting right now (call again at once)."""

    posts: list[PostIn]
    checkpoint: Checkpoint
    more: bool = False


@dataclass(frozen=True, slots=True)
class StreamItem:
    """What a stream yields: a post as it arrived, or None for a keep-alive (yielded once when
    connected and at each heartbeat); `checkpoint` is where to resume after it, None where the
    network cannot resume a stream."""

    post: PostIn | None = None
    checkpoint: Checkpoint | None = None


@dataclass(frozen=True, slots=True)
class OutgoingPost:
    """A post to write on the network: a reply when `in_reply_to` names a post (the network's
    id, as in `PostIn.id`). The same `idempotency_key` never publishes twice."""

    text: str
    idempotency_key: str
    in_reply_to: str | None = None
    created_at: datetime | None = None
    # Public addresses of images to attach (Instagram cannot publish text alone).
    media_urls: tuple[str, ...] = ()
    # A description of each image for people who cannot see it (alt text), in the order of
    # `media_urls`; empty, or shorter, where none was written.
    media_alts: tuple[str, ...] = ()
    # The person to answer in private (a direct message), by the network's id for them.
    private_to: str | None = None

    def alt(self, index: int) -> str:
        """The description written for image `index` of `media_urls`, or ""."""
        return self.media_alts[index].strip() if index < len(self.media_alts) else ""


@dataclass(frozen=True, slots=True)
class Published:
    """What the network made of a reply or a publication."""

    external_id: str
    url: str | None = None
    # True when the key had already been used: nothing new was published.
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class AccountIdentity:
    """Who the credentials belong to, as the network says."""

    handle: str
    display_name: str = ""
    external_id: str | None = None
    url: str | None = None


# --- Webhooks ------------------------------------------------------------------------------


class Headers(Mapping[str, str]):
    """HTTP headers looked up without regard to case, as HTTP reads them."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items = {str(k).lower(): str(v) for k, v in (items or {}).items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({sorted(self._items)})"


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One HTTP request a network sent to Clameur's webhook address, as received: `body` is
    the raw bytes (signatures are computed over them, never over re-encoded JSON)."""

    method: str
    headers: Mapping[str, str] = field(default_factory=Headers)
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))
        object.__setattr__(self, "query", {str(k): str(v) for k, v in self.query.items()})

    @property
    def digest(self) -> str:
        """SHA-256 of the body: the same delivery sent twice has the same digest."""
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    """What to answer the network."""

    status: int = 200
    body: str = ""
    content_type: str = "text/plain"


class PushedPost(PostIn):
    """A post a network pushed through a webhook: the import schema (`PostIn`) and what the
    delivery said besides (a direct message is `private`, as in the import schema).
    `model_dump(mode="json")` is a valid import record; the extra keys are kept with the post's
    raw payload."""

    # What happened: "post", "comment", "mention" or "message".
    event: str = "post"
    # The change as the network sent it.
    delivery: dict[str, Any] = Field(default_factory=dict)


# --- The connector ------------------------------------------------------------------------


class Connector(ABC, Generic[ConfigT]):
    """The base of every connector. Subclasses set the class attributes, take their config in
    `__init__`, and implement the methods of the capabilities they declare; the others say
    plainly that the network cannot do it."""

    network: ClassVar[str]
    title: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    config_model: ClassVar[type[ConnectorConfig]]
    # What the network does not let Clameur see, in the user's words (shown on the health view).
    limitations: ClassVar[str] = ""
    # With `Capability.images`: how many images one post takes (None: no documented limit).
    max_images: ClassVar[int | None] = None

    def __init__(self, config: ConfigT) -> None:
        self.config = config
        self._config_changed = False

    def can(self, capability: Capability) -> bool:
        """Whether this connector can do `capability`."""
        return capability in self.capabilities

    def updated_config(self) -> ConfigT | None:
        """The config when the connector changed it (a refreshed token or session): store it
        again, encrypted. None when nothing changed."""
        return self.config if self._config_changed else None

    def _unsupported(self, what: str) -> Unsupported:
        return Unsupported(f"{self.title} connector cannot {what}.", self.network)

    def check(self) -> AccountIdentity:
        """Verify the credentials; who they belong to."""
        raise self._unsupported("verify an account")

    def sources(self) -> list[ListenSource]:
        """What this account listens to, from its settings."""
        return []

    def listen(
        self, source: ListenSource, checkpoint: Checkpoint | None, limit: int = 100
    ) -> FetchResult:
        """The posts of `source` after `checkpoint` (None: start from now), oldest first."""
        raise self._unsupported("listen")

    def stream_enabled(self) -> bool:
        """Whether the account streams: the connector can and its settings' `stream` is on."""
        return self.can(Capability.stream) and bool(getattr(self.config, "stream", False))

    def stream(self, checkpoint: Checkpoint | None, stop: threading.Event) -> Iterator[StreamItem]:
        """Posts as they are published, from `checkpoint` where the network can resume."""
        raise self._unsupported("stream")

    def conversation(self, post_id: str) -> list[PostIn]:
        """The thread around a post: its ancestors, itself, its replies, in order."""
        raise self._unsupported("fetch conversations")

    def reply(self, post: OutgoingPost) -> Published:
        """Answer `post.in_reply_to`; once per idempotency key."""
        raise self._unsupported("reply")

    def publish(self, post: OutgoingPost) -> Published:
        """Publish a new post from the account; once per idempotency key."""
        raise self._unsupported("publish")

    def webhook_handshake(self, request: WebhookRequest) -> WebhookAnswer:
        """The answer to the network's subscription check (a GET); `WebhookRejected` when the
        request does not carry the account's verify token."""
        raise self._unsupported("receive webhooks")

    def webhook_verify(self, request: WebhookRequest) -> None:
        """Refuse (`WebhookRejected`) a delivery the network did not sign; reads nothing else."""
        raise self._unsupported("receive webhooks")

    def webhook_events(self, request: WebhookRequest) -> list[PushedPost]:
        """The posts in a delivery (a POST), after checking its signature: nothing is parsed
        from an unsigned or wrongly signed one (`WebhookRejected`)."""
        raise self._unsupported("receive webhooks")

    def close(self) -> None:
        """Release network resources."""


class OutboxSender:
    """The inbox outbox's reply sender (`clameur.inbox.outbox.ReplySender`) for one network,
    backed by the connector of the conversation's workspace account."""

    def __init__(
        self,
        connector_for_workspace: Callable[[int], Connector[Any]],
        on_auth_error: Callable[[int, AuthError], None] | None = None,
    ) -> None:
        self.connector_for_workspace = connector_for_workspace
        # Told (with the workspace id) when the network refuses the account's token.
        self.on_auth_error = on_auth_error

    def send_reply(
        self, reply: Reply, conversation: Conversation, in_reply_to_post: Post | None
    ) -> str:
        """Send the reply through the network; the network's id of the published post."""
        if in_reply_to_post is None:
            raise PermanentError("There is no message to answer in this conversation.")
        connector = self.connector_for_workspace(conversation.workspace_id)
        private_to = None
        if conversation.kind == "dm":
            if in_reply_to_post.author is None:
                raise PermanentError("This private message has no sender to answer.")
            private_to = in_reply_to_post.author.handle
        try:
            published = connector.reply(
                OutgoingPost(
                    text=reply.body,
                    idempotency_key=reply.idempotency_key,
                    in_reply_to=in_reply_to_post.external_id,
                    created_at=reply.created_at,
                    private_to=private_to,
                )
            )
        except AuthError as error:
            if self.on_auth_error is not None:
                self.on_auth_error(conversation.workspace_id, error)
            raise
        return published.external_id


# --- Helpers for normalising payloads ------------------------------------------------------

_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/h\d)\s*/?\s*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(markup: str) -> str:
    """Plain text from the HTML that networks and feeds send (paragraphs become lines)."""
    text = _BREAKS.sub("\n", markup)
    text = _TAGS.sub("", text)
    text = html.unescape(text)
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n", "\n".join(lines)).strip()


def as_utc(value: datetime) -> datetime:
    """`value` as an aware UTC datetime (naive ones are taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def same_words(published: str, wanted: str) -> bool:
    """Whether a text the network shows is `wanted`, whatever the spacing and line breaks (they
    are reflowed by networks that show plain text)."""
    return published.split() == wanted.split()


def written_since(post: OutgoingPost) -> datetime:
    """The earliest time the account's own copy of `post` can carry if it was already
    published: when the outbox created it, less a minute for clocks (a day back when unknown).
    Networks without an idempotency key are searched from then before publishing again."""
    since = as_utc(post.created_at) if post.created_at else utcnow() - timedelta(days=1)
    return since - timedelta(minutes=1)


def payload_error(network: str, what: str, problem: str) -> PermanentError:
    """A malformed answer from the network, naming what was wrong with it."""
    return PermanentError(
        f"{network} sent a malformed {what}: {problem}. This is not retried; if it keeps "
        "happening the network changed its API and the connector needs an update.",
        network,
    )


def required(entity: Mapping[str, Any], name: str, network: str, what: str) -> Any:
    """`entity[name]`, or the malformed-answer error naming it (None and "" count as missing)."""
    value = entity.get(name)
    if value is None or value == "":
        raise payload_error(network, what, f"it has no {name!r}")
    return value


def as_object(value: Any, network: str, what: str) -> dict[str, Any]:
    """`value` when it is a JSON object, else the malformed-answer error."""
    if not isinstance(value, dict):
        raise payload_error(network, what, f"expected an object, got {type(value).__name__}")
    return value


def as_list(value: Any, network: str, what: str) -> list[Any]:
    """`value` when it is a JSON list (None: an empty one), else the malformed-answer error."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise payload_error(network, what, f"expected a list, got {type(value).__name__}")
    return value


def payload_time(value: Any, network: str, what: str) -> datetime:
    """An ISO 8601 time of a payload, else the malformed-answer error."""
    try:
        return parse_datetime(str(value))
    except ValueError:
        raise payload_error(network, what, f"{value!r} is not a date") from None


def validation_problem(error: Exception) -> str:
    """A pydantic error in one line, naming fields (never values); other errors as they say."""
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
        )
    return str(error)
