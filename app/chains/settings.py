"""Settings of the chain readers (RPC timeouts and the like)."""

from __future__ import annotations

from app.config import Setting

SETTINGS: tuple[Setting, ...] = ()
