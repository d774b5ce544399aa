"""Data access: ORM queries, SQL built from strings, commits, ORM writes and database connections.

Per file, `extract` reads each function's calls and records what they do to the database as `CallSite`s
(kinds below), with the control-flow facts the QRY rules need: whether a call repeats in a loop (and what the
loop iterates), whether two commits or writes can run one after the other in one call of the function, whether
a write sits in a transaction. It also records what makes a function run per request without being called by
a handler: FastAPI `Depends(...)` targets and Flask `before_request` / FastAPI `middleware("http")` hooks.
Across files, `resolve` registers the call sites and adds those per-request functions to the call graph, so
`Project.request_path()` includes them.

Call-site kinds (`CallSite.kind`) and their `detail` keys:

- `db_query`: a read query (SQLAlchemy session, Flask-SQLAlchemy `Model.query`, SQLModel, Django managers,
  DB-API `SELECT`). detail: `orm`, `model`, `label`; `loop_over` (the query a loop around it iterates);
  `batched` (the query filters with `IN` by the loop variable or a slice the loop moves along: a chunked query,
  not N+1); `cached` (the function is memoised). `in_loop` leaves out loops over a display written in the code,
  loops that open a session per item around the query, and loops whose branch holding the query ends by returning
  or raising (it runs once).
- `db_read_all`: every row of a table materialised with no filter or limit. detail: `orm`, `model`, `label`,
  `how`, `returned` (the rows are what the function returns), `counted` (only `len()` of them is used); for
  `len(<query>.all())`, `count_span` and `count_text` (the `count()` query that replaces it).
- `sql_built`: SQL text built by f-string, `%`, `.format()` or `+` with values from the function's parameters
  or locals, reaching an execution sink. detail: `sink`, `how`, `values` (the interpolated expressions that
  carry outside values), `sources` (the parameters or request they come from), `via` (the local holding the
  text).
- `db_commit`: `x.commit()`. detail: `receiver`; `previous` (span of an earlier commit on the same receiver
  that can run before it in the same call); `flush_text` (that commit rewritten as a flush, SQLAlchemy only).
- `db_write`: an ORM write (Django `save()`, `create()`, `update()`, `delete()`, `bulk_*`). detail: `orm`
  (`django`, or `any` for a bare `save()`/`delete()`), `method`, `atomic`, `previous`, and for a fix:
  `def_line`, `def_column`, `atomic_ref` (how the file names `transaction.atomic`), `imports_line`, `is_async`.
- `atomic_call`: a call made inside a transaction (`with transaction.atomic()`, an `@atomic` function).
  `callee` is the qualified name of the called project function (for a DRF serializer or a Django form saved
  there, one site per method of its class that the save can run: `save`, a serializer's `create`/`update`).
- `non_atomic_requests`: a view decorated with `transaction.non_atomic_requests` (itself or, through
  `method_decorator(..., name="dispatch")`, its class): `ATOMIC_REQUESTS` does not wrap it. `callee` is the view.
- `loop_call`: a call to a project function that repeats in a loop. detail: `loop_over`.
- `db_connect`: an engine, connection, pool or client created. detail: `driver`, `what` (`engine`,
  `connection`, `pool`, `client`), `pooling`
  (`nullpool`/`shared-pool`), `cached` (stored once: `lru_cache`, a module global, a lazy attribute).

Spans in `detail` are encoded as "line:column:end_line:end_column" (0-based).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from analyzers.extractors.apps import DjangoSettingsDecl
from analyzers.extractors.callgraph import MethodIndex, SerializerSave, save_targets, serializer_saves
from analyzers.facts import SourceFile
from analyzers.model import CallSite, Location, Position, Span, encode_span
from analyzers.pysyntax import (
    Attr,
    BinOp,
    Call,
    Class,
    Const,
    Expr,
    FString,
    Function,
    Module,
    Name,
    Raw,
    Seq,
    Subscript,
    expr_text,
    iter_calls,
)
from analyzers.resolve import ModelBuilder

# --------------------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class DependencyEdge:
    """`caller` (a handler or a dependency) makes the framework call `target` on each request."""

    caller: str
    target: str  # qualified as far as this file's imports tell
    # The target is a type annotation that may be a `DependencyAlias` (`db: SessionDep`), nothing otherwise.
    via_alias: bool = False


@dataclass(frozen=True, slots=True)
class DependencyAlias:
    """`SessionDep = Annotated[Session, Depends(get_db)]`: the alias stands for its dependency."""

    name: str
    target: str


@dataclass(frozen=True, slots=True)
class RequestHook:
    """A function the framework runs around every request (`before_request`, an HTTP middleware)."""

    function: str
    framework: str


# What Django runs of a middleware class on every request.
MIDDLEWARE_METHODS = ("__call__", "process_request", "process_view", "process_response", "process_exception",
                      "process_template_response")


@dataclass(frozen=True, slots=True)
class AtomicRequests:
    """Django's `ATOMIC_REQUESTS = True` in a DATABASES entry: every view runs in a transaction."""

    path: str


# --------------------------------------------------------------------------------------------- vocabulary

# Keywords Django's Model.save()/delete() never take: `FieldFile.delete(save=False)` removes a stored file,
# `image.save(fp=..., format=...)` writes an image (PIL).
NOT_MODEL_SAVE_KEYWORDS = frozenset({"save", "fp", "format"})
NON_ATOMIC = "non_atomic_requests"  # Django's decorator that runs a view outside ATOMIC_REQUESTS' transaction

SESSION_NAMES = frozenset({"session", "db", "sess", "db_session", "dbsession", "async_session", "database",
                           "conn", "connection", "cnx", "con", "uow", "s"})
CURSOR_HINTS = ("cur", "cursor", "conn", "connection", "cnx", "con", "db", "session", "database", "pool")
SQLALCHEMY_READS = frozenset({"query", "get", "get_one", "execute", "scalars", "scalar", "exec"})
DBAPI_READS = frozenset({"execute", "fetch", "fetchrow", "fetchval", "fetch_all", "fetch_one", "fetch_val"})
WRITE_METHODS = frozenset({"create", "update", "delete", "bulk_create", "bulk_update", "get_or_create",
                           "update_or_create", "insert", "values"})
# Query methods that neither filter nor bound the rows they return.
UNBOUNDED_METHODS = frozenset({"all", "order_by", "options", "select_related", "prefetch_related", "only", "defer",
                               "values", "values_list", "distinct", "annotate", "join", "outerjoin", "scalars",
                               "unique", "with_entities", "execution_options", "using", "query", "select",
                               "execute", "exec", "objects"})
MATERIALISERS = frozenset({"list", "tuple", "set", "sorted", "len", "sum", "max", "min", "frozenset",
                           "enumerate", "dict"})
SELECT_NAMES = frozenset({"sqlalchemy.select", "sqlalchemy.future.select", "sqlalchemy.sql.select",
                          "sqlalchemy.sql.expression.select", "sqlmodel.select"})
TEXT_NAMES = frozenset({"sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text",
                        "sqlmodel.text"})
RAW_SQL_NAMES = frozenset({"django.db.models.expressions.RawSQL", "django.db.models.RawSQL",
                           "pandas.read_sql", "pandas.read_sql_query", "sqlalchemy.literal_column"})
SQL_METHOD_SINKS = frozenset({"execute", "executemany", "executescript", "exec_driver_sql", "raw", "mogrify",
                              "fetch", "fetchrow", "fetchval", "fetch_all", "fetch_one", "fetch_val",
                              "execute_many", "iterate"})
SQL_KEYWORDS = re.compile(
    r"(?i)\b(select|insert|update|delete|where|from|join|values|set|order\s+by|group\s+by|limit|offset|create|"
    r"drop|alter|truncate|returning|union|having|like|and|or|in)\b")
SQL_START = re.compile(r"(?is)^\W*(select|with)\b")
USER_INPUT_NAMES = frozenset({"flask.request", "quart.request", "bottle.request", "sanic.request"})
# Calls whose result cannot carry SQL syntax (numbers, escaped identifiers).
SANITIZERS = frozenset({"int", "float", "len", "bool", "round", "abs", "hash", "id", "count", "isoformat",
                        "quote_ident", "escape_string", "escape_identifier", "Identifier"})
