"""## What it does
Flags a database engine, connection, pool or client created while serving a request: `create_engine(...)`,
`create_async_engine(...)`, `psycopg2.connect`, `psycopg.connect`, `pymysql.connect`, `MySQLdb.connect`,
`mysql.connector.connect`, `asyncpg.connect`/`create_pool`, `aiomysql`/`aiopg`, `pyodbc`, `oracledb`,
`redis.Redis(...)`/`from_url`, `MongoClient(...)`, called in a handler, in a function a handler calls, in a
FastAPI dependency (`Depends(get_db)`) or in a Flask `before_request` hook.

Not reported: engines and clients created at module level or at startup (lifespan, app factory), a function
whose result is memoised (`@lru_cache`) or stored in a module global or an attribute for reuse (a lazy
singleton), `redis.Redis(connection_pool=pool)` (a shared pool), `create_engine(..., poolclass=NullPool)`
(no pooling on purpose, e.g. behind PgBouncer or in serverless functions), and SQLite (`sqlite3.connect` opens
a file; Flask's tutorial opens one per request on purpose; see Options).

## Why it matters
Opening a connection costs a TCP and TLS handshake and authentication: often more than the query itself. A new
engine or client per request also creates a new pool per request, so nothing is ever reused, connections pile
up until the database refuses more (`too many connections`), and latency grows under load.

## Example
```python
def get_db():
    engine = create_engine(settings.DATABASE_URL)
    with Session(engine) as session:
        yield session
```

## Use instead
```python
engine = create_engine(settings.DATABASE_URL, pool_pre_ping=True)  # once, at import or startup

def get_db():
    with Session(engine) as session:
        yield session
```
Raw drivers: create a pool once (`psycopg_pool.ConnectionPool`, `asyncpg.create_pool` in the lifespan) and
borrow a connection per request. There is no deterministic fix: where the shared object lives depends on the
application's structure.

## Options
- `ignore-drivers`: constructors never reported (default: `sqlite3.connect`, `aiosqlite.connect`).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import Finding, Project
from analyzers.rules import Rule
from analyzers.rules.qry00_shared import is_test_or_migration, serving, short_name

WHAT = {"engine": "engine (and its connection pool)", "pool": "connection pool", "client": "client (and its pool)",
        "connection": "database connection"}


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ignore_drivers: list[str] = ["sqlite3.connect", "aiosqlite.connect"]


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    ignored = set(options.ignore_drivers)
    reported: set[str] = set()
    for site in project.calls_of("db_connect"):
        driver = site.detail.get("driver", site.callee)
        if driver in ignored or site.detail.get("cached") or site.detail.get("pooling"):
            continue
        request = serving(project, site.function)
        if request is None or is_test_or_migration(site.location.path):
            continue
        entity = f"{site.function}:{driver}"
        if entity in reported:
            continue
        reported.add(entity)
        what = WHAT.get(site.detail.get("what", ""), WHAT["connection"])
        message = (f"{driver}() creates a new {what} in {short_name(site.function)} on each request (reached from "
                   f"{request}): create it once at startup or module level and reuse its pool")
        yield RULE.finding(message, site.location, entity)


RULE = Rule(
    code="QRY004",
    name="connection-per-request",
    summary="A database engine, connection or client is created on every request instead of pooled",
    check=check,
    options=Options,
)
