"""An in-memory overlay of the workspace: the agent reads and edits it; nothing is written to disk.

Reads come from the overlay's own edits, else the editor's open documents (unsaved text included), else disk.
The first read of each file records a snapshot (the document's version, or the disk content's hash) so delivery
can tell whether the user changed the file while the agent worked. Text is kept with `\\n` line endings; a file
that used `\\r\\n` gets them back in `changes()`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from analyzers.discovery import SKIP_DIRS
from lsp_server.agent.policy import Policy, PolicyError

MAX_READ_BYTES = 1_000_000


class OverlayError(Exception):
    """A file the overlay cannot give (missing, binary, too large); the message is for the model."""


@dataclass(frozen=True, slots=True)
class OpenDocument:
    """An editor buffer: its text and the version the editor gave it."""

    text: str
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A file as the agent first saw it."""

    path: str
    text: str | None  # None: the file did not exist
    version: int | None = None  # the open document's version
    digest: str | None = None  # the content hash of the file on disk
    open: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    """A file the agent changed or created, with its text before (None: new) and after."""

    path: str
    before: str | None
    after: str
    snapshot: Snapshot


def content_digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", errors="surrogatepass"), digest_size=16).hexdigest()


@dataclass
class Overlay:
    policy: Policy
    documents: Mapping[str, OpenDocument] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    _edited: dict[str, str] = field(default_factory=dict)
    _crlf: set[str] = field(default_factory=set)

    @property
    def root(self) -> Path:
        return self.policy.root

    # ------------------------------------------------------------------ reading

    def read(self, relative: str) -> str:
        """The current text of a file (LF line endings), or OverlayError."""
        if relative in self._edited:
            return self._edited[relative]
        snapshot = self._snapshot(relative)
        if snapshot.text is None:
            raise OverlayError(f"{relative}: no such file")
        return _lf(snapshot.text)

    def exists(self, relative: str) -> bool:
        if relative in self._edited or relative in self.documents:
            return True
        return (self.root / relative).is_file()

    def is_dir(self, relative: str) -> bool:
        return (self.root / relative).is_dir() if relative else True

    def _snapshot(self, relative: str) -> Snapshot:
        known = self.snapshots.get(relative)
        if known is not None:
            return known
        document = self.documents.get(relative)
        if document is not None:
            snapshot = Snapshot(relative, document.text, version=document.version,
                                digest=content_digest(document.text), open=True)
        else:
            text = self._read_disk(relative)
            snapshot = Snapshot(relative, text, digest=content_digest(text) if text is not None else None)
        if snapshot.text is not None and "\r\n" in snapshot.text:
            self._crlf.add(relative)
        self.snapshots[relative] = snapshot
        return snapshot

    def _read_disk(self, relative: str) -> str | None:
        path = self.root / relative
        try:
            if not path.is_file():
                return None
            if path.stat().st_size > MAX_READ_BYTES:
                raise OverlayError(f"{relative}: larger than {MAX_READ_BYTES // 1000} KB; not read")
            data = path.read_bytes()
        except OSError as error:
            raise OverlayError(f"{relative}: cannot read ({error.strerror or error})") from None
        if b"\x00" in data[:8192]:
            raise OverlayError(f"{relative}: a binary file; not read")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise OverlayError(f"{relative}: not valid UTF-8; not read") from None

    # ------------------------------------------------------------------ writing

    def write(self, relative: str, text: str) -> None:
        """Set a file's text in the overlay (a new file when it does not exist)."""
        self._snapshot(relative)
        self._edited[relative] = _lf(text)

    def changes(self) -> list[Change]:
        """Files whose text differs from their snapshot, in path order, with their original line endings."""
        result: list[Change] = []
        for relative in sorted(self._edited):
            snapshot = self.snapshots[relative]
            after = self._edited[relative]
            if relative in self._crlf:
                after = after.replace("\n", "\r\n")
            if after != snapshot.text:
                result.append(Change(relative, snapshot.text, after, snapshot))
        return result

    def changed_texts(self) -> dict[str, str]:
        """Changed and created files' texts as they would be saved."""
        return {change.path: change.after for change in self.changes()}

    # ------------------------------------------------------------------ listing

    def list_files(self, folder: str = "", limit: int = 2000) -> list[str]:
        """Workspace-relative files under `folder` that the agent may read (created ones included)."""
        found: set[str] = set()
        start = self.root / folder if folder else self.root
        for directory, subfolders, files in os.walk(start):
            subfolders[:] = sorted(name for name in subfolders
                                   if name not in SKIP_DIRS and not name.endswith(".egg-info")
                                   and self._folder_allowed(Path(directory) / name))
            for name in sorted(files):
                relative = (Path(directory) / name).relative_to(self.root).as_posix()
                if self.policy.allowed(relative):
                    found.add(relative)
                if len(found) >= limit:
                    break
            if len(found) >= limit:
                break
        prefix = folder.rstrip("/") + "/" if folder else ""
        found.update(path for path in self._edited if path.startswith(prefix))
        return sorted(found)

    def _folder_allowed(self, path: Path) -> bool:
        relative = path.relative_to(self.root).as_posix()
        try:
            self.policy.resolve(relative)
        except PolicyError:
            return False
        return True


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n") if "\r\n" in text else text
