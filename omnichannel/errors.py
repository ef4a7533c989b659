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


class ChannelError(Exception):
    """A channel's call (a reply through Zoho Mail, ...) failed. The apps that own the work decide from
    these flags, so they need not import the channel's client:
    - `permanent`: retrying cannot help (a 4xx: a refused address, a message that does not exist);
    - `refused`: the channel answered that it did not act (429, a lock, an expired token), so even a
      non-idempotent call is safe to repeat;
    - `maybe_sent`: a call that is not safe to repeat whose outcome is unknown (a 5xx or a dropped
      connection after it went out): never repeated by a machine."""

    def __init__(self, message: str, *, status: int = 0, permanent: bool = True, retry_after: float | None = None,
                 refused: bool = False, maybe_sent: bool = False):
        super().__init__(message)
        self.status = status
        self.permanent = permanent
        self.retry_after = retry_after
        self.refused = refused
        self.maybe_sent = maybe_sent
