"""Time helpers: everything is UTC inside Clameur."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def parse_datetime(value: str) -> datetime:
    """Parse ISO 8601 (with Z) or the Twitter format ('Tue Oct 31 22:10:47 +0000 2017') into UTC."""
    text = value.strip()
    if not text:
        raise ValueError("empty date")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
        except ValueError:
            raise ValueError(f"unrecognised date {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
