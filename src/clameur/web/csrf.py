"""Cross-site request forgery protection: one secret token per session, sent back by every
unsafe request, in a form field (plain forms) or a header (HTMX and API calls)."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from clameur.kit.errors import Forbidden

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
WEBHOOKS = "/webhooks/"


def csrf_token(request: Request) -> str:
    """The session's token, created on first use."""
    token = request.session.get(FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[FIELD] = token
    return str(token)


def rotate_token(request: Request) -> str:
    """A fresh token, after the session changed hands (login)."""
    request.session.pop(FIELD, None)
    return csrf_token(request)


async def verify_csrf(request: Request) -> None:
    """Refuse an unsafe request that does not carry the session's token (a dependency)."""
    if request.method in SAFE_METHODS:
        return
    if request.url.path.startswith(WEBHOOKS):
        # Networks' pushes carry no session: each is authenticated by its signature instead.
        return
    expected = request.session.get(FIELD)
    sent = request.headers.get(HEADER)
    if not sent and request.headers.get("content-type", "").startswith(_FORMS):
        # FastAPI has already parsed (and cached) the form when the route declares fields.
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise Forbidden("The form has expired or did not come from Clameur: reload the page.")
