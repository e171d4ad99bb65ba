"""Runs every protocol source of a chain in lockstep (see ``app.domain.position_reads``)."""

from __future__ import annotations

from app.domain.position_reads import PositionPass

__all__ = ["PositionPass"]
