"""What the HTTP framework extractors (FastAPI, Flask) share.

- Scopes and names: an app, router or blueprint is a variable in a module or in a factory function; a name
  written in one module (`orders.router`, `api`) resolves to the object it means, through imports and
  re-exports in other modules.
- Lookup of callables across modules (dependency functions, classes, instances) and of class fields.
- What a handler's body says: the queries it runs (and whether they are paged, capped or unbounded), what it
  returns (one item, a collection), pagination evidence, hard caps and query parameters read from the request.

Everything reads the `pysyntax` summary; nothing here reads syntax trees or knows one framework.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from typing import Any, Literal

from analyzers.model import Location, Parameter, Position, QueryCall, ReturnKind, Span
from analyzers.pysyntax import (
    Assign,
    Attr,
    BinOp,
    Call,
    Class,
    Const,
    Expr,
    FString,
    Function,
    Module,
    Name,
    Param,
    Raw,
    Seq,
    Subscript,
    chain,
    const_str,
    expr_text,
    iter_calls,
    walk,
)
from analyzers.resolve import ClassRef, ModelBuilder

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")

# Calls that end a query chain and return every row.
COLLECTION_TERMINALS = frozenset({"all", "fetchall"})
# Calls that return one row (or one value): a chain ending here is not a collection.
ITEM_ACCESSORS = frozenset({
    "first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none", "get", "get_or_404",
    "first_or_404", "one_or_404", "get_one", "fetchone", "count", "exists", "model_validate", "from_orm",
})
PAGINATORS = frozenset({"paginate", "apaginate"})
# Helpers that read the page arguments from the request (flask-paginate).
PAGE_HELPERS = frozenset({"get_page_args", "get_page_parameter", "get_per_page_parameter"})
# Builtins that turn an iterable into a JSON array.
LIST_BUILDERS = frozenset({"list", "sorted", "tuple", "set"})
# Calls that wrap the response body: what they return is what their first argument is.
RESPONSE_WRAPPERS = frozenset({"jsonify", "make_response", "JSONResponse", "ORJSONResponse", "UJSONResponse"})
# Keys of a response envelope that carry the collection.
ENVELOPE_KEYS = frozenset({"items", "results", "data", "records", "entries", "objects", "rows", "content"})
# Reading a query-string argument from the request object (Flask, Starlette).
REQUEST_GETTERS = frozenset({
    "request.args.get", "request.args.getlist", "request.values.get", "request.query_params.get",
    "request.query_params.getlist",
})
REQUEST_MAPPINGS = frozenset({"request.args", "request.values", "request.query_params"})

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUERY_SEGMENT = re.compile(r"(^|\.)query($|\.)")
_REQUEST_ARG_TEXT = re.compile(r"request\.(?:args|values|query_params)\.get(?:list)?\(\s*['\"]([A-Za-z_][\w-]*)['\"]")
_QUOTED = re.compile(r"^[rRbBfFuU]*(\"\"\"|'''|\"|')(.*)\1$", re.DOTALL)
_AUTH_WORDS = re.compile(r"auth|current_(active_)?user|require|login|permission|oauth|bearer|jwt|api_?key|"
                         r"credential|verify_token|get_user|admin|role", re.IGNORECASE)
_RATE_LIMIT_WORDS = re.compile(r"limiter|rate_?limit|throttl", re.IGNORECASE)
_HTTP_STATUS_NAME = re.compile(r"HTTP_(\d{3})")
_COMPREHENSION_SOURCE = re.compile(r"\bin\s+([A-Za-z_][\w.]*)\s*(?:\]|\}|\bif\b)")
_MAX_DEPTH = 6
_MAX_HELPERS = 24


# --------------------------------------------------------------------------------------------- positions


def point(path: str, position: Position) -> Location:
    return Location(path, Span(position, position))


def within(inner: Span, outer: Span) -> bool:
    return (outer.start.line, outer.start.column) <= (inner.start.line, inner.start.column) and (
        inner.end.line, inner.end.column) <= (outer.end.line, outer.end.column)


# --------------------------------------------------------------------------------------------- scopes and names


def scope_of(fn: Function) -> str:
    """The scope a function's decorators run in: the enclosing function's qualname, or "" at module level."""
    head, separator, _ = fn.qualname.rpartition(".<locals>.")
    return head if separator else ""


def object_id(module: str, scope: str, name: str) -> str:
    """A stable id for a variable `name` bound in `scope` ("" = module level) of `module`."""
    return f"{module}.{scope}.<locals>.{name}" if scope else f"{module}.{name}"


def enclosing_scopes(scope: str) -> list[str]:
    """`scope` and the scopes around it, innermost first, ending with the module scope ""."""
    scopes: list[str] = []
    current = scope
    while current:
        scopes.append(current)
        head, separator, _ = current.rpartition(".<locals>.")
        current = head if separator else ""
    scopes.append("")
    return scopes


def scoped_assigns(module: Module) -> Iterator[tuple[str, Assign]]:
    """Every assignment at module level and in function bodies, with the scope it binds in."""
    for assign in module.assigns:
        yield "", assign
    for fn in module.functions:
        for assign in fn.assigns:
            yield fn.qualname, assign


def scoped_calls(module: Module) -> Iterator[tuple[str, Call]]:
    """Every outermost call at module level and in function bodies, with its scope."""
    for call in module.calls:
        yield "", call
    for fn in module.functions:
        for call in fn.calls:
            yield fn.qualname, call


def callee(call: Call) -> str:
    """The last name of what a call calls: `router.get` → "get", `db.query(X).all` → "all"."""
    if isinstance(call.func, Name):
        return call.func.dotted.rsplit(".", 1)[-1]
    if isinstance(call.func, Attr):
        return call.func.attr
    return ""


def receiver(call: Call) -> str | None:
    """The dotted name a method is called on: `app.include_router(...)` → "app"; None when not a plain name."""
    if isinstance(call.func, Name) and "." in call.func.dotted:
        return call.func.dotted.rsplit(".", 1)[0]
    return None


def call_argument(call: Call, index: int, keyword: str) -> Expr | None:
    """A call's argument given positionally at `index` or by `keyword`."""
    value = call.kwarg(keyword)
    if value is not None:
        return value
    return call.args[index] if len(call.args) > index else None


