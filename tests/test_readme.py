"""The README's generated sections (rule table, example output) match the code, and it starts with the two
commands the project promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_starts_with_the_run_and_test_commands() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = text.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.strip().splitlines() if line.strip()]
    assert commands[0].startswith("pip install -e . && plumbline check examples/shop")
    assert commands[1].startswith("pip install -e '.[dev]' && python -m pytest")


def test_readme_generated_sections_are_current() -> None:
    completed = subprocess.run([sys.executable, "scripts/update_readme.py", "--check"], cwd=REPO,
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -q -e '.[dev]' && python3 -m pytest" in ci
