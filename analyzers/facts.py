"""Per-file facts: everything the engine keeps about one file, extracted once and cached by content hash."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from analyzers.pysyntax import Comment, Module

# Bump when an extractor's output changes shape or meaning: cached facts of another version are ignored.
FACTS_VERSION = 3


@dataclass(slots=True)
class SourceFile:
    """What an extractor sees of one file."""

    path: str  # project-relative, "/"-separated
    language: str  # "python" | "sql" | "text"
    data: bytes
    python: Module | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass(slots=True)
class FileFacts:
    path: str
    language: str
    digest: str
    python: Module | None = None
    # Framework facts, each a small dataclass defined by the extractor that produced it.
    records: list[Any] = field(default_factory=list)
    # Comments (for suppressions), in every language.
    comments: list[Comment] = field(default_factory=list)
    # Why the file was skipped or only partly understood (binary, too large, undecodable, syntax errors).
    notes: list[str] = field(default_factory=list)
    # Extractors that failed on this file, with their error (contained, never fatal).
    failures: list[str] = field(default_factory=list)
    line_count: int = 0

    def of_type(self, kind: type) -> list[Any]:
        return [record for record in self.records if isinstance(record, kind)]
