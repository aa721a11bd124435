"""Publishing: compose once for several accounts, schedule, approve; what is planned and sent.

A composition becomes one `Publication` per account, sharing a `batch_key`. Its images are
public addresses, each with an optional description (alt text) for people who cannot see it,
checked against the shortest limit of the chosen networks (`alt_text_limit`). An agent's
publications wait for a manager's approval; a manager's are scheduled at once. The outbox
(`clameur.publishing.dispatch`) sends each one when it is due, once and only once, and holds the
promotional ones while crisis mode is on (`clameur.radar.crisis.crisis_flag`).
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from clameur.connectors import registry
from clameur.connectors.base import Capability, Connector
from clameur.connectors.demo.workspace import DEMO_WORKSPACE
from clameur.connectors.media import shown
from clameur.inbox.compose import check_body
from clameur.kit.errors import ClameurError, Conflict, Forbidden, NotFound
from clameur.kit.time import utcnow
from clameur.models import NetworkAccount, Publication, User, Workspace
from clameur.radar.crisis import crisis_flag
from clameur.store.rows import workspace_row

# What each network accepts in a new post (a reply may be shorter: see inbox.compose).
PUBLISH_LIMITS: dict[str, int] = {
    "x": 280,
    "bluesky": 300,
    "mastodon": 500,
    "instagram": 2200,
    "facebook": 63206,
    "linkedin": 3000,
    "demo": 500,
}
# Networks that publish nothing without an image.
NEEDS_MEDIA = frozenset({"instagram"})
# The longest description (alt text) Clameur takes for an image, whatever the network: X's
# documented limit, and plenty to describe an image (descriptions are read aloud).
ALT_TEXT_LIMIT = 1000
# The limits the networks document (see each connector's docstring); a network not listed
# documents none, and gets ALT_TEXT_LIMIT. Mastodon's `description` (its MediaAttachment model),
# LinkedIn's `altText` (Posts API), X's `alt_text` (media metadata).
ALT_TEXT_LIMITS: dict[str, int] = {"mastodon": 1500, "linkedin": 4086, "x": 1000}
# A time this far in the past is a mistake, not "now".
PAST_GRACE = timedelta(minutes=2)
CANCELLABLE = ("awaiting_approval", "scheduled", "failed")
# How the calendar shows each status (crisis mode adds "held" for promotional posts due).
CALENDAR_STATES = {
    "awaiting_approval": "awaiting",
    "scheduled": "scheduled",
    "sending": "scheduled",
    "failed": "failed",
    "sent": "sent",
}


def _kind(network: str) -> type[Connector[Any]] | None:
    """The connector class of `network`, None when Clameur has none."""
    try:
        return registry.get(network)
    except ClameurError:
        return None


def can_publish(network: str) -> bool:
    """Whether Clameur can publish on `network`."""
    if network not in PUBLISH_LIMITS:
        return False
    kind = _kind(network)
    return network == "demo" if kind is None else Capability.publish in kind.capabilities


def attaches_images(network: str) -> bool:
    """Whether Clameur attaches images to what it publishes on `network`."""
    kind = _kind(network)
    return kind is not None and Capability.images in kind.capabilities


def image_limit(network: str) -> int | None:
    """How many images one post takes on `network` (None: no limit Clameur knows of)."""
    kind = _kind(network)
    return kind.max_images if kind is not None else None


def publishes_unconnected(workspace: Workspace) -> bool:
    """Whether accounts without settings may publish: only the demo's, which are made up and
    publish through the demo network."""
    return bool(workspace.slug == DEMO_WORKSPACE["slug"])


def publishing_accounts(
    session: Session, workspace_id: int, include_unconnected: bool = False
) -> list[NetworkAccount]:
    """The workspace's accounts that can publish: connected (settings stored) unless
    `include_unconnected` (the demo publishes on accounts it made up)."""
    accounts = session.scalars(
        select(NetworkAccount)
        .where(NetworkAccount.workspace_id == workspace_id, NetworkAccount.status != "paused")
        .order_by(NetworkAccount.network, NetworkAccount.handle)
    ).all()
    return [
        account
        for account in accounts
        if can_publish(account.network)
        and (include_unconnected or account.config_encrypted is not None)
    ]


def check_text(network: str, body: str) -> str:
    """The post's text, stripped, if the network accepts it; else an error naming the limit."""
    return check_body(network, body, PUBLISH_LIMITS, what="post", verb="publish")


