"""SQLAlchemy → tables: Core `Table(...)`, declarative ORM classes (classic, 2.0 `Mapped`), Flask-SQLAlchemy.

Per file, `extract` records what a module declares: declarative bases (`declarative_base()`,
`registry().generate_base()`, `SQLAlchemy()` instances), `Annotated[..., mapped_column(...)]` aliases, Core
tables, module-level `Index(...)` calls, and the classes that declare columns, `__tablename__`, `__table_args__`
and the like. Across files, `resolve` walks every class of the workspace and decides which really map to a table
(they inherit a declarative base, are not abstract; a subclass without a table of its own is single-table
inheritance), gathers the columns of mixins and abstract bases in other modules, and resolves foreign-key targets
written as attributes (`ForeignKey(User.id)`, `users.c.id`) to table names. When in doubt (a table name we cannot
derive) a class is left out: a missed table costs less than a false finding. Bases from installed packages are
noted on the table (`unseen_bases`): they may hold columns we cannot see.

The column and constraint parsers here are shared with `sqlmodel`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass, field, replace
from functools import partial

from analyzers.extractors._column_values import naive_now
from analyzers.extractors._reuse import UnitFacts, file_context
from analyzers.facts import SourceFile
from analyzers.model import Column, ForeignKey, Index, Location, Span, Table, TableDeclaration, copied
from analyzers.pysyntax import (
    Assign,
    Attr,
    BinOp,
    Call,
    Class,
    Const,
    Expr,
    Function,
    Lambda,
    Module,
    Name,
    Seq,
    Subscript,
    const_str,
    expr_text,
)
from analyzers.resolve import ClassRef, ModelBuilder

# Bases whose direct subclass is the declarative base itself (its subclasses are mapped).
DECLARATIVE_ROOTS = frozenset({
    "sqlalchemy.orm.DeclarativeBase",
    "sqlalchemy.orm.DeclarativeBaseNoMeta",
    "sqlalchemy.orm.decl_api.DeclarativeBase",
    "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
})
# Libraries whose `Column` / `Table` / `Index` are not SQLAlchemy's.
OTHER_LIBRARIES = frozenset({"pandera", "pyspark", "polars", "pandas", "rich", "tabulate", "prettytable",
                             "dash", "great_expectations", "deltalake", "ibis", "peewee", "pony", "tortoise"})
# Packages whose classes never map a table, even with a `__tablename__` (a base we cannot see otherwise counts).
NOT_ORM_PACKAGES = frozenset({"pydantic", "sqlmodel", "marshmallow", "django", "rest_framework", "enum", "typing",
                              "abc", "dataclasses", "attrs", "attr", "msgspec", "builtins", "collections"})
# Positional arguments of Column(...) that are not its type.
NOT_TYPES = frozenset({"ForeignKey", "Sequence", "Identity", "Computed", "CheckConstraint", "FetchedValue",
                       "DefaultClause", "Comment"})
# Wrappers whose first argument is the column itself.
COLUMN_WRAPPERS = frozenset({"deferred", "column_property"})
# Functions that return the current time (`func.now()`, `datetime.utcnow`, `timezone.now()`).
NOW_FUNCTIONS = frozenset({"now", "utcnow", "today", "current_timestamp", "localtimestamp", "getdate",
                           "getutcdate", "sysdate", "systimestamp", "clock_timestamp", "statement_timestamp",
                           "transaction_timestamp", "utc_timestamp", "aware_utcnow", "naive_utcnow"})
# SQL text that yields the current time (`text("now()")`, `server_default="CURRENT_TIMESTAMP"`).
NOW_SQL = ("now()", "current_timestamp", "localtimestamp", "getdate()", "getutcdate()", "sysdate", "systimestamp",
           "clock_timestamp()", "statement_timestamp()", "transaction_timestamp()", "utc_timestamp",
           "datetime('now')", "strftime(")
# Calls whose result is the current time when an argument is (`func.timezone("utc", func.now())`, `text(...)`).
NOW_WRAPPERS = frozenset({"text", "literal_column", "timezone", "coalesce", "cast", "DefaultClause"})
# Python annotation → the SQLAlchemy type it maps to by default.
PYTHON_TYPES = {
    "int": "Integer", "str": "String", "bool": "Boolean", "float": "Float", "bytes": "LargeBinary",
    "datetime": "DateTime", "datetime.datetime": "DateTime", "date": "Date", "datetime.date": "Date",
    "time": "Time", "datetime.time": "Time", "timedelta": "Interval", "datetime.timedelta": "Interval",
    "Decimal": "Numeric", "decimal.Decimal": "Numeric", "UUID": "Uuid", "uuid.UUID": "Uuid",
    "dict": "JSON", "list": "JSON",
}
CREATION_NAMES = frozenset({"created_at", "created", "created_on", "inserted_at", "date_created", "createdAt"})
# Bases from installed packages that add known timestamp columns: (column, fills on insert, fills on update).
_AUDIT_COLUMNS = (("created_at", True, False), ("updated_at", True, True))
KNOWN_EXTERNAL_COLUMNS: dict[str, tuple[tuple[str, bool, bool], ...]] = {
    "sqlalchemy_utils.Timestamp": (("created", True, False), ("updated", True, True)),
    "sqlalchemy_utils.models.Timestamp": (("created", True, False), ("updated", True, True)),
    "sqlalchemy_mixins.TimestampsMixin": _AUDIT_COLUMNS,
    "sqlalchemy_mixins.timestamp.TimestampsMixin": _AUDIT_COLUMNS,
    "flask_appbuilder.models.mixins.AuditMixin": (("created_on", True, False), ("changed_on", True, True)),
    "advanced_alchemy.mixins.AuditColumns": _AUDIT_COLUMNS,
}
# Installed declarative bases (Advanced Alchemy, Litestar): tables named in snake case; `*AuditBase` adds timestamps.
EXTERNAL_DECLARATIVE = ("advanced_alchemy.base.", "litestar.contrib.sqlalchemy.base.",
                        "litestar.plugins.sqlalchemy.base.")
# Installed declarative bases named like these add an `id` primary key (`UUIDBase`, `BigIntAuditBase`, ...).
KEYED_EXTERNAL_PREFIXES = ("UUID", "BigInt", "NanoID", "Identity")
# Packages whose classes add no columns to a model inheriting them.
FLASK_SQLALCHEMY_CLASSES = frozenset({"flask_sqlalchemy.SQLAlchemy", "flask_sqlalchemy.extension.SQLAlchemy",
                                      "flask_sqlalchemy_lite.SQLAlchemy"})
COLUMNLESS_PACKAGES = frozenset({"sqlalchemy", "flask_sqlalchemy", "sqlmodel", "typing", "typing_extensions", "abc",
                                 "enum", "dataclasses", "collections", "flask_login", "sqlalchemy_serializer",
                                 "sqlalchemy_mixins", "pydantic"})

# ============================================================================================ records


@dataclass(frozen=True, slots=True)
class Reference:
    """What a foreign key (or `secondary=`) points at, as written: a string "users.id", or an attribute chain
    (`User.id`, `users.c.id`) whose head is qualified so another module can resolve it."""

    text: str
    head: str | None = None
    on_delete: str | None = None
    on_update: str | None = None
    name: str | None = None


@dataclass(slots=True)
class ColumnFact:
    attribute: str
    column: Column
    references: tuple[Reference, ...] = ()
    # The qualified `Annotated[..., mapped_column(...)]` alias of a `Mapped[alias]` annotation.
    alias: str | None = None
    # The type was written on the column (not derived from the annotation).
    typed: bool = False


@dataclass(slots=True)
class ConstraintFact:
    kind: str  # "index" | "unique" | "primary_key" | "foreign_key"
    columns: tuple[str, ...]
    location: Location
    name: str | None = None
    partial: bool = False
    # For a foreign key: where each column points (aligned with `columns`).
    references: tuple[Reference, ...] = ()
    # The columns were written as attributes (`email`, `User.email`), not as column-name strings.
    attributes: bool = False


@dataclass(slots=True)
class ClassFact:
    qualified: str
    name: str
    path: str
    columns: list[ColumnFact] = field(default_factory=list)
    # None when the class does not declare `__table_args__`.
    table_args: list[ConstraintFact] | None = None
    tablename: str | None = None
    # A `@declared_attr __tablename__`: "lower", "lower:<suffix>", "snake", "snake:<suffix>" or "unknown".
    tablename_rule: str | None = None
    abstract: bool = False
    has_table_attr: bool = False
    table_variable: str | None = None
    # `__table__ = Table("name", ...)` written in the class body.
    inline_table: CoreTableFact | None = None
    declarative_root: bool = False  # @as_declarative()
    registry_mapped: bool = False  # @mapper_registry.mapped
    secondaries: list[Reference] = field(default_factory=list)
    # Module aliases of the Column(...) calls ("db" for db.Column, "sa" for sa.Column, "" for bare Column).
    column_heads: tuple[str, ...] = ()
    mapped_style: bool = False
    # `type_annotation_map = {datetime: DateTime(timezone=True)}` (or a `registry(type_annotation_map=...)`):
    # Python type as written → the column type text it maps to, for its subclasses' annotated columns.
    type_map: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class BaseVarFact:
    """`Base = declarative_base()` (kind "declarative") or `db = SQLAlchemy()` (kind "flask")."""

    qualified: str
    kind: str
    # The class given as `cls=` / `model_class=`: its columns are inherited by every model.
    mixin: str | None = None
    # `declarative_base(type_annotation_map={...})`, as on `ClassFact.type_map`.
    type_map: dict[str, str] = field(default_factory=dict)
    # `db = IndicoSQLAlchemy(...)`: the project class called, which must turn out to extend Flask-SQLAlchemy's
    # `SQLAlchemy` (only the whole workspace can tell) for this to be a base.
    factory: str | None = None


@dataclass(slots=True)
class AliasFact:
    """A module-level `Model = db.Model` style alias, followed when resolving bases."""

    qualified: str
    target: str


@dataclass(slots=True)
class AnnotatedFact:
    """`intpk = Annotated[int, mapped_column(primary_key=True)]`."""

    qualified: str
    column: ColumnFact


@dataclass(slots=True)
class CoreTableFact:
    variable: str | None
    name: str
    columns: list[ColumnFact]
    constraints: list[ConstraintFact]
    declaration: TableDeclaration


@dataclass(slots=True)
class LooseIndexFact:
    """A module-level `Index("ix", Order.customer_id)` naming its table through a class or Table variable."""

    head: str
    constraint: ConstraintFact


# ============================================================================================ reading a file


class FileReader:
    """Helpers over one module: qualified names, source text of spans, locations."""

    def __init__(self, source: SourceFile, module: Module) -> None:
        self.module = module
        self.path = source.path
        self.lines = source.text().split("\n")

    def qualify(self, dotted: str) -> str:
        """The qualified name `dotted` refers to: through the imports, else a name of this module."""
        head = dotted.split(".", 1)[0]
        if head in self.module.imports:
            return self.module.resolve(dotted)
        return f"{self.module.module}.{dotted}"

    def root(self, dotted: str) -> str:
        """The top-level package a name comes from ("" for names of this module)."""
        head = dotted.split(".", 1)[0]
        target = self.module.imports.get(head)
        return target.split(".", 1)[0] if target else ""

    def name(self, expr: Expr | None) -> str:
        """The last name of a callee or name, through import aliases (`FK(...)` after `ForeignKey as FK`)."""
        if isinstance(expr, Call):
            expr = expr.func
        if isinstance(expr, Name):
            dotted = expr.dotted
            if dotted.split(".", 1)[0] in self.module.imports:
                dotted = self.module.resolve(dotted)
            return dotted.rsplit(".", 1)[-1]
        return last_segment(expr)

    def location(self, span: Span) -> Location:
        return Location(self.path, span)

    def text(self, span: Span) -> str:
        start, end = span.start, span.end
        if start.line >= len(self.lines):
            return ""
        if start.line == end.line:
            return self.lines[start.line][start.column:end.column]
        parts = [self.lines[start.line][start.column:]]
        parts.extend(self.lines[start.line + 1:end.line])
        if end.line < len(self.lines):
            parts.append(self.lines[end.line][:end.column])
        return "\n".join(parts)

    def line_indent(self, line: int) -> str:
        text = self.lines[line] if 0 <= line < len(self.lines) else ""
        return text[: len(text) - len(text.lstrip())]


def last_segment(expr: Expr | None) -> str:
    """The last name of a callee or name: `sa.Column(...)` → "Column", `registry().mapped` → "mapped"."""
    if isinstance(expr, Call):
        expr = expr.func
    if isinstance(expr, Name):
        return expr.dotted.rsplit(".", 1)[-1]
    if isinstance(expr, Attr):
        return expr.attr
    return ""


def callee_head(call: Call) -> str:
    """The module alias in front of a callee: "sa" for `sa.Column`, "" for a bare `Column`."""
    if isinstance(call.func, Name) and "." in call.func.dotted:
        return call.func.dotted.rsplit(".", 1)[0]
    return ""


def is_sqlalchemy_call(reader: FileReader, expr: Expr | None, names: frozenset[str] | set[str]) -> bool:
    """A call of one of `names` that plausibly is SQLAlchemy's (not pandera's Column, rich's Table...)."""
    if not isinstance(expr, Call) or not isinstance(expr.func, Name):
        return False
    if reader.name(expr) not in names:
        return False
    return reader.root(expr.func.dotted) not in OTHER_LIBRARIES


