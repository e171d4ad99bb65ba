"""Transactions executed in a LiteSVM, kept as a node's ledger keeps them, and rendered as the
Solana RPC renders ``getTransaction`` (encoding jsonParsed) and ``getSignaturesForAddress``.

LiteSVM runs the transaction (fee, programs, CPI) and gives its logs, inner instructions, fee and
error; the balances around it are read from the SVM before and after, for every account the
transaction loads (static keys, then lookup-table writable, then readonly), as a validator's
status meta records them. Each transaction gets its own slot, newest last.

The JSON follows agave's ``UiTransactionEncoding::JsonParsed``: ``accountKeys`` as objects with
``signer``/``writable``/``source`` (lookup-table addresses included, ``"source": "lookupTable"``),
``meta.loadedAddresses`` left out (as agave's parsed meta skips it), instructions of the system,
SPL Token, associated token account and stake programs parsed (others as ``programId`` /
``accounts`` / base58 ``data``), token balances with ``uiTokenAmount``. solders'
``GetTransactionResp`` parses every reply (an integration test).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from solders.litesvm import LiteSVM
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.token.state import Mint, TokenAccount
from solders.transaction import Transaction, VersionedTransaction
from solders.transaction_metadata import FailedTransactionMetadata

SYSTEM = "11111111111111111111111111111111"
TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022 = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
ATA = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
STAKE = "Stake11111111111111111111111111111111111111"
ALT = "AddressLookupTab1e1111111111111111111111111"
ALT_META_SIZE = 56
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def lookup_table_bytes(addresses: list[Pubkey]) -> bytes:
    """An active address lookup table (``ProgramState::LookupTable``), extended at slot 0."""
    meta = struct.pack("<IQQB", 1, 2**64 - 1, 0, 0) + bytes([0])  # no authority: frozen
    return meta + bytes(ALT_META_SIZE - len(meta)) + b"".join(bytes(a) for a in addresses)


@dataclass
class Recorded:
    signature: str
    slot: int
    block_time: int
    err: Any
    keys: list[str]
    result: dict[str, Any]


def _ui_amount(amount: int, decimals: int) -> dict[str, Any]:
    text = str(Decimal(amount).scaleb(-decimals).normalize()) if amount else "0"
    if "E" in text:
        text = format(Decimal(text), "f")
    return {
        "amount": str(amount),
        "decimals": decimals,
        "uiAmount": float(text) if amount else 0.0,
        "uiAmountString": text,
    }


class Ledger:
    """Executes transactions in ``svm`` and answers the two history methods from what ran."""

    def __init__(self, svm: LiteSVM, *, first_slot: int = 300_000_000) -> None:
        self.svm = svm
        self.slot = first_slot
        self.txs: dict[str, Recorded] = {}
        self.by_address: dict[str, list[str]] = {}  # oldest first

    # --- state reads -----------------------------------------------------------------------
    def _lamports(self, key: str) -> int:
        acc = self.svm.get_account(Pubkey.from_string(key))
        return acc.lamports if acc is not None else 0

    def _token(self, key: str) -> tuple[str, str, int, str] | None:
        """(mint, owner, amount, program) of a token account, None for any other account."""
        acc = self.svm.get_account(Pubkey.from_string(key))
        if acc is None or str(acc.owner) not in (TOKEN, TOKEN_2022):
            return None
        data = bytes(acc.data)
        if len(data) < 165 or (len(data) > 165 and data[165] != 2):
            return None
        ta = TokenAccount.from_bytes(data[:165])
        return str(ta.mint), str(ta.owner), ta.amount, str(acc.owner)

    def _decimals(self, mint: str) -> int:
        acc = self.svm.get_account(Pubkey.from_string(mint))
        return Mint.from_bytes(bytes(acc.data)[:82]).decimals if acc is not None else 0

    def _token_balances(self, keys: list[str]) -> list[dict[str, Any]]:
        out = []
        for i, key in enumerate(keys):
            found = self._token(key)
            if found is None:
                continue
            mint, owner, amount, program = found
            out.append(
                {
                    "accountIndex": i,
                    "mint": mint,
                    "owner": owner,
                    "programId": program,
                    "uiTokenAmount": _ui_amount(amount, self._decimals(mint)),
                }
            )
        return out

    def _loaded(self, message: MessageV0) -> tuple[list[str], list[str]]:
        writable: list[str] = []
        readonly: list[str] = []
        for lookup in message.address_table_lookups:
            acc = self.svm.get_account(lookup.account_key)
            assert acc is not None, "lookup table not found"
            data = bytes(acc.data)
            table = [
                str(Pubkey.from_bytes(data[o : o + 32]))
                for o in range(ALT_META_SIZE, len(data), 32)
            ]
            writable += [table[i] for i in bytes(lookup.writable_indexes)]
            readonly += [table[i] for i in bytes(lookup.readonly_indexes)]
        return writable, readonly

    # --- execution -------------------------------------------------------------------------
    def execute(self, tx: Transaction | VersionedTransaction) -> Recorded:
        message = tx.message
        static = [str(k) for k in message.account_keys]
        writable_loaded: list[str] = []
        readonly_loaded: list[str] = []
        if isinstance(message, MessageV0):
            writable_loaded, readonly_loaded = self._loaded(message)
        keys = static + writable_loaded + readonly_loaded
        self.slot += 1
        self.svm.warp_to_slot(self.slot)
        pre = [self._lamports(k) for k in keys]
        pre_tokens = self._token_balances(keys)
        outcome = self.svm.send_transaction(tx)
        self.svm.expire_blockhash()  # the next transaction of the same content is a new one
        post = [self._lamports(k) for k in keys]
        meta = outcome.meta() if isinstance(outcome, FailedTransactionMetadata) else outcome
        err = json.loads(outcome.to_json())["err"] if meta is not outcome else None
        if err is not None and post[0] == pre[0]:
            raise AssertionError(f"transaction not processed: {err}")  # no fee: never landed
        signature = str(tx.signatures[0])
        block_time = 1_700_000_000 + (self.slot - 300_000_000) * 60
        header = message.header
        nsig = header.num_required_signatures
        ro_signed = header.num_readonly_signed_accounts
        ro_unsigned = header.num_readonly_unsigned_accounts

        def writable(i: int) -> bool:
            if i >= len(static):
                return i < len(static) + len(writable_loaded)
            if i < nsig:
                return i < nsig - ro_signed
            return i < len(static) - ro_unsigned

        account_keys = [
            {
                "pubkey": k,
                "signer": i < nsig,
                "source": "transaction" if i < len(static) else "lookupTable",
                "writable": writable(i),
            }
            for i, k in enumerate(keys)
        ]
        instructions = [
            self._instruction(ix.program_id_index, bytes(ix.accounts), bytes(ix.data), keys, None)
            for ix in message.instructions
        ]
        inner = []
        for index, group in enumerate(meta.inner_instructions()):
            if group:
                rendered = [
                    self._instruction(
                        i.instruction().program_id_index,
                        bytes(i.instruction().accounts),
                        bytes(i.instruction().data),
                        keys,
                        i.stack_height(),
                    )
                    for i in group
                ]
                inner.append({"index": index, "instructions": rendered})
        ui_message: dict[str, Any] = {
            "accountKeys": account_keys,
            "instructions": instructions,
            "recentBlockhash": str(message.recent_blockhash),
        }
        if isinstance(message, MessageV0):
            ui_message["addressTableLookups"] = [
                {
                    "accountKey": str(lk.account_key),
                    "writableIndexes": list(bytes(lk.writable_indexes)),
                    "readonlyIndexes": list(bytes(lk.readonly_indexes)),
                }
                for lk in message.address_table_lookups
            ]
        result = {
            "slot": self.slot,
            "blockTime": block_time,
            "version": 0 if isinstance(message, MessageV0) else "legacy",
            "transaction": {
                "signatures": [str(s) for s in tx.signatures],
                "message": ui_message,
            },
            "meta": {
                "err": err,
                "status": {"Ok": None} if err is None else {"Err": err},
                "fee": meta.fee(),
                "preBalances": pre,
                "postBalances": post,
                "innerInstructions": inner,
                "logMessages": list(meta.logs()),
                "preTokenBalances": pre_tokens,
                "postTokenBalances": self._token_balances(keys),
                "rewards": [],
                "computeUnitsConsumed": meta.compute_units_consumed(),
            },
        }
        record = Recorded(signature, self.slot, block_time, err, keys, result)
        self.txs[signature] = record
        for k in keys:
            self.by_address.setdefault(k, []).append(signature)
        return record

    # --- instruction rendering -------------------------------------------------------------
    def _instruction(
        self, program_index: int, accounts: bytes, data: bytes, keys: list[str], height: int | None
    ) -> dict[str, Any]:
        program = keys[program_index]
        acc = [keys[i] for i in accounts]
        parsed = _parse(program, acc, data, self._decimals)
        if parsed is None:
            return {"accounts": acc, "data": b58(data), "programId": program, "stackHeight": height}
        name, kind, info = parsed
        return {
            "parsed": {"info": info, "type": kind},
            "program": name,
            "programId": program,
            "stackHeight": height,
        }

    # --- RPC methods -----------------------------------------------------------------------
    def signatures(self, address: str, config: dict[str, Any]) -> list[dict[str, Any]]:
        limit = int(config.get("limit", 1000))
        if not 1 <= limit <= 1000:
            raise ValueError("Invalid limit; max 1000")
        Pubkey.from_string(address)  # "Invalid param: Invalid" for anything else
        listed = list(reversed(self.by_address.get(address, [])))
        before, until = config.get("before"), config.get("until")
        if before is not None:
            if before not in listed:
                return []
            listed = listed[listed.index(before) + 1 :]
        if until is not None and until in listed:
            listed = listed[: listed.index(until)]
        out = []
        for sig in listed[:limit]:
            rec = self.txs[sig]
            out.append(
                {
                    "signature": sig,
                    "slot": rec.slot,
                    "err": rec.err,
                    "memo": None,
                    "blockTime": rec.block_time,
                    "confirmationStatus": "finalized",
                }
            )
        return out

    def transaction(self, signature: str, config: dict[str, Any]) -> dict[str, Any] | None:
        if config.get("encoding") != "jsonParsed":
            raise ValueError("this test server renders jsonParsed only")
        rec = self.txs.get(signature)
        if rec is None:
            return None
        if rec.result["version"] == 0 and config.get("maxSupportedTransactionVersion") is None:
            raise ValueError(
                "Transaction version (0) is not supported by the requesting client. "
                "Please try the request again with the following configuration parameter: "
                '"maxSupportedTransactionVersion": 0'
            )
        return rec.result


def _parse(
    program: str, acc: list[str], data: bytes, decimals: Any
) -> tuple[str, str, dict[str, Any]] | None:
    """(program name, instruction type, info) as jsonParsed names them; None: not parsed."""
    try:
        if program == SYSTEM:
            return _system(acc, data)
        if program in (TOKEN, TOKEN_2022):
            name = "spl-token" if program == TOKEN else "spl-token-2022"
            found = _token(acc, data, decimals)
            return None if found is None else (name, *found)
        if program == ATA:
            kind = "create" if not data or data[0] == 0 else "createIdempotent"
            info = {
                "source": acc[0],
                "account": acc[1],
                "wallet": acc[2],
                "mint": acc[3],
                "systemProgram": acc[4],
                "tokenProgram": acc[5],
            }
            return "spl-associated-token-account", kind, info
        if program == STAKE:
            found = _stake(acc, data)
            return None if found is None else ("stake", *found)
    except (IndexError, struct.error):
        return None
    return None


def _system(acc: list[str], data: bytes) -> tuple[str, str, dict[str, Any]] | None:
    (tag,) = struct.unpack_from("<I", data)
    if tag == 0:
        lamports, space = struct.unpack_from("<QQ", data, 4)
        owner = str(Pubkey.from_bytes(data[20:52]))
        info = {
            "source": acc[0],
            "newAccount": acc[1],
            "lamports": lamports,
            "space": space,
            "owner": owner,
        }
        return "system", "createAccount", info
    if tag == 1:
        return "system", "assign", {"account": acc[0], "owner": str(Pubkey.from_bytes(data[4:36]))}
    if tag == 2:
        (lamports,) = struct.unpack_from("<Q", data, 4)
        info = {"source": acc[0], "destination": acc[1], "lamports": lamports}
        return "system", "transfer", info
    if tag == 8:
        (space,) = struct.unpack_from("<Q", data, 4)
        return "system", "allocate", {"account": acc[0], "space": space}
    return None


def _token(acc: list[str], data: bytes, decimals: Any) -> tuple[str, dict[str, Any]] | None:
    tag = data[0]
    if tag == 3:
        (amount,) = struct.unpack_from("<Q", data, 1)
        info = {"source": acc[0], "destination": acc[1], "authority": acc[2], "amount": str(amount)}
        return "transfer", info
    if tag == 12:
        amount, dec = struct.unpack_from("<QB", data, 1)
        info = {
            "source": acc[0],
            "mint": acc[1],
            "destination": acc[2],
            "authority": acc[3],
            "tokenAmount": _ui_amount(amount, dec),
        }
        return "transferChecked", info
    if tag == 7:
        (amount,) = struct.unpack_from("<Q", data, 1)
        info = {"mint": acc[0], "account": acc[1], "mintAuthority": acc[2], "amount": str(amount)}
        return "mintTo", info
    if tag == 18:
        info = {"account": acc[0], "mint": acc[1], "owner": str(Pubkey.from_bytes(data[1:33]))}
        return "initializeAccount3", info
    if tag == 21:
        return "getAccountDataSize", {"mint": acc[0], "extensionTypes": []}
    if tag == 22:
        return "initializeImmutableOwner", {"account": acc[0]}
    return None


def _stake(acc: list[str], data: bytes) -> tuple[str, dict[str, Any]] | None:
    (tag,) = struct.unpack_from("<I", data)
    if tag == 0:
        staker = str(Pubkey.from_bytes(data[4:36]))
        withdrawer = str(Pubkey.from_bytes(data[36:68]))
        ts, epoch = struct.unpack_from("<qQ", data, 68)
        info = {
            "stakeAccount": acc[0],
            "rentSysvar": acc[1],
            "authorized": {"staker": staker, "withdrawer": withdrawer},
            "lockup": {
                "unixTimestamp": ts,
                "epoch": epoch,
                "custodian": str(Pubkey.from_bytes(data[84:116])),
            },
        }
        return "initialize", info
    if tag == 2:
        info = {
            "stakeAccount": acc[0],
            "voteAccount": acc[1],
            "clockSysvar": acc[2],
            "stakeHistorySysvar": acc[3],
            "stakeConfigAccount": acc[4],
            "stakeAuthority": acc[5],
        }
        return "delegate", info
    if tag == 4:
        (lamports,) = struct.unpack_from("<Q", data, 4)
        info = {
            "stakeAccount": acc[0],
            "destination": acc[1],
            "clockSysvar": acc[2],
            "stakeHistorySysvar": acc[3],
            "withdrawAuthority": acc[4],
            "lamports": lamports,
        }
        return "withdraw", info
    if tag == 5:
        info = {"stakeAccount": acc[0], "clockSysvar": acc[1], "stakeAuthority": acc[2]}
        return "deactivate", info
    return None
