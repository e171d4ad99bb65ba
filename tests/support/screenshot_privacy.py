"""Screenshots of the Privacy tab and Settings → Privacy under Xvfb (the X root window):

    xvfb-run -a -s "-screen 0 1100x720x24" .venv/bin/python -m tests.support.screenshot_privacy OUT.png [page|settings]

A throw-away data directory with the usual wallets and a privacy ledger as a few refreshes
would leave it (own node, a public RPC, price sources, one refused host), then the real app.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from tests.support.screenshot import WALLETS


def seed_privacy(ctx: object) -> None:
    from app.domain.privacy import Contact

    hw, hot, phantom, cex = (w[0] for w in WALLETS)
    now = int(time.time())
    day = 86_400
    rows: list[Contact] = []
    for i in range(96):  # a refresh every 15 minutes for a day
        at = now - day + i * 900
        rows.append(Contact("node.home.lan:8545", "rpc", at, False, (hw, hot, cex)))
        rows.append(Contact("api.mainnet-beta.solana.com", "rpc", at, False, (phantom,)))
        rows.append(Contact("coins.llama.fi", "prices", at))
    rows += [Contact("arb1.arbitrum.io", "rpc", now - 3 * day + k, False, (hot,)) for k in (0, 60)]
    rows.append(Contact("node.home.lan:8545", "activity", now - 5 * day, False, (hw, hot, cex)))
    rows.append(Contact("api.frankfurter.app", "fx", now - 2 * day))
    rows += [Contact("api.coingecko.com", "prices", now - k * 900, True) for k in range(12)]
    ctx.privacy.add_contacts(rows)  # type: ignore[attr-defined]


def main(out: Path, view: str = "page") -> int:
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QTabWidget

    from app.bootstrap import bootstrap
    from app.config import Paths, Settings
    from app.ui.application import ChainfolioApp, make_qapplication

    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths.resolve(tmp)
        paths.ensure()
        ctx = bootstrap(paths)
        for address, label, group in WALLETS:
            asyncio.run(ctx.wallets.add(address, label, group))
        seed_privacy(ctx)
        ctx.close()
        settings = Settings.load(paths.settings_file)
        settings.set("refresh.auto", False)  # stored data only: no network here
        settings.set("net.proxy", "socks5h://127.0.0.1:9050")
        settings.set("net.own_nodes_only", True)
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
            window = app.window
            if view == "settings":
                dialog = window.open_settings()
                if dialog is not None:
                    dialog.move(140, 40)
                    dialog.resize(820, 600)
                    tabs = dialog.findChild(QTabWidget)
                    if tabs is not None:
                        tabs.setCurrentWidget(dialog.privacy_tab)  # type: ignore[attr-defined]
            else:
                page = window.privacy_page
                window.tabs.setCurrentWidget(page)
                QTimer.singleShot(700, lambda: page.hosts_view.selectRow(0))
            QTimer.singleShot(1500, grab)

        app.window.first_paint.connect(lambda: QTimer.singleShot(1200, open_view))
        return asyncio.run(app.run(), loop_factory=qasync.QEventLoop)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "page"))
