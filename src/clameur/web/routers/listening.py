"""The listening page: the stream of posts, filtered, paged, and live."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import QueryParams

from clameur.kit.time import utcnow
from clameur.listening.service import (
    PostFilters,
    encode_cursor,
    get_query,
    list_posts,
)
from clameur.models import Post
from clameur.pipeline.schemas import INTENTS, SENTIMENTS
from clameur.query import QuerySyntaxError
from clameur.web.deps import CurrentUser, CurrentWorkspace, Db
from clameur.web.i18n import zone
from clameur.web.reads import (
    analysis_query,
    corrector_names,
    posts_newer_than,
    sidebar,
)
from clameur.web.templating import NETWORK_LABELS, renderer

router = APIRouter(include_in_schema=False)

# Languages offered in the filter; a language seen in a link but not listed here is kept.
COMMON_LANGUAGES = ("fr", "en", "es", "de", "it", "pt", "nl", "ar", "ja")


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _choice(value: str | None, choices: tuple[str, ...]) -> str:
    value = (value or "").strip().lower()
    return value if value in choices else ""


@dataclass(slots=True)
class ListeningView:
    """What the person asked to see, as read from the page's address."""

    query_id: int | None = None
    q: str = ""
    networks: list[str] = field(default_factory=list)
    lang: str = ""
    since: date | None = None
    until: date | None = None
    search: str = ""
    sentiment: str = ""
    intent: str = ""
    hide_hostile: bool = False

    @classmethod
    def from_params(cls, params: QueryParams) -> ListeningView:
        """Read the filters leniently: a malformed value is ignored rather than refused."""
        return cls(
            query_id=_int(params.get("query_id")),
            q=(params.get("q") or "").strip(),
            networks=[each for each in params.getlist("network") if each in NETWORK_LABELS],
            lang=(params.get("lang") or "").strip().lower()[:8],
            since=_date(params.get("since")),
            until=_date(params.get("until")),
            search=(params.get("search") or "").strip(),
            sentiment=_choice(params.get("sentiment"), SENTIMENTS),
            intent=_choice(params.get("intent"), INTENTS),
            hide_hostile=params.get("hide_hostile") in ("1", "on", "true"),
        )

    def params(self) -> dict[str, Any]:
        """The filters as query-string parameters (for links and partial requests)."""
        return {
            "query_id": self.query_id,
            "q": self.q,
            "network": self.networks,
            "lang": self.lang,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "search": self.search,
            "sentiment": self.sentiment,
            "intent": self.intent,
            "hide_hostile": "1" if self.hide_hostile else None,
        }

    def filters(self, timezone: tzinfo) -> PostFilters:
        """The service's filters; dates are whole days in the workspace's time zone; intent
        narrows the ad-hoc query (raises QuerySyntaxError for a malformed query)."""

        def start_of(day: date) -> datetime:
            return datetime.combine(day, time.min, tzinfo=timezone).astimezone(UTC)

        return PostFilters(
            query_id=self.query_id,
            query_text=analysis_query(self.q, "", self.intent),
            sentiments=[self.sentiment] if self.sentiment else [],
            hide_hostile=bool(self.hide_hostile),
            networks=list(self.networks),
            langs=[self.lang] if self.lang else [],
            since=start_of(self.since) if self.since else None,
            until=start_of(self.until + timedelta(days=1)) if self.until else None,
            search=self.search or None,
        )

    @property
    def refined(self) -> int:
        """How many side filters are set (shown on the filter panel)."""
        return sum(
            bool(each)
            for each in (
                self.networks,
                self.lang,
                self.since,
                self.until,
                self.search,
                self.sentiment,
                self.intent,
                self.hide_hostile,
            )
        )


# Where polling starts when nothing at all matched yet: any post that arrives is new.
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


def _newest_cursor(posts: list[Post], searched_everything: bool = True) -> str:
    """The position polling starts after: the newest post shown."""
    if posts:
        return encode_cursor(posts[0].created_at, posts[0].id)
    # An empty page of an ad-hoc query may only mean the search budget ran out: start from now.
    return encode_cursor(_BEGINNING if searched_everything else utcnow(), 0)


@router.get("/", response_class=HTMLResponse)
@router.get("/listening", response_class=HTMLResponse)
def listening_page(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    """The stream of posts for a saved query or an ad-hoc query, newest first."""
    view = ListeningView.from_params(request.query_params)
    cursor = request.query_params.get("cursor") or None
    saved = get_query(db, workspace.id, view.query_id) if view.query_id is not None else None
    page = None
    syntax_error = None
    try:
        page = list_posts(
            db,
            workspace.id,
            view.filters(zone(workspace.timezone)),
            cursor=cursor,
            limit=request.app.state.settings.web.page_size,
        )
    except QuerySyntaxError as error:
        syntax_error = error
    posts = page.posts if page else []
    languages = list(COMMON_LANGUAGES)
    if view.lang and view.lang not in languages:
        languages.append(view.lang)
    return renderer(request).render(
        request,
        "listening.html",
        view=view,
        saved=saved,
        page=page,
        posts=posts,
        paged=cursor is not None,
        newest=_newest_cursor(posts, page is not None and page.next_cursor is None),
        syntax_error=syntax_error,
        languages=languages,
        correctors=corrector_names(db, posts),
        **sidebar(db, workspace.id),
        section="listening",
    )


@router.get("/listening/posts", response_class=HTMLResponse)
def more_posts(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace, cursor: str
) -> Response:
    """The next page of posts after the cursor (the "Load more" button)."""
    view = ListeningView.from_params(request.query_params)
    page = list_posts(
        db,
        workspace.id,
        view.filters(zone(workspace.timezone)),
        cursor=cursor,
        limit=request.app.state.settings.web.page_size,
    )
    return renderer(request).render(
        request,
        "partials/posts_page.html",
        view=view,
        page=page,
        posts=page.posts,
        correctors=corrector_names(db, page.posts),
    )


@router.get("/listening/new", response_class=HTMLResponse)
def new_posts(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace, after: str
) -> Response:
    """Posts newer than the newest one shown, for the same filters (polled by the page)."""
    view = ListeningView.from_params(request.query_params)
    newer = posts_newer_than(
        db,
        workspace.id,
        view.filters(zone(workspace.timezone)),
        after,
    )
    if not newer.posts:
        return Response(status_code=204)
    return renderer(request).render(
        request,
        "partials/new_posts.html",
        view=view,
        posts=newer.posts,
        more=newer.more,
        newest=_newest_cursor(newer.posts),
        correctors=corrector_names(db, newer.posts),
    )
