"""Alembic revisions: the operations of each revision's `upgrade()`, replayed from base to head.

A revision file is recognised by its content, wherever it lives: module-level `revision = "..."` and
`down_revision = ...`, a `def upgrade()`, and an `alembic` import or `op.` calls. `extract` turns `upgrade()`
(and the module's own helpers it calls) into `SchemaOp`s: `op.create_table(...)` with its columns and
constraints, `add_column`, `drop_column`,
`create_index`, `drop_index`, `create_foreign_key`, `drop_constraint`, `create_unique_constraint`,
`rename_table`, `alter_column(new_column_name=, type_=)`, `drop_table`, the same inside
`with op.batch_alter_table(...) as batch_op:`, and `op.execute("<SQL>")` through the SQL extractor.
`downgrade()` is ignored: the schema is what upgrading to head produces.

`resolve` orders revisions by `down_revision` (merge revisions wait for every parent; branches interleave by
path, so the order is deterministic), replays them into the effective schema, and records the order, the head
and the versions folder (where a fix writes the next revision).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from analyzers.extractors.sql import Replay, SchemaOp, apply_ops, ops_from_sql, register_tables
from analyzers.facts import SourceFile
from analyzers.model import Column, ForeignKey, Index, Location, Span, Table, TableDeclaration, copied
from analyzers.pysyntax import Call, Const, Expr, Function, Module, Name, Raw, Seq, const_str, expr_text
from analyzers.resolve import ModelBuilder

# --------------------------------------------------------------------------------------------- records


@dataclass(slots=True)
class AlembicRevision:
    path: str
    revision: str
    down_revisions: tuple[str, ...]
    ops: list[SchemaOp] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# Positional parameters of the operations we replay (`op.<name>(...)`), as Alembic declares them.
OP_PARAMETERS: dict[str, tuple[str, ...]] = {
    "create_table": ("table_name",),
    "drop_table": ("table_name",),
    "rename_table": ("old_table_name", "new_table_name"),
    "add_column": ("table_name", "column"),
    "drop_column": ("table_name", "column_name"),
    "alter_column": ("table_name", "column_name"),
    "create_index": ("index_name", "table_name", "columns"),
    "drop_index": ("index_name", "table_name"),
    "create_foreign_key": ("constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"),
    "drop_constraint": ("constraint_name", "table_name"),
    "create_unique_constraint": ("constraint_name", "table_name", "columns"),
    "create_primary_key": ("constraint_name", "table_name", "columns"),
    "execute": ("sqltext",),
}
# `batch_op.<name>(...)`: the same without the table, which the batch names.
BATCH_PARAMETERS: dict[str, tuple[str, ...]] = {
    name: tuple(parameter for parameter in parameters if parameter not in ("table_name", "source_table"))
    for name, parameters in OP_PARAMETERS.items()
    if name not in ("create_table", "drop_table", "rename_table")
}
_NOW = re.compile(r"(?i)\b(?:now|utcnow|current_timestamp|localtimestamp|getdate|sysdate|clock_timestamp)\b")
_PLAIN_COLUMN = re.compile(r'(?i)^\s*"?(\w+)"?\s*(?:asc|desc)?\s*$')


# --------------------------------------------------------------------------------------------- extract


def extract(source: SourceFile) -> list[AlembicRevision]:
    module = source.python
    if module is None:
        return []
    revision = const_str(_module_value(module, "revision"))
    if revision is None or not _is_revision_file(module):
        return []
    reader = _RevisionReader(module, source.path)
    ops = reader.upgrade_ops()
    down = _revision_ids(_module_value(module, "down_revision"))
    return [AlembicRevision(source.path, revision, down, ops, reader.notes)]


def _module_value(module: Module, name: str) -> Expr | None:
    for assign in module.assigns:
        if name in assign.targets:
            return assign.value
    return None


def _revision_ids(expr: Expr | None) -> tuple[str, ...]:
    """`down_revision`: None (a base), "a", or ("a", "b") for a merge revision."""
    if isinstance(expr, Seq):
        return tuple(value for item in expr.items if (value := const_str(item)) is not None)
    value = const_str(expr)
    return (value,) if value else ()


def _is_revision_file(module: Module) -> bool:
    """A revision declares where it comes from and how to upgrade; a script that merely passes a `revision`
    to alembic's command API does neither."""
    declares_parent = any("down_revision" in assign.targets for assign in module.assigns)
    has_upgrade = any(function.name == "upgrade" for function in module.top_level_functions())
    return declares_parent and has_upgrade and (_uses_alembic(module) or _from_alembic_template(module))


