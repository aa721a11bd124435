"""The publications' outbox: each scheduled post sent through its network once and only once.

It follows the replies' outbox (`clameur.inbox.outbox`): a runner claims a due publication by
marking it `sending` and committing, calls the network, then records the result. Never
publishing twice rests on the connectors' contract: `publish` called again with the same
idempotency key returns the first post's id without writing again (the network's idempotency
header, or a look-up of what the account already published). A runner that dies between the
network's acceptance and the commit leaves the publication `sending`; after `STUCK_AFTER`
another runner takes it, and the second call is a no-op that returns the first id.

Promotional publications are not claimed while their workspace is in crisis mode: they wait,
shown as held, and go out when the crisis ends (or are cancelled by the team).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session, sessionmaker

from clameur.connectors.base import Published
from clameur.inbox.outbox import STUCK_AFTER, claim_first, retry_delay
from clameur.kit.time import utcnow
from clameur.listening.service import load_query_index
from clameur.models import NetworkAccount, Publication
from clameur.pipeline.jobs import RetryableError
from clameur.pipeline.schemas import AuthorIn, PostIn
from clameur.pipeline.stages import run_batch
from clameur.radar.crisis import workspaces_in_crisis
from clameur.store.engine import unit_of_work

log = logging.getLogger(__name__)


@runtime_checkable
class PublicationSender(Protocol):
    """What the outbox needs to publish on an account."""

    def send_publication(self, publication: Publication, account: NetworkAccount) -> Published:
        """Publish `publication.body` (and its images) from `account`; idempotent by
        `publication.idempotency_key`. Raise a `RetryableError` for a failure worth retrying;
        any other exception is permanent and its message is shown to the team."""
        ...


@dataclass(slots=True)
class PublishingReport:
    """What one delivery round did, by publication id."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        """Whether the round did anything."""
        return bool(self.sent or self.retrying or self.failed)


@dataclass(slots=True)
class _Claim:
    publication_id: int
    attempts: int


def _claim_next(factory: sessionmaker[Session], now: datetime) -> _Claim | None:
    """Mark the next due publication `sending` (committed), so no other runner sends it."""
    in_crisis = workspaces_in_crisis()
    with unit_of_work(factory) as session:
        statement = (
            select(Publication.id, Publication.status, Publication.attempts)
            .where(
                or_(
                    and_(
                        Publication.status == "scheduled",
                        Publication.scheduled_at <= now,
                        or_(
                            Publication.next_attempt_at.is_(None),
                            Publication.next_attempt_at <= now,
                        ),
                        or_(
                            Publication.promotional == false(),
                            Publication.workspace_id.not_in(in_crisis),
                        ),
                    ),
                    and_(
                        Publication.status == "sending",
                        Publication.next_attempt_at < now - STUCK_AFTER,
                    ),
                )
            )
            .order_by(Publication.scheduled_at, Publication.id)
            .limit(1)
        )
        row = claim_first(session, statement, Publication, now)
        if row is None:
            return None
        publication_id, _status, attempts = row
        return _Claim(publication_id, attempts + 1)


def _load(
    factory: sessionmaker[Session], publication_id: int
) -> tuple[Publication, NetworkAccount]:
    """The publication and its account, detached: nothing is held open during the send."""
    session = factory()
    try:
        publication = session.get(Publication, publication_id)
        assert publication is not None
        account = session.get(NetworkAccount, publication.account_id)
        assert account is not None
        return publication, account
    finally:
        session.close()


def _ours(session: Session, claim: _Claim) -> Publication | None:
    publication = session.get(Publication, claim.publication_id)
    if publication is None or publication.status != "sending":
        return None
    # Another runner took it over (this one looked dead): leave it.
    return publication if publication.attempts == claim.attempts else None


def _record_sent(
    factory: sessionmaker[Session], claim: _Claim, published: Published, now: datetime
) -> bool:
    """Mark the publication sent and store the post as the account's own."""
    with unit_of_work(factory) as session:
        publication = _ours(session, claim)
        if publication is None:
            return False
        account = session.get(NetworkAccount, publication.account_id)
        publication.status, publication.sent_at = "sent", now
        publication.external_id, publication.url = published.external_id, published.url
        publication.error, publication.next_attempt_at = None, None
        session.flush()
        if account is not None:
            post = PostIn(
                id=published.external_id,
                network=publication.network,
                text=publication.body,
                created_at=now,
                url=published.url,
                author=AuthorIn(handle=account.handle, name=account.display_name or account.handle),
            )
            run_batch(
                session,
                publication.workspace_id,
                [post],
                load_query_index(session, publication.workspace_id),
            )
        return True


def _record_failure(
    factory: sessionmaker[Session], claim: _Claim, error: Exception, now: datetime
) -> str | None:
    """Back off or give up; the publication's new status (None when it is no longer ours)."""
    with unit_of_work(factory) as session:
        publication = _ours(session, claim)
        if publication is None:
            return None
        message = str(error) or type(error).__name__
        delay = retry_delay(error, publication.attempts)
        if delay is not None:
            publication.status, publication.error = "scheduled", message
            publication.next_attempt_at = now + delay
            return "scheduled"
        if isinstance(error, RetryableError):
            message = f"gave up after {publication.attempts} attempts: {message}"
        publication.status, publication.error, publication.next_attempt_at = "failed", message, None
        return "failed"


def deliver_due_publications(
    factory: sessionmaker[Session],
    sender: PublicationSender,
    now: datetime | None = None,
    limit: int = 50,
) -> PublishingReport:
    """Send the publications that are due, each in its own transactions. Safe to run in
    several runners at once."""
    now = now or utcnow()
    report = PublishingReport()
    for _ in range(limit):
        claim = _claim_next(factory, now)
        if claim is None:
            break
        publication, account = _load(factory, claim.publication_id)
        try:
            published = sender.send_publication(publication, account)
        except Exception as error:  # noqa: BLE001 - a network's failure is recorded, not raised
            log.info("publication %s not sent: %s", claim.publication_id, error)
            outcome = _record_failure(factory, claim, error, now)
            if outcome == "scheduled":
                report.retrying.append(claim.publication_id)
            elif outcome == "failed":
                report.failed.append(claim.publication_id)
            continue
        if _record_sent(factory, claim, published, now):
            report.sent.append(claim.publication_id)
    return report
