"""Instagram professional accounts (Instagram API with Facebook Login): comments on the
account's media and its @mentions in, by webhooks and by the Graph API; threads; replies and
publications out.

Client code for the Graph API with httpx (shared with Facebook in `clameur.connectors.meta`):

- the account's media, `GET /{ig-user-id}/media`
  (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media);
- their comments, `GET /{ig-media-id}/comments` with the `replies` edge expanded
  (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments);
- replies, `POST /{ig-comment-id}/replies`, and comments on a media, `POST /{ig-media-id}/comments`
  (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies);
- media the account is tagged in, `GET /{ig-user-id}/tags`, polled like the account's media
  (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/tags);
- @mentions in a caption or a comment on someone else's media
  (https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/mentions):
  the `mentions` webhook field sends only `{media_id, comment_id}` (no `comment_id` for a
  caption), and the account reads them through its own node,
  `GET /{ig-user-id}?fields=mentioned_comment.comment_id({id}){...}`
  (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/mentioned_comment)
  and `mentioned_media.media_id({id}){...}`, whose `comments` field lists the media's comments
  (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/mentioned_media);
  it answers them with `POST /{ig-user-id}/mentions` (`media_id`, `comment_id` for a comment,
  `message`): other people's media cannot be commented on directly, and a tagged photo not at
  all (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/mentions);
- publishing, a container `POST /{ig-user-id}/media` (`image_url`, `caption`) checked with
  `GET /{container-id}?fields=status_code`, then `POST /{ig-user-id}/media_publish`
  (https://developers.facebook.com/docs/instagram-platform/content-publishing,
  https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-container);
  the image's description (alt text) goes on the container as `alt_text`, which the Content
  Publishing guide announces "On March 24, 2025, we introduced the new `alt_text` field for
  image posts on the `/<INSTAGRAM_PROFESSIONAL_ACCOUNT_ID>/media` endpoint. Reels and stories
  are not supported" (Clameur publishes image posts only); Meta documents no length for it;
- webhooks, the Instagram object's `comments` and `mentions` fields and messages
  (https://developers.facebook.com/docs/graph-api/webhooks/getting-started/webhooks-for-instagram/,
  https://developers.facebook.com/docs/instagram-platform/webhooks/examples/).

Listening: the "comments" source sweeps the media of the last `comment_window_days` days and
reads the comments of those whose `comments_count` changed since the last sweep (kept in the
checkpoint); the "tags" source sweeps the media the account is tagged in. The account's own
comments are left out. Mentions cannot be listed, only received: the webhook brings them.

A mention is stored under an id of its own, `mention:{media-id}` for a caption and
`mention:{media-id}:{comment-id}` for a comment (`mention_id`), in the conversation
`mention:{media-id}`: the inbox answers the latest post of a conversation by its id, and that id
is all `reply` needs to answer through the mentions endpoint rather than under the account's own
media.

Instagram has no idempotency key either: before replying or publishing, the connector looks
for the same text already written by the account; a reply to a mention looks again after a
failure that leaves it unknown whether Meta wrote it (the account's comments under a mentioned
caption are read from `mentioned_media{comments}`, its replies to a mentioned comment from
`mentioned_comment{replies}`, the IG Comment field, which Meta's page for this node does not
list: if Meta refuses it, the reply is written without that check).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field, ValidationError, field_validator

from clameur.connectors.base import (
    AccountIdentity,
    Capability,
    Checkpoint,
    ConnectorConfig,
    FetchResult,
    ListenSource,
    OutgoingPost,
    PermanentError,
    Published,
    PushedPost,
    RetryableError,
    comment_window,
    payload_error,
    required,
    same_words,
    validation_problem,
    written_since,
)
from clameur.connectors.http import write_once
from clameur.connectors.meta import (
    MetaConfig,
    MetaConnector,
    edge_page,
    graph_time,
    pushed,
)
from clameur.connectors.sweep import Sweep
from clameur.kit.time import utcnow
from clameur.pipeline.schemas import AuthorIn, PostIn

log = logging.getLogger(__name__)

NETWORK = "instagram"
TITLE = "Instagram"
PAGE_LIMIT = 25
COMMENT_PAGE = 50
COMMENT_PAGES = 10
COUNTS_LIMIT = 500
MEDIA_FIELDS = "id,caption,timestamp,permalink,username,comments_count,like_count,media_type"
COMMENT_FIELDS = "id,text,timestamp,username,from{id,username},like_count,parent_id"
THREAD_FIELDS = f"{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}"
# A container is checked this many times (two seconds apart) before publishing.
CONTAINER_CHECKS = 5
MENTIONED_COMMENT_FIELDS = "id,text,timestamp,username,like_count,media{id,permalink}"
# The account's own comments searched for a reply already sent to a mention.
MENTION_REPLIES = 50
MENTION = "mention"
MENTION_MEDIA = "mentioned_media"
MENTION_COMMENT = "mentioned_comment"


def mention_id(media_id: str, comment_id: str | None = None) -> str:
    """The id Clameur gives a mention: the media, and the comment when it is one."""
    return f"{MENTION}:{media_id}:{comment_id}" if comment_id else f"{MENTION}:{media_id}"


def parse_mention(post_id: str) -> tuple[str, str | None] | None:
    """The media and comment ids of a mention's id (`mention_id`); None for any other id."""
    kind, _, rest = post_id.partition(":")
    media_id, _, comment_id = rest.partition(":")
    if kind != MENTION or not media_id.isdigit() or not (comment_id.isdigit() or not comment_id):
        return None
    return media_id, comment_id or None


