"""PostgreSQL for the tests: private databases on the shared server, and a server of a test's own.

The shared server (HUBBUB_TEST_POSTGRES_URL, 127.0.0.1:5432 by default) holds a database per
test process, which every test on PostgreSQL uses. It must keep running for all of them, so a
test that takes the database away starts its own, on a free port, with the installed initdb and
postgres, and may stop and start it again. PostgreSQL refuses to run as root; when the tests do,
that server runs as the `postgres` OS user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from hubbub.config import database_url
from tests.support import POSTGRES_ADMIN_URL, unavailable
from tests.support.processes import START_GUARD, Process, Processes, free_port, wait_until

# Unique per test process, so parallel runs on one server never share a database.
WORKER = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


class Postgres:
    """A private database on the PostgreSQL server, created and dropped by the tests."""

    def __init__(self) -> None:
        try:
            self.admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with self.admin.connect():
                pass
        except OperationalError as error:
            unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL}", error.orig)

    def create(self, name: str) -> URL:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        return make_url(POSTGRES_ADMIN_URL).set(database=name)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# A server of a test's own

BINARIES = Path("/usr/lib/postgresql")
NEEDED = ("initdb", "postgres")
SERVICE_USER = "postgres"
STOP_GUARD = 30.0


def postgres_binaries() -> Path:
    """The bin folder of the newest installed PostgreSQL that has initdb and postgres."""
    found = sorted(
        (p for p in BINARIES.glob("*/bin") if all((p / b).exists() for b in NEEDED)),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        unavailable("initdb and postgres", f"not found under {BINARIES}/*/bin")
    return found[-1]


class PrivatePostgres:
    """One data folder and one port; start() and stop() may be called again and again."""

    def __init__(self, group: Processes, folder: Path, user: str | None) -> None:
        self.group = group
        self.folder = folder
        self.data = folder / "data"
        self.user = user
        self.port = free_port()
        self.bin = postgres_binaries()
        self.process: Process | None = None
        self.started: list[Process] = []

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def initdb(self) -> None:
        args = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres"]
        args += ["--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]
        done = subprocess.run(  # noqa: S603 - our own fixed command line
            args,
            cwd=self.folder,
            user=self.user,
            group=self.user,
            extra_groups=[] if self.user else None,
            capture_output=True,
            text=True,
            timeout=START_GUARD,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def start(self, name: str = "postgres") -> Process:
        """Start the server on its port (loopback only) and wait until it takes connections."""
        args = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port)]
        args += ["-k", str(self.folder), "-c", "listen_addresses=127.0.0.1"]
        process = self.process = self.group.spawn(name, args, os.environ, user=self.user)
        self.started.append(process)

        def accepting() -> bool:
            assert process.running, process.tail()
            return self.accepting()

        wait_until(f"{name} takes connections", accepting, START_GUARD, process.tail)
        return process

    def accepting(self) -> bool:
        try:
            with psycopg.connect(self.url("postgres"), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        """What `pg_ctl stop -m fast` does: SIGINT to the postmaster, which ends every session,
        rolls back their transactions and shuts down cleanly."""
        assert self.process is not None and self.process.popen is not None
        if self.process.running:
            self.process.popen.send_signal(signal.SIGINT)
            self.process.popen.wait(timeout=STOP_GUARD)

    def create_database(self, name: str) -> str:
        """A new database; its SQLAlchemy URL as Hubbub's configuration takes it."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return database_url(self.url(name))


def private_postgres_fixture(processes: Processes) -> Iterator[PrivatePostgres]:
    """The body of a fixture: an initialised, running private server, removed afterwards."""
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            unavailable("a private PostgreSQL", f"running as root and there is no {SERVICE_USER}")
            raise AssertionError("unreachable") from None
        user: str | None = SERVICE_USER
    else:
        user = None
    # Not under pytest's tmp_path: that is private to root, and the server's user must reach it.
    folder = Path(tempfile.mkdtemp(prefix="hubbub-pg-"))
    server = PrivatePostgres(processes, folder, user)
    try:
        if user is not None:
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        server.initdb()
        server.start()
        yield server
    finally:
        # Whatever used the server first: with no client left, the server stops at once. Then
        # its files. The processes fixture prints the logs afterwards.
        for process in reversed(processes.started):
            if all(process is not mine for mine in server.started):
                process.stop()
        processes.stop_all()
        shutil.rmtree(folder, ignore_errors=True)
