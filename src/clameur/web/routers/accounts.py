"""Network accounts: connect, check, pause; their health; the webhook receivers."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clameur.accounts import service
from clameur.connectors import registry
from clameur.connectors.base import Capability, ConnectorError
from clameur.kit.errors import ClameurError
from clameur.publishing.service import publishes_unconnected
from clameur.web.deps import CurrentUser, CurrentWorkspace, Db, Manager
from clameur.web.reads import sidebar
from clameur.web.templating import renderer

router = APIRouter(include_in_schema=False)
FLASH_KEY = "accounts_flash"


def _box(request: Request) -> Any:
    return service.secret_box(request.app.state.settings)


def _base_url(request: Request) -> str:
    public = request.app.state.settings.web.public_url
    return (public or str(request.base_url)).rstrip("/")


def _networks() -> list[tuple[str, str, list[str]]]:
    out = []
    for network in registry.networks():
        try:
            kind = registry.get(network)
        except ClameurError:
            continue
        out.append((network, kind.title, sorted(c.value for c in kind.capabilities)))
    return out


@router.get("/settings/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    """Every connected account with its health, and the networks that can be connected."""
    return renderer(request).render(
        request,
        "accounts.html",
        accounts=service.health(db, workspace.id, _box(request)),
        networks=_networks(),
        base_url=_base_url(request),
        flash=request.session.pop(FLASH_KEY, None),
        demo=publishes_unconnected(workspace),
        section="accounts",
        **sidebar(db, workspace.id),
    )


def _form_page(
    request: Request,
    db: Db,
    workspace_id: int,
    network: str,
    account: Any = None,
    values: dict[str, Any] | None = None,
    error: ClameurError | None = None,
) -> Response:
    kind = registry.get(network)
    masked: dict[str, Any] = {}
    if account is not None and account.config_encrypted:
        try:
            masked = service.account_config(_box(request), account).masked()
        except ClameurError as caught:
            error = error or caught
    shown = {**masked, **(values or {})}
    return renderer(request).render(
        request,
        "account_form.html",
        status_code=error.status_code if error else 200,
        network=network,
        kind=kind,
        fields=kind.config_model.form_fields(),
        requirements=kind.config_model.requirements,
        account=account,
        values=shown,
        error=error,
        base_url=_base_url(request),
        webhooks=Capability.webhooks in kind.capabilities,
        oauth=_oauth(network) is not None,
        section="accounts",
        **sidebar(db, workspace_id),
    )


@router.get("/settings/accounts/new/{network}", response_class=HTMLResponse)
def new_account_page(
    request: Request, db: Db, user: Manager, workspace: CurrentWorkspace, network: str
) -> Response:
    """The settings form of a network, with what the user must obtain first."""
    return _form_page(request, db, workspace.id, network)


@router.get("/settings/accounts/{account_id}", response_class=HTMLResponse)
def edit_account_page(
    request: Request, db: Db, user: Manager, workspace: CurrentWorkspace, account_id: int
) -> Response:
    """An account's settings (secrets masked: left blank, they are kept)."""
    account = service.get_account(db, workspace.id, account_id)
    return _form_page(request, db, workspace.id, account.network, account)


@router.post("/settings/accounts/save/{network}", response_class=HTMLResponse)
async def save_account(
    request: Request, db: Db, user: Manager, workspace: CurrentWorkspace, network: str
) -> Response:
    """Save an account's settings (encrypted), then check them against the network."""
    form = dict(await request.form())
    form.pop("csrf_token", None)
    account_id = int(str(form.pop("account_id", "") or 0)) or None
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        account = service.save_account(db, _box(request), workspace.id, network, values, account_id)
    except ClameurError as error:
        db.rollback()
        existing = service.get_account(db, workspace.id, account_id) if account_id else None
        shown = {
            k: v
            for k, v in values.items()
            if k not in registry.config_model(network).secret_names()
        }
        return _form_page(request, db, workspace.id, network, existing, shown, error)
    return _checked(request, db, account)


def _checked(request: Request, db: Db, account: Any) -> Response:
    """Ask the network who the credentials belong to; the accounts page says how it went."""
    try:
        service.check_account(db, _box(request), account)
        request.session[FLASH_KEY] = "connected"
    except ConnectorError as error:
        request.session[FLASH_KEY] = f"failed:{error}"
    return RedirectResponse("/settings/accounts", status_code=303)


