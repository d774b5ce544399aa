"""The backend model: what rules read.

Extractors turn syntax into these language-neutral records; the resolver joins them across files into a
`Project`; rules read only the `Project`. Positions are 0-based (line, character column) pairs and paths are
project-relative with `/` separators. Nothing here knows about LSP.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass, field, fields
from functools import cache
from operator import attrgetter
from typing import Any, Literal, NamedTuple, TypeVar

DerivedT = TypeVar("DerivedT")
RecordT = TypeVar("RecordT")

# --------------------------------------------------------------------------------------------- positions


class Position(NamedTuple):
    # A named tuple rather than a dataclass: millions are made per scan, and tuples are several times
    # cheaper to build, compare and pickle.
    line: int
    column: int


class Span(NamedTuple):
    start: Position
    end: Position

    @staticmethod
    def at(line: int, column: int, end_line: int | None = None, end_column: int | None = None) -> Span:
        return Span(Position(line, column), Position(end_line if end_line is not None else line,
                                                     end_column if end_column is not None else column))


def encode_span(span: Span) -> str:
    """A span as text, for records whose details are strings (`CallSite.detail`): "line:col:end_line:end_col"."""
    return f"{span.start.line}:{span.start.column}:{span.end.line}:{span.end.column}"


def decode_span(text: str | None) -> Span | None:
    """The span `encode_span` wrote, or None for missing or malformed text."""
    if not text:
        return None
    try:
        line, column, end_line, end_column = (int(part) for part in text.split(":"))
    except ValueError:
        return None
    return Span(Position(line, column), Position(end_line, end_column))


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    span: Span

    @property
    def line(self) -> int:
        return self.span.start.line


# --------------------------------------------------------------------------------------------- fixes


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace `span` of the file at `path` with `new_text` (an insertion when the span is empty)."""

    path: str
    span: Span
    new_text: str


@dataclass(frozen=True, slots=True)
class CreateFile:
    path: str
    text: str


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    edits: tuple[TextEdit, ...] = ()
    creates: tuple[CreateFile, ...] = ()
    safe: bool = True


# --------------------------------------------------------------------------------------------- schema

ColumnOrigin = Literal["own", "inherited", "framework", "migration"]


@dataclass(slots=True)
class Column:
    name: str
    type: str | None = None
    location: Location | None = None
    origin: ColumnOrigin = "own"
    # e.g. "TimestampMixin (app/models/base.py)" or "migration 3f2a (alembic/versions/3f2a_add.py)"
    origin_detail: str | None = None
    primary_key: bool = False
    unique: bool = False
    indexed: bool = False
    nullable: bool | None = None
    # Set when the framework or the declaration fills the value on insert / on update
    # (server_default=now(), auto_now_add=True, default=datetime.utcnow, DEFAULT CURRENT_TIMESTAMP, ...).
    auto_on_insert: bool = False
    auto_on_update: bool = False
    # Where a keyword argument can be appended to the column's declaration (before its closing parenthesis).
    options_anchor: Location | None = None
    # Where the column was declared as a constructor call with keyword options, its text (for fixes).
    declaration_text: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    # Where the column's type is written (`sa.DateTime`, `Float()`), for fixes that change it; None when the type
    # comes from elsewhere (a Python annotation, a framework default).
    type_location: Location | None = None


@dataclass(slots=True)
class ForeignKey:
    columns: tuple[str, ...]
    target_table: str | None
    target_columns: tuple[str, ...] = ()
    on_delete: str | None = None
    on_update: str | None = None
    location: Location | None = None
    # "constraint": a real database constraint; "convention": a *_id column with no constraint
    kind: Literal["constraint", "convention"] = "constraint"
    # The framework creates an index for it itself (Django's ForeignKey db_index=True by default).
    framework_indexed: bool = False
    # The constraint's name when declared (so a migration that drops the constraint by name can remove it).
    name: str | None = None


