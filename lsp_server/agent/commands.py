"""`plumbline.fixWithAgent` and `plumbline.implementEndpoint` on the language server.

Each command runs an agent job under a cancellable `$/progress` (the client's cancel is linked to the job's own
task: pygls only cancels requests that have not started), then delivers the verified change as one
`workspace/applyEdit`. The result is `{"applied": true, "message": ...}` on success; a failure is shown to the
user (`window/showMessage`) and returned as `{"applied": false, "error": ..., "kind": ...}`, with nothing applied.
The server never writes to disk; the key and the prompts are never logged.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from lsp_server.agent.deliver import DeliveryError, FileEdit, rebase, workspace_edit
from lsp_server.agent.job import Job, JobResult, run_job
from lsp_server.agent.loop import AgentError, AgentSettings
from lsp_server.agent.overlay import Change, OpenDocument, Overlay, Snapshot
from lsp_server.agent.policy import Policy
from lsp_server.agent.verify import EngineSnapshot, Verification, verify_changes

if TYPE_CHECKING:
    from lsp_server.workspace_state import RootState, ServerState

FIX_COMMAND = "plumbline.fixWithAgent"
IMPLEMENT_COMMAND = "plumbline.implementEndpoint"
PROGRESS_TITLE = "Plumbline agent"
logger = logging.getLogger("plumbline.agent")
_tokens = itertools.count(1)


class CommandFailure(Exception):
    """The command stops before or after the job, with a message for the user."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def register(server: LanguageServer, state: ServerState | None = None) -> None:
    """Register the agent's commands on `server`; `state` is found on the server when not given."""

    # pygls reads these handlers' type hints at call time: every name in them must exist at run time.
    @server.command(FIX_COMMAND)
    async def fix_with_agent(ls: LanguageServer, *arguments: Any) -> dict[str, Any]:
        return await _guarded(ls, lambda: _fix(ls, _state(ls, state), _argument(arguments)))

    @server.command(IMPLEMENT_COMMAND)
    async def implement_endpoint(ls: LanguageServer, *arguments: Any) -> dict[str, Any]:
        return await _guarded(ls, lambda: _implement(ls, _state(ls, state), _argument(arguments)))


async def _guarded(ls: LanguageServer, action: Callable[[], Any]) -> dict[str, Any]:
    try:
        return await action()
    except (AgentError, CommandFailure, DeliveryError) as error:
        kind = getattr(error, "kind", "delivery")
        return _failed(ls, kind, str(error))
    except Exception as error:  # a bug of ours: the server goes on; the log names the place, not the content
        where = traceback.extract_tb(error.__traceback__)[-1]
        logger.error("agent job failed: %s at %s:%s", type(error).__name__, Path(where.filename).name, where.lineno)
        return _failed(ls, "internal", f"internal error ({type(error).__name__}); nothing was applied. Please "
                                       "report it with the server log.")


def _failed(ls: LanguageServer, kind: str, message: str) -> dict[str, Any]:
    logger.info("agent job stopped: %s", kind)
    _show(ls, lsp.MessageType.Error, f"Plumbline agent: {message}")
    return {"applied": False, "error": message, "kind": kind}


# --------------------------------------------------------------------------------------------- commands


async def _fix(ls: LanguageServer, state: ServerState, arguments: dict[str, Any]) -> dict[str, Any]:
    uri = _string(arguments, "uri")
    fingerprint = _string(arguments, "fingerprint")
    root = _ready_root(state, uri)
    finding = state.finding(uri, fingerprint)
    if finding is None:
        raise CommandFailure("stale", f"{fingerprint} is no longer reported in this file; nothing to fix.")
    settings = _settings(state)
    job = await _job(state, root, uri, settings)
    job.finding = finding
    title = f"{PROGRESS_TITLE}: fix {finding.code}"
    result = await _run_with_progress(ls, job, title)
    if result is None:
        return {"applied": False, "message": "Cancelled; nothing was applied."}
    return await _deliver(ls, state, root, job, result, f"Plumbline agent: fix {finding.code}", fingerprint)


async def _implement(ls: LanguageServer, state: ServerState, arguments: dict[str, Any]) -> dict[str, Any]:
    description = _string(arguments, "description")
    uri = arguments.get("uri") if isinstance(arguments.get("uri"), str) else None
    root = _ready_root(state, uri) if uri else _first_root(state)
    settings = _settings(state)
    job = await _job(state, root, uri, settings)
    job.description = description
    if uri:
        located = state.locate(uri)
        job.near = located[1] if located is not None else None
    result = await _run_with_progress(ls, job, f"{PROGRESS_TITLE}: implement endpoint")
    if result is None:
        return {"applied": False, "message": "Cancelled; nothing was applied."}
    return await _deliver(ls, state, root, job, result, "Plumbline agent: implement endpoint", None)


