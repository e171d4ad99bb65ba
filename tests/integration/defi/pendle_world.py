"""Pendle v2 on a real anvil node, from ``@pendle/core-v2`` 6.11.0's compiled artifacts:
PendleYieldContractFactoryUpg (YT creation code split in two, as Pendle deploys it),
PendlePrincipalToken / PendleYieldToken (created by the factory), PendleMarketFactoryV7Upg and
PendleMarketV7 (OracleLib linked), PendleGaugeControllerUpg, and PendlePYLpOracle; the
upgradeable factories sit behind OpenZeppelin 4.9.3's ERC1967Proxy (Pendle's own dependency)
and are initialised through it. The SY is ours (tests/contracts/PendleWorld.sol): Pendle
publishes no SY implementation in its npm package.

Positions are opened through Pendle's own entry points: ``YT.mintPY`` (SY in, PT + YT out),
``market.mint`` (SY + PT in, LP out) and ``market.swapExactPtForSy`` (moves the implied rate).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from app.defi.abi import checksum, selector
from app.domain.ids import ChainId
from tests.integration.defi.amm_world import deploy_raw, send, view
from tests.integration.evm.anvil import ROOT, Anvil

PENDLE = ROOT / "node_modules" / "@pendle" / "core-v2" / "build" / "artifacts" / "contracts"
PROXY = (ROOT / "node_modules" / "@pendle" / "core-v2" / "node_modules" / "@openzeppelin"
         / "contracts" / "build" / "contracts" / "ERC1967Proxy.json")  # fmt: skip
E18 = 10**18
DAY = 86_400
SPLIT_A = "0x000000000000000000000000000000000000C0A1"
SPLIT_B = "0x000000000000000000000000000000000000C0A2"
SPLIT_C = "0x000000000000000000000000000000000000C0A3"
SPLIT_D = "0x000000000000000000000000000000000000C0A4"
ORACLE_DURATION = 0  # the market's current implied rate (no TWAP buffer needed)


def _artifact(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PENDLE / path).read_text())
    return data


def _code(path: str) -> str:
    return str(_artifact(path)["bytecode"]).removeprefix("0x")


def _proxy(node: Anvil, implementation: str, init: bytes) -> str:
    code = str(json.loads(PROXY.read_text())["bytecode"]).removeprefix("0x")
    return deploy_raw(node, code, ["address", "bytes"], [implementation, init])


def _split(node: Anvil, code: str, a: str, b: str) -> tuple[str, int, str, int]:
    """Pendle's BaseSplitCodeFactory layout: two contracts whose code is each half of the
    creation code (put in place with anvil_setCode, as CodeDeployer would deploy them)."""
    raw = bytes.fromhex(code)
    half = len(raw) // 2
    node.rpc("anvil_setCode", a, "0x" + raw[:half].hex())
    node.rpc("anvil_setCode", b, "0x" + raw[half:].hex())
    return a, half, b, len(raw) - half


def _call(signature: str, types: list[str], args: list[Any]) -> bytes:
    from eth_abi.abi import encode

    return selector(signature) + encode(types, args)


@dataclass
class PendleWorld:
    node: Anvil
    chain: ChainId
    asset: str = ""
    sy: str = ""
    pt: str = ""
    yt: str = ""
    market: str = ""
    oracle: str = ""
    expiry: int = 0
    tokens: dict[str, str] = field(default_factory=dict)

    def defi_toml(self, *, duration: int = ORACLE_DURATION) -> str:
        return (f'\n[[pendle]]\nchain = "{self.chain}"\noracle = "{self.oracle}"\n'
                f'markets = ["{self.market}"]\nduration = {duration}\n')  # fmt: skip

    def rate(self, kind: str, duration: int = ORACLE_DURATION) -> int:
        (r,) = view(self.node, self.oracle, f"get{kind}ToAssetRate(address,uint32)",
                    ["address", "uint32"], [self.market, duration], ["uint256"])  # fmt: skip
        return int(r)

    def ln_implied_rate(self) -> int:
        out = view(self.node, self.market, "_storage()", [], [],
                   ["int128", "int128", "uint96", "uint16", "uint16", "uint16"])  # fmt: skip
        return int(out[2])

    def balance(self, token: str, holder: str) -> int:
        (b,) = view(self.node, token, "balanceOf(address)", ["address"], [holder], ["uint256"])
        return int(b)

    def transfer(self, token: str, to: str, amount: int) -> None:
        send(self.node, token, "transfer(address,uint256)", ["address", "uint256"], [to, amount])

    def mint_py(self, sy_amount: int) -> None:
        """SY in, as much PT and YT out (to the sender)."""
        self.transfer(self.sy, self.yt, sy_amount)
        s = self.node.sender
        send(self.node, self.yt, "mintPY(address,address)", ["address", "address"], [s, s])

    def add_liquidity(self, sy_amount: int, pt_amount: int) -> None:
        self.transfer(self.sy, self.market, sy_amount)
        self.transfer(self.pt, self.market, pt_amount)
        send(self.node, self.market, "mint(address,uint256,uint256)",
             ["address", "uint256", "uint256"], [self.node.sender, sy_amount, pt_amount])  # fmt: skip

    def sell_pt(self, amount: int) -> None:
        self.transfer(self.pt, self.market, amount)
        send(self.node, self.market, "swapExactPtForSy(address,uint256,bytes)",
             ["address", "uint256", "bytes"], [self.node.sender, amount, b""])  # fmt: skip


def deploy(node: Anvil) -> PendleWorld:
    w = PendleWorld(node, ChainId.evm(node.chain_id))
    owner = node.sender
    w.asset = checksum(
        node.deploy("TestToken", ["string", "string", "uint8"], ["Test Asset", "TA", 18])
    )
    node.mint(w.asset, owner, 10**30)
    w.sy = checksum(node.deploy("TestPendleSY", ["address"], [w.asset]))
    send(node, w.asset, "approve(address,uint256)", ["address", "uint256"], [w.sy, 2**256 - 1])
    send(node, w.sy, "deposit(address,address,uint256,uint256)",
         ["address", "address", "uint256", "uint256"], [owner, w.asset, 10**27, 0])  # fmt: skip
    pendle = checksum(
        node.deploy("TestToken", ["string", "string", "uint8"], ["Pendle", "PENDLE", 18])
    )
    gauge_impl = deploy_raw(
        node, _code("LiquidityMining/GaugeController/PendleGaugeControllerUpg.sol/PendleGaugeControllerUpg.json"),
        ["address"], [pendle],
    )  # fmt: skip
    gauge = _proxy(node, gauge_impl, _call("initialize(address)", ["address"], [owner]))
    # The yield contract factory, with PendleYieldToken's creation code split in two.
    a, sa, b, sb = _split(node, _code("core/YieldContracts/PendleYieldToken.sol/PendleYieldToken.json"),
                          SPLIT_A, SPLIT_B)  # fmt: skip
    ycf_impl = deploy_raw(
        node, _code("core/YieldContracts/PendleYieldContractFactoryUpg.sol/PendleYieldContractFactoryUpg.json"),
        ["address", "uint256", "address", "uint256"], [a, sa, b, sb],
    )  # fmt: skip
    ycf = _proxy(node, ycf_impl, _call(
        "initialize(uint96,uint128,uint128,address,address)",
        ["uint96", "uint128", "uint128", "address", "address"], [DAY, 0, 0, owner, owner],
    ))  # fmt: skip
    now = int(node.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    w.expiry = (now // DAY + 180) * DAY
    send(node, ycf, "createYieldContract(address,uint32,bool)", ["address", "uint32", "bool"],
         [w.sy, w.expiry, False])  # fmt: skip
    (pt,) = view(
        node, ycf, "getPT(address,uint256)", ["address", "uint256"], [w.sy, w.expiry], ["address"]
    )
    (yt,) = view(
        node, ycf, "getYT(address,uint256)", ["address", "uint256"], [w.sy, w.expiry], ["address"]
    )
    w.pt, w.yt = checksum(pt), checksum(yt)
    # The market factory, with PendleMarketV7's creation code (OracleLib linked) split in two.
    lib = deploy_raw(node, _code("core/Market/OracleLib.sol/OracleLib.json"))
    market = _artifact("core/Market/PendleMarketV7.sol/PendleMarketV7.json")
    text = str(market["bytecode"]).removeprefix("0x")
    for refs in market["linkReferences"].values():
        for ref in refs.get("OracleLib", []):
            at = 2 * ref["start"]
            text = text[:at] + lib[2:].lower() + text[at + 2 * ref["length"] :]
    c, sc, d, sd = _split(node, text, SPLIT_C, SPLIT_D)
    mf_impl = deploy_raw(
        node, _code("core/Market/PendleMarketFactoryV7Upg.sol/PendleMarketFactoryV7Upg.json"),
        ["address", "address", "uint256", "address", "uint256", "address"], [ycf, c, sc, d, sd, gauge],
    )  # fmt: skip
    mf = _proxy(node, mf_impl, _call("initialize(address,address,uint8)",
                                     ["address", "address", "uint8"], [owner, owner, 80]))  # fmt: skip
    scalar, anchor, fee = 20 * E18, 105 * E18 // 100, E18 // 1000
    receipt = node.send(mf, "0x" + _call("createNewMarket(address,int256,int256,uint80)",
                        ["address", "int256", "int256", "uint80"], [w.pt, scalar, anchor, fee]).hex())  # fmt: skip
    (log,) = [x for x in receipt["logs"] if x["address"].lower() == mf.lower()]
    w.market = checksum("0x" + log["topics"][1][-40:])  # CreateNewMarket(market indexed, ...)
    w.oracle = deploy_raw(
        node, _code("oracles/PtYtLpOracle/PendlePYLpOracle.sol/PendlePYLpOracle.json")
    )
    # Liquidity, then a trade that moves the implied rate away from its initial anchor.
    w.mint_py(2000 * E18)
    w.add_liquidity(1000 * E18, 1000 * E18)
    w.sell_pt(50 * E18)
    return w