@dataclass(slots=True)
class Index:
    columns: tuple[str, ...]
    unique: bool = False
    partial: bool = False
    name: str | None = None
    location: Location | None = None
    # "index", "primary_key", "unique", "column" (index=True on the column), "migration"
    source: str = "index"


@dataclass(slots=True)
class TableDeclaration:
    """One place that declares a table: a model class, a migration's create_table, a CREATE TABLE."""

    kind: Literal["model", "migration", "sql"]
    framework: str
    location: Location
    class_name: str | None = None
    # Where a new column/field line can be inserted (start of a line) and the indentation it needs.
    body_anchor: Location | None = None
    body_indent: str = "    "
    # Where a statement can be inserted after the declaration (start of the next line), for index fixes.
    after_anchor: Location | None = None
    after_indent: str = ""
    # The declaration's own text pieces a fix may need (e.g. the model's framework module alias: "db.", "models.")
    idiom: dict[str, str] = field(default_factory=dict)
    # The imports of the declaring file (local name -> qualified name), filled by the engine for fixes.
    file_imports: dict[str, str] = field(default_factory=dict)
    imports_line: int = 0


@dataclass(slots=True)
class Table:
    name: str
    declarations: list[TableDeclaration] = field(default_factory=list)
    columns: dict[str, Column] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    # An association / join table (a secondary table of a many-to-many, a Django auto M2M through table).
    is_association: bool = False
    # The table is only read (a view, a reflected/unmanaged table); DB002 does not apply.
    read_only: bool = False
    # Unmanaged (Django managed=False): the schema lives elsewhere.
    managed: bool = True
    # Qualified names of base classes outside the workspace (an installed package's base or mixin) that may add
    # columns we cannot see: a missing timestamp may be one of them. Also set, with a description, when the
    # model itself is generated by code outside the workspace (only its migrations are visible).
    unseen_bases: tuple[str, ...] = ()

    @property
    def primary(self) -> TableDeclaration | None:
        """The declaration a developer would edit: the model, else a migration, else SQL."""
        for kind in ("model", "migration", "sql"):
            for declaration in self.declarations:
                if declaration.kind == kind:
                    return declaration
        return None

    def leading_index_columns(self) -> set[str]:
        """Columns that lead an index (index, unique, primary key), which is what a lookup by them can use."""
        leads = {index.columns[0] for index in self.indexes if index.columns and not index.partial}
        if self.primary_key:
            leads.add(self.primary_key[0])
        leads.update(column.name for column in self.columns.values() if column.indexed or column.unique)
        return leads

    def covered_by_index(self, columns: tuple[str, ...]) -> bool:
        """True when an index (or PK/unique) has `columns` as its leading columns, in order."""
        candidates = [index.columns for index in self.indexes if not index.partial]
        if self.primary_key:
            candidates.append(self.primary_key)
        candidates.extend((column.name,) for column in self.columns.values() if column.indexed or column.unique)
        return any(candidate[: len(columns)] == columns for candidate in candidates)


# --------------------------------------------------------------------------------------------- HTTP API

ParameterSource = Literal["query", "path", "body", "header", "cookie", "dependency", "request", "unknown"]
ReturnKind = Literal["collection", "item", "none", "unknown"]


@dataclass(slots=True)
class Parameter:
    name: str
    source: ParameterSource
    annotation: str | None = None
    default: str | None = None
    location: Location | None = None
    # For a dependency: the parameters it declares, resolved through Depends(...) chains.
    via: str | None = None
    # Declared bounds (Query(le=100), conint(le=100), min(...)/max(...) clamps), as written; None when absent.
    upper_bound: str | None = None
    lower_bound: str | None = None
    # Where a keyword can be appended to the parameter's marker call (`Query(50` here `)`), and the span of
    # its default value (`= 50`), for fixes that bound it.
    marker_anchor: Location | None = None
    default_location: Location | None = None
    # The marker call has arguments already: an appended keyword follows a comma. The marker need not be the
    # default as written (`Annotated[int, Query()] = 20`, a helper in another module that returns `Query(50)`).
    marker_has_arguments: bool = False


