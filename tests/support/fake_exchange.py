"""A local fake of six exchanges' REST APIs (the endpoints Chainfolio uses), on 127.0.0.1.

Each exchange answers in its own real format (taken from the exchanges' API documentation and
ccxt's own examples): Binance spot account, funding wallet and API-key restrictions; Kraken
BalanceEx; Coinbase v2 accounts and v3 key permissions; OKX trading and funding balances and
account config; Bybit unified and funding balances and API-key info; Bitstamp account balances.
The paths do not overlap, so one server plays every exchange; ccxt is pointed at it by replacing
its API hosts. ``requests`` records (method, path, headers, body) for checks, ``mode`` switches a
fault on (``"429"``, ``"401"``, ``"500"``, ``"garbage"``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.fake_exchange_history import FakeTrade, FakeTransfer, history_reply


@dataclass
class ExchangeWorld:
    # code -> (free, locked) as the exchange's decimal text
    spot: dict[str, tuple[str, str]] = field(default_factory=dict)
    funding: dict[str, str] = field(default_factory=dict)
    can_trade: bool = False
    can_withdraw: bool = False
    mode: str | None = None
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    # history (tests/support/fake_exchange_history.py)
    trades: list[FakeTrade] = field(default_factory=list)
    deposits: list[FakeTransfer] = field(default_factory=list)
    withdrawals: list[FakeTransfer] = field(default_factory=list)
    markets: list[tuple[str, str]] = field(default_factory=list)  # more (base, quote) pairs
    page: int = 2  # records per page: small, so paging is exercised
    status_since: int = 0  # Kraken's status lists show deposits/withdrawals from this ms on
    # after this many history requests every further one fails with ``mode`` (e.g. "429")
    fail_after: int | None = None
    history_requests: int = 0


def _reply(world: ExchangeWorld, path: str) -> tuple[int, Any]:
    spot, fund = world.spot, world.funding
    if path == "/api/v3/account":  # Binance spot
        return 200, {
            "makerCommission": 10,
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "accountType": "SPOT",
            "updateTime": 1700000000000,
            "balances": [{"asset": c, "free": f, "locked": lk} for c, (f, lk) in spot.items()],
            "permissions": ["SPOT"],
        }
    if path == "/sapi/v1/asset/get-funding-asset":  # Binance funding wallet
        return 200, [
            {"asset": c, "free": a, "locked": "0", "freeze": "0", "withdrawing": "0",
             "btcValuation": "0"}
            for c, a in fund.items()
        ]  # fmt: skip
    if path == "/sapi/v1/account/apiRestrictions":
        return 200, {
            "ipRestrict": False,
            "createTime": 1700000000000,
            "enableReading": True,
            "enableWithdrawals": world.can_withdraw,
            "enableInternalTransfer": False,
            "permitsUniversalTransfer": False,
            "enableVanillaOptions": False,
            "enableFutures": False,
            "enableMargin": False,
            "enableSpotAndMarginTrading": world.can_trade,
        }
    if path == "/0/private/BalanceEx":  # Kraken (its own codes: XXBT, ZEUR …)
        kraken = {"BTC": "XXBT", "ETH": "XETH", "EUR": "ZEUR", "USD": "ZUSD"}
        return 200, {
            "error": [],
            "result": {
                kraken.get(c, c): {"balance": _add(f, lk), "hold_trade": lk}
                for c, (f, lk) in spot.items()
            },
        }
    if path.startswith("/v2/accounts"):  # Coinbase
        return 200, {
            "pagination": {"next_uri": None, "next_starting_after": None, "limit": 250},
            "data": [
                {
                    "id": f"acct-{c.lower()}",
                    "name": f"{c} Wallet",
                    "primary": True,
                    "type": "wallet",
                    "currency": {"code": c, "name": c, "type": "crypto"},
                    "balance": {"amount": _add(f, lk), "currency": c},
                    "created_at": "2024-01-01T00:00:00Z",
                    "updated_at": "2024-01-01T00:00:00Z",
                    "resource": "account",
                    "resource_path": f"/v2/accounts/acct-{c.lower()}",
                }
                for c, (f, lk) in spot.items()
            ],
        }
    if path == "/api/v3/brokerage/key_permissions":
        return 200, {
            "can_view": True,
            "can_trade": world.can_trade,
            "can_transfer": world.can_withdraw,
            "portfolio_uuid": "p-1",
            "portfolio_type": "DEFAULT",
        }
    if path.startswith("/api/v5/account/balance"):  # OKX trading account
        details = [
            {"ccy": c, "eq": _add(f, lk), "cashBal": _add(f, lk), "availBal": f, "frozenBal": lk,
             "uTime": "1700000000000"}
            for c, (f, lk) in spot.items()
        ]  # fmt: skip
        return 200, {
            "code": "0",
            "msg": "",
            "data": [{"uTime": "1700000000000", "details": details}],
        }
    if path.startswith("/api/v5/asset/balances"):  # OKX funding account
        return 200, {
            "code": "0",
            "msg": "",
            "data": [
                {"ccy": c, "bal": a, "availBal": a, "frozenBal": "0"} for c, a in fund.items()
            ],
        }
    if path.startswith("/api/v5/account/config"):
        perm = ",".join(
            ["read_only"] + (["trade"] if world.can_trade else [])
            + (["withdraw"] if world.can_withdraw else [])
        )  # fmt: skip
        return 200, {"code": "0", "msg": "", "data": [{"uid": "1", "perm": perm}]}
    if path.startswith("/v5/account/wallet-balance"):  # Bybit unified account
        coins = [
            {"coin": c, "walletBalance": _add(f, lk), "locked": lk, "equity": _add(f, lk)}
            for c, (f, lk) in spot.items()
        ]
        return 200, {
            "retCode": 0,
            "retMsg": "OK",
            "result": {"list": [{"accountType": "UNIFIED", "coin": coins}]},
            "time": 1700000000000,
        }
    if path.startswith("/v5/asset/transfer/query-account-coins-balance"):  # Bybit funding
        return 200, {
            "retCode": 0,
            "retMsg": "success",
            "result": {
                "accountType": "FUND",
                "balance": [
                    {"coin": c, "walletBalance": a, "transferBalance": a} for c, a in fund.items()
                ],
            },
            "time": 1700000000000,
        }
    if path.startswith("/v5/user/query-api"):
        rights: dict[str, list[str]] = {"Wallet": [], "Spot": [], "Withdraw": []}
        if world.can_trade:
            rights["Spot"] = ["SpotTrade"]
        if world.can_withdraw:
            rights["Withdraw"] = ["Withdraw"]
        read_only = not (world.can_trade or world.can_withdraw)
        return 200, {
            "retCode": 0,
            "retMsg": "",
            "result": {"id": "1", "readOnly": 1 if read_only else 0, "permissions": rights},
        }
    if path == "/api/v2/account_balances/":  # Bitstamp
        return 200, [
            {"currency": c.lower(), "total": _add(f, lk), "available": f, "reserved": lk}
            for c, (f, lk) in spot.items()
        ]
    return 404, {"error": f"no such endpoint {path}"}


def _add(a: str, b: str) -> str:
    from decimal import Decimal

    return format(Decimal(a) + Decimal(b), "f")


@contextmanager
def running(world: ExchangeWorld) -> Iterator[str]:
    """Serve ``world``; yields the base URL to give as the accounts' API URL."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            path = parts.path
            world.requests.append((self.command, self.path, dict(self.headers), body))
            query = dict(parse_qsl(parts.query))
            if body and b"=" in body and not body.startswith(b"{"):
                query.update(parse_qsl(body.decode(errors="replace")))
            history = history_reply(world, path, query)
            if history is not None and world.mode != "garbage":
                world.history_requests += 1
                if world.mode is None or (
                    world.fail_after is not None and world.history_requests <= world.fail_after
                ):
                    self._send(history[0], json.dumps(history[1]).encode())
                    return
            if world.mode == "429":  # each exchange's own "too many requests" reply
                if path.startswith("/api/v5/"):
                    self._send(429, b'{"msg":"Too Many Requests","code":"50011"}')
                elif path.startswith("/v5/"):
                    self._send(200, b'{"retCode":10006,"retMsg":"Too many visits!","result":{}}')
                elif path.startswith("/0/"):
                    self._send(200, b'{"error":["EAPI:Rate limit exceeded"]}')
                else:
                    self._send(429, b'{"code":-1003,"msg":"Too many requests."}')
                return
            if world.mode == "401":  # each exchange's own "bad key" reply
                if path.startswith("/api/v5/"):
                    self._send(401, b'{"msg":"Invalid OK-ACCESS-KEY","code":"50111"}')
                elif path.startswith("/v5/"):
                    self._send(401, b'{"retCode":10003,"retMsg":"API key is invalid."}')
                elif path.startswith("/0/private/"):
                    self._send(200, b'{"error":["EAPI:Invalid key"]}')
                else:
                    self._send(401, b'{"code":-2015,"msg":"Invalid API-key, IP, or permissions."}')
                return
            if world.mode == "500":
                self._send(500, b"<html>Internal Server Error</html>")
                return
            if world.mode == "garbage":
                self._send(200, b'{"balances": "not a list", "result": 7, "data": "x"}')
                return
            status, payload = _reply(world, path)
            self._send(status, json.dumps(payload).encode())

        def _send(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _handle

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
