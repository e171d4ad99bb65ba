"""``chainfolio --self-test`` from source: every check passes here, and a broken part is named.

The frozen build runs the same checks in test_installers.py; these are the fast, in-process
counterparts that run with the unit tests.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import app.selftest as selftest
from app.cli import main


def test_all_checks_pass_from_source(tmp_path: Path) -> None:
    out = io.StringIO()
    code = main(["--data-dir", str(tmp_path), "--self-test"], stdout=out)
    text = out.getvalue()
    assert code == 0, text
    for name, _ in selftest.checks(None):
        assert f"ok   {name}:" in text
    assert text.rstrip().endswith("self-test passed")
    assert list(tmp_path.iterdir()) == []  # the temporary database was removed


def test_a_missing_resource_fails_and_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("app.storage.database.MIGRATIONS_DIR", tmp_path / "nowhere")
    out = io.StringIO()
    code = selftest.run_self_test(out=out)
    text = out.getvalue()
    assert code == 1
    assert "FAIL resources: SelfTestFailure: missing: " in text
    assert "migration 0004" in text
    assert "ok   abi:" in text  # the other checks still ran
    assert "self-test FAILED: resources" in capsys.readouterr().err


def test_missing_package_metadata_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selftest, "METADATA_DISTRIBUTIONS", ("web3", "no-such-dist-xyz"))
    with pytest.raises(selftest.SelfTestFailure, match="no-such-dist-xyz"):
        selftest.check_metadata()