@dataclass(slots=True)
class QueryCall:
    """A data access call in a handler (or the service it calls) that a pagination fix could page."""

    text: str
    location: Location
    # "all": returns every row (.all(), .objects.all(), list(...)); "paged": already offset/limit or paginate;
    # "capped": a constant limit only.
    kind: Literal["all", "paged", "capped"]
    # Where `.offset(offset).limit(limit)` (or the framework's equivalent) can be inserted.
    insert_anchor: Location | None = None
    style: str = "sqlalchemy"


@dataclass(slots=True)
class Endpoint:
    framework: str
    methods: tuple[str, ...]
    path: str
    handler: str
    location: Location
    parameters: list[Parameter] = field(default_factory=list)
    returns: ReturnKind = "unknown"
    returns_detail: str | None = None
    # Human-readable evidence that the client can page through the result, empty when none was found.
    pagination: list[str] = field(default_factory=list)
    # A constant bound on the result (LIMIT 20): bounds the response, but the client cannot get the rest.
    hard_cap: str | None = None
    queries: list[QueryCall] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    validation: list[str] = field(default_factory=list)
    # Rate-limit evidence (a limiter decorator, throttle classes, a global default).
    rate_limit: list[str] = field(default_factory=list)
    # The declared success status (status_code=201, Response(status=204)); None when the framework default.
    status_code: int | None = None
    # The router, blueprint or URL configuration that declares the route ("app.api.orders.router"), and where
    # it is created or included: a change there (a version prefix) reaches all its routes.
    group: str | None = None
    group_location: Location | None = None
    # Where a keyword argument can be appended to the route declaration (before the decorator's `)`).
    route_anchor: Location | None = None
    # Where a new parameter can be inserted into the handler's signature, and with which separator.
    parameters_anchor: Location | None = None
    parameters_empty: bool = True
    # The module alias the handler's file uses for the framework's query-parameter helper, if imported.
    idiom: dict[str, str] = field(default_factory=dict)
    # The imports of the handler's file (local name -> qualified name), filled by the engine for fixes.
    file_imports: dict[str, str] = field(default_factory=dict)
    imports_line: int = 0


# --------------------------------------------------------------------------------------------- code behaviour


@dataclass(slots=True)
class FunctionInfo:
    """A function or method anywhere in the project, for the call graph (what runs on a request path)."""

    name: str  # qualified: "app.services.orders.fetch_rates", "app.views.OrderView.get"
    location: Location
    is_async: bool = False
    # Qualified names of what it calls: project functions and external callables ("requests.get").
    calls: set[str] = field(default_factory=set)


@dataclass(slots=True)
class CallSite:
    """A call an extractor recognised as meaningful: an HTTP request, raw SQL, a cache write, a print, ...

    `kind` is the extractor's classification ("http", "sql", "cache_write", "print", ...); rules pick the
    kinds they care about. `function` is the qualified name of the function holding the call (None at module
    level), which the call graph links to the endpoints that reach it.
    """

    kind: str
    callee: str
    location: Location
    function: str | None = None
    is_async: bool = False
    in_loop: bool = False
    keywords: tuple[str, ...] = ()
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class App:
    """An application object (FastAPI(), Flask(...), a Django settings module) and how it is set up."""

    framework: str
    location: Location
    name: str = ""
    # Middleware / extension names as written ("CORSMiddleware", "Talisman", "django...SecurityMiddleware").
    middlewares: list[str] = field(default_factory=list)
    detail: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- project


