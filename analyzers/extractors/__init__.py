"""Framework extractors: syntax → per-file facts → (cross-file) the backend model.

Each extractor is a module with:

- `extract(source: SourceFile) -> list[record]`: per file, pure, cached by content hash. Python extractors read
  `source.python` (the module summary, see `analyzers.pysyntax`); others read `source.data`.
  Return `[]` quickly when the file is not theirs.
- `resolve(builder: ModelBuilder) -> None`: across files, reads its own records through
  `builder.records(RecordType)` and registers tables, endpoints and settings in `builder.project`.

`EXTRACTORS` lists them in resolve order: project settings and dialect first, then models, then migrations
(which merge into the models' tables), then HTTP endpoints. Adding a framework means adding a module here;
rules never change for it.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

EXTRACTOR_NAMES = (
    "callgraph",
    "dialect",
    "dependencies",
    "sqlalchemy",
    "sqlmodel",
    "django",
    "alembic",
    "sql",
    "fastapi",
    "flask",
    "drf",
    "data_access",
    "integrations",
    "apps",
    "responses",
    "config_code",
)


@cache
def extractors() -> tuple[ModuleType, ...]:
    return tuple(importlib.import_module(f"analyzers.extractors.{name}") for name in EXTRACTOR_NAMES)
