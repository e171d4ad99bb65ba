"""Adding a Bitcoin key whose first receive address is already watched on its own: the sentence
says what is really there (the address, not the key) and what to do."""

from __future__ import annotations

import asyncio

import pytest

from app.domain.errors import DuplicateWalletError
from app.services.wallets import WalletService
from tests.support.bitcoin_fakes import DEMO_ZPUB
from tests.unit.test_wallet_service import FakeRepo

FIRST = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"  # DEMO_ZPUB's first receive address


def test_key_whose_first_address_is_watched_alone_says_so() -> None:
    svc = WalletService(FakeRepo())
    asyncio.run(svc.add(FIRST))
    with pytest.raises(DuplicateWalletError) as err:
        asyncio.run(svc.add(DEMO_ZPUB))
    text = str(err.value)
    assert "is already in your wallets" not in text  # the key is not
    assert FIRST in text and "Remove that wallet first" in text
    assert DEMO_ZPUB not in text  # the key only shortened


def test_same_key_twice_is_already_there() -> None:
    svc = WalletService(FakeRepo())
    asyncio.run(svc.add(DEMO_ZPUB))
    with pytest.raises(DuplicateWalletError, match="already in your wallets"):
        asyncio.run(svc.add(DEMO_ZPUB))
