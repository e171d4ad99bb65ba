"""Several desktops on one PostgreSQL database: taking turns to refresh, and hearing of every
snapshot any of them stores.

- **Turns**: a session-level advisory lock (``pg_advisory_lock``) on a connection held for the
  whole refresh. A process that dies loses its session, and the server frees the lock. The
  waiting side polls with ``lock_timeout`` so a cancelled refresh stops waiting promptly.
- **News**: the snapshot store sends ``NOTIFY chainfolio_snapshots, '<id>'`` inside the
  snapshot's own transaction, so it is delivered only if the snapshot is committed whole. A
  :class:`SnapshotListener` thread LISTENs on its own connection and calls back with the id;
  the window hands that to its loop. A dropped connection is retried.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from app.domain.errors import DatabaseError
from app.domain.refresh_group import TurnCancelled
from app.domain.snapshot import Snapshot

log = logging.getLogger(__name__)

CHANNEL = "chainfolio_snapshots"
REFRESH_LOCK = 0x43_46_52_46  # "CFRF"
POLL_SECONDS = 1.0


class PostgresRefreshGroup:
    """:class:`app.domain.refresh_group.RefreshGroup` over an advisory lock. A process that
    had to wait, and finds a snapshot stored meanwhile, takes it as its result. (Spacing the
    group's refreshes an interval apart is the schedulers' part: each counts its interval from
    the newest snapshot it hears of.)"""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._held: Connection | None = None
        self._mutex = threading.Lock()

    def _newest(self, con: Connection) -> tuple[int, int] | None:
        row = con.execute(
            text("SELECT id, taken_at FROM snapshots ORDER BY taken_at DESC, id DESC LIMIT 1")
        ).first()
        return None if row is None else (int(row[0]), int(row[1]))

    def acquire(self, requested_at: int, cancelled: threading.Event) -> Snapshot | None:
        con = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            before = self._newest(con)
            con.execute(text(f"SET lock_timeout = '{int(POLL_SECONDS * 1000)}ms'"))
            while True:
                if cancelled.is_set():
                    raise TurnCancelled()
                try:
                    con.execute(text("SELECT pg_advisory_lock(:k)"), {"k": REFRESH_LOCK})
                    break
                except DBAPIError as exc:
                    if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                        raise
            con.execute(text("SET lock_timeout = 0"))
            newest = self._newest(con)
            fresh = newest is not None and (before is None or newest[0] != before[0])
            if fresh:
                con.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": REFRESH_LOCK})
                con.close()
                from app.storage.snapshot_store import SqlSnapshotStore

                log.info(
                    "refresh asked at %d: another process stored a snapshot meanwhile, the "
                    "chains are not read again",
                    requested_at,
                )
                return SqlSnapshotStore(self._engine).latest()
        except BaseException:
            con.invalidate()  # the session ends: a lock taken in it is freed by the server
            con.close()
            raise
        with self._mutex:
            self._held = con
        return None

    def release(self) -> None:
        with self._mutex:
            con, self._held = self._held, None
        if con is None:
            return
        try:
            con.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": REFRESH_LOCK})
        except (DBAPIError, DatabaseError) as exc:
            log.info("giving back the refresh turn failed (%s): the session is closed instead", exc)
            con.invalidate()
        finally:
            con.close()


def notify_snapshot(con: Connection, snapshot_id: int) -> None:
    """Tell every listening process about a snapshot (sent at the commit of ``con``'s
    transaction, and only then)."""
    con.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": str(snapshot_id)})


class SnapshotListener:
    """A thread that LISTENs on its own connection and calls ``on_snapshot(id)`` for every
    snapshot stored by any process; ``connect`` makes a fresh psycopg connection (retried
    after ``retry_seconds`` when the server goes away)."""

    def __init__(
        self,
        connect: Callable[[], Any],
        on_snapshot: Callable[[int], None],
        retry_seconds: float = 5.0,
    ) -> None:
        self._connect = connect
        self._on_snapshot = on_snapshot
        self._retry = retry_seconds
        self._stop = threading.Event()
        self.listening = threading.Event()  # set while subscribed (tests wait on it)
        self._thread = threading.Thread(target=self._run, name="snapshot-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.autocommit = True
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5, stop_after=1):
                            self._deliver(note.payload)
            except Exception as exc:  # the server went away: retry while the app runs
                log.info("listening for new snapshots stopped (%s); retrying", type(exc).__name__)
            self.listening.clear()
            self._stop.wait(self._retry)

    def _deliver(self, payload: str) -> None:
        try:
            snapshot_id = int(payload)
        except ValueError:
            return
        try:
            self._on_snapshot(snapshot_id)
        except Exception:
            log.exception("a new-snapshot handler failed")


def listener_connect(engine: Engine) -> Callable[[], Any]:
    """A factory of plain psycopg connections to ``engine``'s database (same login)."""
    import psycopg

    url = engine.url

    def connect() -> Any:
        return psycopg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            dbname=url.database,
            connect_timeout=5,
            application_name="chainfolio-listener",
        )

    return connect
