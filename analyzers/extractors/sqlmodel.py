"""SQLModel → tables: `class Hero(SQLModel, table=True)` classes.

Only a class declared with `table=True` is a table; the other SQLModel classes (`HeroBase`, `HeroCreate`,
`HeroRead`) are schemas, but their fields carry over into the `table=True` classes that inherit them. Every
annotated attribute is a column (except `ClassVar`s and `Relationship(...)`); `Field(...)` options say the rest:
`primary_key`, `foreign_key="team.id"`, `index`, `unique`, `nullable`, `sa_type`, `sa_column=Column(...)`,
`sa_column_kwargs={...}`, and `default_factory=datetime.utcnow` for a creation time. The table is named
`__tablename__`, else the class name in lower case (SQLModel's own default).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from analyzers.extractors._column_values import naive_now
from analyzers.extractors.sqlalchemy import (
    ColumnFact,
    ConstraintFact,
    FileReader,
    LooseIndexFact,
    Reference,
    add_column,
    add_constraints,
    add_external_bases,
    column_call,
    declaration_for,
    fills_time,
    finish_table,
    flag,
    imported_names,
    last_argument_end,
    looks_like_join_table,
    mark_annotation_type,
    module_prefix,
    parse_column,
    parse_table_args,
    python_type,
    reference_of,
    server_clock,
    string_target,
    tablename_rule_of,
    type_text,
)
from analyzers.facts import SourceFile
from analyzers.model import Column, Table
from analyzers.pysyntax import Assign, Call, Class, Const, Expr, Name, Seq, Subscript, const_str, expr_text
from analyzers.resolve import ClassRef, ModelBuilder

SQLMODEL_BASES = frozenset({"sqlmodel.SQLModel", "sqlmodel.main.SQLModel"})
PACKAGES = ("sqlmodel", "sqlalchemy")


@dataclass(slots=True)
class ModelClassFact:
    """A class of a file that uses SQLModel, with its fields (whether or not it turns out to be a table)."""

    qualified: str
    name: str
    path: str
    table: bool = False
    fields: list[ColumnFact] = field(default_factory=list)
    table_args: list[ConstraintFact] | None = None
    tablename: str | None = None
    tablename_rule: str | None = None
    link_models: list[Reference] = field(default_factory=list)


# ============================================================================================ extract


def extract(source: SourceFile) -> list[object]:
    module = source.python
    if module is None or not (_uses_sqlmodel(module.imports) or any("table" in cls.keywords
                                                                      for cls in module.classes)):
        return []
    reader = FileReader(source, module)
    return [fact for fact in (_class_fact(reader, cls) for cls in module.classes) if fact is not None]


def _uses_sqlmodel(imports: dict[str, str]) -> bool:
    return any(target == "sqlmodel" or target.startswith("sqlmodel.") for target in imports.values())


def _class_fact(reader: FileReader, cls: Class) -> ModelClassFact | None:
    if not cls.bases:
        return None
    fact = ModelClassFact(f"{reader.module.module}.{cls.qualname}", cls.name, reader.path)
    fact.table = flag(cls.keywords.get("table"), unknown=False)
    table_args: Expr | None = None
    has_table_args = False
    for assign in cls.assigns:
        if len(assign.targets) != 1 or "." in assign.targets[0]:
            continue
        target = assign.targets[0]
        if target == "__tablename__":
            fact.tablename = const_str(assign.value)
            fact.tablename_rule = None if fact.tablename or assign.value is None else "unknown"
        elif target == "__table_args__":
            table_args, has_table_args = assign.value, True
        elif not target.startswith("_"):
            _field(reader, fact, assign)
    for method in cls.methods:
        if method.name == "__tablename__" and any("declared_attr" in expr_text(d) for d in method.decorators):
            fact.tablename_rule = tablename_rule_of(method)
    if has_table_args:
        attributes = {column.attribute: column.column.name for column in fact.fields}
        fact.table_args = parse_table_args(reader, table_args, attributes)
    return fact


def _field(reader: FileReader, fact: ModelClassFact, assign: Assign) -> None:
    """One annotated attribute: a column unless it is a `ClassVar` or a `Relationship(...)`."""
    annotation, value = assign.annotation, assign.value
    if annotation is None or _is_class_var(annotation):
        return
    name = assign.targets[0]
    if isinstance(value, Call) and reader.name(value) == "Relationship":
        link = reference_of(reader, value.kwarg("link_model"))
        if link is not None:
            fact.link_models.append(link)
        return
    if isinstance(value, Call) and reader.name(value) == "Field":
        fact.fields.append(_field_column(reader, name, value, assign))
        return
    column_type, optional = python_type(annotation)
    column = Column(name=name, type=column_type, location=reader.location(assign.span), nullable=optional)
    if column_type is not None:
        mark_annotation_type(column, annotation, "sqlmodel")
    naive = naive_now(reader.module, value)
    if naive is not None:
        column.attributes["naive_default"] = naive
    fact.fields.append(ColumnFact(name, column))


def _is_class_var(annotation: Expr) -> bool:
    target = annotation.value if isinstance(annotation, Subscript) else annotation
    return isinstance(target, Name) and target.dotted.rsplit(".", 1)[-1] == "ClassVar"


def _field_column(reader: FileReader, name: str, call: Call, assign: Assign) -> ColumnFact:
    """`Field(...)`, or the `Column(...)` given as its `sa_column=`."""
    sa_column = column_call(reader, call.kwarg("sa_column"))
    if sa_column is not None:
        return parse_column(reader, name, sa_column, assign.span)
    column_type, optional = python_type(assign.annotation)
    if call.kwarg("sa_column") is not None:
        # A Column built elsewhere (`sa_column=tz_column()`): SQLModel takes its type from that Column, not from
        # the annotation, and we cannot see it.
        column_type = None
    written_type = type_text(call.kwarg("sa_type"))
    primary_key = flag(call.kwarg("primary_key"), unknown=False)
    nullable_option = call.kwarg("nullable")
    if isinstance(nullable_option, Const) and isinstance(nullable_option.value, bool):
        nullable: bool | None = nullable_option.value
    else:
        nullable = False if primary_key else optional
    extra = _column_kwargs(call.kwarg("sa_column_kwargs"))
    anchor = last_argument_end(call)
    column = Column(
        name=name,
        type=written_type or column_type,
        location=reader.location(assign.span),
        primary_key=primary_key,
        unique=flag(call.kwarg("unique"), unknown=True),
        indexed=flag(call.kwarg("index"), unknown=True),
        nullable=nullable,
        auto_on_insert=fills_time(call.kwarg("default_factory")) or any(
            fills_time(extra.get(key)) for key in ("server_default", "default"))
        or server_clock(extra.get("server_default"), written_type or column_type),
        auto_on_update=any(fills_time(extra.get(key)) for key in ("onupdate", "server_onupdate")),
        options_anchor=reader.location(anchor) if anchor is not None else None,
        declaration_text=reader.text(call.span),
    )
    _type_details(reader, column, call, assign.annotation, extra)
    foreign_key = reference_of(reader, call.kwarg("foreign_key"), const_str(call.kwarg("ondelete")))
    return ColumnFact(name, column, (foreign_key,) if foreign_key is not None else (), None,
                      written_type is not None)


def _type_details(reader: FileReader, column: Column, call: Call, annotation: Expr | None,
                  extra: dict[str, Expr]) -> None:
    """Where the type is written (`sa_type=`), or that it comes from the annotation (SQLModel's own mapping:
    `str` → AutoString, sized by `max_length`); and a naive current-time default."""
    sa_type = call.kwarg("sa_type")
    if sa_type is not None and column.type is not None:
        column.type_location = reader.location(sa_type.span)
        column.attributes["type_source"] = reader.text(sa_type.span)
    elif column.type is not None:
        mark_annotation_type(column, annotation, "sqlmodel")
    length = call.kwarg("max_length")
    if isinstance(length, Const) and isinstance(length.value, int):
        column.attributes["length"] = str(length.value)
    for value in (call.kwarg("default_factory"), call.kwarg("default"), extra.get("default"),
                  extra.get("onupdate")):
        naive = naive_now(reader.module, value)
        if naive is not None:
            column.attributes["naive_default"] = naive
            return


def _column_kwargs(value: Expr | None) -> dict[str, Expr]:
    """`sa_column_kwargs={"server_default": text("now()")}` as a dict of its constant keys."""
    if not isinstance(value, Seq) or value.kind != "dict":
        return {}
    return {key: item for key, item in ((const_str(k), v) for k, v in zip(value.keys, value.items, strict=False))
            if key is not None}


# ============================================================================================ resolve


# SQLModel 0.0.45 maps these annotations to its `UTCDateTime` (`DateTime(timezone=True)`, aware values only);
# earlier versions to a naive `DateTime`. `NaiveDatetime` keeps `DateTime(timezone=False)`.
UTC_DATETIME_SINCE = (0, 0, 45)
AWARE_ANNOTATIONS = frozenset({"datetime", "datetime.datetime", "AwareDatetime", "pydantic.AwareDatetime"})


def aware_datetime_mapping(version: str | None) -> bool:
    """Whether every SQLModel version the project allows maps `datetime` to a zone-aware type. Unknown: no (the
    project may run an older one)."""
    if not version:
        return False
    return tuple(int(part) for part in version.split(".")) >= UTC_DATETIME_SINCE


def resolve(builder: ModelBuilder) -> None:
    facts = {fact.qualified: fact for _, fact in builder.records(ModelClassFact)}
    if not facts:
        return
    resolver = _Resolver(builder, facts)
    resolver.run()


class _Resolver:
    def __init__(self, builder: ModelBuilder, facts: dict[str, ModelClassFact]) -> None:
        self.builder = builder
        self.facts = facts
        self.table_names: dict[str, str] = {}
        self.attributes: dict[str, dict[str, str]] = {}
        self.aware_datetime = aware_datetime_mapping(builder.project.settings.get("dependency.sqlmodel"))

    def run(self) -> None:
        tables: list[Table] = []
        for qualified, fact in self.facts.items():
            ref = self.builder.lookup(qualified)
            if ref is None or not fact.table or not self.is_sqlmodel(ref):
                continue
            name = self.table_name(ref)
            if name:
                self.table_names[qualified] = name
        for qualified, name in self.table_names.items():
            ref = self.builder.lookup(qualified)
            if ref is not None:
                tables.append(self.add_table(ref, self.facts[qualified], name))
        for _, loose in self.builder.records(LooseIndexFact):
            self.add_loose_index(loose)
        for fact in self.facts.values():
            for link in fact.link_models:
                table = self.builder.project.tables.get((self.target_table(link) or "").lower())
                if table is not None:
                    table.is_association = True
        for table in tables:
            if looks_like_join_table(table):
                table.is_association = True
        if tables:
            self.builder.project.stacks.add("sqlmodel")

    def is_sqlmodel(self, ref: ClassRef) -> bool:
        return bool(self.builder.base_names(ref) & SQLMODEL_BASES)

    def chain(self, ref: ClassRef) -> list[tuple[ClassRef, ModelClassFact]]:
        """The class and its SQLModel ancestors with their facts, nearest first."""
        found = [(ref, self.facts[ref.qualified])] if ref.qualified in self.facts else []
        for ancestor in self.builder.ancestors(ref):
            fact = self.facts.get(ancestor.qualified)
            if fact is not None:
                found.append((ancestor, fact))
        return found

    def table_name(self, ref: ClassRef) -> str | None:
        """`__tablename__` (the class's or a base's), else the class name in lower case; None when it is
        computed in a way we cannot follow (the table is then left out rather than misnamed)."""
        for _, current in self.chain(ref):
            if current.tablename:
                return current.tablename
            if current.tablename_rule and current.tablename_rule.startswith("lower"):
                return ref.cls.name.lower() + current.tablename_rule.partition(":")[2]
            if current.tablename_rule:
                return None
        return ref.cls.name.lower()

    def add_table(self, ref: ClassRef, fact: ModelClassFact, name: str) -> Table:
        declaration = declaration_for(ref, "sqlmodel", {
            "style": "sqlmodel", "prefix": module_prefix(ref.module),
            "imported": imported_names(ref.module, PACKAGES)})
        table = Table(name=name, declarations=[declaration])
        attributes: dict[str, str] = {}
        seen: set[str] = set()
        table_args: list[ConstraintFact] | None = None
        for owner, current in self.chain(ref):
            for column in current.fields:
                if column.attribute in seen:
                    continue
                seen.add(column.attribute)
                attributes[column.attribute] = column.column.name
                add_column(table, self.model_column(owner if owner is not ref else None, column),
                           column.references, self.target)
            if table_args is None:
                table_args = current.table_args
        self.attributes[ref.qualified] = attributes
        add_constraints(table, table_args or [], attributes, self.target)
        add_external_bases(self.builder, table, [ref, *self.builder.ancestors(ref)],
                           lambda qualified: qualified in SQLMODEL_BASES)
        return self.builder.add_table(finish_table(table))

    def model_column(self, owner: ClassRef | None, fact: ColumnFact) -> Column:
        column = replace(fact.column)  # records are cached: never mutate them
        if owner is not None:
            column.origin = "inherited"
            column.origin_detail = f"{owner.cls.name} ({owner.module.path})"
        if self.aware_datetime and column.attributes.get("type_from") == "sqlmodel" and \
                column.attributes.get("python_type") in AWARE_ANNOTATIONS:
            column.type = "DateTime(timezone=True)"
            column.attributes = {**column.attributes, "type_from": "sqlmodel_utc"}
        return column

    def target(self, reference: Reference) -> tuple[str | None, str | None]:
        if reference.head is None:
            return string_target(reference)
        column = reference.text.rsplit(".", 1)[-1] if "." in reference.text else None
        return self.target_table(reference), column

    def target_table(self, reference: Reference) -> str | None:
        if reference.head is None:
            return string_target(reference)[0]
        ref = self.builder.lookup(reference.head)
        return self.table_names.get(ref.qualified) if ref is not None else None

    def add_loose_index(self, loose: LooseIndexFact) -> None:
        ref = self.builder.lookup(loose.head)
        name = self.table_names.get(ref.qualified) if ref is not None else None
        table = self.builder.project.tables.get((name or "").lower())
        if table is None or ref is None:
            return
        add_constraints(table, [loose.constraint], self.attributes.get(ref.qualified, {}), self.target)