def _from_alembic_template(module: Module) -> bool:
    """An empty revision (`upgrade(): pass`, as `alembic revision` writes it when there is nothing to do)
    imports nothing from alembic, yet it is a link of the chain: without it every later revision would lose
    its parent. Alembic's template still declares `branch_labels` and `depends_on` beside `down_revision`."""
    names = {target for assign in module.assigns for target in assign.targets}
    return {"branch_labels", "depends_on"} <= names


def _uses_alembic(module: Module) -> bool:
    if any(target == "alembic" or target.startswith("alembic.") for target in module.imports.values()):
        return True
    return any(isinstance(call.func, Name) and call.func.dotted.startswith("op.")
               for function in module.functions for call in function.calls)


def _op_aliases(module: Module) -> set[str]:
    aliases = {local for local, target in module.imports.items() if target == "alembic.op"}
    aliases.update(f"{local}.op" for local, target in module.imports.items() if target == "alembic")
    return aliases or {"op"}


def _idiom(module: Module, op_alias: str) -> dict[str, str]:
    """How the revision writes SQLAlchemy names and the op module, for fixes that add to it."""
    prefix = next((f"{local}." for local, target in module.imports.items() if target == "sqlalchemy"), None)
    imported = sorted(local for local, target in module.imports.items()
                      if target.startswith("sqlalchemy.") and target.count(".") == 1 and "." not in local)
    if prefix is None:
        prefix = "" if "Column" in imported else "sa."
    return {"style": "alembic", "op": op_alias, "prefix": prefix, "imported": ",".join(imported),
            "imports_line": str(module.imports_end)}


# --------------------------------------------------------------------------------------------- reading


@dataclass(slots=True)
class _Batch:
    span: Span
    table: str | None
    alias: str | None


