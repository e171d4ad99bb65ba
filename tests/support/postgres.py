"""A real PostgreSQL server for the tests: Debian's ``postgresql`` package, a cluster initialised
in a temporary folder as an unprivileged user, on a free 127.0.0.1 port, stopped after.

The server and its binaries refuse to run as root: under root they run as the ``postgres``
user the package created (or ``nobody``). Readiness is a connect loop (``pg_isready``), never a
sleep. Each test gets its own fresh database; the superuser has a password (scram-sha-256), so
the app's "password from the keyring" path is exercised for real.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

USER = "chainfolio"
PASSWORD = "s3cret-pg-pass-for-tests"
READY_TIMEOUT = 60.0


def binaries() -> Path | None:
    """The folder holding initdb/postgres/pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("pg_ctl")
    if found:
        real = Path(os.path.realpath(found)).parent
        if (real / "initdb").exists() and (real / "postgres").exists():
            return real
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        p = Path(candidate)
        if (p / "initdb").exists() and (p / "postgres").exists():
            return p
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    raise RuntimeError("no unprivileged user to run PostgreSQL as")


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def base_url(self) -> str:
        """The URL of the ``postgres`` database, without its password."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def start(self, durable: bool = False) -> None:
        """``durable``: fsync and synchronous commit as a real server has them (benchmarks);
        the tests run without, for speed."""
        prefix = _run_as()
        self.root.mkdir(parents=True, exist_ok=True)
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if prefix:
            owner = pwd.getpwnam(prefix[2])
            for p in (self.root, pwfile):
                os.chown(p, owner.pw_uid, owner.pw_gid)
        subprocess.run(
            [
                *prefix,
                str(self.bindir / "initdb"),
                "-D",
                str(self.data),
                "--username",
                USER,
                "--pwfile",
                str(pwfile),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        pwfile.unlink()
        log = open(self.root / "server.log", "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                *prefix,
                str(self.bindir / "postgres"),
                "-D",
                str(self.data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-k",
                str(self.root),
                "-c",
                "max_connections=200",
                *(
                    []
                    if durable
                    else [
                        "-c",
                        "fsync=off",
                        "-c",
                        "synchronous_commit=off",
                        "-c",
                        "full_page_writes=off",
                    ]
                ),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.wait_ready()

    def wait_ready(self) -> None:
        """Poll pg_isready until the server accepts connections (or it died)."""
        deadline = time.monotonic() + READY_TIMEOUT
        isready = self.bindir / "pg_isready"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    "PostgreSQL exited at start:\n" + (self.root / "server.log").read_text()
                )
            done = subprocess.run(
                [str(isready), "-h", "127.0.0.1", "-p", str(self.port), "-t", "1", "-q"],
                capture_output=True,
            )
            if done.returncode == 0:
                return
        raise RuntimeError("PostgreSQL did not become ready")

    def create_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=USER,
            password=PASSWORD,
            dbname="postgres",
            autocommit=True,
        ) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return name

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # "smart" shutdown: SIGTERM
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def start_server(durable: bool = False) -> PostgresServer:
    bindir = binaries()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed")
    root = Path(tempfile.mkdtemp(prefix="chainfolio-pg-"))
    server = PostgresServer(bindir=bindir, root=root, port=_free_port())
    try:
        server.start(durable)
    except BaseException:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


def skip_without_postgres() -> None:
    """Skip (clear reason) when the binaries are missing; on CI their absence is a failure."""
    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries (Debian package postgresql) are missing on CI")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql) - skipped here")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    skip_without_postgres()
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh empty database on the shared test server (URL without its password)."""
    return postgres_server.url(postgres_server.create_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The app's database at head revision, once on the embedded SQLite file and once on the
    test PostgreSQL server (skipped, with the reason, where PostgreSQL is not installed)."""
    if request.param == "sqlite":
        from app.storage.database import open_database

        engine = open_database(tmp_path / "chainfolio.sqlite3", tmp_path / "backups")
    else:
        from app.storage.postgres import open_postgres

        server: PostgresServer = request.getfixturevalue("postgres_server")
        engine = open_postgres(server.url(server.create_database()), PASSWORD)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once on the SQLite file and once with ``CHAINFOLIO_DATABASE_URL`` pointing
    at a fresh database on the test server (its password through libpq's PGPASSWORD, since the
    tests' keyring is the "fail" backend). Returns "sqlite" or the URL."""
    monkeypatch.delenv("CHAINFOLIO_DATABASE_URL", raising=False)
    if request.param == "sqlite":
        return "sqlite"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.url(server.create_database())
    monkeypatch.setenv("CHAINFOLIO_DATABASE_URL", url)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    return url


def second_engine(engine: Engine) -> Engine:
    """Another engine on the same database, as a second process would open it."""
    if engine.dialect.name == "postgresql":
        from app.storage.postgres import create_postgres_engine

        return create_postgres_engine(engine.url.set(password=None), PASSWORD)
    from app.storage.database import create_sqlite_engine

    assert engine.url.database
    return create_sqlite_engine(Path(engine.url.database))
