"""`plumbline: ignore[...]` comments: where they apply, what they cover, and the report of unused ones."""

from __future__ import annotations

import json

import pytest

from analyzers.extract import extract_file
from analyzers.model import Finding, Location, Span
from analyzers.suppressions import UNUSED_CODE, apply_suppressions, parse_suppressions
from tests.cli.conftest import ORDERS_FK_LINE, ORDERS_MODEL

KNOWN = ["API001", "DB001", "DB002", "DB003", "PLB001"]


def finding(code: str, line: int, path: str = "app/models.py") -> Finding:
    return Finding(code=code, name=code.lower(), severity="warning", message=f"{code} here",
                   location=Location(path, Span.at(line, 4, line, 20)), fingerprint=f"{code}:{path}:{line}")


def apply(source: str, findings: list[Finding], path: str = "app/models.py", active=KNOWN) -> list[Finding]:
    facts = extract_file(path, source.encode())
    return apply_suppressions(findings, facts, report_unused=True, active=active, known=KNOWN)


def codes_by_line(findings: list[Finding]) -> list[tuple[str, int]]:
    return sorted((item.code, item.location.span.start.line) for item in findings)


def test_same_line_suppression() -> None:
    source = "a = 1\nb = 2  # plumbline: ignore[DB003] reviewed, small table\n"
    assert apply(source, [finding("DB003", 1)]) == []


def test_comment_on_its_own_line_covers_the_next_line() -> None:
    source = "a = 1\n    # plumbline: ignore[DB003]\nb = 2\n"
    assert apply(source, [finding("DB003", 2)]) == []


def test_trailing_comment_does_not_cover_the_next_line() -> None:
    source = "a = 1  # plumbline: ignore[DB003]\nb = 2\n"
    kept = apply(source, [finding("DB003", 0), finding("DB003", 1)])
    assert codes_by_line(kept) == [("DB003", 1)]


def test_comment_two_lines_above_does_not_apply() -> None:
    source = "# plumbline: ignore[DB003]\n\nb = 2\n"
    kept = apply(source, [finding("DB003", 2)])
    assert codes_by_line(kept) == [("DB003", 2), (UNUSED_CODE, 0)]


def test_only_the_named_codes_are_suppressed() -> None:
    source = "b = 2  # plumbline: ignore[DB003]\n"
    kept = apply(source, [finding("DB003", 0), finding("DB001", 0)])
    assert codes_by_line(kept) == [("DB001", 0)]


def test_several_codes_prefixes_case_and_spaces() -> None:
    source = "b = 2  # plumbline: ignore[ db001 ,  DB00, API ] why\n"
    assert apply(source, [finding("DB003", 0), finding("DB001", 0), finding("API001", 0)]) == []


def test_bare_ignore_covers_every_code() -> None:
    source = "b = 2  # plumbline: ignore\n"
    assert apply(source, [finding("DB003", 0), finding("API001", 0)]) == []


def test_ignore_file_anywhere() -> None:
    source = "a = 1\nb = 2\n\n# plumbline: ignore-file[DB001]\n"
    kept = apply(source, [finding("DB001", 0), finding("DB001", 1), finding("DB003", 1)])
    assert codes_by_line(kept) == [("DB003", 1)]


def test_unused_suppression_names_the_unused_code_where_the_comment_is() -> None:
    source = "b = 2  # plumbline: ignore[DB003, DB001]\n"
    kept = apply(source, [finding("DB003", 0)])
    assert len(kept) == 1
    unused = kept[0]
    assert unused.code == UNUSED_CODE and unused.name == "unused-suppression"
    assert "DB001" in unused.message and "DB003" not in unused.message
    assert (unused.location.span.start.line, unused.location.span.start.column) == (0, 7)


def test_unused_bare_ignore_and_ignore_file_are_reported() -> None:
    source = "a = 1  # plumbline: ignore\n# plumbline: ignore-file[DB002]\n"
    kept = apply(source, [])
    assert [item.code for item in kept] == [UNUSED_CODE, UNUSED_CODE]
    assert "all codes" in kept[0].message and "ignore-file" in kept[1].message


