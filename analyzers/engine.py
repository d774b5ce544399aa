"""The engine: a workspace of per-file facts, resolved into a project model, checked by the rules.

Used the same way by the CLI (one scan, one check) and the language server (one scan, then `update_file` per
edit and `check` again: only the edited file is re-extracted; resolution and rules run over cached facts).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from tree_sitter import Tree

from analyzers.cache import LOAD_ERRORS, FactCache, dumps, gc_paused, loads
from analyzers.config import Config, code_matches
from analyzers.discovery import MAX_FILE_BYTES, discover, language_of, module_name, source_roots
from analyzers.extract import digest, extract_file
from analyzers.extractors import extractors
from analyzers.facts import FileFacts
from analyzers.model import Finding, Project, Span
from analyzers.pysyntax import Module
from analyzers.resolve import KeptStep, ModelBuilder
from analyzers.rule_runs import RuleRun, RuleRunner
from analyzers.rules import Rule, all_rules
from analyzers.suppressions import UNUSED_CODE, apply_suppressions

# Below this many files to extract, a helper process costs more (start-up, shipping facts back) than it
# saves; above it, one more helper per this many files, up to the CPUs available.
PARALLEL_THRESHOLD = 64

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class CheckResult:
    project: Project
    findings: dict[str, list[Finding]]  # by project-relative path, sorted by position
    failures: list[str] = field(default_factory=list)  # contained extractor/rule errors
    notes: dict[str, list[str]] = field(default_factory=dict)  # per-file notes (skipped files, ...)

    def all_findings(self) -> list[Finding]:
        return [finding for path in sorted(self.findings) for finding in self.findings[path]]


class Workspace:
    def __init__(self, root: Path, config: Config | None = None, use_cache: bool = False) -> None:
        self.root = root.resolve()
        self.config = config or Config()
        self.files: dict[str, FileFacts] = {}
        self.source_roots: tuple[str, ...] = ("",)
        self.cache = FactCache(self.root) if use_cache else None
        self._result: CheckResult | None = None
        # What resolve steps keep for the next check (`ModelBuilder.reusable`), and each rule's last run.
        self._kept: dict[str, KeptStep] = {}
        self._rule_runs: dict[str, RuleRun] = {}

    # ------------------------------------------------------------------ files

    def module_of(self, relative: str) -> str:
        """The dotted module name of a Python file, relative to its source root."""
        return module_name(relative, self.source_roots)

    def relative(self, path: Path | str) -> str | None:
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None

    def scan(self, paths: Iterable[Path] | None = None, progress: Progress | None = None,
             cancelled: Callable[[], bool] | None = None, jobs: int | None = None) -> None:
        """Discover and extract every file under `paths` (default: the root)."""
        with gc_paused():
            self._scan(paths, progress, cancelled, jobs)
            # Facts live as long as the workspace: later collections need not traverse them again. Frozen
            # before the collector is back on, or its first collection walks every object just built.
            gc.freeze()

    def _scan(self, paths: Iterable[Path] | None, progress: Progress | None,
              cancelled: Callable[[], bool] | None, jobs: int | None) -> None:
        found = list(discover(self.root, list(paths or [self.root]), self.config.exclude))
        self.source_roots = source_roots([*found, *self.files])
        total = len(found)
        pending: list[tuple[str, bytes]] = []
        done = 0
        for relative in found:
            if cancelled is not None and cancelled():
                return
            data = self._read(relative)
            if data is None:
                continue
            cached = self.cache.get(relative, digest(data)) if self.cache else None
            if cached is not None and cached.python is not None and cached.python.module != self.module_of(relative):
                cached = None  # the file's module name changed (a new pyproject.toml above it)
            if cached is not None:
                self.files[relative] = cached
                done += 1
            else:
                pending.append((relative, data))
        if progress is not None:
            progress(done, total)
        extracted: dict[str, FileFacts] = {}
        for facts, pickled in self._extract_all(pending, jobs, cancelled):
            extracted[facts.path] = facts
            if self.cache is not None:
                self.cache.put(facts, pickled)
            done += 1
            if progress is not None and (done % 25 == 0 or done == total):
                progress(done, total)
        for relative, _ in pending:  # in discovery order, whichever process extracted them first
            if relative in extracted:
                self.files[relative] = extracted[relative]
        if self.cache is not None:
            self.cache.retain(set(self.files))
            self.cache.save()
        self._result = None

    def _read(self, relative: str) -> bytes | None:
        path = self.root / relative
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                facts = FileFacts(path=relative, language=language_of(relative) or "text", digest="")
                facts.notes.append(f"skipped: larger than {MAX_FILE_BYTES // 1_000_000} MB")
                self.files[relative] = facts
                return None
            return path.read_bytes()
        except OSError as error:
            facts = FileFacts(path=relative, language=language_of(relative) or "text", digest="")
            facts.notes.append(f"skipped: cannot read ({error.strerror or error})")
            self.files[relative] = facts
            return None

    def _extract_all(self, pending: list[tuple[str, bytes]], jobs: int | None,
                     cancelled: Callable[[], bool] | None) -> Iterator[tuple[FileFacts, bytes | None]]:
        """Facts of every pending file (with their pickled form when a helper process made them), in no
        particular order."""
        work = [(relative, data, self.module_of(relative)) for relative, data in pending]
        processes = jobs if jobs is not None else _available_cpus()
        # The CLI's main thread extracts its share itself; a scan in a background thread (the language server's)
        # leaves the interpreter to the thread that answers the editor and only collects.
        share = threading.current_thread() is threading.main_thread()
        helpers = min(processes - 1 if share else processes, len(work) // PARALLEL_THRESHOLD)
        if processes <= 1 or helpers <= 0:
            for relative, data, module in work:
                if cancelled is not None and cancelled():
                    return
                yield extract_file(relative, data, module=module), None
            return
        yield from _extract_in_parallel(work, helpers, cancelled, share)

    def update_file(self, relative: str, data: bytes, tree: Tree | None = None,
                    python: Module | None = None) -> FileFacts:
        """Re-extract one file (an edit in the editor, a change on disk).

        `tree`: the file's Python tree, re-parsed incrementally by the language server from exactly `data`;
        `python`: its summary, when the language server already built it from exactly `data`.
        """
        current = self.files.get(relative)
        new_digest = digest(data)
        if current is not None and current.digest == new_digest:
            return current
        facts = extract_file(relative, data, tree=tree, module=self.module_of(relative), python=python)
        self.files[relative] = facts
        self._result = None
        return facts

    def remove_file(self, relative: str) -> None:
        if self.files.pop(relative, None) is not None:
            self._result = None

    # ------------------------------------------------------------------ checking

    def forget_kept(self) -> None:
        """The next check runs every resolve step and rule afresh (none is reused from the last check)."""
        self._kept.clear()
        self._rule_runs = {}

    def rules(self) -> list[Rule]:
        every = all_rules()
        enabled = self.config.enabled_codes({code: rule.default_enabled for code, rule in every.items()})
        return [rule for code, rule in every.items() if code in enabled and code != UNUSED_CODE]

    def resolve(self) -> tuple[Project, list[str]]:
        builder = ModelBuilder(root=str(self.root), files=self.files, kept=self._kept)
        failures: list[str] = []
        for extractor in extractors():
            try:
                extractor.resolve(builder)
            except Exception as error:  # contained: the other frameworks still resolve
                failures.append(_describe(f"resolve step {extractor.__name__.rsplit('.', 1)[-1]}", error))
        if self.config.database:
            builder.project.dialect = self.config.database
            builder.project.dialect_source = "configuration"
        self._attach_imports(builder.project)
        return builder.project, failures + builder.failures

    def _attach_imports(self, project: Project) -> None:
        """Give each declaration and endpoint its file's imports, so fixes can add what they use."""
        for table in project.tables.values():
            for declaration in table.declarations:
                module = self._module(declaration.location.path)
                if module is not None:
                    declaration.file_imports = module.imports
                    declaration.imports_line = module.imports_end
        for endpoint in project.endpoints:
            module = self._module(endpoint.location.path)
            if module is not None:
                endpoint.file_imports = module.imports
                endpoint.imports_line = module.imports_end

    def _module(self, path: str):
        facts = self.files.get(path)
        return facts.python if facts is not None else None

    def check(self, fresh: bool = False) -> CheckResult:
        """Resolve and run the rules; the last result when nothing changed since, unless `fresh`."""
        if self._result is not None and not fresh:
            return self._result
        project, failures = self.resolve()
        raw: list[Finding] = []
        rules = self.rules()
        runner = RuleRunner(project, self._rule_runs)
        for rule in rules:
            try:
                raw.extend(runner.run(rule.code, self.config.options_for(rule.code, rule.options), rule.check))
            except Exception as error:
                failures.append(_describe(f"rule {rule.code}", error))
        self._rule_runs = runner.runs
        by_path: dict[str, list[Finding]] = {}
        seen: set[tuple[str, str]] = set()
        for finding in _merge_same_place(raw):
            key = (finding.fingerprint, finding.location.path)
            if key in seen:
                continue
            seen.add(key)
            ignored = self.config.ignored_for(finding.location.path)
            if ignored and code_matches(finding.code, ignored):
                continue
            by_path.setdefault(finding.location.path, []).append(finding)
        report_unused = UNUSED_CODE in self.config.enabled_codes({UNUSED_CODE: True}) and not code_matches(
            UNUSED_CODE, self.config.ignored_for(""))
        results: dict[str, list[Finding]] = {}
        notes: dict[str, list[str]] = {}
        for path, facts in self.files.items():
            failures.extend(facts.failures)
            if facts.notes:
                notes[path] = list(facts.notes)
            findings = by_path.pop(path, [])
            if facts.comments:
                ignored_here = self.config.ignored_for(path)
                findings = apply_suppressions(
                    findings, facts, report_unused and not code_matches(UNUSED_CODE, ignored_here),
                    active=[rule.code for rule in rules if not code_matches(rule.code, ignored_here)],
                    known=all_rules())
            if findings:
                results[path] = sorted(findings, key=_position)
        for path, findings in by_path.items():  # findings in files we do not hold (should not happen)
            results[path] = sorted(findings, key=_position)
        self._result = CheckResult(project, results, failures, notes)
        return self._result


