"""Real protocol contracts for the lending tests, deployed on anvil.

Morpho Blue is compiled from its own npm package (``@morpho-org/morpho-blue`` 1.0.0, with the
compiler and settings it pins) by ``tests/contracts/compile_morpho.mjs``, together with the
package's own IrmMock (x % utilisation = x % APR), OracleMock and ERC20Mock. The savings vault
is OpenZeppelin's ERC-4626 (``@openzeppelin/contracts`` 5.1.0, the standard's reference
implementation; sDAI and sUSDS are not published as npm artifacts) with a ``ssr()`` rate like
sUSDS's, in tests/contracts/LendYield.sol. Positions are opened through each protocol's own
entry points (``supply``, ``supplyCollateral``, ``borrow``, ``deposit``), sent from the wallets
themselves (anvil impersonation) where the protocol checks the sender.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import encode
from eth_hash.auto import keccak

from app.defi.abi import call_data, checksum, selector
from tests.integration.evm.anvil import ARTIFACTS, ROOT, Anvil

MORPHO_ARTIFACTS = ROOT / "tests" / "contracts" / "morpho_artifacts.json"
E18 = 10**18
PARAMS = "(address,address,address,address,uint256)"
MAX = 2**256 - 1


def morpho_artifacts() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MORPHO_ARTIFACTS.read_text())
    return data


def deploy_code(node: Anvil, bytecode: str, types: list[str] | None = None,
                args: list[Any] | None = None) -> str:  # fmt: skip
    data = bytecode + (encode(types, args or []).hex() if types else "")
    return checksum(node.send(None, data)["contractAddress"])


def send_from(node: Anvil, sender: str, to: str, data: bytes) -> None:
    """A transaction from ``sender`` itself (impersonated), mined before returning."""
    node.rpc("anvil_impersonateAccount", sender)
    node.rpc("anvil_setBalance", sender, hex(10 * E18))
    h = node.rpc("eth_sendTransaction",
                 {"from": sender, "to": to, "data": "0x" + data.hex(), "gas": hex(3_000_000)})  # fmt: skip
    receipt = node.rpc("eth_getTransactionReceipt", h)
    while receipt is None:
        node.rpc("evm_mine")
        receipt = node.rpc("eth_getTransactionReceipt", h)
    assert int(receipt["status"], 16) == 1, receipt


def eth_call(node: Anvil, to: str, data: bytes, sender: str | None = None) -> bytes:
    tx: dict[str, Any] = {"to": to, "data": "0x" + data.hex()}
    if sender:
        tx["from"] = sender
    return bytes.fromhex(node.rpc("eth_call", tx, "latest")[2:])


def raw_call(signature: str, types: list[str], args: list[Any]) -> bytes:
    """Calldata for signatures with tuple arguments (``call_data`` splits on commas)."""
    return selector(signature) + encode(types, args)


@dataclass
class MorphoWorld:
    node: Anvil
    morpho: str = ""
    loan: str = ""
    collateral: str = ""
    oracle: str = ""
    irm: str = ""
    lltv: int = 86 * E18 // 100
    fee: int = E18 // 10
    market_id: str = ""
    params: tuple[str, str, str, str, int] = ("", "", "", "", 0)
    extra_ids: list[str] = field(default_factory=list)

    def call(self, signature: str, types: list[str], args: list[Any]) -> None:
        self.node.send(self.morpho, "0x" + raw_call(signature, types, args).hex())

    def fund(self, who: str, token: str, amount: int) -> None:
        """``who`` holds ``amount`` of ``token`` and lets Morpho take it."""
        self.node.send(token, "0x" + call_data("setBalance(address,uint256)", who, amount).hex())
        send_from(self.node, who, token, call_data("approve(address,uint256)", self.morpho, MAX))

    def supply(self, who: str, assets: int) -> None:
        self.fund(who, self.loan, assets)
        send_from(self.node, who, self.morpho, raw_call(
            f"supply({PARAMS},uint256,uint256,address,bytes)",
            [PARAMS, "uint256", "uint256", "address", "bytes"],
            [self.params, assets, 0, who, b""],
        ))  # fmt: skip

    def supply_collateral(self, who: str, assets: int) -> None:
        self.fund(who, self.collateral, assets)
        send_from(self.node, who, self.morpho, raw_call(
            f"supplyCollateral({PARAMS},uint256,address,bytes)",
            [PARAMS, "uint256", "address", "bytes"], [self.params, assets, who, b""],
        ))  # fmt: skip

    def borrow(self, who: str, assets: int) -> None:
        send_from(self.node, who, self.morpho, raw_call(
            f"borrow({PARAMS},uint256,uint256,address,address)",
            [PARAMS, "uint256", "uint256", "address", "address"],
            [self.params, assets, 0, who, who],
        ))  # fmt: skip

    def accrue(self) -> None:
        self.call(f"accrueInterest({PARAMS})", [PARAMS], [self.params])

    def set_price(self, price: int) -> None:
        self.node.send(self.oracle, "0x" + call_data("setPrice(uint256)", price).hex())

    def position(self, who: str) -> tuple[int, int, int]:
        raw = eth_call(self.node, self.morpho,
                       call_data("position(bytes32,address)", bytes.fromhex(self.market_id[2:]), who))  # fmt: skip
        return tuple(int.from_bytes(raw[i : i + 32], "big") for i in (0, 32, 64))  # type: ignore[return-value]


def deploy_morpho(node: Anvil) -> MorphoWorld:
    """Morpho Blue with one market (loan token, collateral, 86 % LLTV, 10 % fee)."""
    art = morpho_artifacts()
    w = MorphoWorld(node)
    w.morpho = deploy_code(node, art["Morpho"]["bytecode"], ["address"], [node.sender])
    w.loan = deploy_code(node, art["ERC20Mock"]["bytecode"])
    w.collateral = deploy_code(node, art["ERC20Mock"]["bytecode"])
    w.oracle = deploy_code(node, art["OracleMock"]["bytecode"])
    w.irm = deploy_code(node, art["IrmMock"]["bytecode"])
    # 1 collateral (18 decimals) = 2,000 loan tokens (6 decimals): price x 1e36 x 1e6 / 1e18
    w.set_price(2000 * 10**36 * 10**6 // E18)
    node.send(w.morpho, "0x" + call_data("enableIrm(address)", w.irm).hex())
    node.send(w.morpho, "0x" + call_data("enableLltv(uint256)", w.lltv).hex())
    w.params = (w.loan, w.collateral, w.oracle, w.irm, w.lltv)
    w.call(f"createMarket({PARAMS})", [PARAMS], [w.params])
    w.call(f"setFee({PARAMS},uint256)", [PARAMS, "uint256"], [w.params, w.fee])
    w.market_id = "0x" + keccak(encode([PARAMS], [w.params])).hex()
    return w


def deploy_vault(node: Anvil, asset: str, ssr: int) -> str:
    return checksum(
        node.send(None, ARTIFACTS["TestSavingsVault"]["bytecode"]
                  + encode(["address", "uint256"], [asset, ssr]).hex())["contractAddress"]
    )  # fmt: skip
