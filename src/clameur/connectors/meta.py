"""What the Facebook and Instagram connectors share: the Graph API client, its errors and rate
limits, Meta's webhooks (subscription handshake and signed deliveries), and `MetaConnector`, the
base of both connectors (edge sweeps, webhook entries for the account, private messages).

- Graph API calls go to `https://graph.facebook.com/{version}/...` with the token in an
  `Authorization: Bearer` header, never in the address, and with `appsecret_proof` (an HMAC of
  the token keyed with the app secret) when the app secret is known
  (https://developers.facebook.com/docs/graph-api/securing-requests). Versions are documented
  at https://developers.facebook.com/docs/graph-api/changelog.
- Errors come as `{"error": {"message", "type", "code", "error_subcode", ...}}`
  (https://developers.facebook.com/docs/graph-api/guides/error-handling): code 190 (and 102,
  the login subcodes) means the token expired or was revoked; 10 and 200-299 a permission the
  app or the token lacks; 4, 17, 32 and 613 are throttling (application, account, page,
  custom), as are the Business Use Case codes 80001 (Pages), 80002 (Instagram) and 80006
  (Messenger); 1, 2 and `is_transient` are temporary; 368 is a temporary block for policies.
- Rate limits (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/):
  `X-App-Usage` gives the app's usage as percentages, `X-Business-Use-Case-Usage` the usage per
  business object with `estimated_time_to_regain_access` in minutes. A throttled call is retried
  at that time; a usage of 100 % blocks the next calls until then, without calling.
- Webhooks (https://developers.facebook.com/docs/graph-api/webhooks/getting-started): the
  subscription check is a GET with `hub.mode=subscribe`, `hub.verify_token` (the token typed in
  the app dashboard) and `hub.challenge`, answered with the challenge; each delivery is a POST
  signed in `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>`.
  Payloads: Pages (https://developers.facebook.com/docs/graph-api/webhooks/reference/page/,
  https://developers.facebook.com/docs/pages-api/webhooks-for-pages), Messenger
  (https://developers.facebook.com/docs/messenger-platform/webhooks), Instagram
  (https://developers.facebook.com/docs/instagram-platform/webhooks/examples/).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import Field, SecretStr, ValidationError, field_validator

from clameur.connectors.base import (
    AuthError,
    Capability,
    Connector,
    ConnectorConfig,
    ConnectorError,
    FetchResult,
    OutgoingPost,
    PermanentError,
    Published,
    PushedPost,
    RateLimited,
    RetryableError,
    WebhookAnswer,
    WebhookRejected,
    WebhookRequest,
    payload_error,
    required,
    validation_problem,
)
from clameur.connectors.http import (
    RETRYABLE_STATUSES,
    HttpClient,
    retry_at_from_headers,
    with_retries,
)
from clameur.connectors.sweep import Sweep
from clameur.kit.time import parse_datetime, utcnow
from clameur.pipeline.schemas import AuthorIn, PostIn

GRAPH_URL = "https://graph.facebook.com"
GRAPH_VERSION = "v21.0"
# Error codes (https://developers.facebook.com/docs/graph-api/guides/error-handling).
TOKEN_CODES = frozenset({102, 190})
TOKEN_SUBCODES = frozenset({458, 459, 460, 463, 464, 467, 492})
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001, 80002, 80006})
TRANSIENT_CODES = frozenset({1, 2})
POLICY_BLOCK_CODE = 368
# When Meta does not say how long a throttle lasts: the platform limits count calls over a
# rolling hour, the page limit over a rolling day.
THROTTLE_DEFAULT = timedelta(minutes=10)
PAGE_THROTTLE_DEFAULT = timedelta(hours=1)
POLICY_BLOCK_DELAY = 3600.0
_CHALLENGE = re.compile(r"^[A-Za-z0-9._~-]{1,256}$")
_VERSION = re.compile(r"^v\d+\.\d+$")


class MetaConfig(ConnectorConfig):
    """The settings a Facebook Page and an Instagram account share: a token, and the Meta app
    that receives the webhooks."""

    access_token: SecretStr = Field(
        title="Access token",
        description="A long-lived Page access token with the permissions listed above.",
    )
    app_secret: SecretStr | None = Field(
        default=None,
        title="App secret",
        description="Your Meta app's secret (App settings > Basic): it signs every webhook "
        "delivery and its requests.",
    )
    verify_token: SecretStr | None = Field(
        default=None,
        title="Webhook verify token",
        description="Any long random text; type the same in the app's Webhooks settings.",
    )
    graph_version: str = Field(
        default=GRAPH_VERSION,
        title="Graph API version",
        description="The Graph API version your app is set to, for example v21.0.",
    )
    # The Graph API's address (changed only in tests).
    graph_url: str = Field(default=GRAPH_URL, json_schema_extra={"form": False})

    @field_validator("graph_version")
    @classmethod
    def _version(cls, value: str) -> str:
        value = value.strip()
        value = value if value.startswith("v") else "v" + value
        if not _VERSION.match(value):
            raise ValueError(f"{value!r} is not a Graph API version (like v21.0)")
        return value

    @field_validator("graph_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.strip().rstrip("/")


# --- Graph API client -----------------------------------------------------------------------


def app_secret_proof(token: str, app_secret: str) -> str:
    """The `appsecret_proof` of a token: HMAC-SHA256 of the token keyed with the app secret."""
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def usage_percent(headers: Mapping[str, str]) -> float:
    """The highest usage (percent of the limit) in `X-App-Usage` and
    `X-Business-Use-Case-Usage`; 0 when they say nothing."""
    worst = 0.0
    for entry in _usage_entries(headers):
        for key in ("call_count", "total_cputime", "total_time"):
            value = entry.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                worst = max(worst, float(value))
    return worst


def regain_access_in(headers: Mapping[str, str]) -> timedelta | None:
    """How long until a throttled business object may call again, from
    `estimated_time_to_regain_access` (minutes); None when nothing is throttled."""
    minutes = 0.0
    for entry in _usage_entries(headers):
        value = entry.get("estimated_time_to_regain_access")
        if isinstance(value, int | float) and not isinstance(value, bool):
            minutes = max(minutes, float(value))
    return timedelta(minutes=minutes) if minutes > 0 else None


def _usage_entries(headers: Mapping[str, str]) -> Iterator[dict[str, Any]]:
    lowered = {key.lower(): value for key, value in headers.items()}
    app = _json_header(lowered.get("x-app-usage"))
    if isinstance(app, dict):
        yield app
    business = _json_header(lowered.get("x-business-use-case-usage"))
    if isinstance(business, dict):
        for entries in business.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    yield entry


def _json_header(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def graph_error(
    response: httpx.Response, network: str, title: str, now: datetime | None = None
) -> ConnectorError:
    """The connector error a failed Graph API answer means, with Meta's own message."""
    now = now or utcnow()
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return _status_error(response, network, title, now)
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    said = str(error.get("error_user_msg") or error.get("message") or "no message").strip()
    said = said[:300]
    if code in TOKEN_CODES or subcode in TOKEN_SUBCODES:
        return AuthError(
            f"{title} refused the access token (#{code}: {said}): it has expired or was "
            "revoked. Connect the account again with a new token.",
            network,
        )
    if code in PERMISSION_CODES:
        return AuthError(
            f"{title} says the app or the token lacks a permission (#{code}: {said}). Check "
            "that app review granted the permissions this account needs and that the token "
            "was issued with them.",
            network,
        )
    if code in THROTTLE_CODES:
        retry_at = throttled_until(response.headers, code, now)
        return RateLimited(
            f"{title} rate limit reached (#{code}: {said}); retrying at "
            f"{retry_at.isoformat(timespec='seconds')}.",
            network,
            retry_at=retry_at,
            now=now,
        )
    if code in TRANSIENT_CODES or error.get("is_transient") is True or status >= 500:
        return RetryableError(
            f"{title} had a temporary problem (#{code}: {said}); will try again.",
            network,
            retry_at=retry_at_from_headers(response.headers, now),
            now=now,
        )
    if code == POLICY_BLOCK_CODE:
        return RetryableError(
            f"{title} temporarily blocked the account for its policies (#{code}: {said}).",
            network,
            delay=POLICY_BLOCK_DELAY,
            now=now,
        )
    return PermanentError(f"{title} refused the request (#{code}: {said}).", network)


