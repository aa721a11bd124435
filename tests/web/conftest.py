"""Web fixtures: the application on the test database, a form-aware client, and builders."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session, sessionmaker

with warnings.catch_warnings():
    # Starlette suggests httpx2 for its test client; httpx still works.
    warnings.filterwarnings("ignore", message="Using `httpx` with", category=UserWarning)
    from fastapi.testclient import TestClient

from clameur.listening.service import create_query, load_query_index
from clameur.models import Role
from clameur.pipeline.schemas import PostIn
from clameur.pipeline.stages import run_batch
from clameur.settings import DatabaseSettings, Settings, WebSettings
from clameur.store.engine import make_session_factory, unit_of_work
from clameur.web.app import create_app
from clameur.workspaces.service import add_user, create_workspace

PASSWORD = "correct horse battery"
NOW = datetime(2024, 5, 14, 12, 0, tzinfo=UTC)
_ids = count(1)


def _settings(data_dir: Path, url: str, **web: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        database=DatabaseSettings(url=url),
        web=WebSettings(secret_key=SecretStr("test-secret-key"), **web),
    )


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a database URL: a fixed signing key, nothing read from the environment."""
    return lambda url, **web: _settings(tmp_path, url, **web)


@pytest.fixture(scope="module")
def app(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The application on the test database (SQLite, and PostgreSQL when configured); the
    root `factory` fixture empties the tables around each test."""
    url = engine.url.render_as_string(hide_password=False)
    return create_app(_settings(tmp_path_factory.mktemp("data"), url), make_session_factory(engine))


class Browser(TestClient):
    """A test client that knows Clameur's forms: the CSRF token, signing in, reading the feed."""

    def csrf(self, path: str = "/login") -> str:
        """The session's CSRF token, as a page hands it to forms and HTMX."""
        page = self.get(path)
        match = _META_TOKEN.search(page.text)
        assert match, f"no CSRF token on {path} ({page.status_code})"
        return match.group(1)

    def sign_in(self, email: str = "ann@example.com", password: str = PASSWORD) -> Any:
        """Sign in through the form, as a person would."""
        return self.post(
            "/login",
            data={
                "email": email,
                "password": password,
                "csrf_token": self.csrf(),
                "next": "/listening",
            },
            follow_redirects=False,
        )

    def submit(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Submit a form with the session's CSRF token (taken from a signed-in page)."""
        token = self.csrf("/listening")
        return self.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)

    def api_headers(self) -> dict[str, str]:
        """The header that unsafe API calls carry."""
        return {"X-CSRF-Token": self.csrf("/listening")}

    @staticmethod
    def post_ids(html: str) -> list[int]:
        """The posts of a page or partial, in the order shown."""
        return [int(value) for value in _POST_IDS.findall(html)]


_META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_POST_IDS = re.compile(r'data-post-id="(\d+)"')


@pytest.fixture
def client(app: FastAPI) -> Iterator[Browser]:
    with Browser(app) as client:
        yield client


@pytest.fixture
def browser_for() -> Callable[..., Browser]:
    """A browser on another application (for tests that build their own)."""
    return Browser


class Builders:
    """Rows for a test, built through the services (the way the application makes them)."""

    password = PASSWORD
    now = NOW

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def workspace(self, slug: str = "acme", name: str = "Acme") -> int:
        with unit_of_work(self.factory) as session:
            return create_workspace(session, slug, name, ["Globex"]).id

    def user(
        self,
        email: str = "ann@example.com",
        role: Role | str = Role.agent,
        name: str = "Ann Example",
        locale: str | None = None,
    ) -> int:
        with unit_of_work(self.factory) as session:
            user = add_user(session, email, name, PASSWORD, role)
            user.locale = locale
            return user.id

    @staticmethod
    def at(**delta: float) -> datetime:
        """A moment relative to the tests' fixed now: at(minutes=-5) is five minutes before."""
        return NOW + timedelta(**delta)

    @staticmethod
    def post(**overrides: Any) -> PostIn:
        """A post in the import schema; every field can be overridden."""
        number = next(_ids)
        fields: dict[str, Any] = {
            "id": f"post-{number}",
            "network": "x",
            "text": f"Post number {number} about the weather",
            "created_at": NOW - timedelta(minutes=number),
            "author": {"handle": f"author{number}", "name": f"Author {number}", "followers": 120},
            "lang": "en",
            "url": f"https://example.com/{number}",
        }
        fields.update(overrides)
        return PostIn.model_validate(fields)

    def store(self, workspace_id: int, posts: list[PostIn]) -> list[int]:
        """Store posts through the pipeline, matched against the saved queries; their ids."""
        with unit_of_work(self.factory) as session:
            index = load_query_index(session, workspace_id)
            return run_batch(session, workspace_id, posts, index).new_post_ids

    def query(self, workspace_id: int, name: str = "Brand", query: str = "acme") -> int:
        with unit_of_work(self.factory) as session:
            return create_query(session, workspace_id, name, query).id

    def load(self, model: type, row_id: int) -> Any:
        with self.factory() as session:
            return session.get(model, row_id)

    def update(self, model: type, row_id: int, **values: Any) -> None:
        with unit_of_work(self.factory) as session:
            row = session.get(model, row_id)
            for key, value in values.items():
                setattr(row, key, value)

    def all(self, model: type) -> list[Any]:
        """Every row of `model`, oldest first (PostgreSQL returns unordered rows in any order,
        an updated row often last)."""
        with self.factory() as session:
            return list(session.scalars(select(model).order_by(*inspect(model).primary_key)))


@pytest.fixture
def build(factory: sessionmaker[Session]) -> Builders:
    return Builders(factory)


@pytest.fixture
def workspace(build: Builders) -> int:
    return build.workspace()


@pytest.fixture
def agent(client: Browser, build: Builders, workspace: int) -> Browser:
    """A client signed in as an agent of the workspace."""
    build.user()
    assert client.sign_in().status_code == 303
    return client


@pytest.fixture
def viewer(client: Browser, build: Builders, workspace: int) -> Browser:
    """A client signed in as a viewer of the workspace (looks, changes nothing)."""
    build.user(email="vic@example.com", role=Role.viewer, name="Vic Viewer")
    assert client.sign_in(email="vic@example.com").status_code == 303
    return client
