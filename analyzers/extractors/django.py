"""Django: models → tables, migrations (for apps whose models are not in the workspace), settings → project.

Per file, `extract` records what each module declares: model-like classes with their fields and `Meta`,
`AppConfig` labels, settings values, `DJANGO_SETTINGS_MODULE`, and migration operations. Across files,
`resolve` decides which classes really are tables (a concrete `models.Model` subclass, not abstract, not a
proxy), gathers the fields inherited from abstract bases in other modules, follows multi-table inheritance,
adds Django's implicit `id` and auto-created many-to-many tables, and resolves foreign-key targets to tables.

The shared helpers at the end (`DjangoNames`) find classes and modules across a workspace whose Django
project lives in a sub-folder (imports written relative to the folder holding `manage.py`); `drf` uses them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, partial

from analyzers.extractors._column_values import naive_now
from analyzers.extractors._reuse import UnitFacts, file_context
from analyzers.facts import SourceFile
from analyzers.model import Column, ColumnOrigin, ForeignKey, Index, Location, Span, Table, TableDeclaration
from analyzers.pysyntax import Call, Class, Const, Expr, Lambda, Module, Name, Seq, const_str, expr_text
from analyzers.resolve import ClassRef, ModelBuilder

MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model"})
RELATIONS = frozenset({"ForeignKey", "OneToOneField", "ManyToManyField"})
# Field kinds that declare no column of their own.
NOT_COLUMNS = frozenset({"ManyToManyField", "GenericRelation", "ForeignObject", "ForeignObjectRel"})
# Libraries whose `...Field` classes are not model fields (serializers, forms, schemas).
NOT_MODEL_FIELDS = ("rest_framework.", "django.forms.", "pydantic", "sqlmodel", "marshmallow", "wtforms",
                    "sqlalchemy", "dataclasses", "attrs", "attr.", "graphene", "strawberry", "ninja")
# Third-party timestamp fields: kind -> (fills on insert, fills on update).
AUTO_TIMESTAMP_KINDS = {
    "CreationDateTimeField": (True, False),  # django-extensions
    "ModificationDateTimeField": (True, True),
    "AutoCreatedField": (True, False),  # django-model-utils
    "AutoLastModifiedField": (True, True),
}
DEFAULT_USER_MODEL = "auth.User"
UNKNOWN = "?"


# ============================================================================================ records


@dataclass(slots=True)
class FieldDecl:
    """One `name = models.XField(...)` in a model body (or a field of a migration operation)."""

    attribute: str
    kind: str  # the field class name: "CharField", "ForeignKey", ...
    location: Location
    options: dict[str, str] = field(default_factory=dict)  # keyword options as text, names resolved
    # Relation target: "self", "app.Model" / "Model" (strings), a qualified class name, or "AUTH_USER_MODEL".
    target: str | None = None
    target_is_class: bool = False
    options_anchor: Location | None = None
    text: str | None = None

    def flag(self, name: str) -> bool:
        return self.options.get(name) == "True"


@dataclass(slots=True)
class IndexDecl:
    fields: tuple[str, ...]  # model attribute names (or column names), in order
    location: Location
    unique: bool = False
    partial: bool = False
    name: str | None = None
    source: str = "index"


@dataclass(slots=True)
class MetaDecl:
    options: dict[str, str] = field(default_factory=dict)  # abstract, proxy, managed, db_table, app_label
    inherits: bool = False  # `class Meta(Base.Meta)`: the abstract parent's options carry over
    indexes: list[IndexDecl] = field(default_factory=list)


@dataclass(slots=True)
class ModelClassDecl:
    """A class that may be a Django model; `resolve` decides from its bases across modules."""

    module: str
    qualname: str
    name: str
    location: Location
    fields: list[FieldDecl]
    removed: list[str]  # attributes set to None: an inherited field removed
    meta: MetaDecl | None
    body_anchor: Location
    body_indent: str
    after_anchor: Location
    idiom: dict[str, str]


@dataclass(slots=True)
class AppConfigDecl:
    name: str  # the app's package, e.g. "shop.orders"
    label: str | None
    default_auto_field: str | None = None


@dataclass(slots=True)
class SettingsDecl:
    module: str
    path: str
    values: dict[str, str]  # AUTH_USER_MODEL, DEFAULT_AUTO_FIELD, ROOT_URLCONF
    rest_framework: dict[str, str]
    installed_apps: tuple[str, ...]
    # Where the recorded `values` are assigned (the settings a rule reports at, e.g. `USE_TZ = False`).
    locations: dict[str, Location] = field(default_factory=dict)


@dataclass(slots=True)
class SettingsModuleDecl:
    """`os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")` (manage.py, wsgi.py, asgi.py)."""

    settings_module: str
    path: str


@dataclass(slots=True)
class DjangoUsage:
    drf: bool


@dataclass(slots=True)
class MigrationOp:
    kind: str  # "CreateModel", "AddField", ...
    location: Location
    model: str = ""  # lower-cased model name
    fields: list[FieldDecl] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    indexes: list[IndexDecl] = field(default_factory=list)
    old_name: str = ""
    new_name: str = ""


@dataclass(slots=True)
class MigrationDecl:
    path: str
    package: str  # the app package holding migrations/, e.g. "shop.orders"
    name: str  # "0001_initial"
    operations: list[MigrationOp]
    # A squashed migration's `replaces`: the names (in its app) of the migrations it stands for.
    replaces: list[str] = field(default_factory=list)


# ============================================================================================ extract


def extract(source: SourceFile) -> list[object]:
    module = source.python
    if module is None:
        return []
    uses_django = any(target.startswith("django") for target in module.imports.values())
    uses_drf = any(target.startswith("rest_framework") for target in module.imports.values())
    records: list[object] = []
    if uses_django or uses_drf:
        records.append(DjangoUsage(uses_drf))
    lines = source.text().splitlines() if module.classes else []  # for the declaration text of fields
    records.extend(_settings_module_records(module))
    if _is_migration_path(module.path):
        migration = _migration(module, lines)
        if migration is not None:
            records.append(migration)
            return records
    settings = _settings(module)
    if settings is not None:
        records.append(settings)
    in_models_file = "models" in module.module.split(".")
    context = file_context(module.path, module)
    for cls in module.classes:
        if not cls.bases:
            continue
        decl = _CLASS_DECLS.get(cls, context, _text(lines, cls.span) or "", partial(_class_decl, module, cls, lines))
        if isinstance(decl, AppConfigDecl) or decl.fields or decl.meta is not None or in_models_file:
            records.append(decl)
    return records


def _class_decl(module: Module, cls: Class, lines: list[str]) -> AppConfigDecl | ModelClassDecl:
    app_config = _app_config(module, cls)
    return app_config if app_config is not None else _model_class(module, cls, lines)


# The language server extracts an edited file on every keystroke: unchanged classes keep their declarations.
# Valid only while `_class_decl` reads nothing of the file but the class, its text and `file_context` (`_reuse`).
_CLASS_DECLS: UnitFacts[AppConfigDecl | ModelClassDecl] = UnitFacts()


# ---- models


def _model_class(module: Module, cls: Class, lines: list[str]) -> ModelClassDecl:
    fields: list[FieldDecl] = []
    removed: list[str] = []
    for assign in cls.assigns:
        if len(assign.targets) != 1:
            continue
        if isinstance(assign.value, Const) and assign.value.value is None:
            removed.append(assign.targets[0])
            continue
        declared = _field(module, assign.targets[0], assign.value, Location(module.path, assign.span), lines)
        if declared is not None:
            fields.append(declared)
    meta_class = cls.nested("Meta")
    meta = _meta(module, meta_class) if meta_class is not None else None
    return ModelClassDecl(
        module=module.module,
        qualname=cls.qualname,
        name=cls.name,
        location=Location(module.path, cls.name_span),
        fields=fields,
        removed=removed,
        meta=meta,
        body_anchor=Location(module.path, Span.at(_field_insert_line(cls, fields), 0)),
        body_indent=cls.body_indent,
        after_anchor=Location(module.path, Span.at(cls.span.end.line + 1, 0)),
        idiom=_idiom(module),
    )


def _field_insert_line(cls: Class, fields: list[FieldDecl]) -> int:
    """The line after the last field: new fields go with the others, before `Meta` and the methods."""
    if fields:
        return max(declared.location.span.end.line for declared in fields) + 1
    starts = [inner.span.start.line for inner in cls.classes] + [fn.span.start.line for fn in cls.methods]
    return min(starts) if starts else cls.body_end.line


def _idiom(module: Module) -> dict[str, str]:
    alias = next((local for local, target in module.imports.items()
                  if target == "django.db.models" and "." not in local), None)
    imported = [local for local, target in module.imports.items()
                if target.startswith("django.db.models.") and target.count(".") == 3 and "." not in local]
    return {
        "style": "django",
        "prefix": f"{alias}." if alias else "",
        "imported": ",".join(sorted(imported)),
        "imports_line": str(module.imports_end),
    }


def _field(module: Module, attribute: str, value: Expr | None, location: Location,
           lines: list[str]) -> FieldDecl | None:
    if not isinstance(value, Call) or not isinstance(value.func, Name):
        return None
    qualified = module.resolve(value.func.dotted)
    kind = qualified.rsplit(".", 1)[-1]
    if qualified.startswith(NOT_MODEL_FIELDS) or kind == "Field":
        return None
    if not (kind.endswith("Field") or kind in RELATIONS or kind in ("GenericRelation", "ForeignObject")):
        return None
    options = {key: _option_text(module, expr) for key, expr in value.kwargs}
    if _is_now(module, value.kwarg("default")):
        options["default_now"] = "True"
    naive = naive_now(module, value.kwarg("default"))
    if naive is not None:
        options["default_naive"] = naive
    declared = FieldDecl(attribute, kind, location, options,
                         options_anchor=Location(location.path, Span.at(value.close.line, value.close.column)),
                         text=_text(lines, location.span))
    if kind in RELATIONS or kind == "ForeignObject":
        target = value.args[0] if value.args else value.kwarg("to")
        declared.target, declared.target_is_class = _relation_target(module, target)
        through = value.kwarg("through")
        if through is not None:
            declared.options["through"] = const_str(through) or expr_text(through)
    return declared


def _option_text(module: Module, expr: Expr) -> str:
    if isinstance(expr, Const):
        return str(expr.value)
    if isinstance(expr, Name):
        return module.resolve(expr.dotted)
    if isinstance(expr, Call) and isinstance(expr.func, Name):
        return module.resolve(expr.func.dotted) + "()"
    return expr_text(expr)


def _is_now(module: Module, expr: Expr | None) -> bool:
    """`default=timezone.now` (a callable, evaluated per row), also behind a lambda."""
    if isinstance(expr, Lambda) and isinstance(expr.body, Call) and isinstance(expr.body.func, Name):
        expr = expr.body.func
    if not isinstance(expr, Name):
        return False
    return module.resolve(expr.dotted).rsplit(".", 1)[-1] in ("now", "utcnow", "today")


def _relation_target(module: Module, target: Expr | None) -> tuple[str | None, bool]:
    text = const_str(target)
    if text is not None:
        return text, False
    if isinstance(target, Name):
        resolved = module.resolve(target.dotted)
        if resolved.endswith("AUTH_USER_MODEL"):
            return "AUTH_USER_MODEL", False
        if "." not in target.dotted and target.dotted not in module.imports:
            return f"{module.module}.{target.dotted}", True
        return resolved, True
    if isinstance(target, Call) and isinstance(target.func, Name) and target.func.dotted.endswith("get_user_model"):
        return "AUTH_USER_MODEL", False
    return None, False


def _meta(module: Module, meta: Class) -> MetaDecl:
    decl = MetaDecl(inherits=bool(meta.bases))
    for assign in meta.assigns:
        if len(assign.targets) != 1:
            continue
        name, value = assign.targets[0], assign.value
        location = Location(module.path, assign.span)
        if name in ("abstract", "proxy", "managed", "db_table", "app_label") and isinstance(value, Const):
            decl.options[name] = str(value.value)
        elif name in ("abstract", "proxy", "managed"):
            decl.options[name] = UNKNOWN  # decided at run time: assume the case that reports nothing
        elif name in ("unique_together", "index_together"):
            unique = name == "unique_together"
            decl.indexes.extend(IndexDecl(group, location, unique=unique, source="unique" if unique else "index")
                                for group in _field_groups(value))
        elif name in ("indexes", "constraints") and isinstance(value, Seq):
            decl.indexes.extend(index for index in (_index_call(module.path, item) for item in value.items)
                                if index is not None)
    return decl


def _field_groups(value: Expr | None) -> list[tuple[str, ...]]:
    """`("a", "b")` is one group; `(("a", "b"), ("c",))` is two."""
    if not isinstance(value, Seq):
        return []
    if value.items and all(isinstance(item, Const) for item in value.items):
        return [_names(value)]
    return [_names(item) for item in value.items if isinstance(item, Seq) and _names(item)]


def _names(value: Expr | None) -> tuple[str, ...]:
    if not isinstance(value, Seq):
        return ()
    names = [const_str(item) for item in value.items]
    return tuple(name.lstrip("-") for name in names if name)


def _index_call(path: str, item: Expr) -> IndexDecl | None:
    """`models.Index(fields=[...])`, `models.UniqueConstraint(fields=[...], condition=Q(...))`."""
    if not isinstance(item, Call):
        return None
    kind = item.func_name.rsplit(".", 1)[-1]
    fields = _names(item.kwarg("fields"))
    if not fields or not (kind.endswith("Index") or kind == "UniqueConstraint"):
        return None  # expression indexes and check constraints lead with no plain column
    unique = kind == "UniqueConstraint"
    return IndexDecl(fields, Location(path, item.span), unique=unique,
                     partial=item.kwarg("condition") is not None, name=const_str(item.kwarg("name")),
                     source="unique" if unique else "index")


def _text(lines: list[str], span: Span) -> str | None:
    if span.start.line >= len(lines):
        return None
    if span.start.line == span.end.line:
        return lines[span.start.line][span.start.column: span.end.column]
    parts = [lines[span.start.line][span.start.column:], *lines[span.start.line + 1: span.end.line]]
    if span.end.line < len(lines):
        parts.append(lines[span.end.line][: span.end.column])
    return "\n".join(parts)


# ---- apps and settings


def _app_config(module: Module, cls: Class) -> AppConfigDecl | None:
    if not any(isinstance(base, Name) and module.resolve(base.dotted) == "django.apps.AppConfig"
               for base in cls.bases):
        return None
    name = const_str(cls.assigned("name"))
    if not name:
        return None
    return AppConfigDecl(name, const_str(cls.assigned("label")), const_str(cls.assigned("default_auto_field")))


def _settings(module: Module) -> SettingsDecl | None:
    assigned = {assign.targets[0]: assign.value for assign in module.assigns if len(assign.targets) == 1}
    parts = module.module.split(".")
    is_settings = parts[-1] == "settings" or (len(parts) > 1 and parts[-2] == "settings")
    if not (is_settings or "INSTALLED_APPS" in assigned or "REST_FRAMEWORK" in assigned):
        return None
    values = {name: text for name in ("AUTH_USER_MODEL", "DEFAULT_AUTO_FIELD", "ROOT_URLCONF")
              if (text := const_str(assigned.get(name))) is not None}
    locations: dict[str, Location] = {}
    for assign in module.assigns:
        if assign.targets == ("USE_TZ",) and isinstance(assign.value, Const) and isinstance(assign.value.value, bool):
            values["USE_TZ"] = str(assign.value.value)
            locations["USE_TZ"] = Location(module.path, assign.span)
    rest_framework: dict[str, str] = {}
    config = assigned.get("REST_FRAMEWORK")
    if isinstance(config, Seq) and config.kind == "dict":
        for key, value in zip(config.keys, config.items, strict=False):
            name = const_str(key)
            text = _setting_text(value)
            if name and text is not None:
                rest_framework[name] = text
    apps = assigned.get("INSTALLED_APPS")
    installed = tuple(name for name in (const_str(item) for item in apps.items) if name) if isinstance(
        apps, Seq) else ()
    if not (values or rest_framework or installed or is_settings):
        return None
    return SettingsDecl(module.module, module.path, values, rest_framework, installed, locations)


def _setting_text(value: Expr) -> str | None:
    if isinstance(value, Const):
        return None if value.value is None else str(value.value)
    if isinstance(value, Seq):
        return ",".join(name for name in (const_str(item) for item in value.items) if name)
    return None


def _settings_module_records(module: Module) -> Iterator[SettingsModuleDecl]:
    calls = list(module.calls)
    for fn in module.functions:
        calls.extend(fn.calls)
    for call in calls:
        if call.func_name.endswith("setdefault") and len(call.args) == 2 and \
                const_str(call.args[0]) == "DJANGO_SETTINGS_MODULE":
            value = const_str(call.args[1])
            if value:
                yield SettingsModuleDecl(value, module.path)


# ---- migrations

_MIGRATION_FILE = re.compile(r"(^|/)migrations/\d{4}[^/]*\.py$")


def _is_migration_path(path: str) -> bool:
    return bool(_MIGRATION_FILE.search(path))


def _migration(module: Module, lines: list[str]) -> MigrationDecl | None:
    migration = next((cls for cls in module.classes if cls.name == "Migration"), None)
    if migration is None or not any(isinstance(base, Name) and module.resolve(base.dotted).startswith(
            "django.db.migrations") for base in migration.bases):
        return None
    operations = migration.assigned("operations")
    parts = module.module.split(".")
    package = ".".join(parts[: parts.index("migrations")]) if "migrations" in parts else ""
    ops: list[MigrationOp] = []
    if isinstance(operations, Seq):
        for item in _flattened(migration, operations.items):
            op = _operation(module, item, lines)
            if op is not None:
                ops.append(op)
    return MigrationDecl(module.path, package, parts[-1], ops, _replaced(migration))


def _replaced(migration: Class) -> list[str]:
    """`replaces = [("orders", "0001_initial"), ...]`: the migration names a squashed migration stands for."""
    value = migration.assigned("replaces")
    if not isinstance(value, Seq):
        return []
    return [name for item in value.items if isinstance(item, Seq) and len(item.items) == 2
            for name in [const_str(item.items[1])] if name]


def _flattened(migration: Class, items: tuple[Expr, ...]) -> list[Expr]:
    """Operations with `SeparateDatabaseAndState(database_operations=..., state_operations=...)` opened up:
    the database's operations, then the state's (pretix moves a model to another app with a state-only
    DeleteModel and a database-only AlterModelTable). The lists may be class attributes of the migration."""
    flat: list[Expr] = []
    for item in items:
        if not (isinstance(item, Call) and item.func_name.rsplit(".", 1)[-1] == "SeparateDatabaseAndState"):
            flat.append(item)
            continue
        for position, key in enumerate(("database_operations", "state_operations")):
            value = item.kwarg(key) or (item.args[position] if len(item.args) > position else None)
            if isinstance(value, Name):
                value = migration.assigned(value.dotted)
            if isinstance(value, Seq):
                flat.extend(value.items)
    return flat


def _operation(module: Module, item: Expr, lines: list[str]) -> MigrationOp | None:
    if not isinstance(item, Call):
        return None
    kind = item.func_name.rsplit(".", 1)[-1]
    op = MigrationOp(kind, Location(module.path, item.span))
    name = const_str(item.kwarg("name")) or (const_str(item.args[0]) if item.args else None) or ""
    model_name = const_str(item.kwarg("model_name")) or ""
    if kind == "CreateModel":
        op.model = name.lower()
        fields = item.kwarg("fields") or (item.args[1] if len(item.args) > 1 else None)
        if isinstance(fields, Seq):
            for entry in fields.items:
                if isinstance(entry, Seq) and len(entry.items) == 2 and const_str(entry.items[0]):
                    declared = _field(module, const_str(entry.items[0]) or "", entry.items[1],
                                      Location(module.path, entry.span), lines)
                    if declared is not None:
                        op.fields.append(declared)
        op.options = _options_dict(item.kwarg("options"))
        op.indexes = _migration_indexes(module.path, item.kwarg("options"))
    elif kind in ("AddField", "AlterField"):
        op.model = model_name.lower()
        declared = _field(module, name, item.kwarg("field"), Location(module.path, item.span), lines)
        if declared is None:
            return None
        op.fields.append(declared)
    elif kind in ("RemoveField", "DeleteModel", "AlterModelTable", "AlterModelOptions"):
        op.model = (model_name or name).lower()
        op.old_name = name
        op.options = _options_dict(item.kwarg("options"))
        table = const_str(item.kwarg("table") or (item.args[1] if kind == "AlterModelTable" and len(item.args) > 1
                                                   else None))
        if table:
            op.options["db_table"] = table
    elif kind in ("RenameField", "RenameModel"):
        op.model = (model_name or const_str(item.kwarg("old_name")) or "").lower()
        op.old_name = const_str(item.kwarg("old_name")) or ""
        op.new_name = const_str(item.kwarg("new_name")) or ""
    elif kind in ("AddIndex", "AddConstraint"):
        op.model = model_name.lower()
        index_call = item.kwarg("index") or item.kwarg("constraint")
        index = _index_call(module.path, index_call) if index_call is not None else None
        if index is None:
            return None
        op.indexes.append(index)
    elif kind in ("RemoveIndex", "RemoveConstraint"):
        op.model = model_name.lower()
        op.old_name = name
    elif kind in ("AlterUniqueTogether", "AlterIndexTogether"):
        op.model = name.lower()
        key = "unique_together" if kind == "AlterUniqueTogether" else "index_together"
        unique = key == "unique_together"
        op.indexes = [IndexDecl(group, op.location, unique=unique, source=key)
                      for group in _field_groups(item.kwarg(key))]
    else:
        return None
    return op


def _options_dict(options: Expr | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if isinstance(options, Seq) and options.kind == "dict":
        for key, value in zip(options.keys, options.items, strict=False):
            name = const_str(key)
            if name and isinstance(value, Const):
                found[name] = str(value.value)
    return found


def _migration_indexes(path: str, options: Expr | None) -> list[IndexDecl]:
    indexes: list[IndexDecl] = []
    if not (isinstance(options, Seq) and options.kind == "dict"):
        return indexes
    for key, value in zip(options.keys, options.items, strict=False):
        name = const_str(key)
        if name in ("unique_together", "index_together"):
            unique = name == "unique_together"
            indexes.extend(IndexDecl(group, Location(path, value.span), unique=unique, source=name)
                           for group in _field_groups(value))
        elif name in ("indexes", "constraints") and isinstance(value, Seq):
            indexes.extend(index for index in (_index_call(path, item) for item in value.items) if index)
    return indexes


# ============================================================================================ resolve


@dataclass(slots=True)
class DjangoNames:
    """Finds modules and classes by the dotted names Django code uses, across a workspace whose Django
    project may live in a sub-folder (imports are then relative to the folder holding manage.py)."""

    builder: ModelBuilder
    prefixes: list[str] = field(default_factory=list)

    @staticmethod
    def of(builder: ModelBuilder) -> DjangoNames:
        prefixes = sorted({path.rsplit("/", 1)[0].replace("/", ".") for path in builder.files
                           if path.endswith("/manage.py")})
        return DjangoNames(builder, [prefix for prefix in prefixes if prefix])

    def candidates(self, dotted: str) -> list[str]:
        return [dotted, *(f"{prefix}.{dotted}" for prefix in self.prefixes)]

    def module(self, dotted: str) -> Module | None:
        for candidate in self.candidates(dotted):
            found = self.builder.modules.get(candidate)
            if found is not None:
                return found
        return None

    def cls(self, qualified: str) -> ClassRef | None:
        for candidate in self.candidates(qualified):
            found = self.builder.lookup(candidate)
            if found is not None:
                return found
        return None

    def base(self, module: Module, expr: Expr) -> ClassRef | str | None:
        """The class a base expression names: a workspace class, else its qualified (external) name."""
        if not isinstance(expr, Name):
            return None
        found = self.builder.resolve_class(module, expr)
        if found is not None:
            return found
        qualified = module.resolve(expr.dotted)
        return self.cls(qualified) or qualified

    def lineage(self, ref: ClassRef) -> tuple[list[ClassRef], set[str]]:
        """Workspace ancestors (nearest first, depth-first, each once) and the external base names."""
        ancestors: list[ClassRef] = []
        external: set[str] = set()
        seen = {ref.qualified}
        stack = [(ref.module, base) for base in reversed(ref.cls.bases)]
        while stack:
            module, expr = stack.pop()
            found = self.base(module, expr)
            if isinstance(found, str):
                external.add(found)
            elif found is not None and found.qualified not in seen:
                seen.add(found.qualified)
                ancestors.append(found)
                if found.qualified.startswith(("django.", "rest_framework.")):  # analysing Django itself
                    external.add(found.qualified)
                stack.extend((found.module, inner) for inner in reversed(found.cls.bases))
        return ancestors, external


# Abstract models of Django and common libraries, with the fields they add (name, kind, insert, update).
KNOWN_ABSTRACT: dict[str, list[tuple[str, str, bool, bool]]] = {
    "django.contrib.auth.models.AbstractUser": [
        ("password", "CharField", False, False), ("last_login", "DateTimeField", False, False),
        ("is_superuser", "BooleanField", False, False), ("username", "CharField", False, False),
        ("first_name", "CharField", False, False), ("last_name", "CharField", False, False),
        ("email", "EmailField", False, False), ("is_staff", "BooleanField", False, False),
        ("is_active", "BooleanField", False, False), ("date_joined", "DateTimeField", True, False)],
    "django.contrib.auth.models.AbstractBaseUser": [
        ("password", "CharField", False, False), ("last_login", "DateTimeField", False, False)],
    "django.contrib.auth.base_user.AbstractBaseUser": [
        ("password", "CharField", False, False), ("last_login", "DateTimeField", False, False)],
    "django.contrib.auth.models.PermissionsMixin": [("is_superuser", "BooleanField", False, False)],
    "model_utils.models.TimeStampedModel": [
        ("created", "AutoCreatedField", True, False), ("modified", "AutoLastModifiedField", True, True)],
    "django_extensions.db.models.TimeStampedModel": [
        ("created", "CreationDateTimeField", True, False), ("modified", "ModificationDateTimeField", True, True)],
}


@dataclass(slots=True)
class _Model:
    decl: ModelClassDecl
    ref: ClassRef
    path: str
    ancestors: list[ClassRef]
    external: set[str]
    label: str = ""
    abstract: bool = False
    proxy: bool = False
    table: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    indexes: list[IndexDecl] = field(default_factory=list)


class _Resolver:
    def __init__(self, builder: ModelBuilder) -> None:
        self.builder = builder
        self.names = DjangoNames.of(builder)
        self.settings = _merged_settings(builder, self.names)
        self.labels = {decl.name: decl for _, decl in builder.records(AppConfigDecl)}
        self.models: dict[str, _Model] = {}
        self.by_label: dict[tuple[str, str], _Model] = {}
        self.tables: dict[str, Table] = {}
        self.auto_field = self.settings.get("DEFAULT_AUTO_FIELD", "AutoField").rsplit(".", 1)[-1]

    # ---- which classes are models

    def collect(self) -> None:
        for facts, decl in self.builder.records(ModelClassDecl):
            ref = self.builder.lookup(f"{decl.module}.{decl.qualname}")
            if ref is None:
                continue
            ancestors, external = self.names.lineage(ref)
            if not self._is_model(external):
                continue
            self.models[ref.qualified] = _Model(decl, ref, facts.path, ancestors, external)
        for model in self.models.values():
            self._settle(model)

    @staticmethod
    def _is_model(external: set[str]) -> bool:
        return any(name in MODEL_BASES or name in KNOWN_ABSTRACT or (
            name.startswith("django.") and name.endswith(".models.Model")) for name in external)

    def _settle(self, model: _Model) -> None:
        own = model.decl.meta
        meta = dict(own.options) if own else {}
        indexes = list(own.indexes) if own else []
        if own is None or own.inherits:  # Meta of abstract parents carries over
            for parent in self._abstract_parents(model):
                parent_meta = parent.decl.meta
                if parent_meta is None:
                    continue
                for key, value in parent_meta.options.items():
                    if key != "abstract":
                        meta.setdefault(key, value)
                indexes.extend(parent_meta.indexes)
                break
        model.meta = meta
        model.indexes = indexes
        model.abstract = own is not None and own.options.get("abstract") in ("True", UNKNOWN)
        model.proxy = meta.get("proxy") in ("True", UNKNOWN)
        model.label = meta.get("app_label") or self.label_of(model.decl.module)
        model.table = meta.get("db_table") or f"{model.label}_{model.decl.name.lower()}"
        self.by_label.setdefault((model.label.lower(), model.decl.name.lower()), model)

    def label_of(self, module: str) -> str:
        """The app label of a module: that of the nearest app holding it, as Django's `get_containing_app_config`
        finds it (`dispatch/modules/content/models.py` belongs to the app `dispatch` when only `dispatch` is
        installed), else the folder holding models.py / models/."""
        parts = module.split(".")
        package = parts[: len(parts) - 1 - parts[::-1].index("models")] if "models" in parts else parts[:-1]
        for depth in range(len(package), 0, -1):
            label = self.app_label(".".join(package[:depth]))
            if label is not None:
                return label
        return package[-1] if package else parts[0]

    def app_label(self, package: str) -> str | None:
        """The label of `package` if it is an app: one with an AppConfig or in INSTALLED_APPS, or one with an
        `apps` module or `migrations` of its own (an app whose settings we cannot read)."""
        for candidate in [package, *(package[len(prefix) + 1:] for prefix in self.names.prefixes
                                     if package.startswith(prefix + "."))]:
            config = self.labels.get(candidate)
            if config is not None:
                return config.label or candidate.rsplit(".", 1)[-1]
            if candidate in self.installed_apps:
                return candidate.rsplit(".", 1)[-1]
        modules = self.builder.modules
        if f"{package}.apps" in modules or f"{package}.migrations" in modules:
            return package.rsplit(".", 1)[-1]
        return None

    @cached_property
    def installed_apps(self) -> frozenset[str]:
        """INSTALLED_APPS as packages (`orders.apps.OrdersConfig` is the package `orders`)."""
        names = self.settings.get("INSTALLED_APPS", "").split(",")
        return frozenset(name.split(".apps.", 1)[0] for name in names if name)

    def _abstract_parents(self, model: _Model) -> list[_Model]:
        return [parent for ref in model.ancestors if (parent := self.models.get(ref.qualified)) is not None
                and parent.decl.meta is not None and parent.decl.meta.options.get("abstract") in ("True", UNKNOWN)]

    # ---- tables

    def build(self) -> None:
        for model in self.models.values():
            if not model.abstract and not model.proxy:
                self.table_of(model)

    def table_of(self, model: _Model, depth: int = 0) -> Table | None:
        if model.abstract or model.proxy or depth > 20:
            return None
        known = self.tables.get(model.ref.qualified)
        if known is not None:
            return known
        table = Table(name=model.table, managed=model.meta.get("managed") not in ("False", UNKNOWN))
        self.tables[model.ref.qualified] = table
        table.declarations.append(TableDeclaration(
            kind="model", framework="django", location=model.decl.location, class_name=model.decl.name,
            body_anchor=model.decl.body_anchor, body_indent=model.decl.body_indent,
            after_anchor=model.decl.after_anchor, idiom=dict(model.decl.idiom)))
        fields, parents = self._fields(model)
        for parent in parents:
            self._parent_link(model, table, parent, fields, depth)
        for declared, origin, detail in fields.values():
            self._add_field(model, table, declared, origin, detail)
        if not any(column.primary_key for column in table.columns.values()):
            table.columns = {"id": Column("id", self.auto_field, origin="framework", primary_key=True,
                                          unique=True, nullable=False), **table.columns}
        table.primary_key = tuple(name for name, column in table.columns.items() if column.primary_key)[:1]
        attribute_columns = self._attribute_columns(table)
        for index in model.indexes:
            columns = tuple(attribute_columns.get(name, name) for name in index.fields)
            table.indexes.append(Index(columns, unique=index.unique, partial=index.partial, name=index.name,
                                       location=index.location, source=index.source))
        return table

    def _fields(self, model: _Model) -> tuple[dict[str, tuple[FieldDecl, ColumnOrigin, str | None]], list[_Model]]:
        """Own fields and those of abstract ancestors (nearest wins); concrete parents for multi-table
        inheritance."""
        fields: dict[str, tuple[FieldDecl, ColumnOrigin, str | None]] = {}
        parents: list[_Model] = []
        inherited: list[_Model] = []
        blocked: set[str] = set()  # ancestors of a concrete parent: their fields live in the parent's table
        for ref in model.ancestors:
            ancestor = self.models.get(ref.qualified)
            if ancestor is None or ref.qualified in blocked:
                continue
            if ancestor.abstract:
                inherited.append(ancestor)
                continue
            blocked.update(parent.qualified for parent in ancestor.ancestors)
            if not ancestor.proxy:
                parents.append(ancestor)
        if not parents:
            for external in sorted(self._direct_external([model.ref, *(item.ref for item in inherited)])):
                for name, kind, insert, update in KNOWN_ABSTRACT.get(external, []):
                    declared = FieldDecl(name, kind, model.decl.location,
                                         {"auto_now_add": str(insert), "auto_now": str(update)})
                    fields[name] = (declared, "framework", external)
        for ancestor in reversed(inherited):
            detail = f"{ancestor.decl.name} ({ancestor.path})"
            for name in ancestor.decl.removed:
                fields.pop(name, None)
            for declared in ancestor.decl.fields:
                fields[declared.attribute] = (declared, "inherited", detail)
        for name in model.decl.removed:
            fields.pop(name, None)
        for declared in model.decl.fields:
            fields[declared.attribute] = (declared, "own", None)
        return fields, parents[:1]

    def _direct_external(self, refs: list[ClassRef]) -> set[str]:
        """External base names written directly on these classes."""
        return {found for ref in refs for base in ref.cls.bases
                if isinstance(found := self.names.base(ref.module, base), str)}

    def _parent_link(self, model: _Model, table: Table, parent: _Model,
                     fields: dict[str, tuple[FieldDecl, ColumnOrigin, str | None]], depth: int) -> None:
        """Multi-table inheritance: the child's row points at its parent's row, and saving the child saves
        the parent; the parent's columns are listed as inherited (marked with the table holding them)."""
        parent_table = self.table_of(parent, depth + 1)
        if parent_table is None:
            return
        explicit = any(declared.kind == "OneToOneField" and declared.flag("parent_link")
                       for declared, _, _ in fields.values())
        if not explicit:
            name = f"{parent.decl.name.lower()}_ptr_id"
            table.columns[name] = Column(name, "OneToOneField", location=model.decl.location, origin="framework",
                                         origin_detail=f"parent link to {parent_table.name}", primary_key=True,
                                         unique=True, indexed=True, nullable=False)
            table.foreign_keys.append(ForeignKey((name,), parent_table.name, parent_table.primary_key or ("id",),
                                                 on_delete="CASCADE", location=model.decl.location,
                                                 framework_indexed=True))
        for name, column in parent_table.columns.items():
            if name in table.columns or column.primary_key:
                continue
            table.columns[name] = Column(
                name, column.type, location=column.location, origin="inherited",
                origin_detail=f"{parent.decl.name} (parent table {parent_table.name})",
                nullable=column.nullable, auto_on_insert=column.auto_on_insert,
                auto_on_update=column.auto_on_update, attributes={"table": parent_table.name})

    def _add_field(self, model: _Model, table: Table, declared: FieldDecl, origin: ColumnOrigin,
                   detail: str | None) -> None:
        if declared.kind == "ManyToManyField":
            if "through" not in declared.options:
                self._m2m_table(model, table, declared)
            return
        if declared.kind in NOT_COLUMNS:
            return
        is_relation = declared.kind in ("ForeignKey", "OneToOneField")
        name = declared.options.get("db_column") or (f"{declared.attribute}_id" if is_relation
                                                     else declared.attribute)
        insert, update = _auto_timestamps(declared)
        primary = declared.flag("primary_key")
        unique = declared.flag("unique") or declared.kind == "OneToOneField" or primary
        indexed = declared.flag("db_index") or (declared.kind == "ForeignKey"
                                                and declared.options.get("db_index") != "False")
        table.columns[name] = Column(
            name, _type_text(declared), location=declared.location, origin=origin,
            origin_detail=detail, primary_key=primary, unique=unique, indexed=indexed,
            nullable=declared.flag("null"), auto_on_insert=insert, auto_on_update=update,
            options_anchor=declared.options_anchor if origin == "own" else None,
            declaration_text=declared.text, attributes={"field": declared.attribute})
        if "default_naive" in declared.options:
            table.columns[name].attributes["naive_default"] = declared.options["default_naive"]
        if is_relation:
            target_table, target_columns = self._target(model, declared)
            table.foreign_keys.append(ForeignKey(
                (name,), target_table, target_columns,
                on_delete=declared.options.get("on_delete", "").rsplit(".", 1)[-1] or None,
                location=declared.location, framework_indexed=indexed or unique))

    def _target(self, model: _Model, declared: FieldDecl) -> tuple[str | None, tuple[str, ...]]:
        target = self._target_model(model, declared)
        to_field = declared.options.get("to_field")
        if isinstance(target, _Model):
            return target.table, (to_field or self._primary_key_of(target),)
        return target, (to_field or "id",)

    def _primary_key_of(self, model: _Model) -> str:
        """The primary key column, without building the table (foreign keys may form cycles)."""
        fields, parents = self._fields(model)
        for declared, _, _ in fields.values():
            if declared.flag("primary_key"):
                relation = declared.kind in ("ForeignKey", "OneToOneField")
                return declared.options.get("db_column") or declared.attribute + ("_id" if relation else "")
        return f"{parents[0].decl.name.lower()}_ptr_id" if parents else "id"

    def _target_model(self, model: _Model, declared: FieldDecl) -> _Model | str | None:
        """The target model, else a guessed table name (`app.Model` → `app_model`), else None."""
        target = declared.target
        if not target:
            return None
        if target == "self":
            return model
        if target == "AUTH_USER_MODEL":
            target = self.settings.get("AUTH_USER_MODEL", DEFAULT_USER_MODEL)
        if declared.target_is_class:
            ref = self.names.cls(target)
            found = self.models.get(ref.qualified) if ref is not None else None
            return found or None
        label, _, name = target.rpartition(".")
        label = label or model.label
        found_model = self.by_label.get((label.lower(), name.lower()))
        if found_model is not None:
            return found_model
        return f"{label}_{name}".lower()

    def _m2m_table(self, model: _Model, table: Table, declared: FieldDecl) -> None:
        target = self._target_model(model, declared)
        target_name = target.decl.name.lower() if isinstance(target, _Model) else (
            (declared.target or "").rsplit(".", 1)[-1].lower())
        target_table = target.table if isinstance(target, _Model) else target
        if not target_name:
            return
        source_name = model.decl.name.lower()
        left, right = (f"from_{source_name}_id", f"to_{target_name}_id") if source_name == target_name else (
            f"{source_name}_id", f"{target_name}_id")
        name = declared.options.get("db_table") or f"{table.name}_{declared.attribute}"
        join = Table(name=name, is_association=True, primary_key=("id",))
        join.declarations.append(TableDeclaration(kind="model", framework="django", location=declared.location,
                                                  class_name=model.decl.name, idiom=dict(model.decl.idiom)))
        join.columns["id"] = Column("id", self.auto_field, origin="framework", primary_key=True, unique=True)
        for column, referenced in ((left, table.name), (right, target_table)):
            join.columns[column] = Column(column, "ForeignKey", location=declared.location, origin="framework",
                                          origin_detail=f"many-to-many {model.decl.name}.{declared.attribute}",
                                          indexed=True, nullable=False)
            join.foreign_keys.append(ForeignKey((column,), referenced, ("id",), on_delete="CASCADE",
                                                location=declared.location, framework_indexed=True))
        join.indexes.append(Index((left, right), unique=True, location=declared.location, source="unique"))
        self.builder.add_table(join)

    @staticmethod
    def _attribute_columns(table: Table) -> dict[str, str]:
        """Model attribute names → column names (Meta options name attributes; FK columns end in _id)."""
        mapping = {column.attributes["field"]: name for name, column in table.columns.items()
                   if "field" in column.attributes}
        mapping.setdefault("pk", table.primary_key[0] if table.primary_key else "id")
        return mapping

    def register(self) -> None:
        for table in self.tables.values():
            self.builder.add_table(table)

    # ---- migrations (apps whose models the workspace does not declare)

    def migrations(self) -> None:
        declared_classes = {(self.label_of(decl.module).lower(), decl.name.lower())
                            for _, decl in self.builder.records(ModelClassDecl)}
        declared_classes.update((model.label.lower(), model.decl.name.lower()) for model in self.models.values())
        declaring_apps = {label for label, _ in declared_classes}
        by_package: dict[str, list[MigrationDecl]] = {}
        for _, migration in self.builder.records(MigrationDecl):
            by_package.setdefault(migration.package, []).append(migration)
        for package, migrations in sorted(by_package.items()):
            label = self.label_of(package + ".models")
            replay = _MigrationReplay(label, self)
            # Where a squashed migration sits beside the migrations it replaces, Django runs it instead of them.
            squashed = {name for migration in migrations for name in migration.replaces}
            for migration in sorted(migrations, key=lambda item: item.name):
                if migration.name not in squashed:
                    replay.apply(migration)
            for model_name, table in replay.tables.items():
                if (label.lower(), model_name) not in declared_classes:
                    if label.lower() in declaring_apps:
                        # The app declares its other models, not this one: a library generates it at run time
                        # (django-simple-history's Historical*, hierarkey's settings stores), so its fields are not
                        # the developer's to edit.
                        table.unseen_bases = (f"a model {label} generates (only its migrations declare it)",)
                    self.builder.add_table(table)
            self.builder.project.settings[f"django.migrations.{label}"] = str(len(migrations))


