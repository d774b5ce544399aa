"""Keystroke-speed analysis stays exact: the incremental summary equals a full one, and after any sequence of edits
the diagnostics equal those of a fresh engine run over the same text (in process and through a real server)."""

from __future__ import annotations

import asyncio
import gc
import random
import shutil
import weakref
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from analyzers.config import load_config
from analyzers.engine import Workspace
from analyzers.pysyntax import Class, Function, Module, summarize
from lsp_server.convert import FileView, Lines, diagnostic, path_to_uri
from lsp_server.documents import OpenDocument, Reparser
from lsp_server.incremental import edited_lines, incremental_summary
from lsp_server.workspace_state import Analyzer, Collector, DocumentSnapshot, RootState, Work, disk_view, rule_url
from tests.lsp.conftest import PROJECTS, session, uri

UTF16 = types.PositionEncodingKind.Utf16

MODULE = '''"""Prices."""

from decimal import Decimal

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from app.db import get_db
from app.models import Order

router = APIRouter(prefix="/prices")
RATE = Decimal("0.2")


def with_tax(amount: Decimal, rate: Decimal = RATE) -> Decimal:
    total = amount
    for _ in range(3):
        total = total + total * rate / 3
    return round(total, 2)


@router.get("/")
def list_prices(db: Session = Depends(get_db)) -> list[dict]:
    return [{"id": order.id, "total": with_tax(order.total)} for order in db.query(Order).all()]


class Ledger:
    """Running totals."""

    def __init__(self) -> None:
        self.entries: list[Decimal] = []

    def add(self, amount: Decimal) -> None:
        self.entries.append(with_tax(amount))  # rounded once


def audit(db: Session) -> int:
    count = 0
    for order in db.query(Order).all():
        count += 1
    return count
'''

SNIPPETS = ["x", " ", "(", ")", ":", "=", "\n", "'", '"', "#", ".", ",", "0", "total", "    total = total + 1\n",
            "db.query(Order).all()", "return [", "pass", "async ", "import os\n", "  # plumbline: ignore[API001]",
            "  # plumbline: ignore[QRY001]", '@router.get("/x")\n', "def helper():\n    return 1\n", "\t"]


def _change(start: tuple[int, int], end: tuple[int, int], text: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(line=start[0], character=start[1]),
                          end=types.Position(line=end[0], character=end[1])), text=text)


def _random_change(rng: random.Random, text: str) -> types.TextDocumentContentChangePartial:
    """Mostly typing and deleting on one line (what keystrokes are), sometimes across lines."""
    lines = text.split("\n")
    line = rng.randrange(len(lines))
    column = rng.randrange(len(lines[line]) + 1)
    roll = rng.random()
    if roll < 0.3:  # a character typed after a word, where code is typed
        words = [index for index in range(1, len(lines[line]) + 1) if lines[line][index - 1].isalnum()]
        column = rng.choice(words) if words else column
        return _change((line, column), (line, column), rng.choice("abxyz0_ "))
    if roll < 0.6:
        return _change((line, column), (line, column), rng.choice(SNIPPETS))
    if roll < 0.9:
        end = min(len(lines[line]), column + rng.randrange(1, 6))
        return _change((line, column), (line, end), "")
    end_line = min(len(lines) - 1, line + rng.randrange(0, 3))
    return _change((line, column), (end_line, rng.randrange(len(lines[end_line]) + 1)), rng.choice(SNIPPETS))


# --------------------------------------------------------------------------------------------- the summary


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 45), st.integers(0, 60), st.integers(0, 3),
                          st.sampled_from([*SNIPPETS, "'é🛒'", "# ü"])), min_size=1, max_size=6),
       st.sampled_from(["\n", "\r\n"]))
def test_the_incremental_summary_equals_a_full_one(edits: list[tuple[int, int, int, str]], newline: str) -> None:
    source = MODULE.replace("\n", newline).replace('"0.2"', '"0.2 €"')
    document = OpenDocument("file:///prices.py", Path("prices.py"), 1, source)
    reparser = Reparser()
    data, pending = document.take_snapshot()
    reparser.reparse(document.uri, data, pending)
    module = summarize(data, "app.prices", "app/prices.py")
    for line, column, deleted, inserted in edits:
        lines = document.text.split("\n")
        line = min(line, len(lines) - 1)
        column = min(column, len(lines[line]))
        text = "" if deleted and inserted == "\n" else inserted
        document.apply(_change((line, column), (line, min(len(lines[line]), column + deleted)), text), UTF16)
        old_data = data
        data, pending = document.take_snapshot()
        reparsed = reparser.reparse(document.uri, data, pending)
        assert reparsed is not None
        full = summarize(data, "app.prices", "app/prices.py")
        if reparsed.previous is not None:
            rows = edited_lines(reparsed.previous, reparsed.tree, reparsed.edits, reparsed.changed_ranges())
            if rows is not None:
                incremental = incremental_summary(module, data, reparsed.tree, old_data, rows)
                assert incremental is None or incremental == full
        module = full


