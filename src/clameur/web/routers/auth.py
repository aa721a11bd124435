"""Signing in and out, and the choices a person makes for their session: language, workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clameur.models import User
from clameur.web.csrf import rotate_token
from clameur.web.deps import (
    LOCALE_KEY,
    USER_KEY,
    WORKSPACE_KEY,
    CurrentWorkspace,
    Db,
)
from clameur.web.i18n import LOCALES
from clameur.web.templating import renderer
from clameur.workspaces.service import authenticate

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to; anything pointing off-site becomes the default."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    return target


def back_to(request: Request, target: str | None = None) -> str:
    """Where to return after a small form: the given path, else the referring page if local."""
    if target:
        return safe_next(target)
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    if referer.startswith(base):
        return safe_next("/" + referer[len(base) :])
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    if isinstance(request.session.get(USER_KEY), int):
        return RedirectResponse(safe_next(next), status_code=303)
    return renderer(request).render(request, "login.html", next=safe_next(next), email="")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    db: Db,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the credentials, start a fresh session and go where the person was heading."""
    user = authenticate(db, email, password)
    if user is None:
        return renderer(request).render(
            request,
            "login.html",
            status_code=401,
            next=safe_next(next),
            email=email,
            failed=True,
        )
    chosen_locale = request.session.get(LOCALE_KEY)
    request.session.clear()
    request.session[USER_KEY] = user.id
    if user.locale in LOCALES:
        request.session[LOCALE_KEY] = user.locale
    elif chosen_locale in LOCALES:
        # The language picked on the sign-in page becomes the user's own.
        user.locale = chosen_locale
        request.session[LOCALE_KEY] = chosen_locale
    rotate_token(request)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session (the language choice stays for the sign-in page)."""
    locale = request.session.get(LOCALE_KEY)
    request.session.clear()
    if locale:
        request.session[LOCALE_KEY] = locale
    return RedirectResponse("/login", status_code=303)


@router.post("/locale")
def switch_locale(
    request: Request,
    db: Db,
    locale: Annotated[str, Form()],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Change the interface language, for the session and, when signed in, for the user."""
    if locale in LOCALES:
        request.session[LOCALE_KEY] = locale
        user_id = request.session.get(USER_KEY)
        if isinstance(user_id, int):
            user = db.get(User, user_id)
            if user is not None:
                user.locale = locale
    return RedirectResponse(back_to(request, next), status_code=303)


@router.post("/workspace")
def switch_workspace(
    request: Request, workspace: CurrentWorkspace, workspace_id: Annotated[int, Form()]
) -> Response:
    """Work in another workspace (one of those the current-workspace lookup just listed)."""
    known = {each.id for each in request.state.workspaces}
    if workspace_id in known:
        request.session[WORKSPACE_KEY] = workspace_id
    return RedirectResponse("/listening", status_code=303)
