"""Applications and how they are set up: FastAPI/Starlette/Flask app objects, Django settings, their middleware,
CORS configuration, and project-wide server evidence.

Per file, `extract` records:

- app objects (`FastAPI(...)`, `Starlette(...)`, `Flask(__name__)`, `APIFlask(...)`, also inside factories) with
  the middleware passed to the constructor (`middleware=[Middleware(CORSMiddleware, ...)]`);
- what is attached to an app: `app.add_middleware(X, ...)`, `app.wsgi_app = X(app.wsgi_app)`, Flask extensions
  built on it (`CORS(app)`, `Talisman(app)`, `Limiter(app=app)`, `ext.init_app(app)`), request hooks
  (`@app.after_request`, `@app.middleware("http")`) and exception handlers;
- Django settings modules: `MIDDLEWARE`, `INSTALLED_APPS`, the CORS settings of django-cors-headers and the
  `REST_FRAMEWORK` keys about pagination, throttling and versioning, each with where it is written;
- CORS configurations (Starlette's CORSMiddleware, Flask-CORS, django-cors-headers) with whether they allow any
  origin and credentials;
- DRF pagination classes and what they let the client choose;
- server evidence anywhere in the code: health-check libraries and health paths, security-header libraries and
  header names, global rate limits and brute-force protection, API version headers and versioning libraries.

Across files, `resolve` attaches middleware, extensions and hooks to their app (through imports and factories),
and registers `App` records and call sites. Call-site kinds (`CallSite.kind`) and their `detail` keys:

- `cors_config`: detail `any_origin` ("true"/"false"), `credentials` ("true"/"false"), `how` (the setting as
  written), `framework`.
- `server_evidence`: detail `what` (`health`, `security_headers`, `rate_limit`, `brute_force`, `versioning`,
  `version_header`, `version_query`, `auth_hook`), `text`; `group` for a hook on a blueprint or app.
- `pagination_class`: a DRF pagination class (or setting) that lets the client choose the page size. detail
  `name`, `client_size` (how the client chooses it), `max` (the declared maximum, empty when none),
  `attribute` (the maximum's name), `insert_line`/`indent` (where a class attribute can be added).

`App.middlewares` holds middleware and the Flask extensions that act on every response (CORS, compression,
Talisman, a limiter); `App.detail` keys: `dev` ("true" for development settings), `settings_module`, `hooks` and
`extensions` (comma-separated), `urls_at` (Django: "path:line:column" of the root URL configuration's
`urlpatterns`), `no_middleware` (Django settings without `MIDDLEWARE`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from analyzers.extractors._http import (
    ObjectNames,
    call_argument,
    callee,
    object_id,
    receiver,
    scope_of,
    scoped_assigns,
    scoped_calls,
    strings_of,
    walk,
)
from analyzers.facts import SourceFile
from analyzers.model import App, CallSite, Location, Span
from analyzers.pysyntax import (
    Assign,
    Call,
    Class,
    Const,
    Expr,
    Function,
    Module,
    Name,
    Seq,
    Subscript,
    const_str,
    expr_text,
)
from analyzers.resolve import ModelBuilder

# A module that imports none of these declares no app, route, middleware or limiter.
SERVER_PACKAGES = frozenset({"fastapi", "starlette", "flask", "django", "rest_framework", "quart", "apiflask",
                             "werkzeug", "slowapi", "fastapi_limiter", "secure", "talisman", "ninja", "litestar"})
APP_CLASSES = {
    "fastapi.FastAPI": "fastapi", "fastapi.applications.FastAPI": "fastapi",
    "starlette.applications.Starlette": "starlette",
    "flask.Flask": "flask", "flask.app.Flask": "flask", "apiflask.APIFlask": "flask", "apiflask.app.APIFlask": "flask",
}
CORS_MIDDLEWARE = frozenset({"starlette.middleware.cors.CORSMiddleware", "fastapi.middleware.cors.CORSMiddleware"})
FLASK_CORS = frozenset({"flask_cors.CORS", "flask_cors.extension.CORS"})
FLASK_CROSS_ORIGIN = frozenset({"flask_cors.cross_origin", "flask_cors.decorator.cross_origin"})
# Packages whose objects set security headers (Talisman, secure.py, django-csp, ...).
SECURITY_HEADER_PACKAGES = ("flask_talisman", "talisman", "secure", "csp", "django_csp", "starlette_csp",
                            "fastapi_security_headers", "securityheaders", "secweb")
SECURITY_HEADERS = frozenset({
    "strict-transport-security", "x-content-type-options", "content-security-policy", "x-frame-options",
    "referrer-policy", "permissions-policy", "cross-origin-opener-policy",
})
DJANGO_SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"
HEALTH_PACKAGES = ("fastapi_health", "health_check", "healthcheck", "flask_healthz", "django_healthchecks",
                   "watchman", "starlette_healthcheck", "fastapi_healthchecks", "healthchecks", "pyms")
HEALTH_APPS = ("health_check", "watchman", "django_healthchecks", "healthchecks")
BRUTE_FORCE_APPS = ("axes", "defender")
VERSIONING_PACKAGES = ("fastapi_versioning", "fastapi_versionizer", "flask_versioning", "cadwyn")
# Flask extensions that act on every response, like middleware (the others add features: a database, logins).
RESPONSE_EXTENSIONS = ("flask_cors", "flask_compress", "flask_talisman", "talisman", "flask_limiter", "slowapi",
                       "secure", "werkzeug", "flask_wtf", "flask_seasurf", "flask_session")
LIMITER_CLASSES = ("slowapi.Limiter", "slowapi.extension.Limiter", "flask_limiter.Limiter",
                   "flask_limiter.extension.Limiter")
RATE_LIMIT_MIDDLEWARE = re.compile(r"SlowAPI(ASGI)?Middleware|RateLimit|Throttl", re.IGNORECASE)
# Health-check path words: the last segment of a path (after any /api, /v1 prefix) that names a probe.
HEALTH_WORDS = ("health", "healthz", "healthcheck", "health-check", "health_check", "livez", "readyz", "ready",
                "readiness", "live", "liveness", "alive", "ping", "status", "heartbeat", "_health", "_status")
_SECURITY_HEADER_TEXT = re.compile(r"[\"'](" + "|".join(re.escape(name) for name in sorted(SECURITY_HEADERS))
                                   + r")[\"']", re.IGNORECASE)
# The last part of each name ("-policy"), closing quote included: a cheap test before the search above.
_SECURITY_HEADER_ENDINGS = re.compile("(?:" + "|".join(sorted({re.escape(name[max(name.rfind("-"), 0):])
                                                               for name in SECURITY_HEADERS})) + r")[\"']")
# `X-API-Version`, `Accept-Version`, and vendor-named ones such as Prefect's `X-PREFECT-API-VERSION`.
_VERSION_HEADER = re.compile(r"^(x-)?(api-)?version$|^accept-version$|^x-([a-z0-9]+-)*api-version$", re.IGNORECASE)
_MEDIA_TYPE_VERSION = re.compile(r"application/vnd\.[^;]*(\+json)?.*(version=|\.v\d)", re.IGNORECASE)
_DEV_SETTINGS = re.compile(r"(^|[._])(dev|devel|development|local|test|tests|testing|ci)([._]|$)")
_DJANGO_SETTINGS = ("MIDDLEWARE", "MIDDLEWARE_CLASSES", "INSTALLED_APPS", "CORS_ALLOW_ALL_ORIGINS",
                    "CORS_ORIGIN_ALLOW_ALL", "CORS_ALLOW_CREDENTIALS", "CORS_ALLOWED_ORIGIN_REGEXES",
                    "CORS_ORIGIN_REGEX_WHITELIST", "REST_FRAMEWORK", "DEBUG")
_PROBE_ORIGIN = "https://attacker.invalid"


# --------------------------------------------------------------------------------------------- records


@dataclass(slots=True)
class AppDecl:
    """An app object bound to a variable in `scope` ("" = module level)."""

    scope: str
    name: str
    framework: str
    location: Location
    middlewares: tuple[str, ...] = ()


@dataclass(slots=True)
class AppSetup:
    """Something attached to the app or blueprint named `target` in `scope`."""

    scope: str
    target: str
    kind: str  # "middleware" | "extension" | "hook" | "exception_handler" | "init_app"
    what: str  # a qualified class name, a hook name, or (init_app) the extension variable
    location: Location


@dataclass(slots=True)
class ExtensionDecl:
    """`cors = CORS(supports_credentials=True)` at module level, attached later with `cors.init_app(app)`."""

    name: str
    what: str
    location: Location


@dataclass(slots=True)
class Evidence:
    what: str
    text: str
    location: Location
    function: str | None = None
    group: str | None = None  # a hook's app or blueprint as written, with its scope: "scope|name"


@dataclass(slots=True)
class CorsDecl:
    framework: str
    how: str
    any_origin: bool
    credentials: bool
    location: Location


@dataclass(slots=True)
class DjangoSettingsDecl:
    module: str
    path: str
    dev: bool
    values: dict[str, str] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    middleware: tuple[str, ...] | None = None
    installed_apps: tuple[str, ...] = ()
    urlpatterns_at: Location | None = None


@dataclass(slots=True)
class PaginationClassDecl:
    """A class that may be a DRF pagination class (its bases are resolved across files later)."""

    qualified: str
    location: Location
    insert_line: int
    indent: str


@dataclass(slots=True)
class UrlPatternsDecl:
    module: str
    location: Location


# --------------------------------------------------------------------------------------------- extract


def extract(source: SourceFile) -> list[object]:
    module = source.python
    if module is None:
        return []
    records: list[object] = []
    records.extend(_import_evidence(module))
    records.extend(_header_text_evidence(module, source.text()))
    records.extend(_pagination_classes(module))
    if any(target.split(".", 1)[0] in SERVER_PACKAGES or target.startswith("flask_")
           for target in module.imports.values()):
        records.extend(_string_evidence(module))
        records.extend(_apps(module))
        records.extend(_setups(module))
        records.extend(_hooks(module))
        records.extend(_cors(module))
        records.extend(_limiters(module))
    settings = _django_settings(module)
    if settings is not None:
        records.append(settings)
        records.extend(_django_cors(settings))
    urlpatterns = next((assign for assign in module.assigns if "urlpatterns" in assign.targets), None)
    if urlpatterns is not None:
        records.append(UrlPatternsDecl(module.module, Location(module.path, urlpatterns.span)))
    return records


def _qualified(module: Module, expr: Expr | None) -> str:
    return module.resolve(expr.dotted) if isinstance(expr, Name) else ""


def _import_evidence(module: Module) -> Iterator[Evidence]:
    where = Location(module.path, Span.at(0, 0))
    for target in set(module.imports.values()):
        top = target.split(".", 1)[0]
        if top in HEALTH_PACKAGES:
            yield Evidence("health", f"{target} imported", where)
        elif top in SECURITY_HEADER_PACKAGES:
            yield Evidence("security_headers", f"{target} imported", where)
        elif top in VERSIONING_PACKAGES:
            yield Evidence("versioning", f"{target} imported", where)


def _module_exprs(module: Module) -> Iterator[tuple[str | None, Expr]]:
    """Every top-level expression of the module with the function holding it (None at module level)."""
    for assign in module.assigns:
        if assign.value is not None:
            yield None, assign.value
    for call in module.calls:
        yield None, call
    for cls in _all_classes(module.classes):
        for assign in cls.assigns:
            if assign.value is not None:
                yield None, assign.value
    for fn in module.functions:
        name = f"{module.module}.{fn.qualname}"
        for decorator in fn.decorators:
            yield name, decorator
        for param in fn.params:
            if param.default is not None:
                yield name, param.default
            if param.annotation is not None:
                yield name, param.annotation
        for call in fn.calls:
            yield name, call
        for assign in fn.assigns:
            if assign.value is not None:
                yield name, assign.value
        for value in fn.returns_values:
            if value is not None:
                yield name, value


def _all_classes(classes: list[Class]) -> Iterator[Class]:
    for cls in classes:
        yield cls
        yield from _all_classes(cls.classes)


def _header_parameters(module: Module) -> Iterator[Evidence]:
    """FastAPI reads a header through a parameter: `x_prefect_api_version: str = Header(None)` is the
    `x-prefect-api-version` header (underscores become hyphens unless `alias=` names it)."""
    for fn in module.functions:
        for param in fn.params:
            markers = [param.default, *(param.annotation.index if isinstance(param.annotation, Subscript) else ())]
            header = next((marker for marker in markers if isinstance(marker, Call) and callee(marker) == "Header"),
                          None)
            if header is None:
                continue
            key = const_str(header.kwarg("alias")) or param.name.replace("_", "-")
            if _VERSION_HEADER.match(key):
                yield Evidence("version_header", f'"{key}" header read', Location(module.path, param.span),
                               f"{module.module}.{fn.qualname}")


def _string_evidence(module: Module) -> Iterator[Evidence]:
    """Health paths and version headers written anywhere in the module."""
    yield from _header_parameters(module)
    for function, expr in _module_exprs(module):
        for current in walk(expr):
            if isinstance(current, Call):
                yield from _call_evidence(module, function, current)
            elif isinstance(current, Subscript) and current.index and isinstance(current.value, Name) and \
                    "headers" in current.value.dotted:
                key = const_str(current.index[0])
                if key is not None and _VERSION_HEADER.match(key):
                    yield Evidence("version_header", f'"{key}" header read', Location(module.path, current.span),
                                   function)


def _header_text_evidence(module: Module, text: str) -> Iterator[Evidence]:
    """Security header names in quotes anywhere in the file: `response.headers["X-Frame-Options"] = ...` is a
    subscript assignment the module summary does not keep, so the text is searched instead."""
    if text.isascii() and not _SECURITY_HEADER_ENDINGS.search(text.lower()):
        # No header name in lower case: the case-insensitive search over all names (much slower) finds none.
        # Only for ASCII text: under IGNORECASE a few other letters match ASCII ones ("ſ" matches "s").
        return
    for match in _SECURITY_HEADER_TEXT.finditer(text):
        line = text.count("\n", 0, match.start())
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1)
        yield Evidence("security_headers", f'"{match.group(1)}" header',
                       Location(module.path, Span.at(line, column)))
        return  # one is enough: the file sets security headers


def _call_evidence(module: Module, function: str | None, call: Call) -> Iterator[Evidence]:
    name = callee(call)
    if RATE_LIMIT_MIDDLEWARE.search(name) and name != "limit":
        qualified = _qualified(module, call.func)
        if qualified.split(".", 1)[0] in ("slowapi", "fastapi_limiter", "flask_limiter", "ratelimit",
                                           "starlette_ratelimit", "asgi_ratelimit", "ratelimiter"):
            yield Evidence("rate_limit", name, Location(module.path, call.span), function)
    strings = [text for text in (const_str(arg) for arg in call.args) if text is not None]
    strings += [text for text in (const_str(value) for _, value in call.kwargs) if text is not None]
    if not strings:
        return
    where = Location(module.path, call.span)
    func_text = call.func.dotted if isinstance(call.func, Name) else expr_text(call.func)
    route = _declares_route(call)
    for text in strings:
        if route and (text.startswith("/") or name in ("path", "re_path", "url")) and is_health_path(text):
            yield Evidence("health", f'route "{text}"', where, function)
        if text.lower() in SECURITY_HEADERS:
            yield Evidence("security_headers", f'"{text}" header', where, function)
        if _VERSION_HEADER.match(text) and ("header" in func_text.lower() or callee(call) == "Header"):
            yield Evidence("version_header", f'"{text}" header read', where, function)
        if _MEDIA_TYPE_VERSION.search(text):
            yield Evidence("version_header", f'media type "{text}"', where, function)
        if text.lower() in ("version", "api-version", "api_version", "v") and (
                "args" in func_text or "query_params" in func_text or "GET" in func_text):
            yield Evidence("version_query", f'"{text}" query parameter read', where, function)


def _declares_route(call: Call) -> bool:
    """A call that declares a route or mounts a path: a route decorator, `add_api_route`, Django `path()`."""
    name = callee(call)
    return name in ("get", "head", "route", "api_route", "add_api_route", "add_url_rule", "add_route", "path",
                    "re_path", "url", "Route", "Mount", "mount", "add_resource", "websocket_route")


def is_health_path(path: str) -> bool:
    """`/health`, `/api/healthz`, `/v1/ping`, `/health/live`: a path whose first meaningful segment is a probe."""
    segments = [segment for segment in re.split(r"/+", path.strip().strip("^$").lower()) if segment]
    while segments and (segments[0] in ("api", "internal", "_", "-", "system", "sys", "ops", "management")
                        or re.fullmatch(r"v\d+(\.\d+)?", segments[0])):
        segments = segments[1:]
    return bool(segments) and len(segments) <= 2 and segments[0].rstrip("/") in HEALTH_WORDS


def _apps(module: Module) -> Iterator[AppDecl]:
    for scope, assign in scoped_assigns(module):
        value = assign.value
        if not isinstance(value, Call) or not assign.targets or "." in assign.targets[0]:
            continue
        framework = APP_CLASSES.get(_qualified(module, value.func))
        if framework is None:
            continue
        middlewares = tuple(_qualified(module, call_argument(item, 0, "cls"))
                            for item in _items(value.kwarg("middleware"))
                            if isinstance(item, Call) and callee(item) == "Middleware")
        yield AppDecl(scope, assign.targets[0], framework, Location(module.path, assign.span),
                      tuple(name for name in middlewares if name))


def _items(expr: Expr | None) -> tuple[Expr, ...]:
    return expr.items if isinstance(expr, Seq) and expr.kind != "dict" else ()


def _setups(module: Module) -> Iterator[object]:
    """Middleware and extensions attached to a named app or blueprint."""
    for scope, call in scoped_calls(module):
        owner = receiver(call)
        name = callee(call)
        where = Location(module.path, call.span)
        if owner is not None and name == "add_middleware" and call.args:
            yield AppSetup(scope, owner, "middleware", _qualified(module, call.args[0]) or expr_text(call.args[0]),
                           where)
        elif owner is not None and name == "init_app" and call.args and isinstance(call.args[0], Name):
            yield AppSetup(scope, call.args[0].dotted, "init_app", owner, where)
        elif owner is not None and name in ("add_exception_handler", "register_error_handler"):
            yield AppSetup(scope, owner, "exception_handler", name, where)
        else:
            yield from _extension(module, scope, call, where, None)
    for scope, assign in scoped_assigns(module):
        value = assign.value
        if not isinstance(value, Call) or not assign.targets:
            continue
        target = assign.targets[0]
        where = Location(module.path, assign.span)
        if target.endswith(".wsgi_app") or target.endswith(".asgi_app"):
            yield AppSetup(scope, target.rsplit(".", 1)[0], "middleware",
                           _qualified(module, value.func) or expr_text(value.func), where)
        elif "." not in target:
            yield from _extension(module, scope, value, where, target)


def _extension(module: Module, scope: str, call: Call, where: Location, bound: str | None) -> Iterator[object]:
    """`CORS(app)`, `Talisman(app)`, `Limiter(app=app)`: a Flask-style extension built on an app; unbound at module
    level (`cors = CORS()`), it is recorded for a later `cors.init_app(app)`."""
    qualified = _qualified(module, call.func)
    top = qualified.split(".", 1)[0]
    if not (top.startswith("flask_") or top in SECURITY_HEADER_PACKAGES or top in ("slowapi", "werkzeug")):
        return
    if qualified in APP_CLASSES or not qualified[:1].isalpha() or not _is_class_name(qualified):
        return
    app = call_argument(call, 0, "app")
    if isinstance(app, Name) and "." not in app.dotted:
        yield AppSetup(scope, app.dotted, "extension", qualified, where)
    elif bound is not None and scope == "":
        yield ExtensionDecl(bound, qualified, where)


def _is_class_name(qualified: str) -> bool:
    return qualified.rsplit(".", 1)[-1][:1].isupper()


def _hooks(module: Module) -> Iterator[object]:
    for fn in module.functions:
        for decorator in fn.decorators:
            target = decorator.func if isinstance(decorator, Call) else decorator
            if not isinstance(target, Name) or "." not in target.dotted:
                continue
            owner, _, hook = target.dotted.rpartition(".")
            where = Location(module.path, fn.name_span)
            scope = scope_of(fn)
            if hook in ("after_request", "before_request", "middleware", "after_app_request",
                        "before_app_request"):
                yield AppSetup(scope, owner, "hook", hook, where)
                if hook.startswith("before") and _checks_auth(module, fn):
                    yield Evidence("auth_hook", f"@{target.dotted} {fn.name}()", where,
                                   f"{module.module}.{fn.qualname}", f"{scope}|{owner}")
            elif hook in ("exception_handler", "errorhandler", "app_errorhandler"):
                yield AppSetup(scope, owner, "exception_handler", hook, where)


_AUTH_CALL = re.compile(r"verify_jwt|jwt_required|login_required|is_authenticated|authenticate|check_auth|"
                        r"verify_token|current_user|get_current_user|require_auth|decode_token|api_key", re.IGNORECASE)


def _checks_auth(module: Module, fn: Function) -> bool:
    """A before-request hook that authenticates: it calls an auth helper or answers 401/403."""
    if _AUTH_CALL.search(fn.name):
        return True
    for outer in fn.calls:
        for current in walk(outer):
            if isinstance(current, Call):
                text = expr_text(current.func)
                if _AUTH_CALL.search(text):
                    return True
                if callee(current) == "abort" and current.args and const_str(current.args[0]) is None and \
                        isinstance(current.args[0], Const) and current.args[0].value in (401, 403):
                    return True
            elif isinstance(current, Name) and _AUTH_CALL.search(current.dotted):
                return True
    return False


# --------------------------------------------------------------------------------------------- CORS


def _cors(module: Module) -> Iterator[CorsDecl]:
    for scope, call in scoped_calls(module):
        yield from _cors_call(module, call, scope)
    for _, assign in scoped_assigns(module):
        if isinstance(assign.value, Call):
            yield from _cors_call(module, assign.value, "")
    for app in (assign.value for assign in module.assigns if isinstance(assign.value, Call)):
        for item in _items(app.kwarg("middleware")):
            if isinstance(item, Call) and callee(item) == "Middleware":
                yield from _starlette_cors(module, item, _qualified(module, call_argument(item, 0, "cls")))
    for fn in module.functions:
        for decorator in fn.decorators:
            if isinstance(decorator, Call) and _qualified(module, decorator.func) in FLASK_CROSS_ORIGIN:
                yield _flask_cors(module, decorator)


def _cors_call(module: Module, call: Call, scope: str) -> Iterator[CorsDecl]:
    if callee(call) == "add_middleware" and call.args:
        yield from _starlette_cors(module, call, _qualified(module, call.args[0]))
    elif _qualified(module, call.func) in FLASK_CORS:
        yield _flask_cors(module, call)


def _starlette_cors(module: Module, call: Call, middleware: str) -> Iterator[CorsDecl]:
    if middleware not in CORS_MIDDLEWARE and not middleware.endswith(".CORSMiddleware"):
        return
    origins = _strings(module, call.kwarg("allow_origins"))
    regex = const_str(call.kwarg("allow_origin_regex"))
    any_origin = (origins is not None and "*" in origins) or (regex is not None and _regex_allows_any(regex))
    credentials = _is_true(call.kwarg("allow_credentials"))
    how = f"allow_origins={expr_text(call.kwarg('allow_origins'))}" if origins is not None and "*" in origins \
        else f"allow_origin_regex={regex!r}"
    yield CorsDecl("starlette", how, any_origin, credentials, Location(module.path, call.span))


def _flask_cors(module: Module, call: Call) -> CorsDecl:
    """Flask-CORS: `origins` defaults to "*"; `resources` may set origins per path."""
    credentials = _is_true(call.kwarg("supports_credentials"))
    origins = call.kwarg("origins")
    any_origin = _flask_origins_any(module, origins)
    how = f"origins={expr_text(origins)}" if origins is not None else "origins unset, Flask-CORS's default"
    resources = call.kwarg("resources")
    if isinstance(resources, Seq) and resources.kind == "dict" and origins is None:
        options = [item for item in resources.items if isinstance(item, Seq) and item.kind == "dict"]
        per_path = [_dict_value(item, "origins") for item in options]
        credentials = credentials or any(_is_true(_dict_value(item, "supports_credentials")) for item in options)
        any_origin = len(per_path) == len(resources.items) and any(
            value is None or _flask_origins_any(module, value) for value in per_path)
        how = "resources with origins " + ", ".join(expr_text(value) if value is not None else "unset"
                                                     for value in per_path)
    elif resources is not None and origins is None:
        any_origin = False  # resources from a variable: cannot tell
    return CorsDecl("flask", how, any_origin, credentials, Location(module.path, call.span))


def _flask_origins_any(module: Module, origins: Expr | None) -> bool:
    if origins is None:
        return True
    values = _strings(module, origins)
    return values is not None and any(value == "*" or _regex_allows_any(value) for value in values)


def _dict_value(expr: Seq, key: str) -> Expr | None:
    for key_expr, value in zip(expr.keys, expr.items, strict=False):
        if const_str(key_expr) == key:
            return value
    return None


def _strings(module: Module, expr: Expr | None) -> tuple[str, ...] | None:
    """The strings of a literal (or of a module-level constant holding one); None when they cannot be known."""
    if isinstance(expr, Name):
        for assign in reversed(module.assigns):
            if expr.dotted in assign.targets:
                expr = assign.value
                break
        else:
            return None
    if isinstance(expr, Seq) and expr.kind != "dict":
        values = strings_of(expr)
        return values if len(values) == len(expr.items) else None
    single = const_str(expr)
    return (single,) if single is not None else None


def _regex_allows_any(pattern: str) -> bool:
    try:
        return re.fullmatch(pattern, _PROBE_ORIGIN) is not None
    except (re.error, RecursionError, OverflowError):
        return False


def _is_true(expr: Expr | None) -> bool:
    return isinstance(expr, Const) and expr.value is True


# --------------------------------------------------------------------------------------------- rate limits


def _limiters(module: Module) -> Iterator[Evidence]:
    """`Limiter(..., default_limits=[...])` (slowapi, Flask-Limiter) limits every route by default."""
    for _, call in scoped_calls(module):
        yield from _limiter(module, call)
    for _, assign in scoped_assigns(module):
        if isinstance(assign.value, Call):
            yield from _limiter(module, assign.value)


def _limiter(module: Module, call: Call) -> Iterator[Evidence]:
    if _qualified(module, call.func) not in LIMITER_CLASSES:
        return
    for key in ("default_limits", "application_limits"):
        value = call.kwarg(key)
        if value is not None and not (isinstance(value, Seq) and not value.items):
            yield Evidence("rate_limit", f"Limiter({key}={expr_text(value)})", Location(module.path, call.span))


# --------------------------------------------------------------------------------------------- DRF pagination


def _pagination_classes(module: Module) -> Iterator[PaginationClassDecl]:
    for cls in _all_classes(module.classes):
        if any("Pagination" in expr_text(base) or "Paginator" in expr_text(base) for base in cls.bases) or (
                cls.bases and any(cls.assigned(name) is not None for name in _PAGINATION_ATTRIBUTES)):
            yield PaginationClassDecl(f"{module.module}.{cls.qualname}", Location(module.path, cls.name_span),
                                      cls.body_end.line, cls.body_indent)


# --------------------------------------------------------------------------------------------- Django settings


def _django_settings(module: Module) -> DjangoSettingsDecl | None:
    assigned: dict[str, Assign] = {}
    for assign in module.assigns:
        if len(assign.targets) == 1 and assign.targets[0] in _DJANGO_SETTINGS:
            assigned[assign.targets[0]] = assign
    parts = module.module.split(".")
    is_settings = parts[-1] == "settings" or (len(parts) > 1 and parts[-2] == "settings")
    if not assigned or not (is_settings or "INSTALLED_APPS" in assigned or "MIDDLEWARE" in assigned):
        return None
    if not is_settings and not any(target.startswith("django") for target in module.imports.values()) and \
            "INSTALLED_APPS" not in assigned:
        return None
    decl = DjangoSettingsDecl(module.module, module.path, bool(_DEV_SETTINGS.search(parts[-1]))
                              or any(_DEV_SETTINGS.fullmatch(part) for part in parts[-1:]))
    for name, assign in assigned.items():
        decl.locations[name] = Location(module.path, assign.span)
        value = assign.value
        if name in ("MIDDLEWARE", "MIDDLEWARE_CLASSES") and isinstance(value, Seq):
            decl.middleware = strings_of(value)
        elif name == "INSTALLED_APPS" and isinstance(value, Seq):
            decl.installed_apps = strings_of(value)
        elif name == "REST_FRAMEWORK" and isinstance(value, Seq) and value.kind == "dict":
            for key, item in zip(value.keys, value.items, strict=False):
                text = const_str(key)
                if text in ("DEFAULT_PAGINATION_CLASS", "DEFAULT_THROTTLE_CLASSES", "DEFAULT_VERSIONING_CLASS",
                            "DEFAULT_THROTTLE_RATES"):
                    decl.values[f"drf.{text}"] = ",".join(strings_of(item)) or expr_text(item)
                    decl.locations[f"drf.{text}"] = Location(module.path, key.span)
        elif isinstance(value, Const):
            decl.values[name] = str(value.value)
        elif value is not None:
            decl.values[name] = "?" if not isinstance(value, Seq) else ",".join(strings_of(value))
    for augmented in module.augmented:  # MIDDLEWARE += [...] in a settings module built on another
        if augmented.targets and augmented.targets[0] in ("MIDDLEWARE", "INSTALLED_APPS") and \
                isinstance(augmented.value, Seq):
            extra = strings_of(augmented.value)
            if augmented.targets[0] == "MIDDLEWARE":
                decl.middleware = (decl.middleware or ()) + extra
            else:
                decl.installed_apps += extra
    return decl


def _django_cors(settings: DjangoSettingsDecl) -> Iterator[CorsDecl]:
    """django-cors-headers: allowing every origin (or a match-all regex) together with credentials. Development
    settings are left alone."""
    if settings.dev:
        return
    allow_all_key = next((key for key in ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL")
                          if settings.values.get(key) == "True"), None)
    regex_key = next((key for key in ("CORS_ALLOWED_ORIGIN_REGEXES", "CORS_ORIGIN_REGEX_WHITELIST")
                      if any(_regex_allows_any(pattern) for pattern in settings.values.get(key, "").split(",")
                             if pattern)), None)
    key = allow_all_key or regex_key
    if key is None:
        return
    credentials = settings.values.get("CORS_ALLOW_CREDENTIALS")
    value = "True" if key == allow_all_key else repr(settings.values[key])
    how = f"{key} = {value}"
    yield CorsDecl("django", how, True, credentials == "True", settings.locations[key])


# --------------------------------------------------------------------------------------------- resolve


def resolve(builder: ModelBuilder) -> None:
    project = builder.project
    apps: dict[str, tuple[Module, AppDecl]] = {}
    for facts, decl in builder.records(AppDecl):
        if facts.python is not None:
            apps[object_id(facts.python.module, decl.scope, decl.name)] = (facts.python, decl)
    found = {key: App(decl.framework, decl.location, key, list(decl.middlewares)) for key, (_, decl) in apps.items()}
    extensions = {f"{facts.python.module}.{decl.name}": decl for facts, decl in builder.records(ExtensionDecl)
                  if facts.python is not None}
    names = ObjectNames(builder, apps)
    hooks: dict[str, list[str]] = {}
    extensions_of: dict[str, list[str]] = {}
    for facts, setup in builder.records(AppSetup):
        module = facts.python
        if module is None:
            continue
        key = names.find(module, setup.scope, setup.target) or _only_app(found, setup.target)
        if key is None:
            continue
        what = setup.what
        if setup.kind == "init_app":
            extension = extensions.get(module.module + "." + what) or extensions.get(module.resolve(what))
            if extension is None:
                continue
            what = extension.what
        if setup.kind == "hook":
            hooks.setdefault(key, []).append(what)
        elif setup.kind == "middleware" or what.split(".", 1)[0] in RESPONSE_EXTENSIONS:
            found[key].middlewares.append(what)
        elif setup.kind != "exception_handler":
            extensions_of.setdefault(key, []).append(what)
    for key, app in found.items():
        if key in hooks:
            app.detail["hooks"] = ",".join(dict.fromkeys(hooks[key]))
        if key in extensions_of:
            app.detail["extensions"] = ",".join(dict.fromkeys(extensions_of[key]))
        project.apps.append(app)
    _resolve_django(builder)
    _register_sites(builder, names)


def _only_app(found: dict[str, App], target: str) -> str | None:
    """A name that resolves to no app but is named like one (`app` passed to an `init_app(app)` function,
    `current_app`): the project's only app, if there is exactly one."""
    last = target.rsplit(".", 1)[-1]
    if len(found) == 1 and (last in ("app", "application", "current_app", "server") or last.endswith("_app")):
        return next(iter(found))
    return None


