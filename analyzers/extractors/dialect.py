"""The database the project runs on, from the hints its files give.

Each file contributes `DialectHint`s, ranked by how directly they say it:

0. a connection URL or Django `ENGINE` in Python settings (a module whose path says settings, config, db,
   engine, session or env), `sqlalchemy.url` in alembic.ini, a URL in an .ini;
1. an environment example (`.env.example`: `DATABASE_URL=`, `DB_CONNECTION=`, `POSTGRES_*`), a compose file
   (`image: postgres:16`), or a URL in some other Python module (a one-off script's, maybe);
2. a driver package in the dependencies (psycopg, asyncpg, pymysql, aiosqlite, ...) or imported by the code;
3. dialect-only syntax in SQL files (`ENGINE=InnoDB`, `timestamptz`, ...) or `sqlalchemy.dialects.*` imports.

`resolve` takes the best-ranked hints. Hints in test folders count only when nothing else says anything, and a
SQLite hint gives way to any other database the project names (SQLite is the usual test and local fallback;
the production database is the other one). The `database` configuration key overrides all of this (the engine
applies it after resolution). `.env` files themselves are never read.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass

from analyzers.facts import SourceFile
from analyzers.model import Span
from analyzers.pysyntax import BinOp, Call, Class, Const, Expr, FString, Lambda, Module, Seq, Subscript
from analyzers.resolve import ModelBuilder

# --------------------------------------------------------------------------------------------- records

URL_LEVEL, ENVIRONMENT_LEVEL, DRIVER_LEVEL, SYNTAX_LEVEL = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class DialectHint:
    dialect: str
    level: int
    source: str  # e.g. "alembic.ini sqlalchemy.url"
    path: str
    line: int  # 0-based
    in_tests: bool = False


# --------------------------------------------------------------------------------------------- vocabulary

_URL = re.compile(
    r"(?i)\b(postgres(?:ql)?|pgsql|mysql|mariadb|sqlite|mssql|oracle|cockroachdb)(\+\w+)?://")
_URL_SCHEMES = {"postgres": "postgresql", "postgresql": "postgresql", "pgsql": "postgresql", "mysql": "mysql",
                "mariadb": "mariadb", "sqlite": "sqlite", "mssql": "mssql", "oracle": "oracle",
                "cockroachdb": "cockroachdb"}
_DJANGO_ENGINE = re.compile(
    r"\b(?:django\.db\.backends|django\.contrib\.gis\.db\.backends)\.(postgresql_psycopg2|postgresql|postgis|"
    r"mysql|sqlite3|spatialite|oracle)\b|^(django_cockroachdb|mssql)$")
_DJANGO_BACKENDS = {"postgresql": "postgresql", "postgresql_psycopg2": "postgresql", "postgis": "postgresql",
                    "mysql": "mysql", "sqlite3": "sqlite", "spatialite": "sqlite", "oracle": "oracle",
                    "django_cockroachdb": "cockroachdb", "mssql": "mssql"}
DRIVERS = {
    "psycopg": "postgresql", "psycopg2": "postgresql", "psycopg2-binary": "postgresql",
    "psycopg-binary": "postgresql", "psycopg-c": "postgresql", "psycopg2cffi": "postgresql",
    "psycopg-pool": "postgresql", "asyncpg": "postgresql", "pg8000": "postgresql", "aiopg": "postgresql",
    "pymysql": "mysql", "mysqlclient": "mysql", "aiomysql": "mysql", "mysql-connector-python": "mysql",
    "mysql-connector": "mysql", "asyncmy": "mysql", "mysql-python": "mysql",
    "mariadb": "mariadb",
    "aiosqlite": "sqlite",
    "pymssql": "mssql",
    "oracledb": "oracle", "cx-oracle": "oracle",
}
# Top-level modules of the drivers above, for imports in code.
_DRIVER_MODULES = {"psycopg": "postgresql", "psycopg2": "postgresql", "asyncpg": "postgresql",
                   "pg8000": "postgresql", "aiopg": "postgresql", "pymysql": "mysql", "MySQLdb": "mysql",
                   "aiomysql": "mysql", "asyncmy": "mysql", "mysql": "mysql", "mariadb": "mariadb",
                   "aiosqlite": "sqlite", "pymssql": "mssql", "oracledb": "oracle", "cx_Oracle": "oracle"}
_SQLALCHEMY_DIALECTS = {"postgresql": "postgresql", "mysql": "mysql", "sqlite": "sqlite", "mssql": "mssql",
                        "oracle": "oracle"}
_EXTRA_HINTS = (("postgres", "postgresql"), ("asyncpg", "postgresql"), ("psycopg", "postgresql"),
                ("mysql", "mysql"), ("asyncmy", "mysql"), ("mariadb", "mariadb"), ("sqlite", "sqlite"))
_IMAGES = {"postgres": "postgresql", "postgresql": "postgresql", "postgis": "postgresql",
           "timescaledb": "postgresql", "timescaledb-ha": "postgresql", "mysql": "mysql",
           "mysql-server": "mysql", "percona": "mysql", "percona-server": "mysql", "mariadb": "mariadb",
           "cockroach": "cockroachdb"}
_IMAGE_LINE = re.compile(r"""^\s*image:\s*["']?([\w.\-/]+)(?::([\w.\-]+))?""")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*[\"']?([^\"'\s#]*)")
_ENV_PREFIXES = (("POSTGRES_", "postgresql"), ("PGHOST", "postgresql"), ("MYSQL_", "mysql"),
                 ("MARIADB_", "mariadb"))