class _RevisionReader:
    def __init__(self, module: Module, path: str) -> None:
        self.module = module
        self.path = path
        self.ops_aliases = _op_aliases(module)
        self.idiom = _idiom(module, sorted(self.ops_aliases)[0])
        self.functions = {function.name: function for function in module.top_level_functions()}
        self.notes: list[str] = []

    def location(self, expr: Expr | Span) -> Location:
        return Location(self.path, expr if isinstance(expr, Span) else expr.span)

    # ---- upgrade() and the helpers it calls

    def upgrade_ops(self) -> list[SchemaOp]:
        upgrade = self.functions.get("upgrade")
        return self.function_ops(upgrade, {"upgrade"}) if upgrade is not None else []

    def function_ops(self, function: Function, seen: set[str]) -> list[SchemaOp]:
        ops: list[SchemaOp] = []
        batches: list[_Batch] = []
        for call in function.calls:
            if not isinstance(call.func, Name):
                continue
            head, _, method = call.func.dotted.rpartition(".")
            if head in self.ops_aliases and method == "batch_alter_table":
                batches.append(self.batch(function, call))
            elif head in self.ops_aliases and method in OP_PARAMETERS:
                ops.extend(self.op(method, call, _bind(call, OP_PARAMETERS[method])))
            elif head and method in BATCH_PARAMETERS and (batch := _enclosing_batch(batches, call, head)):
                arguments = _bind(call, BATCH_PARAMETERS[method])
                if batch.table is not None:  # the table the batch names stands in for the missing argument
                    arguments["table_name"] = arguments["source_table"] = Const(call.span, batch.table)
                    ops.extend(self.op(method, call, arguments))
            elif not head and method in self.functions and method not in seen and len(seen) < 8:
                ops.extend(self.function_ops(self.functions[method], seen | {method}))
        return ops

    def batch(self, function: Function, call: Call) -> _Batch:
        table = const_str(_bind(call, ("table_name",)).get("table_name"))
        holding = [(span, items) for span, items in function.withs if _contains(span, call.span)]
        if not holding:
            return _Batch(call.span, table, None)
        span, items = max(holding, key=lambda found: (found[0].start.line, found[0].start.column))  # innermost
        alias = next((match.group(1) for item in items if isinstance(item, Raw)
                      if (match := re.search(r"\bas\s+(\w+)\s*$", item.text))), None)
        return _Batch(span, table, alias)

    # ---- operations

    def op(self, method: str, call: Call, arguments: dict[str, Expr]) -> list[SchemaOp]:
        location = self.location(call)
        if method == "create_table":
            return self.create_table(call, arguments)
        if method == "execute":
            return self.execute(call, arguments.get("sqltext"))
        table = const_str(arguments.get("table_name") or arguments.get("source_table"))
        if method == "rename_table":
            old, new = const_str(arguments.get("old_table_name")), const_str(arguments.get("new_table_name"))
            return [SchemaOp("rename_table", old, location, new_name=new)] if old and new else []
        if table is None:
            return []
        if method == "drop_table":
            return [SchemaOp("drop_table", table, location)]
        if method == "add_column":
            column_call = arguments.get("column")
            if not isinstance(column_call, Call):
                return []
            parsed = self.column(column_call)
            if parsed is None:
                return []
            column, foreign_key = parsed
            return [SchemaOp("add_column", table, location, column=column, foreign_key=foreign_key)]
        if method == "drop_column":
            name = const_str(arguments.get("column_name"))
            return [SchemaOp("drop_column", table, location, name=name)] if name else []
        if method == "alter_column":
            return self.alter_column(call, table, const_str(arguments.get("column_name")), location)
        if method == "create_index":
            index = self.index(call, arguments, location)
            return [SchemaOp("create_index", table, location, index=index, name=index.name)] if index else []
        if method == "drop_index":
            name = _name(arguments.get("index_name"))
            return [SchemaOp("drop_index", table, location, name=name)] if name else []
        if method == "create_foreign_key":
            foreign_key = self.foreign_key(call, arguments, location)
            return [SchemaOp("add_foreign_key", table, location, foreign_key=foreign_key)] if foreign_key else []
        if method == "drop_constraint":
            name = _name(arguments.get("constraint_name"))
            return [SchemaOp("drop_constraint", table, location, name=name)] if name else []
        columns = _strings(arguments.get("columns"))
        if method == "create_unique_constraint" and columns:
            index = Index(columns, unique=True, name=_name(arguments.get("constraint_name")), location=location,
                          source="unique")
            return [SchemaOp("create_index", table, location, index=index, name=index.name)]
        if method == "create_primary_key" and columns:
            return [SchemaOp("add_primary_key", table, location, columns=columns)]
        return []

    def create_table(self, call: Call, arguments: dict[str, Expr]) -> list[SchemaOp]:
        name_expr = arguments.get("table_name")
        name = const_str(name_expr)
        if name is None or name_expr is None:
            return []
        table = Table(name=name)
        table.declarations.append(self.declaration(call, name_expr))
        primary: list[str] = []
        for item in call.args[1:]:
            if not isinstance(item, Call):
                continue
            kind = _callee(item)
            if kind == "Column":
                parsed = self.column(item)
                if parsed is None:
                    continue
                column, foreign_key = parsed
                table.columns[column.name] = column
                if column.primary_key:
                    primary.append(column.name)
                if foreign_key is not None:
                    table.foreign_keys.append(foreign_key)
            else:
                self.table_constraint(table, kind, item)
        if primary and not table.primary_key:
            table.primary_key = tuple(primary)
        return [SchemaOp("create_table", name, self.location(call), created=table,
                         if_not_exists=_true(call.kwarg("if_not_exists")))]

    def declaration(self, call: Call, name_expr: Expr) -> TableDeclaration:
        columns = [item for item in call.args[1:] if isinstance(item, Call)]
        body_anchor = None
        body_indent = "    "
        if columns and call.close.line > columns[-1].span.end.line:  # `)` on its own line: add above it
            body_anchor = Location(self.path, Span.at(call.close.line, 0))
            body_indent = " " * columns[-1].span.start.column
        return TableDeclaration(
            kind="migration",
            framework="alembic",
            location=Location(self.path, Span(call.span.start, name_expr.span.end)),
            body_anchor=body_anchor,
            body_indent=body_indent,
            after_anchor=Location(self.path, Span.at(call.span.end.line + 1, 0)),
            after_indent=" " * call.span.start.column,
            idiom=dict(self.idiom),
        )

    def column(self, call: Call) -> tuple[Column, ForeignKey | None] | None:
        """`sa.Column("name", sa.Type(), sa.ForeignKey("t.id"), primary_key=..., index=..., ...)`."""
        if _callee(call) != "Column":
            return None
        name = const_str(call.args[0]) if call.args else const_str(call.kwarg("name"))
        if not name:
            return None
        location = self.location(call)
        column = Column(name=name, location=location, options_anchor=Location(self.path, Span(call.close,
                                                                                                  call.close)),
                        declaration_text=expr_text(call))
        type_expr = next((arg for arg in call.args[1:] if _callee(arg) not in (
            "ForeignKey", "Sequence", "Identity", "Computed", "CheckConstraint")), call.kwarg("type_"))
        column.type = _type_text(type_expr) if type_expr is not None else None
        column.primary_key = _true(call.kwarg("primary_key"))
        column.unique = _true(call.kwarg("unique"))
        column.indexed = _true(call.kwarg("index"))
        nullable = call.kwarg("nullable")
        column.nullable = nullable.value if isinstance(nullable, Const) and isinstance(nullable.value, bool) \
            else (False if column.primary_key else None)
        inserted = [call.kwarg("server_default"), call.kwarg("default")]
        column.auto_on_insert = any(_NOW.search(expr_text(expr)) for expr in inserted if expr is not None)
        column.auto_on_update = any(
            expr is not None and not _none(expr) for expr in (call.kwarg("onupdate"), call.kwarg("server_onupdate"))
        ) or "ON UPDATE" in expr_text(call.kwarg("server_default")).upper()
        foreign_key = None
        for arg in call.args[1:]:
            if isinstance(arg, Call) and _callee(arg) == "ForeignKey":
                target = const_str(arg.args[0]) if arg.args else const_str(arg.kwarg("column"))
                if target:
                    table, columns = _split_target(target)
                    foreign_key = ForeignKey((name,), table, columns, on_delete=_upper(arg.kwarg("ondelete")),
                                             on_update=_upper(arg.kwarg("onupdate")), location=location,
                                             name=_name(arg.kwarg("name")))
        return column, foreign_key

    @staticmethod
    def alter_column(call: Call, table: str, old: str | None, location: Location) -> list[SchemaOp]:
        """`alter_column("t", "c", type_=sa.DateTime(timezone=True))` changes the type (a later revision's
        `timestamptz` supersedes the first one's naive type); `new_column_name=` renames it, after."""
        if not old:
            return []
        ops: list[SchemaOp] = []
        type_expr = call.kwarg("type_")
        if type_expr is not None:
            ops.append(SchemaOp("alter_column_type", table, location, name=old,
                                column=Column(name=old, type=_type_text(type_expr), location=location)))
        new = const_str(call.kwarg("new_column_name"))
        if new:
            ops.append(SchemaOp("rename_column", table, location, name=old, new_name=new))
        return ops

    def table_constraint(self, table: Table, kind: str, call: Call) -> None:
        location = self.location(call)
        if kind == "ForeignKeyConstraint":
            columns = _strings(call.args[0] if call.args else call.kwarg("columns"))
            targets = _strings(call.args[1] if len(call.args) > 1 else call.kwarg("refcolumns"))
            if columns and targets:
                target_table, _ = _split_target(targets[0])
                target_columns = tuple(target.rpartition(".")[2] for target in targets if "." in target)
                table.foreign_keys.append(ForeignKey(
                    columns, target_table, target_columns,
                    on_delete=_upper(call.kwarg("ondelete")), on_update=_upper(call.kwarg("onupdate")),
                    location=location, name=_name(call.kwarg("name"))))
        elif kind == "PrimaryKeyConstraint":
            columns = tuple(value for arg in call.args if (value := const_str(arg)))
            if columns:
                table.primary_key = columns
        elif kind == "UniqueConstraint":
            columns = tuple(value for arg in call.args if (value := const_str(arg)))
            if columns:
                table.indexes.append(Index(columns, unique=True, name=_name(call.kwarg("name")), location=location,
                                           source="unique"))
        elif kind == "Index" and call.args:
            columns = tuple(column for arg in call.args[1:] if (column := _index_column(arg)))
            if columns:
                table.indexes.append(Index(columns, unique=_true(call.kwarg("unique")), partial=_partial(call),
                                           name=_name(call.args[0]), location=location, source="index"))

    def index(self, call: Call, arguments: dict[str, Expr], location: Location) -> Index | None:
        columns_expr = arguments.get("columns")
        items = columns_expr.items if isinstance(columns_expr, Seq) else ()
        columns = tuple(column for item in items if (column := _index_column(item)))
        if not columns or len(columns) != len(items):
            return None
        return Index(columns, unique=_true(call.kwarg("unique")), partial=_partial(call),
                     name=_name(arguments.get("index_name")), location=location, source="migration")

    def foreign_key(self, call: Call, arguments: dict[str, Expr], location: Location) -> ForeignKey | None:
        local = _strings(arguments.get("local_cols"))
        target = const_str(arguments.get("referent_table"))
        if not local or target is None:
            return None
        return ForeignKey(local, target, _strings(arguments.get("remote_cols")),
                          on_delete=_upper(call.kwarg("ondelete")), on_update=_upper(call.kwarg("onupdate")),
                          location=location, name=_name(arguments.get("constraint_name")))

    def execute(self, call: Call, sql: Expr | None) -> list[SchemaOp]:
        """`op.execute("CREATE INDEX ...")` (or `sa.text(...)`): the SQL's operations, located at the call."""
        if isinstance(sql, Call) and _callee(sql) == "text" and sql.args:
            sql = sql.args[0]
        text = const_str(sql)
        if not text:
            return []
        ops, notes = ops_from_sql(text.encode("utf-8"), self.path)
        location = self.location(call)
        self.notes.extend(f"{self.path}:{location.line + 1}: op.execute: {note.split(': ', 1)[-1]}"
                          for note in notes)
        for op in ops:
            self.relocate(op, call, location)
        return ops

    def relocate(self, op: SchemaOp, call: Call, location: Location) -> None:
        """Positions inside an SQL string mean nothing in the file: everything points at the execute call."""
        op.location = location
        for item in (op.column, op.foreign_key, op.index):
            if item is not None:
                item.location = location
        if op.column is not None:
            op.column.options_anchor = None
        if op.created is not None:
            for column in op.created.columns.values():
                column.location = location
            for foreign_key in op.created.foreign_keys:
                foreign_key.location = location
            for index in op.created.indexes:
                index.location = location
            op.created.declarations = [TableDeclaration(
                kind="migration", framework="alembic", location=location,
                after_anchor=Location(self.path, Span.at(call.span.end.line + 1, 0)),
                after_indent=" " * call.span.start.column, idiom=dict(self.idiom))]


