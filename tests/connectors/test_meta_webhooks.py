"""Meta's webhooks (Facebook Pages, Instagram): the subscription handshake and signed
deliveries (https://developers.facebook.com/docs/graph-api/webhooks/getting-started)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from connector_replay import payload

from clameur.connectors.base import (
    Connector,
    PushedPost,
    Unsupported,
    WebhookRejected,
    WebhookRequest,
)
from clameur.connectors.facebook import FacebookConfig, FacebookConnector
from clameur.connectors.rss import RssConfig, RssConnector

APP_SECRET = "6f1c2a9be0d84f53a7c1e2d3b4a59687"
VERIFY_TOKEN = "a-long-random-verify-token-for-clameur"
PAGE_ID = "1353269864728879"


def facebook(**overrides: Any) -> FacebookConnector:
    settings: dict[str, Any] = {
        "page_id": PAGE_ID,
        "access_token": "EAAB-page-token-abcdefghijklmnop",
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        # Nothing is fetched from a webhook: any unreachable address will do.
        "graph_url": "http://127.0.0.1:9",
        **overrides,
    }
    return FacebookConnector(FacebookConfig(**settings), timeout=1)


def handshake(**query: str) -> WebhookRequest:
    return WebhookRequest("GET", {}, query)


def delivery(body: bytes, signature: str | None) -> WebhookRequest:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return WebhookRequest("POST", headers, {}, body)


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(name: str) -> bytes:
    # Meta sends compact JSON with non-ASCII escaped; the signature covers these exact bytes.
    return json.dumps(payload(name), separators=(",", ":")).encode()


def test_handshake_with_the_accounts_verify_token_answers_the_challenge() -> None:
    answer = facebook().webhook_handshake(
        handshake(
            **{
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "1158201444",
            }
        )
    )

    assert (answer.status, answer.body, answer.content_type) == (200, "1158201444", "text/plain")


def test_handshake_with_another_verify_token_is_refused() -> None:
    with pytest.raises(WebhookRejected, match="verify token is not this account's"):
        facebook().webhook_handshake(
            handshake(
                **{
                    "hub.mode": "subscribe",
                    "hub.verify_token": "guess",
                    "hub.challenge": "1158201444",
                }
            )
        )


def test_handshake_is_refused_when_no_verify_token_is_configured() -> None:
    with pytest.raises(WebhookRejected, match="No webhook verify token"):
        facebook(verify_token=None).webhook_handshake(
            handshake(
                **{"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1158201444"}
            )
        )


def test_handshake_does_not_echo_a_challenge_that_is_not_a_token() -> None:
    with pytest.raises(WebhookRejected, match="challenge"):
        facebook().webhook_handshake(
            handshake(
                **{
                    "hub.mode": "subscribe",
                    "hub.verify_token": VERIFY_TOKEN,
                    "hub.challenge": "<script>alert(1)</script>",
                }
            )
        )


def test_signed_delivery_is_accepted_and_parsed_into_a_comment() -> None:
    body = body_of("facebook/webhook_feed_comment.json")

    posts = facebook().webhook_events(delivery(body, sign(body)))

    assert [p.id for p in posts] == ["2191966997525824_2191990157523508"]
    comment = posts[0]
    assert isinstance(comment, PushedPost)
    assert comment.event == "comment" and comment.private is False
    assert comment.text == "Still waiting for a reply to my message about the refund."
    assert comment.in_reply_to == "1353269864728879_2191966997525824"
    assert comment.conversation_id == "1353269864728879_2191966997525824"
    assert comment.author is not None and comment.author.name == "Lucas Bernard"
    assert comment.created_at.timestamp() == 1558118530


def test_signature_header_name_is_read_whatever_its_case() -> None:
    body = body_of("facebook/webhook_feed_comment.json")
    request = WebhookRequest("POST", {"x-hub-signature-256": sign(body)}, {}, body)

    assert len(facebook().webhook_events(request)) == 1


def test_unsigned_delivery_is_refused_and_nothing_is_parsed() -> None:
    # Not even JSON: a parser reached before the check would raise something else.
    with pytest.raises(WebhookRejected, match="not signed"):
        facebook().webhook_events(delivery(b"\x00 not json", None))


def test_delivery_signed_with_another_secret_is_refused() -> None:
    body = body_of("facebook/webhook_feed_comment.json")

    with pytest.raises(WebhookRejected, match="does not match"):
        facebook().webhook_events(delivery(body, sign(body, "another-apps-secret")))


def test_delivery_changed_after_signing_is_refused() -> None:
    body = body_of("facebook/webhook_feed_comment.json")
    signature = sign(body)
    tampered = body.replace(b"refund", b"prize!")

    with pytest.raises(WebhookRejected, match="does not match"):
        facebook().webhook_events(delivery(tampered, signature))


def test_sha1_signature_of_the_old_header_is_not_enough() -> None:
    body = body_of("facebook/webhook_feed_comment.json")
    sha1 = "sha1=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
    request = WebhookRequest("POST", {"X-Hub-Signature": sha1}, {}, body)

    with pytest.raises(WebhookRejected):
        facebook().webhook_events(request)


def test_delivery_is_refused_when_no_app_secret_is_configured() -> None:
    body = body_of("facebook/webhook_feed_comment.json")

    with pytest.raises(WebhookRejected, match="No app secret"):
        facebook(app_secret=None).webhook_events(delivery(body, sign(body)))


def test_verify_alone_checks_the_signature_without_reading_the_body() -> None:
    connector = facebook()
    garbage = b"{{{ not json"

    connector.webhook_verify(delivery(garbage, sign(garbage)))
    with pytest.raises(WebhookRejected):
        connector.webhook_verify(delivery(garbage, sign(b"something else")))


def test_messenger_message_is_a_private_post_in_its_own_conversation() -> None:
    body = body_of("facebook/webhook_messages.json")

    posts = facebook().webhook_events(delivery(body, sign(body)))

    assert len(posts) == 1
    message = posts[0]
    assert message.private is True and message.event == "message"
    assert message.id.startswith("m_AG5Hz2Uq7tuwNEhX")
    assert message.conversation_id == "messenger:2760412390669032"
    assert message.text == "Hello, my card was charged twice for order 4471."
    assert message.delivery["sender"] == {"id": "2760412390669032"}
    # What the lead's route hands to the pipeline: an import record, flags kept in the raw.
    record = message.model_dump(mode="json")
    assert record["private"] is True and record["network"] == "facebook"


def test_echoes_reactions_and_other_pages_entries_are_left_out() -> None:
    delivered = payload("facebook/webhook_messages.json")
    delivered["entry"][0]["messaging"][0]["message"]["is_echo"] = True
    reaction = payload("facebook/webhook_feed_comment.json")["entry"][0]
    reaction["changes"][0]["value"].update({"item": "reaction", "reaction_type": "like"})
    other_page = payload("facebook/webhook_feed_comment.json")["entry"][0]
    other_page["id"] = "999999999"
    delivered["entry"] += [reaction, other_page]
    body = json.dumps(delivered).encode()

    assert facebook().webhook_events(delivery(body, sign(body))) == []


def test_the_pages_own_comment_is_not_brought_back() -> None:
    delivered = payload("facebook/webhook_feed_comment.json")
    delivered["entry"][0]["changes"][0]["value"]["from"] = {"id": PAGE_ID, "name": "Clameur"}
    body = json.dumps(delivered).encode()

    assert facebook().webhook_events(delivery(body, sign(body))) == []


def test_signed_delivery_about_another_object_is_a_permanent_error() -> None:
    delivered = payload("facebook/webhook_feed_comment.json")
    delivered["object"] = "instagram"
    body = json.dumps(delivered).encode()

    with pytest.raises(Exception, match="not 'page'") as caught:
        facebook().webhook_events(delivery(body, sign(body)))
    assert not isinstance(caught.value, WebhookRejected)


def test_a_connector_without_webhooks_says_so() -> None:
    rss: Connector[Any] = RssConnector(RssConfig(feeds=[]))

    with pytest.raises(Unsupported, match="cannot receive webhooks"):
        rss.webhook_events(delivery(b"{}", None))


def test_the_same_delivery_has_the_same_digest() -> None:
    body = body_of("facebook/webhook_feed_comment.json")

    assert delivery(body, sign(body)).digest == delivery(body, None).digest
    assert delivery(body, None).digest != delivery(body + b" ", None).digest
