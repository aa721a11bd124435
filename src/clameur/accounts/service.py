"""The workspace's network accounts: connect them, listen through them, receive their pushes.

Connectors talk to the networks and never touch the database; this module is the other half.
It keeps each account's settings encrypted (`SecretBox`), polls the accounts whose turn has
come, and stores what they read in the inbound queue *with* the checkpoint that says where the
read stopped, in one transaction: a crash before the commit reads the same posts again (and the
store's unique (network, id) keeps them once), a crash after it resumes after them.

Failures are told apart the way the connectors raise them: a rate limit or an outage sets
`retry_at` and the account waits; an expired or revoked token marks the account
`needs_attention` with the network's message, and the other accounts go on; a permanent error on
one source is recorded and the other sources go on.

Webhook deliveries are stored as received (headers and raw body, keyed by the body's digest so
that a redelivery is recognised), but only after the signature check passed: an unsigned or
wrongly signed delivery is refused and logged, and nothing is read from it.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, object_session, sessionmaker

from clameur.connectors import registry
from clameur.connectors.base import (
    AuthError,
    Capability,
    Checkpoint,
    Connector,
    ConnectorConfig,
    ConnectorError,
    OutboxSender,
    PermanentError,
    RetryableError,
    Unsupported,
    WebhookRejected,
    WebhookRequest,
)
from clameur.connectors.secrets import SecretBox
from clameur.inbox.notifications import manager_ids, notify
from clameur.kit.errors import ClameurError, NotFound
from clameur.kit.time import utcnow
from clameur.models import NetworkAccount, WebhookDelivery
from clameur.pipeline.runner import enqueue_posts
from clameur.pipeline.schemas import PostIn
from clameur.settings import Settings
from clameur.store.engine import unit_of_work
from clameur.store.rows import workspace_row

log = logging.getLogger(__name__)

POLL_EVERY = timedelta(minutes=2)
MIN_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
MAX_PAGES = 10
ConnectorFactory = Callable[[str, ConnectorConfig], Connector[Any]]


def secret_box(settings: Settings) -> SecretBox:
    """The box that seals the accounts' settings. Without CLAMEUR_CONNECTORS__SECRET_KEY, a key
    is made once and kept in the data folder (fine on one machine; set the variable when
    several processes or machines share the database)."""
    configured = settings.connectors.secret_key.get_secret_value()
    if configured:
        return SecretBox.from_settings(settings)
    path = settings.data_dir / "connectors_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return SecretBox(path.read_text().strip())


# --- Accounts ------------------------------------------------------------------------------


def list_accounts(session: Session, workspace_id: int) -> list[NetworkAccount]:
    """The workspace's accounts, by network and handle."""
    return list(
        session.scalars(
            select(NetworkAccount)
            .where(NetworkAccount.workspace_id == workspace_id)
            .order_by(NetworkAccount.network, NetworkAccount.handle)
        )
    )


def get_account(session: Session, workspace_id: int, account_id: int) -> NetworkAccount:
    """One account of the workspace."""
    return workspace_row(session, NetworkAccount, workspace_id, account_id, "network account")


def account_config(box: SecretBox, account: NetworkAccount) -> ConnectorConfig:
    """The account's settings, decrypted."""
    if not account.config_encrypted:
        raise PermanentError(f"the account {account.handle} has no settings yet", account.network)
    return box.decrypt(account.config_encrypted, registry.config_model(account.network))


def save_account(
    session: Session,
    box: SecretBox,
    workspace_id: int,
    network: str,
    form: Mapping[str, Any],
    account_id: int | None = None,
) -> NetworkAccount:
    """Create or update an account from its settings form; secrets left blank are kept."""
    model = registry.config_model(network)
    account = get_account(session, workspace_id, account_id) if account_id else None
    previous = account_config(box, account) if account and account.config_encrypted else None
    config = model.from_form(form, previous)
    handle = str(form.get("account_name") or "").strip() or (account.handle if account else "")
    if not handle:
        raise ClameurError("give the account a name (its handle on the network, or a label)")
    if account is None:
        account = NetworkAccount(workspace_id=workspace_id, network=network, handle=handle[:200])
        session.add(account)
    account.handle = handle[:200]
    account.config_encrypted = box.encrypt(config)
    if account.status == "needs_attention":
        # New credentials: give them a chance.
        account.status = "active"
        account.retry_at = None
    session.flush()
    return account