@router.post("/settings/accounts/{account_id}/check")
def check_account(
    request: Request, db: Db, user: Manager, workspace: CurrentWorkspace, account_id: int
) -> Response:
    """Ask the network who the credentials belong to."""
    return _checked(request, db, service.get_account(db, workspace.id, account_id))


@router.post("/settings/accounts/{account_id}/pause")
def pause_account(
    request: Request, db: Db, user: Manager, workspace: CurrentWorkspace, account_id: int
) -> Response:
    """Pause or resume an account."""
    account = service.get_account(db, workspace.id, account_id)
    service.set_paused(db, account, account.status != "paused")
    return RedirectResponse("/settings/accounts", status_code=303)


@router.post("/settings/accounts/{account_id}/delete")
def delete_account(
    request: Request, db: Db, user: Manager, workspace: CurrentWorkspace, account_id: int
) -> Response:
    """Disconnect an account (its posts stay)."""
    db.delete(service.get_account(db, workspace.id, account_id))
    request.session[FLASH_KEY] = "deleted"
    return RedirectResponse("/settings/accounts", status_code=303)


# --- Webhooks: the networks call these, without a session ---------------------------------


@router.get("/webhooks/{network}/{account_id}")
def webhook_handshake(request: Request, db: Db, network: str, account_id: int) -> Response:
    """A network's subscription check (Meta's hub.challenge)."""
    outcome = service.webhook_handshake(
        db, _box(request), network, account_id, dict(request.headers), dict(request.query_params)
    )
    return Response(outcome.body, status_code=outcome.status, media_type=outcome.content_type)


@router.post("/webhooks/{network}/{account_id}")
async def webhook_delivery(request: Request, network: str, account_id: int) -> Response:
    """A delivery: refused unless signed; stored, then read into the inbound queue."""
    body = await request.body()
    outcome = service.receive_webhook(
        request.app.state.session_factory,
        _box(request),
        network,
        account_id,
        dict(request.headers),
        dict(request.query_params),
        body,
    )
    return Response(outcome.body, status_code=outcome.status, media_type=outcome.content_type)


# --- OAuth: the network's approval page, then back here with a code -----------------------

OAUTH_KEY = "oauth_request"
CALLBACK = "/settings/accounts/oauth/callback"


def _oauth(network: str) -> Any | None:
    """The network's OAuth module (authorization_request, exchange_code), if it has one."""
    try:
        return importlib.import_module(f"clameur.connectors.{network}.oauth")
    except ModuleNotFoundError:
        return None


@router.post("/settings/accounts/{account_id}/oauth")
def start_oauth(
    request: Request, db: Db, user: Manager, workspace: CurrentWorkspace, account_id: int
) -> Response:
    """Send the manager to the network's approval page (registering Clameur as an app on a
    Mastodon server first); the network sends them back to the callback with a code."""
    account = service.get_account(db, workspace.id, account_id)
    module = _oauth(account.network)
    if module is None:
        raise ClameurError(f"{account.network} accounts are connected with the form only")
    box = _box(request)
    config = service.account_config(box, account)
    redirect_uri = _base_url(request) + CALLBACK
    register = getattr(module, "register_app", None)
    if register is not None:
        config = register(config, redirect_uri)
        account.config_encrypted = box.encrypt(config)
    approval = module.authorization_request(config, redirect_uri)
    request.session[OAUTH_KEY] = {
        "account_id": account.id,
        "request": {f.name: getattr(approval, f.name) for f in dataclasses.fields(approval)},
    }
    return RedirectResponse(approval.url, status_code=303)


@router.get("/settings/accounts/oauth/callback")
def finish_oauth(
    request: Request,
    db: Db,
    user: Manager,
    workspace: CurrentWorkspace,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    """The network's answer: exchange the code for tokens, store them encrypted, check them."""
    pending = request.session.pop(OAUTH_KEY, None)
    if not pending:
        raise ClameurError("No connection was in progress: start again from the account's page.")
    account = service.get_account(db, workspace.id, int(pending["account_id"]))
    if error or not code:
        request.session[FLASH_KEY] = f"failed:{error or 'no approval code'}"
        return RedirectResponse("/settings/accounts", status_code=303)
    module = _oauth(account.network)
    assert module is not None
    box = _box(request)
    approval = module.AuthorizationRequest(**pending["request"])
    try:
        config = module.exchange_code(service.account_config(box, account), approval, code, state)
    except ConnectorError as failure:
        request.session[FLASH_KEY] = f"failed:{failure}"
        return RedirectResponse("/settings/accounts", status_code=303)
    account.config_encrypted = box.encrypt(config)
    return _checked(request, db, account)
