"""The integrations extractor (HTTP clients, caches, queues, email, documents) and the INT rules, through the real
engine on temporary projects: call sites, their details, fixes and options."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.config import load_config
from analyzers.engine import CheckResult, Workspace
from analyzers.extractors import integrations
from analyzers.facts import SourceFile
from analyzers.model import CallSite, Finding, Fix, Project
from analyzers.pysyntax import summarize
from tests.projects import project_of, write


def check(root: Path, files: dict[str, str], plumbline: str) -> CheckResult:
    write(root, files, plumbline)
    workspace = Workspace(root, load_config(root))
    workspace.scan()
    result = workspace.check()
    assert not result.failures, result.failures
    return result


def findings(result: CheckResult, code: str) -> list[Finding]:
    return [finding for finding in result.all_findings() if finding.code == code]


def sites(project: Project, kind: str) -> list[CallSite]:
    return [call for call in project.calls if call.kind == kind and "entity" in call.detail]


def apply(text: str, fix: Fix) -> str:
    """Apply a fix's edits (single-file, non-overlapping) to `text`."""
    lines = textwrap.dedent(text).lstrip().splitlines(keepends=True)
    for edit in sorted(fix.edits, key=lambda e: (e.span.start.line, e.span.start.column), reverse=True):
        start, end = edit.span.start, edit.span.end
        before = "".join(lines[: start.line]) + lines[start.line][: start.column]
        after = lines[end.line][end.column:] + "".join(lines[end.line + 1:])
        joined = before + edit.new_text + after
        lines = joined.splitlines(keepends=True)
    return "".join(lines)


# --------------------------------------------------------------------------------------------- HTTP


def test_sessions_are_followed_across_modules_and_reexports(tmp_path: Path) -> None:
    project = project_of(tmp_path, {
        "app/__init__.py": "",
        "app/http/__init__.py": "from app.http.sessions import shared as session\n",
        "app/http/sessions.py": """
            import requests
            shared = requests.Session()
        """,
        "app/api.py": """
            from app.http import session
            from app import http

            def fetch(url):
                session.get(url)
                return http.session.post(url, timeout=3)
        """,
    })
    calls = {call.callee: call for call in sites(project, "http")}
    assert calls["requests.Session.get"].detail["timeout"] == "missing"
    assert calls["requests.Session.get"].function == "app.api.fetch"
    assert calls["requests.Session.post"].detail["timeout"] == "set"


def test_local_names_shadow_imported_clients(tmp_path: Path) -> None:
    project = project_of(tmp_path, {
        "app/clients.py": """
            import redis
            cache = redis.Redis()
        """,
        "app/views.py": """
            from app.clients import cache

            def with_param(cache):
                cache.set("k", 1)

            def with_local():
                cache = {}
                return cache.get("k")

            def real(user_id):
                cache.set(f"u:{user_id}", 1)
        """,
    })
    assert [call.function for call in sites(project, "cache_write")] == ["app.views.real"]
    assert not sites(project, "cache_read")


def test_self_attributes_annotations_and_with_targets(tmp_path: Path) -> None:
    project = project_of(tmp_path, {
        "app/client.py": """
            import aiohttp
            import httpx
            from redis.asyncio import Redis

            class Partner:
                def __init__(self):
                    self.http = httpx.AsyncClient(timeout=5)

                async def ping(self):
                    return await self.http.get("/ping")

            async def store(redis: Redis | None, key):
                await redis.set(f"k:{key}", 1)

            async def fetch(url):
                async with aiohttp.ClientSession() as session:
                    async with session.get(url) as response:
                        return await response.text()
        """,
    })
    http = {call.callee: call for call in sites(project, "http")}
    assert http["httpx.AsyncClient.get"].detail.get("blocking") is None
    assert http["aiohttp.ClientSession.get"].detail["library"] == "aiohttp"
    assert [call.callee for call in sites(project, "cache_write")] == ["redis.set"]


def test_timeout_fix_lands_after_the_last_argument(tmp_path: Path) -> None:
    source = """
        import requests

        def push(invoice):
            requests.post(
                "https://billing.example.com",
                json=invoice,
            )
            return requests.get("https://billing.example.com/status")
    """
    result = check(tmp_path, {"app/billing.py": source}, 'select = ["INT001"]\n[tool.plumbline.rules.INT001]\n'
                   "timeout = 2.5\n")
    found = findings(result, "INT001")
    assert len(found) == 2
    fixed = source
    for finding in sorted(found, key=lambda f: f.location.line, reverse=True):
        assert finding.fix is not None and not finding.fix.safe
        fixed = apply(fixed, finding.fix)
    ast.parse(fixed)
    assert "json=invoice, timeout=2.5," in fixed
    assert 'requests.get("https://billing.example.com/status", timeout=2.5)' in fixed


