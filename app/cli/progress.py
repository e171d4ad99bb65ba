"""One line of progress on a terminal, rewritten in place (``history scan``, ``exchanges
import``); nothing when the output is not a terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TextIO, TypeVar

T = TypeVar("T")


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

    def clear(self) -> None:
        """Wipe the line (before the summary is printed)."""
        if self.live and self._width:
            self.err.write("\r" + " " * self._width + "\r")
            self.err.flush()
