"""One TDX rate budget for every worker, kept in Postgres (``tdx_rate_windows``, migration 0004).

Implements the client's ``RateBudget`` protocol, so ``TdxClient(..., budget=PostgresRateBudget(
...))`` makes all workers of a host (per-IP limits) and of a TDX user (per-user limits) stay
inside TDX's windows together.

- ``before_call`` is one statement: it reserves a unit in the current window (opening a new
  window once the old one ended plus the margin) or, when the window is spent, returns the
  seconds until it resets. The row lock that serializes reservations lasts that one statement.
- ``observe`` corrects the row from TDX's ``X-RateLimit-*`` headers: TDX's limit, its reset
  time, and at least as many calls used as TDX counted (other clients on the same IP count too).
  The reset header has whole seconds, so the answer's own arrival also bounds the window's end
  (answered at t: over by t + the window's length); the earlier of the two is kept.
- ``release`` changes nothing: a call that got no answer may still have reached TDX and been
  counted there, so its unit stays spent.
- While Postgres is unreachable the budget grants nothing (it cannot know what the others used)
  and tells callers to wait and ask again; the client gives up after its maximum wait.

Time comes from the database (``clock_timestamp()``), so workers on hosts with skewed clocks
agree on when windows end; tests inject a clock instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, LiteralString, Self

import psycopg
from psycopg import sql

from tdxq.eventlog import connect as connect_database
from tdxq.tdx import RateWindow

from .rate_limits import SharedBudgetConfig

_log = logging.getLogger("tdxq.actions.shared_budget")

APPLICATION_NAME = "tdxq-rate-budget"
"""Shown in pg_stat_activity for the budget's connections."""

_TRANSIENT: tuple[type[Exception], ...] = (psycopg.OperationalError, psycopg.InterfaceError)
_RETRY_SOON_S = 0.001
"""Asked to wait when the row changed under us: ask again at once, practically."""

ConnectFn = Callable[[str], psycopg.Connection[Any]]

_ACQUIRE: LiteralString = """
WITH clock AS (SELECT coalesce(%(now)s::timestamptz, clock_timestamp()) AS now),
granted AS (
    INSERT INTO {table} AS w
        (scope_key, endpoint, window_start, window_end, limit_count, used, updated_at)
    SELECT %(scope)s, %(endpoint)s, clock.now, clock.now + %(window)s * interval '1 second',
           %(limit)s, 1, clock.now
      FROM clock
    ON CONFLICT (scope_key, endpoint) DO UPDATE SET
        window_start = CASE WHEN EXCLUDED.updated_at >= w.window_end + %(margin)s * interval '1s'
                            THEN EXCLUDED.window_start ELSE w.window_start END,
        window_end   = CASE WHEN EXCLUDED.updated_at >= w.window_end + %(margin)s * interval '1s'
                            THEN EXCLUDED.window_end ELSE w.window_end END,
        used         = CASE WHEN EXCLUDED.updated_at >= w.window_end + %(margin)s * interval '1s'
                            THEN 1 ELSE w.used + 1 END,
        end_observed = CASE WHEN EXCLUDED.updated_at >= w.window_end + %(margin)s * interval '1s'
                            THEN false ELSE w.end_observed END,
        limit_count  = CASE WHEN w.learned THEN w.limit_count ELSE EXCLUDED.limit_count END,
        updated_at   = EXCLUDED.updated_at
    WHERE EXCLUDED.updated_at >= w.window_end + %(margin)s * interval '1s'
       OR w.unlimited
       OR (EXCLUDED.updated_at < w.window_end
           AND w.used < CASE WHEN w.learned THEN w.limit_count ELSE EXCLUDED.limit_count END)
    RETURNING w.used
)
SELECT true, 0.0::float8 FROM granted
UNION ALL
SELECT false, extract(epoch FROM w.window_end + %(margin)s * interval '1s' - clock.now)::float8
  FROM {table} AS w, clock
 WHERE w.scope_key = %(scope)s AND w.endpoint = %(endpoint)s
   AND NOT EXISTS (SELECT 1 FROM granted)
"""
# Granted: the CTE's row. Denied: the conflict's WHERE was false, nothing was written, and the
# row as the statement found it says when its window ends. Between a window's end and the end
# plus the margin nothing is granted: a call sent then may open TDX's next window unseen.

