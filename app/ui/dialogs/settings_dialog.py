"""Settings dialog: General, API keys and Appearance tabs.

Opened with ``open()`` (never ``exec()``, which would nest an event loop inside the qasync one).
Fields are validated as they are typed with the same ``Setting`` validators the CLI uses, and the
message is shown under the field. API keys go straight to the :class:`SecretStore` (OS keyring)
when "Store key" is pressed; their values are never read back into the dialog, only names are
listed. The Networks and Price sources tabs live in their own modules (networks_tab, prices_tab).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import autostart
from app.config import SETTINGS, SUPPORTED_CURRENCIES, Settings, format_value
from app.domain.errors import ChainfolioError, SecretInputError, report
from app.domain.ports import SecretStore
from app.secrets import KNOWN_NAMES, SecretStatus, check_name, check_value, describe_name
from app.ui.dialogs.bitcoin_tab import BitcoinTab
from app.ui.dialogs.data_tab import DataTab
from app.ui.dialogs.history_tab import HistoryTab
from app.ui.dialogs.networks_tab import NetworksTab
from app.ui.dialogs.prices_tab import PricesTab
from app.ui.dialogs.privacy_tab import PrivacyTab
from app.ui.theme import Role, paint_text

if TYPE_CHECKING:
    from app.chains.registry import ChainRegistry

log = logging.getLogger(__name__)
MASK = "••••••••"
THEMES = (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark"))


def _plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


def _scrolling(page: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(page)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


class SettingsDialog(QDialog):
    """Modal settings. ``settings_changed(keys)`` after a successful save, with changed keys."""

    settings_changed = Signal(list)

    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        secret_status: SecretStatus,
        parent: QWidget | None = None,
        autostart_supported: Callable[[], bool] = autostart.supported,
        registry: ChainRegistry | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setModal(True)
        self.setMinimumWidth(560)
        self._settings = settings
        self._secrets = secrets
        self._status = secret_status
        self._errors: dict[str, QLabel] = {}
        self._invalid: set[str] = set()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._general_tab(autostart_supported()), "General")
        self.networks_tab = NetworksTab(registry) if registry is not None else None
        if self.networks_tab is not None:
            # Scrolls rather than squeezes: the custom-network form and its two-line messages
            # keep their height on a small screen.
            self.tabs.addTab(_scrolling(self.networks_tab), "Networks")
            self.finished.connect(self.networks_tab.shutdown)
        self.tabs.addTab(self._keys_tab(), "API keys")
        self.prices_tab = PricesTab(settings)
        self.tabs.addTab(self.prices_tab, "Price sources")
        self.tabs.addTab(self._appearance_tab(), "Appearance")
        self.privacy_tab = PrivacyTab.attach(self, settings)
        self.history_tab = HistoryTab.attach(self, settings, secrets)
        self.data_tab = DataTab.attach(self, parent)
        self.bitcoin_tab = BitcoinTab.attach(self, settings)

        self.save_problem = _plain_label()
        paint_text(self.save_problem, Role.ERROR)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.save_problem)
        layout.addWidget(self.buttons)
        if self.networks_tab is not None:  # as tall as the Networks tab, if the screen allows
            want = self.networks_tab.sizeHint().height() + 130  # tab bar, message, buttons
            screen = self.screen().availableGeometry().height() if self.screen() else want
            self.resize(max(self.sizeHint().width(), 680), max(400, min(want, screen - 60)))
        if settings.load_problem:
            self.save_problem.setText(
                f"The settings file has a problem and was not loaded: {settings.load_problem} "
                "Saving keeps the broken file aside and writes a new one."
            )

    # ------------------------------------------------------------------ general

    def _error_label(self, key: str) -> QLabel:
        label = _plain_label()
        paint_text(label, Role.ERROR)
        label.setObjectName(f"error:{key}")
        label.hide()
        self._errors[key] = label
        return label

    def _general_tab(self, can_autostart: bool) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)

        self.currency = QComboBox()
        self.currency.setEditable(True)
        self.currency.addItems(list(SUPPORTED_CURRENCIES))
        self.currency.setCurrentText(str(self._settings.get("currency")))
        self.currency.setToolTip(SETTINGS["currency"].help)
        self.currency.editTextChanged.connect(lambda t: self._check("currency", t.strip().upper()))
        form.addRow("&Currency", self.currency)
        form.addRow("", self._error_label("currency"))

        self.auto_refresh = QCheckBox("Refresh automatically in the background")
        self.auto_refresh.setChecked(bool(self._settings.get("refresh.auto")))
        form.addRow("", self.auto_refresh)

        self.interval = QLineEdit(format_value(self._settings.get("refresh.interval_minutes")))
        self.interval.setToolTip(SETTINGS["refresh.interval_minutes"].help)
        self.interval.textChanged.connect(lambda t: self._check("refresh.interval_minutes", t))
        form.addRow("Refresh &interval (minutes)", self.interval)
        form.addRow("", self._error_label("refresh.interval_minutes"))

        self.start_minimized = QCheckBox("Start minimised to the system tray")
        self.start_minimized.setChecked(bool(self._settings.get("ui.start_minimized")))
        form.addRow("", self.start_minimized)

        self.start_at_login = QCheckBox("Start Chainfolio when I log in")
        self.start_at_login.setVisible(can_autostart)
        self.start_at_login.setChecked(can_autostart and autostart.is_enabled())
        self._can_autostart = can_autostart
        form.addRow("", self.start_at_login)
        return page

    def _check(self, key: str, text: str) -> bool:
        """Validate one field with its Setting; show the message under it."""
        label = self._errors[key]
        try:
            SETTINGS[key].coerce(text)
        except ChainfolioError as exc:
            label.setText(str(exc))
            label.show()
            self._invalid.add(key)
        else:
            label.clear()
            label.hide()
            self._invalid.discard(key)
        self.save_button.setEnabled(not self._invalid)
        return key not in self._invalid

    # ------------------------------------------------------------------ API keys

    def _keys_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.keyring_status = _plain_label(self._status.describe())
        if not self._status.usable:
            paint_text(self.keyring_status, Role.ERROR)
        layout.addWidget(self.keyring_status)

        self.key_list = QListWidget()
        layout.addWidget(self.key_list)
        self.remove_key_button = QPushButton("&Remove selected key")
        self.remove_key_button.clicked.connect(self._remove_key)
        layout.addWidget(self.remove_key_button)

        form = QFormLayout()
        self.key_name = QComboBox()
        self.key_name.setEditable(True)
        self.key_name.addItems(list(KNOWN_NAMES))
        self.key_value = QLineEdit()
        self.key_value.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_value.setPlaceholderText("paste the key; it is stored in the OS keyring")
        form.addRow("Key &name", self.key_name)
        form.addRow("&Value", self.key_value)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.store_key_button = QPushButton("&Store key (add or replace)")
        self.store_key_button.clicked.connect(self._store_key)
        row.addWidget(self.store_key_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.key_feedback = _plain_label()
        layout.addWidget(self.key_feedback)

        for widget in (
            self.key_name,
            self.key_value,
            self.store_key_button,
            self.remove_key_button,
        ):
            widget.setEnabled(self._status.usable)
        self._reload_keys()
        return page

    def _reload_keys(self) -> None:
        self.key_list.clear()
        try:
            names = self._secrets.names() if self._status.usable else []
        except ChainfolioError as exc:
            self._key_message(str(exc), error=True)
            names = []
        for name in names:
            item = QListWidgetItem(f"{name}    {MASK}    {describe_name(name)}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.key_list.addItem(item)

    def _key_message(self, text: str, error: bool = False) -> None:
        self.key_feedback.setText(text)
        paint_text(self.key_feedback, Role.ERROR if error else None)

    def _store_key(self) -> None:
        name = self.key_name.currentText().strip()
        value = self.key_value.text().strip()
        self.key_value.clear()  # the value leaves the widget whatever happens next
        try:
            check_name(name)
            if not value:
                raise ChainfolioError("Paste the key's value first.")
            check_value(name, value)
            replaced = name in self._secrets.names()
            self._secrets.set(name, value)
        except SecretInputError as exc:  # a wallet secret as the name: it leaves the screen too
            if self.key_name.currentText().strip() == name:
                self.key_name.setEditText("")
            self._key_message(str(exc), error=True)
            return
        except ChainfolioError as exc:
            self._key_message(str(exc), error=True)
            return
        self._key_message(f"{'Replaced' if replaced else 'Stored'} {name} in the keyring.")
        self._reload_keys()

    def _remove_key(self) -> None:
        if self.key_list.currentRow() < 0:
            self._key_message("Select a key to remove.", error=True)
            return
        item = self.key_list.currentItem()
        name = str(item.data(Qt.ItemDataRole.UserRole))
        try:
            self._secrets.delete(name)
        except ChainfolioError as exc:
            self._key_message(str(exc), error=True)
            return
        self._key_message(f"Removed {name}.")
        self._reload_keys()

    # ------------------------------------------------------------------ appearance

    def _appearance_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.theme_group = QButtonGroup(page)
        current = self._settings.get("ui.theme")
        self.theme_buttons: dict[str, QRadioButton] = {}
        for value, text in THEMES:
            button = QRadioButton(text)
            button.setChecked(value == current)
            self.theme_group.addButton(button)
            self.theme_buttons[value] = button
            layout.addWidget(button)
        layout.addStretch(1)
        return page

    def theme(self) -> str:
        return next(v for v, b in self.theme_buttons.items() if b.isChecked())

    # ------------------------------------------------------------------ saving

    def values(self) -> dict[str, Any]:
        return {
            "currency": self.currency.currentText().strip().upper(),
            "refresh.auto": self.auto_refresh.isChecked(),
            "refresh.interval_minutes": self.interval.text().strip(),
            "ui.start_minimized": self.start_minimized.isChecked(),
            "ui.theme": self.theme(),
            "prices.order": self.prices_tab.order(),
        }

    def save(self) -> None:
        """Validate every field; write the settings file only if all are valid."""
        values = self.values()
        ok = all([self._check(k, str(values[k])) for k in self._errors])
        if not ok:
            self.tabs.setCurrentIndex(0)
            self.save_problem.setText("Fix the fields marked in red first.")
            return
        if not self.prices_tab.validate():
            self.tabs.setCurrentWidget(self.prices_tab)
            self.save_problem.setText("Fix the fields marked in red first.")
            return
        before = {k: self._settings.get(k) for k in values}
        # Only what the person changed is written (Settings.set keeps defaults out of the
        # file), so `chainfolio config list` marks only those as changed.
        edited = {k: v for k, v in values.items() if SETTINGS[k].coerce(v) != before[k]}
        try:
            for key, value in edited.items():
                self._settings.set(key, value)
            if edited or self._settings.load_problem:
                self._settings.save()
            if self._can_autostart:
                autostart.apply(self.start_at_login.isChecked())
            network_changes = self.networks_tab.apply() if self.networks_tab else []
        except (ChainfolioError, OSError) as exc:
            self.save_problem.setText(
                "The settings were not saved. " + report(exc, "Saving the settings", log)
            )
            return
        changed = [k for k in values if self._settings.get(k) != before[k]] + network_changes
        self.save_problem.clear()
        self.settings_changed.emit(changed)
        self.accept()


def open_settings_dialog(
    settings: Settings,
    secrets: SecretStore,
    parent: QWidget | None = None,
    networks_file: Path | None = None,
    registry: ChainRegistry | None = None,
) -> SettingsDialog:
    """What the main window calls: builds the dialog, shows it with ``open()`` and returns it.

    ``networks_file`` defaults to ``networks.toml`` beside the settings file (the config
    directory), the file the ``chainfolio networks`` commands use.
    """
    from app.chains.registry import ChainRegistry
    from app.secrets import KeyringSecretStore, secret_status

    status = secrets.status() if isinstance(secrets, KeyringSecretStore) else secret_status()
    if registry is None:  # the window passes the app's registry; tests may pass a file
        registry = ChainRegistry(networks_file or settings.path.with_name("networks.toml"), secrets)
    dialog = SettingsDialog(settings, secrets, status, parent, registry=registry)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
