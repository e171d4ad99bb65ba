"""Settings of the price sources (base URLs, order, cache TTL)."""

from __future__ import annotations

from app.config import Setting

SETTINGS: tuple[Setting, ...] = ()