def alt_text_limit(network: str) -> int:
    """The longest description of an image Clameur sends to `network`."""
    return min(ALT_TEXT_LIMIT, ALT_TEXT_LIMITS.get(network, ALT_TEXT_LIMIT))


def check_images(urls: Iterable[str], alts: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """Image addresses and their descriptions, paired in order (`alts` may be shorter): each
    address a public http(s) one, each description at most `ALT_TEXT_LIMIT` characters. An entry
    with neither is left out; a description without its address is refused."""
    raw_urls, raw_alts = list(urls), list(alts)
    raw_alts += [""] * (len(raw_urls) - len(raw_alts))
    raw_urls += [""] * (len(raw_alts) - len(raw_urls))
    checked: list[str] = []
    descriptions: list[str] = []
    for raw_url, raw_alt in zip(raw_urls, raw_alts, strict=True):
        url, alt = str(raw_url or "").strip(), str(raw_alt or "").strip()
        if not url and not alt:
            continue
        number = len(checked) + 1
        if not url:
            raise ClameurError(
                f"Image {number} has a description but no address: add the image's address, "
                "or remove the description."
            )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ClameurError(f"{url!r} is not a public image address (http:// or https://).")
        checked.append(url)
        descriptions.append(alt)
    for number, (url, alt) in enumerate(zip(checked, descriptions, strict=True), start=1):
        _check_alt(number, url, alt, ALT_TEXT_LIMIT, "Clameur")
    return checked, descriptions


def _check_alt(number: int, url: str, alt: str, limit: int, who: str) -> None:
    if len(alt) > limit:
        raise ClameurError(
            f"The description of image {number} ({shown(url)}) is {len(alt):,} characters "
            f"long; {who} takes descriptions of at most {limit:,} characters. Shorten it."
        )


def compose(
    session: Session,
    workspace_id: int,
    user: User,
    body: str,
    account_ids: Sequence[int],
    scheduled_at: datetime | None = None,
    promotional: bool = False,
    media_urls: Iterable[str] = (),
    media_alts: Iterable[str] = (),
    include_unconnected: bool = False,
    now: datetime | None = None,
) -> list[Publication]:
    """One publication per chosen account, checked against each network's rules; scheduled when
    a manager composes, awaiting approval otherwise. `media_alts` describes each image of
    `media_urls`, in order (it may be shorter)."""
    if not user.can_edit:
        raise Forbidden("Viewers cannot publish.")
    now = now or utcnow()
    if not account_ids:
        raise ClameurError("Choose at least one account to publish on.")
    allowed = {
        account.id: account
        for account in publishing_accounts(session, workspace_id, include_unconnected)
    }
    chosen = []
    for account_id in dict.fromkeys(account_ids):
        account = allowed.get(account_id)
        if account is None:
            raise ClameurError(f"Account {account_id} cannot publish from this workspace.")
        chosen.append(account)
    media, alts = check_images(media_urls, media_alts)
    texts = {}
    for account in chosen:
        texts[account.id] = check_text(account.network, body)
        if account.network in NEEDS_MEDIA and not media:
            raise ClameurError(
                f"{account.network} publishes nothing without an image: add an image address."
            )
        if media and not attaches_images(account.network):
            # Sending the text alone would lose what the author meant to show.
            raise ClameurError(
                f"Clameur cannot attach images on {account.network} yet: publish the images "
                "on the other accounts, and this text without them."
            )
        most = image_limit(account.network)
        if media and most is not None and len(media) > most:
            raise ClameurError(
                f"{account.network} takes at most {most} image{'s' if most > 1 else ''} in a "
                f"post; this one has {len(media)}."
            )
        for number, (url, alt) in enumerate(zip(media, alts, strict=True), start=1):
            _check_alt(number, url, alt, alt_text_limit(account.network), account.network)
    when = scheduled_at or now
    if when < now - PAST_GRACE:
        raise ClameurError("The publication time is in the past.")
    batch = str(uuid.uuid4())
    status = "scheduled" if user.is_manager else "awaiting_approval"
    publications = []
    for account in chosen:
        publication = Publication(
            workspace_id=workspace_id,
            account_id=account.id,
            network=account.network,
            batch_key=batch,
            body=texts[account.id],
            media_urls=media,
            media_alts=alts,
            promotional=promotional,
            status=status,
            scheduled_at=when,
            idempotency_key=uuid.uuid4().hex,
            created_by_id=user.id,
            approved_by_id=user.id if user.is_manager else None,
            created_at=now,
        )
        session.add(publication)
        publications.append(publication)
    session.flush()
    return publications


def get_publication(session: Session, workspace_id: int, publication_id: int) -> Publication:
    """A publication of the workspace, or NotFound."""
    return workspace_row(session, Publication, workspace_id, publication_id, "publication")


def list_publications(
    session: Session, workspace_id: int, status: str | None = None, limit: int = 100
) -> list[Publication]:
    """The workspace's publications: next due first, or newest first once sent."""
    statement = select(Publication).where(Publication.workspace_id == workspace_id)
    if status is not None:
        statement = statement.where(Publication.status == status)
    order = (
        (Publication.sent_at.desc(), Publication.id.desc())
        if status == "sent"
        else (Publication.scheduled_at, Publication.id)
    )
    return list(session.scalars(statement.order_by(*order).limit(limit)))


def approve(session: Session, publication: Publication, manager: User) -> Publication:
    """A manager lets an agent's publication go out at its time."""
    if not manager.is_manager:
        raise Forbidden("Only a manager approves publications.")
    if publication.status != "awaiting_approval":
        raise Conflict("This publication is not waiting for approval.")
    publication.status, publication.approved_by_id = "scheduled", manager.id
    session.flush()
    return publication


def cancel(session: Session, publication: Publication, user: User) -> Publication:
    """Withdraw a publication that has not gone out (its author, or a manager)."""
    if not (user.is_manager or (user.can_edit and publication.created_by_id == user.id)):
        raise Forbidden("Only its author or a manager can cancel a publication.")
    if publication.status not in CANCELLABLE:
        raise Conflict("This publication is already on its way or published; it stays.")
    publication.status, publication.next_attempt_at = "cancelled", None
    session.flush()
    return publication


def retry(session: Session, publication: Publication, user: User) -> Publication:
    """Try a failed publication again, with the same idempotency key: if the network did take
    it in the end, it is not published twice."""
    if not user.can_edit:
        raise Forbidden("Viewers cannot publish.")
    if publication.status != "failed":
        raise Conflict("Only a failed publication can be tried again.")
    publication.status, publication.attempts = "scheduled", 0
    publication.error, publication.next_attempt_at = None, None
    session.flush()
    return publication


def batch(session: Session, workspace_id: int, batch_key: str) -> list[Publication]:
    """The publications composed together, or NotFound."""
    publications = list(
        session.scalars(
            select(Publication)
            .where(Publication.workspace_id == workspace_id, Publication.batch_key == batch_key)
            .order_by(Publication.id)
        )
    )
    if not publications:
        raise NotFound("There is no such publication here.")
    return publications


def approve_batch(session: Session, publications: Sequence[Publication], manager: User) -> int:
    """Approve every publication of a composition that waits for it; how many."""
    waiting = [p for p in publications if p.status == "awaiting_approval"]
    if not waiting:
        raise Conflict("Nothing here is waiting for approval.")
    for publication in waiting:
        approve(session, publication, manager)
    return len(waiting)


def cancel_batch(session: Session, publications: Sequence[Publication], user: User) -> int:
    """Cancel every publication of a composition that has not gone out; how many."""
    pending = [p for p in publications if p.status in CANCELLABLE]
    if not pending:
        raise Conflict("Everything here is already on its way or published; it stays.")
    for publication in pending:
        cancel(session, publication, user)
    return len(pending)


@dataclass(slots=True)
class Group:
    """Publications composed together and due together: shown as one post on several
    accounts."""

    items: list[Publication]

    @property
    def first(self) -> Publication:
        """The publication that stands for the group (text, time)."""
        return self.items[0]

    @property
    def moment(self) -> datetime:
        """When it went out, once published; else when it is due."""
        first = self.first
        return first.sent_at if first.status == "sent" and first.sent_at else first.scheduled_at


@dataclass(slots=True)
class Entry(Group):
    """One post of the calendar: a group in one state (see `CALENDAR_STATES`, and "held")."""

    state: str = "scheduled"

    @property
    def networks(self) -> list[str]:
        """Its networks, each once, in the order of its publications."""
        return list(dict.fromkeys(p.network for p in self.items))


def _grouped(publications: Iterable[Publication]) -> list[Group]:
    groups: dict[tuple[str, datetime], Group] = {}
    for publication in publications:
        key = (publication.batch_key, publication.scheduled_at)
        if key in groups:
            groups[key].items.append(publication)
        else:
            groups[key] = Group([publication])
    return list(groups.values())


def calendar_state(publication: Publication, crisis: bool) -> str:
    """How the calendar shows a publication: scheduled, awaiting, sent, failed, or held (a
    promotional post due while crisis mode is on)."""
    if crisis and publication.promotional and publication.status == "scheduled":
        return "held"
    return CALENDAR_STATES[publication.status]


def calendar_entries(
    publications: Iterable[Publication], zone: ZoneInfo, crisis: bool
) -> dict[date, list[Entry]]:
    """Publications as the calendar shows them: grouped by composition, time and state, under
    the day (in `zone`) they go out or went out, in the order of the day."""
    entries: dict[tuple[str, datetime, str], Entry] = {}
    for publication in publications:
        state = calendar_state(publication, crisis)
        key = (publication.batch_key, publication.scheduled_at, state)
        if key in entries:
            entries[key].items.append(publication)
        else:
            entries[key] = Entry([publication], state)
    days: dict[date, list[Entry]] = {}
    for entry in sorted(entries.values(), key=lambda e: (e.moment, e.first.id)):
        days.setdefault(entry.moment.astimezone(zone).date(), []).append(entry)
    return days


def _days_between(
    session: Session, workspace_id: int, zone: ZoneInfo, first: date, last: date
) -> list[Publication]:
    """The publications due from `first` to `last` (whole days in `zone`), and those sent then;
    cancelled ones are left out."""
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    planned = tuple(status for status in CALENDAR_STATES if status != "sent")
    return list(
        session.scalars(
            select(Publication)
            .where(
                Publication.workspace_id == workspace_id,
                or_(
                    and_(
                        Publication.status.in_(planned),
                        Publication.scheduled_at >= start,
                        Publication.scheduled_at < end,
                    ),
                    and_(
                        Publication.status == "sent",
                        Publication.sent_at >= start,
                        Publication.sent_at < end,
                    ),
                ),
            )
            .order_by(Publication.id)
        )
    )


@dataclass(slots=True)
class Day:
    """The publications of one day of the calendar, in the workspace's time zone."""

    day: date
    groups: list[Group] = field(default_factory=list)


@dataclass(slots=True)
class PublishingBoard:
    """What the publishing page shows."""

    awaiting: list[Group]
    upcoming: list[Day]
    failed: list[Publication]
    sent: list[Publication]
    held: set[int]
    crisis: bool
    accounts: dict[int, NetworkAccount]
    # With `days`: every post of those days, by day (the month grid, or the list of one day).
    calendar: dict[date, list[Entry]] = field(default_factory=dict)


def board(
    session: Session,
    workspace_id: int,
    now: datetime | None = None,
    days: tuple[date, date] | None = None,
) -> PublishingBoard:
    """The approvals, the calendar of what is scheduled, the failures and the latest sent.
    With `days` (the first and last, in the workspace's time zone), the calendar holds every
    post due or sent on those days instead: only those days are read."""
    now = now or utcnow()
    workspace = session.get(Workspace, workspace_id)
    zone = ZoneInfo(workspace.timezone if workspace is not None else "UTC")

    def of(statuses: tuple[str, ...], newest_first: bool = False, limit: int = 200) -> list[Any]:
        order = Publication.sent_at.desc() if newest_first else Publication.scheduled_at
        return list(
            session.scalars(
                select(Publication)
                .where(Publication.workspace_id == workspace_id, Publication.status.in_(statuses))
                .order_by(order, Publication.id)
                .limit(limit)
            )
        )

    crisis = crisis_flag(session, workspace_id)
    awaiting, failed = of(("awaiting_approval",)), of(("failed",))
    # The calendar's publications: what is due, or with `days`, everything of those days.
    on_calendar: list[Publication] = []
    sent: list[Publication] = []
    upcoming: dict[date, Day] = {}
    shown: dict[date, list[Entry]] = {}
    if days is None:
        on_calendar = of(("scheduled", "sending"))
        for group in _grouped(on_calendar):
            day = group.first.scheduled_at.astimezone(zone).date()
            upcoming.setdefault(day, Day(day)).groups.append(group)
        sent = of(("sent",), newest_first=True, limit=30)
    else:
        on_calendar = _days_between(session, workspace_id, zone, *days)
        shown = calendar_entries(on_calendar, zone, crisis)
    held = {p.id for p in on_calendar if calendar_state(p, crisis) == "held"}
    ids = {p.account_id for p in [*awaiting, *failed, *sent, *on_calendar]}
    accounts = {
        a.id: a for a in session.scalars(select(NetworkAccount).where(NetworkAccount.id.in_(ids)))
    }
    return PublishingBoard(
        awaiting=_grouped(awaiting),
        upcoming=[upcoming[d] for d in sorted(upcoming)],
        failed=failed,
        sent=sent,
        held=held,
        crisis=crisis,
        accounts=accounts,
        calendar=shown,
    )


def month_of(text: str | None, today: date) -> date:
    """The first day of the month written `2026-11`; this month when `text` is none or not a
    month."""
    try:
        return datetime.strptime(text or "", "%Y-%m").date()
    except ValueError:
        return today.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (or before) `month`'s."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_weeks(month: date, first_weekday: int = 0) -> list[list[date]]:
    """The weeks a month grid shows, whole weeks from the one of the 1st to the one of the last
    day, each starting on `first_weekday` (0 Monday ... 6 Sunday)."""
    return calendar.Calendar(first_weekday).monthdatescalendar(month.year, month.month)


@dataclass(slots=True)
class MonthDay:
    """One cell of the month grid."""

    day: date
    entries: list[Entry]
    in_month: bool
    is_today: bool


@dataclass(slots=True)
class MonthGrid:
    """A month as weeks of days, with its posts."""

    month: date
    weeks: list[list[MonthDay]]

    @property
    def previous(self) -> date:
        """The first day of the month before."""
        return add_months(self.month, -1)

    @property
    def next(self) -> date:
        """The first day of the month after."""
        return add_months(self.month, 1)

    @property
    def busy_days(self) -> list[MonthDay]:
        """The days of the month that have posts (a phone shows only those)."""
        return [d for week in self.weeks for d in week if d.in_month and d.entries]


def month_grid(
    month: date, entries: Mapping[date, list[Entry]], today: date, first_weekday: int = 0
) -> MonthGrid:
    """The month grid of `month`, its days holding `entries` (see `board`'s `days`)."""
    month = month.replace(day=1)
    weeks = [
        [
            MonthDay(day, list(entries.get(day, [])), day.month == month.month, day == today)
            for day in week
        ]
        for week in month_weeks(month, first_weekday)
    ]
    return MonthGrid(month, weeks)


def published_between(session: Session, workspace_id: int, start: datetime, end: datetime) -> int:
    """How many publications went out between `start` and `end` (the crisis room counts them)."""
    return int(
        session.scalar(
            select(func.count(Publication.id)).where(
                Publication.workspace_id == workspace_id,
                Publication.status == "sent",
                Publication.sent_at >= start,
                Publication.sent_at <= end,
            )
        )
        or 0
    )


def held_count(session: Session, workspace_id: int) -> int:
    """How many promotional posts wait for crisis mode to end (counted whether or not it is
    on: the crisis room shows them while it is)."""
    return int(
        session.scalar(
            select(func.count(Publication.id)).where(
                Publication.workspace_id == workspace_id,
                Publication.status == "scheduled",
                Publication.promotional.is_(True),
            )
        )
        or 0
    )