def string_of(expr: Expr | None) -> str | None:
    """A constant string, or an f-string's text without its quotes (paths like f"{PREFIX}/orders")."""
    if isinstance(expr, FString):
        match = _QUOTED.match(expr.text)
        return match.group(2) if match else expr.text
    return const_str(expr)


def path_text(module: Module, expr: Expr | None) -> str | None:
    """A path or prefix as far as the file tells: a string, a module-level string constant, or the expression
    in braces (`{settings.API_V1_STR}`) so messages still show where the path comes from."""
    text = string_of(expr)
    if text is not None or expr is None:
        return text
    if isinstance(expr, Name):
        for assign in reversed(module.assigns):
            if expr.dotted in assign.targets and const_str(assign.value) is not None:
                return const_str(assign.value)
    if isinstance(expr, BinOp) and expr.op == "+":  # `task_instances_prefix + "/{task_id}"` (Airflow)
        left, right = path_text(module, expr.left), path_text(module, expr.right)
        return left + right if left is not None and right is not None else None
    # `app.config["AUTH_URL_PREFIX"]` (FlaskBB): unreadable here, but there is a prefix, and rules must know
    return "{" + expr_text(expr) + "}" if isinstance(expr, (Name, Attr, Subscript)) else None


def strings_of(expr: Expr | None) -> tuple[str, ...]:
    """The constant strings of a list/tuple/set literal, or of a single string."""
    if isinstance(expr, Seq):
        return tuple(value for value in (const_str(item) for item in expr.items) if value is not None)
    single = const_str(expr)
    return (single,) if single is not None else ()


def items_of(expr: Expr | None) -> tuple[Expr, ...]:
    return expr.items if isinstance(expr, Seq) and expr.kind != "dict" else ()


class ObjectNames:
    """Resolves a name written in a module to one of the `known` objects (apps, routers, blueprints)."""

    def __init__(self, builder: ModelBuilder, known: Mapping[str, Any]) -> None:
        self.builder = builder
        self.known = known

    def find(self, module: Module, scope: str, dotted: str) -> str | None:
        for candidate_scope in enclosing_scopes(scope):
            candidate = object_id(module.module, candidate_scope, dotted)
            if candidate in self.known:
                return candidate
            # A router imported inside the function that mounts it (a lazy import against an import cycle).
            function = self._function(module, candidate_scope)
            local = function.resolve(dotted) if function is not None else None
            if local is not None:
                return self.follow(local)
        return self.follow(module.resolve(dotted))

    def _function(self, module: Module, qualname: str) -> Function | None:
        if not qualname:
            return None
        return next((function for function in module.functions if function.qualname == qualname), None)

    def follow(self, qualified: str) -> str | None:
        """Follow re-exports (`from .orders import router` in a package `__init__`) to a known object."""
        seen: set[str] = set()
        while qualified not in seen:
            seen.add(qualified)
            if qualified in self.known:
                return qualified
            module_name, _, name = qualified.rpartition(".")
            module = self.builder.modules.get(module_name)
            if module is None or name not in module.imports:
                return None
            qualified = module.imports[name]
        return None


# --------------------------------------------------------------------------------------------- callables


@dataclass(slots=True)
class Found:
    """What a name refers to: a function, a class, an instance of a class, or something outside the workspace."""

    kind: Literal["function", "class", "instance", "external"]
    qualified: str
    module: Module | None = None
    function: Function | None = None
    ref: ClassRef | None = None


