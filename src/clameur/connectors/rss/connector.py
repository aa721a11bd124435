"""RSS and Atom feeds (news, blogs, review sites) as listen sources.

Feeds are fetched with httpx using conditional requests, `If-None-Match` with the last ETag
and `If-Modified-Since` with the last Last-Modified (RFC 9110, sections 13.1.2 and 13.1.3), so
an unchanged feed costs a 304 and no parsing. They are parsed by feedparser
(https://feedparser.readthedocs.io/), which reads RSS 0.9x/1.0/2.0
(https://www.rssboard.org/rss-specification) and Atom (RFC 4287).

An entry becomes a post of the "rss" network: its id is the entry's `id`/`guid`, else its link;
its text the title and the summary without HTML. A checkpoint keeps the ETag, the Last-Modified
date and the ids already returned (feeds carry no cursor, and entries may be re-ordered or
updated), bounded to the most recent ones.

Feeds are web pages, so their refusals are HTTP's (RFC 9110): 429 and 503 with `Retry-After`
wait the time given, other 5xx are retried, 401 means the feed needs a login, and 403 that the
site refuses this reader (that feed only: the others go on).
"""

from __future__ import annotations

import calendar
import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import feedparser  # type: ignore[import-untyped]
import httpx
from pydantic import Field, ValidationError, field_validator

from clameur.connectors.base import (
    Capability,
    Checkpoint,
    Connector,
    ConnectorConfig,
    FetchResult,
    ListenSource,
    PermanentError,
    html_to_text,
    payload_error,
)
from clameur.connectors.http import HttpClient, check_response, with_retries
from clameur.kit.time import utcnow
from clameur.pipeline.schemas import AuthorIn, PostIn

NETWORK = "rss"
SEEN_LIMIT = 1000
MAX_TEXT = 10_000
_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)


class RssConfig(ConnectorConfig):
    """The feeds to follow."""

    requirements: ClassVar[str] = (
        "Nothing to obtain: the addresses of public RSS or Atom feeds (news sites, blogs, "
        "review pages often link theirs as 'RSS' or 'feed')."
    )

    feeds: list[str] = Field(
        default_factory=list, title="Feeds", description="Feed addresses, one a line."
    )

    @field_validator("feeds")
    @classmethod
    def _feeds(cls, value: list[str]) -> list[str]:
        out = []
        for url in value:
            url = url.strip()
            if not url:
                continue
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"{url!r} is not a web address (http:// or https://)")
            out.append(url)
        return out


