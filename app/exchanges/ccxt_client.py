"""Read-only access to exchange accounts through ccxt (the library of the field: one API over
every exchange's REST dialect, signing, and a rate limiter per exchange that we do not repeat).

Exactness: ccxt is built with ``number=str``, so amounts arrive as the exchange's own decimal
text and become :class:`~decimal.Decimal` here, never floats. Markets are not loaded (a balance
needs none): one request per balance part instead of four.

ccxt's package imports every exchange (about 3.5 s here), so it is imported on first use, off
the event loop's thread, and only when an exchange account exists.

Nothing of the key or secret is ever put in a message or log line: ccxt's exceptions quote
response bodies and URLs, so only their class decides the sentence a person reads.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from app.domain.exchanges import (
    EXCHANGES,
    CoinBalance,
    Credentials,
    ExchangeError,
    Permissions,
    coin_code,
    exact_amount,
)

log = logging.getLogger(__name__)
# ccxt logs whole requests and replies at DEBUG, API-key headers included: never let them through.
logging.getLogger("ccxt").setLevel(logging.WARNING)

# Parts of an account besides the default (spot/trading) one, as ccxt's fetch_balance ``type``.
EXTRA_PARTS: dict[str, tuple[str, ...]] = {
    "binance": ("funding",),
    "okx": ("funding",),
    "bybit": ("funding",),
}
_HOST_RE = re.compile(r"https://[^/]+")


_ccxt_module: Any = None


def _ccxt() -> Any:
    global _ccxt_module
    if _ccxt_module is None:
        import ccxt.async_support as module

        _ccxt_module = module
    return _ccxt_module


async def load_ccxt() -> None:
    """Import ccxt in a worker thread (seconds of imports must not freeze the window)."""
    if _ccxt_module is None:
        await asyncio.to_thread(_ccxt)


def _point_at(urls: Any, base: str) -> Any:
    if isinstance(urls, dict):
        return {k: _point_at(v, base) for k, v in urls.items()}
    return _HOST_RE.sub(base, urls) if isinstance(urls, str) else urls


def _message(exchange: str, exc: BaseException) -> str:
    """The sentence for a failed request, from the exception's class only."""
    name = EXCHANGES.get(exchange, exchange)
    ccxt = _ccxt()
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied):
        return (
            f"{name} refused the API key: check the key, the secret"
            f"{' and the passphrase' if exchange == 'okx' else ''}, and that reading is allowed."
        )
    if isinstance(exc, ccxt.AccountSuspended):
        return f"{name} says the account is suspended."
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return f"{name} asks Chainfolio to slow down (too many requests); try again later."
    if isinstance(exc, ccxt.ExchangeNotAvailable | ccxt.OnMaintenance):
        return (  # ccxt says this for a refused connection too
            f"{name} could not be reached or is not available right now (maintenance or an "
            "outage). Check the connection."
        )
    if isinstance(exc, ccxt.RequestTimeout):
        return f"{name} did not answer in time."
    if isinstance(exc, ccxt.NetworkError):
        return f"{name} could not be reached. Check the connection."
    return f"{name} answered with an error; the log has the details."


