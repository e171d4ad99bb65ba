"""Domain entities. Immutable value objects; money is int (raw) plus Decimal (values)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from app.domain.addresses import AddressFamily

MAX_LABEL_LENGTH = 64
MAX_GROUP_LENGTH = 32


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Wallet:
    """A watch-only address the person follows.

    A Bitcoin wallet watched through an extended public key or a descriptor has it in
    ``watch`` (private, never logged in full) and its first receive address as ``address``."""

    address: str
    family: AddressFamily
    label: str = ""
    group: str = ""
    ens_name: str | None = None
    id: int | None = None
    created_at: datetime = field(default_factory=utcnow)
    watch: str | None = None

    def with_label(self, label: str) -> Wallet:
        return replace(self, label=label)

    def with_group(self, group: str) -> Wallet:
        return replace(self, group=group)

    @property
    def display_name(self) -> str:
        return self.label or self.ens_name or short_address(self.address)


def short_address(address: str) -> str:
    return address if len(address) <= 13 else f"{address[:6]}…{address[-4:]}"
