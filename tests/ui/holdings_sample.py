"""A small portfolio with a baseline a day earlier, for the holdings view tests.

Now (T): Ledger holds 2 ETH, supplies 1,000 USDC to Aave and owes 500 USDC; the other wallet
holds 1 stETH in Lido (new), 1 ETH on Base (stale: the node timed out) and 100 ARB (new; the
Ledger held ARB at 0.50 a day ago, now 0.60). Plus dust and a spam token.
"""

from __future__ import annotations

from decimal import Decimal

from app.domain.balances import SourceState
from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus

T = 1_700_000_000
DAY = 86_400
LEDGER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
CHAIN_NAMES = {
    "eip155:1": "Ethereum",
    "eip155:8453": "Base",
    "eip155:42161": "Arbitrum One",
    "eip155:10": "OP Mainnet",
}
WALLET_NAMES = {LEDGER: "Ledger"}
USDC = "erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
ARB = "erc20:0x912CE59144191C1204E64559FE8253a0e49E6548"


def holding(
    chain: str,
    wallet: str,
    asset: str,
    symbol: str,
    amount: str,
    price: str,
    *,
    decimals: int = 18,
    position: str = "",
    state: SourceState = SourceState.OK,
    as_of: int = T,
    spam: bool = False,
) -> SnapshotHolding:
    raw = int(Decimal(amount).scaleb(decimals))
    p = Decimal(price)
    return SnapshotHolding(
        f"{chain}:{wallet}", f"{chain}/{asset}", symbol, decimals, raw, p,
        Decimal(amount) * p, state, as_of, position, spam,
    )  # fmt: skip


def latest() -> Snapshot:
    stale_at = T - 7200
    return Snapshot(
        T,
        "USD",
        (
            holding("eip155:1", LEDGER, "slip44:60", "ETH", "2", "2000"),
            holding("eip155:1", LEDGER, USDC, "USDC", "1000", "1", decimals=6,
                    position="aave-v3:supplied"),
            holding("eip155:1", LEDGER, USDC, "USDC", "-500", "1", decimals=6,
                    position="aave-v3:borrowed"),
            holding("eip155:1", OTHER, "slip44:60", "ETH", "1.005", "2000", position="lido:staked"),
            holding("eip155:8453", OTHER, "slip44:60", "ETH", "1", "2000",
                    state=SourceState.STALE, as_of=stale_at),
            holding("eip155:42161", OTHER, ARB, "ARB", "100", "0.6"),
            holding("eip155:1", LEDGER, "erc20:0x1111111111111111111111111111111111111111",
                    "DUST", "0.0001", "1"),
            holding("eip155:1", LEDGER, "erc20:0x2222222222222222222222222222222222222222",
                    "=HYPERLINK(\"x\")\tSCAM", "1000", "5", spam=True),
        ),
        (
            SourceStatus("eip155:1", SourceState.OK, None, T),
            SourceStatus("eip155:8453", SourceState.STALE, "node timed out", stale_at),
            SourceStatus("eip155:42161", SourceState.OK, None, T),
            SourceStatus("eip155:10", SourceState.FAILED, "HTTP 429 Too Many Requests", T),
        ),
    )  # fmt: skip


def baseline(taken_at: int = T - DAY, currency: str = "USD") -> Snapshot:
    return Snapshot(
        taken_at,
        currency,
        (
            holding("eip155:1", LEDGER, "slip44:60", "ETH", "2", "1900", as_of=taken_at),
            holding("eip155:1", LEDGER, USDC, "USDC", "1000", "1", decimals=6,
                    position="aave-v3:supplied", as_of=taken_at),
            holding("eip155:1", LEDGER, USDC, "USDC", "-400", "1", decimals=6,
                    position="aave-v3:borrowed", as_of=taken_at),
            holding("eip155:8453", OTHER, "slip44:60", "ETH", "1", "1900", as_of=taken_at),
            holding("eip155:42161", LEDGER, ARB, "ARB", "100", "0.5", as_of=taken_at),
        ),
        (SourceStatus("eip155:1", SourceState.OK, None, taken_at),),
    )  # fmt: skip
