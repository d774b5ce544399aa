"""What handlers answer and how they read the request body: responses with their status and shape, raw body
reads, row inserts and `Location` headers.

Per file, `extract` reads each function's returns and raises (in modules that import a web framework):

- a response: a returned dict/string/None, a `(body, status[, headers])` tuple, `jsonify(...)`, `make_response`,
  Starlette/FastAPI `JSONResponse`/`Response`, DRF `Response`, Django `JsonResponse`, a redirect, or a call to a
  helper (resolved across files later); a raised `HTTPException(...)`, a DRF API exception, Flask `abort(...)`;
- the request body read by hand: `await request.json()`, `request.get_json()`, `request.json`, `request.form[...]`,
  DRF `request.data` in a function that never calls `is_valid()`, a FastAPI body parameter typed `dict`, with
  whether the same function validates what it read (`Model(**data)`, `schema.load(data)`, `model_validate`,
  `is_valid()`, a validating decorator);
- row inserts (`session.add`, `Model.objects.create`, `Model(...).save()`, a serializer or form built with data and
  saved, `insert(...)`, `INSERT ...`, `insert_one`), `Location` headers, and `response.status_code = ...`.

Across files, `resolve` resolves returned helper calls to the project's functions and registers call sites.
Call-site kinds (`CallSite.kind`) and their `detail` keys:

- `response`: `status` (the declared status, "" for the framework's default, "dynamic" when computed), `keys`
  (the body's top-level keys, comma-separated, when it is a literal or a framework default), `error` (why the
  body looks like an error: `"error" key`, `success: False`, ...; empty otherwise), `body` (`none`, `empty`,
  `ack` (a message or constants only), `value`, `redirect`), `via` (`dict`, `jsonify`, `JSONResponse`,
  `HTTPException`, `abort`, a helper's name, ...), `raised` ("true" for a raise), `helper` (the project function
  a returned call resolves to), `helper_status` (a status code passed to that helper), `error_handler` ("true"
  in a registered exception handler, with `handles`: the exception or status it handles), `default_shape` (the
  framework that gives the body its keys).
- `raw_body`: `how` (what is read), `validated` ("true" when the same function validates it), `param` (a FastAPI
  `dict` body parameter's name).
- `db_insert`: `how`.
- `location_header`: `how`.
- `status_set`: `status` (an int, or "dynamic"): the function assigns `response.status_code`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from analyzers.extractors._http import REDIRECT_CALLS, callee, names_in, receiver, status_of, walk
from analyzers.facts import SourceFile
from analyzers.model import CallSite, FunctionInfo, Location, Span
from analyzers.pysyntax import (
    Attr,
    Call,
    Const,
    Expr,
    FString,
    Function,
    Module,
    Name,
    Raw,
    Seq,
    Subscript,
    const_str,
    expr_text,
)
from analyzers.resolve import ModelBuilder

WEB_PACKAGES = ("fastapi", "starlette", "flask", "django", "rest_framework", "quart", "apiflask", "werkzeug",
                "flask_restful", "flask_restx", "flask_smorest", "ninja")
# Calls that wrap a body: where the body and the status are.
STARLETTE_RESPONSES = frozenset({"JSONResponse", "ORJSONResponse", "UJSONResponse", "Response", "PlainTextResponse",
                                 "HTMLResponse"})
DJANGO_RESPONSES = frozenset({"JsonResponse", "HttpResponse"})
HTTP_EXCEPTIONS = frozenset({"fastapi.HTTPException", "fastapi.exceptions.HTTPException",
                             "starlette.exceptions.HTTPException"})
# DRF exceptions rendered as {"detail": ...}, with their default status.
DRF_EXCEPTIONS = {"NotFound": 404, "PermissionDenied": 403, "NotAuthenticated": 401, "AuthenticationFailed": 401,
                  "ParseError": 400, "MethodNotAllowed": 405, "NotAcceptable": 406, "UnsupportedMediaType": 415,
                  "Throttled": 429, "APIException": 500}
ERROR_KEYS = frozenset({"error", "errors", "error_message", "error_code", "err", "error_description"})
# Keys an error body may carry besides the error itself (anything else means the body carries data too).
ERROR_BODY_KEYS = ERROR_KEYS | frozenset({
    "message", "msg", "detail", "details", "code", "status", "success", "ok", "status_code", "type", "title",
    "description", "reason", "hint", "field", "fields", "timestamp", "path", "request_id", "trace_id", "result",
})
FAILED_STATUS = frozenset({"error", "fail", "failed", "failure", "err", "ko"})
VALIDATING_CALLS = frozenset({
    "is_valid", "validate", "validate_on_submit", "load", "model_validate", "model_validate_json", "parse_obj",
    "parse_raw", "validate_python", "validate_json", "TypeAdapter", "validate_call", "from_dict", "structure",
    "check_schema", "iter_errors", "deserialize",
})
VALIDATING_DECORATORS = frozenset({
    "validate", "expects_json", "use_args", "use_kwargs", "arguments", "input", "validate_json", "accepts",
    "expect", "body", "validate_request", "validated", "json_schema", "schema",
})
# Classes a raw body may be passed to without being validated: responses and errors.
NOT_VALIDATING = STARLETTE_RESPONSES | DJANGO_RESPONSES | frozenset({
    "JSONResponse", "HTTPException", "ValueError", "KeyError", "Exception", "RedirectResponse"})
DICT_TYPES = frozenset({"dict", "Dict", "Mapping", "MutableMapping", "typing.Dict", "typing.Mapping"})
_SESSION_RECEIVER = re.compile(r"(^|[._])(session|db|db_session|dbsession|sess|uow|unit_of_work)$", re.IGNORECASE)
_INSERT_SQL = re.compile(r"^\s*(insert|INSERT)\s+(into|INTO)\b")
_LOCATION_TEXT = re.compile(r"[\"']Location[\"']")


# --------------------------------------------------------------------------------------------- records


@dataclass(slots=True)
class ResponseRecord:
    function: str
    location: Location
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class BodyRead:
    function: str
    location: Location
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class HandlerFact:
    """A per-function fact: a row insert, a Location header, a status assigned to the response."""

    kind: str  # "db_insert" | "location_header" | "status_set"
    function: str
    location: Location
    detail: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- extract


def extract(source: SourceFile) -> list[object]:
    module = source.python
    if module is None:
        return []
    web = any(target.split(".", 1)[0] in WEB_PACKAGES for target in module.imports.values())
    records: list[object] = []
    handlers = _registered_error_handlers(module) if web else {}
    top_level = {fn.name for fn in module.top_level_functions()}
    for fn in module.functions:
        reader = _Function(module, fn, top_level, handlers.get(fn.qualname))
        if web:
            records.extend(reader.responses())
            records.extend(reader.body_reads())
        records.extend(reader.facts())  # inserts happen in services and repositories too
    if web:
        records.extend(_location_headers(module, source.text()))
    return records


def _registered_error_handlers(module: Module) -> dict[str, str]:
    """Functions registered as exception handlers (decorated, or passed to `add_exception_handler`), with the
    exception or status they handle as written."""
    found: dict[str, str] = {}
    for fn in module.functions:
        for decorator in fn.decorators:
            target = decorator.func if isinstance(decorator, Call) else decorator
            if isinstance(target, Name) and target.dotted.rsplit(".", 1)[-1] in (
                    "exception_handler", "errorhandler", "app_errorhandler"):
                handled = decorator.args[0] if isinstance(decorator, Call) and decorator.args else None
                found[fn.qualname] = expr_text(handled)
    calls = list(module.calls) + [call for fn in module.functions for call in fn.calls]
    for call in calls:
        if callee(call) in ("add_exception_handler", "register_error_handler") and len(call.args) >= 2 and \
                isinstance(call.args[1], Name):
            found[call.args[1].dotted] = expr_text(call.args[0])
    return found


def _location_headers(module: Module, text: str) -> Iterator[HandlerFact]:
    """`"Location"` written in a function (a header dict key or `headers["Location"] = ...`, which the module
    summary does not keep as an expression)."""
    if "Location" not in text:
        return
    seen: set[str] = set()
    for match in _LOCATION_TEXT.finditer(text):
        line = text.count("\n", 0, match.start())
        holder = _innermost_function(module, line)
        if holder is None:
            continue
        name = f"{module.module}.{holder.qualname}"
        if name not in seen:
            seen.add(name)
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1)
            yield HandlerFact("location_header", name, Location(module.path, Span.at(line, column)),
                              {"how": "Location header"})


def _innermost_function(module: Module, line: int) -> Function | None:
    best: Function | None = None
    for fn in module.functions:
        if fn.span.start.line <= line <= fn.span.end.line and (
                best is None or fn.span.start.line >= best.span.start.line):
            best = fn
    return best


class _Function:
    def __init__(self, module: Module, fn: Function, top_level: set[str], error_handler: str | None) -> None:
        self.module = module
        self.fn = fn
        self.name = f"{module.module}.{fn.qualname}"
        self.top_level = top_level
        self.error_handler = error_handler
        self.values: dict[str, list[Expr]] = {}
        for assign in fn.assigns:
            if assign.value is not None:
                for target in assign.targets:
                    self.values.setdefault(target, []).append(assign.value)
        self.returned = [value.span for value in fn.returns_values if value is not None]

    def at(self, span: Span) -> Location:
        return Location(self.module.path, span)

    # ---- responses

    def responses(self) -> Iterator[ResponseRecord]:
        exits = self.fn.exits
        for value, span in zip(self.fn.returns_values, self._return_spans(), strict=False):
            detail = self.response(value, 0) if value is not None else {"body": "none", "via": "return"}
            if detail:
                yield self.record(span, detail)
        for call in self.fn.calls:
            raised = any(_within(call.span, exit_span) for exit_span in exits) and not any(
                _within(call.span, returned) for returned in self.returned)
            detail = self.raised(call) if raised else self.abort(call)
            if detail:
                yield self.record(call.span, detail)

    def record(self, span: Span, detail: dict[str, str]) -> ResponseRecord:
        if self.error_handler is not None:
            detail["error_handler"] = "true"
            detail["handles"] = self.error_handler
        return ResponseRecord(self.name, self.at(span), detail)

    def _return_spans(self) -> list[Span]:
        """The span of each return, in the order of `returns_values` (a bare return: its exit span)."""
        spans: list[Span] = []
        exits = sorted(self.fn.exits, key=lambda span: (span.start.line, span.start.column))
        for value in self.fn.returns_values:
            if value is not None:
                spans.append(value.span)
                continue
            bare = next((span for span in exits if span.start.line == span.end.line
                         and span.end.column - span.start.column <= len("return") + 1
                         and span not in spans), None)
            spans.append(bare or self.fn.name_span)
        return spans

    def response(self, value: Expr, depth: int) -> dict[str, str]:
        if depth > 3:
            return {"body": "value", "via": "value"}
        if isinstance(value, Const):
            body = "none" if value.value is None else "empty" if value.value == "" else "ack"
            return {"body": body, "via": "constant", "status": ""}
        if isinstance(value, (FString, Raw)):
            return {"body": "value", "via": "value", "status": ""}
        if isinstance(value, Seq) and value.kind == "dict":
            return {**_dict_body(value), "via": "dict", "status": ""}
        if isinstance(value, Seq) and value.kind == "tuple" and 2 <= len(value.items) <= 3:
            return self.tuple_response(value, depth)
        if isinstance(value, Call):
            return self.call_response(value, depth)
        if isinstance(value, Name) and value.dotted in self.values and "." not in value.dotted:
            last = self.values[value.dotted][-1]
            if isinstance(last, (Call, Seq)):
                return self.response(last, depth + 1)
        return {"body": "value", "via": "value", "status": ""}

    def tuple_response(self, value: Seq, depth: int) -> dict[str, str]:
        """Flask: `(body, status)`, `(body, status, headers)` or `(body, headers)`."""
        detail = self.response(value.items[0], depth + 1)
        second = value.items[1]
        if isinstance(second, Seq) and second.kind == "dict":
            return detail
        status = status_of(second)
        detail["status"] = str(status) if status is not None else "dynamic"
        detail["via"] = f"{detail.get('via', 'value')} tuple"
        return detail

    def call_response(self, call: Call, depth: int) -> dict[str, str]:
        name = callee(call)
        qualified = self.qualified(call.func)
        if name == "jsonify" or qualified.endswith("flask.jsonify") or qualified.endswith("json.jsonify"):
            body = call.args[0] if call.args else None
            if body is None and call.kwargs:
                keys = tuple(Const(value.span, key) for key, value in call.kwargs)
                body = Seq(call.span, "dict", tuple(value for _, value in call.kwargs), keys)
            detail = self.body_of(body, depth)
            return {**detail, "via": "jsonify", "status": ""}
        if name == "make_response":
            if not call.args:
                return {"body": "value", "via": "make_response", "status": "dynamic"}
            return self.tuple_response(Seq(call.span, "tuple", call.args), depth) if len(call.args) >= 2 else \
                {**self.response(call.args[0], depth + 1), "via": "make_response"}
        if name in REDIRECT_CALLS:
            return {"body": "redirect", "via": name, "status": "302"}
        if name in STARLETTE_RESPONSES and (qualified.startswith(("fastapi", "starlette")) or name != "Response"):
            content = call.args[0] if call.args else call.kwarg("content")
            status = call.kwarg("status_code") or (call.args[1] if len(call.args) > 1 else None)
            detail = self.body_of(content, depth) if content is not None else {"body": "empty"}
            return {**detail, "via": name, "status": _status_text(status)}
        if name in DJANGO_RESPONSES or name == "Response":  # DRF, Django, Flask/Werkzeug: `status=`
            return self.drf_response(call, depth)
        return self.helper_call(call, name, qualified)

    def drf_response(self, call: Call, depth: int) -> dict[str, str]:
        content = call.args[0] if call.args else call.kwarg("data") or call.kwarg("content")
        status = call.kwarg("status") or (call.args[1] if len(call.args) > 1 else None)
        detail = self.body_of(content, depth) if content is not None else {"body": "empty"}
        return {**detail, "via": callee(call), "status": _status_text(status)}

    def helper_call(self, call: Call, name: str, qualified: str) -> dict[str, str]:
        if isinstance(call.func, Attr) and isinstance(call.func.value, Call) and callee(call.func.value) == "super":
            return {"body": "value", "via": f"super().{name}", "status": "dynamic"}  # the parent class answers
        detail = {"body": "value", "via": name or "call", "status": ""}
        if isinstance(call.func, Name) and name[:1].islower():
            detail["helper"] = qualified
            status = next((status_of(arg) for arg in [*call.args, *(value for _, value in call.kwargs)]
                           if _is_status(status_of(arg))), None)
            if status is not None:
                detail["helper_status"] = str(status)
        return detail

    def body_of(self, body: Expr | None, depth: int) -> dict[str, str]:
        if body is None:
            return {"body": "empty"}
        if isinstance(body, Seq) and body.kind == "dict":
            return _dict_body(body)
        if isinstance(body, Name) and body.dotted in self.values and "." not in body.dotted and depth < 3:
            last = self.values[body.dotted][-1]
            if isinstance(last, Seq) and last.kind == "dict":
                return _dict_body(last)
        if isinstance(body, Const):
            return {"body": "empty" if body.value in (None, "") else "ack"}
        if isinstance(body, Name) and body.dotted.endswith(".errors"):
            return {"body": "value", "validation": "true"}
        return {"body": "value"}

    def raised(self, call: Call) -> dict[str, str]:
        qualified = self.qualified(call.func)
        name = callee(call)
        if qualified in HTTP_EXCEPTIONS or (name == "HTTPException" and qualified.startswith(("fastapi", "starlette"))):
            status = call.kwarg("status_code") or (call.args[0] if call.args else None)
            return {"body": "value", "via": "HTTPException", "status": _status_text(status), "raised": "true",
                    "keys": "detail", "default_shape": "FastAPI's HTTPException handler"}
        if qualified.startswith("rest_framework.exceptions.") and name in DRF_EXCEPTIONS:
            return {"body": "value", "via": name, "status": str(DRF_EXCEPTIONS[name]), "raised": "true",
                    "keys": "detail", "default_shape": "DRF's exception handler"}
        return {}

    def abort(self, call: Call) -> dict[str, str]:
        """Flask `abort(404)`: an error answer whose body the app's error handlers shape."""
        if callee(call) != "abort" or not call.args or not self.qualified(call.func).startswith(("flask", "werkzeug")):
            return {}
        return {"body": "value", "via": "abort", "status": _status_text(call.args[0]), "raised": "true"}

    def qualified(self, func: Expr) -> str:
        if not isinstance(func, Name):
            return ""
        head = func.dotted.split(".", 1)[0]
        if head in self.top_level and head not in self.module.imports:
            return f"{self.module.module}.{func.dotted}"
        return self.module.resolve(func.dotted)

    def is_drf(self) -> bool:
        return any(target.startswith("rest_framework") for target in self.module.imports.values())

    # ---- body reads

    def body_reads(self) -> Iterator[BodyRead]:
        found: list[tuple[Expr, str]] = []
        for expr in self.expressions():
            for current in walk(expr):
                how = self.raw_read(current)
                if how is not None:
                    found.append((current, how))
        if found:
            first, how = min(found, key=lambda item: (item[0].span.start.line, item[0].span.start.column))
            if not (how.startswith("request.data") and self.calls_named("is_valid")):
                yield BodyRead(self.name, self.at(first.span), {"how": how, "validated": _flag(self.validates())})
        yield from self.dict_parameters()

    def expressions(self) -> Iterator[Expr]:
        yield from self.fn.calls
        for assign in self.fn.assigns:
            if assign.value is not None and not isinstance(assign.value, Call):
                yield assign.value
        for value in self.fn.returns_values:
            if value is not None and not isinstance(value, Call):
                yield value

    def raw_read(self, expr: Expr) -> str | None:
        if isinstance(expr, Call) and isinstance(expr.func, Name):
            dotted = expr.func.dotted
            holder, _, method = dotted.rpartition(".")
            if method == "json" and not expr.args and self.is_request(holder):
                return f"{dotted}()"
            if method == "get_json" and self.is_flask_request(holder):
                return f"{dotted}()"
            if method in ("get", "getlist", "__getitem__") and holder.endswith((".form", ".data")) and \
                    self.body_mapping(holder):
                return f"{holder}.{method}(...)"
        if isinstance(expr, Name):
            if expr.dotted.endswith(".json") and self.is_flask_request(expr.dotted[: -len(".json")]):
                return expr.dotted
            if expr.dotted.endswith(".data") and self.is_drf_request(expr.dotted[: -len(".data")]):
                return expr.dotted
        if isinstance(expr, Subscript) and isinstance(expr.value, Name) and \
                expr.value.dotted.endswith((".form", ".data")) and self.body_mapping(expr.value.dotted):
            return f"{expr.value.dotted}[...]"
        return None

    def body_mapping(self, dotted: str) -> bool:
        holder, _, kind = dotted.rpartition(".")
        if kind == "form":
            return self.is_flask_request(holder) and not self.calls_named("render_template")
        return self.is_drf_request(holder)

    def is_request(self, holder: str) -> bool:
        """`request` as a Starlette/FastAPI parameter (annotated Request) or Flask's global."""
        if self.is_flask_request(holder):
            return True
        for param in self.fn.params:
            if param.name == holder and expr_text(param.annotation).rsplit(".", 1)[-1] in ("Request",
                                                                                           "HTTPConnection"):
                return True
        return False

    def is_flask_request(self, holder: str) -> bool:
        return self.module.resolve(holder) in ("flask.request", "flask.globals.request", "quart.request")

    def is_drf_request(self, holder: str) -> bool:
        return holder in ("request", "self.request") and self.is_drf()

    def calls_named(self, *names: str) -> bool:
        for outer in self.fn.calls:
            for current in walk(outer):
                if isinstance(current, Call) and callee(current) in names:
                    return True
        return False

    def validates(self) -> bool:
        """Whether the function validates what it reads: a validating call, a validating decorator, or the data
        unpacked into a class (`Order(**data)`, a Pydantic model or a dataclass)."""
        for decorator in self.fn.decorators:
            target = decorator.func if isinstance(decorator, Call) else decorator
            if isinstance(target, Name) and target.dotted.rsplit(".", 1)[-1] in VALIDATING_DECORATORS:
                return True
        for outer in [*self.fn.calls, *(a.value for a in self.fn.assigns if isinstance(a.value, Call))]:
            for current in walk(outer):
                if not isinstance(current, Call):
                    continue
                name = callee(current)
                if (name in VALIDATING_CALLS and not expr_text(current.func).startswith(("json.", "yaml.", "pickle.")))\
                        or name.endswith(("Schema", "Serializer", "Form", "Model", "In", "Create", "Update",
                                          "Payload")):
                    return True
                if name[:1].isupper() and name not in NOT_VALIDATING and (current.star or any(
                        names_in(argument) & self.raw_variables() for argument in
                        [*current.args, *(value for _, value in current.kwargs)])):
                    return True
        return False

    def raw_variables(self) -> set[str]:
        """Local names that hold what was read from the body (`data = request.get_json()`)."""
        return {target for assign in self.fn.assigns for target in assign.targets
                if any(self.raw_read(current) is not None for current in walk(assign.value))}

    def dict_parameters(self) -> Iterator[BodyRead]:
        """FastAPI: a body parameter typed `dict` (or `Any` with `Body()`) takes any JSON unvalidated."""
        if not any(target.split(".", 1)[0] in ("fastapi",) for target in self.module.imports.values()):
            return
        for param in self.fn.params:
            annotation, metadata = _unwrap_annotated(param.annotation)
            markers = [expr for expr in [*metadata, param.default] if isinstance(expr, Call)]
            marker = next((callee(expr) for expr in markers if callee(expr) in (
                "Body", "Query", "Path", "Header", "Cookie", "Depends", "Security", "Form", "File")), None)
            text = expr_text(annotation)
            base = text.split("[", 1)[0]
            is_dict = base in DICT_TYPES or (base in ("Any", "typing.Any") and marker == "Body")
            if not is_dict or marker not in (None, "Body"):
                continue
            validated = self.unpacked(param.name)
            yield BodyRead(self.name, self.at(param.span), {"how": f"{param.name}: {text}", "param": param.name,
                                                            "validated": _flag(validated)})

    def unpacked(self, name: str) -> bool:
        """`Order(**payload)`, `Model.model_validate(payload)`, `schema.load(payload)`."""
        for outer in [*self.fn.calls, *(a.value for a in self.fn.assigns if isinstance(a.value, Call))]:
            for current in walk(outer):
                if not isinstance(current, Call):
                    continue
                # `**payload` is not kept in the summary: a class called with a splat may be unpacking it.
                uses = any(isinstance(arg, Name) and arg.dotted == name for arg in current.args) or current.star
                if uses and (callee(current) in VALIDATING_CALLS or callee(current)[:1].isupper()):
                    return True
        return False

    # ---- inserts, headers, status

    def facts(self) -> Iterator[HandlerFact]:
        insert = self.insert()
        if insert is not None:
            expr, how = insert
            yield HandlerFact("db_insert", self.name, self.at(expr.span), {"how": how})
        for assign in self.fn.assigns:
            if assign.targets and assign.targets[0].endswith(".status_code") and assign.value is not None:
                status = status_of(assign.value)
                yield HandlerFact("status_set", self.name, self.at(assign.span),
                                  {"status": str(status) if status is not None else "dynamic"})

    def insert(self) -> tuple[Expr, str] | None:
        for outer in self.fn.calls:
            for current in walk(outer):
                if isinstance(current, Call):
                    how = self.insert_call(current)
                    if how is not None:
                        return current, how
                elif isinstance(current, Const) and isinstance(current.value, str) and \
                        _INSERT_SQL.match(current.value):
                    return current, "INSERT statement"
        return None

    def insert_call(self, call: Call) -> str | None:
        name = callee(call)
        owner = receiver(call) or ""
        if name in ("add", "add_all") and _SESSION_RECEIVER.search(owner) and call.args:
            return f"{owner}.{name}(...)"
        if name in ("create", "bulk_create") and owner.endswith(".objects"):
            return f"{owner}.{name}(...)"
        if name in ("insert_one", "insert_many"):
            return f"{owner or 'collection'}.{name}(...)"
        if name == "insert" and not call.args and owner:
            return f"{owner}.insert()"
        if isinstance(call.func, Name) and self.module.resolve(call.func.dotted) in ("sqlalchemy.insert",
                                                                                     "sqlalchemy.sql.insert"):
            return "insert(...)"
        if name == "save" and owner and "." not in owner and self.builds_new(owner):
            return f"{owner}.save()"
        if name == "save" and isinstance(call.func, Attr) and isinstance(call.func.value, Call) and \
                callee(call.func.value)[:1].isupper():
            return f"{callee(call.func.value)}(...).save()"
        return None

    def builds_new(self, variable: str) -> bool:
        """`order = Order(...)`, `serializer = OrderSerializer(data=...)`, `form = OrderForm(request.POST)`: a
        new instance (no `instance=` and, for serializers, no instance argument before `data`)."""
        for value in self.values.get(variable, []):
            if not isinstance(value, Call) or not callee(value)[:1].isupper() or value.kwarg("instance") is not None:
                continue
            name = callee(value)
            if name.endswith("Serializer") and (value.kwarg("data") is None or value.args):
                continue
            return True
        return False


