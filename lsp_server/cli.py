"""The `plumbline` command: check, rules, rule, serve (and the agent's fix / implement).

Exit status: 0 no findings, 1 findings, 2 usage, configuration or internal error. User mistakes get one clear
line on stderr, never a traceback; an internal error gets one line asking for a report (`PLUMBLINE_DEBUG=1`
shows the traceback). Heavy modules (the engine, tree-sitter, the server, the agent) are imported inside the
subcommand that needs them, so `plumbline --help` and `plumbline rules` start quickly.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from lsp_server import HOMEPAGE, __version__, replay
from lsp_server.replay import use_colour

if TYPE_CHECKING:
    from analyzers.config import Config
    from analyzers.model import Finding
    from analyzers.rules import Rule
    from lsp_server.reporters import Report

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
FORMATS = ("text", "json", "sarif", "github")
# Bump when `Checked` changes shape: stored results of another shape are then never reused.
RESULT_FORMAT = 1
# Progress appears only when a scan takes longer than this (seconds), so quick runs stay quiet.
PROGRESS_DELAY = 1.0


class UserError(Exception):
    """A mistake the user can fix (a missing path, an unknown code, a bad configuration): exit 2, no traceback."""


# --------------------------------------------------------------------------------------------- arguments


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plumbline",
        description="Holds a backend codebase to the guidelines a senior backend engineer works by.",
        epilog=f"Documentation and bug reports: {HOMEPAGE}",
    )
    parser.add_argument("--version", action="version", version=f"plumbline {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="check files and report findings",
                                description="Check the backend under PATH (default: the current folder).")
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to report on (default: .)")
    check.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    check.add_argument("--select", metavar="CODES",
                       help="comma-separated codes or prefixes to run, replacing the configuration's selection")
    check.add_argument("--ignore", metavar="CODES", help="comma-separated codes or prefixes not to run")
    check.add_argument("--config", metavar="FILE",
                       help="use this configuration file (pyproject.toml or plumbline.toml)")
    check.add_argument("--no-cache", action="store_true", help="do not read or write the facts cache")
    check.set_defaults(handler=run_check)

    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    rules.set_defaults(handler=run_rules)

    rule = commands.add_parser("rule", help="show a rule's documentation")
    rule.add_argument("code", metavar="CODE", help="a rule code (DB003) or name (foreign-key-without-index)")
    rule.set_defaults(handler=run_rule)

    serve = commands.add_parser("serve", help="run the language server")
    serve.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    serve.set_defaults(handler=run_serve)

    fix = commands.add_parser("fix", help="fix a finding with the agent")
    fix.add_argument("--agent", required=True, metavar="PATH:LINE[:CODE]", help="the finding to fix")
    fix.add_argument("--write", action="store_true", help="write the change instead of printing a diff")
    fix.set_defaults(handler=run_agent, agent_entry="run_fix")

    implement = commands.add_parser("implement", help="implement an endpoint with the agent")
    implement.add_argument("description", metavar="DESCRIPTION", help="what the endpoint should do")
    implement.add_argument("--write", action="store_true", help="write the change instead of printing a diff")
    implement.set_defaults(handler=run_agent, agent_entry="run_implement")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    raw = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(raw)
    except SystemExit as exit_:  # argparse: --help/--version (0) or a usage error (2, message already shown)
        return exit_.code if isinstance(exit_.code, int) else EXIT_ERROR
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    args.command_line = raw  # the key under which `check` keeps its output for a replay
    return _run_guarded(args.handler, args)


def _run_guarded(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return handler(args)
    except UserError as error:
        _error(str(error))
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("plumbline: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        replay.silence_stdout()
        return EXIT_ERROR
    except Exception as error:  # a bug of ours: one line, a request to report it, the traceback on demand
        if os.environ.get("PLUMBLINE_DEBUG"):
            traceback.print_exc()
        print(f"plumbline: internal error: {type(error).__name__}: {error} (please report this at "
              f"{HOMEPAGE}/issues; PLUMBLINE_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_ERROR


def _error(message: str) -> None:
    print(f"plumbline: error: {message}", file=sys.stderr)


def _write(text: str) -> None:
    replay.write_text(sys.stdout, text)


def parse_codes(option: str, value: str | None, known: dict[str, Rule]) -> list[str]:
    """`DB003,API` → ["DB003", "API"]; unknown codes are a usage error naming the option."""
    if value is None:
        return []
    codes = [code.strip().upper() for code in value.split(",") if code.strip()]
    for code in codes:
        if code != "ALL" and not any(known_code.startswith(code) for known_code in known):
            raise UserError(f"{option}: unknown rule code {code!r}{_suggestion(code, known)}")
    return codes


def _suggestion(code: str, known: dict[str, Rule]) -> str:
    names = {rule.name: rule.code for rule in known.values()}
    close = difflib.get_close_matches(code, list(known), n=3, cutoff=0.5)
    close += [names[name] for name in difflib.get_close_matches(code.lower(), list(names), n=3, cutoff=0.6)]
    unique = list(dict.fromkeys(close))
    return f" (did you mean {', '.join(unique)}?)" if unique else ""


def apply_overrides(config: Config, select: list[str], ignore: list[str]) -> None:
    """Command-line selection, like ruff: `--select` starts afresh (the configuration's select, extend-select
    and ignore no longer apply); `--ignore` removes codes from whatever is selected."""
    if select:
        config.select = list(select)
        config.extend_select = []
        config.ignore = []
    if ignore:
        config.ignore = [*config.ignore, *ignore]


def _existing_paths(raw: list[str]) -> list[Path]:
    paths = [Path(value) for value in (raw or ["."])]
    for path in paths:
        if not os.path.lexists(path):
            raise UserError(f"{path}: no such file or directory")
        if not path.exists():
            raise UserError(f"{path}: broken symbolic link")
    return paths


class ReportFilter:
    """Findings are reported only for files under the paths named on the command line, although the whole
    project is scanned (so cross-file facts are complete)."""

    def __init__(self, root: Path, paths: list[Path]) -> None:
        self.everything = False
        self.files: set[str] = set()
        self.folders: list[str] = []
        self.outside: list[Path] = []
        for path in paths:
            resolved = path.resolve()
            try:
                relative = resolved.relative_to(root).as_posix()
            except ValueError:
                self.outside.append(path)
                continue
            if relative == ".":
                self.everything = True
            elif resolved.is_dir():
                self.folders.append(relative + "/")
            else:
                self.files.add(relative)

    def covers(self, relative: str) -> bool:
        return self.everything or relative in self.files or relative.startswith(tuple(self.folders))


class Progress:
    """`checking 120/1200 files` on stderr, only on a terminal and only once a scan has run for a while."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = _is_tty(stream)
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.started < PROGRESS_DELAY:
            return
        self.stream.write(f"\rplumbline: checking {done}/{total} files")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def load_checked_config(root: Path, config_file: str | None, select: str | None, ignore: str | None) -> Config:
    from analyzers.config import ConfigError, load_config
    from analyzers.rules import all_rules

    known = all_rules()
    try:
        config = load_config(root, Path(config_file) if config_file else None)
    except ConfigError as error:
        raise UserError(str(error)) from None
    apply_overrides(config, parse_codes("--select", select, known), parse_codes("--ignore", ignore, known))
    return config


