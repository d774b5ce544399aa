"""## What it does
Flags a column whose name says it holds money (`price`, `amount`, `total`, `balance`, `fee`, ...) but whose
type is binary floating point: SQLAlchemy `Float`/`Double`/`REAL`, a `float` annotation (`Mapped[float]`, a
SQLModel field), Django's `FloatField`, SQL `real`/`double precision`/`float`.

Only whole words of the name count, and only when nothing but a currency or qualifier follows them
(`unit_price`, `total_usd`, `price_incl_tax`): `tax_rate`, `total_weight`, `discount_percent` and
`price_cents` (integer minor units) are not money amounts.

## Why it matters
Binary floating point cannot represent most decimal fractions: `0.1 + 0.2` is `0.30000000000000004`. Sums of
prices drift by cents, totals stop matching invoices, and comparisons such as `balance == 0` fail. Exact
decimal types keep every cent.

## Example
```python
class Product(Base):
    __tablename__ = "products"
    id = Column(Integer, primary_key=True)
    price = Column(Float, nullable=False)
```

## Use instead
```python
    price = Column(Numeric(12, 2), nullable=False)     # Decimal in Python
    # or integer minor units: price_cents = Column(BigInteger, nullable=False)
```
In Django, `models.DecimalField(max_digits=12, decimal_places=2)`; in SQL, `numeric(12, 2)` / `DECIMAL(12, 2)`.
The fix rewrites a SQLAlchemy `Float` / `Float()` written on a model column to `Numeric(12, 2)`. It is unsafe:
values become `Decimal` in Python, and an existing column needs a migration.

## Options
- `names`: the words that mark a money column (default: price, amount, total, subtotal, cost, balance, fee,
  fees, salary, tax, discount, revenue, payment, charge, refund, credit, debit, payout, wage, income, budget).
- `suffixes`: words that may follow a money word without changing its meaning (currencies, `net`, `gross`,
  `incl`, `excl`, `tax`, `min`, `max`, ...).
- `precision` / `scale`: the `Numeric(precision, scale)` the message suggests and the fix writes (default 12, 2).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from analyzers.model import Column, Finding, Fix, Project, Table, TableDeclaration, TextEdit
from analyzers.rules import Rule
from analyzers.rules._column_types import (
    MYSQL_LIKE,
    SQLALCHEMY_FRAMEWORKS,
    TypeText,
    annotation_of,
    column_location,
    column_sites,
    declaration_of,
    name_words,
    written_type,
)
from analyzers.rules._fixes import ImportPlanner

DEFAULT_NAMES = [
    "price", "amount", "total", "subtotal", "cost", "balance", "fee", "fees", "salary", "tax", "discount",
    "revenue", "payment", "charge", "refund", "credit", "debit", "payout", "wage", "income", "budget",
]
DEFAULT_SUFFIXES = [
    "usd", "eur", "gbp", "jpy", "chf", "cad", "aud", "cny", "inr", "brl", "sek", "nok", "dkk", "pln", "mxn",
    "amount", "value", "total", "net", "gross", "incl", "excl", "including", "excluding", "with", "without",
    "tax", "vat", "paid", "due", "min", "max", "local", "original", "converted", "base", "per", "unit", "item",
]
FLOAT_TYPES = frozenset({
    "float", "double", "double precision", "double_precision", "real", "float4", "float8", "float32",
    "float64", "binary_float", "binary_double", "floatfield",
})


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")
    names: list[str] = DEFAULT_NAMES
    suffixes: list[str] = DEFAULT_SUFFIXES
    precision: int = 12
    scale: int = 2


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    assert isinstance(options, Options)
    money = {name.lower() for name in options.names}
    suffixes = {suffix.lower() for suffix in options.suffixes}
    for site in column_sites(project):
        table, column = site.table, site.column
        if TypeText.of(column.type).name not in FLOAT_TYPES or not is_money_name(column.name, money, suffixes):
            continue
        location = column_location(table, column)
        if location is None:
            continue
        declaration = declaration_of(table, column)
        yield RULE.finding(
            f"{site.label} holds money in {described(column)}: binary floating point cannot represent most "
            f"cents exactly; use {suggestion(project, column, declaration, options)}",
            location, site.entity, fix=numeric_fix(table, column, declaration, options))


def is_money_name(name: str, money: set[str], suffixes: set[str]) -> bool:
    """A money word followed only by qualifiers: `unit_price`, `total_usd`; not `tax_rate`, `price_cents`."""
    words = name_words(name)
    for index, word in enumerate(words):
        if word in money and all(rest in suffixes or rest in money for rest in words[index + 1:]):
            return True
    return False


def described(column: Column) -> str:
    annotation = annotation_of(column)
    if annotation is not None:
        return f"a `{annotation}` annotation (a Float column)"
    return f"a {written_type(column)} column"


def suggestion(project: Project, column: Column, declaration: TableDeclaration | None, options: Options) -> str:
    digits = f"{options.precision}, {options.scale}"
    minor = " or integer minor units (`..._cents`)"
    if TypeText.of(column.type).name == "floatfield":
        return f"DecimalField(max_digits={options.precision}, decimal_places={options.scale}){minor}"
    if declaration is not None and declaration.kind == "sql":
        spelled = "DECIMAL" if project.dialect in MYSQL_LIKE else "numeric"
        return f"{spelled}({digits}){minor}"
    if column.attributes.get("type_from") == "sqlmodel":
        return f"`Decimal` with Field(max_digits={options.precision}, decimal_places={options.scale}){minor}"
    if column.attributes.get("type_from") == "annotation":
        return f"Mapped[Decimal] with mapped_column(Numeric({digits})){minor}"
    return f"Numeric({digits}){minor}"


def numeric_fix(table: Table, column: Column, declaration: TableDeclaration | None, options: Options) -> Fix | None:
    """`Float` / `sa.Float()` written on a SQLAlchemy model column → `Numeric(12, 2)` spelled like the file."""
    where, source = column.type_location, column.attributes.get("type_source", "")
    if where is None or declaration is None or declaration.kind != "model" or \
            declaration.framework not in SQLALCHEMY_FRAMEWORKS or where.path != declaration.location.path:
        return None
    callee = source[:-2] if source.endswith("()") else source
    prefix, _, name = callee.rpartition(".")
    if name != "Float":
        return None
    edits: list[TextEdit] = []
    if prefix:
        numeric = f"{prefix}.Numeric"
    else:
        if not declaration.file_imports.get("Float", "").startswith("sqlalchemy"):
            return None  # a `Float` we cannot vouch for: leave it to the developer
        planner = ImportPlanner(where.path, declaration.file_imports, declaration.imports_line)
        numeric = planner.name("sqlalchemy.Numeric")
        edits.extend(planner.edits())
    edits.append(TextEdit(where.path, where.span, f"{numeric}({options.precision}, {options.scale})"))
    return Fix(f"Use {numeric}({options.precision}, {options.scale}) for {table.name}.{column.name}",
               edits=tuple(edits), safe=False)


RULE = Rule(
    code="DB005",
    name="float-for-money",
    summary="A money column (price, amount, total, ...) uses a binary floating-point type",
    check=check,
    options=Options,
    fixable=True,
)