_OBSERVE: LiteralString = """
WITH answer AS (
    SELECT coalesce(%(now)s::timestamptz, clock_timestamp()) AS now,
           %(reset)s::timestamptz AS reset,
           %(window)s * interval '1 second' AS length
)
UPDATE {table} AS w SET
    learned      = true,
    unlimited    = false,
    limit_count  = coalesce(%(limit)s, w.limit_count),
    window_end   = CASE
        WHEN a.reset <= w.window_start + least(a.length, interval '1 second') THEN w.window_end
        WHEN w.end_observed THEN least(w.window_end, a.reset, a.now + a.length)
        ELSE least(a.reset, a.now + a.length) END,
    end_observed = w.end_observed
                   OR a.reset > w.window_start + least(a.length, interval '1 second'),
    used         = CASE
        WHEN a.reset <= w.window_start + least(a.length, interval '1 second') THEN w.used
        ELSE greatest(w.used, coalesce(%(limit)s, w.limit_count) - %(remaining)s) END,
    updated_at   = a.now
FROM answer AS a
WHERE w.scope_key = %(scope)s AND w.endpoint = %(endpoint)s
"""
# Which window an answer describes: TDX opened the current one at our first call, a little
# after we did, so its reset is at least a window's length after window_start. An answer from
# the window before can say at most about a second past window_start (the old window had ended
# by our upper bound, and the header rounds up by less than a second), and is ignored.
# For the current window, window_end becomes the earliest of TDX's reset and every "answered at
# t, so over by t + length" bound; before the first answer it holds only our own estimate.

_OBSERVE_HEADERLESS: LiteralString = """
UPDATE {table} SET unlimited = true, updated_at = coalesce(%(now)s::timestamptz, clock_timestamp())
WHERE scope_key = %(scope)s AND endpoint = %(endpoint)s AND NOT learned
"""

_SNAPSHOT: LiteralString = """
SELECT limit_count, used, extract(epoch FROM window_end)::float8
  FROM {table} WHERE scope_key = %(scope)s AND endpoint = %(endpoint)s
"""


def budget_connection(dsn: str) -> psycopg.Connection[Any]:
    """The default connection: autocommit, short timeouts, no wait for the WAL flush (a
    reservation lost in a server crash costs at most a few calls of one window)."""
    conn = connect_database(
        dsn, autocommit=True, connect_timeout=5, application_name=APPLICATION_NAME
    )
    conn.execute("SET statement_timeout = '5s'")
    conn.execute("SET synchronous_commit = off")
    return conn