def _resolve_django(builder: ModelBuilder) -> None:
    project = builder.project
    settings = [decl for _, decl in builder.records(DjangoSettingsDecl)]
    if not settings:
        return
    settings.sort(key=lambda decl: (decl.dev, decl.middleware is None, decl.path))
    main = settings[0]
    location = main.locations.get("MIDDLEWARE") or main.locations.get("MIDDLEWARE_CLASSES") or next(
        iter(main.locations.values()))
    middleware = [name for decl in settings if not decl.dev or decl is main for name in decl.middleware or ()]
    app = App("django", location, main.module, list(dict.fromkeys(middleware)),
              {"settings_module": main.module, "dev": "true" if main.dev else ""})
    if main.middleware is None:
        app.detail["no_middleware"] = "true"
    root = project.settings.get("django.root_urlconf")
    for _, urls in builder.records(UrlPatternsDecl):
        if root and urls.module in (root, root.split(".", 1)[-1]) or (not root and urls.module.endswith("urls")
                                                                       and "urls_at" not in app.detail):
            start = urls.location.span.start
            app.detail["urls_at"] = f"{urls.location.path}:{start.line}:{start.column}"
    project.apps.append(app)
    installed = {name for decl in settings for name in decl.installed_apps}
    for name in installed:
        top = name.split(".", 1)[0]
        what = "health" if top in HEALTH_APPS else "brute_force" if top in BRUTE_FORCE_APPS else None
        if what is not None:
            project.calls.append(CallSite("server_evidence", name, location, None,
                                          detail={"what": what, "text": f"{name} in INSTALLED_APPS"}))
    for decl in settings:
        if decl.dev:
            continue
        if any(name == DJANGO_SECURITY_MIDDLEWARE for name in decl.middleware or ()):
            project.calls.append(CallSite("server_evidence", DJANGO_SECURITY_MIDDLEWARE,
                                          decl.locations.get("MIDDLEWARE", location), None,
                                          detail={"what": "security_headers", "text": "SecurityMiddleware"}))
        for key, what in (("drf.DEFAULT_THROTTLE_CLASSES", "rate_limit"),
                          ("drf.DEFAULT_VERSIONING_CLASS", "versioning")):
            if decl.values.get(key):
                project.calls.append(CallSite("server_evidence", key, decl.locations[key], None,
                                              detail={"what": what, "text": f"{key[4:]} = {decl.values[key]}"}))
        default = decl.values.get("drf.DEFAULT_PAGINATION_CLASS", "")
        if default.rsplit(".", 1)[-1] == "LimitOffsetPagination" and default.startswith("rest_framework"):
            project.calls.append(CallSite("pagination_class", default, decl.locations["drf.DEFAULT_PAGINATION_CLASS"],
                                          None, detail={"name": "LimitOffsetPagination", "client_size": "limit",
                                                        "max": "", "attribute": "max_limit", "setting": "true"}))