def set_paused(session: Session, account: NetworkAccount, paused: bool) -> None:
    """Pause or resume an account (a paused account is neither polled nor pushed to)."""
    account.status = "paused" if paused else "active"
    account.retry_at = None
    session.flush()


def record_error(account: NetworkAccount, error: Exception, now: datetime) -> None:
    """Keep a failure on the account: a rate limit or an outage sets when to poll again, a
    refused token marks it `needs_attention` and tells the managers (once)."""
    account.last_error = str(error)[:2000]
    account.last_error_at = now
    if isinstance(error, AuthError):
        if account.status != "needs_attention":
            _tell_managers(account)
        account.status = "needs_attention"
    elif isinstance(error, RetryableError):
        if error.requested_delay is not None:
            account.retry_at = now + timedelta(seconds=error.requested_delay)
        else:
            # No time from the network: back off as long as the account has been failing
            # (between a minute and an hour), which doubles the wait at each failure.
            since = account.last_success_at or account.created_at or now
            account.retry_at = now + min(max(now - since, MIN_BACKOFF), MAX_BACKOFF)


def _tell_managers(account: NetworkAccount) -> None:
    """Tell the managers, under the bell, that an account must be connected again (once each
    time it stops working)."""
    session = object_session(account)
    if session is None:
        return
    notify(
        session,
        account.workspace_id,
        manager_ids(session),
        "accounts.needs_attention",
        f"account:{account.id}:attention:{utcnow().isoformat(timespec='minutes')}",
        f"{account.network} @{account.handle}",
        (account.last_error or "")[:300],
        f"/settings/accounts/{account.id}",
    )


def check_account(
    session: Session,
    box: SecretBox,
    account: NetworkAccount,
    create: ConnectorFactory = registry.create,
) -> str:
    """Ask the network who the credentials belong to; updates the handle and the health."""
    now = utcnow()
    connector = create(account.network, account_config(box, account))
    try:
        identity = connector.check()
    except ConnectorError as error:
        record_error(account, error, now)
        raise
    finally:
        save_updated_config(box, account, connector)
        connector.close()
    account.handle = identity.handle[:200] or account.handle
    account.display_name = identity.display_name[:200]
    account.external_id = identity.external_id
    account.status = "active"
    account.last_success_at = now
    account.last_error = None
    account.retry_at = None
    session.flush()
    return identity.handle


def save_updated_config(box: SecretBox, account: NetworkAccount, connector: Connector[Any]) -> None:
    """Store the connector's settings again (encrypted) when it changed them (a new token)."""
    updated = connector.updated_config()
    if updated is not None:
        account.config_encrypted = box.encrypt(updated)


# --- Listening -----------------------------------------------------------------------------


@dataclass(slots=True)
class PollResult:
    """What one poll of one account did."""

    account_id: int
    posts: int = 0
    sources: int = 0
    errors: list[str] = field(default_factory=list)
    waiting_until: datetime | None = None


def due_accounts(session: Session, now: datetime, every: timedelta = POLL_EVERY) -> list[int]:
    """The active accounts whose turn to be polled has come (rate limits respected)."""
    statement = select(NetworkAccount.id).where(
        NetworkAccount.status == "active",
        NetworkAccount.config_encrypted.is_not(None),
        or_(NetworkAccount.retry_at.is_(None), NetworkAccount.retry_at <= now),
        or_(NetworkAccount.last_polled_at.is_(None), NetworkAccount.last_polled_at <= now - every),
    )
    return list(session.scalars(statement.order_by(NetworkAccount.last_polled_at)))


