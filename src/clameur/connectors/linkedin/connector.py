"""LinkedIn organisations (Community Management API): the organisation's posts and the
comments on them in; comment threads; comments and posts out.

Client code for LinkedIn's versioned REST API with httpx. Every call sends
`LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0`; URNs in addresses and
queries are URL-encoded
(https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/protocol-version).

Versions: LinkedIn releases one a month and supports each "for a minimum of one year before
sunset" (https://learn.microsoft.com/en-us/linkedin/marketing/versioning); the dates are listed
at https://learn.microsoft.com/en-us/linkedin/marketing/integrations/migrations (a version
sunsets about the same day a year after its release: 202601 on January 15, 2027). The default
is the latest version the documentation showed when it was last checked (202608, "August 2026 -
Version 202608 (Latest)" at
https://learn.microsoft.com/en-us/linkedin/marketing/integrations/recent-changes), and the
version stays an account setting. LinkedIn refuses a sunset or unknown version with HTTP 426
and `{"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version 20250401 is
not active"}` (the answer as integrators reported it, e.g. https://github.com/n8n-io/n8n/issues/14737,
https://github.com/PipedreamHQ/pipedream/issues/7739; LinkedIn's pages do not show the body):
a `PermanentError` that asks for a newer version, never retried.


- the organisation's posts, `GET /rest/posts?q=author&author={org URN}&sortBy=CREATED` with
  `start`/`count` paging, and publishing, `POST /rest/posts` (the new post's URN comes back in
  `x-restli-id`) (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api);
- images (Images API,
  https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api):
  each is downloaded (`clameur.connectors.media`) and checked against what the Images API
  takes, JPG, PNG or GIF of fewer than 36,152,320 pixels (LinkedIn names no size in bytes; the
  download stops at `MAX_IMAGE_BYTES`); then `POST /rest/images?action=initializeUpload` with
  `{"initializeUploadRequest": {"owner": <organisation URN>}}` answers `value.uploadUrl` and
  `value.image` (the image URN), the bytes are sent with `PUT` to that address with the same
  bearer token (only to a LinkedIn address), and `GET /rest/images/{image URN}` is asked until
  the image's `status` is `AVAILABLE` (`PROCESSING_FAILED` is refused). The post carries one
  image as `content.media` (`id`, `altText`: "the alternate text for the media", at most 4,086
  characters, Posts API) and 2 to 20 as `content.multiImage.images`, a list of the same
  (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/multiimage-post-api:
  "minimum of 2 images and maximum of 20 images"); the description is left out where the
  author wrote none. Images, like posts, need `w_organization_social`, which the connection
  asks for (`oauth.SCOPES`);
- comments, `GET /rest/socialActions/{post or comment URN}/comments`, and commenting as the
  organisation, `POST /rest/socialActions/{URN}/comments` with `actor`, `object`, `message` and,
  for an answer to a comment, `parentComment`
  (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api);
- the organisation, `GET /rest/organizations/{id}`
  (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/organization-lookup-api);
- errors: 401 is an expired or revoked token (refreshed once when a refresh token is there,
  see `oauth`), 403 a missing permission, 429 a spent daily limit: limits reset at midnight UTC
  (https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits), and
  LinkedIn also answers 429 briefly to protect itself, so a 429 without `Retry-After` is tried
  again in an hour, or at midnight UTC when that is sooner.

LinkedIn shows commenters as member URNs only: their names need a partner permission this
connector does not ask for. Writes have no idempotency key: before commenting or publishing,
the connector looks for the same text already written by the organisation. With images the
look-up comes first too: a publication tried again after its images were uploaded returns the
post LinkedIn wrote, if it did, and uploads them again otherwise (the images of the failed
attempt stay unused, attached to no post). Uploading again is harmless; only the post is
written once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

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
    RetryableError,
    comment_window,
    payload_error,
    written_since,
)
from clameur.connectors.http import HttpClient, check_response, with_retries
from clameur.connectors.linkedin.oauth import SCOPES, refresh_tokens
from clameur.connectors.media import Image, download_images, pixel_size, shown
from clameur.connectors.sweep import Sweep
from clameur.kit.time import parse_datetime, utcnow
from clameur.pipeline.schemas import AuthorIn, PostIn

NETWORK = "linkedin"
TITLE = "LinkedIn"
API_URL = "https://api.linkedin.com"
OAUTH_URL = "https://www.linkedin.com/oauth/v2"
# The latest version documented when this was last checked (see the module's docstring).
LINKEDIN_VERSION = "202608"
VERSIONING_URL = "https://learn.microsoft.com/en-us/linkedin/marketing/versioning"
PAGE_LIMIT = 20
COMMENT_PAGE = 50
COMMENT_PAGES = 5
# A token this close to its end is refreshed before use.
REFRESH_MARGIN = timedelta(minutes=5)
RATE_LIMIT_DEFAULT = timedelta(hours=1)
# One image is a single-image post; a MultiImage post takes 2 to 20.
MAX_IMAGES = 20
# What the Images API takes: JPG, PNG or GIF of fewer than 36,152,320 pixels.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
MAX_IMAGE_PIXELS = 36_152_320
# LinkedIn names no size in bytes; a download stops here, so that one address cannot fill
# the memory.
MAX_IMAGE_BYTES = 20_000_000
# Seconds between looks at an image LinkedIn is still processing (about half a minute in all).
IMAGE_WAITS = (1.0, 1.0, 2.0, 3.0, 5.0, 5.0, 10.0)
_COMMENT_URN = re.compile(r"^urn:li:comment:\((urn:li:[A-Za-z]+:[^,]+),([^)]+)\)$")
_VERSION = re.compile(r"^\d{6}$")


class LinkedInConfig(ConnectorConfig):
    """A LinkedIn organisation page and the LinkedIn app that reaches it."""

    requirements: ClassVar[str] = (
        "A LinkedIn app (linkedin.com/developers) verified by your organisation page, with "
        "access to the Community Management API. LinkedIn grants that API only to approved "
        "partners after a review of the app and its use: apply from the app's Products tab "
        "and expect to wait for the answer; without it no organisation post or comment can be "
        "read. The person who connects the account must be an administrator of the page. "
        "Enter the app's client ID and secret, add Clameur's callback address to the app's "
        "authorized redirect URLs, then connect."
    )

    organization_id: str = Field(
        title="Organisation ID",
        description="The number in the page's admin address (linkedin.com/company/<number>/admin).",
    )
    client_id: str | None = Field(
        default=None, title="Client ID", description="From the app's Auth tab."
    )
    client_secret: SecretStr | None = Field(
        default=None, title="Client secret", description="From the app's Auth tab."
    )
    access_token: SecretStr | None = Field(
        default=None,
        title="Access token",
        description="Filled in when you connect; or paste one from the developer portal's "
        "token generator.",
    )
    linkedin_version: str = Field(
        default=LINKEDIN_VERSION,
        title="API version",
        description="The version of LinkedIn's API Clameur asks for, as year and month "
        "(YYYYMM; it starts at the latest version this release of Clameur knows). LinkedIn "
        "releases one a month and turns each "
        "off about a year after its release; when this one is turned off, the account stops "
        f"with a message: set a newer version here (the latest is listed at {VERSIONING_URL}).",
    )
    listen_posts: bool = Field(
        default=True,
        title="Organisation posts",
        description="Bring the organisation's posts to the inbox (the start of each thread).",
    )
    listen_comments: bool = Field(
        default=True,
        title="Comments",
        description="Bring the comments on the organisation's posts to the inbox.",
    )
    comment_window_days: int = comment_window()
    # Filled by the connection flow (see clameur.connectors.linkedin.oauth).
    refresh_token: SecretStr | None = Field(default=None, json_schema_extra={"form": False})
    token_expires_at: str | None = Field(default=None, json_schema_extra={"form": False})
    refresh_expires_at: str | None = Field(default=None, json_schema_extra={"form": False})
    scopes: list[str] = Field(
        default_factory=lambda: list(SCOPES), json_schema_extra={"form": False}
    )
    # LinkedIn's addresses (changed only in tests).
    api_url: str = Field(default=API_URL, json_schema_extra={"form": False})
    oauth_url: str = Field(default=OAUTH_URL, json_schema_extra={"form": False})

    @field_validator("organization_id")
    @classmethod
    def _organization_id(cls, value: str) -> str:
        value = value.strip().removeprefix("urn:li:organization:")
        if not value.isdigit():
            raise ValueError("an organisation ID is a number")
        return value

    @field_validator("linkedin_version")
    @classmethod
    def _version(cls, value: str) -> str:
        value = value.strip().replace("-", "")
        if not _VERSION.match(value):
            raise ValueError(f"{value!r} is not a LinkedIn API version (YYYYMM)")
        return value

    @field_validator("api_url", "oauth_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @property
    def organization_urn(self) -> str:
        """The organisation as LinkedIn names it."""
        return f"urn:li:organization:{self.organization_id}"


def encode(urn: str) -> str:
    """A URN as it goes into an address (Rest.li 2.0 encodes every reserved character)."""
    return quote(urn, safe="")


def activity_of(comment_urn: str) -> str | None:
    """The post a comment URN belongs to (`urn:li:comment:(<post>,<id>)`)."""
    match = _COMMENT_URN.match(comment_urn)
    return match.group(1) if match else None


def version_refused(response: httpx.Response, version: str) -> PermanentError | None:
    """The error for LinkedIn's refusal of the API version (HTTP 426, `NONEXISTENT_VERSION`),
    telling the user to set a newer one; None for any other answer."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    if response.status_code != 426 and body.get("code") != "NONEXISTENT_VERSION":
        return None
    said = str(body.get("message") or body.get("code") or "no message").strip()[:200]
    return PermanentError(
        f"LinkedIn no longer accepts API version {version} (HTTP {response.status_code}: "
        f"{said}). LinkedIn turns each version off about a year after its release: set a newer "
        f"'API version' in this account's settings (the latest is listed at {VERSIONING_URL}).",
        NETWORK,
    )


