"""The language server's state: one engine per workspace root, the open documents, and the analysis loop.

Threads, and who owns what:
- the event loop (pygls handlers) owns the open documents' text and everything the handlers read: the latest
  `CheckResult` of each root, the diagnostics sent, the text each diagnostic was computed against;
- one analysis thread owns the engines (`analyzers.engine.Workspace`) and the documents' syntax trees; it takes
  the edits queued since its last run, re-parses incrementally, re-summarises the statements the edits touched,
  re-extracts the edited files only, and re-resolves and re-checks the project unless the new facts equal the
  old ones in everything the last check read of them (`lsp_server.incremental`: typing in a function body that
  nothing across files looks into changes no finding); it hands back what changed;
- a scan thread fills a fresh engine for a root; the analysis thread installs it when the scan is done, so typing
  never waits behind a scan.

Edits coalesce: while the analysis thread works, new edits queue up and the next run takes them all at once; there
is never more than one run in flight, and no timer delays the first one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import itertools
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from analyzers.config import Config, ConfigError, find_root, load_config
from analyzers.discovery import SKIP_DIRS, IgnoreRules, language_of
from analyzers.engine import CheckResult, Workspace
from analyzers.extract import digest
from analyzers.facts import FileFacts
from analyzers.model import Finding
from analyzers.pysyntax import Module
from analyzers.rules import all_rules
from lsp_server.convert import EMPTY, FileView, Lines, diagnostic, path_to_uri, uri_to_path
from lsp_server.documents import OpenDocument, Reparsed, Reparser, TreeEdit
from lsp_server.incremental import ReadTracker, edited_lines, incremental_summary

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

logger = logging.getLogger("plumbline.server")

CONFIG_FILES = ("pyproject.toml", "plumbline.toml")
WorkspaceReport = types.WorkspaceFullDocumentDiagnosticReport | types.WorkspaceUnchangedDocumentDiagnosticReport
# How long a pull request for an edited document waits for the analysis of that edit.
PULL_WAIT_SECONDS = 2.0


# --------------------------------------------------------------------------------------------- options


@dataclass(slots=True)
class Overrides:
    """`select` / `ignore` from initializationOptions or the client's `plumbline` settings section."""

    select: list[str] | None = None
    ignore: list[str] | None = None

    @staticmethod
    def parse(raw: Any) -> tuple[Overrides, list[str]]:
        """Overrides from a settings object, and the problems found in it (unknown codes, wrong types)."""
        overrides = Overrides()
        problems: list[str] = []
        if not isinstance(raw, dict):
            return overrides, problems
        if isinstance(raw.get("plumbline"), dict):  # a whole settings object rather than our section
            raw = raw["plumbline"]
        known = all_rules()
        for key in ("select", "ignore"):
            value = raw.get(key)
            if value is None:
                continue
            if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
                problems.append(f"`{key}` must be a list of rule codes")
                continue
            codes = [code.strip().upper() for code in value if code.strip()]
            unknown = [code for code in codes if code != "ALL" and not any(k.startswith(code) for k in known)]
            if unknown:
                problems.append(f"`{key}`: unknown rule code(s) {', '.join(unknown)}")
            codes = [code for code in codes if code not in unknown]
            if codes:
                setattr(overrides, key, codes)
        return overrides, problems

    def apply(self, config: Config) -> Config:
        changes: dict[str, Any] = {}
        if self.select is not None:
            changes["select"] = list(self.select)
        if self.ignore is not None:
            changes["ignore"] = list(self.ignore)
        return dataclasses.replace(config, **changes) if changes else config


# --------------------------------------------------------------------------------------------- roots


@dataclass(eq=False)
class RootState:
    """One project root: a workspace folder, or the project around a file opened outside every folder."""

    folder: Path
    loose: bool = False  # a root for files outside the workspace folders: never scanned as a whole
    file_config: Config = field(default_factory=Config)
    config: Config = field(default_factory=Config)
    # Analysis thread only.
    engine: Workspace = field(init=False)
    ready: bool = False  # the engine holds the whole root (scan installed), so its results can be published
    # Event loop only.
    result: CheckResult | None = None
    views: dict[str, FileView] = field(default_factory=dict)  # open documents as last analysed
    diagnostics: dict[str, list[types.Diagnostic]] = field(default_factory=dict)
    uris: dict[str, str] = field(default_factory=dict)
    result_ids: dict[str, str] = field(default_factory=dict)
    scan_generation: int = 0
    scan_cancel: threading.Event | None = None
    _wanted: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.folder = self.folder.resolve()
        self.engine = Workspace(self.folder, self.config)
        self.ready = self.loose

    def relative(self, path: Path) -> str | None:
        try:
            return path.resolve().relative_to(self.folder).as_posix()
        except (ValueError, OSError):
            return None

    def wanted(self, relative: str) -> bool:
        """Files the engine analyses here: our languages, outside skipped folders, .gitignore and `exclude`."""
        known = self._wanted.get(relative)
        if known is not None:
            return known
        if language_of(relative) is None or any(
                part in SKIP_DIRS or part.endswith(".egg-info") for part in relative.split("/")[:-1]):
            wanted = False
        else:
            wanted = not IgnoreRules(self.folder, self.config.exclude).ignored(relative, False)
        self._wanted[relative] = wanted
        return wanted

    def forget_ignores(self) -> None:
        """The configuration or a .gitignore changed: decide again which files are ours."""
        self._wanted = {}

    def finding_view(self, relative: str) -> FileView:
        """The text a finding of `relative` was computed against: the analysed buffer, else the file."""
        view = self.views.get(relative)
        return view if view is not None else disk_view(self.folder, relative)


