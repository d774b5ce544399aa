"""The apps extractor: app objects, their middleware, CORS, Django settings and server evidence, built from temp
projects through the real engine (scan + resolve)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.engine import Workspace
from analyzers.extractors import apps
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


def evidence(project: Project, what: str) -> list[CallSite]:
    return [call for call in project.calls_of("server_evidence") if call.detail.get("what") == what]


def cors(project: Project) -> list[dict[str, str]]:
    return [call.detail for call in project.calls_of("cors_config")]


# --------------------------------------------------------------------------------------------- apps


def test_fastapi_app_collects_middleware_from_constructor_and_add_middleware(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": """
            from fastapi import FastAPI
            from fastapi.middleware.gzip import GZipMiddleware
            from starlette.middleware import Middleware
            from starlette.middleware.trustedhost import TrustedHostMiddleware

            app = FastAPI(middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])])
            app.add_middleware(GZipMiddleware, minimum_size=500)

            @app.middleware("http")
            async def timing(request, call_next):
                return await call_next(request)
        """,
    })
    [app] = project.apps
    assert app.framework == "fastapi" and app.name == "app.main.app"
    assert app.middlewares == ["starlette.middleware.trustedhost.TrustedHostMiddleware",
                               "fastapi.middleware.gzip.GZipMiddleware"]
    assert app.detail["hooks"] == "middleware"
    assert app.location.path == "app/main.py" and app.location.line == 5


def test_flask_factory_extensions_attach_through_init_app_across_modules(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "site/__init__.py": """
            from flask import Flask
            from werkzeug.middleware.proxy_fix import ProxyFix
            from site.extensions import cors, db

            def create_app():
                app = Flask(__name__)
                db.init_app(app)
                cors.init_app(app)
                app.wsgi_app = ProxyFix(app.wsgi_app)

                @app.after_request
                def stamp(response):
                    return response

                return app
        """,
        "site/extensions.py": """
            from flask_cors import CORS
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()
            cors = CORS(supports_credentials=True)
        """,
    })
    [app] = project.apps
    assert app.framework == "flask"
    assert app.middlewares == ["flask_cors.CORS", "werkzeug.middleware.proxy_fix.ProxyFix"]
    assert app.detail["extensions"] == "flask_sqlalchemy.SQLAlchemy"
    assert app.detail["hooks"] == "after_request"


def test_django_settings_give_an_app_with_middleware_and_the_root_urlconf(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "mysite/__init__.py": "",
        "mysite/settings/__init__.py": "",
        "mysite/settings/base.py": """
            INSTALLED_APPS = ["django.contrib.auth", "health_check", "axes"]
            MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
            ROOT_URLCONF = "mysite.urls"
        """,
        "mysite/settings/local.py": """
            from .base import *
            MIDDLEWARE += ["debug_toolbar.middleware.DebugToolbarMiddleware"]
        """,
        "mysite/urls.py": """
            from django.urls import path
            urlpatterns = [
                path("", lambda request: None),
            ]
        """,
    })
    [app] = project.apps
    assert app.framework == "django" and app.name == "mysite.settings.base"
    assert app.middlewares == ["django.middleware.security.SecurityMiddleware"]  # the dev module's are not counted
    assert app.detail["urls_at"] == "mysite/urls.py:1:0"
    assert {call.callee for call in evidence(project, "health")} == {"health_check"}
    assert {call.callee for call in evidence(project, "brute_force")} == {"axes"}
    assert [call.callee for call in evidence(project, "security_headers")] == [
        "django.middleware.security.SecurityMiddleware"]


# --------------------------------------------------------------------------------------------- CORS


def test_starlette_cors_any_origin_with_credentials_through_a_module_constant(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "main.py": """
            from fastapi import FastAPI
            from fastapi.middleware.cors import CORSMiddleware
            from starlette.middleware import Middleware

            EVERYONE = ["*"]
            TRUSTED = ["https://app.example.com"]
            app = FastAPI(middleware=[Middleware(CORSMiddleware, allow_origin_regex="https?://.*",
                                                 allow_credentials=True)])
            app.add_middleware(CORSMiddleware, allow_origins=EVERYONE, allow_credentials=True)
            app.add_middleware(CORSMiddleware, allow_origins=TRUSTED, allow_credentials=True)
            app.add_middleware(CORSMiddleware, allow_origins=["*"])
            app.add_middleware(CORSMiddleware, allow_origins=settings.ORIGINS, allow_credentials=True)
        """,
    })
    found = sorted((d["any_origin"], d["credentials"], d["how"]) for d in cors(project))
    assert found == [
        ("false", "true", "allow_origin_regex=None"),
        ("false", "true", "allow_origin_regex=None"),
        ("true", "false", "allow_origins=['*']"),
        ("true", "true", "allow_origin_regex='https?://.*'"),
        ("true", "true", "allow_origins=EVERYONE"),
    ]


def test_flask_cors_defaults_to_any_origin_and_reads_resources(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app.py": """
            from flask import Flask
            from flask_cors import CORS, cross_origin

            app = Flask(__name__)
            CORS(app, supports_credentials=True)
            CORS(app, resources={r"/api/*": {"origins": "https://app.example.com"}}, supports_credentials=True)
            CORS(app, resources={r"/public/*": {"origins": "*", "supports_credentials": True}})

            @app.get("/x")
            @cross_origin(origins=["https://a.example.com"], supports_credentials=True)
            def x():
                return {}
        """,
    })
    found = [(d["any_origin"], d["credentials"]) for d in cors(project)]
    assert sorted(found) == [("false", "true"), ("false", "true"), ("true", "true"), ("true", "true")]


def test_django_cors_settings_outside_development_modules(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "proj/__init__.py": "",
        "proj/settings.py": """
            INSTALLED_APPS = ["corsheaders"]
            CORS_ORIGIN_ALLOW_ALL = True
            CORS_ALLOW_CREDENTIALS = True
        """,
        "proj/settings_dev.py": """
            INSTALLED_APPS = ["corsheaders"]
            CORS_ALLOWED_ORIGIN_REGEXES = [r".*"]
            CORS_ALLOW_CREDENTIALS = True
        """,
    })
    [found] = project.calls_of("cors_config")
    assert found.location.path == "proj/settings.py" and found.location.line == 1
    assert found.detail["how"] == "CORS_ORIGIN_ALLOW_ALL = True" and found.detail["credentials"] == "true"


# --------------------------------------------------------------------------------------------- evidence


def test_health_paths_security_headers_and_version_headers_are_evidence(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app.py": """
            from fastapi import FastAPI, Header, Request
            from starlette.routing import Route

            app = FastAPI()
            routes = [Route("/api/v1/healthz", endpoint=lambda request: None)]

            @app.middleware("http")
            async def headers(request: Request, call_next):
                response = await call_next(request)
                response.headers["X-Content-Type-Options"] = "nosniff"
                return response

            @app.get("/orders/{order_id}/status")
            def order_status(order_id: int, version: str = Header(None, alias="Accept-Version")):
                data = {}
                return data.get("status")
        """,
    })
    assert [call.callee for call in evidence(project, "health")] == ['route "/api/v1/healthz"']
    assert [call.location.line for call in evidence(project, "security_headers")] == [9]
    assert [call.callee for call in evidence(project, "version_header")] == ['"Accept-Version" header read']


def test_is_health_path() -> None:
    assert apps.is_health_path("/health")
    assert apps.is_health_path("/api/v2/healthz/")
    assert apps.is_health_path("health/live")
    assert not apps.is_health_path("/orders/status")
    assert not apps.is_health_path("/")
    assert not apps.is_health_path("https://example.com/health")


def test_global_rate_limits_and_auth_hooks(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "site/__init__.py": "",
        "site/ext.py": """
            from flask_limiter import Limiter
            from flask_limiter.util import get_remote_address

            limiter = Limiter(get_remote_address, default_limits=["200 per day"])
            quiet = Limiter(get_remote_address)
        """,
        "site/admin.py": """
            from flask import Blueprint, abort, g

            bp = Blueprint("admin", __name__)

            @bp.before_request
            def guard():
                if g.user is None:
                    abort(401)

            @bp.before_request
            def open_db():
                g.db = object()
        """,
    })
    [limit] = evidence(project, "rate_limit")
    assert limit.callee == "Limiter(default_limits=['200 per day'])"
    [hook] = evidence(project, "auth_hook")
    assert hook.detail["group"] == "site.admin.bp" and hook.function == "site.admin.guard"


def test_drf_pagination_classes_that_let_the_client_choose_the_size(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "shop/__init__.py": "",
        "shop/pagination.py": """
            from rest_framework import pagination

            class Open(pagination.PageNumberPagination):
                page_size_query_param = "size"

            class Bounded(Open):
                max_page_size = 50

            class Fixed(pagination.PageNumberPagination):
                page_size = 10

            class NoLimitParam(pagination.LimitOffsetPagination):
                limit_query_param = None

            class NotDrf(SomethingPagination):
                page_size_query_param = "size"
        """,
    })
    found = {call.detail["name"]: call.detail["max"] for call in project.calls_of("pagination_class")}
    assert found == {"Open": "", "Bounded": "50"}


# --------------------------------------------------------------------------------------------- bad input

PIECES = [
    "from fastapi import FastAPI\n", "from flask import Flask\n", "from flask_cors import CORS\n",
    "app = FastAPI(middleware=[Middleware(", "app = Flask(__name__)\n", "CORS(app, origins=[", "'*'", "]",
    ")", "\n", "app.add_middleware(CORSMiddleware, allow_origins=['*'], allow_credentials=True)\n",
    "MIDDLEWARE = [", "INSTALLED_APPS = ['health_check']\n", "@app.before_request\n", "def f():\n",
    "    abort(401)\n", "class P(PageNumberPagination):\n", "    page_size_query_param = 'x'\n",
    "CORS_ALLOW_ALL_ORIGINS = True\n", "x.wsgi_app = W(x.wsgi_app)\n", "headers['X-Frame-Options'] = 1\n",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=25), st.text(max_size=40))
def test_random_and_broken_source_never_raises(pieces: list[str], noise: str) -> None:
    data = ("".join(pieces) + noise).encode("utf-8", "surrogatepass")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return
    for path in ("app.py", "proj/settings.py"):
        source = SourceFile(path=path, language="python", data=data,
                            python=summarize(data, path[:-3].replace("/", "."), path))
        apps.extract(source)
