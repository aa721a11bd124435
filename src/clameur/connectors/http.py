"""HTTP shared by the connectors: rate limits read from the network's own headers, failures
turned into the connector errors, short retries with back-off.

Networks say when to come back in different ways; all are read here:

- `Retry-After`: seconds, or an HTTP date (RFC 9110, section 10.2.3);
- `X-RateLimit-Reset`: a Unix time (X, GitHub), or an ISO 8601 date (Mastodon,
  https://docs.joinmastodon.org/api/rate-limits/);
- `RateLimit-Reset`: seconds from now in the IETF draft, a Unix time on Bluesky's servers
  (https://docs.bsky.app/docs/advanced-guides/rate-limits); a small number is read as seconds.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from clameur.connectors.base import (
    AuthError,
    PermanentError,
    RateLimited,
    RetryableError,
    as_object,
    payload_error,
)
from clameur.kit.errors import ClameurError
from clameur.kit.time import parse_datetime, utcnow

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = "Clameur/0.1 (self-hosted social media command center)"
RETRYABLE_STATUSES = frozenset({408, 425, 500, 502, 503, 504, 520, 521, 522, 523, 524})
# Numbers below this are durations in seconds, above it Unix times (2001-09-09).
_EPOCH_THRESHOLD = 1_000_000_000


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return str(value).strip()
    return None


def _parse_moment(value: str, now: datetime) -> datetime | None:
    """A reset given as seconds, a Unix time, an ISO date or an HTTP date."""
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if number != number or number < 0:  # NaN or negative
            return None
        if number < _EPOCH_THRESHOLD:
            return now + timedelta(seconds=number)
        return datetime.fromtimestamp(number, UTC)
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return parse_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None


def _server_skew(headers: Mapping[str, str], now: datetime) -> timedelta:
    """How far the server's clock is ahead of ours (from its Date header), to shift a reset
    time given on its clock onto ours."""
    date = _header(headers, "Date")
    if not date:
        return timedelta(0)
    try:
        server_now = parsedate_to_datetime(date).astimezone(UTC)
    except (TypeError, ValueError, IndexError):
        return timedelta(0)
    skew = server_now - now
    # The Date header has one-second resolution: a smaller difference is no skew.
    return skew if abs(skew) > timedelta(seconds=2) else timedelta(0)


def retry_at_from_headers(
    headers: Mapping[str, str], now: datetime | None = None
) -> datetime | None:
    """When the network says to come back (UTC, on our clock), or None if it says nothing."""
    now = now or utcnow()
    for name in ("Retry-After", "X-RateLimit-Reset", "RateLimit-Reset", "X-Rate-Limit-Reset"):
        value = _header(headers, name)
        if not value:
            continue
        moment = _parse_moment(value, now)
        if moment is None:
            continue
        if not _is_delta(value):
            moment -= _server_skew(headers, now)
        return max(moment, now)
    return None


def _is_delta(value: str) -> bool:
    try:
        return float(value) < _EPOCH_THRESHOLD
    except ValueError:
        return False


def _error_message(response: httpx.Response) -> str:
    """The network's own explanation of an error, if its body has one (never the request)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:200] if text and "<html" not in text[:200].lower() else ""
    if isinstance(body, dict):
        for key in ("error_description", "message", "error", "detail", "title"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value[:300]
    return ""


def network_title(network: str) -> str:
    """The network's name as people write it ("X", "Mastodon"), for messages."""
    from clameur.connectors import registry  # the registry imports the connectors

    try:
        return registry.get(network).title
    except ClameurError:
        return network


def check_response(
    response: httpx.Response, network: str, now: datetime | None = None
) -> httpx.Response:
    """`response` when it succeeded (2xx or 304); otherwise the connector error it means."""
    status = response.status_code
    if 200 <= status < 300 or status == 304:
        return response
    now = now or utcnow()
    said = _error_message(response)
    detail = f" ({said})" if said else ""
    name = network_title(network)
    if status == 429:
        retry_at = retry_at_from_headers(response.headers, now)
        when = retry_at.isoformat(timespec="seconds") if retry_at else "later"
        raise RateLimited(
            f"{name} rate limit reached; retrying at {when}{detail}.",
            network,
            retry_at=retry_at,
            now=now,
        )
    if status == 401:
        raise AuthError(
            f"{name} refused the account's credentials (HTTP 401){detail}: the token has "
            "expired or was revoked. Connect the account again.",
            network,
        )
    if status in RETRYABLE_STATUSES:
        raise RetryableError(
            f"{name} is unavailable (HTTP {status}){detail}; will try again.",
            network,
            retry_at=retry_at_from_headers(response.headers, now),
            now=now,
        )
    raise PermanentError(f"{name} refused the request (HTTP {status}){detail}.", network)


def json_object(response: httpx.Response, network: str, what: str) -> dict[str, Any]:
    """The JSON object a response carries, else the malformed-answer error."""
    try:
        body = response.json()
    except ValueError:
        raise payload_error(network, what, "it is not JSON") from None
    return as_object(body, network, what)


def backoff_delay(attempt: int, base: float = 0.5, cap: float = 30.0, jitter: float = 0.1) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...): exponential, capped, with a
    little jitter so that many accounts do not retry in step."""
    delay = min(base * 2 ** max(attempt - 1, 0), cap)
    return delay * (1 + random.uniform(-jitter, jitter))


def with_retries(
    call: Callable[[], T],
    attempts: int = 3,
    max_wait: float = 10.0,
    base_delay: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `call`, retrying a `RetryableError` in place when the wait is short (at most
    `max_wait` seconds): the time the network gave, else exponential back-off. A longer wait,
    or the last failure, is raised for the runner to schedule."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except RetryableError as error:
            wait = (
                error.requested_delay
                if error.requested_delay is not None
                else backoff_delay(attempt, base_delay)
            )
            if attempt >= attempts or wait > max_wait:
                raise
            log.info("%s; retry %d in %.1f s", error, attempt, wait)
            sleep(wait)


def write_once(
    write: Callable[[], T],
    find: Callable[[], T | None],
    attempts: int,
    sleep: Callable[[float], None] = time.sleep,
    duplicate: Callable[[PermanentError], bool] | None = None,
) -> T:
    """Write on a network that has no idempotency key, at most once. What `find` finds already
    written is returned instead of writing; after a failure that leaves it uncertain whether the
    network wrote (a timeout, a 5xx, or a refusal that `duplicate` recognises as "already
    there"), `find` looks again before writing again. A rate limit is raised at once: it was
    refused before anything was written."""
    existing = find()
    attempt = 0
    while existing is None:
        attempt += 1
        try:
            return write()
        except RateLimited:
            raise
        except RetryableError:
            if attempt >= attempts:
                raise
            sleep(backoff_delay(attempt))
            existing = find()
        except PermanentError as error:
            if duplicate is None or not duplicate(error):
                raise
            existing = find()
            if existing is None:
                raise
    return existing


class HttpClient:
    """An httpx client for one network: connector errors instead of statuses, retries of
    short outages, rate limits raised with the time the network gave."""

    def __init__(
        self,
        network: str,
        base_url: str = "",
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        attempts: int = 3,
        max_wait: float = 10.0,
        base_delay: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        title: str | None = None,
        follow_redirects: bool = True,
    ) -> None:
        self.network = network
        # How the network is named in messages (its connector's title; the network by default).
        self.title = title or network
        self.attempts = attempts
        self.max_wait = max_wait
        self.base_delay = base_delay
        self.sleep = sleep
        self.client = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            follow_redirects=follow_redirects,
            transport=transport,
        )

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request and return its response whatever its status, for a connector that
        reads the network's own error body; a timeout or an unreachable network is raised as a
        `RetryableError`."""
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as error:
            raise RetryableError(
                f"{self.title} did not answer in time ({type(error).__name__}).", self.network
            ) from None
        except httpx.TransportError as error:
            raise RetryableError(
                f"{self.title} could not be reached ({type(error).__name__}: {error}).",
                self.network,
            ) from None

    def _once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return check_response(self.send(method, url, **kwargs), self.network)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request; the response when it succeeded, else a connector error."""
        return with_retries(
            lambda: self._once(method, url, **kwargs),
            attempts=self.attempts,
            max_wait=self.max_wait,
            base_delay=self.base_delay,
            sleep=self.sleep,
        )

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET `url`."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        """POST to `url`."""
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
