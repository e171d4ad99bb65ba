"""One path from an exception to what a person reads (app.domain.errors.user_message/report):
sentences without class names, errno numbers or settings keys; the detail goes to the log."""

from __future__ import annotations

import errno
import logging

import pytest

from app.config import SETTINGS, Settings
from app.domain.errors import ChainfolioError, SettingsError, report, user_message
from app.secrets import SecretStatus, backend_label
from tests.support.messages import leaks


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ChainfolioError("ENS lookup failed (ClientConnectorDNSError)"), "ENS lookup failed"),
        (TimeoutError(), "Saving took too long and was stopped; try again."),
        (
            OSError(errno.ENOSPC, "No space left on device", "/data/settings.toml"),
            "The disk holding /data/settings.toml is full: free some space and try again.",
        ),
        (
            FileNotFoundError(errno.ENOENT, "No such file or directory", "/gone"),
            "Saving failed: no such file or directory (/gone).",
        ),
        (KeyError("eip155:1"), "Saving failed unexpectedly; the details are in the log."),
    ],
)
def test_user_message_is_a_sentence(exc: BaseException, expected: str) -> None:
    text = user_message(exc, "Saving")
    assert text == expected and leaks(text) == []
    assert "Errno" not in text and "KeyError" not in text


def test_report_logs_the_detail_and_returns_the_sentence(caplog: pytest.LogCaptureFixture) -> None:
    try:
        {}["missing"]
    except KeyError as exc:
        with caplog.at_level(logging.WARNING):
            text = report(exc, "Estimating the risk", logging.getLogger("test"))
    assert text == "Estimating the risk failed unexpectedly; the details are in the log."
    assert "KeyError" in caplog.text and "Traceback" in caplog.text


@pytest.mark.parametrize(
    "path",
    [
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.fail.Keyring",
        "keyrings.alt.file.PlaintextKeyring",
        "unknown",
    ],
)
def test_keyring_backends_are_named_in_words(path: str) -> None:
    assert leaks(backend_label(path)) == []
    assert leaks(SecretStatus(True, path).describe()) == []
    assert leaks(SecretStatus(False, path, "It is locked.", "Unlock it.").describe()) == []


def test_every_setting_has_a_name_without_its_key() -> None:
    from app.config import setting_name

    for key in SETTINGS:
        name = setting_name(key)
        assert leaks(name) == [] and name[0].isupper(), (key, name)


def test_the_command_line_still_names_the_key_it_was_given(tmp_path: object) -> None:
    """`chainfolio config set refresh.interval_minutes 0`: the key is what the person typed."""
    import io
    from contextlib import redirect_stderr

    from app.cli import main

    err = io.StringIO()
    with redirect_stderr(err):
        code = main(["--data-dir", str(tmp_path), "config", "set", "refresh.interval_minutes", "0"])
    assert code == 1
    assert err.getvalue().strip() == (
        "chainfolio: error: refresh.interval_minutes: "
        "The refresh interval must be between 1 and 1440, not 0."
    )
    with pytest.raises(SettingsError) as caught:
        Settings.load(tmp_path / "s.toml").set("refresh.interval_minutes", "0")  # type: ignore[operator]
    assert "refresh.interval_minutes" not in str(caught.value)