@dataclass(slots=True)
class Checked:
    """What a check found in the whole project, before it is narrowed to the paths asked about."""

    findings: list[Finding]
    notes: dict[str, list[str]]
    failures: list[str]
    files: list[str]


def check_project(root: Path, paths: list[Path], config: Config, use_cache: bool,
                  manifest: replay.ManifestBuilder | None = None) -> Checked:
    """Scan the whole root (so cross-file facts are complete) plus files named explicitly (kept even when
    git-ignored, like ruff), and check it; an unchanged project reuses its last result. `manifest` gets the
    signature of every file and folder read, before it is read."""
    scan_paths = [root, *(path for path in paths if path.is_file())]
    if not use_cache:
        return _run_engine(root, scan_paths, config, use_cache=False)
    from analyzers.cache import ResultCache

    results = ResultCache(root)
    key = snapshot_key(root, scan_paths, config, manifest)
    stored = results.get(key)
    if isinstance(stored, Checked):
        return stored
    checked = _run_engine(root, scan_paths, config, use_cache=True)
    results.put(key, checked)
    return checked


def _run_engine(root: Path, scan_paths: list[Path], config: Config, use_cache: bool) -> Checked:
    from analyzers.engine import Workspace

    workspace = Workspace(root, config, use_cache=use_cache)
    progress = Progress(sys.stderr)
    try:
        workspace.scan(scan_paths, progress=progress)
    finally:
        progress.finish()
    from analyzers.cache import gc_paused

    with gc_paused():  # the model is built once and the process ends soon: collecting on the way only costs
        result = workspace.check()
    return Checked(result.all_findings(), result.notes, list(dict.fromkeys(result.failures)), list(workspace.files))