def poll_account(
    factory: sessionmaker[Session],
    box: SecretBox,
    account_id: int,
    create: ConnectorFactory = registry.create,
    max_pages: int = MAX_PAGES,
) -> PollResult:
    """Read every source of the account from its checkpoint; each page of posts is queued with
    its new checkpoint in one transaction."""
    result = PollResult(account_id)
    with unit_of_work(factory) as session:
        account = session.get(NetworkAccount, account_id)
        if account is None or account.status != "active":
            return result
        network = account.network
        account.last_polled_at = utcnow()
        connector = create(network, account_config(box, account))
    try:
        if not connector.can(Capability.listen):
            return result
        for source in connector.sources():
            result.sources += 1
            for _page in range(max_pages):
                with unit_of_work(factory) as session:
                    account = session.get(NetworkAccount, account_id)
                    assert account is not None
                    checkpoint = (account.checkpoints or {}).get(source.key)
                    try:
                        fetched = connector.listen(source, checkpoint)
                    except PermanentError as error:
                        record_error(account, error, utcnow())
                        result.errors.append(f"{source.key}: {error}")
                        break
                    except ConnectorError as error:
                        record_error(account, error, utcnow())
                        save_updated_config(box, account, connector)
                        result.errors.append(f"{source.key}: {error}")
                        result.waiting_until = account.retry_at
                        return result
                    result.posts += store_posts(
                        account,
                        f"{network}:{account_id}",
                        fetched.posts,
                        source.key,
                        fetched.checkpoint,
                    )
                    save_updated_config(box, account, connector)
                if not fetched.more:
                    break
    finally:
        connector.close()
    return result


def store_posts(
    account: NetworkAccount,
    origin: str,
    posts: list[PostIn],
    source_key: str,
    checkpoint: Checkpoint | None,
) -> int:
    """Queue posts an account read, with the checkpoint that follows them (None: keep the
    stored one), and count them in its health, in the caller's transaction; how many."""
    session = object_session(account)
    assert session is not None
    payloads = [post.model_dump(mode="json") for post in posts]
    if payloads:
        enqueue_posts(session, account.workspace_id, origin, payloads)
    if checkpoint is not None:
        account.checkpoints = {**(account.checkpoints or {}), source_key: checkpoint}
    _count_fetched(account, len(payloads))
    account.last_success_at = utcnow()
    return len(payloads)


def _count_fetched(account: NetworkAccount, count: int) -> None:
    today = utcnow().date()
    if account.fetched_day != today:
        account.fetched_day = today
        account.fetched_today = 0
    account.fetched_today += count


def poll_due(
    factory: sessionmaker[Session], box: SecretBox, create: ConnectorFactory = registry.create
) -> list[PollResult]:
    """Poll every account whose turn has come; one failing account never stops the others."""
    with unit_of_work(factory) as session:
        ids = due_accounts(session, utcnow())
    results = []
    for account_id in ids:
        try:
            results.append(poll_account(factory, box, account_id, create))
        except ClameurError as error:
            # Settings that cannot be read (a wrong key): the account needs a person.
            with unit_of_work(factory) as session:
                account = session.get(NetworkAccount, account_id)
                if account is not None:
                    account.status = "needs_attention"
                    account.last_error = str(error)
                    account.last_error_at = utcnow()
            results.append(PollResult(account_id, errors=[str(error)]))
    return results


@dataclass(slots=True)
class BackfillProgress:
    """How far a backfill has gone: posts kept, pages read, the oldest post reached."""

    posts: int = 0
    pages: int = 0
    oldest: datetime | None = None
    stopped: str = ""


def backfill_account(
    factory: sessionmaker[Session],
    box: SecretBox,
    account_id: int,
    since: datetime,
    until: datetime | None = None,
    create: ConnectorFactory = registry.create,
    max_pages: int = 500,
    on_page: Callable[[BackfillProgress], None] | None = None,
) -> BackfillProgress:
    """Read an account's sources back in time, from the newest post the network gives down to
    `since`, keeping the posts between `since` and `until`. It uses checkpoints of its own, so
    the live listening is not disturbed; the store keeps each post once, so running it again
    (or over a period already listened to) duplicates nothing. How far back a network lets a
    connector go is its own rule (X's recent search: 7 days)."""
    progress = BackfillProgress()
    with unit_of_work(factory) as session:
        account = session.get(NetworkAccount, account_id)
        if account is None:
            raise NotFound(f"no network account {account_id}")
        network, workspace_id = account.network, account.workspace_id
        connector = create(network, account_config(box, account))
    try:
        if not connector.can(Capability.listen):
            progress.stopped = f"{network} accounts do not listen"
            return progress
        for source in connector.sources():
            checkpoint = None
            for _page in range(max_pages):
                fetched = connector.listen(source, checkpoint)
                progress.pages += 1
                kept = [
                    post
                    for post in fetched.posts
                    if post.created_at >= since and (until is None or post.created_at < until)
                ]
                if kept:
                    with unit_of_work(factory) as session:
                        enqueue_posts(
                            session,
                            workspace_id,
                            f"{network}:{account_id}:backfill",
                            [post.model_dump(mode="json") for post in kept],
                        )
                progress.posts += len(kept)
                times = [post.created_at for post in fetched.posts]
                if times:
                    oldest = min(times)
                    progress.oldest = min(progress.oldest or oldest, oldest)
                if on_page is not None:
                    on_page(progress)
                checkpoint = fetched.checkpoint
                if not fetched.more or (times and min(times) < since):
                    break
    finally:
        with unit_of_work(factory) as session:
            account = session.get(NetworkAccount, account_id)
            if account is not None:
                save_updated_config(box, account, connector)
        connector.close()
    return progress