def _auto_timestamps(declared: FieldDecl) -> tuple[bool, bool]:
    if declared.kind in AUTO_TIMESTAMP_KINDS:
        return AUTO_TIMESTAMP_KINDS[declared.kind]
    update = declared.flag("auto_now")
    insert = update or declared.flag("auto_now_add") or declared.flag("default_now") or (
        declared.options.get("db_default", "").endswith("Now()"))
    return insert, update


def _type_text(declared: FieldDecl) -> str:
    length = declared.options.get("max_length")
    return f"{declared.kind}({length})" if length and length.isdigit() else declared.kind


def _ordered_settings(builder: ModelBuilder, names: DjangoNames) -> list[SettingsDecl]:
    """Every settings module, the one DJANGO_SETTINGS_MODULE names first (its values win)."""
    chosen = {decl.settings_module for _, decl in builder.records(SettingsModuleDecl)}
    chosen_modules = {module.module for name in chosen if (module := names.module(name)) is not None}
    found = [decl for _, decl in builder.records(SettingsDecl)]
    found.sort(key=lambda decl: (decl.module not in chosen_modules, not decl.module.endswith(".settings"),
                                 not decl.module.endswith("base"), decl.path))
    return found


def _setting_location(builder: ModelBuilder, names: DjangoNames, key: str) -> Location | None:
    """Where the winning value of a merged setting is assigned."""
    for decl in _ordered_settings(builder, names):
        if key in decl.values:
            return decl.locations.get(key)
    return None


