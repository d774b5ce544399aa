"""Configuration and code behaviour: secrets, environment reads, debug switches, prints, broad except clauses and
worker loops.

Per file, `extract` turns the Python module summary (and, for committed config files such as `alembic.ini`,
`docker-compose.yml` or `.env.example`, the text) into `CodeFact`s; settings modules and config classes that
may switch DEBUG on become `DebugSource`s, because whether their DEBUG reaches production depends on the
modules that star-import them and the classes that inherit from them. `resolve` registers `CallSite`s:

- `secret`: a credential written in code or config (`detail`: name, what it is, category, local, trivial,
  dev_module; `fix_*` for a plain `NAME = "literal"` that can read the environment instead);
- `env_read`: an environment read in a function (`where=function`: variable, form, default, cached) or one at
  import time whose missing value is used unchecked (`where=import`, `use`: what consumes it);
- `debug_flag`: DEBUG on in a settings module or config class that production uses, `FastAPI(debug=True)`,
  `app.config["DEBUG"] = True`, `app.run(debug=True)` / `uvicorn.run(reload=True)` outside a main guard;
- `print`: a `print(...)` in a function (`detail`: logger, cli, fix_*);
- `broad_except`: `except:` / `except Exception:` (`detail`: silent, logged, raises, leak (outside `if isinstance(e,
  ...)` blocks), leak_via, explained;
  fallback when the handler carries on with a value it chose, nested inside another except clause, converts
  when the try block only imports, parses or converts);
- `worker_loop`: a `while True:` loop that consumes work (`detail`: consumes, signals, interrupts).

Every site gets `detail["entity"]`: "<function or module or path>:<name>", numbered when repeated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from analyzers.facts import SourceFile
from analyzers.model import CallSite, Location, Position, Span, encode_span
from analyzers.pysyntax import (
    Assign,
    Attr,
    BinOp,
    Call,
    Class,
    Const,
    ExceptClause,
    Expr,
    FString,
    Function,
    Module,
    Name,
    Seq,
    Subscript,
    const_str,
    expr_text,
    iter_calls,
    walk,
)
from analyzers.resolve import ModelBuilder

# --------------------------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class CodeFact:
    kind: str
    callee: str
    span: Span
    function: str | None  # qualified name of the function holding it; None at module level or in a text file
    module: str  # dotted module name ("" for text files)
    is_async: bool = False
    detail: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DebugSource:
    """A settings module or config class that sets DEBUG (or inherits it), for DEBUG inherited through
    `from .base import *` or a base class."""

    name: str  # dotted module name, or module name + "." + class qualname
    dev: bool  # named for development, local work or tests
    debug: str  # "true" (DEBUG = True), "set" (anything else, or conditionally), "" (not assigned here)
    parents: tuple[str, ...]  # star-imported modules / base classes, qualified
    env_backed: bool = False  # a pydantic BaseSettings class: the environment overrides its defaults
    fact: CodeFact | None = None  # the finding when its DEBUG = True reaches production


# --------------------------------------------------------------------------------------------- vocabulary

PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passphrase"})
SECRET_PAIRS = frozenset({
    ("secret", "key"), ("api", "key"), ("access", "key"), ("private", "key"), ("signing", "key"),
    ("encryption", "key"), ("master", "key"), ("auth", "key"), ("app", "key"), ("license", "key"),
    ("account", "key"), ("client", "secret"), ("webhook", "secret"),
})
SINGLE_SECRET_WORDS = frozenset({"secret", "apikey", "secretkey", "credentials", "authorization"})
TOKEN_WORDS = frozenset({"token"})
# `*_KEY` names that are not credentials (a cache key, a sort key, a bucket's object key).
PLAIN_KEY_WORDS = frozenset({
    "cache", "sort", "primary", "foreign", "partition", "lookup", "idempotency", "redis", "object", "bucket",
    "file", "map", "group", "unique", "natural", "composite", "dict", "storage", "session", "public", "hash",
    "index", "join", "order", "row", "message", "routing", "search", "translation", "i18n", "setting", "config",
    "attribute", "field", "column", "record", "metadata", "registry", "state", "lock", "queue", "event",
})
# Words that make a credential-sounding name the name or label of one, not one (`COOKIE_NAME_JWT_TOKEN = "_token"`,
# `RESOURCE_PASSWORD = "Passwords"`, `PASSWORD_FIELD`: Airflow).
LABEL_WORDS = frozenset({
    "name", "names", "label", "title", "resource", "field", "param", "header", "message", "msg", "prompt",
    "permission", "scope", "type", "kind", "column", "attr", "attribute", "url", "path", "route", "endpoint",
})
# Dict keys and keywords whose values document an API (OpenAPI examples), not configure it.
EXAMPLE_KEYS = frozenset({"example", "examples", "json_schema_extra", "openapi_examples", "schema_extra"})

TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key ID", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Stripe live key", re.compile(r"\b[sr]k_live_[0-9A-Za-z]{16,}")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[0-9A-Za-z]{30,}|github_pat_[0-9A-Za-z_]{40,})")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{10,}")),
    ("an API secret key (sk-...)", re.compile(r"(?<![\w-])sk-(?:[a-z]+-)?[0-9A-Za-z_-]{20,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
)
PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
# The fixed text every pattern above needs: a string without any of them matches none of them.
SHAPE_MARKERS = re.compile(r"AKIA|ASIA|k_live_|gh[pousr]_|github_pat_|xox[abposr]-|sk-|AIza|-----BEGIN ")
URL_PASSWORD = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<user>[^:/@\s'\"]*):(?P<password>[^@/\s'\"]+)@(?P<host>[^:/?#\s'\"]+)")

PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "changethis", "change-this", "your", "example",
                     "placeholder", "dummy", "fake", "sample", "xxx", "todo", "replace", "redacted", "<", "${",
                     "%(", "{{", "...", "\u2026", "notasecret", "not-a-secret", "not_a_secret")
PLACEHOLDER_SHAPES = (
    re.compile(r"^[xX*#._\-0]+$"),
    re.compile(r"^\$[A-Za-z_][A-Za-z0-9_]*$"),
    re.compile(r"^\{[A-Za-z_][A-Za-z0-9_]*\}$"),
)
# Passwords a local database or broker in docker-compose typically uses: a lesser problem than a real secret.
TRIVIAL_VALUES = frozenset({
    "password", "passwd", "pass", "secret", "postgres", "postgresql", "mysql", "mariadb", "root", "admin",
    "test", "testing", "dev", "development", "local", "guest", "user", "default", "app", "django", "flask",
    "mongo", "redis", "rabbitmq", "demo", "1234", "12345", "123456", "qwerty", "letmein", "toor", "pwd",
    "docker", "example",
})
# Words a real random credential does not contain: a config value with one is a sample.
WEAK_WORDS = ("secret", "password", "passwd", "token", "apikey", "api_key", "api-key")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]", "host.docker.internal"})
DEV_WORDS = frozenset({"dev", "devel", "develop", "development", "local", "test", "tests", "testing", "ci",
                       "debug", "e2e", "testutils", "build"})  # pretix's testutils/settings.py, _build_settings.py
SETTINGS_WORDS = frozenset({"settings", "config", "configs", "conf", "configuration"})
DJANGO_SETTINGS_NAMES = frozenset({"INSTALLED_APPS", "ROOT_URLCONF", "MIDDLEWARE", "WSGI_APPLICATION"})
TEXT_ASSIGNMENT = re.compile(
    r"^\s*(?:-\s*)?(?:export\s+)?[\"']?(?P<key>[A-Za-z_][\w.\-]*)[\"']?\s*[:=]\s*(?P<value>.*?)\s*$")
NAME_VALUE_FILES = ("alembic.ini", "settings.ini", "config.ini", "setup.cfg")

GETENV = frozenset({"os.getenv", "os.environ.get"})
ENVIRON_ENV_CLASSES = frozenset({"environ.Env", "environ.FileAwareEnv"})
# Calls that crash or misbehave at import when given None instead of a value.
CONVERTERS = frozenset({"int", "float", "decimal.Decimal", "json.loads", "pathlib.Path"})
URL_CONSUMERS = frozenset({"create_engine", "create_async_engine", "from_url", "urlparse", "urlsplit", "make_url",
                           "MongoClient", "AsyncIOMotorClient"})
URL_KEYWORDS = frozenset({"url", "dsn", "broker", "broker_url", "backend", "result_backend", "database_url",
                          "redis_url", "base_url"})
CACHE_DECORATORS = frozenset({"lru_cache", "cache", "cached_property", "cached"})

LOG_METHODS = frozenset({"exception", "error", "warning", "warn", "critical", "fatal", "log", "info"})
REPORTERS = frozenset({
    "sentry_sdk.capture_exception", "sentry_sdk.capture_message", "sentry_sdk.capture_event",
    "rollbar.report_exc_info", "bugsnag.notify", "traceback.print_exc", "traceback.print_exception",
    "warnings.warn",
})
RESPONSE_BUILDERS = frozenset({
    "JSONResponse", "ORJSONResponse", "UJSONResponse", "PlainTextResponse", "HTMLResponse", "Response",
    "jsonify", "make_response", "abort", "HTTPException", "HttpResponse", "JsonResponse",
    "HttpResponseServerError", "HttpResponseBadRequest",
})
# Calls that only turn a value into another (parse, decode, convert, validate): a try block calling nothing else
# fails because of its input. Builtins and converters by name (`json` is `response.json()` / `request.json()`,
# which parse a body), and project functions by their first verb (`parse_uri`, `_decode_token`).
PURE_CALLS = frozenset({
    "int", "float", "str", "bool", "bytes", "complex", "Decimal", "UUID", "Version", "len", "iter", "next",
    "getattr", "hasattr", "isinstance", "issubclass", "dict", "list", "tuple", "set", "frozenset", "sorted",
    "min", "max", "abs", "round", "ord", "chr", "repr", "format", "type", "zip", "enumerate", "range", "any",
    "all", "sum", "strip", "split", "lower", "upper", "replace", "join", "startswith", "endswith", "json",
    "literal_eval", "b64decode", "b64encode", "urlsafe_b64decode", "urlparse", "urlsplit", "unquote", "quote",
    "fromisoformat", "strptime", "fromtimestamp", "from_string", "to_python", "model_validate",
    "model_validate_json", "parse_obj", "parse_raw", "import_module", "unsign", "unpack", "normalize",
})
PURE_VERBS = frozenset({"parse", "parser", "decode", "encode", "loads", "dumps", "deserialize", "validate",
                        "convert", "coerce"})
CATCH_ALL_TYPES = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})
TRACEBACK_FORMATTERS = frozenset({"traceback.format_exc", "traceback.format_exception", "traceback.format_tb",
                                  "traceback.format_stack"})

CONSUME_METHODS = frozenset({"poll", "brpop", "blpop", "brpoplpush", "blmove", "bzpopmin", "bzpopmax", "xread",
                             "xreadgroup", "start_consuming", "consume", "receive_messages", "receive_message",
                             "basic_get", "get_message"})
SLEEPS = frozenset({"time.sleep", "gevent.sleep", "asyncio.sleep"})
TASK_DECORATORS = frozenset({"task", "shared_task", "job", "actor", "periodic_task"})
WHILE_TRUE = re.compile(r"^while\s*(?:\(\s*)?(?:True|1)(?:\s*\))?\s*:")
LOOP_EXITS = re.compile(r"\b(?:break|return|yield)\b|\bsys\.exit\b|\bSystemExit\b")
STAR_IMPORT = re.compile(r"(?m)^from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\*")
CLI_MODULES = ("click", "typer", "argparse", "fire", "docopt")

# --------------------------------------------------------------------------------------------- per file


def extract(source: SourceFile) -> list[CodeFact | DebugSource]:
    if source.python is not None:
        return _PythonFile(source, source.python).extract()
    if source.language == "text":
        return list(_text_secrets(source))
    return []


class _PythonFile:
    def __init__(self, source: SourceFile, module: Module) -> None:
        self.source = source
        self.module = module
        self.path = source.path
        self.facts: list[CodeFact | DebugSource] = []
        self._lines: list[str] | None = None
        self._scopes: list[tuple[Function | None, Expr, str | None]] | None = None
        # A call can be reached twice (as a statement's call and as an assignment's value): one fact each.
        self._seen: set[tuple[str, str, int, int]] = set()
        self.main_guards = [span for condition, span in module.conditionals if _is_main_guard(condition)]
        data = source.data
        # Cheap text checks decide what to walk: most modules read no environment, and walking costs.
        self.reads_env = b"environ" in data or b"getenv" in data or b"decouple" in data
        self.env_objects = {target for assign in module.assigns for target in assign.targets
                            if isinstance(assign.value, Call) and self.resolve(assign.value.func) in
                            ENVIRON_ENV_CLASSES}

    # ---- helpers

    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.source.text().split("\n")
        return self._lines

    def resolve(self, expr: Expr | None) -> str:
        return self.module.resolve(expr.dotted) if isinstance(expr, Name) else ""

    def qualified(self, fn: Function) -> str:
        return f"{self.module.module}.{fn.qualname}"

    def fact(self, kind: str, callee: str, span: Span, fn: Function | None, **detail: str) -> CodeFact | None:
        key = (kind, callee, span.start.line, span.start.column)
        if key in self._seen:
            return None
        self._seen.add(key)
        found = CodeFact(kind, callee, span, self.qualified(fn) if fn is not None else None, self.module.module,
                         fn.is_async if fn is not None else False,
                         tuple((key, value) for key, value in detail.items() if value))
        self.facts.append(found)
        return found

    def in_main_guard(self, span: Span) -> bool:
        return any(_within(span, guard) for guard in self.main_guards)

    def conditional(self, span: Span, fn: Function | None) -> bool:
        """Inside an if statement (the module's or, in a function, one of its branches)."""
        if fn is not None:
            return any(_within(span, body) for bodies in fn.branches for body in bodies)
        return any(_within(span, whole) for _, whole in self.module.conditionals)

    def function_at(self, span: Span) -> Function | None:
        """The innermost function holding `span`."""
        holders = [fn for fn in self.module.functions if _within(span, fn.span)]
        return min(holders, key=lambda fn: _size(fn.span)) if holders else None

    def scopes(self) -> list[tuple[Function | None, Expr, str | None]]:
        """Every expression the summary keeps, with the function holding it and the name it is bound to."""
        if self._scopes is None:
            self._scopes = list(self._collect_scopes())
        return self._scopes

    def _collect_scopes(self) -> Iterator[tuple[Function | None, Expr, str | None]]:
        module = self.module
        for assign in (*module.assigns, *module.augmented):
            yield from _bound(None, assign)
        for call in module.calls:
            yield None, call, None
        for cls in _all_classes(module.classes):
            for assign in cls.assigns:
                yield from _bound(None, assign)
        for assign in module.item_assigns:
            fn = self.function_at(assign.span)
            if assign.value is not None:
                yield fn, assign.value, _item_key(assign.targets[0])
        for fn in module.functions:
            for assign in (*fn.assigns, *fn.augmented):
                yield from _bound(fn, assign)
            for call in fn.calls:
                yield fn, call, None
            for value in fn.returns_values:
                if value is not None:
                    yield fn, value, None
            for param in fn.params:
                if param.default is not None:
                    yield fn, param.default, param.name

    def extract(self) -> list[CodeFact | DebugSource]:
        data = self.source.data
        self.secrets()
        if self.reads_env:
            self.env_reads()
        self.settings_module()
        self.config_classes()
        if b"ebug" in data or b"EBUG" in data or b"reload" in data:
            self.debug_flags()
        if b"print" in data:
            self.prints()
        self.excepts()
        if b"while" in data:
            self.worker_loops()
        return self.facts

    # ---- CFG001: secrets

    def secrets(self) -> None:
        found: dict[tuple[int, int], CodeFact | None] = {}
        dev = self.dev_settings()
        for fn, expr, name in self.scopes():
            for value_expr, key in _named_strings(expr, name):
                span = value_expr.span
                where = (span.start.line, span.start.column)
                if where in found:
                    continue
                secret = _classify(value_expr, key)
                if secret is None:
                    continue
                found[where] = self.fact("secret", secret.name or "literal", span, fn, **secret.detail(),
                                         dev_module=_flag(dev), **self.secret_fix(fn, expr, value_expr, name))
        for fn, expr, _ in self.scopes() if self.reads_env else ():
            for read in self.reads_in(expr):
                self.env_default_secret(fn, read, found, dev)

    def env_default_secret(self, fn: Function | None, read: _EnvRead, found: dict, dev: bool) -> None:
        """`os.environ.get("SECRET_KEY", "literal")`: the literal is what runs wherever the variable is unset."""
        default = read.default
        category = _secret_category(read.variable)
        if not isinstance(default, Const) or not isinstance(default.value, str) or category is None:
            return
        where = (default.span.start.line, default.span.start.column)
        if where in found or not _looks_real(default.value, category):
            return
        found[where] = self.fact("secret", read.variable, default.span, fn, name=read.variable,
                                 what=f"a hard-coded default for {read.variable}", category=category,
                                 trivial=_flag(default.value.lower() in TRIVIAL_VALUES), dev_module=_flag(dev),
                                 env_default="true")

    def secret_fix(self, fn: Function | None, expr: Expr, value: Expr, name: str | None) -> dict[str, str]:
        """`NAME = "literal"` at module or class level → `NAME = os.environ["NAME"]` (with the import)."""
        if fn is not None or expr is not value or not name or not name.isidentifier():
            return {}
        os_name = self.os_module()
        if os_name is None:
            return {}
        return {"fix_span": encode_span(value.span), "fix_text": f'{os_name}.environ["{name}"]',
                **self.os_import()}

    def os_module(self) -> str | None:
        imported = self.module.imports.get("os")
        if imported == "os":
            return "os"
        if imported is None and not any("os" in assign.targets for assign in self.module.assigns):
            return "os"
        return None

    def os_import(self) -> dict[str, str]:
        if self.module.imports.get("os") == "os":
            return {}
        return {"fix_import": "import os\n", "fix_import_line": str(self.module.imports_end)}

    def dev_settings(self) -> bool:
        words = _words(self.path.rsplit("/", 2)[-2:])
        return bool(words & DEV_WORDS)

    # ---- CFG002: environment reads

    def reads_in(self, expr: Expr) -> Iterator[_EnvRead]:
        for node in walk(expr):
            read = self.env_read(node)
            if read is not None:
                yield read

    def env_read(self, expr: Expr) -> _EnvRead | None:
        if isinstance(expr, Subscript) and self.resolve(expr.value) == "os.environ" and expr.index:
            return _EnvRead(expr, self.variable_name(expr.index[0]), "os.environ[...]", None)
        if not isinstance(expr, Call) or not expr.args:
            return None
        callee = self.resolve(expr.func)
        variable = self.variable_name(expr.args[0])
        if callee in GETENV or callee == "os.environ.setdefault":
            default = expr.args[1] if len(expr.args) > 1 else expr.kwarg("default")
            if isinstance(default, Const) and default.value is None:
                default = None
            return _EnvRead(expr, variable, f"{callee}(...)", default)
        dotted = expr.func.dotted if isinstance(expr.func, Name) else ""
        if callee == "decouple.config" or dotted.split(".")[0] in self.env_objects:
            return _EnvRead(expr, variable, f"{dotted}(...)", expr.kwarg("default"), library=True)
        return None

    def variable_name(self, expr: Expr) -> str:
        """The variable's name: a string, or a module constant holding one (`os.getenv(BASE_DIR_ENV)`); "?" when
        it is computed."""
        text = const_str(expr)
        if text is None and isinstance(expr, Name) and "." not in expr.dotted:
            values = {const_str(assign.value) for assign in self.module.assigns if expr.dotted in assign.targets}
            text = values.pop() if len(values) == 1 else None
        return text or "?"

    def env_reads(self) -> None:
        for fn in self.module.functions:
            cached = any(_last(expr_text(_decorator_func(decorator))) in CACHE_DECORATORS
                         for decorator in fn.decorators)
            counted: set[tuple[int, int]] = set()
            for expr in (*fn.calls, *(a.value for a in fn.assigns if a.value is not None),
                         *(value for value in fn.returns_values if value is not None)):
                for read in self.reads_in(expr):
                    where = (read.expr.span.start.line, read.expr.span.start.column)
                    if read.library or read.form.startswith("os.environ.setdefault") or where in counted:
                        continue
                    counted.add(where)
                    self.fact("env_read", read.variable, read.expr.span, fn, where="function",
                              variable=read.variable, form=read.form, default=_flag(read.default is not None),
                              cached=_flag(cached))
        self.unchecked_reads()

    def unchecked_reads(self) -> None:
        """Module-level reads without a default whose missing value is used straight away."""
        settings_classes = [cls for cls in _all_classes(self.module.classes) if self.env_backed(cls)]
        expressions = [*(a.value for a in self.module.assigns if a.value is not None), *self.module.calls,
                       *(a.value for cls in _all_classes(self.module.classes) if cls not in settings_classes
                         for a in cls.assigns if a.value is not None)]
        for expr in expressions:
            if self.in_main_guard(expr.span):
                continue
            for read, use in self.unchecked_uses(expr):
                self.fact("env_read", read.variable, read.expr.span, None, where="import",
                          variable=read.variable, form=read.form, use=use)

    def unchecked_uses(self, expr: Expr) -> Iterator[tuple[_EnvRead, str]]:
        for node in walk(expr):
            if isinstance(node, Call):
                callee = self.resolve(node.func) or expr_text(node.func)
                consumer = callee in CONVERTERS or _last(callee) in URL_CONSUMERS
                for key, value in [*((None, arg) for arg in node.args), *node.kwargs]:
                    read = self.optional_read(value)
                    if read is not None and (consumer or key in URL_KEYWORDS):
                        label = callee if callee in CONVERTERS else _last(callee)
                        yield read, f"{label}({key + '=' if key else ''}...)"
                if isinstance(node.func, Attr):
                    read = self.optional_read(node.func.value)
                    if read is not None:
                        yield read, f".{node.func.attr}(...)"
            elif isinstance(node, BinOp) and node.op == "+":
                for side in (node.left, node.right):
                    read = self.optional_read(side)
                    if read is not None:
                        yield read, "+"

    def optional_read(self, expr: Expr) -> _EnvRead | None:
        """An `os.getenv("X")` / `os.environ.get("X")` without a default: None when X is unset."""
        read = self.env_read(expr)
        if read is None or read.default is not None or read.form.startswith(("os.environ[", "os.environ.set")):
            return None
        return read if not read.library else None

    def env_backed(self, cls: Class) -> bool:
        return any(expr_text(base).endswith("BaseSettings") for base in cls.bases)

    # ---- CFG003: debug switches

    def debug_flags(self) -> None:
        for fn, expr, _ in self.scopes():
            for call in iter_calls(expr) if isinstance(expr, Call) else ():
                self.debug_call(fn, call)
        for assign in self.module.item_assigns:
            key = _item_key(assign.targets[0])
            if key == "DEBUG" and _is_true(assign.value) and ".config" in assign.targets[0]:
                self.debug_switch(self.function_at(assign.span), assign.value, f"{assign.targets[0]} = True",
                                  "flask_config")
        apps = self.app_names()
        for fn, assign in self.all_assigns():
            if _is_true(assign.value) and any(target.endswith(".debug") and (
                    target[: -len(".debug")] in apps or "app" in target.lower()) for target in assign.targets):
                self.debug_switch(fn, assign.value, f"{assign.targets[0]} = True", "flask_config")

    def app_names(self) -> set[str]:
        """Variables holding an application object (`admin = Flask("admin")`, `app = create_app()`)."""
        return {target for _, assign in self.all_assigns() if isinstance(assign.value, Call) and (
            self.resolve(assign.value.func) in ("flask.Flask", "fastapi.FastAPI") or
            _last(expr_text(assign.value.func)) == "create_app") for target in assign.targets}

    def all_assigns(self) -> Iterator[tuple[Function | None, Assign]]:
        for assign in self.module.assigns:
            yield None, assign
        for fn in self.module.functions:
            for assign in fn.assigns:
                yield fn, assign

    def debug_switch(self, fn: Function | None, value: Expr | None, label: str, check: str) -> None:
        if value is None or self.in_main_guard(value.span) or self.conditional(value.span, fn):
            return
        self.fact("debug_flag", label, value.span, fn, check=check)

    def debug_call(self, fn: Function | None, call: Call) -> None:
        callee = self.resolve(call.func)
        if callee in ("fastapi.FastAPI", "starlette.applications.Starlette") and _is_true(call.kwarg("debug")):
            self.debug_switch(fn, call, f"{_last(callee)}(debug=True)", "fastapi")
            return
        if fn is not None:
            return  # a function that starts a server is an entry point someone runs on purpose
        if callee == "uvicorn.run" and _is_true(call.kwarg("reload")):
            self.debug_switch(fn, call, "uvicorn.run(..., reload=True)", "uvicorn")
        elif isinstance(call.func, Name) and call.func.dotted.endswith(".run") and _is_true(call.kwarg("debug")) \
                and self.flask_app(call.func.dotted.rsplit(".", 1)[0]):
            self.debug_switch(fn, call, f"{call.func.dotted}(debug=True)", "flask_run")

    def flask_app(self, receiver: str) -> bool:
        uses_flask = any(target == "flask" or target.startswith("flask.") for target in self.module.imports.values())
        return uses_flask or "app" in receiver.lower()

    def settings_module(self) -> None:
        module = self.module
        names = {target for assign in module.assigns for target in assign.targets}
        words = _words(module.module.split(".")[-2:])
        if not (words & SETTINGS_WORDS or names & DJANGO_SETTINGS_NAMES):
            return
        django = bool(names & DJANGO_SETTINGS_NAMES) or any(
            target.split(".")[0] == "django" for target in module.imports.values())
        debug, fact = "", None
        for assign in module.assigns:
            if "DEBUG" not in assign.targets:
                continue
            if _is_true(assign.value) and assign.value is not None and not self.conditional(assign.value.span, None):
                debug = "true"
                detail = (*self.django_fix(assign.value).items(), ("check", "django")) if django else (
                    ("check", "config"),)
                fact = CodeFact("debug_flag", "DEBUG = True", assign.value.span, None, module.module, detail=detail)
            elif debug != "true":
                debug = "set"
        self.facts.append(DebugSource(module.module, bool(words & DEV_WORDS), debug, self.star_imports(), fact=fact))

    def django_fix(self, value: Expr) -> dict[str, str]:
        os_name = self.os_module()
        if os_name is None:
            return {}
        return {"fix_span": encode_span(value.span), "fix_text": f'{os_name}.environ.get("DJANGO_DEBUG") == "1"',
                **self.os_import()}

    def star_imports(self) -> tuple[str, ...]:
        module = self.module
        package = module.module.split(".") if module.is_package_init else module.module.split(".")[:-1]
        found: list[str] = []
        for match in STAR_IMPORT.finditer(self.source.text()):
            text = match.group(1)
            dots = len(text) - len(text.lstrip("."))
            if not dots:
                found.append(text)
                continue
            base = package[: max(0, len(package) - (dots - 1))]
            rest = text.lstrip(".")
            found.append(".".join([*base, rest] if rest else base))
        return tuple(found)

    def config_classes(self) -> None:
        local = {cls.name for cls in self.module.classes}
        for cls in self.module.classes:
            if not cls.name.endswith(("Config", "Settings", "Configuration")):
                continue
            value = cls.assigned("DEBUG")
            assigned = any("DEBUG" in assign.targets for assign in cls.assigns)
            debug = "true" if _is_true(value) else "set" if assigned else ""
            parents = tuple(f"{self.module.module}.{expr_text(base)}" if expr_text(base) in local
                            else self.module.resolve(expr_text(base)) for base in cls.bases)
            fact = None
            if debug == "true" and value is not None:
                fact = CodeFact("debug_flag", f"{cls.name}.DEBUG = True", value.span, None, self.module.module,
                                detail=(("check", "config"),))
            self.facts.append(DebugSource(f"{self.module.module}.{cls.qualname}", bool(_camel_words(cls.name) &
                                          DEV_WORDS), debug, parents, self.env_backed(cls), fact))

    # ---- SRV007: prints

    def prints(self) -> None:
        if "print" in self.module.imports or any(fn.qualname == "print" for fn in self.module.functions):
            return  # `print` means something else here
        logger = self.logger_name()
        cli = self.cli_module()
        for fn in self.module.functions:
            for outer in fn.calls:
                for call in iter_calls(outer):
                    if isinstance(call.func, Name) and call.func.dotted == "print" and self.to_console(call):
                        self.fact("print", "print", call.span, fn, logger=logger, cli=_flag(cli),
                                  **self.print_fix(call, logger))

    def to_console(self, call: Call) -> bool:
        target = call.kwarg("file")
        return target is None or expr_text(target) in ("sys.stdout", "sys.stderr")

    def print_fix(self, call: Call, logger: str) -> dict[str, str]:
        if not logger or len(call.args) != 1 or call.kwargs or call.star:
            return {}
        return {"fix_span": encode_span(call.func.span), "fix_text": f"{logger}.info"}

    def logger_name(self) -> str:
        for assign in self.module.assigns:
            for target in assign.targets:
                if target in ("logger", "log", "LOGGER", "LOG", "_logger", "_log") and isinstance(assign.value, Call):
                    return target
        return ""

    def cli_module(self) -> bool:
        path = self.path
        if "/management/commands/" in f"/{path}" or path.rsplit("/", 1)[-1] in ("manage.py", "cli.py",
                                                                                 "__main__.py"):
            return True
        if any(part in ("scripts", "bin", "cli") for part in path.split("/")[:-1]):
            return True
        return any(target.split(".")[0] in CLI_MODULES for target in self.module.imports.values())

    # ---- SRV006: broad except clauses

    def excepts(self) -> None:
        catch_alls = self.catch_all_handlers()
        for fn in self.module.functions:
            for clause in fn.excepts:
                if self.broad(clause):
                    self.except_fact(fn, clause)
            if fn.qualname in catch_alls:
                self.catch_all_fact(fn, catch_alls[fn.qualname])

    def catch_all_handlers(self) -> dict[str, str]:
        """Functions the app calls for every unhandled exception → how they are registered:
        `@app.exception_handler(Exception)` (FastAPI, Starlette), `@app.errorhandler(Exception)` (Flask),
        `app.add_exception_handler(Exception, handler)`."""
        found: dict[str, str] = {}
        for fn in self.module.functions:
            for decorator in fn.decorators:
                if isinstance(decorator, Call) and self.registers_catch_all(decorator):
                    found[fn.qualname] = f"{_last(expr_text(decorator.func))}({expr_text(decorator.args[0])})"
        for call in [*self.module.calls, *(call for fn in self.module.functions for call in fn.calls)]:
            if (self.registers_catch_all(call) and _last(expr_text(call.func)) == "add_exception_handler"
                    and len(call.args) > 1 and isinstance(call.args[1], Name)):
                found.setdefault(call.args[1].dotted, f"add_exception_handler({expr_text(call.args[0])})")
        return found

    def registers_catch_all(self, call: Call) -> bool:
        if _last(expr_text(call.func)) not in ("exception_handler", "errorhandler", "add_exception_handler"):
            return False
        caught = call.args[0] if call.args else None
        return isinstance(caught, Name) and self.resolve(caught) in CATCH_ALL_TYPES

    def catch_all_fact(self, fn: Function, registration: str) -> None:
        """A catch-all handler that answers with the exception's text sends internals to every client whose
        request fails in a way nobody expected: the place where leaks matter most."""
        positional = [param.name for param in fn.params if param.kind == "positional"]
        if not positional:
            return
        error = positional[-1]  # (request, exc) in FastAPI and Starlette, (error) in Flask
        calls = [call for outer in fn.calls for call in iter_calls(outer)]
        returns = [value for value in fn.returns_values if value is not None]
        clause = ExceptClause((), error, fn.span, fn.span, fn.span, False, ())
        leak, via = self.leak(clause, calls, returns)
        if leak:
            self.fact("broad_except", registration, fn.name_span, fn, leak=leak, leak_via=via, catch_all="true",
                      types="Exception")

    def broad(self, clause: ExceptClause) -> bool:
        if not clause.types:
            return True
        return any(kind in ("Exception", "BaseException", "builtins.Exception", "builtins.BaseException")
                   and kind not in self.module.imports for kind in clause.types)

    def except_fact(self, fn: Function, clause: ExceptClause) -> None:
        calls = [call for outer in fn.calls if _within(outer.span, clause.body) for call in iter_calls(outer)]
        returns = [value for value in fn.returns_values if value is not None and _within(value.span, clause.body)]
        logged = any(self.reports_error(call) for call in calls)
        leak, via = self.leak(clause, calls, returns)
        caught = ", ".join(clause.types)
        label = "except:" if not clause.types else f"except ({caught})" if len(clause.types) > 1 else f"except {caught}"
        assigned = [a.value for a in (*fn.assigns, *fn.augmented, *self.module.item_assigns)
                    if a.value is not None and _within(a.span, clause.body)]
        # A body that passes the exception on (returns it, stores it) hands the error to someone.
        silent = not calls and not clause.raises and not _mentions([*returns, *assigned], clause.name)
        self.fact("broad_except", label, clause.span, fn, silent=_flag(silent), explained=_flag(self.explained(clause)),
                  logged=_flag(logged), raises=_flag(clause.raises), leak=leak, leak_via=via,
                  types=", ".join(clause.types) or "(bare)",
                  fallback=_flag(_substitutes(fn, clause, returns, assigned)),
                  nested=_flag(any(other is not clause and _within(clause.span, other.body) for other in fn.excepts)),
                  converts=_flag(self.only_converts(fn, clause)))

    def only_converts(self, fn: Function, clause: ExceptClause) -> bool:
        """The try block calls nothing but imports, parsers and converters (`int(text)`, `json.loads(raw)`,
        `base64.b64decode(data)`, `parse_uri(uri)`): its failure is an answer about the input, not a lost write."""
        block = _try_block(fn, clause)
        return all(self.pure_call(call) for outer in fn.calls if _within(outer.span, block)
                   for call in iter_calls(outer))

    def pure_call(self, call: Call) -> bool:
        name = _last(self.resolve(call.func)) if isinstance(call.func, Name) else \
            call.func.attr if isinstance(call.func, Attr) else ""
        if name in PURE_CALLS:
            return True
        words = _name_words(name)
        return bool(words) and words[0] in PURE_VERBS

    def explained(self, clause: ExceptClause) -> bool:
        """A comment in the handler's body says why the error is dropped (`# keep the raw string if ...`)."""
        first, last = clause.span.start.line, clause.span.end.line
        return any(first <= comment.line <= last and _explains(comment.text) for comment in self.module.comments)

    def reports_error(self, call: Call) -> bool:
        callee = self.resolve(call.func)
        if callee in REPORTERS or callee.startswith("logging."):
            return True
        func = call.func
        method = func.attr if isinstance(func, Attr) else _last(func.dotted) if isinstance(func, Name) else ""
        receiver = expr_text(func.value) if isinstance(func, Attr) else (
            func.dotted.rsplit(".", 1)[0] if isinstance(func, Name) and "." in func.dotted else "")
        return method in LOG_METHODS and _is_logger(receiver)

    def leak(self, clause: ExceptClause, calls: list[Call], returns: list[Expr]) -> tuple[str, str]:
        """What of the exception the handler sends to the client, and how ("response" or "return"). Not in a
        block for some types only (`if isinstance(exc, Conflict): raise HTTPException(409, str(exc))`): that is a
        narrow handler for an error the project raises itself, written inside the broad one."""
        calls = [call for call in calls if not any(_within(call.span, block) for block in clause.narrowed)]
        returns = [value for value in returns if not any(_within(value.span, block) for block in clause.narrowed)]
        for call in calls:
            if _last(expr_text(call.func)) in RESPONSE_BUILDERS:
                for argument in (*call.args, *(value for _, value in call.kwargs)):
                    leaked = self.leaked(argument, clause.name)
                    if leaked:
                        return leaked, "response"
        for value in returns:
            leaked = self.leaked(value, clause.name)
            if leaked:
                return leaked, "return"
        return "", ""

    def leaked(self, expr: Expr, name: str | None) -> str:
        for node in walk(expr):
            if isinstance(node, Call):
                callee = self.resolve(node.func)
                if callee in TRACEBACK_FORMATTERS:
                    return f"{callee}()"
                if name and callee in ("str", "repr") and node.args and expr_text(node.args[0]) == name:
                    return f"{callee}({name})"
            elif name and isinstance(node, FString) and re.search(
                    rf"\{{\s*(?:(?:str|repr)\(\s*)?{re.escape(name)}\b(?!\.)", node.text):
                return f"{{{name}}} in an f-string"
            elif name and isinstance(node, Name) and node.dotted == f"{name}.args":
                return f"{name}.args"
        return ""

    # ---- SRV008: worker loops

    def worker_loops(self) -> None:
        signals: bool | None = None
        interrupts = self.handles_interrupts()
        for fn in self.module.functions:
            if not fn.loops:
                continue
            if any(_last(expr_text(_decorator_func(decorator))) in TASK_DECORATORS for decorator in fn.decorators):
                continue
            loops = {span: width for span in fn.loops if (width := self.endless(span))}
            for span, width in loops.items():
                if any(other != span and _within(span, other) for other in loops):
                    continue
                consumes = self.consumption(fn, span)
                if consumes:
                    if signals is None:
                        signals = self.handles_signals()
                    head = Span(span.start, Position(span.start.line, span.start.column + width))
                    self.fact("worker_loop", "while True", head, fn, consumes=consumes, signals=_flag(signals),
                              interrupts=_flag(interrupts))

    def endless(self, span: Span) -> int:
        """The length of the `while True:` head of a loop with no break, return or yield inside (only the
        process's death ends it); 0 for any other loop."""
        lines = self.lines()
        if span.start.line >= len(lines):
            return 0
        head = WHILE_TRUE.match(lines[span.start.line][span.start.column:])
        if head is None:
            return 0
        body = "\n".join(line.split("#", 1)[0] for line in lines[span.start.line + 1: span.end.line + 1])
        return 0 if LOOP_EXITS.search(body) else len(head.group(0))

    def consumption(self, fn: Function, loop: Span) -> str:
        for outer in fn.calls:
            if not _within(outer.span, loop):
                continue
            for call in iter_calls(outer):
                label = self.consumer(call)
                if label:
                    return label
        return ""

    def consumer(self, call: Call) -> str:
        callee = self.resolve(call.func)
        if callee in SLEEPS:
            return f"{callee}() polling"
        func = call.func
        text = expr_text(func)
        method = _last(text)
        receiver = text.rsplit(".", 1)[0] if "." in text else ""
        if method in CONSUME_METHODS and receiver:
            return f"{_last(receiver)}.{method}()"
        if method in ("get", "get_nowait") and ("queue" in _last(receiver).lower() or _last(receiver) == "q"):
            return f"{_last(receiver)}.{method}()"
        return ""

    def handles_signals(self) -> bool:
        if b"signal" not in self.source.data:
            return False
        for _, expr, _ in self.scopes():
            for call in iter_calls(expr) if isinstance(expr, Call) else ():
                callee = self.resolve(call.func)
                if callee == "signal.signal" or _last(expr_text(call.func)) == "add_signal_handler":
                    return True
        return False

    def handles_interrupts(self) -> bool:
        clauses = [*self.module.excepts, *(clause for fn in self.module.functions for clause in fn.excepts)]
        return any(_last(kind) in ("KeyboardInterrupt", "SystemExit") for clause in clauses for kind in clause.types)


# --------------------------------------------------------------------------------------------- env reads


@dataclass(frozen=True, slots=True)
class _EnvRead:
    expr: Expr
    variable: str
    form: str
    default: Expr | None
    library: bool = False  # django-environ / python-decouple: the library validates and casts


# --------------------------------------------------------------------------------------------- secrets


@dataclass(frozen=True, slots=True)
class _Secret:
    name: str | None
    what: str
    category: str
    local: bool = False
    trivial: bool = False

    def detail(self) -> dict[str, str]:
        return {"name": self.name or "", "what": self.what, "category": self.category, "local": _flag(self.local),
                "trivial": _flag(self.trivial)}


def _classify(expr: Expr, name: str | None) -> _Secret | None:
    """What secret a string literal holds, judged by its shape first and by the name it is bound to."""
    if isinstance(expr, FString):
        return _url_secret(expr.text, name)
    if not isinstance(expr, Const) or not isinstance(expr.value, str):
        return None
    value = expr.value
    shaped = _shape_secret(value, name)
    if shaped is not None:
        return shaped
    url = _url_secret(value, name)
    if url is not None:
        return url
    category = _secret_category(name) if name else None
    if category is None or not _looks_real(value, category):
        return None
    return _Secret(name, f"a hard-coded {_category_label(category)}", category,
                   trivial=_strip_scheme(value).lower() in TRIVIAL_VALUES)


def _shape_secret(value: str, name: str | None) -> _Secret | None:
    if len(value) < 15:
        return None  # shorter than any token shape
    if not SHAPE_MARKERS.search(value):
        return None  # one search instead of one per shape: most strings hold none of their fixed parts
    if PRIVATE_KEY.search(value):
        return _Secret(name, "a private key", "private_key")
    for label, pattern in TOKEN_SHAPES:
        match = pattern.search(value)
        if match and not _is_placeholder(match.group(0)):
            return _Secret(name, label, "token")
    return None


def _url_secret(text: str, name: str | None) -> _Secret | None:
    if "://" not in text or "@" not in text:
        return None
    for match in URL_PASSWORD.finditer(text):
        password = match.group("password")
        if _is_placeholder(password) or "{" in password or password.startswith("$"):
            continue
        host = match.group("host").lower()
        local = host in LOCAL_HOSTS or host.startswith("127.") or "." not in host
        trivial = password.lower() in TRIVIAL_VALUES or password == match.group("user")
        return _Secret(name, f"a password in a {match.group('scheme')}:// URL", "url_password", local, trivial)
    return None


# Asked for every string literal's name and every assignment target: the same few names over and over.
@lru_cache(maxsize=4096)
def _secret_category(name: str | None) -> str | None:
    """"password", "secret" or "token" when `name` names a credential (`DB_PASSWORD`, `stripeApiKey`)."""
    if not name:
        return None
    words = _name_words(name)
    if not words or LABEL_WORDS.intersection(words):
        return None
    last = words[-1]
    if last in PASSWORD_WORDS or (last == "pass" and len(words) > 1):
        return "password"
    if last in SINGLE_SECRET_WORDS or (len(words) > 1 and (words[-2], last) in SECRET_PAIRS):
        return "secret" if last in ("secret", "secretkey") or words[-2:] == ["secret", "key"] else "token"
    if last in TOKEN_WORDS:
        return "token"
    if last == "key" and len(words) > 1 and words[-2] not in PLAIN_KEY_WORDS:
        return "key"  # STRIPE_KEY, FERNET_KEY: a credential only when the value looks random
    return None


def _category_label(category: str) -> str:
    return {"password": "password", "secret": "secret", "token": "token or key", "key": "key"}.get(category,
                                                                                                 "secret")


def _looks_real(value: str, category: str) -> bool:
    """A value that could be a real credential: not empty, not a placeholder, not a name or a path."""
    value = _strip_scheme(value.strip())
    if len(value) < 6 or any(ch.isspace() for ch in value) or _is_placeholder(value):
        return False
    if "://" in value or value.startswith("/") or re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", value):
        return False
    if re.fullmatch(r"X-[A-Za-z-]+", value):
        return False
    identifier_like = re.fullmatch(r"_*[A-Za-z]+(?:[_-][A-Za-z]+)*", value) is not None
    if category == "token" and identifier_like and len(value) < 24:
        return False  # `"access_token"`, `"csrftoken"`: the name of a token, not one
    if category == "key":
        return len(value) >= 16 and any(ch.isdigit() for ch in value) and any(ch.isalpha() for ch in value) \
            and ":" not in value
    return True


def _strip_scheme(value: str) -> str:
    for scheme in ("Bearer ", "Token ", "Basic ", "bearer ", "token "):
        if value.startswith(scheme):
            return value[len(scheme):]
    return value


def _is_placeholder(value: str) -> bool:
    stripped = value.strip()
    if not stripped:
        return True
    lowered = stripped.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        return True
    return any(pattern.match(stripped) for pattern in PLACEHOLDER_SHAPES)


def _named_strings(expr: Expr, name: str | None) -> list[tuple[Expr, str | None]]:
    """String literals inside `expr`, each with the name it is bound to (an assignment target, a dict key, a
    keyword argument). Examples in API documentation (`example=`, `json_schema_extra`) are skipped."""
    # Asked for every expression of every file: a list and list comprehensions, cheaper than a generator.
    found: list[tuple[Expr, str | None]] = []
    stack: list[tuple[Expr, str | None]] = [(expr, name)]
    while stack:
        current, bound = stack.pop()
        if isinstance(current, (Const, FString)):
            found.append((current, bound))
        elif isinstance(current, Call):
            if current.kwargs:
                stack.extend([(value, key) for key, value in current.kwargs if key not in EXAMPLE_KEYS])
            if current.args:
                stack.extend([(arg, None) for arg in current.args])
        elif isinstance(current, Seq):
            if current.kind == "dict":
                for key, value in zip(current.keys, current.items, strict=False):
                    key_name = const_str(key)
                    if key_name not in EXAMPLE_KEYS:
                        stack.append((value, key_name))
            else:
                stack.extend([(item, None) for item in current.items])
        elif isinstance(current, BinOp):
            stack.extend(((current.left, None), (current.right, None)))
    return found


# --------------------------------------------------------------------------------------------- text files


def _text_secrets(source: SourceFile) -> Iterator[CodeFact]:
    name = source.name
    by_name = name in NAME_VALUE_FILES or name.startswith((".env", "env.", "docker-compose", "compose."))
    for number, line in enumerate(source.text().split("\n")):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";", "//")):
            continue
        found = _line_secret(line, by_name)
        if found is None:
            continue
        secret, column, end = found
        yield CodeFact("secret", secret.name or "literal", Span.at(number, column, number, end), None, "",
                       detail=tuple((k, v) for k, v in secret.detail().items() if v))


