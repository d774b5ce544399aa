"""`plumbline fix --agent PATH:LINE[:CODE] [--write]` and `plumbline implement "DESCRIPTION" [--write]`.

The same job as in the editor: it prints the verified change as a unified diff (progress and usage go to
stderr); `--write` writes it, unless a file changed on disk while the agent worked. Exit status: 0 a verified
change (printed or written), 2 no change (the agent's or the API's error, or a usage mistake, on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path

from analyzers.engine import Workspace
from analyzers.model import Finding
from lsp_server.agent.deliver import unified_diff
from lsp_server.agent.job import Job, JobResult, run_job
from lsp_server.agent.loop import AgentError, AgentSettings
from lsp_server.agent.overlay import Change, Overlay, content_digest
from lsp_server.agent.policy import Policy
from lsp_server.agent.verify import EngineSnapshot

EXIT_DONE = 0
EXIT_ERROR = 2
_CODE = re.compile(r"^[A-Za-z]+[0-9]+$")


def run_fix(args: argparse.Namespace) -> int:
    from lsp_server.cli import UserError

    path_text, line, code = parse_target(args.agent)
    path = Path(path_text)
    if not path.is_file():
        raise UserError(f"{path_text}: no such file")
    root, workspace = _scan(path)
    relative = workspace.relative(path)
    if relative is None:
        raise UserError(f"{path_text} is outside the project root {root}")
    finding = pick_finding(workspace.check().findings.get(relative, []), relative, line, code)
    settings = _settings()
    job = Job(EngineSnapshot.of(workspace), Overlay(Policy(root)), settings, finding=finding, progress=_progress)
    _progress(f"fixing {finding.fingerprint} with {settings.model}")
    return _finish(job, root, args.write)


def run_implement(args: argparse.Namespace) -> int:
    from lsp_server.cli import UserError

    description = (args.description or "").strip()
    if not description:
        raise UserError("describe the endpoint, e.g. plumbline implement \"GET /v1/orders: list a customer's orders\"")
    root, workspace = _scan(Path.cwd())
    settings = _settings()
    job = Job(EngineSnapshot.of(workspace), Overlay(Policy(root)), settings, description=description,
              progress=_progress)
    _progress(f"implementing with {settings.model}")
    return _finish(job, root, args.write)


def parse_target(text: str) -> tuple[str, int, str | None]:
    """`app/models.py:12` or `app/models.py:12:DB003` → (path, 1-based line, code or None)."""
    from lsp_server.cli import UserError

    parts = text.rsplit(":", 2)
    code = None
    if len(parts) == 3 and _CODE.match(parts[2]):
        code = parts[2].upper()
        parts = parts[:2]
    elif len(parts) == 3:
        parts = [f"{parts[0]}:{parts[1]}", parts[2]]  # a path with a colon in it (C:\\...)
    if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) < 1:
        raise UserError(f"--agent: expected PATH:LINE[:CODE] (e.g. app/models.py:12:DB003), got {text!r}")
    return parts[0], int(parts[1]), code


def pick_finding(findings: list[Finding], relative: str, line: int, code: str | None) -> Finding:
    from lsp_server.cli import UserError

    here = [finding for finding in findings
            if finding.location.span.start.line + 1 <= line <= finding.location.span.end.line + 1
            and (code is None or finding.code == code)]
    if not here:
        listed = ", ".join(f"{f.code} at line {f.location.line + 1}" for f in findings) or "none"
        wanted = f" {code}" if code else ""
        raise UserError(f"no{wanted} finding at {relative}:{line} (findings in this file: {listed})")
    codes = sorted({finding.code for finding in here})
    if len(codes) > 1:
        raise UserError(f"several findings at {relative}:{line} ({', '.join(codes)}): add the code, "
                        f"e.g. {relative}:{line}:{codes[0]}")
    return here[0]


def _scan(start: Path) -> tuple[Path, Workspace]:
    from analyzers.config import ConfigError, find_root, load_config
    from lsp_server.cli import UserError

    root = find_root(start)
    try:
        config = load_config(root)
    except ConfigError as error:
        raise UserError(str(error)) from None
    _progress(f"reading the project at {root}")
    workspace = Workspace(root, config, use_cache=True)
    workspace.scan()
    return root, workspace


def _settings() -> AgentSettings:
    """The model from PLUMBLINE_MODEL (the terminal's user-level setting), credentials from the environment."""
    return AgentSettings.from_environment()


def _finish(job: Job, root: Path, write: bool) -> int:
    try:
        result = asyncio.run(run_job(job))
    except AgentError as error:
        spent = f" ({error.usage.summary()})" if error.usage is not None and error.usage.requests else ""
        print(f"plumbline: agent: {error.message}{spent}", file=sys.stderr)
        return EXIT_ERROR
    _report(result)
    if not write:
        sys.stdout.write(unified_diff(result.changes))
        sys.stdout.flush()
        return EXIT_DONE
    conflicts = [change.path for change in result.changes if _disk_changed(root, change)]
    if conflicts:
        print(f"plumbline: agent: {', '.join(conflicts)} changed on disk while the agent worked; nothing was "
              "written. Run it again.", file=sys.stderr)
        return EXIT_ERROR
    for change in result.changes:
        target = root / change.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(change.after.encode("utf-8"))
    print(f"plumbline: agent: wrote {', '.join(change.path for change in result.changes)}", file=sys.stderr)
    return EXIT_DONE


def _disk_changed(root: Path, change: Change) -> bool:
    path = root / change.path
    if change.before is None:
        return path.exists()
    try:
        current = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return True
    return content_digest(current) != change.snapshot.digest


def _report(result: JobResult) -> None:
    repaired = f" after {result.repair_rounds} repair round(s)" if result.repair_rounds else ""
    print(f"plumbline: agent: verified{repaired}; {result.usage_line()}", file=sys.stderr)
    if result.summary:
        print(f"plumbline: agent: {result.summary}", file=sys.stderr)


def _progress(message: str) -> None:
    print(f"plumbline: agent: {message}", file=sys.stderr, flush=True)
