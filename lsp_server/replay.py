"""Replaying the last `plumbline check`: a warm run that looks at file metadata instead of reading files.

After a check that used the cache, its command line, what it printed and its exit status are stored in
`.plumbline_cache/last-check.marshal` beside a *manifest*: the stat signature (mtime, ctime, size, inode) of every
file and folder the result depends on. That is the files checked, the folders walked (adding, removing or
renaming a file changes its folder's mtime), the configuration files, and the code of Plumbline and its parsers.
The same command, run again from the same folder, prints the stored output when the root (found again, a few
`stat` calls) is the same and every signature still matches, before argparse, the engine or tree-sitter are
imported.

A signature misses a change made within the same clock tick as the one it recorded (git's "racy" entries). An
entry modified less than RACY_NS before the manifest was taken is therefore also stored by content (a digest
for a file, the listing for a folder) and compared by content.

Only `os`, `sys` and `marshal` are imported here at module level: everything this module costs, every warm run
pays.
"""

from __future__ import annotations

import marshal
import os
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

from analyzers.roots import CACHE_DIR, find_root_folder
from lsp_server import __version__

SNAPSHOT_NAME = "last-check.marshal"
# Bump when what is stored changes shape: older snapshots are then ignored.
SNAPSHOT_FORMAT = 1
# Snapshots kept per project, one per distinct command line (text in the terminal, json in CI, ...).
MAX_ENTRIES = 8
# Coarser than any file system's timestamps (FAT's are 2 s): an mtime this recent may not change on a write.
RACY_NS = 2_000_000_000
# Options of `check` that take a value; every other option (or an unknown one) means "run for real".
VALUE_OPTIONS = ("--format", "--select", "--ignore", "--config")

Signature = tuple[int, int, int, int] | None  # (mtime_ns, ctime_ns, size, inode); None: the path is absent
Manifest = tuple[tuple[str, ...], tuple[Signature, ...], dict[str, Any]]


# --------------------------------------------------------------------------------------------- output


def use_colour(stream: TextIO) -> bool:
    """Colour when the stream is a terminal and NO_COLOR is unset; FORCE_COLOR forces it."""
    force = os.environ.get("FORCE_COLOR", "")
    if force and force != "0":
        return True
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def write_text(stream: TextIO, text: str) -> None:
    """Write and flush; a terminal that cannot show every character gets replacements, not a crash."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = stream.encoding or "ascii"
        stream.write(text.encode(encoding, errors="replace").decode(encoding))
    stream.flush()


def silence_stdout() -> None:
    """The reader went away (`plumbline check | head`): stop writing without a second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


# --------------------------------------------------------------------------------------------- replaying


def command_key(argv: Iterable[str]) -> tuple[Any, ...]:
    """Everything besides the files that shapes the output: the command line, where it runs, the colours, the
    Python and Plumbline running it."""
    return (tuple(argv), os.getcwd(), use_colour(sys.stdout), use_colour(sys.stderr), sys.version, __version__)


def check_paths(argv: list[str]) -> list[str] | None:
    """The paths of a `check` command line simple enough to replay, or None (anything else runs for real)."""
    if not argv or argv[0] != "check":
        return None
    paths: list[str] = []
    expect_value = False
    for argument in argv[1:]:
        if expect_value:
            expect_value = False
        elif argument in VALUE_OPTIONS:
            expect_value = True
        elif argument.startswith("-"):
            if not argument.startswith(tuple(option + "=" for option in VALUE_OPTIONS)):
                return None  # --no-cache, --help, abbreviations, "--": argparse's business
        else:
            paths.append(argument)
    return None if expect_value else (paths or ["."])


def replay(argv: list[str]) -> int | None:
    """Print the stored output of this exact `check` and return its exit status; None when it must run."""
    paths = check_paths(argv)
    if paths is None:
        return None
    try:
        root, _ = find_root_folder(paths[0])
        file = os.path.join(root, CACHE_DIR, SNAPSHOT_NAME)
        with open(file, "rb") as stream:
            stored = marshal.load(stream)
        key = command_key(argv)
        recorded_root, manifest, output, warnings, status = stored["entries"][key]
        verified_at = time.time_ns()
        # The root decides the configuration and what is scanned; it was found again just now, the same way.
        if stored["format"] != SNAPSHOT_FORMAT or recorded_root != root or not unchanged(manifest):
            return None
    except (OSError, EOFError, ValueError, TypeError, KeyError, IndexError):
        return None  # no snapshot, another command line, or a damaged file: run for real
    write_text(sys.stderr, warnings)
    write_text(sys.stdout, output)
    settled = _settled(manifest, verified_at)
    if settled is not None:
        stored["entries"][key] = (recorded_root, settled, output, warnings, status)
        _write(file, stored["entries"])
    return int(status)