def _line_secret(line: str, by_name: bool) -> tuple[_Secret, int, int] | None:
    match = TEXT_ASSIGNMENT.match(line) if by_name else None
    key = match.group("key") if match else None
    for label, pattern in TOKEN_SHAPES:
        token = pattern.search(line)
        if token and not _is_placeholder(token.group(0)):
            return _Secret(key, label, "token"), token.start(), token.end()
    if PRIVATE_KEY.search(line):
        start = line.index("-----BEGIN")
        return _Secret(key, "a private key", "private_key"), start, len(line.rstrip())
    url = URL_PASSWORD.search(line)
    if url is not None:
        secret = _url_secret(url.group(0), key)
        if secret is not None:
            return secret, url.start(), url.end()
    if match is None:
        return None
    value = _config_value(match.group("value"))
    category = _secret_category(key)
    if category is None or not _looks_real(value, category):
        return None
    start = match.start("value")
    # In an example file or a compose file, `supersecret` or `my-api-token` is a sample, not a leaked secret.
    weak = value.lower() in TRIVIAL_VALUES or any(word in value.lower() for word in WEAK_WORDS)
    return (_Secret(key, f"a hard-coded {_category_label(category)}", category, trivial=weak), start,
            start + len(match.group("value")))


def _config_value(raw: str) -> str:
    """The value of `KEY=value` / `key: "value"  # comment` without quotes and trailing comment."""
    value = re.split(r"\s+[#;]", raw, maxsplit=1)[0].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value


