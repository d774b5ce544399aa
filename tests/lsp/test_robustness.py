"""The server under stress: long scans (answered requests, cancellation), failing rules, abrupt clients."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from lsprotocol import types

from tests.lsp.conftest import session, uri

MODEL = '''from sqlalchemy import Column, DateTime, ForeignKey, Integer
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class Thing{index}(Base):
    __tablename__ = "things{index}"
    id = Column(Integer, primary_key=True)
    owner_id = Column(Integer, ForeignKey("owners.id"))
    created_at = Column(DateTime, server_default="now()")
    updated_at = Column(DateTime, server_default="now()", onupdate="now()")
'''


def _large_project(root: Path, files: int) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.plumbline]\ndatabase = "postgresql"\nselect = ["DB003"]\n')
    (root / "app/__init__.py").write_text("")
    for index in range(files):
        (root / f"app/thing{index}.py").write_text(MODEL.format(index=index))
    return root


def _ended(reports: list[object]) -> types.WorkDoneProgressEnd | None:
    return next((report for report in reports if isinstance(report, types.WorkDoneProgressEnd)), None)


async def test_requests_are_answered_while_the_scan_runs(tmp_path: Path) -> None:
    root = _large_project(tmp_path / "big", 900)
    async with session(root) as s:
        await s.until(lambda: bool(s.client.progress_reports), what="the scan to begin")
        token = next(iter(s.client.progress_reports))
        document = s.open(root / "app/thing1.py")
        started = time.monotonic()
        markdown = await s.client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="plumbline.showRuleDocs", arguments=[{"code": "DB003"}]))
        actions = await s.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=document),
            range=types.Range(start=types.Position(line=9, character=0), end=types.Position(line=9, character=0)),
            context=types.CodeActionContext(diagnostics=[])))
        answered = time.monotonic() - started
        assert markdown.startswith("### DB003") and actions is None  # no results yet: nothing to act on
        assert _ended(s.client.progress_reports[token]) is None, "the scan ended before the requests were answered"
        assert answered < 2.0
        await s.until(lambda: _ended(s.client.progress_reports[token]) is not None, timeout=120, what="scan end")
        await s.until(lambda: s.codes(root / "app/thing899.py") == ["DB003"], timeout=60)


async def test_the_scan_can_be_cancelled(tmp_path: Path) -> None:
    root = _large_project(tmp_path / "big", 900)
    async with session(root) as s:
        await s.until(lambda: bool(s.client.progress_reports), what="the scan to begin")
        token = next(iter(s.client.progress_reports))
        s.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        await s.until(lambda: _ended(s.client.progress_reports[token]) is not None, timeout=60, what="scan end")
        end = _ended(s.client.progress_reports[token])
        assert end is not None and end.message == "cancelled"
        # The server goes on: an open file is still analysed.
        document = s.open(root / "app/thing0.py")
        await s.until(lambda: s.codes(root / "app/thing0.py") == ["DB003"], what="the open file analysed")
        assert document


BROKEN_RULE = """
import sys
from analyzers.rules import Rule, all_rules

def broken(project, options):
    raise RuntimeError("deliberately broken rule")
    yield

all_rules()["ZZZ999"] = Rule(code="ZZZ999", name="broken", summary="always fails", check=broken)
from lsp_server.server import main
sys.exit(main())
"""


async def test_a_failing_rule_is_contained_logged_and_shown_once(shop: Path) -> None:
    async with session(shop, options={"select": ["DB003", "ZZZ999"]}, command=[sys.executable, "-c", BROKEN_RULE]) as s:
        models = shop / "app/models/orders.py"
        await s.until(lambda: s.codes(models) == ["DB003"], what="the other rules' findings")
        await s.until(lambda: any("ZZZ999" in m.message for m in s.client.messages), what="the failure shown")
        document = s.open(models)
        s.change(document, (0, 0), (0, 0), "# edited\n")
        await s.until(lambda: [p.version for p in s.published if p.uri == document][-1:] == [2])
        shown = [m for m in s.client.messages if "ZZZ999" in m.message]
        logged = [m for m in s.client.log_messages if "deliberately broken rule" in m.message]
        assert len(shown) == 1 and shown[0].type == types.MessageType.Warning
        assert len(logged) == 1 and logged[0].type == types.MessageType.Error


async def test_a_client_that_vanishes_does_not_leave_the_server_running(shop: Path) -> None:
    async with session(shop) as s:
        await s.until(lambda: len(s.client.diagnostics) == 3)
        server = s.client._server
        assert server is not None and server.stdin is not None
        server.stdin.close()  # the editor crashed: no shutdown, no exit
        await asyncio.wait_for(server.wait(), 20)
        s.client.capabilities = None  # nothing left to shut down
    assert server.returncode is not None


async def test_open_close_and_edit_storm(shop: Path) -> None:
    async with session(shop) as s:
        models = shop / "app/models/orders.py"
        await s.until(lambda: s.codes(models) == ["DB003"])
        for round_ in range(20):
            document = s.open(models)
            s.change(document, (0, 0), (0, 0), f"# round {round_}\n")
            s.close(document)
        document = s.open(models)
        line = s.line_of(document, "customer_id")
        s.replace_line(document, line, "    customer_id: Mapped[int] = mapped_column(ForeignKey(\"customers.id\"), "
                                       "index=True)")
        await s.until(lambda: s.codes(models) == [], what="the last state wins")
        assert uri(models) == document
