"""The config_code extractor (secrets, environment reads, debug switches, prints, broad excepts, worker loops) and
the CFG001-CFG003 / SRV006-SRV008 rules, through the real engine on temporary projects."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.config import load_config
from analyzers.engine import CheckResult, Workspace
from analyzers.extract import extract_file
from analyzers.extractors import config_code
from analyzers.facts import SourceFile
from analyzers.model import CallSite, Finding, Fix, Project
from analyzers.pysyntax import summarize
from tests.projects import project_of, write

# Token-shaped test values are assembled at run time, so no file of this repository holds one that a secret
# scanner would take for real.
STRIPE_LIVE = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
GITHUB_TOKEN = "ghp" + "_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
SLACK_TOKEN = "xox" + "b-" + "123456789012-abcdefABCDEF"
GOOGLE_KEY = "AIza" + "Sy" + "D4f8Gh2Jk6Lm0Np3Qr7St1Uv5Wx9Yz2Ab"
PRIVATE_KEY = "-----BEGIN RSA " + "PRIVATE KEY-----\\nMIIEowIBAAKCAQEA\\n-----END RSA PRIVATE KEY-----"


def check(root: Path, files: dict[str, str], plumbline: str = "") -> CheckResult:
    write(root, files, plumbline)
    workspace = Workspace(root, load_config(root))
    workspace.scan()
    result = workspace.check()
    assert not result.failures, result.failures
    return result


def found(result: CheckResult, code: str) -> list[Finding]:
    return [finding for finding in result.all_findings() if finding.code == code]


def lines_of(result: CheckResult, code: str, path: str | None = None) -> list[int]:
    return sorted(finding.location.line + 1 for finding in found(result, code)
                  if path is None or finding.location.path == path)


def sites(project: Project, kind: str) -> list[CallSite]:
    return [call for call in project.calls if call.kind == kind]


def apply(text: str, fix: Fix) -> str:
    """The text after the fix's edits (one file, non-overlapping edits)."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for edit in sorted(fix.edits, key=lambda e: (e.span.start.line, e.span.start.column), reverse=True):
        start = offsets[edit.span.start.line] + edit.span.start.column
        end = offsets[edit.span.end.line] + edit.span.end.column
        text = text[:start] + edit.new_text + text[end:]
    return text


FASTAPI_MAIN = """
    from fastapi import FastAPI
    from app import routes

    app = FastAPI()
    app.include_router(routes.router)
"""

# --------------------------------------------------------------------------------------------- pysyntax additions


def test_summary_keeps_except_clauses_conditionals_and_item_assignments() -> None:
    module = summarize(textwrap.dedent("""
        try:
            import ujson as json
        except ImportError:  # the standard library is enough
            import json

        def work():
            try:
                run()
            except (ValueError, Exception) as error:  # noqa: BLE001
                def nested():
                    raise
                return str(error)
            except:
                raise RuntimeError("boom")
            app.config["DEBUG"] = True

        if __name__ == "__main__":
            work()
    """).encode(), "m", "m.py")
    assert [clause.types for clause in module.excepts] == [("ImportError",)]
    first, bare = module.functions[0].excepts
    assert first.types == ("ValueError", "Exception") and first.name == "error"
    assert not first.raises  # the raise belongs to the nested function
    assert first.statements == ("function_definition", "return_statement")
    assert bare.types == () and bare.raises and bare.name is None
    assert module.conditionals[0][0] == '__name__ == "__main__"'
    assert [assign.targets for assign in module.item_assigns] == [('app.config["DEBUG"]',)]


# --------------------------------------------------------------------------------------------- CFG001


def test_token_shapes_are_found_anywhere_and_messages_never_show_the_secret(tmp_path: Path) -> None:
    result = check(tmp_path, {
        "app/billing.py": f"""
            import stripe

            stripe.api_key = "{STRIPE_LIVE}"
            CLIENTS = [dict(token="{GITHUB_TOKEN}")]
            HOOK = "{SLACK_TOKEN}"


            def maps_client():
                return make_client("{GOOGLE_KEY}")


            SIGNING = "{PRIVATE_KEY}"
        """,
    }, 'select = ["CFG001"]')
    findings = found(result, "CFG001")
    assert [finding.location.line + 1 for finding in findings] == [3, 4, 5, 9, 12]
    messages = " ".join(finding.message for finding in findings)
    for secret in (STRIPE_LIVE, GITHUB_TOKEN, SLACK_TOKEN, GOOGLE_KEY, "MIIEowIBAAKCAQEA", "4eC39Hq"):
        assert secret not in messages
    assert "Stripe live key" in messages and "private key" in messages and "GitHub token" in messages


