"""A DeFi world on a real anvil node: Aave v3, Compound v3, Lido and EigenLayer test contracts
(tests/contracts/Defi.sol) with known account states. Shared by the tests and the benchmark.

States (amounts in the tokens' own units; Aave's base currency is USD with 8 decimals):
- ``healthy``: Aave supplies 10 WETH (collateral), borrows 5,000 USDC, HF 4.95; also holds
  1 WETH and 10 aWETH-as-token in the wallet list (the aWETH must not be counted twice) and
  supplies 1,000 USDC to Comet.
- ``risky``: Aave supplies 1 WETH, borrows 2,357.14 USDC, HF 1.05.
- ``borrower``: Comet collateral 2 WETH (price 3,000, liquidate factor 0.9), borrows 3,000 USDC.
- ``staker``: 5 stETH, 2 wstETH at 1.2 stETH each.
- ``restaker``: EigenLayer 3 stETH-strategy shares (1:1), 1 rETH-strategy share (1.1 rETH each),
  32 ETH restaked natively.
- ``nobody``: nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from app.chains.evm.tokens import erc20_asset_id
from app.defi.abi import call_data, checksum
from app.domain.balances import AssetInfo
from app.domain.ids import ChainId
from tests.integration.evm.anvil import Anvil

E18 = 10**18
WALLETS = {
    "healthy": "0x1000000000000000000000000000000000000001",
    "risky": "0x1000000000000000000000000000000000000002",
    "borrower": "0x1000000000000000000000000000000000000003",
    "staker": "0x1000000000000000000000000000000000000004",
    "restaker": "0x1000000000000000000000000000000000000005",
    "nobody": "0x1000000000000000000000000000000000000006",
}
TX_GAS = 500_000


def new(
    node: Anvil, name: str, types: list[str] | None = None, args: list[Any] | None = None
) -> str:
    """Deploy and return the EIP-55 address (what the reader reports)."""
    return checksum(node.deploy(name, types, args))


_queues: dict[int, list[str]] = {}  # per node (by port): hashes sent while batching


def _send(node: Anvil, to: str, data: str) -> None:
    queue = _queues.get(node.port)
    if queue is None:
        node.send(to, data)
        return
    tx = {"from": node.sender, "to": to, "data": data, "gas": hex(TX_GAS)}
    queue.append(node.rpc("eth_sendTransaction", tx))


def tx(node: Anvil, to: str, signature: str, *args: Any) -> None:
    _send(node, to, "0x" + call_data(signature, *args).hex())


def mint(node: Anvil, token: str, to: str, amount: int) -> None:
    tx(node, token, "mint(address,uint256)", to, amount)


@contextmanager
def batched(node: Anvil) -> Iterator[None]:
    """Send state-setting transactions without mining each one, then mine them in a few blocks
    and check every receipt (thousands of one-by-one blocks take minutes on a large state)."""
    _queues[node.port] = []
    node.rpc("evm_setAutomine", False)
    try:
        yield
    finally:
        hashes = _queues.pop(node.port)
        try:
            while hashes and not _all_mined(node, hashes):
                node.rpc("evm_mine")
        finally:
            node.rpc("evm_setAutomine", True)


def _all_mined(node: Anvil, hashes: list[str]) -> bool:
    body = [{"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt", "params": [h]}
            for i, h in enumerate(hashes)]  # fmt: skip
    receipts = [r.get("result") for r in node.http.post(node.url, json=body).json()]
    if any(r is None for r in receipts):
        return False
    assert all(int(r["status"], 16) == 1 for r in receipts), "a setup transaction failed"
    return True


@dataclass
class DefiWorld:
    node: Anvil
    chain: ChainId
    token: dict[str, str] = field(default_factory=dict)  # symbol -> address
    pool: str = ""
    provider: str = ""
    data_provider: str = ""
    comet: str = ""
    strategy_manager: str = ""
    pod_manager: str = ""
    strategies: dict[str, str] = field(default_factory=dict)

    def info(self, symbol: str, decimals: int = 18, price_id: str | None = None) -> AssetInfo:
        return AssetInfo(
            erc20_asset_id(self.chain, self.token[symbol]), symbol, symbol, decimals,
            price_id=price_id,
        )  # fmt: skip

    def token_list(self) -> list[AssetInfo]:
        """The chain's token list as the reader gets it: it holds receipt tokens on purpose."""
        return [
            self.info("WETH"), self.info("USDC", 6), self.info("aWETH"), self.info("stETH"),
            self.info("wstETH"),
            AssetInfo(erc20_asset_id(self.chain, self.comet), "cUSDCv3", "cUSDCv3", 6),
        ]  # fmt: skip

    def defi_toml(self, *, comet: str | None = None, tokens: bool = True) -> str:
        """The user override that points every protocol at this node's contracts."""
        c = str(self.chain)
        text = f"""
[[aave_v3]]
chain = "{c}"
pool = "{self.pool}"
addresses_provider = "{self.provider}"

[[compound_v3]]
chain = "{c}"
comet = "{comet or self.comet}"

[[lido]]
chain = "{c}"
steth = "{self.token["stETH"]}"
wsteth = "{self.token["wstETH"]}"

[[eigenlayer]]
chain = "{c}"
strategy_manager = "{self.strategy_manager}"
eigenpod_manager = "{self.pod_manager}"
"""
        if tokens:
            for symbol, decimals, price_id in (
                ("stETH", 18, "coingecko:staked-ether"),
                ("rETH", 18, "coingecko:rocket-pool-eth"),
                ("WETH", 18, "coingecko:weth"),
                ("USDC", 6, "coingecko:usd-coin"),
            ):
                text += f"""
[[token]]
chain = "{c}"
address = "{self.token[symbol]}"
symbol = "{symbol}"
decimals = {decimals}
price_id = "{price_id}"
"""
        return text


