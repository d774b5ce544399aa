"""FastAPI: apps and routers, their prefixes composed across modules, and one `Endpoint` per route and path.

Per file, `extract` records apps and routers (`FastAPI(...)`, `APIRouter(prefix=..., dependencies=[...])`),
`include_router`/`mount` calls, and routes (`@router.get(...)`, `@app.api_route(...)`, `add_api_route`) with
what the handler's body says (queries, return shape, paginator calls).

Across files, `resolve` joins the routers into a tree (an app includes a router from another module, a router
includes another, a router included twice serves both paths), composes each route's full path, and reads the
handler's signature: path, query, body and special parameters, and the parameters of every dependency
(`Depends(fn)`, `Annotated[X, Depends(fn)]`, `Depends()` on a class, router-level `dependencies=[...]`),
followed through chains of dependencies in any module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from analyzers.extractors._http import (
    HTTP_VERBS,
    BodyFacts,
    Callables,
    Found,
    ObjectNames,
    analyze_body,
    auth_decorators,
    body_clamps,
    call_argument,
    callee,
    class_fields,
    decorator_names,
    field_param,
    items_of,
    looks_like_auth,
    looks_like_rate_limit,
    object_id,
    path_text,
    point,
    rate_limit_decorators,
    receiver,
    scope_of,
    scoped_assigns,
    scoped_calls,
    status_of,
    strings_of,
    within,
)
from analyzers.facts import SourceFile
from analyzers.model import Endpoint, Location, Parameter, ParameterSource, ReturnKind
from analyzers.pysyntax import BinOp, Call, Const, Expr, Function, Module, Name, Param, Raw, Subscript, expr_text
from analyzers.resolve import ClassRef, ModelBuilder

APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI"})
ROUTER_CLASSES = frozenset({"fastapi.APIRouter", "fastapi.routing.APIRouter"})
QUERY_HELPERS = frozenset({"fastapi.Query", "fastapi.params.Query", "fastapi.param_functions.Query"})

# Marker functions used as a parameter's default or in Annotated[...], and the source they declare.
MARKERS: dict[str, ParameterSource] = {
    "Query": "query", "Path": "path", "Body": "body", "Form": "body", "File": "body", "Header": "header",
    "Cookie": "cookie", "Depends": "dependency", "Security": "dependency",
}
# Annotations FastAPI fills from the connection itself.
SPECIAL_TYPES = frozenset({
    "Request", "Response", "WebSocket", "HTTPConnection", "BackgroundTasks", "SecurityScopes",
})
SCALAR_TYPES = frozenset({
    "int", "float", "str", "bool", "bytes", "UUID", "datetime", "date", "time", "timedelta", "Decimal",
    "EmailStr", "AnyUrl", "HttpUrl", "Json", "SecretStr", "PositiveInt", "NonNegativeInt", "PositiveFloat",
    "NonNegativeFloat", "conint", "constr", "confloat", "condecimal", "StrictInt", "StrictStr", "StrictBool",
    "Any", "Literal", "IPvAnyAddress",
})
COLLECTION_TYPES = frozenset({
    "list", "List", "Sequence", "MutableSequence", "Iterable", "Iterator", "AsyncIterator", "AsyncIterable",
    "Collection", "set", "Set", "frozenset", "FrozenSet", "AbstractSet", "Generator", "AsyncGenerator",
    "Deque", "deque",
})
OPTIONAL_WRAPPERS = frozenset({"Optional", "Union", "Annotated", "Required", "NotRequired"})
RESPONSE_CLASSES = frozenset({
    "Response", "JSONResponse", "ORJSONResponse", "UJSONResponse", "HTMLResponse", "PlainTextResponse",
    "RedirectResponse", "StreamingResponse", "FileResponse", "EventSourceResponse",
})
# fastapi-pagination and look-alike generic page models.
PAGE_WRAPPERS = frozenset({
    "Page", "LimitOffsetPage", "CursorPage", "Paginated", "PaginatedResponse", "PagedResponse", "PageResponse",
    "PaginatedList", "CursorPaginated",
})
# Fields of a paged envelope besides the collection itself.
PAGING_FIELDS = frozenset({
    "total", "total_count", "total_items", "next", "next_cursor", "cursor", "page", "pages", "page_size",
    "per_page", "offset", "limit", "has_more", "has_next", "previous", "prev", "next_page", "next_page_token",
    "page_token", "pagination", "links", "meta", "current_page", "total_pages",
})
ENVELOPE_FIELDS = frozenset({"items", "results", "data", "records", "entries", "objects", "rows", "content"})
_PATH_PARAMETER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?}")
_MAX_DEPTH = 8


# --------------------------------------------------------------------------------------------- records


@dataclass(slots=True)
class FastApiRouter:
    """`app = FastAPI(...)` or `router = APIRouter(...)`, bound in `scope` ("" = module level)."""

    scope: str
    name: str
    kind: Literal["app", "router"]
    prefix: str
    dependencies: tuple[Expr, ...]
    location: Location


@dataclass(slots=True)
class FastApiInclude:
    """`parent.include_router(child, prefix=...)` or `parent.mount(prefix, child)`."""

    scope: str
    parent: str
    child: str
    prefix: str
    dependencies: tuple[Expr, ...]
    location: Location


@dataclass(slots=True)
class FastApiRoute:
    scope: str
    owner: str  # the app or router as written in the decorator
    methods: tuple[str, ...]
    path: str
    function: str  # qualname of the handler in its module
    location: Location
    params: tuple[Param, ...]
    response_model: Expr | None
    return_annotation: Expr | None
    dependencies: tuple[Expr, ...]
    body: BodyFacts
    status_code: int | None
    decorators: tuple[str, ...]
    parameters_anchor: Location | None
    parameters_empty: bool
    idiom: dict[str, str] = field(default_factory=dict)
    # Before the closing parenthesis of the route decorator (or `add_api_route` call): where `status_code=`
    # can be added.
    route_anchor: Location | None = None


# --------------------------------------------------------------------------------------------- extract


def extract(source: SourceFile) -> list[object]:
    module = source.python
    if module is None:
        return []
    uses_fastapi = any(target.split(".", 1)[0] in ("fastapi", "fastapi_utils") for target in module.imports.values())
    records: list[object] = [*_routers(module, source.path, uses_fastapi)]
    uses_fastapi = uses_fastapi or bool(records)
    if uses_fastapi:
        records.extend(_includes(module, source.path))
    uses_flask = any(target.split(".", 1)[0] == "flask" for target in module.imports.values())
    records.extend(_routes(module, source, uses_fastapi, uses_flask))
    return records


def _routers(module: Module, path: str, uses_fastapi: bool) -> list[FastApiRouter]:
    found: list[FastApiRouter] = []
    for scope, assign in scoped_assigns(module):
        value = assign.value
        if not isinstance(value, Call) or not isinstance(value.func, Name) or not assign.targets:
            continue
        qualified = module.resolve(value.func.dotted)
        kind: Literal["app", "router"] | None = (
            "app" if qualified in APP_CLASSES else "router" if qualified in ROUTER_CLASSES else None)
        if kind is None and uses_fastapi and qualified.endswith("Router") and qualified != "Router":
            kind = "router"  # an APIRouter subclass (InferringRouter, a project's own VersionedRouter)
        if kind is None or "." in assign.targets[0]:
            continue
        found.append(FastApiRouter(scope, assign.targets[0], kind, path_text(module, value.kwarg("prefix")) or "",
                                   items_of(value.kwarg("dependencies")), Location(path, assign.span)))
    return found


def _includes(module: Module, path: str) -> list[FastApiInclude]:
    found: list[FastApiInclude] = []
    for scope, call in scoped_calls(module):
        parent = receiver(call)
        name = callee(call)
        if parent is None or name not in ("include_router", "mount"):
            continue
        if name == "include_router":
            child = call_argument(call, 0, "router")
            prefix = path_text(module, call.kwarg("prefix")) or ""
        else:
            child = call_argument(call, 1, "app")
            prefix = path_text(module, call_argument(call, 0, "path")) or ""
        if isinstance(child, Name):
            found.append(FastApiInclude(scope, parent, child.dotted, prefix, items_of(call.kwarg("dependencies")),
                                        Location(path, call.span)))
    return found


def _routes(module: Module, source: SourceFile, uses_fastapi: bool, uses_flask: bool) -> list[FastApiRoute]:
    found: list[FastApiRoute] = []
    lines: list[str] = []  # the file's lines, read once for the first route that needs them
    for fn in module.functions:
        for decorator in fn.decorators:
            if not isinstance(decorator, Call) or not isinstance(decorator.func, Name):
                continue
            owner = receiver(decorator)
            verb = callee(decorator)
            if owner is None or (verb not in HTTP_VERBS and verb != "api_route"):
                continue
            # A route on an object this file neither creates with FastAPI nor imports is not ours (Flask, ...).
            if not uses_fastapi and (uses_flask or owner.split(".", 1)[0] not in module.imports):
                continue
            methods = tuple(method.upper() for method in strings_of(decorator.kwarg("methods"))) or ("GET",) \
                if verb == "api_route" else (verb.upper(),)
            lines = lines or source.text().split("\n")
            found.append(_route(module, source.path, lines, fn, scope_of(fn), owner, methods, decorator))
    if uses_fastapi:
        found.extend(_added_routes(module, source))
    return found


def _added_routes(module: Module, source: SourceFile) -> list[FastApiRoute]:
    """`app.add_api_route("/path", handler, methods=[...])` with a handler defined in the same module."""
    functions = {fn.name: fn for fn in module.top_level_functions()}
    found: list[FastApiRoute] = []
    lines: list[str] = []
    for scope, call in scoped_calls(module):
        owner = receiver(call)
        handler = call_argument(call, 1, "endpoint")
        if owner is None or callee(call) != "add_api_route" or not isinstance(handler, Name):
            continue
        fn = functions.get(handler.dotted)
        if fn is not None:
            methods = tuple(method.upper() for method in strings_of(call.kwarg("methods"))) or ("GET",)
            lines = lines or source.text().split("\n")
            found.append(_route(module, source.path, lines, fn, scope, owner, methods, call))
    return found


def _route(module: Module, path: str, lines: list[str], fn: Function, scope: str, owner: str,
           methods: tuple[str, ...], call: Call) -> FastApiRoute:
    response_model = call.kwarg("response_model")
    if isinstance(response_model, Const) and response_model.value is None:
        response_model = None
    return FastApiRoute(
        scope=scope,
        owner=owner,
        methods=methods,
        path=path_text(module, call_argument(call, 0, "path")) or "",
        function=fn.qualname,
        location=Location(path, fn.name_span),
        params=tuple(fn.params),
        response_model=response_model,
        return_annotation=fn.returns,
        dependencies=items_of(call.kwarg("dependencies")),
        body=analyze_body(module, fn, path),
        status_code=status_of(call.kwarg("status_code")),
        decorators=tuple(decorator_names(fn)),
        parameters_anchor=_parameters_anchor(path, lines, fn),
        parameters_empty=not any(param.kind not in ("var_positional", "var_keyword") for param in fn.params),
        idiom=_idiom(module),
        route_anchor=_route_anchor(path, lines, call),
    )


def _route_anchor(path: str, lines: list[str], call: Call) -> Location | None:
    """Where `, status_code=201` can be appended: before the `)`, or after the last argument when a trailing
    comma follows it."""
    arguments = [*call.args, *(value for _, value in call.kwargs)]
    if not arguments or call.star:
        return None
    last = max((argument.span.end for argument in arguments), key=lambda end: (end.line, end.column))
    between = _text_between(lines, last.line, last.column, call.close.line, call.close.column)
    if "," in re.sub(r"#[^\n]*", "", between):
        return point(path, last)
    return point(path, call.close)


def _parameters_anchor(path: str, lines: list[str], fn: Function) -> Location | None:
    """Where `, limit: int = Query(...)` can be appended: before the `)`, or after the last parameter when
    the list ends with a trailing comma. None with *args/**kwargs, where a new parameter cannot simply go last."""
    if any(param.kind in ("var_positional", "var_keyword") for param in fn.params):
        return None
    if fn.params:
        last = fn.params[-1].span.end
        between = _text_between(lines, last.line, last.column, fn.params_close.line, fn.params_close.column)
        if "," in re.sub(r"#[^\n]*", "", between):
            return point(path, last)
    return point(path, fn.params_close)


def _text_between(lines: list[str], line: int, column: int, end_line: int, end_column: int) -> str:
    if not 0 <= line <= end_line < len(lines):
        return ""
    if line == end_line:
        return lines[line][column:end_column]
    return "\n".join([lines[line][column:], *lines[line + 1 : end_line], lines[end_line][:end_column]])


def _idiom(module: Module) -> dict[str, str]:
    query = next((local for local, target in module.imports.items() if target in QUERY_HELPERS and "." not in local),
                 "")
    if not query:
        alias = next((local for local, target in module.imports.items() if target == "fastapi" and "." not in local),
                     "")
        query = f"{alias}.Query" if alias else ""
    return {"query": query, "imports_line": str(module.imports_end), "style": "fastapi"}


# --------------------------------------------------------------------------------------------- resolve


@dataclass(slots=True)
class _Edge:
    parent: str
    prefix: str
    dependencies: tuple[tuple[Module, Expr], ...]


@dataclass(slots=True)
class _Mount:
    """Where a router's routes end up: the path before the router's own prefix, and the dependencies on the way."""

    prefix: str
    dependencies: tuple[tuple[Module, Expr], ...]


def resolve(builder: ModelBuilder) -> None:
    if not any(facts.python is not None for facts, _ in builder.records(FastApiRouter)):
        return
    builder.project.stacks.add("fastapi")
    # Endpoints read only FastAPI records and modules through the builder: in the language server, an edit
    # elsewhere (a model, a migration) reuses them instead of reading every route's signature again.
    kinds = (FastApiRouter, FastApiInclude, FastApiRoute)
    endpoints = builder.reusable("fastapi", kinds, lambda: _all_endpoints(builder))
    builder.project.endpoints.extend(endpoints)


def _all_endpoints(builder: ModelBuilder) -> list[Endpoint]:
    routers: dict[str, tuple[Module, FastApiRouter]] = {}
    for facts, router in builder.records(FastApiRouter):
        if facts.python is not None:
            routers[object_id(facts.python.module, router.scope, router.name)] = (facts.python, router)
    endpoints: list[Endpoint] = []
    names = ObjectNames(builder, routers)
    edges: dict[str, list[_Edge]] = {}
    for facts, include in builder.records(FastApiInclude):
        module = facts.python
        if module is None:
            continue
        child = names.find(module, include.scope, include.child)
        for parent in _include_parents(module, include, names):
            if child is not None and parent != child:
                edges.setdefault(child, []).append(
                    _Edge(parent, include.prefix, tuple((module, dep) for dep in include.dependencies)))
    mounts = _Mounts(routers, edges)
    signatures = _Signatures(builder)
    for facts, route in builder.records(FastApiRoute):
        module = facts.python
        owner = names.find(module, route.scope, route.owner) if module is not None else None
        if module is None or owner is None:
            continue
        endpoints.extend(_endpoints(module, route, owner, routers, mounts, signatures))
    return endpoints


def _endpoints(module: Module, route: FastApiRoute, owner: str, routers: dict[str, tuple[Module, FastApiRouter]],
               mounts: _Mounts, signatures: _Signatures) -> list[Endpoint]:
    router_module, router = routers[owner]
    places = mounts.of(owner)
    paths = [place.prefix + router.prefix + route.path for place in places]
    path_names = {name for path in paths for name in _PATH_PARAMETER.findall(path)}
    own = signatures.handler(module, route.params, path_names)
    for dependency in route.dependencies:
        signatures.declared_dependency(module, dependency, own)
    for dependency in router.dependencies:
        signatures.declared_dependency(router_module, dependency, own)
    returns, detail, paged = _return_kind(module, route, signatures)
    endpoints: list[Endpoint] = []
    seen: set[str] = set()
    for place, path in zip(places, paths, strict=True):
        if path in seen:
            continue
        seen.add(path)
        extra = _Signature()
        for dependency_module, dependency in place.dependencies:
            signatures.declared_dependency(dependency_module, dependency, extra)
        body = route.body
        endpoints.append(Endpoint(
            framework="fastapi",
            methods=route.methods,
            path=path,
            handler=f"{module.module}.{route.function}",
            location=route.location,
            parameters=_clamped([*own.parameters, *extra.parameters, *body.query_parameters], body.clamps),
            returns=returns,
            returns_detail=detail,
            pagination=list(dict.fromkeys([*paged, *own.pagination, *extra.pagination, *body.pagination])),
            hard_cap=body.hard_cap,
            queries=list(body.queries),
            auth=list(dict.fromkeys([*own.auth, *extra.auth,
                                     *auth_decorators(route.decorators)])),
            validation=list(own.validation),
            rate_limit=list(dict.fromkeys([*rate_limit_decorators(route.decorators),
                                           *own.rate_limit, *extra.rate_limit])),
            status_code=route.status_code,
            group=owner,
            group_location=router.location,
            route_anchor=route.route_anchor,
            parameters_anchor=route.parameters_anchor,
            parameters_empty=route.parameters_empty,
            idiom=dict(route.idiom),
        ))
    return endpoints


def _include_parents(module: Module, include: FastApiInclude, names: ObjectNames) -> list[str]:
    """The router an include mounts on; for a helper that mounts on the router it is given
    (`def include_admin(target): target.include_router(admin)`), every router its module passes it."""
    parent = names.find(module, include.scope, include.parent)
    if parent is not None:
        return [parent]
    helper = next((fn for fn in module.top_level_functions() if fn.qualname == include.scope), None)
    position = next((index for index, param in enumerate(helper.params) if param.name == include.parent), None) \
        if helper is not None else None
    if helper is None or position is None:
        return []
    found: list[str] = []
    for scope, call in scoped_calls(module):
        if isinstance(call.func, Name) and call.func.dotted == helper.name:
            argument = call_argument(call, position, include.parent)
            given = names.find(module, scope, argument.dotted) if isinstance(argument, Name) else None
            if given is not None and given not in found:
                found.append(given)
    return found


class _Mounts:
    def __init__(self, routers: dict[str, tuple[Module, FastApiRouter]], edges: dict[str, list[_Edge]]) -> None:
        self.routers = routers
        self.edges = edges
        self._memo: dict[str, list[_Mount]] = {}

    def of(self, router: str, visiting: frozenset[str] = frozenset()) -> list[_Mount]:
        """Every place the router's routes are served: a router included twice serves both paths; one never
        included keeps its own prefix."""
        if router in self._memo:
            return self._memo[router]
        places: list[_Mount] = []
        for edge in self.edges.get(router, []):
            if edge.parent in visiting or edge.parent == router:
                continue
            parent_module, parent = self.routers[edge.parent]
            own = tuple((parent_module, dep) for dep in parent.dependencies)
            for place in self.of(edge.parent, visiting | {router}):
                places.append(_Mount(place.prefix + parent.prefix + edge.prefix,
                                     place.dependencies + own + edge.dependencies))
        result = places or [_Mount("", ())]
        if not visiting:
            self._memo[router] = result
        return result


# --------------------------------------------------------------------------------------------- signatures


@dataclass(slots=True)
class _Signature:
    parameters: list[Parameter] = field(default_factory=list)
    auth: list[str] = field(default_factory=list)
    validation: list[str] = field(default_factory=list)
    # Pagination a dependency provides that its parameters cannot show (fastapi-pagination's Params, a
    # paginator from a package outside the workspace).
    pagination: list[str] = field(default_factory=list)
    # Rate-limit dependencies (fastapi-limiter's `Depends(RateLimiter(times=5, seconds=60))`).
    rate_limit: list[str] = field(default_factory=list)

    def add(self, other: _Signature) -> None:
        self.parameters.extend(other.parameters)
        self.auth.extend(other.auth)
        self.pagination.extend(other.pagination)
        self.rate_limit.extend(other.rate_limit)


class _Signatures:
    """Reads handler and dependency signatures, following `Depends(...)` into any module."""

    def __init__(self, builder: ModelBuilder) -> None:
        self.builder = builder
        self.callables = Callables(builder)
        self._expanded: dict[str, _Signature] = {}
        self._expanding: set[str] = set()
        # Response models by class identity: many routes return the same one (see `_class_kind`).
        self.class_kinds: dict[tuple[int, int], tuple[ReturnKind, str | None, bool]] = {}

    def handler(self, module: Module, params: tuple[Param, ...], path_names: set[str]) -> _Signature:
        signature = _Signature()
        for param in params:
            if param.kind in ("var_positional", "var_keyword") or param.name in ("self", "cls"):
                continue
            self.parameter(module, param, path_names, None, signature, 0)
        return signature

    def declared_dependency(self, module: Module, expr: Expr, into: _Signature) -> None:
        """A `dependencies=[Depends(verify_key)]` item: its parameters count, no value is bound."""
        if not isinstance(expr, Call) or callee(expr) not in ("Depends", "Security"):
            return
        target = call_argument(expr, 0, "dependency")
        name = _dependency_name(target)
        if callee(expr) == "Security" or looks_like_auth(name):
            into.auth.append(f"{name} dependency")
        if looks_like_rate_limit(name):
            into.rate_limit.append(f"{name} dependency")
        into.add(self.expand(module, target, 1))

    def parameter(self, module: Module, param: Param, path_names: set[str], via: str | None, into: _Signature,
                  depth: int) -> None:
        where = Location(module.path, param.span)
        type_module, annotation, metadata = self._annotation(module, param.annotation)
        # Annotated[...] metadata is read where the annotation is written; a default where the parameter is.
        marker, marker_module = _marker(metadata, type_module, param.default, module)
        factory: Function | None = None
        if marker is None:
            made = self._factory_marker(metadata, type_module, param.default, module)
            if made is not None:
                marker, marker_module, factory = made
        annotation_text = expr_text(param.annotation) or None
        default_text = expr_text(param.default) if param.default is not None else None
        if isinstance(marker, Call) and MARKERS[callee(marker)] == "dependency":
            into.parameters.append(Parameter(param.name, "dependency", annotation_text, default_text, where, via))
            explicit = call_argument(marker, 0, "dependency")
            target, target_module = (explicit, marker_module) if explicit is not None else (annotation, type_module)
            name = _dependency_name(target)
            if callee(marker) == "Security" or looks_like_auth(name) or looks_like_auth(param.name):
                into.auth.append(f"{name} dependency")
            if looks_like_rate_limit(name):
                into.rate_limit.append(f"{name} dependency")
            into.add(self.expand(target_module, target, depth + 1, factory))
            return
        marker_call = marker if isinstance(marker, Call) else None
        source: ParameterSource = MARKERS[callee(marker_call)] if marker_call is not None else \
            self._implicit_source(type_module, param.name, annotation, path_names)
        upper, lower = _bounds(marker_call or _field_call(metadata, param.default), annotation)
        if via is not None:
            source = "dependency"
        elif source == "body" and self.type_source(type_module, annotation, 0) == "body":  # a model, not a scalar
            into.validation.append(f"{param.name}: {expr_text(annotation)}")
        into.parameters.append(Parameter(
            const_str_kwarg(marker_call, "alias") or param.name, source, annotation_text, default_text, where, via,
            upper, lower,
            marker_anchor=point(marker_module.path, marker_call.close) if marker_call is not None else None,
            marker_has_arguments=marker_call is not None and bool(marker_call.args or marker_call.kwargs
                                                                  or marker_call.star),
            default_location=Location(module.path, param.default.span) if param.default is not None else None))

    def _factory_marker(self, metadata: list[Expr], type_module: Module, default: Expr | None,
                        module: Module) -> tuple[Call, Module, Function] | None:
        """A call to a workspace function that returns a marker (`limit: int = LimitBody()` where `LimitBody`
        returns `Depends(get_limit)` or `Query(50, le=100)`): FastAPI sees the marker it returns. With the
        marker, the module it is written in and the function, whose nested functions it may name."""
        candidates = [(expr, type_module) for expr in metadata] + [(default, module)]
        for expr, where in candidates:
            if not isinstance(expr, Call) or not isinstance(expr.func, Name) or callee(expr) in MARKERS:
                continue
            found = self.callables.find(where, expr.func.dotted)
            if found is None or found.kind != "function" or found.module is None or found.function is None:
                continue
            returned = [value for value in found.function.returns_values if value is not None]
            calls = [value for value in returned if isinstance(value, Call) and callee(value) in MARKERS]
            # Every return gives the same kind of marker: which one FastAPI sees does not depend on the path.
            if calls and len(calls) == len(returned) and len({callee(call) for call in calls}) == 1:
                return calls[0], found.module, found.function
        return None

    def _annotation(self, module: Module, annotation: Expr | None) -> tuple[Module, Expr | None, list[Expr]]:
        """The type and Annotated[...] metadata of a parameter, through a type alias in any module
        (`SessionDep = Annotated[Session, Depends(get_db)]`), with the module the type is written in."""
        if isinstance(annotation, Name) and self.builder.resolve_class(module, annotation) is None:
            alias = self.callables.alias(module, annotation.dotted)
            if alias is not None:
                module, annotation = alias
        inner, metadata = _unwrap_annotated(annotation)
        return module, inner, metadata

    def _implicit_source(self, module: Module, name: str, annotation: Expr | None,
                         path_names: set[str]) -> ParameterSource:
        if name in path_names:
            return "path"
        if isinstance(annotation, Name) and annotation.dotted.rsplit(".", 1)[-1] in SPECIAL_TYPES:
            return "request"
        return self.type_source(module, annotation, 0)

    def type_source(self, module: Module, annotation: Expr | None, depth: int) -> ParameterSource:
        """FastAPI's reading of an undecorated parameter: scalars (and lists of them) are query parameters,
        models are the body."""
        if annotation is None or depth > 4:
            return "query"
        if isinstance(annotation, Name):
            last = annotation.dotted.rsplit(".", 1)[-1]
            if last in SCALAR_TYPES:
                return "query"
            ref = self.builder.resolve_class(module, annotation)
            if ref is None:
                return "unknown"
            bases = {name.rsplit(".", 1)[-1] for name in self.builder.base_names(ref)}
            return "query" if bases & {"Enum", "IntEnum", "StrEnum"} else "body"
        if isinstance(annotation, Subscript) and isinstance(annotation.value, Name):
            last = annotation.value.dotted.rsplit(".", 1)[-1]
            if last == "Literal":
                return "query"
            inner = [item for item in annotation.index if not _is_none(item)]
            if last in OPTIONAL_WRAPPERS | COLLECTION_TYPES | {"tuple", "Tuple"} and inner:
                return self.type_source(module, inner[0], depth + 1)
            return "body"
        if isinstance(annotation, BinOp) and annotation.op == "|":
            side = annotation.right if _is_none(annotation.left) else annotation.left
            return self.type_source(module, side, depth + 1)
        return "unknown"

    def expand(self, module: Module, target: Expr | None, depth: int, scope: Function | None = None) -> _Signature:
        """The parameters a dependency declares (recursively), each marked as coming through it. `scope` is the
        function the `Depends(...)` is written in, whose nested functions it may name."""
        if not isinstance(target, Name) or depth > _MAX_DEPTH:
            return _Signature()
        found = _nested(module, scope, target.dotted) or self.callables.find(module, target.dotted)
        if found is None or found.kind == "external":
            return _outside_dependency(target.dotted, found.qualified if found else module.resolve(target.dotted))
        key = found.qualified
        cached = self._expanded.get(key)
        if cached is not None:
            return cached
        if key in self._expanding:
            return _Signature()  # a cycle: its parameters are being collected further up
        self._expanding.add(key)
        try:
            signature = self._expand(found.kind, found.module, found.function, found.ref, key,
                                     target.dotted.rsplit(".", 1)[-1], depth)
        finally:
            self._expanding.discard(key)
        self._expanded[key] = signature
        return signature

    def _expand(self, kind: str, module: Module | None, function: Function | None, ref: ClassRef | None,
                qualified: str, name: str, depth: int) -> _Signature:
        signature = _Signature()
        params: list[tuple[Module, Param]] = []
        body: tuple[Module, Function] | None = None  # the function whose body receives the parameters
        if kind == "function" and module is not None and function is not None:
            params = [(module, param) for param in function.params]
            body = (module, function)
        elif kind == "class" and ref is not None:
            params = self._class_parameters(ref)
            init = self.callables.method(ref, "__init__")
            body = (init[0].module, init[1]) if init is not None else None
        elif kind == "instance" and ref is not None:
            call = self.callables.method(ref, "__call__")
            if call is not None:
                params = [(call[0].module, param) for param in call[1].params[1:]]
                body = (call[0].module, call[1])
            if self._is_security_scheme(ref):
                signature.auth.append(f"{name} ({ref.cls.name})")
        for param_module, param in params:
            if param.kind in ("var_positional", "var_keyword") or param.name in ("self", "cls"):
                continue
            self.parameter(param_module, param, set(), name, signature, depth)
        if body is not None:
            signature.parameters = _clamped_in(signature.parameters, *body)
        return signature

    def _class_parameters(self, ref: ClassRef) -> list[tuple[Module, Param]]:
        """A class used as a dependency: its `__init__` parameters, else its dataclass/Pydantic fields."""
        init = self.callables.method(ref, "__init__")
        if init is not None:
            return [(init[0].module, param) for param in init[1].params[1:]]
        return [(field_module, field_param(assign)) for field_module, assign in class_fields(self.builder, ref)]

    def _is_security_scheme(self, ref: ClassRef) -> bool:
        return any(name.startswith("fastapi.security") for name in self.builder.base_names(ref))


def _marker(metadata: list[Expr], type_module: Module, default: Expr | None,
            module: Module) -> tuple[Expr | None, Module]:
    """The marker call (`Query(...)`, `Depends(...)`) in the Annotated metadata, else the default, and where it
    is written."""
    for expr in metadata:
        if isinstance(expr, Call) and callee(expr) in MARKERS:
            return expr, type_module
    if isinstance(default, Call) and callee(default) in MARKERS:
        return default, module
    return None, module


def _field_call(metadata: list[Expr], default: Expr | None) -> Call | None:
    """A Pydantic `Field(...)` (in Annotated metadata or as the default), which can bound a field of a class
    used as a dependency: `limit: int = Field(50, le=100)`."""
    for expr in [*metadata, default]:
        if isinstance(expr, Call) and callee(expr) == "Field":
            return expr
    return None


def _outside_dependency(written: str, qualified: str) -> _Signature:
    """A dependency the workspace does not define: only its name and origin can speak for it."""
    signature = _Signature()
    name = written.rsplit(".", 1)[-1]
    # OAuth2PasswordRequestForm is the login form itself, not a check that the caller is signed in.
    if qualified.startswith("fastapi.security") and "RequestForm" not in qualified:
        signature.auth.append(f"{name} ({qualified})")
    if qualified.startswith("fastapi_pagination") or re.search(r"pag(e|ing|inat)", name, re.IGNORECASE):
        signature.pagination.append(f"{name} dependency ({qualified})")
    return signature


def const_str_kwarg(call: Call | None, name: str) -> str | None:
    value = call.kwarg(name) if call is not None else None
    return value.value if isinstance(value, Const) and isinstance(value.value, str) else None


def _dependency_name(target: Expr | None) -> str:
    if isinstance(target, Name):
        return target.dotted.rsplit(".", 1)[-1]
    if isinstance(target, Call):
        return _dependency_name(target.func)
    return expr_text(target) or "dependency"


def _nested(module: Module, scope: Function | None, name: str) -> Found | None:
    """A function defined inside `scope` (a dependency factory's `def get_limit(...)`), named from within it."""
    if scope is None or "." in name:
        return None
    qualname = f"{scope.qualname}.<locals>.{name}"
    function = next((fn for fn in module.functions if fn.qualname == qualname), None)
    return Found("function", f"{module.module}.{qualname}", module, function=function) if function else None


def _clamped_in(parameters: list[Parameter], module: Module, function: Function) -> list[Parameter]:
    """A dependency's own parameters, bounded by what its body clamps or rejects (`if limit > 100: raise ...`)."""
    own = {param.name for param in function.params}
    clamps = {name: bound for name, bound in body_clamps(function).items() if name in own}
    if not clamps:
        return parameters
    return [replace(parameter, upper_bound=clamps[parameter.name])
            if parameter.upper_bound is None and parameter.name in clamps and parameter.location is not None
            and parameter.location.path == module.path and within(parameter.location.span, function.span)
            else parameter for parameter in parameters]


def _clamped(parameters: list[Parameter], clamps: dict[str, str]) -> list[Parameter]:
    """Parameters the body clamps (`limit = min(limit, 100)`) have that bound as their upper bound."""
    return [replace(parameter, upper_bound=clamps[parameter.name])
            if parameter.upper_bound is None and parameter.name in clamps else parameter for parameter in parameters]


def _unwrap_annotated(annotation: Expr | None) -> tuple[Expr | None, list[Expr]]:
    """`Annotated[int, Query(le=100)]` → (int, [Query(le=100)]); other annotations unchanged."""
    if isinstance(annotation, Subscript) and isinstance(annotation.value, Name) and \
            annotation.value.dotted.rsplit(".", 1)[-1] == "Annotated" and annotation.index:
        return annotation.index[0], list(annotation.index[1:])
    return annotation, []


def _bounds(marker: Call | None, annotation: Expr | None) -> tuple[str | None, str | None]:
    """Declared bounds: `Query(le=100, ge=1)`, `conint(le=100)`."""
    sources = [marker] if marker is not None else []
    if isinstance(annotation, Call):
        sources.append(annotation)
    upper = lower = None
    for call in sources:
        for key in ("le", "lt"):
            upper = upper or (expr_text(call.kwarg(key)) if call.kwarg(key) is not None else None)
        for key in ("ge", "gt"):
            lower = lower or (expr_text(call.kwarg(key)) if call.kwarg(key) is not None else None)
    return upper, lower


def _is_none(expr: Expr) -> bool:
    return (isinstance(expr, Const) and expr.value is None) or (isinstance(expr, Name) and expr.dotted == "None")


# --------------------------------------------------------------------------------------------- return kind


def _return_kind(module: Module, route: FastApiRoute,
                 signatures: _Signatures) -> tuple[ReturnKind, str | None, list[str]]:
    """What the endpoint returns: the declared response model, else the return annotation, else the body."""
    if route.body.redirects:
        return "unknown", "a redirect", []
    for declared in (route.response_model, route.return_annotation):
        if declared is None:
            continue
        kind, detail, paged = _type_kind(module, declared, signatures, 0)
        if kind == "collection" and route.body.fixed:
            return "unknown", f"{detail}, a list fixed in code", paged
        if kind != "unknown":
            return kind, detail, paged
    return route.body.returns, route.body.returns_detail, []


def _type_kind(module: Module, expr: Expr, signatures: _Signatures,
               depth: int) -> tuple[ReturnKind, str | None, list[str]]:
    if depth > 4:
        return "unknown", None, []
    if _is_none(expr):
        return "none", None, []
    if isinstance(expr, BinOp) and expr.op == "|":
        side = expr.right if _is_none(expr.left) else expr.left
        return _type_kind(module, side, signatures, depth + 1)
    if isinstance(expr, Name):
        return _named_type_kind(module, expr, signatures)
    if not isinstance(expr, Subscript) or not isinstance(expr.value, Name):
        return "unknown", None, []
    text = expr_text(expr)
    base = expr.value.dotted.rsplit(".", 1)[-1]
    inner = [item for item in expr.index if not _is_none(item)]
    if base in OPTIONAL_WRAPPERS:
        return _type_kind(module, inner[0], signatures, depth + 1) if inner else ("unknown", None, [])
    if base in COLLECTION_TYPES:
        return "collection", text, []
    if base in ("tuple", "Tuple"):
        ellipsis = any(isinstance(item, Raw) and item.kind == "ellipsis" for item in expr.index)
        return ("collection", text, []) if ellipsis else ("item", text, [])
    if base in ("dict", "Dict", "Mapping", "MutableMapping"):
        return "item", text, []
    qualified = module.resolve(expr.value.dotted)
    ref = signatures.builder.resolve_class(module, expr.value)
    if qualified.startswith("fastapi_pagination") or (ref is None and base in PAGE_WRAPPERS):
        return "collection", text, [f"{text} response model"]
    if ref is not None:
        kind, _, paged = _class_kind(ref, signatures)
        return kind, text, [f"{text} response model"] if paged else []
    return "item", text, []


def _named_type_kind(module: Module, expr: Name, signatures: _Signatures) -> tuple[ReturnKind, str | None, list[str]]:
    last = expr.dotted.rsplit(".", 1)[-1]
    if last in RESPONSE_CLASSES or last == "Any":
        return "unknown", None, []
    if last in COLLECTION_TYPES or last in ("tuple", "Tuple"):
        return "collection", expr.dotted, []
    ref = signatures.builder.resolve_class(module, expr)
    if ref is None:
        if module.resolve(expr.dotted).startswith("fastapi_pagination") or last in PAGE_WRAPPERS:
            return "collection", expr.dotted, [f"{expr.dotted} response model"]
        return "item", expr.dotted, []
    kind, _, paged = _class_kind(ref, signatures)
    return kind, expr.dotted, [f"{expr.dotted} response model"] if paged else []


def _class_kind(ref: ClassRef, signatures: _Signatures) -> tuple[ReturnKind, str | None, bool]:
    """A response model: an envelope around a list (`items: list[X]` with nothing else but paging fields such as
    `total`/`next`/`page`) is a collection, paged when it has such fields; anything else is one item."""
    key = (id(ref.module), id(ref.cls))
    if key not in signatures.class_kinds:
        signatures.class_kinds[key] = _read_class_kind(ref, signatures)
    return signatures.class_kinds[key]


def _read_class_kind(ref: ClassRef, signatures: _Signatures) -> tuple[ReturnKind, str | None, bool]:
    fields = class_fields(signatures.builder, ref)
    names = {assign.targets[0] for _, assign in fields}
    collections = [assign.targets[0] for field_module, assign in fields
                   if assign.targets[0] in ENVELOPE_FIELDS and assign.annotation is not None
                   and _type_kind(field_module, assign.annotation, signatures, 3)[0] == "collection"]
    if not collections:
        return "item", None, False
    others = names - {collections[0]}
    if not others <= PAGING_FIELDS | {"count"}:
        return "item", None, False
    return "collection", ref.cls.name, bool(others & PAGING_FIELDS)
