"""The web application factory: pages, the JSON API, and the errors rendered in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

import clameur
from clameur.kit.errors import ClameurError
from clameur.settings import Settings
from clameur.store import migrate
from clameur.store.engine import make_engine, make_session_factory
from clameur.web.csrf import verify_csrf
from clameur.web.deps import CurrentUser, CurrentWorkspace, Db, LoginRequired
from clameur.web.i18n import load_translations
from clameur.web.reads import sidebar
from clameur.web.routers import (
    accounts,
    api,
    auth,
    inbox,
    inbox_settings,
    listening,
    posts,
    publishing,
    queries,
    radar,
)
from clameur.web.schemas import Health
from clameur.web.templating import Renderer, renderer

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "clameur_session"
SESSION_MAX_AGE = 14 * 24 * 3600
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    ),
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _login_redirect(request: Request) -> Response:
    # After signing in, come back to the page (for HTMX calls, the page that made the call).
    if _is_htmx(request) and request.headers.get("HX-Current-URL"):
        parts = urlsplit(request.headers["HX-Current-URL"])
        target = parts.path + (f"?{parts.query}" if parts.query else "")
    else:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login" if target in ("", "/") else f"/login?next={quote(target, safe='/')}"
    if _is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _error_page(request: Request, status_code: int, message: str) -> Response:
    template = "partials/error.html" if _is_htmx(request) else "error.html"
    return renderer(request).render(
        request, template, status_code=status_code, status=status_code, message=message
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ClameurError)
    async def clameur_error(request: Request, error: ClameurError) -> Response:
        if _is_api(request):
            body: dict[str, Any] = {"detail": str(error)}
            position = getattr(error, "position", None)
            if position is not None:
                body["position"] = position
            return JSONResponse(body, status_code=error.status_code)
        if isinstance(error, LoginRequired):
            return _login_redirect(request)
        return _error_page(request, error.status_code, str(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        if _is_api(request) or request.url.path == "/openapi.json":
            return JSONResponse(
                {"detail": error.detail}, status_code=error.status_code, headers=error.headers
            )
        # Starlette's own details ("Not Found") are English: the page says it in the user's words.
        detail = str(error.detail)
        if detail == HTTPStatus(error.status_code).phrase:
            detail = ""
        return _error_page(request, error.status_code, detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        if _is_api(request):
            return await request_validation_exception_handler(request, error)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item.get('loc', ())[1:])}: {item.get('msg')}"
            for item in error.errors()
        )
        return _error_page(request, 422, problems)


def _engine_of(factory: sessionmaker[Session]) -> Engine:
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("the session factory must be bound to an engine")
    return bind


def create_app(settings: Settings, factory: sessionmaker[Session] | None = None) -> FastAPI:
    """Build the web application; refuses a database that is not at the latest migration."""
    owned: Engine | None = None
    if factory is None:
        owned = make_engine(settings.database_url, echo=settings.database.echo)
        try:
            migrate.ensure_current(owned)
        except BaseException:
            owned.dispose()
            raise
        factory = make_session_factory(owned)
    engine = _engine_of(factory)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned is not None:
            owned.dispose()

    app = FastAPI(
        title="Clameur",
        version=clameur.__version__,
        summary="Listen to what the networks say about your brand.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(verify_csrf)],
    )
    app.state.settings = settings
    app.state.session_factory = factory
    app.state.engine = engine
    app.state.renderer = Renderer(load_translations(), settings.web.default_locale)

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.web.secure_cookies,
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    _install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        """The application is up; the database's schema revision."""
        return Health(status="ok", database=migrate.current_revision(engine))

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(
        request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
    ) -> Response:
        """A plain, local reference of the JSON API (no third-party scripts)."""
        return renderer(request).render(
            request,
            "api_docs.html",
            spec=app.openapi(),
            **sidebar(db, workspace.id),
            section="docs",
        )

    app.include_router(auth.router)
    app.include_router(listening.router)
    app.include_router(inbox.router)
    app.include_router(inbox_settings.router)
    app.include_router(posts.router)
    app.include_router(queries.router)
    app.include_router(radar.router)
    app.include_router(publishing.router)
    app.include_router(accounts.router)
    app.include_router(api.router)
    return app