_LARAVEL_CONNECTIONS = {"pgsql": "postgresql", "mysql": "mysql", "mariadb": "mariadb", "sqlite": "sqlite",
                        "sqlsrv": "mssql"}
_REQUIREMENT = re.compile(r"""^\s*["']?([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?""")
_SQL_SYNTAX = (
    (re.compile(rb"(?i)\bENGINE\s*=\s*(?:InnoDB|MyISAM)\b|\bAUTO_INCREMENT\b"), "mysql", "MySQL table options"),
    (re.compile(rb"(?i)\b(?:bigserial|serial|timestamptz|jsonb)\b|\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\b"),
     "postgresql", "PostgreSQL types"),
    (re.compile(rb"(?i)\bAUTOINCREMENT\b|\bWITHOUT\s+ROWID\b"), "sqlite", "SQLite syntax"),
)
_SETTINGS_MODULE = re.compile(r"(?i)settings|config|conf|database|db|engine|session|env")
ENV_EXAMPLES = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist", "env.example"})
_TEST_PARTS = frozenset({"test", "tests", "testing", "__tests__", "e2e", "spec", "specs"})
_TEST_GROUPS = frozenset({"test", "tests", "testing", "dev", "development", "lint", "ci", "docs"})


def in_tests(path: str) -> bool:
    """Test code and test settings: `tests/`, `test_*.py`, `conftest.py`, `settings/test.py`, ..."""
    parts = path.lower().split("/")
    name = parts[-1]
    stem = name.rsplit(".", 1)[0]
    if any(part in _TEST_PARTS for part in parts[:-1]) or name == "conftest.py":
        return True
    if stem.startswith("test") or stem.endswith(("_test", "_tests", "_testing")):
        return True
    return "requirements" in path.lower() and any(word in stem for word in ("test", "ci"))


# --------------------------------------------------------------------------------------------- extract


def extract(source: SourceFile) -> list[DialectHint]:
    name = source.name
    if name == ".env" or (name.startswith(".env") and name not in ENV_EXAMPLES):
        return []  # real environment files hold secrets: never read
    if source.language == "python":
        return _python_hints(source)
    if source.language == "sql":
        return _sql_hints(source)
    if source.language != "text":
        return []
    text = source.text()
    lowered = name.lower()
    if lowered.endswith((".ini", ".cfg")):
        hints = _ini_hints(source.path, text)
        if lowered == "setup.cfg":
            hints += _requirement_hints(source.path, text)
        return hints
    if name in ENV_EXAMPLES:
        return _env_hints(source.path, text)
    if "compose" in lowered and lowered.endswith((".yml", ".yaml")):
        return _compose_hints(source.path, text)
    if lowered == "pyproject.toml":
        return _pyproject_hints(source.path, text)
    if lowered == "pipfile" or _is_requirements(source.path, lowered):
        return _requirement_hints(source.path, text)
    return []