def test_placeholders_names_and_local_defaults_are_not_secrets(tmp_path: Path) -> None:
    result = check(tmp_path, {
        "app/settings.py": """
            import os
            API_KEY = ""
            API_TOKEN = "your-api-token"
            SECRET_KEY = "<generate one>"
            DB_PASSWORD = "${DB_PASSWORD}"
            AUTH_TOKEN = "xxxxxxxxxxxxxxxx"
            REFRESH_TOKEN = "refresh_token"
            TOKEN_HEADER_KEY = "X-Auth-Token"
            CACHE_KEY = "orders:list:v1b2c3d4e5f6g7"
            PASSWORD_MIN_LENGTH = 12
            SECRET_KEY_FALLBACKS = []
            ADMIN_PASSWORD = os.environ["ADMIN_PASSWORD"]
            LOCAL_URL = "postgres://app:app@localhost/app"
            PLACEHOLDER_URL = "mysql://%(user)s:%(password)s@%(host)s/db"
            WITHOUT_PASSWORD = "redis://cache.example.com:6379/0"
            GREETING = "Your password has been reset"
        """,
    }, 'select = ["CFG001"]')
    assert found(result, "CFG001") == []


def test_local_defaults_are_reported_when_asked(tmp_path: Path) -> None:
    files = {
        "app/settings.py": """
            DB_PASSWORD = "postgres"
            DATABASE_URL = "postgresql://postgres:postgres@localhost/app"
            PROD_URL = "postgresql://postgres:postgres@db.example.com/app"
        """,
    }
    assert lines_of(check(tmp_path, files, 'select = ["CFG001"]'), "CFG001") == [3]
    options = 'select = ["CFG001"]\n[tool.plumbline.rules.CFG001]\nreport-local-defaults = true'
    assert lines_of(check(tmp_path, files, options), "CFG001") == [1, 2, 3]


def test_ignore_names_tests_and_dev_settings(tmp_path: Path) -> None:
    files = {
        "app/settings.py": 'PUBLIC_API_KEY = "pk1a2b3c4d5e6f7g8h9i0"\nSTRIPE_KEY = "rk9a8b7c6d5e4f3g2h1i0"\n',
        "shop/settings/local.py": 'SECRET_KEY = "local-4kq8!z2m#x7v9p@w3n&b6c"\nDB_PASSWORD = "Kx82!mdQ1z"\n',
        "tests/test_api.py": 'API_KEY = "sk-4fK9mQ2vL8xZ7pW1nB6cR3tY5aQ"\n',
        "conftest.py": 'SECRET = "Qm9zZ2xlLXRlc3Qtc2VjcmV0"\n',
    }
    options = 'select = ["CFG001"]\n[tool.plumbline.rules.CFG001]\nignore-names = ["public_*"]'
    result = check(tmp_path, files, options)
    assert {(f.location.path, f.location.line + 1) for f in found(result, "CFG001")} == {
        ("app/settings.py", 2), ("shop/settings/local.py", 2)}


def test_secret_fix_reads_the_environment_and_adds_the_import(tmp_path: Path) -> None:
    text = 'from pathlib import Path\n\nBASE_DIR = Path(__file__).parent\nSECRET_KEY = "k3#9x!q0v$2m8w7zPq"\n'
    result = check(tmp_path, {"app/settings.py": text}, 'select = ["CFG001"]')
    (finding,) = found(result, "CFG001")
    assert finding.fix is not None and not finding.fix.safe
    fixed = apply(text, finding.fix)
    assert fixed == ('from pathlib import Path\nimport os\n\nBASE_DIR = Path(__file__).parent\n'
                     'SECRET_KEY = os.environ["SECRET_KEY"]\n')
    ast.parse(fixed)