# --------------------------------------------------------------------------------------------- helpers


def _is_logger(receiver: str) -> bool:
    """`logger`, `self.log`, `app.logger`, `logging.getLogger(__name__)`, `structlog.get_logger()`."""
    last = _last(receiver).lower().strip("_")
    return last in ("log", "logs", "logging", "structlog") or last.endswith("logger") or \
        "getlogger(" in receiver.lower() or "get_logger(" in receiver.lower()


def _explains(comment: str) -> bool:
    text = comment.lstrip("#").strip().lower()
    tool_markers = ("noqa", "type:", "plumbline:", "expect:", "pragma", "todo", "fixme", "xxx", "nosec")
    return len(text) > 3 and not text.startswith(tool_markers)


def _substitutes(fn: Function, clause: ExceptClause, returns: list[Expr], assigned: list[Expr]) -> bool:
    """The handler carries on with a value it chose (`return False`, `return []`, `locale = "en"`, `body = None`)
    rather than with nothing (`pass`, `continue`, `break`, `return`, `return None`)."""
    if any(kind in ("pass_statement", "continue_statement", "break_statement") for kind in clause.statements):
        return False
    if any(isinstance(value, Const) and value.value is None for value in returns):
        return False
    exits = sum(1 for span in fn.exits if _within(span, clause.body))
    if exits > len(returns):  # a bare `return`
        return False
    return bool(assigned or returns)