def _is_requirements(path: str, name: str) -> bool:
    """`requirements.txt`, `requirements-dev.in`, `requirements/base.txt`."""
    if not name.endswith((".txt", ".in")):
        return False
    return name.startswith("requirements") or path.startswith("requirements/") or "/requirements/" in path


def _hint(dialect: str, level: int, source: str, path: str, line: int, tests: bool | None = None) -> DialectHint:
    return DialectHint(dialect, level, source, path, line, in_tests(path) if tests is None else tests)


def _url_dialect(match: re.Match[str]) -> str:
    dialect = _URL_SCHEMES[match.group(1).lower()]
    if dialect == "mysql" and (match.group(2) or "").lower() == "+mariadbconnector":
        return "mariadb"
    return dialect


# ---- Python


def _python_hints(source: SourceFile) -> list[DialectHint]:
    module = source.python
    if module is None:
        return []
    hints: list[DialectHint] = []
    if b"://" in source.data or b"db.backends" in source.data or b"cockroachdb" in source.data \
            or b"mssql" in source.data:
        # A bare "mssql" string is Django's ENGINE only in a module that has an "ENGINE" key at all (not merely
        # a name such as MLflow's `DATABASE_ENGINES = [POSTGRES, MYSQL, SQLITE, MSSQL]`).
        has_engine_key = re.search(rb"""["']ENGINE["']""", source.data) is not None
        for line, text in _strings(module):
            hints.extend(_string_hints(source.path, line, text, has_engine_key))
    hints.extend(_import_hints(source.path, module))
    return hints


def _string_hints(path: str, line: int, text: str, has_engine_key: bool = True) -> list[DialectHint]:
    found: list[DialectHint] = []
    url = _URL.search(text)
    if url is not None:
        # A URL in the settings is the application's; one in another module may be a one-off script's.
        level = URL_LEVEL if _SETTINGS_MODULE.search(path) else ENVIRONMENT_LEVEL
        found.append(_hint(_url_dialect(url), level, f"{path} connection URL ({url.group(0)})", path, line))
        return found
    engine = _DJANGO_ENGINE.search(text)
    if engine is not None and (engine.group(1) or has_engine_key):
        backend = engine.group(1) or engine.group(2)
        found.append(_hint(_DJANGO_BACKENDS[backend], URL_LEVEL, f"{path} DATABASES ENGINE ({engine.group(0)})",
                           path, line))
    return found


def _import_hints(path: str, module: Module) -> list[DialectHint]:
    found: dict[tuple[str, int], DialectHint] = {}
    for target in module.imports.values():
        top = target.split(".", 1)[0]
        if top in _DRIVER_MODULES and (top != "mysql" or target.startswith("mysql.connector")):
            dialect = _DRIVER_MODULES[top]
            found.setdefault((dialect, DRIVER_LEVEL), _hint(dialect, DRIVER_LEVEL, f"{path} imports {top}", path, 0))
        elif target.startswith("sqlalchemy.dialects."):
            named = _SQLALCHEMY_DIALECTS.get(target.split(".")[2])
            if named is not None:
                found.setdefault((named, SYNTAX_LEVEL), _hint(named, SYNTAX_LEVEL, f"{path} imports {target}", path,
                                                              0))
    return list(found.values())


def _strings(module: Module) -> list[tuple[int, str]]:
    """Every string constant of the module (values, call arguments, defaults, class bodies), with its line."""
    roots: list[Expr | None] = []
    roots.extend(assign.value for assign in module.assigns)
    roots.extend(module.calls)
    classes: list[Class] = list(module.classes)
    while classes:
        cls = classes.pop()
        roots.extend(assign.value for assign in cls.assigns)
        classes.extend(cls.classes)
    for function in module.functions:
        roots.extend(function.calls)
        roots.extend(assign.value for assign in function.assigns)
        roots.extend(function.returns_values)
        roots.extend(param.default for param in function.params)
    found: dict[Span, tuple[int, str]] = {}  # by span: a call can be listed both as a call and as a value
    stack = [root for root in roots if root is not None]
    while stack:
        expr = stack.pop()
        if isinstance(expr, Const) and isinstance(expr.value, str):
            found[expr.span] = (expr.span.start.line, expr.value)
        elif isinstance(expr, FString):
            found[expr.span] = (expr.span.start.line, expr.text)
        elif isinstance(expr, Call):
            stack.extend(expr.args)
            stack.extend(value for _, value in expr.kwargs)
        elif isinstance(expr, Seq):
            stack.extend(expr.items)
            stack.extend(expr.keys)
        elif isinstance(expr, BinOp):
            stack.extend((expr.left, expr.right))
        elif isinstance(expr, Subscript):
            stack.extend(expr.index)
        elif isinstance(expr, Lambda):
            stack.append(expr.body)
    return sorted(found.values())


