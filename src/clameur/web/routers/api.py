"""The JSON API (/api/v1): the same session cookie as the pages, CSRF header on unsafe calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from clameur.listening.corrections import correct_post
from clameur.listening.service import (
    PostFilters,
    create_query,
    delete_query,
    get_query,
    list_posts,
    update_query,
)
from clameur.publishing import service as publishing
from clameur.query import QuerySyntaxError, parse
from clameur.radar.crisis import active_crisis
from clameur.radar.service import list_alerts
from clameur.web.deps import CurrentUser, CurrentWorkspace, Db, Editor
from clameur.web.reads import (
    QuerySummary,
    analysis_query,
    get_post,
    query_summaries,
    summary_of,
)
from clameur.web.routers.queries import check_competitor
from clameur.web.schemas import (
    AlertRead,
    CorrectionCreate,
    CrisisRead,
    ErrorRead,
    PostList,
    PostRead,
    PublicationCreate,
    PublicationRead,
    QueryValidate,
    QueryValidation,
    SavedQueryCreate,
    SavedQueryRead,
    SavedQueryUpdate,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorRead, "description": "Malformed request (a query's syntax error)"},
    401: {"model": ErrorRead, "description": "Not signed in"},
    403: {"model": ErrorRead, "description": "Not allowed, or CSRF token missing"},
    404: {"model": ErrorRead, "description": "Not found"},
    409: {"model": ErrorRead, "description": "Conflicts with the current state"},
}

router = APIRouter(prefix="/api/v1", responses=ERRORS)


def _read(summary: QuerySummary) -> SavedQueryRead:
    saved = summary.saved
    return SavedQueryRead(
        id=saved.id,
        name=saved.name,
        query=saved.query,
        description=saved.description,
        competitor_id=saved.competitor_id,
        active=saved.active,
        revision=saved.revision,
        backfilled_revision=saved.backfilled_revision,
        up_to_date=summary.up_to_date,
        matches=summary.matches,
        created_at=saved.created_at,
        updated_at=saved.updated_at,
    )


@router.get("/posts", response_model=PostList, tags=["posts"])
def list_posts_api(
    db: Db,
    user: CurrentUser,
    workspace: CurrentWorkspace,
    query_id: int | None = None,
    q: Annotated[str | None, Query(description="An ad-hoc query in the query language")] = None,
    network: Annotated[list[str], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
    lang: Annotated[list[str], Query()] = [],  # noqa: B006
    since: datetime | None = None,
    until: datetime | None = None,
    search: Annotated[str | None, Query(description="Words to find, accents ignored")] = None,
    sentiment: Literal["negative", "neutral", "positive"] | None = None,
    intent: Literal["complaint", "question", "praise", "purchase_intent", "spam"] | None = None,
    hide_hostile: Annotated[bool, Query(description="Leave out posts marked hostile")] = False,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PostList:
    """Posts newest first, filtered; pass `next_cursor` back as `cursor` for the next page."""
    filters = PostFilters(
        query_id=query_id,
        query_text=analysis_query(q, "", intent or ""),
        networks=network,
        langs=lang,
        since=since,
        until=until,
        search=search or None,
        sentiments=[sentiment] if sentiment else [],
        hide_hostile=hide_hostile,
    )
    page = list_posts(db, workspace.id, filters, cursor=cursor, limit=limit)
    return PostList(
        items=[PostRead.model_validate(post) for post in page.posts], next_cursor=page.next_cursor
    )


@router.get("/posts/{post_id}", response_model=PostRead, tags=["posts"])
def get_post_api(db: Db, user: CurrentUser, workspace: CurrentWorkspace, post_id: int) -> PostRead:
    """One post."""
    return PostRead.model_validate(get_post(db, workspace.id, post_id))


@router.post("/posts/{post_id}/corrections", response_model=PostRead, tags=["posts"])
def correct_post_api(
    db: Db, user: Editor, workspace: CurrentWorkspace, post_id: int, body: CorrectionCreate
) -> PostRead:
    """Correct a post's sentiment, intents or hostility; who and when are kept for retraining."""
    post = correct_post(db, workspace.id, post_id, user.id, body.field, body.value)
    return PostRead.model_validate(post)


