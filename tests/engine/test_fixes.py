"""Every deterministic fix offered on the fixture projects and the example, applied, clears its finding,
adds no other finding, and leaves every file parseable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analyzers.config import load_config
from analyzers.engine import Workspace
from analyzers.model import Finding, Fix, TextEdit
from analyzers.parsing import parse

REPO = Path(__file__).resolve().parents[2]
PROJECTS = sorted(path for path in (REPO / "tests" / "fixtures").iterdir() if path.is_dir()) + [
    REPO / "examples" / "shop"]


def check(root: Path) -> list[Finding]:
    workspace = Workspace(root, load_config(root))
    workspace.scan()
    return workspace.check().all_findings()


def apply_fix(root: Path, fix: Fix) -> None:
    by_path: dict[str, list[TextEdit]] = {}
    for edit in fix.edits:
        by_path.setdefault(edit.path, []).append(edit)
    for path, edits in by_path.items():
        file = root / path
        lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line))
        text = "".join(lines)

        for edit in sorted(edits, key=lambda e: (e.span.start.line, e.span.start.column), reverse=True):
            start = offsets[min(edit.span.start.line, len(lines))] + edit.span.start.column
            end = offsets[min(edit.span.end.line, len(lines))] + edit.span.end.column
            text = text[:start] + edit.new_text + text[end:]
        file.write_text(text, encoding="utf-8")
    for created in fix.creates:
        target = root / created.path
        assert not target.exists(), f"fix would overwrite {created.path}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(created.text, encoding="utf-8")


def fixable(project: Path) -> list[Finding]:
    return [finding for finding in check(project) if finding.fix is not None]


CASES = [(project, finding.fingerprint, finding.location.path)
         for project in PROJECTS for finding in fixable(project)]


def test_fixes_are_offered() -> None:
    codes = {fingerprint.split(":")[0] for _, fingerprint, _ in CASES}
    assert {"API001", "DB001", "DB002", "DB003"} <= codes


@pytest.mark.parametrize(("project", "fingerprint", "path"), CASES,
                         ids=[f"{project.name}-{fingerprint}" for project, fingerprint, _ in CASES])
def test_fix_clears_its_finding_and_nothing_else_changes(tmp_path: Path, project: Path, fingerprint: str,
                                                         path: str) -> None:
    root = tmp_path / project.name
    shutil.copytree(project, root)
    before = check(root)
    finding = next(f for f in before if f.fingerprint == fingerprint and f.location.path == path)
    assert finding.fix is not None
    apply_fix(root, finding.fix)
    after = check(root)
    remaining = {(f.fingerprint, f.location.path) for f in after}
    assert (fingerprint, path) not in remaining, f"{fingerprint} still reported after its fix"
    introduced = remaining - {(f.fingerprint, f.location.path) for f in before}
    assert not introduced, f"the fix introduced {sorted(introduced)}"
    touched = {edit.path for edit in finding.fix.edits} | {created.path for created in finding.fix.creates}
    for relative in touched:
        if relative.endswith(".py"):
            tree = parse("python", (root / relative).read_bytes())
            assert not tree.root_node.has_error, f"{relative} no longer parses"
