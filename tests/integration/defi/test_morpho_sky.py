"""Morpho Blue (real contracts from its npm package) and Sky savings (OpenZeppelin's ERC-4626)
through the real EVM reader on anvil: amounts, health and rates against the contracts' own
answers, a market that does not exist, an IRM that answers garbage, the node going down."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal, localcontext
from pathlib import Path

import pytest

from app.chains.evm.reader import EvmReader
from app.chains.http import JsonRpcTransport
from app.defi.abi import call_data
from app.defi.morpho import to_assets_down, to_assets_up
from app.defi.registry import build_sources, load_config
from app.domain.addresses import AddressFamily
from app.domain.balances import AssetInfo, ChainReadResult, SourceState
from app.domain.chains import ChainFamily, ChainSpec
from app.domain.ids import AssetId, ChainId
from app.domain.model import Wallet
from app.domain.rates import SECONDS_PER_YEAR, RateSide
from tests.integration.defi.lend_world import (
    E18,
    MORPHO_ARTIFACTS,
    PARAMS,
    MorphoWorld,
    deploy_morpho,
    deploy_vault,
    eth_call,
    raw_call,
    send_from,
)
from tests.integration.evm.anvil import MULTICALL3, Anvil, running

pytestmark = pytest.mark.integration

SUPPLIER = "0x2000000000000000000000000000000000000001"
BORROWER = "0x2000000000000000000000000000000000000002"
RISKY = "0x2000000000000000000000000000000000000003"
SAVER = "0x2000000000000000000000000000000000000004"
NOBODY = "0x2000000000000000000000000000000000000005"
WALLETS = [SUPPLIER, BORROWER, RISKY, SAVER, NOBODY]
SSR = 1_000000001_547125957_863212448  # sUSDS's rate of about 5 % a year, per second in ray


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[MorphoWorld, str, str]]:
    if not MORPHO_ARTIFACTS.exists():
        pytest.skip("Morpho not compiled: run `node tests/contracts/compile_morpho.mjs`")
    for node in running(31339):
        m = deploy_morpho(node)
        m.supply(SUPPLIER, 10_000 * 10**6)
        m.supply_collateral(BORROWER, 2 * E18)
        m.borrow(BORROWER, 2_000 * 10**6)  # 2 x 2,000 x 0.86 = 3,440 allowed
        m.supply_collateral(RISKY, E18)
        m.borrow(RISKY, 1_700 * 10**6)  # 1,720 allowed: health 1.0118
        node.rpc("evm_increaseTime", 30 * 24 * 3600)
        node.rpc("evm_mine")
        m.accrue()  # the totals are current at the block the reader reads
        usds = _token(node, "USDS", 18)
        vault = deploy_vault(node, usds, SSR)
        _deposit(node, usds, vault, SAVER, 1_000 * E18)
        node.send(usds, "0x" + call_data("mint(address,uint256)", vault, 37 * E18).hex())  # yield
        m.extra_ids.append(node.deploy("BlockClock"))  # getCurrentBlockTimestamp()
        # From here on every block has the same time (no interest accrues between a read and
        # the protocol's own answer), unless a test moves the clock on purpose.
        node.rpc("anvil_setBlockTimestampInterval", 0)
        m.accrue()  # the totals are current at the block the reader reads
        yield m, usds, vault


def _token(node: Anvil, symbol: str, decimals: int) -> str:
    return node.deploy("TestToken", ["string", "string", "uint8"], [symbol, symbol, decimals])


def _deposit(node: Anvil, token: str, vault: str, who: str, amount: int) -> None:
    node.send(token, "0x" + call_data("mint(address,uint256)", who, amount).hex())
    send_from(node, who, token, call_data("approve(address,uint256)", vault, amount))
    send_from(node, who, vault, call_data("deposit(uint256,address)", amount, who))


def _toml(m: MorphoWorld, usds: str, vault: str, *, market: str | None = None,
          extra: str = "") -> str:  # fmt: skip
    chain = f"eip155:{m.node.chain_id}"
    return f"""
