"""A real Aave v3 market on anvil, from the protocol's own compiled artifacts:
``@aave/core-v3`` 1.19.3 (PoolAddressesProvider, ACLManager, Pool with its seven logic
libraries linked, PoolConfigurator with ConfiguratorLogic, AaveOracle, AaveProtocolDataProvider,
AToken, StableDebtToken, VariableDebtToken, DefaultReserveInterestRateStrategy, MintableERC20,
MockAggregator) and ``@aave/periphery-v3`` 3.0.1 (RewardsController, PullRewardsTransferStrategy),
deployed the way Aave's own deploy scripts wire them (the addresses provider creates the Pool and
PoolConfigurator proxies). Positions are opened through ``Pool.supply`` / ``Pool.borrow`` sent by
the wallets themselves (anvil impersonation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_hash.auto import keccak

from app.defi.abi import checksum
from tests.integration.defi.lend_world import E18, MAX, eth_call, send_from
from tests.integration.evm.anvil import ROOT, Anvil

AAVE = ROOT / "node_modules" / "@aave"
LIBRARIES = ("SupplyLogic", "BorrowLogic", "LiquidationLogic", "EModeLogic", "BridgeLogic",
             "PoolLogic")  # FlashLoanLogic links BorrowLogic, so it comes after  # fmt: skip
RAY = 10**27


@cache
def _index() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in ("core-v3", "periphery-v3"):
        for p in sorted((AAVE / package / "artifacts").rglob("*.json")):
            if not p.name.endswith(".dbg.json"):
                found.setdefault(p.stem, p)
    return found


def installed() -> bool:
    return (AAVE / "core-v3" / "artifacts").exists() and (AAVE / "periphery-v3").exists()


def artifact(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_index()[name].read_text())
    return data


def _type(x: dict[str, Any]) -> str:
    if x["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in x["components"]) + ")" + str(x["type"])[5:]
    return str(x["type"])


def encode_call(contract: str, function: str, *args: Any) -> bytes:
    """Calldata from the artifact's ABI (the first overload with that many arguments)."""
    for item in artifact(contract)["abi"]:
        if item.get("name") == function and len(item["inputs"]) == len(args):
            types = [_type(i) for i in item["inputs"]]
            sig = f"{function}({','.join(types)})"
            return bytes(keccak(sig.encode())[:4]) + encode(types, list(args))
    raise KeyError(f"{contract}.{function}/{len(args)}")


def _link(name: str, libraries: dict[str, str]) -> str:
    a = artifact(name)
    code: str = a["bytecode"][2:]
    for refs in a.get("linkReferences", {}).values():
        for lib, places in refs.items():
            for place in places:
                at = place["start"] * 2
                code = code[:at] + libraries[lib][2:].lower() + code[at + place["length"] * 2 :]
    return "0x" + code


@dataclass
class AaveWorld:
    node: Anvil
    provider: str = ""
    pool: str = ""
    configurator: str = ""
    data_provider: str = ""
    oracle: str = ""
    rewards: str = ""
    token: dict[str, str] = field(default_factory=dict)  # symbol -> underlying
    atoken: dict[str, str] = field(default_factory=dict)
    vdebt: dict[str, str] = field(default_factory=dict)
    sdebt: dict[str, str] = field(default_factory=dict)
    feed: dict[str, str] = field(default_factory=dict)

    def deploy(self, name: str, *args: Any, linked: dict[str, str] | None = None) -> str:
        a = artifact(name)
        ctor = next((i for i in a["abi"] if i["type"] == "constructor"), None)
        data = _link(name, linked or {}) if linked is not None else a["bytecode"]
        if ctor and ctor["inputs"]:
            data += encode([_type(i) for i in ctor["inputs"]], list(args)).hex()
        return checksum(self.node.send(None, data)["contractAddress"])

    def send(self, to: str, contract: str, function: str, *args: Any) -> None:
        self.node.send(to, "0x" + encode_call(contract, function, *args).hex())

    def view(self, to: str, contract: str, function: str, *args: Any) -> bytes:
        return eth_call(self.node, to, encode_call(contract, function, *args))

    def supply(self, who: str, symbol: str, amount: int) -> None:
        token = self.token[symbol]
        self.send(token, "MintableERC20", "mint", who, amount)  # mint(address,uint256)
        send_from(self.node, who, token, encode_call("MintableERC20", "approve", self.pool, MAX))
        send_from(self.node, who, self.pool,
                  encode_call("Pool", "supply", token, amount, who, 0))  # fmt: skip

    def borrow(self, who: str, symbol: str, amount: int) -> None:
        send_from(self.node, who, self.pool,
                  encode_call("Pool", "borrow", self.token[symbol], amount, 2, 0, who))  # fmt: skip