def flag(expr: Expr | None, unknown: bool) -> bool:
    """A boolean option: its constant value, `unknown` for an expression we cannot evaluate, False when absent."""
    if expr is None:
        return False
    if isinstance(expr, Const):
        return bool(expr.value)
    return unknown


def fills_time(expr: Expr | None) -> bool:
    """A default that fills in the current time: `func.now()`, `datetime.utcnow`, `lambda: datetime.now(tz)`,
    `text("now()")`. Not arithmetic on it (`utcnow() + timedelta(days=7)` is an expiry, not a timestamp)."""
    if isinstance(expr, Lambda):
        return fills_time(expr.body)
    if isinstance(expr, Name | Attr):
        return _is_now_function(expr.dotted if isinstance(expr, Name) else expr.attr)
    if isinstance(expr, Call):
        name = last_segment(expr)
        if _is_now_function(expr.func.dotted if isinstance(expr.func, Name) else name):
            return True
        return name in NOW_WRAPPERS and any(fills_time(arg) for arg in expr.args)
    if isinstance(expr, Const) and isinstance(expr.value, str):
        return any(word in expr.value.lower() for word in NOW_SQL)
    return False


# Zero-argument calls that are not a SQL function the database evaluates.
_NOT_SQL_FUNCTIONS = frozenset({"text", "literal", "literal_column", "null", "true", "false", "FetchedValue",
                                "DefaultClause"})


def server_clock(expr: Expr | None, column_type: str | None) -> bool:
    """A `server_default` on a date/time column that calls a SQL function with no arguments: the database's
    clock, whatever the function is called (`func.now()`, `func.current_timestamp()`, a project's own
    `FunctionElement` such as Langflow's `AuditDatabaseClock()`). A timestamp column has no other use for one."""
    if not isinstance(expr, Call) or expr.args or expr.kwargs or last_segment(expr) in _NOT_SQL_FUNCTIONS:
        return False
    lowered = (column_type or "").lower()
    return any(hint in lowered for hint in ("date", "time"))


def _is_now_function(dotted: str) -> bool:
    name = dotted.rsplit(".", 1)[-1].lower()
    # a project's own helpers: `now_utc` (Indico), `utc_now`, `_now`
    return name in NOW_FUNCTIONS or "now" in name.split("_") or dotted.endswith("time.time")


def type_text(expr: Expr | None) -> str | None:
    """A column type without its module prefix: `sa.String(120)` → "String(120)"."""
    if expr is None:
        return None
    if isinstance(expr, Name):
        return expr.dotted.rsplit(".", 1)[-1]
    if isinstance(expr, Call) and isinstance(expr.func, Name):
        parts = [expr_text(arg) for arg in expr.args] + [f"{key}={expr_text(value)}" for key, value in expr.kwargs]
        name = expr.func.dotted.rsplit(".", 1)[-1]
        return f"{name}({', '.join(parts)})" if parts else name
    return expr_text(expr) or None


def python_type(expr: Expr | None) -> tuple[str | None, bool | None]:
    """The SQLAlchemy type a Python annotation maps to, and whether it allows None (Optional / `| None`)."""
    if expr is None:
        return None, None
    if isinstance(expr, BinOp) and expr.op == "|":
        for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
            if isinstance(side, Const) and side.value is None or (isinstance(side, Name) and side.dotted == "None"):
                inner, _ = python_type(other)
                return inner, True
        return None, None
    if isinstance(expr, Subscript) and isinstance(expr.value, Name):
        wrapper = expr.value.dotted.rsplit(".", 1)[-1]
        if wrapper == "Optional" and expr.index:
            inner, _ = python_type(expr.index[0])
            return inner, True
        if wrapper == "Annotated" and expr.index:
            return python_type(expr.index[0])
        return None, None
    if isinstance(expr, Name):
        return PYTHON_TYPES.get(expr.dotted, expr.dotted.rsplit(".", 1)[-1]), False
    return None, None


def mapped_inner(annotation: Expr | None) -> Expr | None:
    """The `X` of a `Mapped[X]` annotation (None when the annotation is not `Mapped`)."""
    if isinstance(annotation, Subscript) and isinstance(annotation.value, Name) and annotation.index:
        if annotation.value.dotted.rsplit(".", 1)[-1] == "Mapped":
            return annotation.index[0]
    return None


def is_collection(expr: Expr | None) -> bool:
    """`list["Child"]`, `Set[Child]`, a string forward reference: what `Mapped[...]` of a relationship holds."""
    if isinstance(expr, Const) and isinstance(expr.value, str):
        return True
    if isinstance(expr, Subscript) and isinstance(expr.value, Name):
        wrapper = expr.value.dotted.rsplit(".", 1)[-1]
        if wrapper in ("list", "List", "set", "Set", "dict", "Dict", "tuple", "Tuple", "Sequence", "Collection"):
            return not (wrapper in ("dict", "Dict", "list", "List") and all(
                isinstance(item, Name) and item.dotted in PYTHON_TYPES for item in expr.index))
        if wrapper == "Optional" and expr.index:
            return is_collection(expr.index[0])
    if isinstance(expr, BinOp) and expr.op == "|":
        return is_collection(expr.left) or is_collection(expr.right)
    return False


# ---------------------------------------------------------------------------------------- columns


def reference_of(reader: FileReader, target: Expr | None, on_delete: str | None = None,
                 on_update: str | None = None, name: str | None = None) -> Reference | None:
    """A foreign-key target: "users.id" as written, or `User.id` / `users.c.id` with its head qualified."""
    text = const_str(target)
    if text is not None:
        return Reference(text, None, on_delete, on_update, name)
    if isinstance(target, Lambda):
        target = target.body
    if isinstance(target, Name):
        head = target.dotted.split(".", 1)[0]
        return Reference(target.dotted, reader.qualify(head), on_delete, on_update, name)
    return None


