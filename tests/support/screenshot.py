"""Take a real screenshot of the running app under Xvfb (the X root window, not a widget render).

    xvfb-run -s "-screen 0 1100x720x24" .venv/bin/python tests/support/screenshot.py OUT.png [wallets|settings|risk|timeline]

Builds a throw-away data directory with a few wallets, starts the real application object,
waits for the wallets to be shown, grabs the screen and quits.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

WALLETS = [
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "Hardware wallet", "Long term"),
    ("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "DeFi hot wallet", "Active"),
    ("4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T", "Phantom", "Active"),
    ("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "Exchange withdrawals", ""),
]


def seed_history(engine: object) -> None:
    """A realistic portfolio for the portfolio screenshot: the latest snapshot and one taken a
    day earlier (for the 24 h change), with Aave v3 supplied/borrowed, Lido staked, a spam
    token, dust, a holding that is new since yesterday and one stale chain (Base)."""
    import time
    from decimal import Decimal

    from app.domain.balances import SourceState
    from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
    from app.storage.snapshot_store import SqlSnapshotStore

    now = int(time.time()) - 240
    day_ago = now - 86_400
    hw, hot, phantom, cex = (w[0] for w in WALLETS)
    sol = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
    usdc = "erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
    steth = "erc20:0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84"
    # chain, wallet, asset, symbol, decimals, position, amount now / then, price now / then
    rows = [
        ("eip155:1", hw, "slip44:60", "ETH", 18, "", "4.2", "4.0", "3412.55", "3320.10"),
        ("eip155:1", hw, usdc, "USDC", 6, "", "12500", "12500", "0.9999", "1.0000"),
        ("eip155:1", hot, "erc20:0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599", "WBTC", 8, "", "0.35", "0.35", "91250.10", "89904.00"),
        ("eip155:1", hot, "slip44:60", "ETH", 18, "aave-v3:supplied", "6.0", "6.0", "3412.55", "3320.10"),
        ("eip155:1", hot, usdc, "USDC", 6, "aave-v3:borrowed", "-8000", "-7500", "0.9999", "1.0000"),
        ("eip155:1", hot, steth, "stETH", 18, "lido:staked", "3.1", "3.1", "3409.80", "3318.45"),
        ("eip155:1", hot, "erc20:0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "WETH", 18, "uniswap-v3:812345:liquidity", "1.25", "1.4", "3412.55", "3320.10"),
        ("eip155:1", hot, usdc, "USDC", 6, "uniswap-v3:812345:liquidity", "3900", "3420", "0.9999", "1.0000"),
        ("eip155:1", hot, usdc, "USDC", 6, "uniswap-v3:812345:fees", "41.7", "38.2", "0.9999", "1.0000"),
        ("eip155:1", hot, usdc, "USDC", 6, "pendle:0x8539B41CA14148d1F7400d399723827a80579414:principal", "4870", "4869", "0.9999", "1.0000"),
        ("eip155:1", hot, "erc20:0x6982508145454Ce325dDbE47a25d4ec3d2311933", "PEPE", 18, "", "41000", "41000", "0.0000098", "0.0000101"),
        ("eip155:1", hot, "erc20:0x5e1cFa4aD5E0bC3d11b1d1a2C2C8F0cFb7d1aA01", "Visit eth-bonus.app", 18, "", "5000", "5000", "1.20", "1.20"),
        ("eip155:42161", hot, "slip44:60", "ETH", 18, "", "0.82", "0.82", "3412.55", "3320.10"),
        ("eip155:42161", hot, "erc20:0x912CE59144191C1204E64559FE8253a0e49E6548", "ARB", 18, "", "1530", "1530", "0.62", "0.60"),
        ("eip155:8453", cex, "erc20:0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "USDC", 6, "", "2300", "2300", "1.0001", "1.0000"),
        (sol, phantom, "slip44:501", "SOL", 9, "", "48.5", "50.5", "182.40", "188.20"),
        (sol, phantom, "stake:native", "SOL (staked)", 9, "", "120", "120", "182.40", "188.20"),
        (sol, phantom, "token:JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", "JUP", 6, "", "2100", "", "0.87", "0.84"),
    ]  # fmt: skip
    stale_chain, stale_at = "eip155:8453", now - 7200
    spam = "Visit eth-bonus.app"

    def snapshot(taken_at: int, then: bool) -> Snapshot:
        holdings = []
        for chain, wallet, asset, symbol, decimals, position, *figures in rows:
            amount, price = (figures[1], figures[3]) if then else (figures[0], figures[2])
            if not amount:
                continue  # not held at that time
            stale = not then and chain == stale_chain
            holdings.append(
                SnapshotHolding(
                    f"{chain}:{wallet}", f"{chain}/{asset}", symbol, decimals,
                    int(Decimal(amount).scaleb(decimals)), Decimal(price),
                    Decimal(amount) * Decimal(price),
                    SourceState.STALE if stale else SourceState.OK,
                    stale_at if stale else taken_at, position, symbol == spam,
                )
            )  # fmt: skip
        sources = tuple(
            SourceStatus(c, SourceState.STALE, "node timed out after 10 s", stale_at)
            if c == stale_chain and not then
            else SourceStatus(c, SourceState.OK, None, taken_at)
            for c in sorted({r[0] for r in rows})
        )
        return Snapshot(taken_at, "USD", tuple(holdings), sources)

    store = SqlSnapshotStore(engine)  # type: ignore[arg-type]
    store.write(snapshot(day_ago, then=True))
    store.write(snapshot(now, then=False))


def show_portfolio_view(app: object) -> None:
    """The portfolio page grouped by protocol, compared with the snapshot from a day earlier
    (passed here in case the window does not pass ``baseline=`` itself)."""
    from app.storage.snapshot_store import SqlSnapshotStore
    from app.ui.models.holdings_data import GroupBy

    window = app.window  # type: ignore[attr-defined]
    store = SqlSnapshotStore(app.context.engine)  # type: ignore[attr-defined]
    latest = store.latest()
    if latest is None:
        return
    names = {w.address: w.display_name for w in window.wallets_model.wallets()}
    page = window.holdings_page
    page.show_snapshot(
        latest, window.chain_names, names, baseline=store.at_or_before(latest.taken_at - 86_400)
    )
    page.set_group_by(GroupBy.PROTOCOL)


def main(out: Path, view: str = "window") -> int:
    if view == "risk":
        return risk_screenshot(out)
    if view == "timeline":
        return timeline_screenshot(out)
    if view in ("firstrun", "alerts"):  # tests/support/screenshot_firstrun.py
        from tests.support import screenshot_firstrun as more

        return more.first_run_screenshot(out) if view == "firstrun" else more.alerts_screenshot(out)
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from app.bootstrap import bootstrap
    from app.config import Paths, Settings
    from app.ui.application import ChainfolioApp, make_qapplication

    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths.resolve(tmp)
        paths.ensure()
        ctx = bootstrap(paths)
        for address, label, group in WALLETS:
            asyncio.run(ctx.wallets.add(address, label, group))
        seed_history(ctx.engine)
        ctx.close()
        settings = Settings.load(paths.settings_file)
        settings.set("refresh.auto", False)  # show stored data only: no network here
        settings.save()
        qapp = make_qapplication(sys.argv[:1])
        app = ChainfolioApp(qapp, paths, settings)
        app.window.resize(1080, 680)
        app.window.move(10, 10)

        def grab() -> None:
            screen = QGuiApplication.primaryScreen()
            screen.grabWindow(0).save(str(out))
            print(f"saved {out}")
            app.quit()

        def open_view() -> None:
            if view == "window":
                show_portfolio_view(app)
            if view == "wallets":
                app.window.tabs.setCurrentIndex(1)
            if view == "settings":
                dialog = app.window.open_settings()
                if dialog is not None:
                    from PySide6.QtWidgets import QTabWidget

                    dialog.move(140, 60)
                    dialog.resize(820, 560)
                    tabs = dialog.findChild(QTabWidget)
                    if tabs is not None:
                        tabs.setCurrentIndex(1)  # Networks
            QTimer.singleShot(800, grab)

        app.window.first_paint.connect(lambda: QTimer.singleShot(600, open_view))
        return asyncio.run(app.run(), loop_factory=qasync.QEventLoop)


def risk_screenshot(out: Path) -> int:
    """The risk page on its own window: an Aave account near liquidation, a Compound borrow and a
    supply-only account, with 90 days of seeded price history; the hover tooltip is open.

        xvfb-run -s "-screen 0 1100x720x24" .venv/bin/python tests/support/screenshot.py docs/risk.png risk
    """
    import math
    import random
    import time
    from decimal import Decimal

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QToolTip

    from app.domain.balances import SourceState
    from app.domain.positions import LendingAccount
    from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
    from app.services.risk import RiskService
    from app.storage.database import open_database
    from app.storage.price_store import SqlBackfillStore
    from app.ui.models.risk_model import RiskColumn
    from app.ui.risk_page import RiskPage

    eth, wbtc = "eip155:1/slip44:60", "eip155:1/erc20:0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"
    usdc = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
    arb_eth = "eip155:42161/slip44:60"
    comet = "0xc3d688B66703497DAA19211EEdff47f25384cdc3"
    now = int(time.time())
    today = now - now % 86400
    rng = random.Random(42)

    def series(start: float, sigma: float) -> list[tuple[int, Decimal]]:
        level, points = start, []
        for i in range(91):
            points.append((today - (90 - i) * 86400, Decimal(f"{level:.6f}")))
            level *= math.exp(rng.gauss(0, sigma))
        return points

    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(Path(tmp) / "db.sqlite", Path(tmp) / "backups")
        history = SqlBackfillStore(engine)
        history.save_history(eth, series(3400, 0.034), "defillama")
        history.save_history(arb_eth, series(3400, 0.034), "defillama")
        history.save_history(wbtc, series(91000, 0.022), "defillama")
        history.save_history(usdc, [(t, Decimal("1.0001")) for t, _ in series(1, 0)], "defillama")
        w1, w2 = WALLETS[1][0], WALLETS[0][0]

        def pos(
            chain: str, wallet: str, asset: str, symbol: str, amount: str, price: str, key: str
        ) -> SnapshotHolding:
            value = Decimal(amount) * Decimal(price)
            return SnapshotHolding(
                f"{chain}:{wallet}",
                asset,
                symbol,
                18,
                int(Decimal(amount) * 10**18),
                Decimal(price),
                value,
                SourceState.OK,
                now,
                position=key,
            )

        holdings = (
            pos("eip155:1", w1, eth, "ETH", "10", "3412.55", "aave-v3:supplied"),
            pos("eip155:1", w1, usdc, "USDC", "-26200", "1", "aave-v3:borrowed"),
            pos(
                "eip155:1", w2, wbtc, "WBTC", "0.35", "91250.10", f"compound-v3:{comet}:collateral"
            ),
            pos("eip155:1", w2, eth, "ETH", "2", "3412.55", f"compound-v3:{comet}:collateral"),
            pos("eip155:1", w2, usdc, "USDC", "-14000", "1", f"compound-v3:{comet}:borrowed"),
            pos("eip155:42161", w2, arb_eth, "ETH", "1.5", "3412.55", "aave-v3:supplied"),
        )
        accounts = (
            LendingAccount(
                f"eip155:1:{w1}",
                "aave-v3",
                "eip155:1",
                "",
                Decimal("34125.50"),
                Decimal("26200"),
                Decimal("0.83"),
                Decimal("1.081"),
                (eth,),
                (usdc,),
            ),
            LendingAccount(
                f"eip155:1:{w2}",
                "compound-v3",
                "eip155:1",
                comet,
                Decimal("38762.54"),
                Decimal("14000"),
                Decimal("0.86"),
                Decimal("2.381"),
                (wbtc, eth),
                (usdc,),
            ),
            LendingAccount(
                f"eip155:42161:{w2}",
                "aave-v3",
                "eip155:42161",
                "",
                Decimal("5118.83"),
                Decimal(0),
                Decimal("0.83"),
                None,
                (arb_eth,),
                (),
            ),
        )
        sources = (
            SourceStatus("eip155:1", SourceState.OK, None, now),
            SourceStatus("eip155:42161", SourceState.OK, None, now),
        )
        snapshot = Snapshot(now, "USD", holdings, sources, accounts=accounts)
        risks = RiskService(history).assess(snapshot)
        engine.dispose()

        qapp = QApplication(sys.argv[:1])
        page = RiskPage()
        page.setWindowTitle("Chainfolio — Risk")
        page.show_risks(
            snapshot,
            risks,
            {"eip155:1": "Ethereum", "eip155:42161": "Arbitrum One"},
            {w: label for w, label, _ in WALLETS},
        )
        page.resize(1080, 420)
        page.move(10, 10)
        page.show()

        def hover() -> None:
            index = page.proxy.index(0, RiskColumn.P_24H)
            rect = page.table.visualRect(index)
            below = page.table.visualRect(page.proxy.index(2, RiskColumn.P_24H)).bottomLeft()
            point = page.table.viewport().mapToGlobal(below)
            QToolTip.showText(point, str(index.data(3)), page.table.viewport(), rect)
            QTimer.singleShot(700, grab)

        def grab() -> None:
            QGuiApplication.primaryScreen().grabWindow(0).save(str(out))
            print(f"saved {out}")
            qapp.quit()

        QTimer.singleShot(900, hover)
        return qapp.exec()


def timeline_screenshot(out: Path) -> int:
    """The timeline tab on its own window: five months of history on four chains (daily, then
    every 4 hours, then hourly for the last week), broken down by chain, "what changed" over the
    whole range, and the crosshair on the ETH dip.

        xvfb-run -s "-screen 0 1100x760x24" .venv/bin/python tests/support/screenshot.py docs/timeline.png timeline
    """
    import math
    import random
    import time
    from decimal import Decimal

    import qasync
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from app.domain.balances import SourceState
    from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
    from app.storage.database import open_database
    from app.storage.snapshot_store import SqlSnapshotStore
    from app.ui.timeline_page import TimelinePage

    sol_chain = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
    chains = {"eip155:1": "Ethereum", "eip155:42161": "Arbitrum One", "eip155:8453": "Base",
              sol_chain: "Solana"}  # fmt: skip
    hw, hot, phantom, cex = (w[0] for w in WALLETS)
    # wallet, asset, symbol, decimals, price key, amount at the start
    book = [
        (hw, "eip155:1/slip44:60", "ETH", 18, "ETH", "6.2", ""),
        (hw, "eip155:1/erc20:0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599", "WBTC", 8, "BTC", "0.42", ""),
        (hw, "eip155:1/erc20:0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84", "stETH", 18, "ETH", "3.1", "lido:staked"),
        (hot, "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "USDC", 6, "USD", "18000", "aave-v3:supplied"),
        (hot, "eip155:1/slip44:60", "ETH", 18, "ETH", "-2.0", "aave-v3:borrowed"),
        (hot, "eip155:42161/slip44:60", "ETH", 18, "ETH", "1.6", ""),
        (hot, "eip155:42161/erc20:0x912CE59144191C1204E64559FE8253a0e49E6548", "ARB", 18, "ARB", "5400", ""),
        (cex, "eip155:8453/erc20:0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "USDC", 6, "USD", "4200", ""),
        (cex, "eip155:8453/slip44:60", "ETH", 18, "ETH", "0.9", ""),
        (phantom, f"{sol_chain}/slip44:501", "SOL", 9, "SOL", "64", ""),
        (phantom, f"{sol_chain}/stake:native", "SOL", 9, "SOL", "150", "solana:staked"),
        (phantom, f"{sol_chain}/token:JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", "JUP", 6, "JUP", "3100", ""),
    ]  # fmt: skip
    now = int(time.time()) - 300
    start = now - 150 * 86400
    times = list(range(start, now - 60 * 86400, 86400))
    times += list(range(now - 60 * 86400, now - 7 * 86400, 4 * 3600))
    times += list(range(now - 7 * 86400, now + 1, 3600))
    rng = random.Random(7)
    level = {"ETH": 2900.0, "BTC": 61000.0, "ARB": 0.95, "SOL": 145.0, "JUP": 0.85}
    vol = {"ETH": 0.028, "BTC": 0.022, "ARB": 0.04, "SOL": 0.035, "JUP": 0.045}
    amounts = [Decimal(row[5]) for row in book]
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(Path(tmp) / "chainfolio.sqlite3", Path(tmp) / "backups")
        store = SqlSnapshotStore(engine)
        previous = start
        for t in times:
            days = (t - previous) / 86400
            previous = t
            for key in level:
                drift = -0.12 if key == "ETH" and now - 52 * 86400 < t < now - 45 * 86400 else 0.004
                level[key] *= math.exp(drift * days + rng.gauss(0, vol[key] * math.sqrt(days)))
            if abs(t - (now - 30 * 86400)) < 3 * 3600:
                amounts[9] = Decimal("112")  # bought SOL a month ago
            if abs(t - (now - 20 * 86400)) < 3 * 3600:
                amounts[6] = Decimal("1400")  # sold most of the ARB
            prices = {k: Decimal(f"{v:.6g}") for k, v in level.items()} | {"USD": Decimal("1.0001")}
            holdings = []
            for (wallet, asset, symbol, decimals, pkey, _a, position), amount in zip(
                book, amounts, strict=True
            ):
                chain = asset.split("/")[0]
                raw = int(amount.scaleb(decimals))
                price = prices[pkey]
                holdings.append(SnapshotHolding(
                    f"{chain}:{wallet}", asset, symbol, decimals, raw, price,
                    Decimal(raw).scaleb(-decimals) * price, SourceState.OK, t, position,
                ))  # fmt: skip
            sources = tuple(SourceStatus(c, SourceState.OK, None, t) for c in chains)
            store.write(Snapshot(t, "USD", tuple(holdings), sources))

        _qapp = QApplication(sys.argv[:1])  # kept alive for the whole run
        page = TimelinePage()
        page.setWindowTitle("Chainfolio — Timeline")
        page.resize(1080, 740)
        page.move(10, 10)
        page.splitter.setSizes([440, 300])  # room for a few rows of "what changed"

        async def until(done: object) -> None:
            for _ in range(400):
                if done():  # type: ignore[operator]
                    return
                await asyncio.sleep(0.025)
            raise TimeoutError("the timeline did not load")

        async def run() -> int:
            page.show()
            page.set_store(engine, "USD", chains | {w: label for w, label, _ in WALLETS})
            await until(lambda: page.net_worth is not None)
            page.set_breakdown("chain")
            await until(lambda: page.breakdown is not None and page.comparison is not None)
            await asyncio.sleep(0.6)  # let the range settle and the last loads land
            assert page.plot is not None and page.net_worth is not None
            dip = now - 45 * 86400
            y = float(page.net_worth.values[page.net_worth.nearest(dip) or 0])
            page.plot.hover_scene(page.plot.view.mapViewToScene(QPointF(dip, y)))
            await asyncio.sleep(0.5)
            QGuiApplication.primaryScreen().grabWindow(0).save(str(out))
            print(f"saved {out}")
            page.close()
            engine.dispose()
            return 0

        return asyncio.run(run(), loop_factory=qasync.QEventLoop)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve(), *sys.argv[2:3]))
