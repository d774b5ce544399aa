"""Facts of unchanged classes, kept between extractions of an edited file.

The language server extracts an edited file again on every keystroke, with a summary that keeps the very objects
of every statement the edit did not touch (`lsp_server.incremental`): in a long model module, reading those
unchanged classes again was most of the keystroke. What an extractor records for one class depends on nothing
but the class's summary (the same object: summaries are never changed once built), the file around it (path,
module name, imports: `file_context`) and the source text the class spans. `UnitFacts` returns the facts computed
last time when all three are the same, and computes them otherwise (a cold scan, a class summarised again).
Records are never mutated after extraction (they are cached on disk too), so handing out the same ones is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from analyzers.pysyntax import Module

T = TypeVar("T")


def file_context(path: str, module: Module) -> tuple[Hashable, ...]:
    """What a class's facts can depend on outside the class: where it is and what the file's names stand for."""
    return path, module.module, module.imports_end, tuple(module.imports.items())


class UnitFacts(Generic[T]):
    """One extractor's facts per class, for as long as the same class comes back unchanged."""

    LIMIT = 2048  # classes; all forgotten at once past it (a cold scan fills it with classes nobody edits)

    def __init__(self) -> None:
        self.entries: dict[int, tuple[object, tuple[Hashable, ...], str, T]] = {}

    def get(self, unit: object, context: tuple[Hashable, ...], text: str, compute: Callable[[], T]) -> T:
        entry = self.entries.get(id(unit))
        if entry is not None and entry[0] is unit and entry[1] == context and entry[2] == text:
            return entry[3]
        found = compute()
        if len(self.entries) >= self.LIMIT:
            self.entries.clear()
        self.entries[id(unit)] = (unit, context, text, found)  # the unit itself is kept: its id stays its own
        return found
