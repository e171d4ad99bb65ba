"""One line of progress on a terminal, rewritten in place (``history scan``, ``exchanges
import``); nothing when the output is not a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TextIO, TypeVar

T = TypeVar("T")
E = TypeVar("E", covariant=True)


class Publisher(Protocol[E]):
    """A service that tells its listeners of progress events."""

    def subscribe(self, listener: Callable[[E], None]) -> None: ...

    def unsubscribe(self, listener: Callable[[E], None]) -> None: ...


class LiveLine(Generic[T]):
    def __init__(self, err: TextIO, text_of: Callable[[T], str]) -> None:
        self.err, self.text_of = err, text_of
        self.live = err.isatty()
        self._width = 0

    def show(self, event: T) -> None:
        line = self.text_of(event)
        self.err.write("\r" + line.ljust(self._width))
        self._width = len(line)
        self.err.flush()

    @contextmanager
    def following(self, service: Publisher[T]) -> Iterator[None]:
        """Show ``service``'s progress while the block runs (on a terminal only), then wipe
        the line so the summary starts clean."""
        if self.live:
            service.subscribe(self.show)
        try:
            yield
        finally:
            self.clear()
            service.unsubscribe(self.show)

    def clear(self) -> None:
        """Wipe the line (before the summary is printed)."""
        if self.live and self._width:
            self.err.write("\r" + " " * self._width + "\r")
            self.err.flush()