def _within(inner: Span, outer: Span) -> bool:
    return (outer.start.line, outer.start.column) <= (inner.start.line, inner.start.column) and (
        inner.end.line, inner.end.column) <= (outer.end.line, outer.end.column)


def _unwrap_annotated(annotation: Expr | None) -> tuple[Expr | None, list[Expr]]:
    if isinstance(annotation, Subscript) and isinstance(annotation.value, Name) and \
            annotation.value.dotted.rsplit(".", 1)[-1] == "Annotated" and annotation.index:
        return annotation.index[0], list(annotation.index[1:])
    return annotation, []


def _dict_body(body: Seq) -> dict[str, str]:
    """A dict literal's keys, whether it reads as an error, and whether it only acknowledges (constants)."""
    keys = [const_str(key) for key in body.keys]
    names = [key for key in keys if key is not None]
    detail = {"keys": ",".join(names) if len(names) == len(keys) else "",
              "body": "ack" if all(isinstance(value, Const) for value in body.items) else "value"}
    reason = _error_reason(names, body)
    if reason and set(names) <= ERROR_BODY_KEYS:
        detail["error"] = reason
    return detail


def _error_reason(names: list[str], body: Seq) -> str:
    values = dict(zip((const_str(key) for key in body.keys), body.items, strict=False))
    for name in names:
        value = values.get(name)
        if name in ERROR_KEYS and not _empty(value):
            return f'"{name}" key'
        if name in ("success", "ok") and isinstance(value, Const) and value.value is False:
            return f"{name}: False"
        if name == "status" and isinstance(value, Const) and isinstance(value.value, str) and \
                value.value.lower() in FAILED_STATUS:
            return f'status: "{value.value}"'
    return ""