def foreign_key_reference(reader: FileReader, call: Call) -> Reference | None:
    return reference_of(reader, call.args[0] if call.args else call.kwarg("column"),
                        const_str(call.kwarg("ondelete")), const_str(call.kwarg("onupdate")),
                        const_str(call.kwarg("name")))


def last_argument_end(call: Call) -> Span | None:
    """Where an option can be appended to a call: right after its last argument (before any trailing comma)."""
    ends = [arg.span.end for arg in call.args] + [value.span.end for _, value in call.kwargs]
    if not ends:
        return None
    end = max(ends)  # positions are (line, column) tuples: they order as the text does
    return Span(end, end)


# The options that fill a column in on insert or on update (the time, when they call `now()`).
INSERT_DEFAULTS = frozenset({"server_default", "default", "insert_default"})
UPDATE_DEFAULTS = frozenset({"onupdate", "server_onupdate"})


def parse_column(reader: FileReader, attribute: str, call: Call, where: Span,
                 annotation: Expr | None = None) -> ColumnFact:
    """A `Column(...)` / `mapped_column(...)` call (with its `Mapped[...]` annotation, if any)."""
    args = list(call.args)
    name = attribute
    if args and const_str(args[0]) is not None:
        name = const_str(args.pop(0)) or attribute
    column_type: str | None = None
    type_expr: Expr | None = None
    references: list[Reference] = []
    for arg in args:
        kind = reader.name(arg)
        if kind == "ForeignKey" and isinstance(arg, Call):
            reference = foreign_key_reference(reader, arg)
            if reference is not None:
                references.append(reference)
        elif kind not in NOT_TYPES and column_type is None:
            column_type, type_expr = type_text(arg), arg
    if column_type is None:
        type_expr = call.kwarg("type_")
        column_type = type_text(type_expr)
    typed = column_type is not None
    inner = mapped_inner(annotation)
    annotated_type, optional = python_type(inner)
    alias = reader.qualify(inner.dotted) if isinstance(inner, Name) and inner.dotted not in PYTHON_TYPES else None
    primary_key = flag(call.kwarg("primary_key"), unknown=False)
    nullable_option = call.kwarg("nullable")
    if isinstance(nullable_option, Const) and isinstance(nullable_option.value, bool):
        nullable: bool | None = nullable_option.value
    elif primary_key:
        nullable = False
    else:
        nullable = optional
    anchor = last_argument_end(call)
    options = {key: value for key, value in reversed(call.kwargs)}  # as `call.kwarg`: the first of a repeated key
    column = Column(
        name=name,
        type=column_type or (annotated_type if alias is None else None),
        location=reader.location(where),
        primary_key=primary_key,
        unique=flag(call.kwarg("unique"), unknown=True),
        indexed=flag(call.kwarg("index"), unknown=True),
        nullable=nullable,
        auto_on_insert=any(fills_time(value) for key, value in options.items() if key in INSERT_DEFAULTS)
        or server_clock(options.get("server_default"), column_type),
        auto_on_update=any(fills_time(value) or reader.name(value) == "FetchedValue"
                           for key, value in options.items() if key in UPDATE_DEFAULTS),
        options_anchor=reader.location(anchor) if anchor is not None else None,
        declaration_text=reader.text(call.span),
    )
    if typed and type_expr is not None:
        column.type_location = reader.location(type_expr.span)
        column.attributes["type_source"] = reader.text(type_expr.span)
    elif alias is None and annotated_type is not None:
        mark_annotation_type(column, inner)
    naive = naive_default(reader, call)
    if naive is not None:
        column.attributes["naive_default"] = naive
    return ColumnFact(attribute, column, tuple(references), alias, typed)


def mark_annotation_type(column: Column, annotation: Expr | None, source: str = "annotation") -> None:
    """Record that the column's type comes from its Python annotation (`Mapped[datetime]`), and which one, so
    the resolver can apply a `type_annotation_map` and rules know the type was not written."""
    column.attributes["type_from"] = source
    python = _plain_annotation(annotation)
    if python is not None:
        column.attributes["python_type"] = python


def _plain_annotation(expr: Expr | None) -> str | None:
    """The type name inside `X`, `Optional[X]`, `X | None`: "datetime", "datetime.datetime", "str"."""
    if isinstance(expr, Name):
        return expr.dotted
    if isinstance(expr, Subscript) and isinstance(expr.value, Name) and expr.index:
        if expr.value.dotted.rsplit(".", 1)[-1] in ("Optional", "Annotated"):
            return _plain_annotation(expr.index[0])
    if isinstance(expr, BinOp) and expr.op == "|":
        for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
            if isinstance(side, Const) and side.value is None or (isinstance(side, Name) and side.dotted == "None"):
                return _plain_annotation(other)
    return None


def naive_default(reader: FileReader, call: Call) -> str | None:
    """A Python-side default that fills the column with a naive current time (`default=datetime.utcnow`)."""
    for key in ("default", "insert_default", "onupdate"):
        found = naive_now(reader.module, call.kwarg(key))
        if found is not None:
            return found
    return None


def annotation_column(reader: FileReader, attribute: str, annotation: Expr, where: Span) -> ColumnFact | None:
    """`name: Mapped[str]` with no value: a column whose type and nullability come from the annotation."""
    inner = mapped_inner(annotation)
    if inner is None or is_collection(inner):
        return None
    column_type, optional = python_type(inner)
    alias = reader.qualify(inner.dotted) if isinstance(inner, Name) and inner.dotted not in PYTHON_TYPES else None
    column = Column(name=attribute, type=column_type if alias is None else None, location=reader.location(where),
                    nullable=optional)
    if alias is None and column_type is not None:
        mark_annotation_type(column, inner)
    return ColumnFact(attribute, column, (), alias, False)


def column_call(reader: FileReader, value: Expr | None) -> Call | None:
    """The Column/mapped_column call of an attribute value, through `deferred(...)`-style wrappers."""
    if isinstance(value, Call) and reader.name(value) in COLUMN_WRAPPERS and value.args:
        value = value.args[0]
    if is_sqlalchemy_call(reader, value, {"Column", "mapped_column"}):
        assert isinstance(value, Call)
        return value
    return None


# ---------------------------------------------------------------------------------------- constraints


def constraint_column(element: Expr, attributes: dict[str, str]) -> tuple[str | None, bool]:
    """A column named in an Index/constraint: a string, an attribute in the class body, `User.x`, `t.c.x`."""
    text = const_str(element)
    if text is not None:
        return text, False
    if isinstance(element, Name):
        if "." not in element.dotted:
            return attributes.get(element.dotted, element.dotted), True
        return element.dotted.rsplit(".", 1)[-1], True
    return None, False


def leading_columns(elements: tuple[Expr, ...], attributes: dict[str, str]) -> tuple[tuple[str, ...], bool]:
    """The columns an index leads with, up to the first expression (a functional part covers nothing after)."""
    columns: list[str] = []
    as_attributes = False
    for element in elements:
        column, is_attribute = constraint_column(element, attributes)
        if column is None:
            break
        columns.append(column)
        as_attributes = as_attributes or is_attribute
    return tuple(columns), as_attributes


def parse_constraint(reader: FileReader, call: Call, attributes: dict[str, str]) -> ConstraintFact | None:
    """An `Index`, `UniqueConstraint`, `PrimaryKeyConstraint` or `ForeignKeyConstraint` call."""
    kind = reader.name(call)
    location = reader.location(call.span)
    name = const_str(call.kwarg("name"))
    if kind == "Index":
        name = const_str(call.args[0]) if call.args else name
        columns, as_attributes = leading_columns(call.args[1:], attributes)
        partial = any(key == "where" or key.endswith("_where") for key, _ in call.kwargs)
        unique = flag(call.kwarg("unique"), unknown=False)
        return ConstraintFact("unique" if unique else "index", columns, location, name, partial,
                              attributes=as_attributes) if columns else None
    if kind in ("UniqueConstraint", "PrimaryKeyConstraint"):
        columns, as_attributes = leading_columns(call.args, attributes)
        if not columns:
            return None
        return ConstraintFact("unique" if kind == "UniqueConstraint" else "primary_key", columns, location, name,
                              attributes=as_attributes)
    if kind == "ForeignKeyConstraint" and len(call.args) >= 2:
        local, remote = call.args[0], call.args[1]
        if not isinstance(local, Seq) or not isinstance(remote, Seq):
            return None
        columns, as_attributes = leading_columns(local.items, attributes)
        on_delete, on_update = const_str(call.kwarg("ondelete")), const_str(call.kwarg("onupdate"))
        references = tuple(ref for ref in (reference_of(reader, item, on_delete, on_update, name)
                                           for item in remote.items) if ref is not None)
        if not columns or len(references) != len(columns):
            return None
        return ConstraintFact("foreign_key", columns, location, name, references=references,
                              attributes=as_attributes)
    return None


def parse_table_args(reader: FileReader, value: Expr | None, attributes: dict[str, str]) -> list[ConstraintFact]:
    """`__table_args__`: a tuple/list of constraints with an optional trailing dict, or just a dict."""
    if not isinstance(value, Seq) or value.kind == "dict":
        return []
    found: list[ConstraintFact] = []
    for item in value.items:
        if isinstance(item, Call) and is_sqlalchemy_call(reader, item, {"Index", "UniqueConstraint",
                                                                          "PrimaryKeyConstraint",
                                                                          "ForeignKeyConstraint"}):
            constraint = parse_constraint(reader, item, attributes)
            if constraint is not None:
                found.append(constraint)
    return found


