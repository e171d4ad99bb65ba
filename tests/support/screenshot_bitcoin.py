"""Screenshots of Bitcoin watch-only wallets under Xvfb (the X root window).

    xvfb-run -a -s "-screen 0 1100x720x24" .venv/bin/python tests/support/screenshot_bitcoin.py OUT.png [portfolio|wallets|dialog|settings]

``portfolio``: a throw-away data folder gets a zpub through the wallet service, a refresh runs
against a local Electrum-protocol server (tests/support/bitcoin_fakes.py) with a local
CoinGecko stand-in for the price, and the window shows the stored snapshot: BTC holdings.
``dialog``: the Add wallet dialog with the zpub typed (its live check). ``wallets``: the Wallets tab.
``settings``: Settings → Bitcoin (the Electrum server of the portfolio run).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.bitcoin_fakes import DEMO_ZPUB, ElectrumFake, demo_chain  # noqa: E402

YPUB = (  # BIP49's account key of the mnemonic "abandon … about"
    "ypub6Ww3ibxVfGzLrAH1PNcjyAWenMTbbAosGNB6VvmSEgytSER9azLDWCxoJwW7Ke7icmizBMXrzBx9979FfaHxHc"
    "rArf3zbeJJJUZPf663zsP"
)


@contextlib.contextmanager
def coingecko() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def do_GET(self) -> None:
            ok = self.path.startswith("/simple/price")
            data = json.dumps({"bitcoin": {"usd": 91250.10}} if ok else {}).encode()
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def refreshed_folder(tmp: str) -> Any:
    """A data folder with the zpub added and one refresh stored (Electrum + price fakes)."""
    from app.bootstrap import bootstrap
    from app.config import Paths, Settings

    paths = Paths.resolve(tmp)
    paths.ensure()

    async def run() -> None:
        fake = await ElectrumFake(demo_chain()).start()
        try:
            with coingecko() as cg_url:
                settings = Settings.load(paths.settings_file)
                settings.set("bitcoin.electrum_server", fake.url)
                settings.set("bitcoin.gap_limit", 25)
                settings.set("prices.order", ["coingecko"])
                settings.set("prices.coingecko.url", cg_url)
                settings.set("prices.backfill_budget_seconds", 0)
                settings.set("refresh.auto", False)
                settings.save()
                ctx = bootstrap(paths, settings)
                await ctx.wallets.add(DEMO_ZPUB, "Cold storage (Coldcard)", "Long term")
                result = await ctx.refresh.refresh()
                print("refresh:", result.status.value, result.summary)
                await ctx.aclose()
        finally:
            await fake.stop()

    asyncio.run(run())
    return paths


def main(out: Path, view: str = "portfolio") -> int:
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from app.config import Settings
    from app.ui.application import ChainfolioApp, make_qapplication

    with tempfile.TemporaryDirectory() as tmp:
        paths = refreshed_folder(tmp)
        settings = Settings.load(paths.settings_file)
        qapp = make_qapplication(sys.argv[:1])
        app = ChainfolioApp(qapp, paths, settings)
        app.window.resize(1080, 680)
        app.window.move(10, 10)

        def grab() -> None:
            QGuiApplication.primaryScreen().grabWindow(0).save(str(out))
            print(f"saved {out}")
            app.quit()

        def show_tab(name: str) -> None:
            tabs = app.window.tabs
            for i in range(tabs.count()):
                if tabs.tabText(i).replace("&", "") == name:
                    tabs.setCurrentIndex(i)

        def open_view() -> None:
            if view == "dialog":
                show_tab("Wallets")
                dialog = app.window.add_wallet()
                if dialog is not None:
                    dialog.move(200, 150)
                    dialog.address.setText(YPUB)
            elif view == "wallets":
                show_tab("Wallets")
            elif view == "settings":
                dialog = app.window.open_settings()
                if dialog is not None:
                    dialog.move(140, 60)
                    dialog.resize(820, 520)
                    dialog.tabs.setCurrentWidget(dialog.bitcoin_tab)
            QTimer.singleShot(900, grab)

        app.window.first_paint.connect(lambda: QTimer.singleShot(700, open_view))
        return asyncio.run(app.run(), loop_factory=qasync.QEventLoop)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve(), *sys.argv[2:3]))
