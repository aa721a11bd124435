"""Facebook Pages: the Page's feed and the comments on its posts in, by webhooks and by the
Graph API; comment threads; replies and Page posts out.

Client code for the Graph API with httpx (shared with Instagram in `clameur.connectors.meta`):

- the Page's feed, `GET /{page-id}/feed` with `since` and cursor paging
  (https://developers.facebook.com/docs/graph-api/reference/page/feed/,
  https://developers.facebook.com/docs/graph-api/results); publishing,
  `POST /{page-id}/feed` with `message` (https://developers.facebook.com/docs/pages-api/posts);
- photos (https://developers.facebook.com/docs/graph-api/reference/page/photos/,
  https://developers.facebook.com/docs/graph-api/photo-uploads): one image is a photo post,
  `POST /{page-id}/photos` with `url` (Meta fetches the public address) and `message`, which
  answers the photo's `id` and the Page post's `post_id`; several are each uploaded unpublished
  (`published=false`), then published together by `POST /{page-id}/feed` with `message` and
  `attached_media[i]={"media_fbid": <photo id>}`. Meta takes photos under 4 MB in JPG, PNG, GIF,
  TIFF, HEIF or WebP (its refusal says so: "Photos should be less than 4 MB and saved as JPG,
  PNG, GIF, TIFF, HEIF or WebP files"); each address is checked against that first
  (`clameur.connectors.media`), so a wrong one is refused, naming it, before anything is written.
  Each photo carries its description (alt text) as `alt_text_custom`, "accessible alternative
  description for an image", a parameter of the photos edges
  (https://developers.facebook.com/docs/graph-api/reference/photo/, "Creating"); Meta documents
  no length for it, and fills in a description of its own (`alt_text`) where none is given;
- comments, `GET /{object-id}/comments` with `filter=stream` (replies included, each with its
  `parent`) and `order=reverse_chronological`; replying, `POST /{object-id}/comments`
  (https://developers.facebook.com/docs/graph-api/reference/object/comments);
- the Page, `GET /{page-id}` (https://developers.facebook.com/docs/graph-api/reference/page/);
- webhooks, the Page object's `feed` field (posts and comments) and Messenger's `messages`
  (https://developers.facebook.com/docs/pages-api/webhooks-for-pages,
  https://developers.facebook.com/docs/graph-api/webhooks/reference/page/,
  https://developers.facebook.com/docs/messenger-platform/webhooks).

Listening: the "feed" source sweeps the feed back to its checkpoint (posts by the Page and by
visitors); the "comments" source sweeps the posts of the last `comment_window_days` days and
reads the comments of those whose `updated_time` (which a new comment moves) is newer than the
checkpoint. Comments written by the Page itself are left out (the outbox knows its replies).
Webhooks bring the same posts and comments at once, with the same ids, so both ways together
never store one twice.

Writes: the Graph API has no idempotency key, and a write that timed out may have happened.
Before replying or publishing, the connector looks for the same text already written by the
Page under the same comment (or in its recent posts) and returns it instead of writing twice.
A photo post is in the feed with its text like any other, so the same look-up covers it; photos
uploaded unpublished for a post that then failed stay unpublished (invisible) and are uploaded
again on the next try.
"""

from __future__ import annotations

import json
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
    comment_window,
    payload_error,
    required,
    validation_problem,
    written_since,
)
from clameur.connectors.media import download_images
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

NETWORK = "facebook"
TITLE = "Facebook"
PAGE_LIMIT = 25
COMMENT_PAGE = 50
# The comments of one post are read back at most this many pages a sweep.
COMMENT_PAGES = 10
# Posts kept by a conversation at most (pages of COMMENT_PAGE).
THREAD_PAGES = 20
# Feed items that are posts (other feed changes are reactions, likes, shares, edits).
POST_ITEMS = frozenset({"status", "post", "photo", "video", "share", "link"})
POST_FIELDS = "id,message,story,created_time,updated_time,from{id,name},permalink_url"
# Meta's photo limits (its refusal names them).
MAX_IMAGE_BYTES = 4_000_000
PHOTO_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/tiff", "image/heif", "image/heic", "image/webp"}
)
COMMENT_FIELDS = (
    "id,message,created_time,from{id,name},parent{id},permalink_url,like_count,comment_count,"
    "attachment{type}"
)