# ---------------------------------------------------------------------------------------- idiom


def imported_names(module: Module, packages: tuple[str, ...]) -> str:
    """The names a file imports directly from `packages` ("Column,Integer,ForeignKey")."""
    names = [local for local, target in module.imports.items()
             if "." not in local and "." in target and target.split(".", 1)[0] in packages]
    return ",".join(names)


def declaration_for(ref: ClassRef, framework: str, idiom: dict[str, str]) -> TableDeclaration:
    """The model declaration of a class: located at its name, with anchors for new fields and statements."""
    path, cls = ref.module.path, ref.cls
    return TableDeclaration(
        kind="model",
        framework=framework,
        location=Location(path, cls.name_span),
        class_name=cls.name,
        body_anchor=Location(path, Span.at(_field_insert_line(cls), 0)),
        body_indent=cls.body_indent,
        after_anchor=Location(path, Span.at(cls.span.end.line + 1, 0)),
        after_indent="",
        idiom={**idiom, "imports_line": str(ref.module.imports_end)},
    )


def _field_insert_line(cls: Class) -> int:
    """New columns go with the others: after the last attribute above the first method or nested class (a
    model's methods often run for hundreds of lines after its columns)."""
    starts = [method.span.start.line for method in cls.methods] + [inner.span.start.line for inner in cls.classes]
    first = min(starts, default=None)
    if first is None:
        return cls.body_end.line
    above = [assign.span.end.line for assign in cls.assigns if assign.span.end.line < first]
    return max(above) + 1 if above else first


# ============================================================================================ extract


def extract(source: SourceFile) -> list[object]:
    module = source.python
    if module is None or _is_migration(module):
        return []
    reader = FileReader(source, module)
    records: list[object] = []
    for assign in module.assigns:
        records.extend(_module_assign(reader, assign))
    for call in module.calls:
        records.extend(_module_call(reader, call, None))
    context = file_context(reader.path, module)
    for cls in module.classes:
        fact = _CLASS_FACTS.get(cls, context, reader.text(cls.span), partial(_class_fact, reader, cls))
        if fact is not None:
            records.append(fact)
    return records


# The language server extracts an edited file on every keystroke: unchanged classes keep their facts. Valid only
# while `_class_fact` reads nothing of the file but the class, its text and `file_context` (see `_reuse`).
_CLASS_FACTS: UnitFacts[ClassFact | None] = UnitFacts()


def _is_migration(module: Module) -> bool:
    """Alembic revision files declare tables through `op`; the alembic extractor reads them."""
    return any(target == "alembic" or target.startswith("alembic.") for target in module.imports.values())


def _module_assign(reader: FileReader, assign: Assign) -> list[object]:
    if len(assign.targets) != 1 or "." in assign.targets[0]:
        return []
    target = assign.targets[0]
    qualified = f"{reader.module.module}.{target}"
    value = assign.value
    if isinstance(value, Name):
        return [AliasFact(qualified, reader.qualify(value.dotted))]
    if isinstance(value, Subscript):
        annotated = _annotated_alias(reader, qualified, value, assign.span)
        return [annotated] if annotated is not None else []
    if not isinstance(value, Call):
        return []
    base = _base_variable(reader, qualified, value)
    if base is not None:
        return [base]
    return _module_call(reader, value, qualified)


def _base_variable(reader: FileReader, qualified: str, call: Call) -> BaseVarFact | None:
    """`declarative_base()`, `registry().generate_base()`, `SQLAlchemy()`: names whose subclasses map tables."""
    name = reader.name(call)
    if name in ("declarative_base", "generate_base"):
        mixin = call.kwarg("cls")
        return BaseVarFact(qualified, "declarative",
                           reader.qualify(mixin.dotted) if isinstance(mixin, Name) else None,
                           type_annotation_map(call.kwarg("type_annotation_map")))
    if not isinstance(call.func, Name):
        return None
    root = reader.root(call.func.dotted)
    if name == "SQLAlchemy":
        if root in ("flask_sqlalchemy", "flask_sqlalchemy_lite", "") and (root or "." not in call.func.dotted):
            return BaseVarFact(qualified, "flask", _model_class(reader, call))
    elif (name.endswith("SQLAlchemy") or call.kwarg("model_class") is not None) and root not in OTHER_LIBRARIES:
        return BaseVarFact(qualified, "flask", _model_class(reader, call), factory=reader.qualify(call.func.dotted))
    return None


def _model_class(reader: FileReader, call: Call) -> str | None:
    """The class every model inherits: `model_class=IndicoModel`, or the `cls=` of a `declarative_base(...)`
    given there."""
    model_class = call.kwarg("model_class")
    if isinstance(model_class, Call) and reader.name(model_class) in ("declarative_base", "generate_base"):
        model_class = model_class.kwarg("cls")
    return reader.qualify(model_class.dotted) if isinstance(model_class, Name) else None


def _annotated_alias(reader: FileReader, qualified: str, value: Subscript, where: Span) -> AnnotatedFact | None:
    """`intpk = Annotated[int, mapped_column(primary_key=True)]`."""
    if not isinstance(value.value, Name) or reader.name(value.value) != "Annotated" or not value.index:
        return None
    for item in value.index[1:]:
        call = column_call(reader, item)
        if call is not None:
            fact = parse_column(reader, qualified.rsplit(".", 1)[-1], call, where)
            if not fact.typed:
                fact.column.type, _ = python_type(value.index[0])
                if fact.column.type is not None:
                    mark_annotation_type(fact.column, value.index[0])
            return AnnotatedFact(qualified, fact)
    return None


def _module_call(reader: FileReader, call: Call, variable: str | None) -> list[object]:
    """A module-level `Table(...)` (assigned or not) or `Index(...)` naming its columns through a class."""
    if _is_core_table(reader, call):
        table = _core_table(reader, call, variable)
        return [table] if table is not None else []
    if is_sqlalchemy_call(reader, call, {"Index"}):
        return _loose_index(reader, call)
    return []


def _is_core_table(reader: FileReader, call: Call) -> bool:
    if not isinstance(call.func, Name) or reader.name(call) != "Table" or const_str(
            call.args[0] if call.args else None) is None:
        return False
    dotted = call.func.dotted
    root = reader.root(dotted)
    if root in OTHER_LIBRARIES:
        return False
    if root == "sqlalchemy":
        return True
    # `db.Table(...)` and friends: only with SQLAlchemy columns inside.
    return "." in dotted and any(column_call(reader, arg) is not None for arg in call.args)


def _core_table(reader: FileReader, call: Call, variable: str | None) -> CoreTableFact | None:
    name = const_str(call.args[0]) or ""
    columns: list[ColumnFact] = []
    constraints: list[ConstraintFact] = []
    heads: list[str] = []
    for arg in call.args[1:]:
        inner = column_call(reader, arg)
        if inner is not None:
            fact = parse_column(reader, "", inner, inner.span)
            if fact.column.name:
                fact.attribute = fact.column.name
                columns.append(fact)
                heads.append(callee_head(inner))
        elif isinstance(arg, Call):
            constraint = parse_constraint(reader, arg, {})
            if constraint is not None:
                constraints.append(constraint)
    if not columns:
        return None  # a reflected table (`autoload_with=`): its columns live in the database
    last_end = max(arg.span.end.line for arg in call.args)
    body_anchor = Location(reader.path, Span.at(call.close.line, 0)) if call.close.line > last_end else None
    prefix = f"{heads[0]}." if heads and heads[0] else ""
    declaration = TableDeclaration(
        kind="model",
        framework="sqlalchemy",
        location=reader.location(Span(call.span.start, call.func.span.end)),
        class_name=None,
        body_anchor=body_anchor,
        body_indent=reader.line_indent(call.args[-1].span.start.line) or "    ",
        after_anchor=Location(reader.path, Span.at(call.span.end.line + 1, 0)),
        after_indent="",
        idiom={"style": "core", "prefix": prefix,
               "imported": imported_names(reader.module, ("sqlalchemy", "flask_sqlalchemy")),
               "imports_line": str(reader.module.imports_end)},
    )
    return CoreTableFact(variable, name, columns, constraints, declaration)


def _loose_index(reader: FileReader, call: Call) -> list[object]:
    first = next((arg for arg in call.args[1:] if isinstance(arg, Name) and "." in arg.dotted), None)
    if first is None:
        return []
    head = first.dotted.split(".", 1)[0]
    constraint = parse_constraint(reader, call, {})
    if constraint is None:
        return []
    constraint.attributes = ".c." not in first.dotted
    return [LooseIndexFact(reader.qualify(head), constraint)]


# ---------------------------------------------------------------------------------------- classes


