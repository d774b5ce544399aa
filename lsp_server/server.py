"""`plumbline serve`: the language server (pygls, stdio).

Thin handlers over `ServerState` (lsp_server/workspace_state.py), which owns the engines, the open documents and
the analysis loop, and `actions` (code actions, hover, fix-all). Nothing here analyses code.

For other parts of the server (the agent's `lsp_server.agent.commands.register(server)`), `server.state` offers:
- `state.root_for(uri)` → the root of a file (`.folder`, `.config`, `.result`, `.loose` for a file outside every
  folder); `state.locate(uri)` → (root, project-relative path); `state.roots()` → the workspace folders;
  `state.all_roots()` → every root, single-file ones included;
- `state.document(uri)` → the open document (`.text`, `.version`), None when not open; `state.documents` → every
  open document by URI; `state.text_of(uri)` → the buffer, else the file on disk;
- `state.findings(uri)`, `state.finding(uri, fingerprint)` → the latest findings of a file;
- `await state.engine_copy(uri)` → a private engine (`analyzers.engine.Workspace`) sharing the root's facts, for
  checking an overlay; `await state.run_on_engine(uri, fn)` runs `fn(engine)` on the analysis thread;
- `state.capabilities` (also `server.client_capabilities`), `state.encoding` (the position encoding),
  `state.log(message)`, `state.show_once(message, kind)`.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import sys
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from lsp_server import __version__
from lsp_server.actions import FIX_ALL_KIND, code_actions, fix_all_edit, hover, rule_markdown
from lsp_server.workspace_state import ServerState

AGENT_MISSING = "The Plumbline agent is not available in this build"


class PlumblineServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("plumbline", __version__)
        self.state = ServerState(self)

    def shutdown(self) -> None:
        """Also on a lost connection (no `shutdown` request): stop scans so the process can exit."""
        self.state.shutdown()
        super().shutdown()


server = PlumblineServer()


@server.feature(types.INITIALIZE)
def initialize(ls: PlumblineServer, params: types.InitializeParams) -> None:
    ls.state.initialize(params)


@server.feature(types.INITIALIZED)
async def initialized(ls: PlumblineServer, params: types.InitializedParams) -> None:
    await ls.state.start()


@server.feature(types.SHUTDOWN)
def shutdown(ls: PlumblineServer, params: None) -> None:
    ls.state.shutdown()


# --------------------------------------------------------------------------------------------- documents


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: PlumblineServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.state.open(params.text_document)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: PlumblineServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.state.change(params)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: PlumblineServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.state.close(params.text_document.uri)


# --------------------------------------------------------------------------------------------- outside changes


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(ls: PlumblineServer, params: types.DidChangeWatchedFilesParams) -> None:
    ls.state.files_changed(params.changes)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: PlumblineServer, params: types.DidChangeConfigurationParams) -> None:
    await ls.state.configuration_changed(params.settings)


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def did_change_folders(ls: PlumblineServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
    ls.state.add_folders(params.event.added, params.event.removed)


# --------------------------------------------------------------------------------------------- diagnostics (pull)


@server.feature(types.TEXT_DOCUMENT_DIAGNOSTIC, types.DiagnosticOptions(
    identifier="plumbline", inter_file_dependencies=True, workspace_diagnostics=True))
async def document_diagnostic(ls: PlumblineServer, params: types.DocumentDiagnosticParams) -> Any:
    await ls.state.wait_analysed(params.text_document.uri)
    diagnostics, result_id = ls.state.diagnostics_of(params.text_document.uri)
    if result_id is not None and result_id == params.previous_result_id:
        return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
    return types.RelatedFullDocumentDiagnosticReport(items=diagnostics, result_id=result_id)


@server.feature(types.WORKSPACE_DIAGNOSTIC)
def workspace_diagnostic(ls: PlumblineServer, params: types.WorkspaceDiagnosticParams) -> Any:
    previous = {item.uri: item.value for item in params.previous_result_ids}
    return types.WorkspaceDiagnosticReport(items=ls.state.workspace_reports(previous))


# --------------------------------------------------------------------------------------------- actions, hover


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=False))
async def code_action(ls: PlumblineServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    await ls.state.wait_analysed(params.text_document.uri)  # edits must fit the text the client has now
    return code_actions(ls.state, params)


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def on_hover(ls: PlumblineServer, params: types.HoverParams) -> types.Hover | None:
    await ls.state.wait_analysed(params.text_document.uri)
    return hover(ls.state, params)


# --------------------------------------------------------------------------------------------- commands


def _argument(arguments: tuple[Any, ...], key: str, position: int = 0) -> Any:
    """A command argument given as `{"key": value}` (the contract) or positionally."""
    if arguments and isinstance(arguments[0], dict):
        return arguments[0].get(key)
    return arguments[position] if len(arguments) > position else None


@server.command("plumbline.fixAll")
async def fix_all(ls: PlumblineServer, *arguments: Any) -> dict[str, Any]:
    uri = _argument(arguments, "uri")
    edit = fix_all_edit(ls.state, uri) if isinstance(uri, str) else None
    if edit is None:
        return {"applied": False, "reason": "no safe fixes"}
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label="Plumbline: fix all"))
    return {"applied": bool(result and result.applied), "reason": getattr(result, "failure_reason", None)}


@server.command("plumbline.showRuleDocs")
def show_rule_docs(ls: PlumblineServer, *arguments: Any) -> str | None:
    code = _argument(arguments, "code")
    markdown = rule_markdown(code) if isinstance(code, str) else None
    if markdown is None:
        ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning,
                                                       message=f"Plumbline has no rule {code!r}"))
        return None
    ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=markdown))
    return markdown


def _register_agent(ls: PlumblineServer) -> None:
    """The agent's commands, or stand-ins that say it is missing from this build."""
    try:
        commands = importlib.import_module("lsp_server.agent.commands")
    except ModuleNotFoundError as error:
        if error.name not in ("lsp_server.agent", "lsp_server.agent.commands"):
            print(f"plumbline: the agent cannot load: {error}", file=sys.stderr)
        commands = None
    if commands is not None:
        try:
            commands.register(ls)
            return
        except Exception as error:  # a broken agent must not take the linter down with it
            print(f"plumbline: the agent's commands failed to register: {error}", file=sys.stderr)
    for name in ("plumbline.fixWithAgent", "plumbline.implementEndpoint"):
        ls.command(name)(_agent_missing)


def _agent_missing(ls: PlumblineServer, *arguments: Any) -> None:
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=AGENT_MISSING))


_register_agent(server)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s: %(message)s")
    # Large scans extract in worker processes. Forking this process (an event loop and several threads) can
    # deadlock the children on a lock some thread held: start them from a clean, preloaded fork server instead.
    multiprocessing.set_start_method("forkserver", force=True)
    multiprocessing.set_forkserver_preload(["analyzers.extract"])
    server.start_io()
    return 0
