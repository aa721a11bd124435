"""Sending alerts outside the app: e-mail (SMTP) and outgoing webhooks, retried, never lost.

Each message is a row of `alert_deliveries`, written in the same transaction as the alert it
tells about. A sender claims a due row (status `sending`, with a lease), sends, and marks it
`sent`; a failure is retried with exponential back-off, and after `MAX_ATTEMPTS` the row stays
`failed` with the error, visible on the alert page, where it can be retried by hand. A sender
that dies mid-send leaves a lease that expires, so the message goes out later rather than never.

Webhook bodies carry a `text` field, which Slack, Mattermost and Microsoft Teams incoming
webhooks all render, plus the alert's facts under `clameur`. Each request is signed:
`X-Clameur-Signature-256: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` with the channel's
secret and `X-Clameur-Timestamp`, so a receiver can check that it came from Clameur, recently.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import orjson
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from clameur.kit.time import utcnow
from clameur.models import AlertDelivery
from clameur.settings import MailSettings
from clameur.store.engine import unit_of_work

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=10)
SIGNATURE_HEADER = "X-Clameur-Signature-256"
TIMESTAMP_HEADER = "X-Clameur-Timestamp"

_MESSAGES = {
    "fr": {
        "opened": "Alerte Clameur « {rule} » : {value} au lieu de {expected} attendus ({metric}).",
        "escalated": "Alerte Clameur « {rule} » s'aggrave : {value} (pic {peak_value}, {metric}).",
        "over": "Alerte Clameur « {rule} » terminée (pic {peak_value}, {metric}).",
        "volume": "volume",
        "negative": "volume négatif",
    },
    "en": {
        "opened": 'Clameur alert "{rule}": {value} where {expected} were expected ({metric}).',
        "escalated": 'Clameur alert "{rule}" is growing: {value} (peak {peak_value}, {metric}).',
        "over": 'Clameur alert "{rule}" is over (peak {peak_value}, {metric}).',
        "volume": "volume",
        "negative": "negative volume",
    },
}


class DeliveryError(Exception):
    """A message could not be sent; `retry` says whether trying again may help."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


