"""Reads SOL, SPL Token / Token-2022 balances and native stake of Solana wallets.

Round 1 (one set of batch arrays): ``getMultipleAccounts`` for the wallets (100 keys per call),
``getTokenAccountsByOwner`` per wallet and token program (jsonParsed), ``getProgramAccounts`` on
the Stake program per wallet with a memcmp filter on the staker and on the withdrawer.
Round 2: ``getMultipleAccounts`` for mints that need their own account read (Token-2022 mints and
mints outside the curated list): decimals, metadata extension, amount-changing extensions, and
the Metaplex metadata account of unlisted mints, in the same getMultipleAccounts calls.
Every reply is validated by solders' response parsers before its fields are used.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

from solders.rpc.responses import (
    GetMultipleAccountsResp,
    GetProgramAccountsResp,
    GetTokenAccountsByOwnerJsonParsedResp,
)

from app.chains.solana.rpc import BatchClient, Call, CallResult, RpcError
from app.chains.solana.tokens import (
    MintInfo,
    curated_tokens,
    metaplex_metadata_address,
    parse_metaplex,
    parse_mint,
)
from app.domain.addresses import AddressFamily
from app.domain.balances import (
    AssetInfo,
    AssetKind,
    Balance,
    CallFailure,
    ChainReadResult,
    SourceState,
)
from app.domain.chains import ChainSpec
from app.domain.ids import AccountId, AssetId
from app.domain.model import Wallet
from app.domain.spam import spam_reason
from app.domain.text import clean_text

TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
STAKE_PROGRAM = "Stake11111111111111111111111111111111111111"
STAKER_OFFSET = 12
WITHDRAWER_OFFSET = 44
KEYS_PER_CALL = 100
MAX_SYMBOL = 16
MAX_NAME = 64


class _BadReply(Exception):
    pass


def _parse(cls: Any, result: CallResult) -> Any:
    """solders-validated parse of one reply; errors were screened out by the batch client."""
    if result.envelope is None:
        raise _BadReply(result.error or "no reply")
    try:
        parsed = cls.from_json(json.dumps(result.envelope))
    except (ValueError, TypeError) as exc:
        raise _BadReply("malformed RPC reply") from exc
    if not isinstance(parsed, cls):
        raise _BadReply("RPC error reply")
    return parsed


class SolanaReader:
    """ChainReader for Solana. Holds one batch client (one keep-alive connection pool)."""

    def __init__(self, spec: ChainSpec, client: BatchClient) -> None:
        self._spec = spec
        self._client = client
        self._curated = curated_tokens()

    @property
    def spec(self) -> ChainSpec:
        return self._spec

    async def aclose(self) -> None:
        await self._client.aclose()

    def _native(self) -> AssetInfo:
        s = self._spec
        coingecko = s.price_ids.get("coingecko_native") or s.price_ids.get("coingecko")
        return AssetInfo(
            asset_id=s.native_asset,
            symbol=s.native_symbol,
            name=s.native_name,
            decimals=s.native_decimals,
            kind=AssetKind.NATIVE,
            price_id=f"coingecko:{coingecko}" if coingecko else None,
        )

    async def read_balances(self, wallets: Sequence[Wallet]) -> ChainReadResult:
        start = self._client.http_requests
        owners = [w.address for w in wallets if w.family is AddressFamily.SOLANA]
        try:
            result = await self._read(owners)
        except RpcError as exc:
            return ChainReadResult(
                chain=self._spec.chain_id,
                state=SourceState.FAILED,
                error=f"{self._spec.name}: {exc}",
                http_requests=self._client.http_requests - start,
            )
        balances, failures = result
        return ChainReadResult(
            chain=self._spec.chain_id,
            state=SourceState.OK,
            balances=tuple(balances),
            failures=tuple(failures),
            http_requests=self._client.http_requests - start,
        )

    async def _read(self, owners: list[str]) -> tuple[list[Balance], list[CallFailure]]:
        chain = self._spec.chain_id
        native = self._native()
        calls: list[Call] = []
        chunks = [owners[i : i + KEYS_PER_CALL] for i in range(0, len(owners), KEYS_PER_CALL)]
        for chunk in chunks:
            calls.append(Call("getMultipleAccounts", [chunk, {"encoding": "base64"}]))
        for owner in owners:
            for program in (TOKEN_PROGRAM, TOKEN_2022_PROGRAM):
                calls.append(
                    Call(
                        "getTokenAccountsByOwner",
                        [owner, {"programId": program}, {"encoding": "jsonParsed"}],
                    )
                )
            for offset in (STAKER_OFFSET, WITHDRAWER_OFFSET):
                flt = [{"memcmp": {"offset": offset, "bytes": owner}}]
                calls.append(
                    Call(
                        "getProgramAccounts",
                        [STAKE_PROGRAM, {"encoding": "base64", "filters": flt}],
                    )
                )
        replies = await self._client.call_all(calls)
        balances: list[Balance] = []
        failures: list[CallFailure] = []
        pos = 0
        for chunk in chunks:
            reply = replies[pos]
            pos += 1
            try:
                accounts = _parse(GetMultipleAccountsResp, reply).value
            except _BadReply as exc:
                failures += [
                    CallFailure(AccountId(chain, o), native.asset_id, str(exc)) for o in chunk
                ]
                continue
            for owner, acc in zip(chunk, accounts, strict=False):
                lamports = acc.lamports if acc is not None else 0
                balances.append(Balance(AccountId(chain, owner), native, lamports))
        holdings: list[tuple[str, str, str, int, int]] = []  # owner, program, mint, raw, decimals
        stake_asset = AssetInfo(
            asset_id=AssetId(chain, "stake", "native"),
            symbol=f"staked {self._spec.native_symbol}",
            name=f"Staked {self._spec.native_name}",
            decimals=self._spec.native_decimals,
            kind=AssetKind.STAKE,
            price_id=native.price_id,
        )
        for owner in owners:
            wallet = AccountId(chain, owner)
            for program in (TOKEN_PROGRAM, TOKEN_2022_PROGRAM):
                reply = replies[pos]
                pos += 1
                try:
                    _parse(GetTokenAccountsByOwnerJsonParsedResp, reply)
                    assert reply.envelope is not None
                    for item in reply.envelope["result"]["value"]:
                        info = item["account"]["data"]["parsed"]["info"]
                        amount = info["tokenAmount"]
                        raw = int(amount["amount"])
                        if raw > 0:
                            holdings.append(
                                (owner, program, str(info["mint"]), raw, int(amount["decimals"]))
                            )
                except (_BadReply, KeyError, TypeError, ValueError) as exc:
                    reason = str(exc) if isinstance(exc, _BadReply) else "malformed token account"
                    failures.append(CallFailure(wallet, AssetId(chain, "token", program), reason))
            stake_total = 0
            seen: set[str] = set()
            stake_ok = True
            for _ in (STAKER_OFFSET, WITHDRAWER_OFFSET):
                reply = replies[pos]
                pos += 1
                try:
                    for keyed in _parse(GetProgramAccountsResp, reply).value:
                        key = str(keyed.pubkey)
                        if key not in seen:
                            seen.add(key)
                            stake_total += keyed.account.lamports
                except _BadReply as exc:
                    stake_ok = False
                    failures.append(CallFailure(wallet, stake_asset.asset_id, str(exc)))
            if stake_ok and stake_total > 0:
                balances.append(Balance(wallet, stake_asset, stake_total))
        mints = await self._mint_infos(holdings)
        for owner, _program, mint, raw, decimals in holdings:
            wallet = AccountId(chain, owner)
            asset_id = AssetId(chain, "token", mint)
            info = mints.get(mint)
            if info is not None and info.unsupported:
                failures.append(
                    CallFailure(
                        wallet,
                        asset_id,
                        f"{info.unsupported} Token-2022 amounts are not supported yet",
                    )
                )
                continue
            balances.append(Balance(wallet, self._asset(mint, decimals, info), raw))
        return balances, failures

    def _asset(self, mint: str, decimals: int, info: MintInfo | None) -> AssetInfo:
        asset_id = AssetId(self._spec.chain_id, "token", mint)
        known = self._curated.get(mint)
        if known is not None and known.decimals == decimals:
            return AssetInfo(asset_id, known.symbol, known.name, decimals, price_id=known.price_id)
        symbol = clean_text(info.symbol, MAX_SYMBOL) if info and info.symbol else ""
        name = clean_text(info.name, MAX_NAME) if info and info.name else ""
        if symbol:
            reason = spam_reason(symbol, name or symbol)
        else:
            symbol = f"{mint[:4]}…{mint[-4:]}"
            reason = "unlisted mint without metadata"
        return AssetInfo(
            asset_id,
            symbol,
            name or symbol,
            decimals,
            is_spam=reason is not None,
            spam_reason=reason,
        )

    async def _mint_infos(
        self, holdings: list[tuple[str, str, str, int, int]]
    ) -> dict[str, MintInfo]:
        """Mint accounts (Token-2022 extensions, decimals) plus, for mints outside the curated
        list, their Metaplex metadata accounts, all in one set of getMultipleAccounts calls."""
        wanted = sorted(
            {
                m
                for _, program, m, _, _ in holdings
                if program == TOKEN_2022_PROGRAM or m not in self._curated
            }
        )
        if not wanted:
            return {}
        pdas = {m: metaplex_metadata_address(m) for m in wanted if m not in self._curated}
        keys = wanted + list(pdas.values())
        chunks = [keys[i : i + KEYS_PER_CALL] for i in range(0, len(keys), KEYS_PER_CALL)]
        calls = [Call("getMultipleAccounts", [c, {"encoding": "base64"}]) for c in chunks]
        try:
            replies = await self._client.call_all(calls)
        except RpcError:
            return {}
        data: dict[str, bytes] = {}
        for chunk, reply in zip(chunks, replies, strict=True):
            try:
                accounts = _parse(GetMultipleAccountsResp, reply).value
            except _BadReply:
                continue
            for key, acc in zip(chunk, accounts, strict=False):
                if acc is not None:
                    data[key] = bytes(acc.data)
        out: dict[str, MintInfo] = {}
        for mint in wanted:
            raw = data.get(mint)
            if raw is None:
                continue
            try:
                info = parse_mint(raw)
            except (ValueError, struct.error):
                continue
            meta = data.get(pdas.get(mint, ""))
            named = parse_metaplex(meta) if meta is not None and info.symbol is None else None
            if named is not None:
                info = MintInfo(info.decimals, named[0], named[1], info.unsupported)
            out[mint] = info
        return out