def test_secret_fix_reuses_an_existing_os_import(tmp_path: Path) -> None:
    text = 'import os\n\n\nclass Config:\n    API_TOKEN = "tok_9f8e7d6c5b4a"\n'
    result = check(tmp_path, {"app/config.py": text}, 'select = ["CFG001"]')
    (finding,) = found(result, "CFG001")
    assert finding.fix is not None
    assert apply(text, finding.fix) == 'import os\n\n\nclass Config:\n    API_TOKEN = os.environ["API_TOKEN"]\n'


def test_committed_config_files(tmp_path: Path) -> None:
    result = check(tmp_path, {
        "alembic.ini": "[alembic]\nsqlalchemy.url = postgresql://svc:Zq7!m2Lp9x@db.example.com/app\n",
        "config.ini": "[smtp]\n; password = old-one-7x9\npassword = Rt5!kq8Mz2\nuser = mailer\n",
        "docker-compose.override.yml": textwrap.dedent("""
            services:
              db:
                environment:
                  POSTGRES_PASSWORD: "postgres"
                  MYSQL_ROOT_PASSWORD: 'Pq9!xz4Lm2'
        """),
        ".env.sample": "SECRET_KEY=\nAPI_TOKEN=<token>\nDB_PASSWORD=Lm3!x8Qz7v\n",
        "requirements/base.txt": "--index-url https://deploy:Kp9mQ2vL8x@pypi.example.com/simple\nflask\n",
    }, 'select = ["CFG001"]')
    by_path = {(f.location.path, f.location.line + 1) for f in found(result, "CFG001")}
    assert by_path == {("alembic.ini", 2), ("config.ini", 3), ("docker-compose.override.yml", 5),
                       (".env.sample", 3), ("requirements/base.txt", 1)}
    assert all("Rt5!kq8Mz2" not in f.message and "Zq7!m2Lp9x" not in f.message for f in found(result, "CFG001"))


def test_environment_defaults_of_secrets(tmp_path: Path) -> None:
    result = check(tmp_path, {
        "app/settings.py": """
            import os
            import environ
            from decouple import config

            env = environ.Env()
            SECRET_KEY = os.environ.get("SECRET_KEY", "unsafe-fallback-91x7")
            API_TOKEN = os.getenv("API_TOKEN", "")
            JWT_SECRET = env("JWT_SECRET", default="jwt-fallback-8q2z")
            MAIL_PASSWORD = config("MAIL_PASSWORD", default="Mq2!x8Lz")
            os.environ.setdefault("WEBHOOK_SECRET", "whsec-default-77a1")
            LOG_LEVEL = os.getenv("LOG_LEVEL", "INFO")
        """,
    }, 'select = ["CFG001"]')
    assert lines_of(result, "CFG001") == [6, 8, 9, 10]
    assert all("fallback value" in finding.message for finding in found(result, "CFG001"))


# --------------------------------------------------------------------------------------------- CFG002


def test_request_time_reads_follow_the_call_graph(tmp_path: Path) -> None:
    result = check(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": FASTAPI_MAIN,
        "app/routes.py": """
            import os
            from os import environ, getenv
            from fastapi import APIRouter
            from app.helpers import region, settings_once

            router = APIRouter()

            @router.get("/a")
            def a():
                return {"k": getenv("A_KEY"), "r": region(), "s": settings_once()}

            @router.get("/b")
            async def b():
                key = environ["B_KEY"]
                return {"key": key}
        """,
        "app/helpers.py": """
            import os
            from functools import lru_cache

            def region():
                return os.environ.get("REGION", "eu")

            @lru_cache(maxsize=1)
            def settings_once():
                return os.environ.get("SETTINGS")

            def unused():
                return os.environ.get("UNUSED")
        """,
    }, 'select = ["CFG002"]')
    assert {(f.location.path, f.location.line + 1) for f in found(result, "CFG002")} == {
        ("app/routes.py", 10), ("app/routes.py", 14), ("app/helpers.py", 5)}
    assert any("GET /a" in f.message and "region()" in f.message for f in found(result, "CFG002"))