def alert_text(payload: dict[str, Any], locale: str = "fr", base_url: str = "") -> str:
    """The one-line message that tells about an alert, in French or English."""
    words = _MESSAGES.get(locale, _MESSAGES["en"])
    facts = dict(payload)
    facts["metric"] = words.get(str(payload.get("metric")), payload.get("metric"))
    text = words[str(payload.get("event", "opened"))].format(**facts)
    if base_url and payload.get("alert_id"):
        text += f" {base_url.rstrip('/')}/radar/alerts/{payload['alert_id']}"
    return text


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value of a webhook body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def webhook_request(
    target: dict[str, Any], payload: dict[str, Any], locale: str, base_url: str
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a webhook message."""
    body = orjson.dumps({"text": alert_text(payload, locale, base_url), "clameur": payload})
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp}
    secret = str(target.get("secret") or "")
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    return body, headers


def send_webhook(
    client: httpx.Client,
    target: dict[str, Any],
    payload: dict[str, Any],
    locale: str,
    base_url: str,
) -> None:
    """POST the alert to a webhook; DeliveryError on failure."""
    url = str(target.get("url") or "")
    if not url.startswith(("http://", "https://")):
        raise DeliveryError(f"the webhook address {url!r} is not an http(s) URL", retry=False)
    body, headers = webhook_request(target, payload, locale, base_url)
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        raise DeliveryError(f"webhook unreachable: {error}") from error
    if response.status_code >= 300:
        retry = response.status_code >= 500 or response.status_code in (408, 429)
        raise DeliveryError(
            f"webhook answered HTTP {response.status_code}: {response.text[:200]}", retry=retry
        )


def send_email(
    mail: MailSettings, target: dict[str, Any], payload: dict[str, Any], locale: str, base_url: str
) -> None:
    """Send the alert by e-mail through the configured SMTP server; DeliveryError on failure."""
    recipient = str(target.get("to") or "").strip()
    if "@" not in recipient:
        raise DeliveryError(f"{recipient!r} is not an e-mail address", retry=False)
    if not mail.host:
        raise DeliveryError("no SMTP server is configured (CLAMEUR_MAIL__HOST)")
    text = alert_text(payload, locale, base_url)
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = recipient
    message["Subject"] = text.split(":")[0]
    message.set_content(text + "\n\n" + orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
    try:
        with smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout) as smtp:
            if mail.starttls:
                smtp.starttls()
            if mail.username:
                smtp.login(mail.username, mail.password.get_secret_value())
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        permanent = isinstance(error, smtplib.SMTPRecipientsRefused)
        raise DeliveryError(
            f"SMTP {mail.host}:{mail.port}: {error}", retry=not permanent
        ) from error


@dataclass(slots=True)
class DeliveryRound:
    """What one pass over the due messages did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def busy(self) -> bool:
        """Whether anything was handled."""
        return bool(self.sent or self.retried or self.failed)


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next attempt: 30 s doubling, at most an hour."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


Sender = Callable[[AlertDelivery], None]


def make_sender(
    mail: MailSettings, client: httpx.Client, locale: str = "fr", base_url: str = ""
) -> Sender:
    """A function that sends one delivery on its channel."""

    def send(delivery: AlertDelivery) -> None:
        kind = delivery.channel.split(":", 1)[-1]
        if kind == "webhook":
            send_webhook(client, delivery.target, delivery.payload, locale, base_url)
        elif kind == "email":
            send_email(mail, delivery.target, delivery.payload, locale, base_url)
        else:
            raise DeliveryError(f"unknown channel {kind!r}", retry=False)

    return send


def _claim(session: Session, now: datetime, limit: int) -> list[int]:
    due = session.scalars(
        select(AlertDelivery.id)
        .where(
            or_(AlertDelivery.status == "pending", AlertDelivery.status == "sending"),
            AlertDelivery.next_attempt_at <= now,
        )
        .order_by(AlertDelivery.next_attempt_at)
        .limit(limit)
    ).all()
    claimed = []
    for delivery_id in due:
        # Compare-and-set: of two senders, one wins the row.
        result = session.execute(
            update(AlertDelivery)
            .where(
                AlertDelivery.id == delivery_id,
                AlertDelivery.status.in_(("pending", "sending")),
                AlertDelivery.next_attempt_at <= now,
            )
            .values(status="sending", next_attempt_at=now + LEASE)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            claimed.append(delivery_id)
    return claimed


def deliver_due(factory: sessionmaker[Session], send: Sender, limit: int = 20) -> DeliveryRound:
    """Send the due alert messages; each outcome is committed on its own."""
    done = DeliveryRound()
    now = utcnow()
    with unit_of_work(factory) as session:
        claimed = _claim(session, now, limit)
    for delivery_id in claimed:
        with unit_of_work(factory) as session:
            delivery = session.get(AlertDelivery, delivery_id)
            if delivery is None:
                continue
            delivery.attempts += 1
            try:
                send(delivery)
            except DeliveryError as error:
                delivery.last_error = str(error)
                if error.retry and delivery.attempts < MAX_ATTEMPTS:
                    delivery.status = "pending"
                    delivery.next_attempt_at = utcnow() + backoff(delivery.attempts)
                    done.retried += 1
                else:
                    delivery.status = "failed"
                    done.failed += 1
                log.warning("alert delivery %s failed: %s", delivery_id, error)
            else:
                delivery.status = "sent"
                delivery.sent_at = utcnow()
                delivery.last_error = None
                done.sent += 1
    return done


def retry_delivery(session: Session, delivery_id: int) -> None:
    """Put a failed message back in the queue (a person asked for it)."""
    session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == delivery_id, AlertDelivery.status == "failed")
        .values(status="pending", next_attempt_at=utcnow(), attempts=0)
    )
