"""A PostgreSQL connection lost mid-request: retry once, or answer 503, never a 500.

:func:`retrying` wraps every API view (through ``guelaguetza.api.views.ApiViewMixin``)
and runs it again, once, on a fresh connection when nothing the request wrote has
committed or could have; otherwise the client gets a JSON 503 with ``Retry-After``.
An ``execute_wrapper`` tracks what committed per attempt. Since a dead kept connection
is retried here, API requests skip the per-request health check (``SELECT 1``) of
CONN_HEALTH_CHECKS. Why and how: docs/architecture.md#lost-connection.
"""

from __future__ import annotations

import contextlib
import functools
import logging

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import JsonResponse

from guelaguetza.api.errors import SERVICE_UNAVAILABLE, error_body

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# Server shutting down / crashed / starting (57P0x) and connection exceptions (08xxx).
LOST_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})
# Statements that never change data (the savepoint statements of nested atomic blocks
# included); anything else counts as a write, which errs on the side of a 503.
READ_ONLY_PREFIXES = ("select", "show", "set ", "reset", "savepoint", "release", "rollback")


def connection_lost(exc: BaseException) -> bool:
    """Did ``exc`` come from losing the database connection (not from a statement the
    live server refused, e.g. a lock timeout or a constraint)?

    Decided from the exception alone: by the time it reaches a view, the atomic block
    it escaped has already reconnected (Django's ``set_autocommit(True)`` on exit), so
    the connection's state says nothing. Errors the server reports carry a SQLSTATE;
    psycopg's client-side ones (connect failed, "server closed the connection", "the
    connection is lost/closed") have none.
    """
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    state = getattr(exc.__cause__, "sqlstate", None)
    if state is None:
        return True
    return state in LOST_SQLSTATES or state.startswith("08")


def is_write(sql: str) -> bool:
    return not sql.lstrip().lower().startswith(READ_ONLY_PREFIXES)


class CommitTracker:
    """``connection.execute_wrapper`` for one attempt: did a write of it commit?"""

    def __init__(self) -> None:
        self.committed = False  # a write committed (or may have): never run it again
        self.uncommitted = False  # a write waits for its transaction's COMMIT
        self.failed: BaseException | None = None  # what the last failing statement raised

    def __call__(self, execute, sql, params, many, context):
        if self.uncommitted and not connection.in_atomic_block:
            # The block holding those writes has ended, and its on_commit callback may
            # not have run (an earlier callback raised): assume it committed.
            self.committed = True
        write = is_write(sql)
        try:
            result = execute(sql, params, many, context)
        except BaseException as exc:
            self.failed = exc
            if write and not connection.in_atomic_block:
                self.committed = True  # an autocommit write's outcome is unknown
            raise
        # An UPDATE/DELETE/INSERT ... ON CONFLICT that matched no row changed nothing
        # (e.g. a second check-in of the day): running it again is harmless.
        if write and getattr(context.get("cursor"), "rowcount", -1) != 0:
            if connection.in_atomic_block:
                self.uncommitted = True
                connection.on_commit(self._on_commit)
            else:
                self.committed = True
        return result

    def _on_commit(self) -> None:
        self.committed = True
        self.uncommitted = False

    def safe_to_retry(self, exc: BaseException) -> bool:
        if self.committed:
            return False
        # Lost during a statement: its transaction never committed. Lost anywhere else
        # (a COMMIT, a connect) with writes waiting: the COMMIT may have gone through.
        return _raised_by(exc, self.failed) or not self.uncommitted


def _raised_by(exc: BaseException | None, failed: BaseException | None) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if exc is failed:
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def unavailable() -> JsonResponse:
    response = JsonResponse(error_body(SERVICE_UNAVAILABLE), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def drop_connection() -> None:
    """Forget the dead connection so the next query opens a fresh one (left to the
    outermost atomic block when inside one: it marks the connection for rollback)."""
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except DatabaseError:
        connection.connection = None


def retrying(view):
    """Wrap a view function (``as_view()``'s): see the module docstring. The view must
    let a lost-connection error escape (ApiViewMixin.handle_exception does)."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        # Read the body now: the retry parses it again from this copy (a request stream
        # can be read only once). Too big: DRF answers its 413 as before.
        with contextlib.suppress(RequestDataTooBig):
            request.body  # noqa: B018
        # A kept connection (CONN_MAX_AGE) that died while idle fails at its first
        # statement, which is before anything was written: the retry below reconnects.
        # So an API request skips CONN_HEALTH_CHECKS' SELECT 1, which would cost every
        # request that reaches PostgreSQL one more statement (on a cache miss, often
        # half its statements). Requests outside the API (/admin) keep the check.
        connection.health_check_done = True
        for attempt in (1, 2):
            tracker = CommitTracker()
            try:
                with connection.execute_wrapper(tracker):
                    return view(request, *args, **kwargs)
            except DatabaseError as exc:
                if not connection_lost(exc):
                    raise
                lost = exc
            in_transaction = connection.in_atomic_block  # a caller's transaction died too
            drop_connection()
            retry = attempt == 1 and not in_transaction and tracker.safe_to_retry(lost)
            logger.warning(
                "database connection lost during %s %s (attempt %d: %s): %s",
                request.method,
                request.path,
                attempt,
                type(lost.__cause__ or lost).__name__,
                "retrying on a new connection" if retry else "503",
            )
            if not retry:
                return unavailable()
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper
