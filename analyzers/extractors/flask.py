"""Flask: apps, blueprints and their URL prefixes across modules, and one `Endpoint` per view and path.

Per file, `extract` records apps (`Flask(__name__)`, also inside `create_app()` factories), blueprints
(`Blueprint(..., url_prefix=...)`, flask-smorest, APIFlask), `Api(...)` objects (flask-smorest, flask-restful,
flask-restx), `register_blueprint` calls, and routes: `@app.route(...)`, `@bp.get(...)`, `add_url_rule(...)`
with a function or a `MethodView.as_view(...)`, `api.add_resource(...)`, `@blp.route(...)` on a class. A view
function's body is read here (queries, return shape, `paginate()` calls, `request.args.get("page")`), with its
decorators (`@blp.response(200, Schema(many=True))`, `@blp.paginate()`, `@use_args(...)`).

Across files, `resolve` composes blueprint prefixes the way Flask does (a `url_prefix` given at registration
replaces the blueprint's own; a nested blueprint's prefix is appended to its parent's) and reads view classes
and functions registered from another module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from analyzers.extractors._http import (
    HTTP_VERBS,
    BodyFacts,
    Callables,
    ObjectNames,
    analyze_body,
    auth_decorators,
    body_clamps,
    call_argument,
    callee,
    class_fields,
    decorator_names,
    object_id,
    path_text,
    rate_limit_decorators,
    receiver,
    request_arguments,
    scope_of,
    scoped_assigns,
    scoped_calls,
    status_of,
    strings_of,
    within,
)
from analyzers.facts import SourceFile
from analyzers.model import Endpoint, Location, Parameter, ParameterSource, ReturnKind
from analyzers.pysyntax import Call, Const, Expr, Function, Module, Name, Seq, const_str, expr_text
from analyzers.resolve import ClassRef, ModelBuilder

APP_CLASSES = frozenset({"flask.Flask", "flask.app.Flask", "apiflask.APIFlask", "apiflask.app.APIFlask"})
BLUEPRINT_CLASSES = frozenset({
    "flask.Blueprint", "flask.blueprints.Blueprint", "flask_smorest.Blueprint", "flask_smorest.blueprint.Blueprint",
    "apiflask.APIBlueprint", "apiflask.blueprint.APIBlueprint",
})
API_CLASSES = frozenset({"flask_smorest.Api", "flask_restful.Api", "flask_restx.Api"})
# Decorators that declare the response schema: flask-smorest `response(status, schema)`, APIFlask `output(schema)`.
RESPONSE_DECORATORS = {"response": 1, "output": 0}
# Decorators that declare request arguments: flask-smorest `arguments`, APIFlask `input`, webargs `use_args`.
ARGUMENT_DECORATORS = frozenset({"arguments", "input", "use_args", "use_kwargs"})
QUERY_LOCATIONS = frozenset({"query", "querystring", "args"})
# The parent of a registration on an app we cannot name (a parameter of a hook: `def load(app): app.register_
# blueprint(bp, url_prefix="/auth")`).
UNSEEN_APP = "<app>"
_RULE_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([A-Za-z_][A-Za-z0-9_]*)>")


# --------------------------------------------------------------------------------------------- records


@dataclass(slots=True)
class FlaskObject:
    """An app, a blueprint or an extension `Api` bound to a variable in `scope` ("" = module level)."""

    scope: str
    name: str
    kind: Literal["app", "blueprint", "api"]
    url_prefix: str | None
    parent: str | None  # for an Api: the app or blueprint it was created on
    location: Location


@dataclass(slots=True)
class FlaskRegistration:
    """`parent.register_blueprint(child, url_prefix=...)` or `child.init_app(parent)`."""

    scope: str
    parent: str
    child: str
    url_prefix: str | None
    location: Location


@dataclass(slots=True)
class FlaskHandler:
    """A view function (or a MethodView method) with what its body and decorators say."""

    function: str  # qualname in its module
    location: Location
    body: BodyFacts
    returns: ReturnKind | None = None  # declared by a response decorator
    returns_detail: str | None = None
    pagination: tuple[str, ...] = ()
    # (schema, location) of argument decorators, resolved to parameter names across modules.
    arguments: tuple[tuple[Expr, str], ...] = ()
    decorators: tuple[str, ...] = ()
    status_code: int | None = None
    parameters_empty: bool = True


@dataclass(slots=True)
class FlaskRoute:
    scope: str
    owner: str  # the app, blueprint or api as written
    rules: tuple[str, ...]
    methods: tuple[str, ...] | None
    location: Location
    handler: FlaskHandler | None = None  # a view function decorated here
    view: str | None = None  # otherwise the view (function or class) by name, found at resolve time
    view_is_class: bool = False


@dataclass(slots=True)
class BlueprintLimit:
    """A rate limit on every route of a blueprint: Flask-Limiter's `limiter.limit("5/minute")(bp)`, or a
    `@bp.before_request` hook that calls the limiter (`limiter.check()`)."""

    scope: str
    owner: str  # the blueprint as written
    evidence: str


@dataclass(slots=True)
class HelperRouteCall:
    """A call handing a view to a function of the project that may register it for the caller:
    `register_view(forum, routes=["/forum/<int:forum_id>"], view_func=ViewForum.as_view("view_forum"))`
    (FlaskBB), where `register_view` loops `bp.add_url_rule(route, view_func=view_func)` over `routes`."""

    scope: str
    call: Call
    location: Location


# --------------------------------------------------------------------------------------------- extract


def extract(source: SourceFile) -> list[object]:
    module = source.python
    if module is None:
        return []
    records: list[object] = [*_objects(module, source.path)]
    uses_flask = bool(records) or any(_is_flask_module(target) for target in module.imports.values())
    uses_fastapi = any(target.split(".", 1)[0] == "fastapi" for target in module.imports.values())
    if uses_flask:
        records.extend(_registrations(module, source.path))
        records.extend(_rule_calls(module, source.path))
        records.extend(_helper_calls(module, source.path))
        records.extend(_blueprint_limits(module))
    records.extend(_decorated_routes(module, source.path, uses_flask, uses_fastapi))
    return records


def _is_flask_module(name: str) -> bool:
    top = name.split(".", 1)[0]
    return top in ("flask", "apiflask", "webargs") or top.startswith("flask_")


def _objects(module: Module, path: str) -> list[FlaskObject]:
    found: list[FlaskObject] = []
    for scope, assign in scoped_assigns(module):
        value = assign.value
        if not isinstance(value, Call) or not isinstance(value.func, Name) or not assign.targets:
            continue
        if "." in assign.targets[0]:
            continue
        qualified = module.resolve(value.func.dotted)
        parent: Expr | None = None
        if qualified in APP_CLASSES:
            kind: Literal["app", "blueprint", "api"] = "app"
            prefix = None
        elif qualified in BLUEPRINT_CLASSES:
            kind, prefix = "blueprint", path_text(module, value.kwarg("url_prefix"))
        elif qualified in API_CLASSES:
            kind, prefix = "api", path_text(module, value.kwarg("prefix"))
            parent = call_argument(value, 0, "app")
        else:
            continue
        found.append(FlaskObject(scope, assign.targets[0], kind, prefix,
                                 parent.dotted if isinstance(parent, Name) else None, Location(path, assign.span)))
    return found


def _registrations(module: Module, path: str) -> list[FlaskRegistration]:
    found: list[FlaskRegistration] = []
    for scope, call in scoped_calls(module):
        owner = receiver(call)
        name = callee(call)
        argument = call_argument(call, 0, "blueprint" if name == "register_blueprint" else "app")
        if owner is None or not isinstance(argument, Name):
            continue
        if name == "register_blueprint":
            found.append(FlaskRegistration(scope, owner, argument.dotted, path_text(module, call.kwarg("url_prefix")),
                                           Location(path, call.span)))
        elif name == "init_app":  # api.init_app(app): the api lives on the app
            found.append(FlaskRegistration(scope, argument.dotted, owner, None, Location(path, call.span)))
    return found


def _rule_calls(module: Module, path: str) -> list[FlaskRoute]:
    """`add_url_rule(rule, endpoint, view_func)` and `api.add_resource(Resource, "/a", "/b")`."""
    found: list[FlaskRoute] = []
    functions = {fn.qualname: fn for fn in module.functions}
    for scope, call in scoped_calls(module):
        owner = receiver(call)
        name = callee(call)
        if owner is None:
            continue
        if name == "add_url_rule":
            rules = _rules_of(module, functions.get(scope), call, call_argument(call, 0, "rule"))
            view, is_class = _view_target(module, scope, call_argument(call, 2, "view_func"))
            methods = tuple(method.upper() for method in strings_of(call.kwarg("methods"))) or None
            if rules and view is not None:
                found.append(FlaskRoute(scope, owner, rules, methods, Location(path, call.span), None, view,
                                        is_class))
        elif name == "add_resource" and call.args and isinstance(call.args[0], Name):
            rules = tuple(rule for rule in (path_text(module, arg) for arg in call.args[1:]) if rule is not None)
            if rules:
                found.append(FlaskRoute(scope, owner, rules, None, Location(path, call.span), None,
                                        call.args[0].dotted, True))
    return found


def _rules_of(module: Module, fn: Function | None, call: Call, rule: Expr | None) -> tuple[str, ...]:
    """The rule of an `add_url_rule` call; each item of a literal list the rule is looped over
    (`for rule in [CREATE_USER, AJAX_CREATE_USER]: app.add_url_rule(rule=rule, ...)`, MLflow)."""
    iterable = _looped_over(fn, rule, call) if fn is not None else None
    if isinstance(iterable, Seq):
        return tuple(text for text in (path_text(module, item) for item in iterable.items) if text)
    text = path_text(module, rule)
    return (text,) if text is not None else ()


def _helper_calls(module: Module, path: str) -> list[HelperRouteCall]:
    """Calls of a plain function that pass a view or a URL rule: whether the function registers a route is known
    only when the whole workspace is read."""
    return [HelperRouteCall(scope, call, Location(path, call.span)) for scope, call in scoped_calls(module)
            if isinstance(call.func, Name) and callee(call) not in ("add_url_rule", "add_resource")
            and _passes_a_view(call)]


def _blueprint_limits(module: Module) -> list[BlueprintLimit]:
    found: list[BlueprintLimit] = []
    for scope, call in scoped_calls(module):  # limiter.limit("5/minute")(bp)
        inner = call.func
        if (isinstance(inner, Call) and isinstance(inner.func, Name) and call.args and isinstance(call.args[0], Name)
                and rate_limit_decorators([inner.func.dotted])):
            found.append(BlueprintLimit(scope, call.args[0].dotted, inner.func.dotted))
    for fn in module.functions:  # @bp.before_request def check(): return limiter.check()
        hooks = [name.rsplit(".", 1)[0] for name in decorator_names(fn) if name.endswith(".before_request")]
        limits = rate_limit_decorators(call.func.dotted for call in fn.calls if isinstance(call.func, Name))
        found.extend(BlueprintLimit(scope_of(fn), hook, f"{limits[0]} (before_request)")
                     for hook in hooks if limits)
    return found


def _passes_a_view(call: Call) -> bool:
    """A `view_func=`, a `SomeView.as_view(...)`, or a URL rule (`"/topics/<int:id>"`, a list of them)."""
    values = [*call.args, *(value for _, value in call.kwargs)]
    return call.kwarg("view_func") is not None or any(
        (isinstance(value, Call) and callee(value) == "as_view") or any(
            rule.startswith("/") for rule in strings_of(value)) for value in values)


def _view_target(module: Module, scope: str, expr: Expr | None) -> tuple[str | None, bool]:
    """The view a `view_func=` names: `OrderAPI.as_view("orders")` → ("OrderAPI", class), `index` → function.
    A variable bound to an `as_view(...)` call in the same scope is followed."""
    if isinstance(expr, Name):
        bound = _bound_value(module, scope, expr.dotted)
        if isinstance(bound, Call):
            return _view_target(module, scope, bound)
        return expr.dotted, False
    if isinstance(expr, Call) and callee(expr) == "as_view" and isinstance(expr.func, Name):
        return expr.func.dotted.rsplit(".", 1)[0], True
    return None, False


def _bound_value(module: Module, scope: str, name: str) -> Expr | None:
    for assign_scope, assign in scoped_assigns(module):
        if assign_scope == scope and name in assign.targets:
            return assign.value
    return None


def _decorated_routes(module: Module, path: str, uses_flask: bool, uses_fastapi: bool) -> list[FlaskRoute]:
    found: list[FlaskRoute] = []
    for fn in module.functions:
        for decorator, owner, rule, methods in _route_decorators(module, fn.decorators, uses_flask, uses_fastapi):
            found.append(FlaskRoute(scope_of(fn), owner, (rule,), methods, Location(path, decorator.span),
                                    view_handler(module, fn)))
    for cls in module.classes:  # flask-smorest: @blp.route("/") on a MethodView
        for decorator, owner, rule, methods in _route_decorators(module, cls.decorators, uses_flask, uses_fastapi):
            found.append(FlaskRoute("", owner, (rule,), methods, Location(path, decorator.span), None,
                                    cls.qualname, True))
    return found


def _route_decorators(module: Module, decorators: list[Expr], uses_flask: bool,
                      uses_fastapi: bool) -> list[tuple[Call, str, str, tuple[str, ...] | None]]:
    found: list[tuple[Call, str, str, tuple[str, ...] | None]] = []
    for decorator in decorators:
        if not isinstance(decorator, Call):
            continue
        owner = receiver(decorator)
        verb = callee(decorator)
        if owner is None or (verb != "route" and verb not in HTTP_VERBS):
            continue
        # An object neither created here with Flask nor imported (a FastAPI router in a FastAPI module) is not ours.
        imported = owner.split(".", 1)[0] in module.imports
        if not uses_flask and not (imported and not uses_fastapi):
            continue
        rule = path_text(module, call_argument(decorator, 0, "rule"))
        if rule is None:
            continue
        if verb == "route":
            methods = tuple(method.upper() for method in strings_of(decorator.kwarg("methods"))) or None
        else:
            methods = (verb.upper(),)
        found.append((decorator, owner, rule, methods))
    return found


def view_handler(module: Module, fn: Function) -> FlaskHandler:
    """A view function's facts: its body, and what its decorators declare."""
    returns: ReturnKind | None = None
    detail: str | None = None
    pagination: list[str] = []
    arguments: list[tuple[Expr, str]] = []
    status: int | None = None
    for decorator in fn.decorators:
        if not isinstance(decorator, Call):
            continue
        name = callee(decorator)
        if name in RESPONSE_DECORATORS and receiver(decorator) is not None:
            schema = call_argument(decorator, RESPONSE_DECORATORS[name], "schema")
            if schema is not None:
                returns, detail = ("collection" if _many(schema) else "item"), expr_text(schema)
            status = status or status_of(decorator.args[0] if name == "response" and decorator.args else None)
        elif name == "paginate" and receiver(decorator) is not None:
            pagination.append(f"@{expr_text(decorator)}")
        elif name in ARGUMENT_DECORATORS and decorator.args:
            where = const_str(decorator.kwarg("location")) or "json"
            arguments.append((decorator.args[0], where))
    return FlaskHandler(
        function=fn.qualname,
        location=Location(module.path, fn.name_span),
        body=analyze_body(module, fn, module.path),
        returns=returns,
        returns_detail=detail,
        pagination=tuple(pagination),
        arguments=tuple(arguments),
        decorators=tuple(decorator_names(fn)),
        status_code=status,
        parameters_empty=not any(param.name not in ("self", "cls") for param in fn.params),
    )