def _try_block(fn: Function, clause: ExceptClause) -> Span:
    """The try block of `clause`'s try statement: from `try` to its first except clause."""
    first = min((other.span.start for other in fn.excepts if other.try_span == clause.try_span),
                key=lambda position: (position.line, position.column))
    return Span(clause.try_span.start, first)


def _mentions(expressions: list[Expr], name: str | None) -> bool:
    """`name` (an exception's `as` target) is used in one of `expressions`."""
    if not name:
        return False
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    for expr in expressions:
        for node in walk(expr):
            if isinstance(node, Name) and node.dotted.split(".")[0] == name:
                return True
            if isinstance(node, FString) and pattern.search(node.text):
                return True
    return False


def _bound(fn: Function | None, assign: Assign) -> Iterator[tuple[Function | None, Expr, str | None]]:
    if assign.value is None:
        return
    targets = [target.rsplit(".", 1)[-1] for target in assign.targets]
    value = assign.value
    if len(targets) > 1 and isinstance(value, Seq) and value.kind == "tuple" and len(value.items) == len(targets):
        for target, item in zip(targets, value.items, strict=True):
            yield fn, item, target
        return
    named = next((target for target in targets if _secret_category(target)), targets[0] if targets else None)
    yield fn, value, named


def _all_classes(classes: list[Class]) -> Iterator[Class]:
    for cls in classes:
        yield cls
        yield from _all_classes(cls.classes)