class InstagramConfig(MetaConfig):
    """An Instagram professional account and what Clameur listens to on it."""

    requirements: ClassVar[str] = (
        "An Instagram professional (Business or Creator) account linked to a Facebook Page, and "
        "a Meta app of type Business with the products Instagram and Webhooks. Meta's app "
        "review must grant it instagram_basic, instagram_manage_comments (read and answer "
        "comments, mentions), instagram_content_publish (publish), instagram_manage_messages "
        "(private messages) and pages_read_engagement; until then it works only for people with "
        "a role on the app. Then a long-lived access token of a person who manages the linked "
        "Page, the app secret, and a verify token you choose. In the app's Webhooks settings, "
        "subscribe the Instagram object to 'comments', 'mentions' and 'messages' with "
        "Clameur's webhook address and that verify token."
    )

    ig_user_id: str = Field(
        title="Instagram account ID",
        description="The numeric ID of the Instagram professional account (Graph API: "
        "GET /{page-id}?fields=instagram_business_account).",
    )
    listen_comments: bool = Field(
        default=True,
        title="Comments",
        description="Bring the comments on the account's posts to the inbox.",
    )
    listen_tags: bool = Field(
        default=True,
        title="Tagged posts",
        description="Bring the posts the account is tagged in to the inbox.",
    )
    comment_window_days: int = comment_window(" (webhooks still bring them)")
    # The account's username, read when the account is checked (its own comments are left out).
    username: str | None = Field(default=None, json_schema_extra={"form": False})

    @field_validator("ig_user_id")
    @classmethod
    def _ig_user_id(cls, value: str) -> str:
        value = value.strip()
        if not value.isdigit():
            raise ValueError("an Instagram account ID is a number")
        return value