def _many(schema: Expr) -> bool:
    """`Schema(many=True)`: the schema serialises a list."""
    if isinstance(schema, Call):
        value = schema.kwarg("many")
        return isinstance(value, Const) and value.value is True
    return False


# --------------------------------------------------------------------------------------------- resolve


def resolve(builder: ModelBuilder) -> None:
    objects: dict[str, tuple[Module, FlaskObject]] = {}
    for facts, obj in builder.records(FlaskObject):
        if facts.python is not None:
            objects[object_id(facts.python.module, obj.scope, obj.name)] = (facts.python, obj)
    if not objects:
        return
    builder.project.stacks.add("flask")
    names = ObjectNames(builder, objects)
    prefixes = _Prefixes(objects, _edges(builder, objects, names))
    views = _Views(builder)
    endpoints: list[Endpoint] = []
    for facts, route in builder.records(FlaskRoute):
        if facts.python is not None:
            endpoints.extend(_route_endpoints(facts.python, route, names, prefixes, views))
    for facts, helper_call in builder.records(HelperRouteCall):
        helped = _helped_route(facts.python, helper_call, views) if facts.python is not None else None
        if facts.python is not None and helped is not None:
            endpoints.extend(_route_endpoints(facts.python, helped, names, prefixes, views))
    limits = _limited_blueprints(builder, names)
    for endpoint in endpoints:
        if endpoint.group in limits and limits[endpoint.group] not in endpoint.rate_limit:
            endpoint.rate_limit.append(limits[endpoint.group])
    builder.project.endpoints.extend(endpoints)


def _limited_blueprints(builder: ModelBuilder, names: ObjectNames) -> dict[str, str]:
    """Blueprint id → the rate limit every one of its routes goes through."""
    limited: dict[str, str] = {}
    for facts, limit in builder.records(BlueprintLimit):
        owner = names.find(facts.python, limit.scope, limit.owner) if facts.python is not None else None
        if owner is not None:
            limited.setdefault(owner, limit.evidence)
    return limited


@dataclass(frozen=True, slots=True)
class _Registration:
    """How a helper function registers what it is given: the parameters holding the app or blueprint, the rule
    (or the rules it loops over) and the view."""

    owner: str
    rule: str
    each: bool
    view: str
    forwards_options: bool  # `**kwargs` passed on to add_url_rule: the caller's `methods=` reaches it


def _helped_route(module: Module, helper_call: HelperRouteCall, views: _Views) -> FlaskRoute | None:
    """The route a call of a registering helper makes, as if the caller had called `add_url_rule` itself."""
    call = helper_call.call
    assert isinstance(call.func, Name)
    found = views.callables.find(module, call.func.dotted)
    if found is None or found.kind != "function" or found.function is None:
        return None
    registration = _registration_in(found.function)
    if registration is None:
        return None
    bound = _bind(found.function, call)
    owner, rule, view_expr = bound.get(registration.owner), bound.get(registration.rule), bound.get(registration.view)
    if not isinstance(owner, Name) or rule is None:
        return None
    rules = strings_of(rule) if registration.each else tuple(text for text in (path_text(module, rule),) if text)
    view, is_class = _view_target(module, helper_call.scope, view_expr)
    if not rules or view is None:
        return None
    methods_expr = call.kwarg("methods") if registration.forwards_options else None
    methods = tuple(method.upper() for method in strings_of(methods_expr)) or None
    return FlaskRoute(helper_call.scope, owner.dotted, rules, methods, helper_call.location, None, view, is_class)


def _registration_in(fn: Function) -> _Registration | None:
    """`P.add_url_rule(R, view_func=V)` in `fn`, with P and V parameters and R a parameter or the variable of a
    loop over one."""
    params = {param.name for param in fn.params}
    for call in fn.calls:
        owner = receiver(call)
        view = call_argument(call, 2, "view_func")
        rule = call_argument(call, 0, "rule")
        if (callee(call) != "add_url_rule" or owner not in params or not isinstance(view, Name)
                or view.dotted not in params or not isinstance(rule, Name)):
            continue
        forwards = call.star
        if rule.dotted in params:
            return _Registration(owner, rule.dotted, False, view.dotted, forwards)
        iterable = _looped_over(fn, rule, call)
        if isinstance(iterable, Name) and iterable.dotted in params:
            return _Registration(owner, iterable.dotted, True, view.dotted, forwards)
    return None


def _looped_over(fn: Function, name: Expr | None, call: Call) -> Expr | None:
    """What a loop around `call` iterates when it binds `name` (`for route in routes:` → `routes`)."""
    if not isinstance(name, Name):
        return None
    return next((iterable for span, iterable, names in fn.loop_sources
                 if name.dotted in names and within(call.span, span)), None)


def _bind(fn: Function, call: Call) -> dict[str, Expr]:
    """Parameter name → the argument a call gives it (positionally or by keyword)."""
    positional = [param.name for param in fn.params if param.kind == "positional"]
    if fn.owner is not None and positional:  # a method: the first parameter is the receiver
        positional = positional[1:]
    bound = dict(zip(positional, call.args, strict=False))
    bound.update(call.kwargs)
    return bound