def _register_sites(builder: ModelBuilder, names: ObjectNames) -> None:
    project = builder.project
    seen: set[tuple[str, str, int]] = set()
    for facts, evidence in builder.records(Evidence):
        key = (evidence.what, evidence.location.path, evidence.location.line)
        if key in seen:
            continue
        seen.add(key)
        detail = {"what": evidence.what, "text": evidence.text}
        if evidence.group and facts.python is not None:
            scope, _, owner = evidence.group.partition("|")
            detail["group"] = _group_id(builder, facts.python, scope, owner)
        project.calls.append(CallSite("server_evidence", evidence.text, evidence.location, evidence.function,
                                      detail=detail))
    for _, cors in builder.records(CorsDecl):
        project.calls.append(CallSite("cors_config", cors.how, cors.location, None, detail={
            "framework": cors.framework, "how": cors.how, "any_origin": _flag(cors.any_origin),
            "credentials": _flag(cors.credentials)}))
    for _, decl in builder.records(PaginationClassDecl):
        site = _pagination_site(builder, decl)
        if site is not None:
            project.calls.append(site)


def _group_id(builder: ModelBuilder, module: Module, scope: str, owner: str) -> str:
    """The id a framework extractor gives the app or blueprint `owner` (as written in `module`)."""
    local = object_id(module.module, scope, owner)
    if scope or owner in {assign.targets[0] for assign in module.assigns if assign.targets}:
        return local
    qualified = module.resolve(owner)
    return qualified if qualified != owner else local