def test_suppressions_of_rules_that_did_not_run_are_not_reported() -> None:
    source = "a = 1  # plumbline: ignore[DB001]\n"
    assert apply(source, [], active=["DB003"]) == []


def test_suppression_naming_no_rule_at_all_is_reported() -> None:
    source = "a = 1  # plumbline: ignore[DB03]\n"
    kept = apply(source, [], active=["DB003"])
    assert [item.code for item in kept] == [UNUSED_CODE] and "DB03" in kept[0].message


def test_unused_not_reported_when_disabled() -> None:
    facts = extract_file("a.py", b"a = 1  # plumbline: ignore[DB001]\n")
    assert apply_suppressions([], facts, report_unused=False) == []


def test_sql_comments() -> None:
    source = ("-- plumbline: ignore[DB001]\nCREATE TABLE t (id int);\n"
              "CREATE TABLE u (id int); -- plumbline: ignore[DB001]\nCREATE TABLE v (id int);\n")
    kept = apply(source, [finding("DB001", 1, "db/001.sql"), finding("DB001", 2, "db/001.sql"),
                          finding("DB001", 3, "db/001.sql")], path="db/001.sql")
    assert codes_by_line(kept) == [("DB001", 3)]


def test_hash_comments_in_config_files() -> None:
    facts = extract_file("alembic.ini", b"[alembic]\n# plumbline: ignore-file[DB003]\n")
    assert [item.codes for item in parse_suppressions(facts)] == [["DB003"]]


def test_directive_inside_a_string_is_not_a_comment() -> None:
    source = 'a = "# plumbline: ignore[DB003]"\n'
    assert codes_by_line(apply(source, [finding("DB003", 0)])) == [("DB003", 0)]


def test_plumbline_word_without_directive_is_ignored() -> None:
    facts = extract_file("a.py", b"# plumbline checks this file\n# plumbline:ignore [DB001]\n")
    assert [(item.codes, item.line) for item in parse_suppressions(facts)] == [(["DB001"], 1)]


# --------------------------------------------------------------------------------------------- through the CLI


def test_cli_reports_unused_suppressions_as_plb001(make_project, cli) -> None:
    root = make_project({"app/a.py": "x = 1  # plumbline: ignore[DB003]\n"})
    outcome = cli("check", "--format", "json", cwd=root)
    findings = json.loads(outcome.out)["findings"]
    assert [(item["code"], item["name"], item["severity"]) for item in findings] == [
        ("PLB001", "unused-suppression", "info")]


@pytest.mark.parametrize("config", [
    '[tool.plumbline]\nignore = ["PLB001"]\n',
    '[tool.plumbline]\nselect = ["DB"]\n',
    '[tool.plumbline.per-file-ignores]\n"app/*" = ["PLB"]\n',
])
def test_plb001_can_be_turned_off_like_any_rule(make_project, cli, config: str) -> None:
    root = make_project({"app/a.py": "x = 1  # plumbline: ignore[DB003]\n"})
    (root / "pyproject.toml").write_text(config, encoding="utf-8")
    outcome = cli("check", cwd=root)
    assert outcome.code == 0, outcome.out + outcome.err


def test_cli_suppression_of_a_real_finding(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL})
    assert cli("check", "--select", "DB003", cwd=root).code == 1  # the finding the comment will suppress
    lines = ORDERS_MODEL.splitlines()
    lines[ORDERS_FK_LINE - 1] += "  # plumbline: ignore[DB003] lookups go by order id only"
    (root / "app/models.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = cli("check", "--select", "DB003,PLB001", "--format", "json", cwd=root)
    assert json.loads(outcome.out)["findings"] == []
    assert outcome.code == 0


def test_cli_suppression_of_a_real_finding_from_the_line_above(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL})
    assert cli("check", "--select", "DB003", cwd=root).code == 1
    lines = ORDERS_MODEL.splitlines()
    lines.insert(ORDERS_FK_LINE - 1, "    # plumbline: ignore[DB003]")
    (root / "app/models.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = cli("check", "--select", "DB003,PLB001", cwd=root)
    assert outcome.code == 0, outcome.out