def _class_fact(reader: FileReader, cls: Class) -> ClassFact | None:
    fact = ClassFact(qualified=f"{reader.module.module}.{cls.qualname}", name=cls.name, path=reader.path)
    fact.declarative_root = any(reader.name(decorator) == "as_declarative" for decorator in cls.decorators)
    fact.registry_mapped = any(reader.name(decorator) in ("mapped", "mapped_as_dataclass")
                               for decorator in cls.decorators)
    heads: list[str] = []
    table_args: Expr | None = None
    has_table_args = False
    for assign in cls.assigns:
        if len(assign.targets) != 1:
            continue
        target = assign.targets[0]
        if target.startswith("__"):
            if target == "__table_args__":
                table_args, has_table_args = assign.value, True
            else:
                _class_dunder(reader, fact, target, assign.value)
            continue
        if target == "type_annotation_map" and not column_call(reader, assign.value):
            fact.type_map.update(type_annotation_map(assign.value))
            continue
        if target == "registry" and isinstance(assign.value, Call) and reader.name(assign.value) == "registry":
            fact.type_map.update(type_annotation_map(assign.value.kwarg("type_annotation_map")))
            continue
        _class_attribute(reader, fact, assign, heads)
    for method in cls.methods:
        if not any("declared_attr" in expr_text(decorator) for decorator in method.decorators):
            continue
        if method.name == "__tablename__":
            fact.tablename_rule = tablename_rule_of(method)
        elif method.name == "__table_args__":
            table_args = next((value for value in method.returns_values if isinstance(value, Seq)), None)
            has_table_args = True
        elif not method.name.startswith("__"):
            _declared_column(reader, fact, method, heads)
    if has_table_args:
        attributes = {column.attribute: column.column.name for column in fact.columns}
        fact.table_args = parse_table_args(reader, table_args, attributes)
    if not (fact.columns or has_table_args or fact.tablename or fact.tablename_rule or fact.abstract
            or fact.has_table_attr or fact.declarative_root or fact.registry_mapped or fact.secondaries
            or fact.type_map):
        return None  # nothing to record: the resolver still sees the class (and its bases) in the module summary
    fact.column_heads = tuple(dict.fromkeys(heads))
    return fact


def type_annotation_map(value: Expr | None) -> dict[str, str]:
    """`{datetime: DateTime(timezone=True), str: String(255)}` → {"datetime": "DateTime(timezone=True)", ...}."""
    if not isinstance(value, Seq) or value.kind != "dict":
        return {}
    found: dict[str, str] = {}
    for key, item in zip(value.keys, value.items, strict=False):
        text = type_text(item)
        if isinstance(key, Name) and text:
            found[key.dotted] = text
    return found


def _class_dunder(reader: FileReader, fact: ClassFact, target: str, value: Expr | None) -> None:
    if target == "__tablename__":
        fact.tablename = const_str(value)
        if isinstance(value, Const) and value.value is None:
            fact.tablename_rule = "none"  # `__tablename__ = None`: single-table inheritance, said explicitly
        elif fact.tablename is None and value is not None:
            fact.tablename_rule = "unknown"
    elif target == "__abstract__":
        fact.abstract = flag(value, unknown=False)
    elif target == "__table__":
        fact.has_table_attr = True
        if isinstance(value, Name):
            fact.table_variable = reader.qualify(value.dotted)
        elif isinstance(value, Call) and _is_core_table(reader, value):
            fact.inline_table = _core_table(reader, value, None)


def _class_attribute(reader: FileReader, fact: ClassFact, assign: Assign, heads: list[str]) -> None:
    target = assign.targets[0]
    if "." in target:
        return
    call = column_call(reader, assign.value)
    if call is not None:
        fact.columns.append(parse_column(reader, target, call, assign.span, assign.annotation))
        heads.append(callee_head(call))
        fact.mapped_style = fact.mapped_style or reader.name(call) == "mapped_column" or (
            mapped_inner(assign.annotation) is not None)
        return
    if assign.value is None and assign.annotation is not None:
        column = annotation_column(reader, target, assign.annotation, assign.span)
        if column is not None:
            fact.columns.append(column)
            fact.mapped_style = True
        return
    if isinstance(assign.value, Call) and reader.name(assign.value) == "relationship":
        secondary = assign.value.kwarg("secondary")
        reference = reference_of(reader, secondary)
        if reference is not None:
            fact.secondaries.append(reference)


def _declared_column(reader: FileReader, fact: ClassFact, method: Function, heads: list[str]) -> None:
    """`@declared_attr def owner_id(cls): return Column(ForeignKey("users.id"))` (a mixin's column)."""
    for value in method.returns_values:
        call = column_call(reader, value)
        if call is not None:
            fact.columns.append(parse_column(reader, method.name, call, method.name_span, method.returns))
            heads.append(callee_head(call))
            return


def tablename_rule_of(method: Function) -> str:
    """How a `@declared_attr __tablename__` names tables, when it is the obvious `cls.__name__.lower()`."""
    values = [value for value in method.returns_values if value is not None]
    if len(values) != 1:
        return "unknown"
    value = values[0]
    suffix = ""
    if isinstance(value, BinOp) and value.op == "+" and const_str(value.right) is not None:
        suffix = const_str(value.right) or ""
        value = value.left
    if isinstance(value, Call) and not value.args and isinstance(value.func, Name) and \
            value.func.dotted.endswith(".__name__.lower"):
        return f"lower:{suffix}" if suffix else "lower"
    if _snake_cases_class_name(value):
        return f"snake:{suffix}" if suffix else "snake"
    return "unknown"


def _snake_cases_class_name(value: Expr) -> bool:
    """`CAMEL_TO_SNAKE.sub("_", cls.__name__).lower()` or `re.sub(pattern, r"_\\1", cls.__name__).lower()`: the
    camel-to-snake idiom (Prefect's base), which names `FlowRun` "flow_run" as Flask-SQLAlchemy does."""
    if not (isinstance(value, Call) and not value.args and isinstance(value.func, Attr)
            and value.func.attr == "lower" and isinstance(value.func.value, Call)):
        return False
    sub = value.func.value
    if not (isinstance(sub.func, Name) and sub.func.dotted.endswith(".sub")):
        return False
    arguments = sub.args[1:] if sub.func.dotted == "re.sub" else sub.args
    if len(arguments) < 2:
        return False
    replacement, subject = const_str(arguments[0]), arguments[1]
    return bool(replacement and "_" in replacement) and isinstance(subject, Name) and \
        subject.dotted.endswith(".__name__")


def module_prefix(module: Module, heads: tuple[str, ...] = ()) -> str:
    """The module prefix a class's own columns use for SQLAlchemy names ("sa.", "db." or "")."""
    if heads:
        return f"{heads[0]}." if heads[0] else ""
    for local, target in module.imports.items():
        if target == "sqlalchemy":
            return f"{local}."
    return ""


# ============================================================================================ resolve


def resolve(builder: ModelBuilder) -> None:
    _Resolver(builder).run()


@dataclass(slots=True)
class _Mapping:
    """What a class is: "table" (maps its own table), "sti" (adds to its parent's table), "hybrid"
    (`__table__ = core_table`), "base" (the declarative base), "abstract", "mixin" or "skip"."""

    kind: str
    table: str | None = None
    flask: bool = False
    flask_head: str = ""
    # Joined-table inheritance: the table of the mapped parent whose row each row of this table extends.
    parent: str | None = None


