"""Minimal hunks, re-anchoring over a user's edits, and the WorkspaceEdit the editor gets."""

from __future__ import annotations

from lsprotocol import types as lsp

from lsp_server.agent.deliver import FileEdit, hunks, rebase, split_lines, text_edits, unified_diff, workspace_edit
from lsp_server.agent.overlay import Change, Snapshot

BEFORE = "".join(f"line {number}\n" for number in range(1, 21))


def change(before: str | None, after: str, path: str = "app/x.py") -> Change:
    return Change(path, before, after, Snapshot(path, before))


def test_hunks_are_minimal() -> None:
    after = BEFORE.replace("line 5\n", "line five\n").replace("line 15\n", "line 15\nline 15b\n")
    found = hunks(BEFORE, after)
    assert [(h.start, h.end, h.new) for h in found] == [(4, 5, ("line five\n",)), (15, 15, ("line 15b\n",))]
    edits = text_edits(BEFORE, after)
    assert edits[0].range == lsp.Range(start=lsp.Position(line=4, character=0), end=lsp.Position(line=5, character=0))


def test_edit_at_the_end_of_a_file_without_final_newline() -> None:
    before = "a\nbé😀"
    edits = text_edits(before, "a\nc")
    assert edits[0].range.end == lsp.Position(line=1, character=4)  # UTF-16: b, é, and a surrogate pair
    assert edits[0].new_text == "c"


def test_rebase_over_a_user_edit_elsewhere() -> None:
    after = BEFORE.replace("line 10\n", "line ten\n")
    user = "# header\n" + BEFORE.replace("line 18\n", "line eighteen\n")
    assert rebase(change(BEFORE, after), user) == "# header\n" + after.replace("line 18\n", "line eighteen\n")


def test_rebase_stops_when_the_user_changed_the_same_lines() -> None:
    after = BEFORE.replace("line 10\n", "line ten\n")
    user = BEFORE.replace("line 10\n", "line 10 (user)\n")
    assert rebase(change(BEFORE, after), user) is None


def test_rebase_stops_when_the_anchor_is_ambiguous() -> None:
    before = "x = 1\ny = 2\n"
    after = "x = 1\ny = 3\n"
    user = "x = 1\ny = 2\nx = 1\ny = 2\n"
    assert rebase(change(before, after), user) is None


def test_rebase_of_a_new_file_that_appeared() -> None:
    assert rebase(change(None, "new\n"), None) == "new\n"
    assert rebase(change(None, "new\n"), "someone else's\n") is None


def vscode_capabilities() -> lsp.ClientCapabilities:
    edits = lsp.WorkspaceEditClientCapabilities(
        document_changes=True, resource_operations=[lsp.ResourceOperationKind.Create],
        change_annotation_support=lsp.ChangeAnnotationsSupportOptions(groups_on_label=True))
    return lsp.ClientCapabilities(workspace=lsp.WorkspaceClientCapabilities(workspace_edit=edits))


def test_workspace_edit_is_versioned_creates_files_and_asks_for_confirmation() -> None:
    files = [FileEdit("app/x.py", "file:///w/app/x.py", BEFORE, BEFORE.replace("line 3\n", "line 3!\n"), 4),
             FileEdit("app/new.py", "file:///w/app/new.py", None, "NEW = 1\n", None)]
    edit = workspace_edit(files, vscode_capabilities(), "Plumbline agent: fix")
    operations = edit.document_changes
    assert operations is not None
    assert isinstance(operations[0], lsp.TextDocumentEdit) and operations[0].text_document.version == 4
    assert isinstance(operations[1], lsp.CreateFile) and operations[1].annotation_id == "plumbline.agent"
    assert isinstance(operations[2], lsp.TextDocumentEdit) and operations[2].edits[0].new_text == "NEW = 1\n"
    assert edit.change_annotations["plumbline.agent"].needs_confirmation is True


def test_single_file_edit_needs_no_confirmation() -> None:
    files = [FileEdit("app/x.py", "file:///w/app/x.py", BEFORE, BEFORE + "more\n", 1)]
    edit = workspace_edit(files, vscode_capabilities(), "fix")
    assert edit.change_annotations is None
    assert isinstance(edit.document_changes[0].edits[0], lsp.TextEdit)


def test_clients_without_document_changes_get_changes_but_cannot_create() -> None:
    files = [FileEdit("app/x.py", "file:///w/app/x.py", BEFORE, BEFORE + "more\n", 1)]
    edit = workspace_edit(files, lsp.ClientCapabilities(), "fix")
    assert list(edit.changes) == ["file:///w/app/x.py"]
    files.append(FileEdit("app/new.py", "file:///w/app/new.py", None, "x\n", None))
    try:
        workspace_edit(files, lsp.ClientCapabilities(), "fix")
    except Exception as error:
        assert "cannot create files" in str(error)
    else:
        raise AssertionError("expected a DeliveryError")


def test_unified_diff() -> None:
    diff = unified_diff([change(BEFORE, BEFORE.replace("line 2\n", "line two\n")), change(None, "x = 1", "app/n.py")])
    assert "--- a/app/x.py" in diff and "+line two" in diff and "--- /dev/null" in diff
    assert "\\ No newline at end of file" in diff
    assert split_lines("a\r\nb") == ["a\r\n", "b"]
