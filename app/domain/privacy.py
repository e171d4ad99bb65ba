"""What each host learnt: the privacy ledger's records and report rows (pure data).

A :class:`Contact` is one request (or one refused attempt) as the one HTTP layer saw it: the
host, what it was for, when, and which of the person's watched addresses travelled in it. The
store sums contacts per host; a :class:`HostReport` is what the Privacy page and
``chainfolio privacy report`` show for one host.
"""

from __future__ import annotations

from dataclasses import dataclass

# What a request was for; the one HTTP layer is told by each client it builds.
PURPOSES: dict[str, str] = {
    "rpc": "Balances and positions (RPC)",
    "activity": "Address activity check (RPC)",
    "ens": "ENS names",
    "prices": "Prices",
    "fx": "Exchange rates",
    "explorer": "Block explorer",
    "history": "Transaction history",
    "probe": "RPC URL check",
    "tokens": "Token details (RPC)",
    "bitcoin": "Bitcoin server",
    "exchange": "Exchange balances",
}


def purpose_name(purpose: str) -> str:
    return PURPOSES.get(purpose, purpose)


@dataclass(frozen=True, slots=True)
class Contact:
    """One request that left (``refused`` False) or one the layer refused before connecting."""

    host: str
    purpose: str
    at: int  # epoch seconds
    refused: bool = False
    addresses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SeenAddress:
    address: str
    requests: int
    first_at: int
    last_at: int


@dataclass(frozen=True, slots=True)
class HostReport:
    """One host: requests sent, attempts refused, first and last contact, addresses seen."""

    host: str
    purposes: tuple[str, ...]
    requests: int
    refused: int
    first_at: int | None
    last_at: int | None
    last_refused_at: int | None
    addresses: tuple[SeenAddress, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "host": self.host,
            "purposes": list(self.purposes),
            "requests": self.requests,
            "refused": self.refused,
            "first_contact": self.first_at,
            "last_contact": self.last_at,
            "last_refused": self.last_refused_at,
            "addresses_seen": len(self.addresses),
            "addresses": [
                {"address": a.address, "requests": a.requests, "first": a.first_at,
                 "last": a.last_at}
                for a in self.addresses
            ],
        }  # fmt: skip