# --------------------------------------------------------------------------------------------- set-up


def _state(ls: LanguageServer, given: ServerState | None) -> ServerState:
    """The server's state: given at registration, else `server.state` (lsp_server/server.py)."""
    from lsp_server.workspace_state import ServerState

    state = given if given is not None else getattr(ls, "state", None)
    if not isinstance(state, ServerState):
        raise CommandFailure("internal", "the agent cannot reach the server's state (please report this)")
    return state


def _argument(arguments: tuple[Any, ...]) -> dict[str, Any]:
    first = arguments[0] if arguments else None
    if hasattr(first, "__dict__") and not isinstance(first, dict):
        first = vars(first)
    if not isinstance(first, dict):
        raise CommandFailure("usage", "expected one argument object, e.g. {\"uri\": ..., \"fingerprint\": ...}")
    return first


def _string(arguments: dict[str, Any], key: str) -> str:
    value = arguments.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CommandFailure("usage", f"the command needs {key!r} (a non-empty string)")
    return value


def _ready_root(state: ServerState, uri: str) -> RootState:
    root = state.root_for(uri)
    if root is None:
        raise CommandFailure("usage", f"{uri} is not a file of this workspace")
    if root.result is None:
        raise CommandFailure("busy", "the workspace is still being analysed; try again in a moment")
    return root


def _first_root(state: ServerState) -> RootState:
    roots = [root for root in state.all_roots() if not root.loose and root.result is not None]
    if not roots:
        raise CommandFailure("busy", "open a workspace folder (and let its analysis finish) to implement an endpoint")
    return roots[0]


def _settings(state: ServerState) -> AgentSettings:
    """The agent's settings, checked before anything is sent: credentials, and an editor that takes edits."""
    workspace = state.capabilities.workspace
    if workspace is None or not workspace.apply_edit:
        raise CommandFailure("delivery", "your editor does not accept edits from the server (workspace/applyEdit); "
                                         "run `plumbline fix --agent` or `plumbline implement` in a terminal instead")
    settings = AgentSettings.from_environment(_user_model(state))
    settings.require_credentials()
    return settings


def _user_model(state: ServerState) -> str | None:
    """`agent.model` from the initialization options (a user-level setting, never a workspace file)."""
    options = getattr(state, "initialization_options", None)
    if not isinstance(options, dict):
        return None
    if isinstance(options.get("plumbline"), dict):
        options = options["plumbline"]
    agent = options.get("agent")
    model = agent.get("model") if isinstance(agent, dict) else options.get("agent.model")
    return model if isinstance(model, str) and model.strip() else None


async def _job(state: ServerState, root: RootState, uri: str | None, settings: AgentSettings) -> Job:
    engine = await state.engine_copy(uri) if uri else None
    if engine is None:
        engine = await _engine_of(state, root)
    snapshot = EngineSnapshot.of(engine)
    overlay = Overlay(Policy(root.folder), _open_documents(state, root))
    return Job(snapshot, overlay, settings)


async def _engine_of(state: ServerState, root: RootState) -> Any:
    """A private copy of a root's engine (the folder's own URI names the root)."""
    from lsp_server.convert import path_to_uri

    return await state.engine_copy(path_to_uri(root.folder))


def _open_documents(state: ServerState, root: RootState) -> dict[str, OpenDocument]:
    documents: dict[str, OpenDocument] = {}
    for uri, document in list(state.documents.items()):
        located = state.locate(uri)
        if located is not None and located[0] is root:
            documents[located[1]] = OpenDocument(document.text, document.version)
    return documents


# --------------------------------------------------------------------------------------------- progress


