"""Saved queries: list, create, edit, delete, and the live check of the query as it is typed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clameur.kit.errors import ClameurError, NotFound
from clameur.listening.service import (
    create_query,
    delete_query,
    get_query,
    update_query,
)
from clameur.models import Workspace
from clameur.query import QuerySyntaxError, parse
from clameur.web.deps import CurrentUser, CurrentWorkspace, Db, Editor
from clameur.web.reads import SIDEBAR_LIMIT, query_summaries, sidebar
from clameur.web.templating import renderer

router = APIRouter(include_in_schema=False)
FLASH_KEY = "flash"


def check_competitor(workspace: Workspace, competitor_id: int | None) -> int | None:
    """The competitor id, provided it belongs to the workspace."""
    if competitor_id is not None and competitor_id not in {c.id for c in workspace.competitors}:
        raise NotFound(f"competitor {competitor_id} not found in this workspace")
    return competitor_id


def _competitor(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


@router.get("/queries", response_class=HTMLResponse)
def queries_page(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    """Every saved query with its state and number of matches."""
    summaries = query_summaries(db, workspace.id)
    return renderer(request).render(
        request,
        "queries.html",
        summaries=summaries,
        flash=request.session.pop(FLASH_KEY, None),
        sidebar_queries=[summary.saved for summary in summaries][:SIDEBAR_LIMIT],
        sidebar_total=len(summaries),
        section="queries",
    )


def _form(
    request: Request,
    db: Db,
    workspace: Workspace,
    *,
    query_id: int | None,
    values: dict[str, Any],
    error: ClameurError | None = None,
) -> Response:
    syntax_error = error if isinstance(error, QuerySyntaxError) else None
    return renderer(request).render(
        request,
        "query_form.html",
        status_code=error.status_code if error else 200,
        query_id=query_id,
        values=values,
        error=None if syntax_error else error,
        syntax_error=syntax_error,
        competitors=workspace.competitors,
        **sidebar(db, workspace.id),
        section="queries",
    )


@router.post("/queries/validate", response_class=HTMLResponse)
def validate_query(
    request: Request, user: CurrentUser, query: Annotated[str, Form()] = ""
) -> Response:
    """The live check under the query box: "valid", or the error with a caret where it is."""
    syntax_error = None
    if query.strip():
        try:
            parse(query)
        except QuerySyntaxError as error:
            syntax_error = error
    return renderer(request).render(
        request,
        "partials/validation.html",
        source=query,
        syntax_error=syntax_error,
        empty=not query.strip(),
    )


@router.get("/queries/new", response_class=HTMLResponse)
def new_query_page(
    request: Request, db: Db, user: Editor, workspace: CurrentWorkspace, q: str = ""
) -> Response:
    """The form for a new saved query (optionally prefilled from the listening page)."""
    values = {"name": "", "query": q, "description": "", "competitor_id": "", "inbox": False}
    return _form(request, db, workspace, query_id=None, values=values)


@router.post("/queries", response_class=HTMLResponse)
def create_query_form(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    name: Annotated[str, Form()] = "",
    query: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    competitor_id: Annotated[str, Form()] = "",
    inbox: Annotated[str, Form()] = "",
) -> Response:
    """Save a new query; a malformed one comes back with the parser's message."""
    values = {
        "name": name,
        "query": query,
        "description": description,
        "competitor_id": competitor_id,
        "inbox": bool(inbox),
    }
    try:
        create_query(
            db,
            workspace.id,
            name,
            query,
            description,
            check_competitor(workspace, _competitor(competitor_id)),
            inbox=bool(inbox),
        )
    except ClameurError as error:
        db.rollback()
        return _form(request, db, workspace, query_id=None, values=values, error=error)
    request.session[FLASH_KEY] = "created"
    return RedirectResponse("/queries", status_code=303)


@router.get("/queries/{query_id}/edit", response_class=HTMLResponse)
def edit_query_page(
    request: Request, db: Db, user: Editor, workspace: CurrentWorkspace, query_id: int
) -> Response:
    """The form to edit a saved query."""
    saved = get_query(db, workspace.id, query_id)
    values = {
        "name": saved.name,
        "query": saved.query,
        "description": saved.description,
        "competitor_id": str(saved.competitor_id or ""),
        "inbox": saved.inbox,
    }
    return _form(request, db, workspace, query_id=query_id, values=values)


@router.post("/queries/{query_id}", response_class=HTMLResponse)
def update_query_form(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    query_id: int,
    name: Annotated[str, Form()] = "",
    query: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    competitor_id: Annotated[str, Form()] = "",
    inbox: Annotated[str, Form()] = "",
) -> Response:
    """Save the new version of a query; its matches are rebuilt if the text changed."""
    values = {
        "name": name,
        "query": query,
        "description": description,
        "competitor_id": competitor_id,
        "inbox": bool(inbox),
    }
    try:
        update_query(
            db,
            workspace.id,
            query_id,
            name,
            query,
            description,
            check_competitor(workspace, _competitor(competitor_id)),
            inbox=bool(inbox),
        )
    except NotFound:
        raise
    except ClameurError as error:
        db.rollback()
        return _form(request, db, workspace, query_id=query_id, values=values, error=error)
    request.session[FLASH_KEY] = "updated"
    return RedirectResponse("/queries", status_code=303)


@router.post("/queries/{query_id}/delete")
def delete_query_form(
    request: Request, db: Db, user: Editor, workspace: CurrentWorkspace, query_id: int
) -> Response:
    """Delete a saved query and its matches (the page asked for confirmation first)."""
    delete_query(db, workspace.id, query_id)
    request.session[FLASH_KEY] = "deleted"
    return RedirectResponse("/queries", status_code=303)
