"""One Solana transaction (``getTransaction``, jsonParsed) as a wallet's movements and fee.

Amounts come from the transaction's status meta, never from instruction text: the SOL change of
an account is ``postBalances[i] - preBalances[i]`` at the account's index, a token change the
difference of ``postTokenBalances`` and ``preTokenBalances`` for the token accounts the wallet
owns. The fee (``meta.fee``, priority fee included) is charged to the fee payer, the first
account key, also when the transaction failed; the payer's SOL movement is its balance change
with the fee added back, so movement + fee is exactly what the wallet's balance did.

Instructions (top level and inner, as jsonParsed names them) only label what the balances say:
the counterparty of a transfer, and which part of the SOL change went into or came out of a
stake account whose staker or withdrawer is the wallet (``MovementKind.STAKE``). A failed
transaction changed nothing but the fee, so its instructions are not read.

Account indexes: in jsonParsed replies ``message.accountKeys`` already lists the addresses
loaded from lookup tables (``"source": "lookupTable"``), static keys first, then loaded
writable, then loaded readonly, which is the order of ``preBalances``. A reply whose keys are
the static ones only (the ``json`` encoding's shape) gets ``meta.loadedAddresses`` appended in
that same order. Any other mismatch of lengths is a malformed reply.

Everything is checked before use; a reply that is wrong in any way raises :class:`BadTx`, and
the scan skips that transaction with the reason in the log: a transaction left out, never an
amount made up.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from app.chains.solana.replies import _checked_key
from app.domain.onchain import Fee, Movement, MovementKind

U64 = 2**64
SYSTEM_PROGRAM = "11111111111111111111111111111111"
STAKE_PROGRAM = "Stake11111111111111111111111111111111111111"
_TOKEN_TRANSFERS = frozenset({"transfer", "transferChecked"})
# where jsonParsed stake instructions name an authority (initializeChecked: staker/withdrawer)
_STAKE_AUTHORITY_FIELDS = (
    "stakeAuthority",
    "withdrawAuthority",
    "authority",
    "staker",
    "withdrawer",
)
_SYSTEM_FUNDING = frozenset(
    {"transfer", "transferWithSeed", "createAccount", "createAccountWithSeed"}
)


class BadTx(ValueError):
    """A ``getTransaction`` reply that cannot be trusted; the text says why (for the log)."""


@dataclass(frozen=True, slots=True)
class TxInfo:
    """What one transaction did to one wallet. ``token_accounts``: token accounts the wallet
    owns in this transaction (to be scanned too: transfers into them need not name the wallet).
    ``failed``: the transaction failed and only paid its fee."""

    movements: tuple[Movement, ...]
    fee: Fee | None
    token_accounts: frozenset[str]
    failed: bool


def _u64(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value < U64:
        raise BadTx(f"{what} is not a whole number of base units")
    return value


def _key(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise BadTx(f"{what} is not an address")
    try:
        return _checked_key(value)
    except ValueError:
        raise BadTx(f"{what} is not a base58 address") from None


def _obj(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadTx(f"{what} is missing")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadTx(f"{what} is missing")
    return value


def account_keys(tx: dict[str, Any], meta: dict[str, Any], count: int) -> list[str]:
    """Every account of the transaction in balance order (see the module docstring)."""
    message = _obj(_obj(tx.get("transaction"), "transaction").get("message"), "message")
    raw = _list(message.get("accountKeys"), "account keys")
    keys: list[str] = []
    from_table = 0
    for i, item in enumerate(raw):
        if isinstance(item, dict):
            keys.append(_key(item.get("pubkey"), f"account key {i}"))
            from_table += item.get("source") == "lookupTable"
            if i == 0 and item.get("signer") is False:
                raise BadTx("the first account key is not a signer")
        else:
            keys.append(_key(item, f"account key {i}"))
    loaded = meta.get("loadedAddresses")
    if not from_table and isinstance(loaded, dict) and len(keys) != count:
        for part in ("writable", "readonly"):
            for j, item in enumerate(_list(loaded.get(part, []), "loaded addresses")):
                keys.append(_key(item, f"loaded {part} address {j}"))
    if len(keys) != count:
        raise BadTx("account keys and balances differ in length")
    if len(set(keys)) != len(keys):
        raise BadTx("an account key is listed twice")
    return keys


def _instructions(tx: dict[str, Any], meta: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """Parsed instructions, top level then inner; unparsed ones and odd items are passed over
    (they only label movements)."""
    message = tx["transaction"]["message"]
    top = message.get("instructions")
    groups: list[Any] = [top if isinstance(top, list) else []]
    inner = meta.get("innerInstructions")
    for group in inner if isinstance(inner, list) else []:
        if isinstance(group, dict) and isinstance(group.get("instructions"), list):
            groups.append(group["instructions"])
    for group in groups:
        for ix in group:
            if isinstance(ix, dict) and isinstance(ix.get("parsed"), dict):
                parsed = ix["parsed"]
                if isinstance(parsed.get("info"), dict) and isinstance(parsed.get("type"), str):
                    yield ix


def _text(info: dict[str, Any], name: str) -> str | None:
    value = info.get(name)
    return value if isinstance(value, str) else None


def _lamports(info: dict[str, Any]) -> int:
    value = info.get("lamports")
    return value if type(value) is int and 0 <= value < U64 else 0


@dataclass(frozen=True, slots=True)
class _Token:
    index: int
    mint: str
    owner: str | None
    amount: int


def _token_balances(meta: dict[str, Any], name: str, count: int) -> dict[int, _Token]:
    out: dict[int, _Token] = {}
    for entry in _list(meta.get(name, []), name):
        entry = _obj(entry, f"an entry of {name}")
        index = entry.get("accountIndex")
        if type(index) is not int or not 0 <= index < count:
            raise BadTx(f"{name} names an account index out of range")
        mint = _key(entry.get("mint"), "token mint")
        owner = entry.get("owner")
        owner = _key(owner, "token owner") if owner is not None else None
        ui = _obj(entry.get("uiTokenAmount"), "token amount")
        text = ui.get("amount")
        if not isinstance(text, str) or not (text.isascii() and text.isdigit()):
            raise BadTx("token amount is not a whole number")
        amount = int(text)
        if amount >= U64:
            raise BadTx("token amount exceeds u64")
        if index in out:
            raise BadTx(f"{name} lists an account twice")
        out[index] = _Token(index, mint, owner, amount)
    return out


def wallet_view(
    tx: object,
    *,
    chain: str,
    signature: str,
    wallet: str,
    native: str,
    token_asset: Callable[[str], str],
    known_token_accounts: Collection[str] = (),
    fallback_time: int | None = None,
) -> TxInfo:
    """The movements and fee of ``wallet`` in one decoded ``getTransaction`` result.

    ``token_asset(mint)`` names a mint's CAIP-19 id; ``known_token_accounts`` are the wallet's
    token accounts, used for old transactions whose token balances name no owner;
    ``fallback_time`` is the block time the signature list gave. Raises BadTx."""
    tx = _obj(tx, "transaction")
    meta = _obj(tx.get("meta"), "status meta")
    slot = _u64(tx.get("slot"), "slot")
    ts = tx.get("blockTime")
    if type(ts) is not int or ts < 0:
        if fallback_time is None:
            raise BadTx("no block time")
        ts = fallback_time
    pre = _list(meta.get("preBalances"), "pre balances")
    post = _list(meta.get("postBalances"), "post balances")
    if len(pre) != len(post) or not pre:
        raise BadTx("pre and post balances differ in length")
    pre_l = [_u64(v, "a pre balance") for v in pre]
    post_l = [_u64(v, "a post balance") for v in post]
    keys = account_keys(tx, meta, len(pre_l))
    sigs = _list(tx["transaction"].get("signatures"), "signatures")
    if not sigs or sigs[0] != signature:
        raise BadTx("the reply is for another transaction")
    fee = _u64(meta.get("fee"), "fee")
    failed = meta.get("err") is not None
    pre_t = _token_balances(meta, "preTokenBalances", len(keys))
    post_t = _token_balances(meta, "postTokenBalances", len(keys))

    def mv(asset: str, delta: int, kind: MovementKind, party: str | None, index: int) -> Movement:
        return Movement(chain, signature, slot, ts, wallet, asset, delta, kind, party, index)

    movements: list[Movement] = []
    fee_out: Fee | None = None
    sol = 0
    if wallet in keys:
        i = keys.index(wallet)
        sol = post_l[i] - pre_l[i]
        if i == 0:
            sol += fee
            if fee:
                fee_out = Fee(chain, signature, slot, ts, wallet, native, fee)
    if failed and sol:
        raise BadTx("a failed transaction moved SOL besides its fee")
    stake_part, sol_parties, stake_parties = 0, set[str](), set[str]()
    instructions = [] if failed else list(_instructions(tx, meta))
    if sol:
        stake_part, sol_parties, stake_parties = _sol_labels(instructions, wallet)
    transfer = sol - stake_part
    if transfer:
        party = next(iter(sol_parties)) if len(sol_parties) == 1 else None
        movements.append(mv(native, transfer, MovementKind.NATIVE, party, 0))
    if stake_part:
        party = next(iter(stake_parties)) if len(stake_parties) == 1 else None
        movements.append(mv(native, stake_part, MovementKind.STAKE, party, 1))

    mine = set(known_token_accounts)

    def owned(t: _Token) -> bool:
        return t.owner == wallet or (t.owner is None and keys[t.index] in mine)

    for index, before in pre_t.items():
        after = post_t.get(index)
        if after is not None and before.mint != after.mint:
            raise BadTx("a token account changed its mint")
    # what the wallet held of each mint before and after, over the accounts it owned then: an
    # account whose owner changed within the transaction leaves (or joins) the wallet whole
    deltas: dict[str, int] = {}
    for t in post_t.values():
        if owned(t):
            deltas[t.mint] = deltas.get(t.mint, 0) + t.amount
    for t in pre_t.values():
        if owned(t):
            deltas[t.mint] = deltas.get(t.mint, 0) - t.amount
    accounts = {t.index for t in (*pre_t.values(), *post_t.values()) if owned(t)}
    if failed and any(deltas.values()):
        raise BadTx("a failed transaction moved tokens")
    by_key = {keys[t.index]: t for t in (*pre_t.values(), *post_t.values())}
    mine_keys = {keys[i] for i in accounts}
    parties = _token_parties(instructions, mine_keys, by_key)
    for mint in sorted(deltas):  # index 2 for each: the asset tells them apart in the key
        if deltas[mint]:
            found = parties.get(mint, set())
            party = next(iter(found)) if len(found) == 1 else None
            movements.append(mv(token_asset(mint), deltas[mint], MovementKind.TOKEN, party, 2))
    return TxInfo(tuple(movements), fee_out, frozenset(mine_keys), failed)


def _sol_labels(instructions: list[dict[str, Any]], wallet: str) -> tuple[int, set[str], set[str]]:
    """(the wallet's SOL change into or out of its stake accounts, other counterparties of its
    SOL transfers, the stake accounts) from the parsed instructions."""
    stakes: set[str] = set()
    for ix in instructions:
        info, kind = ix["parsed"]["info"], ix["parsed"]["type"]
        if ix.get("programId") == STAKE_PROGRAM:
            account = _text(info, "stakeAccount") or _text(info, "newSplitAccount")
            authorized = info.get("authorized")
            names = [_text(info, f) for f in _STAKE_AUTHORITY_FIELDS]
            if isinstance(authorized, dict):
                names += [_text(authorized, "staker"), _text(authorized, "withdrawer")]
            if account and wallet in names:
                stakes.add(account)
                if kind == "split" and _text(info, "newSplitAccount"):
                    stakes.add(str(info["newSplitAccount"]))
    stake_part = 0
    parties: set[str] = set()
    for ix in instructions:
        info, kind = ix["parsed"]["info"], ix["parsed"]["type"]
        program = ix.get("programId")
        if program == SYSTEM_PROGRAM and kind in _SYSTEM_FUNDING:
            src = _text(info, "source")
            dst = _text(info, "destination") or _text(info, "newAccount")
            amount = _lamports(info)
            if src == wallet and dst in stakes:
                stake_part -= amount
            elif src == wallet and dst:
                parties.add(dst)
            elif dst == wallet and src:
                parties.add(src)
        elif (
            program == STAKE_PROGRAM
            and kind == "withdraw"
            and _text(info, "destination") == wallet
            and _text(info, "stakeAccount") in stakes
        ):
            stake_part += _lamports(info)
    return stake_part, parties, stakes


def _token_parties(
    instructions: list[dict[str, Any]],
    mine: set[str],
    by_key: dict[str, _Token],
) -> dict[str, set[str]]:
    """Counterparties of the wallet's token transfers by mint: the owner of the other token
    account where the balances name it, else that account's address."""
    out: dict[str, set[str]] = {}
    for ix in instructions:
        info, kind = ix["parsed"]["info"], ix["parsed"]["type"]
        if kind not in _TOKEN_TRANSFERS:
            continue
        src, dst = _text(info, "source"), _text(info, "destination")
        if not src or not dst:
            continue
        if dst in mine and src not in mine:
            other, account = src, dst
        elif src in mine and dst not in mine:
            other, account = dst, src
        else:
            continue
        own = by_key.get(account)
        if own is None:
            continue
        other_token = by_key.get(other)
        party = other_token.owner if other_token and other_token.owner else other
        out.setdefault(own.mint, set()).add(party)
    return out