def test_typing_in_a_function_body_is_summarised_incrementally() -> None:
    document = OpenDocument("file:///prices.py", Path("prices.py"), 1, MODULE)
    reparser = Reparser()
    data, pending = document.take_snapshot()
    reparser.reparse(document.uri, data, pending)
    module = summarize(data, "app.prices", "app/prices.py")
    line = MODULE.split("\n").index("    total = amount")
    incremental_steps = 0
    for column, char in enumerate(" * Decimal(1)"):
        document.apply(_change((line, 18 + column), (line, 18 + column), char), UTF16)
        old_data = data
        data, pending = document.take_snapshot()
        reparsed = reparser.reparse(document.uri, data, pending)
        assert reparsed is not None and reparsed.previous is not None
        rows = edited_lines(reparsed.previous, reparsed.tree, reparsed.edits, reparsed.changed_ranges())
        assert rows is not None and rows[0] <= line <= rows[1]
        incremental = incremental_summary(module, data, reparsed.tree, old_data, rows)
        full = summarize(data, "app.prices", "app/prices.py")
        if incremental is not None:
            incremental_steps += 1
            assert incremental == full
            assert incremental.classes[0] is module.classes[0]  # statements after the edit are re-used as they are
        module = full
    assert incremental_steps >= 10


# --------------------------------------------------------------------------------------------- in process


def _project(tmp_path: Path) -> Path:
    """The shop project with every default rule on, and a module whose helper bodies no rule reads."""
    root = tmp_path / "shop"
    shutil.copytree(PROJECTS / "shop", root, ignore=shutil.ignore_patterns(".plumbline_cache"))
    (root / "pyproject.toml").write_text('[project]\nname = "shop"\n\n[tool.plumbline]\ndatabase = "postgresql"\n')
    (root / "app/prices.py").write_text(MODULE, encoding="utf-8")
    return root


class Editor:
    """The analysis thread driven directly: a document edited change by change, what it publishes kept per path."""

    def __init__(self, root: Path, relative: str) -> None:
        self.folder = root
        self.relative = relative
        config = load_config(root)
        self.root = RootState(root, file_config=config, config=config)
        self.analyzer = Analyzer(UTF16)
        scanned = Workspace(root, config)
        scanned.scan(jobs=1)
        self.published: dict[str, list[types.Diagnostic]] = {}
        self._run(Work(installs=[(self.root, scanned, self.root.scan_generation)]))
        self.document = OpenDocument(path_to_uri(root / relative), root / relative, 1,
                                     (root / relative).read_text(encoding="utf-8"))
        self.quiet_runs = 0
        self.snapshot()

    def _run(self, work: Work) -> None:
        report = self.analyzer.run(work)
        assert not report.failures, report.failures
        for outcome in report.outcomes:
            for path, changed in outcome.changed.items():
                self.published[path] = changed.diagnostics

    def edit(self, change: types.TextDocumentContentChangePartial) -> None:
        self.document.apply(change, UTF16)
        self.document.version += 1

    def snapshot(self) -> None:
        before = self.analyzer.results.get(self.root)
        data, edits = self.document.take_snapshot()
        self._run(Work(documents={self.document.uri: DocumentSnapshot(
            self.document.uri, self.root, self.relative, self.document.version, data, edits)}))
        after = self.analyzer.results.get(self.root)
        if before is not None and after is not None and after.project is before.project:
            self.quiet_runs += 1

    def expected(self) -> dict[str, list[types.Diagnostic]]:
        """A fresh engine over the same text, converted the way the server converts."""
        fresh = Workspace(self.folder, load_config(self.folder))
        fresh.scan(jobs=1)
        fresh.update_file(self.relative, self.document.text.encode("utf-8"))
        edited = FileView(self.document.uri, Lines(self.document.text), self.document.version)

        def viewer(path: str) -> FileView:
            return edited if path == self.relative else disk_view(self.folder, path)

        return {path: [diagnostic(finding, viewer(path), viewer, UTF16, rule_url(finding.code))
                       for finding in findings]
                for path, findings in fresh.check().findings.items() if findings}

    def shown(self) -> dict[str, list[types.Diagnostic]]:
        return {path: diagnostics for path, diagnostics in self.published.items() if diagnostics}