def test_import_time_reads_used_unchecked(tmp_path: Path) -> None:
    result = check(tmp_path, {
        "app/config.py": """
            import os
            from celery import Celery
            from pydantic_settings import BaseSettings

            celery = Celery("app", broker=os.environ.get("BROKER_URL"))
            TIMEOUT = float(os.getenv("TIMEOUT", None))
            RETRIES = int(os.getenv("RETRIES") or "3")
            NAME = str(os.getenv("NAME"))
            HOSTS = [h.strip() for h in os.environ["HOSTS"].split(",")]

            class Settings(BaseSettings):
                port: int = int(os.getenv("PORT"))
        """,
    }, 'select = ["CFG002"]')
    assert lines_of(result, "CFG002") == [5, 6]
    messages = [finding.message for finding in found(result, "CFG002")]
    assert "Celery(broker=...)" in messages[0] and "float(...)" in messages[1]


def test_request_time_option_turns_the_first_case_off(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/main.py": FASTAPI_MAIN,
        "app/routes.py": """
            import os
            from fastapi import APIRouter
            router = APIRouter()

            @router.get("/")
            def index():
                return {"v": os.getenv("VERSION")}
        """,
    }
    assert lines_of(check(tmp_path, files, 'select = ["CFG002"]'), "CFG002") == [7]
    options = 'select = ["CFG002"]\n[tool.plumbline.rules.CFG002]\nrequest-time = false'
    assert lines_of(check(tmp_path, files, options), "CFG002") == []


# --------------------------------------------------------------------------------------------- CFG003


def test_django_debug_inheritance(tmp_path: Path) -> None:
    result = check(tmp_path, {
        "site/settings/__init__.py": "from .production import *\n",
        "site/settings/base.py": "INSTALLED_APPS = []\nDEBUG = True\n",
        "site/settings/development.py": "from .base import *\n",
        "site/settings/production.py": "from .base import *\nALLOWED_HOSTS = ['x']\n",
        "other/settings/base.py": "INSTALLED_APPS = []\nDEBUG = True\n",
        "other/settings/local.py": "from other.settings.base import *\n",
        "other/settings/prod.py": "from other.settings.base import *\nDEBUG = False\n",
        "other/settings/ci.py": "from .prod import *\nDEBUG = True\n",
    }, 'select = ["CFG003"]')
    assert {(f.location.path, f.location.line + 1) for f in found(result, "CFG003")} == {
        ("site/settings/base.py", 2)}


def test_django_debug_fix(tmp_path: Path) -> None:
    text = '"""Settings."""\nfrom pathlib import Path\n\nINSTALLED_APPS = ["shop"]\nDEBUG = True\n'
    result = check(tmp_path, {"shop/settings.py": text}, 'select = ["CFG003"]')
    (finding,) = found(result, "CFG003")
    assert finding.fix is not None and not finding.fix.safe
    fixed = apply(text, finding.fix)
    assert 'DEBUG = os.environ.get("DJANGO_DEBUG") == "1"\n' in fixed and "import os\n" in fixed
    ast.parse(fixed)
    recheck = check(tmp_path, {"shop/settings.py": fixed}, 'select = ["CFG003"]')
    assert found(recheck, "CFG003") == []


def test_config_classes_across_modules(tmp_path: Path) -> None:
    result = check(tmp_path, {
        "app/__init__.py": "",
        "app/config/__init__.py": "",
        "app/config/base.py": "class Config:\n    DEBUG = True\n",
        "app/config/envs.py": """
            from app.config.base import Config

            class DevelopmentConfig(Config):
                pass

            class ProductionConfig(Config):
                SQLALCHEMY_ECHO = False
        """,
        "app/config/shared.py": "class SharedConfig:\n    DEBUG = True\n",
        "app/config/local.py": """
            from app.config.shared import SharedConfig

            class LocalConfig(SharedConfig):
                pass
        """,
    }, 'select = ["CFG003"]')
    assert {(f.location.path, f.location.line + 1) for f in found(result, "CFG003")} == {("app/config/base.py", 2)}


