"""Images to attach to a publication, downloaded from the public addresses the author gave.

Networks that take the file itself (Mastodon, Bluesky, X) need its bytes; a network that fetches
the address itself (Facebook) is still given an address checked first, so that a wrong one is
refused here, naming it, rather than by the network's less helpful message.

The download uses a client of its own, with no credentials: a network's token must never travel
to the host of an image. It follows redirects (CDNs use them), reads at most the network's limit
(`Content-Length` first, then the bytes as they come), and accepts only an `image/*` answer.
Failures say which address and what was wrong with it:

- the address cannot be reached, times out, or its server fails (5xx, 408, 429): `RetryableError`;
- not found, not public, not an image, an image type the network refuses, too big, empty:
  `PermanentError`, which a person must correct.

`pixel_size` reads an image's width and height from its header (PNG, GIF, JPEG), for the
networks that limit pixels rather than bytes (LinkedIn).

Addresses are named without their query string: a signed address (a presigned bucket link) keeps
its signature out of messages.

Only public addresses are downloaded, redirects included: an author could otherwise make the
server fetch what only it can reach (a cloud metadata address, an internal service) and
publish it. `PRIVATE_ADDRESSES_ALLOWED` lifts that for the tests' local servers.
"""

from __future__ import annotations

import ipaddress
import posixpath
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from urllib.parse import unquote, urlsplit

import httpx

from clameur.connectors.base import PermanentError, RetryableError
from clameur.connectors.http import (
    RETRYABLE_STATUSES,
    USER_AGENT,
    network_title,
    retry_at_from_headers,
)

DOWNLOAD_TIMEOUT = 30.0
# The tests' replay servers listen on 127.0.0.1; nothing else sets this.
PRIVATE_ADDRESSES_ALLOWED = False
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/avif": ".avif",
}


@dataclass(frozen=True, slots=True)
class Image:
    """An image downloaded for a publication: its address, bytes and media type."""

    url: str
    content: bytes
    content_type: str

    @property
    def file_name(self) -> str:
        """The last part of the address's path ("poster.jpg"), else "image" with the extension
        of its type."""
        name = posixpath.basename(unquote(urlsplit(self.url).path))
        return name or "image" + _EXTENSIONS.get(self.content_type, "")


# JPEG start-of-frame markers (they carry the size); C4, C8 and CC are other segments.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def pixel_size(content: bytes) -> tuple[int, int] | None:
    """An image's width and height as its header gives them (PNG, GIF, JPEG); None for another
    format or a header that cannot be read."""
    if content[:8] == b"\x89PNG\r\n\x1a\n" and content[12:16] == b"IHDR" and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return int(width), int(height)
    if content[:2] == b"\xff\xd8":
        position = 2
        while position + 9 <= len(content):
            if content[position] != 0xFF:
                return None
            marker = content[position + 1]
            if marker == 0xFF:  # padding before a marker
                position += 1
                continue
            if marker in _JPEG_FRAMES:
                height, width = struct.unpack(">HH", content[position + 5 : position + 9])
                return int(width), int(height)
            (length,) = struct.unpack(">H", content[position + 2 : position + 4])
            position += 2 + length
    return None