# --------------------------------------------------------------------------------------------- expressions


def _bind(call: Call, parameters: tuple[str, ...]) -> dict[str, Expr]:
    """Arguments by parameter name: positional ones in declaration order, then keywords."""
    bound = {name: value for name, value in zip(parameters, call.args, strict=False)}
    bound.update((name, value) for name, value in call.kwargs if name in parameters)
    return bound


def _callee(expr: Expr | None) -> str:
    """The last part of a call's callee name: `sa.Column(...)` → "Column"."""
    if isinstance(expr, Call):
        return expr.func_name.rpartition(".")[2]
    return ""


def _contains(outer: Span, inner: Span) -> bool:
    return (outer.start.line, outer.start.column) <= (inner.start.line, inner.start.column) and \
        (inner.end.line, inner.end.column) <= (outer.end.line, outer.end.column)


def _enclosing_batch(batches: list[_Batch], call: Call, head: str) -> _Batch | None:
    """The innermost `batch_alter_table` block holding the call, when the call is on its alias."""
    inside = [batch for batch in batches if _contains(batch.span, call.span) and batch.alias in (None, head)]
    return inside[-1] if inside else None


def _name(expr: Expr | None) -> str | None:
    """A constraint or index name: "ix", `op.f("ix")`, `batch_op.f("ix")`, `conv("ix")`."""
    if isinstance(expr, Call) and _callee(expr) in ("f", "conv") and expr.args:
        return const_str(expr.args[0])
    return const_str(expr)


