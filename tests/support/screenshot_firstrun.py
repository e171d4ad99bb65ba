"""Screenshots of the first-run page and of the alert asset picker (real app, real screen).

    xvfb-run -a -s "-screen 0 1100x720x24" .venv/bin/python tests/support/screenshot.py docs/first-run.png firstrun
    xvfb-run -a -s "-screen 0 1100x720x24" .venv/bin/python tests/support/screenshot.py docs/alerts.png alerts

First run: an empty profile whose Ethereum and Base point at two local anvil nodes (the chain
activity shown is really read from them); every other network is switched off. Addresses are
pasted, one of them with a wrong checksum, and the picture is taken once the networks answered.
Alerts: the demo wallets and history of ``screenshot.py``; the New alert dialog with a price
rule and "eth" typed in the asset search.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.support.screenshot import WALLETS, seed_history

FRESH = "0x52908400098527886E0F7030069857D2E4169EE7"
SOL = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"


def _run(out: Path, prepare: Callable[[Path], None], show: Callable[[object], object]) -> int:
    """Start the real app on a fresh data dir, call ``show(app)`` after the first paint (a
    coroutine, awaited), grab the screen, quit."""
    import qasync
    from PySide6.QtGui import QGuiApplication

    from app.config import Paths, Settings
    from app.ui.application import ChainfolioApp, make_qapplication

    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths.resolve(tmp)
        paths.ensure()
        prepare(Path(tmp))
        settings = Settings.load(paths.settings_file)
        settings.set("refresh.auto", False)
        settings.save()
        qapp = make_qapplication(sys.argv[:1])
        from app.ui.theme import apply_theme

        apply_theme(qapp, os.environ.get("CHAINFOLIO_SCREENSHOT_THEME", "light"))
        app = ChainfolioApp(qapp, paths, settings, tray=False)
        app.window.resize(1080, 680)
        app.window.move(10, 10)

        async def after_paint() -> None:
            await asyncio.sleep(0.6)
            await show(app)  # type: ignore[misc]
            await asyncio.sleep(0.5)
            QGuiApplication.primaryScreen().grabWindow(0).save(str(out))
            print(f"saved {out}")
            app.quit()

        app.window.first_paint.connect(lambda: asyncio.ensure_future(after_paint()))
        return asyncio.run(app.run(), loop_factory=qasync.QEventLoop)


async def _until(check: Callable[[], bool], what: str, seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(what)


def first_run_screenshot(out: Path) -> int:
    from tests.integration.evm.anvil import Anvil

    nodes = [Anvil(1, multicall=False), Anvil(8453, multicall=False)]
    try:

        def prepare(data: Path) -> None:
            from app.chains.registry import ChainRegistry
            from app.config import Paths
            from tests.support.fakes import MemorySecrets

            networks = Paths.resolve(data).config_dir / "networks.toml"
            registry = ChainRegistry(networks, MemorySecrets())
            urls = {"eip155:1": nodes[0].url, "eip155:8453": nodes[1].url}
            for spec in registry.all():
                chain = str(spec.chain_id)
                if chain in urls:
                    registry.set_rpc(chain, [urls[chain]])
                else:
                    registry.set_enabled(chain, False)

        async def show(app: object) -> None:
            from app.domain.addresses import to_checksum_address

            window = app.window  # type: ignore[attr-defined]
            page = window.first_run
            sender = to_checksum_address(nodes[0].sender)
            bad = WALLETS[0][0].replace("aAeb", "aaeb")
            page.editor.setPlainText(f"{sender}\n{FRESH}\n{SOL}\n{bad}")
            await _until(lambda: sender in page.activity and FRESH in page.activity, "activity")

        return _run(out, prepare, show)
    finally:
        for node in nodes:
            node.stop()


def alerts_screenshot(out: Path) -> int:
    def prepare(data: Path) -> None:
        from app.bootstrap import bootstrap
        from app.config import Paths

        ctx = bootstrap(Paths.resolve(data))
        for address, label, group in WALLETS:
            asyncio.run(ctx.wallets.add(address, label, group))
        seed_history(ctx.engine)
        from app.domain.alerts import AlertKind

        ctx.alerts.add(AlertKind.PRICE_ABOVE, "4000", asset="eip155:1/slip44:60", currency="USD")
        ctx.alerts.add(AlertKind.HEALTH_FACTOR_BELOW, "1.3")
        ctx.close()

    async def show(app: object) -> None:
        from app.domain.alerts import AlertKind

        window = app.window  # type: ignore[attr-defined]
        await _until(
            lambda: window.alerts_page is not None and window.alerts_page.snapshot is not None,
            "snapshot",
        )
        page = window.alerts_page
        window.tabs.setCurrentWidget(page)
        dialog = page.open_add_dialog()
        dialog.kind.setCurrentIndex(dialog.kind.findData(AlertKind.PRICE_ABOVE))
        dialog.move(window.x() + 260, window.y() + 120)
        dialog.asset.query.setText("eth")
        await _until(lambda: dialog.asset.list.count() > 3, "search")
        dialog.threshold.setText("4000")

    return _run(out, prepare, show)