def test_plain_settings_module_is_not_taken_for_django(tmp_path: Path) -> None:
    result = check(tmp_path, {"app/config.py": "DEBUG = True\nSQLALCHEMY_ECHO = False\n"}, 'select = ["CFG003"]')
    (finding,) = found(result, "CFG003")
    assert finding.fix is None and "Django" not in finding.message and "app.config" in finding.message
    options = 'select = ["CFG003"]\n[tool.plumbline.rules.CFG003]\nchecks = ["django"]'
    assert found(check(tmp_path, {"app/config.py": "DEBUG = True\n"}, options), "CFG003") == []


def test_checks_option(tmp_path: Path) -> None:
    files = {"app/main.py": "import uvicorn\nfrom fastapi import FastAPI\napp = FastAPI(debug=True)\n"
                            "uvicorn.run(app, reload=True)\n"}
    assert lines_of(check(tmp_path, files, 'select = ["CFG003"]'), "CFG003") == [3, 4]
    options = 'select = ["CFG003"]\n[tool.plumbline.rules.CFG003]\nchecks = ["uvicorn"]'
    assert lines_of(check(tmp_path, files, options), "CFG003") == [4]


# --------------------------------------------------------------------------------------------- SRV006


def test_broad_handler_kinds(tmp_path: Path) -> None:
    project = project_of(tmp_path, {
        "app/jobs.py": """
            import logging
            import sentry_sdk
            logger = logging.getLogger(__name__)

            def a():
                try:
                    run()
                except BaseException:
                    pass

            def b():
                try:
                    run()
                except Exception as e:
                    errors.append(e)

            def c():
                try:
                    run()
                except Exception as e:
                    failure = e
                    return failure

            def g(results):
                try:
                    run()
                except Exception as e:
                    results["error"] = e

            def d():
                try:
                    run()
                except Exception:
                    logging.getLogger("x").error("failed")

            def e():
                try:
                    run()
                except Exception:
                    # the cache is optional: serve without it
                    pass

            def f():
                try:
                    run()
                except (OSError, ValueError):
                    pass
        """,
    })
    by_function = {site.function.rsplit(".", 1)[-1]: site.detail for site in sites(project, "broad_except")
                   if site.function}
    assert set(by_function) == {"a", "b", "c", "d", "e", "g"}
    assert by_function["a"].get("silent") == "true"
    assert "silent" not in by_function["b"] and "silent" not in by_function["c"] and "silent" not in by_function["g"]
    assert by_function["d"].get("logged") == "true"
    assert by_function["e"].get("silent") == "true" and by_function["e"].get("explained") == "true"


def test_deliberate_handler_shapes(tmp_path: Path) -> None:
    project = project_of(tmp_path, {
        "app/jobs.py": """
            def fallback_value():
                try:
                    return run()
                except Exception:
                    return False

            def fallback_assign():
                try:
                    value = run()
                except Exception:
                    value = None
                return value

            def fallback_item(data):
                try:
                    data["embed"] = render()
                except Exception:
                    data["embed"] = None
                return data

            def returns_none():
                try:
                    return run()
                except Exception:
                    return None

            def bare_return():
                try:
                    run()
                except Exception:
                    if ready:
                        return
                    value = 1

            def skips():
                for item in items:
                    try:
                        run(item)
                    except Exception:
                        ok = False
                        continue

            def nested():
                try:
                    run()
                except ValueError:
                    try:
                        undo()
                    except Exception:
                        pass

            def parses(raw):
                try:
                    from app import codecs
                    return codecs.parse_order(json.loads(raw), int(raw.strip()))
                except Exception:
                    return None

            def writes(raw):
                try:
                    save(json.loads(raw))
                except Exception:
                    return None
        """,
    })
    details = {site.function.rsplit(".", 1)[-1]: site.detail for site in sites(project, "broad_except")
               if site.function}
    flagged = {name: [key for key in ("fallback", "nested", "converts") if detail.get(key)]
               for name, detail in details.items()}
    assert flagged == {"fallback_value": ["fallback"], "fallback_assign": ["fallback"],
                       "fallback_item": ["fallback"], "returns_none": [],
                       "bare_return": [], "skips": [], "nested": ["nested"], "parses": ["converts"],
                       "writes": []}