def _item_key(target: str) -> str | None:
    match = re.search(r"\[\s*[\"']([^\"']+)[\"']\s*\]\s*$", target)
    return match.group(1) if match else None


def _is_main_guard(condition: str) -> bool:
    compact = condition.replace(" ", "").replace("'", '"')
    return compact in ('__name__=="__main__"', '"__main__"==__name__')


def _is_true(expr: Expr | None) -> bool:
    return isinstance(expr, Const) and expr.value is True


def _decorator_func(decorator: Expr) -> Expr:
    return decorator.func if isinstance(decorator, Call) else decorator


def _within(inner: Span, outer: Span) -> bool:
    return (outer.start.line, outer.start.column) <= (inner.start.line, inner.start.column) and \
        (inner.end.line, inner.end.column) <= (outer.end.line, outer.end.column)


def _size(span: Span) -> tuple[int, int]:
    return (span.end.line - span.start.line, span.end.column - span.start.column)


def _last(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


def _flag(value: bool) -> str:
    return "true" if value else ""


def _name_words(name: str) -> list[str]:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip("_"))
    return [word for word in re.split(r"[_\-.\s]+", snake.lower()) if word]


def _camel_words(name: str) -> set[str]:
    return set(_name_words(name))


def _words(parts: list[str]) -> set[str]:
    """The words of path or module parts (`settings_dev.py` → {"settings", "dev", "py"})."""
    found: set[str] = set()
    for part in parts:
        found.update(word for word in re.split(r"[_\-.]+", part.lower()) if word)
    return found