SAFE_ANNOTATIONS = frozenset({"int", "float", "bool", "UUID", "uuid.UUID", "date", "datetime", "Decimal",
                              "datetime.date", "datetime.datetime", "PositiveInt", "conint", "NonNegativeInt"})
CONNECT_CALLEES = {
    "sqlalchemy.create_engine": "engine",
    "sqlalchemy.engine.create_engine": "engine",
    "sqlalchemy.ext.asyncio.create_async_engine": "engine",
    "sqlmodel.create_engine": "engine",
    "psycopg2.connect": "connection",
    "psycopg.connect": "connection",
    "psycopg.Connection.connect": "connection",
    "psycopg.AsyncConnection.connect": "connection",
    "pymysql.connect": "connection",
    "MySQLdb.connect": "connection",
    "mysql.connector.connect": "connection",
    "asyncpg.connect": "connection",
    "asyncpg.create_pool": "pool",
    "aiomysql.connect": "connection",
    "aiomysql.create_pool": "pool",
    "aiopg.connect": "connection",
    "aiopg.create_pool": "pool",
    "psycopg2.pool.SimpleConnectionPool": "pool",
    "psycopg2.pool.ThreadedConnectionPool": "pool",
    "psycopg_pool.ConnectionPool": "pool",
    "psycopg_pool.AsyncConnectionPool": "pool",
    "pyodbc.connect": "connection",
    "cx_Oracle.connect": "connection",
    "oracledb.connect": "connection",
    "sqlite3.connect": "connection",
    "aiosqlite.connect": "connection",
    "redis.Redis": "client",
    "redis.StrictRedis": "client",
    "redis.from_url": "client",
    "redis.Redis.from_url": "client",
    "redis.asyncio.Redis": "client",
    "redis.asyncio.from_url": "client",
    "redis.asyncio.Redis.from_url": "client",
    "aioredis.from_url": "client",
    "aioredis.Redis": "client",
    "pymongo.MongoClient": "client",
    "motor.motor_asyncio.AsyncIOMotorClient": "client",
}
CACHE_DECORATORS = frozenset({"lru_cache", "cache", "alru_cache", "cached_property", "cached", "memoize",
                              "memoized", "singleton"})
_ATOMIC_REQUESTS = re.compile(rb"""["']?ATOMIC_REQUESTS["']?\s*[\]:=,]\s*True""")
MAX_DEPTH = 6


# --------------------------------------------------------------------------------------------- spans


def within(inner: Span, outer: Span) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end  # positions are (line, column) tuples


def before(first: Span, second: Span) -> bool:
    return first.end <= second.start


class _Lines:
    """The file's text by line, to slice expressions back out of it (columns count characters)."""

    def __init__(self, data: bytes) -> None:
        self.lines = data.decode("utf-8", errors="replace").split("\n")

    def text(self, span: Span) -> str:
        start, end = span.start, span.end
        if not 0 <= start.line <= end.line < len(self.lines):
            return ""
        if start.line == end.line:
            return self.lines[start.line][start.column:end.column]
        parts = [self.lines[start.line][start.column:], *self.lines[start.line + 1:end.line],
                 self.lines[end.line][:end.column]]
        return "\n".join(parts)


# --------------------------------------------------------------------------------------------- call chains


@dataclass(frozen=True, slots=True)
class Link:
    name: str  # the head's dotted name ("db.session.query"), then method names
    call: Call | None


def links(expr: Expr | None) -> list[Link]:
    """A call chain innermost first: `db.query(A).filter(x).all()` → db.query(A), filter(x), all()."""
    found: list[Link] = []
    current = expr
    while current is not None:
        if isinstance(current, Call):
            func = current.func
            if isinstance(func, Name):
                found.append(Link(func.dotted, current))
                break
            if isinstance(func, Attr):
                found.append(Link(func.attr, current))
                current = func.value
                continue
            return []
        if isinstance(current, Attr):
            found.append(Link(current.attr, None))
            current = current.value
            continue
        if isinstance(current, Name):
            found.append(Link(current.dotted, None))
            break
        return []
    return list(reversed(found))


def is_model_name(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return bool(last) and last[0].isupper() and not last.isupper()


def _root_model(expr: Expr | None) -> str | None:
    """`Order` for `Order` or `Order.id`, None for anything that is not a model class (or its column)."""
    if not isinstance(expr, Name):
        return None
    parts = expr.dotted.split(".")
    for part in parts:
        if is_model_name(part):
            return part
    return None


def _session_like(receiver: str) -> bool:
    last = receiver.rsplit(".", 1)[-1].lower()
    return last in SESSION_NAMES or last.endswith("session")


@dataclass(slots=True)
class Query:
    orm: str
    model: str
    label: str
    # Method names after the manager/session, outermost last; for a select(...) statement, its methods too.
    methods: list[str] = field(default_factory=list)
    models_only: bool = True  # the selected entities are whole models or their columns (no aggregates)
    write: bool = False


def recognise_query(module: Module, call: Call, values: dict[str, list[Expr]] | None = None,
                    branches: Sequence[tuple[Span, ...]] = ()) -> Query | None:
    """What query a call chain runs, if it runs one (reads and writes alike). `values`: the function's locals,
    for a statement built first (`statement = select(Order)`, then `session.exec(statement)`), and `branches`
    the bodies of its if statements (a filter added under an `if` alone may not apply)."""
    chain = links(call)
    if not chain:
        return None
    head = chain[0].name
    parts = head.split(".")
    rest = [link.name for link in chain[1:]]
    if len(parts) >= 3 and parts[-2] in ("objects", "_default_manager") and is_model_name(parts[-3]):
        methods = [parts[-1], *rest]
        return Query("django", parts[-3], f"{parts[-3]}.objects.{parts[-1]}", methods,
                     write=bool(set(methods) & WRITE_METHODS))
    if len(parts) >= 3 and parts[-2] == "query" and is_model_name(parts[-3]):
        methods = [parts[-1], *rest]
        return Query("flask_sqlalchemy", parts[-3], f"{parts[-3]}.query.{parts[-1]}", methods,
                     write=bool(set(methods) & {"delete", "update"}))
    resolved = module.resolve(head)
    if resolved in ("django.shortcuts.get_object_or_404", "django.shortcuts.get_list_or_404"):
        first = chain[0].call.args[0] if chain[0].call is not None and chain[0].call.args else None
        model = _root_model(first) or "?"
        return Query("django", model, parts[-1], [parts[-1]], models_only=False)
    if len(parts) < 2:
        return None
    receiver, method = ".".join(parts[:-1]), parts[-1]
    head_call = chain[0].call
    first = head_call.args[0] if head_call is not None and head_call.args else None
    if method in ("get_or_404", "first_or_404", "one_or_404") and _session_like(receiver):
        statement = _select_query(module, first)
        model = _root_model(first) or (statement.model if statement else "?")
        return Query("flask_sqlalchemy", model, f"{receiver}.{method}", [method], models_only=False)
    refined: list[str] = []
    if isinstance(first, Name) and values and first.dotted in values and method in SQLALCHEMY_READS:
        refined = _refinements(first.dotted, values[first.dotted], branches)
        first = next((value for value in values[first.dotted] if isinstance(value, Call)), first)
    if method in SQLALCHEMY_READS:
        found = _session_query(module, receiver, method, first, head_call, rest)
        if found is not None:
            found.methods[1:1] = refined
            return found
    if method in DBAPI_READS and any(hint in receiver.rsplit(".", 1)[-1].lower() for hint in CURSOR_HINTS):
        sql = _string_start(first)
        if sql is not None and SQL_START.match(sql):
            return Query("sql", "?", f"{receiver}.{method}", [method, *rest], models_only=False)
    return None


def _refinements(name: str, assigned: list[Expr], branches: Sequence[tuple[Span, ...]]) -> list[str]:
    """What later assignments add to a statement built step by step: `stmt = stmt.where(...)` adds "where";
    `stmt = restrict(stmt, ...)` hands it to a function that may filter it, "?" (anything but unbounded).
    Under an if statement they count only when every one of its bodies (at least two: an `else` too) adds
    something: `if f: stmt = stmt.where(f)` alone leaves the unfiltered path."""
    steps = [(value, _refinement(name, value)) for value in assigned[1:]]
    steps = [(value, methods) for value, methods in steps if methods]
    added: list[str] = []
    for value, methods in steps:
        bodies = next((bodies for bodies in branches if any(within(value.span, body) for body in bodies)), None)
        if bodies is None or (len(bodies) > 1 and all(
                any(within(other.span, body) for other, _ in steps) for body in bodies)):
            added.extend(methods)
    return added


def _refinement(name: str, value: Expr) -> list[str]:
    chain = links(value)
    if chain and chain[0].name.split(".", 1)[0] == name:
        return [*chain[0].name.split(".")[1:], *(link.name for link in chain[1:])]
    if isinstance(value, Call) and any(isinstance(arg, Name) and arg.dotted == name for arg in value.args):
        return ["?"]
    return []


def _session_query(module: Module, receiver: str, method: str, first: Expr | None, head_call: Call | None,
                   rest: list[str]) -> Query | None:
    session = _session_like(receiver)
    if method == "query":
        model = _root_model(first)
        if not (session or model) or head_call is None or not head_call.args:
            return None
        models_only = all(_root_model(arg) is not None for arg in head_call.args)
        return Query("sqlalchemy", model or "?", f"{receiver}.query({model or '...'})", ["query", *rest],
                     models_only, write=bool(set(rest) & {"delete", "update"}))
    if method in ("get", "get_one"):
        model = _root_model(first)
        if not session or model is None or not isinstance(first, Name):
            return None
        return Query("sqlalchemy", model, f"{receiver}.{method}({model})", [method], models_only=False)
    statement = _select_query(module, first)
    if statement is not None:
        statement.methods = [method, *statement.methods, *rest]
        statement.label = f"{receiver}.{method}(select({statement.model}))"
        return statement
    sql = _string_start(_text_argument(module, first))
    if sql is not None and SQL_START.match(sql) and (session or method == "execute"):
        return Query("sql", "?", f"{receiver}.{method}", [method, *rest], models_only=False)
    return None


def _select_query(module: Module, expr: Expr | None) -> Query | None:
    """`select(Order).where(...)` (SQLAlchemy 2 / SQLModel / `db.select`)."""
    chain = links(expr)
    if not chain or chain[0].call is None:
        return None
    head = chain[0].name
    if module.resolve(head) not in SELECT_NAMES and not head.endswith(".select"):
        return None
    args = chain[0].call.args
    if not args:
        return None
    model = next((found for found in (_root_model(arg) for arg in args) if found), None)
    models_only = all(_root_model(arg) is not None for arg in args)
    methods = ["select", *(link.name for link in chain[1:])]
    return Query("sqlalchemy", model or "?", f"select({model or '...'})", methods, models_only)


def _text_argument(module: Module, expr: Expr | None) -> Expr | None:
    """The SQL inside `text("...")`, or the expression itself."""
    if isinstance(expr, Call) and isinstance(expr.func, Name) and (
            module.resolve(expr.func.dotted) in TEXT_NAMES or expr.func.dotted.endswith(".text")):
        return expr.args[0] if expr.args else None
    return expr


def _string_start(expr: Expr | None) -> str | None:
    if isinstance(expr, Const) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, FString):
        return expr.text.lstrip("rRbBfFuU").lstrip("'\"")
    return None


