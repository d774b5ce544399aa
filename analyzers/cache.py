"""On-disk cache of per-file facts, keyed by path and content hash, in a git-ignored `.plumbline_cache/`.

The cache is one pickle per project: loaded once, written once at the end of a run, and discarded whole when
the engine's code changes (its key includes a hash of the analyzer sources).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path

from analyzers.facts import FACTS_VERSION, FileFacts

CACHE_DIR = ".plumbline_cache"


@cache
def code_key() -> str:
    """A hash of the analyzer modules that shape facts: any edit to them invalidates the cache."""
    package = Path(__file__).parent
    digest = hashlib.blake2b(str(FACTS_VERSION).encode(), digest_size=8)
    for path in sorted([package / "pysyntax.py", package / "extract.py", package / "facts.py",
                        *(package / "extractors").glob("*.py")]):
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
    return digest.hexdigest()


class FactCache:
    def __init__(self, root: Path) -> None:
        self.folder = root / CACHE_DIR
        self.file = self.folder / f"facts-{code_key()}.pickle"
        self.entries: dict[str, FileFacts] = {}
        self.dirty = False
        self._load()

    def _load(self) -> None:
        try:
            with self.file.open("rb") as handle:
                loaded = pickle.load(handle)
            if isinstance(loaded, dict):
                self.entries = loaded
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
            self.entries = {}

    def get(self, path: str, digest: str) -> FileFacts | None:
        facts = self.entries.get(path)
        return facts if facts is not None and facts.digest == digest else None

    def put(self, facts: FileFacts) -> None:
        self.entries[facts.path] = facts
        self.dirty = True

    def retain(self, paths: set[str]) -> None:
        """Forget files that no longer exist, so the cache does not grow forever."""
        stale = [path for path in self.entries if path not in paths]
        for path in stale:
            del self.entries[path]
        self.dirty = self.dirty or bool(stale)

    def save(self) -> None:
        if not self.dirty:
            return
        try:
            self.folder.mkdir(exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# created by plumbline\n*\n", encoding="utf-8")
            for old in self.folder.glob("facts-*.pickle"):
                if old != self.file:
                    old.unlink(missing_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as stream:
                    pickle.dump(self.entries, stream, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self.file)
            except (RecursionError, pickle.PicklingError):  # facts too deep to store: run uncached
                os.unlink(temporary)
                return
            self.dirty = False
        except OSError:
            pass  # a read-only checkout simply runs uncached