def _entry_time(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if value:
            # feedparser gives the time in UTC.
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def _entry_id(entry: Any) -> str | None:
    for name in ("id", "guid", "link"):
        value = entry.get(name)
        if isinstance(value, str) and value.strip():
            text = value.strip()
            # PostIn ids hold 200 characters; long ids keep their start and a digest.
            if len(text) > 200:
                text = text[:150] + "#" + hashlib.sha256(text.encode()).hexdigest()[:40]
            return text
    return None


class RssConnector(Connector[RssConfig]):
    """Feeds fetched conditionally with httpx and parsed by feedparser; listening only."""

    network: ClassVar[str] = NETWORK
    title: ClassVar[str] = "RSS / Atom"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.listen})
    config_model: ClassVar[type[ConnectorConfig]] = RssConfig
    limitations: ClassVar[str] = (
        "A feed shows only its latest entries: entries published and dropped between two reads "
        "are missed, and comments are not part of feeds. No replies or conversations."
    )

    def __init__(
        self,
        config: RssConfig,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config)
        self.http = HttpClient(
            NETWORK, timeout=timeout, headers={"Accept": _ACCEPT}, sleep=sleep, transport=transport
        )

    def sources(self) -> list[ListenSource]:
        """One source per feed."""
        return [ListenSource("feed", url) for url in self.config.feeds]

    def listen(
        self, source: ListenSource, checkpoint: Checkpoint | None, limit: int = 100
    ) -> FetchResult:
        """The feed's entries not returned before (all of them on the first read)."""
        if source.kind != "feed":
            raise PermanentError(f"RSS cannot listen to {source.key!r}.", NETWORK)
        state = dict(checkpoint or {})
        seen: list[str] = [str(item) for item in state.get("seen") or []]
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = str(state["etag"])
        if state.get("modified"):
            headers["If-Modified-Since"] = str(state["modified"])
        response = self._fetch(source.value, headers)
        if response.status_code == 304:
            return FetchResult(posts=[], checkpoint=state, more=False)
        parsed = feedparser.parse(
            response.content,
            response_headers={k.lower(): v for k, v in response.headers.items()},
        )
        entries = parsed.get("entries") or []
        # A document feedparser could not read whole (not a feed, or cut short) with no entry
        # it could name; one it recovered entries from (a stray entity) is read as feed readers
        # do.
        if parsed.get("bozo") and not any(_entry_id(entry) for entry in entries):
            problem = parsed.get("bozo_exception")
            raise payload_error(
                NETWORK, f"feed at {source.value}", f"it is not RSS or Atom ({problem})"
            )
        feed = parsed.get("feed", {})
        feed_title = str(feed.get("title") or urlsplit(source.value).netloc)
        defaults = {
            "author": str(feed.get("author") or ""),
            "lang": _language(feed.get("language")),
        }
        known = set(seen)
        fresh: list[PostIn] = []
        for entry in entries:
            entry_id = _entry_id(entry)
            if entry_id is None or entry_id in known:
                continue
            post = self._to_post(entry, entry_id, feed_title, source.value, defaults)
            if post is None:
                continue
            known.add(entry_id)
            seen.append(entry_id)
            fresh.append(post)
        fresh.sort(key=lambda post: post.created_at)
        more = len(fresh) > limit
        if more:
            # Hand back the oldest `limit` now; forget the rest so the next call returns them.
            later = {post.id for post in fresh[limit:]}
            seen = [item for item in seen if item not in later]
            fresh = fresh[:limit]
        checkpoint_out: Checkpoint = {
            "etag": None if more else response.headers.get("ETag"),
            "modified": None if more else response.headers.get("Last-Modified"),
            "seen": seen[-SEEN_LIMIT:],
        }
        return FetchResult(posts=fresh, checkpoint=checkpoint_out, more=more)

    def _fetch(self, url: str, headers: dict[str, str]) -> httpx.Response:
        """GET the feed: its response (a 304 included), else the connector error; a 403 is
        said in words a person can act on (it concerns this feed only)."""

        def once() -> httpx.Response:
            response = self.http.send("GET", url, headers=headers)
            if response.status_code == 401:
                raise PermanentError(
                    f"The feed at {url} asks for a login (HTTP 401): Clameur reads public "
                    "feeds. Use the site's public feed address, or remove the feed.",
                    NETWORK,
                )
            if response.status_code == 403:
                raise PermanentError(
                    f"The feed at {url} refused Clameur (HTTP 403): the site blocks automated "
                    "readers or the feed needs a subscription. Open the address in a browser; "
                    "ask the site to allow feed readers, or remove the feed.",
                    NETWORK,
                )
            return check_response(response, NETWORK)

        return with_retries(
            once,
            attempts=self.http.attempts,
            max_wait=self.http.max_wait,
            base_delay=self.http.base_delay,
            sleep=self.http.sleep,
        )

    def _to_post(
        self,
        entry: Any,
        entry_id: str,
        feed_title: str,
        feed_url: str,
        defaults: dict[str, str | None],
    ) -> PostIn | None:
        title = html_to_text(str(entry.get("title") or ""))
        summary = html_to_text(str(entry.get("summary") or ""))
        if summary == title:
            summary = ""
        text = "\n".join(part for part in (title, summary) if part)[:MAX_TEXT]
        if not text:
            return None
        author_name = str(entry.get("author") or defaults["author"] or "").strip()
        link = entry.get("link")
        try:
            return PostIn(
                id=entry_id,
                network=NETWORK,
                text=text,
                created_at=_entry_time(entry) or utcnow(),
                author=AuthorIn(
                    handle=urlsplit(str(link or feed_url)).netloc or feed_title,
                    name=author_name or feed_title,
                ),
                lang=_lang(entry) or defaults["lang"],
                url=str(link)[:1000] if link else None,
            )
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
            )
            raise payload_error(NETWORK, f"entry {entry_id}", problems) from None

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


def _language(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip().split("-")[0].lower()[:8]
    return None


def _lang(entry: Any) -> str | None:
    detail = entry.get("title_detail") or entry.get("summary_detail") or {}
    return _language(detail.get("language") if hasattr(detail, "get") else None)
