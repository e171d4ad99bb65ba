"""The port through which desktops sharing one database take turns to refresh.

Only one member of the group reads the chains at a time; a member that had to wait, and finds
that another stored a snapshot meanwhile, shows that snapshot instead of reading the chains
again.
"""

from __future__ import annotations

import threading
from typing import Protocol

from app.domain.snapshot import Snapshot


class RefreshGroup(Protocol):
    def acquire(self, requested_at: int, cancelled: threading.Event) -> Snapshot | None:
        """Block until this process may refresh (asked at ``requested_at``, for the log);
        returns the snapshot another member stored while this one waited (the turn is then
        already given back), or None: refresh, then :meth:`release`. Gives up (raising
        :class:`TurnCancelled`) once ``cancelled`` is set."""
        ...

    def release(self) -> None: ...


class TurnCancelled(Exception):
    """The refresh was cancelled while it waited for its turn."""
