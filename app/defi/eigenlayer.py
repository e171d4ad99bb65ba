"""EigenLayer restaking: deposits per strategy, valued in the strategy's token, and native ETH.

Round 1 (with the balances), per wallet: ``StrategyManager.getDeposits(staker)`` (the strategies
and deposit shares) and ``EigenPodManager.podOwnerDepositShares(podOwner)`` (beacon-chain ETH
restaked through an EigenPod, in wei; ``podOwnerShares`` before the slashing upgrade).
Where the entry names the DelegationManager, round 1 also asks
``getQueuedWithdrawals(staker)`` (the slashing release's view: each queued withdrawal's
strategies and the shares it will pay out, slashing applied). Queued shares have left the
deposits but are still the staker's until completed, so they are counted under
``"eigenlayer:withdrawing"`` rather than lost from the net worth; beacon-chain ETH queued from an
EigenPod is in wei.
Round 2, for what round 1 found: ``strategy.sharesToUnderlyingView(shares)`` per deposit and
queued withdrawal, and ``strategy.underlyingToken()`` per strategy. A strategy token that neither the token lists nor
defi.toml know needs its metadata read in one more, rare round.

A negative pod balance (a deficit left by a slashed or exited validator) is not a holding and is
left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.defi import abi
from app.defi.ports import Call, Outcome, Reply, Step, failure, position_asset, unknown_token
from app.defi.tokens import TokenBook
from app.domain.balances import AssetInfo, Balance
from app.domain.ids import AccountId, AssetId
from app.domain.positions import PositionKind, position_key

PROTOCOL = "eigenlayer"
KEY = position_key(PROTOCOL, PositionKind.RESTAKED)
QUEUED_KEY = position_key(PROTOCOL, PositionKind.WITHDRAWING)
BEACON_STRATEGY = (
    "0xbeaC0eeEeeeeEEeEeEEEEeeEEeEeeeEeeEEBEaC0"  # EigenLayer's native ETH pseudo-strategy
)
WITHDRAWAL = "(address,address,address,uint256,uint32,address[],uint256[])"
GAS_QUEUED = 150_000  # a loop over the staker's queued withdrawals and their strategies
GAS_DEPOSITS = 80_000  # a loop over the staker's few strategies
GAS_SHARES = 60_000
GAS_SMALL = 30_000
UNDERLYING = abi.call_data("underlyingToken()")


class EigenLayer:
    protocol = PROTOCOL

    def __init__(
        self,
        strategy_manager: str,
        eigenpod_manager: str | None,
        native: AssetInfo,
        book: TokenBook,
        delegation_manager: str | None = None,
    ) -> None:
        self._delegation = abi.checksum(delegation_manager) if delegation_manager else None
        self._manager = abi.checksum(strategy_manager)
        self._pods = abi.checksum(eigenpod_manager) if eigenpod_manager else None
        self._native = native
        self._book = book

    def covers(self) -> frozenset[str]:
        return frozenset()  # strategy shares are not tokens

    def start(self, wallets: Sequence[AccountId]) -> Step:
        calls: list[Call] = []
        for w in wallets:
            data = abi.call_data("getDeposits(address)", w.address)
            calls.append(Call(self._manager, data, GAS_DEPOSITS))
            if self._pods:
                data = abi.call_data("podOwnerDepositShares(address)", w.address)
                calls.append(Call(self._pods, data, GAS_SMALL))
            if self._delegation:
                data = abi.call_data("getQueuedWithdrawals(address)", w.address)
                calls.append(Call(self._delegation, data, GAS_QUEUED))
        wallets = list(wallets)
        return Step(calls, lambda replies: self._second(wallets, replies))

    def _second(self, wallets: list[AccountId], replies: Sequence[Reply]) -> Step | Outcome:
        out = Outcome()
        per = 1 + bool(self._pods) + bool(self._delegation)
        manager_id = AssetId(self._book.chain, "erc20", self._manager)
        deposits: list[tuple[AccountId, str, int, str]] = []
        for i, wallet in enumerate(wallets):
            ok, raw = replies[i * per]
            row = abi.decode_reply(["address[]", "uint256[]"], raw) if ok else None
            if row is None or len(row[0]) != len(row[1]):
                out.failures.append(failure(wallet, manager_id, "EigenLayer deposits", ok))
            else:
                deposits += [
                    (wallet, abi.checksum(s), int(n), KEY)
                    for s, n in zip(row[0], row[1], strict=True)
                    if int(n)
                ]
            if self._delegation:
                queued = self._queued(wallet, replies[i * per + per - 1], out)
                deposits += [(wallet, s, n, QUEUED_KEY) for s, n in queued]
            if self._pods:
                ok, raw = replies[i * per + 1]
                shares = abi.decode_int(raw) if ok else None
                if shares is None:
                    out.failures.append(
                        failure(wallet, self._native.asset_id, "EigenLayer native restaking", ok)
                    )
                elif shares > 0:
                    out.balances.append(Balance(wallet, position_asset(self._native), shares, KEY))
        if not deposits:
            return out
        strategies = list(dict.fromkeys(s for _, s, _, _ in deposits))
        calls = [Call(s, UNDERLYING, GAS_SMALL) for s in strategies]
        calls += [
            Call(s, abi.call_data("sharesToUnderlyingView(uint256)", n), GAS_SHARES)
            for _, s, n, _ in deposits
        ]

        def then(replies2: Sequence[Reply]) -> Step | Outcome:
            tokens: dict[str, str | None] = {}
            for s, (ok, raw) in zip(strategies, replies2[: len(strategies)], strict=True):
                tokens[s] = abi.decode_address(raw) if ok else None
            amounts = list(replies2[len(strategies) :])
            unknown = self._book.unknown(t for t in tokens.values() if t)
            if not unknown:
                return self._finish(out, deposits, tokens, amounts)

            def learn(replies3: Sequence[Reply]) -> Outcome:
                self._book.learn(unknown, replies3)
                return self._finish(out, deposits, tokens, amounts)

            return Step(TokenBook.metadata_calls(unknown), learn)

        return Step(calls, then)

    def _queued(self, wallet: AccountId, reply: Reply, out: Outcome) -> list[tuple[str, int]]:
        """(strategy, shares) of every queued withdrawal; beacon-chain ETH goes straight to
        ``out`` (its shares are wei)."""
        ok, raw = reply
        row = abi.decode_reply([f"{WITHDRAWAL}[]", "uint256[][]"], raw) if ok else None
        if row is None or len(row[0]) != len(row[1]):
            subject = AssetId(self._book.chain, "erc20", self._delegation or self._manager)
            out.failures.append(failure(wallet, subject, "EigenLayer queued withdrawals", ok))
            return []
        found: list[tuple[str, int]] = []
        native = 0
        for withdrawal, shares in zip(row[0], row[1], strict=True):
            strategies = withdrawal[5]
            if len(strategies) != len(shares):
                subject = AssetId(self._book.chain, "erc20", self._delegation or self._manager)
                out.failures.append(failure(wallet, subject, "EigenLayer queued withdrawals", True))
                return []
            for strategy, n in zip(strategies, shares, strict=True):
                if not int(n):
                    continue
                if abi.checksum(strategy) == BEACON_STRATEGY:
                    native += int(n)
                else:
                    found.append((abi.checksum(strategy), int(n)))
        if native:
            out.balances.append(Balance(wallet, position_asset(self._native), native, QUEUED_KEY))
        return found

    def _finish(
        self,
        out: Outcome,
        deposits: list[tuple[AccountId, str, int, str]],
        tokens: dict[str, str | None],
        amounts: Sequence[Reply],
    ) -> Outcome:
        for (wallet, strategy, _, key), (ok, raw) in zip(deposits, amounts, strict=True):
            token = tokens.get(strategy)
            info = self._book.get(token) if token else None
            amount = abi.decode_uint(raw) if ok else None
            what = f"EigenLayer strategy {strategy}"
            subject = AssetId(self._book.chain, "erc20", token or strategy)
            if amount is None or token is None:
                out.failures.append(failure(wallet, subject, what, ok and amount is not None))
            elif info is None:
                out.failures.append(unknown_token(wallet, subject, what))
            elif amount:
                out.balances.append(Balance(wallet, position_asset(info), amount, key))
        return out