def _merged_settings(builder: ModelBuilder, names: DjangoNames) -> dict[str, str]:
    """Settings of every settings module, the one DJANGO_SETTINGS_MODULE names first."""
    merged: dict[str, str] = {}
    for decl in _ordered_settings(builder, names):
        for key, value in decl.values.items():
            merged.setdefault(key, value)
        for key, value in decl.rest_framework.items():
            merged.setdefault(f"drf.{key.lower()}", value)
        if decl.installed_apps:
            merged.setdefault("INSTALLED_APPS", ",".join(decl.installed_apps))
    return merged


class _MigrationReplay:
    """Django migrations of one app, replayed in order into tables (keyed by lower-cased model name)."""

    def __init__(self, label: str, resolver: _Resolver) -> None:
        self.label = label
        self.resolver = resolver
        self.tables: dict[str, Table] = {}
        self.fields: dict[str, dict[str, str]] = {}  # model -> attribute -> column

    def apply(self, migration: MigrationDecl) -> None:
        for op in migration.operations:
            handler = getattr(self, f"_{op.kind}", None)
            if handler is not None:
                handler(op)

    def _CreateModel(self, op: MigrationOp) -> None:
        if op.options.get("proxy") == "True":
            return
        name = op.options.get("db_table") or f"{self.label}_{op.model}"
        table = Table(name=name, managed=op.options.get("managed") != "False")
        table.declarations.append(TableDeclaration(kind="migration", framework="django", location=op.location,
                                                   class_name=op.model))
        self.tables[op.model] = table
        self.fields[op.model] = {}
        for declared in op.fields:
            self._add(op.model, declared)
        self._indexes(op.model, op.indexes)

    def _add(self, model: str, declared: FieldDecl) -> None:
        table = self.tables.get(model)
        if table is None or declared.kind in NOT_COLUMNS:
            return
        relation = declared.kind in ("ForeignKey", "OneToOneField")
        name = declared.options.get("db_column") or (f"{declared.attribute}_id" if relation else declared.attribute)
        insert, update = _auto_timestamps(declared)
        primary = declared.flag("primary_key")
        indexed = declared.flag("db_index") or (declared.kind == "ForeignKey"
                                                and declared.options.get("db_index") != "False")
        unique = declared.flag("unique") or declared.kind == "OneToOneField" or primary
        table.columns[name] = Column(name, _type_text(declared), location=declared.location, origin="migration",
                                     origin_detail=declared.location.path, primary_key=primary, unique=unique,
                                     indexed=indexed, nullable=declared.flag("null"), auto_on_insert=insert,
                                     auto_on_update=update, attributes={"field": declared.attribute})
        self.fields[model][declared.attribute] = name
        if primary and not table.primary_key:
            table.primary_key = (name,)
        if relation and declared.target:
            target = declared.target
            if target == "AUTH_USER_MODEL":
                target = self.resolver.settings.get("AUTH_USER_MODEL", DEFAULT_USER_MODEL)
            label, _, target_model = target.rpartition(".")
            known = self.resolver.by_label.get(((label or self.label).lower(), target_model.lower()))
            target_table = known.table if known else f"{label or self.label}_{target_model}".lower()
            table.foreign_keys.append(ForeignKey((name,), target_table, ("id",),
                                                 on_delete=declared.options.get("on_delete", "").rsplit(".", 1)[-1]
                                                 or None, location=declared.location,
                                                 framework_indexed=indexed or unique))

    def _AddField(self, op: MigrationOp) -> None:
        for declared in op.fields:
            self._add(op.model, declared)

    def _AlterField(self, op: MigrationOp) -> None:
        for declared in op.fields:
            self._remove(op.model, declared.attribute)
            self._add(op.model, declared)

    def _RemoveField(self, op: MigrationOp) -> None:
        self._remove(op.model, op.old_name)

    def _remove(self, model: str, attribute: str) -> None:
        table = self.tables.get(model)
        column = self.fields.get(model, {}).pop(attribute, None)
        if table is None or column is None:
            return
        table.columns.pop(column, None)
        table.foreign_keys = [fk for fk in table.foreign_keys if column not in fk.columns]
        table.indexes = [index for index in table.indexes if column not in index.columns]

    def _RenameField(self, op: MigrationOp) -> None:
        table = self.tables.get(op.model)
        column = self.fields.get(op.model, {}).get(op.old_name)
        if table is None or column is None or column not in table.columns:
            return
        new_column = op.new_name + ("_id" if column == f"{op.old_name}_id" else "")
        if column != op.old_name and column != f"{op.old_name}_id":
            new_column = column  # an explicit db_column stays
        self.fields[op.model][op.new_name] = self.fields[op.model].pop(op.old_name)
        self.fields[op.model][op.new_name] = new_column
        moved = table.columns.pop(column)
        moved.name = new_column
        table.columns[new_column] = moved
        for fk in table.foreign_keys:
            fk.columns = tuple(new_column if name == column else name for name in fk.columns)

    def _DeleteModel(self, op: MigrationOp) -> None:
        self.tables.pop(op.model, None)

    def _RenameModel(self, op: MigrationOp) -> None:
        old, new = op.old_name.lower(), op.new_name.lower()
        table = self.tables.pop(old, None)
        if table is None:
            return
        if table.name == f"{self.label}_{old}":
            table.name = f"{self.label}_{new}"
        self.tables[new] = table
        self.fields[new] = self.fields.pop(old, {})

    def _AlterModelTable(self, op: MigrationOp) -> None:
        table = self.tables.get(op.model)
        if table is not None:
            table.name = op.options.get("db_table") or f"{self.label}_{op.model}"

    def _AlterModelOptions(self, op: MigrationOp) -> None:
        table = self.tables.get(op.model)
        if table is not None and "managed" in op.options:
            table.managed = op.options["managed"] != "False"

    def _AddIndex(self, op: MigrationOp) -> None:
        self._indexes(op.model, op.indexes)

    _AddConstraint = _AddIndex

    def _RemoveIndex(self, op: MigrationOp) -> None:
        table = self.tables.get(op.model)
        if table is not None:
            table.indexes = [index for index in table.indexes if index.name != op.old_name]

    _RemoveConstraint = _RemoveIndex

    def _AlterUniqueTogether(self, op: MigrationOp) -> None:
        table = self.tables.get(op.model)
        if table is None:
            return
        source = "unique_together" if op.kind == "AlterUniqueTogether" else "index_together"
        table.indexes = [index for index in table.indexes if index.source != source]
        self._indexes(op.model, op.indexes)

    _AlterIndexTogether = _AlterUniqueTogether

    def _indexes(self, model: str, indexes: list[IndexDecl]) -> None:
        table = self.tables.get(model)
        if table is None:
            return
        columns_of = self.fields.get(model, {})
        for index in indexes:
            columns = tuple(columns_of.get(name, name) for name in index.fields)
            table.indexes.append(Index(columns, unique=index.unique, partial=index.partial, name=index.name,
                                       location=index.location, source=index.source))


def resolve(builder: ModelBuilder) -> None:
    usages = [usage for _, usage in builder.records(DjangoUsage)]
    configured = any(decl.installed_apps or decl.rest_framework or decl.values
                     for _, decl in builder.records(SettingsDecl))
    if not usages and not configured:
        return
    builder.project.stacks.add("django")
    resolver = _Resolver(builder)
    if any(usage.drf for usage in usages) or "rest_framework" in resolver.settings.get("INSTALLED_APPS", ""):
        builder.project.stacks.add("drf")
    for key, value in resolver.settings.items():
        if key.startswith("drf."):
            builder.project.settings[key] = value
        elif key in ("AUTH_USER_MODEL", "ROOT_URLCONF", "DEFAULT_AUTO_FIELD", "USE_TZ"):
            builder.project.settings[f"django.{key.lower()}"] = value
    use_tz_at = _setting_location(builder, resolver.names, "USE_TZ")
    if use_tz_at is not None:
        builder.project.setting_locations["django.use_tz"] = use_tz_at
    resolver.collect()
    resolver.build()
    resolver.register()
    resolver.migrations()

