"""Reddit: new posts and comments of subreddits, search results and mentions of the account in;
a post's comments; replies out.

A thin client on httpx (through `clameur.connectors.http`) for the OAuth API documented at
https://www.reddit.com/dev/api/ and on the reddit-archive wiki:

- new posts of a subreddit, `GET /r/{subreddit}/new`, and search, `GET /search?sort=new`,
  Listings paged with the `after` fullname (https://www.reddit.com/dev/api/#GET_new,
  https://www.reddit.com/dev/api/#GET_search, Listing and thing structures
  https://github.com/reddit-archive/reddit/wiki/JSON);
- new comments of a subreddit, `GET /r/{subreddit}/comments`, newest first and paged the same
  way: the listing PRAW's comment stream reads, not on Reddit's API page
  (https://github.com/praw-dev/praw/issues/1057,
  https://praw.readthedocs.io/en/stable/code_overview/other/subredditstream.html); search does
  not cover comments, so they are filtered here by the account's keywords when it has any;
- comments that mention the account (u/name), `GET /message/mentions`, one of the inbox
  listings (https://www.reddit.com/dev/api/#GET_message_{where}, scope `privatemessages`;
  PRAW's `inbox.mentions()`, https://praw.readthedocs.io/en/stable/code_overview/reddit/inbox.html),
  with `mark=false` so that reading them leaves the account's unread notifications as they
  were. Inbox items are comments in the message shape
  (https://github.com/reddit-archive/reddit/wiki/JSON, "message"): no `link_id` nor
  `permalink`; the post is read from `context`;
- a post's comments, `GET /comments/{article}` (https://www.reddit.com/dev/api/#GET_comments_{article}),
  and a comment's post, `GET /api/info` (https://www.reddit.com/dev/api/#GET_api_info);
- replies, `POST /api/comment` with `api_type=json`, `thing_id` and `text`
  (https://www.reddit.com/dev/api/#POST_api_comment); the account's comments,
  `GET /user/{username}/comments`, to recognise a reply already sent;
- who the token belongs to, `GET /api/v1/me`;
- OAuth 2: a script app signs in with the account's username and password, other apps with a
  refresh token from the code flow (`duration=permanent`), both at
  `POST https://www.reddit.com/api/v1/access_token` with the app's id and secret in a Basic
  header (https://github.com/reddit-archive/reddit/wiki/OAuth2,
  https://github.com/reddit-archive/reddit/wiki/OAuth2-Quick-Start-Example); the code flow
  is in `clameur.connectors.reddit.oauth`;
- API rules: a unique, descriptive User-Agent `<platform>:<app ID>:<version> (by /u/<user>)`,
  and the rate limit in `X-Ratelimit-Remaining`, `X-Ratelimit-Used` and `X-Ratelimit-Reset`
  (seconds to the end of the period) (https://github.com/reddit-archive/reddit/wiki/API);
  writing comments has its own limit, answered as `RATELIMIT` in the body with the seconds to
  wait.

Why not asyncpraw: it is asynchronous (aiohttp) while connectors are synchronous, and it waits
out rate limits by sleeping inside the call instead of handing the reset time to the runner;
the shared `HttpClient` keeps Reddit's errors and limits in the same shape as the other
connectors, and the real request code runs against a local replay.

Checkpoints: listings come newest first and `after` pages back in time. Each source (a
subreddit's posts, its comments, a search, the mentions) has its own checkpoint, which holds
the fullname up to which everything was read (`since`), the `after` cursor of a sweep in
progress, and the newest fullname seen in that sweep (comments left out by the keywords
included, so they are not read again). Reddit ids are base 36 numbers that grow with time,
so the boundary is compared by number: a post deleted since does not break the checkpoint (as a
`before` cursor on a deleted post would), nothing is returned twice, and nothing is skipped.

Reddit has no idempotency key. Before a reply is written, and again before it is written a
second time after a failure that leaves it uncertain whether Reddit received it, the account's
latest comments are read: one with the same text under the same parent is the reply already
sent, and it is returned as replayed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
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
    FetchResult,
    ListenSource,
    OutgoingPost,
    PermanentError,
    Published,
    RateLimited,
    as_object,
    as_utc,
    payload_error,
    required,
    same_words,
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
from clameur.connectors.oauth import apply_token
from clameur.kit.text import fold
from clameur.kit.time import utcnow
from clameur.pipeline.schemas import AuthorIn, PostIn

NETWORK = "reddit"
API_URL = "https://oauth.reddit.com"
AUTH_URL = "https://www.reddit.com"
SITE_URL = "https://www.reddit.com"
VERSION = "0.1"
SCOPES = ("identity", "read", "submit", "history", "privatemessages")
PAGE_LIMIT = 100
REFRESH_MARGIN = timedelta(minutes=2)
# The account's latest comments searched for a reply already sent.
OWN_COMMENTS = 100
_SUBREDDIT = re.compile(r"^[A-Za-z0-9_]{2,21}$")
_MINUTES = re.compile(r"(\d+)\s*(minute|second)")
# `/r/{subreddit}/comments/{article}/...`: the post of a comment's permalink or context.
_ARTICLE = re.compile(r"/comments/([a-z0-9]+)(?:/|$)")


class RedditConfig(ConnectorConfig):
    """A Reddit account (through the user's own Reddit app) and what it listens to."""

    requirements: ClassVar[str] = (
        "A Reddit account and a Reddit app of your own: at https://www.reddit.com/prefs/apps "
        "choose 'create another app', type 'script' (simplest: the account signs in with its "
        "username and password; accounts with two-factor authentication cannot) or 'web app' "
        "(Clameur sends you to Reddit to approve the scopes identity, read, submit, history "
        "and privatemessages, the last to read the account's mentions), with Clameur's "
        "callback address as redirect URI. Copy the app's id (under its name) and secret. "
        "Reddit's Data API terms apply: free for non-commercial use within 100 requests a "
        "minute; commercial use needs an agreement with Reddit."
    )

    client_id: str = Field(title="App ID", description="The id shown under the app's name.")
    client_secret: SecretStr | None = Field(
        default=None, title="App secret", description="The app's secret (none for installed apps)."
    )
    username: str = Field(
        title="Reddit username",
        description="The account that listens and replies (without u/); Reddit also wants it "
        "in the User-Agent.",
    )
    password: SecretStr | None = Field(
        default=None,
        title="Password",
        description="Script apps only: the account's password. Leave blank to connect through "
        "Reddit's approval page instead.",
    )
    subreddits: list[str] = Field(
        default_factory=list,
        title="Subreddits",
        description="Subreddits whose new posts to follow, one a line (without r/).",
    )
    listen_comments: bool = Field(
        default=True,
        title="Comments in these subreddits",
        description="Also bring the subreddits' new comments (only those with one of the "
        "keywords below, when there are any).",
    )
    keywords: list[str] = Field(
        default_factory=list,
        title="Comment keywords",
        description="Words or phrases, one a line: only the subreddits' comments that contain "
        "one of them are brought in (case and accents do not matter). Reddit's search does not "
        "cover comments, so Clameur reads them all and keeps these; leave empty to keep every "
        "comment.",
    )
    searches: list[str] = Field(
        default_factory=list,
        title="Searches",
        description="Search queries to follow across Reddit, one a line (posts only).",
    )
    listen_mentions: bool = Field(
        default=True,
        title="Mentions of the account",
        description="Bring the comments that mention u/<username> to the inbox (Reddit asks "
        "for the privatemessages scope: an account connected before must be connected again).",
    )
    # Filled by the connection flow (clameur.connectors.reddit.oauth) and by sign-ins.
    refresh_token: SecretStr | None = Field(default=None, json_schema_extra={"form": False})
    access_token: SecretStr | None = Field(default=None, json_schema_extra={"form": False})
    token_expires_at: datetime | None = Field(default=None, json_schema_extra={"form": False})
    api_url: str = Field(default=API_URL, json_schema_extra={"form": False})
    auth_url: str = Field(default=AUTH_URL, json_schema_extra={"form": False})

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        value = value.strip().removeprefix("/").removeprefix("u/").removeprefix("@")
        if not value:
            raise ValueError("enter the Reddit username")
        return value

    @field_validator("subreddits")
    @classmethod
    def _subreddits(cls, value: list[str]) -> list[str]:
        out = []
        for name in value:
            name = name.strip().removeprefix("/").removeprefix("r/").strip("/")
            if not name:
                continue
            if not _SUBREDDIT.match(name):
                raise ValueError(f"{name!r} is not a subreddit name")
            out.append(name)
        return out

    @field_validator("searches", "keywords")
    @classmethod
    def _lines(cls, value: list[str]) -> list[str]:
        return [line.strip() for line in value if line.strip()]

    @field_validator("api_url", "auth_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.strip().rstrip("/")


def user_agent(username: str) -> str:
    """The User-Agent Reddit's API rules ask for."""
    return f"server:clameur:{VERSION} (by /u/{username})"


def fullname_key(fullname: str) -> int:
    """The number of a fullname (`t3_1abc2d`): Reddit ids are base 36 and grow with time."""
    _, _, base36 = fullname.partition("_")
    try:
        return int(base36 or fullname, 36)
    except ValueError:
        return -1


def keyword_pattern(keywords: list[str]) -> re.Pattern[str] | None:
    """A pattern finding any of `keywords` as whole words in folded text (None: no keywords)."""
    folded = sorted({fold(word) for word in keywords if fold(word).strip()}, key=len, reverse=True)
    if not folded:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, folded)) + r")(?!\w)")