def _strings(expr: Expr | None) -> tuple[str, ...]:
    if isinstance(expr, Seq):
        return tuple(value for item in expr.items if (value := const_str(item)) is not None)
    value = const_str(expr)
    return (value,) if value else ()


def _index_column(expr: Expr) -> str | None:
    """An index element: a column name, or an expression's text (`sa.text("lower(email)")`)."""
    value = const_str(expr)
    if value is None and isinstance(expr, Call) and _callee(expr) in ("text", "literal_column") and expr.args:
        value = const_str(expr.args[0])
        if value is not None:
            plain = _PLAIN_COLUMN.match(value)
            return plain.group(1) if plain else value
    return value


def _partial(call: Call) -> bool:
    return any(name.endswith("_where") and not _none(value) for name, value in call.kwargs)


def _split_target(target: str) -> tuple[str, tuple[str, ...]]:
    """"customers.id" → ("customers", ("id",)); "billing.customers.id" → ("customers", ("id",))."""
    parts = target.split(".")
    if len(parts) == 1:
        return parts[0], ()
    return parts[-2], (parts[-1],)


def _type_text(expr: Expr) -> str:
    """`sa.String(120)` → "String(120)", `sa.Integer()` → "Integer"."""
    if isinstance(expr, Call):
        name = _callee(expr) or expr_text(expr.func)
        inner = [expr_text(arg) for arg in expr.args] + [f"{key}={expr_text(value)}" for key, value in expr.kwargs]
        return f"{name}({', '.join(inner)})" if inner else name
    if isinstance(expr, Name):
        return expr.dotted.rpartition(".")[2]
    return expr_text(expr)


