"""A real screenshot of the Portfolio tab at a given window size, with what makes tables hard:
a custom network ("Local Anvil A") whose holdings have no price, a 78-digit balance, one wei,
a manual price, a zero balance and a token whose ``balanceOf`` reverts.

    xvfb-run -a -s "-screen 0 1940x1100x24" .venv/bin/python tests/support/screenshot_portfolio.py \
        OUT.png 1920x1080 [grouped] [dark] [unpriced] [dialog]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.screenshot import WALLETS, seed_history

ANVIL = "eip155:31337"


def seed_custom(engine: object) -> None:
    from app.domain.balances import SourceState
    from app.domain.snapshot import HoldingFailure, SnapshotHolding, SourceStatus
    from app.storage.snapshot_store import SqlSnapshotStore

    store = SqlSnapshotStore(engine)  # type: ignore[arg-type]
    latest = store.latest()
    assert latest is not None
    hot = WALLETS[1][0]
    wallet = f"{ANVIL}:{hot}"
    at = latest.taken_at + 1

    def held(asset: str, symbol: str, decimals: int, raw: int, price: str | None = None,
             manual: bool = False) -> SnapshotHolding:  # fmt: skip
        p = None if price is None else Decimal(price)
        value = None if p is None else Decimal(raw).scaleb(-decimals) * p
        return SnapshotHolding(wallet, f"{ANVIL}/{asset}", symbol, decimals, raw, p, value,
                               SourceState.OK, at, manual_price=manual)  # fmt: skip

    extra = (
        held("slip44:60", "ETH", 18, 25 * 10**17),
        held("erc20:0x5FbDB2315678afecb367f032d93F642f64180aa3", "LUSD", 6, 1_250_000_000,
             "0.98", manual=True),
        held("erc20:0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", "HUGE", 0, 2**256 - 1),
        held("erc20:0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", "WEI", 18, 1),
        held("erc20:0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9", "ZERO", 18, 0),
    )  # fmt: skip
    failure = HoldingFailure(
        wallet, f"{ANVIL}/erc20:0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9",
        "the token contract reverted", "BRK",
    )  # fmt: skip
    sources = (*latest.sources, SourceStatus(ANVIL, SourceState.OK, None, at, (failure,)))
    store.write(replace(latest, id=None, taken_at=at, holdings=latest.holdings + extra,
                        sources=sources))  # fmt: skip


def main(
    out: Path, size: str, grouped: bool, dark: bool, unpriced: bool = False, dialog: bool = False
) -> int:
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from app.bootstrap import bootstrap
    from app.config import Paths, Settings
    from app.ui.application import ChainfolioApp, make_qapplication
    from app.ui.models.holdings_data import GroupBy
    from app.ui.theme import apply_theme

    width, height = (int(n) for n in size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths.resolve(tmp)
        paths.ensure()
        ctx = bootstrap(paths)
        for address, label, group in WALLETS:
            asyncio.run(ctx.wallets.add(address, label, group))
        ctx.networks.add(31337, "Local Anvil A", "ETH", ["http://127.0.0.1:8545"])
        seed_history(ctx.engine)
        seed_custom(ctx.engine)
        ctx.close()
        settings = Settings.load(paths.settings_file)
        settings.set("refresh.auto", False)  # stored data only: no network here
        settings.set("ui.theme", "dark" if dark else "light")
        settings.save()
        qapp = make_qapplication(sys.argv[:1])
        apply_theme(qapp, str(settings.get("ui.theme")))
        app = ChainfolioApp(qapp, paths, settings)
        app.window.resize(width, height)
        app.window.move(0, 0)

        def grab() -> None:
            QGuiApplication.primaryScreen().grabWindow(0, 0, 0, width + 20, height + 40).save(
                str(out)
            )
            print(f"saved {out}")
            app.quit()

        def arrange() -> None:
            page = app.window.holdings_page
            app.window.tabs.setCurrentWidget(page)
            if grouped:
                page.set_group_by(GroupBy.CHAIN)
            if unpriced:
                page.unpriced_button.click()
            if dialog:
                rows = page.model.visible_rows()
                page.view.selectRow(
                    next(i for i, r in enumerate(rows) if r.holding.symbol == "WEI")
                )
                opened = page.ask_price_source()
                if opened is not None:
                    opened.edit.setText("usd-coin")
            QTimer.singleShot(900, grab)

        app.window.first_paint.connect(lambda: QTimer.singleShot(900, arrange))
        return asyncio.run(app.run(), loop_factory=qasync.QEventLoop)


if __name__ == "__main__":
    args = sys.argv[1:]
    flags = set(args[2:])
    sys.exit(main(Path(args[0]), args[1], "grouped" in flags, "dark" in flags,
                  "unpriced" in flags, "dialog" in flags))  # fmt: skip