# --------------------------------------------------------------------------------------------- function scope


# A `with` that opens a session of its own (`session_scope()`, `Session(engine)`, `get_session()`), not one that
# begins a transaction on a session already open (`session.begin()`).
SESSION_OPENER = re.compile(r"(?:\w+\.)*\w*session\w*\s*\(", re.IGNORECASE)


@dataclass(slots=True)
class LoopInfo:
    span: Span
    iterable: Expr | None
    targets: tuple[str, ...]


class Scope:
    """One function: its parameters, locals and loops, and where its names come from."""

    def __init__(self, module: Module, fn: Function, lines: _Lines) -> None:
        self.module = module
        self.fn = fn
        self.lines = lines
        self.params = {param.name: param for param in fn.params}
        self.values: dict[str, list[Expr]] = {}
        for assign in [*fn.assigns, *fn.augmented]:
            if assign.value is not None:
                for target in assign.targets:
                    self.values.setdefault(target, []).append(assign.value)
        self.loops = [LoopInfo(span, iterable, targets) for span, iterable, targets in fn.loop_sources]
        self.loop_targets: dict[str, Expr] = {}
        for loop in self.loops:
            for target in loop.targets:
                if loop.iterable is not None:
                    self.loop_targets.setdefault(target, loop.iterable)
        self.calls: list[Call] = [call for outer in fn.calls for call in iter_calls(outer)]

    def repeating_loops(self, span: Span) -> list[LoopInfo]:
        """The for loops and comprehensions whose body holds `span` (not their iterable, evaluated once), over
        data: a loop over a few constants (`for status in ("new", "paid")`, an Enum) is not N+1. Nor is a loop
        that opens a session for each item around `span` (`for id in ids: with session_scope() as s: ...`):
        each item is its own unit of work, so one failure does not roll back the others, and the query cannot
        move out of the loop without giving that up."""
        return [loop for loop in self.loops if loop.iterable is not None and within(span, loop.span)
                and not within(span, loop.iterable.span) and not self.fixed(loop.iterable, 0)
                and not self.session_per_item(loop, span) and not self.runs_once(loop, span)]

    def runs_once(self, loop: LoopInfo, span: Span) -> bool:
        """`span` sits in a branch of the loop's body that ends by returning or raising (`for key in keys: if
        key.matches(given): user = session.get(...); return user`): the query runs once, for the item found."""
        return any(within(body, loop.span) and within(span, body) and any(
            within(end, body) and end.end == body.end and end.start.column == body.start.column
            for end in self.fn.exits) for bodies in self.fn.branches for body in bodies)

    def session_per_item(self, loop: LoopInfo, span: Span) -> bool:
        return any(within(with_span, loop.span) and within(span, with_span)
                   and any(SESSION_OPENER.match(expr_text(context)) for context in contexts)
                   for with_span, contexts in self.fn.withs)

    def fixed(self, expr: Expr | None, depth: int) -> bool:
        """An iterable of constants known in the code: literals, UPPER_CASE constants, an Enum class."""
        if expr is None or depth > MAX_DEPTH:
            return False
        if isinstance(expr, Const):
            return True
        if isinstance(expr, Seq) and expr.kind != "dict":
            # A display written out in the code runs as many times as it has items, whatever they are; an empty
            # list is filled later (its size is unknown), and `[*rows]` is as long as `rows`.
            return bool(expr.items) and not any(isinstance(item, Raw) and item.kind == "list_splat"
                                                for item in expr.items)
        if isinstance(expr, Seq):
            return bool(expr.items) and all(self.fixed(item, depth + 1) for item in expr.items)
        if isinstance(expr, Name):
            last = expr.dotted.rsplit(".", 1)[-1]
            if expr.dotted in self.values:
                return all(self.fixed(value, depth + 1) for value in self.values[expr.dotted])
            return last.isupper() or (is_model_name(last) and "." not in expr.dotted and last not in self.params)
        if isinstance(expr, Call) and isinstance(expr.func, Name) and expr.func.dotted in (
                "range", "enumerate", "sorted", "list", "tuple", "reversed"):
            return bool(expr.args) and all(self.fixed(arg, depth + 1) for arg in expr.args)
        if isinstance(expr, Call) and isinstance(expr.func, Name) and expr.func.dotted.endswith(".items") \
                and expr.func.dotted.count(".") == 1:
            return self.fixed(Name(expr.span, expr.func.dotted.rsplit(".", 1)[0]), depth + 1)
        return False

    def in_any_loop(self, span: Span) -> bool:
        return any(within(span, loop.span) and not (loop.iterable is not None and within(span, loop.iterable.span))
                   for loop in self.loops)

    def in_handler(self, span: Span) -> bool:
        return any(within(span, handler) for _, handler, _ in self.fn.handlers)

    def local_query(self, expr: Expr | None, depth: int = 0) -> Query | None:
        """The query an expression runs, through local variables (`orders = db.query(Order).all()`)."""
        if depth > MAX_DEPTH or expr is None:
            return None
        if isinstance(expr, Call):
            return recognise_query(self.module, expr, self.values, self.fn.branches)
        if isinstance(expr, Name) and expr.dotted in self.values:
            for value in self.values[expr.dotted]:
                found = self.local_query(value, depth + 1)
                if found is not None:
                    return found
        return None

    # ---- control flow

    def _bodies(self, span: Span) -> set[tuple[int, int]]:
        found = {(index, body_index) for index, bodies in enumerate(self.fn.branches)
                 for body_index, body in enumerate(bodies) if within(span, body)}
        found.update((-1 - index, 0) for index, (_, handler, _) in enumerate(self.fn.handlers)
                     if within(span, handler))
        return found

    def _loop_set(self, span: Span) -> set[int]:
        return {index for index, loop in enumerate(self.loops) if within(span, loop.span)}

    def can_follow(self, first: Span, second: Span) -> bool:
        """Whether `second` can run after `first` in one call: not in exclusive branches, and no return or
        raise that always runs after `first` stands between them."""
        if not before(first, second):
            return False
        for bodies in self.fn.branches:
            in_first = [index for index, body in enumerate(bodies) if within(first, body)]
            in_second = [index for index, body in enumerate(bodies) if within(second, body)]
            if in_first and in_second and in_first != in_second:
                return False
        first_bodies, first_loops = self._bodies(first), self._loop_set(first)
        for exit_span in self.fn.exits:
            if before(first, exit_span) and before(exit_span, second) or (
                    within(first, exit_span) and before(first, second) and not within(second, exit_span)):
                if self._bodies(exit_span) <= first_bodies and self._loop_set(exit_span) <= first_loops:
                    return False
        return True


