"""Integrations: HTTP clients, caches, queues and background jobs, email and report generation.

Per file, `extract` finds the objects these libraries hand out (a `requests.Session()`, an `httpx.Client`, a
Redis client, Django's `cache`, a Celery app, an RQ `Queue`, an SMTP connection, ...) wherever a module keeps
them: module variables, class attributes (`self.client = ...`), local variables, `with ... as x` targets and
annotated parameters. Each call on such an object, or on one of the libraries' functions (`requests.get`,
`time.sleep`, `send_mail`), becomes a `CallFact` with what the rules need to know about its arguments (the
timeout, the cache key's shape, where a keyword can be added). A call on an object another module creates
(`from app.cache import redis_client`) refers to it by qualified name; `resolve` binds those references across
files, classifies every call and registers `CallSite`s in the project:

- `http` (a request; `detail`: library, blocking, timeout, retries, fix anchor), `http_client` (a client built
  with its timeouts disabled), `http_timeout` (a timeout object that disables every timeout), `sleep`;
- `cache_write`, `cache_read`, `cache_expire` (`detail`: backend, command, ttl, the key's shape and prefix);
- `email`, `report` (slow work), `task_call` (a Celery task's function called directly instead of queued);
- `task` (a Celery/RQ task definition, at its decorator; `detail`: retry policy, dead-letter handling),
  `enqueue` (an RQ `enqueue`), `retry` (a retry decorator or retry loop covering `function`).

Project-wide facts go to `project.settings` under `integrations.*` (retry tooling in use, a global socket
timeout, requests patched with a default timeout, Celery task annotations, a dead-letter queue).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from analyzers.facts import SourceFile
from analyzers.model import CallSite, Location, Position, Span
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
    Raw,
    Seq,
    Subscript,
    expr_text,
    iter_calls,
)
from analyzers.resolve import ModelBuilder

# --------------------------------------------------------------------------------------------- the libraries

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")

# Calls that build an object the rules follow, by qualified name → the object's kind.
CONSTRUCTORS: dict[str, str] = {
    "requests.Session": "requests_session",
    "requests.session": "requests_session",
    "requests.sessions.Session": "requests_session",
    "requests.sessions.session": "requests_session",
    "httpx.Client": "httpx_client",
    "httpx.AsyncClient": "httpx_async_client",
    "aiohttp.ClientSession": "aiohttp_session",
    "aiohttp.client.ClientSession": "aiohttp_session",
    "smtplib.SMTP": "smtp",
    "smtplib.SMTP_SSL": "smtp",
    "smtplib.LMTP": "smtp",
    "django.core.mail.EmailMessage": "django_email",
    "django.core.mail.EmailMultiAlternatives": "django_email",
    "django.core.mail.message.EmailMessage": "django_email",
    "django.core.mail.message.EmailMultiAlternatives": "django_email",
    "flask_mail.Mail": "flask_mail",
    "fastapi_mail.FastMail": "fastapi_mail",
    "flask_caching.Cache": "flask_cache",
    "rq.Queue": "rq_queue",
    "rq.queue.Queue": "rq_queue",
    "celery.Celery": "celery_app",
    "weasyprint.HTML": "weasyprint_html",
    "reportlab.pdfgen.canvas.Canvas": "reportlab_canvas",
    "reportlab.platypus.SimpleDocTemplate": "reportlab_document",
    "reportlab.platypus.BaseDocTemplate": "reportlab_document",
    "reportlab.platypus.doctemplate.SimpleDocTemplate": "reportlab_document",
    "reportlab.platypus.doctemplate.BaseDocTemplate": "reportlab_document",
    "django_redis.get_redis_connection": "redis",
}
_REDIS_CLASSES = ("Redis", "StrictRedis", "RedisCluster")
for _package in ("redis", "redis.client", "redis.cluster", "redis.asyncio", "redis.asyncio.client",
                 "redis.asyncio.cluster", "aioredis"):
    for _class in _REDIS_CLASSES:
        CONSTRUCTORS[f"{_package}.{_class}"] = "redis"
        CONSTRUCTORS[f"{_package}.{_class}.from_url"] = "redis"
    CONSTRUCTORS[f"{_package}.from_url"] = "redis"
CONSTRUCTORS["aioredis.create_redis_pool"] = "redis"
CONSTRUCTORS["aioredis.create_redis"] = "redis"

# Classes whose instances are those objects, for annotated parameters (`client: httpx.AsyncClient`).
ANNOTATION_CLASSES = {name: kind for name, kind in CONSTRUCTORS.items()
                      if name.rsplit(".", 1)[-1][:1].isupper() and kind != "celery_app"}
# Objects the libraries themselves export.
KNOWN_OBJECTS = {"django.core.cache.cache": "django_cache", "celery.current_app": "celery_app"}
DJANGO_CACHES = "django.core.cache.caches"

# How messages name each kind of object.
KIND_LABELS = {
    "requests_session": "requests.Session", "httpx_client": "httpx.Client", "httpx_async_client": "httpx.AsyncClient",
    "aiohttp_session": "aiohttp.ClientSession", "redis": "redis", "django_cache": "cache",
    "flask_cache": "flask_caching.Cache", "smtp": "smtplib.SMTP", "django_email": "EmailMessage",
    "flask_mail": "flask_mail.Mail", "fastapi_mail": "fastapi_mail.FastMail", "weasyprint_html": "weasyprint.HTML",
    "reportlab_canvas": "reportlab Canvas", "reportlab_document": "reportlab SimpleDocTemplate",
    "rq_queue": "rq.Queue", "celery_app": "celery.Celery",
}

HTTP_FUNCTIONS: dict[str, str] = {
    **{f"requests.{verb}": "requests" for verb in HTTP_VERBS},
    **{f"requests.api.{verb}": "requests" for verb in HTTP_VERBS},
    **{f"httpx.{verb}": "httpx" for verb in (*HTTP_VERBS, "stream")},
    "urllib.request.urlopen": "urllib",
    "aiohttp.request": "aiohttp",
}
EMAIL_FUNCTIONS = frozenset({
    "django.core.mail.send_mail", "django.core.mail.send_mass_mail", "django.core.mail.mail_admins",
    "django.core.mail.mail_managers",
})
REPORT_FUNCTIONS = frozenset({
    "xhtml2pdf.pisa.CreatePDF", "xhtml2pdf.pisa.pisaDocument", "pdfkit.from_string", "pdfkit.from_url",
    "pdfkit.from_file",
})
TIMEOUT_OBJECTS = {"httpx.Timeout": "httpx", "aiohttp.ClientTimeout": "aiohttp",
                   "aiohttp.client.ClientTimeout": "aiohttp"}
RETRY_TRANSPORTS = {"requests.adapters.HTTPAdapter": "max_retries", "httpx.HTTPTransport": "retries",
                    "httpx.AsyncHTTPTransport": "retries"}
# Retry APIs used as a call inside a function body (a retry loop or a wrapper around another function).
RETRY_CALLS = frozenset({
    "tenacity.Retrying", "tenacity.AsyncRetrying", "tenacity.retry", "tenacity.asyncio.AsyncRetrying",
    "stamina.retry_context", "stamina.RetryingCaller", "stamina.AsyncRetryingCaller", "stamina.retry",
    "backoff.on_exception", "backoff.on_predicate", "retrying.retry", "retrying.Retrying",
})
# Modules whose import means the project has retry tooling.
RETRY_MODULES = frozenset({"tenacity", "backoff", "stamina", "retrying", "aiohttp_retry", "urllib3.util.retry",
                           "urllib3.util.Retry", "urllib3.Retry", "requests.adapters.Retry",
                           "requests.packages.urllib3.util.retry"})
TASK_DECORATORS = {"celery.shared_task": "celery", "celery.task": "celery", "celery.decorators.task": "celery",
                   "rq.decorators.job": "rq", "rq.job": "rq"}
OTHER_FUNCTIONS = frozenset({"time.sleep", "socket.setdefaulttimeout"})

FUNCTIONS = frozenset({*CONSTRUCTORS, *HTTP_FUNCTIONS, *EMAIL_FUNCTIONS, *REPORT_FUNCTIONS, *TIMEOUT_OBJECTS,
                       *RETRY_TRANSPORTS, *RETRY_CALLS, *OTHER_FUNCTIONS})

REDIS_TTL_OPTIONS = ("ex", "px", "exat", "pxat")
REDIS_WRITES_WITH_TTL = frozenset({"setex", "psetex"})
REDIS_PLAIN_WRITES = frozenset({
    "setnx", "hset", "hmset", "hsetnx", "mset", "msetnx", "lpush", "rpush", "lpushx", "rpushx", "sadd", "zadd",
    "incr", "incrby", "incrbyfloat", "decr", "decrby", "hincrby", "append", "setrange", "pfadd", "geoadd",
})
REDIS_EXPIRES = frozenset({"expire", "pexpire", "expireat", "pexpireat"})
REDIS_READS = frozenset({
    "get", "getex", "getdel", "getset", "mget", "hget", "hgetall", "hmget", "hkeys", "hvals", "hexists", "exists",
    "delete", "unlink", "lrange", "llen", "lpop", "rpop", "smembers", "sismember", "scard", "zrange",
    "zrevrange", "zscore", "zrank", "ttl", "pttl", "type",
})
# Cache APIs (Django, Flask-Caching): the positional slot of the timeout per method.
CACHE_WRITES = {"set": 2, "add": 2, "get_or_set": 2, "set_many": 1, "touch": 1}
CACHE_READS = frozenset({"get", "get_many", "delete", "delete_many", "has_key", "incr", "decr"})

METHODS: dict[str, frozenset[str]] = {
    "requests_session": frozenset({*HTTP_VERBS, "send", "mount"}),
    "httpx_client": frozenset({*HTTP_VERBS, "stream", "send"}),
    "httpx_async_client": frozenset({*HTTP_VERBS, "stream", "send"}),
    "aiohttp_session": frozenset({*HTTP_VERBS, "ws_connect"}),
    "redis": frozenset({"set", "pipeline", *REDIS_WRITES_WITH_TTL, *REDIS_PLAIN_WRITES, *REDIS_EXPIRES,
                        *REDIS_READS}),
    "django_cache": frozenset({*CACHE_WRITES, *CACHE_READS}),
    "flask_cache": frozenset({*CACHE_WRITES, *CACHE_READS, "cached", "memoize"}),
    "smtp": frozenset({"send_message", "sendmail"}),
    "django_email": frozenset({"send"}),
    "flask_mail": frozenset({"send", "send_message"}),
    "fastapi_mail": frozenset({"send_message"}),
    "weasyprint_html": frozenset({"write_pdf"}),
    "reportlab_canvas": frozenset({"save"}),
    "reportlab_document": frozenset({"build"}),
    "rq_queue": frozenset({"enqueue", "enqueue_call", "enqueue_in", "enqueue_at"}),
    "celery_app": frozenset({"task"}),
}
ALL_METHODS = frozenset(method for methods in METHODS.values() for method in methods)

# Packages whose attributes are never the objects followed here (`os.environ.get`, `request.args.get`).
NOT_HOLDERS = frozenset({
    "os", "sys", "json", "re", "typing", "datetime", "logging", "collections", "functools", "itertools",
    "pathlib", "math", "flask", "fastapi", "starlette", "django", "rest_framework", "sqlalchemy", "sqlmodel",
    "pydantic", "requests", "httpx", "aiohttp", "redis", "celery", "rq", "urllib", "smtplib",
})
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STRING_PART = re.compile(r"([rRbBuUfF]*)(\"\"\"|'''|\"|')(.*?)\2", re.DOTALL)

# --------------------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class KeyFact:
    """The key of a cache call: a constant, a template (f-string, concatenation, `str(x)`) or unknown."""

    shape: str  # "const" | "template" | "unknown"
    prefix: str  # the constant text before the first interpolated value (the whole key for a constant)
    first: str  # the first interpolated expression, as written
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class ObjectDecl:
    """An object a rule follows: `id` is the qualified variable name for module variables, else a local id."""

    id: str
    kind: str
    # What its construction configures: "retries" (a retrying transport), "timeout_none".
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallFact:
    module: str
    function: str | None  # qualified name of the function holding the call (the decorated one for decorators)
    is_async: bool
    in_loop: bool
    span: Span
    # A library function's qualified name ("requests.get"), or the method called on the receiver ("get").
    callee: str
    # The receiver's kind when this file knows it, and its id (an ObjectDecl id or a qualified name defined
    # elsewhere); both empty for a library function.
    kind: str = ""
    receiver: str = ""
    keywords: tuple[str, ...] = ()
    positional: int = 0
    star: bool = False
    # Constant arguments by slot ("0", "2", "timeout") → their value as text ("None", "0", "True", "'x'").
    consts: tuple[tuple[str, str], ...] = ()
    key: KeyFact | None = None
    adapter: str = ""  # for `mount(prefix, adapter)`: "retries" | "custom" | "plain" | "unknown"
    target: str = ""  # a function handed over (RQ enqueue, a retry wrapper), qualified
    insert_at: Position | None = None  # where a keyword argument can be added
    insert_sep: str = ""
    is_decorator: bool = False

    def const(self, slot: str) -> str | None:
        return next((value for key, value in self.consts if key == slot), None)

    def has(self, name: str, slot: int | None = None) -> bool:
        return name in self.keywords or (slot is not None and self.positional > slot)

    def value(self, name: str, slot: int | None = None) -> str | None:
        """The constant passed as keyword `name` (or positional `slot`), as text; None when absent or computed."""
        if name in self.keywords:
            return self.const(name)
        if slot is not None and self.positional > slot:
            return self.const(str(slot))
        return None


@dataclass(frozen=True, slots=True)
class ObjectConfig:
    """Something done to an object after it was built: `session.request = partial(..., timeout=5)`."""

    receiver: str
    kind: str
    what: str


@dataclass(frozen=True, slots=True)
class FunctionFact:
    function: str
    calls_own_retry: bool  # `self.retry(...)` / `<task>.retry(...)` in a task's body
    retry_loop: bool  # a tenacity / stamina / backoff retry loop or wrapper inside the body
    retry_decorator: str  # a decorator that retries (tenacity, backoff, stamina or one named *retry*), or ""


@dataclass(frozen=True, slots=True)
class ProjectFact:
    key: str
    value: str


Record = KeyFact | ObjectDecl | CallFact | ObjectConfig | FunctionFact | ProjectFact

# --------------------------------------------------------------------------------------------- extract


def extract(source: SourceFile) -> list[Record]:
    module = source.python
    if module is None:
        return []
    return _FileScan(module, source.data).run()


@dataclass
class _Scope:
    """Names bound in one scope to followed objects: name → (kind, id); (None) when shadowed by something else."""

    names: dict[str, tuple[str, str] | None] = field(default_factory=dict)

    def bind(self, name: str, found: tuple[str, str] | None) -> None:
        if name not in self.names:
            self.names[name] = found
        elif self.names[name] != found:
            self.names[name] = None  # bound to different things: follow neither


class _FileScan:
    def __init__(self, module: Module, data: bytes) -> None:
        self.module = module
        self.data = data
        self.records: list[Record] = []
        self.module_scope = _Scope()
        self.class_scopes: dict[str, _Scope] = {}
        self.top_level = {fn.name for fn in module.functions if fn.qualname == fn.name}
        self._qualified: dict[str, str] = {}

    def run(self) -> list[Record]:
        self._tooling()
        self._module_objects()
        for cls in self._classes(self.module.classes):
            self.class_scopes[cls.qualname] = self._class_scope(cls)
        for fn in self.module.functions:
            self._function(fn)
        for call in self.module.calls:
            for inner in iter_calls(call):
                self._call(inner, None, self.module_scope, None)
        self._module_settings()
        return self.records

    # ---- names

    def qualify(self, dotted: str) -> str:
        # Asked several times for every callee and annotation; the imports do not change during the scan.
        qualified = self._qualified.get(dotted)
        if qualified is None:
            qualified = self._qualified[dotted] = self.module.resolve(dotted)
        return qualified

    def _classes(self, classes: list[Class]) -> Iterator[Class]:
        for cls in classes:
            yield cls
            yield from self._classes(cls.classes)

    def lookup(self, dotted: str, scope: _Scope, owner: str | None) -> tuple[str, str] | None:
        """The followed object `dotted` names here: a local, `self.x`, a module variable, an import."""
        if dotted in scope.names:
            return scope.names[dotted]
        if dotted.startswith("self.") and owner is not None:
            found = self.class_scopes.get(owner, _Scope()).names.get(dotted)
            if found is not None:
                return found
            return None
        head = dotted.split(".", 1)[0]
        if head in scope.names and scope is not self.module_scope:
            return None  # a local shadows the module's name
        if dotted in self.module_scope.names:
            return self.module_scope.names[dotted]
        qualified = self.qualify(dotted)
        if qualified in KNOWN_OBJECTS:
            return KNOWN_OBJECTS[qualified], qualified
        if head in self.module.imports and qualified.split(".", 1)[0] not in NOT_HOLDERS:
            return "", qualified  # defined in another module: bound in resolve
        return None

    def object_of(self, expr: Expr | None, scope: _Scope, owner: str | None) -> tuple[str, str] | None:
        """The followed object an expression evaluates to; the id is empty for a fresh one."""
        if isinstance(expr, Call):
            func = expr.func
            if isinstance(func, Name):
                qualified = self.qualify(func.dotted)
                if qualified in CONSTRUCTORS and not self._shadowed(func.dotted, scope):
                    return CONSTRUCTORS[qualified], ""
                receiver, _, method = func.dotted.rpartition(".")
                if method == "pipeline" and receiver:
                    found = self.lookup(receiver, scope, owner)
                    if found is not None and found[0] in ("redis", ""):
                        return "redis", ""
            elif isinstance(func, Attr) and func.attr == "pipeline":
                found = self.object_of(func.value, scope, owner)
                if found is not None and found[0] == "redis":
                    return "redis", ""
            return None
        if isinstance(expr, Name):
            return self.lookup(expr.dotted, scope, owner)
        if isinstance(expr, Subscript) and isinstance(expr.value, Name):
            if self.qualify(expr.value.dotted) == DJANGO_CACHES:
                alias = _const_str(expr.index[0]) if expr.index else None
                return "django_cache", f"{DJANGO_CACHES}[{alias or '?'}]"
        return None

    def _shadowed(self, dotted: str, scope: _Scope) -> bool:
        return scope is not self.module_scope and dotted.split(".", 1)[0] in scope.names

    def annotation_kind(self, annotation: Expr | None) -> str | None:
        """`client: httpx.AsyncClient`, `r: Redis | None`, `Optional[Session]` → the kind."""
        if isinstance(annotation, Name):
            return ANNOTATION_CLASSES.get(self.qualify(annotation.dotted))
        if isinstance(annotation, BinOp) and annotation.op == "|":
            return self.annotation_kind(annotation.left) or self.annotation_kind(annotation.right)
        if isinstance(annotation, Subscript) and annotation.index:
            if isinstance(annotation.value, Name) and annotation.value.dotted.rsplit(".", 1)[-1] in (
                    "Optional", "Annotated"):
                return self.annotation_kind(annotation.index[0])
        if isinstance(annotation, Const) and isinstance(annotation.value, str) and _IDENTIFIER.match(
                annotation.value.replace(".", "_")):
            return self.annotation_kind(Name(annotation.span, annotation.value))
        return None

    # ---- scopes

    def _module_objects(self) -> None:
        for assign in self.module.assigns:
            if _is_none(assign.value) and assign.annotation is None:
                continue
            for target in assign.targets:
                if "." in target:
                    self._attribute_config(target, assign.value, self.module_scope, None)
                    continue
                found = self.object_of(assign.value, self.module_scope, None)
                kind = self.annotation_kind(assign.annotation) if found is None else None
                if found is None and kind is not None:
                    found = (kind, "")
                if found is None:
                    if target in self.module_scope.names:
                        self.module_scope.bind(target, None)
                    continue
                identity = found[1] or f"{self.module.module}.{target}"
                self.module_scope.bind(target, (found[0], identity))
                if found[0]:
                    self._declare(identity, found[0], assign.value)

    def _class_scope(self, cls: Class) -> _Scope:
        scope = _Scope()
        prefix = f"{self.module.module}.{cls.qualname}"
        for assign in cls.assigns:
            for target in assign.targets:
                self._bind_attribute(scope, prefix, f"self.{target}", assign, cls.qualname)
        for method in cls.methods:
            method_scope = self._parameters(method)
            for assign in method.assigns:
                for target in assign.targets:
                    if target.startswith("self.") and target.count(".") == 1:
                        self._bind_attribute(scope, prefix, target, assign, cls.qualname, method_scope)
        return scope

    def _bind_attribute(self, scope: _Scope, prefix: str, target: str, assign: Assign, owner: str,
                        method_scope: _Scope | None = None) -> None:
        found = self.object_of(assign.value, method_scope or self.module_scope, owner)
        if found is None:
            kind = self.annotation_kind(assign.annotation)
            found = (kind, "") if kind else None
        if found is None:
            if assign.value is not None and not (isinstance(assign.value, Const) and assign.value.value is None):
                scope.bind(target, None)
            return
        identity = found[1] or f"{prefix}.{target.removeprefix('self.')}"
        scope.bind(target, (found[0], identity))
        if found[0] and not found[1]:
            self._declare(identity, found[0], assign.value)

    def _parameters(self, fn: Function) -> _Scope:
        scope = _Scope()
        qualified = self.function_name(fn)
        for param in fn.params:
            kind = self.annotation_kind(param.annotation)
            scope.bind(param.name, (kind, f"{qualified}/{param.name}") if kind else None)
        return scope

    def function_name(self, fn: Function) -> str:
        return f"{self.module.module}.{fn.qualname}"

    def _function(self, fn: Function) -> None:
        scope = self._parameters(fn)
        qualified = self.function_name(fn)
        owner = self._owner(fn)
        calls = [call for outer in fn.calls for call in iter_calls(outer)]
        for assign in fn.assigns:
            self._local_assign(assign, scope, owner, qualified)
        self._with_targets(fn, calls, scope, owner, qualified)
        for call in calls:
            self._call(call, fn, scope, owner)
        for decorator in fn.decorators:
            self._decorator(decorator, fn, scope)
        fact = FunctionFact(qualified, self._calls_own_retry(fn, calls),
                            any(self._is_retry_call(call) for call in calls), self._retry_decorator(fn))
        if fact.calls_own_retry or fact.retry_loop or fact.retry_decorator:
            self.records.append(fact)

    def _owner(self, fn: Function) -> str | None:
        """The qualified class name (within the module) of a method."""
        if fn.owner is None:
            return None
        qualname = fn.qualname.rsplit(".", 1)[0]
        return qualname if qualname in self.class_scopes else None

    def _local_assign(self, assign: Assign, scope: _Scope, owner: str | None, qualified: str) -> None:
        if _is_none(assign.value) and assign.annotation is None:
            return  # `client = None` before it is built: says nothing
        for target in assign.targets:
            if target.startswith("self.") or "." in target:
                self._attribute_config(target, assign.value, scope, owner)
                continue
            found = self.object_of(assign.value, scope, owner)
            if found is None:
                kind = self.annotation_kind(assign.annotation)
                found = (kind, "") if kind else None
            if found is None:
                scope.bind(target, None)
                continue
            identity = found[1] or f"{qualified}/{target}"
            scope.bind(target, (found[0], identity))
            if found[0] and not found[1]:
                self._declare(identity, found[0], assign.value)

    def _attribute_config(self, target: str, value: Expr | None, scope: _Scope, owner: str | None) -> None:
        """`session.request = functools.partial(session.request, timeout=5)`: the session has a timeout."""
        receiver, _, attribute = target.rpartition(".")
        if attribute not in ("request", "send") or not isinstance(value, Call):
            return
        if value.kwarg("timeout") is None and "timeout" not in expr_text(value):
            return
        found = self.lookup(receiver, scope, owner)
        if found is not None and found[1]:
            self.records.append(ObjectConfig(found[1], found[0], "timeout"))

    def _with_targets(self, fn: Function, calls: list[Call], scope: _Scope, owner: str | None,
                      qualified: str) -> None:
        """`with requests.Session() as s:` / `async with aiohttp.ClientSession() as session:`."""
        if not fn.withs:
            return
        by_start = {call.span.start: call for call in calls}
        for _, items in fn.withs:
            for item in items:
                if not isinstance(item, Raw) or item.kind != "as_pattern" or " as " not in item.text:
                    continue
                target = item.text.rsplit(" as ", 1)[1].strip()
                if not _IDENTIFIER.match(target):
                    continue
                call = by_start.get(item.span.start)
                found = self.object_of(call, scope, owner) if call is not None else None
                if found is None:
                    scope.bind(target, None)
                    continue
                identity = found[1] or f"{qualified}/{target}"
                scope.bind(target, (found[0], identity))
                if found[0] and not found[1] and call is not None:
                    self._declare(identity, found[0], call)

    def _declare(self, identity: str, kind: str, value: Expr | None) -> None:
        options: list[str] = []
        if isinstance(value, Call) and kind in ("httpx_client", "httpx_async_client"):
            if value.kwarg("transport") is not None:
                options.append("retries")
            if _is_none(value.kwarg("timeout")):
                options.append("timeout_none")
        self.records.append(ObjectDecl(identity, kind, tuple(options)))

    # ---- calls

    def _call(self, call: Call, fn: Function | None, scope: _Scope, owner: str | None) -> None:
        func = call.func
        if isinstance(func, Name):
            qualified = self.qualify(func.dotted)
            if qualified in FUNCTIONS and not self._shadowed(func.dotted, scope):
                self._record(call, fn, qualified, "", "")
                return
            receiver, _, method = func.dotted.rpartition(".")
            if not receiver or method not in ALL_METHODS:
                return
            found = self.lookup(receiver, scope, owner)
        elif isinstance(func, Attr):
            method = func.attr
            if method not in ALL_METHODS:
                return
            found = self.object_of(func.value, scope, owner)
        else:
            return
        if found is None or (found[0] and method not in METHODS.get(found[0], ())):
            return
        self._record(call, fn, method, found[0], found[1])

    def _record(self, call: Call, fn: Function | None, callee: str, kind: str, receiver: str,
                decorated: Function | None = None) -> None:
        consts: list[tuple[str, str]] = []
        for index, arg in enumerate(call.args[:4]):
            if isinstance(arg, Const):
                consts.append((str(index), repr(arg.value)))
        for name, value in call.kwargs:
            if isinstance(value, Const):
                consts.append((name, repr(value.value)))
        holder = decorated or fn
        insert_at, separator = _insertion_point(call)
        self.records.append(CallFact(
            module=self.module.module,
            function=self.function_name(holder) if holder is not None else None,
            is_async=holder.is_async if holder is not None else False,
            in_loop=fn is not None and decorated is None and _in_loop(fn, call.span),
            span=call.span,
            callee=callee,
            kind=kind,
            receiver=receiver,
            keywords=tuple(name for name, _ in call.kwargs),
            positional=len(call.args),
            star=call.star,
            consts=tuple(consts),
            key=_key_fact(call),
            adapter=self._adapter(call, fn) if callee == "mount" else "",
            target=self._target(call, callee),
            insert_at=insert_at,
            insert_sep=separator,
            is_decorator=decorated is not None,
        ))

    def _adapter(self, call: Call, fn: Function | None) -> str:
        """What `session.mount(prefix, adapter)` mounts: a retrying HTTPAdapter, a plain one, a custom class."""
        adapter = call.args[1] if len(call.args) > 1 else call.kwarg("adapter")
        if isinstance(adapter, Name):
            assigns = fn.assigns if fn is not None else self.module.assigns
            adapter = next((assign.value for assign in assigns if adapter.dotted in assign.targets), None)
        if not isinstance(adapter, Call) or not isinstance(adapter.func, Name):
            return "unknown"
        if self.qualify(adapter.func.dotted) != "requests.adapters.HTTPAdapter":
            return "custom"
        retries = adapter.kwarg("max_retries")
        return "retries" if retries is not None and not _is_falsy(retries) else "plain"

    def _target(self, call: Call, callee: str) -> str:
        """The function a call hands over: `queue.enqueue(fn, ...)`, `tenacity.retry(...)(fn)`."""
        if callee in ("enqueue", "enqueue_call"):
            expr = call.kwarg("func") or (call.args[0] if call.args else None)
        elif callee in ("enqueue_in", "enqueue_at"):
            expr = call.args[1] if len(call.args) > 1 else call.kwarg("func")
        else:
            return ""
        return self._function_ref(expr)

    def _function_ref(self, expr: Expr | None) -> str:
        if isinstance(expr, Const) and isinstance(expr.value, str):
            return expr.value
        if isinstance(expr, Name):
            if expr.dotted in self.top_level:
                return f"{self.module.module}.{expr.dotted}"
            return self.qualify(expr.dotted)
        return ""

    def _decorator(self, decorator: Expr, fn: Function, scope: _Scope) -> None:
        call = decorator if isinstance(decorator, Call) else None
        func = call.func if call is not None else decorator
        if not isinstance(func, Name):
            return
        as_call = call or Call(decorator.span, func, (), (), decorator.span.end)
        qualified = self.qualify(func.dotted)
        if qualified in TASK_DECORATORS:
            self._record(as_call, None, qualified, "", "", decorated=fn)
            return
        receiver, _, method = func.dotted.rpartition(".")
        if method not in ("task", "cached", "memoize") or not receiver:
            return
        found = self.lookup(receiver, self.module_scope, None)
        if found is None and method == "task" and "celery" in receiver.lower():
            found = ("celery_app", "")  # `celery = make_celery(app)`: a Celery app by every sign but its type
        if found is not None and (not found[0] or method in METHODS.get(found[0], ())):
            self._record(as_call, None, method, found[0], found[1], decorated=fn)

    # ---- retries

    def _calls_own_retry(self, fn: Function, calls: list[Call]) -> bool:
        owners = {fn.name} | ({fn.params[0].name} if fn.params else set())
        retries = {f"{name}.retry" for name in owners}
        return any(isinstance(call.func, Name) and call.func.dotted in retries for call in calls)

    def _is_retry_call(self, call: Call) -> bool:
        func = call.func
        if isinstance(func, Call):  # tenacity.retry(...)(fetch)
            func = func.func
        return isinstance(func, Name) and self.qualify(func.dotted) in RETRY_CALLS

    def _retry_decorator(self, fn: Function) -> str:
        for decorator in fn.decorators:
            func = decorator.func if isinstance(decorator, Call) else decorator
            if not isinstance(func, Name):
                continue
            qualified = self.qualify(func.dotted)
            last = func.dotted.rsplit(".", 1)[-1].lower()
            if qualified in RETRY_CALLS or "retry" in last or "backoff" in last or last == "on_exception":
                return qualified
        return ""

    # ---- project-wide facts

    def _tooling(self) -> None:
        for qualified in sorted(set(self.module.imports.values())):
            if _in_packages(qualified, RETRY_MODULES):
                self.records.append(ProjectFact("retry_tooling", f"{qualified.split('.')[0]} ({self.module.path})"))
                return

    def _module_settings(self) -> None:
        for assign in self.module.assigns:
            if "CACHES" in assign.targets and isinstance(assign.value, Seq) and assign.value.kind == "dict":
                for alias, config in zip(assign.value.keys, assign.value.items, strict=False):
                    if isinstance(config, Seq) and config.kind == "dict" and any(
                            _const_str(key) == "TIMEOUT" and _is_none(value)
                            for key, value in zip(config.keys, config.items, strict=False)):
                        self.records.append(ProjectFact("django_cache_timeout_none", _const_str(alias) or "?"))
        every_assign = [*self.module.assigns, *(a for fn in self.module.functions for a in fn.assigns)]
        for assign in every_assign:
            for target in assign.targets:
                if target.endswith("task_annotations"):
                    self.records.append(ProjectFact("celery_annotations", self.module.path))
                elif "." in target and self.qualify(target).startswith("requests.") and (
                        "timeout" in expr_text(assign.value) or target.endswith((".send", ".request"))):
                    self.records.append(ProjectFact("requests_patched", f"{target} ({self.module.path})"))
        if b"task_annotations" in self.data and any(
                "task_annotations" in dict(call.kwargs) for call in self._every_call()):
            self.records.append(ProjectFact("celery_annotations", self.module.path))
        if b"x-dead-letter" in self.data:
            self.records.append(ProjectFact("dead_letter", self.module.path))

    def _every_call(self) -> Iterator[Call]:
        for outer in [*self.module.calls, *(call for fn in self.module.functions for call in fn.calls)]:
            yield from iter_calls(outer)


# --------------------------------------------------------------------------------------------- call helpers


def _in_packages(qualified: str, packages: frozenset[str]) -> bool:
    """`qualified` is one of `packages` or inside one (`tenacity.retry` is in `tenacity`)."""
    end = qualified.find(".")
    while end >= 0:
        if qualified[:end] in packages:
            return True
        end = qualified.find(".", end + 1)
    return qualified in packages


def _const_str(expr: Expr | None) -> str | None:
    return expr.value if isinstance(expr, Const) and isinstance(expr.value, str) else None


def _is_none(expr: Expr | None) -> bool:
    return isinstance(expr, Const) and expr.value is None


def _is_falsy(expr: Expr | None) -> bool:
    return isinstance(expr, Const) and not expr.value


def _in_loop(fn: Function, span: Span) -> bool:
    """Inside a loop's body (not in the iterable a `for` evaluates once)."""
    sources = getattr(fn, "loop_sources", None) or [(loop, None, ()) for loop in fn.loops]
    for loop, iterable, _ in sources:
        if not _within(span, loop):
            continue
        if iterable is not None and _within(span, iterable.span):
            continue
        return True
    return False