class Callables:
    """Finds functions, classes and instances by name across modules (through imports and re-exports)."""

    def __init__(self, builder: ModelBuilder) -> None:
        self.builder = builder
        self._functions: dict[str, dict[str, Function]] = {}
        # Every endpoint asks again for the same dependencies and type aliases. The answers read only the
        # builder's modules, fixed for its life; modules are keyed by identity (two files may declare one module
        # name), which the facts keep unique while the builder lives. Shared answers: do not change them.
        self._found: dict[tuple[int, str], Found | None] = {}
        self._aliases: dict[tuple[int, str], tuple[Module, Expr] | None] = {}

    def functions_of(self, module: Module) -> dict[str, Function]:
        found = self._functions.get(module.module)
        if found is None:
            found = {fn.name: fn for fn in module.top_level_functions()}
            self._functions[module.module] = found
        return found

    def find(self, module: Module, dotted: str) -> Found | None:
        key = (id(module), dotted)
        if key not in self._found:
            self._found[key] = self._find(module, dotted)
        return self._found[key]

    def _find(self, module: Module, dotted: str) -> Found | None:
        local = self._in_module(module, dotted)
        if local is not None:
            return local
        qualified = module.resolve(dotted)
        seen: set[str] = set()
        while qualified not in seen:
            seen.add(qualified)
            module_name, _, name = qualified.rpartition(".")
            target = self.builder.modules.get(module_name)
            if target is None:
                ref = self.builder.lookup(qualified)
                return Found("class", qualified, ref.module, ref=ref) if ref else Found("external", qualified)
            found = self._in_module(target, name)
            if found is not None:
                return found
            if name not in target.imports:
                return None
            qualified = target.imports[name]
        return None

    def _in_module(self, module: Module, name: str) -> Found | None:
        qualified = f"{module.module}.{name}"
        fn = self.functions_of(module).get(name)
        if fn is not None:
            return Found("function", qualified, module, function=fn)
        ref = self.builder.lookup(qualified)
        if ref is not None and ref.module is module:
            return Found("class", ref.qualified, ref.module, ref=ref)
        for assign in reversed(module.assigns):
            if name in assign.targets and isinstance(assign.value, Call) and isinstance(assign.value.func, Name):
                cls = self.builder.resolve_class(module, assign.value.func)
                if cls is not None:
                    return Found("instance", qualified, cls.module, ref=cls)
                return Found("external", module.resolve(assign.value.func.dotted), module)
        return None

    def alias(self, module: Module, dotted: str) -> tuple[Module, Expr] | None:
        """A module-level type alias (`SessionDep = Annotated[Session, Depends(get_db)]`) and its module."""
        key = (id(module), dotted)
        if key not in self._aliases:
            self._aliases[key] = self._alias(module, dotted)
        return self._aliases[key]

    def _alias(self, module: Module, dotted: str) -> tuple[Module, Expr] | None:
        current, name = module, dotted
        seen: set[str] = set()
        while f"{current.module}.{name}" not in seen:
            seen.add(f"{current.module}.{name}")
            for assign in reversed(current.assigns):
                if name in assign.targets and isinstance(assign.value, Subscript):
                    return current, assign.value
            qualified = current.resolve(name)
            module_name, _, name = qualified.rpartition(".")
            target = self.builder.modules.get(module_name)
            if target is None:
                return None
            current = target
        return None

    def method(self, ref: ClassRef, name: str) -> tuple[ClassRef, Function] | None:
        """A method of a class or of its nearest base class in the workspace that defines it."""
        for current in [ref, *self.builder.ancestors(ref)]:
            for fn in current.cls.methods:
                if fn.name == name:
                    return current, fn
        return None


def class_fields(builder: ModelBuilder, ref: ClassRef, annotated_only: bool = True) -> list[tuple[Module, Assign]]:
    """Fields declared in a class body and its bases (dataclass, Pydantic, marshmallow), nearest first, each once."""
    fields: list[tuple[Module, Assign]] = []
    seen: set[str] = set()
    for current in [ref, *builder.ancestors(ref)]:
        for assign in current.cls.assigns:
            if len(assign.targets) != 1:
                continue
            name = assign.targets[0]
            if name in seen or name.startswith("_") or "." in name or name in ("model_config", "Meta", "Config"):
                continue
            if assign.annotation is None and (annotated_only or not isinstance(assign.value, Call)):
                continue
            if assign.annotation is not None and expr_text(assign.annotation).startswith(("ClassVar",
                                                                                          "typing.ClassVar")):
                continue
            seen.add(name)
            fields.append((current.module, assign))
    return fields


def field_param(assign: Assign) -> Param:
    """A class field seen as the keyword parameter it becomes in the generated `__init__`."""
    return Param(assign.targets[0], assign.annotation, assign.value, "keyword_only", assign.span)


# --------------------------------------------------------------------------------------------- expressions


def names_in(expr: Expr | None) -> set[str]:
    """The first segment of every name an expression mentions (`page.offset` → "page")."""
    found: set[str] = set()
    for current in walk(expr):
        if isinstance(current, Name):
            found.add(current.dotted.split(".", 1)[0])
        elif isinstance(current, (Raw, FString)):
            found.update(_IDENTIFIER.findall(current.text))
    return found


def function_exprs(fn: Function) -> Iterator[Expr]:
    """The top-level expressions of a function body: its calls, and the assigned and returned values that are
    not themselves one of those calls."""
    yield from fn.calls
    for value in [assign.value for assign in fn.assigns] + fn.returns_values:
        if value is not None and not isinstance(value, Call):
            yield value


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------- handler bodies