class ExchangeClient:
    """One exchange account's read-only client. ``api_url`` replaces every API host (a regional
    host, a proxy of the person's, or a test server)."""

    def __init__(
        self,
        exchange: str,
        credentials: Credentials,
        *,
        api_url: str | None = None,
        timeout: float = 20.0,
        rate_limit_ms: int | None = None,
    ) -> None:
        self.exchange = exchange
        self._credentials = credentials
        self._api_url = api_url.rstrip("/") if api_url else None
        self._timeout = timeout
        # ccxt's own limiter paces every exchange; only tests against a local fake shorten it.
        self._rate_limit_ms = rate_limit_ms
        self._client: Any = None
        self.requests = 0

    def _build(self) -> Any:
        cls = getattr(_ccxt(), self.exchange)
        config: dict[str, Any] = {
            "apiKey": self._credentials.api_key,
            "secret": self._credentials.secret,
            "number": str,
            "enableRateLimit": True,
            "timeout": int(self._timeout * 1000),
        }
        if self._credentials.passphrase:
            config["password"] = self._credentials.passphrase
        if self._rate_limit_ms is not None:
            config["rateLimit"] = self._rate_limit_ms
        from app.net.ccxt_bridge import route  # the one way out: proxy, own nodes, ledger

        client = route(cls(config))
        if self._api_url:
            client.urls["api"] = _point_at(client.urls["api"], self._api_url)
        client.set_markets([])  # balances need no markets: skip loading them
        if self.exchange == "bybit":  # every Bybit account is a unified one since 2025: no probe
            client.options["enableUnifiedMargin"] = False
            client.options["enableUnifiedAccount"] = True
        return client

    async def _call(self, what: Callable[[Any], Awaitable[Any]]) -> Any:
        if self._client is None:
            await load_ccxt()
            self._client = self._build()
        self.requests += 1
        try:
            return await what(self._client)
        except ExchangeError:
            raise
        except (TypeError, KeyError, ValueError, AttributeError, IndexError) as exc:
            # ccxt parsing a reply of the wrong shape (a list where an object belongs, …)
            log.warning(
                "%s sent a reply of an unexpected shape (%s)",
                EXCHANGES.get(self.exchange),
                type(exc).__name__,
            )
            raise ExchangeError(
                f"{EXCHANGES.get(self.exchange)} sent an answer Chainfolio does not understand."
            ) from None
        except Exception as exc:
            if not isinstance(exc, _ccxt().BaseError) and not isinstance(exc, OSError):
                raise
            log.warning("%s request failed: %s", EXCHANGES.get(self.exchange), type(exc).__name__)
            raise ExchangeError(_message(self.exchange, exc)) from None

    async def permissions(self) -> Permissions:
        """What the key may do, where the exchange says."""
        ex = self.exchange
        if ex == "binance":
            r = await self._call(lambda c: c.sapi_get_account_apirestrictions())
            trade = any(
                _true(r.get(k))
                for k in (
                    "enableSpotAndMarginTrading",
                    "enableFutures",
                    "enableMargin",
                    "enableVanillaOptions",
                    "enablePortfolioMarginTrading",
                )
            )
            transfer = _true(r.get("enableInternalTransfer")) or _true(
                r.get("permitsUniversalTransfer")
            )
            return Permissions(True, trade, _true(r.get("enableWithdrawals")), transfer)
        if ex == "coinbase":
            r = await self._call(lambda c: c.v3_private_get_brokerage_key_permissions())
            return Permissions(True, _true(r.get("can_trade")), _true(r.get("can_transfer")))
        if ex == "okx":
            r = await self._call(lambda c: c.private_get_account_config())
            data = r.get("data") if isinstance(r, dict) else None
            perm = (data[0] or {}).get("perm", "") if isinstance(data, list) and data else ""
            words = {w.strip() for w in str(perm).split(",")}
            return Permissions(True, "trade" in words, "withdraw" in words)
        if ex == "bybit":
            r = await self._call(lambda c: c.private_get_v5_user_query_api())
            result = r.get("result") if isinstance(r, dict) else None
            if not isinstance(result, dict):
                raise ExchangeError("Bybit sent an answer Chainfolio does not understand.")
            if str(result.get("readOnly")) == "1":
                return Permissions(True)
            rights = result.get("permissions") or {}
            granted = {k for k, v in rights.items() if isinstance(v, list) and v}
            trade = bool(
                granted & {"ContractTrade", "Spot", "Options", "Derivatives", "CopyTrading"}
            )
            withdraw = "Withdraw" in granted or any("Withdraw" in str(v) for v in rights.values())
            return Permissions(True, trade, withdraw, "Wallet" in granted)
        return Permissions(False)

    async def balances(self) -> list[CoinBalance]:
        """Every coin of every part this exchange lets a read-only key see."""
        out = self._parse(await self._call(lambda c: c.fetch_balance()), "spot")
        for part in EXTRA_PARTS.get(self.exchange, ()):
            params = {"type": part}
            out += self._parse(
                await self._call(lambda c, p=params: c.fetch_balance(p)),  # type: ignore[misc]
                part,
            )
        return out

    def _parse(self, reply: Any, part: str) -> list[CoinBalance]:
        totals = reply.get("total") if isinstance(reply, dict) else None
        if not isinstance(totals, dict) or not _well_formed(self.exchange, part, reply.get("info")):
            raise ExchangeError(
                f"{EXCHANGES[self.exchange]} sent a balance Chainfolio does not understand."
            )
        out = []
        for raw_code, raw_amount in totals.items():
            code, amount = coin_code(raw_code), exact_amount(raw_amount)
            if code is None or amount is None:
                log.warning("skipped a %s balance with a malformed code or amount", self.exchange)
                continue
            if amount:
                out.append(CoinBalance(code, amount, part))
        return out

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                await client.close()
            except Exception:
                log.debug("closing the %s client failed", self.exchange, exc_info=True)


def _well_formed(exchange: str, part: str, info: Any) -> bool:
    """Whether the exchange's own reply has the list of coins where its format puts it: ccxt
    reads a malformed reply as "no coins", which must fail the read, not empty the account."""
    if exchange == "bitstamp" or (exchange == "binance" and part == "funding"):
        return isinstance(info, list)
    if not isinstance(info, dict):
        return False
    if exchange == "binance":
        return isinstance(info.get("balances"), list)
    if exchange == "kraken":
        return isinstance(info.get("result"), dict) and not info.get("error")
    if exchange in ("coinbase", "okx"):
        return isinstance(info.get("data"), list)
    if exchange == "bybit":
        return isinstance(info.get("result"), dict)
    return True


def _true(value: object) -> bool:
    return value is True or str(value).lower() in ("true", "1")