def _reset(text: str) -> types.TextDocumentContentChangePartial:
    """Everything replaced by the original module (an undo of every edit), so that edits keep landing in mostly
    valid code."""
    lines = text.split("\n")
    return _change((0, 0), (len(lines) - 1, len(lines[-1])), MODULE)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_diagnostics_after_random_edits_equal_a_fresh_check(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    editor = Editor(_project(tmp_path), "app/prices.py")
    for step in range(90):
        if step % 12 == 11:
            editor.edit(_reset(editor.document.text))
        editor.edit(_random_change(rng, editor.document.text))
        if rng.random() < 0.7:  # several edits in one run sometimes, as when typing outruns the analysis
            editor.snapshot()
        if step % 3 == 0:
            editor.snapshot()
            assert editor.shown() == editor.expected(), f"step {step}"
    editor.snapshot()
    assert editor.shown() == editor.expected()
    assert editor.quiet_runs > 0


def test_typing_in_an_unread_helper_keeps_the_result_and_typing_in_a_handler_does_not(tmp_path: Path) -> None:
    editor = Editor(_project(tmp_path), "app/prices.py")
    lines = MODULE.split("\n")
    helper = lines.index("    total = amount")
    for column, char in enumerate(" + 0"):
        editor.edit(_change((helper, 18 + column), (helper, 18 + column), char))
        editor.snapshot()
    assert editor.quiet_runs == 4
    assert editor.shown() == editor.expected()
    handler = next(number for number, line in enumerate(lines) if "db.query(Order).all()]" in line)
    column = lines[handler].index(".all()")
    editor.edit(_change((handler, column), (handler, column + len(".all()")), ".limit(10).all()"))
    editor.snapshot()
    assert editor.quiet_runs == 4  # the handler's body is what API001 reads: checked again
    assert editor.shown() == editor.expected()


def test_a_plain_comment_keeps_the_result_and_a_suppression_does_not(tmp_path: Path) -> None:
    editor = Editor(_project(tmp_path), "app/prices.py")
    loop = MODULE.split("\n").index("    for order in db.query(Order).all():")
    end = len("    for order in db.query(Order).all():")
    editor.edit(_change((loop, end), (loop, end), "  # every order"))
    editor.snapshot()
    assert editor.quiet_runs == 1
    editor.edit(_change((loop + 1, 17), (loop + 1, 17), "  # plumbline: ignore[QRY001] counted on purpose"))
    editor.snapshot()
    assert editor.quiet_runs == 1
    assert editor.shown() == editor.expected()


def test_a_watched_check_leaves_the_summary_types_as_they_were(tmp_path: Path) -> None:
    editor = Editor(_project(tmp_path), "app/prices.py")
    module = editor.root.engine.files["app/prices.py"].python
    assert module is not None and type(module) is Module
    assert all(type(function) is Function for function in module.functions)
    assert all(type(cls) is Class for cls in module.classes)
    reads = editor.analyzer.tracker(editor.root).reads["app/prices.py"]
    assert reads.module is module
    assert reads.fields[id(module)] >= {"functions", "classes", "imports"}
    helper = next(function for function in module.functions if function.name == "with_tax")
    assert not {"assigns", "calls", "loops"} & reads.fields[id(helper)]  # nobody across files reads its body


# --------------------------------------------------------------------------------------------- a real server


async def test_a_real_server_after_random_edits_shows_what_a_fresh_check_shows(tmp_path: Path) -> None:
    root = _project(tmp_path)
    relative = "app/prices.py"
    rng = random.Random(7)
    async with session(root) as s:
        await s.until(lambda: bool(s.client.diagnostics), what="the first diagnostics")
        document = s.open(root / relative)
        mirror = OpenDocument(document, root / relative, 1, s.texts[document])
        for round_number in range(6):
            for _ in range(rng.randrange(1, 12)):
                change = _random_change(rng, s.texts[document])
                s.change(document, (change.range.start.line, change.range.start.character),
                         (change.range.end.line, change.range.end.character), change.text)
                mirror.apply(change, UTF16)
            assert mirror.text == s.texts[document]
            # A code action request waits until the document's current version is analysed; everything that
            # run published reaches the client before the answer.
            await s.client.text_document_code_action_async(types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=document),
                range=types.Range(start=types.Position(line=0, character=0),
                                  end=types.Position(line=0, character=0)),
                context=types.CodeActionContext(diagnostics=[])))
            editor_view = FileView(document, Lines(mirror.text), None)
            fresh = Workspace(root, load_config(root))
            fresh.scan(jobs=1)
            fresh.update_file(relative, mirror.text.encode("utf-8"))

            def viewer(path: str, view: FileView = editor_view) -> FileView:
                return view if path == relative else disk_view(root, path)

            expected = {uri(root / path): [(str(d.code), d.range, d.message) for d in (
                diagnostic(finding, viewer(path), viewer, UTF16, rule_url(finding.code)) for finding in findings)]
                for path, findings in fresh.check().findings.items() if findings}
            shown = {key: [(str(d.code), d.range, d.message) for d in value]
                     for key, value in s.client.diagnostics.items() if value}
            assert shown == expected, f"round {round_number}"


# --------------------------------------------------------------------------------------------- garbage collection


class _Cycle:
    me: object = None


async def test_the_collector_waits_for_a_pause_then_collects_and_freezes() -> None:
    loop = asyncio.get_running_loop()
    collector = Collector()
    busy = [True]
    was_enabled = gc.isenabled()
    try:
        collector.hold()
        assert not gc.isenabled()
        cycle = _Cycle()
        cycle.me = cycle  # garbage only the collector can free
        gone = weakref.ref(cycle)
        del cycle
        collector.release_when_idle(loop, lambda: not busy[0])
        await asyncio.sleep(Collector.IDLE_SECONDS * 2)
        assert not gc.isenabled()  # still busy: nothing collected yet
        busy[0] = False
        frozen = gc.get_freeze_count()
        await asyncio.sleep(Collector.IDLE_SECONDS * 2)
        assert gc.isenabled() == was_enabled
        assert gc.get_freeze_count() >= frozen
        assert gone() is None
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
