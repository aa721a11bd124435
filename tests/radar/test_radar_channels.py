"""Alert messages: signed webhooks and e-mails, retried with back-off, never lost."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from builders import BASE_TIME, make_workspace
from clameur.kit.time import utcnow
from clameur.models import Alert, AlertDelivery, AlertRule
from clameur.radar.channels import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    alert_text,
    deliver_due,
    make_sender,
    retry_delivery,
)
from clameur.radar.series import ensure_series
from clameur.settings import MailSettings
from clameur.store.engine import unit_of_work

SECRET = "s3cret-signing-key"


class _Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []
    answers: list[int] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"ok" if status == 200 else b"try later")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "answers": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/abc", handler
    server.shutdown()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[MailSettings, _Inbox]]:
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield (
        MailSettings(host="127.0.0.1", port=port, starttls=False, sender="radar@clameur.local"),
        inbox,
    )
    controller.stop()


def _alert_with(factory: sessionmaker[Session], channels: list[dict[str, Any]]) -> int:
    with unit_of_work(factory) as session:
        workspace = make_workspace(session)
        series = ensure_series(session, workspace.id)["workspace"]
        rule = AlertRule(
            workspace_id=workspace.id, name="Remboursements", kind="smart", channels=channels
        )
        session.add(rule)
        session.flush()
        alert = Alert(
            workspace_id=workspace.id,
            rule_id=rule.id,
            series_id=series.id,
            metric="volume",
            started_at=BASE_TIME,
            last_seen_at=BASE_TIME,
            value=120,
            expected=12,
            high=30,
            score=0.93,
            peak_value=120,
        )
        session.add(alert)
        session.flush()
        for index, channel in enumerate(channels):
            session.add(
                AlertDelivery(
                    alert_id=alert.id,
                    channel=f"{index}:{channel['type']}",
                    event="opened",
                    target=channel,
                    payload={
                        "event": "opened",
                        "alert_id": alert.id,
                        "rule": rule.name,
                        "metric": "volume",
                        "value": 120,
                        "expected": 12,
                        "peak_value": 120,
                    },
                )
            )
        return alert.id


def _deliveries(factory: sessionmaker[Session]) -> list[AlertDelivery]:
    with unit_of_work(factory) as session:
        rows = list(session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))
        session.expunge_all()
        return rows


def test_a_webhook_gets_a_body_slack_reads_and_a_signature_it_can_check(
    factory: sessionmaker[Session], hook: tuple[str, type[_Hook]]
) -> None:
    url, handler = hook
    _alert_with(factory, [{"type": "webhook", "url": url, "secret": SECRET}])
    with httpx.Client() as client:
        done = deliver_due(
            factory, make_sender(MailSettings(), client, "en", "https://clameur.example")
        )
    assert done.sent == 1
    headers, body = handler.received[0]
    payload = json.loads(body)
    assert payload["text"].startswith('Clameur alert "Remboursements": 120 where 12 were expected')
    assert payload["text"].endswith(
        "https://clameur.example/radar/alerts/" + str(payload["clameur"]["alert_id"])
    )
    expected = hmac.new(
        SECRET.encode(), headers[TIMESTAMP_HEADER].encode() + b"." + body, hashlib.sha256
    )
    assert headers[SIGNATURE_HEADER] == "sha256=" + expected.hexdigest()
    assert _deliveries(factory)[0].status == "sent"


def test_a_failing_webhook_is_retried_later_then_sent_once(
    factory: sessionmaker[Session], hook: tuple[str, type[_Hook]]
) -> None:
    url, handler = hook
    handler.answers = [503]
    _alert_with(factory, [{"type": "webhook", "url": url}])
    with httpx.Client() as client:
        send = make_sender(MailSettings(), client)
        first = deliver_due(factory, send)
        assert (first.sent, first.retried) == (0, 1)
        row = _deliveries(factory)[0]
        assert row.status == "pending" and "HTTP 503" in (row.last_error or "")
        assert row.next_attempt_at > utcnow() + timedelta(seconds=20)
        # Not due yet: nothing is sent twice.
        assert not deliver_due(factory, send).busy
        with unit_of_work(factory) as session:
            session.get(AlertDelivery, row.id).next_attempt_at = utcnow()  # type: ignore[union-attr]
        assert deliver_due(factory, send).sent == 1
    assert len(handler.received) == 2
    assert _deliveries(factory)[0].status == "sent"


def test_a_refused_address_fails_visibly_and_can_be_retried_by_hand(
    factory: sessionmaker[Session], hook: tuple[str, type[_Hook]]
) -> None:
    url, handler = hook
    handler.answers = [404]
    _alert_with(factory, [{"type": "webhook", "url": url}])
    with httpx.Client() as client:
        send = make_sender(MailSettings(), client)
        assert deliver_due(factory, send).failed == 1
        row = _deliveries(factory)[0]
        assert row.status == "failed" and "HTTP 404" in (row.last_error or "")
        with unit_of_work(factory) as session:
            retry_delivery(session, row.id)
        assert deliver_due(factory, send).sent == 1


def test_an_alert_email_goes_through_the_smtp_server(
    factory: sessionmaker[Session], smtp: tuple[MailSettings, _Inbox]
) -> None:
    mail, inbox = smtp
    _alert_with(factory, [{"type": "email", "to": "crise@example.com"}])
    with httpx.Client() as client:
        assert deliver_due(factory, make_sender(mail, client, "fr")).sent == 1
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["crise@example.com"]
    content = envelope.content.decode()
    assert "Remboursements" in content and "120" in content


def test_without_an_smtp_server_the_email_waits_instead_of_being_lost(
    factory: sessionmaker[Session],
) -> None:
    _alert_with(factory, [{"type": "email", "to": "crise@example.com"}])
    with httpx.Client() as client:
        assert deliver_due(factory, make_sender(MailSettings(), client)).retried == 1
    row = _deliveries(factory)[0]
    assert row.status == "pending"
    assert "CLAMEUR_MAIL__HOST" in (row.last_error or "")


def test_the_message_is_written_in_french_or_english() -> None:
    facts = {"event": "over", "rule": "Vol annulé", "metric": "negative", "peak_value": 42}
    assert (
        alert_text(facts, "fr")
        == "Alerte Clameur « Vol annulé » terminée (pic 42, volume négatif)."
    )
    assert (
        alert_text(facts, "en") == 'Clameur alert "Vol annulé" is over (peak 42, negative volume).'
    )
