"""What the model is told, stable first so prompt caching hits (DESIGN §5.3).

1. the system prompt: how to work, and the guidelines as Plumbline's rules with how to fix each (the same for
   every job of this Plumbline version);
2. the project profile: stack, database, conventions seen in the model, the file tree and one or two exemplar
   files (the same for every job while the project does not change);
3. the task: the finding with the entities it relates to, or the endpoint to implement with a pattern pack
   taken from the project's nearest existing endpoint.

Everything read goes through the policy (no secrets, no ignored files) and every text through masking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from analyzers.model import Endpoint, Finding, Project, Table
from analyzers.rules import Rule, all_rules
from lsp_server.agent.overlay import Overlay, OverlayError
from lsp_server.agent.tools import EDITOR_TOOL_NAME

EXEMPLAR_MAX_CHARS = 12_000
PACK_MAX_CHARS = 60_000
TREE_MAX_FILES = 200
SNIPPET_CONTEXT = 15
CACHE = {"type": "ephemeral"}

WORKING_RULES = f"""\
You are Plumbline's agent: a senior backend engineer who changes a codebase so that it follows the guidelines
below, in the way the project already does things. Plumbline checks your work with its own engine before the
user sees it: the change must leave every file parseable, clear the target finding and raise no new finding.

How to work:
- Use the tools. `{EDITOR_TOOL_NAME}` views and edits files of an in-memory copy of the workspace; nothing
  you do is written to disk until the user accepts it. `search_workspace`, `list_files` and `file_findings`
  are read-only. Paths are workspace-relative.
- View a file before you edit it. `str_replace` needs `old_str` to match exactly one place, whitespace
  included: copy it from what you viewed, with enough lines to be unique.
- Make the smallest change that fixes the problem properly. Change only the lines that must change; never
  rewrite a whole file, and never write placeholders such as `# ... existing code ...`.
- Follow the project's own patterns: its naming, its helpers, its framework idioms, its migration tool.
  A schema change the project manages with migrations needs a new migration after the current head.
- Never add a `plumbline: ignore` comment: the task is to fix the code, not to hide the finding.
- Secret files (.env*, keys, certificates, credentials) and git-ignored files are off limits, and values shown
  as «masked» are hidden from you: read secrets from settings or the environment, never write them.
- When done, check your files with `file_findings`, then end your turn with two or three sentences on what you
  changed and why. If the task cannot be done safely, change nothing and say why.
"""


# --------------------------------------------------------------------------------------------- guidelines


def doc_sections(doc: str) -> dict[str, str]:
    """A rule's documentation split by its `## ` headings (What it does / Why it matters / ...)."""
    sections: dict[str, str] = {}
    current = ""
    for line in doc.split("\n"):
        if line.startswith("## "):
            current = line[3:].strip().lower()
            sections[current] = ""
        elif current:
            sections[current] += line + "\n"
    return {key: value.strip() for key, value in sections.items()}


def guideline(rule: Rule) -> str:
    sections = doc_sections(rule.doc)
    parts = [f"### {rule.code} {rule.name}", rule.summary + "."]
    if sections.get("why it matters"):
        parts.append("Why: " + sections["why it matters"])
    if sections.get("use instead"):
        parts.append("How to fix:\n" + sections["use instead"])
    return "\n".join(parts)


def system_prompt() -> str:
    rules = [rule for rule in all_rules().values() if rule.category != "PLB"]
    body = "\n\n".join(guideline(rule) for rule in rules)
    return f"{WORKING_RULES}\n## The guidelines, as Plumbline's rules\n\n{body}\n"


def system_blocks(profile: str) -> list[dict[str, Any]]:
    """The system prompt and the project profile, each a cache breakpoint."""
    return [
        {"type": "text", "text": system_prompt(), "cache_control": CACHE},
        {"type": "text", "text": profile, "cache_control": CACHE},
    ]


# --------------------------------------------------------------------------------------------- profile


