"""A chain with a known past, on a real anvil node, for the on-chain history tests.

Two tracked wallets (anvil's unlocked accounts 1 and 2, so they send their own transactions and
pay real fees) and an outsider (account 3) do, in order: a mint, ERC-20 transfers in and out,
a transfer between the tracked wallets and one to itself, an approval (a fee and nothing else),
a swap through a constant-product pool, a spam airdrop (with a poisoned "from"), logs that only
look like transfers, a zero-value transfer, native transfers plain and inside contract calls,
a payment inside a reverted call (moves nothing), and a failed transaction (a fee only).

Every expectation is taken from what the node reports for the world's own transactions
(receipts, logs, blocks), never from the code under test.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.chains.evm.tokens import erc20_asset_id
from app.defi.abi import call_data, checksum
from app.domain.ids import ChainId
from app.domain.onchain import Fee, Movement
from tests.integration.evm.anvil import Anvil
from tests.support.net import wait_until

E18 = 10**18
TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
ZERO = "0x0000000000000000000000000000000000000000"

Expected = tuple[str, str, str, int, str, str | None]  # tx, wallet, asset, delta, kind, other


@dataclass
class HistoryWorld:
    node: Anvil
    a: str = ""
    b: str = ""
    outsider: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # name -> checksummed address
    contracts: dict[str, str] = field(default_factory=dict)
    expected: list[Expected] = field(default_factory=list)
    fees: dict[str, tuple[str, int]] = field(default_factory=dict)  # tx -> (wallet, wei)
    blocks: dict[str, int] = field(default_factory=dict)  # tx -> block
    tracked: tuple[str, ...] = ()

    @property
    def chain(self) -> ChainId:
        return ChainId.evm(self.node.chain_id)

    @property
    def native(self) -> str:
        return f"{self.chain}/slip44:60"

    def asset(self, name: str) -> str:
        return str(erc20_asset_id(self.chain, self.tokens[name]))

    # ------------------------------------------------------------------ sending

    def send(
        self, sender: str, to: str | None, data: str = "0x", value: int = 0, gas: int = 1_000_000
    ) -> dict[str, Any]:
        tx: dict[str, Any] = {"from": sender, "data": data, "value": hex(value), "gas": hex(gas)}
        if to:
            tx["to"] = to
        h = self.node.rpc("eth_sendTransaction", tx)
        box: list[dict[str, Any]] = []

        def mined() -> bool:
            found = self.node.rpc("eth_getTransactionReceipt", h)
            if found:
                box.append(found)
            return bool(found)

        wait_until(mined, 30, "the transaction to be mined")
        receipt = box[0]
        self.blocks[h] = int(receipt["blockNumber"], 16)
        if sender.lower() in self.tracked:
            fee = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
            self.fees[h] = (checksum(sender), fee)
        return receipt

    def call(
        self, sender: str, to: str, signature: str, *args: Any, value: int = 0
    ) -> dict[str, Any]:
        return self.send(sender, to, "0x" + call_data(signature, *args).hex(), value)

    def expect_logs(self, receipt: dict[str, Any]) -> None:
        """The ERC-20 movements of a receipt's Transfer logs, for the tracked wallets."""
        h = receipt["transactionHash"]
        for lg in receipt["logs"]:
            topics = lg["topics"]
            if len(topics) != 3 or topics[0] != TRANSFER or len(lg["data"]) != 66:
                continue
            value = int(lg["data"], 16)
            src, dst = "0x" + topics[1][-40:], "0x" + topics[2][-40:]
            asset = str(erc20_asset_id(self.chain, lg["address"]))
            if not value:
                continue
            if src in self.tracked:
                self.expected.append((h, checksum(src), asset, -value, "token", checksum(dst)))
            if dst in self.tracked:
                self.expected.append((h, checksum(dst), asset, value, "token", checksum(src)))

    def expect_native(self, h: str, src: str, dst: str, value: int) -> None:
        if src.lower() in self.tracked:
            self.expected.append((h, checksum(src), self.native, -value, "native", checksum(dst)))
        if dst.lower() in self.tracked:
            self.expected.append((h, checksum(dst), self.native, value, "native", checksum(src)))

    # ------------------------------------------------------------------ checking

    def block_time(self, block: int) -> int:
        return int(self.node.rpc("eth_getBlockByNumber", hex(block), False)["timestamp"], 16)

    def expected_movements(self, *, native: bool = True, since: int = 0) -> Counter[Expected]:
        return Counter(
            e for e in self.expected
            if (native or e[4] != "native") and self.blocks[e[0]] >= since
        )  # fmt: skip

    @staticmethod
    def got_movements(movements: list[Movement]) -> Counter[Expected]:
        return Counter(
            (m.tx, m.wallet, m.asset, m.delta, str(m.kind), m.counterparty) for m in movements
        )

    def expected_fees(self, since: int = 0) -> dict[str, tuple[str, int]]:
        return {h: f for h, f in self.fees.items() if self.blocks[h] >= since}

    @staticmethod
    def got_fees(fees: list[Fee]) -> dict[str, tuple[str, int]]:
        return {f.tx: (f.wallet, f.amount) for f in fees}

    def check_times(self, movements: list[Movement], fees: list[Fee]) -> None:
        times: dict[int, int] = {}
        items: list[Movement | Fee] = [*movements, *fees]
        for item in items:
            if item.block not in times:
                times[item.block] = self.block_time(item.block)
            assert item.ts == times[item.block], (item, times[item.block])
            assert self.blocks[item.tx] == item.block


