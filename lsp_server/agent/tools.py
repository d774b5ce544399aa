"""The tools the model works with, executed by Plumbline against the overlay.

Anthropic's text editor tool (`view`, `str_replace`, `create`, `insert`) edits the overlay; Plumbline's own
read-only tools search the workspace, list files and show a file's findings. Every path goes through the
policy; every result goes through secret masking before it is sent. Edits are held to the rules that keep the
model honest: `str_replace` only on a file it has viewed, with exactly one match, and never with a placeholder
such as `# ... existing code ...`; `create` only for new files (never a whole-file rewrite).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lsp_server.agent.overlay import Overlay, OverlayError
from lsp_server.agent.policy import MASK, PolicyError

EDITOR_TOOL_NAME = "str_replace_based_edit_tool"
EDITOR_TOOL_TYPE = "text_editor_20250728"
VIEW_MAX_CHARS = 40_000
RESULT_MAX_CHARS = 30_000
SEARCH_MAX_MATCHES = 80
LIST_MAX_FILES = 400

_PLACEHOLDER = re.compile(
    r"""(?ix)
    (?:\#|//|--|/\*|<!--)[ \t]*(?:\.{3}|…)[ \t]*(?:\w+[ \t]+){0,3}?
        (?:existing|rest|remaining|unchanged|previous|same|other|more|original)\b
    | (?:\.{3}|…)[ \t]*(?:existing|rest[ \t]+of[ \t]+the|remaining)[ \t]+(?:code|file|content|methods|fields|lines)
    | (?:\#|//|--)[ \t]*(?:existing|other|remaining)[ \t]+(?:code|fields|methods|columns|imports)
        [ \t]+(?:here|unchanged|remains?|as[ \t]+before|omitted)
    | \b(?:rest|remainder)[ \t]+of[ \t]+(?:the[ \t]+)?(?:file|code|class|function|module)[ \t]+
        (?:unchanged|remains|stays|as[ \t]+before|omitted)
    """
)

Progress = Callable[[str], None]
FindingsProvider = Callable[[str], list[str]]


def tool_definitions() -> list[dict[str, Any]]:
    """The tools, in a fixed order (the prompt cache keys on them); the last carries the cache breakpoint."""
    tools: list[dict[str, Any]] = [
        {"type": EDITOR_TOOL_TYPE, "name": EDITOR_TOOL_NAME, "max_characters": VIEW_MAX_CHARS},
        {
            "name": "search_workspace",
            "description": (
                "Search the workspace's files for a regular expression (Python syntax) and return matching "
                "lines as path:line: text. Secret files (.env*, keys, credentials) and git-ignored files are "
                "never searched. Use it to find where a model, route, setting or helper is defined or used."),
            "input_schema": {
                "type": "object",
                "properties": {
                    "pattern": {"type": "string", "description": "regular expression, e.g. 'class Order\\b'"},
                    "path": {"type": "string", "description": "folder to search under (default: the workspace)"},
                    "case_sensitive": {"type": "boolean", "description": "default true"},
                },
                "required": ["pattern"],
            },
        },
        {
            "name": "list_files",
            "description": "List the files under a folder of the workspace (recursively), workspace-relative.",
            "input_schema": {
                "type": "object",
                "properties": {"path": {"type": "string", "description": "folder (default: the workspace)"}},
            },
        },
        {
            "name": "file_findings",
            "description": (
                "Plumbline's findings for a file as it is now, your edits included: rule code, line and message. "
                "Use it to check your change before you finish."),
            "input_schema": {
                "type": "object",
                "properties": {"path": {"type": "string", "description": "workspace-relative file path"}},
                "required": ["path"],
            },
        },
    ]
    tools[-1]["cache_control"] = {"type": "ephemeral"}
    return tools


class ToolError(Exception):
    """A tool call that cannot be done; the message goes back to the model as an error result."""


@dataclass
class ToolResult:
    content: str
    is_error: bool = False


@dataclass
class ToolExecutor:
    overlay: Overlay
    findings_for: FindingsProvider | None = None
    progress: Progress | None = None
    viewed: set[str] = field(default_factory=set)
    refusals: list[str] = field(default_factory=list)
    calls: int = 0

    def run(self, name: str, arguments: Any) -> ToolResult:
        """Execute one tool call; never raises for the model's mistakes (they come back as errors)."""
        self.calls += 1
        if not isinstance(arguments, dict):
            return ToolResult("The tool input must be a JSON object.", True)
        try:
            if name == EDITOR_TOOL_NAME:
                content = self._editor(arguments)
            elif name == "search_workspace":
                content = self._search(arguments)
            elif name == "list_files":
                content = self._list(arguments)
            elif name == "file_findings":
                content = self._findings(arguments)
            else:
                raise ToolError(f"Unknown tool {name!r}.")
        except PolicyError as error:
            self.refusals.append(str(error))
            return ToolResult(f"Refused: {error}", True)
        except (ToolError, OverlayError) as error:
            return ToolResult(self.overlay.policy.mask(str(error)), True)
        return ToolResult(_cap(self.overlay.policy.mask(content)))

    def _report(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    # ------------------------------------------------------------------ text editor

    def _editor(self, arguments: dict[str, Any]) -> str:
        command = arguments.get("command")
        path = self.overlay.policy.resolve(_string(arguments, "path"))
        if command == "view":
            return self._view(path, arguments.get("view_range"))
        if command == "str_replace":
            return self._str_replace(path, arguments)
        if command == "create":
            return self._create(path, arguments)
        if command == "insert":
            return self._insert(path, arguments)
        raise ToolError(f"Unsupported command {command!r}: use view, str_replace, create or insert.")

    def _view(self, path: str, view_range: Any) -> str:
        if self.overlay.is_dir(path) and not self.overlay.exists(path):
            self._report(f"listing {path or '.'}")
            return self._listing(path)
        self._report(f"reading {path}")
        text = self.overlay.read(path)
        self.viewed.add(path)
        lines = text.split("\n")
        start, end = 1, len(lines)
        if view_range is not None:
            start, end = _view_range(view_range, len(lines))
        numbered = "\n".join(f"{number:6}\t{lines[number - 1]}" for number in range(start, end + 1))
        if len(numbered) > VIEW_MAX_CHARS:
            cut = numbered[:VIEW_MAX_CHARS].rsplit("\n", 1)[0]
            shown = cut.count("\n") + start
            return f"{cut}\n[truncated at line {shown} of {len(lines)}: use view_range to see the rest]"
        return numbered

    def _str_replace(self, path: str, arguments: dict[str, Any]) -> str:
        old = _string(arguments, "old_str", allow_empty=True)
        new = _string(arguments, "new_str", allow_empty=True)
        self._require_viewed(path)
        if not old:
            raise ToolError("old_str is empty: give the exact text to replace (use insert to add lines).")
        _check_new_text(new)
        if MASK in old:
            raise ToolError("old_str contains a masked secret: lines holding secrets cannot be edited.")
        text = self.overlay.read(path)
        count = text.count(old)
        if count == 0:
            raise ToolError(_no_match(path, text, old))
        if count > 1:
            lines = _match_lines(text, old)
            raise ToolError(f"old_str matches {count} places in {path} (lines {', '.join(map(str, lines))}); "
                            "include more surrounding lines so that it matches exactly one.")
        self._report(f"editing {path}")
        start = text.index(old)
        updated = text[:start] + new + text[start + len(old):]
        self.overlay.write(path, updated)
        first_line = text.count("\n", 0, start) + 1
        return f"Edited {path}.\n" + _snippet(updated, first_line, first_line + new.count("\n"))

    def _create(self, path: str, arguments: dict[str, Any]) -> str:
        content = _string(arguments, "file_text", allow_empty=True)
        if self.overlay.exists(path):
            raise ToolError(f"{path} already exists: change it with str_replace or insert (whole-file rewrites "
                            "are not allowed).")
        _check_new_text(content)
        self._report(f"creating {path}")
        self.overlay.write(path, content)
        self.viewed.add(path)
        return f"Created {path} ({len(content.splitlines())} lines)."

    def _insert(self, path: str, arguments: dict[str, Any]) -> str:
        key = "insert_text" if "insert_text" in arguments else "new_str"
        new = _string(arguments, key, allow_empty=True)
        line = arguments.get("insert_line")
        self._require_viewed(path)
        _check_new_text(new)
        text = self.overlay.read(path)
        lines = text.split("\n") if text else []
        if text.endswith("\n"):
            lines.pop()
        if not isinstance(line, int) or isinstance(line, bool) or not 0 <= line <= len(lines):
            raise ToolError(f"insert_line must be a line number from 0 (the top) to {len(lines)} (the end).")
        self._report(f"editing {path}")
        inserted = new[:-1].split("\n") if new.endswith("\n") else new.split("\n")
        updated_lines = lines[:line] + inserted + lines[line:]
        updated = "\n".join(updated_lines) + ("\n" if text.endswith("\n") or not text else "")
        self.overlay.write(path, updated)
        return f"Inserted {len(inserted)} line(s) after line {line} of {path}.\n" + _snippet(
            updated, line + 1, line + len(inserted))

    def _require_viewed(self, path: str) -> None:
        if path not in self.viewed:
            if not self.overlay.exists(path):
                raise ToolError(f"{path}: no such file (create it with the create command).")
            raise ToolError(f"View {path} first: edits apply to the text you have seen.")

    # ------------------------------------------------------------------ read-only tools

    def _listing(self, folder: str) -> str:
        files = self.overlay.list_files(folder, limit=LIST_MAX_FILES + 1)
        more = len(files) > LIST_MAX_FILES
        body = "\n".join(files[:LIST_MAX_FILES]) or "(no files the agent may read)"
        return body + (f"\n[more than {LIST_MAX_FILES} files: list a subfolder]" if more else "")

    def _list(self, arguments: dict[str, Any]) -> str:
        raw = arguments.get("path") or "."
        folder = self.overlay.policy.resolve(raw if isinstance(raw, str) else ".")
        if not self.overlay.is_dir(folder):
            raise ToolError(f"{raw}: not a folder")
        self._report(f"listing {folder or '.'}")
        return self._listing(folder)

    def _search(self, arguments: dict[str, Any]) -> str:
        pattern_text = _string(arguments, "pattern")
        flags = 0 if arguments.get("case_sensitive", True) is not False else re.IGNORECASE
        try:
            pattern = re.compile(pattern_text, flags)
        except re.error:
            pattern = re.compile(re.escape(pattern_text), flags)
        raw_folder = arguments.get("path") or "."
        folder = self.overlay.policy.resolve(raw_folder if isinstance(raw_folder, str) else ".")
        self._report(f"searching for {pattern_text[:40]!r}")
        matches: list[str] = []
        for path in self.overlay.list_files(folder):
            try:
                text = self.overlay.read(path)
            except OverlayError:
                continue
            for number, line in enumerate(text.split("\n"), start=1):
                if pattern.search(line):
                    matches.append(f"{path}:{number}: {line.strip()[:200]}")
                    if len(matches) >= SEARCH_MAX_MATCHES:
                        return "\n".join(matches) + f"\n[stopped at {SEARCH_MAX_MATCHES} matches: narrow the search]"
        return "\n".join(matches) or "No matches."

    def _findings(self, arguments: dict[str, Any]) -> str:
        path = self.overlay.policy.resolve(_string(arguments, "path"))
        if not self.overlay.exists(path):
            raise ToolError(f"{path}: no such file")
        if self.findings_for is None:
            raise ToolError("Findings are not available in this session.")
        self._report(f"checking {path}")
        found = self.findings_for(path)
        return "\n".join(found) if found else f"No findings in {path}."


# --------------------------------------------------------------------------------------------- helpers


def _string(arguments: dict[str, Any], key: str, allow_empty: bool = False) -> str:
    value = arguments.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ToolError(f"The {key!r} parameter is required (a string).")
    return value


def _check_new_text(text: str) -> None:
    found = _PLACEHOLDER.search(text)
    if found:
        raise ToolError(f"The new text contains a placeholder ({found.group(0).strip()!r}): write the actual code; "
                        "to keep existing code, replace only the lines that change.")
    if MASK in text:
        raise ToolError(f"The new text contains {MASK}: secrets are hidden from you and cannot be written; "
                        "read them from settings or the environment instead.")


def _view_range(view_range: Any, total: int) -> tuple[int, int]:
    if (not isinstance(view_range, list) or len(view_range) != 2
            or not all(isinstance(item, int) and not isinstance(item, bool) for item in view_range)):
        raise ToolError("view_range must be [start_line, end_line] (1-based; end -1 for the end of the file).")
    start, end = view_range
    end = total if end == -1 else end
    if not 1 <= start <= max(total, 1) or end < start:
        raise ToolError(f"view_range {view_range} is outside the file's {total} lines.")
    return start, min(end, total)


def _match_lines(text: str, needle: str) -> list[int]:
    lines: list[int] = []
    start = text.find(needle)
    while start >= 0 and len(lines) < 20:
        lines.append(text.count("\n", 0, start) + 1)
        start = text.find(needle, start + 1)
    return lines


def _no_match(path: str, text: str, old: str) -> str:
    message = f"No match for old_str in {path}: it must match the file exactly, whitespace and indentation included."
    first = next((line.strip() for line in old.split("\n") if line.strip()), "")
    if first:
        squashed = _squash(first)
        candidates = [number for number, line in enumerate(text.split("\n"), start=1)
                      if first in line or (squashed and _squash(line) == squashed)]
        if candidates:
            shown = ", ".join(map(str, candidates[:10]))
            message += f" Its first line appears at line(s) {shown}; view them again and copy the text exactly."
    return message


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _snippet(text: str, first: int, last: int, context: int = 3) -> str:
    lines = text.split("\n")
    start = max(1, first - context)
    end = min(len(lines), last + context)
    return "\n".join(f"{number:6}\t{lines[number - 1]}" for number in range(start, end + 1))


def _cap(text: str) -> str:
    if len(text) <= RESULT_MAX_CHARS:
        return text
    return text[:RESULT_MAX_CHARS] + "\n[output truncated]"
