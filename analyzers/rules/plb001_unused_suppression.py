"""## What it does
Flags a `plumbline: ignore[...]` or `plumbline: ignore-file[...]` comment that suppresses nothing: the code it
names raises no finding on that line (or the line below it), or anywhere in the file for `ignore-file`.

## Why it matters
Suppressions outlive the code they were written for. Once the column gets its index or the endpoint gets
paginated, a forgotten `ignore[DB003]` keeps sitting there, and the next time someone reintroduces the
problem on that line it is silently hidden. Reporting unused suppressions keeps every one of them honest,
as ruff does with `RUF100`.

## Example
```python
class Order(Base):
    __tablename__ = "orders"
    customer_id = mapped_column(ForeignKey("customers.id"), index=True)  # plumbline: ignore[DB003]
```

## Use instead
```python
class Order(Base):
    __tablename__ = "orders"
    customer_id = mapped_column(ForeignKey("customers.id"), index=True)
```
Remove the comment, or correct the code it names. To keep a suppression on purpose (a finding that comes and
goes with configuration), add `PLB001` to `ignore` or to the file's `per-file-ignores`.

## Options
None. The engine itself produces these findings while it applies suppressions, after every other rule has
run; this rule exists so `PLB001` can be listed, selected, ignored and documented like any other.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel

from analyzers.model import Finding, Project
from analyzers.rules import Rule
from analyzers.suppressions import UNUSED_CODE, UNUSED_NAME


def check(project: Project, options: BaseModel) -> Iterator[Finding]:
    # The findings come from analyzers.suppressions.apply_suppressions, which sees every other rule's result.
    return iter(())


RULE = Rule(
    code=UNUSED_CODE,
    name=UNUSED_NAME,
    summary="A suppression comment suppresses nothing",
    check=check,
    severity="info",
)