@dataclass(slots=True)
class BodyFacts:
    """What a handler's body tells about its response, independent of the framework."""

    returns: ReturnKind = "unknown"
    returns_detail: str | None = None
    pagination: list[str] = field(default_factory=list)
    hard_cap: str | None = None
    queries: list[QueryCall] = field(default_factory=list)
    # Query-string arguments the body reads from the request (`request.args.get("page")`).
    query_parameters: list[Parameter] = field(default_factory=list)
    # Functions the body calls by name (`get_page()`, `utils.page_args()`), as written: the resolver can look
    # for request arguments read there.
    helper_calls: tuple[str, ...] = ()
    # Every return is a list fixed in code (constants, an Enum's members) and nothing is queried: the
    # response cannot grow with the data, whatever the declared type says.
    fixed: bool = False
    # Names the body clamps to a maximum (`limit = min(limit, 100)`, `paginate(per_page=n, max_per_page=50)`),
    # with the bound as written.
    clamps: dict[str, str] = field(default_factory=dict)
    # Every return sends the client elsewhere (`return RedirectResponse(...)`): the body is no collection,
    # whatever the declared response model says (a legacy path kept for old clients).
    redirects: bool = False


# Calls that answer with a redirect (Flask, Django, Starlette/FastAPI).
REDIRECT_CALLS = frozenset({"RedirectResponse", "redirect", "HttpResponseRedirect", "HttpResponsePermanentRedirect"})


def analyze_body(module: Module, fn: Function, path: str) -> BodyFacts:
    return _Body(module, fn, path).facts()


def request_arguments(module: Module, fn: Function) -> list[Parameter]:
    """The query-string arguments a function reads from the request (for helpers a view calls)."""
    return _Body(module, fn, module.path).scan()[1]