# ---- SQL


def _sql_hints(source: SourceFile) -> list[DialectHint]:
    found: list[DialectHint] = []
    for pattern, dialect, what in _SQL_SYNTAX:
        match = pattern.search(source.data)
        if match is not None:
            line = source.data.count(b"\n", 0, match.start())
            found.append(_hint(dialect, SYNTAX_LEVEL, f"{source.path} {what}", source.path, line))
    return found


# ---- configuration files


def _ini_hints(path: str, text: str) -> list[DialectHint]:
    found: list[DialectHint] = []
    for line, content in enumerate(text.splitlines()):
        stripped = content.strip()
        if stripped.startswith(("#", ";")):
            continue
        url = _URL.search(stripped)
        if url is None:
            continue
        key = stripped.split("=", 1)[0].strip() if "=" in stripped else "URL"
        level = URL_LEVEL if not path.endswith("setup.cfg") else ENVIRONMENT_LEVEL
        found.append(_hint(_url_dialect(url), level, f"{path} {key}", path, line))
    return found


def _env_hints(path: str, text: str) -> list[DialectHint]:
    found: list[DialectHint] = []
    for line, content in enumerate(text.splitlines()):
        match = _ENV_LINE.match(content)
        if match is None:
            continue
        key, value = match.group(1), match.group(2)
        url = _URL.search(value)
        engine = _DJANGO_ENGINE.search(value)
        if url is not None:
            found.append(_hint(_url_dialect(url), ENVIRONMENT_LEVEL, f"{path} {key}", path, line))
        elif engine is not None:
            backend = engine.group(1) or engine.group(2)
            found.append(_hint(_DJANGO_BACKENDS[backend], ENVIRONMENT_LEVEL, f"{path} {key}", path, line))
        elif key == "DB_CONNECTION" and value.lower() in _LARAVEL_CONNECTIONS:
            found.append(_hint(_LARAVEL_CONNECTIONS[value.lower()], ENVIRONMENT_LEVEL, f"{path} {key}", path,
                               line))
        else:
            prefix = next((dialect for start, dialect in _ENV_PREFIXES if key.startswith(start)), None)
            if prefix is not None:
                found.append(_hint(prefix, ENVIRONMENT_LEVEL, f"{path} {key}", path, line))
    return _first_per_dialect(found)


def _compose_hints(path: str, text: str) -> list[DialectHint]:
    found: list[DialectHint] = []
    for line, content in enumerate(text.splitlines()):
        image = _IMAGE_LINE.match(content)
        if image is not None:
            base = image.group(1).rsplit("/", 1)[-1].lower()
            if base in _IMAGES:
                tag = f":{image.group(2)}" if image.group(2) else ""
                found.append(_hint(_IMAGES[base], ENVIRONMENT_LEVEL, f"{path} image {image.group(1)}{tag}", path,
                                   line))
            continue
        url = _URL.search(content)
        if url is not None:
            found.append(_hint(_url_dialect(url), ENVIRONMENT_LEVEL, f"{path} connection URL", path, line))
    return _first_per_dialect(found)


def _requirement_hints(path: str, text: str, tests: bool | None = None) -> list[DialectHint]:
    found: list[DialectHint] = []
    section_tests = False
    for line, content in enumerate(text.splitlines()):
        stripped = content.split("#", 1)[0]
        if stripped.strip().startswith("["):  # Pipfile / setup.cfg sections
            section_tests = "dev" in stripped or "test" in stripped
            continue
        match = _REQUIREMENT.match(stripped)
        if match is None:
            continue
        dialect = _package_dialect(match.group(1), match.group(2) or "")
        if dialect is not None:
            hint_tests = tests if tests is not None else (in_tests(path) or section_tests)
            found.append(_hint(dialect, DRIVER_LEVEL, f"{path} driver {match.group(1)}", path, line, hint_tests))
    return _first_per_dialect(found)