def test_swallows_are_reported_where_a_request_or_a_job_runs_them(tmp_path: Path) -> None:
    result = check(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": FASTAPI_MAIN,
        "app/routes.py": """
            from fastapi import APIRouter
            from app.service import push

            router = APIRouter()

            @router.post("/push")
            def do_push():
                push()
                return {}
        """,
        "app/service.py": """
            def save():
                return 1

            def push():
                try:
                    save()
                except Exception:
                    pass

            def offline():
                try:
                    save()
                except Exception:
                    pass
        """,
        "app/tasks.py": """
            from celery import shared_task
            from app.service import save

            @shared_task
            def nightly():
                try:
                    save()
                except Exception:
                    pass
        """,
        "app/worker.py": """
            from app.service import save

            def consume(queue):
                while True:
                    queue.get()
                    try:
                        save()
                    except Exception:
                        continue
        """,
    }, 'select = ["SRV006"]')
    messages = {(f.location.path, f.location.line + 1): f.message for f in found(result, "SRV006")}
    assert set(messages) == {("app/service.py", 7), ("app/tasks.py", 8), ("app/worker.py", 8)}
    assert "push() (run by POST /push)" in messages[("app/service.py", 7)]
    assert "(run by task nightly())" in messages[("app/tasks.py", 8)]
    assert "(run by worker loop in consume())" in messages[("app/worker.py", 8)]


def test_strict_option_and_ignored_functions(tmp_path: Path) -> None:
    files = {
        "app/jobs.py": """
            def quiet():
                try:
                    run()
                except Exception:
                    # best effort
                    pass

            def fallback():
                try:
                    return run()
                except Exception:
                    return default()

            def close():
                try:
                    run()
                except Exception:
                    pass
        """,
    }
    # No request or job runs these functions: only `backend-path-only = false` or `strict` reports them.
    assert lines_of(check(tmp_path, files, 'select = ["SRV006"]'), "SRV006") == []
    anywhere = 'select = ["SRV006"]\n[tool.plumbline.rules.SRV006]\nbackend-path-only = false'
    assert lines_of(check(tmp_path, files, anywhere), "SRV006") == [17]
    strict = 'select = ["SRV006"]\n[tool.plumbline.rules.SRV006]\nstrict = true\nignore-functions = ["clo*"]'
    assert lines_of(check(tmp_path, files, strict), "SRV006") == [4, 11]


def test_leaks_only_count_on_request_paths(tmp_path: Path) -> None:
    result = check(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": FASTAPI_MAIN,
        "app/routes.py": """
            from fastapi import APIRouter
            from fastapi.responses import JSONResponse
            from app.service import work, explain

            router = APIRouter()

            @router.get("/work")
            def do_work():
                try:
                    return work()
                except Exception as e:
                    return JSONResponse({"detail": e.args}, status_code=500)

            @router.get("/explain")
            def do_explain():
                return {"message": explain()}

            def offline():
                try:
                    return work()
                except Exception as e:
                    return JSONResponse({"detail": str(e)}, status_code=500)
        """,
        "app/service.py": """
            def work():
                return 1

            def explain():
                try:
                    work()
                except Exception as error:
                    return repr(error)
        """,
    }, 'select = ["SRV006"]')
    assert {(f.location.path, f.location.line + 1) for f in found(result, "SRV006")} == {("app/routes.py", 11)}
    assert "e.args" in found(result, "SRV006")[0].message


# --------------------------------------------------------------------------------------------- SRV007


def test_print_fix_uses_the_module_logger(tmp_path: Path) -> None:
    routes = textwrap.dedent("""
        import logging
        from fastapi import APIRouter

        log = logging.getLogger(__name__)
        router = APIRouter()

        @router.get("/")
        def index():
            print(f"index hit")
            print("a", "b")
            return {}
    """).lstrip()
    result = check(tmp_path, {"app/__init__.py": "", "app/main.py": FASTAPI_MAIN, "app/routes.py": routes},
                   'select = ["SRV007"]')
    first, second = found(result, "SRV007")
    assert first.fix is not None and second.fix is None
    assert 'log.info(f"index hit")' in apply(routes, first.fix)


