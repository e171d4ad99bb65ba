"""The history endpoints of the fake exchanges (:mod:`tests.support.fake_exchange`), each in the
exchange's own format (from the exchanges' API documentation and the examples in ccxt's
``parse_trade``/``parse_transaction``): trades, deposits, withdrawals and the market lists
needed to name pairs. Lists honour the exchange's own time filters and paging (offset, id,
cursor, backward by time), with ``world.page`` records per page, so paging is exercised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.fake_exchange import ExchangeWorld


@dataclass
class FakeTrade:
    id: int
    ts: int  # ms
    base: str
    quote: str
    side: str  # buy / sell
    amount: str
    price: str
    fee: str = "0"
    fee_code: str = ""

    @property
    def cost(self) -> str:
        return format(Decimal(self.amount) * Decimal(self.price), "f")


@dataclass
class FakeTransfer:
    id: str
    ts: int  # ms
    code: str
    amount: str
    fee: str = "0"
    txid: str = ""
    address: str = "0x00000000000000000000000000000000000000aa"
    status: str = "ok"  # ok / pending


KRAKEN = {"BTC": "XXBT", "ETH": "XETH", "USD": "ZUSD", "EUR": "ZEUR"}


def _iso(ms: int, fmt: str = "%Y-%m-%dT%H:%M:%S.%fZ") -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime(fmt)


def _int(q: dict[str, str], key: str, default: int) -> int:
    try:
        return int(float(q[key]))
    except (KeyError, ValueError):
        return default


def _pairs(w: ExchangeWorld) -> list[tuple[str, str]]:
    pairs = {(t.base, t.quote) for t in w.trades} | set(w.markets)
    return sorted(pairs)


def _page(items: list[Any], w: ExchangeWorld, q: dict[str, str], key: str = "limit") -> list[Any]:
    return items[: min(_int(q, key, w.page), w.page)]


def history_reply(w: ExchangeWorld, path: str, q: dict[str, str]) -> tuple[int, Any] | None:
    trades, deps, wds = w.trades, w.deposits, w.withdrawals
    # ---- Binance ------------------------------------------------------------------------------
    if path == "/api/v3/exchangeInfo":
        return 200, {
            "timezone": "UTC", "serverTime": 1700000000000, "rateLimits": [],
            "exchangeFilters": [],
            "symbols": [
                {"symbol": b + qt, "status": "TRADING", "baseAsset": b, "baseAssetPrecision": 8,
                 "quoteAsset": qt, "quotePrecision": 8, "quoteAssetPrecision": 8,
                 "orderTypes": ["LIMIT", "MARKET"], "icebergAllowed": True, "ocoAllowed": True,
                 "isSpotTradingAllowed": True, "isMarginTradingAllowed": False, "filters": [],
                 "permissions": [], "permissionSets": [["SPOT"]]}
                for b, qt in _pairs(w)
            ],
        }  # fmt: skip
    if path == "/api/v3/myTrades":
        sym = q.get("symbol", "")
        start = _int(q, "fromId", 0)
        mine = sorted((t for t in trades if t.base + t.quote == sym and t.id >= start),
                      key=lambda t: t.id)  # fmt: skip
        return 200, [
            {"symbol": sym, "id": t.id, "orderId": 1000 + t.id, "orderListId": -1,
             "price": t.price, "qty": t.amount, "quoteQty": t.cost,
             "commission": t.fee, "commissionAsset": t.fee_code or t.quote, "time": t.ts,
             "isBuyer": t.side == "buy", "isMaker": False, "isBestMatch": True}
            for t in _page(mine, w, q)
        ]  # fmt: skip
    if path in ("/sapi/v1/capital/deposit/hisrec", "/sapi/v1/capital/withdraw/history"):
        dep = "deposit" in path
        lo, hi = _int(q, "startTime", 0), _int(q, "endTime", 1 << 62)
        rows = sorted((d for d in (deps if dep else wds) if lo <= d.ts <= hi),
                      key=lambda d: -d.ts)[_int(q, "offset", 0):]  # fmt: skip
        out = []
        for d in _page(rows, w, q):
            if dep:
                out.append({"id": d.id, "amount": d.amount, "coin": d.code, "network": "ETH",
                            "status": 1 if d.status == "ok" else 0, "address": d.address,
                            "addressTag": "", "txId": d.txid, "insertTime": d.ts,
                            "transferType": 0, "confirmTimes": "12/12", "unlockConfirm": 0,
                            "walletType": 0})  # fmt: skip
            else:
                out.append({"id": d.id, "amount": d.amount, "transactionFee": d.fee,
                            "coin": d.code, "status": 6 if d.status == "ok" else 4,
                            "address": d.address, "txId": d.txid,
                            "applyTime": _iso(d.ts, "%Y-%m-%d %H:%M:%S"), "network": "ETH",
                            "transferType": 0, "confirmNo": 3, "walletType": 0, "txKey": "",
                            "completeTime": _iso(d.ts, "%Y-%m-%d %H:%M:%S")})  # fmt: skip
        return 200, out
    # ---- Kraken -------------------------------------------------------------------------------
    if path == "/0/public/AssetPairs":
        result = {}
        for b, qt in _pairs(w):
            kb, kq = KRAKEN.get(b, b), KRAKEN.get(qt, qt)
            result[kb + kq] = {
                "altname": b.replace("BTC", "XBT") + qt, "wsname": f"{b}/{qt}",
                "aclass_base": "currency", "base": kb, "aclass_quote": "currency", "quote": kq,
                "lot": "unit", "cost_decimals": 5, "pair_decimals": 2, "lot_decimals": 8,
                "lot_multiplier": 1, "leverage_buy": [], "leverage_sell": [],
                "fees": [[0, 0.26]], "fees_maker": [[0, 0.16]], "fee_volume_currency": "ZUSD",
                "margin_call": 80, "margin_stop": 40, "ordermin": "0.0001", "costmin": "0.5",
                "tick_size": "0.01", "status": "online",
            }  # fmt: skip
        return 200, {"error": [], "result": result}
    if path == "/0/public/Assets":
        codes = {c for p in _pairs(w) for c in p} | {d.code for d in (*deps, *wds)}
        return 200, {"error": [], "result": {
            KRAKEN.get(c, c): {"aclass": "currency", "altname": c.replace("BTC", "XBT"),
                               "decimals": 10, "display_decimals": 5, "status": "enabled"}
            for c in sorted(codes)}}  # fmt: skip
    if path == "/0/private/TradesHistory":
        start = _int(q, "start", 0)
        rows = sorted((t for t in trades if t.ts / 1000 > start), key=lambda t: -t.ts)
        page = rows[_int(q, "ofs", 0) :][: w.page]
        return 200, {"error": [], "result": {"count": len(rows), "trades": {
            f"T{t.id:05d}-AAAAA-BBBBBB": {
                "ordertxid": f"O{t.id:05d}-CCCCC-DDDDDD", "postxid": "TKH2SE-M7IF5-CFI7LT",
                "pair": KRAKEN.get(t.base, t.base) + KRAKEN.get(t.quote, t.quote),
                "time": t.ts / 1000, "type": t.side, "ordertype": "limit", "price": t.price,
                "cost": t.cost, "fee": t.fee, "vol": t.amount, "margin": "0.00000",
                "misc": "", "trade_id": t.id, "maker": False,
            } for t in page}}}  # fmt: skip
    if path in ("/0/private/DepositStatus", "/0/private/WithdrawStatus"):
        start = float(q.get("start", "0"))
        rows = [d for d in (deps if "Deposit" in path else wds)
                if d.ts / 1000 > start and d.ts >= w.status_since]  # fmt: skip
        return 200, {"error": [], "result": [
            {"method": "Ether", "aclass": "currency", "asset": KRAKEN.get(d.code, d.code),
             "refid": d.id, "txid": d.txid, "info": d.address, "amount": d.amount,
             "fee": d.fee, "time": d.ts // 1000,
             "status": "Success" if d.status == "ok" else "Pending"}
            for d in sorted(rows, key=lambda d: -d.ts)]}  # fmt: skip
    if path == "/0/private/Ledgers":
        start, kind = _int(q, "start", 0), q.get("type", "all")
        rows = [("deposit", d) for d in deps] + [("withdrawal", d) for d in wds]
        rows = sorted(((k, d) for k, d in rows if d.status == "ok" and d.ts / 1000 > start
                       and kind in ("all", k)), key=lambda x: -x[1].ts)  # fmt: skip
        page = rows[_int(q, "ofs", 0) :][: w.page]
        return 200, {"error": [], "result": {"count": len(rows), "ledger": {
            f"L{d.id}-XXXXX-YYYYYY": {
                "refid": d.id, "time": d.ts / 1000, "type": k, "subtype": "", "aclass": "currency",
                "asset": KRAKEN.get(d.code, d.code),
                "amount": d.amount if k == "deposit" else "-" + d.amount, "fee": d.fee,
                "balance": "0"}
            for k, d in page}}}  # fmt: skip
    # ---- Coinbase -----------------------------------------------------------------------------
    if path == "/api/v3/brokerage/orders/historical/fills":
        since = q.get("start_sequence_timestamp")
        lo = (
            int(datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp() * 1000)
            if since
            else 0
        )
        rows = sorted((t for t in trades if t.ts >= lo), key=lambda t: -t.ts)
        skip = _int(q, "cursor", 0)
        page = rows[skip:][: min(_int(q, "limit", w.page), w.page)]
        more = skip + len(page) < len(rows)
        return 200, {"fills": [
            {"entry_id": f"e{t.id}", "trade_id": f"t-{t.id}", "order_id": f"o-{t.id}",
             "trade_time": _iso(t.ts), "trade_type": "FILL", "price": t.price,
             "size": t.amount, "commission": t.fee, "product_id": f"{t.base}-{t.quote}",
             "sequence_timestamp": _iso(t.ts), "liquidity_indicator": "TAKER",
             "size_in_quote": False, "user_id": "u-1", "side": t.side.upper(),
             "retail_portfolio_id": "p-1"}
            for t in page], "cursor": str(skip + len(page)) if more else ""}  # fmt: skip
    if path.startswith("/v2/accounts/") and path.endswith("/transactions"):
        code = path.split("/")[3].removeprefix("acct-").upper()
        rows = sorted((("deposit", d) for d in deps if d.code == code), key=lambda x: x[1].ts)
        rows = sorted(rows + [("withdrawal", d) for d in wds if d.code == code],
                      key=lambda x: x[1].ts)  # fmt: skip
        after = q.get("starting_after")
        if after:
            ids = [d.id for _, d in rows]
            rows = rows[ids.index(after) + 1 :] if after in ids else rows
        page = rows[: min(_int(q, "limit", w.page), w.page)]
        return 200, {"pagination": {"ending_before": None, "starting_after": after,
                                    "limit": w.page, "order": "asc",
                                    "next_starting_after": page[-1][1].id if page else None},
                     "data": [_coinbase_tx(kind, d) for kind, d in page]}  # fmt: skip
    if path == "/api/v3/brokerage/accounts":
        codes = sorted({d.code for d in (*deps, *wds)} | set(w.spot))
        return 200, {"accounts": [
            {"uuid": f"acct-{c.lower()}", "name": f"{c} Wallet", "currency": c,
             "available_balance": {"value": "0", "currency": c}, "default": True,
             "active": True, "created_at": "2024-01-01T00:00:00Z",
             "updated_at": "2024-01-01T00:00:00Z", "deleted_at": None,
             "type": "ACCOUNT_TYPE_CRYPTO", "ready": True,
             "hold": {"value": "0", "currency": c}, "retail_portfolio_id": "p-1"}
            for c in codes], "has_next": False, "cursor": "", "size": len(codes)}  # fmt: skip
    # ---- OKX ----------------------------------------------------------------------------------
    if path == "/api/v5/trade/fills-history":
        begin = _int(q, "begin", 0)
        after = _int(q, "after", 1 << 62)  # billId: older than
        rows = sorted((t for t in trades if t.ts >= begin and 1000 + t.id < after),
                      key=lambda t: -t.id)  # fmt: skip
        return 200, {"code": "0", "msg": "", "data": [
            {"instType": "SPOT", "instId": f"{t.base}-{t.quote}", "tradeId": str(t.id),
             "ordId": str(5000 + t.id), "clOrdId": "", "billId": str(1000 + t.id), "tag": "",
             "fillPx": t.price, "fillSz": t.amount, "side": t.side, "posSide": "net",
             "execType": "T", "feeCcy": t.fee_code or t.quote,
             "fee": "-" + t.fee if t.fee != "0" else "0", "ts": str(t.ts),
             "fillTime": str(t.ts)}
            for t in _page(rows, w, q)]}  # fmt: skip
    if path in ("/api/v5/asset/deposit-history", "/api/v5/asset/withdrawal-history"):
        dep = "deposit" in path
        before, after = _int(q, "before", -1), _int(q, "after", 1 << 62)
        rows = sorted((d for d in (deps if dep else wds) if before < d.ts < after),
                      key=lambda d: -d.ts)  # fmt: skip
        out = []
        for d in _page(rows, w, q):
            row = {
                "ccy": d.code,
                "chain": f"{d.code}-ERC20",
                "amt": d.amount,
                "txId": d.txid,
                "state": "2" if d.status == "ok" else "0",
                "ts": str(d.ts),
                "to": d.address,
            }
            if dep:
                row |= {
                    "depId": d.id,
                    "actualDepBlkConfirm": "12",
                    "from": "",
                    "areaCodeFrom": "",
                    "fromWdId": "",
                }
            else:
                row |= {
                    "wdId": d.id,
                    "fee": d.fee,
                    "feeCcy": d.code,
                    "clientId": "",
                    "from": "",
                    "areaCodeFrom": "",
                    "areaCodeTo": "",
                    "nonTradableAsset": False,
                }
            out.append(row)
        return 200, {"code": "0", "msg": "", "data": out}
    # ---- Bybit --------------------------------------------------------------------------------
    if path == "/v5/market/instruments-info":
        return 200, {"retCode": 0, "retMsg": "OK", "result": {"category": "spot", "list": [
            {"symbol": b + qt, "baseCoin": b, "quoteCoin": qt, "innovation": "0",
             "status": "Trading", "marginTrading": "none",
             "lotSizeFilter": {"basePrecision": "0.000001", "quotePrecision": "0.00000001",
                               "minOrderQty": "0.000048", "maxOrderQty": "71.73",
                               "minOrderAmt": "1", "maxOrderAmt": "2000000"},
             "priceFilter": {"tickSize": "0.01"}}
            for b, qt in _pairs(w)], "nextPageCursor": ""}, "time": 1700000000000}  # fmt: skip
    if path in ("/v5/execution/list", "/v5/asset/deposit/query-record",
                "/v5/asset/withdraw/query-record"):  # fmt: skip
        lo, hi = _int(q, "startTime", 0), _int(q, "endTime", 1 << 62)
        src: list[Any] = trades if "execution" in path else deps if "deposit" in path else wds
        rows = sorted((r for r in src if lo <= r.ts <= hi), key=lambda r: -r.ts)
        skip = _int(q, "cursor", 0)
        page = rows[skip:][: min(_int(q, "limit", w.page), w.page)]
        token = str(skip + len(page)) if skip + len(page) < len(rows) else ""
        if "execution" in path:
            items = [{"symbol": t.base + t.quote, "orderType": "Limit", "side": t.side.title(),
                      "orderId": f"o{t.id}", "orderLinkId": "", "execTime": str(t.ts),
                      "feeCurrency": t.fee_code or t.quote, "isMaker": False,
                      "execFee": t.fee, "feeRate": "0.001", "execId": f"x-{t.id}",
                      "execPrice": t.price, "execValue": t.cost, "execType": "Trade",
                      "execQty": t.amount, "orderQty": t.amount, "orderPrice": t.price,
                      "leavesQty": "0", "closedSize": "", "markPrice": "", "indexPrice": "",
                      "underlyingPrice": "", "stopOrderType": "", "tradeIv": "", "markIv": "",
                      "blockTradeId": ""} for t in page]  # fmt: skip
            return 200, {
                "retCode": 0,
                "retMsg": "OK",
                "result": {"nextPageCursor": token, "category": "spot", "list": items},
                "time": 1,
            }
        if "deposit" in path:
            rows_ = [{"id": d.id, "coin": d.code, "chain": "ETH", "amount": d.amount,
                      "txID": d.txid, "status": 3 if d.status == "ok" else 1,
                      "toAddress": d.address, "tag": "", "depositFee": "",
                      "successAt": str(d.ts), "confirmations": "64", "txIndex": "0",
                      "blockHash": "", "batchReleaseLimit": "-1", "depositType": "0"}
                     for d in page]  # fmt: skip
        else:
            rows_ = [{"withdrawId": d.id, "coin": d.code, "chain": "ETH", "amount": d.amount,
                      "txID": d.txid, "status": "success" if d.status == "ok" else "Pending",
                      "toAddress": d.address, "tag": "", "withdrawFee": d.fee,
                      "createTime": str(d.ts), "updateTime": str(d.ts), "withdrawType": 0}
                     for d in page]  # fmt: skip
        return 200, {
            "retCode": 0,
            "retMsg": "success",
            "result": {"rows": rows_, "nextPageCursor": token},
            "time": 1,
        }
    # ---- Bitstamp -----------------------------------------------------------------------------
    if path == "/api/v2/markets/":
        return 200, [
            {"name": f"{b}/{qt}", "market_symbol": (b + qt).lower(), "base_currency": b,
             "base_decimals": 8, "counter_currency": qt, "counter_decimals": 2,
             "minimum_order_value": "10", "trading": "Enabled",
             "instant_order_counter_decimals": 2, "instant_and_market_orders": "Enabled",
             "description": f"{b} / {qt}", "market_type": "SPOT"}
            for b, qt in _pairs(w)
        ]  # fmt: skip
    if path == "/api/v2/user_transactions/":
        since = _int(q, "since_id", 0)
        rows: list[dict[str, Any]] = []
        for t in trades:
            b, qt = t.base.lower(), t.quote.lower()
            sign = Decimal(1) if t.side == "buy" else Decimal(-1)
            rows.append({"id": t.id, "datetime": _iso(t.ts, "%Y-%m-%d %H:%M:%S.%f"),
                         "type": "2", "fee": t.fee, b: format(sign * Decimal(t.amount), "f"),
                         qt: format(-sign * Decimal(t.cost), "f"), f"{b}_{qt}": t.price,
                         "order_id": 9000 + t.id})  # fmt: skip
        for d in deps:
            if d.status == "ok":
                rows.append(
                    {
                        "id": int(d.id),
                        "datetime": _iso(d.ts, "%Y-%m-%d %H:%M:%S.%f"),
                        "type": "0",
                        "fee": d.fee,
                        d.code.lower(): d.amount,
                    }
                )
        rows = sorted((r for r in rows if r["id"] >= since), key=lambda r: r["id"])
        return 200, rows[: min(_int(q, "limit", w.page), w.page)]
    if path == "/api/v2/withdrawal-requests/":
        return 200, [
            {"id": int(d.id), "datetime": _iso(d.ts, "%Y-%m-%d %H:%M:%S"), "type": 1,
             "currency": d.code, "network": "ethereum", "amount": d.amount,
             "status": 2 if d.status == "ok" else 1, "address": d.address,
             "transaction_id": d.txid, "txid": d.txid}
            for d in wds
        ]  # fmt: skip
    return None


def _coinbase_tx(kind: str, d: FakeTransfer) -> dict[str, Any]:
    sign = "" if kind == "deposit" else "-"
    return {
        "id": d.id, "type": "send", "status": "completed" if d.status == "ok" else "pending",
        "amount": {"amount": sign + d.amount, "currency": d.code},
        "native_amount": {"amount": sign + d.amount, "currency": "USD"},
        "description": None, "created_at": _iso(d.ts, "%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": _iso(d.ts, "%Y-%m-%dT%H:%M:%SZ"), "resource": "transaction",
        "resource_path": f"/v2/accounts/acct-{d.code.lower()}/transactions/{d.id}",
        "instant_exchange": False,
        "network": {"status": "confirmed", "hash": d.txid, "name": "ethereum",
                    "transaction_fee": {"amount": d.fee, "currency": d.code}},
        "to" if kind == "withdrawal" else "from": {"resource": "ethereum_address",
                                                   "address": d.address},
        "details": {"title": "Sent" if kind == "withdrawal" else "Received"},
    }  # fmt: skip
