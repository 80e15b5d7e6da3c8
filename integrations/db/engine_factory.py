"""Where the database is and how to connect to it.

`CAREPATH_DATABASE_URL` picks the database; without it carepath keeps an
embedded SQLite file in `$CAREPATH_DATA_DIR/carepath.db` (default `./data`).
SQLite runs in WAL mode, checkpoints in a background thread (`wal_checkpoint.py`), foreign keys on
and a busy timeout, and write transactions start with `BEGIN IMMEDIATE` so two writers queue
instead of failing halfway.

`CAREPATH_SQLITE_SYNC` says when a commit is durable. `full` (the default): the WAL is flushed to
disk (fsync) at every commit, so a command that returned survives a power cut or an operating
system crash, as it does on PostgreSQL. `normal`: no flush at commit, only at checkpoints; a
command survives a crash of carepath itself, but a power cut may roll back the last commands
before the last checkpoint (SQLite's own guarantee for WAL with `synchronous=NORMAL`). Group
commit (`group_commit.py`) shares one flush among the commands that arrive together.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import Session

from integrations.db import wal_checkpoint
from integrations.db.errors import StorageError
from integrations.db.json_codec import compact_json, parse_json

DATABASE_URL_ENV = "CAREPATH_DATABASE_URL"
DATA_DIR_ENV = "CAREPATH_DATA_DIR"
SQLITE_SYNC_ENV = "CAREPATH_SQLITE_SYNC"
SQLITE_SYNC_MODES = {"full": "FULL", "normal": "NORMAL"}  # the setting's value -> SQLite's synchronous
SQLITE_BUSY_TIMEOUT_MS = 10_000
_WRITE_OPTION = "carepath_write"
IDLE_PING_S = 5.0  # PostgreSQL: a pooled connection idle longer is pinged before it is handed out
_CHECKIN = "carepath_checkin"  # in a pool record's info: when the connection went back to the pool
_LOST_AT: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The installation's data directory (SQLite file, pseudonym secret)."""
    env = os.environ if environ is None else environ
    return Path(env.get(DATA_DIR_ENV) or "./data")


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """`CAREPATH_DATABASE_URL`, or the embedded SQLite file in the data directory."""
    env = os.environ if environ is None else environ
    url = env.get(DATABASE_URL_ENV)
    if url:
        return url
    return f"sqlite:///{(data_dir(env) / 'carepath.db').resolve()}"


def is_sqlite(url_or_engine: str | Engine) -> bool:
    name = url_or_engine.dialect.name if isinstance(url_or_engine, Engine) else make_url(url_or_engine).get_backend_name()
    return name == "sqlite"


def sqlite_sync(environ: Mapping[str, str] | None = None) -> str:
    """SQLite's `synchronous` for `CAREPATH_SQLITE_SYNC` (module docstring); StorageError names a
    value that is not one of them."""
    env = os.environ if environ is None else environ
    given = env.get(SQLITE_SYNC_ENV) or "full"
    mode = SQLITE_SYNC_MODES.get(given.strip().lower())
    if mode is None:
        raise StorageError(f"{SQLITE_SYNC_ENV}={given!r} is geen geldige waarde: kies "
                           f"{' of '.join(SQLITE_SYNC_MODES)} (standaard full)")
    return mode