# --------------------------------------------------------------------------------------------- taint


class Taint:
    """Which function parameters (or request objects) an expression's value comes from.

    Works on the expression's source text (Python's `ast`), so f-strings and comprehensions are seen whole.
    A value is tainted when it comes from a parameter, from a local computed from one, or from the request;
    module constants, literals, numbers and escaped identifiers are not.
    """

    def __init__(self, scope: Scope, through_calls: bool = True) -> None:
        self.scope = scope
        # Whether a call's result carries its arguments' taint; False trusts helpers (`build_where(filters)`).
        self.through_calls = through_calls
        self._names: dict[str, set[str]] = {}
        self._active: set[str] = set()

    def parse(self, expr: Expr) -> ast.expr | None:
        text = self.scope.lines.text(expr.span)
        if not text:
            return None
        try:
            return ast.parse(f"(\n{text}\n)", mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    def of_expr(self, expr: Expr | None) -> set[str]:
        if expr is None:
            return set()
        node = self.parse(expr)
        return self.of_node(node, {}, 0) if node is not None else set()

    def of_node(self, node: ast.AST, bound: dict[str, set[str]], depth: int) -> set[str]:
        if depth > 40:
            return set()
        walk = lambda child: self.of_node(child, bound, depth + 1)  # noqa: E731
        if isinstance(node, ast.Constant):
            return set()
        if isinstance(node, ast.Name):
            return bound[node.id] if node.id in bound else self.of_name(node.id)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, walk)
        if isinstance(node, ast.Subscript):
            return walk(node.value)  # `COLUMNS[key]` picks among the container's own values
        if isinstance(node, ast.Call):
            return self._call(node, walk)
        if isinstance(node, ast.JoinedStr):
            return set().union(*(walk(value) for value in node.values))
        if isinstance(node, ast.FormattedValue):
            spec = _unparsed(node.format_spec) if node.format_spec is not None else ""
            return set() if re.search(r"[dfeEgG%]'?\)?$", spec) else walk(node.value)
        if isinstance(node, ast.IfExp):
            return walk(node.body) | walk(node.orelse)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self._comprehension(node, bound, depth)
        if isinstance(node, (ast.Compare, ast.UnaryOp)):
            return set()  # a boolean or a number, not text
        found: set[str] = set()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                found |= walk(child)
        return found

    def _attribute(self, node: ast.Attribute, walk) -> set[str]:
        value = node.value
        if isinstance(value, ast.Name) and value.id in ("self", "cls"):
            return set()  # an object's own state (configuration, a table name), not a caller's value
        if node.attr.startswith("__"):
            return set()  # `Model.__tablename__`
        return walk(value)

    def _call(self, node: ast.Call, walk) -> set[str]:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in SANITIZERS or not self.through_calls:
            return set()
        found = walk(func.value) if isinstance(func, ast.Attribute) else set()
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            found |= walk(argument)
        return found

    def _comprehension(self, node, bound: dict[str, set[str]], depth: int) -> set[str]:
        inner = dict(bound)
        for generator in node.generators:
            source = self.of_node(generator.iter, inner, depth + 1)
            for target in ast.walk(generator.target):
                if isinstance(target, ast.Name):
                    inner[target.id] = source
        elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        return set().union(*(self.of_node(element, inner, depth + 1) for element in elements))

    def of_name(self, name: str) -> set[str]:
        if name in self._names:
            return self._names[name]
        if name in self._active or name.isupper():
            return set()
        self._active.add(name)
        try:
            found = self._resolve_name(name)
        finally:
            self._active.discard(name)
        self._names[name] = found
        return found

    def _resolve_name(self, name: str) -> set[str]:
        scope = self.scope
        if name in scope.params and name not in ("self", "cls"):
            param = scope.params[name]
            return set() if _safe_annotation(param.annotation) else {name}
        if name in scope.values:
            return set().union(*(self.of_expr(value) for value in scope.values[name]))
        if name in scope.loop_targets:
            return self.of_expr(scope.loop_targets[name])
        if scope.module.resolve(name) in USER_INPUT_NAMES:
            return {name}
        return set()


# --------------------------------------------------------------------------------------------- built SQL


@dataclass(slots=True)
class Built:
    how: str
    values: list[ast.expr]
    constant_text: str
    via: str = ""


class SqlBuilding:
    """Recognises SQL text built from values (f-string, `%`, `.format()`, `+`), through local variables."""

    def __init__(self, scope: Scope, taint: Taint) -> None:
        self.scope = scope
        self.taint = taint

    def built(self, expr: Expr | None, depth: int = 0) -> Built | None:
        if expr is None or depth > MAX_DEPTH or isinstance(expr, Const):
            return None
        if isinstance(expr, Name) and "." not in expr.dotted:
            return self._through_local(expr.dotted, depth)
        node = self.taint.parse(expr)
        return self.of_node(node, depth) if node is not None else None

    def _through_local(self, name: str, depth: int) -> Built | None:
        values = self.scope.values.get(name, [])
        found = [built for built in (self.built(value, depth + 1) for value in values) if built is not None]
        if not found:
            return None
        texts = [self._constant_text_of(value, depth + 1) for value in values]
        result = Built(found[0].how, [value for built in found for value in built.values],
                       " ".join(texts), name)
        return result

    def of_node(self, node: ast.expr, depth: int) -> Built | None:
        if isinstance(node, ast.JoinedStr):
            values: list[ast.expr] = [part for part in node.values if isinstance(part, ast.FormattedValue)]
            return Built("an f-string", values, self.constant_text(node, depth)) if values else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and self._is_text(node.left):
            return Built("%-formatting", [node.right], self.constant_text(node.left, depth))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            operands = _flatten_add(node)
            if not any(self._is_text(operand) for operand in operands):
                return None
            pieces: list[ast.expr] = []
            for operand in operands:
                if isinstance(operand, ast.JoinedStr):
                    pieces.extend(part for part in operand.values if isinstance(part, ast.FormattedValue))
                elif not isinstance(operand, ast.Constant):
                    pieces.append(operand)
            return Built("concatenation", pieces, self.constant_text(node, depth)) if pieces else None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            values = [*node.args, *(keyword.value for keyword in node.keywords)]
            return Built(".format()", values, self.constant_text(node.func.value, depth)) if values else None
        return None

    def _is_text(self, node: ast.expr) -> bool:
        return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))

    def constant_text(self, node: ast.expr, depth: int) -> str:
        """The literal text of a built string (to tell SQL from other text), through locals and constants."""
        if depth > MAX_DEPTH:
            return ""
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else ""
        if isinstance(node, ast.JoinedStr):
            return " ".join(self.constant_text(part, depth) for part in node.values)
        if isinstance(node, ast.BinOp):
            return f"{self.constant_text(node.left, depth)} {self.constant_text(node.right, depth)}"
        if isinstance(node, ast.Name):
            if node.id in self.scope.values:
                return " ".join(self._constant_text_of(value, depth + 1) for value in self.scope.values[node.id])
            return self._module_constant(node.id)
        return ""

    def _constant_text_of(self, expr: Expr, depth: int) -> str:
        if isinstance(expr, Const):
            return expr.value if isinstance(expr.value, str) else ""
        node = self.taint.parse(expr)
        return self.constant_text(node, depth) if node is not None else ""

    def _module_constant(self, name: str) -> str:
        for assign in self.scope.module.assigns:
            if name in assign.targets and isinstance(assign.value, Const) and isinstance(assign.value.value, str):
                return assign.value.value
        return ""


