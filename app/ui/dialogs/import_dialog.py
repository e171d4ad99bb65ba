"""Import transactions from a CSV file: pick the file and its format, see what would be added
and every bad line with its number, then import all of it or nothing.

The preview is ``LedgerService.import_csv(..., dry_run=True)``: the same parse and checks as
the import itself (malformed lines, unknown assets or accounts, negative amounts, future dates,
more sold than held), in a worker thread, the newest request winning. Import is enabled only
when the preview has no bad line; the import runs the checks again and writes in one database
transaction, so a file is never half-imported.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from app.domain.errors import report
from app.domain.text import clean_text
from app.ui.models.ledger_models import TransactionsModel, TxRow, tx_rows
from app.ui.tasks import TaskRunner
from app.ui.theme import Role, paint_text

if TYPE_CHECKING:
    from app.services.ledger import ImportReport, LedgerService

log = logging.getLogger(__name__)
FORMATS = (
    ("generic", "Chainfolio CSV (generic template)"),
    ("koinly", "Koinly universal"),
    ("cointracking", "CoinTracking trade list"),
)
MAX_FILE_BYTES = 200 * 1024 * 1024
Chooser = Callable[[QWidget, Callable[[str], None]], None]


def ask_open_path(parent: QWidget, done: Callable[[str], None]) -> None:
    dialog = QFileDialog(parent, "Import transactions from CSV", "", "CSV files (*.csv *.txt)")
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.fileSelected.connect(done)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()


def read_text(path: str) -> str:
    file = Path(path)
    if file.stat().st_size > MAX_FILE_BYTES:
        from app.domain.ledger import LedgerError

        raise LedgerError("That file is larger than 200 MB: split it and import the parts.")
    return file.read_text(encoding="utf-8-sig")


class ImportDialog(QDialog):
    """``imported(ImportReport)`` once the transactions are stored."""

    imported = Signal(object)

    def __init__(
        self,
        service: Callable[[], LedgerService],
        tasks: TaskRunner,
        accounts: Sequence[str],
        chooser: Chooser | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._tasks = tasks
        self._chooser = chooser or ask_open_path
        self._text: str | None = None
        self.report: ImportReport | None = None
        self._key = f"import-preview-{id(self)}"
        self.setWindowTitle("Import transactions")
        self.resize(860, 560)

        intro = QLabel(
            "Pick a CSV file and its format. The preview shows what would be added and every "
            "line that cannot be read; nothing is imported until every line is right, and "
            "importing the same file again adds nothing twice."
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        self.path = QLineEdit()
        self.path.setReadOnly(True)
        self.path.setPlaceholderText("No file chosen")
        self.path.setAccessibleName("File to import")
        self.choose_button = QPushButton("&Choose file…")
        self.choose_button.clicked.connect(self.choose_file)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(self.choose_button)
        self.format = QComboBox()
        for key, text in FORMATS:
            self.format.addItem(text, key)
        self.format.setAccessibleName("Format of the file")
        self.account = QComboBox()
        self.account.addItem("As named in the file", None)
        for name in accounts:
            self.account.addItem(clean_text(name, 64), name)
        self.account.setAccessibleName("Account the transactions go to")
        self.account.setToolTip(
            "Koinly and CoinTracking files name no account: pick the one they belong to."
        )
        self.create_accounts = QCheckBox("Create accounts the file names that do not exist yet")
        self.create_accounts.setAccessibleName(self.create_accounts.text())
        form = QFormLayout()
        form.addRow("File", file_row)
        form.addRow("&Format", self.format)
        form.addRow("&Into account", self.account)
        form.addRow("", self.create_accounts)

        self.summary = QLabel("Choose a file to see what it holds.")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Preview summary")
        self.errors = QTableWidget(0, 2)
        self.errors.setHorizontalHeaderLabels(["Line", "Problem"])
        self.errors.verticalHeader().hide()
        self.errors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.errors.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.errors.horizontalHeader().setStretchLastSection(True)
        self.errors.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.errors.setAccessibleName("Lines that cannot be imported")
        self.errors.hide()
        self.preview_model = TransactionsModel(self)
        self.preview = QTableView()
        self.preview.setModel(self.preview_model)
        self.preview.verticalHeader().hide()
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.preview.horizontalHeader().setStretchLastSection(True)
        self.preview.setAccessibleName("Transactions that would be added")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.errors)
        split.addWidget(self.preview)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(
            "&Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setEnabled(False)
        self.buttons.accepted.connect(self.run_import)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)
        layout.addWidget(self.buttons)

        self.format.currentIndexChanged.connect(self.preview_again)
        self.account.currentIndexChanged.connect(self.preview_again)
        self.create_accounts.toggled.connect(self.preview_again)

    # --- file -----------------------------------------------------------------------------
    def choose_file(self) -> None:
        self._chooser(self, self.load_file)

    def load_file(self, path: str) -> None:
        """Read ``path`` (in a worker thread) and preview it."""
        if not path:
            return
        self.path.setText(path)
        self._text = None
        self._set_summary("Reading the file…", None)
        self.import_button.setEnabled(False)
        self._tasks.run(
            asyncio.to_thread(read_text, path),
            on_success=self._alive(self._file_read),
            on_failure=self._alive(self._failed("Reading the file")),
            key=self._key,
        )

    def _file_read(self, text: Any) -> None:
        self._text = str(text)
        self.preview_again()

    # --- preview --------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        return {
            "fmt": str(self.format.currentData()),
            "account": self.account.currentData(),
            "create_accounts": self.create_accounts.isChecked(),
        }

    def preview_again(self) -> None:
        if self._text is None:
            return
        text, options, service = self._text, self._options(), self._service
        self.import_button.setEnabled(False)
        self._set_summary("Checking every line…", None)

        def work() -> tuple[ImportReport, list[TxRow]]:
            result = service().import_csv(text, dry_run=True, **options)
            return result, tx_rows(result.to_add)

        self._tasks.run(
            asyncio.to_thread(work),
            on_success=self._alive(self._previewed),
            on_failure=self._alive(self._failed("Checking the file")),
            key=self._key,
        )

    def _previewed(self, result: Any) -> None:
        report_, rows = result
        self.report = report_
        self.preview_model.set_rows(rows)
        errors = report_.errors
        self.errors.setRowCount(len(errors))
        for i, err in enumerate(errors):
            line = QTableWidgetItem(str(err.line))
            line.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.errors.setItem(i, 0, line)
            self.errors.setItem(i, 1, QTableWidgetItem(clean_text(err.message, 300)))
        self.errors.setVisible(bool(errors))
        n = len(report_.to_add)
        plural = "s" if n != 1 else ""
        parts = [
            f"the other {n:,} transaction{plural} read well"
            if errors
            else f"{n:,} transaction{plural} would be added"
        ]
        if report_.duplicates:
            parts.append(f"{report_.duplicates:,} already imported before (skipped)")
        if report_.new_accounts:
            names = ", ".join(clean_text(a, 40) for a in report_.new_accounts[:5])
            parts.append(f"new accounts: {names}")
        tail = "; ".join(parts)
        tail = tail[0].upper() + tail[1:] + "."
        if errors:
            bad = len({e.line for e in errors})
            self._set_summary(
                f"{bad:,} line{'s' if bad != 1 else ''} cannot be imported (listed with their "
                f"numbers below): nothing will be imported until the file is fixed. {tail}",
                "error",
            )
        elif not n:
            self._set_summary(f"Nothing new to import. {tail}", None)
        else:
            self._set_summary(tail, "ok")
        self.import_button.setEnabled(report_.ok and n > 0)

    # --- import ---------------------------------------------------------------------------
    def run_import(self) -> None:
        if self._text is None or self.report is None or not self.report.ok:
            return
        text, options, service = self._text, self._options(), self._service
        self.import_button.setEnabled(False)
        self._set_summary("Importing…", None)
        self._tasks.run(
            asyncio.to_thread(lambda: service().import_csv(text, **options)),
            on_success=self._alive(self._imported),
            on_failure=self._alive(self._failed("Importing the file")),
            key=self._key,
        )

    def _imported(self, result: Any) -> None:
        self.report = result
        if not result.ok:  # the ledger changed since the preview: nothing was written
            self._previewed((result, tx_rows(result.to_add)))
            return
        self.imported.emit(result)
        self.accept()

    # --- helpers --------------------------------------------------------------------------
    def _failed(self, doing: str) -> Callable[[Any], None]:
        def show(exc: Any) -> None:
            self._set_summary(report(exc, doing, log), "error")

        return show

    def _alive(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        def call(value: Any) -> None:
            if isValid(self):
                handler(value)

        return call

    def _set_summary(self, text: str, kind: str | None) -> None:
        roles = {"error": Role.ERROR, "ok": Role.OK}
        self.summary.setText(text)
        paint_text(self.summary, roles.get(kind or ""))

    def error_lines(self) -> list[tuple[int, str]]:
        out = []
        for i in range(self.errors.rowCount()):
            line, message = self.errors.item(i, 0), self.errors.item(i, 1)
            if line is not None and message is not None:
                out.append((int(line.text()), message.text()))
        return out
