"""The "Scan history" window: read each wallet's past from the chains into the ledger.

The scan runs on the qasync loop (network reads) with every database step in a worker thread
(:class:`~app.services.onchain_history.OnchainHistoryService`), so the window stays responsive;
progress events arrive on the GUI thread and only set a bar and two labels. Cancel stops the
scan: batches already stored stay, the ledger import still runs on them, and the next scan
resumes where this one stopped. The dialog is modeless (``show()``): the person may keep using
the window, close the dialog, and open it again to see the scan still running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from app.services.onchain_history import OnchainHistoryService, ScanProgress, ScanReport

log = logging.getLogger(__name__)

INTRO = (
    "Reads every wallet's past transfers and fees from the chains (your own RPC nodes first; a "
    "block explorer only if you chose one in the settings, and it then sees your "
    "addresses) and records them in the ledger, one account per wallet. A scan resumes where "
    "the last one stopped; stopping it keeps everything read so far."
)
STEPS = 1000  # the bar's resolution


class ScanHistoryDialog(QDialog):
    finished_scan = Signal(object)  # the ScanReport
    failed_scan = Signal(str)

    def __init__(
        self,
        service: Callable[[], OnchainHistoryService],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Scan history")
        self.setObjectName("scanHistoryDialog")
        self._service_factory = service
        self._service: OnchainHistoryService | None = None
        self._task: asyncio.Task[Any] | None = None
        self._choices: asyncio.Future[None] | None = None
        self._progress: dict[str, str] = {}  # network -> its line
        self.intro = QLabel(INTRO)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)
        self.intro.setWordWrap(True)
        # What to scan: every wallet on every network, or one of each (filled in a worker)
        self.wallet_box = QComboBox()
        self.wallet_box.setAccessibleName("Wallet to scan")
        self.wallet_box.addItem("All wallets", None)
        self.chain_box = QComboBox()
        self.chain_box.setAccessibleName("Network to scan")
        self.chain_box.addItem("All networks", None)
        self.bar = QProgressBar()
        self.bar.setRange(0, STEPS)
        self.bar.setValue(0)
        self.bar.setAccessibleName("History scan progress")
        self.status = QLabel("Not started.")
        self.status.setObjectName("scanStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # network names are data
        self.status.setWordWrap(True)
        self.eta = QLabel("")
        self.eta.setObjectName("scanEta")
        self.eta.setTextFormat(Qt.TextFormat.PlainText)
        self.summary = QLabel("")
        self.summary.setObjectName("scanSummary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.start_button = QPushButton("Start scan")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Stop")
        self.cancel_button.setToolTip("Stop the scan; everything read so far is kept")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QDialogButtonBox()
        buttons.addButton(self.start_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.hide)  # a running scan goes on; reopen to see it
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        choices = QFormLayout()
        choices.addRow("Wallet", self.wallet_box)
        choices.addRow("Network", self.chain_box)
        layout.addLayout(choices)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.eta)
        layout.addWidget(self.summary, 1)
        layout.addWidget(buttons)
        self.resize(520, 300)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self.wallet_box.count() == 1 and not self.running:
            self._choices = asyncio.ensure_future(self._load_choices())

    async def _load_choices(self) -> None:
        try:
            if self._service is None:
                self._service = await asyncio.to_thread(self._service_factory)
            wallets, chains = await asyncio.to_thread(self._service.targets)
        except Exception:  # the scan itself says what is wrong; the choices stay "All"
            log.warning("cannot list what to scan", exc_info=True)
            return
        from app.domain.text import clean_text

        if self.wallet_box.count() > 1:
            return
        for address, label in wallets:
            short = f"{address[:6]}…{address[-4:]}"
            self.wallet_box.addItem(f"{clean_text(label, 30)} ({short})" if label else short,
                                    address)  # fmt: skip
        for chain, name in chains:
            self.chain_box.addItem(clean_text(name, 40), chain)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.running:
            return
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.bar.setRange(0, 0)  # busy until the first batch says how much there is
        self.status.setText("Starting…")
        self.eta.setText("")
        self.summary.setText("")
        self._progress = {}
        for box in (self.wallet_box, self.chain_box):
            box.setEnabled(False)
        wallet, chain = self.wallet_box.currentData(), self.chain_box.currentData()
        self._task = asyncio.ensure_future(self._run(wallet, chain))

    async def _run(self, wallet: str | None, chain: str | None) -> None:
        from app.domain.errors import report as sentence

        try:
            # building the service imports the history modules: in a worker, not on the loop
            if self._service is None:
                self._service = await asyncio.to_thread(self._service_factory)
            service = self._service
            service.subscribe(self.on_progress)
            try:
                result = await service.scan(wallet=wallet, chain=chain)
            finally:
                service.unsubscribe(self.on_progress)
        except asyncio.CancelledError:
            self._done_state()
            self.status.setText("Stopped.")
            raise
        except Exception as exc:  # said plainly; details in the log
            text = sentence(exc, "Scanning the history", log)
            self._done_state()
            self.bar.setRange(0, STEPS)
            self.status.setText(text)
            self.failed_scan.emit(text)
            return
        self._done_state()
        self.show_report(result)
        self.finished_scan.emit(result)

    def _done_state(self) -> None:
        for box in (self.wallet_box, self.chain_box):
            box.setEnabled(True)
        self.start_button.setEnabled(True)
        self.start_button.setText("Scan again")
        self.cancel_button.setEnabled(False)

    def cancel(self) -> None:
        if self._service is not None and self.running:
            self.cancel_button.setEnabled(False)
            self.status.setText("Stopping… (what was read is kept)")
            self._service.cancel()

    def on_progress(self, p: ScanProgress) -> None:
        from app.services.onchain_history import eta_text

        if self.bar.maximum() == 0:
            self.bar.setRange(0, STEPS)
        self.bar.setValue(int(p.overall * STEPS))
        total = f"{p.total:,}" if p.total else "?"
        self._progress[p.name] = f"{p.name}: {p.done:,} of {total} read"
        lines = [self._progress[name] for name in sorted(self._progress)]
        self.status.setText("\n".join([*lines, f"{p.stored:,} movements stored so far"]))
        self.eta.setText(eta_text(p.eta_seconds).capitalize())  # the bar shows the share

    def show_report(self, report: ScanReport) -> None:
        self.bar.setRange(0, STEPS)
        self.bar.setValue(STEPS if not report.cancelled else self.bar.value())
        lines = []
        for c in report.chains:
            if c.error:
                lines.append(f"{c.name}: could not be scanned: {c.error}")
            else:
                lines.append(
                    f"{c.name}: {c.movements} new movement(s), {c.fees} fee(s)"
                    + (" (stopped)" if c.cancelled else "")
                )
        led = report.ledger
        lines.append(
            f"Ledger: {led.added} transaction(s) added, {led.removed} removed"
            + (f", {led.priced} given their price" if led.priced else "")
            + "."
        )
        lines.extend(report.notes)
        self.status.setText("Stopped: what was read is kept." if report.cancelled else "Done.")
        self.eta.setText("")
        self.summary.setText("\n".join(lines))

    def closeEvent(self, event: Any) -> None:  # the window's close: hide, the scan goes on
        self.hide()
        event.ignore()