def _article_of(context: Any) -> str | None:
    """The post (`t3_...`) of a comment's context address, if it names one."""
    match = _ARTICLE.search(str(context or ""))
    return f"t3_{match.group(1)}" if match else None


def _children(listing: Any, what: str) -> tuple[list[dict[str, Any]], str | None]:
    """The things of a Listing and its `after` cursor."""
    listing = as_object(listing, NETWORK, what)
    if listing.get("kind") != "Listing":
        raise payload_error(NETWORK, what, f"expected a Listing, got {listing.get('kind')!r}")
    data = as_object(listing.get("data"), NETWORK, f"{what} data")
    children = data.get("children")
    if not isinstance(children, list):
        raise payload_error(NETWORK, what, "it has no list of 'children'")
    after = data.get("after")
    return [as_object(child, NETWORK, f"{what} item") for child in children], (
        str(after) if after else None
    )


class RedditConnector(Connector[RedditConfig]):
    """Reddit's OAuth API with the user's own app, through httpx."""

    network: ClassVar[str] = NETWORK
    title: ClassVar[str] = "Reddit"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.listen, Capability.conversations, Capability.reply}
    )
    config_model: ClassVar[type[ConnectorConfig]] = RedditConfig
    limitations: ClassVar[str] = (
        "Clameur reads the new posts and comments of the subreddits you follow (comments only "
        "with your keywords, when you set some), posts found by Reddit's search (search does "
        "not cover comments) and comments that mention the account; a whole thread is read "
        "when a post's conversation is opened, and very long threads are cut where Reddit says "
        "'more replies'. Private, quarantined or banned subreddits and removed posts are not "
        "visible. Clameur does not publish new posts on Reddit."
    )

    def __init__(
        self,
        config: RedditConfig,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        retry_attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config)
        self.sleep = sleep
        self.retry_attempts = retry_attempts
        self.http = HttpClient(
            NETWORK,
            timeout=timeout,
            headers={"User-Agent": user_agent(config.username)},
            attempts=1,
            transport=transport,
            title=self.title,
        )
        # Until when Reddit's request budget is spent (from X-Ratelimit-Remaining/Reset).
        self.spent_until: datetime | None = None
        self._keywords = keyword_pattern(config.keywords)

    # --- tokens ----------------------------------------------------------------------------

    def _token(self) -> str:
        token = self.config.access_token
        expires = self.config.token_expires_at
        if token is None or (expires is not None and utcnow() >= as_utc(expires) - REFRESH_MARGIN):
            self.sign_in()
            token = self.config.access_token
            assert token is not None
        return token.get_secret_value()

    def sign_in(self) -> None:
        """A new access token: with the refresh token, or (script apps) the password."""
        if self.config.refresh_token is not None:
            data = {
                "grant_type": "refresh_token",
                "refresh_token": self.config.refresh_token.get_secret_value(),
            }
            how = "renew the account's access"
        elif self.config.password is not None:
            data = {
                "grant_type": "password",
                "username": self.config.username,
                "password": self.config.password.get_secret_value(),
            }
            how = f"sign in as u/{self.config.username}"
        else:
            raise AuthError(
                "The Reddit account is not connected yet: enter the password of a script app, "
                "or approve Clameur on Reddit from the account's settings.",
                NETWORK,
            )
        try:
            answer = self.token_request(data)
        except (AuthError, PermanentError) as error:
            raise AuthError(
                f"Reddit refused to {how} ({error.message}). Check the app id and secret.",
                NETWORK,
            ) from None
        if "error" in answer:
            hint = (
                " Check the password; accounts with two-factor authentication must connect "
                "through Reddit's approval page instead."
                if data["grant_type"] == "password"
                else " The approval was revoked; connect the account again."
            )
            raise AuthError(f"Reddit refused to {how} ({answer['error']}).{hint}", NETWORK)
        self.config = apply_token(self.config, answer, NETWORK)
        self._config_changed = True

    def token_request(self, data: Mapping[str, str]) -> dict[str, Any]:
        """`POST /api/v1/access_token` with the app's id and secret in a Basic header."""
        secret = self.config.client_secret
        response = self._send(
            "POST",
            f"{self.config.auth_url}/api/v1/access_token",
            data=dict(data),
            auth=(self.config.client_id, secret.get_secret_value() if secret else ""),
        )
        return json_object(response, NETWORK, "token answer")

    # --- calling the API -------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        now = utcnow()
        if self.spent_until is not None and self.spent_until > now:
            raise RateLimited(
                f"Reddit's request budget is spent; retrying at "
                f"{self.spent_until.isoformat(timespec='seconds')}.",
                NETWORK,
                retry_at=self.spent_until,
                now=now,
            )
        response = self.http.send(method, url, **kwargs)
        self._remember_budget(response.headers)
        return check_response(response, NETWORK)

    def _remember_budget(self, headers: Mapping[str, str]) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            spent = float(remaining) < 1
        except ValueError:
            return
        self.spent_until = retry_at_from_headers({"X-Ratelimit-Reset": reset}) if spent else None

    def _api(self, method: str, path: str, retry: bool = True, **kwargs: Any) -> Any:
        """A request with the account's token; a token refused once is renewed and the
        request sent again; short outages retried in place when `retry`."""
        url = f"{self.config.api_url}{path}"

        def send(token: str) -> httpx.Response:
            headers = {"Authorization": f"bearer {token}"}
            return self._send(method, url, headers=headers, **kwargs)

        def attempt() -> Any:
            token = self._token()
            try:
                response = send(token)
            except AuthError:  # the token was refused (401): sign in again, once
                self.sign_in()
                try:
                    response = send(self._token())
                except AuthError as error:
                    raise AuthError(
                        f"Reddit refused the account's new token too ({error.message}). Check "
                        "that the app is allowed the scopes identity, read, submit, history and "
                        "privatemessages, and connect the account again.",
                        NETWORK,
                    ) from None
            try:
                return response.json()
            except ValueError:
                raise payload_error(NETWORK, f"answer to {path}", "it is not JSON") from None

        if not retry:
            return attempt()
        return with_retries(attempt, attempts=self.retry_attempts, sleep=self.sleep)

    # --- normalising -----------------------------------------------------------------------

    def to_post(self, thing: Any) -> PostIn:
        """A Reddit post (t3) or comment (t1) as a Clameur post."""
        entity = as_object(thing, NETWORK, "thing")
        kind = entity.get("kind")
        data = as_object(entity.get("data"), NETWORK, f"{kind} thing")
        fullname = str(required(data, "name", NETWORK, f"{kind} thing"))
        what = f"{'post' if kind == 't3' else 'comment'} {fullname}"
        created = required(data, "created_utc", NETWORK, what)
        if kind == "t3":
            title = str(required(data, "title", NETWORK, what)).strip()
            body = str(data.get("selftext") or "").strip()
            if not body and not data.get("is_self") and data.get("url"):
                body = str(data["url"])
            text = "\n\n".join(part for part in (title, body) if part)
            metrics = {
                "score": int(data.get("score") or 0),
                "comments": int(data.get("num_comments") or 0),
            }
            in_reply_to, conversation = None, fullname
        elif kind == "t1":
            text = str(data.get("body") or "").strip()
            metrics = {"score": int(data.get("score") or 0)}
            in_reply_to = required(data, "parent_id", NETWORK, what)
            article = data.get("link_id") or _article_of(data.get("context"))
            if not article:
                raise payload_error(NETWORK, what, "it has no 'link_id' (nor a 'context')")
            conversation = str(article)
        else:
            raise payload_error(NETWORK, "listing item", f"unexpected kind {kind!r}")
        author = str(data.get("author") or "").strip()
        # Inbox items have no permalink; their context is one, with "?context=3".
        permalink = data.get("permalink") or str(data.get("context") or "").partition("?")[0]
        try:
            return PostIn(
                id=fullname,
                network=NETWORK,
                text=text or "(no text)",
                created_at=datetime.fromtimestamp(float(created), UTC),
                author=AuthorIn(handle=author, name=author) if author else None,
                url=f"{SITE_URL}{permalink}" if permalink else None,
                in_reply_to=in_reply_to,
                conversation_id=conversation,
                metrics=metrics,
            )
        except ValidationError as error:
            raise payload_error(NETWORK, what, validation_problem(error)) from None
        except (TypeError, ValueError, OverflowError) as error:
            raise payload_error(NETWORK, what, str(error)) from None

    # --- capabilities ----------------------------------------------------------------------

    def check(self) -> AccountIdentity:
        """Who the token belongs to (`GET /api/v1/me`)."""
        me = as_object(self._api("GET", "/api/v1/me", params={"raw_json": 1}), NETWORK, "account")
        name = str(required(me, "name", NETWORK, "account"))
        return AccountIdentity(
            handle=f"u/{name}",
            display_name=name,
            external_id=f"t2_{me['id']}" if me.get("id") else None,
            url=f"{SITE_URL}/user/{name}",
        )

    def sources(self) -> list[ListenSource]:
        """The account's subreddits (their posts, and their comments when followed), searches
        and mentions."""
        found = [ListenSource("subreddit", name) for name in self.config.subreddits]
        if self.config.listen_comments:
            found += [ListenSource("comments", name) for name in self.config.subreddits]
        found += [ListenSource("search", query) for query in self.config.searches]
        if self.config.listen_mentions:
            found.append(ListenSource("mentions"))
        return found

    def listen(
        self, source: ListenSource, checkpoint: Checkpoint | None, limit: int = PAGE_LIMIT
    ) -> FetchResult:
        """The posts of a subreddit or a search, the comments of a subreddit, or the comments
        mentioning the account, newer than the checkpoint, one page a call, oldest first."""
        params: dict[str, Any] = {"limit": max(1, min(limit, PAGE_LIMIT)), "raw_json": 1}
        keep: Callable[[dict[str, Any]], bool] | None = None
        if source.kind == "subreddit":
            path = f"/r/{source.value}/new"
        elif source.kind == "search":
            path = "/search"
            params.update(q=source.value, sort="new", type="link")
        elif source.kind == "comments":
            path = f"/r/{source.value}/comments"
            keep = self._wanted_comment
        elif source.kind == "mentions":
            path = "/message/mentions"
            params["mark"] = "false"
            keep = self._wanted_mention
        else:
            raise PermanentError(f"Reddit cannot listen to {source.key!r}.", NETWORK)
        try:
            return self._sweep(path, params, checkpoint, keep)
        except PermanentError as error:
            if source.kind == "mentions" and "HTTP 403" in error.message:
                raise PermanentError(
                    "Reddit refused to show the account's mentions (HTTP 403): it was connected "
                    "without the privatemessages scope. Connect it again to approve it, or turn "
                    "off 'Mentions of the account'.",
                    NETWORK,
                ) from None
            raise

    def _sweep(
        self,
        path: str,
        params: dict[str, Any],
        checkpoint: Checkpoint | None,
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> FetchResult:
        """One page of a newest-first Listing after the checkpoint, as posts (only the things
        `keep` accepts; the others still move the checkpoint on)."""
        state = dict(checkpoint or {})
        since = str(state["since"]) if state.get("since") else None
        after = state.get("after") or None
        high = str(state["high"]) if state.get("high") else None
        if since is not None and after:
            params["after"] = after
        children, next_after = _children(self._api("GET", path, params=params), "listing")
        fresh: list[dict[str, Any]] = []
        reached_old = False
        for child in children:
            fullname = str(
                required(
                    as_object(child.get("data"), NETWORK, "listing item"), "name", NETWORK, "item"
                )
            )
            if since is not None and fullname_key(fullname) <= fullname_key(since):
                reached_old = True
                continue
            fresh.append(child)
            if high is None or fullname_key(fullname) > fullname_key(high):
                high = fullname
        fresh.sort(key=lambda child: fullname_key(str(child["data"]["name"])))
        posts = [self.to_post(child) for child in fresh if keep is None or keep(child)]
        if since is not None and next_after and not reached_old:
            out: Checkpoint = {"since": since, "after": next_after, "high": high}
            return FetchResult(posts=posts, checkpoint=out, more=True)
        # The first read takes one page (from now on); a sweep that reached `since` ends.
        return FetchResult(posts=posts, checkpoint={"since": high or since})

    def _own(self, child: Mapping[str, Any]) -> bool:
        author = str((child.get("data") or {}).get("author") or "")
        return author.lower() == self.config.username.lower()

    def _wanted_comment(self, child: dict[str, Any]) -> bool:
        """A subreddit comment worth bringing in: not the account's own, and with one of its
        keywords when it has some."""
        if child.get("kind") != "t1" or self._own(child):
            return False
        if self._keywords is None:
            return True
        return self._keywords.search(fold(str(child["data"].get("body") or ""))) is not None

    def _wanted_mention(self, child: dict[str, Any]) -> bool:
        """An inbox item that is a comment mentioning the account (not a private message)."""
        return child.get("kind") == "t1" and not self._own(child)

    def conversation(self, post_id: str) -> list[PostIn]:
        """A post, then its comments in thread order (depth first)."""
        article = post_id
        if post_id.startswith("t1_"):
            found = self._api("GET", "/api/info", params={"id": post_id, "raw_json": 1})
            children, _ = _children(found, "info")
            if not children:
                raise PermanentError(f"The Reddit comment {post_id} no longer exists.", NETWORK)
            data = as_object(children[0].get("data"), NETWORK, "comment")
            article = str(required(data, "link_id", NETWORK, f"comment {post_id}"))
        answer = self._api(
            "GET",
            f"/comments/{article.removeprefix('t3_')}",
            params={"raw_json": 1, "limit": 500, "threaded": "true"},
        )
        if not isinstance(answer, list) or len(answer) != 2:
            raise payload_error(NETWORK, "comments answer", "expected the post and its comments")
        posts, _ = _children(answer[0], "post listing")
        if not posts:
            raise PermanentError(f"The Reddit post {article} no longer exists.", NETWORK)
        comments, _ = _children(answer[1], "comment listing")
        out = [self.to_post(posts[0])]
        self._walk(comments, out)
        return out

    def _walk(self, things: list[dict[str, Any]], out: list[PostIn]) -> None:
        for thing in things:
            if thing.get("kind") != "t1":
                continue  # "more": further replies Reddit leaves out of this answer
            out.append(self.to_post(thing))
            replies = as_object(thing.get("data"), NETWORK, "comment").get("replies")
            if isinstance(replies, dict):
                children, _ = _children(replies, "replies")
                self._walk(children, out)

    def find_published(self, post: OutgoingPost) -> dict[str, Any] | None:
        """The account's comment already made for `post`, if any (same parent, same text)."""
        answer = self._api(
            "GET",
            f"/user/{self.config.username}/comments",
            params={"sort": "new", "limit": OWN_COMMENTS, "raw_json": 1},
        )
        children, _ = _children(answer, "the account's comments")
        for child in children:
            data = child.get("data") or {}
            if data.get("parent_id") == post.in_reply_to and same_words(
                str(data.get("body") or ""), post.text
            ):
                return child
        return None

    def reply(self, post: OutgoingPost) -> Published:
        """Comment under `post.in_reply_to` (a post or a comment's fullname); a reply already
        there is found, not written twice."""
        if not post.in_reply_to or not post.in_reply_to.startswith(("t1_", "t3_")):
            raise PermanentError(
                "A Reddit reply needs the fullname of the post or comment it answers.", NETWORK
            )

        def write() -> Published:
            answer = self._api(
                "POST",
                "/api/comment",
                retry=False,
                data={"api_type": "json", "thing_id": post.in_reply_to, "text": post.text},
            )
            return self._published(_comment_answer(answer), replayed=False)

        def find() -> Published | None:
            existing = self.find_published(post)
            return self._published(existing, replayed=True) if existing is not None else None

        # Reddit may have written the comment before failing: look before writing again.
        return write_once(write, find, self.retry_attempts, self.sleep)

    def _published(self, thing: dict[str, Any], replayed: bool) -> Published:
        data = as_object(thing.get("data"), NETWORK, "comment")
        fullname = str(required(data, "name", NETWORK, "comment"))
        permalink = data.get("permalink")
        return Published(
            external_id=fullname,
            url=f"{SITE_URL}{permalink}" if permalink else None,
            replayed=replayed,
        )

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


def _comment_answer(answer: Any) -> dict[str, Any]:
    """The comment Reddit made, or the error its `json.errors` list names."""
    body = as_object(
        as_object(answer, NETWORK, "comment answer").get("json"), NETWORK, "comment answer json"
    )
    errors = body.get("errors") or []
    if errors:
        first = errors[0] if isinstance(errors[0], list) else [str(errors[0])]
        code = str(first[0]) if first else "ERROR"
        message = str(first[1]) if len(first) > 1 else code
        if code == "RATELIMIT":
            wait = body.get("ratelimit")
            delay = float(wait) if isinstance(wait, int | float) else _delay_in(message)
            raise RateLimited(
                f"Reddit limits how often the account may comment ({message}).",
                NETWORK,
                delay=delay,
            )
        raise PermanentError(f"Reddit refused the reply ({code}: {message}).", NETWORK)
    things = as_object(body.get("data"), NETWORK, "comment answer data").get("things")
    if not isinstance(things, list) or not things:
        raise payload_error(NETWORK, "comment answer", "it has no 'things'")
    return as_object(things[0], NETWORK, "comment")


def _delay_in(message: str) -> float:
    """Seconds from "try again in 9 minutes" (a minute when the message says nothing)."""
    match = _MINUTES.search(message)
    if not match:
        return 60.0
    amount = float(match.group(1))
    return amount * 60 if match.group(2) == "minute" else amount