def _flag(value: bool) -> str:
    return "true" if value else "false"


_PAGINATION_ATTRIBUTES = ("page_size_query_param", "max_page_size", "max_limit", "limit_query_param",
                          "default_limit")
_PAGINATION_FAMILIES = {"LimitOffsetPagination": ("limit", "max_limit"),
                        "PageNumberPagination": ("page_size_query_param", "max_page_size"),
                        "CursorPagination": ("page_size_query_param", "max_page_size")}


def _pagination_site(builder: ModelBuilder, decl: PaginationClassDecl) -> CallSite | None:
    """A DRF pagination class whose page size the client can choose without a declared maximum."""
    ref = builder.lookup(decl.qualified)
    if ref is None:
        return None
    family = next((name.rsplit(".", 1)[-1] for name in sorted(builder.base_names(ref))
                   if name.startswith("rest_framework.pagination.")
                   and name.rsplit(".", 1)[-1] in _PAGINATION_FAMILIES), None)
    if family is None:
        return None
    chain = [ref, *builder.ancestors(ref)]

    def attribute(name: str) -> Expr | None:
        for current in chain:
            value = current.cls.assigned(name)
            if value is not None:
                return value
        return None

    client, maximum = _PAGINATION_FAMILIES[family]
    if client == "limit":
        param = attribute("limit_query_param")
        chosen = None if _is_none(param) else f"limit_query_param = {expr_text(param) if param else repr('limit')}"
    else:
        param = attribute(client)
        chosen = None if param is None or _is_none(param) else f"{client} = {expr_text(param)}"
    if chosen is None:
        return None
    bound = attribute(maximum)
    return CallSite("pagination_class", decl.qualified, decl.location, None, detail={
        "name": ref.cls.name, "client_size": chosen, "max": "" if bound is None or _is_none(bound) else
        expr_text(bound), "attribute": maximum, "insert_line": str(decl.insert_line), "indent": decl.indent})


def _is_none(expr: Expr | None) -> bool:
    return isinstance(expr, Const) and expr.value is None
