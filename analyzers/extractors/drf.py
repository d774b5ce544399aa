"""Django REST framework and Django views → endpoints, with their routes composed across urls.py files.

Per file, `extract` records view classes (their attributes and what each method's body does), function views,
URL configurations (`path`/`re_path`/`url`, `include(...)`) and routers (`DefaultRouter().register(...)`).
Across files, `resolve` classifies each view by its bases (ViewSet, generic view, APIView, Django view),
walks the URL configurations from the root (`ROOT_URLCONF`) to compose full paths, and records for each
endpoint what it returns and the pagination evidence: the view's `pagination_class`, DRF's global
`DEFAULT_PAGINATION_CLASS` (for generic list views and views that call `paginate_queryset`), paginator calls
in the body, and query parameters such as `page` or `limit` read from the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial

from analyzers.extractors._http import body_clamps
from analyzers.extractors._reuse import UnitFacts, file_context
from analyzers.extractors.django import DjangoNames
from analyzers.facts import SourceFile
from analyzers.model import Endpoint, Location, Parameter, ReturnKind, Span
from analyzers.pysyntax import (
    Attr,
    BinOp,
    Call,
    Class,
    Const,
    Expr,
    Function,
    Module,
    Name,
    Raw,
    Seq,
    Subscript,
    const_str,
    expr_text,
    walk,
)
from analyzers.resolve import ClassRef, ModelBuilder

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
# ViewSet actions: (HTTP method, on the detail route, what it returns)
VIEWSET_ACTIONS: dict[str, tuple[str, bool, ReturnKind]] = {
    "list": ("GET", False, "collection"),
    "create": ("POST", False, "item"),
    "retrieve": ("GET", True, "item"),
    "update": ("PUT", True, "item"),
    "partial_update": ("PATCH", True, "item"),
    "destroy": ("DELETE", True, "none"),
}
# Generic views and mixins → the actions they provide.
ACTIONS_OF = {
    "ListModelMixin": {"list"},
    "CreateModelMixin": {"create"},
    "RetrieveModelMixin": {"retrieve"},
    "UpdateModelMixin": {"update", "partial_update"},
    "DestroyModelMixin": {"destroy"},
    "ModelViewSet": {"list", "create", "retrieve", "update", "partial_update", "destroy"},
    "ReadOnlyModelViewSet": {"list", "retrieve"},
    "ListAPIView": {"list"},
    "ListCreateAPIView": {"list", "create"},
    "CreateAPIView": {"create"},
    "RetrieveAPIView": {"retrieve"},
    "UpdateAPIView": {"update", "partial_update"},
    "DestroyAPIView": {"destroy"},
    "RetrieveUpdateAPIView": {"retrieve", "update", "partial_update"},
    "RetrieveDestroyAPIView": {"retrieve", "destroy"},
    "RetrieveUpdateDestroyAPIView": {"retrieve", "update", "partial_update", "destroy"},
}
# A generic view routed with as_view(): which action serves each HTTP method.
GENERIC_METHOD_ACTIONS = {"get": ("list", "retrieve"), "post": ("create",), "put": ("update",),
                          "patch": ("partial_update",), "delete": ("destroy",)}
PAGINATION_WITH_OWN_SIZE = ("LimitOffsetPagination",)
# Keys of a response envelope that carry the collection.
ENVELOPE_KEYS = frozenset({"items", "results", "data", "records", "entries", "objects", "rows", "content"})
_QUERY_SOURCES = re.compile(r"(^|\.)request\.(query_params|GET)$")
_CONSTANT_SLICE = re.compile(r"^\s*(\d*)\s*:\s*(\d+)\s*$")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# ============================================================================================ records


@dataclass(slots=True)
class BodyFacts:
    """What one handler body does, as far as pagination and the response shape go."""

    returns: ReturnKind = "unknown"
    returns_detail: str | None = None
    pagination: list[str] = field(default_factory=list)  # evidence independent of the view's settings
    uses_paginate_queryset: bool = False  # self.paginate_queryset(...): depends on pagination_class
    delegates_list: bool = False  # super().list(...) / self.list(...): the generic list action
    hard_cap: str | None = None
    query_params: list[tuple[str, Location]] = field(default_factory=list)
    validation: list[str] = field(default_factory=list)
    # Query values the body clamps to a maximum (`limit = min(limit, 100)`), with the bound.
    clamps: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ActionDecl:
    detail: bool
    methods: tuple[str, ...]
    url_path: str | None


@dataclass(slots=True)
class MethodDecl:
    name: str
    location: Location
    body: BodyFacts
    action: ActionDecl | None = None


@dataclass(slots=True)
class ViewClassDecl:
    module: str
    qualname: str
    name: str
    location: Location
    attributes: dict[str, str]  # pagination_class ("None" or a qualified name), lookup_field, ...
    methods: list[MethodDecl]
    queryset_cap: str | None = None


@dataclass(slots=True)
class ViewFunctionDecl:
    module: str
    qualname: str
    name: str
    location: Location
    first_param: str
    api_view: tuple[str, ...] | None  # @api_view([...]) methods, None when not a DRF function view
    allowed: tuple[str, ...] | None  # @require_GET / @require_http_methods([...])
    body: BodyFacts
    auth: list[str]
    params_close: Location | None = None
    rate_limit: list[str] = field(default_factory=list)


@dataclass(slots=True)
class RouteDecl:
    pattern: str
    regex: bool
    kind: str  # "view" | "include" | "router"
    target: str  # qualified view name, module name (include), or the router's qualified name
    location: Location
    class_view: bool = False  # routed with .as_view(...)
    actions: tuple[tuple[str, str], ...] = ()  # as_view({"get": "list"})


@dataclass(slots=True)
class RegistrationDecl:
    router: str  # qualified name of the router variable
    prefix: str
    viewset: str  # qualified name
    location: Location


@dataclass(slots=True)
class RouterDecl:
    name: str  # qualified
    trailing_slash: bool = True


@dataclass(slots=True)
class UrlConfDecl:
    module: str
    path: str
    routes: list[RouteDecl]


# ============================================================================================ extract


def extract(source: SourceFile) -> list[object]:
    module = source.python
    if module is None:
        return []
    uses_django = any(target.startswith(("django", "rest_framework")) for target in module.imports.values())
    records: list[object] = []
    if uses_django:
        records.extend(_routers(module))
        urlconf = _urlconf(module)
        if urlconf is not None:
            records.append(urlconf)
    # a view may import nothing from Django when its base class is the project's own
    context = file_context(module.path, module)
    for cls in module.classes:
        if _maybe_view(module, cls):
            # no source text in the key: `_view_class` reads none
            records.append(_VIEW_CLASSES.get(cls, context, "", partial(_view_class, module, cls)))
    if uses_django:
        for fn in module.top_level_functions():
            view = _view_function(module, fn)
            if view is not None:
                records.append(view)
    return records


# ---- view classes

# The language server extracts an edited file on every keystroke: unchanged classes keep their declarations.
# Valid only while `_view_class` reads nothing of the file but the class and `file_context` (see `_reuse`).
_VIEW_CLASSES: UnitFacts[ViewClassDecl] = UnitFacts()

NOT_VIEW_BASES = ("django.", "rest_framework.", "pydantic", "enum", "typing", "sqlalchemy", "abc")


def _maybe_view(module: Module, cls: Class) -> bool:
    """A class that is (or may be, through a project base class) a view; models and forms are not."""
    bases = [module.resolve(base.dotted) for base in cls.bases if isinstance(base, Name)]
    if any(base.startswith(("rest_framework.", "django.views")) for base in bases):
        return True
    # other bases may be project classes that are views: `resolve` follows them
    return any(not base.startswith(NOT_VIEW_BASES) and base not in ("object", "Exception") for base in bases)


def _view_class(module: Module, cls: Class) -> ViewClassDecl:
    attributes: dict[str, str] = {}
    for name in ("pagination_class", "lookup_field", "lookup_url_kwarg", "serializer_class",
                 "permission_classes", "paginate_by", "page_size", "default_limit", "page_size_query_param",
                 "max_limit", "limit_query_param", "throttle_classes"):
        value = cls.assigned(name)
        if value is not None:
            attributes[name] = _attribute_text(module, value)
    limits = [expr_text(decorator) for decorator in cls.decorators if re.search(r"ratelimit|throttl",
                                                                               expr_text(decorator), re.IGNORECASE)]
    if limits:
        attributes["rate_limit_decorators"] = ", ".join(limits)
    methods = [MethodDecl(fn.name, Location(module.path, fn.name_span), _body(module, fn), _action(module, fn))
               for fn in cls.methods]
    return ViewClassDecl(module.module, cls.qualname, cls.name, Location(module.path, cls.name_span),
                         attributes, methods, _constant_slice(cls.assigned("queryset")))


def _attribute_text(module: Module, value: Expr) -> str:
    if isinstance(value, Const):
        return str(value.value)
    if isinstance(value, Name):
        return module.resolve(value.dotted)
    return expr_text(value)


def _action(module: Module, fn: Function) -> ActionDecl | None:
    for decorator in fn.decorators:
        if isinstance(decorator, Call) and isinstance(decorator.func, Name) and \
                module.resolve(decorator.func.dotted) in ("rest_framework.decorators.action",
                                                          "rest_framework.decorators.detail_route",
                                                          "rest_framework.decorators.list_route"):
            kind = decorator.func.dotted.rsplit(".", 1)[-1]
            detail_expr = decorator.kwarg("detail")
            detail = kind == "detail_route" or (isinstance(detail_expr, Const) and detail_expr.value is True)
            methods = _strings(decorator.kwarg("methods")) or ("get",)
            return ActionDecl(detail, tuple(method.upper() for method in methods),
                              const_str(decorator.kwarg("url_path")))
    return None


def _strings(expr: Expr | None) -> tuple[str, ...]:
    if isinstance(expr, Seq):
        return tuple(text for text in (const_str(item) for item in expr.items) if text)
    return ()


# ---- function views


def _view_function(module: Module, fn: Function) -> ViewFunctionDecl | None:
    api_view: tuple[str, ...] | None = None
    allowed: tuple[str, ...] | None = None
    auth: list[str] = []
    limits: list[str] = []
    for decorator in fn.decorators:
        call = decorator if isinstance(decorator, Call) else None
        target = call.func if call is not None else decorator
        if not isinstance(target, Name):
            continue
        qualified = module.resolve(target.dotted)
        last = qualified.rsplit(".", 1)[-1]
        if qualified == "rest_framework.decorators.api_view":
            methods = _strings(call.args[0] if call is not None and call.args else
                               call.kwarg("http_method_names") if call is not None else None)
            api_view = tuple(method.upper() for method in methods) or ("GET",)
        elif last in ("require_GET", "require_safe"):
            allowed = ("GET",)
        elif last == "require_POST":
            allowed = ("POST",)
        elif last == "require_http_methods" and call is not None and call.args:
            allowed = tuple(method.upper() for method in _strings(call.args[0]))
        elif last in ("permission_classes", "authentication_classes") or last.endswith(
                ("login_required", "permission_required", "staff_member_required")):
            auth.append(expr_text(decorator))  # also projects' own: pretix's `event_permission_required(...)`
        elif last in ("throttle_classes", "ratelimit") or re.search(r"rate_?limit|throttl", last, re.IGNORECASE):
            limits.append(expr_text(decorator))
    first = fn.params[0].name if fn.params else ""
    if api_view is None and first != "request":
        return None
    return ViewFunctionDecl(module.module, fn.qualname, fn.name, Location(module.path, fn.name_span), first,
                            api_view, allowed, _body(module, fn), auth,
                            Location(module.path, Span.at(fn.params_close.line, fn.params_close.column)), limits)


# ---- bodies


def _body(module: Module, fn: Function) -> BodyFacts:
    facts = BodyFacts()
    assigned: dict[str, Expr] = {}
    for assign in sorted(fn.assigns, key=lambda item: (item.span.start.line, item.span.start.column)):
        if len(assign.targets) == 1 and assign.value is not None:
            assigned.setdefault(assign.targets[0], assign.value)
    expressions: list[Expr] = [*fn.calls, *(value for value in assigned.values()),
                               *(value for value in fn.returns_values if value is not None)]
    client = _client_names(fn, assigned)
    for expr in expressions:
        for inner in walk(expr):
            _note(module, inner, facts)
            if isinstance(inner, Subscript):
                bounds = _slice_bounds(inner)
                if bounds and set(_IDENTIFIER.findall(bounds)) & client:
                    facts.pagination.append(f"slice [{bounds}] from request values")
    kinds = [_shape(value, assigned, 0) for value in fn.returns_values if value is not None]
    if not fn.returns_values and fn.exits:
        kinds = [("none", "it only raises")]  # `def list(...): raise Http404()` switches the action off
    for kind, detail in kinds:
        if kind == "collection":
            facts.returns, facts.returns_detail = kind, detail
            break
    else:
        for wanted in ("item", "none"):
            found = next((detail for kind, detail in kinds if kind == wanted), None)
            if any(kind == wanted for kind, _ in kinds):
                facts.returns, facts.returns_detail = wanted, found
                break
    facts.validation = sorted(set(facts.validation))
    facts.clamps = body_clamps(fn)
    facts.query_params = list({name: (name, location) for name, location in reversed(facts.query_params)}.values())
    return facts


def _client_names(fn: Function, assigned: dict[str, Expr]) -> set[str]:
    """Names whose value the client controls: the request, URL arguments, and locals computed from them."""
    names = {param.name for param in fn.params if param.name not in ("self", "cls")} | {"request"}
    for _ in range(6):
        grown = {name for name, value in assigned.items()
                 if name not in names and _names_in(value) & names}
        if not grown:
            break
        names |= grown
    return names


def _names_in(expr: Expr) -> set[str]:
    found: set[str] = set()
    for inner in walk(expr):
        if isinstance(inner, Name):
            found.add(inner.dotted.split(".", 1)[0])
        elif isinstance(inner, Raw):
            found.update(_IDENTIFIER.findall(inner.text))
    return found


def _note(module: Module, expr: Expr, facts: BodyFacts) -> None:
    """Evidence from one expression of a handler body."""
    if isinstance(expr, Call):
        name = expr.func_name
        last = name.rsplit(".", 1)[-1]
        if last == "paginate_queryset":
            if name in ("self.paginate_queryset", "paginate_queryset"):
                facts.uses_paginate_queryset = True
            else:
                facts.pagination.append(f"{name}(...)")
        elif last == "get_paginated_response":
            facts.uses_paginate_queryset = True
        elif last == "Paginator" or module.resolve(name).endswith("paginator.Paginator"):
            facts.pagination.append("Paginator(...)")
        elif last in ("list", "get") and _is_super_or_self(expr.func, last):
            facts.delegates_list = True
        elif last in ("get", "getlist") and isinstance(expr.func, Name):
            source = expr.func.dotted.rsplit(".", 1)[0]
            if _QUERY_SOURCES.search(source) and expr.args and const_str(expr.args[0]):
                facts.query_params.append((const_str(expr.args[0]) or "", Location(module.path, expr.span)))
        elif last == "is_valid":
            facts.validation.append(f"{name}()")
    elif isinstance(expr, Subscript):
        if isinstance(expr.value, Name) and _QUERY_SOURCES.search(expr.value.dotted) and expr.index and \
                const_str(expr.index[0]):
            facts.query_params.append((const_str(expr.index[0]) or "", Location(module.path, expr.span)))
        cap = _slice_cap(expr)
        if cap and facts.hard_cap is None:
            facts.hard_cap = cap


def _is_super_or_self(func: Expr, method: str) -> bool:
    """`super().list(...)`, `super().get(...)` or `self.list(...)`: the generic implementation answers."""
    if isinstance(func, Name):
        return func.dotted == "self.list" and method == "list"
    return isinstance(func, Attr) and isinstance(func.value, Call) and func.value.func_name == "super"


def _slice_bounds(expr: Subscript) -> str | None:
    if len(expr.index) == 1 and isinstance(expr.index[0], Raw) and expr.index[0].kind == "slice":
        return expr.index[0].text.strip()
    return None


def _slice_cap(expr: Subscript) -> str | None:
    bounds = _slice_bounds(expr)
    return f"[{bounds}]" if bounds is not None and _CONSTANT_SLICE.match(bounds) else None


def _constant_slice(expr: Expr | None) -> str | None:
    return _slice_cap(expr) if isinstance(expr, Subscript) else None


def _shape(expr: Expr, assigned: dict[str, Expr], depth: int) -> tuple[ReturnKind, str | None]:
    """What a returned expression is: a collection, one item, nothing, or unknown."""
    if depth > 4:
        return "unknown", None
    if isinstance(expr, Call):
        last = expr.func_name.rsplit(".", 1)[-1]
        if last in ("Response", "JsonResponse"):
            data = expr.args[0] if expr.args else expr.kwarg("data")
            if data is None:
                return "none", None
            return _shape(data, assigned, depth + 1)
        if last == "get_paginated_response":
            return "collection", "a paginated response"
        if last in ("list", "tuple") and isinstance(expr.func, Name) and expr.func.dotted == last:
            return "collection", f"{last}(...)"
        if last in ("values", "values_list", "all", "filter"):
            return "collection", f".{last}()"
        if _serializes_many(expr) is not None:
            return ("collection" if _serializes_many(expr) else "item"), None
        return "unknown", None
    if isinstance(expr, Name):
        head, _, attribute = expr.dotted.rpartition(".")
        if attribute == "data" and head in assigned:
            return _serializer_shape(assigned[head])
        if expr.dotted in assigned:
            return _shape(assigned[expr.dotted], assigned, depth + 1)
        return "unknown", None
    if isinstance(expr, Attr) and expr.attr == "data" and isinstance(expr.value, Call):
        return _serializer_shape(expr.value)
    if isinstance(expr, Raw) and expr.kind in ("list_comprehension", "generator_expression"):
        return "collection", "a list comprehension"
    if isinstance(expr, Subscript) and _slice_bounds(expr) is not None:
        return _shape(expr.value, assigned, depth + 1)
    if isinstance(expr, Seq) and expr.kind == "dict":
        return _envelope_shape(expr, assigned, depth)
    return "unknown", None


def _envelope_shape(expr: Seq, assigned: dict[str, Expr], depth: int) -> tuple[ReturnKind, str | None]:
    """`{"results": serializer.data}`: a collection under an envelope key (or as the only entry)."""
    for key, value in zip(expr.keys, expr.items, strict=False):
        name = const_str(key)
        if name is None or (name not in ENVELOPE_KEYS and len(expr.items) > 1):
            continue
        kind, detail = _shape(value, assigned, depth + 1)
        if kind == "collection":
            return kind, f'{{"{name}": {detail or "[...]"}}}'
    return "item", None


def _serializer_shape(value: Expr) -> tuple[ReturnKind, str | None]:
    many = _serializes_many(value)
    if many is None:
        return "unknown", None
    return ("collection", "serializer(many=True)") if many else ("item", None)


def _serializes_many(value: Expr) -> bool | None:
    """For a serializer call, whether it serializes many objects; None when not a serializer call."""
    if not isinstance(value, Call):
        return None
    name = value.func_name.rsplit(".", 1)[-1]
    if not (name.endswith("Serializer") or name in ("get_serializer", "serializer_class")):
        return None
    many = value.kwarg("many")
    return isinstance(many, Const) and many.value is True


# ---- urls and routers


def _routers(module: Module) -> Iterator[object]:
    local_routers: set[str] = set()
    for assign in module.assigns:
        if len(assign.targets) == 1 and isinstance(assign.value, Call) and isinstance(assign.value.func, Name):
            kind = module.resolve(assign.value.func.dotted).rsplit(".", 1)[-1]
            if kind.endswith("Router"):
                slash = assign.value.kwarg("trailing_slash")
                local_routers.add(assign.targets[0])
                yield RouterDecl(f"{module.module}.{assign.targets[0]}",
                                 not (isinstance(slash, Const) and slash.value in (False, "")))
    for call in module.calls:
        if not (isinstance(call.func, Name) and call.func.dotted.endswith(".register") and len(call.args) >= 2):
            continue
        variable = call.func.dotted.rsplit(".", 1)[0]
        prefix = const_str(call.args[0])
        viewset = call.args[1]
        if prefix is None or not isinstance(viewset, Name):
            continue
        router = f"{module.module}.{variable}" if variable in local_routers else module.resolve(variable)
        yield RegistrationDecl(router, prefix, _qualify(module, viewset.dotted), Location(module.path, call.span))


def _qualify(module: Module, dotted: str) -> str:
    head = dotted.split(".", 1)[0]
    if head in module.imports:
        return module.resolve(dotted)
    return f"{module.module}.{dotted}"


def _urlconf(module: Module) -> UrlConfDecl | None:
    values: list[Expr] = [assign.value for assign in module.assigns
                          if "urlpatterns" in assign.targets and assign.value is not None]
    values.extend(assign.value for assign in module.augmented
                  if "urlpatterns" in assign.targets and assign.value is not None)
    if not values:
        return None
    routes: list[RouteDecl] = []
    for value in values:
        routes.extend(_routes(module, value))
    return UrlConfDecl(module.module, module.path, routes)


def _routes(module: Module, value: Expr) -> Iterator[RouteDecl]:
    if isinstance(value, BinOp):
        yield from _routes(module, value.left)
        yield from _routes(module, value.right)
        return
    if isinstance(value, Name) and value.dotted.endswith(".urls"):  # urlpatterns = router.urls
        yield RouteDecl("", False, "router", _router_name(module, value.dotted), Location(module.path, value.span))
        return
    if isinstance(value, Call) and value.func_name.endswith("format_suffix_patterns") and value.args:
        yield from _routes(module, value.args[0])
        return
    if isinstance(value, Call) and value.func_name.endswith("i18n_patterns"):
        yield from _routes(module, Seq(value.span, "list", value.args))
        return
    if not isinstance(value, Seq):
        return
    for item in value.items:
        route = _route(module, item)
        if route is not None:
            yield route


def _router_name(module: Module, dotted: str) -> str:
    return _qualify(module, dotted[: -len(".urls")])


def _route(module: Module, item: Expr) -> RouteDecl | None:
    if not isinstance(item, Call) or not isinstance(item.func, Name) or len(item.args) < 2:
        return None
    kind = module.resolve(item.func.dotted).rsplit(".", 1)[-1]
    if kind not in ("path", "re_path", "url"):
        return None
    pattern = const_str(item.args[0])
    if pattern is None:
        return None
    location = Location(module.path, item.span)
    regex = kind != "path"
    target = item.args[1]
    if isinstance(target, Call) and target.func_name.rsplit(".", 1)[-1] == "include" and target.args:
        included = target.args[0]
        if isinstance(included, Seq) and included.items:  # include(("app.urls", "app"), namespace=...)
            included = included.items[0]
        text = const_str(included)
        if text is not None:
            return RouteDecl(pattern, regex, "include", text, location)
        if isinstance(included, Name) and included.dotted.endswith(".urls"):
            qualified = _qualify(module, included.dotted)
            if included.dotted.split(".", 1)[0] in module.imports and qualified.endswith(".urls") and \
                    "Router" not in qualified:
                return RouteDecl(pattern, regex, "include_or_router", qualified, location)
            return RouteDecl(pattern, regex, "router", _router_name(module, included.dotted), location)
        if isinstance(included, Name):
            return RouteDecl(pattern, regex, "include", module.resolve(included.dotted), location)
        return None
    if isinstance(target, Call) and isinstance(target.func, Name) and target.func.dotted.endswith(".as_view"):
        view = _qualify(module, target.func.dotted[: -len(".as_view")])
        mapping = target.args[0] if target.args else None
        actions: tuple[tuple[str, str], ...] = ()
        if isinstance(mapping, Seq) and mapping.kind == "dict":
            actions = tuple((const_str(key) or "", const_str(value) or "")
                            for key, value in zip(mapping.keys, mapping.items, strict=False))
        return RouteDecl(pattern, regex, "view", view, location, class_view=True, actions=actions)
    if isinstance(target, Name):
        return RouteDecl(pattern, regex, "view", _qualify(module, target.dotted), location)
    return None


# ============================================================================================ resolve


@dataclass(slots=True)
class _View:
    ref: ClassRef
    decl: ViewClassDecl
    chain: list[ViewClassDecl]  # the view and its workspace ancestors, nearest first
    external: set[str]

    def attribute(self, name: str) -> str | None:
        for decl in self.chain:
            if name in decl.attributes:
                return decl.attributes[name]
        return None

    def method(self, name: str) -> MethodDecl | None:
        for decl in self.chain:
            for method in decl.methods:
                if method.name == name:
                    return method
        return None

    def has(self, *short_names: str) -> bool:
        return any(name.rsplit(".", 1)[-1] in short_names for name in self.external)

    @property
    def is_drf(self) -> bool:
        return any(name.startswith("rest_framework.") for name in self.external)

    @property
    def is_viewset(self) -> bool:
        return self.has("ViewSet", "GenericViewSet", "ModelViewSet", "ReadOnlyModelViewSet", "ViewSetMixin")

    @property
    def is_generic(self) -> bool:
        return self.has("GenericAPIView", "GenericViewSet", *ACTIONS_OF)

    def actions(self) -> set[str]:
        found: set[str] = set()
        for name in self.external:
            found |= ACTIONS_OF.get(name.rsplit(".", 1)[-1], set())
        found |= {name for name in VIEWSET_ACTIONS if self.method(name) is not None}
        return found


# Django class-view mixins that turn anonymous requests away: LoginRequiredMixin, PermissionRequiredMixin,
# UserPassesTestMixin, and projects' own (pretix's EventPermissionRequiredMixin, RecentAuthenticationRequiredMixin).
_AUTH_MIXIN = re.compile(r"(?:Login|Permission|Authenticat|Auth|Staff|Superuser|Admin)\w*Required(?:Mixin)?$|"
                         r"^UserPassesTestMixin$")


def _auth_mixin(builder: ModelBuilder, view: _View) -> str | None:
    """The first base of the view whose name says it requires a logged-in or permitted user."""
    names = [ref.cls.name for ref in builder.ancestors(view.ref)]
    names += [name.rsplit(".", 1)[-1] for name in sorted(view.external)]
    return next((name for name in names if _AUTH_MIXIN.search(name)), None)


class _Resolver:
    def __init__(self, builder: ModelBuilder) -> None:
        self.builder = builder
        self.names = DjangoNames.of(builder)
        self.settings = builder.project.settings
        self.views: dict[str, _View] = {}
        self.functions: dict[str, ViewFunctionDecl] = {}
        self.urlconfs: dict[str, UrlConfDecl] = {}
        self.routers: dict[str, RouterDecl] = {}
        self.registrations: dict[str, list[RegistrationDecl]] = {}
        self.routed: set[str] = set()
        self.visited: set[str] = set()  # URL configuration modules walked
        self.group: tuple[str, Location] | None = None  # the URL configuration being walked, where it is included
        self.subclassed: set[str] = set()
        self.mixins: dict[str, ViewClassDecl] = {}

    def collect(self) -> None:
        classes = {f"{decl.module}.{decl.qualname}": decl for _, decl in self.builder.records(ViewClassDecl)}
        for qualified, decl in classes.items():
            ref = self.builder.lookup(qualified)
            if ref is None:
                continue
            ancestors, external = self.names.lineage(ref)
            self.subclassed.update(ancestor.qualified for ancestor in ancestors)
            if not any(name.startswith(("rest_framework.", "django.views")) for name in external):
                continue
            # A mixin with no base of its own (pretix's `class ExportersMixin:` defining `list` and `@action`s) was
            # not extracted as a view: its declaration is made here, when a view turns out to use it.
            chain = [decl, *(classes.get(ancestor.qualified) or self._mixin_decl(ancestor) for ancestor in ancestors)]
            self.views[qualified] = _View(ref, decl, chain, external)
        for _, function in self.builder.records(ViewFunctionDecl):
            self.functions[f"{function.module}.{function.qualname}"] = function
        for _, urlconf in self.builder.records(UrlConfDecl):
            self.urlconfs[urlconf.module] = urlconf
        for _, router in self.builder.records(RouterDecl):
            self.routers[router.name] = router
        for _, registration in self.builder.records(RegistrationDecl):
            self.registrations.setdefault(self._router_key(registration.router), []).append(registration)

    def _mixin_decl(self, ref: ClassRef) -> ViewClassDecl:
        found = self.mixins.get(ref.qualified)
        if found is None:
            found = self.mixins[ref.qualified] = _view_class(ref.module, ref.cls)
        return found

    def _router_key(self, name: str) -> str:
        for candidate in self.names.candidates(name):
            if candidate in self.routers:
                return candidate
        return name

    # ---- routes

    def walk(self) -> None:
        """From the root URL configuration down; then the configurations nothing includes (included
        dynamically, or not at all), whose prefix is unknown."""
        for root in self._roots() + self._orphans():
            if root.module not in self.visited:
                self._walk_urlconf(root, "", {root.module})
        if not self.urlconfs:  # no URL configuration in the workspace: report the views with unknown paths
            for qualified, view in self.views.items():
                if qualified not in self.subclassed and view.is_drf:
                    self._class_endpoints(view, "", (), viewset_routes=view.is_viewset)
            for function in self.functions.values():
                if function.api_view is not None:
                    self._function_endpoint(function, "")

    def _roots(self) -> list[UrlConfDecl]:
        root_name = self.settings.get("django.root_urlconf")
        for candidate in self.names.candidates(root_name) if root_name else []:
            if candidate in self.urlconfs:
                return [self.urlconfs[candidate]]
        return []

    def _orphans(self) -> list[UrlConfDecl]:
        included = {self._module_name(route.target) for conf in self.urlconfs.values() for route in conf.routes
                    if route.kind in ("include", "include_or_router")}
        return [conf for name, conf in sorted(self.urlconfs.items()) if name not in included]

    def _module_name(self, dotted: str) -> str:
        for candidate in self.names.candidates(dotted):
            if candidate in self.urlconfs:
                return candidate
        return dotted

    def _walk_urlconf(self, conf: UrlConfDecl, prefix: str, visiting: set[str],
                      entry: Location | None = None) -> None:
        self.visited.add(conf.module)
        for route in conf.routes:
            # Routes are grouped by the URL configuration declaring them, located where it is included (a version
            # prefix there reaches them all), else at its first route.
            self.group = (conf.module, entry or conf.routes[0].location)
            path = _join(prefix, _pattern_path(route.pattern, route.regex))
            if route.kind == "include_or_router":
                module = self._module_name(route.target)
                kind = "include" if module in self.urlconfs else "router"
                target = module if kind == "include" else route.target[: -len(".urls")]
            else:
                kind, target = route.kind, route.target
            if kind == "include":
                module = self._module_name(target)
                included = self.urlconfs.get(module)
                if included is not None and module not in visiting:
                    self._walk_urlconf(included, path, visiting | {module}, route.location)
            elif kind == "router":
                self.group = (self._router_key(target), route.location if entry is None or route.pattern else entry)
                self._router_endpoints(self._router_key(target), path)
            else:
                self._view_endpoints(route, path)

    def _router_endpoints(self, router_name: str, prefix: str) -> None:
        router = self.routers.get(router_name, RouterDecl(router_name))
        slash = "/" if router.trailing_slash else ""
        for registration in self.registrations.get(router_name, []):
            view = self._view(registration.viewset)
            if view is None:
                continue
            base = _join(prefix, registration.prefix.strip("^$").strip("/") + slash)
            self._class_endpoints(view, base, (), viewset_routes=True, slash=slash)

    def _view_endpoints(self, route: RouteDecl, path: str) -> None:
        view = self._view(route.target)
        if view is not None:
            self._class_endpoints(view, path, route.actions, viewset_routes=False)
            return
        function = self._function(route.target)
        if function is not None:
            self._function_endpoint(function, path)

    def _view(self, qualified: str) -> _View | None:
        ref = self.names.cls(qualified)
        return self.views.get(ref.qualified) if ref is not None else None

    def _function(self, qualified: str) -> ViewFunctionDecl | None:
        for candidate in self.names.candidates(qualified):
            if candidate in self.functions:
                return self.functions[candidate]
        return None

    # ---- endpoints

    def _class_endpoints(self, view: _View, path: str, mapping: tuple[tuple[str, str], ...],
                         viewset_routes: bool, slash: str = "/") -> None:
        self.routed.add(view.ref.qualified)
        if viewset_routes:
            lookup = view.attribute("lookup_url_kwarg") or view.attribute("lookup_field") or "pk"
            detail = _join(path, f"{{{lookup}}}{slash}")
            for action in sorted(view.actions()):
                method, on_detail, returns = VIEWSET_ACTIONS[action]
                self._action_endpoint(view, action, (method,), detail if on_detail else path, returns)
            actions = {method.name: method for decl in reversed(view.chain) for method in decl.methods
                       if method.action is not None}
            for method_decl in actions.values():
                assert method_decl.action is not None
                # `url_path` is a regex (routers splice it into theirs): named groups become `{name}` parameters.
                url_path = method_decl.action.url_path
                segment = (_pattern_path(url_path, regex=True) if url_path else method_decl.name) + slash
                base = detail if method_decl.action.detail else path
                self._method_endpoint(view, method_decl, method_decl.action.methods, _join(base, segment))
            return
        if mapping:
            for http_method, action in mapping:
                returns = VIEWSET_ACTIONS.get(action, ("GET", False, "unknown"))[2]
                self._action_endpoint(view, action, (http_method.upper(),), path, returns)
            return
        for http_method in HTTP_METHODS:
            own = view.method(http_method)
            generic = [action for action in GENERIC_METHOD_ACTIONS.get(http_method, ())
                       if action in view.actions()]
            if own is not None and not (generic and own.body.delegates_list):
                self._method_endpoint(view, own, (http_method.upper(),), path)
            elif generic:
                action = generic[0]
                self._action_endpoint(view, action, (http_method.upper(),), path, VIEWSET_ACTIONS[action][2])

    def _action_endpoint(self, view: _View, action: str, methods: tuple[str, ...], path: str,
                         returns: ReturnKind) -> None:
        """A generic action (ViewSet.list, ListAPIView GET...), or the view's own override of it."""
        own = view.method(action)
        if own is not None and not own.body.delegates_list:
            self._method_endpoint(view, own, methods, path, fallback=returns)
            return
        endpoint = self._endpoint(view, methods, path, f"{view.ref.qualified}.{action}", view.decl.location)
        endpoint.returns = returns
        if own is None or own.body.delegates_list:  # DRF's own create/destroy answer 201/204
            endpoint.status_code = {"create": 201, "destroy": 204}.get(action)
        if action == "list":
            endpoint.returns_detail = f"{view.decl.name}.list"
            endpoint.pagination.extend(self._class_pagination(view))
            get_queryset = view.method("get_queryset")
            endpoint.hard_cap = next((decl.queryset_cap for decl in view.chain if decl.queryset_cap), None) or (
                get_queryset.body.hard_cap if get_queryset is not None else None)
        if own is not None:
            self._apply_body(view, endpoint, own.body)
        self.builder.project.endpoints.append(endpoint)

    def _method_endpoint(self, view: _View, method: MethodDecl, methods: tuple[str, ...], path: str,
                         fallback: ReturnKind = "unknown") -> None:
        endpoint = self._endpoint(view, methods, path, f"{view.ref.qualified}.{method.name}", method.location)
        endpoint.returns = method.body.returns if method.body.returns != "unknown" else fallback
        endpoint.returns_detail = method.body.returns_detail
        self._apply_body(view, endpoint, method.body)
        self.builder.project.endpoints.append(endpoint)

    def _apply_body(self, view: _View | None, endpoint: Endpoint, body: BodyFacts) -> None:
        endpoint.pagination.extend(body.pagination)
        if body.uses_paginate_queryset:
            if view is not None and view.is_generic:
                endpoint.pagination.extend(self._class_pagination(view))
            elif view is not None:
                endpoint.pagination.append("self.paginate_queryset(...)")
        if body.delegates_list and view is not None:
            endpoint.pagination.extend(self._class_pagination(view))
        endpoint.hard_cap = endpoint.hard_cap or body.hard_cap
        endpoint.parameters.extend(Parameter(name, "query", location=location, upper_bound=body.clamps.get(name))
                                   for name, location in body.query_params)
        endpoint.validation.extend(body.validation)
        endpoint.pagination = list(dict.fromkeys(endpoint.pagination))

    def _endpoint(self, view: _View, methods: tuple[str, ...], path: str, handler: str,
                  location: Location) -> Endpoint:
        endpoint = Endpoint(framework="drf" if view.is_drf else "django", methods=methods, path=path,
                            handler=handler, location=location)
        endpoint.parameters.extend(Parameter(name, "path") for name in _path_parameters(path))
        permissions = view.attribute("permission_classes")
        mixin = _auth_mixin(self.builder, view)
        if permissions:
            endpoint.auth.append(f"permission_classes = {permissions}")
        elif mixin:
            endpoint.auth.append(mixin)
        elif view.is_drf and self.settings.get("drf.default_permission_classes"):
            endpoint.auth.append(f"DEFAULT_PERMISSION_CLASSES = {self.settings['drf.default_permission_classes']}")
        serializer = view.attribute("serializer_class")
        if serializer:
            endpoint.validation.append(f"serializer_class = {serializer}")
        throttles = view.attribute("throttle_classes")
        if throttles is not None:
            endpoint.rate_limit.extend([f"throttle_classes = {throttles}"] if throttles not in ("[]", "()") else [])
        elif view.is_drf and self.settings.get("drf.default_throttle_classes"):
            endpoint.rate_limit.append(f"DEFAULT_THROTTLE_CLASSES = {self.settings['drf.default_throttle_classes']}")
        decorators = view.attribute("rate_limit_decorators")
        if decorators:
            endpoint.rate_limit.append(decorators)
        self._set_group(endpoint)
        if view.attribute("paginate_by") not in (None, "None"):
            endpoint.pagination.append(f"paginate_by = {view.attribute('paginate_by')}")
        return endpoint

    def _function_endpoint(self, function: ViewFunctionDecl, path: str) -> None:
        methods = function.api_view or function.allowed or ("GET",)
        endpoint = Endpoint(framework="drf" if function.api_view is not None else "django", methods=methods,
                            path=path, handler=f"{function.module}.{function.qualname}",
                            location=function.location, parameters_anchor=function.params_close,
                            parameters_empty=False)
        endpoint.parameters.extend(Parameter(name, "path") for name in _path_parameters(path))
        endpoint.returns = function.body.returns
        endpoint.returns_detail = function.body.returns_detail
        endpoint.auth.extend(function.auth)
        endpoint.rate_limit.extend(function.rate_limit)
        if function.api_view is not None and not any("throttle_classes" in item for item in function.rate_limit) \
                and self.settings.get("drf.default_throttle_classes"):
            endpoint.rate_limit.append(f"DEFAULT_THROTTLE_CLASSES = {self.settings['drf.default_throttle_classes']}")
        self._set_group(endpoint)
        self._apply_body(None, endpoint, function.body)
        if function.body.uses_paginate_queryset:
            endpoint.pagination.append("paginate_queryset(...)")
        self.builder.project.endpoints.append(endpoint)

    def _set_group(self, endpoint: Endpoint) -> None:
        if self.group is not None:
            endpoint.group, endpoint.group_location = self.group

    # ---- pagination

    def _class_pagination(self, view: _View) -> list[str]:
        """The pagination a generic view applies: its pagination_class, else DRF's global default."""
        own = view.attribute("pagination_class")
        if own is not None:
            if own == "None":
                return []
            return [f"pagination_class = {own.rsplit('.', 1)[-1]}"] if self._pages(own) else []
        default = self.settings.get("drf.default_pagination_class")
        if view.is_drf and default and self._pages(default):
            size = self.settings.get("drf.page_size")
            return [f"DEFAULT_PAGINATION_CLASS = {default}" + (f" (PAGE_SIZE {size})" if size else "")]
        return []

    def _pages(self, qualified: str) -> bool:
        """Whether a pagination class actually pages: DRF's page-number and cursor classes need a page size
        (their own `page_size`, the PAGE_SIZE setting, or a client-chosen size)."""
        ref = self.names.cls(qualified)
        chain: list[Class] = []
        external = {qualified}
        if ref is not None:
            ancestors, external = self.names.lineage(ref)
            chain = [ref.cls, *(ancestor.cls for ancestor in ancestors)]
        sized = any(cls.assigned(name) is not None and not _is_none(cls.assigned(name))
                    for cls in chain for name in ("page_size", "page_size_query_param", "default_limit"))
        builtin = {name.rsplit(".", 1)[-1] for name in external if name.startswith("rest_framework.pagination.")}
        if not builtin or builtin & set(PAGINATION_WITH_OWN_SIZE):
            return True
        return sized or bool(self.settings.get("drf.page_size"))


def _is_none(expr: Expr | None) -> bool:
    return isinstance(expr, Const) and expr.value is None


# ---- paths

_CONVERTER = re.compile(r"<(?:[^<>:]+:)?(\w+)>")
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")


def _pattern_path(pattern: str, regex: bool) -> str:
    if not regex:
        return _CONVERTER.sub(r"{\1}", pattern)
    text = pattern.lstrip("^").removeprefix("\\A")
    text = text.rstrip("$").removesuffix("\\Z")
    text = _NAMED_GROUP.sub(r"{\1}", text)
    return text.replace("\\", "").replace("?", "")


def _join(prefix: str, part: str) -> str:
    joined = (prefix.rstrip("/") + "/" + part.lstrip("/")) if prefix else part
    return "/" + joined.lstrip("/")


def _path_parameters(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def resolve(builder: ModelBuilder) -> None:
    resolver = _Resolver(builder)
    resolver.collect()
    resolver.walk()