def _within(inner: Span, outer: Span) -> bool:
    return (outer.start.line, outer.start.column) <= (inner.start.line, inner.start.column) and (
        inner.end.line, inner.end.column) <= (outer.end.line, outer.end.column)


def _insertion_point(call: Call) -> tuple[Position | None, str]:
    """Right after the last argument (safe with a trailing comma), or inside empty parentheses."""
    ends = [arg.span.end for arg in call.args] + [value.span.end for _, value in call.kwargs]
    if ends:
        return max(ends, key=lambda position: (position.line, position.column)), ", "
    if call.span.end == call.close:
        return None, ""  # a decorator without parentheses
    return call.close, ""


def _key_fact(call: Call) -> KeyFact | None:
    expr = call.args[0] if call.args else (call.kwarg("key") or call.kwarg("name"))
    if expr is None:
        return None
    shape, prefix, first = _key_shape(expr)
    return KeyFact(shape, prefix, first, expr_text(expr)[:200], expr.span)


def _key_shape(expr: Expr) -> tuple[str, str, str]:
    """(shape, constant prefix, first interpolated expression) of a key expression."""
    if isinstance(expr, Const):
        return ("const", str(expr.value), "") if isinstance(expr.value, str) else ("unknown", "", "")
    if isinstance(expr, FString):
        return _template(expr.text)
    if isinstance(expr, BinOp) and expr.op == "+":
        operands = _flatten_sum(expr)
        prefix = ""
        for operand in operands:
            if isinstance(operand, Const) and isinstance(operand.value, str):
                prefix += operand.value
                continue
            if isinstance(operand, FString):
                shape, inner, first = _template(operand.text)
                return (shape, prefix + inner, first) if shape != "const" else ("unknown", "", "")
            return "template", prefix, _first_value(operand)
        return "const", prefix, ""
    if isinstance(expr, BinOp) and expr.op == "%" and isinstance(expr.left, Const) and isinstance(
            expr.left.value, str):
        text = expr.left.value.replace("%%", "\0")
        if "%" not in text:
            return "const", text.replace("\0", "%"), ""
        return "template", text.split("%", 1)[0].replace("\0", "%"), expr_text(expr.right)
    if isinstance(expr, Call) and isinstance(expr.func, Attr) and expr.func.attr == "format" and isinstance(
            expr.func.value, Const) and isinstance(expr.func.value.value, str):
        text = expr.func.value.value.replace("{{", "\0")
        if "{" not in text:
            return "const", text.replace("\0", "{"), ""
        first = expr_text(expr.args[0]) if expr.args else ""
        return "template", text.split("{", 1)[0].replace("\0", "{"), first
    if isinstance(expr, Call) and isinstance(expr.func, Name) and expr.func.dotted == "str" and expr.args:
        return "template", "", expr_text(expr.args[0])
    if isinstance(expr, Call) and isinstance(expr.func, Attr) and expr.func.attr == "join" and isinstance(
            expr.func.value, Const) and expr.args and isinstance(expr.args[0], Seq) and expr.args[0].items:
        separator = str(expr.func.value.value)
        first_item = expr.args[0].items[0]
        if isinstance(first_item, Const) and isinstance(first_item.value, str):
            return "template", first_item.value + separator, ""
        return "template", "", _first_value(first_item)
    return "unknown", "", ""


