"""Dialect detection: hints per file, and the order in which they decide the project's database."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.config import load_config
from analyzers.discovery import language_of
from analyzers.engine import Workspace
from analyzers.extractors import dialect
from analyzers.facts import SourceFile
from analyzers.model import Project
from analyzers.pysyntax import summarize


def build(root: Path, files: dict[str, str]) -> Project:
    files = {"pyproject.toml": "[project]\nname = 'x'\n", **files}
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    workspace = Workspace(root, load_config(root))
    workspace.scan()
    project, failures = workspace.resolve()
    assert not failures, failures
    return project


def hints(path: str, text: str) -> list[dialect.DialectHint]:
    data = textwrap.dedent(text).lstrip("\n").encode()
    language = language_of(path) or "text"
    module = summarize(data, "m", path) if language == "python" else None
    return dialect.extract(SourceFile(path, language, data, module))


def summary(found: list[dialect.DialectHint]) -> list[tuple[str, int, int]]:
    return [(hint.dialect, hint.level, hint.line) for hint in found]


# --------------------------------------------------------------------------------------------- hints per file


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u@h/db", "postgresql"), ("postgresql+asyncpg://u@h/db", "postgresql"),
    ("postgres://u@h/db", "postgresql"), ("mysql+pymysql://u@h/db", "mysql"), ("mysql://u@h/db", "mysql"),
    ("mariadb://u@h/db", "mariadb"), ("mysql+mariadbconnector://u@h/db", "mariadb"),
    ("sqlite:///./app.db", "sqlite"), ("mssql+pyodbc://u@dsn", "mssql"),
])
def test_connection_urls_in_python(url: str, expected: str) -> None:
    found = hints("app/settings.py", f'import os\n\nDATABASE_URL = os.getenv("DATABASE_URL", "{url}")\n')
    assert summary(found) == [(expected, dialect.URL_LEVEL, 2)]


def test_urls_outside_settings_modules_count_less() -> None:
    found = hints("scripts/import_legacy.py", 'SOURCE = "mysql://legacy@old-host/shop"\n')
    assert summary(found) == [("mysql", dialect.ENVIRONMENT_LEVEL, 0)]


def test_urls_in_calls_fstrings_and_settings_classes() -> None:
    found = hints("app/db.py", """
        from sqlalchemy import create_engine

        class Settings:
            url: str = f"postgresql+psycopg://{USER}@db/app"

        def engine():
            return create_engine("mysql://root@localhost/x")
    """)
    assert {(hint.dialect, hint.line) for hint in found} == {("postgresql", 3), ("mysql", 6)}


def test_django_engine() -> None:
    found = hints("config/settings.py", """
        DATABASES = {"default": {"ENGINE": "django.contrib.gis.db.backends.postgis", "NAME": "x"}}
    """)
    assert summary(found) == [("postgresql", dialect.URL_LEVEL, 0)]
    assert found[0].source == "config/settings.py DATABASES ENGINE (django.contrib.gis.db.backends.postgis)"


def test_driver_imports_in_code() -> None:
    found = hints("app/raw.py", "import asyncpg\nfrom sqlalchemy.dialects.postgresql import JSONB\n")
    assert summary(found) == [("postgresql", dialect.DRIVER_LEVEL, 0), ("postgresql", dialect.SYNTAX_LEVEL, 0)]


def test_alembic_ini_and_other_ini_files() -> None:
    found = hints("alembic.ini", "[alembic]\n# sqlalchemy.url = mysql://x\nsqlalchemy.url = postgresql://a@b/c\n")
    assert summary(found) == [("postgresql", dialect.URL_LEVEL, 2)]
    assert found[0].source == "alembic.ini sqlalchemy.url"
    assert hints("alembic.ini", "sqlalchemy.url = driver://user:pass@localhost/dbname\n") == []


def test_env_examples_and_compose_files() -> None:
    env = hints(".env.example", "DATABASE_URL=postgres://x@y/z\nDB_CONNECTION=mysql\nPOSTGRES_USER=app\n")
    assert summary(env) == [("postgresql", dialect.ENVIRONMENT_LEVEL, 0), ("mysql", dialect.ENVIRONMENT_LEVEL, 1)]
    compose = hints("docker-compose.yml", """
        services:
          db:
            image: postgis/postgis:16-3.4
          other:
            image: "mariadb:11"
          cache:
            image: redis:7
    """)
    assert summary(compose) == [("postgresql", 1, 2), ("mariadb", 1, 4)]
    assert compose[0].source == "docker-compose.yml image postgis/postgis:16-3.4"


def test_real_env_files_are_never_read() -> None:
    for name in (".env", ".env.local", ".env.production"):
        assert dialect.extract(SourceFile(name, "text", b"DATABASE_URL=postgres://secret@db/x\n")) == []


def test_driver_packages() -> None:
    requirements = hints("requirements.txt", "SQLAlchemy==2.0\npsycopg[binary]>=3  # the driver\n-e .\n")
    assert summary(requirements) == [("postgresql", dialect.DRIVER_LEVEL, 1)]
    pyproject = hints("pyproject.toml", """
        [project]
        dependencies = ["databases[asyncpg]", "fastapi"]

        [project.optional-dependencies]
        test = ["aiosqlite"]

        [tool.poetry.dependencies]
        PyMySQL = "^1.1"
    """)
    assert [(hint.dialect, hint.in_tests) for hint in pyproject] == [
        ("postgresql", False), ("sqlite", True), ("mysql", False)]
    pipfile = hints("Pipfile", '[packages]\nmysqlclient = "*"\n\n[dev-packages]\naiosqlite = "*"\n')
    assert [(hint.dialect, hint.in_tests) for hint in pipfile] == [("mysql", False), ("sqlite", True)]
    assert hints("pyproject.toml", "[project\nbroken") == []


def test_sql_syntax() -> None:
    found = hints("db/1.sql", "CREATE TABLE t (\n  id int AUTO_INCREMENT PRIMARY KEY\n) ENGINE=InnoDB;\n")
    assert summary(found) == [("mysql", dialect.SYNTAX_LEVEL, 1)]


def test_test_paths() -> None:
    for path in ("tests/conftest.py", "app/tests/settings.py", "conftest.py", "test_settings.py",
                 "config/settings/test.py", "settings_test.py", "requirements/test.txt", "requirements-ci.txt"):
        assert dialect.in_tests(path), path
    for path in ("app/settings.py", "config/settings/production.py", "requirements.txt", "contest/app.py"):
        assert not dialect.in_tests(path), path


def test_discovery_reads_requirement_folders_and_compose_variants() -> None:
    assert language_of("requirements/base.txt") == "text"
    assert language_of("deploy/docker-compose.prod.yml") == "text"
    assert language_of("docs/notes.txt") is None


# --------------------------------------------------------------------------------------------- choosing


def hint(name: str, level: int, path: str = "a.py", tests: bool = False) -> dialect.DialectHint:
    return dialect.DialectHint(name, level, f"{path} says {name}", path, 0, tests)


def test_choose_prefers_the_most_direct_hint() -> None:
    chosen = dialect.choose([hint("mysql", 2), hint("postgresql", 0, "b.py"), hint("mysql", 1)])
    assert chosen is not None and chosen.dialect == "postgresql"


def test_choose_ignores_tests_unless_nothing_else_speaks() -> None:
    chosen = dialect.choose([hint("mysql", 0, tests=True), hint("postgresql", 2)])
    assert chosen is not None and chosen.dialect == "postgresql"
    chosen = dialect.choose([hint("mysql", 0, tests=True)])
    assert chosen is not None and chosen.dialect == "mysql"


def test_sqlite_gives_way_to_any_other_database() -> None:
    chosen = dialect.choose([hint("sqlite", 0), hint("postgresql", 2)])
    assert chosen is not None and chosen.dialect == "postgresql"
    chosen = dialect.choose([hint("sqlite", 0), hint("sqlite", 2)])
    assert chosen is not None and chosen.dialect == "sqlite"


def test_choose_takes_the_majority_then_the_first_path() -> None:
    chosen = dialect.choose([hint("mysql", 1, "a"), hint("postgresql", 1, "b"), hint("postgresql", 1, "c")])
    assert chosen is not None and chosen.dialect == "postgresql"
    chosen = dialect.choose([hint("postgresql", 1, "b"), hint("mysql", 1, "a")])
    assert chosen is not None and chosen.dialect == "mysql"
    assert dialect.choose([]) is None


# --------------------------------------------------------------------------------------------- through the engine


def test_project_dialect_and_source(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "alembic.ini": "[alembic]\nsqlalchemy.url = postgresql+psycopg://app@db/app\n",
        "requirements.txt": "pymysql\n",
        "tests/conftest.py": 'URL = "sqlite:///:memory:"\n',
        ".env": "DATABASE_URL=mysql://secret@db/x\n",
    })
    assert (project.dialect, project.dialect_source) == ("postgresql", "alembic.ini sqlalchemy.url")
    assert any("other hints name mysql" in note for note in project.notes)


def test_sqlite_for_tests_does_not_win(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "app/settings.py": """
            import os
            import sys

            DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://app@localhost/app")
            if "pytest" in sys.modules:
                DATABASE_URL = "sqlite:///:memory:"
        """,
        "tests/settings.py": 'DATABASE_URL = "sqlite://"\n',
    })
    assert project.dialect == "postgresql"


def test_configuration_overrides_detection(tmp_path: Path) -> None:
    project = build(tmp_path, {
        "pyproject.toml": "[project]\nname = 'x'\n\n[tool.plumbline]\ndatabase = \"mysql\"\n",
        "alembic.ini": "[alembic]\nsqlalchemy.url = postgresql://app@db/app\n",
    })
    assert (project.dialect, project.dialect_source) == ("mysql", "configuration")


def test_nothing_said_leaves_it_unknown(tmp_path: Path) -> None:
    project = build(tmp_path, {"app/main.py": "print('hello')\n"})
    assert project.dialect is None and project.dialect_source is None


# --------------------------------------------------------------------------------------------- robustness

NAMES = ["app/settings.py", "alembic.ini", ".env.example", "docker-compose.yml", "requirements.txt",
         "pyproject.toml", "Pipfile", "setup.cfg", "db/1.sql"]
PIECES = ["postgresql://", "mysql+", "://", "image:", "DATABASE_URL=", "[project]", "dependencies = [",
          '"psycopg', "ENGINE", "django.db.backends.", "=", "\n", '"', "'", "[", "]", "ENGINE=InnoDB", "é"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(NAMES), st.lists(st.sampled_from(PIECES), max_size=30), st.text(max_size=60))
def test_extract_never_raises(name: str, pieces: list[str], noise: str) -> None:
    data = ("".join(pieces) + noise).encode("utf-8", "replace")
    language = language_of(name) or "text"
    module = summarize(data, "m", name) if language == "python" else None
    dialect.extract(SourceFile(name, language, data, module))