def test_global_defaults_silence_int001(tmp_path: Path) -> None:
    result = check(tmp_path, {
        "app/boot.py": """
            import socket
            import functools
            import requests

            socket.setdefaulttimeout(10)
            requests.Session.request = functools.partialmethod(requests.Session.request, timeout=10)
        """,
        "app/calls.py": """
            from urllib.request import urlopen
            import requests

            def fetch(url):
                urlopen(url)
                requests.Session().get(url)
        """,
    }, 'select = ["INT001"]')
    assert findings(result, "INT001") == []


def test_int001_libraries_option(tmp_path: Path) -> None:
    files = {"app/calls.py": """
        import requests
        import httpx

        def fetch(url):
            requests.get(url)
            httpx.get(url, timeout=None)
    """}
    result = check(tmp_path, files, 'select = ["INT001"]\n[tool.plumbline.rules.INT001]\nlibraries = ["httpx"]\n')
    assert [f.message.split("(")[0] for f in findings(result, "INT001")] == ["httpx.get"]


def test_blocking_calls_follow_the_call_graph_one_level(tmp_path: Path) -> None:
    files = {
        "app/main.py": """
            import time
            from fastapi import FastAPI

            app = FastAPI()

            def helper():
                time.sleep(1)

            def deeper():
                helper()

            @app.get("/a")
            async def a():
                helper()

            @app.get("/b")
            async def b():
                deeper()
        """,
    }
    result = check(tmp_path, files, 'select = ["INT002"]')
    assert [(f.location.line, "helper" in f.message) for f in findings(result, "INT002")] == [(6, True)]
    result = check(tmp_path, files, 'select = ["INT002"]\n[tool.plumbline.rules.INT002]\nfollow-sync-callees = false\n')
    assert findings(result, "INT002") == []


def test_retry_caller_depth_option(tmp_path: Path) -> None:
    files = {"app/sync.py": """
        import requests
        from tenacity import retry

        @retry
        def outer():
            middle()

        def middle():
            inner()

        def inner():
            requests.get("https://example.com", timeout=5)
    """}
    assert findings(check(tmp_path, files, 'select = ["INT003"]'), "INT003") == []
    result = check(tmp_path, files, 'select = ["INT003"]\n[tool.plumbline.rules.INT003]\ncaller-depth = 1\n')
    assert len(findings(result, "INT003")) == 1


# --------------------------------------------------------------------------------------------- caches


def test_cache_key_shapes(tmp_path: Path) -> None:
    project = project_of(tmp_path, {"app/keys.py": """
        from django.core.cache import cache

        def keys(a, b):
            cache.get(f"{a}:{b}")
            cache.get(f"user:{a}")
            cache.get("cart." + str(a))
            cache.get(str(a) + ":cart")
            cache.get("%s-%s" % (a, b))
            cache.get("sku/{}".format(a))
            cache.get(":".join(["order", str(a)]))
            cache.get("fixed")
            cache.get(a)
    """})
    shapes = [(call.detail.get("key_shape"), call.detail.get("key_prefix", "")) for call in sites(project,
                                                                                                  "cache_read")]
    assert shapes == [("template", ""), ("template", "user:"), ("template", "cart."), ("template", ""),
                      ("template", ""), ("template", "sku/"), ("template", "order:"), ("const", "fixed"),
                      ("unknown", "")]


def test_redis_ttl_fix_and_constant_keys_option(tmp_path: Path) -> None:
    source = """
        import redis

        r = redis.Redis()

        def remember(user_id, value):
            r.set(f"seen:{user_id}", value)
            r.set("banner", value)
    """
    result = check(tmp_path, {"app/cache.py": source}, 'select = ["INT004"]\n[tool.plumbline.rules.INT004]\nttl = 60\n')
    [finding] = findings(result, "INT004")
    assert finding.fix is not None
    assert 'r.set(f"seen:{user_id}", value, ex=60)' in apply(source, finding.fix)
    result = check(tmp_path, {"app/cache.py": source},
                   'select = ["INT004"]\n[tool.plumbline.rules.INT004]\nconstant-keys = true\n')
    assert len(findings(result, "INT004")) == 2


def test_cache_key_version_option(tmp_path: Path) -> None:
    files = {"app/cache.py": """
        from django.core.cache import cache

        def keys(user_id):
            cache.get(f"profile:{user_id}")
            cache.get(f"profile:v2:{user_id}")
            cache.get(f"cart:{user_id}", version=3)
            cache.get("settings")
    """}
    assert findings(check(tmp_path, files, 'select = ["INT005"]'), "INT005") == []
    result = check(tmp_path, files, 'select = ["INT005"]\n[tool.plumbline.rules.INT005]\nrequire-version = true\n')
    assert sorted(f.location.line for f in findings(result, "INT005")) == [3, 6]


