"""Exchange records and the ledger entries they make (pure): hostile input refused with a
reason, crypto-quoted trades without a price invent nothing, fees in a third coin, and the
matching rules of own transfers at their edges."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from app.domain.exchange_history import (
    MATCH_AFTER,
    MATCH_BEFORE,
    ChainEntry,
    ExchangeRecord,
    RecordKind,
    asset_for,
    match_transfers,
    plan_entries,
    trade_record,
    transfer_record,
    txid_of,
)
from app.domain.ledger import TxKind

NOW_MS = 1_800_000_000_000
TS = 1_760_000_000_000
ETH = "eip155:1/slip44:60"


def trade(**over: Any) -> dict[str, Any]:
    raw = {"id": "42", "symbol": "ETH/BTC", "timestamp": TS, "side": "buy", "amount": "2",
           "price": "0.05", "cost": "0.1", "fee": {"cost": "0.001", "currency": "BNB"}}  # fmt: skip
    raw.update(over)
    return raw


@pytest.mark.parametrize(
    ("over", "why"),
    [
        ({"id": "<script>"}, "without a plain id"),
        ({"id": None}, "without a plain id"),
        ({"symbol": "BTC/USDT:USDT"}, "not a spot market"),
        ({"symbol": "ETH/ETH"}, "not plain codes"),
        ({"symbol": "E<b>TH/BTC"}, "not plain codes"),
        ({"timestamp": 1_000_000_000_000}, "no believable time"),  # 2001
        ({"timestamp": NOW_MS + 3_600_000}, "no believable time"),  # the future
        ({"timestamp": "soon"}, "no believable time"),
        ({"side": "steal"}, "neither a buy nor a sell"),
        ({"amount": "-2"}, "not a positive number"),
        ({"amount": 2.0}, "not a positive number"),  # a float has lost digits already
        ({"amount": "NaN"}, "not a positive number"),
        ({"price": "1e40"}, "not a positive number"),
        ({"fee": {"cost": "x", "currency": "BNB"}}, "fee that is not a number"),
        ({"fee": {"cost": "1", "currency": "B N B"}}, "fee without a plain coin code"),
    ],
)
def test_hostile_trades_are_refused_with_a_reason(over: dict[str, Any], why: str) -> None:
    got = trade_record(trade(**over), NOW_MS)
    assert isinstance(got, str) and why in got


def test_a_trade_is_read_exactly() -> None:
    got = trade_record(trade(cost=None), NOW_MS, "ETHBTC-")
    assert isinstance(got, ExchangeRecord)
    assert (got.id, got.code, got.quote, got.amount, got.cost) == (
        "ETHBTC-42", "ETH", "BTC", Decimal(2), Decimal("0.10")
    )  # fmt: skip
    assert got.fees == (("BNB", Decimal("0.001")),)
    assert ExchangeRecord.from_json(got.to_json()) == got


def test_transfers_pending_failed_and_hostile() -> None:
    base = {"id": "9", "status": "ok", "currency": "ETH", "timestamp": TS, "amount": "1.5",
            "txid": "0x" + "a" * 64, "fee": {"cost": "0.01", "currency": "ETH"}}  # fmt: skip
    ok = transfer_record(base, RecordKind.WITHDRAWAL, NOW_MS)
    assert isinstance(ok, ExchangeRecord) and ok.fee_in("ETH") == Decimal("0.01")
    assert transfer_record({**base, "status": "pending"}, RecordKind.DEPOSIT, NOW_MS) is None
    assert transfer_record({**base, "status": "failed"}, RecordKind.DEPOSIT, NOW_MS) is None
    odd = transfer_record({**base, "txid": "<img src=x>"}, RecordKind.DEPOSIT, NOW_MS)
    assert isinstance(odd, ExchangeRecord) and odd.txid is None  # the hash is dropped, not kept
    bad = transfer_record({**base, "amount": "0"}, RecordKind.DEPOSIT, NOW_MS)
    assert isinstance(bad, str) and "positive" in bad
    assert transfer_record([1], RecordKind.DEPOSIT, NOW_MS) == "a deposit that is not an object"


def test_a_crypto_quoted_trade_without_a_price_invents_nothing() -> None:
    rec = trade_record(trade(), NOW_MS)
    assert isinstance(rec, ExchangeRecord)
    plan = plan_entries("main", "Binance (main)", "Binance (main)", [rec],
                        lambda _a, _t: None, NOW_MS // 1000)  # fmt: skip
    kinds = sorted((t.kind.value, t.asset, t.amount, t.price) for t in plan.transactions)
    btc = asset_for("main", "BTC")
    assert kinds == [
        ("deposit", ETH, Decimal(2), None),  # basis unknown
        ("fee", "eip155:56/slip44:714", Decimal("0.001"), None),  # BNB: a fee entry of its own
        ("withdrawal", btc, Decimal("0.1"), None),  # leaves at its basis: no gain
    ]
    assert plan.unpriced == 1
    fps = {t.fingerprint for t in plan.transactions}
    assert fps == {"exchange:main:trade:42", "exchange:main:trade-quote:42",
                   "exchange:main:trade-fee:42:BNB"}  # fmt: skip


def test_an_unknown_coin_is_the_accounts_own_asset() -> None:
    assert asset_for("main", "PEPE2") == "cex:main/coin:PEPE2"
    assert asset_for("main", "EUR") == "fiat:EUR"


def _withdrawal(amount: str = "1", fee: str = "0.01", txid: str | None = None) -> ExchangeRecord:
    return ExchangeRecord(RecordKind.WITHDRAWAL, "w1", TS, "ETH", Decimal(amount),
                          fees=(("ETH", Decimal(fee)),) if fee != "0" else (), txid=txid)  # fmt: skip


def _entry(ts: int, amount: str = "1", kind: TxKind = TxKind.DEPOSIT, txid: str | None = None,
           row: int = 1) -> ChainEntry:  # fmt: skip
    return ChainEntry(row, f"onchain:eip155:1:{txid or '0xfeed'}:in:abc", "Wallet A", kind, ETH,
                      Decimal(amount), ts, txid)  # fmt: skip


@pytest.mark.parametrize(
    ("offset", "matches"),
    [(-MATCH_BEFORE - 1, False), (-MATCH_BEFORE, True), (MATCH_AFTER, True),
     (MATCH_AFTER + 1, False)],
)  # fmt: skip
def test_the_time_window_of_a_withdrawal(offset: int, matches: bool) -> None:
    got = match_transfers("main", "X", "X", [_withdrawal()], [_entry(TS // 1000 + offset)], 2**40)
    assert bool(got) is matches


@pytest.mark.parametrize(
    ("received", "matches"),
    [("1", True), ("0.99", True), ("0.989", False), ("1.011", False)],
)
def test_amounts_agree_within_the_fee(received: str, matches: bool) -> None:
    got = match_transfers("main", "X", "X", [_withdrawal()], [_entry(TS // 1000, received)], 2**40)
    assert bool(got) is matches
    if got:
        t = got[0].transfer
        assert (t.kind, t.account, t.to_account) == (TxKind.TRANSFER, "X", "Wallet A")
        assert t.amount + t.fee == Decimal("1.01")  # what left the exchange, exactly
        assert t.fingerprint == got[0].entry.fingerprint


def test_hashes_decide_and_deposits_mirror_the_window() -> None:
    w = _withdrawal(txid="0x" + "b" * 64)
    near = _entry(TS // 1000 + 10, txid="0x" + "c" * 64, row=1)
    far = _entry(TS // 1000 + 3000, txid="0x" + "B" * 64, row=2)
    (m,) = match_transfers("main", "X", "X", [w], [near, far], 2**40)
    assert m.entry.row == 2  # the same hash, not the nearer one
    dep = ExchangeRecord(RecordKind.DEPOSIT, "d1", TS, "ETH", Decimal(1))
    sent_before = _entry(TS // 1000 - MATCH_AFTER, kind=TxKind.WITHDRAWAL)
    sent_after = _entry(TS // 1000 + MATCH_BEFORE + 1, kind=TxKind.WITHDRAWAL)
    (d,) = match_transfers("main", "X", "X", [dep], [sent_before], 2**40)
    assert (d.transfer.account, d.transfer.to_account) == ("Wallet A", "X")
    assert match_transfers("main", "X", "X", [dep], [sent_after], 2**40) == []
    assert txid_of("onchain:eip155:1:0xabc:in:123456789abc") == "0xabc"


def test_fingerprints_fit_the_ledger_column() -> None:
    from app.domain.exchange_history import fingerprint

    assert fingerprint("main", "trade", "BTCUSDT-42") == "exchange:main:trade:BTCUSDT-42"
    long = fingerprint("binance-savings-account-2024", "trade-quote", "X" * 160)
    assert len(long) <= 80 and long.startswith(
        "exchange:binance-savings-account-2024:trade-quote:#"
    )
    assert long == fingerprint("binance-savings-account-2024", "trade-quote", "X" * 160)
    assert long != fingerprint("binance-savings-account-2024", "trade-quote", "Y" * 160)