# --- Replies -------------------------------------------------------------------------------


def reply_senders(
    factory: sessionmaker[Session], box: SecretBox, create: ConnectorFactory = registry.create
) -> dict[str, OutboxSender]:
    """The outbox's senders for every network that can reply: each uses the workspace's active
    account on that network."""

    def sender_for(network: str) -> OutboxSender:
        def replying(session: Session, workspace_id: int) -> NetworkAccount | None:
            return session.scalars(
                select(NetworkAccount).where(
                    NetworkAccount.workspace_id == workspace_id,
                    NetworkAccount.network == network,
                    NetworkAccount.status == "active",
                    NetworkAccount.config_encrypted.is_not(None),
                )
            ).first()

        def connector_for(workspace_id: int) -> Connector[Any]:
            with unit_of_work(factory) as session:
                account = replying(session, workspace_id)
                if account is None:
                    raise PermanentError(
                        f"no active {network} account is connected in this workspace", network
                    )
                return create(network, account_config(box, account))

        def refused(workspace_id: int, error: AuthError) -> None:
            # As when listening: the account needs attention and the managers are told.
            with unit_of_work(factory) as session:
                account = replying(session, workspace_id)
                if account is not None:
                    record_error(account, error, utcnow())

        return OutboxSender(connector_for, refused)

    senders = {}
    for network in registry.networks():
        try:
            if Capability.reply in registry.get(network).capabilities:
                senders[network] = sender_for(network)
        except ClameurError:
            continue
    return senders


# --- Webhooks ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    """What the receiver answers the network."""

    status: int
    body: str = ""
    content_type: str = "text/plain"


def _active_account(session: Session, network: str, account_id: int) -> NetworkAccount:
    account = session.get(NetworkAccount, account_id)
    if account is None or account.network != network or account.status == "paused":
        raise NotFound(f"no {network} account {account_id} listens to webhooks here")
    return account


def webhook_handshake(
    session: Session,
    box: SecretBox,
    network: str,
    account_id: int,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    create: ConnectorFactory = registry.create,
) -> WebhookOutcome:
    """Answer a network's subscription check (Meta's `hub.challenge`)."""
    account = _active_account(session, network, account_id)
    connector = create(network, account_config(box, account))
    try:
        answer = connector.webhook_handshake(WebhookRequest("GET", headers, query, b""))
    except WebhookRejected as error:
        log.warning("webhook handshake refused for %s account %s: %s", network, account_id, error)
        return WebhookOutcome(403, "verification refused")
    except Unsupported as error:
        return WebhookOutcome(404, str(error))
    finally:
        connector.close()
    return WebhookOutcome(answer.status, answer.body, answer.content_type)


def receive_webhook(
    factory: sessionmaker[Session],
    box: SecretBox,
    network: str,
    account_id: int,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    create: ConnectorFactory = registry.create,
) -> WebhookOutcome:
    """Check a delivery's signature, store it as received, then read its posts into the inbound
    queue. A redelivery of a stored body is acknowledged and not stored or read again; a
    delivery stored but not read (a crash in between) is read by `read_pending_webhooks`."""
    digest = hashlib.sha256(body).hexdigest()
    with unit_of_work(factory) as session:
        account = _active_account(session, network, account_id)
        connector = create(network, account_config(box, account))
    request = WebhookRequest("POST", headers, query, body)
    try:
        connector.webhook_verify(request)
    except WebhookRejected as error:
        log.warning("webhook delivery refused for %s account %s: %s", network, account_id, error)
        return WebhookOutcome(403, "signature refused")
    except Unsupported as error:
        return WebhookOutcome(404, str(error))
    finally:
        connector.close()
    kept = {k.lower(): v for k, v in headers.items() if k.lower().startswith(("x-", "content-"))}
    with unit_of_work(factory) as session:
        delivery_id = _store_delivery(session, account_id, network, digest, kept, body)
    if delivery_id is None:
        return WebhookOutcome(200, "already received")
    read_webhook(factory, box, delivery_id, create)
    return WebhookOutcome(200, "ok")


