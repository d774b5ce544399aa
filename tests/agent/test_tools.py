"""The tools against the overlay: the text editor's rules and the read-only tools."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.agent.overlay import OpenDocument, Overlay
from lsp_server.agent.policy import Policy
from lsp_server.agent.tools import EDITOR_TOOL_NAME, ToolExecutor, tool_definitions
from lsp_server.agent.verify import EngineSnapshot
from tests.agent.helpers import FK_FIXED, FK_LINE, scan


def editor(executor: ToolExecutor, command: str, path: str, **arguments):
    return executor.run(EDITOR_TOOL_NAME, {"command": command, "path": path, **arguments})


@pytest.fixture
def executor(shop: Path) -> ToolExecutor:
    overlay = Overlay(Policy(shop))
    return ToolExecutor(overlay, EngineSnapshot.of(scan(shop)).findings_provider(overlay))


def test_definitions_use_the_text_editor_and_cache_the_last_tool() -> None:
    tools = tool_definitions()
    assert tools[0] == {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool",
                        "max_characters": tools[0]["max_characters"]}
    assert [tool["name"] for tool in tools[1:]] == ["search_workspace", "list_files", "file_findings"]
    assert tools[-1]["cache_control"] == {"type": "ephemeral"}


def test_str_replace_needs_a_view_first(executor: ToolExecutor) -> None:
    result = editor(executor, "str_replace", "app/models.py", old_str=FK_LINE, new_str=FK_FIXED)
    assert result.is_error and "View app/models.py first" in result.content
    editor(executor, "view", "app/models.py")
    assert not editor(executor, "str_replace", "app/models.py", old_str=FK_LINE, new_str=FK_FIXED).is_error
    assert FK_FIXED in executor.overlay.read("app/models.py")


def test_ambiguous_match_says_where_the_candidates_are(executor: ToolExecutor) -> None:
    editor(executor, "view", "app/models.py")
    result = editor(executor, "str_replace", "app/models.py", old_str="    created_at", new_str="    made_at")
    assert result.is_error and "matches 2 places" in result.content and "lines 14, 24" in result.content


def test_missing_match_points_at_near_misses(executor: ToolExecutor) -> None:
    editor(executor, "view", "app/models.py")
    result = editor(executor, "str_replace", "app/models.py", old_str=FK_LINE.replace("=False", " = False"),
                    new_str="x")
    assert result.is_error and "No match" in result.content and "line(s) 22" in result.content


@pytest.mark.parametrize("placeholder", [
    "    # ... existing code ...\n",
    "    // ... rest of the file unchanged\n",
    "# existing fields here\n",
    "... remaining code\n",
    "# rest of the class unchanged\n",
])
def test_placeholders_are_refused(executor: ToolExecutor, placeholder: str) -> None:
    editor(executor, "view", "app/models.py")
    result = editor(executor, "str_replace", "app/models.py", old_str=FK_LINE, new_str=FK_FIXED + placeholder)
    assert result.is_error and "placeholder" in result.content
    assert FK_LINE in executor.overlay.read("app/models.py")


def test_create_refuses_existing_files_and_writes_new_ones(executor: ToolExecutor) -> None:
    result = editor(executor, "create", "app/models.py", file_text="x = 1\n")
    assert result.is_error and "already exists" in result.content
    assert not editor(executor, "create", "app/refunds.py", file_text="REFUNDS = []\n").is_error
    assert executor.overlay.read("app/refunds.py") == "REFUNDS = []\n"
    assert [change.path for change in executor.overlay.changes()] == ["app/refunds.py"]


def test_insert_after_a_line(executor: ToolExecutor) -> None:
    editor(executor, "view", "app/db.py")
    assert not editor(executor, "insert", "app/db.py", insert_line=0, new_str="# database\n").is_error
    assert executor.overlay.read("app/db.py").startswith("# database\nimport os\n")
    result = editor(executor, "insert", "app/db.py", insert_line=999, insert_text="x")
    assert result.is_error and "insert_line" in result.content


def test_view_range_and_directories(executor: ToolExecutor) -> None:
    result = editor(executor, "view", "app/models.py", view_range=[20, 22])
    assert result.content.splitlines()[0].strip().startswith("20") and len(result.content.splitlines()) == 3
    listing = editor(executor, "view", "app").content
    assert "app/models.py" in listing and "app/routes/orders.py" in listing
    assert editor(executor, "view", "app/models.py", view_range=[50, 10]).is_error


def test_open_documents_are_read_with_their_unsaved_text(shop: Path) -> None:
    overlay = Overlay(Policy(shop), {"app/db.py": OpenDocument("UNSAVED = True\n", version=7)})
    executor = ToolExecutor(overlay)
    assert "UNSAVED" in editor(executor, "view", "app/db.py").content
    assert overlay.snapshots["app/db.py"].version == 7


def test_search_and_list_skip_secrets(executor: ToolExecutor) -> None:
    found = executor.run("search_workspace", {"pattern": "hunter2|DATABASE_URL"}).content
    assert "app/db.py" in found and "hunter2" not in found and ".env:" not in found
    listing = executor.run("list_files", {}).content
    assert "app/models.py" in listing and ".env" not in listing.split()
    assert executor.run("search_workspace", {"pattern": "(unclosed"}).content == "No matches."


def test_file_findings_see_the_overlay(executor: ToolExecutor) -> None:
    before = executor.run("file_findings", {"path": "app/models.py"}).content
    assert "DB003" in before
    editor(executor, "view", "app/models.py")
    editor(executor, "str_replace", "app/models.py", old_str=FK_LINE, new_str=FK_FIXED)
    assert executor.run("file_findings", {"path": "app/models.py"}).content == "No findings in app/models.py."


def test_bad_inputs_come_back_as_errors(executor: ToolExecutor) -> None:
    assert executor.run(EDITOR_TOOL_NAME, "not an object").is_error
    assert executor.run(EDITOR_TOOL_NAME, {"command": "undo_edit", "path": "app/db.py"}).is_error
    assert executor.run(EDITOR_TOOL_NAME, {"command": "view"}).is_error
    assert executor.run("rm_rf", {}).is_error
    assert editor(executor, "view", "app/nope.py").is_error


_inputs = st.fixed_dictionaries({}, optional={
    "command": st.sampled_from(["view", "str_replace", "create", "insert", "undo_edit", ""]),
    "path": st.one_of(st.text(max_size=30), st.sampled_from(["app/models.py", ".env", "../x", "/", "app", ""]),
                      st.integers()),
    "old_str": st.one_of(st.text(max_size=20), st.none()),
    "new_str": st.one_of(st.text(max_size=20), st.integers()),
    "file_text": st.text(max_size=20),
    "insert_line": st.one_of(st.integers(-5, 50), st.text(max_size=3)),
    "view_range": st.one_of(st.lists(st.integers(-3, 40), max_size=3), st.text(max_size=3)),
    "pattern": st.text(max_size=10),
})


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from([EDITOR_TOOL_NAME, "search_workspace", "list_files", "file_findings", "nope"]),
       arguments=_inputs)
def test_any_tool_input_yields_a_result(name: str, arguments: dict) -> None:
    root = Path(__file__).parent / "projects" / "shop"
    executor = ToolExecutor(Overlay(Policy(root)))
    executor.viewed.add("app/models.py")
    result = executor.run(name, arguments)
    assert isinstance(result.content, str)
