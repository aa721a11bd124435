"""Live listening: one thread per streaming account, reading its network's stream into the
inbound queue.

An account streams when it is active, its connector can (`Capability.stream`) and its settings
turn it on. Its thread reads the stream and stores the posts in small batches the way polling
does (`store_posts`): each batch with the stream's checkpoint, in one transaction, and the
account's health (last success, posts today) updated with it. A stream that cannot resume
(Mastodon, X) leaves the gaps to polling, which goes on as before; a post read by both is
stored once, since the store keeps one post per (network, id).

Failures: the thread reconnects after a wait that doubles from 1 second to 5 minutes, and
starts again from 1 second once a connection was established; a rate limit waits at least
until the time the network gave. The error is kept on the account (`last_error`) without
delaying its polling. A refused token marks the account `needs_attention` and tells the
managers (`record_error`, as polling does) and ends that thread only. Every minute the
supervisor looks again at the accounts: new or reconnected ones start, paused, removed or
changed ones stop (and changed ones start again with their new settings).
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from clameur.accounts.service import (
    ConnectorFactory,
    account_config,
    record_error,
    save_updated_config,
    store_posts,
)
from clameur.connectors import registry
from clameur.connectors.base import (
    AuthError,
    Capability,
    Checkpoint,
    Connector,
    ConnectorError,
    RetryableError,
    Unsupported,
)
from clameur.connectors.secrets import SecretBox
from clameur.kit.errors import ClameurError
from clameur.kit.time import utcnow
from clameur.models import NetworkAccount
from clameur.pipeline.schemas import PostIn
from clameur.store.engine import unit_of_work

log = logging.getLogger(__name__)

# The key under which a stream's checkpoint is kept among the account's checkpoints.
STREAM_KEY = "stream"
RESCAN_EVERY = 60.0
MIN_WAIT = 1.0
MAX_WAIT = 300.0
# A batch is stored when it holds this many posts, or a second after its first post.
BATCH_SIZE = 50
FLUSH_EVERY = 1.0
# A checkpoint that moved without posts (Jetstream skips most of the firehose) is stored
# this often, so a restart does not read the skipped part again.
CHECKPOINT_EVERY = 30.0


@dataclass(slots=True)
class _Running:
    """One account's stream thread and its loop."""

    thread: threading.Thread
    worker: AccountStream


class StreamSupervisor:
    """Runs a stream thread for each active account whose connector streams and whose
    settings turn it on; `start` and `stop` it with the application."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        box: SecretBox,
        create: ConnectorFactory = registry.create,
        rescan_every: float = RESCAN_EVERY,
        min_wait: float = MIN_WAIT,
        max_wait: float = MAX_WAIT,
        batch_size: int = BATCH_SIZE,
        flush_every: float = FLUSH_EVERY,
        checkpoint_every: float = CHECKPOINT_EVERY,
    ) -> None:
        self.factory = factory
        self.box = box
        self.create = create
        self.rescan_every = rescan_every
        self.min_wait = min_wait
        self.max_wait = max_wait
        self.batch_size = batch_size
        self.flush_every = flush_every
        self.checkpoint_every = checkpoint_every
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[int, _Running] = {}
        self._watcher: threading.Thread | None = None

    # --- the supervisor ------------------------------------------------------------------

    def start(self) -> None:
        """Start the streams of the accounts that stream, and watch for changes."""
        self._stop.clear()
        self.rescan()
        self._watcher = threading.Thread(
            target=self._watch, daemon=True, name="clameur-streams-watch"
        )
        self._watcher.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every stream; waits up to `timeout` seconds for the threads to end."""
        self._stop.set()
        with self._lock:
            running = list(self._running.values())
            self._running.clear()
        for item in running:
            self._halt(item)
        deadline = time.monotonic() + timeout
        for item in running:
            item.thread.join(max(deadline - time.monotonic(), 0.0))
        if self._watcher is not None:
            self._watcher.join(max(deadline - time.monotonic(), 0.0))

    def streaming(self) -> list[int]:
        """The ids of the accounts whose stream thread is running."""
        with self._lock:
            return sorted(i for i, item in self._running.items() if item.thread.is_alive())

    def _watch(self) -> None:
        while not self._stop.wait(self.rescan_every):
            try:
                self.rescan()
            except Exception:  # noqa: BLE001 - the watcher must outlive a database hiccup
                log.exception("streams: looking at the accounts failed")

    def rescan(self) -> None:
        """Start the streams of new and reconnected accounts, stop those of paused, removed
        and changed ones (a changed one starts again with its new settings)."""
        with self.factory() as session:
            accounts = {
                account_id: (network, config_encrypted)
                for account_id, network, config_encrypted in session.execute(
                    select(
                        NetworkAccount.id, NetworkAccount.network, NetworkAccount.config_encrypted
                    ).where(
                        NetworkAccount.status == "active",
                        NetworkAccount.config_encrypted.is_not(None),
                    )
                )
            }
        with self._lock:
            for account_id, item in list(self._running.items()):
                wanted = accounts.get(account_id)
                if (
                    wanted is None
                    or wanted[1] != item.worker.config_encrypted
                    or not item.thread.is_alive()
                ):
                    self._halt(item)
                    del self._running[account_id]
            for account_id, (network, config_encrypted) in accounts.items():
                if account_id in self._running or self._stop.is_set():
                    continue
                if not self._wants_stream(network, account_id):
                    continue
                self._running[account_id] = self._launch(account_id, config_encrypted)

    def _wants_stream(self, network: str, account_id: int) -> bool:
        try:
            if Capability.stream not in registry.get(network).capabilities:
                return False
            with self.factory() as session:
                account = session.get(NetworkAccount, account_id)
                if account is None:
                    return False
                connector = self.create(network, account_config(self.box, account))
        except ClameurError as error:
            # Unreadable settings or an unknown network: polling tells the account's managers.
            log.warning("streams: account %s cannot stream: %s", account_id, error)
            return False
        try:
            return connector.stream_enabled()
        finally:
            connector.close()

    def _launch(self, account_id: int, config_encrypted: str | None) -> _Running:
        worker = AccountStream(self, account_id, config_encrypted)
        thread = threading.Thread(
            target=worker.run, daemon=True, name=f"clameur-stream-{account_id}"
        )
        thread.start()
        return _Running(thread, worker)

    @staticmethod
    def _halt(item: _Running) -> None:
        item.worker.stop.set()
        for connector in list(item.worker.current):
            try:
                connector.close()  # unblocks a read waiting on the network
            except Exception:  # noqa: BLE001 - closing is best effort
                log.debug("streams: closing a connector failed", exc_info=True)