# --------------------------------------------------------------------------------------------- resolve


def resolve(builder: ModelBuilder) -> None:
    sites: list[CallSite] = []
    for facts, record in builder.records(CodeFact):
        sites.append(_site(facts.path, record))
    for path, fact in _debug_reaching_production(builder):
        sites.append(_site(path, fact))
    _number(sites)
    builder.project.calls.extend(sites)


def _site(path: str, fact: CodeFact) -> CallSite:
    detail = dict(fact.detail)
    if fact.module:
        detail["module"] = fact.module
    return CallSite(kind=fact.kind, callee=fact.callee, location=Location(path, fact.span), function=fact.function,
                    is_async=fact.is_async, detail=detail)


def _debug_reaching_production(builder: ModelBuilder) -> Iterator[tuple[str, CodeFact]]:
    """DEBUG = True in settings no production module or class overrides: settings.py, production.py, a base
    module that a non-development module star-imports without setting DEBUG itself."""
    sources: dict[str, tuple[str, DebugSource]] = {}
    for facts, source in builder.records(DebugSource):
        sources[source.name] = (facts.path, source)
    children: dict[str, list[DebugSource]] = {}
    for _, source in sources.values():
        for parent in source.parents:
            children.setdefault(parent, []).append(source)
    for path, source in sources.values():
        if source.debug != "true" or source.fact is None or source.dev or _env_backed(source, sources):
            continue
        if _reaches_production(source, children):
            yield path, source.fact