def project_profile(project: Project, overlay: Overlay) -> str:
    lines = ["# The project", ""]
    lines.append(f"Stack: {', '.join(sorted(project.stacks)) or 'not detected'}")
    dialect = project.dialect or "not detected (assume PostgreSQL semantics)"
    lines.append(f"Database: {dialect}" + (f" (from {project.dialect_source})" if project.dialect_source else ""))
    lines.extend(_conventions(project))
    lines.extend(["", "## Files", *_tree(overlay)])
    for path in exemplar_paths(project):
        text = _read(overlay, path, EXEMPLAR_MAX_CHARS)
        if text is not None:
            lines.extend(["", f"## Exemplar: {path}", "```", text, "```"])
    return overlay.policy.mask("\n".join(lines) + "\n")


def _conventions(project: Project) -> list[str]:
    lines: list[str] = []
    timestamps = sorted({column.name for table in project.tables.values() for column in table.columns.values()
                         if column.auto_on_insert or column.auto_on_update})
    if timestamps:
        lines.append(f"Timestamp columns in use: {', '.join(timestamps[:6])}")
    origins = sorted({column.origin_detail for table in project.tables.values()
                      for column in table.columns.values() if column.origin == "inherited" and column.origin_detail})
    if origins:
        lines.append(f"Shared column sources: {'; '.join(origins[:4])}")
    if project.tables:
        lines.append("Tables: " + ", ".join(f"{table.name} ({table.primary.location.path})" if table.primary
                                            else table.name for table in list(project.tables.values())[:25]))
    if project.migration_order:
        head, head_path = project.migration_order[-1]
        lines.append(f"Migrations: {len(project.migration_order)} revisions; current head {head} ({head_path})")
    if project.endpoints:
        lines.append("Endpoints:")
        for endpoint in project.endpoints[:15]:
            paging = f"; paginated by {', '.join(endpoint.pagination[:2])}" if endpoint.pagination else ""
            lines.append(f"- {'/'.join(endpoint.methods)} {endpoint.path} -> {endpoint.handler} "
                         f"({endpoint.location.path}:{endpoint.location.line + 1}){paging}")
    return lines


def _tree(overlay: Overlay) -> list[str]:
    files = overlay.list_files(limit=TREE_MAX_FILES + 1)
    shown = files[:TREE_MAX_FILES]
    return shown + ([f"(more than {TREE_MAX_FILES} files; use list_files)"] if len(files) > TREE_MAX_FILES else [])


def exemplar_paths(project: Project) -> list[str]:
    """One endpoint file and one model file that show the project's way (the paginated endpoint, the model
    with timestamps), chosen without regard to the task so the profile stays cacheable."""
    paths: list[str] = []
    endpoints = sorted(project.endpoints, key=lambda e: (not e.pagination, e.location.path, e.location.line))
    if endpoints:
        paths.append(endpoints[0].location.path)
    models = sorted((table for table in project.tables.values() if table.primary and table.primary.kind == "model"),
                    key=lambda t: (not _has_timestamps(t), t.name))
    for table in models:
        if table.primary is not None and table.primary.location.path not in paths:
            paths.append(table.primary.location.path)
            break
    return paths


def _has_timestamps(table: Table) -> bool:
    return any(column.auto_on_insert for column in table.columns.values())


# --------------------------------------------------------------------------------------------- tasks


def fix_task(finding: Finding, project: Project, overlay: Overlay) -> str:
    rule = all_rules().get(finding.code)
    where = f"{finding.location.path}:{finding.location.line + 1}"
    parts = [
        "# Task: fix this finding",
        f"{finding.code} {finding.name} ({finding.severity}) at {where}",
        f"Message: {finding.message}",
        f"Fingerprint: {finding.fingerprint}",
    ]
    snippet = _snippet(overlay, finding.location.path, finding.location.line)
    if snippet:
        parts.extend(["", f"## {finding.location.path} around line {finding.location.line + 1}", "```", snippet, "```"])
    related = related_entities(finding, project)
    if related:
        parts.extend(["", "## Related", *related])
    if finding.fix is not None:
        parts.extend(["", "## Plumbline's own fix (a hint; follow the project's style)", *_describe_fix(finding)])
    if rule is not None:
        parts.extend(["", f"## The rule {rule.code} in full", rule.doc])
    parts.extend(["", "Fix it with the smallest proper change, check with `file_findings`, then summarise."])
    return overlay.policy.mask("\n".join(parts))