class _Resolver:
    def __init__(self, builder: ModelBuilder) -> None:
        self.builder = builder
        self.classes: dict[str, ClassFact] = {}
        self.base_vars: dict[str, BaseVarFact] = {}
        self.aliases: dict[str, str] = {}
        self.annotated: dict[str, ColumnFact] = {}
        self.core: list[CoreTableFact] = []
        self.core_vars: dict[str, str] = {}
        self.loose: list[LooseIndexFact] = []
        self.mappings: dict[str, _Mapping] = {}
        self.in_progress: set[str] = set()
        self.ancestor_cache: dict[str, list[ClassRef]] = {}
        # keyed by identity, not name: one module may define two classes of one name (under `if`/`else`)
        self.unmapped_cache: dict[tuple[int, int], list[ClassRef]] = {}
        # Every class of the workspace is classified, and each walks its bases' bases again: what a base name
        # means is asked once per module and name (it reads only the records collected above and the builder's
        # modules, both fixed for this resolver's life).
        self.base_kinds: dict[tuple[int, str], tuple[str | None, str]] = {}
        self.base_mixins: dict[tuple[int, str], ClassRef | None] = {}
        self.base_variables: dict[tuple[int, str], str | None] = {}
        # class qualified name -> attribute -> column name, for constraints written with attributes
        self.attributes: dict[str, dict[str, str]] = {}
        self.tables: list[Table] = []
        for _, record in builder.records((ClassFact, BaseVarFact, AliasFact, AnnotatedFact, CoreTableFact,
                                          LooseIndexFact)):
            self._collect(record)
        for qualified, base in list(self.base_vars.items()):
            if base.factory is not None and not self.extends_flask_sqlalchemy(base.factory):
                del self.base_vars[qualified]

    def _collect(self, record: object) -> None:
        if isinstance(record, ClassFact):
            self.classes[record.qualified] = record
            if record.inline_table is not None:
                self.core.append(record.inline_table)
        elif isinstance(record, BaseVarFact):
            self.base_vars[record.qualified] = record
        elif isinstance(record, AliasFact):
            self.aliases[record.qualified] = record.target
        elif isinstance(record, AnnotatedFact):
            self.annotated[record.qualified] = record.column
        elif isinstance(record, CoreTableFact):
            self.core.append(record)
            if record.variable:
                self.core_vars[record.variable] = record.name
        elif isinstance(record, LooseIndexFact):
            self.loose.append(record)

    def extends_flask_sqlalchemy(self, qualified: str) -> bool:
        """Whether the workspace class `qualified` is a subclass of Flask-SQLAlchemy's `SQLAlchemy`."""
        ref = self.builder.lookup(qualified)
        if ref is None:
            return False
        return any(self.qualify(current.module, base.dotted) in FLASK_SQLALCHEMY_CLASSES
                   for current in [ref, *self.builder.ancestors(ref)]
                   for base in current.cls.bases if isinstance(base, Name))

    # ------------------------------------------------------------------ names

    def follow(self, qualified: str, known: Container[str]) -> str | None:
        """`qualified` or the name it re-exports / aliases, when that is in `known`."""
        seen: set[str] = set()
        current = qualified
        while current not in seen:
            seen.add(current)
            if current in known:
                return current
            if current in self.aliases:
                current = self.aliases[current]
                continue
            module_name, _, name = current.rpartition(".")
            module = self.builder.modules.get(module_name)
            if module is None or name not in module.imports:
                return None
            current = module.imports[name]
        return None

    def qualify(self, module: Module, dotted: str) -> str:
        head = dotted.split(".", 1)[0]
        if head in module.imports:
            return module.resolve(dotted)
        return f"{module.module}.{dotted}"

    def ancestors(self, ref: ClassRef) -> list[ClassRef]:
        """The builder's base-class chain, computed once per class."""
        found = self.ancestor_cache.get(ref.qualified)
        if found is None:
            found = self.ancestor_cache[ref.qualified] = self.builder.ancestors(ref)
        return found

    def class_ref(self, qualified: str) -> ClassRef | None:
        return self.builder.lookup(qualified) or self.builder.lookup(self.aliases.get(qualified, ""))

    def base_kind(self, module: Module, base: Expr) -> tuple[str | None, str]:
        """("root" | "declarative" | "flask" | None, the Flask instance alias) for one base expression."""
        if not isinstance(base, Name):
            return None, ""
        key = (id(module), base.dotted)
        found = self.base_kinds.get(key)
        if found is None:
            found = self.base_kinds[key] = self._base_kind(module, base)
        return found

    def _base_kind(self, module: Module, base: Name) -> tuple[str | None, str]:
        qualified = self.qualify(module, base.dotted)
        if qualified in DECLARATIVE_ROOTS:
            return "root", ""
        if qualified.startswith(EXTERNAL_DECLARATIVE) and qualified.endswith("Base"):
            return "declarative", ""
        found = self.follow(qualified, self.base_vars)
        if found is not None:
            return self.base_vars[found].kind, base.dotted.rsplit(".", 1)[0] if "." in base.dotted else ""
        if qualified.endswith(".Model") and "." in base.dotted:
            instance = self.follow(qualified[: -len(".Model")], self.base_vars)
            if instance is not None and self.base_vars[instance].kind == "flask":
                return "flask", base.dotted.rsplit(".", 1)[0]
        return None, ""

    # ------------------------------------------------------------------ classification

    def mapping(self, ref: ClassRef) -> _Mapping:
        key = ref.qualified
        if key in self.mappings:
            return self.mappings[key]
        if key in self.in_progress:
            return _Mapping("mixin")
        self.in_progress.add(key)
        try:
            result = self._classify(ref)
        finally:
            self.in_progress.discard(key)
        self.mappings[key] = result
        return result

    def workspace_classes(self) -> list[ClassRef]:
        """Every top-level class of the workspace (a model needs no record of its own: `class Tag(db.Model,
        TimestampMixin): pass` is a table)."""
        return [ClassRef(module, cls) for _, module in sorted(self.builder.modules.items())
                for cls in module.classes if cls.bases or f"{module.module}.{cls.qualname}" in self.classes]

    def fact(self, ref: ClassRef) -> ClassFact:
        return self.classes.get(ref.qualified) or ClassFact(ref.qualified, ref.cls.name, ref.module.path)

    def _classify(self, ref: ClassRef) -> _Mapping:
        fact = self.fact(ref)
        own_kinds = [self.base_kind(ref.module, base)[0] for base in ref.cls.bases]
        if "root" in own_kinds or fact.declarative_root:
            return _Mapping("base")
        declarative, flask_head = self.declarative(ref, fact)
        if declarative is None:
            return _Mapping("mixin")
        flask = declarative == "flask"
        if fact.abstract:
            return _Mapping("abstract", flask=flask, flask_head=flask_head)
        if fact.has_table_attr:
            table = fact.inline_table.name if fact.inline_table else self.core_vars.get(
                self.follow(fact.table_variable or "", self.core_vars) or "")
            return _Mapping("hybrid", table, flask, flask_head)
        parent = self.mapped_parent(ref)
        parent_table = parent.table if parent is not None else None
        if fact.tablename:
            return _Mapping("table", fact.tablename, flask, flask_head, parent_table)
        rule = self.tablename_rule(ref, fact)
        if parent is not None:
            if rule == "none":
                return _Mapping("sti", parent.table, flask, flask_head)
            if (flask or rule is not None) and self.has_own_primary_key(ref, fact):
                name = self.derive_name(ref.cls.name, rule, flask)
                return _Mapping("table", name, flask, flask_head, parent_table) if name else _Mapping("skip")
            if rule == "unknown":
                return _Mapping("skip")
            return _Mapping("sti", parent.table, flask, flask_head)
        inherited = self.inherited_tablename(ref)
        if inherited:
            return _Mapping("table", inherited, flask, flask_head)
        name = self.derive_name(ref.cls.name, rule, flask)
        return _Mapping("table", name, flask, flask_head) if name else _Mapping("skip")

    def declarative(self, ref: ClassRef, fact: ClassFact) -> tuple[str | None, str]:
        """How a class maps: "orm" (a declarative base), "flask" (`db.Model`), or None (not mapped)."""
        if fact.registry_mapped:
            return "orm", ""
        found: str | None = None
        head = ""
        for current in [ref, *self.ancestors(ref)]:
            current_fact = self.classes.get(current.qualified)
            if current is not ref and current_fact is not None and current_fact.declarative_root:
                found = found or "orm"
            for base in current.cls.bases:
                kind, alias = self.base_kind(current.module, base)
                if kind is None and isinstance(base, Name) and self.uses_own_columns(base, current_fact):
                    kind, alias = "flask", base.dotted.rsplit(".", 1)[0]
                if kind == "flask":
                    return "flask", alias
                if kind == "declarative" or (kind == "root" and current is not ref):
                    found = "orm"
                    head = head or alias
        if found is None and self.plausible_external_base(ref, fact):
            found = "orm"
        return found, head

    @staticmethod
    def uses_own_columns(base: Name, fact: ClassFact | None) -> bool:
        """`class User(db.Model)` with `db.Column` in its body, when we cannot see where `db` is created."""
        if not base.dotted.endswith(".Model") or fact is None:
            return False
        return base.dotted.rsplit(".", 1)[0] in fact.column_heads

    def plausible_external_base(self, ref: ClassRef, fact: ClassFact) -> bool:
        """A class with `__tablename__` and columns whose base we cannot classify (an installed package's
        `Base`, a custom factory's result): that combination only makes sense on a mapped class."""
        if not fact.tablename or not fact.columns:
            return False
        for current in [ref, *self.ancestors(ref)]:
            for base in current.cls.bases:
                if not isinstance(base, Name) or self.builder.resolve_class(current.module, base) is not None:
                    continue
                head = base.dotted.split(".", 1)[0]
                assigned = any(head in assign.targets for assign in current.module.assigns)
                if head not in current.module.imports and not assigned:
                    continue  # a builtin such as `object`
                if self.qualify(current.module, base.dotted).split(".", 1)[0] not in NOT_ORM_PACKAGES:
                    return True
        return False

    def mapped_parent(self, ref: ClassRef) -> _Mapping | None:
        for ancestor in self.ancestors(ref):
            mapping = self.mapping(ancestor)
            if mapping.kind in ("table", "sti", "hybrid") and mapping.table:
                return mapping
        return None

    def tablename_rule(self, ref: ClassRef, fact: ClassFact) -> str | None:
        """A `@declared_attr __tablename__` on the class or any base (they apply to every subclass)."""
        if fact.tablename_rule:
            return fact.tablename_rule
        chain = [ref, *self.ancestors(ref), *self.unmapped_ancestors(ref)]
        for ancestor in chain[1:]:
            ancestor_fact = self.classes.get(ancestor.qualified)
            if ancestor_fact is not None and ancestor_fact.tablename_rule:
                return ancestor_fact.tablename_rule
        for current in chain:
            for base in current.cls.bases:
                if isinstance(base, Name) and self.qualify(current.module, base.dotted).startswith(
                        EXTERNAL_DECLARATIVE):
                    return "snake"
        return None

    def inherited_tablename(self, ref: ClassRef) -> str | None:
        """A constant `__tablename__` of a mixin or abstract base (a mapped parent's does not carry over)."""
        for ancestor in self.unmapped_ancestors(ref):
            ancestor_fact = self.classes.get(ancestor.qualified)
            if ancestor_fact is not None and ancestor_fact.tablename:
                return ancestor_fact.tablename
        return None

    def has_own_primary_key(self, ref: ClassRef, fact: ClassFact) -> bool:
        columns = [column for _, column in self.collect_columns(ref, fact)]
        return any(column.column.primary_key for column in columns) or any(
            constraint.kind == "primary_key" for constraint in fact.table_args or [])

    @staticmethod
    def derive_name(class_name: str, rule: str | None, flask: bool) -> str | None:
        if rule is not None and rule.startswith("lower"):
            return class_name.lower() + rule.partition(":")[2]
        if rule is not None and rule.startswith("snake"):
            return snake_case(class_name) + rule.partition(":")[2]
        if rule is None and flask:
            return snake_case(class_name)
        return None

    def unmapped_ancestors(self, ref: ClassRef) -> list[ClassRef]:
        """Bases whose columns a class copies: mixins, abstract bases, the declarative base (not mapped
        parents, whose columns stay in their own table), nearest first; plus `cls=` / `model_class=` mixins.

        Computed once per class (several steps ask), except while a base is still being classified (an
        inheritance cycle): that answer is provisional."""
        key = (id(ref.module), id(ref.cls))
        found = self.unmapped_cache.get(key)
        if found is None:
            found, provisional = self._unmapped_ancestors(ref)
            if not provisional:
                self.unmapped_cache[key] = found
        return found

    def _unmapped_ancestors(self, ref: ClassRef) -> tuple[list[ClassRef], bool]:
        provisional = False
        result: list[ClassRef] = []
        seen = {ref.qualified}
        stack: list[tuple[Module, Expr]] = [(ref.module, base) for base in reversed(ref.cls.bases)]
        while stack:
            module, base = stack.pop()
            mixin = self.base_mixin(module, base)
            if mixin is not None and mixin.qualified not in seen:
                seen.add(mixin.qualified)
                result.append(mixin)
                stack.extend((mixin.module, inner) for inner in reversed(mixin.cls.bases))
            found = self.builder.resolve_class(module, base)
            if found is None or found.qualified in seen:
                continue
            seen.add(found.qualified)
            provisional = provisional or found.qualified in self.in_progress
            if self.mapping(found).kind in ("table", "sti", "hybrid"):
                continue
            result.append(found)
            stack.extend((found.module, inner) for inner in reversed(found.cls.bases))
        return result, provisional

    def base_mixin(self, module: Module, base: Expr) -> ClassRef | None:
        """The `cls=` of `declarative_base(cls=...)` or `model_class=` of `SQLAlchemy(...)` behind a base."""
        if not isinstance(base, Name):
            return None
        key = (id(module), base.dotted)
        if key not in self.base_mixins:
            self.base_mixins[key] = self._base_mixin(module, base)
        return self.base_mixins[key]

    def _base_mixin(self, module: Module, base: Name) -> ClassRef | None:
        qualified = self.qualify(module, base.dotted)
        found = self.follow(qualified, self.base_vars)
        if found is None and qualified.endswith(".Model"):
            found = self.follow(qualified[: -len(".Model")], self.base_vars)
        if found is None or not self.base_vars[found].mixin:
            return None
        return self.class_ref(self.base_vars[found].mixin or "")

    # ------------------------------------------------------------------ columns

    def collect_columns(self, ref: ClassRef, fact: ClassFact) -> list[tuple[ClassRef | None, ColumnFact]]:
        """Own columns, then those of mixins and abstract bases (nearest wins), each attribute once."""
        found: list[tuple[ClassRef | None, ColumnFact]] = []
        seen: set[str] = set()
        for column in fact.columns:
            seen.add(column.attribute)
            found.append((None, column))
        for ancestor in self.unmapped_ancestors(ref):
            ancestor_fact = self.classes.get(ancestor.qualified)
            for column in ancestor_fact.columns if ancestor_fact else []:
                if column.attribute not in seen:
                    seen.add(column.attribute)
                    found.append((ancestor, column))
        return found

    def table_args(self, ref: ClassRef, fact: ClassFact) -> list[ConstraintFact]:
        """The nearest `__table_args__` (a mixin's applies unless the class declares its own)."""
        if fact.table_args is not None:
            return fact.table_args
        for ancestor in self.unmapped_ancestors(ref):
            ancestor_fact = self.classes.get(ancestor.qualified)
            if ancestor_fact is not None and ancestor_fact.table_args is not None:
                return ancestor_fact.table_args
        return []

    def model_column(self, origin: ClassRef | None, fact: ColumnFact, detail: str | None = None,
                     type_map: dict[str, str] | None = None) -> Column:
        """A copy of the recorded column (records are cached: never mutated), with its origin and alias options."""
        column = copied(fact.column)
        column.attributes = dict(column.attributes)
        alias = self.annotated.get(self.follow(fact.alias, self.annotated) or "") if fact.alias else None
        if alias is not None:
            template = alias.column
            column.type = column.type if fact.typed else template.type
            if not fact.typed:
                for key in ("type_from", "python_type", "type_source"):
                    if key in template.attributes:
                        column.attributes[key] = template.attributes[key]
            if "naive_default" in template.attributes:
                column.attributes.setdefault("naive_default", template.attributes["naive_default"])
            column.primary_key = column.primary_key or template.primary_key
            column.unique = column.unique or template.unique
            column.indexed = column.indexed or template.indexed
            column.auto_on_insert = column.auto_on_insert or template.auto_on_insert
            column.auto_on_update = column.auto_on_update or template.auto_on_update
        if origin is not None:
            column.origin = "inherited"
            column.origin_detail = f"{origin.cls.name} ({origin.module.path})"
        elif detail is not None:
            column.origin_detail = detail
        if type_map and column.attributes.get("type_from") == "annotation":
            apply_type_map(column, type_map)
        return column

    def type_map(self, ref: ClassRef) -> dict[str, str]:
        """The `type_annotation_map` a class's annotated columns use: its own or its bases' (nearest wins)."""
        found: dict[str, str] = {}
        for current in [ref, *self.ancestors(ref), *self.unmapped_ancestors(ref)]:
            fact = self.classes.get(current.qualified)
            for key, value in (fact.type_map if fact else {}).items():
                found.setdefault(key, value)
            for base in current.cls.bases:
                if not isinstance(base, Name):
                    continue
                variable = self.base_variable(current.module, base)
                for key, value in (self.base_vars[variable].type_map if variable else {}).items():
                    found.setdefault(key, value)
        return found

    def base_variable(self, module: Module, base: Name) -> str | None:
        """The declarative base variable (`Base = declarative_base()`) a base name written in `module` means."""
        key = (id(module), base.dotted)
        if key not in self.base_variables:
            self.base_variables[key] = self.follow(self.qualify(module, base.dotted), self.base_vars)
        return self.base_variables[key]

    def references(self, fact: ColumnFact) -> tuple[Reference, ...]:
        alias = self.annotated.get(self.follow(fact.alias, self.annotated) or "") if fact.alias else None
        return fact.references + (alias.references if alias is not None else ())

    def target(self, reference: Reference) -> tuple[str | None, str | None]:
        """(table, column) a foreign key points at."""
        if reference.head is None:
            return string_target(reference)
        column = reference.text.rsplit(".", 1)[-1] if "." in reference.text else None
        return self.table_of(reference.head), column

    def table_of(self, qualified: str) -> str | None:
        """The table a class or a Core `Table` variable stands for."""
        variable = self.follow(qualified, self.core_vars)
        if variable is not None:
            return self.core_vars[variable]
        ref = self.class_ref(qualified)
        if ref is None:
            return None
        mapping = self.mapping(ref)
        return mapping.table if mapping.kind in ("table", "sti", "hybrid") else None

    # ------------------------------------------------------------------ building tables

    def run(self) -> None:
        if not (self.classes or self.core or self.base_vars):
            return  # no SQLAlchemy anywhere
        for base in self.base_vars.values():
            self.builder.project.stacks.add("sqlalchemy")
            if base.kind == "flask":
                self.builder.project.stacks.add("flask-sqlalchemy")
        for core in self.core:
            self.add_core_table(core)
        sti: list[tuple[ClassRef, ClassFact, _Mapping]] = []
        classes = self.workspace_classes()
        for ref in self.in_use_first(classes):
            fact = self.fact(ref)
            mapping = self.mapping(ref)
            if mapping.kind == "table" and mapping.table:
                self.add_class_table(ref, fact, mapping)
            elif mapping.kind == "sti":
                sti.append((ref, fact, mapping))
        for ref, fact, mapping in sti:
            self.add_single_table_columns(ref, fact, mapping)
        joined = [(ref, self.mappings[ref.qualified]) for ref in classes
                  if ref.qualified in self.mappings and self.mappings[ref.qualified].parent]
        for ref, child in sorted(joined, key=lambda item: len(self.ancestors(item[0]))):
            self.add_parent_columns(ref, child)
        for loose in self.loose:
            self.add_loose_index(loose)
        self.mark_secondaries()
        for table in self.tables:
            if looks_like_join_table(table):
                table.is_association = True

    def in_use_first(self, refs: list[ClassRef]) -> list[ClassRef]:
        """Classes other modules import before those nobody imports: where two models map one table (MLflow keeps
        a frozen `initial_models.py` beside the live `models.py`), the one in use is the table's declaration."""
        imported = {target for module in self.builder.modules.values() for target in module.imports.values()}
        return sorted(refs, key=lambda ref: ref.qualified not in imported)

    def add_core_table(self, core: CoreTableFact) -> None:
        table = Table(name=core.name, declarations=[replace(core.declaration, idiom=dict(core.declaration.idiom))])
        for column in core.columns:
            self.add_column(table, self.model_column(None, column), self.references(column))
        self.add_constraints(table, core.constraints, {})
        self.finish(table)
        self.builder.project.stacks.add("sqlalchemy")

    def add_class_table(self, ref: ClassRef, fact: ClassFact, mapping: _Mapping) -> None:
        assert mapping.table is not None
        columns = self.collect_columns(ref, fact)
        framework = "flask-sqlalchemy" if mapping.flask else "sqlalchemy"
        declaration = declaration_for(ref, framework, self.idiom(ref, fact, mapping))
        table = Table(name=mapping.table, declarations=[declaration])
        attributes: dict[str, str] = {}
        type_map = self.type_map(ref)
        for origin, column in columns:
            attributes[column.attribute] = column.column.name
            self.add_column(table, self.model_column(origin, column, type_map=type_map), self.references(column))
        self.attributes[ref.qualified] = attributes
        self.add_constraints(table, self.table_args(ref, fact), attributes)
        self.add_external(table, [ref, *self.unmapped_ancestors(ref)])
        self.finish(table)
        self.builder.project.stacks.add("sqlalchemy")
        if mapping.flask:
            self.builder.project.stacks.add("flask-sqlalchemy")

    def add_external(self, table: Table, refs: list[ClassRef]) -> None:
        """Columns of bases from installed packages: known timestamps, else the base is noted as unseen."""
        add_external_bases(self.builder, table, refs, self.is_base_variable)

    def is_base_variable(self, qualified: str) -> bool:
        """`Base` of `declarative_base()` or `db.Model` of `SQLAlchemy()`: names, not classes, in the workspace."""
        if self.follow(qualified, self.base_vars) is not None:
            return True
        return qualified.endswith(".Model") and self.follow(qualified[: -len(".Model")], self.base_vars) is not None

    @staticmethod
    def idiom(ref: ClassRef, fact: ClassFact, mapping: _Mapping) -> dict[str, str]:
        """How the class writes columns, for fixes: "mapped", "flask" (`db.Column`) or "classic"."""
        idiom = {"prefix": module_prefix(ref.module, fact.column_heads),
                 "imported": imported_names(ref.module, ("sqlalchemy", "flask_sqlalchemy"))}
        if fact.mapped_style or (not fact.columns and "mapped_column" in idiom.get("imported", "").split(",")):
            idiom["style"] = "mapped"
        elif mapping.flask and (not fact.columns or idiom.get("prefix", "") not in ("", "sa.", "sqlalchemy.")):
            idiom["style"] = "flask"
            if not fact.columns:
                idiom["prefix"] = f"{mapping.flask_head or 'db'}."
        else:
            idiom["style"] = "classic"
        return idiom

    def add_single_table_columns(self, ref: ClassRef, fact: ClassFact, mapping: _Mapping) -> None:
        """Single-table inheritance: the subclass's own (and mixin) columns live in the parent's table."""
        table = self.builder.project.tables.get((mapping.table or "").lower())
        if table is None:
            return
        detail = f"{ref.cls.name} (single-table inheritance, {ref.module.path})"
        type_map = self.type_map(ref)
        for origin, column in self.collect_columns(ref, fact):
            if column.column.name in table.columns:
                continue
            self.add_column(table, self.model_column(origin, column, detail, type_map), self.references(column))

    def add_parent_columns(self, ref: ClassRef, mapping: _Mapping) -> None:
        """Joined-table inheritance: a row of the child table extends a row of the parent's, so the parent's
        columns are listed as inherited, marked with the table that holds them (they get no index or key here)."""
        table = self.builder.project.tables.get((mapping.table or "").lower())
        parent = self.builder.project.tables.get((mapping.parent or "").lower())
        if table is None or parent is None or table is parent:
            return
        for name, column in parent.columns.items():
            if name in table.columns or column.primary_key:
                continue
            table.columns[name] = Column(
                name, column.type, location=column.location, origin="inherited",
                origin_detail=f"parent table {parent.name} ({ref.cls.name} extends it)",
                nullable=column.nullable, auto_on_insert=column.auto_on_insert,
                auto_on_update=column.auto_on_update, attributes={"table": column.attributes.get("table", parent.name)})

    def add_column(self, table: Table, column: Column, references: tuple[Reference, ...]) -> None:
        add_column(table, column, references, self.target)

    def add_constraints(self, table: Table, constraints: list[ConstraintFact], attributes: dict[str, str]) -> None:
        add_constraints(table, constraints, attributes, self.target)

    def finish(self, table: Table) -> None:
        self.tables.append(self.builder.add_table(finish_table(table)))

    def add_loose_index(self, loose: LooseIndexFact) -> None:
        name = self.table_of(loose.head)
        table = self.builder.project.tables.get((name or "").lower())
        if table is None:
            return
        ref = self.class_ref(loose.head)
        attributes = self.attributes.get(ref.qualified, {}) if ref is not None else {}
        self.add_constraints(table, [loose.constraint], attributes)

    def mark_secondaries(self) -> None:
        for fact in self.classes.values():
            for reference in fact.secondaries:
                name = self.table_of(reference.head) if reference.head else reference.text.rsplit(".", 1)[-1]
                table = self.builder.project.tables.get((name or "").lower())
                if table is not None:
                    table.is_association = True


