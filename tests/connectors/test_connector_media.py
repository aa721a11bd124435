"""Downloading the images of a publication: what is accepted, and what each refusal says."""

from __future__ import annotations

import socket
import threading

import pytest
from connector_replay import PNG, Answer, ReplayServer, image

from clameur.connectors.base import PermanentError, RetryableError
from clameur.connectors.media import check_count, download_image, download_images, shown


def test_an_image_is_downloaded_with_its_type_and_file_name(server: ReplayServer) -> None:
    server.add("GET", "/media/winter%20poster.png", image())

    found = download_image(f"{server.url}/media/winter%20poster.png", "mastodon", 1_000_000)

    assert found.content == PNG
    assert found.content_type == "image/png"
    assert found.file_name == "winter poster.png"
    # No credentials of any network travel to the image's host.
    assert "authorization" not in server.seen("GET", "/media/winter%20poster.png")[0].headers


def test_an_address_that_answers_404_is_refused_naming_it(server: ReplayServer) -> None:
    with pytest.raises(
        PermanentError, match=r"/gone\.png\?… cannot be attached: there is no image"
    ):
        download_image(f"{server.url}/gone.png?sig=secret", "mastodon", 1_000_000)


def test_a_signed_address_keeps_its_signature_out_of_the_message(server: ReplayServer) -> None:
    with pytest.raises(PermanentError) as caught:
        download_image(f"{server.url}/gone.png?X-Amz-Signature=abcdef", "mastodon", 1_000_000)

    assert "abcdef" not in caught.value.message
    assert shown("https://cdn.example/a.png?sig=1") == "https://cdn.example/a.png?…"


def test_a_page_instead_of_an_image_is_refused_saying_what_the_server_sent(
    server: ReplayServer,
) -> None:
    server.add("GET", "/photo", Answer(raw=b"<html>a gallery</html>", content_type="text/html"))

    with pytest.raises(PermanentError, match=r"/photo is not an image: its server sent text/html"):
        download_image(f"{server.url}/photo", "bluesky", 1_000_000)


def test_an_image_type_the_network_refuses_is_named_with_the_accepted_ones(
    server: ReplayServer,
) -> None:
    server.add("GET", "/anim.gif", image(b"GIF89a", "image/gif"))

    with pytest.raises(PermanentError, match=r"X does not take image/gif images .*image/png"):
        download_image(f"{server.url}/anim.gif", "x", 1_000_000, frozenset({"image/png"}))


def test_an_image_over_the_limit_is_refused_naming_the_limit(server: ReplayServer) -> None:
    server.add("GET", "/big.png", image(PNG + bytes(2_000_000)))

    with pytest.raises(PermanentError, match=r"/big\.png is too big \(2 MB\).*up to 1 MB"):
        download_image(f"{server.url}/big.png", "bluesky", 1_000_000)


def test_an_image_without_length_is_cut_off_at_the_limit() -> None:
    # A chunked answer does not say its length: the bytes are counted as they come.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            try:
                for _ in range(20):
                    connection.sendall(b"10000\r\n" + bytes(65536) + b"\r\n")
                connection.sendall(b"0\r\n\r\n")
            except ConnectionError:
                pass  # the client stopped reading at the limit, as it should

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(PermanentError, match=r"is too big: Bluesky takes images up to 1 MB"):
            download_image(f"http://127.0.0.1:{port}/stream.png", "bluesky", 1_000_000)
    finally:
        thread.join(timeout=5)
        listener.close()


def test_an_unreachable_address_or_a_failing_server_is_retried_later(
    server: ReplayServer,
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    server.add("GET", "/busy.png", status=503, headers={"Retry-After": "120"})

    with pytest.raises(RetryableError, match=r"could not be downloaded \(ConnectError\)"):
        download_image(f"http://127.0.0.1:{port}/a.png", "mastodon", 1_000_000)
    with pytest.raises(RetryableError, match=r"unavailable \(HTTP 503\)") as caught:
        download_image(f"{server.url}/busy.png", "mastodon", 1_000_000)
    assert caught.value.requested_delay == pytest.approx(120, abs=2)


def test_a_private_image_and_an_empty_one_are_refused(server: ReplayServer) -> None:
    server.add("GET", "/private.png", status=403, body={"error": "denied"})
    server.add("GET", "/empty.png", Answer(raw=b"", headers={"Content-Type": "image/png"}))

    with pytest.raises(PermanentError, match=r"HTTP 403\): the image must be public"):
        download_image(f"{server.url}/private.png", "x", 1_000_000)
    with pytest.raises(PermanentError, match=r"/empty\.png is empty"):
        download_image(f"{server.url}/empty.png", "x", 1_000_000)


def test_more_images_than_the_network_attaches_are_refused_before_any_download(
    server: ReplayServer,
) -> None:
    urls = [f"{server.url}/{n}.png" for n in range(5)]

    with pytest.raises(PermanentError, match="Mastodon attaches at most 4 images.*has 5"):
        download_images(urls, "mastodon", 1_000_000, max_count=4)
    assert server.requests == []
    assert check_count(urls[:4], 4, "mastodon") == urls[:4]


def test_addresses_on_a_private_network_are_never_downloaded(
    server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clameur.connectors import media

    monkeypatch.setattr(media, "PRIVATE_ADDRESSES_ALLOWED", False)
    server.add("GET", "/poster.png", image())
    for address in (
        f"{server.url}/poster.png",  # this machine
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        "http://10.0.0.7/poster.png",
    ):
        with pytest.raises(PermanentError, match="private network") as refused:
            download_image(address, "mastodon", 1_000_000)
        assert refused.value.network == "mastodon"
    # Nothing reached the local server.
    assert server.seen("GET", "/poster.png") == []


def test_every_host_a_download_reaches_is_checked_redirects_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from clameur.connectors import media

    monkeypatch.setattr(media, "PRIVATE_ADDRESSES_ALLOWED", False)
    answered = []

    def resolve(host: str, *_args: object, **_kwargs: object) -> list[tuple[object, ...]]:
        answered.append(host)
        address = "93.184.215.14" if host == "cdn.example.org" else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 0))]

    monkeypatch.setattr(media.socket, "getaddrinfo", resolve)
    request = media.httpx.Request("GET", "http://intranet.example/secret.png")
    with pytest.raises(PermanentError, match="private network"):
        media._public_only("x", request)
    media._public_only("x", media.httpx.Request("GET", "https://cdn.example.org/a.png"))
    assert answered == ["intranet.example", "cdn.example.org"]
