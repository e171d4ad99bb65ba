"""ccxt (exchange balances) through the one way out.

ccxt sends its requests with its own aiohttp session. :func:`route` replaces one exchange
object's ``fetch`` (the single method every ccxt REST call goes through) with one that sends
over an ``app.net`` client: the proxy, own-nodes-only and the privacy ledger apply, and ccxt's
own reply handling (``on_rest_response``, ``parse_json``, ``handle_errors``,
``handle_http_status_code``) runs unchanged on the reply. Network faults become ccxt's own
exception classes, so callers keep their handling.
"""

from __future__ import annotations

from typing import Any


def route(exchange: Any, purpose: str = "exchange") -> Any:
    """Make every REST request of the ccxt ``exchange`` object go through ``app.net``."""
    import httpx
    from ccxt.base import errors

    from app import net
    from app.net.transport import EgressRefused

    client = net.client(purpose, timeout=max(1.0, float(exchange.timeout) / 1000))
    close = exchange.close

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        request_headers = exchange.prepare_request_headers(headers)
        exchange.last_request_headers = request_headers
        content = body.encode() if isinstance(body, str) else body
        where = f"{exchange.id} {method}"
        try:
            response = await client.request(method, url, headers=request_headers, content=content)
        except EgressRefused as exc:
            raise errors.ExchangeNotAvailable(f"{exchange.id}: {exc}") from exc
        except httpx.TimeoutException as exc:
            raise errors.RequestTimeout(where) from exc
        except httpx.TransportError as exc:
            raise errors.ExchangeNotAvailable(where) from exc
        text = response.text
        status, reason = response.status_code, response.reason_phrase
        reply_headers = dict(response.headers)
        text = exchange.on_rest_response(
            status, reason, url, method, reply_headers, text, request_headers, body
        )
        json_response = exchange.parse_json(text)
        if exchange.enableLastHttpResponse:
            exchange.last_http_response = text
        if exchange.enableLastResponseHeaders:
            exchange.last_response_headers = reply_headers
        if exchange.enableLastJsonResponse:
            exchange.last_json_response = json_response
        exchange.handle_errors(
            status, reason, url, method, reply_headers, text, json_response, request_headers, body
        )
        exchange.handle_http_status_code(status, reason, url, method, text)
        if json_response is not None:
            return json_response
        if exchange.is_text_response(reply_headers) or not text:
            return text
        return response.content

    async def closing() -> None:
        await client.aclose()
        await close()

    exchange.fetch = fetch
    exchange.close = closing
    return exchange
