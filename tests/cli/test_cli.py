"""The `plumbline` command: subcommands, exit status, path handling and error messages."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from analyzers.rules import all_rules
from lsp_server import __version__
from lsp_server.cli import EXIT_ERROR, PROGRESS_DELAY, Progress, UserError, _run_guarded, main
from tests.cli.conftest import ORDERS_FK_LINE, ORDERS_MODEL

UNUSED = "x = 1  # plumbline: ignore[DB003] kept for the demo\n"


def test_clean_project_passes(make_project, cli) -> None:
    root = make_project({"app/main.py": "print('hello')\n"})
    outcome = cli("check", cwd=root)
    assert outcome.code == 0
    assert outcome.out.strip().endswith("All checks passed.")
    assert outcome.err == ""


def test_findings_exit_one_and_text_shape(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED})
    outcome = cli("check", cwd=root)
    assert outcome.code == 1
    lines = outcome.out.splitlines()
    assert lines[0] == "app/a.py (1 finding)"
    assert lines[1].startswith("app/a.py:1:8 PLB001 unused-suppression ")
    assert lines[-1] == "Found 1 finding in 1 file."


def test_path_defaults_to_current_folder_and_paths_are_relative_to_it(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED, "app/sub/b.py": UNUSED})
    outcome = cli("check", "--format", "json", cwd=root / "app")
    paths = sorted(finding["path"] for finding in json.loads(outcome.out)["findings"])
    assert paths == ["a.py", "sub/b.py"]


def test_only_findings_under_the_given_paths_are_reported(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED, "app/sub/b.py": UNUSED, "lib/c.py": UNUSED})
    one_file = json.loads(cli("check", "--format", "json", "app/a.py", cwd=root).out)
    assert [finding["path"] for finding in one_file["findings"]] == ["app/a.py"]
    folder = json.loads(cli("check", "--format", "json", "app/sub", cwd=root).out)
    assert [finding["path"] for finding in folder["findings"]] == ["app/sub/b.py"]
    both = json.loads(cli("check", "--format", "json", "lib", "app/sub/b.py", cwd=root).out)
    assert sorted(finding["path"] for finding in both["findings"]) == ["app/sub/b.py", "lib/c.py"]


def test_outside_cwd_paths_use_dot_dot(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED, "docs/readme.txt": "hi\n"})
    outcome = cli("check", "--format", "json", "../app", cwd=root / "docs")
    assert [finding["path"] for finding in json.loads(outcome.out)["findings"]] == ["../app/a.py"]


def test_cross_file_facts_come_from_the_whole_root(make_project, cli) -> None:
    """Checking one file still resolves its mixin in another module (no false DB001)."""
    root = make_project({
        "app/base.py": (
            "from sqlalchemy import Column, DateTime\n"
            "from sqlalchemy.orm import declarative_base\n\n"
            "Base = declarative_base()\n\n\n"
            "class Timestamps:\n"
            "    created_at = Column(DateTime)\n"
            "    updated_at = Column(DateTime)\n"
        ),
        "app/models.py": (
            "from sqlalchemy import Column, Integer\n\n"
            "from app.base import Base, Timestamps\n\n\n"
            "class Thing(Timestamps, Base):\n"
            "    __tablename__ = \"things\"\n"
            "    id = Column(Integer, primary_key=True)\n"
        ),
        "app/__init__.py": "",
    })
    outcome = cli("check", "--select", "DB001", "app/models.py", cwd=root)
    assert outcome.code == 0, outcome.out


def test_findings_of_a_real_rule(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL})
    outcome = cli("check", "--select", "DB003", "--format", "json", cwd=root)
    assert outcome.code == 1, outcome.err
    findings = json.loads(outcome.out)["findings"]
    assert [(item["code"], item["path"], item["start"]["line"]) for item in findings] == [
        ("DB003", "app/models.py", ORDERS_FK_LINE)]
    assert findings[0]["fingerprint"] == "DB003:orders.customer_id"


def test_missing_path_is_a_usage_error(make_project, cli) -> None:
    root = make_project({})
    outcome = cli("check", "nowhere/", cwd=root)
    assert outcome.code == 2
    assert "nowhere: no such file or directory" in outcome.err
    assert "Traceback" not in outcome.err
    assert outcome.out == ""


def test_broken_symlink_path_is_a_usage_error(make_project, cli) -> None:
    root = make_project({})
    (root / "dangling").symlink_to(root / "gone")
    outcome = cli("check", "dangling", cwd=root)
    assert outcome.code == 2
    assert "broken symbolic link" in outcome.err


def test_path_outside_the_root_is_skipped_with_a_warning(make_project, cli, tmp_path: Path) -> None:
    root = make_project({"app/a.py": UNUSED})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    outcome = cli("check", ".", str(elsewhere), cwd=root)
    assert outcome.code == 1
    assert "outside the project root" in outcome.err


def test_folder_without_sources_warns_and_passes(make_project, cli) -> None:
    root = make_project({"docs/readme.md": "# hello\n"})
    outcome = cli("check", "docs", cwd=root)
    assert outcome.code == 0
    assert "no files to check" in outcome.err


@pytest.mark.parametrize("args", [
    ["check", "--format", "xml"],
    ["check", "--bogus"],
    ["frobnicate"],
    ["fix"],
    ["rule"],
])
def test_usage_errors_exit_two(args: list[str], cli, make_project) -> None:
    outcome = cli(*args, cwd=make_project({}))
    assert outcome.code == 2
    assert "usage:" in outcome.err


def test_no_command_prints_help_and_exits_two(cli) -> None:
    outcome = cli()
    assert outcome.code == 2
    assert "check" in outcome.err and "rules" in outcome.err


def test_version(cli) -> None:
    outcome = cli("--version")
    assert outcome.code == 0
    assert outcome.out.strip() == f"plumbline {__version__}"


def test_unknown_select_code_is_a_usage_error_with_suggestions(make_project, cli) -> None:
    outcome = cli("check", "--select", "DB03", cwd=make_project({}))
    assert outcome.code == 2
    assert "--select: unknown rule code 'DB03'" in outcome.err
    assert "DB003" in outcome.err


def test_select_and_ignore_accept_lowercase_prefixes_and_all(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED})
    assert cli("check", "--select", "plb,db003", cwd=root).code == 1
    assert cli("check", "--select", "plb", cwd=root).code == 0  # DB003 did not run: its suppression may be needed
    assert cli("check", "--select", "ALL", "--ignore", "plb001", cwd=root).code == 0
    assert cli("check", "--select", "DB,API", cwd=root).code == 0


# --------------------------------------------------------------------------------------------- rules


def test_rules_text_lists_every_rule(cli) -> None:
    outcome = cli("rules")
    assert outcome.code == 0
    header, *rows = outcome.out.splitlines()
    assert header.split()[:6] == ["CODE", "NAME", "CATEGORY", "SEVERITY", "FIXABLE", "SUMMARY"]
    assert [row.split()[0] for row in rows] == list(all_rules())
    assert any(row.split()[:2] == ["PLB001", "unused-suppression"] for row in rows)


def test_rules_json(cli) -> None:
    outcome = cli("rules", "--format", "json")
    listed = json.loads(outcome.out)
    assert [item["code"] for item in listed] == list(all_rules())
    for item in listed:
        assert {"code", "name", "category", "severity", "fixable", "summary"} <= set(item)
        assert item["severity"] in ("error", "warning", "info", "hint")
        assert isinstance(item["fixable"], bool)
        assert item["summary"]


@pytest.mark.parametrize("query", ["DB003", "db003", "foreign-key-without-index"])
def test_rule_prints_its_documentation(cli, query: str) -> None:
    outcome = cli("rule", query)
    assert outcome.code == 0
    assert outcome.out.startswith("DB003 foreign-key-without-index")
    assert "## What it does" in outcome.out and "## Use instead" in outcome.out


def test_every_rule_has_documentation_in_the_fixed_shape(cli) -> None:
    for code in all_rules():
        text = cli("rule", code).out
        for heading in ("## What it does", "## Why it matters", "## Example", "## Use instead", "## Options"):
            assert heading in text, f"{code} lacks {heading}"


def test_unknown_rule_lists_close_matches(cli) -> None:
    outcome = cli("rule", "DB03")
    assert outcome.code == 2
    assert "unknown rule 'DB03'" in outcome.err
    assert "DB003" in outcome.err
    outcome = cli("rule", "foreign-key-without-indexes")
    assert outcome.code == 2 and "DB003" in outcome.err


# --------------------------------------------------------------------------------------------- serve, agent


@pytest.mark.skipif(importlib.util.find_spec("lsp_server.server") is not None,
                    reason="the language server is part of this build")
def test_serve_without_server_module(cli) -> None:
    outcome = cli("serve", "--stdio")
    assert outcome.code == 2
    assert "language server is not available" in outcome.err


def _agent_present() -> bool:
    try:
        return importlib.util.find_spec("lsp_server.agent.cli") is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.skipif(_agent_present(), reason="the agent is part of this build")
@pytest.mark.parametrize("args", [["fix", "--agent", "app/models.py:12:DB003"],
                                  ["implement", "list orders", "--write"]])
def test_agent_commands_without_agent(cli, args: list[str]) -> None:
    outcome = cli(*args)
    assert outcome.code == 2
    assert "the agent is not available in this build" in outcome.err


# --------------------------------------------------------------------------------------------- errors


def test_internal_error_is_one_line_asking_for_a_report(capsys) -> None:
    def broken(_args) -> int:
        raise RuntimeError("boom")

    assert _run_guarded(broken, None) == EXIT_ERROR  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "internal error: RuntimeError: boom" in err and "please report" in err


def test_internal_error_traceback_with_debug(capsys, monkeypatch) -> None:
    monkeypatch.setenv("PLUMBLINE_DEBUG", "1")

    def broken(_args) -> int:
        raise RuntimeError("boom")

    _run_guarded(broken, None)  # type: ignore[arg-type]
    assert "Traceback" in capsys.readouterr().err


def test_user_error_has_no_traceback(capsys, monkeypatch) -> None:
    monkeypatch.setenv("PLUMBLINE_DEBUG", "1")

    def mistaken(_args) -> int:
        raise UserError("that file is not there")

    assert _run_guarded(mistaken, None) == EXIT_ERROR  # type: ignore[arg-type]
    assert capsys.readouterr().err == "plumbline: error: that file is not there\n"


# --------------------------------------------------------------------------------------------- colour


def test_colour_only_when_forced_or_on_a_terminal(make_project, cli, monkeypatch) -> None:
    root = make_project({"app/a.py": UNUSED})
    assert "\x1b[" not in cli("check", cwd=root).out  # captured output is not a terminal
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" in cli("check", cwd=root).out
    monkeypatch.setenv("FORCE_COLOR", "0")
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in cli("check", cwd=root).out


def test_machine_formats_never_have_colour(make_project, cli, monkeypatch) -> None:
    root = make_project({"app/a.py": UNUSED})
    monkeypatch.setenv("FORCE_COLOR", "1")
    for output_format in ("json", "sarif", "github"):
        assert "\x1b[" not in cli("check", "--format", output_format, cwd=root).out


# --------------------------------------------------------------------------------------------- as a process


def test_module_entry_point_runs_as_a_process(make_project) -> None:
    root = make_project({"app/a.py": UNUSED})
    done = subprocess.run([sys.executable, "-m", "lsp_server", "check", "--format", "json"], cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["findings"][0]["code"] == "PLB001"


def test_cli_module_imports_no_engine_or_parser() -> None:
    """`plumbline --help` and `plumbline rules` must start quickly: heavy modules load on demand."""
    code = ("import sys, lsp_server.cli; "
            "print(sorted(m for m in ('tree_sitter', 'analyzers.engine', 'pygls', 'anthropic') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_closed_stdout_pipe_does_not_crash(make_project) -> None:
    root = make_project({f"app/m{index}.py": UNUSED for index in range(200)})
    done = subprocess.run(f"{sys.executable} -m lsp_server check | head -1", shell=True, cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("app/m")


def test_main_returns_instead_of_exiting() -> None:
    assert main(["--version"]) == 0


@pytest.mark.skipif(not _agent_present(), reason="the agent is not part of this build")
def test_agent_commands_reach_the_agent(make_project, cli) -> None:
    """The subcommands hand over to lsp_server.agent.cli; a user mistake there is still a clean exit 2."""
    root = make_project({})
    outcome = cli("fix", "--agent", "nowhere.py:3:DB003", cwd=root)
    assert outcome.code == 2 and "nowhere.py" in outcome.err and "Traceback" not in outcome.err


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_only_after_a_while() -> None:
    terminal = TerminalStream()
    progress = Progress(terminal)
    progress(5, 10)
    assert terminal.getvalue() == ""  # quick scans stay quiet
    progress.started -= 2 * PROGRESS_DELAY
    progress(6, 10)
    progress.finish()
    assert terminal.getvalue() == "\rplumbline: checking 6/10 files\r\x1b[K"
    pipe = io.StringIO()
    quiet = Progress(pipe)
    quiet.started -= 2 * PROGRESS_DELAY
    quiet(6, 10)
    quiet.finish()
    assert pipe.getvalue() == ""
