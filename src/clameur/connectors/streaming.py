"""What the streaming connectors share: reading server-sent events and newline-delimited JSON
over httpx, and reading several connections at once without blocking the caller's stop.

A streaming read blocks until the network sends something, and networks send a keep-alive only
every 15 to 20 seconds. So each connection is read in a daemon thread of its own that puts what
it reads on a queue; the connector's generator takes from the queue and yields a keep-alive
whenever it waited `tick` seconds, so that it notices its stop event within a second and the
caller can store what it has. When one connection ends or fails, the others are closed and the
generator ends or raises: the caller reconnects all of them.

Server-sent events are read as the WHATWG HTML standard describes them
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
`event:` and `data:` fields, a blank line dispatches, a line starting with ":" is a comment
(Mastodon's heartbeat).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx

from clameur.connectors.base import ConnectorError, RetryableError
from clameur.connectors.http import USER_AGENT, check_response

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One server-sent event: its name ("message" when unnamed) and its data."""

    name: str
    data: str


def server_events(lines: Iterable[str | None]) -> Iterator[ServerEvent | None]:
    """The events of a server-sent event stream, and None for each comment (a heartbeat) and
    each None among the lines (a keep-alive of the reader)."""
    name = ""
    data: list[str] = []
    for line in lines:
        if line is None:
            yield None
            continue
        if line == "":
            if data:
                yield ServerEvent(name or "message", "\n".join(data))
            name, data = "", []
            continue
        if line.startswith(":"):
            yield None
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)


def stream_client(timeout: float, headers: dict[str, str] | None = None) -> httpx.Client:
    """An httpx client for long-lived reads: a read that waits `timeout` seconds for a byte
    means the connection is dead (networks send keep-alives more often)."""
    return httpx.Client(
        timeout=httpx.Timeout(10.0, read=timeout),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        follow_redirects=True,
    )


def http_lines(
    client: httpx.Client,
    url: str,
    network: str,
    title: str,
    stop: threading.Event,
    params: dict[str, str] | None = None,
    refused: Callable[[httpx.Response], ConnectorError] | None = None,
) -> Iterator[str | None]:
    """The lines of a streaming GET, after None once connected; an answer other than 200 is
    raised as the connector error it means (`refused` first, for a network's own reading)."""
    try:
        with client.stream("GET", url, params=params) as response:
            if response.status_code != 200:
                response.read()
                if refused is not None:
                    raise refused(response)
                check_response(response, network)
            yield None
            for line in response.iter_lines():
                if stop.is_set():
                    return
                yield line
    except httpx.TimeoutException as error:
        if stop.is_set():
            return
        raise RetryableError(
            f"{title} stream went silent ({type(error).__name__}); reconnecting.", network
        ) from None
    except httpx.TransportError as error:
        if stop.is_set():
            return
        raise RetryableError(
            f"{title} stream was cut ({type(error).__name__}: {error}); reconnecting.", network
        ) from None


class Merged(Generic[T]):
    """The items of several connections, each read in a daemon thread, in arrival order; None
    when nothing came for `tick` seconds. Ends when `stop` is set or a connection ends; raises
    what a connection raised."""

    def __init__(
        self,
        readers: list[Callable[[threading.Event], Iterator[T | None]]],
        stop: threading.Event,
        tick: float = 1.0,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.readers = readers
        self.stop = stop
        self.tick = tick
        self.on_close = on_close

    def __iter__(self) -> Iterator[T | None]:
        inbox: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=10_000)
        done = threading.Event()

        def run(reader: Callable[[threading.Event], Iterator[T | None]]) -> None:
            try:
                for item in reader(done):
                    if done.is_set():
                        return
                    inbox.put(("item", item))
                inbox.put(("end", None))
            except BaseException as error:  # noqa: BLE001 - handed to the consumer
                inbox.put(("error", error))

        threads = [
            threading.Thread(target=run, args=(reader,), daemon=True, name="clameur-stream-read")
            for reader in self.readers
        ]
        for thread in threads:
            thread.start()
        try:
            while not self.stop.is_set():
                try:
                    kind, value = inbox.get(timeout=self.tick)
                except queue.Empty:
                    yield None
                    continue
                if kind == "item":
                    yield value  # type: ignore[misc]
                elif kind == "error":
                    assert isinstance(value, BaseException)
                    raise value
                else:
                    return
        finally:
            done.set()
            if self.on_close is not None:
                self.on_close()