def apply_type_map(column: Column, type_map: dict[str, str]) -> None:
    """An annotated column's type through the declarative base's `type_annotation_map` (`datetime` →
    `DateTime(timezone=True)`), matched on the type's last name (`datetime.datetime` and `datetime` alike)."""
    python = column.attributes.get("python_type", "")
    wanted = python.rsplit(".", 1)[-1]
    for key, value in type_map.items():
        if wanted and key.rsplit(".", 1)[-1] == wanted:
            column.type = value
            column.attributes["type_from"] = "annotation_map"
            return


def snake_case(name: str) -> str:
    """Flask-SQLAlchemy 3's default table name: `OrderItem` → "order_item", `HTTPLog` → "http_log"."""
    return re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", name).lower().lstrip("_")


def looks_like_join_table(table: Table) -> bool:
    """Only foreign keys (two or more), maybe a surrogate key and a creation time: a many-to-many link."""
    referencing = {name for fk in table.foreign_keys for name in fk.columns}
    if len(referencing) < 2:
        return False
    others = [column for column in table.columns.values() if column.name not in referencing]
    surrogate = [column for column in others if column.primary_key]
    stamps = [column for column in others if not column.primary_key and (
        column.name in CREATION_NAMES or column.auto_on_insert)]
    return len(surrogate) <= 1 and len(surrogate) + len(stamps) == len(others)