class FacebookConfig(MetaConfig):
    """A Facebook Page and what Clameur listens to on it."""

    requirements: ClassVar[str] = (
        "A Meta app of type Business (developers.facebook.com > My apps), with the products "
        "Webhooks and Messenger. Meta's app review must grant it pages_read_engagement (read "
        "the Page's posts and comments), pages_read_user_content (see who wrote them), "
        "pages_manage_engagement (reply), pages_manage_posts (publish), pages_manage_metadata "
        "(webhooks) and pages_messaging (private messages); until then it works only for people "
        "with a role on the app. Then a long-lived Page access token of a person who can "
        "moderate the Page, the app secret, and a verify token you choose. In the app's "
        "Webhooks settings, subscribe the Page object to 'feed' and 'messages' with "
        "Clameur's webhook address and that verify token."
    )

    page_id: str = Field(
        title="Page ID",
        description="The Page's numeric ID (Page > About > Page transparency, or Meta Business "
        "Suite).",
    )
    listen_feed: bool = Field(
        default=True,
        title="Posts on the Page",
        description="Bring the Page's posts and visitors' posts to the inbox.",
    )
    listen_comments: bool = Field(
        default=True,
        title="Comments",
        description="Bring the comments on the Page's posts to the inbox.",
    )
    comment_window_days: int = comment_window(" (webhooks still bring them)")

    @field_validator("page_id")
    @classmethod
    def _page_id(cls, value: str) -> str:
        value = value.strip()
        if not value.isdigit():
            raise ValueError("a Page ID is a number")
        return value


