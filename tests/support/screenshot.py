"""Take a real screenshot of the running app under Xvfb (the X root window, not a widget render).

    xvfb-run -s "-screen 0 1100x720x24" .venv/bin/python tests/support/screenshot.py OUT.png [settings]

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


def main(out: Path, view: str = "window") -> int:
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
        ctx.close()
        qapp = make_qapplication(sys.argv[:1])
        app = ChainfolioApp(qapp, paths, Settings.load(paths.settings_file))
        app.window.resize(1080, 680)
        app.window.move(10, 10)

        def grab() -> None:
            screen = QGuiApplication.primaryScreen()
            screen.grabWindow(0).save(str(out))
            print(f"saved {out}")
            app.quit()

        def open_view() -> None:
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


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve(), *sys.argv[2:3]))
