"""Reads SOL, SPL Token / Token-2022 balances and native stake of Solana wallets.

Round 1 (batch arrays sent concurrently): ``getTokenAccountsByOwner`` per wallet and token
program (jsonParsed), ``getEpochInfo``, ``getMultipleAccounts`` for the wallets (100 keys per
call) and ``getProgramAccounts`` on the Stake program per wallet with a memcmp filter on the
staker and on the withdrawer. Each batch is parsed as soon as it lands.

Round 2, only for mints not yet known (see :mod:`app.chains.solana.mints`): one
``getMultipleAccounts`` per 100 mint / Metaplex metadata accounts. It depends on round 1's token
accounts, so round 1 would leave a part-filled last batch and round 2 another; instead round 1
holds back the calls that do not feed round 2 (the remainder past the last full batch) and sends
them with round 2, so a refresh costs ``ceil(all calls / batch size)`` HTTP requests. Holding
back costs a round trip when no mint turns out to need reading, so it is done only when a round 2
is expected: some wallet was not read before in this process. A wallet read before that shows a
new unknown mint costs one request more than the minimum; a guess wrong the other way costs a
round trip, never a request.

Every reply is checked before use (:mod:`app.chains.solana.replies`).

A read cut short (the chain's time ran out) keeps what it finished: ``partial_result`` gives the
wallets whose SOL, token (both programs) and stake reads were all answered and whose every mint
is known, as balances; every other wallet is listed as unread.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from solders.rpc.responses import GetEpochInfoResp, GetMultipleAccountsResp, GetProgramAccountsResp

from app.chains.solana import marginfi
from app.chains.solana.lst import by_account, pool_accounts, pool_rate
from app.chains.solana.mints import (
    TOKEN_2022_PROGRAM,
    TOKEN_PROGRAM,
    MintCache,
    MintDirectory,
    metadata_keys,
    parse_metadata,
)
from app.chains.solana.replies import BadReply, parse_reply, token_holdings
from app.chains.solana.rpc import BatchClient, Call, CallResult, RpcError
from app.chains.solana.stake import STAKER_OFFSET, WITHDRAWER_OFFSET, attribute
from app.chains.solana.stake import split_summary as stake_split
from app.chains.solana.tokens import curated_tokens
from app.domain.addresses import AddressFamily
from app.domain.balances import (
    AssetInfo,
    AssetKind,
    Balance,
    CallFailure,
    ChainReadResult,
    SourceState,
    native_info,
)
from app.domain.chains import ChainSpec
from app.domain.ids import SOLANA_MAINNET, AccountId, AssetId
from app.domain.model import Wallet
from app.domain.positions import PositionKind, position_key

STAKE_PROGRAM = "Stake11111111111111111111111111111111111111"
KEYS_PER_CALL = 100


@dataclass(frozen=True, slots=True)
class _Job:
    """One call and what to do with its reply. ``essential``: if its whole batch goes
    unanswered, the chain's read fails (a metadata call only loses a name)."""

    call: Call
    handle: Callable[[CallResult], None]
    essential: bool = True


# Round-1 replies each wallet needs: its SOL (in a getMultipleAccounts), its token accounts
# under each of the two programs, and the stake accounts it is the staker or withdrawer of.
PARTS_PER_WALLET = 5


@dataclass
class _Read:
    """What one refresh has gathered so far."""

    natives: list[Balance] = field(default_factory=list)
    failures: list[CallFailure] = field(default_factory=list)
    # token holdings by (mint, program, decimals), each wallet's token accounts of that mint
    # summed (an ATA plus an auxiliary account is one holding): thousands of holdings, few mints
    tokens: dict[tuple[str, str, int], dict[AccountId, int]] = field(default_factory=dict)
    epoch: int | None = None
    stake: dict[str, tuple[str, int, bytes]] = field(default_factory=dict)  # key: owner, l, data
    stake_failed: set[str] = field(default_factory=set)
    wanted: set[str] = field(default_factory=set)  # mints read in the metadata round
    pdas: dict[str, str] = field(default_factory=dict)  # their Metaplex metadata addresses
    accounts: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # owner, data by key
    parts: dict[str, int] = field(default_factory=dict)  # round-1 replies handled per wallet
    metadata_read: bool = False  # the metadata round was answered (or was not needed)
    lst_rates: dict[str, Decimal] = field(default_factory=dict)  # SOL per token, by mint
    marginfi: dict[str, list[marginfi.Shares]] = field(default_factory=dict)  # by owner

    def handled(self, owner: str) -> None:
        self.parts[owner] = self.parts.get(owner, 0) + 1


