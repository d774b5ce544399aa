"""Plumbline in real editors, headless: Neovim (built-in LSP client) and Emacs (eglot).

Each editor opens a model file of a copy of tests/lsp/projects/shop, sees Plumbline's DB003 diagnostic, applies its
quick fix and sees it clear, then removes `created_at` from the mixin and sees DB001 published for model files that
are not open. The editors come from Debian (`apt-get install neovim emacs-nox elpa-eglot`, which .ci/run does);
without them these tests skip, except in CI (CI=true), where a missing editor is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
PROJECT = HERE.parent / "lsp" / "projects" / "shop"
REPOSITORY = HERE.parent.parent
TIMEOUT = 120

pytestmark = pytest.mark.e2e


def _editor(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed (apt-get install neovim emacs-nox elpa-eglot)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run the editor tests")
        pytest.skip(message)
    return found


def _eglot_installed() -> bool:
    return any(Path("/usr/share/emacs/site-lisp/elpa").glob("eglot-*")) or bool(
        list(Path.home().glob(".emacs.d/elpa/eglot-*")))


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(PROJECT, root)
    return root


def _environment(root: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["PLUMBLINE_PYTHON"] = sys.executable
    environment["PLUMBLINE_ROOT"] = str(root)
    # The server is started as `python -m lsp_server`: make this checkout importable whatever the current folder.
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), environment.get("PYTHONPATH")]))
    return environment


def _run(command: list[str], root: Path) -> str:
    completed = subprocess.run(command, cwd=root, env=_environment(root), capture_output=True, text=True,
                               timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0 and "RESULT PASS" in output, output
    return output


def test_neovim_shows_fixes_and_updates_unopened_files(tmp_path: Path) -> None:
    nvim = _editor("nvim")
    root = _project(tmp_path)
    output = _run([nvim, "--headless", "--clean", "-n", str(root / "app/models/orders.py"),
                   "-c", f"luafile {HERE / 'nvim' / 'plumbline_test.lua'}"], root)
    assert "index=True" in output and "CLEARED DB003" in output and "DB001 products.py loaded=false" in output


def test_emacs_eglot_shows_fixes_and_updates_unopened_files(tmp_path: Path) -> None:
    emacs = _editor("emacs")
    if not _eglot_installed():
        message = "eglot is not installed (apt-get install elpa-eglot)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = _project(tmp_path)
    output = _run([emacs, "-Q", "--batch", "-l", str(HERE / "emacs" / "plumbline-test.el"),
                   str(root / "app/models/orders.py")], root)
    assert "CLEARED DB003" in output and "DB001 products.py visited=no" in output