def _edges(builder: ModelBuilder, objects: dict[str, tuple[Module, FlaskObject]],
           names: ObjectNames) -> dict[str, list[tuple[str, str | None]]]:
    """For each blueprint or api: where it is registered (parent id, the url_prefix given there)."""
    edges: dict[str, list[tuple[str, str | None]]] = {}
    for key, (owner_module, obj) in objects.items():
        parent = names.find(owner_module, obj.scope, obj.parent) if obj.parent else None
        if parent is not None and parent != key:
            edges.setdefault(key, []).append((parent, None))
    for facts, registration in builder.records(FlaskRegistration):
        module = facts.python
        if module is None:
            continue
        parent = names.find(module, registration.scope, registration.parent)
        child = names.find(module, registration.scope, registration.child)
        if child is not None and parent != child:
            # `app.register_blueprint(bp, url_prefix="/auth")` in a hook given the app: the prefix still applies
            edges.setdefault(child, []).append((parent or UNSEEN_APP, registration.url_prefix))
    return edges


def _route_endpoints(module: Module, route: FlaskRoute, names: ObjectNames, prefixes: _Prefixes,
                     views: _Views) -> list[Endpoint]:
    owner = names.find(module, route.scope, route.owner)
    if owner is None:
        return []
    endpoints: list[Endpoint] = []
    group_location = prefixes.objects[owner][1].location
    for prefix in prefixes.of(owner):
        for rule in route.rules:
            path = _apply_prefix(prefix, rule)
            for handler_module, view, methods in views.handlers(module, route):
                endpoint = _endpoint(handler_module, view, methods, path, views)
                endpoint.group, endpoint.group_location = owner, group_location
                endpoints.append(endpoint)
    return endpoints