def _safe_annotation(annotation: Expr | None) -> bool:
    """A parameter typed as a number, a UUID or a date cannot carry SQL (`user_id: int`, `Optional[int]`)."""
    if isinstance(annotation, Name):
        return annotation.dotted in SAFE_ANNOTATIONS
    if isinstance(annotation, Subscript) and isinstance(annotation.value, Name):
        wrapper = annotation.value.dotted.rsplit(".", 1)[-1]
        items = [item for item in annotation.index if not (isinstance(item, Const) and item.value is None)]
        if wrapper == "Annotated":
            return bool(items) and _safe_annotation(items[0])
        return wrapper in ("Optional", "Union") and bool(items) and all(_safe_annotation(item) for item in items)
    if isinstance(annotation, BinOp) and annotation.op == "|":
        sides = [side for side in (annotation.left, annotation.right)
                 if not (isinstance(side, Const) and side.value is None)]
        return bool(sides) and all(_safe_annotation(side) for side in sides)
    return False


def _flatten_add(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*_flatten_add(node.left), *_flatten_add(node.right)]
    return [node]


# --------------------------------------------------------------------------------------------- extraction


def extract(source: SourceFile) -> list[object]:
    module = source.python
    if module is None:
        return []
    lines = _Lines(source.data)
    records: list[object] = []
    for fn in module.functions:
        if fn.calls:  # a function that calls nothing does nothing to a database
            records.extend(_FunctionScan(module, fn, lines, source.path).scan())
    records.extend(_module_connects(module, source.path))
    records.extend(_dependencies(module))
    records.extend(_hooks(module))
    if b"ATOMIC_REQUESTS" in source.data and _ATOMIC_REQUESTS.search(source.data):
        records.append(AtomicRequests(source.path))
    return records