def build(node: Anvil) -> HistoryWorld:
    accounts = node.rpc("eth_accounts")
    w = HistoryWorld(node, checksum(accounts[1]), checksum(accounts[2]), checksum(accounts[3]))
    w.tracked = (w.a.lower(), w.b.lower())
    deployer = node.sender

    def deploy(name: str, types: list[str] | None = None, args: list[Any] | None = None) -> str:
        return checksum(node.deploy(name, types, args))

    w.tokens["X"] = deploy("TestToken", ["string", "string", "uint8"], ["Ex", "X", 18])
    w.tokens["Y"] = deploy("TestToken", ["string", "string", "uint8"], ["Why", "Y", 6])
    w.tokens["CLAIM"] = deploy("SpamAirdrop")
    pool = deploy("HistoryPool", ["address", "address"], [w.tokens["X"], w.tokens["Y"]])
    router = deploy("NativeRouter")
    hostile = deploy("HostileEmitter")
    w.contracts.update(pool=pool, router=router, hostile=hostile)
    x, y = w.tokens["X"], w.tokens["Y"]

    # Liquidity from the deployer (not tracked): 10,000 X against 20,000 Y.
    w.call(deployer, x, "mint(address,uint256)", deployer, 10_000 * E18)
    w.call(deployer, y, "mint(address,uint256)", deployer, 20_000 * 10**6)
    w.call(deployer, x, "approve(address,uint256)", pool, 2**256 - 1)
    w.call(deployer, y, "approve(address,uint256)", pool, 2**256 - 1)
    w.call(deployer, pool, "addLiquidity(uint256,uint256)", 10_000 * E18, 20_000 * 10**6)

    steps: list[dict[str, Any]] = [
        w.call(deployer, x, "mint(address,uint256)", w.a, 1_000 * E18),  # in (from 0x0)
        w.call(deployer, x, "mint(address,uint256)", w.outsider, 500 * E18),
        w.call(w.a, x, "transfer(address,uint256)", w.outsider, 100 * E18),  # out
        w.call(w.outsider, x, "transfer(address,uint256)", w.a, 50 * E18),  # in
        w.call(w.a, x, "transfer(address,uint256)", w.b, 200 * E18),  # between tracked
        w.call(w.a, x, "transfer(address,uint256)", w.a, 7 * E18),  # to itself
        w.call(w.a, x, "approve(address,uint256)", pool, 2**256 - 1),  # a fee, no movement
        w.call(w.a, pool, "swap(address,uint256,uint256,address)", x, 100 * E18, 0, w.a),
        w.call(deployer, w.tokens["CLAIM"], "airdrop(address,address[],uint256)", w.outsider,
               [w.a, w.b], 10**21),  # spam in
        w.call(deployer, w.tokens["CLAIM"], "airdrop(address,address[],uint256)", w.a,
               [w.outsider], 1),  # poisoning: a "transfer" from A that A never sent
        w.call(deployer, hostile, "emitAll(address,address)", w.a, w.b),  # not ERC-20 shaped
        w.call(w.outsider, x, "transfer(address,uint256)", w.a, 0),  # zero value: nothing
    ]  # fmt: skip
    for receipt in steps:
        w.expect_logs(receipt)

    # Native coin: plain transfers, then value inside contract calls.
    r = w.send(w.a, w.outsider, value=E18)
    w.expect_native(r["transactionHash"], w.a, w.outsider, E18)
    r = w.send(w.outsider, w.a, value=2 * E18)
    w.expect_native(r["transactionHash"], w.outsider, w.a, 2 * E18)
    r = w.send(w.a, w.b, value=E18 // 2)
    w.expect_native(r["transactionHash"], w.a, w.b, E18 // 2)
    r = w.call(w.a, router, "forward(address)", w.b, value=3 * E18 // 10)
    w.expect_native(r["transactionHash"], w.a, router, 3 * E18 // 10)
    w.expect_native(r["transactionHash"], router, w.b, 3 * E18 // 10)
    node.set_native(router, 5 * E18)
    r = w.call(w.outsider, router, "payout(address,uint256)", w.a, E18 // 10)
    w.expect_native(r["transactionHash"], router, w.a, E18 // 10)
    w.call(w.outsider, router, "bounce(address,uint256)", w.a, E18 // 20)  # nothing moves
    # A failed swap (slippage): the fee is paid, nothing moves.
    r = w.call(w.a, pool, "swap(address,uint256,uint256,address)", x, E18, 10**30, w.a)
    assert r["status"] == "0x0"
    return w