def deploy_aave(node: Anvil) -> AaveWorld:
    """A market with WETH (2,000 USD) and USDC (1 USD) reserves, both collateral and
    borrowable, and a RewardsController paying RWD on aUSDC and on variable USDC debt."""
    w = AaveWorld(node)
    owner = node.sender
    w.provider = w.deploy("PoolAddressesProvider", "Chainfolio test market", owner)
    w.send(w.provider, "PoolAddressesProvider", "setACLAdmin", owner)
    acl = w.deploy("ACLManager", w.provider)
    w.send(w.provider, "PoolAddressesProvider", "setACLManager", acl)
    w.send(acl, "ACLManager", "addPoolAdmin", owner)
    libs: dict[str, str] = {}
    for name in LIBRARIES:
        libs[name] = w.deploy(name)
    libs["FlashLoanLogic"] = w.deploy("FlashLoanLogic", linked=libs)
    w.send(
        w.provider,
        "PoolAddressesProvider",
        "setPoolImpl",
        w.deploy("Pool", w.provider, linked=libs),
    )
    w.pool = checksum("0x" + w.view(w.provider, "PoolAddressesProvider", "getPool")[12:].hex())
    configurator_logic = {"ConfiguratorLogic": w.deploy("ConfiguratorLogic")}
    w.send(w.provider, "PoolAddressesProvider", "setPoolConfiguratorImpl",
           w.deploy("PoolConfigurator", linked=configurator_logic))  # fmt: skip
    w.configurator = checksum(
        "0x" + w.view(w.provider, "PoolAddressesProvider", "getPoolConfigurator")[12:].hex()
    )
    for symbol, decimals, price in (("WETH", 18, 2000 * 10**8), ("USDC", 6, 10**8),
                                    ("RWD", 18, 5 * 10**8)):  # fmt: skip
        w.token[symbol] = w.deploy("MintableERC20", symbol, symbol, decimals)
        w.feed[symbol] = w.deploy("MockAggregator", price)
    assets = [w.token["WETH"], w.token["USDC"]]
    w.oracle = w.deploy("AaveOracle", w.provider, assets, [w.feed["WETH"], w.feed["USDC"]],
                        "0x" + "00" * 20, "0x" + "00" * 20, 10**8)  # fmt: skip
    w.send(w.provider, "PoolAddressesProvider", "setPriceOracle", w.oracle)
    w.data_provider = w.deploy("AaveProtocolDataProvider", w.provider)
    w.send(w.provider, "PoolAddressesProvider", "setPoolDataProvider", w.data_provider)
    w.rewards = w.deploy("RewardsController")
    w.send(w.rewards, "RewardsController", "initialize", owner)
    a_impl, s_impl, v_impl = (w.deploy(n, w.pool) for n in
                              ("AToken", "StableDebtToken", "VariableDebtToken"))  # fmt: skip
    # 80 % optimal usage, 0 % base, 4 % slope 1, 75 % slope 2 (Aave's stablecoin-like curve)
    strategy = w.deploy("DefaultReserveInterestRateStrategy", w.provider, 8 * RAY // 10, 0,
                        4 * RAY // 100, 75 * RAY // 100, 0, 0, 0, 0, 2 * RAY // 10)  # fmt: skip
    treasury = "0x000000000000000000000000000000000000dEaD"
    inputs = [
        (a_impl, s_impl, v_impl, decimals, strategy, w.token[symbol], treasury, w.rewards,
         f"Aave {symbol}", f"a{symbol}", f"Variable debt {symbol}", f"variableDebt{symbol}",
         f"Stable debt {symbol}", f"stableDebt{symbol}", b"")
        for symbol, decimals in (("WETH", 18), ("USDC", 6))
    ]  # fmt: skip
    w.send(w.configurator, "PoolConfigurator", "initReserves", inputs)
    for symbol in ("WETH", "USDC"):
        asset = w.token[symbol]
        w.send(w.configurator, "PoolConfigurator", "configureReserveAsCollateral",
               asset, 8000, 8250, 10500)  # fmt: skip
        w.send(w.configurator, "PoolConfigurator", "setReserveBorrowing", asset, True)
        raw = w.view(w.data_provider, "AaveProtocolDataProvider", "getReserveTokensAddresses",
                     asset)  # fmt: skip
        w.atoken[symbol], w.sdebt[symbol], w.vdebt[symbol] = (
            checksum("0x" + raw[i * 32 + 12 : (i + 1) * 32].hex()) for i in range(3)
        )
    # Rewards: 0.001 RWD a second on aUSDC, 0.0005 on variable USDC debt, paid from a vault.
    vault = "0x000000000000000000000000000000000000Fa11"
    strategy_rwd = w.deploy("PullRewardsTransferStrategy", w.rewards, owner, vault)
    w.send(w.token["RWD"], "MintableERC20", "mint", vault, 10**6 * E18)
    send_from(node, vault, w.token["RWD"],
              encode_call("MintableERC20", "approve", strategy_rwd, MAX))  # fmt: skip
    end = int(node.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16) + 10 * 365 * 86400
    config = [
        (10**15, 0, end, w.atoken["USDC"], w.token["RWD"], strategy_rwd, w.feed["RWD"]),
        (5 * 10**14, 0, end, w.vdebt["USDC"], w.token["RWD"], strategy_rwd, w.feed["RWD"]),
    ]
    w.send(w.rewards, "RewardsController", "configureAssets", config)
    return w
