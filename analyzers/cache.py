"""On-disk cache of per-file facts, keyed by path and content hash, in a git-ignored `.plumbline_cache/`.

The cache is one file per project, holding one small pickle per source file: loaded once, written once at the
end of a run, and discarded whole when the engine's code changes (its key includes a hash of the analyzer
sources). Beside it, `ResultCache` keeps
the last complete check result, so a run over an unchanged project skips the engine entirely.

Facts are hundreds of thousands of small frozen dataclasses (positions, spans, expressions). Pickle's default
for those (`__setstate__` looking up the dataclass fields per object) and the cyclic garbage collector
(re-scanning every object already loaded) dominated load time, so `dumps`/`loads` pickle frozen dataclasses
as plain constructor calls and pause the collector while loading.
"""

from __future__ import annotations

import contextlib
import copyreg
import dataclasses
import gc
import hashlib
import io
import operator
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzers.model import Position, Span
from analyzers.roots import CACHE_DIR

if TYPE_CHECKING:  # the facts pull in the parser; a run that reuses a stored result never needs them
    from analyzers.facts import FileFacts

RESULT_FILE = "result.pickle"


@cache
def code_key() -> str:
    """A hash of the analyzer modules that shape facts: any edit to them invalidates the cache."""
    from analyzers.facts import FACTS_VERSION

    package = Path(__file__).parent
    digest = hashlib.blake2b(f"{FACTS_VERSION}:per-file".encode(), digest_size=8)
    for path in sorted([package / "pysyntax.py", package / "extract.py", package / "facts.py",
                        *(package / "extractors").glob("*.py")]):
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
    return digest.hexdigest()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: building many long-lived objects otherwise re-scans them all."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_new_tuple = tuple.__new__


def _span(start_line: int, start_column: int, end_line: int, end_column: int) -> Span:
    # tuple.__new__ directly: NamedTuple's own __new__ is a Python function, slow at a million spans
    return _new_tuple(Span, (_new_tuple(Position, (start_line, start_column)),
                             _new_tuple(Position, (end_line, end_column))))


def _reduce_span(span: Span) -> tuple[Callable[..., Span], tuple[int, int, int, int]]:
    return _span, (span.start.line, span.start.column, span.end.line, span.end.column)


def _constructor_reducer(cls: type) -> Callable[[Any], tuple[type, tuple[Any, ...]]] | None:
    """`cls(*values)` for a frozen, slotted dataclass whose constructor just stores its fields; else None."""
    own = cls.__dict__  # the class itself must be the frozen, slotted dataclass (not a plain subclass of one)
    if not ("__dataclass_fields__" in own and "__slots__" in own and own["__dataclass_params__"].frozen
            and own["__dataclass_params__"].init):
        return None
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or any(not field.init or field.kw_only for field in fields):
        return None
    names = tuple(field.name for field in fields)
    if len(names) == 1:
        single = operator.attrgetter(names[0])
        return lambda obj: (cls, (single(obj),))
    values = operator.attrgetter(*names)  # reads every field in C, into a tuple
    return lambda obj: (cls, values(obj))


@cache
def _dispatch_table() -> dict[type, Callable[[Any], Any]]:
    """Fast reducers for the analyzers' frozen dataclasses (the model, syntax summaries, extractor records)."""
    from analyzers.extractors import extractors

    extractors()  # their record classes must be defined before the table is built
    table: dict[type, Callable[[Any], Any]] = dict(copyreg.dispatch_table)
    for name, module in list(sys.modules.items()):
        if not (name == "analyzers" or name.startswith("analyzers.")) or module is None:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, type) and value.__module__ == name and value not in table:
                reducer = _constructor_reducer(value)
                if reducer is not None:
                    table[value] = reducer
    table[Span] = _reduce_span
    return table


def dumps(value: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch_table()
    pickler.dump(value)
    return buffer.getvalue()


def loads(data: bytes) -> Any:
    with gc_paused():
        return pickle.loads(data)


def prepare_folder(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# created by plumbline\n*\n", encoding="utf-8")


def _write_atomically(folder: Path, target: Path, data: bytes) -> None:
    import tempfile  # here: a run that only reads a stored result never needs it (it costs milliseconds)

    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


LOAD_ERRORS = (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError,
               IndexError, KeyError, RecursionError)


class FactCache:
    """Facts per file, each kept as its own small pickle beside the content digest it was extracted from.

    A run unpickles only the entries it uses and re-pickles only what changed. (One pickle of a whole
    project's facts was slow both ways: the memo of a single huge pickle grows with every object in it.)
    """

    def __init__(self, root: Path) -> None:
        self.folder = root / CACHE_DIR
        self.file = self.folder / f"facts-{code_key()}.pickle"
        self.entries: dict[str, tuple[str, bytes]] = {}  # path -> (content digest, pickled FileFacts)
        self.dirty = False
        self._load()

    def _load(self) -> None:
        try:
            loaded = pickle.loads(self.file.read_bytes())
            if isinstance(loaded, dict):
                self.entries = loaded
        except LOAD_ERRORS:
            self.entries = {}

    def get(self, path: str, digest: str) -> FileFacts | None:
        from analyzers.facts import FileFacts

        entry = self.entries.get(path)
        if entry is None or entry[0] != digest:
            return None
        try:
            facts = loads(entry[1])
        except LOAD_ERRORS:
            return None
        return facts if isinstance(facts, FileFacts) else None

    def put(self, facts: FileFacts, pickled: bytes | None = None) -> None:
        """Store facts; `pickled` is their `dumps` form when the caller already has it (from a worker)."""
        try:
            self.entries[facts.path] = (facts.digest, pickled if pickled is not None else dumps(facts))
        except (RecursionError, pickle.PicklingError):  # facts too deep to store: that file runs uncached
            self.entries.pop(facts.path, None)
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
            prepare_folder(self.folder)
            for old in self.folder.glob("facts-*.pickle"):
                if old != self.file:
                    old.unlink(missing_ok=True)
            _write_atomically(self.folder, self.file, pickle.dumps(self.entries, protocol=pickle.HIGHEST_PROTOCOL))
            self.dirty = False
        except OSError:
            pass  # a read-only checkout simply runs uncached


@cache
def engine_key() -> str:
    """A hash of every analyzer module: a stored check result is valid only for the code that produced it."""
    package = Path(__file__).parent
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
    return digest.hexdigest()


class ResultCache:
    """The last complete check result of a project, under the key of everything it depends on."""

    def __init__(self, root: Path) -> None:
        self.folder = root / CACHE_DIR
        self.file = self.folder / RESULT_FILE

    def get(self, key: str) -> Any | None:
        try:
            stored = loads(self.file.read_bytes())
        except LOAD_ERRORS:
            return None
        if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key:
            return stored[1]
        return None

    def put(self, key: str, value: Any) -> None:
        try:
            data = dumps((key, value))
            prepare_folder(self.folder)
            _write_atomically(self.folder, self.file, data)
        except (OSError, RecursionError, pickle.PicklingError):
            pass  # a read-only checkout simply runs uncached
