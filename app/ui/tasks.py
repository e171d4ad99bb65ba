"""Running async work from the GUI: one pattern for "do this from a button".

Work runs on the qasync loop (never blocking the GUI thread); ``on_success`` / ``on_failure``
are called on the GUI thread. Tasks are strongly referenced until they finish, and a task
started under a key cancels the previous task with that key (latest request wins).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from app.domain.errors import ChainfolioError

log = logging.getLogger(__name__)
T = TypeVar("T")


class TaskRunner:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._keyed: dict[str, asyncio.Task[Any]] = {}

    def run(
        self,
        coro: Coroutine[Any, Any, T],
        on_success: Callable[[T], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        key: str | None = None,
    ) -> asyncio.Task[T]:
        if key is not None and (previous := self._keyed.get(key)) is not None:
            previous.cancel()
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        if key is not None:
            self._keyed[key] = task

        def done(t: asyncio.Task[T]) -> None:
            self._tasks.discard(t)
            if key is not None and self._keyed.get(key) is t:
                del self._keyed[key]
            if t.cancelled():
                return
            exc = t.exception()
            if exc is None:
                if on_success is not None:
                    on_success(t.result())
                return
            if not isinstance(exc, ChainfolioError):
                log.error("background task failed", exc_info=exc)
            if on_failure is not None:
                on_failure(exc)

        task.add_done_callback(done)
        return task

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
