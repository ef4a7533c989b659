"""The project's own errors. Services raise these; the API and admin map them to answers."""

from __future__ import annotations


class ApplicationError(Exception):
    """A request that cannot be carried out as asked; the message is safe to show a user."""

    status_code = 400

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class InvalidPayload(ApplicationError):
    """External input (a webhook or API payload) that does not have the expected shape."""


class StateConflict(ApplicationError):
    """The object is no longer in the state the action needs (a draft already decided...)."""

    status_code = 409


class AppendOnlyError(Exception):
    """Raised when code tries to update or delete a row of an append-only table."""