def read_webhook(
    factory: sessionmaker[Session],
    box: SecretBox,
    delivery_id: int,
    create: ConnectorFactory = registry.create,
) -> int:
    """Read a stored delivery's posts into the inbound queue, once; how many it held."""
    with unit_of_work(factory) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != "received":
            return 0
        account = session.get(NetworkAccount, delivery.account_id)
        if account is None:
            return 0
        connector = create(delivery.network, account_config(box, account))
        try:
            events = connector.webhook_events(
                WebhookRequest("POST", delivery.headers, {}, delivery.body)
            )
        except (RetryableError, AuthError) as error:
            # The network must be asked for the rest (Instagram mentions carry only ids) and
            # could not answer now: kept as received, read again on a later pass.
            delivery.error = str(error)[:2000]
            return 0
        except ConnectorError as error:
            # Signed, but not understood: kept, so that a fixed version can read it again.
            delivery.status = "failed"
            delivery.error = str(error)[:2000]
            return 0
        finally:
            connector.close()
        if events:
            enqueue_posts(
                session,
                account.workspace_id,
                f"{delivery.network}:{account.id}:webhook",
                [post.model_dump(mode="json") for post in events],
            )
        delivery.status = "processed"
        delivery.posts = len(events)
        delivery.processed_at = utcnow()
        return len(events)


def read_pending_webhooks(
    factory: sessionmaker[Session], box: SecretBox, create: ConnectorFactory = registry.create
) -> int:
    """Read the deliveries stored but not read yet (after a crash); posts queued."""
    with factory() as session:
        pending = list(
            session.scalars(
                select(WebhookDelivery.id).where(WebhookDelivery.status == "received").limit(100)
            )
        )
    return sum(read_webhook(factory, box, delivery_id, create) for delivery_id in pending)


def _store_delivery(
    session: Session,
    account_id: int,
    network: str,
    digest: str,
    headers: dict[str, str],
    body: bytes,
) -> int | None:
    """Store a delivery as received; None when the same body was already stored."""
    existing = session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.account_id == account_id, WebhookDelivery.digest == digest
        )
    )
    if existing is not None:
        return None
    delivery = WebhookDelivery(
        account_id=account_id,
        network=network,
        digest=digest,
        headers=headers,
        body=body,
        status="received",
        posts=0,
    )
    session.add(delivery)
    session.flush()
    return delivery.id


# --- Health --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountHealth:
    """What the health view shows of an account."""

    account: NetworkAccount
    title: str
    capabilities: list[str]
    limitations: str
    requirements: str
    fetched_today: int
    rate_limited_until: datetime | None
    # Whether its live stream is on (None: the network has none, or the settings are unread).
    streaming: bool | None = None


def _streams(
    box: SecretBox | None, account: NetworkAccount, capabilities: list[str]
) -> bool | None:
    if box is None or Capability.stream.value not in capabilities or not account.config_encrypted:
        return None
    try:
        return bool(getattr(account_config(box, account), "stream", False))
    except ClameurError:
        return None


def health(
    session: Session, workspace_id: int, box: SecretBox | None = None
) -> list[AccountHealth]:
    """Every account with its state, what it can do and what its network hides (and, given
    the box that reads their settings, whether each streams live)."""
    now = utcnow()
    out = []
    for account in list_accounts(session, workspace_id):
        try:
            kind = registry.get(account.network)
            title = kind.title
            capabilities = sorted(c.value for c in kind.capabilities)
            limitations = getattr(kind, "limitations", "") or ""
            requirements = kind.config_model.requirements
        except ClameurError:
            title, capabilities, limitations, requirements = account.network, [], "", ""
        out.append(
            AccountHealth(
                account=account,
                title=title,
                capabilities=capabilities,
                limitations=limitations,
                requirements=requirements,
                fetched_today=account.fetched_today if account.fetched_day == now.date() else 0,
                rate_limited_until=account.retry_at
                if account.retry_at and account.retry_at > now
                else None,
                streaming=_streams(box, account, capabilities),
            )
        )
    return out
