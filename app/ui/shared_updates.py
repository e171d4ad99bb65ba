"""Live updates from a shared PostgreSQL database: when any desktop stores a snapshot, this
window shows it.

The subscription (LISTEN) runs in its own worker thread (:class:`SnapshotListener`); each
notification is handed to the window's asyncio loop with ``call_soon_threadsafe``. Bursts are
coalesced: the newest snapshot is read once (in a worker thread) and shown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

    from app.config import Settings
    from app.storage.postgres_group import SnapshotListener

log = logging.getLogger(__name__)


class SharedUpdates:
    def __init__(self, engine: Engine, on_new_snapshot: Callable[[int], None]) -> None:
        self._engine = engine
        self._on_new = on_new_snapshot
        self._listener: SnapshotListener | None = None
        self.last_heard: int | None = None

    def start(self) -> bool:
        """Subscribe when the database is a shared PostgreSQL one; False otherwise."""
        if self._engine.dialect.name != "postgresql":
            return False
        from app.storage.postgres_group import SnapshotListener, listener_connect

        loop = asyncio.get_running_loop()

        def heard(snapshot_id: int) -> None:  # on the listener's thread
            loop.call_soon_threadsafe(self._deliver, snapshot_id)

        self._listener = SnapshotListener(listener_connect(self._engine), heard)
        self._listener.start()
        return True

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.listening.is_set()

    def _deliver(self, snapshot_id: int) -> None:
        self.last_heard = snapshot_id
        self._on_new(snapshot_id)

    def stop(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.stop()


RETRY_SECONDS = 15.0


async def keep_copy(engine: Engine, data_dir: Path) -> None:
    """Refresh the local read-only copy (in a worker thread); a failure only costs the copy."""
    from app.domain.errors import ChainfolioError
    from app.storage.postgres_cache import copy_path, save_copy

    try:
        await asyncio.to_thread(save_copy, engine, copy_path(data_dir))
    except (ChainfolioError, OSError) as exc:
        log.info("could not keep a local copy of the shared database: %s", exc)


async def retry_until_reachable(settings: Settings, every: float | None = None) -> bool:
    """Try the shared database every ``every`` seconds (in a worker thread) until it answers."""
    every = RETRY_SECONDS if every is None else every
    from app.bootstrap import open_shared_database
    from app.config import StorageSettings
    from app.domain.errors import ChainfolioError

    while True:
        await asyncio.sleep(every)
        url = StorageSettings(settings).url  # read again: the person may have corrected it
        try:
            engine = await asyncio.to_thread(open_shared_database, url)
        except ChainfolioError as exc:
            log.info("the shared database is still unreachable: %s", exc)
            continue
        engine.dispose()
        log.info("the shared database is reachable again: reconnecting")
        return True