class AccountStream:
    """The loop of one account's stream thread: connect, store, reconnect."""

    def __init__(
        self, supervisor: StreamSupervisor, account_id: int, config_encrypted: str | None
    ) -> None:
        self.supervisor = supervisor
        self.account_id = account_id
        self.stop = threading.Event()
        # The settings read with, to notice when a person changes them (the thread's own
        # updates, a renewed session, are followed here).
        self.config_encrypted = config_encrypted
        # The connector in use, for the supervisor to close when it stops the thread.
        self.current: list[Connector[Any]] = []
        self.wait = supervisor.min_wait

    def run(self) -> None:
        """Read the stream until stopped; reconnect after each failure, waiting longer."""
        while not self.stop.is_set():
            try:
                delay = self._connect_once()
            except (AuthError, Unsupported) as error:
                self._record(error)
                log.warning("streams: account %s stops streaming: %s", self.account_id, error)
                return
            except _Gone:
                return
            except ClameurError as error:
                delay = self._failed(error)
            except Exception as error:  # noqa: BLE001 - one account never stops the others
                log.exception("streams: account %s failed", self.account_id)
                delay = self._failed(error)
            self.stop.wait(delay)

    def _failed(self, error: Exception) -> float:
        """Keep the error on the account; the wait before reconnecting."""
        self._record(error)
        delay = self.wait
        if isinstance(error, RetryableError) and error.requested_delay is not None:
            delay = max(delay, error.requested_delay)
        self.wait = min(self.wait * 2, self.supervisor.max_wait)
        log.info("streams: account %s: %s; reconnecting in %.0f s", self.account_id, error, delay)
        return delay

    def _connect_once(self) -> float:
        """One connection, read until it ends; the wait before the next one."""
        supervisor = self.supervisor
        with unit_of_work(supervisor.factory) as session:
            account = session.get(NetworkAccount, self.account_id)
            if account is None or account.status != "active":
                raise _Gone
            network = account.network
            checkpoint = (account.checkpoints or {}).get(STREAM_KEY)
            connector = supervisor.create(network, account_config(supervisor.box, account))
        self.current[:] = [connector]
        batch = _Batch(supervisor.flush_every, supervisor.checkpoint_every)
        connected = False
        try:
            for item in connector.stream(checkpoint, self.stop):
                if not connected:
                    connected = True
                    # An established connection: the next failure waits the shortest time.
                    self.wait = supervisor.min_wait
                batch.add(item.post, item.checkpoint)
                if batch.due(supervisor.batch_size):
                    self._store(batch.take(), connector)
                if self.stop.is_set():
                    break
        finally:
            try:
                if batch.posts or batch.checkpoint is not None:
                    self._store(batch.take(), connector)
            finally:
                self.current[:] = []
                connector.close()
        return supervisor.min_wait if connected else self._failed_end()

    def _failed_end(self) -> float:
        delay = self.wait
        self.wait = min(self.wait * 2, self.supervisor.max_wait)
        return delay

    def _store(
        self, taken: tuple[list[PostIn], Checkpoint | None], connector: Connector[Any]
    ) -> None:
        posts, checkpoint = taken
        with unit_of_work(self.supervisor.factory) as session:
            account = session.get(NetworkAccount, self.account_id)
            if account is None or account.status != "active":
                # Paused or removed meanwhile: what was read is dropped (polling reads it).
                self.stop.set()
                raise _Gone
            origin = f"{account.network}:{account.id}:stream"
            store_posts(account, origin, posts, STREAM_KEY, checkpoint)
            if connector.updated_config() is not None:
                save_updated_config(self.supervisor.box, account, connector)
                self.config_encrypted = account.config_encrypted

    def _record(self, error: Exception) -> None:
        """Keep a stream failure on the account: a refused token as polling does (it needs
        attention); any other only as the last error, so polling is not delayed."""
        with unit_of_work(self.supervisor.factory) as session:
            account = session.get(NetworkAccount, self.account_id)
            if account is None:
                return
            now = utcnow()
            if isinstance(error, AuthError):
                record_error(account, error, now)
                return
            message = str(error) if isinstance(error, ConnectorError) else repr(error)
            account.last_error = f"Live stream: {message}"[:2000]
            account.last_error_at = now


