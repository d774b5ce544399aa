"""Helpers for the language server tests: a real server process over stdio, driven by pytest-lsp's client."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

PROJECTS = Path(__file__).parent / "projects"
SERVER = [sys.executable, "-m", "lsp_server", "serve", "--stdio"]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A fresh copy of the shop project (tests edit it)."""
    target = tmp_path / "shop"
    shutil.copytree(PROJECTS / "shop", target)
    return target


def uri(path: Path) -> str:
    return path.resolve().as_uri()


def capabilities(pull: bool = False, create_files: bool = True, document_changes: bool = True,
                 progress: bool = True) -> types.ClientCapabilities:
    """VS Code's capabilities (push diagnostics), with pull diagnostics and edit support adjustable."""
    caps = pytest_lsp.client_capabilities("visual-studio-code")
    assert caps.text_document is not None and caps.workspace is not None and caps.window is not None
    if pull:
        caps.text_document.diagnostic = types.DiagnosticClientCapabilities(related_document_support=True)
        caps.workspace.diagnostics = types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
    edit = caps.workspace.workspace_edit
    assert edit is not None
    edit.document_changes = document_changes
    edit.resource_operations = [types.ResourceOperationKind.Create] if create_files else []
    caps.window.work_done_progress = progress
    return caps


def _fix_code_action_decoding(client: LanguageClient) -> None:
    """lsprotocol 2025.0.0 decodes a CodeAction carrying a `command` object as a Command (Python clients only)."""
    converter = client.protocol._converter
    action_or_command = types.CodeAction | types.Command

    def structure(obj: Any, _: Any) -> Any:
        if isinstance(obj, dict) and isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(action_or_command, structure)


class Session:
    """A started server and the client talking to it, with the edits it was asked to apply."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self.applied: list[types.WorkspaceEdit] = []
        self.published: list[types.PublishDiagnosticsParams] = []

    # ---- documents

    def open(self, path: Path, text: str | None = None, language: str = "python") -> str:
        document_uri = uri(path)
        text = path.read_text(encoding="utf-8") if text is None else text
        self.versions[document_uri] = 1
        self.texts[document_uri] = text
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=document_uri, language_id=language, version=1, text=text)))
        return document_uri

    def change(self, document_uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """An incremental change, positions in UTF-16 code units."""
        self.texts[document_uri] = replace_range(self.texts[document_uri], start, end, text)
        self.versions[document_uri] += 1
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=document_uri,
                                                                version=self.versions[document_uri]),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=start[0], character=start[1]),
                                  end=types.Position(line=end[0], character=end[1])),
                text=text)]))

    def replace_line(self, document_uri: str, line: int, new_line: str) -> None:
        old = self.texts[document_uri].split("\n")[line]
        self.change(document_uri, (line, 0), (line, utf16_length(old)), new_line)

    def close(self, document_uri: str) -> None:
        self.client.text_document_did_close(types.DidCloseTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=document_uri)))

    def line_of(self, document_uri: str, needle: str) -> int:
        return next(number for number, line in enumerate(self.texts[document_uri].split("\n")) if needle in line)

    # ---- edits

    def apply(self, edit: types.WorkspaceEdit) -> None:
        """Apply a WorkspaceEdit as an editor would: open documents change in memory, created files on disk."""
        created: list[Path] = []
        for change in edit.document_changes or []:
            if isinstance(change, types.CreateFile):
                path = Path(change.uri.removeprefix("file://"))
                assert not path.exists(), f"the fix would overwrite {path}"
                path.write_text("", encoding="utf-8")
                created.append(path)
            elif isinstance(change, types.TextDocumentEdit):
                self._apply_text_edits(change.text_document.uri, list(change.edits), change.text_document.version)
        for document_uri, edits in (edit.changes or {}).items():
            self._apply_text_edits(document_uri, list(edits), None)
        if created:
            self.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
                types.FileEvent(uri=uri(path), type=types.FileChangeType.Created) for path in created]))

    def _apply_text_edits(self, document_uri: str, edits: list[Any], version: int | None) -> None:
        if document_uri in self.texts:
            assert version is None or version == self.versions[document_uri], "edit for another version"
            text = self.texts[document_uri]
            for text_edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                                    reverse=True):
                text = replace_range(text, (text_edit.range.start.line, text_edit.range.start.character),
                                     (text_edit.range.end.line, text_edit.range.end.character), text_edit.new_text)
            self.texts[document_uri] = text
            self.versions[document_uri] += 1
            self.client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=document_uri,
                                                                    version=self.versions[document_uri]),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
            return
        path = Path(document_uri.removeprefix("file://"))
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        for text_edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
            text = replace_range(text, (text_edit.range.start.line, text_edit.range.start.character),
                                 (text_edit.range.end.line, text_edit.range.end.character), text_edit.new_text)
        path.write_text(text, encoding="utf-8")
        self.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=document_uri, type=types.FileChangeType.Changed)]))

    # ---- requests

    async def actions(self, document_uri: str, line: int, only: list[str] | None = None) -> list[types.CodeAction]:
        diagnostics = [d for d in self.client.diagnostics.get(document_uri, []) if d.range.start.line == line]
        result = await self.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=document_uri),
            range=types.Range(start=types.Position(line=line, character=0),
                              end=types.Position(line=line, character=0)),
            context=types.CodeActionContext(diagnostics=diagnostics, only=only)))
        return [action for action in result or [] if isinstance(action, types.CodeAction)]

    def codes(self, path: Path) -> list[str]:
        return sorted(str(d.code) for d in self.client.diagnostics.get(uri(path), []))

    async def until(self, condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                summary = {key.rsplit("/", 2)[-1]: [str(d.code) for d in value]
                           for key, value in list(self.client.diagnostics.items())[:12]}
                raise AssertionError(f"timed out waiting for {what or 'a condition'}; diagnostics: {summary}")
            await asyncio.sleep(0.02)


def replace_range(text: str, start: tuple[int, int], end: tuple[int, int], new_text: str) -> str:
    return text[: offset(text, start)] + new_text + text[offset(text, end):]


def offset(text: str, position: tuple[int, int]) -> int:
    lines = text.split("\n")
    line, character = position
    if line >= len(lines):
        return len(text)
    index = sum(len(item) + 1 for item in lines[:line])
    units = 0
    for char in lines[line]:
        if units >= character:
            break
        units += 2 if ord(char) > 0xFFFF else 1
        index += 1
    return index


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@asynccontextmanager
async def session(root: Path | None, caps: types.ClientCapabilities | None = None,
                  options: dict[str, Any] | None = None, folders: list[Path] | None = None,
                  command: list[str] | None = None) -> AsyncIterator[Session]:
    client = LanguageClient(converter_factory=default_converter)
    register_lsp_features(client, {method: handler for method, handler in DEFAULT_CLIENT_FEATURES.items()
                                   if method != types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS})
    _fix_code_action_decoding(client)
    test_session = Session(client, root or Path("."))

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        test_session.published.append(params)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        test_session.applied.append(params.edit)
        test_session.apply(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        return None

    await client.start_io(*(command or SERVER))
    workspace_folders = [types.WorkspaceFolder(uri=uri(folder), name=folder.name) for folder in folders or []]
    if root is not None and not folders:
        workspace_folders = [types.WorkspaceFolder(uri=uri(root), name=root.name)]
    await client.initialize_session(types.InitializeParams(
        capabilities=caps or capabilities(), root_uri=uri(root) if root is not None else None,
        workspace_folders=workspace_folders or None, initialization_options=options))
    try:
        yield test_session
    finally:
        await client.shutdown_session()
        await client.stop()
