"""Errors that say what to do, with the HTTP status they map to."""

from __future__ import annotations


class ClameurError(Exception):
    """A domain error shown to a person."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ClameurError):
    """The thing asked for does not exist."""

    status_code = 404


class Forbidden(ClameurError):
    """The user may not do this."""

    status_code = 403


class Conflict(ClameurError):
    """The request conflicts with the current state."""

    status_code = 409


class SchemaOutOfDate(ClameurError):
    """The database is not at the latest migration."""

    status_code = 503
