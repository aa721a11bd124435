"""Connecting an account through the network's approval page, from the accounts page and back."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from connector_replay import ReplayServer, payload
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with", category=UserWarning)
    from fastapi.testclient import TestClient

from clameur.accounts.service import account_config, save_account, secret_box
from clameur.models import NetworkAccount, Role, Workspace
from clameur.settings import DatabaseSettings, Settings, WebSettings
from clameur.store.engine import make_session_factory, unit_of_work
from clameur.web.app import create_app
from clameur.workspaces.service import add_user, create_workspace

PASSWORD = "correct horse battery"


@pytest.fixture
def app(engine: Engine, factory: sessionmaker[Session], tmp_path: Path) -> FastAPI:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        database=DatabaseSettings(url=engine.url.render_as_string(hide_password=False)),
        web=WebSettings(
            secret_key=SecretStr("test-secret-key"), public_url="https://clameur.example"
        ),
    )
    return create_app(settings, make_session_factory(engine))


@pytest.fixture
def manager(app: FastAPI, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with unit_of_work(factory) as session:
        create_workspace(session, "acme", "Acme", [])
        add_user(session, "mia@example.com", "Mia", PASSWORD, Role.manager)
    with TestClient(app) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
        client.post(
            "/login",
            data={
                "email": "mia@example.com",
                "password": PASSWORD,
                "csrf_token": token,
                "next": "/",
            },
            follow_redirects=False,
        )
        yield client


def _token(client: TestClient) -> str:
    return (
        client.get("/settings/accounts").text.split('name="csrf-token" content="')[1].split('"')[0]
    )


def test_a_mastodon_account_is_connected_through_its_server_with_pkce(
    app: FastAPI, manager: TestClient, factory: sessionmaker[Session], server: ReplayServer
) -> None:
    server.add(
        "POST",
        "/api/v1/apps",
        body={
            "id": "1",
            "name": "Clameur",
            "client_id": "client-id-from-the-server",
            "client_secret": "client-secret-from-the-server",
        },
    )
    server.add(
        "POST",
        "/oauth/token",
        body={
            "access_token": "a-fresh-access-token-0123456789",
            "token_type": "Bearer",
            "scope": "read write:statuses",
            "created_at": 1573979017,
        },
    )
    server.add("GET", "/api/v1/accounts/verify_credentials", body=payload("mastodon_account.json"))
    box = secret_box(app.state.settings)
    with unit_of_work(factory) as session:
        workspace_id = session.scalars(select(Workspace.id)).one()
        account_id = save_account(
            session,
            box,
            workspace_id,
            "mastodon",
            {"account_name": "acme", "instance_url": server.url, "hashtags": "acme"},
        ).id

    start = manager.post(
        f"/settings/accounts/{account_id}/oauth",
        data={"csrf_token": _token(manager)},
        follow_redirects=False,
    )
    assert start.status_code == 303
    approval = urlsplit(start.headers["location"])
    query = parse_qs(approval.query)
    assert approval.path == "/oauth/authorize"
    assert query["redirect_uri"] == ["https://clameur.example/settings/accounts/oauth/callback"]
    assert query["code_challenge_method"] == ["S256"]

    back = manager.get(
        "/settings/accounts/oauth/callback",
        params={"code": "approval-code", "state": query["state"][0]},
        follow_redirects=False,
    )
    assert back.status_code == 303
    token_form = server.seen("POST", "/oauth/token")[0].form()
    assert token_form["code"] == ["approval-code"] and token_form["code_verifier"]
    with factory() as session:
        account = session.get(NetworkAccount, account_id)
        assert account is not None
        config = account_config(box, account)
        assert config.access_token.get_secret_value() == "a-fresh-access-token-0123456789"  # type: ignore[attr-defined]
        assert "a-fresh-access-token" not in (account.config_encrypted or "")
        assert account.external_id == "14715" and account.status == "active"
    assert "connecté" in manager.get("/settings/accounts").text


def test_a_callback_with_a_forged_state_connects_nothing(
    app: FastAPI, manager: TestClient, factory: sessionmaker[Session], server: ReplayServer
) -> None:
    server.add(
        "POST",
        "/api/v1/apps",
        body={"id": "1", "name": "Clameur", "client_id": "cid", "client_secret": "csecret"},
    )
    box = secret_box(app.state.settings)
    with unit_of_work(factory) as session:
        workspace_id = session.scalars(select(Workspace.id)).one()
        account_id = save_account(
            session,
            box,
            workspace_id,
            "mastodon",
            {"account_name": "acme", "instance_url": server.url},
        ).id
    manager.post(
        f"/settings/accounts/{account_id}/oauth",
        data={"csrf_token": _token(manager)},
        follow_redirects=False,
    )
    manager.get("/settings/accounts/oauth/callback", params={"code": "x", "state": "forged"})
    assert server.seen("POST", "/oauth/token") == []
    with factory() as session:
        account = session.get(NetworkAccount, account_id)
        assert account is not None and account_config(box, account).access_token is None  # type: ignore[attr-defined]
