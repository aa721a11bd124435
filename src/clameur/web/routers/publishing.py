"""Publishing: compose once for several accounts, the calendar, approvals, failures.

The composer's images are rows of an address and its description (alt text), sent as the
repeated fields `media_url` and `media_alt`; "Add another image" sends the form back with one
more empty row, so that it works without JavaScript and from the keyboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clameur.kit.errors import ClameurError
from clameur.models import Workspace
from clameur.publishing import service
from clameur.web.deps import CurrentUser, CurrentWorkspace, Db, Editor
from clameur.web.i18n import zone
from clameur.web.reads import sidebar
from clameur.web.templating import renderer

router = APIRouter(include_in_schema=False)
# The most image rows "Add another image" goes to (LinkedIn's MultiImage limit, the highest
# known; Facebook names none).
IMAGE_ROWS = 20


def _image_rows(urls: list[str], alts: list[str]) -> list[dict[str, str]]:
    """The composer's image rows as submitted (an address and its description each); one
    empty row when there is none."""
    count = max(len(urls), len(alts))
    rows = [
        {
            "url": urls[index] if index < len(urls) else "",
            "alt": alts[index] if index < len(alts) else "",
        }
        for index in range(count)
    ]
    return rows or [{"url": "", "alt": ""}]


def _page(
    request: Request,
    db: Db,
    workspace: Workspace,
    values: dict[str, Any] | None = None,
    error: ClameurError | None = None,
) -> Response:
    accounts = service.publishing_accounts(
        db, workspace.id, include_unconnected=service.publishes_unconnected(workspace)
    )
    return renderer(request).render(
        request,
        "publishing.html",
        status_code=error.status_code if error else 200,
        board=service.board(db, workspace.id),
        accounts=accounts,
        limits=service.PUBLISH_LIMITS,
        image_networks=sorted({a.network for a in accounts if service.attaches_images(a.network)}),
        needs_media=sorted(service.NEEDS_MEDIA),
        alt_limit=service.ALT_TEXT_LIMIT,
        image_rows=IMAGE_ROWS,
        values=values or {"accounts": [], "when": "now", "images": _image_rows([], [])},
        error=error,
        flash=request.query_params.get("done"),
        section="publishing",
        **sidebar(db, workspace.id),
    )


@router.get("/publish", response_class=HTMLResponse)
def publishing_page(
    request: Request, db: Db, user: CurrentUser, workspace: CurrentWorkspace
) -> Response:
    """The composer, what waits for approval, the calendar, failures and the latest sent."""
    return _page(request, db, workspace)


def _moment(text: str, timezone: str) -> datetime:
    """A `datetime-local` value, read in the workspace's time zone."""
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise ClameurError(f"{text!r} is not a date and time.") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone(timezone))
    return local.astimezone(UTC)


@router.post("/publish", response_class=HTMLResponse)
async def compose(request: Request, db: Db, user: Editor, workspace: CurrentWorkspace) -> Response:
    """Schedule (or submit for approval) one post on each chosen account."""
    form = await request.form()
    values: dict[str, Any] = {
        "body": str(form.get("body", "")),
        "accounts": [int(str(v)) for v in form.getlist("account") if str(v).isdigit()],
        "when": str(form.get("when", "now")),
        "scheduled_at": str(form.get("scheduled_at", "")),
        "images": _image_rows(
            [str(v) for v in form.getlist("media_url")], [str(v) for v in form.getlist("media_alt")]
        ),
        "promotional": form.get("promotional") == "on",
    }
    if form.get("more_images"):
        if len(values["images"]) < IMAGE_ROWS:
            values["images"].append({"url": "", "alt": ""})
        return _page(request, db, workspace, values)
    try:
        scheduled = None
        if values["when"] == "later":
            if not values["scheduled_at"]:
                raise ClameurError("Choose when to publish, or publish now.")
            scheduled = _moment(values["scheduled_at"], workspace.timezone)
        publications = service.compose(
            db,
            workspace.id,
            user,
            values["body"],
            values["accounts"],
            scheduled_at=scheduled,
            promotional=values["promotional"],
            media_urls=[row["url"] for row in values["images"]],
            media_alts=[row["alt"] for row in values["images"]],
            include_unconnected=service.publishes_unconnected(workspace),
        )
    except ClameurError as error:
        db.rollback()
        return _page(request, db, workspace, values, error)
    done = "scheduled" if publications[0].status == "scheduled" else "submitted"
    return RedirectResponse(f"/publish?done={done}", status_code=303)


# What each button does, on a whole composition or on one publication.
BATCH_ACTIONS = {"approve": service.approve_batch, "cancel": service.cancel_batch}
ACTIONS = {"approve": service.approve, "cancel": service.cancel, "retry": service.retry}


def _action(actions: dict[str, Any], action: str) -> Any:
    if action not in actions:
        raise ClameurError(f"Unknown action {action!r}.")
    return actions[action]


@router.post("/publish/batch/{batch_key}/{action}", response_class=HTMLResponse)
def act_on_batch(
    db: Db, user: Editor, workspace: CurrentWorkspace, batch_key: str, action: str
) -> Response:
    """Approve or cancel a post on every account it was composed for."""
    _action(BATCH_ACTIONS, action)(db, service.batch(db, workspace.id, batch_key), user)
    return RedirectResponse(f"/publish?done={action}", status_code=303)


@router.post("/publish/{publication_id}/{action}", response_class=HTMLResponse)
def act(
    db: Db, user: Editor, workspace: CurrentWorkspace, publication_id: int, action: str
) -> Response:
    """Approve, cancel or retry one publication."""
    publication = service.get_publication(db, workspace.id, publication_id)
    _action(ACTIONS, action)(db, publication, user)
    return RedirectResponse(f"/publish?done={action}", status_code=303)