def throttled_until(headers: Mapping[str, str], code: int | None, now: datetime) -> datetime:
    """When a throttled app may call again: the time Meta estimates, else `Retry-After`, else
    a default for the kind of limit."""
    regain = regain_access_in(headers)
    if regain is not None:
        return now + regain
    retry_at = retry_at_from_headers(headers, now)
    if retry_at is not None:
        return retry_at
    return now + (PAGE_THROTTLE_DEFAULT if code == 32 else THROTTLE_DEFAULT)


def _status_error(
    response: httpx.Response, network: str, title: str, now: datetime
) -> ConnectorError:
    status = response.status_code
    if status == 401:
        return AuthError(
            f"{title} refused the access token (HTTP 401). Connect the account again.", network
        )
    if status == 429:
        retry_at = throttled_until(response.headers, None, now)
        return RateLimited(f"{title} rate limit reached (HTTP 429).", network, retry_at=retry_at)
    if status in RETRYABLE_STATUSES or status >= 500:
        return RetryableError(
            f"{title} is unavailable (HTTP {status}); will try again.",
            network,
            retry_at=retry_at_from_headers(response.headers, now),
            now=now,
        )
    return PermanentError(f"{title} refused the request (HTTP {status}).", network)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


class GraphClient:
    """A Graph API client for one account: errors as connector errors, reads retried when the
    wait is short, writes sent once (a write that timed out may have happened: the connector
    looks before writing again)."""

    def __init__(
        self,
        network: str,
        title: str,
        config: MetaConfig,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.network = network
        self.title = title
        self.sleep = sleep
        self.attempts = attempts
        token = config.access_token.get_secret_value()
        self._proof = (
            app_secret_proof(token, config.app_secret.get_secret_value())
            if config.app_secret is not None and config.app_secret.get_secret_value()
            else None
        )
        self.http = HttpClient(
            network,
            base_url=f"{config.graph_url}/{config.graph_version}",
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
            title=title,
            follow_redirects=False,
        )
        # Set when the usage headers say the limit is spent: calls wait until then.
        self.blocked_until: datetime | None = None
        self.usage = 0.0

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """GET a node or an edge; its JSON object."""
        return with_retries(
            lambda: self._once("GET", path, params=params),
            attempts=self.attempts,
            sleep=self.sleep,
        )

    def post(self, path: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """POST to an edge, once; its JSON object."""
        return self._once("POST", path, data=data)

    def pages(
        self, path: str, params: Mapping[str, Any], max_pages: int = 10
    ) -> Iterator[tuple[list[Any], str | None]]:
        """An edge page after page (its `data`, and the cursor of the next page or None)."""
        query = dict(params)
        for _ in range(max_pages):
            answer = self.get(path, query)
            data, after = edge_page(answer, self.title, path)
            yield data, after
            if after is None:
                return
            query["after"] = after

    def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        now = utcnow()
        if self.blocked_until is not None and self.blocked_until > now:
            raise RateLimited(
                f"{self.title} rate limit is spent (usage {self.usage:.0f} %); retrying at "
                f"{self.blocked_until.isoformat(timespec='seconds')}.",
                self.network,
                retry_at=self.blocked_until,
                now=now,
            )
        query = dict(params or {})
        if self._proof:
            query["appsecret_proof"] = self._proof
        response = self.http.send(
            method, "/" + path.lstrip("/"), params=query, data=dict(data) if data else None
        )
        self._note_usage(response.headers, now)
        if not 200 <= response.status_code < 300:
            raise graph_error(response, self.network, self.title, now)
        try:
            body = response.json()
        except ValueError:
            raise payload_error(self.network, "answer", "it is not JSON") from None
        if not isinstance(body, dict):
            raise payload_error(self.network, "answer", "it is not a JSON object")
        return body

    def _note_usage(self, headers: Mapping[str, str], now: datetime) -> None:
        self.usage = usage_percent(headers)
        regain = regain_access_in(headers)
        if regain is not None:
            self.blocked_until = now + regain
        elif self.usage >= 100:
            self.blocked_until = now + THROTTLE_DEFAULT

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


def edge_page(answer: Mapping[str, Any], title: str, what: str) -> tuple[list[Any], str | None]:
    """The items of an edge answer and the cursor of its next page (None on the last)."""
    data = answer.get("data")
    if not isinstance(data, list):
        raise payload_error(title, what, "it has no list of 'data'")
    paging = answer.get("paging")
    paging = paging if isinstance(paging, dict) else {}
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    # The last page has no `next` link (its cursors may still be there).
    has_next = bool(paging.get("next"))
    return data, str(after) if has_next and after else None


def graph_time(value: Any, title: str, what: str) -> datetime:
    """A Graph API time: ISO 8601 with a +0000 offset, or a Unix time (webhooks)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        try:
            return parse_datetime(text)
        except ValueError:
            pass
    raise payload_error(title, what, f"its time {value!r} is not a date")


# --- Webhooks -------------------------------------------------------------------------------


def answer_handshake(
    request: WebhookRequest, verify_token: SecretStr | None, network: str, title: str
) -> WebhookAnswer:
    """Answer Meta's subscription check: the challenge when the verify token is the one
    configured, else `WebhookRejected`."""
    if request.method != "GET":
        raise WebhookRejected(f"{title} subscription checks are GET requests.", network)
    expected = verify_token.get_secret_value() if verify_token is not None else ""
    if not expected:
        raise WebhookRejected(
            f"No webhook verify token is set for this {title} account: set one in its "
            "settings and type the same in the Meta app's Webhooks settings.",
            network,
        )
    given = request.query.get("hub.verify_token", "")
    if request.query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
        given.encode(), expected.encode()
    ):
        raise WebhookRejected(
            f"{title} subscription check refused: the verify token is not this account's.",
            network,
        )
    challenge = request.query.get("hub.challenge", "")
    if not _CHALLENGE.match(challenge):
        raise WebhookRejected(f"{title} subscription check without a usable challenge.", network)
    return WebhookAnswer(status=200, body=challenge, content_type="text/plain")


def verify_signature(
    request: WebhookRequest, app_secret: SecretStr | None, network: str, title: str
) -> None:
    """Refuse a delivery whose `X-Hub-Signature-256` is missing or is not the HMAC-SHA256 of
    its raw body with the app secret (compared in constant time)."""
    secret = app_secret.get_secret_value() if app_secret is not None else ""
    if not secret:
        raise WebhookRejected(
            f"No app secret is set for this {title} account, so its webhook deliveries cannot "
            "be checked: enter the Meta app's secret in the account's settings.",
            network,
        )
    if request.method != "POST":
        raise WebhookRejected(f"{title} webhook deliveries are POST requests.", network)
    header = request.headers.get("X-Hub-Signature-256", "").strip()
    scheme, _, given = header.partition("=")
    if scheme.lower() != "sha256" or not given:
        raise WebhookRejected(
            f"{title} webhook delivery refused: it is not signed (no X-Hub-Signature-256).",
            network,
        )
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8")):
        raise WebhookRejected(
            f"{title} webhook delivery refused: its signature does not match its body.",
            network,
        )


def delivery_entries(
    request: WebhookRequest,
    app_secret: SecretStr | None,
    expected_object: str,
    network: str,
    title: str,
) -> list[dict[str, Any]]:
    """The entries of a signed delivery about `expected_object` ("page", "instagram"). The
    signature is checked before anything is read from the body."""
    verify_signature(request, app_secret, network, title)
    try:
        body = json.loads(request.body)
    except ValueError:
        raise payload_error(title, "webhook delivery", "it is not JSON") from None
    if not isinstance(body, dict):
        raise payload_error(title, "webhook delivery", "it is not a JSON object")
    if body.get("object") != expected_object:
        raise PermanentError(
            f"This {title} webhook address received a delivery about "
            f"{body.get('object')!r}, not {expected_object!r}: check which address the Meta "
            "app sends each object to.",
            network,
        )
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise payload_error(title, "webhook delivery", "it has no list of 'entry'")
    return [entry for entry in entries if isinstance(entry, dict)]


def changes_of(entry: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The (field, value) changes of a delivery entry."""
    out = []
    for change in entry.get("changes") or []:
        if isinstance(change, dict) and isinstance(change.get("value"), dict):
            out.append((str(change.get("field") or ""), change["value"]))
    return out


def messages_of(entry: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The messaging events of a delivery entry that are messages received (not the account's
    own echoes, not reads or deliveries)."""
    out = []
    for event in entry.get("messaging") or []:
        if not isinstance(event, dict):
            continue
        message = event.get("message")
        if not isinstance(message, dict) or message.get("is_echo") or message.get("is_deleted"):
            continue
        out.append(event)
    return out


# --- The connector ---------------------------------------------------------------------------

MetaConfigT = TypeVar("MetaConfigT", bound=MetaConfig)


class MetaConnector(Connector[MetaConfigT]):
    """What a Facebook Page and an Instagram account do alike: one Graph API client, edges
    swept newest first, Meta's webhook handshake and signature, private messages pushed by
    webhook. Subclasses read their own edges and the changes of their own webhook object."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.listen,
            Capability.conversations,
            Capability.reply,
            Capability.publish,
            Capability.webhooks,
            Capability.messages,
        }
    )
    # The webhook object the account subscribes to ("page", "instagram").
    webhook_object: ClassVar[str]
    # The conversation id of a person's private messages is this prefix and their id.
    message_thread: ClassVar[str]

    def __init__(
        self,
        config: MetaConfigT,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config)
        self.sleep = sleep
        self.graph = GraphClient(
            self.network, self.title, config, timeout, sleep, transport=transport
        )

    @property
    @abstractmethod
    def account_id(self) -> str:
        """The Graph API id of the Page or the account (webhook entries carry it)."""

    def reply_privately(self, post: OutgoingPost) -> Published:
        """Answer a direct message through Meta's Send API (`POST /{id}/messages`, messaging
        type RESPONSE: within 24 hours of the person's last message). The Send API has no
        idempotency key and a conversation cannot be searched for what was sent, so a sending
        cut off after Meta accepted it (a crash at that very moment) can send it again."""
        if not post.private_to:
            raise PermanentError("A private answer needs the person it answers.", self.network)
        written = self.graph.post(
            f"{self.account_id}/messages",
            {
                "recipient": json.dumps({"id": post.private_to}),
                "messaging_type": "RESPONSE",
                "message": json.dumps({"text": post.text}),
            },
        )
        return Published(
            external_id=str(required(written, "message_id", self.title, "sent message"))
        )

    def _sweep_edge(
        self,
        sweep: Sweep,
        edge: str,
        params: dict[str, Any],
        what: str,
        convert: Callable[[Mapping[str, Any]], PostIn],
    ) -> FetchResult:
        """One page of an edge listed newest first, its items converted to posts."""
        if sweep.cursor:
            params["after"] = sweep.cursor
        data, after = edge_page(self.graph.get(edge, params), self.title, what)
        items = []
        for item in data:
            if not isinstance(item, Mapping):
                raise payload_error(self.title, what, "an item is not an object")
            post = convert(item)
            items.append((post.id, post.created_at, post))
        posts, more = sweep.advance(items, after)
        return FetchResult(posts=posts, checkpoint=sweep.dump(), more=more)

    # --- webhooks ----------------------------------------------------------------------------

    def webhook_handshake(self, request: WebhookRequest) -> WebhookAnswer:
        """Answer Meta's subscription check with `hub.challenge` when the verify token is
        this account's."""
        return answer_handshake(request, self.config.verify_token, self.network, self.title)

    def webhook_verify(self, request: WebhookRequest) -> None:
        """Refuse a delivery not signed with the app secret (`X-Hub-Signature-256`)."""
        verify_signature(request, self.config.app_secret, self.network, self.title)

    def webhook_events(self, request: WebhookRequest) -> list[PushedPost]:
        """The changes and private messages of a signed delivery for this account, as posts
        (the entries of the app's other accounts are left to their own connectors)."""
        entries = delivery_entries(
            request, self.config.app_secret, self.webhook_object, self.network, self.title
        )
        found: list[PushedPost] = []
        for entry in entries:
            if str(entry.get("id")) != self.account_id:
                continue
            for field, value in changes_of(entry):
                pushed = self._change(field, value, entry)
                if pushed is not None:
                    found.append(pushed)
            for event in messages_of(entry):
                found.append(self._message(event))
        return found

    def _change(
        self, field: str, value: dict[str, Any], entry: Mapping[str, Any]
    ) -> PushedPost | None:
        """The post a change of the webhook object's `field` brings, if any."""
        return None

    def _message(self, event: dict[str, Any]) -> PushedPost:
        message = event["message"]
        sender = event.get("sender") if isinstance(event.get("sender"), Mapping) else {}
        sender_id = str(required(sender or {}, "id", self.title, "message"))
        mid = str(required(message, "mid", self.title, "message"))
        text = str(message.get("text") or "").strip() or self._without_text(message)
        try:
            return PushedPost(
                id=mid,
                network=self.network,
                text=text,
                created_at=graph_time(
                    required(event, "timestamp", self.title, f"message {mid}") / 1000,
                    self.title,
                    f"message {mid}",
                ),
                author=AuthorIn(handle=sender_id),
                conversation_id=f"{self.message_thread}:{sender_id}",
                event="message",
                private=True,
                delivery=event,
            )
        except (ValidationError, ValueError, TypeError) as error:
            raise payload_error(self.title, f"message {mid}", validation_problem(error)) from None

    def _without_text(self, message: Mapping[str, Any]) -> str:
        """What stands for the text of a message that has none."""
        return "(attachment without text)"

    def close(self) -> None:
        """Close the HTTP client."""
        self.graph.close()


def pushed(post: PostIn, event: str, delivery: dict[str, Any], private: bool = False) -> PushedPost:
    """`post` as a webhook brought it: what happened, and the change as Meta sent it."""
    return PushedPost.model_validate(
        {**post.model_dump(), "event": event, "private": private, "delivery": delivery}
    )