def _merge_same_place(findings: list[Finding]) -> list[Finding]:
    """One finding per rule, place and fix: one handler served under two paths (`for rule in [LIST_USERS,
    AJAX_LIST_USERS]`), one mixin column in two tables whose fix is the same edit. It is one thing to fix; the
    kept finding's message names the others. Findings are never changed in place: a rule's findings may be
    reused by the next check."""
    kept: dict[tuple[str, str, Span, object], tuple[Finding, list[str]]] = {}
    for finding in findings:
        fix = (tuple(finding.fix.edits), tuple(finding.fix.creates)) if finding.fix is not None else None
        place = (finding.code, finding.location.path, finding.location.span, fix)
        if place in kept:
            kept[place][1].append(_subject(finding.fingerprint))
        else:
            kept[place] = (finding, [])
    return [replace(finding, message=f"{finding.message} (also {', '.join(others)})") if others else finding
            for finding, others in kept.values()]


def _subject(fingerprint: str) -> str:
    """What a finding is about, from its fingerprint: "API003:POST /shares/:location#2" → "POST /shares/"."""
    subject = fingerprint.split(":", 1)[-1].split("#", 1)[0]
    head, _, kind = subject.rpartition(":")
    return head if head and kind.isidentifier() and kind.islower() else subject


Work = list[tuple[str, bytes, str]]  # (path, content, module name) of files to extract


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _chunks(count: int, processes: int) -> list[range]:
    """Small enough that processes finish close together, large enough that handing out chunks stays cheap."""
    size = min(16, max(4, count // (processes * 8)))
    return [range(start, min(count, start + size)) for start in range(0, count, size)]


def _extract_in_parallel(work: Work, helpers: int, cancelled: Callable[[], bool] | None,
                         share: bool) -> Iterator[tuple[FileFacts, bytes | None]]:
    """Helper processes take chunks of files from the front; with `share`, this process takes them from the back.

    This process only takes a chunk it can still cancel in the pool (one no helper has started), so each chunk
    is extracted exactly once, and nobody idles while work remains. What this process extracts itself is never
    pickled and unpickled: shipping facts between processes costs almost as much as extracting them.
    """
    extractors()  # imported once here, inherited by the forked helpers instead of imported in each
    chunks = _chunks(len(work), helpers + (1 if share else 0))
    with ProcessPoolExecutor(max_workers=helpers) as pool:
        futures: list[Future[list[bytes | None]]] = [
            pool.submit(_extract_chunk, [work[index] for index in chunk]) for chunk in chunks]
        front, back = 0, len(chunks) - 1
        while front <= back:
            if cancelled is not None and cancelled():
                pool.shutdown(wait=False, cancel_futures=True)
                return
            if futures[front].done():
                yield from _collect(futures[front], work, chunks[front])
                front += 1
            elif share and futures[back].cancel():
                for index in chunks[back]:
                    relative, data, module = work[index]
                    yield extract_file(relative, data, module=module), None
                back -= 1
            else:  # the rest is in the helpers' hands
                yield from _collect(futures[front], work, chunks[front])
                front += 1


def _collect(future: Future[list[bytes | None]], work: Work, chunk: range) -> Iterator[tuple[FileFacts, bytes | None]]:
    """A helper's results; a file it could not deliver (facts too deep to pickle, a helper killed) is
    extracted here."""
    try:
        blobs: list[bytes | None] = future.result()
    except Exception:  # BrokenProcessPool and the like: the work is still to do
        blobs = []
    if len(blobs) != len(chunk):
        blobs = [None] * len(chunk)
    for index, blob in zip(chunk, blobs, strict=True):
        facts = None
        if blob is not None:
            with contextlib.suppress(*LOAD_ERRORS):
                facts = loads(blob)
        if isinstance(facts, FileFacts):
            yield facts, blob
        else:
            relative, data, module = work[index]
            yield extract_file(relative, data, module=module), None


def _extract_chunk(work: Work) -> list[bytes | None]:
    """Extraction in a helper process, pickled the fast way (the default pickling of facts costs more than
    extracting them)."""
    blobs: list[bytes | None] = []
    with gc_paused():  # everything built here is garbage once pickled: nothing for the collector to find
        for relative, data, module in work:
            try:
                blobs.append(dumps(extract_file(relative, data, module=module)))
            except (RecursionError, pickle.PicklingError):
                blobs.append(None)
    return blobs


def _position(finding: Finding) -> tuple[int, int, str]:
    start = finding.location.span.start
    return (start.line, start.column, finding.code)


def _describe(what: str, error: Exception) -> str:
    where = traceback.extract_tb(error.__traceback__)[-1]
    return f"{what} failed: {type(error).__name__}: {error} ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})"