class _FunctionScan:
    def __init__(self, module: Module, fn: Function, lines: _Lines, path: str) -> None:
        self.module = module
        self.fn = fn
        self.path = path
        self.scope = Scope(module, fn, lines)
        self.qualified = f"{module.module}.{fn.qualname}"
        self._recognised: dict[int, Query | None] = {}
        self._is_cached: bool | None = None

    def query(self, call: Call) -> Query | None:
        """`recognise_query` once per call (each concern asks about the same calls)."""
        key = id(call)
        if key not in self._recognised:
            self._recognised[key] = recognise_query(self.module, call, self.scope.values, self.fn.branches)
        return self._recognised[key]

    def site(self, kind: str, callee: str, span: Span, in_loop: bool = False,
             detail: dict[str, str] | None = None) -> CallSite:
        kept = {key: value for key, value in (detail or {}).items() if value}
        return CallSite(kind, callee, Location(self.path, span), self.qualified, self.fn.is_async, in_loop,
                        detail=kept)

    def scan(self) -> list[CallSite]:
        if not self.fn.calls:
            return []
        sites: list[CallSite] = []
        sites.extend(self.queries())
        sites.extend(self.unbounded_reads())
        sites.extend(self.built_sql())
        sites.extend(self.commits())
        sites.extend(self.writes())
        sites.extend(self.non_atomic_views())
        sites.extend(self.connects())
        sites.extend(self.loop_calls())
        return sites

    def loop_calls(self) -> Iterator[CallSite]:
        """Calls to functions (by name) that repeat in a loop: the callee may run a query each time."""
        if not self.scope.loops:
            return  # most functions loop over nothing
        for call in self.scope.calls:
            loops = self.scope.repeating_loops(call.span)
            if not loops or self.query(call) is not None:
                continue
            callee = _callee(self.module, self.fn, call)
            if callee and "." in callee and _names_a_function(self.module, call):
                loop_over = next((found.label for found in (self.scope.local_query(loop.iterable) for loop in loops)
                                  if found is not None), "")
                yield self.site("loop_call", callee, call.span, True, {"loop_over": loop_over})

    # ---- QRY001: queries, and whether they repeat

    def queries(self) -> Iterator[CallSite]:
        consumed: list[Span] = []
        for call in self.scope.calls:
            if any(within(call.span, span) for span in consumed):
                continue
            query = self.query(call)
            if query is None:
                continue
            consumed.append(call.span)
            if query.write:
                continue
            loops = self.scope.repeating_loops(call.span)
            loop_over = next((found.label for found in (self.scope.local_query(loop.iterable) for loop in loops)
                              if found is not None), "")
            yield self.site("db_query", query.label, call.span, bool(loops), {
                "orm": query.orm, "model": query.model, "label": query.label, "loop_over": loop_over,
                "batched": "true" if loops and self._batched(call, loops) else "",
                "cached": "true" if self._cached() else ""})

    def _batched(self, call: Call, loops: list[LoopInfo]) -> bool:
        """A query filtering by the loop variable with IN (`id__in=chunk`, `.in_(batch)`): chunked on purpose."""
        targets = {target for loop in loops for target in loop.targets}
        for inner in iter_calls(call):
            for key, value in inner.kwargs:
                if key.endswith("__in") and self.from_loop(value, targets):
                    return True
            if isinstance(inner.func, (Attr, Name)) and inner.func_name.endswith("in_") and any(
                    self.from_loop(arg, targets) for arg in inner.args):
                return True
        return False

    def from_loop(self, expr: Expr, targets: set[str]) -> bool:
        """A chunk of keys: the loop variable, or a slice the loop moves along (`ids[start:start + 500]` in
        `for start in range(0, len(ids), 500)`), written in place or held by a local."""
        if isinstance(expr, Name) and expr.dotted in targets:
            return True
        values = self.scope.values.get(expr.dotted, []) if isinstance(expr, Name) else [expr]
        return any(isinstance(value, Subscript) and any(
            isinstance(index, Raw) and index.kind == "slice" and any(
                re.search(rf"\b{re.escape(target)}\b", index.text) for target in targets)
            for index in value.index) for value in values)

    # ---- QRY005: whole tables materialised

    def unbounded_reads(self) -> Iterator[CallSite]:
        # What wraps the calls and what the function returns are worked out for the first unbounded query only:
        # most functions run none.
        materialised: dict[tuple[Position, Position], tuple[str, Span, bool]] | None = None
        returned: list[Span] = []
        seen: list[Span] = []
        for call in self.scope.calls:
            if any(within(call.span, span) for span in seen):
                continue
            query = self.query(call)
            if query is None or query.write or query.model == "?" or not query.models_only:
                continue
            if not all(method in UNBOUNDED_METHODS for method in query.methods):
                continue
            if materialised is None:
                materialised, returned = self._materialised(), self._returned_spans()
            how = "all()" if query.methods[-1] == "all" and query.orm != "django" else ""
            wrapper = materialised.get((call.span.start, call.span.end))
            if wrapper is not None:
                how = wrapper[0]
            if not how:
                continue
            seen.append(call.span)
            # Rows counted or summed are not what the function returns, whatever it returns.
            rows_returned = how not in ("len()", "sum()", "max()", "min()") and any(
                within(call.span, span) for span in returned)
            counted = wrapper is not None and wrapper[0] == "len()" and wrapper[2]
            detail = {"orm": query.orm, "model": query.model, "label": query.label, "how": how,
                      "returned": "true" if rows_returned else "", "counted": "true" if counted else ""}
            if wrapper is not None and counted and (query.orm != "sqlalchemy" or query.methods[0] == "query"):
                detail.update(self._count_fix(call, wrapper[1]))
            yield self.site("db_read_all", query.label, call.span, detail=detail)

    def _materialised(self) -> dict[tuple[Position, Position], tuple[str, Span, bool]]:
        """Calls whose result is turned into rows: iterated, list()/len()/..., or serialised with many=True;
        with the wrapping expression and whether it wraps the call itself (not a local holding it)."""
        found: dict[tuple[Position, Position], tuple[str, Span, bool]] = {}

        def mark(expr: Expr | None, how: str, outer: Span) -> None:
            for target in self._through_locals(expr):
                found.setdefault((target.span.start, target.span.end), (how, outer, target is expr))

        for loop in self.scope.loops:  # iterating the rows says more than counting them
            if loop.iterable is not None:
                mark(loop.iterable, "iteration", loop.iterable.span)
        for call in self.scope.calls:
            if isinstance(call.func, Name) and call.func.dotted in MATERIALISERS and call.args:
                mark(call.args[0], f"{call.func.dotted}()", call.span)
            many = call.kwarg("many")
            if isinstance(many, Const) and many.value is True and call.args:
                mark(call.args[0], "a serializer with many=True", call.span)
        return found

    def _through_locals(self, expr: Expr | None) -> list[Call]:
        if isinstance(expr, Call):
            return [expr]
        if isinstance(expr, Name) and expr.dotted in self.scope.values:
            return [value for value in self.scope.values[expr.dotted] if isinstance(value, Call)]
        return []

    def _returned_spans(self) -> list[Span]:
        """Return values, and the values of locals a return statement uses (`rows = ...; return Out(rows)`)."""
        spans: list[Span] = []
        returned_names: set[str] = set()
        for value in self.fn.returns_values:
            if value is not None:
                spans.append(value.span)
                # `len(rows)` returns a number, not the rows
                text = re.sub(r"\blen\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\)", "", self.scope.lines.text(value.span))
                returned_names |= _names_in(text)
        for assign in self.fn.assigns:
            if assign.value is not None and returned_names & set(assign.targets):
                spans.append(assign.value.span)
        return spans

    def _count_fix(self, call: Call, wrapper: Span) -> dict[str, str]:
        """`len(<query>.all())` → `<query>.count()`, when the query text ends in `.all()`."""
        text = self.scope.lines.text(call.span)
        if not text.endswith(".all()") or "\n" in text:
            return {}
        return {"count_span": encode_span(wrapper), "count_text": text[: -len(".all()")] + ".count()"}

    # ---- QRY002: SQL built from values

    def built_sql(self) -> Iterator[CallSite]:
        taint = Taint(self.scope)
        trusting = Taint(self.scope, through_calls=False)
        building = SqlBuilding(self.scope, taint)
        for call in self.scope.calls:
            for sink, argument, needs_sql_look in self._sql_arguments(call):
                if argument is None or isinstance(argument, Const):
                    continue
                built = building.built(argument)
                if built is None:
                    continue
                if needs_sql_look and not SQL_KEYWORDS.search(built.constant_text):
                    continue
                values_taint = trusting if self._has_parameters(call) else taint
                shown: list[str] = []
                sources: set[str] = set()
                for value in built.values:
                    found = values_taint.of_node(value, {}, 0)
                    if found:
                        shown.append(_unparsed(value))
                        sources |= found
                if not sources:
                    continue
                yield self.site("sql_built", sink, call.span, detail={
                    "sink": sink, "how": built.how, "values": ", ".join(dict.fromkeys(shown)),
                    "sources": ", ".join(sorted(sources)), "via": built.via})

    def _sql_arguments(self, call: Call) -> Iterator[tuple[str, Expr | None, bool]]:
        """(sink name, the SQL argument, whether its text must look like SQL to count)."""
        func = call.func
        if isinstance(func, Name):
            resolved = self.module.resolve(func.dotted)
            last = func.dotted.rsplit(".", 1)[-1]
            if resolved in TEXT_NAMES or resolved in RAW_SQL_NAMES:
                yield last, _first_argument(call, ("text", "sql")), False
                return
            if last == "text" and "." in func.dotted:  # `db.text(...)` (Flask-SQLAlchemy)
                yield func.dotted, _first_argument(call, ("text",)), True
                return
            if last in SQL_METHOD_SINKS and "." in func.dotted:
                yield func.dotted, _first_argument(call, ("query", "sql", "statement", "operation")), \
                    ".objects." not in func.dotted
            elif last == "extra" and "." in func.dotted:
                yield from _extra_arguments(func.dotted, call)
            return
        if isinstance(func, Attr):
            if func.attr in SQL_METHOD_SINKS:
                yield func.attr, _first_argument(call, ("query", "sql", "statement", "operation")), True
            elif func.attr == "extra":
                yield from _extra_arguments("extra", call)

    def _has_parameters(self, call: Call) -> bool:
        return len(call.args) > 1 or any(key in ("params", "parameters", "args", "vars") for key, _ in call.kwargs)

    # ---- QRY003: commits and writes outside one transaction

    def commits(self) -> Iterator[CallSite]:
        commits: list[tuple[Call, str]] = []
        for call in self.scope.calls:
            if isinstance(call.func, Name) and call.func.dotted.endswith(".commit") and not call.args \
                    and not call.kwargs:
                commits.append((call, call.func.dotted[: -len(".commit")]))
        if not commits:
            return
        flushable = _imports_sqlalchemy(self.module)
        for index, (call, receiver) in enumerate(commits):
            previous = self._previous([(other.span, name) for other, name in commits[:index]], call.span, receiver)
            detail = {"receiver": receiver}
            if previous is not None:
                detail["previous"] = encode_span(previous)
                if flushable or "session" in receiver.lower():
                    detail["flush_text"] = f"{receiver}.flush()"
            yield self.site("db_commit", f"{receiver}.commit", call.span, self.scope.in_any_loop(call.span), detail)

    def _previous(self, earlier: list[tuple[Span, str]], span: Span, key: str) -> Span | None:
        """The latest earlier call (same key) that can run before `span` in one call of the function."""
        if self.scope.in_any_loop(span) or self.scope.in_handler(span):
            return None
        for other, other_key in reversed(earlier):
            if other_key != key or self.scope.in_any_loop(other) or self.scope.in_handler(other):
                continue
            if self.scope.can_follow(other, span):
                return other
        return None

    def writes(self) -> Iterator[CallSite]:
        atomic_spans = [span for span, items in self.fn.withs if any(_opens_transaction(item) for item in items)]
        function_atomic = self._function_atomic()
        found: list[tuple[Call, str, str, bool]] = []
        for call in self.scope.calls:
            write = self._write(call)
            if write is None:
                continue
            atomic = function_atomic or any(within(call.span, span) for span in atomic_spans)
            found.append((call, write[0], write[1], atomic))
        if function_atomic or atomic_spans:
            yield from self._atomic_calls(function_atomic, atomic_spans)
        fix = self._atomic_fix() if found else {}
        for index, (call, orm, method, atomic) in enumerate(found):
            earlier = [(other.span, "write") for other, _, _, other_atomic in found[:index] if not other_atomic]
            previous = None if atomic else self._previous(earlier, call.span, "write")
            yield self.site("db_write", method, call.span, self.scope.in_any_loop(call.span), {
                "orm": orm, "method": method, "atomic": "true" if atomic else "",
                "previous": encode_span(previous) if previous else "", **fix})

    def _write(self, call: Call) -> tuple[str, str] | None:
        """(orm, method) of an ORM write call."""
        func = call.func
        if not isinstance(func, (Name, Attr)):
            return None
        method = func.dotted.rsplit(".", 1)[-1] if isinstance(func, Name) else func.attr
        if method in ("save", "delete") and not call.args:
            commit = call.kwarg("commit")
            if isinstance(commit, Const) and commit.value is False:
                return None  # ModelForm.save(commit=False) only builds the instance
            if any(key in NOT_MODEL_SAVE_KEYWORDS for key, _ in call.kwargs):
                return None  # a file's or an image's save/delete, not a row's
            if isinstance(func, Name) and "." not in func.dotted:
                return None
            return "any", method
        query = self.query(call)
        if query is not None and query.orm == "django" and query.methods[-1] in WRITE_METHODS \
                and query.methods[-1] not in ("get_or_create", "values", "insert"):
            return "django", query.methods[-1]
        if method == "create" and isinstance(func, Name) and func.dotted.split(".")[-2:-1] and (
                func.dotted.split(".")[-2].endswith("_set")):
            return "django", method  # a reverse related manager: `order.item_set.create(...)`
        return None

    def _decorator_texts(self) -> list[str]:
        """The function's decorators and its class's (`method_decorator(atomic, name="dispatch")`), as text."""
        decorators = list(self.fn.decorators)
        owner = _owner_class(self.module, self.fn)
        if owner is not None:
            decorators.extend(owner.decorators)
        return [_text(decorator) for decorator in decorators]

    def _function_atomic(self) -> bool:
        # `non_atomic_requests` opts a view out of ATOMIC_REQUESTS: the very opposite of a transaction.
        return any("atomic" in text.replace(NON_ATOMIC, "") for text in self._decorator_texts())

    def non_atomic_views(self) -> Iterator[CallSite]:
        if any(NON_ATOMIC in text for text in self._decorator_texts()):
            yield self.site(NON_ATOMIC, self.qualified, self.fn.name_span)

    def _atomic_calls(self, function_atomic: bool, spans: list[Span]) -> Iterator[CallSite]:
        for call in self.scope.calls:
            if not (function_atomic or any(within(call.span, span) for span in spans)):
                continue
            callee = _callee(self.module, self.fn, call)
            if callee:
                yield self.site("atomic_call", callee, call.span, detail={"via": _via(self.module, call)})
        # `serializer.save()` runs the serializer's create()/update(): resolve names them, once classes are known.
        for save in serializer_saves(self.module, self.fn):
            if function_atomic or any(within(save.span, span) for span in spans):
                yield self.site("atomic_call", save.cls, save.span, detail={"saves": save.kind or "class"})

    def _atomic_fix(self) -> dict[str, str]:
        line = self.fn.name_span.start.line
        atomic_ref = ""
        for local, target in self.module.imports.items():
            if target == "django.db.transaction" and "." not in local:
                atomic_ref = f"{local}.atomic"
            elif target == "django.db.transaction.atomic" and "." not in local:
                atomic_ref = local
        return {"def_line": str(line), "def_column": str(self.fn.span.start.column),
                "atomic_ref": atomic_ref, "imports_line": str(self.module.imports_end),
                "is_async": "true" if self.fn.is_async else ""}

    # ---- QRY004: connections

    def _cached(self) -> bool:
        """The function's result is memoised (`@lru_cache`, `@cached_property`): its body runs once."""
        if self._is_cached is None:
            names = {_text(decorator.func if isinstance(decorator, Call) else decorator).rsplit(".", 1)[-1]
                     for decorator in self.fn.decorators}
            self._is_cached = bool(names & CACHE_DECORATORS)
        return self._is_cached

    def connects(self) -> Iterator[CallSite]:
        for call in self.scope.calls:
            driver = _connect_callee(self.module, call)
            if driver is None:
                continue
            module_level = {target for assign in self.module.assigns for target in assign.targets}
            cached = self._cached() or self._stored_once(call, module_level)
            yield self.site("db_connect", driver, call.span, self.scope.in_any_loop(call.span), {
                "driver": driver, "what": CONNECT_CALLEES[driver], "pooling": _pooling(call),
                "cached": "true" if cached else ""})

    def _stored_once(self, call: Call, module_level: set[str]) -> bool:
        """The result goes to a module global (`global _engine`) or an attribute outside `__init__`: a lazy
        singleton, created on first use only."""
        for assign in self.fn.assigns:
            if assign.value is None or not within(call.span, assign.value.span):
                continue
            for target in assign.targets:
                if target in module_level:
                    return True
                if target.startswith(("self.", "cls.")) and self.fn.name != "__init__":
                    return True
                if target.startswith(("app.", "current_app.")):
                    return True
        return False