def _flatten_sum(expr: Expr) -> list[Expr]:
    if isinstance(expr, BinOp) and expr.op == "+":
        return _flatten_sum(expr.left) + _flatten_sum(expr.right)
    return [expr]


def _first_value(expr: Expr) -> str:
    if isinstance(expr, Call) and isinstance(expr.func, Name) and expr.func.dotted == "str" and expr.args:
        return expr_text(expr.args[0])
    return expr_text(expr)


def _template(text: str) -> tuple[str, str, str]:
    """The constant prefix of an f-string (or a concatenation of literals) and its first interpolation."""
    prefix = ""
    for match in _STRING_PART.finditer(text):
        letters, body = match.group(1).lower(), match.group(3)
        if "f" not in letters:
            prefix += body
            continue
        index = 0
        while index < len(body):
            pair = body[index:index + 2]
            if pair in ("{{", "}}"):
                prefix += body[index]
                index += 2
                continue
            if body[index] == "{":
                return "template", prefix, _interpolation(body, index + 1)
            prefix += body[index]
            index += 1
    return "const", prefix, ""


def _interpolation(body: str, start: int) -> str:
    depth = 0
    for index in range(start, len(body)):
        char = body[index]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return body[start:index].strip().rstrip("=").strip()
            depth -= 1
        elif char in "!:" and depth == 0 and body[index:index + 2] != "!=":
            return body[start:index].strip()
    return body[start:].strip()