def _true(expr: Expr | None) -> bool:
    return isinstance(expr, Const) and expr.value is True


def _none(expr: Expr | None) -> bool:
    return expr is None or (isinstance(expr, Const) and expr.value is None)


def _upper(expr: Expr | None) -> str | None:
    value = const_str(expr)
    return " ".join(value.upper().split()) if value else None


# --------------------------------------------------------------------------------------------- resolve


def order_revisions(revisions: Iterable[AlembicRevision]) -> tuple[list[AlembicRevision], list[str]]:
    """Revisions from base to head (each after all its parents; ties by path) and the heads, in that order.
    A revision id declared twice keeps its first file by path; a cycle is broken in path order."""
    by_id: dict[str, AlembicRevision] = {}
    for revision in sorted(revisions, key=lambda item: item.path):
        by_id.setdefault(revision.revision, revision)
    children: dict[str, list[str]] = {revision: [] for revision in by_id}
    waiting: dict[str, int] = {}
    for revision in by_id.values():
        parents = {parent for parent in revision.down_revisions if parent in by_id and parent != revision.revision}
        waiting[revision.revision] = len(parents)
        for parent in parents:
            children[parent].append(revision.revision)
    ready = [(revision.path, revision.revision) for revision in by_id.values() if not waiting[revision.revision]]
    heapq.heapify(ready)
    ordered: list[AlembicRevision] = []
    done: set[str] = set()
    while ready:
        _, current = heapq.heappop(ready)
        ordered.append(by_id[current])
        done.add(current)
        for child in children[current]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (by_id[child].path, child))
    ordered.extend(revision for revision in sorted(by_id.values(), key=lambda item: item.path)
                   if revision.revision not in done)
    referenced = {parent for revision in by_id.values() for parent in revision.down_revisions}
    heads = [revision.revision for revision in ordered if revision.revision not in referenced]
    return ordered, heads