def _empty(value: Expr | None) -> bool:
    if isinstance(value, Const):
        return value.value in (None, False, "", 0)
    return isinstance(value, Seq) and not value.items


def _status_text(expr: Expr | None) -> str:
    if expr is None:
        return ""
    status = status_of(expr)
    return str(status) if status is not None else "dynamic"


def _is_status(value: int | None) -> bool:
    return value is not None and 100 <= value <= 599


def _flag(value: bool) -> str:
    return "true" if value else ""


# --------------------------------------------------------------------------------------------- resolve


def resolve(builder: ModelBuilder) -> None:
    project = builder.project
    functions = project.functions
    for _, record in builder.records(ResponseRecord):
        detail = dict(record.detail)
        helper = detail.get("helper")
        if helper:
            found = builder.function_named(helper)
            if found is None:
                del detail["helper"]
                detail.pop("helper_status", None)
            else:
                detail["helper"] = found
        project.calls.append(CallSite("response", detail.get("via", ""), record.location, record.function,
                                      _is_async(functions, record.function), detail=detail))
    for _, read in builder.records(BodyRead):
        project.calls.append(CallSite("raw_body", read.detail.get("how", ""), read.location, read.function,
                                      _is_async(functions, read.function), detail=dict(read.detail)))
    for _, fact in builder.records(HandlerFact):
        project.calls.append(CallSite(fact.kind, fact.detail.get("how", fact.kind), fact.location, fact.function,
                                      _is_async(functions, fact.function), detail=dict(fact.detail)))


def _is_async(functions: dict[str, FunctionInfo], name: str) -> bool:
    info = functions.get(name)
    return bool(info and info.is_async)