class _Body:
    def __init__(self, module: Module, fn: Function, path: str) -> None:
        self.module = module
        self.fn = fn
        self.path = path
        self.values: dict[str, list[Expr]] = {}
        for assign in fn.assigns:
            if assign.value is not None:
                for target in assign.targets:
                    self.values.setdefault(target, []).append(assign.value)
        # What a local list or dict receives after it is created (`users.append(row)` in a loop).
        self.grown: dict[str, list[Expr]] = {}
        for call in fn.calls:
            if isinstance(call.func, Name) and call.func.dotted.count(".") == 1:
                name, method = call.func.dotted.split(".")
                if method in ("append", "extend", "insert", "add", "update"):
                    self.grown.setdefault(name, []).extend([*call.args, *(value for _, value in call.kwargs)])
        self.client = self._client_names()
        self.paged_by_client: list[str] = []
        self.caps: list[str] = []

    def facts(self) -> BodyFacts:
        queries = self.queries()
        returns, detail = self.return_kind()
        evidence, arguments, helpers = self.scan()
        pagination = evidence + self.paged_by_client
        cap = None
        if not any(query.kind == "paged" for query in queries) and not pagination and self.caps:
            cap = self.caps[0]
        fixed = not queries and bool(self.fn.returns_values) and all(
            value is not None and self.fixed_value(value, 0) for value in self.fn.returns_values)
        if fixed and returns == "collection":
            returns, detail = "unknown", "a list fixed in code"
        redirects = bool(self.fn.returns_values) and all(
            isinstance(value, Call) and callee(value) in REDIRECT_CALLS for value in self.fn.returns_values)
        clamps = {**helper_clamps(self.module, self.fn), **body_clamps(self.fn)}
        return BodyFacts(returns, detail, list(dict.fromkeys(pagination)), cap, queries, arguments, helpers, fixed,
                         clamps, redirects)

    def fixed_value(self, expr: Expr, depth: int) -> bool:
        """Constants, literals of constants, ALL_CAPS module constants, and lists built from them or from an
        Enum class (`[role.value for role in Role]`, `list(Currency)`)."""
        if depth > _MAX_DEPTH:
            return False
        if isinstance(expr, Const):
            return True
        if isinstance(expr, Seq):
            return all(self.fixed_value(item, depth + 1) for item in (*expr.items, *expr.keys))
        if isinstance(expr, Name):
            if expr.dotted in self.values:
                # `users = []` filled by `users.append(...)` in a loop is only as fixed as what it receives
                values = [*self.values[expr.dotted], *self.grown.get(expr.dotted, [])]
                return all(self.fixed_value(value, depth + 1) for value in values)
            return _is_constant_name(expr.dotted)
        if isinstance(expr, Raw) and expr.kind in ("list_comprehension", "set_comprehension"):
            source = _COMPREHENSION_SOURCE.search(expr.text)
            return source is not None and (
                _is_constant_name(source.group(1)) or source.group(1).rsplit(".", 1)[-1][:1].isupper())
        if isinstance(expr, Call) and callee(expr) in RESPONSE_WRAPPERS:
            wrapped = [*expr.args[:1], *(value for _, value in expr.kwargs)]
            return bool(wrapped) and all(self.fixed_value(value, depth + 1) for value in wrapped)
        if isinstance(expr, Call) and isinstance(expr.func, Name) and expr.func.dotted in LIST_BUILDERS:
            argument = expr.args[0] if len(expr.args) == 1 else None
            return isinstance(argument, Name) and argument.dotted.rsplit(".", 1)[-1][:1].isupper() or (
                argument is not None and self.fixed_value(argument, depth + 1))
        return False

    # ---- where values come from

    def _client_names(self) -> set[str]:
        """Names whose value the client controls: the parameters, the request, and locals computed from them."""
        names = {param.name for param in self.fn.params if param.name not in ("self", "cls")} | {"request"}
        for _ in range(_MAX_DEPTH):
            grown = {name for name, values in self.values.items()
                     if name not in names and any(names_in(value) & names for value in values)}
            if not grown:
                break
            names |= grown
        return names

    def _client_driven(self, exprs: Iterable[Expr]) -> bool:
        return any(names_in(expr) & self.client for expr in exprs)

    def _related(self, expr: Expr) -> list[Call]:
        """The calls in `expr` and in the local variables it uses (a statement built over several lines)."""
        calls = list(iter_calls(expr))
        pending = list(names_in(expr))
        seen: set[str] = set()
        while pending:
            name = pending.pop()
            if name in seen or name not in self.values:
                continue
            seen.add(name)
            for value in self.values[name]:
                calls.extend(iter_calls(value))
                pending.extend(names_in(value))
        return calls

    # ---- queries

    def queries(self) -> list[QueryCall]:
        found: list[QueryCall] = []
        consumed: list[Span] = []
        for outer in self.fn.calls:
            for call in iter_calls(outer):
                if any(within(call.span, span) for span in consumed):
                    continue
                name = callee(call)
                if name in ITEM_ACCESSORS:
                    consumed.append(call.span)
                elif name in COLLECTION_TERMINALS or name in PAGINATORS or name == "scalars":
                    consumed.append(call.span)
                    found.append(self._query(call, name))
        return found

    def _query(self, call: Call, name: str) -> QueryCall:
        related = self._related(call)
        paged = name in PAGINATORS
        cap: str | None = None
        for inner in related:
            method = callee(inner)
            arguments = list(inner.args) + [value for _, value in inner.kwargs]
            if method in PAGINATORS:
                paged = True
            elif method in ("offset", "limit", "slice") and arguments:
                if self._client_driven(arguments):
                    paged = True
                    if method in ("offset", "slice"):
                        shown = ", ".join(expr_text(argument) for argument in arguments)
                        self.paged_by_client.append(f".{method}({_short(shown, 60)}) from request values")
                elif method in ("limit", "slice"):
                    cap = cap or f"{method}({', '.join(expr_text(argument) for argument in arguments)})"
        if cap and not paged:
            self.caps.append(cap)
        kind: Literal["all", "paged", "capped"] = "paged" if paged else "capped" if cap else "all"
        return QueryCall(_short(expr_text(call)), Location(self.path, call.span), kind,
                         self._insert_anchor(call, name, related), "sqlalchemy")

    def _insert_anchor(self, call: Call, name: str, related: list[Call]) -> Location | None:
        """Where `.offset(offset).limit(limit)` pages the query: after `select(...)`, or before `.all()`."""
        select = next((inner for inner in related if isinstance(inner.func, Name)
                       and inner.func.dotted.rsplit(".", 1)[-1] == "select"), None)
        if select is not None:
            return point(self.path, select.span.end)
        if name != "all":
            return None
        query_style = any(_QUERY_SEGMENT.search(part) for inner in [call, *related] for part in chain(inner))
        if not query_style:
            return None
        func = call.func
        if isinstance(func, Attr):
            return point(self.path, func.value.span.end)
        if isinstance(func, Name):  # `Order.query.all` is one dotted name: stop before its last segment
            span = func.span
            if span.start.line == span.end.line and span.end.column - span.start.column == len(func.dotted):
                return point(self.path, Position(span.end.line, span.end.column - len(".all")))
        return None

    # ---- what it returns

    def return_kind(self) -> tuple[ReturnKind, str | None]:
        kinds = [self.value_kind(value, 0) if value is not None else ("none", None)
                 for value in self.fn.returns_values]
        if not kinds:
            return "none", None
        for kind, detail in kinds:
            if kind == "collection":
                return kind, detail
        if all(kind in ("item", "none") for kind, _ in kinds):
            item = next((detail for kind, detail in kinds if kind == "item"), None)
            return ("item", item) if any(kind == "item" for kind, _ in kinds) else ("none", None)
        return "unknown", None

    def value_kind(self, expr: Expr, depth: int) -> tuple[ReturnKind, str | None]:
        if depth > _MAX_DEPTH:
            return "unknown", None
        if isinstance(expr, Const):
            return ("none", None) if expr.value is None else ("item", None)
        if isinstance(expr, FString):
            return "item", None
        if isinstance(expr, Seq):
            return self._sequence_kind(expr, depth)
        if isinstance(expr, Raw):
            if expr.kind in ("list_comprehension", "set_comprehension", "generator_expression"):
                return "collection", "list comprehension"
            if expr.kind == "dictionary_comprehension":
                return "item", None
            return "unknown", None
        if isinstance(expr, Name):
            return self._name_kind(expr, depth)
        if isinstance(expr, Subscript):
            if any(isinstance(index, Raw) and index.kind == "slice" for index in expr.index):
                self._note_slice(expr)
                return self.value_kind(expr.value, depth + 1)
            return "unknown", None
        if isinstance(expr, Call):
            return self._call_kind(expr, depth)
        return "unknown", None

    def _sequence_kind(self, expr: Seq, depth: int) -> tuple[ReturnKind, str | None]:
        if expr.kind in ("list", "set"):
            return "collection", "list"
        if expr.kind == "tuple":
            # (body, status) or (body, status, headers): a Flask response tuple
            if 2 <= len(expr.items) <= 3 and isinstance(expr.items[1], (Const, Name, Attr)):
                return self.value_kind(expr.items[0], depth + 1)
            return "collection", "tuple"
        return self._envelope_kind(expr, depth)

    def _envelope_kind(self, expr: Seq, depth: int) -> tuple[ReturnKind, str | None]:
        """A dict whose collection sits under `items`/`results`/... (or is its only entry) is a collection."""
        for key, value in zip(expr.keys, expr.items, strict=False):
            name = const_str(key)
            if name is None or (name not in ENVELOPE_KEYS and len(expr.items) > 1):
                continue
            kind, detail = self.value_kind(value, depth + 1)
            if kind == "collection":
                return "collection", f'{{"{name}": {detail or "[...]"}}}'
        return "item", None

    def _name_kind(self, expr: Name, depth: int) -> tuple[ReturnKind, str | None]:
        values = self.values.get(expr.dotted)
        if not values:
            return "unknown", None
        kinds = [self.value_kind(value, depth + 1) for value in values]
        for kind, detail in kinds:
            if kind == "collection":
                return kind, detail
        return kinds[-1]

    def _call_kind(self, call: Call, depth: int) -> tuple[ReturnKind, str | None]:
        name = callee(call)
        func = call.func.dotted if isinstance(call.func, Name) else ""
        if name in COLLECTION_TERMINALS or name == "scalars" or name in PAGINATORS:
            return "collection", _short(expr_text(call), 60)
        if name in ITEM_ACCESSORS:
            return "item", None
        if func in LIST_BUILDERS:
            return "collection", f"{func}(...)"
        if name in RESPONSE_WRAPPERS:
            content = call_argument(call, 0, "content")
            if content is not None:
                return self.value_kind(content, depth + 1)
            if call.kwargs:  # jsonify(items=[...], total=3)
                keys = tuple(Const(value.span, key) for key, value in call.kwargs)
                return self._envelope_kind(Seq(call.span, "dict", tuple(v for _, v in call.kwargs), keys), depth)
            return "unknown", None
        if name == "dump":
            # Dumping a collection needs many=True wherever the schema was built, so the result is one too.
            dumped = self.value_kind(call.args[0], depth + 1)[0] if call.args else "unknown"
            if self._dumps_many(call) or dumped == "collection":
                return "collection", f"{_short(expr_text(call.func), 60)}(...)"
            return "item", None
        return "unknown", None

    def _dumps_many(self, call: Call) -> bool:
        """`Schema(many=True).dump(x)`, `schema.dump(x, many=True)`, or a schema variable built with many=True."""
        if _many(call):
            return True
        func = call.func
        if isinstance(func, Attr) and isinstance(func.value, Call):
            return _many(func.value)
        if isinstance(func, Name) and "." in func.dotted:
            holder = func.dotted.rsplit(".", 1)[0]
            values = self.values.get(holder) or [
                assign.value for assign in self.module.assigns if holder in assign.targets and assign.value]
            return any(isinstance(value, Call) and _many(value) for value in values)
        return False

    def _note_slice(self, expr: Subscript) -> None:
        """A returned slice with constant bounds (`rows[:20]`) caps the response."""
        bounds = _slice_bounds(expr)
        if bounds and not self._client_driven(bounds) and re.fullmatch(r"[\s\d:]*", bounds[0].text):
            self.caps.append(f"[{bounds[0].text}]")

    # ---- evidence

    def scan(self) -> tuple[list[str], list[Parameter], tuple[str, ...]]:
        """One pass over the body's expressions: pagination evidence (paginator calls, slices by request
        values), the query-string arguments read from the request, and the functions called by name."""
        evidence: list[str] = []
        arguments: dict[str, Parameter] = {}
        helpers: dict[str, None] = {}
        for expr in function_exprs(self.fn):
            for current in walk(expr):
                if isinstance(current, Call):
                    name = callee(current)
                    if name in PAGINATORS or name in PAGE_HELPERS:
                        evidence.append(f"{_short(expr_text(current.func), 60)}() call")
                    self._request_argument(current, arguments)
                    if isinstance(current.func, Name) and not current.func.dotted.startswith("request."):
                        helpers[current.func.dotted] = None
                elif isinstance(current, Subscript):
                    self._subscript(current, evidence, arguments)
                elif isinstance(current, Raw):
                    if "paginate(" in current.text and re.search(r"\bpaginate\(", current.text):
                        evidence.append("paginate() call")
                    if "request." in current.text:
                        for key in _REQUEST_ARG_TEXT.findall(current.text):
                            arguments.setdefault(key, Parameter(key, "query",
                                                                location=Location(self.path, current.span)))
        return evidence, list(arguments.values()), tuple(helpers)[:_MAX_HELPERS]

    def _subscript(self, expr: Subscript, evidence: list[str], arguments: dict[str, Parameter]) -> None:
        if isinstance(expr.value, Name) and expr.value.dotted in REQUEST_MAPPINGS:  # request.args["page"]
            key = const_str(expr.index[0]) if expr.index else None
            if key is not None:
                arguments.setdefault(key, Parameter(key, "query", location=Location(self.path, expr.span)))
        bounds = _slice_bounds(expr)
        if bounds and self._client_driven(bounds):
            evidence.append(f"slice [{bounds[0].text}] from request values")
        elif bounds and isinstance(expr.value, Call) and callee(expr.value) in COLLECTION_TERMINALS:
            self._note_slice(expr)

    def _request_argument(self, call: Call, arguments: dict[str, Parameter]) -> None:
        """`request.args.get("page", 1, type=int)` → the query parameter "page"."""
        if not isinstance(call.func, Name) or call.func.dotted not in REQUEST_GETTERS or not call.args:
            return
        key = const_str(call.args[0])
        default = call.args[1] if len(call.args) > 1 else call.kwarg("default")
        if key is not None and key not in arguments:
            arguments[key] = Parameter(key, "query", None, expr_text(default) if default is not None else None,
                                       Location(self.path, call.span))


