"""A shared PostgreSQL database: the address setting, the password kept out of settings, logs
and messages, migrations on the server, exact money, and a server that is down."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app.config import Settings, StorageSettings
from app.domain.errors import DatabaseError, SettingsError
from app.storage.database import HEAD_REVISION
from app.storage.postgres import create_postgres_engine, open_postgres, parse_url, shown
from app.storage.postgres_sql import translate
from app.storage.snapshot_store import SqlSnapshotStore
from tests.integration.storage.helpers import ROOT, TRACEBACK, snapshot
from tests.support.fakes import MemorySecrets
from tests.support.postgres import PASSWORD, PostgresServer, _free_port


def test_addresses_with_a_password_or_of_another_kind_are_refused_without_echo(
    tmp_path: Path,
) -> None:
    settings = Settings(tmp_path / "settings.toml")
    for bad in (
        "postgresql://me:hunter2secret@db.lan/chainfolio",
        "mysql://me@db.lan/chainfolio",
        "postgresql://me@/chainfolio",
        "postgresql://me@db.lan:99999/chainfolio",
        "postgresql://me@db.lan/",
    ):
        with pytest.raises(SettingsError) as refused:
            settings.set("storage.url", bad)
        assert "hunter2secret" not in str(refused.value) and "storage.url" not in str(refused.value)
        with pytest.raises(DatabaseError) as parsed:
            parse_url(bad)
        assert "hunter2secret" not in str(parsed.value)
    assert settings.set("storage.url", "postgresql://me@db.lan:5433/cf") == (
        "postgresql://me@db.lan:5433/cf"
    )
    assert StorageSettings(settings, {}).url == "postgresql://me@db.lan:5433/cf"
    env = {"CHAINFOLIO_DATABASE_URL": "postgresql://other@h/x"}
    assert StorageSettings(settings, env).url == "postgresql://other@h/x"  # the override wins
    assert StorageSettings(Settings(tmp_path / "none.toml"), {}).url == ""  # default: the file
    with pytest.raises(SettingsError):
        _ = StorageSettings(settings, {"CHAINFOLIO_DATABASE_URL": "postgresql://a:pw@h/x"}).url


def test_the_stores_sqlite_statements_are_rewritten_for_postgresql_only_where_needed() -> None:
    compiled = "SELECT a FROM t WHERE b = %(b)s AND c::text = 'x:y?'"
    assert translate(compiled) == compiled  # SQLAlchemy's own statements pass untouched
    assert translate("SELECT a FROM t WHERE b = ? AND c LIKE 'a%?'") == (
        "SELECT a FROM t WHERE b = %s AND c LIKE 'a%%?'"
    )
    assert translate("SELECT 1 FROM t WHERE t0 >= :start") == (
        "SELECT 1 FROM t WHERE t0 >= %(start)s"
    )
    out = translate(
        "SELECT CAST(v AS REAL) FROM s WHERE snapshot_id IN (SELECT value FROM json_each(?)) "
        "AND key IN (SELECT value FROM json_each(?))"
    )
    assert out == (
        "SELECT CAST(v AS DOUBLE PRECISION) FROM s WHERE snapshot_id IN (SELECT value::bigint "
        "FROM json_array_elements_text((%s)::json) AS j(value)) AND key IN (SELECT value FROM "
        "json_array_elements_text((%s)::json) AS j(value))"
    )


def test_schema_money_and_a_second_start_on_the_server(postgres_url: str) -> None:
    engine = open_postgres(postgres_url, PASSWORD)
    try:
        with engine.connect() as con:
            assert con.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                HEAD_REVISION
            )
            assert int(con.execute(text("SHOW server_version_num")).scalar() or 0) >= 140000
        huge = 10**40 + 7  # beyond uint128: text, never a float or a bigint
        store = SqlSnapshotStore(engine)
        sid = store.write(snapshot(1_700_000_000, huge))
        back = store.latest()
        assert back is not None and sid > 0
        (h,) = back.holdings
        assert h.raw == huge and h.price == Decimal("2000.5")
        assert back.total == Decimal(huge) * Decimal("2000.5") / 10**18
    finally:
        engine.dispose()
    again = open_postgres(postgres_url, PASSWORD)  # at head: nothing to do, nothing lost
    try:
        assert SqlSnapshotStore(again).latest() is not None
    finally:
        again.dispose()


def test_a_schema_from_a_newer_version_is_refused_untouched(postgres_url: str) -> None:
    open_postgres(postgres_url, PASSWORD).dispose()
    engine = create_postgres_engine(postgres_url, PASSWORD)
    with engine.begin() as con:
        con.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(DatabaseError, match="newer version of Chainfolio"):
        open_postgres(postgres_url, PASSWORD)


def test_wrong_password_and_server_down_are_sentences_without_the_password(
    postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = postgres_server.url("postgres")
    wrong = "not-the-password-7f3a"
    with pytest.raises(DatabaseError) as refused:
        open_postgres(url, wrong)
    assert "refused the password" in str(refused.value)
    assert "keys set storage.password" in str(refused.value)
    down = f"postgresql://chainfolio@127.0.0.1:{_free_port()}/chainfolio"
    with pytest.raises(DatabaseError) as unreachable:
        open_postgres(down, PASSWORD)
    assert "cannot be reached" in str(unreachable.value)
    for message in (str(refused.value), str(unreachable.value), caplog.text):
        assert wrong not in message and PASSWORD not in message
        assert "OperationalError" not in str(refused.value)
    assert shown(create_postgres_engine(url, PASSWORD).url) == url.replace("+psycopg", "")


def test_bootstrap_reads_the_password_from_the_keyring(postgres_url: str) -> None:
    from app.bootstrap import open_shared_database

    engine = open_shared_database(postgres_url, MemorySecrets({"storage.password": PASSWORD}))
    try:
        with engine.connect() as con:
            assert con.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
    with pytest.raises(DatabaseError, match="refused the password"):
        open_shared_database(postgres_url, MemorySecrets())


def test_the_command_line_option_puts_the_history_on_the_server(
    postgres_url: str, tmp_path: Path
) -> None:
    """The real CLI in a child process: ``--database-url`` takes the history to the server; the
    data folder gets no database file, and nothing printed or logged holds the password."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINFOLIO_")}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["PGPASSWORD"] = PASSWORD  # libpq's own variable: the tests have no keyring
    base = [sys.executable, "-m", "app", "--data-dir", str(tmp_path), "--database-url"]
    wallet = "0x52908400098527886E0F7030069857D2E4169EE7"
    added = subprocess.run(
        [*base, postgres_url, "wallets", "add", wallet],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = subprocess.run(
        [*base, postgres_url, "wallets", "list"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert wallet in listed.stdout
    assert not (tmp_path / "chainfolio.sqlite3").exists()
    bad = subprocess.run(
        [*base, postgres_url.replace("chainfolio@", "chainfolio:leaked-pw@"), "wallets", "list"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1 and TRACEBACK not in bad.stderr
    assert "leaked-pw" not in bad.stderr and "keyring" in bad.stderr
    logs = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.log*"))
    assert PASSWORD not in logs and "leaked-pw" not in logs


def test_a_failed_snapshot_write_leaves_nothing_and_tells_nobody(postgres_url: str) -> None:
    """The snapshot, its holdings and its NOTIFY are one transaction: a write that fails part-way
    (two holdings with one key) stores no row and wakes no listener."""
    from dataclasses import replace

    from app.storage.postgres_group import SnapshotListener, listener_connect
    from tests.support.net import wait_until

    engine = open_postgres(postgres_url, PASSWORD)
    heard: list[int] = []
    listener = SnapshotListener(listener_connect(engine), heard.append)
    listener.start()
    try:
        assert listener.listening.wait(30)
        good = snapshot(1_700_000_000, 10**18)
        bad = replace(good, holdings=good.holdings * 2)
        store = SqlSnapshotStore(engine)
        with pytest.raises(Exception, match="duplicate key"):
            store.write(bad)
        with engine.connect() as con:
            assert con.execute(text("SELECT count(*) FROM snapshots")).scalar() == 0
            assert con.execute(text("SELECT count(*) FROM snapshot_holdings")).scalar() == 0
        sid = store.write(good)  # the next good write is heard, and only it
        wait_until(lambda: heard == [sid], 30, "the NOTIFY of the stored snapshot")
    finally:
        listener.stop()
        engine.dispose()


def test_sqlite_column_meanings_hold_on_both_databases(storage_engine: Engine) -> None:
    """SQLite ignores VARCHAR(n) and its INTEGER holds 64 bits; the shared database must store
    the same values (a long host name, millisecond times), not fail where the file would not."""
    from app.domain.privacy import Contact
    from app.storage.privacy_store import SqlPrivacyStore

    host = "h" * 300 + ".example"  # the column says String(255)
    SqlPrivacyStore(storage_engine).add_contacts([Contact(host, "rpc", 1, False)])
    with storage_engine.connect() as con:
        stored = con.execute(text("SELECT host FROM privacy_contacts")).scalar()
    assert stored == host
    ms = 1_733_000_000_123  # an exchange's millisecond time: beyond a 32-bit integer
    with storage_engine.begin() as con:
        con.execute(
            text("INSERT INTO onchain_cursors (chain, wallet, cursor, updated_at) "
                 "VALUES ('eip155:1', 'w', 'c', :t)"),
            {"t": ms},
        )  # fmt: skip
        assert con.execute(text("SELECT updated_at FROM onchain_cursors")).scalar() == ms
