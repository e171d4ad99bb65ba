"""The Portfolio tab before any wallet is watched: paste addresses, see each one checked, add.

What happens on this page:

- The person pastes one address per line (EVM 0x…, ENS name, Solana). Every line is checked as
  the text changes, with the same rules as everywhere else (``WalletService.check``): a wrong
  EIP-55 checksum, a Solana key of the wrong length, an address already watched — each line
  says what is wrong with it, in words.
- A seed phrase or private key pasted by mistake (also spread over several lines) is wiped
  from the box at once and never kept, logged or sent anywhere; the page says why.
- Once the text rests for a moment, the valid EVM addresses are asked about on every enabled
  EVM network at once (``ActivityService``, on the asyncio loop, never blocking the window):
  "Used on Ethereum, Base" appears next to each. Offline, it says "could not check", and the
  addresses can still be added.
- "Add" saves them all in one transaction; the window then starts the first refresh and this
  page shows its progress until the portfolio is ready.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.domain.addresses import AddressFamily, ParsedAddress
from app.domain.errors import ChainfolioError, SecretInputError
from app.domain.secret_text import refusal, secret_kind
from app.ui.icons import app_icon
from app.ui.tasks import TaskRunner
from app.ui.theme import Role, colours, paint_text

if TYPE_CHECKING:
    from app.domain.model import Wallet
    from app.services.activity import AddressActivity
    from app.services.wallets import AddedWallets, WalletEntry

Checker = Callable[[str], ParsedAddress | str]
FindActivity = Callable[[Sequence[str]], Coroutine[Any, Any, dict[str, "AddressActivity"]]]
AddMany = Callable[[Sequence["WalletEntry"]], Coroutine[Any, Any, "AddedWallets"]]

MAX_LINES = 200
ACTIVITY_DELAY_MS = 500  # the text rests this long before the networks are asked


@dataclass(frozen=True, slots=True)
class LineCheck:
    """One pasted line: its number, its text, and what the check found."""

    line: int
    text: str
    ok: bool
    kind: str  # "EVM address", "ENS name", "Solana address" or the problem in words
    address: str | None = None  # the canonical EVM address, for the activity column


class FirstRunPage(QWidget):
    """Emits ``added(wallets)`` after the pasted addresses are saved."""

    added = Signal(list)
    add_one_requested = Signal()  # the one-wallet dialog, with a name and a group

    def __init__(self, tasks: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunPage")
        self._tasks = tasks
        self._check: Checker | None = None
        self._find_activity: FindActivity | None = None
        self._add_many: AddMany | None = None
        self.checks: list[LineCheck] = []
        self.activity: dict[str, AddressActivity] = {}
        self._saving = False

        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        icon.setAccessibleName("Chainfolio")
        self.title = QLabel("Watch your first wallets")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        intro = QLabel(
            "Paste the public addresses of your wallets, one per line: Ethereum and L2 "
            "addresses (0x…), ENS names (name.eth), Solana addresses, or Bitcoin addresses and "
            "extended public keys (xpub, ypub, zpub, descriptors). Chainfolio reads their "
            "balances from this computer. It never needs, and never accepts, a private key or "
            "a seed phrase."
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)

        self.editor = QPlainTextEdit()
        self.editor.setObjectName("firstRunAddresses")
        self.editor.setPlaceholderText(
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\nvitalik.eth\n"
            "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T"
        )
        self.editor.setTabChangesFocus(True)  # Tab moves on, as in every other field
        self.editor.setAccessibleName("Addresses to watch, one per line")
        self.editor.setAccessibleDescription(
            "Paste one address per line. Each line is checked as you type; the results are "
            "listed below. Press Control+Enter to add them."
        )
        self.editor.setMaximumHeight(130)
        self.editor.textChanged.connect(self._text_changed)
        editor_label = QLabel("&Addresses (one per line)")
        editor_label.setBuddy(self.editor)

        self.results = QTableWidget(0, 3)
        self.results.setObjectName("firstRunResults")
        self.results.setHorizontalHeaderLabels(["Address", "Check", "Where it is used"])
        self.results.setAccessibleName("Checked addresses")
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setWordWrap(True)  # a whole reason, on as many lines as it needs
        self.results.verticalHeader().setMinimumSectionSize(
            self.results.fontMetrics().height() + 12
        )
        self.results.setAlternatingRowColors(True)
        header = self.results.horizontalHeader()
        # Addresses are never cut (they are what the person checks); the check and the
        # activity share the rest, each with its full text in the tooltip.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.results.hide()

        self.feedback = QLabel()
        self.feedback.setObjectName("firstRunFeedback")
        self.feedback.setTextFormat(Qt.TextFormat.PlainText)
        self.feedback.setWordWrap(True)
        self.feedback.setAccessibleName("Check result")

        self.add_button = QPushButton("Add wallets")
        self.add_button.setObjectName("firstRunAdd")
        self.add_button.setAccessibleName("Add the checked addresses")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(self.submit)
        self.add_button.setAutoDefault(True)
        self.other_button = QPushButton("One at a time, with a name…")
        self.other_button.setAccessibleName("Add one wallet with a name and group")
        self.other_button.clicked.connect(self.add_one_requested)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self.editor)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.submit)

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.other_button)
        buttons.addStretch(1)

        paste = QWidget()
        column = QVBoxLayout(paste)
        column.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(icon)
        titles = QVBoxLayout()
        titles.addWidget(self.title)
        titles.addWidget(intro)
        head.addLayout(titles, 1)
        column.addLayout(head)
        column.addSpacing(6)
        column.addWidget(editor_label)
        column.addWidget(self.editor)
        column.addWidget(self.feedback)
        column.addLayout(buttons)
        column.addWidget(self.results, 1)

        # After "Add": the first refresh's progress, until the portfolio is ready.
        reading = QWidget()
        self.reading_title = QLabel("Reading your wallets…")
        self.reading_title.setFont(font)
        self.reading_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress = QProgressBar()
        self.progress.setObjectName("firstRunProgress")
        self.progress.setAccessibleName("First refresh progress")
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(420)
        self.progress.setTextVisible(True)
        self.reading_text = QLabel(
            "Every network is asked at once; prices follow. Your portfolio appears here "
            "when it is done."
        )
        self.reading_text.setWordWrap(True)
        self.reading_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.reading_text.setTextFormat(Qt.TextFormat.PlainText)
        bar = QHBoxLayout()
        bar.addStretch(1)
        bar.addWidget(self.progress, 3)
        bar.addStretch(1)
        reading_layout = QVBoxLayout(reading)
        reading_layout.addStretch(2)
        reading_layout.addWidget(self.reading_title)
        reading_layout.addLayout(bar)
        reading_layout.addWidget(self.reading_text)
        reading_layout.addStretch(3)

        self.stack = QStackedWidget()
        self.stack.addWidget(paste)
        self.stack.addWidget(reading)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 12)
        layout.addWidget(self.stack)

        self.setTabOrder(self.editor, self.add_button)
        self.setTabOrder(self.add_button, self.other_button)
        self.setTabOrder(self.other_button, self.results)

        self._activity_timer = QTimer(self)
        self._activity_timer.setSingleShot(True)
        self._activity_timer.setInterval(ACTIVITY_DELAY_MS)
        self._activity_timer.timeout.connect(self._ask_activity)

    # --- wiring -------------------------------------------------------------------------
    def attach(self, check: Checker, find_activity: FindActivity | None, add_many: AddMany) -> None:
        self._check = check
        self._find_activity = find_activity
        self._add_many = add_many
        self._text_changed()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.stack.currentIndex() == 0:
            self.editor.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- checking -------------------------------------------------------------------------
    def _lines(self) -> list[tuple[int, str]]:
        lines = self.editor.toPlainText().splitlines()
        return [(n, text.strip()) for n, text in enumerate(lines, 1) if text.strip()]

    def _wipe(self, message: str) -> None:
        """Never keep a secret on screen or in the editor's undo history."""
        self.editor.blockSignals(True)
        self.editor.clear()
        self.editor.setUndoRedoEnabled(False)
        self.editor.setUndoRedoEnabled(True)
        self.editor.blockSignals(False)
        self.checks = []
        self._show_checks()
        self._say(f"⚠ {message}", Role.WARNING)

    def _text_changed(self) -> None:
        if self._saving:
            return
        text = self.editor.toPlainText()
        kind = secret_kind(text)
        if kind is not None:
            self._wipe(refusal(kind, "pasted text"))
            return
        lines = self._lines()
        if len(lines) > MAX_LINES:
            self.checks = []
            self._show_checks()
            self._say(f"Up to {MAX_LINES} addresses at a time; this has {len(lines)}.", Role.ERROR)
            return
        checks: list[LineCheck] = []
        seen: dict[str, int] = {}
        for n, line in lines:
            try:
                checks.append(self._check_line(n, line, seen))
            except SecretInputError as exc:
                self._wipe(str(exc))
                return
        self.checks = checks
        self._show_checks()
        self._summarise()
        if self._find_activity is not None and any(
            c.address and c.address not in self.activity for c in checks
        ):
            self._activity_timer.start()

    def _check_line(self, n: int, line: str, seen: dict[str, int]) -> LineCheck:
        if self._check is None:
            return LineCheck(n, line, False, "Opening your data…")
        try:
            result = self._check(line)
        except SecretInputError:
            raise
        except ChainfolioError as exc:
            return LineCheck(n, line, False, str(exc))
        key = result if isinstance(result, str) else result.address
        if key in seen:
            return LineCheck(n, line, False, f"The same as line {seen[key]}: remove one.")
        seen[key] = n
        if isinstance(result, str):
            return LineCheck(n, result, True, "ENS name: looked up when you add it")
        if result.family is AddressFamily.BITCOIN:  # the key itself is what gets added
            from app.domain.bitcoin import describe_watch

            kind = f"✓ {describe_watch(result.watch, result.address)}"
            return LineCheck(n, result.watch or result.address, True, kind)
        if result.family is AddressFamily.EVM:
            return LineCheck(n, result.address, True, "✓ EVM address", result.address)
        return LineCheck(n, result.address, True, "✓ Solana address")

    def _activity_text(self, check: LineCheck) -> str:
        if not check.ok:
            return ""
        if check.address is None:
            return "Read at the first refresh"
        found = self.activity.get(check.address)
        if found is not None:
            return found.describe()
        return "Checking the networks…" if self._find_activity is not None else ""

    def _show_checks(self) -> None:
        table = self.results
        table.setRowCount(len(self.checks))
        for row, check in enumerate(self.checks):
            cells = (check.text, check.kind, self._activity_text(check))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == 1 and not check.ok:
                    item.setForeground(QBrush(colours().of(Role.ERROR)))
                table.setItem(row, column, item)
        table.setVerticalHeaderLabels([f"Line {c.line}" for c in self.checks])
        table.resizeRowsToContents()
        table.setVisible(bool(self.checks))

    def _summarise(self) -> None:
        good = [c for c in self.checks if c.ok]
        bad = [c for c in self.checks if not c.ok]
        n = len(good)
        self.add_button.setText(f"Add {n} wallet{'s' if n != 1 else ''}" if n else "Add wallets")
        self.add_button.setEnabled(bool(good) and not bad and self._add_many is not None)
        if not self.checks:
            self._say("", None)
        elif bad:
            lines = ", ".join(str(c.line) for c in bad[:6]) + ("…" if len(bad) > 6 else "")
            first = bad[0]
            self._say(
                f"Line {first.line}: {first.kind}"
                + (f" ({len(bad)} lines need fixing: {lines})" if len(bad) > 1 else ""),
                Role.ERROR,
            )
        else:
            self._say(
                f"{n} address{'es' if n != 1 else ''} ready to add. Press Add (or Ctrl+Enter).",
                None,
            )

    def _say(self, text: str, role: Role | None) -> None:
        self.feedback.setText(text)
        paint_text(self.feedback, role)  # readable in light and dark, also after a switch

    # --- activity -------------------------------------------------------------------------
    def _ask_activity(self) -> None:
        if self._find_activity is None:
            return
        wanted = [c.address for c in self.checks if c.address and c.address not in self.activity]
        if not wanted:
            return

        def found(answer: dict[str, AddressActivity]) -> None:
            self.activity.update(answer)
            self._show_checks()

        self._tasks.run(self._find_activity(wanted), found, key="first-run-activity")

    # --- adding ---------------------------------------------------------------------------
    def submit(self) -> None:
        if not self.add_button.isEnabled() or self._add_many is None:
            return
        from app.services.wallets import WalletEntry

        entries = [WalletEntry(f"line {c.line}", c.text) for c in self.checks if c.ok]
        self._saving = True
        self.add_button.setEnabled(False)
        self.editor.setReadOnly(True)
        self._say("Adding…", None)

        def done(result: AddedWallets) -> None:
            self._saving = False
            self.editor.setReadOnly(False)
            self.editor.clear()
            self.added.emit(list(result.added))

        def failed(exc: BaseException) -> None:
            self._saving = False
            self.editor.setReadOnly(False)
            self._summarise()
            self._say(str(exc) if isinstance(exc, ChainfolioError) else _UNEXPECTED, Role.ERROR)

        self._tasks.run(self._add_many(entries), done, failed, key="first-run-add")

    # --- the first refresh ----------------------------------------------------------------
    def show_reading(self, wallets: Sequence[Wallet] = ()) -> None:
        n = len(wallets)
        if n:
            self.reading_title.setText(f"Reading your {n} wallet{'s' if n != 1 else ''}…")
        self.progress.setRange(0, 0)
        self.progress.setFormat("Starting…")
        self.stack.setCurrentIndex(1)

    def show_progress(self, stage: str, done: int, total: int) -> None:
        if stage == "started":
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(0)
            self.progress.setFormat("Reading networks: %v of %m")
        elif stage == "chain":
            self.progress.setValue(done)
        elif stage == "pricing":
            self.progress.setRange(0, 0)
            self.progress.setFormat("Fetching prices…")

    def show_paste(self) -> None:
        self.stack.setCurrentIndex(0)


_UNEXPECTED = "The addresses could not be saved; the log has the details."
