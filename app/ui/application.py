"""The application object: QApplication + qasync loop, single instance, one shutdown path.

Start-up order is chosen for a fast first paint: Qt and the window first, then the database
(SQLAlchemy and Alembic imports), then everything else in the background. Chain libraries
(web3, solana) are only imported when a refresh needs them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.config import Paths, Settings
from app.domain.errors import ChainfolioError
from app.ui.icons import app_icon
from app.ui.main_window import MainWindow
from app.ui.single_instance import SingleInstance
from app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.bootstrap import AppContext

log = logging.getLogger(__name__)


def apply_theme(app: QApplication, theme: str) -> None:
    """Follow the OS colour scheme, or force light/dark with Fusion and its own palette.

    A forced theme cannot rely on the platform honouring ``setColorScheme`` (many Linux
    desktops ignore it), so it sets the palette itself.
    """
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QPalette

    hints = QGuiApplication.styleHints()
    if theme not in ("light", "dark"):
        hints.setColorScheme(Qt.ColorScheme.Unknown)
        return
    app.setStyle("Fusion")
    if theme == "light":
        hints.setColorScheme(Qt.ColorScheme.Light)
        app.setPalette(app.style().standardPalette())
        return
    hints.setColorScheme(Qt.ColorScheme.Dark)
    p = QPalette()
    role = QPalette.ColorRole
    for r, color in (
        (role.Window, "#1f2126"), (role.WindowText, "#e6e6e6"), (role.Base, "#16181c"),
        (role.AlternateBase, "#23262b"), (role.ToolTipBase, "#2b2f36"),
        (role.ToolTipText, "#e6e6e6"), (role.Text, "#e6e6e6"), (role.Button, "#2a2d33"),
        (role.ButtonText, "#e6e6e6"), (role.BrightText, "#ff6b6b"), (role.Link, "#6ea8ff"),
        (role.Highlight, "#3b82f6"), (role.HighlightedText, "#ffffff"),
        (role.PlaceholderText, "#8a8f98"),
    ):  # fmt: skip
        p.setColor(r, QColor(color))
    p.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor("#6b7078"))
    p.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor("#6b7078"))
    app.setPalette(p)


class ChainfolioApp:
    def __init__(self, qapp: QApplication, paths: Paths, settings: Settings) -> None:
        self.qapp = qapp
        self.paths = paths
        self.settings = settings
        self.tasks = TaskRunner()
        self.window = MainWindow(self.tasks)
        self.window.quit_requested.connect(self.quit)
        self.window.settings_changed.connect(self.on_settings_changed)
        self.instance = SingleInstance(paths.data_dir)
        self.instance.activated.connect(self.show_window)
        self.context: AppContext | None = None
        self._quitting = False
        self._finished = asyncio.Event()

    def show_window(self) -> None:
        self.window.show()
        self.window.setWindowState(
            self.window.windowState() & ~self.window.windowState().WindowMinimized
        )
        self.window.raise_()
        self.window.activateWindow()

    def open_data(self) -> bool:
        """Open the database after the first paint; report a problem instead of crashing."""
        from app.bootstrap import bootstrap

        try:
            self.context = bootstrap(self.paths, self.settings)
        except ChainfolioError as exc:
            log.error("cannot open data: %s", exc)
            box = QMessageBox(
                QMessageBox.Icon.Critical, "Chainfolio cannot open your data", str(exc),
                QMessageBox.StandardButton.Close, self.window,
            )  # fmt: skip
            box.finished.connect(lambda _r: self.quit())
            box.open()
            return False
        self.window.attach(self.context)
        self._attach_portfolio()
        if self.settings.load_problem:
            self.window.statusBar().showMessage(self.settings.load_problem, 20000)
        return True

    def _attach_portfolio(self) -> None:
        """The last snapshot is shown before any network; the first refresh follows."""
        assert self.context is not None
        from app.bootstrap import build_refresh_service
        from app.chains.registry import ChainRegistry
        from app.storage.snapshot_store import SqlSnapshotStore

        registry = ChainRegistry(self.paths.config_dir / "networks.toml", self.context.secrets)
        names = {str(c.chain_id): c.name for c in registry.all()}
        self.window.set_refresher(build_refresh_service(self.context, registry.enabled), names)
        self.window.show_snapshot(SqlSnapshotStore(self.context.engine).latest())
        auto = bool(self.settings.get("refresh.auto"))
        if auto and self.context.wallets.list() and not os.environ.get("CHAINFOLIO_STARTUP_PROBE"):
            QTimer.singleShot(0, self.window.refresh_now)

    def on_settings_changed(self, keys: list[str]) -> None:
        if "ui.theme" in keys:
            apply_theme(self.qapp, str(self.settings.get("ui.theme")))

    async def run(self) -> int:
        """Runs inside the qasync loop until Quit."""
        self.qapp.aboutToQuit.connect(self._finished.set)
        if os.environ.get("CHAINFOLIO_STARTUP_PROBE"):
            # Used by tests/benchmarks/startup.py: report the first paint, then quit.
            def probe() -> None:
                print("first-paint", flush=True)
                QTimer.singleShot(0, self.quit)

            self.window.first_paint.connect(probe)
        if self.settings.get("ui.start_minimized"):
            QTimer.singleShot(0, self.open_data)
        else:
            # Paint first; only then pay for the database and its imports.
            self.window.first_paint.connect(lambda: QTimer.singleShot(0, self.open_data))
            self.show_window()
        await self._finished.wait()
        await self.shutdown()
        return 0

    def quit(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        self.window.hide()
        self.qapp.quit()

    async def shutdown(self) -> None:
        """The one, idempotent, clean-up path: tasks, network clients, database, socket."""
        await self.tasks.cancel_all()
        if self.context is not None:
            self.context.close()
        self.instance.close()
        log.info("Chainfolio stopped")


def make_qapplication(argv: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QApplication.setApplicationName("Chainfolio")
    QApplication.setOrganizationName("Chainfolio")
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName("chainfolio")
    qapp = QApplication(argv)
    qapp.setWindowIcon(app_icon())
    return qapp


def run(paths: Paths, settings: Settings, qt_args: list[str]) -> int:
    import qasync

    qapp = make_qapplication([sys.argv[0], *qt_args])
    apply_theme(qapp, str(settings.get("ui.theme")))
    app = ChainfolioApp(qapp, paths, settings)
    if app.instance.notify_running():
        log.info("Chainfolio is already running for %s; asked it to show", paths.data_dir)
        print("Chainfolio is already running; its window was brought forward.")
        return 0
    if not app.instance.listen():
        log.warning("could not claim the single-instance socket %s", app.instance.name)
    try:
        return asyncio.run(app.run(), loop_factory=qasync.QEventLoop)
    except (asyncio.CancelledError, KeyboardInterrupt):
        return 0