def helper_clamps(module: Module, fn: Function) -> dict[str, str]:
    """Names `fn` hands to a function of its own module that bounds the parameter receiving them
    (`build_page(stmt, limit=limit)` where `build_page` does `min(limit, MAX_LIMIT)`). One level deep."""
    helpers = {helper.name: helper for helper in module.top_level_functions() if helper is not fn}
    clamps: dict[str, str] = {}
    for expr in function_exprs(fn):
        for call in iter_calls(expr):
            helper = helpers.get(call.func.dotted) if isinstance(call.func, Name) else None
            bounded = body_clamps(helper) if helper is not None else {}
            if helper is None or not bounded:
                continue
            for index, param in enumerate(helper.params):
                argument = call_argument(call, index, param.name) if param.kind == "positional" else \
                    call.kwarg(param.name)
                if isinstance(argument, Name) and "." not in argument.dotted and param.name in bounded:
                    clamps.setdefault(argument.dotted, bounded[param.name])
    return clamps


def body_clamps(fn: Function) -> dict[str, str]:
    """Names a function bounds from above: `min(x, 100)` (in an assignment or inline), `x = 100` (the usual
    `if x > 100: x = 100`), a guard that rejects larger values (`if x > 100: raise ...`), and
    `paginate(per_page=x)`, which Flask-SQLAlchemy caps (`max_per_page`, 100 by default). A request argument
    read inside the `min(...)` or the guard is bounded under its own name too."""
    clamps: dict[str, str] = {}
    computed: dict[str, int] = {}  # name -> the line where it first gets a value that is not a constant
    for assign in sorted(fn.assigns, key=lambda item: (item.span.start.line, item.span.start.column)):
        target = assign.targets[0] if len(assign.targets) == 1 else ""
        constant = isinstance(assign.value, Const) and isinstance(assign.value.value, int) and \
            not isinstance(assign.value.value, bool)
        if target and not constant:
            computed.setdefault(target, assign.span.start.line)
        elif target and (any(param.name == target for param in fn.params) or target in computed):
            clamps.setdefault(target, expr_text(assign.value))  # `if limit > 100: limit = 100`
        for call in iter_calls(assign.value):
            bound = _min_bound(call)
            if bound is not None and target and "." not in target:
                clamps.setdefault(target, bound)
    for expr in function_exprs(fn):
        for call in iter_calls(expr):
            bound = _min_bound(call)
            if bound is not None:
                for argument in call.args:
                    for name in names_in(argument) - {"request", "int", "min", "max"}:
                        clamps.setdefault(name, bound)
                    for inner in iter_calls(argument):
                        if isinstance(inner.func, Name) and inner.func.dotted in REQUEST_GETTERS and inner.args:
                            key = const_str(inner.args[0])
                            if key is not None:
                                clamps.setdefault(key, bound)
            elif callee(call) == "paginate":
                per_page = call.kwarg("per_page")
                maximum = call.kwarg("max_per_page")
                if per_page is not None and not (isinstance(maximum, Const) and maximum.value is None):
                    bound = expr_text(maximum) if maximum is not None else "100 (paginate's max_per_page)"
                    for name in names_in(per_page) - {"request", "int"}:
                        clamps.setdefault(name, bound)
    for name, bound in guard_bounds(fn):
        clamps.setdefault(name, bound)
    for assign in fn.assigns:  # `n = request.args.get("limit")` clamped as `n`: the query argument is bounded
        if len(assign.targets) == 1 and assign.targets[0] in clamps:
            for inner in iter_calls(assign.value):
                if isinstance(inner.func, Name) and inner.func.dotted in REQUEST_GETTERS and inner.args:
                    key = const_str(inner.args[0])
                    if key is not None:
                        clamps.setdefault(key, clamps[assign.targets[0]])
    return clamps