def disk_view(folder: Path, relative: str) -> FileView:
    path = folder / relative
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return FileView(path_to_uri(path), EMPTY, None)
    return FileView(path_to_uri(path), Lines(text), None)


# --------------------------------------------------------------------------------------------- work and outcomes


@dataclass(slots=True)
class DocumentSnapshot:
    uri: str
    root: RootState
    relative: str
    version: int
    data: bytes
    edits: list[TreeEdit] | None


@dataclass(slots=True)
class Work:
    """What the analysis thread does in one run; the event loop fills it, the next run takes it whole."""

    installs: list[tuple[RootState, Workspace, int]] = field(default_factory=list)
    configs: dict[RootState, Config] = field(default_factory=dict)
    documents: dict[str, DocumentSnapshot] = field(default_factory=dict)
    closed: dict[str, tuple[RootState, str]] = field(default_factory=dict)
    disk: dict[tuple[RootState, str], bool] = field(default_factory=dict)  # True: changed/created, False: gone
    removed_folders: list[tuple[RootState, str]] = field(default_factory=list)
    recheck: set[RootState] = field(default_factory=set)

    def empty(self) -> bool:
        return not (self.installs or self.configs or self.documents or self.closed or self.disk
                    or self.removed_folders or self.recheck)


@dataclass(slots=True)
class PathDiagnostics:
    uri: str
    version: int | None
    diagnostics: list[types.Diagnostic]


@dataclass(slots=True)
class Outcome:
    root: RootState
    result: CheckResult
    views: dict[str, FileView]
    changed: dict[str, PathDiagnostics]
    edited: set[str]


@dataclass(slots=True)
class RunReport:
    outcomes: list[Outcome] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    analysed: dict[str, int] = field(default_factory=dict)  # uri -> version now reflected in results


# --------------------------------------------------------------------------------------------- analysis thread