# --------------------------------------------------------------------------------------------- resolve


def resolve(builder: ModelBuilder) -> None:
    _Resolver(builder).run()


class _Resolver:
    def __init__(self, builder: ModelBuilder) -> None:
        self.builder = builder
        self.project = builder.project
        self.objects: dict[str, ObjectDecl] = {}
        self.configs: dict[str, set[str]] = {}
        self.functions: dict[str, FunctionFact] = {}
        self.facts: dict[str, list[str]] = {}
        self.sites: list[CallSite] = []

    def run(self) -> None:
        for _, record in self.builder.records(ObjectDecl):
            self.objects.setdefault(record.id, record)
        for _, config in self.builder.records(ObjectConfig):
            self.configs.setdefault(self.canonical(config.receiver), set()).add(config.what)
        for _, fact in self.builder.records(ProjectFact):
            self.facts.setdefault(fact.key, []).append(fact.value)
        for _, function in self.builder.records(FunctionFact):
            self.functions[function.function] = function
        calls = [(facts.path, call) for facts, call in self.builder.records(CallFact)]
        for path, call in calls:  # configuration first: a session mounted with retries anywhere
            if call.callee == "mount" and self.kind_of(call) == "requests_session":
                self._mount(call)
            if call.callee in RETRY_TRANSPORTS:
                self._transport(call, path)
        for path, call in calls:
            self._classify(path, call)
        self._retries()
        self._task_calls()
        self._settings()
        self._entities()
        self.project.calls.extend(self.sites)

    # ---- objects

    def canonical(self, name: str) -> str:
        """The object a qualified name refers to, through re-exports (`from app.clients import http`)."""
        seen: set[str] = set()
        current = name
        while current not in seen:
            seen.add(current)
            if current in self.objects or current in KNOWN_OBJECTS:
                return current
            module_name, _, attribute = current.rpartition(".")
            module = self.builder.modules.get(module_name)
            if module is None or attribute not in module.imports:
                break
            current = module.imports[attribute]
        return name

    def kind_of(self, call: CallFact) -> str:
        if call.kind or not call.receiver:
            return call.kind
        name = self.canonical(call.receiver)
        declared = self.objects.get(name)
        if declared is not None:
            return declared.kind
        return KNOWN_OBJECTS.get(name, "")

    def options_of(self, call: CallFact) -> set[str]:
        if not call.receiver:
            return set()
        name = self.canonical(call.receiver)
        declared = self.objects.get(name)
        return set(declared.options if declared else ()) | self.configs.get(name, set())

    def _mount(self, call: CallFact) -> None:
        what = {"retries": "retries", "custom": "custom_adapter", "unknown": "custom_adapter"}.get(call.adapter)
        if what is not None and call.receiver:
            self.configs.setdefault(self.canonical(call.receiver), set()).add(what)

    def _transport(self, call: CallFact, path: str) -> None:
        option = RETRY_TRANSPORTS[call.callee]
        if call.has(option) and call.value(option) not in ("0", "None", "False"):
            name = call.callee.rsplit(".", 1)[-1]
            self.facts.setdefault("retry_tooling", []).append(f"{name}({option}=...) ({path})")

    # ---- classification

    def _classify(self, path: str, call: CallFact) -> None:
        kind = self.kind_of(call)
        if call.is_decorator:
            self._decorated(path, call, kind)
        elif not kind and not call.receiver:
            self._function_call(path, call)
        elif kind:
            self._method_call(path, call, kind)

    def site(self, path: str, call: CallFact, kind: str, callee: str, **detail: str) -> CallSite:
        site = CallSite(kind=kind, callee=callee, location=Location(path, call.span), function=call.function,
                        is_async=call.is_async, in_loop=call.in_loop, keywords=call.keywords,
                        detail={key: value for key, value in detail.items() if value})
        site.detail["module"] = call.module
        if call.insert_at is not None:
            site.detail["insert_at"] = _position(call.insert_at)
            site.detail["insert_sep"] = call.insert_sep
        self.sites.append(site)
        return site

    def _function_call(self, path: str, call: CallFact) -> None:
        callee = call.callee
        library = HTTP_FUNCTIONS.get(callee)
        if library is not None:
            self.site(path, call, "http", callee, library=library, blocking=_flag(library != "aiohttp"),
                      timeout=self._timeout(call, library))
        elif callee == "time.sleep":
            self.site(path, call, "sleep", callee, blocking="true")
        elif callee in EMAIL_FUNCTIONS:
            self.site(path, call, "email", callee)
        elif callee in REPORT_FUNCTIONS:
            self.site(path, call, "report", callee)
        elif callee in TIMEOUT_OBJECTS and _disables_timeouts(call, TIMEOUT_OBJECTS[callee]):
            self.site(path, call, "http_timeout", callee, library=TIMEOUT_OBJECTS[callee], timeout="none")
        elif callee in ("httpx.Client", "httpx.AsyncClient") and call.value("timeout") == "None":
            self.site(path, call, "http_client", callee, library="httpx", timeout="none",
                      blocking=_flag(callee == "httpx.Client"))
        elif callee == "socket.setdefaulttimeout" and call.value("timeout", 0) != "None":
            self.facts.setdefault("socket_timeout", []).append(call.module)

    def _timeout(self, call: CallFact, library: str) -> str:
        slot = 2 if call.callee == "urllib.request.urlopen" else None
        if call.has("timeout", slot):
            # aiohttp reads timeout=None as "the session's default" (5 minutes), not as "no timeout"
            disabled = call.value("timeout", slot) == "None" and library != "aiohttp"
            return "none" if disabled else "set"
        if call.star:
            return "unknown"
        return "missing" if library in ("requests", "urllib") else "default"

    def _method_call(self, path: str, call: CallFact, kind: str) -> None:
        method = call.callee
        label = f"{KIND_LABELS.get(kind, kind)}.{method}"
        if kind in ("requests_session", "httpx_client", "httpx_async_client", "aiohttp_session"):
            if method in ("mount",):
                return
            library = kind.split("_")[0]
            options = self.options_of(call)
            timeout = self._timeout(call, library)
            if "custom_adapter" in options or "timeout" in options:
                timeout = "configured" if timeout == "missing" else timeout
            self.site(path, call, "http", label, library=library,
                      blocking=_flag(kind in ("requests_session", "httpx_client")), timeout=timeout,
                      object=call.receiver, retries=_flag("retries" in options))
        elif kind == "redis":
            self._redis(path, call, label)
        elif kind in ("django_cache", "flask_cache"):
            self._cache(path, call, kind, label)
        elif kind in ("smtp", "django_email", "flask_mail", "fastapi_mail"):
            self.site(path, call, "email", label)
        elif kind in ("weasyprint_html", "reportlab_canvas", "reportlab_document"):
            self.site(path, call, "report", label)
        elif kind == "rq_queue":
            retry = ", ".join(name for name in ("retry", "on_failure") if name in call.keywords)
            self.site(path, call, "enqueue", label, framework="rq", target=call.target, retry=retry)

    def _key_detail(self, call: CallFact) -> dict[str, str]:
        key = call.key
        if key is None:
            return {}
        span = key.span
        return {"key": key.text, "key_shape": key.shape, "key_prefix": key.prefix, "key_first": key.first,
                "key_span": f"{span.start.line}:{span.start.column}:{span.end.line}:{span.end.column}"}

    def _redis(self, path: str, call: CallFact, label: str) -> None:
        method = call.callee
        detail = self._key_detail(call)
        if method == "set":
            has_ttl = any(call.has(option) and call.value(option) != "None" for option in REDIS_TTL_OPTIONS) or (
                call.value("keepttl") not in (None, "False") and call.has("keepttl")) or (
                call.positional > 2 and call.const("2") != "None")
            ttl = "set" if has_ttl or call.star else "missing"
            self.site(path, call, "cache_write", label, backend="redis", command=method, ttl=ttl, **detail)
        elif method in REDIS_WRITES_WITH_TTL:
            self.site(path, call, "cache_write", label, backend="redis", command=method, ttl="set", **detail)
        elif method in REDIS_PLAIN_WRITES:
            self.site(path, call, "cache_write", label, backend="redis", command=method, ttl="missing", **detail)
        elif method in REDIS_EXPIRES:
            self.site(path, call, "cache_expire", label, backend="redis", command=method, **detail)
        elif method in REDIS_READS:
            self.site(path, call, "cache_read", label, backend="redis", command=method, **detail)

    def _cache(self, path: str, call: CallFact, kind: str, label: str) -> None:
        method = call.callee
        backend = "django" if kind == "django_cache" else "flask_caching"
        detail = self._key_detail(call) if method not in ("set_many", "get_many", "delete_many") else {}
        version = _flag("version" in call.keywords)
        if method in ("cached", "memoize"):
            return
        if method in CACHE_WRITES:
            slot = CACHE_WRITES[method]
            value = call.value("timeout", slot)
            present = call.has("timeout", slot)
            forever = "None" if backend == "django" else "0"
            ttl = "none" if value == forever else "set" if present or call.star else "default"
            alias = self._alias(call)
            default = "none" if backend == "django" and alias in self.facts.get("django_cache_timeout_none", []) \
                else ""
            self.site(path, call, "cache_write", label, backend=backend, command=method, ttl=ttl,
                      default_timeout=default, alias=alias, version=version, **detail)
        elif method in CACHE_READS:
            self.site(path, call, "cache_read", label, backend=backend, command=method, version=version, **detail)

    def _alias(self, call: CallFact) -> str:
        receiver = self.canonical(call.receiver)
        if receiver.startswith(DJANGO_CACHES + "["):
            return receiver[len(DJANGO_CACHES) + 1:-1]
        return "default" if receiver == "django.core.cache.cache" else ""

    def _decorated(self, path: str, call: CallFact, kind: str) -> None:
        if call.callee in ("cached", "memoize") and kind == "flask_cache":
            ttl = "none" if call.value("timeout", 0) == "0" else "set" if call.has("timeout", 0) else "default"
            self.site(path, call, "cache_write", f"flask_caching.Cache.{call.callee}", backend="flask_caching",
                      command=call.callee, ttl=ttl)
            return
        framework = TASK_DECORATORS.get(call.callee) or ("celery" if kind == "celery_app" and call.callee == "task"
                                                         else None)
        if framework is None:
            return
        self.site(path, call, "task", call.callee if call.callee in TASK_DECORATORS else "celery.Celery.task",
                  framework=framework, retry=self._task_retry(call, framework),
                  dead_letter=self._dead_letter(call))

    def _task_retry(self, call: CallFact, framework: str) -> str:
        """What gives a task a retry policy, or "" when nothing does."""
        if framework == "rq":
            return ", ".join(name for name in ("retry", "on_failure") if name in call.keywords)
        reasons: list[str] = [name for name in ("autoretry_for", "retry_backoff", "retry_kwargs", "base", "on_failure")
                   if name in call.keywords]
        function = self.functions.get(call.function or "")
        if function is not None and function.calls_own_retry:
            reasons.append("self.retry()")
        if call.star:
            reasons.append("**options")
        if self.facts.get("celery_annotations"):
            reasons.append("task_annotations")
        return ", ".join(reasons)

    def _dead_letter(self, call: CallFact) -> str:
        acks = any(call.value(name) == "True" for name in ("acks_late", "reject_on_worker_lost"))
        return "dead-letter queue" if acks and self.facts.get("dead_letter") else ""

    # ---- retries, direct task calls, settings

    def _retries(self) -> None:
        for function in self.functions.values():
            how = function.retry_decorator or ("retry loop" if function.retry_loop else "")
            info = self.project.functions.get(function.function)
            if how and info is not None:
                self.sites.append(CallSite("retry", how, info.location, function=function.function,
                                           is_async=info.is_async, detail={"how": how}))

    def _task_calls(self) -> None:
        """A request path calling a task's function directly runs it in the request: find those calls."""
        tasks = {site.function: site for site in self.sites if site.kind == "task" and site.function}
        if not tasks:
            return
        for info in self.project.functions.values():
            called = info.calls & tasks.keys()
            if not called or info.name in tasks:
                continue
            module = self.builder.modules.get(_module_of(info.name, self.builder.modules))
            fn = _function_in(module, info.name) if module is not None else None
            if module is None or fn is None:
                continue
            for outer in fn.calls:
                for call in iter_calls(outer):
                    task = _called_task(module, call, called)
                    if task is not None:
                        self.sites.append(CallSite(
                            "task_call", task, Location(info.location.path, call.span), function=info.name,
                            is_async=info.is_async, in_loop=_in_loop(fn, call.span),
                            detail={"task": task, "module": module.module, "name_end": _position(call.func.span.end)}))

    def _settings(self) -> None:
        labels = {
            "retry_tooling": "integrations.retry_tooling", "socket_timeout": "integrations.socket_default_timeout",
            "requests_patched": "integrations.requests_default_timeout",
            "celery_annotations": "integrations.celery_task_annotations",
            "dead_letter": "integrations.dead_letter_queue",
        }
        for key, setting in labels.items():
            values = sorted(set(self.facts.get(key, [])))
            if values:
                self.project.settings[setting] = ", ".join(values[:5])

    def _entities(self) -> None:
        """A fingerprint entity per call site, stable when lines move: scope, callee and an ordinal."""
        seen: dict[tuple[str, str, str], int] = {}
        for site in self.sites:
            scope = site.function or site.detail.get("module", site.location.path)
            key = (site.kind, scope, site.callee)
            seen[key] = seen.get(key, 0) + 1
            ordinal = seen[key]
            site.detail["entity"] = f"{scope}:{site.callee}" + (f"#{ordinal}" if ordinal > 1 else "")