# --------------------------------------------------------------------------------------------- tasks


def test_dead_letter_queue_and_annotations_count_as_policies(tmp_path: Path) -> None:
    files = {
        "app/worker.py": """
            from celery import Celery
            from kombu import Queue

            celery = Celery("jobs")
            celery.conf.task_queues = [Queue("mail", queue_arguments={"x-dead-letter-exchange": "dlx"})]
        """,
        "app/tasks.py": """
            import requests
            from app.worker import celery

            @celery.task(acks_late=True, reject_on_worker_lost=True)
            def deliver(url):
                requests.post(url, timeout=5)

            @celery.task
            def ping(url):
                requests.get(url, timeout=5)
        """,
    }
    result = check(tmp_path, files, 'select = ["INT006"]')
    assert [f.location.line for f in findings(result, "INT006")] == [7]
    files["app/config.py"] = 'task_annotations = {"*": {"autoretry_for": (Exception,)}}\n'
    assert findings(check(tmp_path, files, 'select = ["INT006"]'), "INT006") == []


def test_celery_app_from_a_factory_and_all_tasks_option(tmp_path: Path) -> None:
    files = {"app/tasks.py": """
        from app.factory import make_celery

        celery_app = make_celery()

        @celery_app.task
        def add(a, b):
            return a + b
    """}
    project = project_of(tmp_path, files)
    assert [call.function for call in sites(project, "task")] == ["app.tasks.add"]
    assert findings(check(tmp_path, files, 'select = ["INT006"]'), "INT006") == []
    result = check(tmp_path, files, 'select = ["INT006"]\n[tool.plumbline.rules.INT006]\nall-tasks = true\n')
    assert len(findings(result, "INT006")) == 1


def test_direct_task_call_fix_queues_it(tmp_path: Path) -> None:
    route = """
        from fastapi import FastAPI
        from app.tasks import send_receipt

        app = FastAPI()

        @app.post("/orders")
        def create_order():
            send_receipt(1)
            return {}
    """
    files = {
        "app/tasks.py": """
            from celery import shared_task

            @shared_task(autoretry_for=(Exception,))
            def send_receipt(order_id):
                return order_id
        """,
        "app/main.py": route,
    }
    result = check(tmp_path, files, 'select = ["INT007"]')
    [finding] = findings(result, "INT007")
    assert finding.fix is not None
    assert "send_receipt.delay(1)" in apply(route, finding.fix)


# --------------------------------------------------------------------------------------------- robustness

FRAGMENTS = [
    "import requests\n", "import redis\n", "from django.core.cache import cache\n", "from celery import shared_task\n",
    "r = redis.Redis(\n", "s = requests.Session()\n", "def f(x):\n", "async def g(y):\n", "    ", "class C:\n",
    "    def __init__(self):\n        self.s = requests.Session()\n", "requests.get(x", ")\n", "r.set(f\"{x}\", 1",
    "cache.set(x, 1, None)\n", "@shared_task(\n", "@app.task\n", "with requests.Session() as s:\n", "s.mount(",
    "HTTPAdapter(max_retries=", "3)", "f\"{", "}\"", "'%s' % x", "\"a\" + str(y)", "(", ")", ",", "lambda: ",
    "queue.enqueue(f, retry=", "await ", "return ", "CACHES = {'default': {'TIMEOUT': None}}\n", "\n",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=16), st.integers(min_value=0, max_value=500))
def test_extract_never_raises_on_broken_code(parts: list[str], cut: int) -> None:
    text = "".join(parts)
    data = text[: max(cut, len(text) // 2)].encode()
    source = SourceFile("app/x.py", "python", data, summarize(data, "app.x", "app/x.py"))
    integrations.extract(source)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_extract_never_raises_on_random_text(text: str) -> None:
    data = text.encode("utf-8", errors="replace")
    source = SourceFile("x.py", "python", data, summarize(data, "x", "x.py"))
    integrations.extract(source)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12),
       st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_resolve_and_rules_never_fail_on_broken_projects(tmp_path_factory, first: list[str],
                                                         second: list[str]) -> None:
    root = tmp_path_factory.mktemp("broken")
    (root / "pyproject.toml").write_text('[tool.plumbline]\nselect = ["INT"]\n')
    (root / "app").mkdir()
    (root / "app" / "a.py").write_text("".join(first))
    (root / "app" / "b.py").write_text("from app.a import *\nfrom app.a import r, s, cache\n" + "".join(second))
    workspace = Workspace(root, load_config(root))
    workspace.scan()
    result = workspace.check()
    assert not [failure for failure in result.failures if "integrations" in failure or "INT" in failure]