[[morpho_blue]]
chain = "{chain}"
morpho = "{m.morpho}"
market = "{market or m.market_id}"
clock = "{m.extra_ids[0]}"
{extra}
[[sky]]
chain = "{chain}"
vault = "{vault}"
underlying = "{usds}"
underlying_symbol = "USDS"
underlying_decimals = 18
underlying_price_id = "coingecko:usds"
rate_contract = "{vault}"
rate_function = "ssr()"
"""


def _read(
    m: MorphoWorld, tmp_path: Path, toml: str, url: str | None = None, vault: str | None = None
) -> ChainReadResult:
    override = tmp_path / "defi.toml"
    override.write_text(toml)
    chain = ChainId.evm(m.node.chain_id)
    spec = ChainSpec(chain, "Local", ChainFamily.EVM, "ETH", "Ether", 18, 60,
                     (url or m.node.url,), multicall3=MULTICALL3)  # fmt: skip
    tokens = [
        AssetInfo(_id(chain, m.loan), "USDC", "USD Coin", 6, price_id="coingecko:usd-coin"),
        AssetInfo(_id(chain, m.collateral), "WETH", "Wrapped Ether", 18),
    ]
    if vault:  # the chain's token list knows the share token: it must not count twice
        tokens.append(AssetInfo(_id(chain, vault), "sUSDS", "Savings USDS", 18))
    sources = build_sources(chain, load_config(override), tokens, EvmReader.native_info_of(spec))

    async def go() -> ChainReadResult:
        reader = EvmReader(spec, JsonRpcTransport(spec.rpc_urls, retries=0), tokens,
                           positions=sources)  # fmt: skip
        try:
            return await reader.read_balances([Wallet(a, AddressFamily.EVM) for a in WALLETS])
        finally:
            await reader.aclose()

    return asyncio.run(go())


def _id(chain: ChainId, address: str) -> AssetId:
    from app.chains.evm.tokens import erc20_asset_id

    return erc20_asset_id(chain, address)


def _positions(result: ChainReadResult, who: str) -> dict[str, int]:
    return {
        b.position.rsplit(":", 1)[-1]: b.raw
        for b in result.balances
        if b.wallet.address.lower() == who.lower() and b.position
    }


def _withdraw_all(m: MorphoWorld, shares: int) -> int:
    """What Morpho's own withdraw() pays for every supply share at the block read. The market
    is lent out, so another lender first adds liquidity, in a block with the same timestamp
    (the fixture froze the clock: no interest accrues in between); the chain is reverted
    afterwards."""
    node = m.node
    snapshot = node.rpc("evm_snapshot")
    try:
        now = int(node.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
        m.supply(NOBODY, 100_000 * 10**6)
        assert int(node.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16) == now
        paid = eth_call(node, m.morpho, raw_call(
            f"withdraw({PARAMS},uint256,uint256,address,address)",
            [PARAMS, "uint256", "uint256", "address", "address"],
            [m.params, 0, shares, SUPPLIER, SUPPLIER]), SUPPLIER)  # fmt: skip
        return int.from_bytes(paid[:32], "big")
    finally:
        node.rpc("evm_revert", snapshot)


def _market(m: MorphoWorld) -> tuple[int, ...]:
    raw = eth_call(m.node, m.morpho,
                   call_data("market(bytes32)", bytes.fromhex(m.market_id[2:])))  # fmt: skip
    return tuple(int.from_bytes(raw[i : i + 32], "big") for i in range(0, 192, 32))


def test_morpho_amounts_are_what_the_protocol_pays_out(
    world: tuple[MorphoWorld, str, str], tmp_path: Path
) -> None:
    m, usds, vault = world
    result = _read(m, tmp_path, _toml(m, usds, vault))
    assert result.state is SourceState.OK
    assert not result.failures, result.failures
    # What withdrawing every supply share would pay now, and what repaying every borrow share
    # would cost, asked of Morpho itself (eth_call at the block read).
    supply_shares = m.position(SUPPLIER)[0]
    assert _positions(result, SUPPLIER) == {"supplied": _withdraw_all(m, supply_shares)}
    for who in (BORROWER, RISKY):
        _, borrow_shares, collateral = m.position(who)
        m.fund(who, m.loan, 10_000 * 10**6)
        repay = eth_call(m.node, m.morpho, raw_call(
            f"repay({PARAMS},uint256,uint256,address,bytes)",
            [PARAMS, "uint256", "uint256", "address", "bytes"],
            [m.params, 0, borrow_shares, who, b""]), who)  # fmt: skip
        found = _positions(result, who)
        assert found["borrowed"] == -int.from_bytes(repay[:32], "big")
        assert found["collateral"] == collateral
        assert found["borrowed"] < -1_700 * 10**6  # a month of interest was accrued
    totals = _market(m)
    assert _positions(result, SUPPLIER)["supplied"] == to_assets_down(
        supply_shares, totals[0], totals[1]
    )
    assert -_positions(result, RISKY)["borrowed"] == to_assets_up(
        m.position(RISKY)[1], totals[2], totals[3]
    )


def test_morpho_health_follows_the_liquidation_rule(
    world: tuple[MorphoWorld, str, str], tmp_path: Path
) -> None:
    m, usds, vault = world
    result = _read(m, tmp_path, _toml(m, usds, vault))
    accounts = {a.wallet.split(":")[-1].lower(): a for a in result.accounts}
    risky, safe = accounts[RISKY.lower()], accounts[BORROWER.lower()]
    debt = Decimal(-_positions(result, RISKY)["borrowed"]) / 10**6
    assert risky.collateral == Decimal(2000) and risky.liquidation_threshold == Decimal("0.86")
    assert risky.debt == debt
    assert risky.health_factor == Decimal(2000) * Decimal("0.86") / debt
    assert safe.health_factor is not None and safe.health_factor > 1
    assert risky.market == m.market_id and risky.protocol == "morpho-blue"
    # The rule is Morpho's: at health < 1 its own liquidate() accepts the position.
    m.set_price(1950 * 10**36 * 10**6 // E18)
    try:
        low = _read(m, tmp_path, _toml(m, usds, vault))
        hf = {a.wallet.split(":")[-1].lower(): a.health_factor for a in low.accounts}
        risky_hf = hf[RISKY.lower()]
        assert risky_hf is not None and risky_hf < 1
        m.fund(m.node.sender, m.loan, 10**12)
        node = m.node
        liquidate = raw_call(
            f"liquidate({PARAMS},address,uint256,uint256,bytes)",
            [PARAMS, "address", "uint256", "uint256", "bytes"],
            [m.params, RISKY, E18 // 100, 0, b""],
        )
        eth_call(node, m.morpho, liquidate, node.sender)  # does not revert
        with pytest.raises(RuntimeError):
            eth_call(node, m.morpho, raw_call(
                f"liquidate({PARAMS},address,uint256,uint256,bytes)",
                [PARAMS, "address", "uint256", "uint256", "bytes"],
                [m.params, BORROWER, E18 // 100, 0, b""]), node.sender)  # fmt: skip
    finally:
        m.set_price(2000 * 10**36 * 10**6 // E18)


def test_morpho_rates_are_the_irm_rate_compounded_continuously(
    world: tuple[MorphoWorld, str, str], tmp_path: Path
) -> None:
    m, usds, vault = world
    result = _read(m, tmp_path, _toml(m, usds, vault))
    rates = {r.side: r for r in result.rates if r.protocol == "morpho-blue"}
    totals = _market(m)
    view = raw_call(
        f"borrowRateView({PARAMS},(uint128,uint128,uint128,uint128,uint128,uint128))",
        [PARAMS, "(uint128,uint128,uint128,uint128,uint128,uint128)"], [m.params, totals],
    )  # fmt: skip
    per_second = int.from_bytes(eth_call(m.node, m.irm, view), "big")
    assert per_second > 0
    with localcontext() as ctx:
        ctx.prec = 60
        borrow_apy = (Decimal(per_second) * SECONDS_PER_YEAR / E18).exp() - 1
        util = Decimal(totals[2]) / Decimal(totals[0])
        supply_apy = borrow_apy * util * (1 - Decimal(m.fee) / E18)
    assert rates[RateSide.BORROW].apy == borrow_apy
    assert rates[RateSide.SUPPLY].apy == supply_apy
    assert rates[RateSide.BORROW].position == f"morpho-blue:{m.market_id}:borrowed"
    # IrmMock: x % utilisation is x % APR
    assert abs(rates[RateSide.BORROW].apr - util) < Decimal("1e-9")  # type: ignore[operator]


def test_sky_savings_are_the_vaults_own_conversion_with_its_rate(
    world: tuple[MorphoWorld, str, str], tmp_path: Path
) -> None:
    m, usds, vault = world
    result = _read(m, tmp_path, _toml(m, usds, vault), vault=vault)
    shares = int.from_bytes(eth_call(m.node, vault, call_data("balanceOf(address)", SAVER)), "big")
    assets = eth_call(m.node, vault, call_data("convertToAssets(uint256)", shares))
    assert _positions(result, SAVER) == {"supplied": int.from_bytes(assets, "big")}
    assert int.from_bytes(assets, "big") > 1_036 * E18  # the yield minted into the vault
    saver = [b.asset.symbol for b in result.balances
             if b.wallet.address.lower() == SAVER.lower() and b.asset.symbol != "ETH"]  # fmt: skip
    assert saver == ["USDS"]  # the vault's share token is not counted twice
    (rate,) = [r for r in result.rates if r.protocol == "sky"]
    with localcontext() as ctx:
        ctx.prec = 60
        expected = (Decimal(SSR) / 10**27) ** SECONDS_PER_YEAR - 1
    assert abs(rate.apy - expected) < Decimal("1e-40")
    assert Decimal("0.0499") < rate.apy < Decimal("0.0501")


def test_an_unknown_market_and_a_garbage_irm_cost_only_themselves(
    world: tuple[MorphoWorld, str, str], tmp_path: Path
) -> None:
    m, usds, vault = world
    missing = "0x" + "ab" * 32
    extra = f'[[morpho_blue]]\nchain = "eip155:{m.node.chain_id}"\nmorpho = "{m.morpho}"\n' \
            f'market = "{missing}"\n'  # fmt: skip
    result = _read(m, tmp_path, _toml(m, usds, vault, extra=extra))
    assert result.state is SourceState.OK
    assert _positions(result, SUPPLIER)["supplied"] > 10_000 * 10**6
    bad = [f for f in result.failures if "0xabababab" in f.reason]
    assert len(bad) == len(WALLETS)  # one per wallet, in plain words
    assert all("Morpho Blue market" in f.reason for f in bad)
    # An IRM that answers garbage (code that returns 2^255 per second): no rate, same amounts.
    garbage = "0x7f" + "80" + "00" * 31 + "5f5260205ff3"  # PUSH32 2^255, MSTORE(0), RETURN(0,32)
    m.node.rpc("anvil_setCode", m.irm, garbage)
    try:
        hostile = _read(m, tmp_path, _toml(m, usds, vault))
        assert not [r for r in hostile.rates if r.protocol == "morpho-blue"]
        assert _positions(hostile, SUPPLIER) == _positions(result, SUPPLIER)
    finally:
        art = __import__("json").loads(MORPHO_ARTIFACTS.read_text())
        m.node.rpc("anvil_setCode", m.irm, _runtime(m.node, art["IrmMock"]["bytecode"]))


def _runtime(node: Anvil, creation: str) -> str:
    """The runtime code a creation code deploys (IrmMock has no constructor state)."""
    address = node.send(None, creation)["contractAddress"]
    code: str = node.rpc("eth_getCode", address, "latest")
    return code


def test_node_down_fails_the_chain_not_the_process(
    world: tuple[MorphoWorld, str, str], tmp_path: Path
) -> None:
    from tests.support.net import free_port

    m, usds, vault = world
    result = _read(m, tmp_path, _toml(m, usds, vault), url=f"http://127.0.0.1:{free_port()}")
    assert result.state is SourceState.FAILED
    assert result.error and "Traceback" not in result.error
    assert not result.rates


def test_interest_since_the_last_update_is_added_like_morpho_does(
    world: tuple[MorphoWorld, str, str], tmp_path: Path
) -> None:
    """A week with no interaction: the stored totals are a week old, the reader adds the interest
    as _accrueInterest would, and the amounts equal what withdraw() and repay() settle at
    that block (they accrue first)."""
    m, usds, vault = world
    node = m.node
    now = int(node.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    node.rpc("evm_setNextBlockTimestamp", now + 7 * 86400)
    node.rpc("evm_mine")
    try:
        stale = _market(m)
        result = _read(m, tmp_path, _toml(m, usds, vault))
        assert not result.failures
        supplied = _positions(result, SUPPLIER)["supplied"]
        assert supplied > to_assets_down(m.position(SUPPLIER)[0], stale[0], stale[1])
        assert supplied == _withdraw_all(m, m.position(SUPPLIER)[0])
        _, borrow_shares, _ = m.position(RISKY)
        repay = eth_call(node, m.morpho, raw_call(
            f"repay({PARAMS},uint256,uint256,address,bytes)",
            [PARAMS, "uint256", "uint256", "address", "bytes"],
            [m.params, 0, borrow_shares, RISKY, b""]), RISKY)  # fmt: skip
        assert _positions(result, RISKY)["borrowed"] == -int.from_bytes(repay[:32], "big")
        # Without a clock (the default Multicall3 address holds no such contract here) the
        # amounts are those of the last update: still read, never failed.
        plain = _read(m, tmp_path, _toml(m, usds, vault).replace(
            f'clock = "{m.extra_ids[0]}"', 'clock = "0x000000000000000000000000000000000000c10c"'))  # fmt: skip
        assert not plain.failures
        assert _positions(plain, SUPPLIER)["supplied"] == to_assets_down(
            m.position(SUPPLIER)[0], stale[0], stale[1]
        )
    finally:
        m.accrue()  # the other tests read at the last update