def related_entities(finding: Finding, project: Project) -> list[str]:
    lines: list[str] = []
    entity = finding.fingerprint.split(":", 1)[-1]
    table = project.table(entity.split(".", 1)[0])
    if table is not None:
        lines.extend(_describe_table(table, project))
        source = f" (from {project.dialect_source})" if project.dialect_source else ""
        lines.append(f"- database: {project.dialect or 'not detected'}{source}")
    for endpoint in project.endpoints:
        if endpoint.location.path == finding.location.path and endpoint.location.line == finding.location.line:
            lines.extend(_describe_endpoint(endpoint))
    for location in finding.related:
        lines.append(f"- related: {location.path}:{location.line + 1}")
    if project.migration_order:
        head, path = project.migration_order[-1]
        lines.append(f"- migrations: current head {head} ({path}); a new revision must have down_revision = {head!r}")
    return lines


def _describe_table(table: Table, project: Project) -> list[str]:
    lines = [f"- table {table.name}:"]
    for declaration in table.declarations:
        lines.append(f"  - declared as a {declaration.kind} ({declaration.framework}) at "
                     f"{declaration.location.path}:{declaration.location.line + 1}"
                     + (f" (class {declaration.class_name})" if declaration.class_name else ""))
    columns = ", ".join(f"{name}{' (indexed)' if column.indexed else ''}" for name, column in table.columns.items())
    lines.append(f"  - columns: {columns}")
    for foreign_key in table.foreign_keys:
        target = project.table(foreign_key.target_table or "")
        where = f" declared at {target.primary.location.path}" if target and target.primary else ""
        lines.append(f"  - foreign key ({', '.join(foreign_key.columns)}) -> {foreign_key.target_table}{where}")
    if table.indexes:
        lines.append("  - indexes: " + "; ".join(f"({', '.join(index.columns)})" for index in table.indexes))
    return lines


def _describe_endpoint(endpoint: Endpoint) -> list[str]:
    lines = [f"- endpoint {'/'.join(endpoint.methods)} {endpoint.path} -> {endpoint.handler} "
             f"({endpoint.framework}, returns {endpoint.returns})"]
    if endpoint.parameters:
        lines.append("  - parameters: " + ", ".join(f"{p.name} ({p.source})" for p in endpoint.parameters))
    for query in endpoint.queries:
        lines.append(f"  - data access at {query.location.path}:{query.location.line + 1}: {query.text} ({query.kind})")
    return lines


def _describe_fix(finding: Finding) -> list[str]:
    assert finding.fix is not None
    lines = [f"- {finding.fix.title}"]
    for edit in finding.fix.edits:
        lines.append(f"  - at {edit.path}:{edit.span.start.line + 1}:{edit.span.start.column + 1} "
                     f"insert/replace with {edit.new_text!r}")
    for created in finding.fix.creates:
        lines.append(f"  - create {created.path}")
    return lines


@dataclass(frozen=True, slots=True)
class PatternPack:
    endpoint: Endpoint | None
    files: list[str]


def pattern_pack(project: Project, overlay: Overlay, near: str | None) -> PatternPack:
    """The nearest existing endpoint to `near` (a workspace-relative path) and the files of every layer it uses:
    route, services it calls, models it names, the latest migration and the tests that exercise it."""
    endpoint = nearest_endpoint(project, near)
    if endpoint is None:
        head = [project.migration_order[-1][1]] if project.migration_order else []
        return PatternPack(None, head)
    files = [endpoint.location.path]
    handler = project.functions.get(endpoint.handler)
    for callee in sorted(handler.calls if handler else ()):
        info = project.functions.get(callee)
        if info is not None and info.location.path not in files:
            files.append(info.location.path)
    texts = " ".join(_read(overlay, path, PACK_MAX_CHARS) or "" for path in files)
    for table in project.tables.values():
        declaration = table.primary
        if declaration and declaration.class_name and re.search(rf"\b{re.escape(declaration.class_name)}\b", texts):
            if declaration.location.path not in files:
                files.append(declaration.location.path)
    if project.migration_order and project.migration_order[-1][1] not in files:
        files.append(project.migration_order[-1][1])
    files.extend(_tests_for(endpoint, overlay, files))
    return PatternPack(endpoint, files)


