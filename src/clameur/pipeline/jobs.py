"""The job queue: enqueue in the caller's transaction, claim, run, retry with back-off."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from clameur.kit.time import utcnow
from clameur.models import Job
from clameur.store.engine import unit_of_work

log = logging.getLogger(__name__)

# A job function takes the session factory, the job's payload and a progress callback.
JobFunction = Callable[[sessionmaker[Session], dict[str, Any], Callable[[float], None]], Any]
MAX_ATTEMPTS = 5
STALE_AFTER = timedelta(minutes=10)


class RetryableError(Exception):
    """A failure worth retrying later, after `delay` seconds."""

    def __init__(self, message: str, delay: float = 30.0) -> None:
        super().__init__(message)
        self.delay = delay


def enqueue_job(session: Session, kind: str, payload: dict[str, Any]) -> Job:
    """Add a job in the caller's transaction: it exists only if the caller commits."""
    job = Job(kind=kind, payload=payload, status="pending", run_after=utcnow())
    session.add(job)
    session.flush()
    return job


def _claim(factory: sessionmaker[Session], worker: str) -> tuple[int, str, dict[str, Any]] | None:
    now = utcnow()
    with unit_of_work(factory) as session:
        statement = (
            select(Job)
            .where(
                (Job.status == "pending") & (Job.run_after <= now)
                | (Job.status == "running") & (Job.locked_at < now - STALE_AFTER)
            )
            .order_by(Job.run_after, Job.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        job = session.scalars(statement).first()
        if job is None:
            return None
        claimed = session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == job.status, Job.attempts == job.attempts)
            .values(status="running", locked_by=worker, locked_at=now, attempts=Job.attempts + 1)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return job.id, job.kind, dict(job.payload)


def run_one_job(
    factory: sessionmaker[Session], registry: dict[str, JobFunction], worker: str
) -> bool:
    """Claim and run one due job; False when there is none."""
    claimed = _claim(factory, worker)
    if claimed is None:
        return False
    job_id, kind, payload = claimed

    def progress(value: float) -> None:
        with unit_of_work(factory) as session:
            session.execute(update(Job).where(Job.id == job_id).values(progress=value))

    function = registry.get(kind)
    try:
        if function is None:
            raise LookupError(f"no job function for {kind!r}")
        function(factory, payload, progress)
    except RetryableError as error:
        _finish(factory, job_id, error, retry_in=error.delay)
    except Exception as error:  # noqa: BLE001 - a job failure must not stop the runner
        log.exception("job %s (%s) failed", job_id, kind)
        _finish(factory, job_id, error, retry_in=None)
    else:
        with unit_of_work(factory) as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status="done", progress=1.0, finished_at=utcnow(), last_error=None)
            )
    return True


def _finish(
    factory: sessionmaker[Session], job_id: int, error: Exception, retry_in: float | None
) -> None:
    with unit_of_work(factory) as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        job.last_error = "".join(traceback.format_exception_only(error)).strip()
        if job.attempts < MAX_ATTEMPTS:
            delay = retry_in if retry_in is not None else 2**job.attempts * 5
            job.status = "pending"
            job.run_after = utcnow() + timedelta(seconds=delay)
        else:
            job.status = "failed"
            job.finished_at = utcnow()
