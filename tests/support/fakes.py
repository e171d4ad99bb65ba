"""Fakes of the ports, shared by tests that do not exercise the real adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.domain.snapshot import Snapshot
    from app.services.refresh import RefreshResult


class MemorySecrets:
    """In-memory :class:`app.domain.ports.SecretStore` (the keyring adapter has its own tests)."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self.values: dict[str, str] = dict(values or {})

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self.values)


def stored(snapshot: Snapshot) -> RefreshResult:
    """What a successful refresh that stored ``snapshot`` returns (for fake refreshers)."""
    from app.domain.outcome import RefreshStatus
    from app.services.refresh import RefreshResult

    return RefreshResult(
        RefreshStatus.OK, "Refreshed.", snapshot.taken_at, snapshot.currency,
        snapshot=snapshot, stored=True,
    )  # fmt: skip
