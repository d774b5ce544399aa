"""A stand-in for `plumbline serve`, to check the VS Code harness itself (run.sh with E2E_SERVER=stub).

It imitates the real server's contract closely enough for drive.js: DB003 on a SQLAlchemy `ForeignKey(...)`
column without `index=True` (source "plumbline", data.fingerprint), a preferred quick fix that adds
`index=True`, `$/progress` titled "Plumbline: scanning" and "Plumbline agent: ...", and the commands
plumbline.implementEndpoint (one call to the Messages API at ANTHROPIC_BASE_URL, whose `create` tool calls
become one WorkspaceEdit), plumbline.fixAll, plumbline.showRuleDocs and plumbline.fixWithAgent (a no-op).
It is not the product: the real end-to-end test runs the real server.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer

server = LanguageServer("plumbline-stub", "0.0.0")
FK = re.compile(r"^(\s*)(\w+)\s*=\s*Column\((.*ForeignKey\(.*)\)\s*$")


def findings(text: str) -> list[t.Diagnostic]:
    out = []
    for i, line in enumerate(text.split("\n")):
        m = FK.match(line)
        if m and "index=True" not in line and "primary_key" not in line:
            start = len(m.group(1))
            out.append(
                t.Diagnostic(
                    range=t.Range(t.Position(i, start), t.Position(i, len(line.rstrip()))),
                    message=f"{m.group(2)} is a foreign key without an index (PostgreSQL does not create one)",
                    severity=t.DiagnosticSeverity.Warning,
                    source="plumbline",
                    code="DB003",
                    data={"fingerprint": f"DB003:{m.group(2)}"},
                )
            )
    return out


def publish(ls: LanguageServer, uri: str) -> None:
    doc = ls.workspace.get_text_document(uri)
    ls.text_document_publish_diagnostics(
        t.PublishDiagnosticsParams(uri=uri, version=doc.version, diagnostics=findings(doc.source))
    )


def fix_edit(line: str, line_no: int) -> t.TextEdit:
    end = line.rstrip().rfind(")")
    return t.TextEdit(range=t.Range(t.Position(line_no, end), t.Position(line_no, end)), new_text=", index=True")


@server.feature(t.INITIALIZED)
async def initialized(ls: LanguageServer, params: t.InitializedParams) -> None:
    token = str(uuid.uuid4())
    await ls.work_done_progress.create_async(token)
    ls.work_done_progress.begin(token, t.WorkDoneProgressBegin(title="Plumbline: scanning", percentage=0))
    for pct in (30, 60, 90):
        await asyncio.sleep(0.2)
        ls.work_done_progress.report(token, t.WorkDoneProgressReport(percentage=pct))
    ls.work_done_progress.end(token, t.WorkDoneProgressEnd())


@server.feature(t.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: t.DidOpenTextDocumentParams) -> None:
    publish(ls, params.text_document.uri)


@server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: t.DidChangeTextDocumentParams) -> None:
    publish(ls, params.text_document.uri)


@server.feature(
    t.TEXT_DOCUMENT_CODE_ACTION,
    t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix, "source.fixAll.plumbline"]),
)
def code_action(ls: LanguageServer, params: t.CodeActionParams) -> list[t.CodeAction]:
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    actions = []
    for d in findings(doc.source):
        if d.range.start.line < params.range.start.line or d.range.start.line > params.range.end.line:
            continue
        line_no = d.range.start.line
        name = d.data["fingerprint"].split(":", 1)[1]
        actions.append(
            t.CodeAction(
                title=f"Add index=True to {name}",
                kind=t.CodeActionKind.QuickFix,
                diagnostics=[d],
                is_preferred=True,
                edit=t.WorkspaceEdit(changes={uri: [fix_edit(doc.lines[line_no], line_no)]}),
            )
        )
        actions.append(
            t.CodeAction(
                title="Fix with agent",
                kind=t.CodeActionKind.QuickFix,
                diagnostics=[d],
                command=t.Command(
                    title="Fix with agent",
                    command="plumbline.fixWithAgent",
                    arguments=[{"uri": uri, "fingerprint": d.data["fingerprint"]}],
                ),
            )
        )
    return actions


@server.command("plumbline.fixWithAgent")
def fix_with_agent(ls: LanguageServer, args: dict) -> None:
    return None


@server.command("plumbline.showRuleDocs")
def show_rule_docs(ls: LanguageServer, args: dict) -> str:
    return f"# {args.get('code')}\n\nStub documentation."


@server.command("plumbline.fixAll")
async def fix_all(ls: LanguageServer, args: dict) -> None:
    uri = args["uri"]
    doc = ls.workspace.get_text_document(uri)
    edits = [fix_edit(doc.lines[d.range.start.line], d.range.start.line) for d in findings(doc.source)]
    if edits:
        await ls.workspace_apply_edit_async(
            t.ApplyWorkspaceEditParams(edit=t.WorkspaceEdit(changes={uri: edits}), label="Plumbline: fix all")
        )


@server.command("plumbline.implementEndpoint")
async def implement_endpoint(ls: LanguageServer, args: dict) -> dict:
    import anthropic

    root = Path(unquote(urlparse(ls.workspace.root_uri).path))
    token = str(uuid.uuid4())
    await ls.work_done_progress.create_async(token)
    ls.work_done_progress.begin(token, t.WorkDoneProgressBegin(title="Plumbline agent: implementing endpoint"))
    try:
        client = anthropic.AsyncAnthropic()
        reply = await client.messages.create(
            model="stub",
            max_tokens=1000,
            tools=[{"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}],
            messages=[{"role": "user", "content": args["description"]}],
        )
        changes: list = []
        for block in reply.content:
            if block.type == "tool_use" and block.input.get("command") == "create":
                uri = (root / block.input["path"]).as_uri()
                changes.append(
                    t.CreateFile(uri=uri, options=t.CreateFileOptions(ignore_if_exists=True), annotation_id="agent")
                )
                changes.append(
                    t.TextDocumentEdit(
                        text_document=t.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                        edits=[
                            t.AnnotatedTextEdit(
                                range=t.Range(t.Position(0, 0), t.Position(0, 0)),
                                new_text=block.input["file_text"],
                                annotation_id="agent",
                            )
                        ],
                    )
                )
        await ls.workspace_apply_edit_async(
            t.ApplyWorkspaceEditParams(
                edit=t.WorkspaceEdit(
                    document_changes=changes,
                    # like the real server: a multi-file edit asks for confirmation (VS Code's refactor preview)
                    change_annotations={
                        "agent": t.ChangeAnnotation(label="Implement endpoint", needs_confirmation=True)
                    },
                ),
                label="Implement endpoint",
            )
        )
        return {"message": f"created {len(changes) // 2} files"}
    finally:
        ls.work_done_progress.end(token, t.WorkDoneProgressEnd())


if __name__ == "__main__":
    server.start_io()