class InstagramConnector(MetaConnector[InstagramConfig]):
    """An Instagram professional account through the Graph API."""

    network: ClassVar[str] = NETWORK
    title: ClassVar[str] = TITLE
    config_model: ClassVar[type[ConnectorConfig]] = InstagramConfig
    capabilities: ClassVar[frozenset[Capability]] = MetaConnector.capabilities | {Capability.images}
    # A single-image post (a carousel would take up to 10).
    max_images: ClassVar[int | None] = 1
    limitations: ClassVar[str] = (
        "Only your own professional account: comments on its posts, posts it is tagged in "
        "(Instagram does not let the account answer those), and @mentions in other people's "
        "captions and comments, answered under the mention (mentions arrive by webhook only, "
        "and not from private accounts or Stories). Hashtag searches and other people's posts "
        "are not listened to. Publishing needs an image at a public address; Instagram allows "
        "50 published posts a day."
    )
    webhook_object: ClassVar[str] = "instagram"
    message_thread: ClassVar[str] = "direct"

    @property
    def account_id(self) -> str:
        """The Instagram account's id."""
        return self.config.ig_user_id

    # --- normalising ----------------------------------------------------------------------

    def _own(self, author: Any, username: Any = None) -> bool:
        if isinstance(author, Mapping) and str(author.get("id")) == self.config.ig_user_id:
            return True
        name = username or (author.get("username") if isinstance(author, Mapping) else None)
        return bool(self.config.username) and name == self.config.username

    def media_to_post(self, media: Mapping[str, Any]) -> PostIn:
        """An Instagram media (a post or reel) as a Clameur post."""
        media_id = str(required(media, "id", TITLE, "media"))
        caption = str(media.get("caption") or "").strip()
        username = media.get("username")
        try:
            return PostIn(
                id=media_id,
                network=NETWORK,
                text=caption
                or f"({str(media.get('media_type') or 'media').lower()} without caption)",
                created_at=graph_time(
                    required(media, "timestamp", TITLE, f"media {media_id}"),
                    TITLE,
                    f"media {media_id}",
                ),
                author=AuthorIn(handle=str(username)) if username else None,
                url=media.get("permalink"),
                conversation_id=media_id,
                metrics={
                    "likes": int(media.get("like_count") or 0),
                    "comments": int(media.get("comments_count") or 0),
                },
            )
        except (ValidationError, ValueError, TypeError) as error:
            raise payload_error(TITLE, f"media {media_id}", validation_problem(error)) from None

    def comment_to_post(
        self, comment: Mapping[str, Any], media_id: str, created: Any = None
    ) -> PostIn:
        """A comment (or a reply) on the media `media_id` as a Clameur post."""
        comment_id = str(required(comment, "id", TITLE, "comment"))
        author = comment.get("from") if isinstance(comment.get("from"), Mapping) else {}
        username = comment.get("username") or (author or {}).get("username")
        moment = (
            created
            if created is not None
            else required(comment, "timestamp", TITLE, f"comment {comment_id}")
        )
        try:
            return PostIn(
                id=comment_id,
                network=NETWORK,
                text=str(comment.get("text") or "").strip() or "(comment without text)",
                created_at=graph_time(moment, TITLE, f"comment {comment_id}"),
                author=AuthorIn(handle=str(username)) if username else None,
                in_reply_to=str(comment.get("parent_id") or media_id),
                conversation_id=media_id,
                metrics={"likes": int(comment.get("like_count") or 0)},
            )
        except (ValidationError, ValueError, TypeError) as error:
            raise payload_error(TITLE, f"comment {comment_id}", validation_problem(error)) from None

    # --- capabilities ------------------------------------------------------------------------

    def check(self) -> AccountIdentity:
        """The account the token reaches (`GET /{ig-user-id}`); remembers its username."""
        account = self.graph.get(self.config.ig_user_id, {"fields": "id,username,name"})
        username = str(required(account, "username", TITLE, "account"))
        if username != self.config.username:
            self.config = self.config.model_copy(update={"username": username})
            self._config_changed = True
        return AccountIdentity(
            handle=username,
            display_name=str(account.get("name") or username),
            external_id=str(required(account, "id", TITLE, "account")),
            url=f"https://www.instagram.com/{username}/",
        )

    def sources(self) -> list[ListenSource]:
        """Comments on the account's media and the media it is tagged in, as configured."""
        found = []
        if self.config.listen_comments:
            found.append(ListenSource("comments"))
        if self.config.listen_tags:
            found.append(ListenSource("tags"))
        return found

    def listen(
        self, source: ListenSource, checkpoint: Checkpoint | None, limit: int = PAGE_LIMIT
    ) -> FetchResult:
        """The comments on the account's media, or the media it is tagged in, after the
        checkpoint."""
        page_size = max(1, min(limit, PAGE_LIMIT))
        sweep = Sweep.load(checkpoint)
        if source.kind == "comments":
            return self._listen_comments(sweep, page_size)
        if source.kind == "tags":
            return self._listen_tags(sweep, page_size)
        raise PermanentError(f"Instagram cannot listen to {source.key!r}.", NETWORK)

    def _listen_tags(self, sweep: Sweep, page_size: int) -> FetchResult:
        return self._sweep_edge(
            sweep,
            f"{self.config.ig_user_id}/tags",
            {"fields": MEDIA_FIELDS, "limit": page_size},
            "tagged media",
            self.media_to_post,
        )

    def _listen_comments(self, sweep: Sweep, page_size: int) -> FetchResult:
        window_start = utcnow() - timedelta(days=self.config.comment_window_days)
        counts: dict[str, int] = {
            str(k): int(v) for k, v in (sweep.extra.get("counts") or {}).items()
        }
        params: dict[str, Any] = {"fields": MEDIA_FIELDS, "limit": page_size}
        if sweep.cursor:
            params["after"] = sweep.cursor
        answer = self.graph.get(f"{self.config.ig_user_id}/media", params)
        data, after = edge_page(answer, TITLE, "media list")
        items: list[tuple[str, datetime, PostIn]] = []
        reached_old = False
        for media in data:
            if not isinstance(media, Mapping):
                raise payload_error(TITLE, "media list", "an item is not an object")
            media_id = str(required(media, "id", TITLE, "media"))
            posted = graph_time(required(media, "timestamp", TITLE, media_id), TITLE, media_id)
            if posted < window_start and not sweep.first:
                reached_old = True
                continue
            count = int(media.get("comments_count") or 0)
            # A media whose comment count did not move has no new comment.
            if count == 0 or counts.get(media_id) == count:
                continue
            items.extend(self._new_comments(media_id, sweep))
            counts.pop(media_id, None)
            counts[media_id] = count
        posts = sweep.take(items)
        # The media list is newest first: once past the window the sweep is over.
        more = sweep.page_done(after, reached_old)
        sweep.extra["counts"] = dict(list(counts.items())[-COUNTS_LIMIT:])
        return FetchResult(posts=posts, checkpoint=sweep.dump(), more=more)

    def _new_comments(self, media_id: str, sweep: Sweep) -> list[tuple[str, datetime, PostIn]]:
        found = []
        pages = 1 if sweep.first else COMMENT_PAGES
        params = {"fields": THREAD_FIELDS, "limit": COMMENT_PAGE}
        for data, _after in self.graph.pages(f"{media_id}/comments", params, pages):
            for comment in data:
                if not isinstance(comment, Mapping):
                    raise payload_error(
                        TITLE, f"comments of {media_id}", "an item is not an object"
                    )
                for item in _with_replies(comment):
                    if self._own(item.get("from"), item.get("username")):
                        continue
                    post = self.comment_to_post(item, media_id)
                    if not sweep.is_old(post.created_at):
                        found.append((post.id, post.created_at, post))
        return found

    def conversation(self, post_id: str) -> list[PostIn]:
        """The media a comment belongs to (or the media itself), then its comments and their
        replies in order; for a mention, what the account may read of it."""
        mention = parse_mention(post_id)
        if mention is not None:
            return self._mention_thread(*mention)
        media_id = post_id
        try:
            comment = self.graph.get(post_id, {"fields": "id,media{id}"})
        except PermanentError:
            comment = None  # Not a comment: a media id.
        if comment is not None and isinstance(comment.get("media"), Mapping):
            media_id = str(comment["media"]["id"])
        media = self.graph.get(media_id, {"fields": MEDIA_FIELDS})
        thread = [self.media_to_post(media)]
        comments: list[PostIn] = []
        params = {"fields": THREAD_FIELDS, "limit": COMMENT_PAGE}
        for data, _after in self.graph.pages(f"{media_id}/comments", params, COMMENT_PAGES):
            for item in data:
                if isinstance(item, Mapping):
                    comments.extend(self.comment_to_post(c, media_id) for c in _with_replies(item))
        comments.sort(key=lambda post: post.created_at)
        return thread + comments

    def reply(self, post: OutgoingPost) -> Published:
        """Answer a comment (under its top-level comment: Instagram threads are one level
        deep), or comment on a media; once per text and place; a direct message is answered
        in private, a mention through the mentions endpoint."""
        if post.private_to:
            return self.reply_privately(post)
        if not post.in_reply_to:
            raise PermanentError("A reply needs the comment or media it answers.", NETWORK)
        mention = parse_mention(post.in_reply_to)
        if mention is not None:
            return self._reply_to_mention(post, *mention)
        try:
            comment = self.graph.get(post.in_reply_to, {"fields": "id,parent_id"})
        except PermanentError:
            comment = None
        if comment is not None:
            target, edge, listing = (
                str(comment.get("parent_id") or post.in_reply_to),
                "replies",
                "replies",
            )
        else:
            target, edge, listing = post.in_reply_to, "comments", "comments"
        existing = self.graph.get(
            f"{target}/{listing}", {"fields": "id,text,username,from{id,username}", "limit": 50}
        )
        data, _ = edge_page(existing, TITLE, f"{listing} of {target}")
        for item in data:
            if (
                isinstance(item, Mapping)
                and self._own(item.get("from"), item.get("username"))
                and str(item.get("text") or "").strip() == post.text.strip()
            ):
                return Published(external_id=str(item["id"]), replayed=True)
        written = self.graph.post(f"{target}/{edge}", {"message": post.text})
        return Published(external_id=str(required(written, "id", TITLE, "written comment")))

    def publish(self, post: OutgoingPost) -> Published:
        """Publish an image with `post.text` as its caption: a container, then
        `media_publish`; a post with the same caption published since is returned instead."""
        if not post.media_urls:
            raise PermanentError(
                "Instagram cannot publish text alone: attach an image at a public address.",
                NETWORK,
            )
        since = written_since(post)
        recent = self.graph.get(
            f"{self.config.ig_user_id}/media",
            {"fields": "id,caption,timestamp,permalink", "limit": 10},
        )
        data, _ = edge_page(recent, TITLE, "media list")
        for media in data:
            if (
                isinstance(media, Mapping)
                and str(media.get("caption") or "").strip() == post.text.strip()
                and media.get("timestamp")
                and graph_time(media["timestamp"], TITLE, "media") >= since
            ):
                return Published(
                    external_id=str(media["id"]), url=media.get("permalink"), replayed=True
                )
        fields = {"image_url": post.media_urls[0], "caption": post.text}
        if post.alt(0):
            fields["alt_text"] = post.alt(0)
        container = self.graph.post(f"{self.config.ig_user_id}/media", fields)
        container_id = str(required(container, "id", TITLE, "media container"))
        self._wait_for(container_id)
        published = self.graph.post(
            f"{self.config.ig_user_id}/media_publish", {"creation_id": container_id}
        )
        media_id = str(required(published, "id", TITLE, "published media"))
        details = self.graph.get(media_id, {"fields": "id,permalink"})
        return Published(external_id=media_id, url=details.get("permalink"))

    def _wait_for(self, container_id: str) -> None:
        for attempt in range(CONTAINER_CHECKS):
            status = self.graph.get(container_id, {"fields": "status_code,status"})
            code = status.get("status_code")
            if code in ("FINISHED", "PUBLISHED"):
                return
            if code in ("ERROR", "EXPIRED"):
                raise PermanentError(
                    f"Instagram could not prepare the image ({code}: "
                    f"{status.get('status') or 'no detail'}); check that its address is "
                    "public and that it is a JPEG within Instagram's limits.",
                    NETWORK,
                )
            if attempt < CONTAINER_CHECKS - 1:
                self.sleep(2.0)
        raise RetryableError(
            "Instagram is still preparing the image; publishing will be tried again.",
            NETWORK,
            delay=60.0,
        )

    # --- webhooks ----------------------------------------------------------------------------

    def _change(
        self, field: str, value: dict[str, Any], entry: Mapping[str, Any]
    ) -> PushedPost | None:
        """A comment or a mention the account's webhook brings. A mention carries only ids:
        its comment or media is read from the Graph API (a `RetryableError` then leaves the
        stored delivery to be processed again)."""
        if field in ("comments", "live_comments"):
            return self._comment_change(value, entry.get("time"))
        if field == "mentions":
            return self._mention(value)
        return None

    def _comment_change(self, value: dict[str, Any], sent_at: Any) -> PushedPost | None:
        if self._own(value.get("from")):
            return None
        media = value.get("media") if isinstance(value.get("media"), Mapping) else {}
        media_id = str(required(media or {}, "id", TITLE, "comment change"))
        # The change has no time of its own: the entry's (seconds, or milliseconds).
        moment = sent_at if isinstance(sent_at, int | float) else utcnow().timestamp()
        base = self.comment_to_post(
            value, media_id, created=moment / 1000 if moment > 1e11 else moment
        )
        return pushed(base, "comment", value)

    def _mention(self, value: dict[str, Any]) -> PushedPost | None:
        media_id = str(required(value, "media_id", TITLE, "mention"))
        comment_id = value.get("comment_id")
        if comment_id:
            base = self._mentioned_comment(media_id, str(comment_id))
        else:
            base = self._mentioned_media(media_id)
        if base.author is not None and self._own(None, base.author.handle):
            return None
        return pushed(base, "mention", value)

    # --- mentions --------------------------------------------------------------------------

    def _mentioned(self, edge: str, key: str, object_id: str, fields: str) -> dict[str, Any]:
        """A mention read through the account's node (`mentioned_media` by `media_id`,
        `mentioned_comment` by `comment_id`)."""
        found = self.graph.get(
            self.config.ig_user_id, {"fields": f"{edge}.{key}({object_id}){{{fields}}}"}
        )
        value = required(found, edge, TITLE, f"{edge} {object_id}")
        if not isinstance(value, Mapping):
            raise payload_error(TITLE, f"{edge} {object_id}", "it is not an object")
        return dict(value)

    def _mentioned_media(self, media_id: str) -> PostIn:
        """A media whose caption mentions the account, as a post under its mention id."""
        media = self._mentioned(MENTION_MEDIA, "media_id", media_id, MEDIA_FIELDS)
        return self.media_to_post(media).model_copy(
            update={"id": mention_id(media_id), "conversation_id": mention_id(media_id)}
        )

    def _mentioned_comment(self, media_id: str, comment_id: str) -> PostIn:
        """A comment that mentions the account, as a post under its mention id, answering the
        media's caption (its own mention, when the caption names the account too)."""
        comment = self._mentioned(
            MENTION_COMMENT, "comment_id", comment_id, MENTIONED_COMMENT_FIELDS
        )
        media = comment.get("media") if isinstance(comment.get("media"), Mapping) else {}
        post = self.comment_to_post({**comment, "parent_id": None}, media_id)
        return post.model_copy(
            update={
                "id": mention_id(media_id, comment_id),
                "in_reply_to": mention_id(media_id),
                "conversation_id": mention_id(media_id),
                "url": post.url or (media or {}).get("permalink"),
            }
        )

    def _mention_thread(self, media_id: str, comment_id: str | None) -> list[PostIn]:
        """The mentioned caption, when it mentions the account, then the mentioned comment."""
        thread: list[PostIn] = []
        try:
            thread.append(self._mentioned_media(media_id))
        except PermanentError:
            if comment_id is None:
                raise
            # Only the comment mentions the account: its media cannot be read.
        if comment_id is not None:
            thread.append(self._mentioned_comment(media_id, comment_id))
        return thread

    def _reply_to_mention(
        self, post: OutgoingPost, media_id: str, comment_id: str | None
    ) -> Published:
        """`POST /{ig-user-id}/mentions`: a comment under the mentioned caption, or a reply to
        the mentioned comment; the account's copy already there is returned instead, before
        writing and after a failure that leaves it unknown whether Meta wrote it."""
        data = {"media_id": media_id, "message": post.text}
        if comment_id is not None:
            data["comment_id"] = comment_id

        def write() -> Published:
            written = self.graph.post(f"{self.config.ig_user_id}/mentions", data)
            return Published(external_id=str(required(written, "id", TITLE, "reply to a mention")))

        def find() -> Published | None:
            for item in self._mention_answers(media_id, comment_id):
                if (
                    isinstance(item, Mapping)
                    and item.get("id")
                    and self._own(item.get("from"), item.get("username"))
                    # Meta drops the @ of mentions in text read through another's media.
                    and same_words(
                        str(item.get("text") or "").replace("@", ""), post.text.replace("@", "")
                    )
                ):
                    return Published(external_id=str(item["id"]), replayed=True)
            return None

        return write_once(write, find, self.graph.attempts, self.sleep)

    def _mention_answers(self, media_id: str, comment_id: str | None) -> list[Any]:
        """The comments under a mentioned caption, or the replies to a mentioned comment."""
        answers = "id,text,username,from{id,username}"
        if comment_id is None:
            media = self._mentioned(
                MENTION_MEDIA,
                "media_id",
                media_id,
                f"id,comments.limit({MENTION_REPLIES}){{{answers}}}",
            )
            edge, what = media.get("comments"), f"comments of {media_id}"
        else:
            try:
                comment = self._mentioned(
                    MENTION_COMMENT,
                    "comment_id",
                    comment_id,
                    f"id,replies.limit({MENTION_REPLIES}){{{answers}}}",
                )
            except PermanentError as error:
                log.warning("replies to mention %s not readable: %s", comment_id, error)
                return []
            edge, what = comment.get("replies"), f"replies to {comment_id}"
        if edge is None:
            return []
        if not isinstance(edge, Mapping):
            raise payload_error(TITLE, what, "it is not an edge")
        data, _ = edge_page(edge, TITLE, what)
        return data


def _with_replies(comment: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A top-level comment followed by the replies expanded under it."""
    out = [comment]
    replies = comment.get("replies")
    if isinstance(replies, Mapping) and isinstance(replies.get("data"), list):
        out.extend(
            {**reply, "parent_id": reply.get("parent_id") or comment.get("id")}
            for reply in replies["data"]
            if isinstance(reply, Mapping)
        )
    return out
