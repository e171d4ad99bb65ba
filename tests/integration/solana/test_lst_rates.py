"""Liquid staking tokens valued at their pools' own exchange rates.

The pool accounts are built in the programs' published layouts (SPL stake pool ``StakePool`` from
``@solana/spl-stake-pool``'s layouts.ts; Marinade ``State`` from its SDK's Anchor IDL) and put
into a real SVM behind the local JSON-RPC server at their mainnet addresses. The programs
themselves are not published as binaries we could load, so their accounts are written directly:
this checks the reading of the layout, not the programs' arithmetic. Then the price service
values each token as SOL x rate, exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from solders.account import Account
from solders.pubkey import Pubkey
from sqlalchemy import Engine

from app.chains.solana.lst import MARINADE, POOLS, SPL_STAKE_POOL, pool_rate
from app.domain.balances import AssetInfo, Balance
from app.domain.ids import AccountId, AssetId
from app.prices.defillama import DefiLlamaSource
from app.services.prices import PriceService
from app.storage.database import open_database
from app.storage.price_store import SqlPriceStore
from tests.integration.prices.fakes import FakeDefiLlama, serve
from tests.integration.solana.test_solana_reader import read, wallet
from tests.support.solana_rpc import SolanaRpcServer

pytestmark = pytest.mark.integration


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_database(tmp_path / "db.sqlite3", tmp_path / "backups")
    yield eng
    eng.dispose()


JITO = next(p for p in POOLS if p.symbol == "JitoSOL")
MSOL = next(p for p in POOLS if p.symbol == "mSOL")
BSOL = next(p for p in POOLS if p.symbol == "bSOL")
SOL = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp/slip44:501"


def spl_pool(mint: str, total: int, supply: int, account_type: int = 1) -> bytes:
    """``StakePool`` as layouts.ts lays it out, the fields after the supply zeroed."""
    data = bytes([account_type]) + bytes(32 * 3) + bytes([255]) + bytes(32 * 2)
    data += bytes(Pubkey.from_string(mint)) + bytes(32 * 2)
    assert len(data) == 258
    data += total.to_bytes(8, "little") + supply.to_bytes(8, "little")
    return data + bytes(611 - len(data))


def marinade_state(mint: str, msol_price: int) -> bytes:
    data = bytes(8) + bytes(Pubkey.from_string(mint)) + bytes(512 - 40)
    return data + msol_price.to_bytes(8, "little") + bytes(200)


def put(server: SolanaRpcServer, key: str, data: bytes, owner: str) -> None:
    server._set(Pubkey.from_string(key), Account(10**9, data, Pubkey.from_string(owner), False, 0))


def test_pool_rates_are_read_from_the_layouts_exactly() -> None:
    rate = pool_rate(
        JITO, SPL_STAKE_POOL, spl_pool(JITO.mint, 1_234_567_890_123, 1_000_000_000_000)
    )
    assert rate == Decimal("1.234567890123")
    third = pool_rate(JITO, SPL_STAKE_POOL, spl_pool(JITO.mint, 4, 3))
    assert third is not None and third * 3 - 4 < Decimal("1e-45")  # 50 digits, not 28
    price = 5_600_000_123  # msol_price = SOL per mSOL x 2^32
    msol = pool_rate(MSOL, MARINADE, marinade_state(MSOL.mint, price))
    assert msol is not None and msol * 2**32 == price  # exact: 32 binary places, every digit
    # anything that is not the pool itself gives no rate (the market prices the token)
    assert pool_rate(JITO, MARINADE, spl_pool(JITO.mint, 2, 1)) is None  # another owner
    assert pool_rate(JITO, SPL_STAKE_POOL, spl_pool(BSOL.mint, 2, 1)) is None  # another mint
    assert pool_rate(JITO, SPL_STAKE_POOL, spl_pool(JITO.mint, 2, 1, account_type=2)) is None
    assert pool_rate(JITO, SPL_STAKE_POOL, spl_pool(JITO.mint, 2, 1)[:200]) is None
    assert pool_rate(JITO, SPL_STAKE_POOL, spl_pool(JITO.mint, 2, 0)) is None  # empty pool
    assert pool_rate(MSOL, MARINADE, marinade_state(MSOL.mint, 0)) is None
    for pool in POOLS:  # every address is a valid public key, and all are distinct
        Pubkey.from_string(pool.mint), Pubkey.from_string(pool.account)
    assert len({p.account for p in POOLS}) == len({p.mint for p in POOLS}) == len(POOLS)


def test_reader_values_liquid_staking_tokens_through_their_pools(
    svm_server: SolanaRpcServer,
) -> None:
    holder = Pubkey.new_unique()
    svm_server.fund(holder, 10**9)
    for pool in (JITO, MSOL, BSOL):
        svm_server.add_mint(Pubkey.from_string(pool.mint), 9)
        svm_server.add_token_account(holder, Pubkey.from_string(pool.mint), 2 * 10**9)
    put(svm_server, JITO.account, spl_pool(JITO.mint, 1_250_000_000, 1_000_000_000), SPL_STAKE_POOL)
    put(svm_server, MSOL.account, marinade_state(MSOL.mint, 3 * 2**31), MARINADE)
    # bSOL's pool account here is owned by another program: not trusted, market price instead
    put(svm_server, BSOL.account, spl_pool(BSOL.mint, 9, 1), MARINADE)
    svm_server.stats(reset=True)
    result = read(svm_server, [wallet(holder)])
    by_mint = {b.asset.asset_id.asset_reference: b for b in result.balances}
    assert by_mint[JITO.mint].asset.via == (SOL, Decimal("1.25"))
    assert by_mint[MSOL.mint].asset.via == (SOL, Decimal("1.5"))
    assert by_mint[BSOL.mint].asset.via is None
    assert by_mint[JITO.mint].raw == 2 * 10**9  # the holding itself is unchanged


def test_reader_without_pool_answers_prices_by_the_market(svm_server: SolanaRpcServer) -> None:
    holder = Pubkey.new_unique()
    svm_server.fund(holder, 10**9)
    svm_server.add_mint(Pubkey.from_string(JITO.mint), 9)
    svm_server.add_token_account(holder, Pubkey.from_string(JITO.mint), 10**9)
    result = read(svm_server, [wallet(holder)])  # no pool account on this chain
    (jito,) = [b for b in result.balances if b.asset.asset_id.asset_reference == JITO.mint]
    assert jito.asset.via is None


def _lst(units: Decimal | None, raw: int = 2 * 10**9) -> Balance:
    asset = AssetId.parse(f"solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp/token:{JITO.mint}")
    info = AssetInfo(
        asset, "JitoSOL", "Jito Staked SOL", 9, via=None if units is None else (SOL, units)
    )
    return Balance(
        AccountId.parse(f"solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:{JITO.account}"), info, raw
    )


def test_price_is_sol_times_the_pool_rate_exactly(engine: Engine) -> None:
    async def run() -> None:
        llama = FakeDefiLlama(prices={"coingecko:solana": 150.25, f"solana:{JITO.mint}": 999})
        async with serve(llama) as url, httpx.AsyncClient() as http:
            store = SqlPriceStore(engine)
            svc = PriceService(store, [DefiLlamaSource(http, url)])
            rate = Decimal("1.234567890123456789")
            v = await svc.value([_lst(rate)], "USD")
            (h,) = v.holdings
            assert h.price == Decimal("150.25") * rate  # not the market's 999
            assert h.value == Decimal(2) * Decimal("150.25") * rate
            assert h.source == "defillama+pool rate"
            assert [q.asset_id for q in (await svc.quote([_lst(rate)], "USD")).quotes] == [
                h.asset_id
            ]  # SOL was asked for only to value the token
            # the person's own price for the token still wins
            store.set_override(h.asset_id, Decimal("100"), "USD", 1)
            v = await svc.value([_lst(rate)], "USD")
            assert v.holdings[0].price == Decimal(100) and v.holdings[0].source == "manual"

    asyncio.run(run())


def test_no_sol_price_means_no_price_not_a_guess(engine: Engine) -> None:
    async def run() -> None:
        llama = FakeDefiLlama(prices={f"solana:{JITO.mint}": 999})
        llama.script = ["500"] * 6
        async with serve(llama) as url, httpx.AsyncClient() as http:
            svc = PriceService(SqlPriceStore(engine), [DefiLlamaSource(http, url)])
            v = await svc.value([_lst(Decimal("1.2"))], "USD")
            assert v.holdings[0].price is None and v.holdings[0].value is None

    asyncio.run(run())