@dataclass(slots=True)
class Project:
    root: str
    stacks: set[str] = field(default_factory=set)
    dialect: str | None = None
    dialect_source: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)
    endpoints: list[Endpoint] = field(default_factory=list)
    # Alembic revisions from base to head, as (revision id, path).
    migration_order: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    apps: list[App] = field(default_factory=list)
    # Where a setting of `settings` was declared (e.g. "django.use_tz" → the `USE_TZ = False` line).
    setting_locations: dict[str, Location] = field(default_factory=dict)
    # Functions the framework runs around every request (a Flask `before_request` hook, a FastAPI HTTP middleware,
    # a Django middleware's methods) → how they are named in messages ("middleware LocaleMiddleware").
    request_hooks: dict[str, str] = field(default_factory=dict)
    # What several rules derive from the finished model (e.g. the column sites DB005, DB006 and DB008 all read),
    # computed by the first rule that asks. Valid because rules never change the project, and every check
    # resolves a new one.
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def table(self, name: str) -> Table | None:
        return self.tables.get(name) or self.tables.get(name.lower())

    def request_path(self) -> dict[str, str]:
        """Functions that run while serving a request: qualified name → the endpoint handler reaching it, or the
        request hook (`request_hooks`) for the hooks and what they call."""
        return self.derived("request_path", _request_path)

    def derived(self, key: str, compute: Callable[[Project], DerivedT]) -> DerivedT:
        """`compute(self)`, once per project: for rules only (resolve steps still change the project)."""
        if key not in self._derived:
            self._derived[key] = compute(self)
        return self._derived[key]  # type: ignore[no-any-return]

    def calls_of(self, *kinds: str) -> list[CallSite]:
        """The call sites of these kinds, in project order. For rules: indexed once per project (dozens of rules
        ask), so not during resolution, which still adds calls."""
        by_kind = self.derived("calls_by_kind", _calls_by_kind)
        if len(kinds) == 1:
            return [call for _, call in by_kind.get(kinds[0], [])]
        found = sorted(entry for kind in set(kinds) for entry in by_kind.get(kind, []))
        return [call for _, call in found]


def _request_path(project: Project) -> dict[str, str]:
    # Hooks go last: taken first, what they run is labelled by the hook, not by whichever view reached it first.
    return reach(project, [*((endpoint.handler, endpoint.handler) for endpoint in project.endpoints),
                           *((hook, hook) for hook in sorted(project.request_hooks))])


def reach(project: Project, roots: list[tuple[str, str]], avoid: Container[str] = ()) -> dict[str, str]:
    """Every project function the call graph reaches from `roots` ((function, label) pairs) → the label of a root
    that reaches it, not entering the functions in `avoid`."""
    reached: dict[str, str] = {}
    functions = project.functions
    stack = list(roots)
    while stack:
        name, label = stack.pop()
        if name in reached or name in avoid:
            continue
        reached[name] = label
        info = functions.get(name)
        if info is not None:
            stack.extend((callee, label) for callee in info.calls if callee in functions)
    return reached


def _calls_by_kind(project: Project) -> dict[str, list[tuple[int, CallSite]]]:
    """Each kind's call sites with their positions in `project.calls`."""
    by_kind: dict[str, list[tuple[int, CallSite]]] = {}
    for position, call in enumerate(project.calls):
        by_kind.setdefault(call.kind, []).append((position, call))
    return by_kind


# --------------------------------------------------------------------------------------------- findings


@dataclass(slots=True)
class Finding:
    code: str
    name: str
    severity: Literal["error", "warning", "info", "hint"]
    message: str
    location: Location
    fingerprint: str
    fix: Fix | None = None
    related: list[Location] = field(default_factory=list)

    @property
    def fixable(self) -> bool:
        return self.fix is not None


# --------------------------------------------------------------------------------------------- copies


def copied(record: RecordT) -> RecordT:
    """A shallow copy of a model dataclass (a `Column`, a `Table`, ...). Resolve steps copy the cached records
    they change, thousands per check (each migration replay), and `copy.copy` costs ten times as much."""
    cls: Any = type(record)
    fresh: RecordT = cls(*_field_values(cls)(record))
    return fresh


@cache  # one getter per class
def _field_values(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    names = [item.name for item in fields(cls)]
    assert len(names) > 1 and all(item.init for item in fields(cls)), cls  # every field passed to the constructor
    return attrgetter(*names)
