"""Runners: the loop that drains the inbound queue and the job queue.

The embedded runner is a thread of `clameur serve`; `clameur worker` runs the same loop in its
own process. Both call the same functions, and several may run at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from clameur.inbox.outbox import ReplySender, deliver_due
from clameur.inbox.sla import notify_breaches
from clameur.kit.time import utcnow
from clameur.listening.service import (
    BACKFILL_JOB,
    backfill_query,
    load_query_index,
    queries_fingerprint,
)
from clameur.models import InboundItem
from clameur.nlp.analysis import Analyzer
from clameur.pipeline.ingest import validate_record
from clameur.pipeline.jobs import JobFunction, run_one_job
from clameur.pipeline.schemas import PostIn
from clameur.pipeline.stages import BatchResult, new_analyzer, run_batch_isolating_failures
from clameur.publishing.dispatch import PublicationSender, deliver_due_publications
from clameur.query import QueryIndex
from clameur.radar.channels import Sender as AlertSender
from clameur.radar.channels import deliver_due as deliver_alerts
from clameur.radar.service import run_pass as run_radar_pass
from clameur.store.engine import unit_of_work

log = logging.getLogger(__name__)


def _backfill(
    factory: sessionmaker[Session], payload: dict[str, Any], progress: Callable[[float], None]
) -> None:
    backfill_query(factory, int(payload["query_id"]), int(payload["revision"]), progress)


JOBS: dict[str, JobFunction] = {BACKFILL_JOB: _backfill}


@dataclass
class QueryCache:
    """Compiled saved queries per workspace, rebuilt when they change."""

    entries: dict[int, tuple[tuple[int, int], QueryIndex]] = field(default_factory=dict)
    analyzers: dict[int, Analyzer] = field(default_factory=dict)

    def analyzer(self, session: Session, workspace_id: int) -> Analyzer:
        """The workspace's analyzer, its near-duplicate memory kept between batches."""
        if workspace_id not in self.analyzers:
            self.analyzers[workspace_id] = new_analyzer(session, workspace_id)
        return self.analyzers[workspace_id]

    def get(self, session: Session, workspace_id: int) -> QueryIndex:
        """The current index of the workspace's saved queries."""
        fingerprint = queries_fingerprint(session, workspace_id)
        cached = self.entries.get(workspace_id)
        if cached is None or cached[0] != fingerprint:
            cached = (fingerprint, load_query_index(session, workspace_id))
            self.entries[workspace_id] = cached
        return cached[1]


def enqueue_posts(
    session: Session, workspace_id: int, source: str, payloads: list[dict[str, Any]]
) -> int:
    """Store raw posts in the inbound queue (the caller commits); they are processed later."""
    session.execute(
        insert(InboundItem),
        [
            {
                "workspace_id": workspace_id,
                "source": source,
                "payload": payload,
                "status": "pending",
                "received_at": utcnow(),
            }
            for payload in payloads
        ],
    )
    return len(payloads)


def process_inbound(
    factory: sessionmaker[Session], cache: QueryCache, batch_size: int = 500
) -> BatchResult | None:
    """Process one batch of queued raw posts in one transaction; None when the queue is empty."""
    with unit_of_work(factory) as session:
        statement = (
            select(InboundItem)
            .where(InboundItem.status == "pending")
            .order_by(InboundItem.id)
            .limit(batch_size)
        )
        if session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        items = list(session.scalars(statement))
        if not items:
            return None
        total = BatchResult()
        by_workspace: dict[int, list[tuple[InboundItem, PostIn]]] = {}
        now = utcnow()
        for item in items:
            outcome = validate_record(item.payload)
            if isinstance(outcome, str):
                item.status, item.error, item.processed_at = "rejected", outcome, now
                continue
            by_workspace.setdefault(item.workspace_id, []).append((item, outcome))
        for workspace_id, pairs in by_workspace.items():
            index = cache.get(session, workspace_id)
            result, failures = run_batch_isolating_failures(
                session,
                workspace_id,
                [post for _item, post in pairs],
                index,
                [item.payload for item, _post in pairs],
                cache.analyzer(session, workspace_id),
            )
            for position, reason in failures.items():
                failed = pairs[position][0]
                failed.status, failed.error, failed.processed_at = "rejected", reason, now
            total.imported += result.imported
            total.present += result.present
            total.matches += result.matches
            total.new_post_ids.extend(result.new_post_ids)
        done_ids = [item.id for item in items if item.status == "pending"]
        if done_ids:
            session.execute(
                update(InboundItem)
                .where(InboundItem.id.in_(done_ids))
                .values(status="done", processed_at=now),
                execution_options={"synchronize_session": False},
            )
        return total


