"""WalletService with a fake repository and a fake name resolver."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from app.domain.errors import (
    DuplicateWalletError,
    InvalidAddressError,
    SecretInputError,
    WalletNotFoundError,
)
from app.domain.model import Wallet
from app.services.wallets import WalletService

ADDR = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"


class FakeRepo:
    def __init__(self) -> None:
        self.rows: dict[int, Wallet] = {}

    def list(self) -> list[Wallet]:
        return list(self.rows.values())

    def get_by_address(self, address: str) -> Wallet | None:
        return next((w for w in self.rows.values() if w.address == address), None)

    def add(self, wallet: Wallet) -> Wallet:
        if self.get_by_address(wallet.address):
            raise DuplicateWalletError("dup")
        saved = replace(wallet, id=len(self.rows) + 1)
        self.rows[saved.id or 0] = saved
        return saved

    def update(self, wallet: Wallet) -> Wallet:
        self.rows[wallet.id or 0] = wallet
        return wallet

    def remove(self, wallet_id: int) -> None:
        if wallet_id not in self.rows:
            raise WalletNotFoundError("no")
        del self.rows[wallet_id]


class FakeResolver:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    async def resolve(self, name: str) -> str | None:
        return self.names.get(name)


def test_add_cleans_label_and_checksums() -> None:
    svc = WalletService(FakeRepo())
    w = asyncio.run(svc.add(ADDR.lower(), label="  my\u202e wallet\n"))
    assert w.address == ADDR
    assert w.label == "my wallet"


def test_duplicate_in_other_case_is_rejected() -> None:
    svc = WalletService(FakeRepo())
    asyncio.run(svc.add(ADDR))
    with pytest.raises(DuplicateWalletError):
        asyncio.run(svc.add(ADDR.lower()))


def test_secret_is_refused_and_nothing_stored(caplog: pytest.LogCaptureFixture) -> None:
    repo = FakeRepo()
    svc = WalletService(repo)
    secret = "legal winner thank year wave sausage worth useful legal winner thank yellow"
    with pytest.raises(SecretInputError):
        asyncio.run(svc.add(secret))
    assert repo.rows == {}
    assert "sausage" not in caplog.text


def test_ens_without_resolver_is_explained() -> None:
    with pytest.raises(InvalidAddressError, match="ENS"):
        WalletService(FakeRepo()).check("vitalik.eth")


def test_ens_with_resolver_stores_name() -> None:
    svc = WalletService(FakeRepo(), FakeResolver({"alice.eth": ADDR.lower()}))
    w = asyncio.run(svc.add("Alice.eth"))
    assert (w.address, w.ens_name) == (ADDR, "alice.eth")
    assert svc.find("alice.eth") == w
    with pytest.raises(InvalidAddressError, match="does not point"):
        asyncio.run(svc.add("nobody.eth"))


def test_find_edit_remove() -> None:
    svc = WalletService(FakeRepo())
    w = asyncio.run(svc.add(ADDR))
    assert svc.find(ADDR.upper().replace("0X", "0x")) == w
    edited = svc.edit(w, label="cold", group="savings")
    assert (edited.label, edited.group) == ("cold", "savings")
    svc.remove(edited)
    with pytest.raises(WalletNotFoundError):
        svc.find(ADDR)