def nearest_endpoint(project: Project, near: str | None) -> Endpoint | None:
    if not project.endpoints:
        return None

    def distance(endpoint: Endpoint) -> tuple[int, int, str, int]:
        path = endpoint.location.path
        if near is None:
            shared = 0
        elif path == near:
            shared = 1000
        else:
            shared = len(_common_parts(PurePosixPath(path).parent.parts, PurePosixPath(near).parent.parts))
        return (-shared, 0 if endpoint.pagination else 1, path, endpoint.location.line)

    return min(project.endpoints, key=distance)


def _common_parts(left: tuple[str, ...], right: tuple[str, ...]) -> list[str]:
    common: list[str] = []
    for a, b in zip(left, right, strict=False):
        if a != b:
            break
        common.append(a)
    return common


def _tests_for(endpoint: Endpoint, overlay: Overlay, known: list[str]) -> list[str]:
    handler_name = endpoint.handler.rsplit(".", 1)[-1]
    static = [part for part in endpoint.path.split("/") if part and not part.startswith(("{", "<", ":"))]
    needles = [handler_name] + ([static[-1]] if static else [])
    found: list[str] = []
    for path in overlay.list_files():
        name = PurePosixPath(path).name
        if path in known or not (name.startswith("test_") or name.endswith("_test.py") or "/tests/" in f"/{path}"):
            continue
        text = _read(overlay, path, PACK_MAX_CHARS) or ""
        if any(needle in text for needle in needles):
            found.append(path)
        if len(found) >= 2:
            break
    return found


def implement_task(description: str, pack: PatternPack, project: Project, overlay: Overlay) -> str:
    parts = ["# Task: implement an endpoint", "", description.strip(), "", "## Acceptance"]
    parts.extend([
        "- Write every layer the project uses for an endpoint (route, service, schema, model, migration, tests), "
        "in its style and in the same places as the pattern below; register the route the way the others are.",
        "- Plumbline checks the result: no finding may appear. A list endpoint is paginated; paths follow the "
        "project's versioned prefix; input is validated; new tables have creation and modification timestamps; "
        "foreign keys are indexed.",
    ])
    if project.migration_order:
        head, path = project.migration_order[-1]
        parts.append(f"- A schema change needs a new migration with down_revision = {head!r} (the head, {path}).")
    if pack.endpoint is not None:
        endpoint = pack.endpoint
        parts.extend(["", f"## Pattern: the nearest existing endpoint, {'/'.join(endpoint.methods)} {endpoint.path} "
                          f"({endpoint.handler})"])
    budget = PACK_MAX_CHARS
    for path in pack.files:
        text = _read(overlay, path, min(budget, EXEMPLAR_MAX_CHARS))
        if text is None:
            continue
        budget -= len(text)
        parts.extend(["", f"### {path}", "```", text, "```"])
        if budget <= 0:
            break
    parts.extend(["", "Create new files with `create`, change existing ones with `str_replace`/`insert`, check with "
                      "`file_findings`, then summarise."])
    return overlay.policy.mask("\n".join(parts))


# --------------------------------------------------------------------------------------------- helpers


def _read(overlay: Overlay, path: str, limit: int) -> str | None:
    if not overlay.policy.allowed(path):
        return None
    try:
        text = overlay.read(path)
    except OverlayError:
        return None
    return text if len(text) <= limit else text[:limit] + "\n[... truncated]"


def _snippet(overlay: Overlay, path: str, line: int) -> str | None:
    text = _read(overlay, path, 10_000_000)
    if text is None:
        return None
    lines = text.split("\n")
    start = max(0, line - SNIPPET_CONTEXT)
    end = min(len(lines), line + SNIPPET_CONTEXT + 1)
    return "\n".join(f"{number + 1:6}\t{lines[number]}" for number in range(start, end))