def _moment(value: Any, what: str) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    raise payload_error(TITLE, what, f"its time {value!r} is not epoch milliseconds")


class LinkedInConnector(Connector[LinkedInConfig]):
    """A LinkedIn organisation through the Community Management API."""

    network: ClassVar[str] = NETWORK
    title: ClassVar[str] = TITLE
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.listen,
            Capability.conversations,
            Capability.reply,
            Capability.publish,
            Capability.images,
        }
    )
    config_model: ClassVar[type[ConnectorConfig]] = LinkedInConfig
    limitations: ClassVar[str] = (
        "Only your organisation's own posts and the comments on them. Posts elsewhere on "
        "LinkedIn that name your brand, mentions, and private messages are not available to "
        "apps. Commenters appear as LinkedIn member identifiers, without their names."
    )
    max_images: ClassVar[int | None] = MAX_IMAGES

    def __init__(
        self,
        config: LinkedInConfig,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config)
        self.sleep = sleep
        headers = {
            "LinkedIn-Version": config.linkedin_version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        self.reads = HttpClient(
            NETWORK, config.api_url, timeout, headers, sleep=sleep, transport=transport
        )
        # Writes are sent once: one that timed out may have happened (see `reply`).
        self.writes = HttpClient(
            NETWORK, config.api_url, timeout, headers, attempts=1, sleep=sleep, transport=transport
        )

    # --- calling the API -----------------------------------------------------------------

    def _token(self) -> str:
        expires = self.config.token_expires_at
        if (
            self.config.refresh_token is not None
            and expires
            and parse_datetime(expires) - REFRESH_MARGIN <= utcnow()
        ):
            self._refresh()
        if self.config.access_token is None:
            raise AuthError("The LinkedIn account is not connected yet.", NETWORK)
        return self.config.access_token.get_secret_value()

    def _refresh(self) -> None:
        self.config = refresh_tokens(self.config)
        self._config_changed = True

    def _request(self, client: HttpClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._token()}"}
            try:
                return self._send(client, method, path, headers=headers, **kwargs)
            except AuthError:
                # An access token revoked or expired early: refresh it once.
                if attempt == 2 or self.config.refresh_token is None:
                    raise
                self._refresh()
            except RateLimited as error:
                raise self._rate_limited(error) from None
            except PermanentError as error:
                if "HTTP 403" in error.message:
                    raise AuthError(
                        f"LinkedIn refused the request ({error.message}): the app lacks the "
                        "Community Management API or a scope, or the member is not an "
                        "administrator of the page.",
                        NETWORK,
                    ) from None
                raise
        raise AssertionError("unreachable")

    def _send(self, client: HttpClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """`client.request`, except that a refused API version is said as such (the generic
        answer would be "refused the request (HTTP 426)")."""

        def once() -> httpx.Response:
            response = client.send(method, path, **kwargs)
            refused = version_refused(response, self.config.linkedin_version)
            if refused is not None:
                raise refused
            return check_response(response, NETWORK)

        return with_retries(
            once,
            attempts=client.attempts,
            max_wait=client.max_wait,
            base_delay=client.base_delay,
            sleep=client.sleep,
        )

    def _rate_limited(self, error: RateLimited) -> RateLimited:
        if error.requested_delay is not None:
            return error
        now = utcnow()
        midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
        retry_at = min(midnight, now + RATE_LIMIT_DEFAULT)
        return RateLimited(
            f"LinkedIn rate limit reached (daily limits reset at midnight UTC); retrying at "
            f"{retry_at.isoformat(timespec='seconds')}.",
            NETWORK,
            retry_at=retry_at,
            now=now,
        )

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self._request(self.reads, "GET", path, params=params)
        try:
            body = response.json()
        except ValueError:
            raise payload_error(TITLE, "answer", "it is not JSON") from None
        if not isinstance(body, dict):
            raise payload_error(TITLE, "answer", "it is not a JSON object")
        return body

    def _create(self, path: str, body: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
        """POST a new entity; its URN (from `x-restli-id` or the body) and its body."""
        response = self._request(self.writes, "POST", path, json=body)
        try:
            created = response.json() if response.content else {}
        except ValueError:
            created = {}
        created = created if isinstance(created, dict) else {}
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        urn = urn or created.get("commentUrn") or created.get("$URN") or created.get("id")
        return (str(urn) if urn else None), created

    @staticmethod
    def _elements(answer: Mapping[str, Any], what: str) -> list[dict[str, Any]]:
        elements = answer.get("elements")
        if not isinstance(elements, list):
            raise payload_error(TITLE, what, "it has no list of 'elements'")
        return [item for item in elements if isinstance(item, dict)]

    # --- normalising ----------------------------------------------------------------------

    def post_to_post(self, post: Mapping[str, Any]) -> PostIn:
        """An organisation post as a Clameur post."""
        urn = post.get("id")
        if not isinstance(urn, str) or not urn:
            raise payload_error(TITLE, "post", "it has no 'id'")
        text = str(post.get("commentary") or "").strip()
        try:
            return PostIn(
                id=urn,
                network=NETWORK,
                text=text or "(a post without text)",
                created_at=_moment(post.get("publishedAt") or post.get("createdAt"), urn),
                author=AuthorIn(handle=str(post.get("author") or self.config.organization_urn)),
                url=f"https://www.linkedin.com/feed/update/{urn}/",
                conversation_id=urn,
            )
        except (ValidationError, ValueError) as error:
            raise payload_error(TITLE, f"post {urn}", str(error)) from None

    def comment_to_post(self, comment: Mapping[str, Any], post_urn: str) -> PostIn:
        """A comment on the post `post_urn` as a Clameur post."""
        urn = comment.get("commentUrn") or comment.get("$URN")
        if not isinstance(urn, str) or not urn:
            raise payload_error(TITLE, "comment", "it has no 'commentUrn'")
        message = comment.get("message") if isinstance(comment.get("message"), Mapping) else {}
        text = str((message or {}).get("text") or "").strip()
        created = comment.get("created") if isinstance(comment.get("created"), Mapping) else {}
        actor = comment.get("actor") or (created or {}).get("actor")
        try:
            return PostIn(
                id=urn,
                network=NETWORK,
                text=text or "(a comment without text)",
                created_at=_moment((created or {}).get("time"), urn),
                author=AuthorIn(handle=str(actor)) if actor else None,
                in_reply_to=str(comment.get("parentComment") or post_urn),
                conversation_id=post_urn,
            )
        except (ValidationError, ValueError) as error:
            raise payload_error(TITLE, f"comment {urn}", str(error)) from None

    # --- capabilities ------------------------------------------------------------------------

    def check(self) -> AccountIdentity:
        """The organisation (`GET /rest/organizations/{id}`)."""
        org = self._get(f"/rest/organizations/{self.config.organization_id}")
        name = str(org.get("localizedName") or self.config.organization_urn)
        vanity = org.get("vanityName")
        return AccountIdentity(
            handle=str(vanity or name),
            display_name=name,
            external_id=self.config.organization_urn,
            url=f"https://www.linkedin.com/company/{vanity or self.config.organization_id}/",
        )

    def sources(self) -> list[ListenSource]:
        """The organisation's posts and the comments on them, as configured."""
        found = []
        if self.config.listen_posts:
            found.append(ListenSource("posts"))
        if self.config.listen_comments:
            found.append(ListenSource("comments"))
        return found

    def _posts_page(self, start: int, count: int) -> tuple[list[dict[str, Any]], str | None]:
        answer = self._get(
            "/rest/posts",
            {
                "q": "author",
                "author": self.config.organization_urn,
                "sortBy": "CREATED",
                "start": start,
                "count": count,
            },
        )
        elements = self._elements(answer, "post list")
        return elements, (str(start + count) if len(elements) >= count else None)

    def listen(
        self, source: ListenSource, checkpoint: Checkpoint | None, limit: int = PAGE_LIMIT
    ) -> FetchResult:
        """The organisation's posts, or the comments on them, after the checkpoint."""
        page_size = max(1, min(limit, PAGE_LIMIT))
        sweep = Sweep.load(checkpoint)
        start = int(sweep.cursor) if sweep.cursor and sweep.cursor.isdigit() else 0
        if source.kind == "posts":
            elements, next_start = self._posts_page(start, page_size)
            items = [(post.id, post.created_at, post) for post in map(self.post_to_post, elements)]
            posts, more = sweep.advance(items, next_start)
            return FetchResult(posts=posts, checkpoint=sweep.dump(), more=more)
        if source.kind == "comments":
            window_start = utcnow() - timedelta(days=self.config.comment_window_days)
            elements, next_start = self._posts_page(start, page_size)
            found: list[tuple[str, datetime, PostIn]] = []
            past_window = False
            for element in elements:
                post = self.post_to_post(element)
                if post.created_at < window_start and not sweep.first:
                    past_window = True
                    continue
                found.extend(self._new_comments(post.id, sweep))
            posts = sweep.take(found)
            more = sweep.page_done(next_start, past_window)
            return FetchResult(posts=posts, checkpoint=sweep.dump(), more=more)
        raise PermanentError(f"LinkedIn cannot listen to {source.key!r}.", NETWORK)

    def _comments(self, urn: str, pages: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in range(pages):
            answer = self._get(
                f"/rest/socialActions/{encode(urn)}/comments",
                {"start": page * COMMENT_PAGE, "count": COMMENT_PAGE},
            )
            elements = self._elements(answer, f"comments of {urn}")
            out.extend(elements)
            if len(elements) < COMMENT_PAGE:
                break
        return out

    def _new_comments(self, post_urn: str, sweep: Sweep) -> list[tuple[str, datetime, PostIn]]:
        found = []
        for comment in self._comments(post_urn, 1 if sweep.first else COMMENT_PAGES):
            if comment.get("actor") == self.config.organization_urn:
                continue
            post = self.comment_to_post(comment, post_urn)
            if not sweep.is_old(post.created_at):
                found.append((post.id, post.created_at, post))
        return found

    def conversation(self, post_id: str) -> list[PostIn]:
        """The post (of a comment, or itself) and its comments in order."""
        post_urn = activity_of(post_id) or post_id
        root = self._get(f"/rest/posts/{encode(post_urn)}")
        thread = [self.post_to_post(root)]
        comments = [self.comment_to_post(c, post_urn) for c in self._comments(post_urn, 5)]
        comments.sort(key=lambda post: post.created_at)
        return thread + comments

    def reply(self, post: OutgoingPost) -> Published:
        """Comment as the organisation under a post, or answer a comment; a comment the
        organisation already wrote there with the same text is returned instead."""
        target = post.in_reply_to
        if not target:
            raise PermanentError("A reply needs the post or comment it answers.", NETWORK)
        parent_post = activity_of(target)
        for comment in self._comments(target, 1):
            message = comment.get("message") if isinstance(comment.get("message"), dict) else {}
            if (
                comment.get("actor") == self.config.organization_urn
                and str((message or {}).get("text") or "").strip() == post.text.strip()
            ):
                urn = comment.get("commentUrn") or comment.get("$URN")
                return Published(external_id=str(urn), replayed=True)
        body: dict[str, Any] = {
            "actor": self.config.organization_urn,
            "object": parent_post or target,
            "message": {"text": post.text},
        }
        if parent_post:
            body["parentComment"] = target
        urn, _ = self._create(f"/rest/socialActions/{encode(target)}/comments", body)
        if not urn:
            raise payload_error(TITLE, "created comment", "it has no URN")
        return Published(external_id=urn)

    def publish(self, post: OutgoingPost) -> Published:
        """Publish a public post as the organisation, with its images; a post with the same
        text published since is returned instead of publishing twice (before any image is
        uploaded)."""
        since = written_since(post)
        elements, _ = self._posts_page(0, 10)
        for element in elements:
            created = element.get("createdAt")
            if (
                str(element.get("commentary") or "").strip() == post.text.strip()
                and isinstance(created, int)
                and _moment(created, "post") >= since
            ):
                known = str(element.get("id"))
                return Published(
                    external_id=known,
                    url=f"https://www.linkedin.com/feed/update/{known}/",
                    replayed=True,
                )
        body: dict[str, Any] = {
            "author": self.config.organization_urn,
            "commentary": post.text,
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if post.media_urls:
            body["content"] = self._images_content(post)
        urn, _ = self._create("/rest/posts", body)
        if not urn:
            raise payload_error(TITLE, "created post", "it has no x-restli-id")
        return Published(external_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}/")

    # --- images ------------------------------------------------------------------------------

    def _images_content(self, post: OutgoingPost) -> dict[str, Any]:
        """The post's `content`: its images, all checked before the first is uploaded, then
        uploaded; one is a single-image post, several a MultiImage post."""
        images = download_images(
            post.media_urls, NETWORK, MAX_IMAGE_BYTES, max_count=MAX_IMAGES, accepted=IMAGE_TYPES
        )
        for image in images:
            size = pixel_size(image.content)
            if size is not None and size[0] * size[1] >= MAX_IMAGE_PIXELS:
                raise PermanentError(
                    f"The image at {shown(image.url)} is {size[0]} x {size[1]} pixels: LinkedIn "
                    f"takes images of fewer than {MAX_IMAGE_PIXELS:,} pixels. Use a smaller one.",
                    NETWORK,
                )
        media = []
        for index, image in enumerate(images):
            entry = {"id": self._upload_image(image)}
            alt = post.alt(index)
            if alt:
                entry["altText"] = alt
            media.append(entry)
        if len(media) == 1:
            return {"media": media[0]}
        return {"multiImage": {"images": media}}

    def _upload_image(self, image: Image) -> str:
        """Upload one image as the organisation's (initialize, then PUT its bytes); its image
        URN once LinkedIn has processed it. Both calls may be repeated without harm (a second
        upload slot, the same bytes again), so they are retried in place like reads."""
        response = self._request(
            self.reads,
            "POST",
            "/rest/images",
            params={"action": "initializeUpload"},
            json={"initializeUploadRequest": {"owner": self.config.organization_urn}},
        )
        try:
            answer = response.json()
        except ValueError:
            raise payload_error(TITLE, "image upload", "it is not JSON") from None
        value = answer.get("value") if isinstance(answer, dict) else None
        if not isinstance(value, dict):
            raise payload_error(TITLE, "image upload", "it has no 'value'")
        upload_url, urn = value.get("uploadUrl"), value.get("image")
        if not isinstance(upload_url, str) or not upload_url:
            raise payload_error(TITLE, "image upload", "it has no 'uploadUrl'")
        if not isinstance(urn, str) or not urn:
            raise payload_error(TITLE, "image upload", "it has no 'image'")
        self._check_upload_address(upload_url)
        self._request(self.reads, "PUT", upload_url, content=image.content)
        self._wait_for_image(urn, image)
        return urn

    def _check_upload_address(self, url: str) -> None:
        """Refuse to send the token anywhere but to LinkedIn (the address LinkedIn gave is
        on linkedin.com; the API's own host is accepted too, as the tests' server is)."""
        host = (urlsplit(url).hostname or "").lower()
        api_host = (urlsplit(self.config.api_url).hostname or "").lower()
        if host != api_host and host != "linkedin.com" and not host.endswith(".linkedin.com"):
            raise payload_error(
                TITLE, "image upload", f"its upload address is not on linkedin.com ({host})"
            )

    def _wait_for_image(self, urn: str, image: Image) -> None:
        waits = iter(IMAGE_WAITS)
        while True:
            status = str(self._get(f"/rest/images/{encode(urn)}").get("status") or "")
            if status == "AVAILABLE":
                return
            if status == "PROCESSING_FAILED":
                raise PermanentError(
                    f"LinkedIn could not process the image at {shown(image.url)}: check that it "
                    "opens, and try another file.",
                    NETWORK,
                )
            wait = next(waits, None)
            if wait is None:
                raise RetryableError(
                    f"LinkedIn is still processing the image at {shown(image.url)} "
                    f"({status or 'no status'}); the publication will be tried again.",
                    NETWORK,
                )
            self.sleep(wait)

    def close(self) -> None:
        """Close the HTTP clients."""
        self.reads.close()
        self.writes.close()