def shown(url: str) -> str:
    """An address as messages name it: without its query string or fragment."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return url[:200]
    tail = "?…" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}{tail}"[:200]


def megabytes(size: int) -> str:
    """A size in megabytes as people read it ("1 MB", "4.5 MB")."""
    return f"{size / 1_000_000:.1f}".removesuffix(".0") + " MB"


def check_count(urls: Iterable[str], limit: int, network: str) -> list[str]:
    """The addresses, when the network attaches that many images to a post; else the error."""
    found = list(urls)
    if len(found) > limit:
        raise PermanentError(
            f"{network_title(network)} attaches at most {limit} images to a post; this one has "
            f"{len(found)}. Remove {len(found) - limit} of them.",
            network,
        )
    return found


def _public_only(network: str, request: httpx.Request) -> None:
    """Refuse (before connecting) an address, or a redirect, that leads off the internet."""
    if PRIVATE_ADDRESSES_ALLOWED:
        return
    host = request.url.host
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return  # httpx reports the unreachable host itself
    for address in found:
        if not ipaddress.ip_address(str(address).split("%")[0]).is_global:
            raise PermanentError(
                f"The image address {shown(str(request.url))} leads to a private network "
                f"({host}): Clameur downloads images from public addresses only.",
                network,
            )


def download_image(
    url: str,
    network: str,
    max_bytes: int,
    accepted: frozenset[str] | None = None,
    timeout: float = DOWNLOAD_TIMEOUT,
) -> Image:
    """The image at `url`, at most `max_bytes` long and, when `accepted` is given, of one of
    those media types; the error naming the address and what was wrong otherwise."""
    title = network_title(network)
    where = shown(url)
    try:
        with (
            httpx.Client(
                timeout=timeout,
                follow_redirects=True,
                headers={"User-Agent": USER_AGENT},
                event_hooks={"request": [partial(_public_only, network)]},
            ) as client,
            client.stream("GET", url) as response,
        ):
            _check_answer(response, where, network)
            content_type = _image_type(response, where, network, title, accepted)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_big(where, network, title, max_bytes, int(declared))
            content = bytearray()
            for chunk in response.iter_bytes():
                content.extend(chunk)
                if len(content) > max_bytes:
                    raise _too_big(where, network, title, max_bytes, None)
    except httpx.UnsupportedProtocol:
        raise PermanentError(
            f"The image address {where} is not an http:// or https:// address.", network
        ) from None
    except httpx.TimeoutException:
        raise RetryableError(
            f"The image at {where} could not be downloaded in time; will try again.", network
        ) from None
    except httpx.TransportError as error:
        raise RetryableError(
            f"The image at {where} could not be downloaded ({type(error).__name__}); will try "
            "again.",
            network,
        ) from None
    except (httpx.InvalidURL, httpx.TooManyRedirects) as error:
        raise PermanentError(
            f"The image address {where} cannot be downloaded ({error}): check it.", network
        ) from None
    if not content:
        raise PermanentError(f"The image at {where} is empty: check the address.", network)
    return Image(url=url, content=bytes(content), content_type=content_type)


def download_images(
    urls: Iterable[str],
    network: str,
    max_bytes: int,
    max_count: int | None = None,
    accepted: frozenset[str] | None = None,
) -> list[Image]:
    """Each image of a publication, in order (see `download_image`); at most `max_count`."""
    found = list(urls)
    if max_count is not None:
        check_count(found, max_count, network)
    return [download_image(url, network, max_bytes, accepted) for url in found]


def _check_answer(response: httpx.Response, where: str, network: str) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in RETRYABLE_STATUSES or status == 429:
        raise RetryableError(
            f"The server of the image at {where} is unavailable (HTTP {status}); will try again.",
            network,
            retry_at=retry_at_from_headers(response.headers),
        )
    if status in (404, 410):
        problem = "there is no image at this address (HTTP {status})"
    elif status in (401, 403):
        problem = "its server refuses to give it (HTTP {status}): the image must be public"
    else:
        problem = "its server refused to give it (HTTP {status})"
    raise PermanentError(
        f"The image at {where} cannot be attached: {problem.format(status=status)}. Check the "
        "address.",
        network,
    )


def _image_type(
    response: httpx.Response,
    where: str,
    network: str,
    title: str,
    accepted: frozenset[str] | None,
) -> str:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if not content_type.startswith("image/"):
        sent = content_type or "no content type"
        raise PermanentError(
            f"The address {where} is not an image: its server sent {sent}. Give the address of "
            "the image file itself (it usually ends in .jpg or .png), not of a page showing it.",
            network,
        )
    if accepted is not None and content_type not in accepted:
        raise PermanentError(
            f"{title} does not take {content_type} images ({where}): use "
            f"{', '.join(sorted(accepted))}.",
            network,
        )
    return content_type


def _too_big(
    where: str, network: str, title: str, max_bytes: int, size: int | None
) -> PermanentError:
    weighs = f" ({megabytes(size)})" if size is not None else ""
    return PermanentError(
        f"The image at {where} is too big{weighs}: {title} takes images up to "
        f"{megabytes(max_bytes)}. Use a smaller or more compressed image.",
        network,
    )
