"""Uniswap v3 and v2 on a real anvil node, from the protocols' own published artifacts
(npm ``@uniswap/v3-core`` 1.0.1, ``@uniswap/v3-periphery`` 1.4.4, ``@uniswap/v2-core`` 1.0.1,
``@uniswap/v2-periphery`` 1.1.0-beta.0; WETH9 from v2-periphery's build). Positions are opened
through the protocols' own entry points: ``NonfungiblePositionManager.mint`` /
``decreaseLiquidity`` / ``collect``, ``SwapRouter.exactInputSingle`` (to move the price and
accrue fees) and ``UniswapV2Router02.addLiquidity``. The ERC-20s are OpenZeppelin test tokens
(tests/contracts/Tokens.sol), one of them with hostile text for a symbol and name.

The expected numbers are the contracts' own views, asked with ``eth_call`` from the owner:
``decreaseLiquidity`` (what a burn gives back now), ``collect`` (uncollected fees) and
``UniswapV2Router02.removeLiquidity``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode, encode

from app.defi.abi import checksum, selector
from app.domain.balances import AssetInfo
from app.domain.ids import AssetId, ChainId
from tests.integration.evm.anvil import ROOT, Anvil

NM = ROOT / "node_modules" / "@uniswap"
E18 = 10**18
DEADLINE = 2**40
MAX128 = 2**128 - 1
HOSTILE_SYMBOL = '<img src=x onerror="alert(1)">'
FEE = 3000
SPACING = 60


def artifact(path: str) -> str:
    """The creation bytecode of a published artifact (hardhat or waffle layout)."""
    data = json.loads((NM / path).read_text())
    code = data["bytecode"]
    if isinstance(code, dict):
        code = code["object"]
    return str(code).removeprefix("0x")


def deploy_raw(
    node: Anvil, code: str, types: list[str] | None = None, args: list[Any] | None = None
) -> str:
    data = "0x" + code + (encode(types, args).hex() if types else "")
    return checksum(node.send(None, data)["contractAddress"])


def send(
    node: Anvil,
    to: str,
    signature: str,
    types: list[str],
    args: list[Any],
    sender: str | None = None,
) -> None:
    data = "0x" + (selector(signature) + encode(types, args)).hex()
    if sender is None:
        node.send(to, data)
        return
    node.rpc("anvil_impersonateAccount", sender)
    node.set_native(sender, 10 * E18)
    h = node.rpc(
        "eth_sendTransaction", {"from": sender, "to": to, "data": data, "gas": hex(5_000_000)}
    )
    node.rpc("anvil_stopImpersonatingAccount", sender)
    receipt = node.rpc("eth_getTransactionReceipt", h)
    assert receipt and int(receipt["status"], 16) == 1, receipt


def view(
    node: Anvil,
    to: str,
    signature: str,
    types: list[str],
    args: list[Any],
    out: list[str],
    sender: str | None = None,
) -> tuple[Any, ...]:
    call: dict[str, Any] = {
        "to": to,
        "data": "0x" + (selector(signature) + encode(types, args)).hex(),
    }
    if sender:
        call["from"] = sender
    raw = node.rpc("eth_call", call, "latest")
    return tuple(decode(out, bytes.fromhex(raw[2:])))


MINT = "mint((address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256))"
MINT_T = ["(address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256)"]
DECREASE = "decreaseLiquidity((uint256,uint128,uint256,uint256,uint256))"
DECREASE_T = ["(uint256,uint128,uint256,uint256,uint256)"]
COLLECT = "collect((uint256,address,uint128,uint128))"
COLLECT_T = ["(uint256,address,uint128,uint128)"]
SWAP = "exactInputSingle((address,address,uint24,address,uint256,uint256,uint256,uint160))"
SWAP_T = ["(address,address,uint24,address,uint256,uint256,uint256,uint160)"]
POSITIONS_OUT = ["uint96", "address", "address", "address", "uint24", "int24", "int24", "uint128",
                 "uint256", "uint256", "uint128", "uint128"]  # fmt: skip


@dataclass
class AmmWorld:
    node: Anvil
    chain: ChainId
    token: dict[str, str] = field(default_factory=dict)  # symbol -> address
    decimals: dict[str, int] = field(default_factory=dict)
    weth: str = ""
    v3_factory: str = ""
    npm: str = ""
    router: str = ""
    v2_factory: str = ""
    v2_router: str = ""
    pairs: dict[str, str] = field(default_factory=dict)  # "A/B" -> pair address
    next_id: int = 1

    def info(self, symbol: str) -> AssetInfo:
        return AssetInfo(
            AssetId(self.chain, "erc20", self.token[symbol]), symbol, symbol, self.decimals[symbol]
        )

    def sorted_pair(self, a: str, b: str) -> tuple[str, str]:
        ta, tb = self.token[a], self.token[b]
        return (ta, tb) if ta.lower() < tb.lower() else (tb, ta)

    def defi_toml(
        self, *, v3: bool = True, v2: bool = True, max_positions: int | None = None
    ) -> str:
        c = str(self.chain)
        text = ""
        if v3:
            text += f'\n[[uniswap_v3]]\nchain = "{c}"\nposition_manager = "{self.npm}"\nfactory = "{self.v3_factory}"\n'
            if max_positions is not None:
                text += f"max_positions = {max_positions}\n"
        if v2:
            bases = ", ".join(f'"{self.token[s]}"' for s in ("TKA", "TKB", "EVIL"))
            text += f'\n[[uniswap_v2]]\nchain = "{c}"\nfactory = "{self.v2_factory}"\nbases = [{bases}]\n'
        return text

    # -- Uniswap v3 ----------------------------------------------------------------------
    def mint_position(
        self, a: str, b: str, lower: int, upper: int, amount0: int, amount1: int, owner: str
    ) -> int:
        """Mint through the position manager to the sender, then hand the NFT to ``owner``
        (so the world can still decrease/collect it before the hand-over). Returns the id."""
        t0, t1 = self.sorted_pair(a, b)
        params = (t0, t1, FEE, lower, upper, amount0, amount1, 0, 0, self.node.sender, DEADLINE)
        send(self.node, self.npm, MINT, MINT_T, [params])
        token_id = self.next_id
        self.next_id += 1
        if owner.lower() != self.node.sender.lower():
            self.give(token_id, owner)
        return token_id

    def give(self, token_id: int, owner: str) -> None:
        send(self.node, self.npm, "transferFrom(address,address,uint256)",
             ["address", "address", "uint256"], [self.node.sender, owner, token_id])  # fmt: skip

    def decrease(self, token_id: int, liquidity: int) -> None:
        send(self.node, self.npm, DECREASE, DECREASE_T, [(token_id, liquidity, 0, 0, DEADLINE)])

    def collect(self, token_id: int) -> None:
        send(
            self.node, self.npm, COLLECT, COLLECT_T, [(token_id, self.node.sender, MAX128, MAX128)]
        )

    def swap(self, token_in: str, token_out: str, amount: int) -> None:
        params = (self.token[token_in], self.token[token_out], FEE, self.node.sender, DEADLINE,
                  amount, 0, 0)  # fmt: skip
        send(self.node, self.router, SWAP, SWAP_T, [params])

    def position(self, token_id: int) -> tuple[Any, ...]:
        return view(
            self.node, self.npm, "positions(uint256)", ["uint256"], [token_id], POSITIONS_OUT
        )

    def owner_of(self, token_id: int) -> str:
        (owner,) = view(
            self.node, self.npm, "ownerOf(uint256)", ["uint256"], [token_id], ["address"]
        )
        return checksum(owner)

    def burn_amounts(self, token_id: int) -> tuple[int, int]:
        """What decreasing all of the position's liquidity would pay now (eth_call as owner)."""
        liquidity = self.position(token_id)[7]
        if not liquidity:
            return 0, 0
        out = view(self.node, self.npm, DECREASE, DECREASE_T, [(token_id, liquidity, 0, 0, DEADLINE)],
                   ["uint256", "uint256"], sender=self.owner_of(token_id))  # fmt: skip
        return int(out[0]), int(out[1])

    def fees(self, token_id: int) -> tuple[int, int]:
        """What collect would pay now (eth_call as owner): the uncollected fees."""
        owner = self.owner_of(token_id)
        out = view(self.node, self.npm, COLLECT, COLLECT_T, [(token_id, owner, MAX128, MAX128)],
                   ["uint256", "uint256"], sender=owner)  # fmt: skip
        return int(out[0]), int(out[1])

    def pool(self, a: str, b: str) -> str:
        t0, t1 = self.sorted_pair(a, b)
        (p,) = view(self.node, self.v3_factory, "getPool(address,address,uint24)",
                    ["address", "address", "uint24"], [t0, t1, FEE], ["address"])  # fmt: skip
        return checksum(p)

    def tick(self, a: str, b: str) -> int:
        out = view(self.node, self.pool(a, b), "slot0()", [], [],
                   ["uint160", "int24", "uint16", "uint16", "uint16", "uint8", "bool"])  # fmt: skip
        return int(out[1])

    # -- Uniswap v2 ----------------------------------------------------------------------
    def add_liquidity(self, a: str, b: str, amount_a: int, amount_b: int, to: str) -> None:
        send(self.node, self.v2_router,
             "addLiquidity(address,address,uint256,uint256,uint256,uint256,address,uint256)",
             ["address", "address", "uint256", "uint256", "uint256", "uint256", "address", "uint256"],
             [self.token[a], self.token[b], amount_a, amount_b, 0, 0, to, DEADLINE])  # fmt: skip
        (pair,) = view(self.node, self.v2_factory, "getPair(address,address)",
                       ["address", "address"], [self.token[a], self.token[b]], ["address"])  # fmt: skip
        self.pairs[f"{a}/{b}"] = checksum(pair)

    def remove_amounts(self, a: str, b: str, holder: str) -> tuple[int, int]:
        """``removeLiquidity`` of the holder's whole LP balance, as eth_call from the holder
        (after the holder approved the router): (amount of a, amount of b)."""
        pair = self.pairs[f"{a}/{b}"]
        (lp,) = view(self.node, pair, "balanceOf(address)", ["address"], [holder], ["uint256"])
        send(self.node, pair, "approve(address,uint256)", ["address", "uint256"],
             [self.v2_router, 2**256 - 1], sender=holder)  # fmt: skip
        out = view(self.node, self.v2_router,
                   "removeLiquidity(address,address,uint256,uint256,uint256,address,uint256)",
                   ["address", "address", "uint256", "uint256", "uint256", "address", "uint256"],
                   [self.token[a], self.token[b], lp, 0, 0, holder, DEADLINE],
                   ["uint256", "uint256"], sender=holder)  # fmt: skip
        return int(out[0]), int(out[1])


