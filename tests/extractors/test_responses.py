"""The responses extractor: responses with their status and shape, raw body reads, inserts and Location headers,
from temp projects through the real engine (scan + resolve)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import Workspace
from analyzers.extractors import responses
from analyzers.facts import SourceFile
from analyzers.model import CallSite, Project
from analyzers.pysyntax import summarize


def build(root: Path, files: dict[str, str]) -> Project:
    (root / "pyproject.toml").write_text('[tool.plumbline]\ndatabase = "postgresql"\n')
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    workspace = Workspace(root)
    workspace.scan()
    project, failures = workspace.resolve()
    assert not failures, failures
    return project


def sites(project: Project, kind: str, function: str) -> list[CallSite]:
    return [call for call in project.calls_of(kind) if call.function == function]


def shapes(project: Project, function: str) -> list[tuple[str, str, str, str]]:
    """(status, keys, body, error) of each response of `function`, in source order."""
    found = sorted(sites(project, "response", function), key=lambda call: call.location.line)
    return [(call.detail.get("status", ""), call.detail.get("keys", ""), call.detail.get("body", ""),
             call.detail.get("error", "")) for call in found]


# --------------------------------------------------------------------------------------------- responses


def test_flask_responses_tuples_jsonify_and_helpers(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/__init__.py": "",
        "shop/errors.py": """
            from flask import jsonify

            def problem(message, status=400):
                return jsonify({"error": message}), status
        """,
        "shop/views.py": """
            from flask import Flask, abort, jsonify, make_response, redirect
            from shop.errors import problem

            app = Flask(__name__)

            @app.post("/things")
            def create():
                if 1:
                    return jsonify(error="bad")
                if 2:
                    return {"ok": False, "message": "no"}, 422
                if 3:
                    abort(404)
                if 4:
                    return problem("gone", 410)
                if 5:
                    return make_response(jsonify({"id": 1}), 201)
                if 6:
                    return redirect("/things")
                return "", 204
        """,
    })
    assert shapes(project, "shop.views.create") == [
        ("", "error", "ack", '"error" key'),
        ("422", "ok,message", "ack", "ok: False"),
        ("404", "", "value", ""),
        ("", "", "value", ""),
        ("201", "id", "ack", ""),
        ("302", "", "redirect", ""),
        ("204", "", "empty", ""),
    ]
    helper = next(call for call in sites(project, "response", "shop.views.create") if call.detail.get("helper"))
    assert helper.detail["helper"] == "shop.errors.problem" and helper.detail["helper_status"] == "410"
    assert shapes(project, "shop.errors.problem") == [("dynamic", "error", "value", '"error" key')]


def test_fastapi_responses_raises_and_status_assignments(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "main.py": """
            from fastapi import FastAPI, HTTPException, Response, status
            from fastapi.responses import JSONResponse

            app = FastAPI()

            @app.get("/a/{a_id}")
            def read(a_id: int, response: Response):
                if a_id < 0:
                    raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="missing")
                if a_id == 0:
                    response.status_code = 202
                    return {"errors": []}
                return JSONResponse(content={"id": a_id}, status_code=200)

            @app.exception_handler(HTTPException)
            async def handler(request, exc):
                return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        """,
    })
    read = sorted(sites(project, "response", "main.read"), key=lambda call: call.location.line)
    assert [(call.detail["status"], call.detail.get("keys"), call.detail.get("raised")) for call in read] == [
        ("404", "detail", "true"), ("", "errors", None), ("200", "id", None)]
    assert read[0].detail["default_shape"] == "FastAPI's HTTPException handler"
    assert read[1].detail.get("error") is None  # an empty error list is no error
    [assigned] = sites(project, "status_set", "main.read")
    assert assigned.detail["status"] == "202"
    [handler] = sites(project, "response", "main.handler")
    assert handler.detail["error_handler"] == "true" and handler.detail["handles"] == "HTTPException"
    assert handler.detail["status"] == "dynamic" and handler.detail["keys"] == "error"


def test_drf_responses_and_exceptions(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "views.py": """
            from rest_framework import status
            from rest_framework.exceptions import NotFound
            from rest_framework.response import Response
            from rest_framework.views import APIView

            class Things(APIView):
                def post(self, request):
                    if request.data is None:
                        raise NotFound("nothing")
                    if 1:
                        return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
                    if 2:
                        return super().post(request)
                    return Response({"detail": "ok"})
        """,
    })
    assert shapes(project, "views.Things.post") == [
        ("404", "detail", "value", ""), ("400", "", "value", ""), ("dynamic", "", "value", ""),
        ("", "detail", "ack", "")]


# --------------------------------------------------------------------------------------------- body reads


def test_raw_body_reads_and_what_validates_them(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app.py": """
            from typing import Any, Dict
            from fastapi import Body, FastAPI, Request
            from pydantic import BaseModel

            app = FastAPI()

            class In(BaseModel):
                name: str

            @app.post("/a")
            async def a(request: Request):
                data = await request.json()
                return data["x"]

            @app.post("/b")
            async def b(request: Request):
                data = await request.json()
                return In(**data)

            @app.post("/c")
            def c(payload: Dict[str, Any], tags: dict = Body(...), limit: int = 10):
                return In.model_validate(tags)

            @app.post("/d")
            async def d(request: Request):
                raw = await request.body()
                return {"size": len(raw)}
        """,
    })
    reads = {(call.function, call.detail["how"], call.detail.get("validated", "")) for call in
             project.calls_of("raw_body")}
    assert reads == {
        ("app.a", "request.json()", ""),
        ("app.b", "request.json()", "true"),
        ("app.c", "payload: Dict[str, Any]", ""),
        ("app.c", "tags: dict", "true"),
    }


def test_flask_and_drf_body_reads(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "flask_views.py": """
            from flask import request, render_template

            def create():
                return {"name": request.json["name"]}

            def page():
                name = request.form["name"]
                return render_template("page.html", name=name)

            def loaded():
                return schema.load(request.get_json())
        """,
        "drf_views.py": """
            from rest_framework.response import Response

            def raw(request):
                return Response({"n": request.data["n"]})

            def checked(request):
                serializer = Serializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                return Response(serializer.data)
        """,
    })
    reads = {(call.function, call.detail["how"], call.detail.get("validated", "")) for call in
             project.calls_of("raw_body")}
    assert reads == {
        ("flask_views.create", "request.json", ""),
        ("flask_views.loaded", "request.get_json()", "true"),
        ("drf_views.raw", "request.data[...]", ""),
    }


# --------------------------------------------------------------------------------------------- facts


def test_inserts_in_services_and_location_headers(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "services.py": """
            from sqlalchemy import insert

            def add(session, order):
                session.add(order)

            def bulk(conn, rows):
                conn.execute(insert(Order).values(rows))

            def raw(cursor):
                cursor.execute("INSERT INTO orders (id) VALUES (1)")

            def django_create(data):
                return Order.objects.create(**data)

            def saved(data):
                order = Order(**data)
                order.save()

            def updated(order):
                order.save()

            def serializer_create(request):
                serializer = OrderSerializer(data=request.data)
                serializer.save()

            def serializer_update(request, order):
                serializer = OrderSerializer(order, data=request.data)
                serializer.save()

            def not_a_session(cart, item):
                cart.add(item)
        """,
        "views.py": """
            from fastapi import FastAPI
            from fastapi.responses import JSONResponse

            app = FastAPI()

            @app.post("/orders")
            def create():
                return JSONResponse({}, status_code=201, headers={"Location": "/orders/1"})
        """,
    })
    inserts = {call.function: call.detail["how"] for call in project.calls_of("db_insert")}
    assert inserts == {
        "services.add": "session.add(...)",
        "services.bulk": "insert(...)",
        "services.raw": "INSERT statement",
        "services.django_create": "Order.objects.create(...)",
        "services.saved": "order.save()",
        "services.serializer_create": "serializer.save()",
    }
    assert [call.function for call in project.calls_of("location_header")] == ["views.create"]


# --------------------------------------------------------------------------------------------- bad input

PIECES = [
    "from flask import jsonify, request\n", "from fastapi import FastAPI, HTTPException, Body\n", "def f(",
    "request", ", payload: dict = Body(", "):\n", "    return ", "jsonify(error=", "'x'", ")", ", 400", "\n",
    "    raise HTTPException(404", "    data = await request.json()\n", "    session.add(x)\n",
    "    x.status_code = ", "{'error': ", "}", "(", "[", "]", "    return Response(status=", "headers['Location']",
    "@app.exception_handler(HTTPException)\n", "    Order(**data).save()\n", "'INSERT INTO t'",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=30), st.text(max_size=40))
def test_random_and_broken_source_never_raises(pieces: list[str], noise: str) -> None:
    data = ("".join(pieces) + noise).encode("utf-8", "surrogatepass")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return
    source = SourceFile(path="app/views.py", language="python", data=data,
                        python=summarize(data, "app.views", "app/views.py"))
    responses.extract(source)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=25), st.lists(st.sampled_from(PIECES), max_size=25))
def test_broken_projects_resolve_and_check_without_failures(tmp_path_factory, first: list[str],
                                                            second: list[str]) -> None:
    workspace = Workspace(tmp_path_factory.mktemp("proj"))
    routes = "from fastapi import FastAPI\napp = FastAPI()\n@app.post('/login')\n" + "".join(first)
    workspace.update_file("app/main.py", routes.encode())
    workspace.update_file("app/views.py", "".join(first + second).encode())
    workspace.update_file("app/settings.py", ("MIDDLEWARE = [\n" + "".join(second)).encode())
    result = workspace.check()
    assert not result.failures, result.failures