def _unparsed(node: ast.expr) -> str:
    if isinstance(node, ast.FormattedValue):  # `{name!r:>10}` shows as `name`
        node = node.value
    try:
        return _short(ast.unparse(node))
    except (RecursionError, ValueError, AttributeError):
        return "a value"


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _names_in(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))


def _first_argument(call: Call, keywords: tuple[str, ...]) -> Expr | None:
    if call.args:
        return call.args[0]
    return next((value for key, value in call.kwargs if key in keywords), None)


def _extra_arguments(sink: str, call: Call) -> Iterator[tuple[str, Expr | None, bool]]:
    """Django `.extra(where=[...], select={...}, tables=[...], order_by=[...])`: each piece is raw SQL."""
    for key, value in call.kwargs:
        if key in ("where", "select", "tables", "order_by") and isinstance(value, Seq):
            for item in value.items:
                yield f"{sink}({key}=[...])", item, False


def _text(expr: Expr) -> str:
    return expr_text(expr)


def _opens_transaction(item: Expr) -> bool:
    """A `with` item that runs its block in a transaction: `transaction.atomic()`, or a context manager named
    for one (pretix's `rolledback_transaction()`); not other members of `django.db.transaction`."""
    if "atomic" in _text(item):
        return True
    func = item.func if isinstance(item, Call) else item
    return isinstance(func, Name) and "transaction" in func.dotted.rsplit(".", 1)[-1].lower()


def _imports_sqlalchemy(module: Module) -> bool:
    return any(target.split(".")[0] in ("sqlalchemy", "sqlmodel", "flask_sqlalchemy")
               for target in module.imports.values())


def _owner_class(module: Module, fn: Function) -> Class | None:
    if fn.owner is None:
        return None
    prefix = fn.qualname.rsplit(".", 1)[0]

    def find(classes: list[Class]) -> Class | None:
        for cls in classes:
            if cls.qualname == prefix:
                return cls
            inner = find(cls.classes)
            if inner is not None:
                return inner
        return None

    return find(module.classes)


def _callee(module: Module, fn: Function, call: Call) -> str | None:
    """The qualified name of a called function, as far as this file tells (as the call graph names it)."""
    if not isinstance(call.func, Name):
        return None
    dotted = call.func.dotted
    head, _, rest = dotted.partition(".")
    if head in ("self", "cls") and fn.owner and rest and "." not in rest:
        return f"{module.module}.{fn.qualname.rsplit('.', 1)[0]}.{rest}"
    if not rest and any(top.name == head for top in module.top_level_functions()):
        return f"{module.module}.{head}"
    if any(cls.name == head for cls in module.classes):
        return f"{module.module}.{dotted}" + ("" if rest else ".__init__")
    return module.resolve(dotted)


def _via(module: Module, call: Call) -> str:
    """How a call names its method when the file cannot say which function it is: `self` (`self.refresh()`:
    the class's own, inherited or overridden method) or `receiver` (`order.refund()`, `self.object.refund()`:
    a method of a value whose type is unknown); empty otherwise."""
    if not isinstance(call.func, Name) or "." not in call.func.dotted:
        return ""
    head, _, rest = call.func.dotted.partition(".")
    if head in ("self", "cls"):
        return "self" if "." not in rest else "receiver"
    if head in module.imports or any(cls.name == head for cls in module.classes):
        return ""
    return "receiver"