# ============================================================================================ shared assembly

Target = Callable[[Reference], tuple[str | None, str | None]]


def add_column(table: Table, column: Column, references: tuple[Reference, ...], target: Target) -> None:
    """A column and the foreign keys declared on it (located at the column's declaration)."""
    table.columns.setdefault(column.name, column)
    for reference in references:
        target_table, target_column = target(reference)
        table.foreign_keys.append(ForeignKey(
            columns=(column.name,), target_table=target_table,
            target_columns=(target_column,) if target_column else (),
            on_delete=reference.on_delete, on_update=reference.on_update,
            location=column.location, kind="constraint", name=reference.name))


def add_constraints(table: Table, constraints: list[ConstraintFact], attributes: dict[str, str],
                    target: Target) -> None:
    """Table-level constraints: the primary key, foreign keys, indexes and unique constraints."""
    for constraint in constraints:
        columns = tuple(attributes.get(name, name) for name in constraint.columns) if constraint.attributes \
            else constraint.columns
        if constraint.kind == "primary_key":
            table.primary_key = columns
        elif constraint.kind == "foreign_key":
            first = constraint.references[0]
            targets = tuple(column for column in (target(ref)[1] for ref in constraint.references) if column)
            table.foreign_keys.append(ForeignKey(
                columns=columns, target_table=target(first)[0], target_columns=targets,
                on_delete=first.on_delete, on_update=first.on_update, location=constraint.location,
                kind="constraint", name=constraint.name))
        else:
            unique = constraint.kind == "unique"
            table.indexes.append(Index(columns=columns, unique=unique, partial=constraint.partial,
                                       name=constraint.name, location=constraint.location,
                                       source="unique" if unique else "index"))


def finish_table(table: Table) -> Table:
    """The primary key from the columns (in declaration order) unless a constraint gave it."""
    if not table.primary_key:
        table.primary_key = tuple(column.name for column in table.columns.values() if column.primary_key)
    return table


def string_target(reference: Reference) -> tuple[str | None, str | None]:
    """(table, column) of a "table.column" / "schema.table.column" string."""
    parts = reference.text.split(".")
    if len(parts) < 2:
        return None, None
    return parts[-2], parts[-1]


def add_external_bases(builder: ModelBuilder, table: Table, refs: list[ClassRef],
                       known: Callable[[str], bool]) -> None:
    """Bases of `refs` imported from outside the workspace: the columns of well-known ones are added (origin
    "framework"); the others are listed in `table.unseen_bases` (they may hold columns we cannot see)."""
    unseen: list[str] = list(table.unseen_bases)
    location = table.primary.location if table.primary else None
    for ref in refs:
        for base in ref.cls.bases:
            if not isinstance(base, Name) or base.dotted.split(".", 1)[0] not in ref.module.imports:
                continue
            qualified = ref.module.resolve(base.dotted)
            if builder.lookup(qualified) is not None or known(qualified) or qualified in DECLARATIVE_ROOTS:
                continue
            columns = KNOWN_EXTERNAL_COLUMNS.get(qualified)
            if columns is None and qualified.startswith(EXTERNAL_DECLARATIVE) and qualified.endswith("AuditBase"):
                columns = _AUDIT_COLUMNS
            if qualified.startswith(EXTERNAL_DECLARATIVE) and qualified.rsplit(".", 1)[-1].startswith(
                    KEYED_EXTERNAL_PREFIXES):
                table.columns.setdefault("id", Column("id", location=location, origin="framework",
                                                      origin_detail=qualified, primary_key=True, nullable=False))
            if columns is not None:
                for name, on_insert, on_update in columns:
                    table.columns.setdefault(name, Column(
                        name, "DateTime", location=location, origin="framework", origin_detail=qualified,
                        auto_on_insert=on_insert, auto_on_update=on_update))
            elif qualified.split(".", 1)[0] not in COLUMNLESS_PACKAGES and not qualified.startswith(
                    EXTERNAL_DECLARATIVE) and qualified not in unseen:
                unseen.append(qualified)
    table.unseen_bases = tuple(unseen)