def _sqlite_hooks(engine: Engine, sync: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so BEGIN is ours (see `_on_begin`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sync}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Checkpoints run in the background (integrations/db/wal_checkpoint.py), not in a commit.
        cursor.execute(f"PRAGMA wal_autocheckpoint={wal_checkpoint.AUTOCHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _postgres_hooks(engine: Engine) -> None:
    """Liveness of pooled connections without a round trip on every checkout.

    SQLAlchemy's `pool_pre_ping` sends a SELECT before every checkout: on the command path that was
    one of five round trips a command. Here a connection is pinged only when it sat in the pool
    longer than `IDLE_PING_S` (where the server's idle timeouts and restarts strike), or went back
    to the pool before a connection of this engine was last found dead (`note_connection_lost`); a
    dead one is replaced (DisconnectionError makes the pool try another). A connection that dies
    while in steady use fails the statement it carries; the command path retries what is safe to
    retry (integrations/service.py: snapshot reads always, saves only when the COMMIT was not sent),
    every other path sees an OperationalError as before."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKIN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get(_CHECKIN)
        if returned is None:  # just connected
            return
        if time.monotonic() - returned < IDLE_PING_S and returned > _LOST_AT.get(engine, 0.0):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"a pooled connection was dead ({exc})") from exc


def note_connection_lost(engine: Engine) -> None:
    """A connection of `engine` turned out dead: the ones idle in the pool since are pinged before
    their next use (after a server restart, all of them)."""
    _LOST_AT[engine] = time.monotonic()


def create_db_engine(url: str | None = None, *, pool_size: int = 10) -> Engine:
    """An engine for `url` (default: `database_url()`), creating the SQLite file's directory."""
    url = url or database_url()
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"{DATABASE_URL_ENV} is not a database URL: {url!r} ({exc})") from exc
    if parsed.get_backend_name() == "sqlite":
        sync = sqlite_sync()  # a wrong setting refused before anything is made
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, json_serializer=compact_json, json_deserializer=parse_json)
        _sqlite_hooks(engine, sync)
        if parsed.database and parsed.database != ":memory:":
            wal_checkpoint.start(engine, Path(parsed.database))
        return engine
    # LIFO: the connection a command's read just returned serves its save, and connections left idle
    # at the bottom of the pool are the ones pinged (_postgres_hooks) when traffic grows again.
    parsed = without_jit(parsed)
    engine = create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_use_lifo=True,
                           json_serializer=compact_json, json_deserializer=parse_json)
    _postgres_hooks(engine)
    return engine


def without_jit(url: URL) -> URL:
    """PostgreSQL's JIT off for carepath's connections (`-cjit=off` added to the URL's `options`),
    unless the URL sets `jit` itself. carepath's statements are short; a few have cost estimates above
    `jit_above_cost` on big tables (the inbox's unread count: 130 ms of compiling for 13 ms of work on
    100,000 messages, `bench/bench_inbox.py`)."""
    options = str(url.query.get("options") or "")
    if "jit" in options:
        return url
    return url.update_query_dict({"options": f"{options} -cjit=off".strip()})


def with_options(engine: Engine, **options: Any) -> Engine:
    """`engine.execution_options(**options)`, made once per engine and options and kept on the engine:
    making one copies the engine's event dispatch, about 0.3 ms, which every web request paid
    (`snapshot_read`) before (bench/bench_worklist.py). It shares the engine's pool, also after a
    `dispose()`."""
    key = ("carepath_options", *sorted(options.items()))
    kept: dict[tuple[Any, ...], Engine] = engine.__dict__.setdefault("_carepath_option_engines", {})
    found = kept.get(key)
    if found is None:
        found = kept[key] = engine.execution_options(**options)
    return found


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction takes the write lock at once on SQLite; commits on success."""
    bind = with_options(engine, **{_WRITE_OPTION: True}) if is_sqlite(engine) else engine
    with Session(bind, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for queries; nothing it does is committed."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def snapshot_connection(engine: Engine) -> Iterator[Connection]:
    """`snapshot_read` as a bare connection, for one Core statement without the ORM session around
    it: the session lookup of every web request (`accounts.session_account`)."""
    bind = engine if is_sqlite(engine) else with_options(engine, isolation_level="AUTOCOMMIT")
    with bind.connect() as connection:
        yield connection


@contextmanager
def snapshot_read(engine: Engine) -> Iterator[Session]:
    """A session for a read of one or two independent statements, on PostgreSQL in autocommit: no
    BEGIN and ROLLBACK round trips (each statement is its own snapshot). For the work list with
    its audit entry (each statement its own transaction; `Portal._reading`; the session lookup of
    every request takes `snapshot_connection`); a read that needs one snapshot over several statements takes
    `read_session`. On SQLite it is `read_session`: nothing written in it is kept."""
    if is_sqlite(engine):
        with read_session(engine) as session:
            yield session
        return
    with Session(with_options(engine, isolation_level="AUTOCOMMIT"), expire_on_commit=False) as session:
        yield session