class _Prefixes:
    def __init__(self, objects: dict[str, tuple[Module, FlaskObject]],
                 edges: dict[str, list[tuple[str, str | None]]]) -> None:
        self.objects = objects
        self.edges = edges

    def of(self, node: str, visiting: frozenset[str] = frozenset()) -> list[str | None]:
        """The URL prefixes the routes of `node` get, once per registration (Flask's rules: a registration's
        `url_prefix` replaces the blueprint's own; a nested blueprint's is appended to its parent's)."""
        if node == UNSEEN_APP:
            return [None]
        _, obj = self.objects[node]
        if obj.kind == "app":
            return [None]
        found: list[str | None] = []
        for parent, option in self.edges.get(node, []):
            if parent in visiting:
                continue
            own = option if option is not None else obj.url_prefix
            for parent_prefix in self.of(parent, visiting | {node}):
                found.append(_combine(parent_prefix, own))
        return list(dict.fromkeys(found)) or [obj.url_prefix]


def _combine(parent: str | None, own: str | None) -> str | None:
    if parent is not None and own is not None:
        return parent.rstrip("/") + "/" + own.lstrip("/")
    return own if own is not None else parent


def _apply_prefix(prefix: str | None, rule: str) -> str:
    if prefix is None:
        return rule
    return prefix.rstrip("/") + "/" + rule.lstrip("/") if rule else prefix