def test_print_without_logger_has_no_fix_and_allow_paths(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/main.py": FASTAPI_MAIN,
        "app/routes.py": """
            from fastapi import APIRouter
            router = APIRouter()

            @router.get("/")
            def index():
                print("hit")
                return {}
        """,
    }
    (finding,) = found(check(tmp_path, files, 'select = ["SRV007"]'), "SRV007")
    assert finding.fix is None and "GET /" in finding.message
    options = 'select = ["SRV007"]\n[tool.plumbline.rules.SRV007]\nallow-paths = ["app/routes.py"]'
    assert found(check(tmp_path, files, options), "SRV007") == []


# --------------------------------------------------------------------------------------------- SRV008


def test_worker_loops(tmp_path: Path) -> None:
    project = project_of(tmp_path, {
        "app/worker.py": """
            import asyncio
            import time

            def outer():
                while True:
                    while True:
                        message = channel.basic_get("q")
                    time.sleep(1)

            def with_comment_exit():
                while True:  # never breaks
                    item = queue.get()
                    process(item)  # return value ignored

            def bounded():
                while 1:
                    job = consumer.poll(1.0)
                    if job is None:
                        return

            async def a_loop():
                while True:
                    await asyncio.sleep(1)
        """,
        "app/other.py": """
            import asyncio

            async def main(loop):
                loop.add_signal_handler(15, stop)
                while True:
                    await asyncio.sleep(5)
        """,
    })
    found_sites = {(site.function.rsplit(".", 1)[-1], site.location.line + 1): site
                   for site in sites(project, "worker_loop") if site.function}
    assert set(found_sites) == {("outer", 5), ("with_comment_exit", 11), ("a_loop", 22), ("main", 5)}
    assert found_sites[("main", 5)].detail.get("signals") == "true"
    assert found_sites[("a_loop", 22)].is_async


def test_async_loops_are_reported_when_asked(tmp_path: Path) -> None:
    files = {"app/worker.py": "import asyncio\n\nasync def run(q):\n    while True:\n        await q.get()\n"}
    assert found(check(tmp_path, files, 'select = ["SRV008"]'), "SRV008") == []
    options = 'select = ["SRV008"]\n[tool.plumbline.rules.SRV008]\ninclude-async = true'
    assert lines_of(check(tmp_path, files, options), "SRV008") == [4]


# --------------------------------------------------------------------------------------------- robustness


def test_fingerprints_are_stable_when_lines_move(tmp_path: Path) -> None:
    text = 'DB_PASSWORD = "Xk82!mdQ1z"\n\n\ndef f():\n    try:\n        g()\n    except Exception:\n        pass\n'
    config = 'select = ["CFG001", "SRV006"]\n[tool.plumbline.rules.SRV006]\nbackend-path-only = false'
    first = check(tmp_path, {"app/settings.py": text}, config)
    moved = check(tmp_path, {"app/settings.py": "\n\n# moved\n" + text}, config)
    assert {f.fingerprint for f in first.all_findings()} == {f.fingerprint for f in moved.all_findings()}
    assert {f.fingerprint for f in first.all_findings()} == {"CFG001:app.settings:DB_PASSWORD",
                                                            "SRV006:app.settings.f:except Exception"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(list("abcdefgxyz_ =:'\"()[]{}.,#\n\t@/-") + [
    "def ", "class ", "while True:", "try:", "except", " as e", "Exception", "raise", "print(", "os.getenv(",
    "os.environ[", "DEBUG = True", "SECRET_KEY", "PASSWORD", "if __name__ == '__main__':", "return ", "    ",
    "postgres://u:p4ss@h/db", "AKIA", "sk-", "from .base import *", "import os\n", "app.config['DEBUG'] = ",
    "lambda: ", "f'{e}'", "str(e)", "queue.get()", "signal.signal(", "time.sleep(1)", "@shared_task\n",
]), max_size=120).map("".join))
def test_random_python_never_raises(source: str) -> None:
    data = source.encode()
    module = summarize(data, "app.settings", "app/settings.py")
    config_code.extract(SourceFile("app/settings.py", "python", data, module))
    facts = extract_file("app/settings.py", data)
    assert not [failure for failure in facts.failures if "config_code" in failure], facts.failures


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["alembic.ini", ".env.example", "docker-compose.yml",
                                               "requirements.txt", "settings.ini"]))
def test_random_config_text_never_raises(text: str, name: str) -> None:
    config_code.extract(SourceFile(name, "text", text.encode("utf-8", errors="replace")))