def deploy(node: Anvil) -> DefiWorld:
    """Contracts only (one transaction at a time); no account has a position yet."""
    w = DefiWorld(node, ChainId.evm(node.chain_id))
    for symbol, decimals in (("WETH", 18), ("USDC", 6), ("TKN", 18), ("stETH", 18),
                             ("rETH", 18), ("aWETH", 18), ("aUSDC", 6), ("vdWETH", 18),
                             ("vdUSDC", 6), ("aTKN", 18), ("vdTKN", 18)):  # fmt: skip
        w.token[symbol] = new(
            node, "TestToken", ["string", "string", "uint8"], [symbol, symbol, decimals]
        )
    w.token["wstETH"] = new(node, "TestWstETH", ["uint256"], [12 * E18 // 10])
    # Aave v3: three reserves; TKN is in no token list (its metadata is read on chain).
    w.data_provider = new(node, "TestAaveDataProvider")
    w.provider = new(node, "TestAaveAddressesProvider", ["address"], [w.data_provider])
    w.pool = new(node, "TestAavePool")
    for asset, a, vd in (("WETH", "aWETH", "vdWETH"), ("USDC", "aUSDC", "vdUSDC"),
                         ("TKN", "aTKN", "vdTKN")):  # fmt: skip
        tx(node, w.pool, "addReserve(address)", w.token[asset])
        tx(node, w.data_provider, "setReserve(address,address,address)", w.token[asset],
           w.token[a], w.token[vd])  # fmt: skip
    # Compound v3: a USDC market with WETH collateral (prices with 8 decimals).
    usdc_feed, weth_feed = (
        "0x00000000000000000000000000000000000FEED1",
        "0x00000000000000000000000000000000000FEED2",
    )
    w.comet = new(
        node, "TestComet", ["address", "address", "uint256"], [w.token["USDC"], usdc_feed, 10**8]
    )
    tx(node, w.comet, "addAsset(address,address,uint8,uint64,uint64,uint256)", w.token["WETH"],
       weth_feed, 18, 83 * E18 // 100, 90 * E18 // 100, 3000 * 10**8)  # fmt: skip
    # EigenLayer: a stETH strategy (1:1) and an rETH strategy (1.1 rETH per share).
    w.strategy_manager = new(node, "TestStrategyManager")
    w.pod_manager = new(node, "TestEigenPodManager")
    w.strategies["stETH"] = new(
        node, "TestStrategy", ["address", "uint256", "uint256"], [w.token["stETH"], 1, 1]
    )
    w.strategies["rETH"] = new(
        node, "TestStrategy", ["address", "uint256", "uint256"], [w.token["rETH"], 11, 10]
    )
    return w


def give_aave(
    w: DefiWorld, user: str, weth: int, usdc_debt: int, base: tuple[int, int, int]
) -> None:
    """Supply ``weth`` (collateral), borrow ``usdc_debt``; ``base`` = (collateral, debt, HF)."""
    n = w.node
    mint(n, w.token["aWETH"], user, weth)
    mint(n, w.token["vdUSDC"], user, usdc_debt)
    tx(n, w.data_provider, "setCollateral(address,address,bool)", w.token["WETH"], user, True)
    collateral, debt, hf = base
    tx(n, w.pool, "setAccount(address,uint256,uint256,uint256,uint256,uint256)", user,
       collateral, debt, 8250, 8000, hf)  # fmt: skip


def give_compound(w: DefiWorld, user: str, weth: int, borrow: int, supply: int = 0) -> None:
    n = w.node
    if weth:
        tx(n, w.comet, "setCollateral(address,address,uint128)", user, w.token["WETH"], weth)
    if borrow:
        tx(n, w.comet, "setBorrow(address,uint256)", user, borrow)
    if supply:
        tx(n, w.comet, "setSupply(address,uint256)", user, supply)


def give_lido(w: DefiWorld, user: str, steth: int, wsteth: int) -> None:
    mint(w.node, w.token["stETH"], user, steth)
    mint(w.node, w.token["wstETH"], user, wsteth)


def give_eigen(w: DefiWorld, user: str, steth_shares: int, reth_shares: int, native: int) -> None:
    n = w.node
    for symbol, shares in (("stETH", steth_shares), ("rETH", reth_shares)):
        if shares:
            tx(n, w.strategy_manager, "addDeposit(address,address,uint256)", user,
               w.strategies[symbol], shares)  # fmt: skip
    if native:
        tx(n, w.pod_manager, "setShares(address,int256)", user, native)


def populate(w: DefiWorld) -> DefiWorld:
    """The known states of the module docstring."""
    with batched(w.node):
        _populate(w)
    return w


def _populate(w: DefiWorld) -> None:
    h, r = WALLETS["healthy"], WALLETS["risky"]
    give_aave(w, h, 10 * E18, 5000 * 10**6, (30_000 * 10**8, 5_000 * 10**8, 495 * E18 // 100))
    mint(w.node, w.token["WETH"], h, E18)
    give_compound(w, h, 0, 0, supply=1000 * 10**6)
    give_aave(w, r, E18, 2_357_142_857, (3_000 * 10**8, 2_357_14285714, 105 * E18 // 100))
    give_compound(w, WALLETS["borrower"], 2 * E18, 3000 * 10**6)
    give_lido(w, WALLETS["staker"], 5 * E18, 2 * E18)
    give_eigen(w, WALLETS["restaker"], 3 * E18, E18, 32 * E18)