def _env_backed(source: DebugSource, sources: dict[str, tuple[str, DebugSource]]) -> bool:
    seen: set[str] = set()
    stack = [source]
    while stack:
        current = stack.pop()
        if current.env_backed:
            return True
        seen.add(current.name)
        stack.extend(sources[parent][1] for parent in current.parents if parent in sources and parent not in seen)
    return False


def _reaches_production(source: DebugSource, children: dict[str, list[DebugSource]]) -> bool:
    """Nothing inherits it (it is the settings in use), or a non-development heir keeps its DEBUG."""
    heirs = children.get(source.name, [])
    if not heirs:
        return True
    seen = {source.name}
    stack = list(heirs)
    while stack:
        heir = stack.pop()
        if heir.name in seen or heir.debug:
            continue  # an heir that sets DEBUG itself decides for itself (and is reported itself when True)
        seen.add(heir.name)
        if not heir.dev:
            return True
        stack.extend(children.get(heir.name, []))
    return False


def _number(sites: list[CallSite]) -> None:
    """A fingerprint entity per site, stable when lines move: scope, name and an ordinal."""
    seen: dict[tuple[str, str, str], int] = {}
    for site in sorted(sites, key=lambda s: (s.location.path, s.location.span.start.line,
                                             s.location.span.start.column)):
        scope = site.function or site.detail.get("module") or site.location.path
        key = (site.kind, scope, site.callee)
        seen[key] = seen.get(key, 0) + 1
        ordinal = seen[key]
        site.detail["entity"] = f"{scope}:{site.callee}" + (f"#{ordinal}" if ordinal > 1 else "")


__all__ = ["CodeFact", "DebugSource", "extract", "resolve"]
