"""``exchanges add … --api-url`` with text that is not a URL: said as such, before any request
(it was "could not be reached … maintenance or an outage")."""

from __future__ import annotations

import asyncio

import pytest

from app.domain.exchanges import Credentials, ExchangeError
from tests.integration.exchanges.test_exchanges import _service
from tests.support.fake_exchange import ExchangeWorld, running

pytestmark = pytest.mark.integration

KEY = Credentials("key-QA-7f3a", "secretQA9q8Zr2Xw5Yv7Ut3Ss1")


@pytest.mark.parametrize("bad", ["notaurl", "ftp://127.0.0.1:1", "http://"])
def test_api_url_that_is_not_a_url_is_refused(bad: str) -> None:
    service, secrets, store = _service()
    with pytest.raises(ExchangeError, match="not a usable URL"):
        asyncio.run(service.add("main", "bybit", KEY, bad))
    assert store.accounts() == [] and secrets.values == {}


def test_a_good_api_url_still_works() -> None:
    world = ExchangeWorld(spot={"BTC": ("1", "0")})
    service, _, _ = _service()
    with running(world) as url:
        account, holdings, _warning = asyncio.run(service.add("main", "binance", KEY, url))
    assert account.name == "main" and holdings