def _position(position: Position) -> str:
    return f"{position.line}:{position.column}"


def _flag(value: bool) -> str:
    return "true" if value else ""


def _disables_timeouts(call: CallFact, library: str) -> bool:
    """`httpx.Timeout(None)` or `aiohttp.ClientTimeout(total=None)`: no limit on any phase."""
    if call.star:
        return False
    names = ("timeout", "connect", "read", "write", "pool") if library == "httpx" else (
        "total", "connect", "sock_read", "sock_connect")
    given = [call.const(name) for name in names if name in call.keywords]
    positional = [call.const(str(index)) for index in range(call.positional)]
    if library == "httpx" and not positional and "timeout" not in call.keywords:
        return False  # httpx.Timeout(connect=None, ...) without a default: invalid or partial
    return all(value == "None" for value in [*given, *positional])


def _module_of(function: str, modules: dict[str, Module]) -> str:
    parts = function.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        candidate = ".".join(parts[:cut])
        if candidate in modules:
            return candidate
    return ""


def _function_in(module: Module, qualified: str) -> Function | None:
    return next((fn for fn in module.functions if f"{module.module}.{fn.qualname}" == qualified), None)


def _called_task(module: Module, call: Call, tasks: set[str]) -> str | None:
    if not isinstance(call.func, Name):
        return None
    dotted = call.func.dotted
    for task in tasks:
        local = f"{module.module}.{dotted}"
        if local == task or module.resolve(dotted) == task or (
                dotted.rsplit(".", 1)[-1] == task.rsplit(".", 1)[-1] and dotted.split(".", 1)[0] in module.imports):
            return task
    return None


__all__ = ["CallFact", "FunctionFact", "KeyFact", "ObjectConfig", "ObjectDecl", "ProjectFact", "extract", "resolve"]
