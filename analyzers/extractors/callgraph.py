"""The call graph: every Python function and what it calls, so rules can tell what runs on a request path
(a handler, the service it calls, the helper that calls)."""

from __future__ import annotations

from dataclasses import dataclass

from analyzers.facts import SourceFile
from analyzers.model import FunctionInfo, Location, Span
from analyzers.pysyntax import Attr, Call, Function, Module, Name, iter_calls
from analyzers.resolve import ModelBuilder


@dataclass(frozen=True, slots=True)
class FunctionRecord:
    name: str  # qualified
    span: Span
    is_async: bool
    callees: tuple[str, ...]  # qualified as far as this file's imports tell


def extract(source: SourceFile) -> list[FunctionRecord]:
    module = source.python
    if module is None:
        return []
    top_level = {fn.name for fn in module.functions if fn.qualname == fn.name}
    classes = {cls.name for cls in module.classes}
    return [
        FunctionRecord(f"{module.module}.{fn.qualname}", fn.name_span, fn.is_async,
                       tuple(sorted(_callees(module, fn, top_level, classes))))
        for fn in module.functions
    ]


def _callees(module: Module, fn: Function, top_level: set[str], classes: set[str]) -> set[str]:
    found: set[str] = set()
    for outer in fn.calls:
        for call in iter_calls(outer):
            name = _callee_name(module, fn, call, top_level, classes)
            if name:
                found.add(name)
    return found


def _callee_name(module: Module, fn: Function, call: Call, top_level: set[str], classes: set[str]) -> str | None:
    func = call.func
    if isinstance(func, Name):
        dotted = func.dotted
        head, _, rest = dotted.partition(".")
        if head in ("self", "cls") and fn.owner and rest and "." not in rest:
            prefix = fn.qualname.rsplit(".", 2)[0] if "." in fn.qualname else fn.owner
            return f"{module.module}.{prefix}.{rest}"
        if head in top_level and not rest:
            return f"{module.module}.{dotted}"
        if head in classes:
            return f"{module.module}.{dotted}" + ("" if rest else ".__init__")
        return module.resolve(dotted)
    if isinstance(func, Attr):
        return None  # a method of a computed value: unknown without types
    return None


def resolve(builder: ModelBuilder) -> None:
    functions = builder.project.functions
    callees: dict[str, tuple[str, ...]] = {}
    for facts, record in builder.records(FunctionRecord):
        functions[record.name] = FunctionInfo(record.name, Location(facts.path, record.span), record.is_async)
        callees[record.name] = record.callees
    # Calls through re-exports (`from app.services import fetch` where services/__init__ imports it) and
    # class instantiations resolve here, once every function is known.
    # Many functions call the same names (a service's helpers, `sqlalchemy.select`): each is looked up once.
    meaning: dict[str, str] = {name: name for name in functions}
    for name, info in functions.items():
        for callee in callees[name]:
            target = meaning.get(callee)
            if target is None:
                target = meaning[callee] = builder.function_named(callee) or callee
            info.calls.add(target)