class Analyzer:
    """Runs on the analysis thread only: engines, trees, and what was last computed per root."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.reparser = Reparser()
        # uri -> (root, relative, version, data) of open documents, as last given to the engine
        self.open: dict[str, tuple[RootState, str, int, bytes]] = {}
        self.findings: dict[RootState, dict[str, list[Finding]]] = {}
        self.disk_lines: dict[str, tuple[str, Lines]] = {}  # path -> (content digest, lines)
        self.open_views: dict[str, tuple[bytes, FileView]] = {}  # uri -> (the analysed bytes, their view)
        self.seen_notes: set[str] = set()
        # Per root: the last result computed or confirmed, and what its check read of the open documents.
        self.results: dict[RootState, CheckResult] = {}
        self.trackers: dict[RootState, ReadTracker] = {}

    def run(self, work: Work) -> RunReport:
        report = RunReport()
        touched: set[RootState] = set(work.recheck)
        edited: dict[RootState, set[str]] = {}
        for root, scanned, generation in work.installs:
            if generation == root.scan_generation:
                self._guard(report, f"installing the scan of {root.folder}", self._install, root, scanned)
                touched.add(root)
        for root, config in work.configs.items():
            fresh = Workspace(root.folder, config)
            fresh.files = root.engine.files
            root.engine = fresh
            touched.add(root)
        for root, folder in work.removed_folders:
            prefix = folder.rstrip("/") + "/"
            for relative in [path for path in root.engine.files if path.startswith(prefix)]:
                root.engine.remove_file(relative)
            touched.add(root)
        open_paths = {(root, relative) for root, relative, _, _ in self.open.values()}
        for (root, relative), present in work.disk.items():
            if (root, relative) in open_paths:
                continue  # the editor's buffer wins over the file on disk
            self._guard(report, f"reading {relative}", self._from_disk, root, relative, present)
            touched.add(root)
        for uri, (root, relative) in work.closed.items():
            self.reparser.forget(uri)
            self.open.pop(uri, None)
            self.open_views.pop(uri, None)
            # A closed document falls back to the file on disk; outside the workspace folders, to nothing.
            self._guard(report, f"reading {relative}", self._from_disk, root, relative, not root.loose)
            touched.add(root)
        quiet: set[RootState] = set()  # roots whose edits leave every finding as it was
        for snapshot in work.documents.values():
            unchanged: list[bool] = []
            if self._guard(report, f"analysing {snapshot.relative}", self._document, snapshot, unchanged):
                report.analysed[snapshot.uri] = snapshot.version
            else:
                self.reparser.forget(snapshot.uri)  # its tree may be half-edited: parse afresh next time
            (quiet if unchanged == [True] else touched).add(snapshot.root)
            edited.setdefault(snapshot.root, set()).add(snapshot.relative)
        for root in touched | quiet:
            if not root.ready:
                continue
            if root in touched:
                outcome = self._guard(report, f"checking {root.folder}", self._check, root, edited.get(root, set()))
            else:
                outcome = self._guard(report, f"republishing {root.folder}", self._unchanged, root,
                                      edited.get(root, set()))
            if isinstance(outcome, Outcome):
                report.outcomes.append(outcome)
                report.failures.extend(outcome.result.failures)
                self._collect_notes(outcome.result, report)
        return report

    def _guard(self, report: RunReport, what: str, action: Callable[..., Any], *args: Any) -> Any:
        """Run one step; a failure is reported and contained, the other steps still run."""
        try:
            result = action(*args)
            return True if result is None else result
        except Exception as error:  # contained: one bad file or step never stops the server
            logger.exception("%s failed", what)
            report.failures.append(f"{what} failed: {type(error).__name__}: {error}")
            return False

    def _install(self, root: RootState, scanned: Workspace) -> None:
        scanned.config = root.config
        for uri, (owner, relative, _version, data) in self.open.items():
            if owner is root:
                scanned.update_file(relative, data, tree=self.reparser.trees.get(uri))
        root.engine = scanned
        root.ready = True

    def _from_disk(self, root: RootState, relative: str, present: bool) -> None:
        path = root.folder / relative
        if not present or not path.is_file():
            root.engine.remove_file(relative)
            return
        if not root.wanted(relative):
            root.engine.remove_file(relative)
            return
        root.engine.update_file(relative, path.read_bytes())

    def _document(self, snapshot: DocumentSnapshot, unchanged: list[bool]) -> None:
        """Re-extract an edited document; `unchanged` gets True when no finding can have changed."""
        engine = snapshot.root.engine
        before = engine.files.get(snapshot.relative)
        prior = self.open.get(snapshot.uri)
        tree = summary = None
        if snapshot.relative.endswith((".py", ".pyi")):
            reparsed = self.reparser.reparse(snapshot.uri, snapshot.data, snapshot.edits)
            tree = reparsed.tree if reparsed is not None else None
            if reparsed is not None and prior is not None:
                summary = self._summary(engine, snapshot.relative, before, prior[3], reparsed, snapshot.data)
        self.open[snapshot.uri] = (snapshot.root, snapshot.relative, snapshot.version, snapshot.data)
        after = engine.update_file(snapshot.relative, snapshot.data, tree=tree, python=summary)
        tracker = self.tracker(snapshot.root)
        if self.results.get(snapshot.root) is None:
            unchanged.append(False)
        elif after is before:
            # The same text as analysed last. A document just opened is checked once all the same, so that
            # the check notes what it reads of it and the first keystroke need not check again.
            unchanged.append(after.python is None or tracker.watches(snapshot.relative, after))
        else:
            unchanged.append(tracker.unchanged(snapshot.relative, before, after))

    @staticmethod
    def _summary(engine: Workspace, relative: str, before: FileFacts | None, prior: bytes, reparsed: Reparsed,
                 data: bytes) -> Module | None:
        """The new summary built from the previous one where the edits allow it; None: summarise the file."""
        if before is None or before.python is None or reparsed.previous is None or before.digest != digest(prior) \
                or before.python.module != engine.module_of(relative):
            return None
        rows = edited_lines(reparsed.previous, reparsed.tree, reparsed.edits, reparsed.changed_ranges())
        return incremental_summary(before.python, data, reparsed.tree, prior, rows) if rows is not None else None

    def tracker(self, root: RootState) -> ReadTracker:
        return self.trackers.setdefault(root, ReadTracker())

    def _check(self, root: RootState, edited: set[str]) -> Outcome:
        self.results.pop(root, None)  # should the check fail, no later edit may count as leaving it unchanged
        watched = [relative for owner, relative, _, _ in self.open.values() if owner is root]
        engine = root.engine
        tracker = self.tracker(root)
        if any(path not in tracker.reads for path in watched):
            # A document watched for the first time: resolve steps kept from a check that did not watch it must
            # run again, in front of the tracker, or what they read of it would go unnoticed.
            engine.forget_kept()
        # Run for real (not the engine's last result) whenever documents are watched: what it reads is the point.
        result = tracker.check(engine.files, watched, lambda: engine.check(fresh=bool(watched)))
        self.results[root] = result
        views = {relative: self._open_view(uri, version, data)
                 for uri, (owner, relative, version, data) in self.open.items() if owner is root}
        previous = self.findings.get(root, {})
        current = result.findings
        changed_paths = {path for path in current.keys() | previous.keys() if current.get(path) != previous.get(path)}
        changed_paths |= {path for path in edited if path in views}
        self.findings[root] = dict(current)

        def viewer(relative: str) -> FileView:
            return views.get(relative) or self._disk_view(root, relative)

        changed: dict[str, PathDiagnostics] = {}
        for path in changed_paths:
            view = viewer(path)
            converted = [diagnostic(finding, view, viewer, self.encoding, rule_url(finding.code))
                         for finding in current.get(path, [])]
            changed[path] = PathDiagnostics(view.uri, view.version, converted)
        return Outcome(root, result, views, changed, edited)

    def _unchanged(self, root: RootState, edited: set[str]) -> Outcome:
        """The outcome of edits that change no finding: the last result stands, the edited documents get their
        diagnostics again for their new version (and text)."""
        previous = self.results[root]
        notes = dict(previous.notes)
        for relative in edited:
            facts = root.engine.files.get(relative)
            if facts is not None and facts.notes:
                notes[relative] = list(facts.notes)
            else:
                notes.pop(relative, None)
        result = dataclasses.replace(previous, notes=notes)
        self.results[root] = result
        views = {relative: self._open_view(uri, version, data)
                 for uri, (owner, relative, version, data) in self.open.items() if owner is root}

        def viewer(relative: str) -> FileView:
            return views.get(relative) or self._disk_view(root, relative)

        changed: dict[str, PathDiagnostics] = {}
        for path in edited:
            view = viewer(path)
            converted = [diagnostic(finding, view, viewer, self.encoding, rule_url(finding.code))
                         for finding in result.findings.get(path, [])]
            changed[path] = PathDiagnostics(view.uri, view.version, converted)
        return Outcome(root, result, views, changed, edited)

    def _open_view(self, uri: str, version: int, data: bytes) -> FileView:
        """An open document as analysed, split into lines once per version."""
        cached = self.open_views.get(uri)
        if cached is not None and cached[0] is data:
            return cached[1]
        view = FileView(uri, Lines(data.decode("utf-8", errors="replace")), version)
        self.open_views[uri] = (data, view)
        return view

    def _disk_view(self, root: RootState, relative: str) -> FileView:
        """A file that is not open, read once per content (its facts' digest says when it changed)."""
        facts = root.engine.files.get(relative)
        digest = facts.digest if facts is not None else ""
        path = str(root.folder / relative)
        cached = self.disk_lines.get(path)
        if cached is None or cached[0] != digest:
            view = disk_view(root.folder, relative)
            self.disk_lines[path] = (digest, view.lines)
            return view
        return FileView(path_to_uri(root.folder / relative), cached[1], None)

    def _collect_notes(self, result: CheckResult, report: RunReport) -> None:
        for path, notes in result.notes.items():
            for note in notes:
                if note.startswith("skipped") and f"{path}: {note}" not in self.seen_notes:
                    self.seen_notes.add(f"{path}: {note}")
                    report.notes.append(f"{path}: {note}")


def rule_url(code: str) -> str | None:
    """The documentation URL of a rule, where one exists (a rule may declare `url`)."""
    rule = all_rules().get(code)
    url = getattr(rule, "url", None) if rule is not None else None
    return url if isinstance(url, str) and url else None


# --------------------------------------------------------------------------------------------- garbage collection


class Collector:
    """Keeps Python's cyclic garbage collector out of the way of typing.

    What an analysis run builds (facts, results) lives until a later run replaces it. Left to the collector, it
    would be traversed again and again by full collections: tens of milliseconds each, every few keystrokes. So
    nothing is collected while runs follow each other; once the server is idle, the youngest generation (which
    then holds what the runs allocated) is collected, its garbage going, cycles included, and what survives is
    frozen out of later collections. People pause often enough; a long busy stretch without a pause is tidied
    up all the same after `LONGEST_HOLD` seconds, before the next run.
    """

    IDLE_SECONDS = 0.3
    LONGEST_HOLD = 30.0

    def __init__(self) -> None:
        self._held_since: float | None = None
        self._enable = False  # the collector was on when held: turn it on again when done
        self._timer: asyncio.TimerHandle | None = None
        self._retired: list[Any] = []

    def retire(self, value: Any) -> None:
        """Free `value` (a replaced result: a whole project model, milliseconds to take apart) once idle, not
        while its replacement's diagnostics wait to be published."""
        self._retired.append(value)

    def hold(self) -> None:
        """A run starts: no collection until the server is idle again."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._held_since is not None and time.monotonic() - self._held_since > self.LONGEST_HOLD:
            self._tidy()
        if self._held_since is None:
            self._held_since = time.monotonic()
            self._enable = gc.isenabled()
            gc.disable()

    def release_when_idle(self, loop: asyncio.AbstractEventLoop, idle: Callable[[], bool]) -> None:
        """A run ended: tidy up once `idle()` has stayed true for a moment (a new run cancels this)."""
        def release() -> None:
            self._timer = None
            if idle():
                self._tidy()
            else:
                self._timer = loop.call_later(self.IDLE_SECONDS, release)

        if self._timer is None:
            self._timer = loop.call_later(self.IDLE_SECONDS, release)

    def _tidy(self) -> None:
        self._retired.clear()
        if self._held_since is None:
            return
        gc.collect(0)
        gc.freeze()
        self._held_since = None
        if self._enable:
            gc.enable()


# --------------------------------------------------------------------------------------------- the server's state


class ServerState:
    """Everything the handlers need; created once per server, configured at `initialize`.

    Accessors for other parts of the server (the agent):
    - `root_for(uri)` → the `RootState` of a file (its `folder`, `config`, latest `result`), or None;
    - `document(uri)` → the `OpenDocument` (`text`, `version`) of an open document, or None;
    - `text_of(uri)` → the current text of a file: the open buffer, else the file on disk;
    - `findings(uri)` → the latest findings of a file; `finding(uri, fingerprint)` → one of them;
    - `await run_on_engine(uri, fn)` → runs `fn(engine)` on the analysis thread with the root's engine
      (`analyzers.engine.Workspace`); never touch an engine from another thread;
    - `await engine_copy(uri)` → a private `Workspace` sharing the root's facts, safe to `update_file` on an
      overlay and `check()` from any thread;
    - `roots()` → the workspace roots; `capabilities` → the client's capabilities.
    """

    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self.capabilities = types.ClientCapabilities()
        self.encoding: str = types.PositionEncodingKind.Utf16.value
        self.overrides = Overrides()
        self.initialization_options: Any = None
        self.folders: dict[Path, RootState] = {}
        self.loose: dict[Path, RootState] = {}
        self.documents: dict[str, OpenDocument] = {}
        self.analyzer = Analyzer(self.encoding)
        self.pull = False
        self._work = Work()
        self._wake: asyncio.Event | None = None
        self._analysed_event: asyncio.Event | None = None
        self._analysed: dict[str, int] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plumbline-analysis")
        self._scan_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plumbline-scan")
        self._scans: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._shown: set[str] = set()
        self._logged: set[str] = set()
        self._closing = False
        self.running = 0  # analysis runs in flight (0 or 1), for tests and benchmarks
        self._collector = Collector()

    # ------------------------------------------------------------------ lifecycle

    def initialize(self, params: types.InitializeParams) -> None:
        self.capabilities = params.capabilities
        encoding = self.server.workspace.position_encoding or types.PositionEncodingKind.Utf16
        self.encoding = encoding.value if isinstance(encoding, types.PositionEncodingKind) else str(encoding)
        self.analyzer.encoding = self.encoding
        text_document = params.capabilities.text_document
        self.pull = text_document is not None and text_document.diagnostic is not None
        self.overrides, problems = Overrides.parse(params.initialization_options)
        # Kept for the agent, which reads its user-level `agent.model` there (never from workspace files).
        self.initialization_options = params.initialization_options
        for problem in problems:
            self.show_once(f"Plumbline settings: {problem}", types.MessageType.Warning)
        for folder in params.workspace_folders or []:
            self._add_folder(folder.uri)
        if not params.workspace_folders:
            root_uri = params.root_uri or (path_to_uri(Path(params.root_path)) if params.root_path else None)
            if root_uri:
                self._add_folder(root_uri)

    async def start(self) -> None:
        """After `initialized`: start the analysis loop, watch files, scan every root."""
        self._wake = asyncio.Event()
        self._analysed_event = asyncio.Event()
        self._loop_task = asyncio.ensure_future(self._analysis_loop())
        await self._watch_files()
        for root in list(self.folders.values()):
            self._start_scan(root)

    def shutdown(self) -> None:
        self._closing = True
        for root in self.all_roots():
            if root.scan_cancel is not None:
                root.scan_cancel.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._scan_executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ roots

    def _add_folder(self, uri: str) -> RootState | None:
        path = uri_to_path(uri)
        if path is None:
            return None
        root = RootState(path)
        if root.folder in self.folders:
            return self.folders[root.folder]
        self._configure(root)
        self.folders[root.folder] = root
        return root

    def _configure(self, root: RootState) -> bool:
        """Load the root's configuration; on an error keep the previous one and say so. True when it changed."""
        key = f"config:{root.folder}:"
        try:
            root.file_config = load_config(root.folder)
            self._shown = {shown for shown in self._shown if not shown.startswith(key)}  # say it again next time
        except ConfigError as error:
            self.show_once(f"Plumbline: {error} (the previous settings stay in effect)", types.MessageType.Error,
                           key=f"{key}{error}")
        new = self.overrides.apply(root.file_config)
        if new == root.config:
            return False
        root.config = new
        root.forget_ignores()
        self._work.configs[root] = new  # the engine lives on the analysis thread: it switches there
        self._kick()
        return True

    def add_folders(self, added: Iterable[types.WorkspaceFolder], removed: Iterable[types.WorkspaceFolder]) -> None:
        for folder in removed:
            path = uri_to_path(folder.uri)
            root = self.folders.pop(path.resolve(), None) if path is not None else None
            if root is not None:
                if root.scan_cancel is not None:
                    root.scan_cancel.set()
                self._clear_diagnostics(root)
        for folder in added:
            root = self._add_folder(folder.uri)
            if root is not None and self._wake is not None:
                self._start_scan(root)

    def all_roots(self) -> list[RootState]:
        return [*self.folders.values(), *self.loose.values()]

    def roots(self) -> list[Path]:
        return [root.folder for root in self.folders.values()]

    def locate(self, uri: str, create: bool = False) -> tuple[RootState, str] | None:
        """The root holding a file and its relative path; outside every folder, a single-file root."""
        path = uri_to_path(uri)
        if path is None:
            return None
        try:
            resolved = path.resolve()
        except OSError:
            return None
        best: RootState | None = None
        for folder, root in self.folders.items():
            if resolved.is_relative_to(folder) and (best is None or len(folder.parts) > len(best.folder.parts)):
                best = root
        if best is None:
            best = self._loose_root(resolved, create)
        if best is None:
            return None
        relative = best.relative(resolved)
        return (best, relative) if relative else None

    def _loose_root(self, path: Path, create: bool) -> RootState | None:
        folder = find_root(path.parent).resolve()
        root = self.loose.get(folder)
        if root is None and create:
            root = RootState(folder, loose=True)
            self._configure(root)
            self.loose[folder] = root
        return root

    # ------------------------------------------------------------------ scans

    def _start_scan(self, root: RootState) -> None:
        if root.loose or self._closing:
            return
        if root.scan_cancel is not None:
            root.scan_cancel.set()
        root.scan_generation += 1
        root.scan_cancel = threading.Event()
        task = asyncio.ensure_future(self._scan(root, root.scan_generation, root.scan_cancel))
        self._scans.add(task)
        task.add_done_callback(self._scans.discard)

    async def _scan(self, root: RootState, generation: int, cancel: threading.Event) -> None:
        loop = asyncio.get_running_loop()
        progress = await self._begin_progress(f"Plumbline: scanning {root.folder.name}", cancel)
        started = time.perf_counter()
        scanner = Workspace(root.folder, root.config)

        def report(done: int, total: int) -> None:
            if progress is not None and not self._closing:
                loop.call_soon_threadsafe(self._report_progress, progress, done, total)

        try:
            await loop.run_in_executor(self._scan_executor, lambda: scanner.scan(
                progress=report, cancelled=lambda: cancel.is_set() or self._closing))
        except Exception as error:  # a scan that fails still leaves the open documents analysed
            self.report_failure(f"scanning {root.folder} failed: {type(error).__name__}: {error}")
        finally:
            if progress is not None:
                self._end_progress(progress, "cancelled" if cancel.is_set() else f"{len(scanner.files)} files")
        if cancel.is_set() and generation != root.scan_generation:
            return  # superseded by a newer scan
        self.log(f"scanned {root.folder}: {len(scanner.files)} files in {time.perf_counter() - started:.2f} s"
                 + (" (cancelled: the results cover the files scanned so far)" if cancel.is_set() else ""))
        self._work.installs.append((root, scanner, generation))
        self._kick()

    async def _begin_progress(self, title: str, cancel: threading.Event) -> str | None:
        window = self.capabilities.window
        if window is None or not window.work_done_progress:
            return None
        token = f"plumbline-scan-{next(self._ids)}"
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception:  # the client refused: scan without a progress bar
            return None
        self.server.work_done_progress.tokens[token].add_done_callback(
            lambda future: cancel.set() if future.cancelled() else None)
        self.server.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title=title, cancellable=True, message="discovering files", percentage=0))
        return token

    def _report_progress(self, token: str, done: int, total: int) -> None:
        percentage = int(100 * done / total) if total else 100
        self.server.work_done_progress.report(token, types.WorkDoneProgressReport(
            message=f"{done}/{total} files", percentage=percentage, cancellable=True))

    def _end_progress(self, token: str, message: str) -> None:
        self.server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message))
        self.server.work_done_progress.tokens.pop(token, None)

    # ------------------------------------------------------------------ documents

    def open(self, item: types.TextDocumentItem) -> None:
        located = self.locate(item.uri, create=True)
        path = uri_to_path(item.uri)
        if located is None or path is None:
            return
        document = OpenDocument(item.uri, path, item.version, item.text)
        self.documents[item.uri] = document
        self._queue_document(document)

    def change(self, params: types.DidChangeTextDocumentParams) -> None:
        document = self.documents.get(params.text_document.uri)
        if document is None:
            return
        for change in params.content_changes:
            document.apply(change, self.encoding)
        document.version = params.text_document.version
        self._queue_document(document)

    def close(self, uri: str) -> None:
        document = self.documents.pop(uri, None)
        located = self.locate(uri)
        self._work.documents.pop(uri, None)
        if document is None or located is None:
            return
        self._work.closed[uri] = located
        self._kick()

    def _queue_document(self, document: OpenDocument) -> None:
        located = self.locate(document.uri, create=True)
        if located is None:
            return
        root, relative = located
        if not root.wanted(relative):
            self._analysed[document.uri] = document.version  # nothing to wait for
            return
        data, edits = document.take_snapshot()
        queued = self._work.documents.get(document.uri)
        if queued is not None and queued.edits is not None and edits is not None:
            edits = queued.edits + edits  # still waiting: its edits and these lead from the same tree
        elif queued is not None:
            edits = None
        self._work.closed.pop(document.uri, None)
        self._work.documents[document.uri] = DocumentSnapshot(document.uri, root, relative, document.version,
                                                              data, edits)
        self._kick()

    def document(self, uri: str) -> OpenDocument | None:
        return self.documents.get(uri)

    def text_of(self, uri: str) -> str | None:
        document = self.documents.get(uri)
        if document is not None:
            return document.text
        path = uri_to_path(uri)
        try:
            return path.read_bytes().decode("utf-8", errors="replace") if path is not None else None
        except OSError:
            return None

    # ------------------------------------------------------------------ outside changes

    def files_changed(self, changes: Iterable[types.FileEvent]) -> None:
        rescan: set[RootState] = set()
        reconfigure: set[RootState] = set()
        for change in changes:
            located = self.locate(change.uri)
            if located is None:
                continue
            root, relative = located
            if relative in CONFIG_FILES:
                reconfigure.add(root)
            path = root.folder / relative
            if change.type == types.FileChangeType.Deleted:
                if language_of(relative) is not None:
                    self._work.disk[(root, relative)] = False
                else:
                    self._work.removed_folders.append((root, relative))
                if relative.endswith(".gitignore"):
                    rescan.add(root)
            elif relative.endswith(".gitignore"):
                rescan.add(root)
            elif language_of(relative) is not None and (change.type == types.FileChangeType.Changed
                                                         or path.is_file()):
                self._work.disk[(root, relative)] = True
            elif path.is_dir():  # a folder appeared (a checkout, a copy): find what is in it
                rescan.add(root)
        for root in reconfigure:
            before = root.config
            if self._configure(root) and root.config.exclude != before.exclude:
                rescan.add(root)
        for root in rescan:
            root.forget_ignores()
            self._start_scan(root)
        self._kick()

    async def configuration_changed(self, settings: Any) -> None:
        raw = settings
        if not (isinstance(raw, dict) and ({"select", "ignore"} & raw.keys() or isinstance(raw.get("plumbline"),
                                                                                               dict))):
            raw = await self._pull_configuration()
        if not isinstance(raw, dict):
            return  # the client told us nothing: the settings stay as they are
        self.overrides, problems = Overrides.parse(raw)
        for problem in problems:
            self.show_once(f"Plumbline settings: {problem}", types.MessageType.Warning)
        for root in self.all_roots():
            self._configure(root)
        self._kick()

    async def _pull_configuration(self) -> Any:
        workspace = self.capabilities.workspace
        if workspace is None or not workspace.configuration:
            return None
        try:
            answer = await asyncio.wait_for(self.server.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="plumbline")])), 5)
        except Exception as error:
            self.log(f"could not read the client's settings: {error}")
            return None
        return answer[0] if answer else None

    async def _watch_files(self) -> None:
        workspace = self.capabilities.workspace
        watched = workspace.did_change_watched_files if workspace is not None else None
        if watched is None or not watched.dynamic_registration:
            return
        globs = ["**/*.py", "**/*.pyi", "**/*.sql", "**/{pyproject.toml,plumbline.toml,alembic.ini,.gitignore}"]
        watchers = [types.FileSystemWatcher(glob_pattern=glob) for glob in globs]
        # Folder deletions (a `git checkout` of another branch, `rm -r`) arrive as one event for the folder.
        watchers.append(types.FileSystemWatcher(glob_pattern="**/*", kind=types.WatchKind.Delete))
        registration = types.Registration(
            id="plumbline-watched-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))
        try:
            await asyncio.wait_for(self.server.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])), 5)
        except Exception as error:
            self.log(f"the client did not accept file watching: {error}")

    # ------------------------------------------------------------------ the analysis loop

    def _kick(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _analysis_loop(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            work, self._work = self._work, Work()
            if work.empty():
                continue
            self.running += 1
            self._collector.hold()
            try:
                report = await loop.run_in_executor(self._executor, self.analyzer.run, work)
            except RuntimeError:  # the executor is shut down: the server is stopping
                return
            except Exception as error:
                self.report_failure(f"analysis failed: {type(error).__name__}: {error}")
                continue
            finally:
                self.running -= 1
                self._collector.release_when_idle(loop, lambda: not self.running and self._work.empty())
            self._apply(report)

    def _apply(self, report: RunReport) -> None:
        refresh = False
        for outcome in report.outcomes:
            root = outcome.root
            self._collector.retire(root.result)
            root.result = outcome.result
            root.views = outcome.views
            for path, changed in outcome.changed.items():
                if changed.diagnostics:
                    root.diagnostics[path] = changed.diagnostics
                    root.uris[path] = changed.uri
                else:
                    root.diagnostics.pop(path, None)
                root.result_ids[path] = str(next(self._ids))
                if not self.pull:
                    self.publish(changed.uri, changed.version, changed.diagnostics)
                elif path not in outcome.edited:
                    refresh = True
        self._analysed.update(report.analysed)
        for failure in report.failures:
            self.report_failure(failure)
        for note in report.notes:
            self.log(note)
        if refresh:
            self._refresh()
        if self._analysed_event is not None:
            self._analysed_event.set()
            self._analysed_event = asyncio.Event()

    def publish(self, uri: str, version: int | None, diagnostics: list[types.Diagnostic]) -> None:
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics))

    def _refresh(self) -> None:
        workspace = self.capabilities.workspace
        diagnostics = workspace.diagnostics if workspace is not None else None
        if diagnostics is not None and diagnostics.refresh_support:
            self.server.workspace_diagnostic_refresh(None)

    def _clear_path(self, root: RootState, relative: str) -> None:
        uri = root.uris.pop(relative, None)
        if root.diagnostics.pop(relative, None) is not None and uri is not None and not self.pull:
            self.publish(uri, None, [])

    def _clear_diagnostics(self, root: RootState) -> None:
        for relative in list(root.diagnostics):
            self._clear_path(root, relative)

    async def idle(self, timeout: float = 30.0) -> bool:
        """Wait until queued work is analysed (tests and benchmarks use it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._work.empty() and not self.running and not self._scans:
                return True
            await asyncio.sleep(0.01)
        return False

    async def wait_analysed(self, uri: str, timeout: float = PULL_WAIT_SECONDS) -> None:
        """Wait (briefly) until the current version of an open document is reflected in the results."""
        document = self.documents.get(uri)
        deadline = time.monotonic() + timeout
        while document is not None and self._analysed.get(uri, -1) < document.version:
            located = self.locate(uri)
            if located is None or not located[0].ready or self._analysed_event is None:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._analysed_event.wait(), remaining)
            except TimeoutError:
                return

    # ------------------------------------------------------------------ results

    def findings(self, uri: str) -> list[Finding]:
        located = self.locate(uri)
        if located is None or located[0].result is None:
            return []
        root, relative = located
        assert root.result is not None
        return list(root.result.findings.get(relative, []))

    def finding(self, uri: str, fingerprint: str) -> Finding | None:
        return next((finding for finding in self.findings(uri) if finding.fingerprint == fingerprint), None)

    def diagnostics_of(self, uri: str) -> tuple[list[types.Diagnostic], str | None]:
        """The diagnostics of a file and their result id."""
        located = self.locate(uri)
        if located is None:
            return [], None
        root, relative = located
        return root.diagnostics.get(relative, []), root.result_ids.get(relative)

    def workspace_reports(self, previous: dict[str, str]) -> list[WorkspaceReport]:
        """Pull reports for every file with findings, and for files the client holds results of."""
        items: list[WorkspaceReport] = []
        for root in self.all_roots():
            for relative, result_id in root.result_ids.items():
                uri = root.uris.get(relative)
                diagnostics = root.diagnostics.get(relative, [])
                if uri is None or (not diagnostics and uri not in previous):
                    continue
                document = self.documents.get(uri)
                version = document.version if document is not None else None
                if previous.get(uri) == result_id:
                    items.append(types.WorkspaceUnchangedDocumentDiagnosticReport(
                        uri=uri, result_id=result_id, version=version))
                else:
                    items.append(types.WorkspaceFullDocumentDiagnosticReport(
                        uri=uri, items=diagnostics, result_id=result_id, version=version))
        return items

    def root_for(self, uri: str) -> RootState | None:
        located = self.locate(uri)
        return located[0] if located is not None else None

    async def run_on_engine(self, uri: str, action: Callable[[Workspace], Any]) -> Any:
        root = self.root_for(uri)
        if root is None:
            return None
        owner = root
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: action(owner.engine))

    async def engine_copy(self, uri: str) -> Workspace | None:
        def copy(engine: Workspace) -> Workspace:
            fresh = Workspace(engine.root, engine.config)
            fresh.files = dict(engine.files)
            return fresh

        return await self.run_on_engine(uri, copy)

    # ------------------------------------------------------------------ messages

    def log(self, message: str, kind: types.MessageType = types.MessageType.Log) -> None:
        # Problems also go to stderr (they must survive a client that is gone); routine news only to the
        # client's log, since editors show everything on stderr as an error.
        if kind in (types.MessageType.Error, types.MessageType.Warning):
            print(f"plumbline: {message}", file=sys.stderr, flush=True)
        try:
            self.server.window_log_message(types.LogMessageParams(type=kind, message=message))
        except Exception:  # no client yet, or it is gone: stderr has it
            pass

    def show_once(self, message: str, kind: types.MessageType, key: str | None = None) -> None:
        key = key or message
        if key in self._shown:
            return
        self._shown.add(key)
        self.log(message, kind)
        try:
            self.server.window_show_message(types.ShowMessageParams(type=kind, message=message))
        except Exception:  # no client yet, or it is gone: the message is on stderr and in the log already
            pass

    def report_failure(self, failure: str) -> None:
        """An extractor, rule or analysis step failed: log every distinct failure, show each culprit once."""
        if failure in self._logged:
            return
        self._logged.add(failure)
        self.log(failure, types.MessageType.Error)
        culprit = failure.split(" failed", 1)[0].split(" on ", 1)[0]
        self.show_once(f"Plumbline: {culprit} failed; its findings may be incomplete (details in the log)",
                       types.MessageType.Warning, key=f"failure:{culprit}")