def histories(revisions: Iterable[AlembicRevision]) -> list[list[AlembicRevision]]:
    """Revisions grouped into independent histories: one per versions folder, unless revisions of one folder
    revise those of another (one environment with several version locations). Prefect keeps a PostgreSQL and
    a SQLite history that reuse revision ids; MLflow has a tracking and an auth database."""
    by_folder: dict[str, list[AlembicRevision]] = {}
    for revision in revisions:
        by_folder.setdefault(revision.path.rpartition("/")[0], []).append(revision)
    ids = {folder: {revision.revision for revision in found} for folder, found in by_folder.items()}
    group = {folder: folder for folder in by_folder}

    def find(folder: str) -> str:
        while group[folder] != folder:
            folder = group[folder]
        return folder

    for folder, found in by_folder.items():
        for parent in {parent for revision in found for parent in revision.down_revisions} - ids[folder]:
            for other, known in ids.items():
                if parent in known:
                    group[find(other)] = find(folder)
    joined: dict[str, list[AlembicRevision]] = {}
    for folder in sorted(by_folder):
        joined.setdefault(find(folder), []).extend(by_folder[folder])
    return list(joined.values())


def resolve(builder: ModelBuilder) -> None:
    revisions = [revision for _, revision in builder.records(AlembicRevision)]
    if not revisions:
        return
    project = builder.project
    project.stacks.add("alembic")
    # The biggest history is the application's: its head and folder are where a fix writes by default.
    for history in sorted(histories(revisions), key=len):
        _replay_history(builder, history)


def _continuing(declaration: TableDeclaration, where: dict[str, str]) -> TableDeclaration:
    """A copy of a migration's declaration whose fixes continue the history at `where` (its head and folder)."""
    fresh = copied(declaration)
    fresh.idiom = {**declaration.idiom, **where}
    return fresh


def _replay_history(builder: ModelBuilder, revisions: list[AlembicRevision]) -> None:
    project = builder.project
    ordered, heads = order_revisions(revisions)
    project.migration_order.extend((revision.revision, revision.path) for revision in ordered)
    where: dict[str, str] = {}
    if heads:
        head = next(revision for revision in reversed(ordered) if revision.revision == heads[-1])
        where = {"alembic.head": head.revision, "alembic.versions": head.path.rpartition("/")[0]}
        if len(heads) > 1:
            where["alembic.heads"] = ",".join(heads)
            builder.note(f"Alembic has {len(heads)} heads ({', '.join(heads)}) in {where['alembic.versions']}; "
                         "`alembic merge` joins them")
        project.settings.pop("alembic.heads", None)
        project.settings.update(where)
    replay = Replay()
    for revision in ordered:
        apply_ops(replay, revision.ops, revision.revision, f"revision {revision.revision} ({revision.path})")
        for note in revision.notes:
            builder.note(note)
    for table in replay.history.tables.values():  # a fix for one of these tables continues this history
        table.declarations = [_continuing(declaration, where) if declaration.kind == "migration" else declaration
                              for declaration in table.declarations]
    register_tables(builder, replay)