class PostgresRateBudget:
    """A ``RateBudget`` shared through Postgres. Thread-safe: one connection, one lock.

    ``clock`` (epoch seconds) replaces the database's clock, for tests that scale or freeze
    time; leave it None in production.
    """

    def __init__(
        self,
        dsn: str,
        schema: str,
        config: SharedBudgetConfig,
        *,
        clock: Callable[[], float] | None = None,
        connect: ConnectFn | None = None,
    ) -> None:
        self._dsn = dsn
        self.schema = schema
        self.config = config
        self._clock = clock
        self._connect = connect or budget_connection
        table = sql.Identifier(schema, "tdx_rate_windows")
        self._acquire = sql.SQL(_ACQUIRE).format(table=table)
        self._observe = sql.SQL(_OBSERVE).format(table=table)
        self._headerless = sql.SQL(_OBSERVE_HEADERLESS).format(table=table)
        self._snapshot = sql.SQL(_SNAPSHOT).format(table=table)
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self._unreachable = False

    def __repr__(self) -> str:
        return (
            f"PostgresRateBudget(schema={self.schema!r}, ip_scope={self.config.ip_scope!r}, "
            f"user_scope={self.config.user_scope!r}, margin_s={self.config.margin_s})"
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    @property
    def backend_pid(self) -> int | None:
        """The server process of the current connection, if one is open (for monitoring)."""
        conn = self._conn
        return None if conn is None or conn.closed else conn.info.backend_pid

    # -- the RateBudget protocol ----------------------------------------------------------------

    def before_call(self, key: str) -> float:
        limit = self.config.limit_for(key)
        params = {
            "scope": self.config.scope_key(limit.scope),
            "endpoint": key,
            "window": limit.window_s,
            "limit": limit.calls,
            "margin": self.config.margin_s,
            "now": self._now(),
        }
        row = self._run(self._acquire, params, fetch=True)
        if row is _UNREACHABLE:
            return self.config.unreachable_wait_s
        if row is None:
            return _RETRY_SOON_S  # the row vanished between the two halves; ask again
        granted, wait_s = row
        if granted:
            return 0.0
        return max(float(wait_s), _RETRY_SOON_S)

    def observe(self, key: str, window: RateWindow | None) -> None:
        limit = self.config.limit_for(key)
        params: dict[str, Any] = {
            "scope": self.config.scope_key(limit.scope),
            "endpoint": key,
            "now": self._now(),
        }
        if window is None:
            self._run(self._headerless, params, fetch=False)
            return
        params.update(
            limit=window.limit,
            remaining=window.remaining,
            reset=datetime.fromtimestamp(window.reset_at, UTC),
            window=limit.window_s,
        )
        self._run(self._observe, params, fetch=False)

    def release(self, key: str) -> None:
        """Nothing to give back: the call may have reached TDX and been counted there."""

    def snapshot(self, key: str) -> RateWindow | None:
        """The shared window currently recorded for ``key`` (for logs and tests)."""
        limit = self.config.limit_for(key)
        params = {"scope": self.config.scope_key(limit.scope), "endpoint": key}
        row = self._run(self._snapshot, params, fetch=True)
        if row is None or row is _UNREACHABLE:
            return None
        limit_count, used, reset_at = row
        return RateWindow(int(limit_count), max(0, int(limit_count) - int(used)), float(reset_at))

    # -- the connection ---------------------------------------------------------------------------

    def _now(self) -> datetime | None:
        return None if self._clock is None else datetime.fromtimestamp(self._clock(), UTC)

    def _run(self, query: sql.Composed, params: dict[str, Any], *, fetch: bool) -> Any:
        """Run one statement; on a dropped connection reconnect and try once more. Returns the
        first row (or None), or ``_UNREACHABLE`` when the database cannot be reached."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    conn = self._connection()
                    cursor = conn.execute(query, params)
                    row = cursor.fetchone() if fetch else None
                except _TRANSIENT as exc:
                    self._drop_connection()
                    if attempt == 2:
                        self._report_unreachable(exc)
                        return _UNREACHABLE
                    continue
                if self._unreachable:
                    self._unreachable = False
                    _log.info("the shared TDX rate budget is reachable again")
                return row
        return _UNREACHABLE  # pragma: no cover - the loop always returns

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect(self._dsn)
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception as exc:  # noqa: BLE001 - a broken connection may fail to close
                _log.debug("closing the budget connection: %s", exc)

    def _report_unreachable(self, exc: Exception) -> None:
        if not self._unreachable:
            self._unreachable = True
            first_line = (str(exc).strip().splitlines() or ["(no message)"])[0]
            _log.warning(
                "the shared TDX rate budget cannot reach Postgres (%s: %s); TDX calls wait "
                "until it is back",
                type(exc).__name__,
                first_line,
            )


class _Unreachable:
    """Marks "the database could not be asked" apart from "no row"."""


_UNREACHABLE = _Unreachable()
