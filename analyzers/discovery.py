"""Finding the files to analyse: under the given paths, honouring .gitignore files and `exclude` globs."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pathspec

from analyzers.config import path_matches

# Folders never worth entering.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".tox", ".nox", ".mypy_cache",
    ".ruff_cache", ".pytest_cache", ".plumbline_cache", "site-packages", ".eggs", "dist", "build",
    ".idea", ".vscode",
})
SOURCE_SUFFIXES = frozenset({".py", ".sql"})
# Configuration files that tell the stack and the database (URLs, drivers, settings).
CONFIG_NAMES = frozenset({
    "alembic.ini", "pyproject.toml", "setup.cfg", "Pipfile", "requirements.txt", "requirements.in",
    ".env.example", ".env.sample", ".env.template", ".env.dist", "env.example", "docker-compose.yml",
    "docker-compose.yaml", "compose.yml", "compose.yaml", "settings.ini", "config.ini",
})
MAX_FILE_BYTES = 2_000_000


def language_of(path: str) -> str | None:
    """The language the engine reads a file as, or None when the file is not for us."""
    name = path.rsplit("/", 1)[-1]
    suffix = os.path.splitext(name)[1].lower()
    if suffix in (".py", ".pyi"):
        return "python"
    if suffix == ".sql":
        return "sql"
    if name in CONFIG_NAMES or (name.startswith("requirements") and name.endswith(".txt")):
        return "text"
    if _is_extra_config(path, name) or _is_package_metadata(path, name):
        return "text"
    return None


def _is_package_metadata(path: str, name: str) -> bool:
    """The core metadata of an unpacked wheel or sdist at the top of the tree (`x-1.0.dist-info/METADATA`,
    `PKG-INFO`): its `Requires-Dist:` lines are the project's dependencies. Deeper ones belong to vendored
    packages."""
    parts = path.split("/")
    if name == "PKG-INFO":
        return len(parts) == 1
    return name == "METADATA" and len(parts) == 2 and parts[0].endswith(".dist-info")


def _is_extra_config(path: str, name: str) -> bool:
    """Requirement files in a `requirements/` folder (`requirements/base.txt`) and compose variants
    (`docker-compose.dev.yml`): they tell the database too."""
    if name.endswith((".txt", ".in")) and (path.startswith("requirements/") or "/requirements/" in path):
        return True
    return name.startswith(("docker-compose.", "compose.")) and name.endswith((".yml", ".yaml"))


class IgnoreRules:
    """.gitignore files (nested ones included) plus the configuration's `exclude` globs."""

    def __init__(self, root: Path, exclude: list[str]) -> None:
        self.root = root
        self.exclude = exclude
        self._specs: dict[str, pathspec.PathSpec | None] = {}

    def _spec(self, folder: str) -> pathspec.PathSpec | None:
        if folder not in self._specs:
            gitignore = self.root / folder / ".gitignore" if folder else self.root / ".gitignore"
            spec = None
            try:
                if gitignore.is_file():
                    lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
                    spec = pathspec.GitIgnoreSpec.from_lines(lines)
            except OSError:
                spec = None
            self._specs[folder] = spec
        return self._specs[folder]

    def ignored(self, relative: str, is_dir: bool) -> bool:
        if any(path_matches(relative, pattern) for pattern in self.exclude):
            return True
        parts = relative.split("/")
        for depth in range(len(parts)):
            folder = "/".join(parts[:depth])
            spec = self._spec(folder)
            if spec is None:
                continue
            below = "/".join(parts[depth:]) + ("/" if is_dir else "")
            if spec.match_file(below):
                return True
        return False


def discover(root: Path, paths: list[Path], exclude: list[str],
             on_folder: Callable[[Path], None] | None = None) -> Iterator[str]:
    """Project-relative paths of files to analyse under `paths` (files given explicitly are kept even when
    ignored, like ruff does for files named on the command line, unless excluded by config). `on_folder` is
    called with every folder entered, before it is listed: a file added to one of them would be discovered."""
    rules = IgnoreRules(root, exclude)
    seen: set[str] = set()
    for start in paths:
        start = start.resolve()
        if start.is_file():
            relative = _relative(root, start)
            if relative is not None and relative not in seen and language_of(relative) and not any(
                    path_matches(relative, pattern) for pattern in exclude):
                seen.add(relative)
                yield relative
            continue
        for relative in _walk(root, start, rules, on_folder):
            if relative not in seen:
                seen.add(relative)
                yield relative


def _relative(root: Path, path: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _walk(root: Path, start: Path, rules: IgnoreRules, on_folder: Callable[[Path], None] | None) -> Iterator[str]:
    visited: set[tuple[int, int]] = set()
    stack = [start]
    while stack:
        folder = stack.pop()
        try:
            stat = folder.stat()
        except OSError:
            continue
        key = (stat.st_dev, stat.st_ino)
        if key in visited:  # symlink loops
            continue
        visited.add(key)
        if on_folder is not None:
            on_folder(folder)
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        subfolders: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            relative = _relative(root, path)
            if relative is None:
                continue
            try:
                # Symlinked folders are not entered (as git does not): they loop, leave the project or
                # duplicate modules under a second name.
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir:
                if entry.name in SKIP_DIRS or entry.name.endswith(".egg-info"):
                    continue
                if not rules.ignored(relative, True):
                    subfolders.append(path)
            elif language_of(relative) and _is_regular_file(entry) and not rules.ignored(relative, False):
                yield relative
        stack.extend(reversed(subfolders))


def _is_regular_file(entry: os.DirEntry[str]) -> bool:
    """Regular files only: reading a FIFO or a device named `x.py` would block or never end."""
    try:
        return entry.is_file()
    except OSError:
        return False


# Files whose folder is where Python code is run from: module names are relative to the deepest of them.
SOURCE_ROOT_MARKERS = frozenset({"pyproject.toml", "setup.py", "setup.cfg", "manage.py", "alembic.ini"})


def source_roots(paths: Iterable[str]) -> tuple[str, ...]:
    """Folders (project-relative, "" for the root) that hold a marker of a Python project or app: a project
    in `backend/` imports `app.models`, not `backend.app.models`."""
    roots = {""}
    every = list(paths)
    packages = {path.rpartition("/")[0] for path in every if path.rpartition("/")[2] == "__init__.py"}
    for path in every:
        folder, _, name = path.rpartition("/")
        # A marker inside a package (Prefect's `prefect/server/database/alembic.ini`) does not start a new
        # import root: the package's modules are still imported by their full dotted name.
        if name in SOURCE_ROOT_MARKERS and folder not in packages:
            roots.add(folder)
    return tuple(sorted(roots, key=len, reverse=True))


def module_name(path: str, roots: tuple[str, ...] = ()) -> str:
    """The dotted module name of a project-relative Python path (`app/models/__init__.py` → `app.models`),
    relative to the deepest source root holding it. A leading `src/` folder is dropped, as packaging tools do.
    """
    for root in roots:
        if root and path.startswith(root + "/"):
            path = path[len(root) + 1 :]
            break
    parts = path[: -len(".py")].split("/") if path.endswith(".py") else path.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    if len(parts) > 1 and parts[0] == "src":
        parts = parts[1:]
    return ".".join(parts)