def guard_bounds(fn: Function) -> Iterator[tuple[str, str]]:
    """(name, bound) for each `if name > bound:` (or `>=`, or `bound < name`) whose block raises or calls
    `abort(...)`: larger values never get past it. A request argument compared directly
    (`if request.args.get("limit", type=int) > 100:`) is bounded under its own name."""
    for condition in fn.conditions:
        if not condition.raises and not any(
                callee(call) == "abort" and within(call.span, condition.body) for call in fn.calls):
            continue
        for comparison in condition.comparisons:
            if comparison.op in (">", ">="):
                subject, bound = comparison.left, comparison.right
            elif comparison.op in ("<", "<="):
                subject, bound = comparison.right, comparison.left
            else:
                continue
            name = _guarded_name(subject)
            if name is None or name in names_in(bound) or isinstance(bound, FString) or (
                    isinstance(bound, Const) and not isinstance(bound.value, (int, float))):
                continue  # `x > x_min`, `x > None`, `x > "a"`: not a bound on x
            yield name, expr_text(bound)


def _guarded_name(subject: Expr) -> str | None:
    """The value a guard compares: a local name, possibly converted (`int(limit)`), or a request argument."""
    if isinstance(subject, Call) and isinstance(subject.func, Name) and subject.func.dotted in ("int", "float") \
            and len(subject.args) == 1:
        subject = subject.args[0]
    if isinstance(subject, Name) and "." not in subject.dotted:
        return subject.dotted
    if isinstance(subject, Call) and isinstance(subject.func, Name) and subject.func.dotted in REQUEST_GETTERS \
            and subject.args:
        return const_str(subject.args[0])
    return None


