"""One post: its page with its near-duplicates, and the corrections people make to its analysis."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clameur.kit.errors import ClameurError, NotFound
from clameur.listening.corrections import correct_post
from clameur.web.deps import CurrentUser, CurrentWorkspace, Db, Editor
from clameur.web.reads import copies_of, corrector_names, get_post, sidebar
from clameur.web.routers.auth import back_to
from clameur.web.templating import renderer

router = APIRouter(include_in_schema=False)

_BOOLEANS = {"true": True, "false": False}


def form_value(field: str, value: str) -> Any:
    """A correction's value as the service takes it, from the one text field a form sends:
    intents comma-separated (empty for none), hostile "true" or "false"."""
    if field == "intents":
        return [each.strip() for each in value.split(",") if each.strip()]
    if field == "hostile":
        return _BOOLEANS.get(value.strip().lower(), value)
    return value.strip().lower()


@router.get("/posts/{post_id}", response_class=HTMLResponse)
def post_page(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace, post_id: int
) -> Response:
    """A post on its own, with the near-duplicates grouped under it."""
    post = get_post(db, workspace.id, post_id)
    copies = copies_of(db, workspace.id, post.id) if post.duplicate_count > 1 else []
    return renderer(request).render(
        request,
        "post_page.html",
        post=post,
        copies=copies,
        correctors=corrector_names(db, [post, *copies]),
        **sidebar(db, workspace.id),
        section="listening",
    )


MENUS = ("sentiment", "correct")


@router.get("/posts/{post_id}/menu/{kind}", response_class=HTMLResponse)
def post_menu(
    request: Request, db: Db, user: Editor, workspace: CurrentWorkspace, post_id: int, kind: str
) -> Response:
    """The choices of a card's correction menu (sentiment, or intents and hostility), which
    lists load when the menu opens."""
    if kind not in MENUS:
        raise NotFound(f"no menu {kind!r}: use {' or '.join(MENUS)}")
    post = get_post(db, workspace.id, post_id)
    return renderer(request).render(request, "partials/post_menu.html", post=post, kind=kind)


@router.post("/posts/{post_id}/correct", response_class=HTMLResponse)
def correct(
    request: Request,
    db: Db,
    user: Editor,
    workspace: CurrentWorkspace,
    post_id: int,
    field: Annotated[str, Form()],
    value: Annotated[str, Form()] = "",
) -> Response:
    """Correct the post's sentiment, intents or hostility; answers with the post's card."""
    htmx = request.headers.get("HX-Request") == "true"
    error: str | None = None
    status_code = 200
    try:
        post = correct_post(db, workspace.id, post_id, user.id, field, form_value(field, value))
    except ClameurError as refused:
        # A refused value (400) is shown on the card itself, so the card stays in the feed.
        if refused.status_code != 400 or not htmx:
            raise
        db.rollback()
        post = get_post(db, workspace.id, post_id)
        error, status_code = str(refused), refused.status_code
    if not htmx:
        return RedirectResponse(f"{back_to(request)}#post-{post.id}", status_code=303)
    return renderer(request).render(
        request,
        "partials/post_card.html",
        status_code=status_code,
        post=post,
        error=error,
        correctors=corrector_names(db, [post]),
    )
