"""The lowest version of each dependency the project allows, where a version changes what code means.

A library's defaults can change between versions: SQLModel 0.0.45 maps a plain `datetime` field to a
zone-aware `UTCDateTime` where earlier versions gave a naive `DateTime`. Resolvers that depend on such a change
read `project.settings["dependency.<name>"]`: the lowest version every declaration allows (`~=0.0.46`,
`>=0.0.45,<1`, `==0.0.47`, Poetry's `^0.0.46`), or nothing when no declaration bounds it from below.

Read from `pyproject.toml` (PEP 621, PEP 735 and Poetry tables), `requirements*.txt`/`.in`, `setup.cfg`,
`Pipfile`, and the core metadata of an unpacked wheel or sdist at the top of the tree (`*.dist-info/METADATA`,
`PKG-INFO`: its `Requires-Dist:` lines). Declarations in test-only files or groups count too: they bound what
the tests run against, never less than the runtime declaration.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from analyzers.facts import SourceFile
from analyzers.resolve import ModelBuilder

# Only the packages some resolver asks about: the settings stay small.
WATCHED = frozenset({"sqlmodel"})


@dataclass(frozen=True, slots=True)
class DependencyFloor:
    package: str  # normalized: lower case, "-" for "_" and "."
    version: tuple[int, ...]
    path: str


_NAME = re.compile(r"""^\s*["']?([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$""")
# The clauses that bound a version from below; `<`, `<=` and `!=` do not.
_FLOOR = re.compile(r"(~=|===|==|>=|>|\^|~)\s*v?([0-9]+(?:\.[0-9]+)*)")


def extract(source: SourceFile) -> list[DependencyFloor]:
    if source.language != "text":
        return []
    name = source.name.lower()
    text = source.text()
    if name == "pyproject.toml":
        return _floors(source.path, _pyproject_requirements(text))
    if name == "metadata" or name == "pkg-info":
        return _floors(source.path, [line.split(":", 1)[1] for line in text.splitlines()
                                     if line.lower().startswith("requires-dist:")])
    if name in ("setup.cfg", "pipfile") or name.startswith("requirements") or "/requirements/" in source.path:
        return _floors(source.path, [line.split("#", 1)[0] for line in text.splitlines()])
    return []


def normalized(package: str) -> str:
    return re.sub(r"[-_.]+", "-", package).lower()


def version_floor(specifier: str) -> tuple[int, ...] | None:
    """The lowest version a specifier allows (`~=0.0.46` → (0, 0, 46)), or None when nothing bounds it."""
    specifier = specifier.split(";", 1)[0]  # environment markers
    floors = [tuple(int(part) for part in match.group(2).split(".")) for match in _FLOOR.finditer(specifier)]
    return max(floors) if floors else None


def _floors(path: str, requirements: list[str]) -> list[DependencyFloor]:
    found: list[DependencyFloor] = []
    for requirement in requirements:
        match = _NAME.match(requirement)
        if match is None or normalized(match.group(1)) not in WATCHED:
            continue
        floor = version_floor(match.group(2))
        if floor is not None:
            found.append(DependencyFloor(normalized(match.group(1)), floor, path))
    return found


def _pyproject_requirements(text: str) -> list[str]:
    """PEP 508 strings from PEP 621 and PEP 735 tables; Poetry's `name = "^1.2"` / `{version = ...}` tables
    as "name ^1.2"."""
    try:
        document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return []
    project = _table(document.get("project"))
    found = _strings(project.get("dependencies"))
    for items in _table(project.get("optional-dependencies")).values():
        found += _strings(items)
    for items in _table(document.get("dependency-groups")).values():
        found += _strings(items)
    poetry = _table(_table(document.get("tool")).get("poetry"))
    tables = [_table(poetry.get("dependencies")), _table(poetry.get("dev-dependencies"))]
    tables += [_table(_table(body).get("dependencies")) for body in _table(poetry.get("group")).values()]
    for table in tables:
        for package, spec in table.items():
            version = spec if isinstance(spec, str) else _table(spec).get("version")
            if isinstance(version, str):
                found.append(f"{package} {version}")
    return found


def _table(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def resolve(builder: ModelBuilder) -> None:
    """The highest floor any declaration sets: every one of them must hold, so the strictest decides."""
    floors: dict[str, tuple[int, ...]] = {}
    for _, floor in builder.records(DependencyFloor):
        floors[floor.package] = max(floors.get(floor.package, ()), floor.version)
    for package, version in floors.items():
        builder.project.settings[f"dependency.{package}"] = ".".join(str(part) for part in version)