def pack(feeders: list[_Job], independent: list[_Job], batch: int) -> tuple[list[_Job], list[_Job]]:
    """Round 1's jobs and the ones held back for round 2 (see the module docstring): round 1
    keeps only full batches when the remainder can be made of calls round 2 does not need."""
    total = len(feeders) + len(independent)
    rest = total % batch
    if total >= batch and 0 < rest <= len(independent):
        return feeders + independent[:-rest], independent[-rest:]
    return feeders + independent, []


def _when_all_handled(jobs: list[_Job], then: Callable[[], None]) -> list[_Job]:
    """``jobs`` whose handlers call ``then`` once the last of them has run."""
    waiting = [len(jobs)]

    def wrap(handle: Callable[[CallResult], None]) -> Callable[[CallResult], None]:
        def counted(result: CallResult) -> None:
            handle(result)
            waiting[0] -= 1
            if waiting[0] == 0:
                then()

        return counted

    return [_Job(j.call, wrap(j.handle), j.essential) for j in jobs]


class SolanaReader:
    """ChainReader for Solana. Holds one batch client (one keep-alive connection pool)."""

    def __init__(
        self,
        spec: ChainSpec,
        client: BatchClient,
        *,
        stored: Iterable[AssetInfo] = (),
        cache: MintCache | None = None,
        lending: marginfi.AccountMemory | None = None,
    ) -> None:
        self._spec = spec
        self._client = client
        self.mints = MintDirectory(
            spec.chain_id, curated_tokens(), stored, cache if cache is not None else MintCache()
        )
        self._state: _Read | None = None  # the read under way, for ``partial_result``
        self._owners: list[str] = []
        self._start = 0
        # Only mainnet has these pools; a custom Solana network is priced by the market.
        self._lst_pools = str(spec.chain_id) == SOLANA_MAINNET
        self._marginfi = str(spec.chain_id) == SOLANA_MAINNET  # deployed on mainnet only
        self._lending = lending if lending is not None else marginfi.AccountMemory()

    @property
    def spec(self) -> ChainSpec:
        return self._spec

    def partial_result(self) -> ChainReadResult | None:
        """What a read cut short had finished (see the module docstring); None if no wallet."""
        st, chain = self._state, self._spec.chain_id
        if st is None:
            return None
        mints = self.mints
        if st.metadata_read and st.wanted:
            mints = copy.copy(self.mints)  # resolve with the round's answers, cache untouched
            mints.cache = self.mints.cache.copy()
            for mint, info in parse_metadata(st.wanted, st.pdas, st.accounts).items():
                mints.cache.put(mint, info)
        pending = (  # wallets holding a mint the metadata round has yet to read
            set()
            if st.metadata_read
            else {
                wallet
                for (mint, program, decimals), held in st.tokens.items()
                if mints.needs_read(mint, program, decimals)
                for wallet in held
            }
        )
        done = [
            o
            for o in self._owners
            if st.parts.get(o, 0) == PARTS_PER_WALLET and AccountId(chain, o) not in pending
        ]
        if not done:
            return None
        ids = {AccountId(chain, o) for o in done}
        tokens, token_failures = self._token_balances(st, mints, ids)
        stake, extra = self._stake_balances(st, self._owners, done)
        return ChainReadResult(
            chain=chain,
            state=SourceState.OK,
            balances=(*(b for b in st.natives if b.wallet in ids), *tokens, *stake),
            failures=(*(f for f in st.failures if f.wallet in ids), *token_failures),
            http_requests=self._client.http_requests - self._start,
            extra=extra,
            unread=tuple(
                AccountId(chain, o) for o in self._owners if AccountId(chain, o) not in ids
            ),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def _native(self) -> AssetInfo:
        return native_info(self._spec, coin_fallback=True)

    def _stake_asset(self) -> AssetInfo:
        s = self._spec
        return AssetInfo(
            asset_id=AssetId(s.chain_id, "stake", "native"),
            symbol=f"staked {s.native_symbol}",
            name=f"Staked {s.native_name}",
            decimals=s.native_decimals,
            kind=AssetKind.STAKE,
            price_id=self._native().price_id,
        )

    async def read_balances(self, wallets: Sequence[Wallet]) -> ChainReadResult:
        start = self._start = self._client.http_requests
        owners = list(dict.fromkeys(w.address for w in wallets if w.family is AddressFamily.SOLANA))
        state = self._state = _Read()
        self._owners = owners
        try:
            balances, failures, extra = await self._read(owners, state)
        except RpcError as exc:
            return ChainReadResult(
                chain=self._spec.chain_id,
                state=SourceState.FAILED,
                error=f"{self._spec.name}: {exc}",
                http_requests=self._client.http_requests - start,
            )
        return ChainReadResult(
            chain=self._spec.chain_id,
            state=SourceState.OK,
            balances=tuple(balances),
            failures=tuple(failures),
            http_requests=self._client.http_requests - start,
            extra=extra,
        )

    async def _run(self, jobs: Sequence[_Job]) -> None:
        """Sends ``jobs``; each batch's replies are handled as that batch lands."""
        failed: list[str] = []

        def on_chunk(offset: int, results: list[CallResult]) -> None:
            for job, result in zip(jobs[offset : offset + len(results)], results, strict=True):
                if result.batch_failed and job.essential:
                    failed.append(result.error or "no reply")
                else:
                    job.handle(result)

        if jobs:
            await self._client.call_each([j.call for j in jobs], on_chunk)
        if failed:
            raise RpcError(failed[0])

    async def _read(
        self, owners: list[str], st: _Read
    ) -> tuple[list[Balance], list[CallFailure], dict[str, str]]:
        """Every balance and failure of ``owners``, and the stake split by wallet."""
        if not owners:
            return [], [], {}
        feeders: list[_Job] = []
        independent: list[_Job] = [_Job(Call("getEpochInfo", []), self._on_epoch(st))]
        if self._lst_pools:  # the liquid staking pools' rates ride in the same batches
            call = Call("getMultipleAccounts", [pool_accounts(), {"encoding": "base64"}])
            independent.append(_Job(call, self._on_pools(st), essential=False))
        for i in range(0, len(owners), KEYS_PER_CALL):
            chunk = owners[i : i + KEYS_PER_CALL]
            call = Call("getMultipleAccounts", [chunk, {"encoding": "base64"}])
            independent.append(_Job(call, self._on_wallets(st, chunk)))
        for owner in owners:
            for program in (TOKEN_PROGRAM, TOKEN_2022_PROGRAM):
                params = [owner, {"programId": program}, {"encoding": "jsonParsed"}]
                call = Call("getTokenAccountsByOwner", params)
                feeders.append(_Job(call, self._on_tokens(st, owner, program)))
            for offset in (STAKER_OFFSET, WITHDRAWER_OFFSET):
                params = [STAKE_PROGRAM, {"encoding": "base64", "filters": [
                    {"memcmp": {"offset": offset, "bytes": owner}}]}]  # fmt: skip
                independent.append(
                    _Job(Call("getProgramAccounts", params), self._on_stake(st, owner))
                )
        if self._marginfi:
            for owner in self._lending.wanted(owners):
                params = [marginfi.PROGRAM, {"encoding": "base64",
                                             "filters": marginfi.account_filters(owner)}]  # fmt: skip
                call = Call("getProgramAccounts", params)
                independent.append(_Job(call, self._on_marginfi(st, owner), essential=False))
        # Round 2 starts as soon as the last token-account reply is parsed, while round 1's
        # other batches may still be on the wire.
        round2: list[asyncio.Future[None]] = []
        held: list[_Job] = []

        def start_round2() -> None:
            round2.append(asyncio.ensure_future(self._run(held + self._metadata_jobs(st))))

        counted = _when_all_handled(feeders, start_round2)
        if self.mints.cache.knows_owners(owners):
            first = counted + independent  # no metadata round expected: nothing to hold back
        else:
            first, held[:] = pack(counted, independent, self._client.batch_size)
        try:
            await self._run(first)
            if not round2:
                start_round2()
            stake, extra = self._stake_balances(st, owners, owners)  # while round 2 is on the wire
            await round2[0]
            st.metadata_read = True
        finally:
            for task in round2:
                if task.done() and not task.cancelled():
                    task.exception()  # any error of it was raised above, or round 1's was
                else:
                    task.cancel()
        for mint, info in parse_metadata(st.wanted, st.pdas, st.accounts).items():
            self.mints.cache.put(mint, info)
        self.mints.cache.saw_owners(owners)
        lending = await self._marginfi_positions(st) if st.marginfi else []
        tokens, token_failures = self._token_balances(st, self.mints)
        return [*st.natives, *tokens, *stake, *lending], [*st.failures, *token_failures], extra

    # --- round 1 handlers ----------------------------------------------------------------------
    def _on_epoch(self, st: _Read) -> Callable[[CallResult], None]:
        def handle(result: CallResult) -> None:
            try:
                st.epoch = parse_reply(GetEpochInfoResp, result).value.epoch
            except BadReply:
                st.epoch = None  # stake is still counted in full; only its status is unknown

        return handle

    def _on_pools(self, st: _Read) -> Callable[[CallResult], None]:
        pools = by_account()

        def handle(result: CallResult) -> None:
            try:
                accounts = parse_reply(GetMultipleAccountsResp, result).value
            except BadReply:
                return  # the tokens are priced by the market instead
            for key, acc in zip(pool_accounts(), accounts, strict=False):
                if acc is None:
                    continue
                pool = pools[key]
                rate = pool_rate(pool, str(acc.owner), bytes(acc.data))
                if rate is not None:
                    st.lst_rates[pool.mint] = rate

        return handle

    def _on_marginfi(self, st: _Read, owner: str) -> Callable[[CallResult], None]:
        wallet = AccountId(self._spec.chain_id, owner)

        def handle(result: CallResult) -> None:
            try:
                accounts = parse_reply(GetProgramAccountsResp, result).value
            except BadReply as exc:  # listed as a failure; the balances are not affected
                reason = f"marginfi positions could not be read: {exc}"
                st.failures.append(CallFailure(wallet, self._spec.native_asset, reason))
                return
            found = False
            for keyed in accounts:
                if str(keyed.account.owner) != marginfi.PROGRAM:
                    continue
                shares = marginfi.parse_account(owner, bytes(keyed.account.data))
                found = found or shares is not None
                if shares:
                    st.marginfi.setdefault(owner, []).extend(shares)
            self._lending.saw(owner, found)

        return handle

    async def _marginfi_positions(self, st: _Read) -> list[Balance]:
        """One more request: the banks of the marginfi balances found, then supplied and
        borrowed amounts per wallet and bank (borrowed negative)."""
        banks_wanted = sorted({s.bank for shares in st.marginfi.values() for s in shares})
        banks: dict[str, marginfi.Bank] = {}
        jobs = []
        for i in range(0, len(banks_wanted), KEYS_PER_CALL):
            keys = banks_wanted[i : i + KEYS_PER_CALL]
            call = Call("getMultipleAccounts", [keys, {"encoding": "base64"}])
            jobs.append(_Job(call, self._bank_chunk(banks, keys), essential=False))
        await self._run(jobs)
        chain, out = self._spec.chain_id, []
        for owner, shares in st.marginfi.items():
            wallet = AccountId(chain, owner)
            for sh in shares:
                bank = banks.get(sh.bank)
                if bank is None:  # shown as a failure, never silently left out
                    reason = f"the marginfi bank {sh.bank} could not be read"
                    failure = CallFailure(wallet, AssetId(chain, "token", sh.bank), reason)
                    st.failures.append(failure)
                    continue
                asset = self._lending_asset(st, bank)
                supplied = marginfi.amount(sh.asset, bank.asset_value)
                owed = marginfi.amount(sh.liability, bank.liability_value)
                if supplied:
                    key = position_key(marginfi.PROTOCOL, PositionKind.SUPPLIED)
                    out.append(Balance(wallet, asset, supplied, key))
                if owed:
                    key = position_key(marginfi.PROTOCOL, PositionKind.BORROWED)
                    out.append(Balance(wallet, asset, -owed, key))
        return out

    @staticmethod
    def _bank_chunk(
        banks: dict[str, marginfi.Bank], keys: list[str]
    ) -> Callable[[CallResult], None]:
        def handle(result: CallResult) -> None:
            try:
                accounts = parse_reply(GetMultipleAccountsResp, result).value
            except BadReply:
                return
            for key, acc in zip(keys, accounts, strict=False):
                if acc is not None and str(acc.owner) == marginfi.PROGRAM:
                    bank = marginfi.parse_bank(bytes(acc.data))
                    if bank is not None:
                        banks[key] = bank

        return handle

    def _lending_asset(self, st: _Read, bank: marginfi.Bank) -> AssetInfo:
        resolved = self.mints.resolve(bank.mint, TOKEN_PROGRAM, bank.decimals)
        asset = resolved.asset or AssetInfo(
            AssetId(self._spec.chain_id, "token", bank.mint),
            bank.mint[:6],
            bank.mint,
            bank.decimals,
        )
        rate = st.lst_rates.get(bank.mint)
        if rate is not None and bank.decimals == 9:
            asset = replace(asset, via=(str(self._spec.native_asset), rate))
        return asset

    def _on_wallets(self, st: _Read, chunk: list[str]) -> Callable[[CallResult], None]:
        chain, native = self._spec.chain_id, self._native()

        def handle(result: CallResult) -> None:
            try:
                accounts = parse_reply(GetMultipleAccountsResp, result).value
            except BadReply as exc:
                st.failures += [
                    CallFailure(AccountId(chain, o), native.asset_id, str(exc)) for o in chunk
                ]
            else:
                for owner, acc in zip(chunk, accounts, strict=False):
                    lamports = acc.lamports if acc is not None else 0
                    st.natives.append(Balance(AccountId(chain, owner), native, lamports))
            for owner in chunk:
                st.handled(owner)

        return handle

    def _on_tokens(self, st: _Read, owner: str, program: str) -> Callable[[CallResult], None]:
        wallet = AccountId(self._spec.chain_id, owner)

        def handle(result: CallResult) -> None:
            st.handled(owner)
            try:
                found = token_holdings(result, owner)
            except (BadReply, ValueError) as exc:
                reason = str(exc) if isinstance(exc, BadReply) else "malformed token account"
                asset = AssetId(self._spec.chain_id, "token", program)
                st.failures.append(CallFailure(wallet, asset, reason))
                return
            for mint, raw, decimals in found:
                held = st.tokens.setdefault((mint, program, decimals), {})
                held[wallet] = held.get(wallet, 0) + raw

        return handle

    def _on_stake(self, st: _Read, owner: str) -> Callable[[CallResult], None]:
        def handle(result: CallResult) -> None:
            st.handled(owner)
            if result.result is not None and bytes(result.result) == b"[]":
                return  # most wallets have no stake account: nothing for solders to check
            try:
                found = parse_reply(GetProgramAccountsResp, result).value
            except BadReply as exc:
                if owner not in st.stake_failed:
                    st.stake_failed.add(owner)
                    wallet = AccountId(self._spec.chain_id, owner)
                    st.failures.append(CallFailure(wallet, self._stake_asset().asset_id, str(exc)))
                return
            for keyed in found:
                acc = keyed.account
                st.stake.setdefault(str(keyed.pubkey), (owner, acc.lamports, bytes(acc.data)))

        return handle

    # --- round 2 and assembly ------------------------------------------------------------------
    def _metadata_jobs(self, st: _Read) -> list[_Job]:
        wanted = {m for m, p, d in st.tokens if self.mints.needs_read(m, p, d)}
        if not wanted:
            return []
        keys, st.pdas = metadata_keys(wanted, self.mints)
        st.wanted = wanted
        jobs = []
        for i in range(0, len(keys), KEYS_PER_CALL):
            chunk = keys[i : i + KEYS_PER_CALL]
            call = Call("getMultipleAccounts", [chunk, {"encoding": "base64"}])
            jobs.append(_Job(call, self._on_metadata(st, chunk), essential=False))
        return jobs

    def _on_metadata(self, st: _Read, chunk: list[str]) -> Callable[[CallResult], None]:
        def handle(result: CallResult) -> None:
            try:
                accounts = parse_reply(GetMultipleAccountsResp, result).value
            except BadReply:
                return  # those mints stay unknown: named by address, Token-2022 not shown
            for key, acc in zip(chunk, accounts, strict=False):
                if acc is not None:
                    st.accounts[key] = (str(acc.owner), bytes(acc.data))

        return handle

    def _token_balances(
        self, st: _Read, mints: MintDirectory, only: set[AccountId] | None = None
    ) -> tuple[list[Balance], list[CallFailure]]:
        """One balance per (wallet, mint): the sum of its token accounts of that mint."""
        chain = self._spec.chain_id
        balances: list[Balance] = []
        failures: list[CallFailure] = []
        seen: dict[tuple[AccountId, str], tuple[str, int]] = {}
        clash: set[tuple[AccountId, str]] = set()
        for (mint, program, decimals), held in st.tokens.items():
            for wallet in held:  # one mint under two programs or decimals: a reply that lies
                if seen.setdefault((wallet, mint), (program, decimals)) != (program, decimals):
                    clash.add((wallet, mint))
        native = str(self._spec.native_asset)
        for (mint, program, decimals), held in st.tokens.items():
            resolved = mints.resolve(mint, program, decimals)
            asset_id = AssetId(chain, "token", mint)
            rate = st.lst_rates.get(mint)
            if rate is not None and resolved.asset is not None and decimals == 9:
                resolved = replace(resolved, asset=replace(resolved.asset, via=(native, rate)))
            for wallet, raw in held.items():
                if only is not None and wallet not in only:
                    continue
                if (wallet, mint) in clash:
                    if seen.pop((wallet, mint), None) is not None:
                        reason = "the node reported this mint inconsistently"
                        failures.append(CallFailure(wallet, asset_id, reason))
                elif resolved.asset is None:
                    failures.append(CallFailure(wallet, asset_id, str(resolved.unsupported)))
                else:
                    balances.append(Balance(wallet, resolved.asset, raw))
        return balances, failures

    def _stake_balances(
        self, st: _Read, tracked: list[str], owners: list[str]
    ) -> tuple[list[Balance], dict[str, str]]:
        """One stake holding per wallet of ``owners``: the exact sum of its stake accounts'
        lamports, each account attributed among all ``tracked`` wallets; the per-status split
        goes to ``extra["stake:<wallet>"]`` as JSON of raw lamports."""
        per_wallet = attribute(st.stake.values(), tracked, st.epoch)
        asset = self._stake_asset()
        balances: list[Balance] = []
        extra: dict[str, str] = {}
        for owner in owners:
            accounts = per_wallet.get(owner, [])
            total = sum(a.lamports for a in accounts)
            if owner in st.stake_failed or total == 0:
                continue
            balances.append(Balance(AccountId(self._spec.chain_id, owner), asset, total))
            extra[f"stake:{owner}"] = json.dumps(stake_split(accounts), sort_keys=True)
        return balances, extra
