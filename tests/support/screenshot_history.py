"""Screenshots of the on-chain history work under Xvfb (the X root window, not a widget render).

    xvfb-run -a -s "-screen 0 1100x760x24" .venv/bin/python tests/support/screenshot_history.py OUT.png timeline
    xvfb-run -a -s "-screen 0 1100x760x24" .venv/bin/python tests/support/screenshot_history.py OUT.png scan

``timeline``: two months of snapshots after eight months of scanned history: the rebuilt part
dashed, the gap to the first snapshot drawn, the crosshair on a reconstructed day.
``scan``: the "Scan history" window while a (fake, slow) source is half-way.
"""

from __future__ import annotations

import asyncio
import math
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from pathlib import Path

ETH = "eip155:1/slip44:60"
USDC = "eip155:1/erc20:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
DAY = 86_400


async def until(done: Callable[[], object], what: str) -> None:
    for _ in range(400):
        if done():
            return
        await asyncio.sleep(0.025)
    raise TimeoutError(f"{what} did not happen")


def timeline(out: Path) -> int:
    import qasync
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from app.domain.balances import SourceState
    from app.domain.onchain import Fee, Movement, MovementKind, ScanBatch
    from app.domain.onchain_ledger import AssetFacts
    from app.domain.snapshot import Snapshot, SnapshotHolding, SourceStatus
    from app.services.onchain_timeline import OnchainTimeline
    from app.storage.database import open_database
    from app.storage.onchain_store import SqlFirstSnapshot, SqlOnchainStore
    from app.storage.price_store import SqlBackfillStore
    from app.storage.snapshot_store import SqlSnapshotStore
    from app.ui.timeline_page import TimelinePage

    now = int(time.time()) - 300
    first_snapshot = now - 60 * DAY
    start = now - 300 * DAY
    rng = random.Random(11)
    eth = {}
    level = 1900.0
    for day in range(start - start % DAY, now + DAY, DAY):
        level *= math.exp(0.002 + rng.gauss(0, 0.03))
        eth[day] = Decimal(f"{level:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(Path(tmp) / "chainfolio.sqlite3", Path(tmp) / "backups")
        prices = SqlBackfillStore(engine)
        prices.save_history(ETH, sorted(eth.items()), "defillama")
        prices.save_history(USDC, [(d, Decimal(1)) for d in eth], "defillama")
        moves = [
            (start + 5 * DAY, ETH, 3 * 10**18),
            (start + 40 * DAY, USDC, 6000 * 10**6),
            (start + 90 * DAY, ETH, -(10**18)),
            (start + 150 * DAY, USDC, -2000 * 10**6),
            (start + 200 * DAY, ETH, 15 * 10**17),
        ]
        movements = tuple(
            Movement("eip155:1", f"0x{i:064x}", i, ts, WALLET, asset, delta,
                     MovementKind.NATIVE if asset == ETH else MovementKind.TOKEN)
            for i, (ts, asset, delta) in enumerate(moves)
        )  # fmt: skip
        fees = (Fee("eip155:1", f"0x{2:064x}", 2, start + 90 * DAY, WALLET, ETH, 4 * 10**15),)
        SqlOnchainStore(engine).write_batch(
            ScanBatch("eip155:1", movements, fees, {WALLET: "1"}), now
        )
        store = SqlSnapshotStore(engine)
        for t in range(first_snapshot, now, DAY // 2):
            p = eth[t - t % DAY]
            holdings = (
                SnapshotHolding(f"eip155:1:{WALLET}", ETH, "ETH", 18, 4 * 10**18, p, 4 * p,
                                SourceState.OK, t),
                SnapshotHolding(f"eip155:1:{WALLET}", USDC, "USDC", 6, 4000 * 10**6,
                                Decimal(1), Decimal(4000), SourceState.OK, t),
            )  # fmt: skip
            store.write(
                Snapshot(t, "USD", holdings, (SourceStatus("eip155:1", SourceState.OK, None, t),))
            )

        facts = {ETH: AssetFacts(18, native=True), USDC: AssetFacts(6)}

        class Daily:
            def daily_usd(self, assets: Sequence[str], since: int) -> dict[str, dict[int, Decimal]]:
                return {a: dict(prices.history(a, since)) for a in assets}

        reader = OnchainTimeline(
            SqlOnchainStore(engine), SqlFirstSnapshot(engine), Daily(),
            lambda assets: {a: facts[a] for a in assets if a in facts},
            prices.usd_rate_days, time.time,
        )  # fmt: skip
        _qapp = QApplication(sys.argv[:1])
        page = TimelinePage()
        page.setWindowTitle("Chainfolio — Timeline")
        page.resize(1080, 740)
        page.move(10, 10)
        page.splitter.setSizes([500, 220])

        async def run() -> int:
            page.show()
            page.set_reconstruction(reader.read, reload=False)
            page.set_store(engine, "USD", {"eip155:1": "Ethereum"})
            await until(lambda: page.net_worth is not None and page.reconstruction, "the load")
            await asyncio.sleep(0.8)
            assert page.plot is not None and page.reconstruction is not None
            t = float(start + 120 * DAY)
            r = page.reconstruction
            y = float(r.forward[min(range(len(r.times)), key=lambda i: abs(r.times[i] - t))])
            page.plot.hover_scene(page.plot.view.mapViewToScene(QPointF(t, y)))
            await asyncio.sleep(0.5)
            QGuiApplication.primaryScreen().grabWindow(0).save(str(out))
            print(f"saved {out}")
            page.close()
            engine.dispose()
            return 0

        return asyncio.run(run(), loop_factory=qasync.QEventLoop)


class SlowSource:
    """Gives half of its blocks, then waits (a node that answers slowly)."""

    chain = "eip155:1"

    async def scan(self, requests: Sequence[object]) -> AsyncIterator[object]:
        from app.domain.onchain import Movement, ScanBatch

        for i in range(1, 6):
            moves = tuple(
                Movement("eip155:1", f"0x{i:02x}{k:062x}", i * 1000 + k, 1_700_000_000 + i * 600,
                         WALLET, USDC, 10**6 * (k + 1), index=k)
                for k in range(37)
            )  # fmt: skip
            yield ScanBatch("eip155:1", moves, (), {WALLET: str(i * 20_000)}, {}, i * 20_000,
                            240_000)  # fmt: skip
            await asyncio.sleep(0.05)
        await asyncio.Event().wait()


def scan(out: Path) -> int:
    import qasync
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from app.domain.addresses import AddressFamily
    from app.domain.model import Wallet
    from app.services.onchain_history import ChainSource, OnchainHistoryService
    from app.storage.database import open_database
    from app.storage.onchain_store import SqlOnchainStore
    from app.ui.scan_history import ScanHistoryDialog

    clock = [time.time()]

    def tick() -> float:
        clock[0] += 0.7  # a scan that has run a while: the estimate has a rate to go on
        return clock[0]

    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(Path(tmp) / "chainfolio.sqlite3", Path(tmp) / "backups")
        service = OnchainHistoryService(
            lambda: [ChainSource("eip155:1", "Ethereum", "evm", lambda: SlowSource())],  # type: ignore[arg-type,return-value]
            lambda: [Wallet(WALLET, AddressFamily.EVM, "Main")],
            SqlOnchainStore(engine), None, lambda assets: {}, clock=tick,
        )  # fmt: skip
        _qapp = QApplication(sys.argv[:1])
        dialog = ScanHistoryDialog(lambda: service)
        dialog.move(40, 40)

        async def run() -> int:
            dialog.show()
            dialog.start()
            await until(lambda: "185" in dialog.status.text(), "the scan's progress")
            await asyncio.sleep(0.4)
            QGuiApplication.primaryScreen().grabWindow(0).save(str(out))
            print(f"saved {out}")
            dialog.cancel()
            await until(lambda: not dialog.running, "the stop")
            engine.dispose()
            return 0

        return asyncio.run(run(), loop_factory=qasync.QEventLoop)


if __name__ == "__main__":
    target = Path(sys.argv[1]).resolve()
    view = sys.argv[2] if len(sys.argv) > 2 else "timeline"
    sys.exit(timeline(target) if view == "timeline" else scan(target))
