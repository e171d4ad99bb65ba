"""Exchange accounts through real ccxt against a local fake of each exchange's REST API.

The service is real, ccxt is real (pointed at the fake by replacing its API hosts), the secret
store is an in-memory fake of the port (the keyring itself is covered by
tests/integration/keyring/test_exchanges_cli.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from app.domain.balances import SourceState
from app.domain.exchanges import EXCHANGES, Credentials, ExchangeAccount, ExchangeError
from app.exchanges.ccxt_client import ExchangeClient
from app.services.exchanges import ExchangeService, secret_name
from tests.support.fake_exchange import ExchangeWorld, running
from tests.support.fakes import MemorySecrets

pytestmark = pytest.mark.integration

KEY = Credentials("key-LEAKTEST-7f3a", "secretLEAKTEST9q8Zr2Xw5Yv7Ut3Ss1", "pass-LEAKTEST")
ALL = sorted(EXCHANGES)


class MemoryAccounts:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[ExchangeAccount, str | None]] = {}

    def accounts(self) -> list[tuple[ExchangeAccount, str | None]]:
        return [self.rows[k] for k in sorted(self.rows)]

    def add(self, account: ExchangeAccount, api_url: str | None) -> None:
        self.rows[account.name] = (account, api_url)

    def remove(self, name: str) -> bool:
        return self.rows.pop(name, None) is not None


@pytest.fixture
def world() -> Iterator[tuple[ExchangeWorld, str]]:
    w = ExchangeWorld(
        spot={
            "BTC": ("0.5", "0.12345678"),
            "ETH": ("1.234567890123456789", "0"),
            "USDT": ("100", "0"),
        },
        funding={"USDT": "25.5"},
    )
    with running(w) as url:
        yield w, url


def _service(timeout: float = 10.0) -> tuple[ExchangeService, MemorySecrets, MemoryAccounts]:
    secrets, store = MemorySecrets(), MemoryAccounts()
    service = ExchangeService(
        store,
        secrets,
        lambda exchange, creds, url: ExchangeClient(exchange, creds, api_url=url, timeout=5),
        clock=lambda: 1_700_000_000,
        timeout=timeout,
    )
    return service, secrets, store


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.mark.parametrize("exchange", ALL)
def test_balances_are_exact_and_include_sub_accounts(exchange: str, world: Any) -> None:
    w, url = world
    service, secrets, _ = _service()
    account, _, warning = _run(service.add("main", exchange, KEY, url))
    assert account.name == "main" and secrets.get(secret_name("main", "key")) == KEY.api_key
    assert (warning is None) == (exchange in {"binance", "coinbase", "okx", "bybit"})
    result = _run(service.read(account, url))
    assert result.state is SourceState.OK
    got = {b.asset.symbol: b.amount for b in result.balances}
    funding = Decimal("25.5") if exchange in {"binance", "okx", "bybit"} else 0
    assert got == {
        "BTC": Decimal("0.62345678"),
        "ETH": Decimal("1.234567890123456789"),
        "USDT": Decimal(100) + funding,
    }
    btc = next(b for b in result.balances if b.asset.symbol == "BTC")
    assert str(btc.wallet) == f"cex:main:{exchange}"
    assert str(btc.asset.asset_id) == "cex:main/coin:BTC"
    assert btc.asset.price_id == "coingecko:bitcoin"
    # every private request was signed, and the secret itself never crossed the wire
    for _, path, headers, body in w.requests:
        assert KEY.secret not in path and KEY.secret.encode() not in body
        assert KEY.secret not in str(headers)


@pytest.mark.parametrize("exchange", ["binance", "coinbase", "okx", "bybit"])
@pytest.mark.parametrize("right", ["trade", "withdraw"])
def test_a_key_that_may_trade_or_withdraw_is_refused(exchange: str, right: str, world: Any) -> None:
    w, url = world
    w.can_trade, w.can_withdraw = right == "trade", right == "withdraw"
    service, secrets, store = _service()
    with pytest.raises(ExchangeError, match="read-only key") as err:
        _run(service.add("main", exchange, KEY, url))
    assert "withdraw" in str(err.value) or "trade" in str(err.value)
    assert secrets.values == {} and store.rows == {}  # nothing kept
    assert not any("account" in p and "balance" in p for _, p, _, _ in w.requests)


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("429", "slow down"),
        ("401", "refused the API key"),
        ("500", "not available|answered with an error"),
        ("garbage", "does not understand|answered with an error"),
    ],
)
def test_exchange_faults_fail_the_source_with_a_sentence(mode: str, words: str, world: Any) -> None:
    w, url = world
    service, _, _ = _service()
    account, _, _ = _run(service.add("main", "binance", KEY, url))
    w.mode = mode
    result = _run(service.read(account, url))
    assert result.state is SourceState.FAILED
    assert result.error is not None
    import re

    assert re.search(words, result.error), result.error
    assert KEY.secret not in result.error and KEY.api_key not in result.error


def test_adding_with_a_bad_key_keeps_nothing(world: Any) -> None:
    w, url = world
    w.mode = "401"
    service, secrets, store = _service()
    with pytest.raises(ExchangeError, match="refused the API key"):
        _run(service.add("main", "okx", KEY, url))
    assert secrets.values == {} and store.rows == {}


def test_bad_input_is_refused_before_any_request(world: Any) -> None:
    w, url = world
    service, _, _ = _service()
    with pytest.raises(ExchangeError, match="does not read 'ftx'"):
        _run(service.add("main", "ftx", KEY, url))
    with pytest.raises(ExchangeError, match="lower-case letters"):
        _run(service.add("My Binance!", "binance", KEY, url))
    with pytest.raises(ExchangeError, match="passphrase"):
        _run(service.add("main", "okx", Credentials("k", "s"), url))
    with pytest.raises(ExchangeError, match="key and its secret"):
        _run(service.add("main", "kraken", Credentials(" ", "s"), url))
    assert w.requests == []


def test_exchange_down_is_a_clear_failure() -> None:
    service, _, _ = _service()
    with running(ExchangeWorld()) as url:
        pass  # the server is gone: nothing listens on that port any more
    with pytest.raises(ExchangeError, match="could not be reached"):
        _run(service.add("main", "kraken", KEY, url))


def test_missing_key_fails_the_read_with_a_sentence(world: Any) -> None:
    _, url = world
    service, secrets, _ = _service()
    account, _, _ = _run(service.add("main", "kraken", KEY, url))
    secrets.values.clear()
    result = _run(service.read(account, url))
    assert result.state is SourceState.FAILED
    assert "not in the keyring" in (result.error or "")


def test_remove_forgets_the_key(world: Any) -> None:
    _, url = world
    service, secrets, store = _service()
    _run(service.add("main", "okx", KEY, url))
    assert len(secrets.values) == 3
    assert service.remove("main") and secrets.values == {} and store.rows == {}
    assert not service.remove("main")


def test_ccxt_paces_every_exchange_with_its_own_limiter() -> None:
    """The product never replaces ccxt's limiter: it is on, at the exchange's own pace (only the
    tests against the local fake ask for a shorter one)."""
    import ccxt.async_support as ccxt

    for exchange in ALL:
        client = ExchangeClient(exchange, KEY, timeout=5)._build()
        try:
            assert client.enableRateLimit is True
            assert client.rateLimit == getattr(ccxt, exchange)().rateLimit
        finally:
            _run(client.close())
    fast = ExchangeClient("kraken", KEY, timeout=5, rate_limit_ms=5)._build()
    assert fast.rateLimit == 5
    _run(fast.close())