class FacebookConnector(MetaConnector[FacebookConfig]):
    """A Facebook Page through the Graph API, with a Page access token."""

    network: ClassVar[str] = NETWORK
    title: ClassVar[str] = TITLE
    config_model: ClassVar[type[ConnectorConfig]] = FacebookConfig
    capabilities: ClassVar[frozenset[Capability]] = MetaConnector.capabilities | {Capability.images}
    limitations: ClassVar[str] = (
        "Only your own Page: its posts, visitors' posts, the comments on them, and the private "
        "messages people send it. Posts elsewhere on Facebook that name your brand are not "
        "visible to apps. Commenters' names need the pages_read_user_content permission. "
        "Private messages arrive by webhook only and are answered within Messenger's 24-hour "
        "window, from Meta Business Suite."
    )
    webhook_object: ClassVar[str] = "page"
    message_thread: ClassVar[str] = "messenger"

    @property
    def account_id(self) -> str:
        """The Page's id."""
        return self.config.page_id

    # --- normalising ----------------------------------------------------------------------

    def _is_page(self, author: Any) -> bool:
        return isinstance(author, Mapping) and str(author.get("id")) == self.config.page_id

    def _post_id(self, object_id: str) -> bool:
        """Whether an id is a post on the Page ("{page-id}_{post-id}") rather than a comment."""
        return object_id.startswith(f"{self.config.page_id}_")

    def _author(self, author: Any) -> AuthorIn | None:
        if not isinstance(author, Mapping) or not author.get("id"):
            return None
        return AuthorIn(handle=str(author["id"]), name=str(author.get("name") or ""))

    def post_to_post(self, post: Mapping[str, Any]) -> PostIn:
        """A Page feed post as a Clameur post."""
        post_id = str(required(post, "id", TITLE, "post"))
        text = str(post.get("message") or post.get("story") or "").strip()
        try:
            return PostIn(
                id=post_id,
                network=NETWORK,
                text=text or "(a post without text)",
                created_at=graph_time(
                    required(post, "created_time", TITLE, f"post {post_id}"),
                    TITLE,
                    f"post {post_id}",
                ),
                author=self._author(post.get("from")),
                url=post.get("permalink_url"),
                conversation_id=post_id,
            )
        except (ValidationError, ValueError) as error:
            raise payload_error(TITLE, f"post {post_id}", validation_problem(error)) from None

    def comment_to_post(self, comment: Mapping[str, Any], post_id: str) -> PostIn:
        """A comment (or a reply to one) on the Page post `post_id` as a Clameur post."""
        comment_id = str(required(comment, "id", TITLE, "comment"))
        parent = comment.get("parent")
        parent_id = str(parent["id"]) if isinstance(parent, Mapping) and parent.get("id") else None
        text = str(comment.get("message") or "").strip()
        if not text:
            attachment = comment.get("attachment")
            kind = attachment.get("type") if isinstance(attachment, Mapping) else None
            text = f"({kind or 'attachment'} without text)"
        try:
            return PostIn(
                id=comment_id,
                network=NETWORK,
                text=text,
                created_at=graph_time(
                    required(comment, "created_time", TITLE, f"comment {comment_id}"),
                    TITLE,
                    f"comment {comment_id}",
                ),
                author=self._author(comment.get("from")),
                url=comment.get("permalink_url"),
                in_reply_to=parent_id or post_id,
                conversation_id=post_id,
                metrics={
                    "likes": int(comment.get("like_count") or 0),
                    "replies": int(comment.get("comment_count") or 0),
                },
            )
        except (ValidationError, ValueError, TypeError) as error:
            raise payload_error(TITLE, f"comment {comment_id}", validation_problem(error)) from None

    # --- capabilities ------------------------------------------------------------------------

    def check(self) -> AccountIdentity:
        """The Page the token belongs to (`GET /{page-id}`)."""
        page = self.graph.get(self.config.page_id, {"fields": "id,name,username,link"})
        name = str(required(page, "name", TITLE, "Page"))
        return AccountIdentity(
            handle=str(page.get("username") or name),
            display_name=name,
            external_id=str(required(page, "id", TITLE, "Page")),
            url=page.get("link") or f"https://www.facebook.com/{self.config.page_id}",
        )

    def sources(self) -> list[ListenSource]:
        """The Page's feed and the comments on its posts, as configured."""
        found = []
        if self.config.listen_feed:
            found.append(ListenSource("feed"))
        if self.config.listen_comments:
            found.append(ListenSource("comments"))
        return found

    def listen(
        self, source: ListenSource, checkpoint: Checkpoint | None, limit: int = PAGE_LIMIT
    ) -> FetchResult:
        """The posts of the feed, or the comments on the Page's posts, after the checkpoint."""
        page_size = max(1, min(limit, PAGE_LIMIT))
        sweep = Sweep.load(checkpoint)
        if source.kind == "feed":
            return self._listen_feed(sweep, page_size)
        if source.kind == "comments":
            return self._listen_comments(sweep, page_size)
        raise PermanentError(f"Facebook cannot listen to {source.key!r}.", NETWORK)

    def _listen_feed(self, sweep: Sweep, page_size: int) -> FetchResult:
        params: dict[str, Any] = {"fields": POST_FIELDS, "limit": page_size}
        bound = sweep.lower_bound()
        if bound is not None:
            params["since"] = int(bound.timestamp())
        return self._sweep_edge(
            sweep, f"{self.config.page_id}/feed", params, "Page feed", self.post_to_post
        )

    def _listen_comments(self, sweep: Sweep, page_size: int) -> FetchResult:
        window_start = utcnow() - timedelta(days=self.config.comment_window_days)
        params: dict[str, Any] = {
            "fields": "id,created_time,updated_time",
            "limit": page_size,
            "since": int(window_start.timestamp()),
        }
        if sweep.cursor:
            params["after"] = sweep.cursor
        answer = self.graph.get(f"{self.config.page_id}/feed", params)
        data, after = edge_page(answer, TITLE, "Page feed")
        items: list[tuple[str, datetime, PostIn]] = []
        for post in data:
            if not isinstance(post, Mapping):
                raise payload_error(TITLE, "Page feed", "an item is not an object")
            post_id = str(required(post, "id", TITLE, "post"))
            updated = post.get("updated_time") or post.get("created_time")
            # A post not updated since the last sweep has no new comment.
            if updated is not None and sweep.is_old(graph_time(updated, TITLE, f"post {post_id}")):
                continue
            items.extend(self._new_comments(post_id, sweep))
        posts = sweep.take(items)
        more = sweep.page_done(after)
        return FetchResult(posts=posts, checkpoint=sweep.dump(), more=more)

    def _new_comments(self, post_id: str, sweep: Sweep) -> list[tuple[str, datetime, PostIn]]:
        """The comments of one post back to the sweep's bound (all of the first page on a
        first sweep), the Page's own left out."""
        found = []
        params = {
            "fields": COMMENT_FIELDS,
            "filter": "stream",
            "order": "reverse_chronological",
            "limit": COMMENT_PAGE,
        }
        pages = 1 if sweep.first else COMMENT_PAGES
        for data, _after in self.graph.pages(f"{post_id}/comments", params, pages):
            reached_old = False
            for comment in data:
                if not isinstance(comment, Mapping):
                    raise payload_error(TITLE, f"comments of {post_id}", "an item is not an object")
                converted = self.comment_to_post(comment, post_id)
                if sweep.is_old(converted.created_at):
                    reached_old = True
                    continue
                if not self._is_page(comment.get("from")):
                    found.append((converted.id, converted.created_at, converted))
            if reached_old:
                break
        return found

    def conversation(self, post_id: str) -> list[PostIn]:
        """The Page post a post or comment belongs to, then all its comments in order."""
        root_id = post_id
        if not self._post_id(post_id):
            # A comment id starts with the id of its post on the Page.
            root_id = f"{self.config.page_id}_{post_id.split('_', 1)[0]}"
        root = self.graph.get(root_id, {"fields": POST_FIELDS})
        thread = [self.post_to_post(root)]
        params = {
            "fields": COMMENT_FIELDS,
            "filter": "stream",
            "order": "chronological",
            "limit": COMMENT_PAGE,
        }
        for data, _after in self.graph.pages(f"{root_id}/comments", params, THREAD_PAGES):
            thread.extend(
                self.comment_to_post(comment, root_id)
                for comment in data
                if isinstance(comment, Mapping)
            )
        return thread

    def reply(self, post: OutgoingPost) -> Published:
        """Comment under a Page post, or answer a comment in its thread; a reply the Page
        already wrote with the same text there is returned instead of writing it twice; a
        direct message is answered in Messenger."""
        if post.private_to:
            return self.reply_privately(post)
        if not post.in_reply_to:
            raise PermanentError("A reply needs the post or comment it answers.", NETWORK)
        target = post.in_reply_to
        if not self._post_id(target):
            # Facebook threads are one level deep: a reply to a reply goes under its parent.
            comment = self.graph.get(target, {"fields": "id,parent{id}"})
            parent = comment.get("parent")
            if isinstance(parent, Mapping) and parent.get("id"):
                target = str(parent["id"])
        existing = self.graph.get(
            f"{target}/comments",
            {
                "fields": "id,message,from{id},created_time",
                "filter": "stream",
                "order": "reverse_chronological",
                "limit": COMMENT_PAGE,
            },
        )
        data, _ = edge_page(existing, TITLE, f"comments of {target}")
        for comment in data:
            if (
                isinstance(comment, Mapping)
                and self._is_page(comment.get("from"))
                and str(comment.get("message") or "").strip() == post.text.strip()
            ):
                return Published(external_id=str(comment["id"]), replayed=True)
        written = self.graph.post(f"{target}/comments", {"message": post.text})
        return Published(external_id=str(required(written, "id", TITLE, "written comment")))

    def publish(self, post: OutgoingPost) -> Published:
        """Post on the Page's feed, with its images as a photo post; a Page post with the same
        text written since the publication was created is returned instead of publishing twice."""
        since = written_since(post)
        recent = self.graph.get(
            f"{self.config.page_id}/feed",
            {"fields": "id,message,from{id},created_time", "limit": 10},
        )
        data, _ = edge_page(recent, TITLE, "Page feed")
        for item in data:
            if (
                isinstance(item, Mapping)
                and self._is_page(item.get("from"))
                and str(item.get("message") or "").strip() == post.text.strip()
                and item.get("created_time")
                and graph_time(item["created_time"], TITLE, "post") >= since
            ):
                return Published(
                    external_id=str(item["id"]), url=self._post_url(str(item["id"])), replayed=True
                )
        if post.media_urls:
            post_id = self._publish_photos(post)
        else:
            written = self.graph.post(f"{self.config.page_id}/feed", {"message": post.text})
            post_id = str(required(written, "id", TITLE, "published post"))
        return Published(external_id=post_id, url=self._post_url(post_id))

    def _publish_photos(self, post: OutgoingPost) -> str:
        """The Page post of `post`'s text with its images: a photo post for one, unpublished
        photos attached to a feed post for several."""
        # Meta fetches the addresses itself; checking them first names the one that is wrong.
        download_images(post.media_urls, NETWORK, MAX_IMAGE_BYTES, accepted=PHOTO_TYPES)
        photos = f"{self.config.page_id}/photos"

        def described(index: int, data: dict[str, str]) -> dict[str, str]:
            alt = post.alt(index)
            return {**data, "alt_text_custom": alt} if alt else data

        if len(post.media_urls) == 1:
            written = self.graph.post(
                photos, described(0, {"url": post.media_urls[0], "message": post.text})
            )
            return str(required(written, "post_id", TITLE, "published photo"))
        form: dict[str, str] = {"message": post.text}
        for index, url in enumerate(post.media_urls):
            photo = self.graph.post(photos, described(index, {"url": url, "published": "false"}))
            photo_id = str(required(photo, "id", TITLE, "uploaded photo"))
            form[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
        written = self.graph.post(f"{self.config.page_id}/feed", form)
        return str(required(written, "id", TITLE, "published post"))

    def _post_url(self, post_id: str) -> str:
        page, _, local = post_id.partition("_")
        return f"https://www.facebook.com/{page}/posts/{local or page}"

    # --- webhooks ----------------------------------------------------------------------------

    def _change(
        self, field: str, value: dict[str, Any], entry: Mapping[str, Any]
    ) -> PushedPost | None:
        """A post or a comment the Page's `feed` brings (other feed changes are reactions,
        likes, shares, edits)."""
        return self._feed_change(value) if field == "feed" else None

    def _feed_change(self, value: dict[str, Any]) -> PushedPost | None:
        item, verb = value.get("item"), value.get("verb")
        if verb != "add":
            return None
        if item == "comment":
            if self._is_page(value.get("from")):
                return None
            comment_id = str(required(value, "comment_id", TITLE, "comment change"))
            post_id = str(required(value, "post_id", TITLE, f"comment change {comment_id}"))
            parent_id = str(value.get("parent_id") or post_id)
            base = self.comment_to_post(
                {
                    "id": comment_id,
                    "message": value.get("message"),
                    "created_time": value.get("created_time"),
                    "from": value.get("from"),
                    "parent": {"id": parent_id} if parent_id != post_id else None,
                },
                post_id,
            )
            return pushed(base, "comment", value)
        if item in POST_ITEMS:
            post_id = str(required(value, "post_id", TITLE, "post change"))
            if not value.get("message"):
                return None
            base = self.post_to_post(
                {
                    "id": post_id,
                    "message": value.get("message"),
                    "created_time": value.get("created_time"),
                    "from": value.get("from"),
                    "permalink_url": value.get("permalink_url") or value.get("link"),
                }
            )
            return pushed(base, "post", value)
        return None

    def _without_text(self, message: Mapping[str, Any]) -> str:
        kinds = [
            str(att.get("type"))
            for att in message.get("attachments") or []
            if isinstance(att, Mapping)
        ]
        return f"({', '.join(kinds) or 'attachment'} without text)"
