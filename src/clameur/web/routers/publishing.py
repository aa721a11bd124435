"""Publishing: compose once for several accounts, the calendar, approvals, failures.

The composer's images are rows of an address and its description (alt text), sent as the
repeated fields `media_url` and `media_alt`; "Add another image" sends the form back with one
more empty row, so that it works without JavaScript and from the keyboard.

The calendar is a list by day (the default) or a month grid (`?view=month&month=2026-11`), whose
days link to the list of one day (`?view=list&day=2026-11-23`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import Any

from babel import Locale
from babel.dates import format_date, format_time
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clameur.kit.errors import ClameurError
from clameur.kit.time import utcnow
from clameur.models import Workspace
from clameur.publishing import service
from clameur.web.deps import CurrentUser, CurrentWorkspace, Db, Editor
from clameur.web.i18n import zone
from clameur.web.reads import sidebar
from clameur.web.templating import NETWORK_LABELS, renderer

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


def _day(text: str | None) -> date | None:
    """The day written `2026-11-23`, None when there is none or it is not a day."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _calendar_words(locale: str, timezone: tzinfo) -> dict[str, Any]:
    """The calendar's dates and day names, as a reader of `locale` writes them; weeks start on
    the locale's first day (Monday in French and in English outside the US)."""
    babel = Locale.parse(locale)
    first = babel.first_week_day
    names = babel.days["stand-alone"]
    order = [(first + offset) % 7 for offset in range(7)]

    def capitalised(text: str) -> str:
        return text[:1].upper() + text[1:]

    def month_label(month: date) -> str:
        return capitalised(format_date(month, "LLLL y", locale=babel))

    return {
        "first_weekday": first,
        "weekdays": [(names["wide"][day], names["abbreviated"][day]) for day in order],
        "month_label": month_label,
        "day_label": lambda day: capitalised(format_date(day, "full", locale=babel)),
        "clock": lambda moment: format_time(moment, "short", tzinfo=timezone, locale=babel),
    }


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
    timezone = zone(workspace.timezone)
    today = utcnow().astimezone(timezone).date()
    words = _calendar_words(renderer(request).locale_of(request), timezone)
    query = request.query_params
    view = "month" if query.get("view") == "month" and error is None else "list"
    day = _day(query.get("day")) if view == "list" and error is None else None
    month = service.month_of(query.get("month"), day or today)
    grid = None
    if view == "month":
        weeks = service.month_weeks(month, words["first_weekday"])
        board = service.board(db, workspace.id, days=(weeks[0][0], weeks[-1][-1]))
        grid = service.month_grid(month, board.calendar, today, words["first_weekday"])
    elif day is not None:
        board = service.board(db, workspace.id, days=(day, day))
    else:
        board = service.board(db, workspace.id)
    return renderer(request).render(
        request,
        "publishing.html",
        status_code=error.status_code if error else 200,
        board=board,
        view=view,
        day=day,
        month=month,
        grid=grid,
        **words,
        accounts=accounts,
        limits=service.PUBLISH_LIMITS,
        image_networks=sorted(
            {
                NETWORK_LABELS.get(a.network, a.network)
                for a in accounts
                if service.attaches_images(a.network)
            }
        ),
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
    """The composer, what waits for approval, the calendar (a list by day, or a month grid),
    failures and the latest sent."""
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