def _settled(manifest: Manifest, verified_at: int) -> Manifest | None:
    """The manifest without the contents of racy entries that have settled since: their content was just found
    equal, and their mtime is now too old for a later write to keep it. None when nothing settled.
    (Recorded right after the files were written, a snapshot would otherwise hash them on every replay.)"""
    paths, signatures, by_content = manifest
    if not by_content:
        return None
    stamps = dict(zip(paths, signatures, strict=True))

    still_racy = {path: value for path, value in by_content.items()
                  if _racy(stamps[path], verified_at - RACY_NS)}
    return None if len(still_racy) == len(by_content) else (paths, signatures, still_racy)


def _racy(stamp: Signature, since: int) -> bool:
    """Modified or changed at `since` or later: a write in the same clock tick could leave the stamp as it is."""
    return stamp is not None and max(stamp[0], stamp[1]) >= since


def unchanged(manifest: Manifest) -> bool:
    paths, signatures, by_content = manifest
    for path, expected in zip(paths, signatures, strict=True):
        if signature(path) != expected:
            return False
    return all(content(path) == expected for path, expected in by_content.items())


def signature(path: str) -> Signature:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return (status.st_mtime_ns, status.st_ctime_ns, status.st_size, status.st_ino)


def content(path: str) -> Any:
    """What a racy entry is compared by: a folder's entries (with their kinds), a file's digest."""
    try:
        if os.path.isdir(path):
            with os.scandir(path) as entries:
                return sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries)
        import hashlib  # only racy files need it; most replays never do

        with open(path, "rb") as stream:
            return hashlib.blake2b(stream.read(), digest_size=16).digest()
    except OSError:
        return None


# --------------------------------------------------------------------------------------------- recording


class ManifestBuilder:
    """Signatures of what a check reads, each taken BEFORE it is read (with the content too, for a racy entry):
    then any later change shows, as a new signature or as content that differs from what is stored."""

    def __init__(self) -> None:
        self.racy_after = time.time_ns() - RACY_NS  # taken first: later entries are judged conservatively
        self.signatures: dict[str, Signature] = {}
        self.by_content: dict[str, Any] = {}

    def add(self, path: str) -> None:
        if path in self.signatures:
            return
        stamp = self.signatures[path] = signature(path)
        if _racy(stamp, self.racy_after):
            self.by_content[path] = content(path)

    def manifest(self) -> Manifest:
        return tuple(self.signatures), tuple(self.signatures.values()), self.by_content


def code_paths() -> list[str]:
    """Plumbline's own modules (and their folders: a new rule module is picked up) and the parsers' packages."""
    import importlib.util

    found: list[str] = []
    here = os.path.dirname(os.path.abspath(__file__))
    for package in (os.path.join(os.path.dirname(here), "analyzers"), here):
        for folder, subfolders, names in os.walk(package):
            subfolders[:] = [name for name in subfolders if name != "__pycache__"]
            found.append(folder)
            found.extend(os.path.join(folder, name) for name in names if name.endswith(".py"))
    for name in ("tree_sitter", "tree_sitter_python", "tree_sitter_sql", "pathspec", "pydantic"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            found.append(spec.origin)
    return found


def record(root: str, argv: list[str], manifest: Manifest, output: str, warnings: str, status: int) -> None:
    """Keep this run's output for the next identical command; a read-only checkout simply never replays."""
    file = os.path.join(root, CACHE_DIR, SNAPSHOT_NAME)
    entries: dict[Any, Any] = {}
    try:
        with open(file, "rb") as stream:
            stored = marshal.load(stream)
        if stored["format"] == SNAPSHOT_FORMAT:
            entries = dict(stored["entries"])
    except (OSError, EOFError, ValueError, TypeError, KeyError):
        pass
    key = command_key(argv)
    entries.pop(key, None)
    entries[key] = (root, manifest, output, warnings, status)
    while len(entries) > MAX_ENTRIES:  # dicts keep insertion order: the oldest command goes first
        del entries[next(iter(entries))]
    _write(file, entries)


def _write(file: str, entries: dict[Any, Any]) -> None:
    """Replace the snapshot file at once (a reader never sees half of it); failing, leave it as it was."""
    temporary = f"{file}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as stream:
            marshal.dump({"format": SNAPSHOT_FORMAT, "entries": entries}, stream)
        os.replace(temporary, file)
    except (OSError, ValueError):
        try:
            os.unlink(temporary)
        except OSError:
            pass
