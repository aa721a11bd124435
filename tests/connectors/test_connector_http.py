"""Rate limits read from the networks' own headers, statuses turned into connector errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from connector_replay import Answer, ReplayServer

from clameur.connectors.base import (
    AuthError,
    PermanentError,
    RateLimited,
    RetryableError,
)
from clameur.connectors.http import (
    HttpClient,
    check_response,
    retry_at_from_headers,
    with_retries,
    write_once,
)
from clameur.pipeline.jobs import RetryableError as JobRetryableError

NOW = datetime(2024, 10, 15, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "120"}, NOW + timedelta(seconds=120)),
        ({"Retry-After": "Tue, 15 Oct 2024 10:05:00 GMT"}, NOW + timedelta(minutes=5)),
        # Mastodon: an ISO 8601 date.
        ({"X-RateLimit-Reset": "2024-10-15T10:03:00.000Z"}, NOW + timedelta(minutes=3)),
        # X and GitHub: a Unix time.
        (
            {"x-ratelimit-reset": str(int((NOW + timedelta(minutes=15)).timestamp()))},
            NOW + timedelta(minutes=15),
        ),
        # Bluesky: ratelimit-reset as a Unix time; the IETF draft: seconds.
        (
            {"ratelimit-reset": str(int((NOW + timedelta(seconds=90)).timestamp()))},
            NOW + timedelta(seconds=90),
        ),
        ({"RateLimit-Reset": "30"}, NOW + timedelta(seconds=30)),
        ({"X-RateLimit-Reset": "2024-10-15T09:00:00Z"}, NOW),
        ({"X-RateLimit-Remaining": "0"}, None),
    ],
)
def test_retry_time_is_read_from_each_networks_headers(
    headers: dict[str, str], expected: datetime | None
) -> None:
    assert retry_at_from_headers(headers, NOW) == expected


def test_a_reset_given_on_a_server_clock_that_runs_ahead_is_moved_onto_ours() -> None:
    headers = {
        "X-RateLimit-Reset": "2024-10-15T10:13:00Z",
        "Date": format_datetime(NOW + timedelta(minutes=10), usegmt=True),
    }

    assert retry_at_from_headers(headers, NOW) == NOW + timedelta(minutes=3)


def response(status: int, body: object = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_429_is_rate_limited_until_the_reset_and_is_a_retryable_job_error() -> None:
    with pytest.raises(RateLimited) as caught:
        check_response(
            response(429, {"error": "Too many requests"}, **{"Retry-After": "60"}), "x", NOW
        )

    assert caught.value.retry_at == NOW + timedelta(seconds=60)
    assert caught.value.delay == 60
    assert isinstance(caught.value, JobRetryableError)
    assert "Too many requests" in caught.value.message


def test_401_is_an_auth_error_that_says_to_reconnect() -> None:
    with pytest.raises(AuthError, match="Connect the account again"):
        check_response(response(401, {"error": "invalid_token"}), "mastodon", NOW)


def test_5xx_is_retryable_without_a_time_and_4xx_is_permanent() -> None:
    with pytest.raises(RetryableError) as outage:
        check_response(response(502, {"error": "bad gateway"}), "rss", NOW)
    with pytest.raises(PermanentError, match="HTTP 404.*Record not found"):
        check_response(response(404, {"message": "Record not found"}), "rss", NOW)

    assert outage.value.retry_at is None and outage.value.requested_delay is None
    assert outage.value.delay == RetryableError.DEFAULT_DELAY


def test_short_waits_are_retried_in_place_with_back_off_and_long_ones_are_raised() -> None:
    waits: list[float] = []
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RetryableError("down", "x")
        return "ok"

    assert with_retries(flaky, attempts=3, base_delay=0.5, sleep=waits.append) == "ok"
    assert len(waits) == 2 and waits[1] > waits[0]
    with pytest.raises(RateLimited):
        with_retries(
            lambda: (_ for _ in ()).throw(RateLimited("slow down", "x", delay=900)),
            sleep=waits.append,
        )
    assert len(waits) == 2


def test_http_client_retries_an_outage_then_returns_the_answer(server: ReplayServer) -> None:
    server.add(
        "GET",
        "/data",
        Answer(503, {"error": "busy"}, {"Retry-After": "1"}),
        Answer(200, {"ok": True}),
    )
    waits: list[float] = []
    client = HttpClient("x", base_url=server.url, sleep=waits.append)

    try:
        assert client.get("/data").json() == {"ok": True}
    finally:
        client.close()
    assert waits == [pytest.approx(1, abs=1)]


def test_unreachable_network_is_retryable() -> None:
    client = HttpClient("x", base_url="http://127.0.0.1:9", timeout=1, attempts=1)

    with pytest.raises(RetryableError, match="could not be reached"):
        client.get("/")
    client.close()


def test_a_write_that_timed_out_is_looked_for_before_it_is_written_again() -> None:
    written: list[str] = []
    looks: list[str | None] = [None, "p1"]

    def write() -> str:
        written.append("p1")
        raise RetryableError("timed out after the network wrote", "test")

    result = write_once(write, lambda: looks.pop(0), attempts=3, sleep=lambda _: None)

    assert result == "p1" and written == ["p1"] and looks == []


def test_a_rate_limited_write_is_raised_at_once_and_a_duplicate_refusal_is_looked_up() -> None:
    def limited() -> str:
        raise RateLimited("slow down", "test", delay=1.0)

    with pytest.raises(RateLimited):
        write_once(limited, lambda: None, attempts=3, sleep=lambda _: None)

    looks: list[str | None] = [None, "p2"]

    def refused() -> str:
        raise PermanentError("Duplicate content", "test")

    found = write_once(
        refused,
        lambda: looks.pop(0),
        attempts=3,
        sleep=lambda _: None,
        duplicate=lambda error: "duplicate" in error.message.lower(),
    )
    assert found == "p2"


def test_send_returns_a_refusal_as_it_came_so_the_connector_can_read_its_body(
    server: ReplayServer,
) -> None:
    server.add("GET", "/thing", Answer(403, {"error": {"reason": "quotaExceeded"}}))
    client = HttpClient("test", base_url=server.url, title="Test")
    try:
        response = client.send("GET", "/thing")
    finally:
        client.close()
    assert response.status_code == 403
    assert response.json()["error"]["reason"] == "quotaExceeded"