def deploy(node: Anvil) -> AmmWorld:
    w = AmmWorld(node, ChainId.evm(node.chain_id))
    for symbol, decimals, name in (("TKA", 18, "Token A"), ("TKB", 6, "Token B"),
                                   ("TKC", 18, "Token C"),
                                   ("EVIL", 18, "Visit evil.example to claim your reward")):  # fmt: skip
        shown = HOSTILE_SYMBOL if symbol == "EVIL" else symbol
        w.token[symbol] = checksum(
            node.deploy("TestToken", ["string", "string", "uint8"], [name, shown, decimals])
        )
        w.decimals[symbol] = decimals
        node.mint(w.token[symbol], node.sender, 10**40)
    w.weth = deploy_raw(node, artifact("v2-periphery/build/WETH9.json"))
    w.v3_factory = deploy_raw(
        node, artifact("v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json")
    )
    npm_code = artifact(
        "v3-periphery/artifacts/contracts/NonfungiblePositionManager.sol/NonfungiblePositionManager.json"
    )
    descriptor = "0x000000000000000000000000000000000000dEaD"  # tokenURI is never asked
    w.npm = deploy_raw(
        node, npm_code, ["address", "address", "address"], [w.v3_factory, w.weth, descriptor]
    )
    w.router = deploy_raw(node, artifact("v3-periphery/artifacts/contracts/SwapRouter.sol/SwapRouter.json"),
                          ["address", "address"], [w.v3_factory, w.weth])  # fmt: skip
    w.v2_factory = deploy_raw(
        node, artifact("v2-core/build/UniswapV2Factory.json"), ["address"], [node.sender]
    )
    w.v2_router = deploy_raw(node, artifact("v2-periphery/build/UniswapV2Router02.json"),
                             ["address", "address"], [w.v2_factory, w.weth])  # fmt: skip
    for symbol in w.token:
        for spender in (w.npm, w.router, w.v2_router):
            send(
                node,
                w.token[symbol],
                "approve(address,uint256)",
                ["address", "uint256"],
                [spender, 2**256 - 1],
            )
    for a, b in (("TKA", "TKB"), ("TKA", "TKC"), ("TKA", "EVIL")):
        t0, t1 = w.sorted_pair(a, b)
        send(node, w.npm, "createAndInitializePoolIfNecessary(address,address,uint24,uint160)",
             ["address", "address", "uint24", "uint160"], [t0, t1, FEE, 2**96])  # fmt: skip
    return w