def _package_dialect(name: str, extras: str) -> str | None:
    normalized = name.lower().replace("_", "-")
    if normalized in DRIVERS:
        return DRIVERS[normalized]
    extras = extras.lower()
    return next((dialect for word, dialect in _EXTRA_HINTS if word in extras), None)


def _pyproject_hints(path: str, text: str) -> list[DialectHint]:
    try:
        document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return []
    lines = text.splitlines()
    found: list[DialectHint] = []
    for requirement, tests in _pyproject_requirements(document):
        match = _REQUIREMENT.match(requirement)
        if match is None:
            continue
        dialect = _package_dialect(match.group(1), match.group(2) or "")
        if dialect is None:
            continue
        line = next((number for number, content in enumerate(lines) if match.group(1) in content), 0)
        found.append(_hint(dialect, DRIVER_LEVEL, f"{path} dependency {match.group(1)}", path, line, tests))
    return _first_per_dialect(found)


def _pyproject_requirements(document: dict[str, object]) -> list[tuple[str, bool]]:
    """(requirement, only for tests/dev) from PEP 621, PEP 735 and Poetry tables."""
    found: list[tuple[str, bool]] = []
    project = _table(document.get("project"))
    found.extend((item, False) for item in _string_list(project.get("dependencies")))
    for group, items in _table(project.get("optional-dependencies")).items():
        found.extend((item, group.lower() in _TEST_GROUPS) for item in _string_list(items))
    for group, items in _table(document.get("dependency-groups")).items():
        found.extend((item, group.lower() in _TEST_GROUPS) for item in _string_list(items))
    poetry = _table(_table(document.get("tool")).get("poetry"))
    found.extend((name, False) for name in _table(poetry.get("dependencies")))
    found.extend((name, True) for name in _table(poetry.get("dev-dependencies")))
    for group, body in _table(poetry.get("group")).items():
        found.extend((name, group.lower() in _TEST_GROUPS) for name in _table(_table(body).get("dependencies")))
    return found


def _table(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _string_list(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _first_per_dialect(hints: list[DialectHint]) -> list[DialectHint]:
    """One hint per dialect and test-ness per file: a file saying it ten times is still one voice."""
    seen: set[tuple[str, bool]] = set()
    kept: list[DialectHint] = []
    for hint in hints:
        if (hint.dialect, hint.in_tests) not in seen:
            seen.add((hint.dialect, hint.in_tests))
            kept.append(hint)
    return kept


# --------------------------------------------------------------------------------------------- resolve


def choose(hints: list[DialectHint]) -> DialectHint | None:
    """The hint that decides the dialect (see the module docstring for the order)."""
    if not hints:
        return None
    pool = [hint for hint in hints if not hint.in_tests] or hints
    if any(hint.dialect != "sqlite" for hint in pool):
        pool = [hint for hint in pool if hint.dialect != "sqlite"]
    best = min(hint.level for hint in pool)
    top = sorted((hint for hint in pool if hint.level == best), key=lambda hint: (hint.path, hint.line))
    if best == SYNTAX_LEVEL and len({hint.dialect for hint in top}) > 1:
        return None  # types of several databases only (portable code, as MLflow's): none of them is "the" one
    votes = Counter(hint.dialect for hint in top)
    most = max(votes.values())
    return next(hint for hint in top if votes[hint.dialect] == most)


def resolve(builder: ModelBuilder) -> None:
    hints = [hint for _, hint in builder.records(DialectHint)]
    chosen = choose(hints)
    if chosen is None:
        named = sorted({hint.dialect for hint in hints if not hint.in_tests})
        if len(named) > 1:
            builder.note(f"database: not detected; hints name {', '.join(named)} (set `database` in the "
                         "configuration)")
        return
    builder.project.dialect = chosen.dialect
    builder.project.dialect_source = chosen.source
    others = sorted({hint.dialect for hint in hints if not hint.in_tests and hint.dialect != chosen.dialect
                     and hint.dialect != "sqlite"})
    if others:
        builder.note(f"database: {chosen.dialect} from {chosen.source}; other hints name {', '.join(others)}")