class Runner:
    """Drains the inbound queue and runs due jobs until stopped."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        jobs: dict[str, JobFunction] | None = None,
        connectors: Mapping[str, ReplySender] | None = None,
        radar_every: float | None = None,
        alert_sender: AlertSender | None = None,
        keep_5min_days: int = 35,
        listen: Callable[[], object] | None = None,
        listen_every: float = 30.0,
        publisher: PublicationSender | None = None,
    ) -> None:
        self.factory = factory
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.jobs = jobs if jobs is not None else JOBS
        # Reply connectors by network: without them, queued replies wait.
        self.connectors = connectors or {}
        # Publishes the scheduled posts that are due (None: they wait for another runner).
        self.publisher = publisher
        self.cache = QueryCache()
        self.name = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 10000}"
        self.stop_event = threading.Event()
        self.on_batch: Callable[[BatchResult], None] | None = None
        # Service-level breaches are looked for at most this often (monotonic seconds).
        self.sla_every = 30.0
        self.next_sla_check = 0.0
        # The radar counts new posts into its series, scores finished buckets and runs the
        # alert rules every `radar_every` seconds (None: not in this runner).
        self.radar_every = radar_every
        self.next_radar_pass = 0.0
        self.alert_sender = alert_sender
        self.keep_5min_days = keep_5min_days
        # Polls the network accounts whose turn has come (each account keeps its own pace).
        self.listen = listen
        self.listen_every = listen_every
        self.next_listen = 0.0

    def run_once(self) -> bool:
        """Do one unit of work; False when there was nothing to do."""
        delivered = self.deliver_replies()
        delivered = self.deliver_publications() or delivered
        self.check_service_levels()
        self.radar_pass()
        self.listen_to_networks()
        result = process_inbound(self.factory, self.cache, self.batch_size)
        if result is not None:
            if self.on_batch:
                self.on_batch(result)
            return True
        return run_one_job(self.factory, self.jobs, self.name) or delivered

    def deliver_replies(self) -> bool:
        """Send the outbox's due replies; whether any was handled (a failure is logged, so the
        queues are still drained)."""
        if not self.connectors:
            return False
        try:
            return deliver_due(self.factory, self.connectors).busy
        except Exception:  # noqa: BLE001 - a failing network must not stop ingestion
            log.exception("reply delivery failed")
            return False

    def deliver_publications(self) -> bool:
        """Publish the scheduled posts that are due; whether any was handled."""
        if self.publisher is None:
            return False
        try:
            return deliver_due_publications(self.factory, self.publisher).busy
        except Exception:  # noqa: BLE001 - a failing network must not stop ingestion
            log.exception("publishing failed")
            return False

    def check_service_levels(self) -> None:
        """Tell the managers about new SLA breaches (every `sla_every` seconds at most)."""
        if time.monotonic() < self.next_sla_check:
            return
        self.next_sla_check = time.monotonic() + self.sla_every
        try:
            with unit_of_work(self.factory) as session:
                notify_breaches(session)
        except Exception:  # noqa: BLE001 - a failing check must not stop ingestion
            log.exception("service-level check failed")

    def listen_to_networks(self) -> None:
        """Poll the connected accounts (every `listen_every` seconds at most)."""
        if self.listen is None or time.monotonic() < self.next_listen:
            return
        self.next_listen = time.monotonic() + self.listen_every
        try:
            self.listen()
        except Exception:  # noqa: BLE001 - one network's trouble must not stop ingestion
            log.exception("listening to the networks failed")

    def radar_pass(self) -> None:
        """Bring the radar's series, scores and alerts up to date, then send alert messages
        (every `radar_every` seconds at most)."""
        if self.radar_every is None or time.monotonic() < self.next_radar_pass:
            return
        self.next_radar_pass = time.monotonic() + self.radar_every
        try:
            run_radar_pass(self.factory, keep_5min_days=self.keep_5min_days)
        except Exception:  # noqa: BLE001 - a failing radar pass must not stop ingestion
            log.exception("radar pass failed")
        if self.alert_sender is not None:
            try:
                deliver_alerts(self.factory, self.alert_sender)
            except Exception:  # noqa: BLE001
                log.exception("alert delivery failed")

    def drain(self) -> None:
        """Work until both queues are empty."""
        while self.run_once():
            pass

    def run_forever(self) -> None:
        """Work, and wait for more when idle, until stop() is called."""
        while not self.stop_event.is_set():
            try:
                busy = self.run_once()
            except Exception:  # noqa: BLE001 - the loop must survive a failing batch
                log.exception("runner iteration failed")
                busy = False
            if not busy:
                self.stop_event.wait(self.poll_seconds)

    def start_thread(self) -> threading.Thread:
        """Run in a daemon thread (the embedded runner)."""
        thread = threading.Thread(target=self.run_forever, name="clameur-runner", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Ask the loop to stop after its current unit of work."""
        self.stop_event.set()
