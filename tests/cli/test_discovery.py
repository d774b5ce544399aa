"""Which files a check reads: .gitignore, `exclude`, folders never worth entering, symlinks and odd files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analyzers.discovery import discover
from tests.cli.conftest import write_files

UNUSED = "x = 1  # plumbline: ignore[DB003]\n"


def found(root: Path, paths: list[Path] | None = None, exclude: list[str] | None = None) -> list[str]:
    return sorted(discover(root, paths or [root], exclude or []))


def reported(cli, root: Path, *args: str) -> list[str]:
    outcome = cli("check", "--format", "json", *args, cwd=root)
    assert outcome.code in (0, 1), outcome.err
    return sorted(item["path"] for item in json.loads(outcome.out)["findings"])


def test_sources_and_configuration_files_only(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "app/models.py": "", "app/types.pyi": "", "db/001_init.sql": "", "alembic.ini": "", "pyproject.toml": "",
        "requirements-dev.txt": "", "README.md": "", "app/static/site.js": "", "app/data.json": "",
        "notes.txt": "",
    })
    assert found(tmp_path) == ["alembic.ini", "app/models.py", "app/types.pyi", "db/001_init.sql",
                               "pyproject.toml", "requirements-dev.txt"]


def test_gitignore_root_nested_and_negated(tmp_path: Path) -> None:
    write_files(tmp_path, {
        ".gitignore": "generated/\n*.tmp.py\n",
        "generated/models.py": "", "app/models.py": "", "app/x.tmp.py": "",
        "app/vendor/.gitignore": "*\n!keep.py\n",
        "app/vendor/lib.py": "", "app/vendor/keep.py": "",
    })
    assert found(tmp_path) == ["app/models.py", "app/vendor/keep.py"]


def test_folders_never_worth_entering(tmp_path: Path) -> None:
    write_files(tmp_path, {f"{folder}/m.py": "" for folder in (
        "node_modules/pkg", ".venv/lib", "venv", "__pycache__", ".git", ".plumbline_cache", ".tox",
        "build", "dist", "demo.egg-info")})
    write_files(tmp_path, {"app/m.py": ""})
    assert found(tmp_path) == ["app/m.py"]


def test_exclude_globs(tmp_path: Path) -> None:
    write_files(tmp_path, {"legacy/a.py": "", "app/a.py": "", "app/gen/b.py": "", "app/c.generated.py": ""})
    assert found(tmp_path, exclude=["legacy", "app/gen/", "*.generated.py"]) == ["app/a.py"]


def test_explicit_file_is_kept_even_when_git_ignored(make_project, cli) -> None:
    root = make_project({".gitignore": "scratch/\n", "scratch/try.py": UNUSED, "app/a.py": UNUSED})
    assert reported(cli, root) == ["app/a.py"]
    assert reported(cli, root, "scratch/try.py") == ["scratch/try.py"]


def test_explicit_file_excluded_by_configuration_is_not_checked(make_project, cli) -> None:
    root = make_project({"plumbline.toml": 'exclude = ["legacy"]\n', "legacy/a.py": UNUSED})
    assert reported(cli, root, "legacy/a.py") == []


def test_symlink_loop_and_links_out_of_the_project(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write_files(outside, {"secret.py": UNUSED})
    root = tmp_path / "project"
    write_files(root, {"app/a.py": "", "app/inner/b.py": ""})
    (root / "app" / "inner" / "loop").symlink_to(root / "app", target_is_directory=True)
    (root / "elsewhere").symlink_to(outside, target_is_directory=True)
    (root / "self").symlink_to(root, target_is_directory=True)
    assert found(root) == ["app/a.py", "app/inner/b.py"]


def test_symlinked_file_and_dangling_link(tmp_path: Path) -> None:
    write_files(tmp_path, {"shared/base.py": ""})
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "base.py").symlink_to(tmp_path / "shared" / "base.py")
    (tmp_path / "app" / "gone.py").symlink_to(tmp_path / "nowhere.py")
    assert found(tmp_path) == ["app/base.py", "shared/base.py"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_never_read(make_project) -> None:
    """Reading a FIFO called `x.py` would block forever."""
    root = make_project({"app/a.py": UNUSED})
    os.mkfifo(root / "app" / "pipe.py")
    done = subprocess.run([sys.executable, "-m", "lsp_server", "check", "--no-cache"], cwd=root,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "app/a.py" in done.stdout and "pipe.py" not in done.stdout


def test_project_root_is_found_upward_from_the_first_path(make_project, cli) -> None:
    root = make_project({"plumbline.toml": 'ignore = ["PLB001"]\n', "app/deep/er/a.py": UNUSED})
    outcome = cli("check", "app/deep/er/a.py", cwd=root)
    assert outcome.code == 0, outcome.out


def test_without_any_marker_the_folder_itself_is_the_root(tmp_path: Path, cli) -> None:
    write_files(tmp_path / "loose", {"a.py": UNUSED})
    assert reported(cli, tmp_path / "loose") == ["a.py"]