def _min_bound(call: Call) -> str | None:
    """`min(x, 100)` → "100": the constant (or ALL_CAPS name) a `min` caps its other arguments with."""
    if not isinstance(call.func, Name) or call.func.dotted != "min" or len(call.args) < 2:
        return None
    for argument in call.args:
        if isinstance(argument, Const) and isinstance(argument.value, int) and not isinstance(argument.value, bool):
            return str(argument.value)
        if isinstance(argument, (Name, Attr)) and _is_constant_name(expr_text(argument)):
            return expr_text(argument)
    return None


def _slice_bounds(expr: Subscript) -> list[Raw]:
    return [index for index in expr.index if isinstance(index, Raw) and index.kind == "slice"]


def _is_constant_name(dotted: str) -> bool:
    last = dotted.rsplit(".", 1)[-1]
    return last.isupper() and any(char.isalpha() for char in last)


def _many(call: Call) -> bool:
    value = call.kwarg("many")
    return isinstance(value, Const) and value.value is True


# --------------------------------------------------------------------------------------------- small helpers


@lru_cache(maxsize=4096)  # a pure function of the name; every handler's `db`/`get_db` asks again
def looks_like_auth(name: str) -> bool:
    """Dependency or decorator names that mean authentication or authorisation (not FastAPI's
    `OAuth2PasswordRequestForm`: that is the login form the credentials arrive in)."""
    if "RequestForm" in name:
        return False
    return _AUTH_WORDS.search(name) is not None


@lru_cache(maxsize=4096)
def looks_like_rate_limit(name: str) -> bool:
    return _RATE_LIMIT_WORDS.search(name) is not None


def status_of(expr: Expr | None) -> int | None:
    """`201`, `status.HTTP_201_CREATED` or the standard library's `HTTPStatus.CREATED` → 201."""
    if isinstance(expr, Const) and isinstance(expr.value, int) and not isinstance(expr.value, bool):
        return expr.value
    if isinstance(expr, Name):
        match = _HTTP_STATUS_NAME.search(expr.dotted)
        if match:
            return int(match.group(1))
        owner, _, member = expr.dotted.rpartition(".")
        if owner.rsplit(".", 1)[-1] == "HTTPStatus" and member in HTTPStatus.__members__:
            return int(HTTPStatus[member])
    return None


def class_of(builder: ModelBuilder, module: Module, expr: Expr | None) -> ClassRef | None:
    return builder.resolve_class(module, expr) if isinstance(expr, Name) else None


# Decorators that declare a route or document it (`@admin_router.post`, `@blp.response`): their names say nothing
# about auth or rate limits, even when the router is called `admin` or `auth`.
ROUTE_DECORATORS = frozenset({*HTTP_VERBS, "route", "api_route", "websocket", "arguments", "response", "doc",
                              "paginate", "input", "output", "alt_response", "expect", "marshal_with"})


def auth_decorators(names: Iterable[str]) -> list[str]:
    return [name for name in names if name.rsplit(".", 1)[-1] not in ROUTE_DECORATORS and looks_like_auth(name)]


def rate_limit_decorators(names: Iterable[str]) -> list[str]:
    """Names that put a rate limit on a view (`limiter.limit`, `throttle`), not those that lift one
    (`@limiter.exempt`)."""
    return [name for name in names if name.rsplit(".", 1)[-1] not in ROUTE_DECORATORS
            and not name.endswith(".exempt") and looks_like_rate_limit(name)]


def decorator_names(fn: Function | Class) -> list[str]:
    """Decorators as dotted names (`@login_required`, `@limiter.limit("5/minute")` → "limiter.limit")."""
    names: list[str] = []
    for decorator in fn.decorators:
        target = decorator.func if isinstance(decorator, Call) else decorator
        if isinstance(target, Name):
            names.append(target.dotted)
    return names