@router.get("/queries", response_model=list[SavedQueryRead], tags=["queries"])
def list_queries_api(
    db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> list[SavedQueryRead]:
    """The workspace's saved queries, by name."""
    return [_read(summary) for summary in query_summaries(db, workspace.id)]


@router.post("/queries", response_model=SavedQueryRead, status_code=201, tags=["queries"])
def create_query_api(
    db: Db, user: Editor, workspace: CurrentWorkspace, body: SavedQueryCreate
) -> SavedQueryRead:
    """Save a query; its past matches are searched in the background."""
    saved = create_query(
        db,
        workspace.id,
        body.name,
        body.query,
        body.description,
        check_competitor(workspace, body.competitor_id),
    )
    return _read(summary_of(db, saved))


@router.post("/queries/validate", response_model=QueryValidation, tags=["queries"])
def validate_query_api(user: CurrentUser, body: QueryValidate) -> QueryValidation:
    """Whether the query parses; if not, the parser's message and the 1-based position."""
    try:
        parse(body.query)
    except QuerySyntaxError as error:
        return QueryValidation(valid=False, message=str(error), position=error.position)
    return QueryValidation(valid=True)


@router.get("/queries/{query_id}", response_model=SavedQueryRead, tags=["queries"])
def get_query_api(
    db: Db, user: CurrentUser, workspace: CurrentWorkspace, query_id: int
) -> SavedQueryRead:
    """One saved query."""
    return _read(summary_of(db, get_query(db, workspace.id, query_id)))


@router.put("/queries/{query_id}", response_model=SavedQueryRead, tags=["queries"])
def update_query_api(
    db: Db, user: Editor, workspace: CurrentWorkspace, query_id: int, body: SavedQueryUpdate
) -> SavedQueryRead:
    """Replace a saved query; if its text changed, its matches are rebuilt."""
    saved = update_query(
        db,
        workspace.id,
        query_id,
        body.name,
        body.query,
        body.description,
        check_competitor(workspace, body.competitor_id),
    )
    return _read(summary_of(db, saved))


@router.delete("/queries/{query_id}", status_code=204, tags=["queries"])
def delete_query_api(db: Db, user: Editor, workspace: CurrentWorkspace, query_id: int) -> Response:
    """Delete a saved query and its matches."""
    delete_query(db, workspace.id, query_id)
    return Response(status_code=204)


@router.get("/crisis", response_model=CrisisRead, tags=["radar"])
def crisis_api(db: Db, user: CurrentUser, workspace: CurrentWorkspace) -> CrisisRead:
    """Whether crisis mode is on: a publishing tool holds promotional posts while it is."""
    current = active_crisis(db, workspace.id)
    if current is None:
        return CrisisRead(active=False)
    return CrisisRead(
        active=True,
        crisis_id=current.id,
        since=current.started_at,
        reason=current.reason,
        query_id=current.query_id,
    )


@router.get("/alerts", response_model=list[AlertRead], tags=["radar"])
def alerts_api(
    db: Db,
    user: CurrentUser,
    workspace: CurrentWorkspace,
    status: Literal["open", "over"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AlertRead]:
    """The radar's alerts, newest first (`open` while a rule keeps firing)."""
    return [
        AlertRead.model_validate(alert)
        for alert in list_alerts(db, workspace.id, limit=limit, status=status)
    ]


@router.get("/publications", response_model=list[PublicationRead], tags=["publishing"])
def publications_api(
    db: Db,
    user: CurrentUser,
    workspace: CurrentWorkspace,
    status: Literal["awaiting_approval", "scheduled", "sending", "sent", "failed", "cancelled"]
    | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PublicationRead]:
    """The workspace's publications, next due first (newest first once published)."""
    return [
        PublicationRead.model_validate(p)
        for p in publishing.list_publications(db, workspace.id, status, limit)
    ]


@router.post(
    "/publications", response_model=list[PublicationRead], status_code=201, tags=["publishing"]
)
def create_publications_api(
    body: PublicationCreate, db: Db, user: Editor, workspace: CurrentWorkspace
) -> list[PublicationRead]:
    """Compose once for several accounts: one publication per account, scheduled when a manager
    writes it, awaiting approval otherwise; promotional ones are held during crisis mode."""
    when = body.scheduled_at
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    created = publishing.compose(
        db,
        workspace.id,
        user,
        body.body,
        body.account_ids,
        scheduled_at=when,
        promotional=body.promotional,
        media_urls=body.media_urls,
        media_alts=body.media_alts,
        include_unconnected=publishing.publishes_unconnected(workspace),
    )
    return [PublicationRead.model_validate(p) for p in created]
