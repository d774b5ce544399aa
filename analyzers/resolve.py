"""Cross-file resolution: per-file facts → the `Project` model.

Each extractor contributes a `resolve(builder)` step that reads its own records from every file and registers
tables, endpoints and settings here. The builder offers what several frameworks share: module and class lookup
through imports, base-class chains across modules, and table merging (a model and the migrations that create the
same table are one table, located at the model).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from analyzers.facts import FileFacts
from analyzers.model import Column, ForeignKey, Index, Project, Table, TableDeclaration
from analyzers.pysyntax import Class, Expr, Module, Name

RecordT = TypeVar("RecordT")
ValueT = TypeVar("ValueT")


@dataclass(slots=True)
class ClassRef:
    module: Module
    cls: Class
    # Made once: resolve steps key their tables by it tens of thousands of times per check.
    qualified: str = field(init=False)

    def __post_init__(self) -> None:
        self.qualified = f"{self.module.module}.{self.cls.qualname}"


@dataclass(slots=True)
class ModelBuilder:
    root: str
    files: dict[str, FileFacts]
    project: Project = field(init=False)
    modules: dict[str, Module] = field(default_factory=dict)
    _classes: dict[str, ClassRef] = field(default_factory=dict)
    # Failures of resolve steps, reported like extractor failures.
    failures: list[str] = field(default_factory=list)
    # Every record in path order, grouped by exact type, built on the first `records` call: resolve steps
    # ask for one kind at a time, dozens of times, and scanning every record each time added up. Per type: each
    # record's position in the path order (to merge several types) and the record with its file.
    _by_type: dict[type, tuple[list[int], list[tuple[FileFacts, Any]]]] | None = None
    # Answers about classes, asked thousands of times per check by several resolve steps (each endpoint's
    # parameter types, each model's bases). Valid for the builder's life: they read only `modules` and
    # `_classes`, which are complete once the builder is made, and a new check makes a new builder. Modules and
    # classes are keyed by identity (two files may declare one module name; one module, two classes of one
    # name): the facts outlive the builder, so no id is reused meanwhile.
    _resolved: dict[tuple[int, str], ClassRef | None] = field(default_factory=dict)
    _looked_up: dict[str, ClassRef | None] = field(default_factory=dict)
    _ancestors: dict[tuple[int, int], list[ClassRef]] = field(default_factory=dict)
    _base_names: dict[tuple[int, int], frozenset[str]] = field(default_factory=dict)
    # Results of reusable steps (see `reusable`), handed from one check's builder to the next by the workspace.
    kept: dict[str, KeptStep] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.project = Project(root=self.root)
        for facts in self.files.values():
            module = facts.python
            if module is None:
                continue
            self.modules[module.module] = module
            self._index_classes(module, module.classes)

    def _index_classes(self, module: Module, classes: list[Class]) -> None:
        for cls in classes:
            self._classes[f"{module.module}.{cls.qualname}"] = ClassRef(module, cls)
            self._index_classes(module, cls.classes)

    # ------------------------------------------------------------------ records

    @overload
    def records(self, kind: type[RecordT]) -> Iterator[tuple[FileFacts, RecordT]]: ...

    @overload
    def records(self, kind: tuple[type, ...]) -> Iterator[tuple[FileFacts, Any]]: ...

    def records(self, kind: type[RecordT] | tuple[type, ...]) -> Iterator[tuple[FileFacts, Any]]:
        """Every record of `kind` (a type, or a tuple of them) across the workspace, in path order (deterministic)."""
        if self._by_type is None:
            self._by_type = {}
            position = 0
            for path in sorted(self.files):
                facts = self.files[path]
                for record in facts.records:
                    positions, found = self._by_type.setdefault(type(record), ([], []))
                    positions.append(position)
                    found.append((facts, record))
                    position += 1
        groups = [group for record_type, group in self._by_type.items() if issubclass(record_type, kind)]
        if not groups:
            return iter(())
        if len(groups) == 1:
            return iter(groups[0][1])  # no generator: tens of thousands of records pass through here per check
        # Merged by position, which is unique: the records themselves are never compared.
        merged = heapq.merge(*(zip(positions, found, strict=True) for positions, found in groups))
        return iter([entry for _, entry in merged])

    # ------------------------------------------------------------------ names and classes

    def lookup(self, qualified: str) -> ClassRef | None:
        """The class a qualified name refers to, following re-exports in package `__init__` modules."""
        if qualified in self._looked_up:
            return self._looked_up[qualified]
        found = self._looked_up[qualified] = self._lookup(qualified)
        return found

    def _lookup(self, qualified: str) -> ClassRef | None:
        seen: set[str] = set()
        while qualified not in seen:
            seen.add(qualified)
            found = self._classes.get(qualified)
            if found is not None:
                return found
            module_name, _, name = qualified.rpartition(".")
            module = self.modules.get(module_name)
            if module is None or name not in module.imports:
                return None
            qualified = module.imports[name]
        return None

    def resolve_class(self, module: Module, expr: Expr) -> ClassRef | None:
        if not isinstance(expr, Name):
            return None
        key = (id(module), expr.dotted)
        if key in self._resolved:
            return self._resolved[key]
        found = self._resolved[key] = self._resolve_class(module, expr)
        return found

    def _resolve_class(self, module: Module, expr: Name) -> ClassRef | None:
        local = self._classes.get(f"{module.module}.{expr.dotted}")
        if local is not None:
            return local
        return self.lookup(module.resolve(expr.dotted))

    def qualified_name(self, module: Module, expr: Expr) -> str | None:
        """The fully qualified dotted name of a Name expression, following imports and local classes."""
        if not isinstance(expr, Name):
            return None
        ref = self.resolve_class(module, expr)
        if ref is not None:
            return ref.qualified
        return module.resolve(expr.dotted)

    def function_named(self, name: str) -> str | None:
        """The project function `name` means (`project.functions` key), following re-exports in package
        modules (`from .deps import get_db` in `__init__`); a class means its `__init__` (or `__call__` for a
        callable instance's class)."""
        functions = self.project.functions
        seen: set[str] = set()
        current = name
        while current not in seen:
            seen.add(current)
            for candidate in (current, current + ".__init__", current + ".__call__"):
                if candidate in functions:
                    return candidate
            following = self._reexported(current)
            if following is None:
                return None
            current = following
        return None

    def _reexported(self, name: str) -> str | None:
        """`name` with its leading module's import followed: `pkg.models.Order.delete` → `pkg.models.orders.Order
        .delete` where `pkg/models/__init__` imports `Order` (a class's method, named through a re-export)."""
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = self.modules.get(".".join(parts[:cut]))
            if module is not None:
                target = module.imports.get(parts[cut])
                return None if target is None else ".".join([target, *parts[cut + 1:]])
        return None

    def ancestors(self, ref: ClassRef) -> list[ClassRef]:
        """Base classes found in the workspace, nearest first (depth-first, each once, cycles cut). Shared:
        do not change the list."""
        key = (id(ref.module), id(ref.cls))
        found = self._ancestors.get(key)
        if found is None:
            found = self._ancestors[key] = self._walk_ancestors(ref)
        return found

    def _walk_ancestors(self, ref: ClassRef) -> list[ClassRef]:
        result: list[ClassRef] = []
        seen = {ref.qualified}
        stack = [(ref.module, base) for base in reversed(ref.cls.bases)]
        while stack:
            module, base = stack.pop()
            found = self.resolve_class(module, base)
            if found is None or found.qualified in seen:
                continue
            seen.add(found.qualified)
            result.append(found)
            stack.extend((found.module, inner) for inner in reversed(found.cls.bases))
        return result

    def base_names(self, ref: ClassRef) -> frozenset[str]:
        """Qualified names of every base in the chain, including external ones (e.g. `sqlalchemy.orm...`)."""
        key = (id(ref.module), id(ref.cls))
        found = self._base_names.get(key)
        if found is None:
            names: set[str] = set()
            for current in [ref, *self.ancestors(ref)]:
                for base in current.cls.bases:
                    name = self.qualified_name(current.module, base)
                    if name:
                        names.add(name)
            found = self._base_names[key] = frozenset(names)
        return found

    # ------------------------------------------------------------------ reuse between checks

    def reusable(self, key: str, kinds: tuple[type, ...], compute: Callable[[], ValueT]) -> ValueT:
        """`compute()`, or the value it had in the previous check when nothing it read can have changed.

        Only for a step that reads the workspace through this builder alone: the records of `kinds`, modules
        (`modules`, `lookup`, `resolve_class`, `ancestors`, `base_names`), never `files` or what other steps
        put in `project`. While it runs, the module and class indexes note every name asked for, found or
        not, and the answer caches start empty (an answer an earlier step cached would hide the names it was
        computed from). The value is reused when the records are the very same objects, and every name noted
        still means the very same module or class (a changed file brings new objects; a new file, a name
        found where there was none). The value is shared between checks: nobody may change it.
        """
        records = list(self.records(kinds))
        kept = self.kept.get(key)
        if kept is not None and self._still_valid(kept, records):
            return kept.value  # type: ignore[no-any-return]
        saved = (self.modules, self._classes, self._resolved, self._looked_up, self._ancestors, self._base_names)
        modules, classes = _AskedDict(self.modules), _AskedDict(self._classes)
        self.modules, self._classes = modules, classes  # type: ignore[assignment]
        self._resolved, self._looked_up, self._ancestors, self._base_names = {}, {}, {}, {}
        try:
            value = compute()
        finally:
            fresh = (self._resolved, self._looked_up, self._ancestors, self._base_names)
            self.modules, self._classes, self._resolved, self._looked_up, self._ancestors, self._base_names = saved
            for cache, answers in zip(saved[2:], fresh, strict=True):
                cache.update(answers)  # type: ignore[attr-defined]  # valid for the builder's life all the same
        if modules.everything or classes.everything:
            self.kept.pop(key, None)  # it read the whole index: nothing short of a full comparison would do
        else:
            self.kept[key] = KeptStep(records, dict(modules.asked),
                                      {name: None if ref is None else (ref.module, ref.cls)
                                       for name, ref in classes.asked.items()}, value)
        return value

    def _still_valid(self, kept: KeptStep, records: list[tuple[FileFacts, Any]]) -> bool:
        if len(kept.records) != len(records) or any(
                old[0] is not new[0] or old[1] is not new[1] for old, new in zip(kept.records, records, strict=True)):
            return False
        if any(self.modules.get(name) is not module for name, module in kept.modules.items()):
            return False
        return all(_same_class(self._classes.get(name), pair) for name, pair in kept.classes.items())

    # ------------------------------------------------------------------ tables

    def add_table(self, table: Table) -> Table:
        """Register a table; a table of the same name already known is merged into (one table, many places)."""
        key = table.name.lower()
        existing = self.project.tables.get(key)
        if existing is None:
            self.project.tables[key] = table
            return table
        merge_tables(existing, table)
        return existing

    def note(self, message: str) -> None:
        self.project.notes.append(message)


@dataclass(slots=True)
class KeptStep:
    """A reusable step's value, with the inputs it was computed from (held, so their identities stay unique)."""

    records: list[tuple[FileFacts, Any]]
    modules: dict[str, Module | None]
    classes: dict[str, tuple[Module, Class] | None]
    value: Any


def _same_class(ref: ClassRef | None, kept: tuple[Module, Class] | None) -> bool:
    """`ref` (what a name means now) is the very class it meant when the step was kept, or both are absent."""
    if ref is None or kept is None:
        return ref is None and kept is None
    return ref.module is kept[0] and ref.cls is kept[1]


class _AskedDict(dict[str, Any]):
    """A copy of one of the builder's indexes that notes every name asked for and what it meant (None: absent).
    Going through all of it (`values()`, iteration) sets `everything`: then no list of names says what was read.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.asked: dict[str, Any] = {}
        self.everything = False

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        value = dict.get(self, key)
        self.asked[key] = value
        return default if value is None else value

    def __getitem__(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __iter__(self) -> Iterator[str]:
        self.everything = True
        return dict.__iter__(self)

    def keys(self) -> Any:
        self.everything = True
        return dict.keys(self)

    def values(self) -> Any:
        self.everything = True
        return dict.values(self)

    def items(self) -> Any:
        self.everything = True
        return dict.items(self)


def merge_tables(into: Table, other: Table) -> None:
    """Union of two declarations of one table: what either declares counts (fewer false alarms)."""
    into.declarations.extend(other.declarations)
    for name, column in other.columns.items():
        mine = into.columns.get(name)
        if mine is None:
            into.columns[name] = column
            continue
        mine.indexed = mine.indexed or column.indexed
        mine.unique = mine.unique or column.unique
        mine.primary_key = mine.primary_key or column.primary_key
        mine.auto_on_insert = mine.auto_on_insert or column.auto_on_insert
        mine.auto_on_update = mine.auto_on_update or column.auto_on_update
        if mine.type is None:
            mine.type = column.type
    if not into.primary_key:
        into.primary_key = other.primary_key
    known = {fk.columns for fk in into.foreign_keys}
    for fk in other.foreign_keys:
        if fk.columns not in known:
            into.foreign_keys.append(fk)
            known.add(fk.columns)
        else:
            mine_fk = next(f for f in into.foreign_keys if f.columns == fk.columns)
            mine_fk.on_delete = mine_fk.on_delete or fk.on_delete
            mine_fk.framework_indexed = mine_fk.framework_indexed or fk.framework_indexed
    into.indexes.extend(other.indexes)
    into.is_association = into.is_association or other.is_association
    into.read_only = into.read_only and other.read_only
    into.managed = into.managed or other.managed
    into.unseen_bases = tuple(dict.fromkeys(into.unseen_bases + other.unseen_bases))


# ---------------------------------------------------------------------------------- migration replay


@dataclass(slots=True)
class SchemaHistory:
    """Replays schema operations in order (Alembic revisions, SQL files) into the effective schema.

    Tables created and later dropped disappear; columns and indexes added by later steps count.
    """

    tables: dict[str, Table] = field(default_factory=dict)
    # index name -> table key, so DROP INDEX name can find it
    index_owner: dict[str, str] = field(default_factory=dict)

    def create_table(self, table: Table) -> None:
        self.tables[table.name.lower()] = table
        for index in table.indexes:
            if index.name:
                self.index_owner[index.name.lower()] = table.name.lower()

    def drop_table(self, name: str) -> None:
        self.tables.pop(name.lower(), None)

    def rename_table(self, old: str, new: str) -> None:
        table = self.tables.pop(old.lower(), None)
        if table is not None:
            table.name = new
            self.tables[new.lower()] = table

    def table(self, name: str) -> Table | None:
        return self.tables.get(name.lower())

    def add_column(self, table_name: str, column: Column, foreign_key: ForeignKey | None = None) -> None:
        table = self.table(table_name)
        if table is None:
            return
        table.columns[column.name] = column
        if column.primary_key and not table.primary_key:
            table.primary_key = (column.name,)
        if foreign_key is not None:
            table.foreign_keys.append(foreign_key)

    def drop_column(self, table_name: str, column_name: str) -> None:
        table = self.table(table_name)
        if table is None:
            return
        table.columns.pop(column_name, None)
        table.foreign_keys = [fk for fk in table.foreign_keys if column_name not in fk.columns]
        table.indexes = [index for index in table.indexes if column_name not in index.columns]

    def create_index(self, table_name: str, index: Index) -> None:
        table = self.table(table_name)
        if table is None:
            return
        table.indexes.append(index)
        if index.name:
            self.index_owner[index.name.lower()] = table.name.lower()

    def drop_index(self, name: str, table_name: str | None = None) -> None:
        key = (table_name or self.index_owner.get(name.lower(), "")).lower()
        table = self.tables.get(key)
        if table is None:
            return
        table.indexes = [index for index in table.indexes if (index.name or "").lower() != name.lower()]

    def add_foreign_key(self, table_name: str, foreign_key: ForeignKey) -> None:
        table = self.table(table_name)
        if table is not None:
            table.foreign_keys.append(foreign_key)

    def drop_constraint(self, table_name: str, name: str) -> None:
        """Drop a named foreign key or unique constraint. Unnamed (or convention-named) constraints cannot be
        matched by name: those stay, which can only cost a finding about an FK that is gone."""
        table = self.table(table_name)
        if table is None:
            return
        wanted = name.lower()
        table.foreign_keys = [fk for fk in table.foreign_keys if (fk.name or "").lower() != wanted]
        table.indexes = [index for index in table.indexes if (index.name or "").lower() != wanted]

    def rename_column(self, table_name: str, old: str, new: str) -> None:
        """Rename a column everywhere the table mentions it (columns, primary key, foreign keys, indexes)."""
        table = self.table(table_name)
        if table is None or old not in table.columns:
            return

        def renamed(columns: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(new if column == old else column for column in columns)

        table.columns = {new if name == old else name: column for name, column in table.columns.items()}
        table.columns[new].name = new
        table.primary_key = renamed(table.primary_key)
        for fk in table.foreign_keys:
            fk.columns = renamed(fk.columns)
        for index in table.indexes:
            index.columns = renamed(index.columns)


def first(items: list[Any]) -> Any:
    return items[0] if items else None


def declaration(kind: str, framework: str, location: Any, **extra: Any) -> TableDeclaration:
    return TableDeclaration(kind=kind, framework=framework, location=location, **extra)  # type: ignore[arg-type]
