"""Screenshots of every tab, at three window sizes, in light and dark, with one command:

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python -m tests.support.screenshots

It writes ``docs/screens/<tab>-<theme>-<width>x<height>.png`` (Portfolio, Timeline,
Transactions, Performance, Risk, Alerts, Wallets and the Settings dialog's tabs; 1000x640,
1366x768 and 1920x1080; light and dark). Options:
``--out DIR``, ``--sizes 1000x640,1366x768``, ``--themes dark``, ``--tabs portfolio,settings``.

The real application object runs on a throw-away data directory seeded by :func:`seed_demo`
(wallets, five months of history, lending accounts with price history, alert rules, ledger
accounts and transactions: :func:`seed_ledger`); nothing is
read from the network (automatic refresh is off). The theme is switched while the app runs, as a
person would in Settings, so the pictures also show that a live switch restyles everything.
Each picture is the window's own rendering (``QWidget.grab``), without the window manager frame.
:func:`seed_demo` is also what ``tests/ui/test_theme.py`` measures contrast on.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.screenshot import WALLETS

if TYPE_CHECKING:
    from app.config import Paths

SIZES = ((1000, 640), (1366, 768), (1920, 1080))
THEMES = ("light", "dark")
TABS = (
    "portfolio", "timeline", "transactions", "performance", "risk", "yield", "alerts",
    "wallets", "privacy", "settings",
)  # fmt: skip
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screens"

SOL = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
USDC = "erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WBTC = "erc20:0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"
COMET = "0xc3d688B66703497DAA19211EEdff47f25384cdc3"
# chain, wallet index, asset, symbol, decimals, position, amount, price key
BOOK = [
    ("eip155:1", 0, "slip44:60", "ETH", 18, "", "4.2", "ETH"),
    ("eip155:1", 0, USDC, "USDC", 6, "", "12500", "USD"),
    ("eip155:1", 1, WBTC, "WBTC", 8, "", "0.35", "BTC"),
    ("eip155:1", 1, "slip44:60", "ETH", 18, "aave-v3:supplied", "6.0", "ETH"),
    ("eip155:1", 1, USDC, "USDC", 6, "aave-v3:borrowed", "aave-debt", "USD"),
    ("eip155:1", 0, WBTC, "WBTC", 8, f"compound-v3:{COMET}:collateral", "0.2", "BTC"),
    ("eip155:1", 0, USDC, "USDC", 6, f"compound-v3:{COMET}:borrowed", "comet-debt", "USD"),
    ("eip155:1", 1, "erc20:0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84", "stETH", 18, "lido:staked", "3.1", "ETH"),
    ("eip155:1", 1, "erc20:0x6982508145454Ce325dDbE47a25d4ec3d2311933", "PEPE", 18, "", "41000", "PEPE"),
    ("eip155:1", 1, "erc20:0x5e1cFa4aD5E0bC3d11b1d1a2C2C8F0cFb7d1aA01", "Visit eth-bonus.app", 18, "", "5000", "SPAM"),
    ("eip155:42161", 1, "slip44:60", "ETH", 18, "", "0.82", "ETH"),
    ("eip155:42161", 1, "erc20:0x912CE59144191C1204E64559FE8253a0e49E6548", "ARB", 18, "", "1530", "ARB"),
    ("eip155:8453", 3, "erc20:0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "USDC", 6, "", "2300", "USD"),
    (SOL, 2, "slip44:501", "SOL", 9, "", "48.5", "SOL"),
    (SOL, 2, "stake:native", "SOL (staked)", 9, "", "120", "SOL"),
    (SOL, 2, "token:JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", "JUP", 6, "", "2100", "JUP"),
    ("eip155:100", 1, "erc20:0x9C58BAcC331c9aa871AFD802DB6379a98e80CEdb", "GNO", 18, "", "12", ""),
]  # fmt: skip
START = {"ETH": 2900.0, "BTC": 61000.0, "ARB": 0.95, "SOL": 145.0, "JUP": 0.85, "PEPE": 9e-6}
VOLATILITY = {"ETH": 0.028, "BTC": 0.022, "ARB": 0.04, "SOL": 0.035, "JUP": 0.045, "PEPE": 0.06}
STALE_CHAIN = "eip155:8453"
SPAM = "Visit eth-bonus.app"


def _price_paths(times: list[int], rng: random.Random) -> list[dict[str, Decimal]]:
    level = dict(START)
    out, previous = [], times[0]
    for t in times:
        days = max(t - previous, 1) / 86400
        previous = t
        for key in level:
            level[key] *= math.exp(0.003 * days + rng.gauss(0, VOLATILITY[key] * math.sqrt(days)))
        prices = {k: Decimal(f"{v:.6g}") for k, v in level.items()}
        out.append(prices | {"USD": Decimal("1.0001"), "SPAM": Decimal("1.20")})
    return out


def seed_demo(paths: Paths, days: int = 150, now: int | None = None) -> None:
    """Wallets, ``days`` of history (daily, then 4-hourly, then hourly for the last week), the
    latest snapshot with Aave and Compound accounts, daily price history for the risk estimate,
    a stale chain, a spam token, and three alert rules."""
    from app.bootstrap import bootstrap
    from app.domain.alerts import AlertKind
    from app.domain.balances import SourceState
    from app.domain.positions import LendingAccount
    from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
    from app.storage.price_store import SqlBackfillStore
    from app.storage.snapshot_store import SqlSnapshotStore

    now = int(time.time()) - 240 if now is None else now
    start = now - days * 86400
    times = list(range(start, now - 60 * 86400, 86400))
    times += list(range(max(start, now - 60 * 86400), now - 7 * 86400, 4 * 3600))
    times += list(range(max(start, now - 7 * 86400), now + 1, 3600))
    if times[-1] != now:
        times.append(now)
    rng = random.Random(7)
    prices = _price_paths(times, rng)
    # Debts sized so that today the Aave account is close to liquidation (health factor 1.12)
    # and the Compound one comfortable (1.9), whatever the random price paths did.
    debts = {
        "aave-debt": (6 * prices[-1]["ETH"] * Decimal("0.83") / Decimal("1.12")).quantize(1),
        "comet-debt": (
            Decimal("0.2") * prices[-1]["BTC"] * Decimal("0.70") / Decimal("1.9")
        ).quantize(1),
    }
    wallets = [w[0] for w in WALLETS]

    paths.ensure()
    ctx = bootstrap(paths)
    try:
        for address, label, group in WALLETS:
            asyncio.run(ctx.wallets.add(address, label, group))
        chains = sorted({row[0] for row in BOOK})
        store = SqlSnapshotStore(ctx.engine)
        for i, (t, price) in enumerate(zip(times, prices, strict=True)):
            latest = i == len(times) - 1
            holdings = []
            for chain, w, asset, symbol, decimals, position, amount, key in BOOK:
                if symbol == "JUP" and t < now - 20 * 86400:
                    continue  # bought three weeks ago
                stale = latest and chain == STALE_CHAIN
                amount = f"-{debts[amount]}" if amount in debts else amount
                raw = int(Decimal(amount).scaleb(decimals))
                unit = price[key] if key else None  # no price id: left out of the total
                holdings.append(
                    SnapshotHolding(
                        f"{chain}:{wallets[w]}", f"{chain}/{asset}", symbol, decimals, raw,
                        unit, None if unit is None else Decimal(amount) * unit,
                        SourceState.STALE if stale else SourceState.OK,
                        now - 7200 if stale else t, position, symbol == SPAM,
                    )
                )  # fmt: skip
            sources = tuple(
                SourceStatus(c, SourceState.STALE, "node timed out after 10 s", now - 7200)
                if latest and c == STALE_CHAIN
                else SourceStatus(c, SourceState.OK, None, t)
                for c in chains
            )
            accounts: tuple[LendingAccount, ...] = ()
            if latest:
                eth, btc = price["ETH"], price["BTC"]
                accounts = (
                    LendingAccount(
                        f"eip155:1:{wallets[1]}", "aave-v3", "eip155:1", "",
                        6 * eth, debts["aave-debt"], Decimal("0.83"),
                        (6 * eth * Decimal("0.83") / debts["aave-debt"]).quantize(Decimal("0.001")),
                        ("eip155:1/slip44:60",), (f"eip155:1/{USDC}",),
                    ),
                    LendingAccount(
                        f"eip155:1:{wallets[0]}", "compound-v3", "eip155:1", COMET,
                        Decimal("0.2") * btc, debts["comet-debt"], Decimal("0.70"),
                        (Decimal("0.2") * btc * Decimal("0.70") / debts["comet-debt"]).quantize(
                            Decimal("0.001")
                        ),
                        (f"eip155:1/{WBTC}",), (f"eip155:1/{USDC}",),
                    ),
                )  # fmt: skip
            store.write(Snapshot(t, "USD", tuple(holdings), sources, accounts=accounts))
        history = SqlBackfillStore(ctx.engine)
        daily = [i for i, t in enumerate(times) if i == 0 or t - times[i - 1] >= 3600]
        for asset, key in (
            ("eip155:1/slip44:60", "ETH"),
            (f"eip155:1/{WBTC}", "BTC"),
            (f"eip155:1/{USDC}", "USD"),
        ):
            points = {times[i] - times[i] % 86400: prices[i][key] for i in daily}
            history.save_history(asset, sorted(points.items()), "defillama")
        ctx.alerts.add(AlertKind.PRICE_ABOVE, "4000", asset="eip155:1/slip44:60", currency="USD")
        ctx.alerts.add(AlertKind.HEALTH_FACTOR_BELOW, "1.2", protocol="aave-v3")
        ctx.alerts.add(AlertKind.DAILY_MOVE_ABOVE, "10")
        seed_ledger(ctx, now)
        seed_portfolio(ctx, wallets)
        for chain in ("eip155:59144", "eip155:534352"):  # Linea and Scroll switched off
            ctx.networks.set_enabled(chain, False)
    finally:
        ctx.close()


def seed_ledger(ctx: Any, now: int) -> None:
    """Three ledger accounts and five months of their transactions (US dollars only: no stored
    exchange rate is needed): stock, gold and coin buys, a partial sale, a dividend, a transfer
    between own accounts, and coins deposited without a price (unknown cost basis)."""
    from app.domain.ledger import IncomeKind, Transaction, TxKind

    ledger = ctx.ledger
    for name, kind in (("Broker", "broker"), ("Bank", "bank"), ("Cold storage", "cold-storage")):
        ledger.add_account(name, kind)
    eth, aapl, gold, usd = "eip155:1/slip44:60", "stock:XNAS:AAPL", "commodity:XAU", "fiat:USD"
    rows = [
        (150, "Bank", TxKind.DEPOSIT, usd, "25000", None, {}),
        (148, "Broker", TxKind.BUY, aapl, "20", "171.30", {"fee": "1", "fee_currency": "USD"}),
        (140, "Cold storage", TxKind.DEPOSIT, eth, "1.5", None, {"note": "from an old wallet"}),
        (120, "Broker", TxKind.BUY, gold, "2", "2350", {"fee": "4.5", "fee_currency": "USD"}),
        (110, "Broker", TxKind.BUY, eth, "1", "2810.55", {}),
        (95, "Broker", TxKind.BUY, aapl, "10", "195.02", {"fee": "1", "fee_currency": "USD"}),
        (80, "Broker", TxKind.TRANSFER, eth, "0.6", None, {"to_account": "Cold storage"}),
        (60, "Broker", TxKind.SELL, aapl, "12", "211.40", {"fee": "1", "fee_currency": "USD"}),
        (45, "Bank", TxKind.INCOME, usd, "14.20", None, {"income_kind": IncomeKind.DIVIDEND,
                                                        "note": "AAPL dividend"}),
        (30, "Bank", TxKind.WITHDRAWAL, usd, "1200", None, {}),
        (12, "Broker", TxKind.BUY, aapl, "5", "228.10", {"fee": "1", "fee_currency": "USD"}),
    ]  # fmt: skip
    for days, account, kind, asset, amount, price, extra in rows:
        fee = extra.pop("fee", "0")
        ledger.add(
            Transaction(
                account=account, kind=kind, ts=now - days * 86400 - 3600, asset=asset,
                amount=Decimal(amount), price=None if price is None else Decimal(price),
                price_currency=None if price is None else "USD", fee=Decimal(fee), **extra,
            )
        )  # fmt: skip


def seed_portfolio(ctx: Any, wallets: list[str]) -> None:
    """One portfolio ("Long term": two wallets and two ledger accounts) and one link: the
    "Cold storage" account records the first wallet, whose ETH and USDC it only partly explains
    (the Performance tab's "Unexplained change")."""
    portfolios = ctx.portfolios
    portfolios.add("Long term")
    for address in (wallets[0], wallets[2]):
        portfolios.include("Long term", wallet=address)
    for account in ("Broker", "Cold storage"):
        portfolios.include("Long term", account=account)
    portfolios.link("Cold storage", wallets[0])


# ------------------------------------------------------------------ taking the pictures


def _parse_sizes(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        w, _, h = part.strip().partition("x")
        out.append((int(w), int(h)))
    return out


async def _until(done: Any, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("the window did not finish loading")
        await asyncio.sleep(0.05)


async def _settle(seconds: float = 0.25) -> None:
    """Let queued paints, layouts and the timeline's loads land."""
    await asyncio.sleep(seconds)  # the qasync loop paints meanwhile (no processEvents here)


def _tab_index(window: Any, tab: str) -> int:
    pages = {
        "portfolio": window.portfolio_stack,
        "timeline": window.timeline_page,
        "risk": window.risk_page,
        "alerts": window.alerts_page,
        "wallets": window.wallets_page,
        "transactions": window.ledger_page,
        "performance": window.performance_page,
        "yield": window.yield_page,
        "privacy": window.privacy_page,
    }
    return int(window.tabs.indexOf(pages[tab]))


async def take_all(
    app: Any,
    out: Path,
    sizes: list[tuple[int, int]],
    themes: list[str],
    tabs: list[str],
) -> list[Path]:
    from app.ui.theme import apply_theme

    window = app.window
    await _until(
        lambda: (
            window.risk_page is not None
            and window.performance_page is not None
            and window.holdings_page.portfolio.taken_at
        )
    )
    saved: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)
    for theme in themes:
        apply_theme(app.qapp, theme)  # live, as Settings → Appearance does
        for width, height in sizes:
            window.resize(width, height)
            for tab in tabs:
                if tab == "settings":
                    saved += await _settings_shots(app, out, theme, width, height)
                    continue
                window.tabs.setCurrentIndex(_tab_index(window, tab))
                await _settle(0.9 if tab in ("timeline", "performance") else 0.3)
                path = out / f"{tab}-{theme}-{width}x{height}.png"
                window.grab().save(str(path))
                saved.append(path)
    window.tabs.setCurrentIndex(0)
    return saved


async def _settings_shots(app: Any, out: Path, theme: str, width: int, height: int) -> list[Path]:
    """The Settings dialog, sized as it opens over a window of this size, one picture a tab."""
    from PySide6.QtWidgets import QTabWidget

    dialog = app.window.open_settings()
    if dialog is None:
        return []
    saved = []
    try:
        await _settle(0.3)
        # The size it opens at, no larger than the window it belongs to.
        dialog.resize(min(dialog.width(), width - 40), min(dialog.height(), height - 60))
        tabs = dialog.findChild(QTabWidget)
        count = tabs.count() if tabs is not None else 1
        for i in range(count):
            if tabs is not None:
                tabs.setCurrentIndex(i)
            await _settle(0.25)
            text = tabs.tabText(i) if tabs is not None else "general"
            name = "".join(c if c.isalnum() else "-" for c in text.lower().replace("&", ""))
            path = out / f"settings-{name}-{theme}-{width}x{height}.png"
            dialog.grab().save(str(path))
            saved.append(path)
    finally:
        dialog.reject()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DOCS)
    parser.add_argument("--sizes", default=",".join(f"{w}x{h}" for w, h in SIZES))
    parser.add_argument("--themes", default=",".join(THEMES))
    parser.add_argument("--tabs", default=",".join(TABS))
    args = parser.parse_args(argv)

    import qasync
    from PySide6.QtCore import QTimer

    from app.config import Paths, Settings
    from app.ui.application import ChainfolioApp, make_qapplication

    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths.resolve(tmp)
        seed_demo(paths)
        settings = Settings.load(paths.settings_file)
        settings.set("refresh.auto", False)  # stored data only: no network here
        settings.save()
        qapp = make_qapplication(sys.argv[:1])
        app = ChainfolioApp(qapp, paths, settings, tray=False)
        result: list[Path] = []

        async def shoot() -> None:
            try:
                result.extend(
                    await take_all(
                        app,
                        args.out.resolve(),
                        _parse_sizes(args.sizes),
                        args.themes.split(","),
                        args.tabs.split(","),
                    )
                )
            finally:
                app.quit()

        app.window.first_paint.connect(
            lambda: QTimer.singleShot(300, lambda: app.tasks.run(shoot()))
        )
        asyncio.run(app.run(), loop_factory=qasync.QEventLoop)
        for path in result:
            print(path)
        print(f"{len(result)} screenshots in {args.out}")
    return 0 if result else 1


if __name__ == "__main__":
    sys.exit(main())