@dataclass
class _Progress:
    """`$/progress` for one job. Reports come from worker threads too (tool calls run there), so every
    notification goes through the event loop, in order."""

    ls: LanguageServer
    token: str | None = None
    loop: asyncio.AbstractEventLoop | None = None

    async def begin(self, title: str) -> None:
        self.loop = asyncio.get_running_loop()
        window = self.ls.client_capabilities.window
        if window is None or not window.work_done_progress:
            return
        token = f"plumbline-agent-{next(_tokens)}"
        try:
            await self.ls.work_done_progress.create_async(token)
        except Exception:  # the client refused a progress: the job runs without one
            return
        self.token = token
        self.ls.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(title=title, cancellable=True,
                                                                          message="starting"))

    def report(self, message: str) -> None:
        self._later(self._report, message)

    def end(self, message: str) -> None:
        self._later(self._end, message)

    def _later(self, action: Callable[[str], None], message: str) -> None:
        if self.token is not None and self.loop is not None:
            self.loop.call_soon_threadsafe(action, message)

    def _report(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.report(self.token, lsp.WorkDoneProgressReport(message=message))

    def _end(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, lsp.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)
            self.token = None

    def link_cancel(self, task: asyncio.Task[Any]) -> None:
        """The client's cancel button cancels the job's task (not just a request that has not started)."""
        future = self.ls.work_done_progress.tokens.get(self.token) if self.token is not None else None
        if future is None or self.loop is None:
            return
        loop = self.loop

        def cancelled(done: Any) -> None:
            if done.cancelled():
                loop.call_soon_threadsafe(task.cancel)

        future.add_done_callback(cancelled)


async def _run_with_progress(ls: LanguageServer, job: Job, title: str) -> JobResult | None:
    """The job under a cancellable progress; None when the user cancelled it."""
    progress = _Progress(ls)
    await progress.begin(title)
    job.progress = progress.report
    task = asyncio.ensure_future(run_job(job))
    progress.link_cancel(task)
    try:
        result = await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise  # the command itself was cancelled: let pygls answer it
        progress.end("Cancelled; nothing was applied")
        return None
    except AgentError as error:
        spent = f" ({error.usage.summary()})" if error.usage is not None else ""
        progress.end(f"Stopped: {error.kind.replace('_', ' ')}{spent}")
        raise
    except BaseException:
        progress.end("Stopped")
        raise
    progress.report("verified; sending the edit")
    progress.end(f"Done: {result.usage_line()}")
    return result


# --------------------------------------------------------------------------------------------- delivery


async def _deliver(ls: LanguageServer, state: ServerState, root: RootState, job: Job, result: JobResult,
                   label: str, target: str | None) -> dict[str, Any]:
    files, rebased = _current_files(state, root, result.changes)
    if rebased:
        await _reverify(state, root, rebased, target, job.implementing)
    edit = workspace_edit(files, state.capabilities, label, _describe(result), state.encoding)
    response = await ls.workspace_apply_edit_async(lsp.ApplyWorkspaceEditParams(edit=edit, label=label))
    paths = [file.path for file in files]
    usage = result.usage.as_dict()
    if not response.applied:
        reason = f": {response.failure_reason}" if response.failure_reason else ""
        return {"applied": False, "message": f"The edit was not applied{reason}.", "files": paths, "usage": usage}
    message = f"{_describe(result)} ({result.usage_line()})"
    return {"applied": True, "message": message, "files": paths, "usage": usage, "model": result.model}


def _current_files(state: ServerState, root: RootState, changes: list[Change]) -> tuple[list[FileEdit], list[Change]]:
    """Each change against the file as it is now; re-anchored where the user edited it meanwhile."""
    from lsp_server.convert import path_to_uri

    files: list[FileEdit] = []
    rebased: list[Change] = []
    for change in changes:
        uri = path_to_uri(root.folder / change.path)
        document = state.document(uri)
        current = document.text if document is not None else _disk_text(root.folder / change.path)
        version = document.version if document is not None else None
        after = rebase(change, current)
        if after is None:
            raise CommandFailure("conflict", f"{change.path} changed while the agent worked and its edit no longer "
                                             "fits the new text; nothing was applied. Run the agent again.")
        if current != change.before:
            rebased.append(Change(change.path, current, after, Snapshot(change.path, current, version)))
        files.append(FileEdit(change.path, uri, current, after, version))
    return files, rebased


async def _reverify(state: ServerState, root: RootState, changes: list[Change], target: str | None,
                    implement: bool) -> None:
    """A re-anchored change is checked again, against the user's current text."""
    engine = await _engine_of(state, root)

    def check() -> Verification:
        base = EngineSnapshot.of(engine)
        current = {change.path: change.before for change in changes if change.before is not None}
        snapshot = EngineSnapshot(base.root, base.config, base.workspace(current).files)
        return verify_changes(snapshot, changes, target, implement)

    verification = await asyncio.to_thread(check)
    if not verification.ok:
        raise CommandFailure("conflict", "the files changed while the agent worked, and its change no longer passes "
                                         f"Plumbline's check on the new text; nothing was applied:\n"
                                         f"{verification.report()}")


def _disk_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _describe(result: JobResult) -> str:
    files = ", ".join(change.path for change in result.changes)
    repaired = f" after {result.repair_rounds} repair round{'s' if result.repair_rounds != 1 else ''}" \
        if result.repair_rounds else ""
    return f"Verified change to {files}{repaired}"


def _show(ls: LanguageServer, kind: lsp.MessageType, message: str) -> None:
    try:
        ls.window_show_message(lsp.ShowMessageParams(type=kind, message=message))
    except Exception:  # the client is gone: nothing to tell
        pass