class _Views:
    """Finds the handlers behind a route: the decorated function, or a view function/class by name."""

    def __init__(self, builder: ModelBuilder) -> None:
        self.builder = builder
        self.callables = Callables(builder)
        self._handlers: dict[str, FlaskHandler] = {}
        self._helper_arguments: dict[str, list[Parameter]] = {}

    def handlers(self, module: Module, route: FlaskRoute) -> list[tuple[Module, FlaskHandler, tuple[str, ...]]]:
        if route.handler is not None:
            return [(module, route.handler, route.methods or ("GET",))]
        found = self.callables.find(module, route.view) if route.view else None
        if found is None:
            return []
        if found.kind == "function" and found.module is not None and found.function is not None:
            return [(found.module, self._handler(found.module, found.function), route.methods or ("GET",))]
        if found.kind != "class" or found.ref is None:
            return []
        result: list[tuple[Module, FlaskHandler, tuple[str, ...]]] = []
        wrapped = self.class_decorators(found.ref)
        for verb in HTTP_VERBS:
            method = self.callables.method(found.ref, verb)
            if method is not None and (route.methods is None or verb.upper() in route.methods):
                owner, fn = method
                handler = self._handler(owner.module, fn)
                if wrapped:
                    handler = replace(handler, decorators=(*handler.decorators, *wrapped))
                result.append((owner.module, handler, (verb.upper(),)))
        return result

    def class_decorators(self, ref: ClassRef) -> tuple[str, ...]:
        """A view class's `decorators = [login_required, limiter.limit("5/minute")]`: `as_view()` wraps every
        method in them. The nearest class that sets the attribute wins, as attribute lookup does."""
        for current in [ref, *self.builder.ancestors(ref)]:
            value = current.cls.assigned("decorators")
            if value is not None:
                items = value.items if isinstance(value, Seq) else ()
                targets = [item.func if isinstance(item, Call) else item for item in items]
                return tuple(target.dotted for target in targets if isinstance(target, Name))
        return ()

    def _handler(self, module: Module, fn: Function) -> FlaskHandler:
        key = f"{module.module}.{fn.qualname}"
        if key not in self._handlers:
            self._handlers[key] = view_handler(module, fn)
        return self._handlers[key]

    def helper_parameters(self, module: Module, view: FlaskHandler) -> list[Parameter]:
        """Query arguments read by the functions the view calls (`page, per_page = page_args()`), one level."""
        parameters: list[Parameter] = []
        for dotted in view.body.helper_calls:
            found = self.callables.find(module, dotted)
            if found is None or found.function is None or found.module is None:
                continue
            if found.qualified not in self._helper_arguments:
                clamps = body_clamps(found.function)
                self._helper_arguments[found.qualified] = [
                    Parameter(p.name, p.source, p.annotation, p.default, p.location, found.function.name,
                              upper_bound=clamps.get(p.name))
                    for p in request_arguments(found.module, found.function)]
            parameters.extend(self._helper_arguments[found.qualified])
        return parameters

    def argument_parameters(self, module: Module, view: FlaskHandler) -> list[Parameter]:
        """Parameters declared by argument decorators: a dict literal's keys or a schema class's fields."""
        parameters: list[Parameter] = []
        for schema, where in view.arguments:
            source: ParameterSource = "query" if where in QUERY_LOCATIONS else "body"
            for name, at in self._schema_fields(module, schema):
                parameters.append(Parameter(name, source, location=at, via=expr_text(schema)))
        return parameters

    def _schema_fields(self, module: Module, schema: Expr) -> list[tuple[str, Location | None]]:
        if isinstance(schema, Seq) and schema.kind == "dict":
            return [(key, Location(module.path, item.span))
                    for key, item in ((const_str(k), k) for k in schema.keys) if key is not None]
        target = schema.func if isinstance(schema, Call) else schema
        ref = self.builder.resolve_class(module, target) if isinstance(target, Name) else None
        if ref is None:
            return []
        return [(assign.targets[0], Location(field_module.path, assign.span))
                for field_module, assign in class_fields(self.builder, ref, annotated_only=False)]


def _endpoint(module: Module, view: FlaskHandler, methods: tuple[str, ...], path: str, views: _Views) -> Endpoint:
    body = view.body
    arguments = views.argument_parameters(module, view)
    parameters = [Parameter(name, "path", location=view.location) for name in _RULE_PARAMETER.findall(path)]
    known = {parameter.name for parameter in [*parameters, *body.query_parameters, *arguments]}
    helpers = [parameter for parameter in views.helper_parameters(module, view) if parameter.name not in known]
    clamped = [replace(parameter, upper_bound=body.clamps[parameter.name])
               if parameter.upper_bound is None and parameter.name in body.clamps else parameter
               for parameter in body.query_parameters]
    parameters += [*clamped, *arguments, *helpers]
    returns = view.returns or body.returns
    detail = view.returns_detail if view.returns else body.returns_detail
    return Endpoint(
        framework="flask",
        methods=methods,
        path=path,
        handler=f"{module.module}.{view.function}",
        location=view.location,
        parameters=parameters,
        returns=returns,
        returns_detail=detail,
        pagination=list(dict.fromkeys([*view.pagination, *body.pagination])),
        hard_cap=body.hard_cap,
        queries=list(body.queries),
        auth=auth_decorators(view.decorators),
        validation=list(dict.fromkeys(f"{parameter.via} ({parameter.source})" for parameter in arguments
                                      if parameter.via)),
        rate_limit=rate_limit_decorators(view.decorators),
        status_code=view.status_code,
        parameters_anchor=None,
        parameters_empty=view.parameters_empty,
        idiom={"query": "", "imports_line": str(module.imports_end), "style": "flask"},
    )

