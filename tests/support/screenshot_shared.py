"""Screenshot of the window started while its shared PostgreSQL database is unreachable:

    xvfb-run -a -s "-screen 0 1100x720x24" .venv/bin/python -m tests.support.screenshot_shared OUT.png

A throw-away PostgreSQL server (tests/support/postgres.py) gets the usual wallets and one
snapshot; a local copy is kept as the window keeps it; then the server's address is changed to
a port where nothing listens and the real app starts on the read-only copy.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tests.support.screenshot import WALLETS


def main(out: Path) -> int:
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    from app.bootstrap import bootstrap
    from app.config import Paths, Settings
    from app.storage.postgres_cache import copy_path, save_copy
    from app.storage.snapshot_store import SqlSnapshotStore
    from app.ui.application import ChainfolioApp, make_qapplication
    from tests.integration.storage.helpers import snapshot
    from tests.support.postgres import PASSWORD, _free_port, start_server

    server = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["PGPASSWORD"] = PASSWORD
            os.environ["CHAINFOLIO_DATABASE_URL"] = server.url(server.create_database())
            paths = Paths.resolve(tmp)
            paths.ensure()
            ctx = bootstrap(paths)
            for address, label, group in WALLETS:
                asyncio.run(ctx.wallets.add(address, label, group))
            SqlSnapshotStore(ctx.engine).write(snapshot(1_765_000_000, 12 * 10**18))
            save_copy(ctx.engine, copy_path(paths.data_dir))
            ctx.close()
            down = f"postgresql://chainfolio@127.0.0.1:{_free_port()}/chainfolio"
            os.environ["CHAINFOLIO_DATABASE_URL"] = down
            settings = Settings.load(paths.settings_file)
            settings.set("refresh.auto", False)
            settings.save()
            qapp = make_qapplication(sys.argv[:1])
            app = ChainfolioApp(qapp, paths, settings)
            app.window.resize(1080, 680)
            app.window.move(10, 10)

            def grab() -> None:
                QGuiApplication.primaryScreen().grabWindow(0).save(str(out))
                print(f"saved {out}")
                app.quit()

            app.window.first_paint.connect(lambda: QTimer.singleShot(2500, grab))
            return asyncio.run(app.run(), loop_factory=qasync.QEventLoop)
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
