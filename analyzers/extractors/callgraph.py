"""The call graph: every Python function and what it calls, so rules can tell what runs on a request path
(a handler, the service it calls, the helper that calls).

Besides direct calls it follows the indirection of saving a framework object: DRF's `Serializer.save()` calls
the serializer's own `create()` or `update()`, and Django's `ModelFormMixin.form_valid(form)` calls `form.save()`.
A function that saves a serializer or form of a known class (a local bound to `FooSerializer(...)`, to
`self.get_serializer(...)` or `self.get_form()` in a view, or the `serializer` parameter of a
`perform_create`/`perform_update` hook, the `form` of `form_valid`) calls that class's `save` (and a serializer's
`create` and `update`); so does one that hands such a local to those hooks (`self.perform_create(serializer)`,
`super().form_valid(form)`), which save it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from analyzers.facts import SourceFile
from analyzers.model import FunctionInfo, Location, Span
from analyzers.pysyntax import Attr, Call, Class, Function, Module, Name, iter_calls
from analyzers.resolve import ClassRef, ModelBuilder


@dataclass(frozen=True, slots=True)
class FunctionRecord:
    name: str  # qualified
    span: Span
    is_async: bool
    callees: tuple[str, ...]  # qualified as far as this file's imports tell


@dataclass(frozen=True, slots=True)
class SerializerSave:
    """A serializer or form saved in `caller` (see the module's docstring), at `span`."""

    caller: str
    # The object's class, qualified as far as this file's imports tell; with a `kind`, the view class whose
    # attribute of that kind names it (`serializer_class` for `self.get_serializer(...)`).
    cls: str
    kind: str  # "serializer", "form", or "" (decided by the class's bases)
    span: Span




def extract(source: SourceFile) -> list[FunctionRecord | SerializerSave]:
    module = source.python
    if module is None:
        return []
    top_level = {fn.name for fn in module.functions if fn.qualname == fn.name}
    classes = {cls.name for cls in module.classes}
    records: list[FunctionRecord | SerializerSave] = [
        FunctionRecord(f"{module.module}.{fn.qualname}", fn.name_span, fn.is_async,
                       tuple(sorted(_callees(module, fn, top_level, classes))))
        for fn in module.functions
    ]
    for fn in module.functions:
        records.extend(serializer_saves(module, fn))
    return records


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


# ---- serializers and forms saved


@dataclass(frozen=True, slots=True)
class SavedKind:
    """How a framework saves one kind of object for a view."""

    view_attribute: str  # the view's class attribute naming the class: `serializer_class`
    hooks: tuple[str, ...]  # the view's hooks that save the object they are given: `perform_create`
    parameter: str  # the hooks' parameter holding it: `serializer`
    getters: tuple[str, ...]  # view methods returning an instance: `self.get_serializer`
    class_getter: str  # the view method returning the class: `self.get_serializer_class`
    methods: tuple[str, ...]  # the object's methods a save runs
    base_suffix: str  # what a base class's name ends with: `Serializer`
    package: str  # where the framework's own bases live: `rest_framework.`


KINDS = {
    # DRF: `serializer.save()` runs the serializer's create() or update().
    "serializer": SavedKind("serializer_class", ("perform_create", "perform_update"), "serializer",
                            ("self.get_serializer", "self.serializer_class"), "self.get_serializer_class",
                            ("save", "create", "update"), "Serializer", "rest_framework."),
    # Django: ModelFormMixin.form_valid(form) runs `form.save()`.
    "form": SavedKind("form_class", ("form_valid",), "form", ("self.get_form",), "self.get_form_class",
                      ("save",), "Form", "django.forms."),
}


def serializer_saves(module: Module, fn: Function) -> list[SerializerSave]:
    """The serializers and forms `fn` saves, or hands to a view hook that saves them (shared with
    `data_access`, which needs the ones saved inside `transaction.atomic`)."""
    bound = _saved_locals(module, fn)
    if not bound:
        return []
    caller = f"{module.module}.{fn.qualname}"
    found: list[SerializerSave] = []
    for outer in fn.calls:
        for call in iter_calls(outer):
            name = _saved_name(call)
            for cls, kind in bound.get(name or "", ()):
                found.append(SerializerSave(caller, cls, kind, call.span))
    return found


def _saved_name(call: Call) -> str | None:
    """The local saved by `call`: `x.save(...)`, `self.perform_create(x)`, `super().form_valid(x)`."""
    func = call.func
    if isinstance(func, Name) and func.dotted.endswith(".save") and func.dotted.count(".") == 1:
        return func.dotted[: -len(".save")]
    if not call.args or not isinstance(call.args[0], Name):
        return None
    hooks = {hook for kind in KINDS.values() for hook in kind.hooks}
    if isinstance(func, Name) and func.dotted.startswith("self.") and func.dotted[len("self."):] in hooks:
        return call.args[0].dotted
    if isinstance(func, Attr) and func.attr in hooks and isinstance(func.value, Call) and \
            isinstance(func.value.func, Name) and func.value.func.dotted == "super":
        return call.args[0].dotted
    return None


def _saved_locals(module: Module, fn: Function) -> dict[str, list[tuple[str, str]]]:
    """Locals that may hold a serializer or form → (its class as far as this file tells, or the view class with
    the kind whose view attribute names it)."""
    view = f"{module.module}.{fn.qualname.rsplit('.', 1)[0]}" if fn.owner else None
    bound: dict[str, list[tuple[str, str]]] = {}
    for name, kind in KINDS.items():
        if view is not None and fn.name in kind.hooks:
            bound.update({param.name: [(view, name)] for param in fn.params if param.name == kind.parameter})
    for assign in fn.assigns:
        if len(assign.targets) != 1 or not isinstance(assign.value, Call):
            continue
        made = _instance_of(module, assign.value, view)
        if made is not None:
            bound.setdefault(assign.targets[0], []).append(made)
    return bound


def _instance_of(module: Module, call: Call, view: str | None) -> tuple[str, str] | None:
    """The class `call` makes an instance of: `Foo(...)` (kind decided once the class is known), or in a view
    `self.get_serializer(...)`, `self.get_serializer_class()(...)`, `self.get_form()`..."""
    func = call.func
    for name, kind in KINDS.items():
        if isinstance(func, Call) and isinstance(func.func, Name) and func.func.dotted == kind.class_getter or \
                isinstance(func, Name) and func.dotted in kind.getters:
            return (view, name) if view else None
    if not isinstance(func, Name):
        return None
    last = func.dotted.rsplit(".", 1)[-1]
    if not last[:1].isupper() or func.dotted.split(".")[0] in ("self", "cls"):
        return None  # not a class by its name; resolve keeps serializers and forms only
    local = any(cls.name == func.dotted for cls in module.classes)
    return (f"{module.module}.{func.dotted}" if local else module.resolve(func.dotted)), ""


def save_targets(builder: ModelBuilder, save: SerializerSave) -> list[str]:
    """The project methods that saving this object can run (`save`, and a serializer's `create`/`update`,
    nearest in the class's ancestry); none when it is no serializer or form defined in the workspace."""
    ref = builder.lookup(save.cls)
    kind = KINDS.get(save.kind)
    if ref is not None and kind is not None:
        ref = _view_class_attribute(builder, ref, kind.view_attribute)
    if ref is None:
        return []
    if kind is None:
        kind = next((candidate for candidate in KINDS.values() if _is_kind(builder, ref, candidate)), None)
    if kind is None or not _is_kind(builder, ref, kind):
        return []
    chain = [ref, *builder.ancestors(ref)]
    functions = builder.project.functions
    targets: list[str] = []
    for method in kind.methods:
        target = next((f"{cls.qualified}.{method}" for cls in chain if f"{cls.qualified}.{method}" in functions),
                      None)
        if target is not None:
            targets.append(target)
    return targets


def _is_kind(builder: ModelBuilder, ref: ClassRef, kind: SavedKind) -> bool:
    """A serializer (form): a base from DRF (`django.forms`), or one named like one outside the workspace
    (`i18nfield.rest_framework.I18nAwareModelSerializer`, `i18nfield.forms.I18nModelForm`)."""
    return any(name.startswith(kind.package) or name.endswith(kind.base_suffix) for name in builder.base_names(ref))


def _view_class_attribute(builder: ModelBuilder, view: ClassRef, attribute: str) -> ClassRef | None:
    """The class a view's `serializer_class` (`form_class`) names, from the view or its nearest ancestor."""
    for cls in [view, *builder.ancestors(view)]:
        for assign in cls.cls.assigns:
            if attribute in assign.targets and assign.value is not None:
                return builder.resolve_class(cls.module, assign.value)
    return None


# ---- methods of values whose type is unknown


class MethodIndex:
    """The workspace's methods by name and its classes' subclasses, for calls the file cannot resolve:
    `self.refresh()` (the method may be inherited, or overridden in a subclass the call dispatches to) and
    `order.refund()` (a method of a value of unknown type). Built on first use."""

    def __init__(self, builder: ModelBuilder) -> None:
        self.builder = builder
        self._by_name: dict[str, list[tuple[ClassRef, str]]] | None = None
        self._subclasses: dict[str, list[ClassRef]] = {}

    def _index(self) -> dict[str, list[tuple[ClassRef, str]]]:
        if self._by_name is None:
            self._by_name = {}
            functions = self.builder.project.functions
            for module in list(self.builder.modules.values()):
                for cls in _classes(module.classes):
                    ref = self.builder.lookup(f"{module.module}.{cls.qualname}")
                    if ref is None:
                        continue
                    for base in self.builder.ancestors(ref):
                        self._subclasses.setdefault(base.qualified, []).append(ref)
                    for method in cls.methods:
                        name = f"{module.module}.{method.qualname}"
                        if name in functions:
                            self._by_name.setdefault(method.name, []).append((ref, name))
        return self._by_name

    def of_self(self, name: str) -> list[str]:
        """`self.m()` in class C (`name` is "module.C.m"): the `m` an instance of C runs (its own or inherited),
        and the one each subclass of C runs (an override, or one a mixin brings)."""
        owner, _, method = name.rpartition(".")
        ref = self.builder.lookup(owner)
        functions = self.builder.project.functions
        if ref is None:
            return [name] if name in functions else []
        self._index()
        found = [self._nearest(cls, method) for cls in [ref, *self._subclasses.get(ref.qualified, [])]]
        return list(dict.fromkeys(name for name in found if name is not None))

    def _nearest(self, ref: ClassRef, method: str) -> str | None:
        """The `method` an instance of `ref` runs: its own, else its nearest ancestor's."""
        functions = self.builder.project.functions
        return next((f"{cls.qualified}.{method}" for cls in [ref, *self.builder.ancestors(ref)]
                     if f"{cls.qualified}.{method}" in functions), None)

    def of_receiver(self, receiver: str, method: str) -> list[str]:
        """`receiver.m()`: the `m` of the class the receiver is named after (`event`, `new_event` → `Event`),
        else the only class that defines an `m`; nothing when that leaves several, or for `save`/`delete`."""
        if method in ("save", "delete"):
            # A model's save()/delete() runs wherever any row is saved: one call in a transaction says nothing
            # of the others.
            return []
        candidates = self._index().get(method, [])
        word = receiver.rsplit("_", 1)[-1].lower()
        named = [name for ref, name in candidates if ref.cls.name.lower() == word]
        if named:
            return named
        return [candidates[0][1]] if len(candidates) == 1 else []


def _classes(classes: list[Class]) -> Iterator[Class]:
    for cls in classes:
        yield cls
        yield from _classes(cls.classes)


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
    for _, save in builder.records(SerializerSave):
        caller = functions.get(save.caller)
        if caller is not None:
            caller.calls.update(save_targets(builder, save))
