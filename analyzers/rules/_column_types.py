"""What the DB004-DB008 rules share: reading a column's type as written, and where the column was declared.

Column types reach the model as written, without module prefixes: SQLAlchemy's `String(120)`,
`DateTime(timezone=True)`, Django's `CharField(120)`, SQL's `timestamp with time zone`. The same name means the
same thing across them once lower-cased (`DateTime` and MySQL's `DATETIME` both store no zone), which lets one
reading serve every declaration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from analyzers.model import Column, Location, Project, Table, TableDeclaration

# Frameworks whose model columns are SQLAlchemy type expressions (a fix may rewrite them).
SQLALCHEMY_FRAMEWORKS = frozenset({"sqlalchemy", "flask-sqlalchemy", "sqlmodel"})
MYSQL_LIKE = frozenset({"mysql", "mariadb"})
DIALECT_NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB", "sqlite": "SQLite",
                 "cockroachdb": "CockroachDB", "mssql": "SQL Server", "oracle": "Oracle"}

_PARENTHESES = re.compile(r"\([^()]*\)")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@dataclass(frozen=True, slots=True)
class TypeText:
    """A column type split into its lower-cased name (`timestamp with time zone`) and its first argument list."""

    name: str
    arguments: str

    @staticmethod
    @lru_cache(maxsize=4096)  # a pure function of the text: projects spell few distinct types, each many times
    def of(text: str | None) -> TypeText:
        lowered = " ".join((text or "").lower().split())
        opening = lowered.find("(")
        arguments = ""
        if opening >= 0:
            closing = lowered.find(")", opening)
            arguments = lowered[opening + 1: closing if closing >= 0 else len(lowered)].strip()
        name = " ".join(_PARENTHESES.sub(" ", lowered).split())
        return TypeText(name.rsplit(".", 1)[-1] if " " not in name else name, arguments)

    def keyword(self, key: str) -> str | None:
        """The value of a keyword argument (`timezone=True` → "true")."""
        match = _keyword_pattern(key).search(self.arguments)
        return match.group(1).strip() if match else None

    def positional(self) -> list[str]:
        return [part.strip() for part in self.arguments.split(",") if part.strip() and "=" not in part]


@lru_cache(maxsize=64)
def _keyword_pattern(key: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|,)\s*{key}\s*=\s*([^,]+)")


@dataclass(slots=True)
class ColumnSite:
    """One column declaration and every table that has it: a mixin's or abstract base's column shared by several
    tables is one place to change, so it is reported once (the owning table first when one declares it)."""

    column: Column
    tables: list[Table]

    @property
    def table(self) -> Table:
        return self.tables[0]

    @property
    def label(self) -> str:
        if len(self.tables) == 1:
            return f"{self.table.name}.{self.column.name}"
        return f"{self.column.name} (in {', '.join(table.name for table in self.tables)})"

    @property
    def entity(self) -> str:
        """The fingerprint entity: the table's column, or the mixin's (stable as tables start using it)."""
        if self.column.origin != "inherited":
            return f"{self.table.name}.{self.column.name}"
        owner = (self.column.origin_detail or "").split(" (", 1)[0] or self.table.name
        return f"{owner}.{self.column.name}"


def column_sites(project: Project) -> list[ColumnSite]:
    """Every column of every managed table, columns declared once for several tables grouped together (computed
    once per project: several rules walk them; do not change the list)."""
    return project.derived("column_sites", _column_sites)


def _column_sites(project: Project) -> list[ColumnSite]:
    sites: dict[tuple[object, ...], ColumnSite] = {}
    by_place: dict[tuple[object, ...], ColumnSite] = {}
    for own in (True, False):
        for table in project.tables.values():
            if not table.managed:
                continue
            for column in table.columns.values():
                if (column.origin != "inherited") != own or column.origin == "framework":
                    continue
                place = (column.location.path, column.location.span.start, column.name) if column.location \
                    else (table.name, column.name)
                site = by_place.get(place) if not own else None
                if site is not None:
                    site.tables.append(table)
                    continue
                site = ColumnSite(column, [table])
                sites[(table.name, column.name)] = site
                by_place.setdefault(place, site)
    return list(sites.values())


def declaration_of(table: Table, column: Column) -> TableDeclaration | None:
    """The declaration in the file that declares the column (a model, a migration, a SQL script), else the table's
    primary one (a column inherited from a mixin in another module belongs to the model)."""
    if column.location is not None:
        for declaration in table.declarations:
            if declaration.location.path == column.location.path:
                return declaration
    return table.primary


def column_location(table: Table, column: Column) -> Location | None:
    if column.location is not None:
        return column.location
    return table.primary.location if table.primary else None


def name_words(name: str) -> list[str]:
    """`unitPriceUSD` → ["unit", "price", "usd"], `total_amount_2` → ["total", "amount", "2"]."""
    return [word.lower() for part in re.split(r"[^A-Za-z0-9]+", name) for word in _WORDS.findall(part)]


def dialect_name(dialect: str | None) -> str:
    return DIALECT_NAMES.get(dialect or "", dialect or "the database")


def written_type(column: Column) -> str:
    """The type as the developer wrote it, for messages."""
    return column.attributes.get("type_source") or column.type or "?"


def annotation_of(column: Column) -> str | None:
    """The Python annotation the type came from (`datetime`), when it was not written as a column type."""
    if column.attributes.get("type_from") in ("annotation", "sqlmodel"):
        return column.attributes.get("python_type") or column.type
    return None