class _Gone(Exception):
    """The account was paused or removed: its stream ends."""


class _Batch:
    """Posts read and not stored yet, with the newest checkpoint."""

    def __init__(
        self,
        flush_every: float,
        checkpoint_every: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.flush_every = flush_every
        self.checkpoint_every = checkpoint_every
        self.clock = clock
        self.posts: list[PostIn] = []
        self.checkpoint: Checkpoint | None = None
        self.since = clock()
        self.stored_at = clock()

    def add(self, post: PostIn | None, checkpoint: Checkpoint | None) -> None:
        """Keep a post (None for a keep-alive) and the checkpoint after it."""
        if post is not None:
            if not self.posts:
                self.since = self.clock()
            self.posts.append(post)
        if checkpoint is not None:
            self.checkpoint = checkpoint

    def due(self, size: int) -> bool:
        """Whether to store now: a full batch, a second-old one, or an old checkpoint."""
        now = self.clock()
        if self.posts:
            return len(self.posts) >= size or now - self.since >= self.flush_every
        return self.checkpoint is not None and now - self.stored_at >= self.checkpoint_every

    def take(self) -> tuple[list[PostIn], Checkpoint | None]:
        """The posts and checkpoint to store; the batch starts empty again."""
        taken = (self.posts, self.checkpoint)
        self.posts, self.checkpoint = [], None
        self.stored_at = self.clock()
        return taken


class StreamLock:
    """Who may run the streams: one process at a time across every runner and worker sharing
    the database (a network may allow one stream connection per app, and two copies of a
    stream would only read everything twice). On PostgreSQL a session advisory lock, held by a
    connection of its own, so it is released when its holder dies; on SQLite a lock file
    beside the database file."""

    # A fixed 64-bit key for pg_try_advisory_lock ("clameur streams").
    ADVISORY_KEY = 0x636C_616D_7374_726D

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._file: Any = None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; whether this process holds it now."""
        if self._connection is not None or self._file is not None:
            return True
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            taken = connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.ADVISORY_KEY}
            )
            connection.commit()
            if taken:
                self._connection = connection
                return True
            connection.close()
            return False
        database = self.engine.url.database
        if not database or database == ":memory:":
            return True  # a database of this process alone
        handle = open(f"{database}.streams.lock", "a+")  # noqa: SIM115 - held while leading
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        """Let another process take the streams."""
        if self._connection is not None:
            try:
                self._connection.close()  # the advisory lock goes with its session
            finally:
                self._connection = None
        if self._file is not None:
            try:
                fcntl.flock(self._file, fcntl.LOCK_UN)
                self._file.close()
            finally:
                self._file = None


class StreamLeader:
    """Runs the `StreamSupervisor` in whichever process holds the `StreamLock`; the others try
    again every `retry_every` seconds, so the streams move to another worker when their
    holder stops or dies."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        box: SecretBox,
        retry_every: float = RESCAN_EVERY,
        supervisor: StreamSupervisor | None = None,
    ) -> None:
        bind = factory.kw["bind"]
        self.lock = StreamLock(bind)
        self.supervisor = supervisor or StreamSupervisor(factory, box)
        self.retry_every = retry_every
        self.leading = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Lead now if the lock is free; keep trying in the background otherwise."""
        self._stop.clear()
        self._try_to_lead()
        self._thread = threading.Thread(
            target=self._wait_to_lead, daemon=True, name="clameur-streams-leader"
        )
        self._thread.start()

    def _try_to_lead(self) -> None:
        if self.leading:
            return
        try:
            if self.lock.acquire():
                self.leading = True
                log.info("streams: this process runs the live streams")
                self.supervisor.start()
        except Exception:  # noqa: BLE001 - try again later rather than stop the runner
            log.exception("streams: could not take the streams lock")

    def _wait_to_lead(self) -> None:
        while not self._stop.wait(self.retry_every):
            self._try_to_lead()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the streams (if this process ran them) and hand the lock back."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.leading:
            self.supervisor.stop(timeout)
            self.leading = False
        self.lock.release()


def start_streams(factory: sessionmaker[Session], box: SecretBox) -> StreamLeader:
    """Start live listening for every account that streams, in one process among all that
    share the database; call `stop()` on shutdown."""
    leader = StreamLeader(factory, box)
    leader.start()
    return leader
