"""What went wrong in a service or selector, said in the domain's terms.

Business code raises these and never names an HTTP status: the API maps each class to
the contract's status and body in one place (guelaguetza/api/errors.py,
docs/architecture.md#errors), and the admin shows ``message`` as an error message
(guelaguetza/admin_errors.py). ``message`` is the exact Spanish text a user reads.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses. ``details`` lists ``{field, message}`` where the
    refusal concerns particular input fields."""

    def __init__(self, message: str, *, details: list[dict] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Invalid(DomainError):
    """The request breaks a business rule: a full or started slot, a repeated RSVP or
    review, a reminder after the event, a malformed key."""


class Mismatch(Invalid):
    """The request reuses an earlier one's identity (an ``Idempotency-Key``) with
    different content."""


class Unauthenticated(DomainError):
    """The credentials or the token identify no one allowed to sign in."""


class Forbidden(DomainError):
    """The caller is known but may not do this: not the owner or host, or banned."""


class NotFound(DomainError):
    """What the request names does not exist."""


class Conflict(DomainError):
    """The request contradicts the current state, e.g. an active booking of the same
    slot already exists."""


class ConcurrentUpdate(Conflict):
    """Other writers kept changing the row (retries used up, or the lock wait timed out):
    nothing was written, and ``hint`` tells the client to reload and try again."""

    def __init__(self, message: str, *, hint: str) -> None:
        super().__init__(message)
        self.hint = hint