def snapshot_key(root: Path, scan_paths: list[Path], config: Config,
                 manifest: replay.ManifestBuilder | None = None) -> str:
    """A hash of everything a check result depends on: the engine's code, the configuration, and the path and
    content of every file the scan reads."""
    from analyzers.cache import engine_key
    from analyzers.discovery import discover

    def on_folder(folder: Path) -> None:
        if manifest is not None:
            manifest.add(str(folder))
            manifest.add(str(folder / ".gitignore"))

    digest = hashlib.blake2b(digest_size=16)
    for part in (__version__, str(RESULT_FORMAT), engine_key(), config_fingerprint(config)):
        digest.update(part.encode() + b"\0")
    for relative in discover(root, scan_paths, config.exclude, on_folder):
        if manifest is not None:
            manifest.add(str(root / relative))
        digest.update(relative.encode() + b"\0" + _file_state(root / relative) + b"\0")
    return digest.hexdigest()


def _file_state(path: Path) -> bytes:
    from analyzers.discovery import MAX_FILE_BYTES

    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return f"large:{size}".encode()
        return hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
    except OSError as error:
        return f"unreadable:{error.errno}".encode()


def config_fingerprint(config: Config) -> str:
    return json.dumps({
        "select": config.select,
        "extend_select": config.extend_select,
        "ignore": config.ignore,
        "per_file_ignores": config.per_file_ignores,
        "exclude": config.exclude,
        "database": config.database,
        "rules": {code: options.model_dump(mode="json") for code, options in config.rule_options.items()},
    }, sort_keys=True, default=str)


def build_report(root: Path, checked: Checked, selection: ReportFilter) -> Report:
    from analyzers.rules import all_rules
    from lsp_server.reporters import Report

    return Report(
        findings=[finding for finding in checked.findings if selection.covers(finding.location.path)],
        root=root,
        cwd=Path.cwd(),
        rules=all_rules(),
        notes={path: notes for path, notes in checked.notes.items() if selection.covers(path)},
        failures=checked.failures,
        files_checked=sum(1 for path in checked.files if selection.covers(path)),
    )


def render(report: Report, output_format: str) -> str:
    from lsp_server import reporters

    if output_format == "json":
        return reporters.render_json(report)
    if output_format == "sarif":
        return reporters.render_sarif(report)
    if output_format == "github":
        return reporters.render_github(report)
    return reporters.render_text(report, reporters.Style(use_colour(sys.stdout)))


