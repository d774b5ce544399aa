"""One file → its facts. Pure: bytes in, `FileFacts` out; never raises on bad input."""

from __future__ import annotations

import bisect
import hashlib
import re
import traceback

from tree_sitter import Tree

from analyzers.discovery import MAX_FILE_BYTES, language_of, module_name
from analyzers.extractors import extractors
from analyzers.facts import FileFacts, SourceFile
from analyzers.pysyntax import Comment, Module, summarize

_SQL_COMMENT = re.compile(r"--[^\n]*")
_HASH_COMMENT = re.compile(r"(?m)^\s*#[^\n]*")


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def extract_file(path: str, data: bytes, language: str | None = None, tree: Tree | None = None,
                 module: str | None = None, python: Module | None = None) -> FileFacts:
    """Facts of one file. Binary, undecodable and oversized files are skipped with a note.

    `tree`: a Python tree already parsed from exactly `data` (the language server re-parses incrementally).
    `python`: the summary of exactly `data`, already built (the language server re-summarises only what an edit
    touched).
    """
    language = language or language_of(path) or "text"
    facts = FileFacts(path=path, language=language, digest=digest(data))
    if len(data) > MAX_FILE_BYTES:
        facts.notes.append(f"skipped: larger than {MAX_FILE_BYTES // 1_000_000} MB")
        return facts
    if b"\x00" in data[:8192]:
        facts.notes.append("skipped: binary file")
        return facts
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        facts.notes.append(f"skipped: not valid UTF-8 (byte {error.start})")
        return facts
    source = SourceFile(path=path, language=language, data=data)
    if language == "python":
        try:
            source.python = python if python is not None else summarize(data, module or module_name(path), path,
                                                                         tree=tree)
        except RecursionError:
            facts.notes.append("skipped: nesting too deep to analyse")
            return facts
        facts.python = source.python
        facts.comments = list(source.python.comments)
        facts.line_count = source.python.line_count
        if source.python.has_errors:
            facts.notes.append("syntax errors: analysed what could be parsed")
    else:
        text = data.decode("utf-8")
        facts.line_count = text.count("\n") + 1
        facts.comments = _comments(text, _SQL_COMMENT if language == "sql" else _HASH_COMMENT)
    for extractor in extractors():
        try:
            facts.records.extend(extractor.extract(source))
        except Exception as error:  # one extractor's bug must not cost the file's other facts
            name = extractor.__name__.rsplit(".", 1)[-1]
            where = traceback.extract_tb(error.__traceback__)[-1]
            facts.failures.append(f"extractor {name} failed on {path}: {type(error).__name__}: {error} "
                                  f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno})")
    return facts


def _comments(text: str, pattern: re.Pattern[str]) -> list[Comment]:
    comments: list[Comment] = []
    if "plumbline" not in text:
        return comments  # only suppression comments matter outside Python
    line_starts = [0] + [match.end() for match in re.finditer("\n", text)]
    for match in pattern.finditer(text):
        start = match.start() + (len(match.group(0)) - len(match.group(0).lstrip()))
        line = bisect.bisect_right(line_starts, start) - 1
        own_line = not text[line_starts[line] : start].strip()
        comments.append(Comment(line, start - line_starts[line], text[start : match.end()], own_line=own_line))
    return comments
