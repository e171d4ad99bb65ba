"""A real screenshot of the running app's Yield tab under Xvfb (the X root window):

    xvfb-run -a -s "-screen 0 1100x720x24" .venv/bin/python tests/support/screenshot_yield.py OUT.png

Seeds 30 days of snapshots (one a day) with Aave, Compound, Morpho and Sky positions whose
amounts grow with their interest, plus the rates read with each, so both the current APY and
the realised yield are filled; starts the real application, opens the Yield tab and grabs.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from tests.support.screenshot import WALLETS

USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WETH = "eip155:1/erc20:0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
USDS = "eip155:1/erc20:0xdC035D45d973E3EC169d2276DDab16f1e407384F"
BASE_USDC = "eip155:8453/erc20:0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
COMET = "0xc3d688B66703497DAA19211EEdff47f25384cdc3"
MARKET = "0x9103c3b4e834476c9a62ea009ba2c884ee42e94e6e314a26f04d312434191836"
VAULT = "0xa3931d71877C0E7a3148CB7Eb4463524FEc27fbD"


def seed(engine: object) -> None:
    from app.domain.balances import SourceState
    from app.domain.rates import PositionRate, RateSide
    from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
    from app.storage.snapshot_store import SqlSnapshotStore

    hw, hot = WALLETS[0][0], WALLETS[1][0]
    # chain, wallet, asset, symbol, decimals, key, amount, price, apy (daily growth from it)
    rows = [
        ("eip155:1", hot, USDC, "USDC", 6, "aave-v3:supplied", 25_000, "1", "0.0412", RateSide.SUPPLY),
        ("eip155:1", hot, WETH, "WETH", 18, "aave-v3:borrowed", -3, "3412.55", "0.0231", RateSide.BORROW),
        ("eip155:1", hw, USDC, "USDC", 6, f"compound-v3:{COMET}:supplied", 8_000, "1", "0.0538", RateSide.SUPPLY),
        ("eip155:8453", hot, BASE_USDC, "USDC", 6, f"morpho-blue:{MARKET}:supplied", 12_000, "1", "0.0691", RateSide.SUPPLY),
        ("eip155:1", hw, USDS, "USDS", 18, f"sky:{VAULT}:supplied", 15_000, "1", "0.045", RateSide.SUPPLY),
    ]  # fmt: skip
    store = SqlSnapshotStore(engine)  # type: ignore[arg-type]
    now = int(time.time()) - 120
    for day in range(30, -1, -1):
        t = now - day * 86_400
        holdings, rates = [], []
        for chain, wallet, asset, symbol, decimals, key, amount, price, apy, side in rows:
            growth = (1 + Decimal(apy)) ** (Decimal(30 - day) / 365)
            amt = Decimal(amount) * growth
            raw = int(amt.scaleb(decimals))
            holdings.append(
                SnapshotHolding(f"{chain}:{wallet}", asset, symbol, decimals, raw, Decimal(price),
                                amt * Decimal(price), SourceState.OK, t, key)
            )  # fmt: skip
            wobble = Decimal(day % 3) / 10_000  # today's rate differs a little from the average
            rates.append(PositionRate(chain, asset, key, side, Decimal(apy) + wobble, None,
                                      key.split(":", 1)[0]))  # fmt: skip
        sources = tuple(
            SourceStatus(c, SourceState.OK, None, t) for c in ("eip155:1", "eip155:8453")
        )
        store.write(Snapshot(t, "USD", tuple(holdings), sources, rates=tuple(rates)))


def main(out: Path) -> int:
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
        seed(ctx.engine)
        ctx.close()
        settings = Settings.load(paths.settings_file)
        settings.set("refresh.auto", False)  # stored data only: no network here
        settings.save()
        qapp = make_qapplication(sys.argv[:1])
        app = ChainfolioApp(qapp, paths, settings)
        app.window.resize(1080, 680)
        app.window.move(10, 10)

        def grab() -> None:
            QGuiApplication.primaryScreen().grabWindow(0).save(str(out))
            print(f"saved {out}")
            app.quit()

        def open_view() -> None:
            page = app.window.yield_page
            if page is None:
                print("no Yield tab", file=sys.stderr)
                app.quit()
                return
            app.window.tabs.setCurrentWidget(page)
            QTimer.singleShot(1200, grab)

        app.window.first_paint.connect(lambda: QTimer.singleShot(600, open_view))
        return asyncio.run(app.run(), loop_factory=qasync.QEventLoop)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