def run_check(args: argparse.Namespace) -> int:
    from analyzers.config import find_root

    paths = _existing_paths(args.paths)
    root = find_root(paths[0])
    manifest = None if args.no_cache else _start_manifest(root, paths, args.config)
    config = load_checked_config(root, args.config, args.select, args.ignore)
    selection = ReportFilter(root, paths)
    warnings: list[str] = []  # kept with the output: a replay prints them too
    for outside in selection.outside:
        warnings.append(_warn(f"{outside} is outside the project root {root}; skipped"))
    checked = check_project(root, paths, config, not args.no_cache, manifest)
    report = build_report(root, checked, selection)
    for failure in report.failures:
        warnings.append(_warn(failure))
    if report.files_checked == 0:
        warnings.append(_warn("no files to check under the given paths (Python and SQL sources, configuration "
                              "files)"))
    output = render(report, args.format)
    _write(output)
    status = EXIT_FINDINGS if report.findings else EXIT_CLEAN
    command_line = getattr(args, "command_line", None)
    if manifest is not None and command_line is not None:
        replay.record(str(root), command_line, manifest.manifest(), output, "".join(warnings), status)
    return status


def _start_manifest(root: Path, paths: list[Path], config_file: str | None) -> replay.ManifestBuilder:
    """Note what the result depends on before it is read (the files scanned are noted as they are found), so
    that the next identical command can replay this one's output."""
    from analyzers.cache import CACHE_DIR, prepare_folder

    # Created first: creating it later in the run would change the root folder's signature at once.
    with contextlib.suppress(OSError):
        prepare_folder(root / CACHE_DIR)
    manifest = replay.ManifestBuilder()
    for path in [*replay.code_paths(), *map(str, paths), *([config_file] if config_file else [])]:
        manifest.add(os.path.abspath(path))
    manifest.add(str(root / "plumbline.toml"))
    manifest.add(str(root / "pyproject.toml"))
    return manifest


def _warn(message: str) -> str:
    """Print a warning on stderr; the text printed."""
    from lsp_server.reporters import Style

    style = Style(use_colour(sys.stderr))
    text = f"{style.severity('warning', 'warning')}: {message}\n"
    replay.write_text(sys.stderr, text)
    return text


# --------------------------------------------------------------------------------------------- rules


def run_rules(args: argparse.Namespace) -> int:
    from analyzers.rules import all_rules
    from lsp_server import reporters

    rules = list(all_rules().values())
    if args.format == "json":
        _write(reporters.render_rules_json(rules))
    else:
        _write(reporters.render_rules_text(rules, reporters.Style(use_colour(sys.stdout))))
    return EXIT_CLEAN


def find_rule(query: str, rules: dict[str, Rule]) -> Rule:
    """A rule by code (any case) or kebab-case name; otherwise a usage error listing close matches."""
    wanted = query.strip()
    rule = rules.get(wanted.upper())
    if rule is not None:
        return rule
    for candidate in rules.values():
        if candidate.name == wanted.lower():
            return candidate
    raise UserError(f"unknown rule {query!r}{_suggestion(wanted.upper(), rules)}; `plumbline rules` lists them all")


def run_rule(args: argparse.Namespace) -> int:
    from analyzers.rules import all_rules
    from lsp_server import reporters

    rule = find_rule(args.code, all_rules())
    _write(reporters.render_rule_doc(rule, reporters.Style(use_colour(sys.stdout))))
    return EXIT_CLEAN


# --------------------------------------------------------------------------------------------- serve, agent


def run_serve(args: argparse.Namespace) -> int:
    try:
        server = importlib.import_module("lsp_server.server")
    except ModuleNotFoundError as error:
        if error.name == "lsp_server.server":
            raise UserError("the language server is not available in this build") from None
        raise UserError(f"the language server needs the {error.name!r} package, which is not installed") from None
    status = server.main()
    return status if isinstance(status, int) else EXIT_CLEAN


def run_agent(args: argparse.Namespace) -> int:
    try:
        agent_cli = importlib.import_module("lsp_server.agent.cli")
    except ModuleNotFoundError as error:
        if error.name in ("lsp_server.agent", "lsp_server.agent.cli"):
            raise UserError("the agent is not available in this build") from None
        raise UserError(f"the agent needs the {error.name!r} package, which is not installed") from None
    entry: Callable[[argparse.Namespace], int] = getattr(agent_cli, args.agent_entry)
    return int(entry(args))


if __name__ == "__main__":
    sys.exit(main())