def _names_a_function(module: Module, call: Call) -> bool:
    """The callee is named through an import, `self`/`cls` or a top-level definition (not `rows.append`)."""
    if not isinstance(call.func, Name):
        return False
    head = call.func.dotted.split(".")[0]
    defined = {fn.name for fn in module.top_level_functions()} | {cls.name for cls in module.classes}
    return head in module.imports or head in ("self", "cls") or head in defined


def _connect_callee(module: Module, call: Call) -> str | None:
    if not isinstance(call.func, Name):
        return None
    resolved = module.resolve(call.func.dotted)
    return resolved if resolved in CONNECT_CALLEES else None


def _pooling(call: Call) -> str:
    poolclass = call.kwarg("poolclass")
    if poolclass is not None and _text(poolclass).endswith("NullPool"):
        return "nullpool"
    if call.kwarg("connection_pool") is not None:
        return "shared-pool"
    return ""


def _module_connects(module: Module, path: str) -> Iterator[CallSite]:
    """Module-level engines and clients (created once per process: the good place)."""
    seen: set[Span] = set()
    values = [assign.value for assign in module.assigns if assign.value is not None] + list(module.calls)
    for value in values:
        for call in iter_calls(value):
            driver = _connect_callee(module, call)
            if driver is not None and call.span not in seen:
                seen.add(call.span)
                detail = {"driver": driver, "what": CONNECT_CALLEES[driver], "pooling": _pooling(call)}
                yield CallSite("db_connect", driver, Location(path, call.span), None,
                               detail={key: value for key, value in detail.items() if value})


# --------------------------------------------------------------------------------------------- per request


def _dependencies(module: Module) -> Iterator[object]:
    """FastAPI `Depends(target)` in parameters, `Annotated` aliases and `dependencies=[...]`."""
    for assign in module.assigns:
        if assign.value is None:
            continue
        for target in _depends_targets(module, assign.value):
            for name in assign.targets:
                yield DependencyAlias(f"{module.module}.{name}", target)
    for fn in module.functions:
        caller = f"{module.module}.{fn.qualname}"
        exprs: list[Expr] = [expr for param in fn.params for expr in (param.default, param.annotation)
                             if expr is not None]
        exprs.extend(value for decorator in fn.decorators if isinstance(decorator, Call)
                     for key, value in decorator.kwargs if key == "dependencies")
        for expr in exprs:
            for found in _depends_targets(module, expr):
                yield DependencyEdge(caller, found)
            if isinstance(expr, Name) and expr.dotted[:1].isupper():
                yield DependencyEdge(caller, _local_or_imported(module, expr.dotted), via_alias=True)


def _depends_targets(module: Module, expr: Expr) -> Iterator[str]:
    for call in iter_calls(expr):
        target = _depends_target(module, call)
        if target is not None:
            yield target


def _depends_target(module: Module, expr: Expr | None) -> str | None:
    if not isinstance(expr, Call) or not isinstance(expr.func, Name):
        return None
    if module.resolve(expr.func.dotted) not in ("fastapi.Depends", "fastapi.Security", "fastapi.params.Depends"):
        return None
    argument = _first_argument(expr, ("dependency",))
    if not isinstance(argument, Name):
        return None
    head = argument.dotted.split(".")[0]
    if head in module.imports:
        return module.resolve(argument.dotted)
    return f"{module.module}.{argument.dotted}"


def _django_middleware_methods(builder: ModelBuilder) -> dict[str, str]:
    """The methods of the project's own middleware classes (settings `MIDDLEWARE`) that run around every Django
    request → "middleware <class>": what they do is on every view's request path."""
    found: dict[str, str] = {}
    for _, settings in builder.records(DjangoSettingsDecl):
        for dotted in settings.middleware or ():
            ref = builder.lookup(dotted)
            if ref is None:
                continue
            for current in [ref, *builder.ancestors(ref)]:
                for fn in current.cls.methods:
                    name = f"{current.module.module}.{fn.qualname}"
                    if fn.name in MIDDLEWARE_METHODS and name in builder.project.functions:
                        found.setdefault(name, f"middleware {ref.cls.name}")
    return found


def _hooks(module: Module) -> Iterator[RequestHook]:
    for fn in module.top_level_functions():
        for decorator in fn.decorators:
            name = _text(decorator.func if isinstance(decorator, Call) else decorator)
            last = name.rsplit(".", 1)[-1]
            if last in ("before_request", "before_app_request"):
                yield RequestHook(f"{module.module}.{fn.qualname}", "flask")
            elif last == "middleware" and isinstance(decorator, Call) and any(
                    isinstance(arg, Const) and arg.value == "http" for arg in decorator.args):
                yield RequestHook(f"{module.module}.{fn.qualname}", "fastapi")
    calls = [*module.calls, *(call for fn in module.functions for call in fn.calls)]
    for call in calls:  # app.before_request(open_db), at module level or in an app factory
        if isinstance(call.func, Name) and call.func.dotted.endswith((".before_request", ".before_app_request")) \
                and call.args and isinstance(call.args[0], Name):
            yield RequestHook(_local_or_imported(module, call.args[0].dotted), "flask")


def _local_or_imported(module: Module, name: str) -> str:
    head = name.split(".")[0]
    return module.resolve(name) if head in module.imports else f"{module.module}.{name}"


# --------------------------------------------------------------------------------------------- resolve


def _atomic_targets(builder: ModelBuilder, site: CallSite, methods: MethodIndex) -> list[str]:
    """The project functions a call inside a transaction can run (every one of them runs in it)."""
    via = site.detail.get("via")
    if via == "receiver":
        receiver, _, method = site.callee.rpartition(".")
        return methods.of_receiver(receiver.rsplit(".", 1)[-1], method)
    if via == "self":
        return methods.of_self(site.callee)
    callee = builder.function_named(site.callee)
    return [callee] if callee else []


def resolve(builder: ModelBuilder) -> None:
    project = builder.project
    methods = MethodIndex(builder)
    for _, site in builder.records(CallSite):
        if site.kind == "atomic_call" and site.detail.get("saves"):
            kind = site.detail["saves"]
            save = SerializerSave(site.function or "", site.callee, "" if kind == "class" else kind,
                                  site.location.span)
            project.calls.extend(replace(site, callee=target, detail={}) for target in save_targets(builder, save))
            continue
        if site.kind == "atomic_call":
            project.calls.extend(replace(site, callee=target) for target in _atomic_targets(builder, site, methods))
            continue
        if site.kind == "loop_call":  # only calls into the project's own functions matter
            callee = builder.function_named(site.callee)
            if callee is None:
                continue
            site = replace(site, callee=callee)  # records stay as extracted: they are cached
        project.calls.append(site)
    if any(True for _ in builder.records(AtomicRequests)):
        project.settings["django.atomic_requests"] = "true"
    functions = project.functions
    aliases = {alias.name: alias.target for _, alias in builder.records(DependencyAlias)}
    named: dict[str, str | None] = {}  # every handler depends on the same few functions (`get_db`)
    for _, edge in builder.records(DependencyEdge):
        if edge.via_alias and edge.target not in aliases:
            continue
        wanted = aliases.get(edge.target, edge.target)
        if wanted not in named:
            named[wanted] = builder.function_named(wanted)
        target = named[wanted]
        caller = functions.get(edge.caller)
        if caller is not None and target is not None and target != edge.caller:
            caller.calls.add(target)
    hooks = [(hook, builder.function_named(hook.function)) for _, hook in builder.records(RequestHook)]
    for hook, name in hooks:
        if name is not None:
            kind = "before_request hook" if hook.framework == "flask" else "HTTP middleware"
            project.request_hooks.setdefault(name, f"{kind} {name.rsplit('.', 1)[-1]}()")
    middleware = _django_middleware_methods(builder)
    project.request_hooks.update(middleware)
    for endpoint in project.endpoints:
        handler = functions.get(endpoint.handler)
        if handler is None:
            continue
        handler.calls.update(name for hook, name in hooks if name is not None and hook.framework == endpoint.framework)
        if endpoint.framework in ("django", "drf"):
            handler.calls.update(middleware)
    project._derived.pop("request_path", None)  # the call graph grew: computed again on first use
