"""Output formats: the JSON contract, SARIF 2.1.0 as GitHub code scanning reads it, GitHub annotations, text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analyzers.model import Finding, Fix, Location, Span, TextEdit
from analyzers.rules import Severity, all_rules
from lsp_server import __version__
from lsp_server.reporters import (
    Report,
    Style,
    escape_github_data,
    escape_github_property,
    render_github,
    render_json,
    render_sarif,
    render_text,
)
from tests.cli.conftest import ORDERS_FK_LINE, ORDERS_MODEL

FINDING_KEYS = {"code", "name", "severity", "message", "path", "start", "end", "fingerprint", "fixable"}


def make_finding(code: str = "DB003", path: str = "app/models.py", line: int = 11, column: int = 4,
                 severity: Severity = "warning", message: str = "orders.customer_id has no index",
                 fix: Fix | None = None) -> Finding:
    return Finding(code=code, name=all_rules()[code].name if code in all_rules() else "x", severity=severity,
                   message=message, location=Location(path, Span.at(line, column, line, column + 10)),
                   fingerprint=f"{code}:{path}:{line}", fix=fix)


def make_report(findings: list[Finding], root: Path, cwd: Path | None = None, notes=None) -> Report:
    return Report(findings=findings, root=root, cwd=cwd or root, rules=all_rules(), notes=notes or {},
                  files_checked=3)


# --------------------------------------------------------------------------------------------- JSON


def test_json_contract(tmp_path: Path) -> None:
    fix = Fix("Add index=True", (TextEdit("app/models.py", Span.at(11, 60), ", index=True"),))
    report = make_report([make_finding(fix=fix), make_finding("DB001", line=2, column=0)], tmp_path)
    document = json.loads(render_json(report))
    assert document["version"] == 1
    assert document["tool"] == {"name": "plumbline", "version": __version__}
    first = document["findings"][0]
    assert FINDING_KEYS <= set(first)
    assert first["start"] == {"line": 12, "column": 5} and first["end"] == {"line": 12, "column": 15}
    assert first["fixable"] is True and document["findings"][1]["fixable"] is False
    assert first["fix"]["edits"] == [{"path": "app/models.py", "start": {"line": 12, "column": 61},
                                      "end": {"line": 12, "column": 61}, "new_text": ", index=True"}]


def test_json_paths_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    report = make_report([make_finding()], tmp_path, cwd=tmp_path / "app")
    assert json.loads(render_json(report))["findings"][0]["path"] == "models.py"
    report = make_report([make_finding()], tmp_path, cwd=tmp_path / "docs")
    assert json.loads(render_json(report))["findings"][0]["path"] == "../app/models.py"


def test_json_from_the_cli_on_a_real_finding(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL})
    document = json.loads(cli("check", "--format", "json", "--select", "DB003", cwd=root).out)
    (finding,) = document["findings"]
    assert set(finding) >= FINDING_KEYS
    assert finding["code"] == "DB003" and finding["name"] == "foreign-key-without-index"
    assert finding["path"] == "app/models.py"
    assert finding["start"]["line"] == ORDERS_FK_LINE
    # Columns count characters and are 1-based: the finding starts at or after the indentation.
    assert finding["start"]["column"] >= 5
    assert (finding["end"]["line"], finding["end"]["column"]) >= (finding["start"]["line"], finding["start"]["column"])


def test_columns_count_characters_not_bytes(make_project, cli) -> None:
    root = make_project({"app/a.py": "s = 'é€😀'  # plumbline: ignore[DB003]\n"})
    finding = json.loads(cli("check", "--format", "json", cwd=root).out)["findings"][0]
    assert finding["start"] == {"line": 1, "column": 12}


# --------------------------------------------------------------------------------------------- SARIF


def test_sarif_shape_github_reads(tmp_path: Path) -> None:
    findings = [make_finding(), make_finding("DB001", severity="warning", line=0, column=0),
                make_finding("PLB001", severity="info", line=3)]
    document = json.loads(render_sarif(make_report(findings, tmp_path)))
    assert document["version"] == "2.1.0" and "sarif" in document["$schema"]
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "plumbline" and driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    for rule in driver["rules"]:
        assert {"id", "name", "shortDescription", "fullDescription", "help", "defaultConfiguration"} <= set(rule)
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file://")
    assert [result["level"] for result in run["results"]] == ["warning", "warning", "note"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact == {"uri": "app/models.py", "uriBaseId": "%SRCROOT%"}
        region = location["physicalLocation"]["region"]
        assert all(isinstance(region[key], int) and region[key] >= 1
                   for key in ("startLine", "startColumn", "endLine", "endColumn"))
        assert result["partialFingerprints"]["plumbline/v1"] == f"{result['ruleId']}:app/models.py:" + str(
            region["startLine"] - 1)
    first = run["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert first == {"startLine": 12, "startColumn": 5, "endLine": 12, "endColumn": 15}


def test_sarif_region_never_ends_before_it_starts(tmp_path: Path) -> None:
    broken = Finding("DB003", "foreign-key-without-index", "warning", "m",
                     Location("a.py", Span.at(5, 8, 4, 2)), "DB003:x")
    region = json.loads(render_sarif(make_report([broken], tmp_path)))["runs"][0]["results"][0][
        "locations"][0]["physicalLocation"]["region"]
    assert (region["endLine"], region["endColumn"]) == (6, 9)


def test_sarif_with_no_findings_is_still_valid(tmp_path: Path) -> None:
    run = json.loads(render_sarif(make_report([], tmp_path)))["runs"][0]
    assert run["results"] == [] and len(run["tool"]["driver"]["rules"]) == len(all_rules())


def test_sarif_from_the_cli(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL})
    outcome = cli("check", "--format", "sarif", "--select", "DB003", cwd=root)
    assert outcome.code == 1
    results = json.loads(outcome.out)["runs"][0]["results"]
    assert [result["ruleId"] for result in results] == ["DB003"]
    assert results[0]["partialFingerprints"] == {"plumbline/v1": "DB003:orders.customer_id"}


# --------------------------------------------------------------------------------------------- GitHub


def test_github_escaping() -> None:
    assert escape_github_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_github_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"


def test_github_annotations(tmp_path: Path) -> None:
    findings = [make_finding(message="bad: 100%\nsecond line"),
                make_finding("PLB001", path="db/a,b.sql", severity="info", line=0, column=0),
                make_finding("DB001", severity="error", line=1)]
    lines = render_github(make_report(findings, tmp_path)).splitlines()
    assert lines[0] == ("::warning file=app/models.py,line=12,col=5,endLine=12,endColumn=15,"
                        "title=DB003 foreign-key-without-index::bad: 100%25%0Asecond line")
    assert lines[1].startswith("::notice file=db/a%2Cb.sql,line=1,col=1,")
    assert lines[2].startswith("::error ")
    pattern = re.compile(r"^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,"
                         r"title=[A-Z]+\d+ [a-z-]+::.+$")
    assert all(pattern.match(line) for line in lines)


def test_github_from_the_cli(make_project, cli) -> None:
    root = make_project({"app/a.py": "x = 1  # plumbline: ignore[DB003]\n"})
    outcome = cli("check", "--format", "github", cwd=root)
    assert outcome.code == 1
    assert outcome.out.startswith("::notice file=app/a.py,line=1,col=8,")


def test_github_with_no_findings_prints_nothing(make_project, cli) -> None:
    outcome = cli("check", "--format", "github", cwd=make_project({"a.py": "x = 1\n"}))
    assert (outcome.code, outcome.out) == (0, "")


# --------------------------------------------------------------------------------------------- text


def test_text_groups_by_file_and_summarises(tmp_path: Path) -> None:
    fix = Fix("Add index=True", (TextEdit("app/models.py", Span.at(11, 60), ", index=True"),))
    findings = [make_finding(fix=fix), make_finding("DB001", line=2, column=0),
                make_finding("DB001", path="app/other.py", line=0, column=0, message="multi\nline")]
    text = render_text(make_report(findings, tmp_path), Style(False))
    assert text == (
        "app/models.py (2 findings)\n"
        "app/models.py:12:5 DB003 foreign-key-without-index orders.customer_id has no index\n"
        "app/models.py:3:1 DB001 table-without-created-at orders.customer_id has no index\n"
        "\n"
        "app/other.py (1 finding)\n"
        "app/other.py:1:1 DB001 table-without-created-at multi line\n"
        "\n"
        "Found 3 findings in 2 files (1 fixable with a quick fix).\n"
    )


def test_text_notes_are_counted_by_kind(tmp_path: Path) -> None:
    notes = {f"data/b{index}.py": ["skipped: binary file"] for index in range(5)}
    notes["app/broken.py"] = ["syntax errors: analysed what could be parsed"]
    notes["app/latin.py"] = ["skipped: not valid UTF-8 (byte 7)"]
    text = render_text(make_report([], tmp_path, notes=notes), Style(False))
    assert "note: skipped: binary file (5 files): data/b0.py, data/b1.py, data/b2.py and 2 more" in text
    assert "note: syntax errors: analysed what could be parsed (1 file): app/broken.py" in text
    assert "note: skipped: not valid UTF-8 (1 file): app/latin.py" in text
    assert text.endswith("All checks passed.\n")


def test_text_colour(tmp_path: Path) -> None:
    text = render_text(make_report([make_finding(severity="error")], tmp_path), Style(True))
    assert "\x1b[1;31mDB003\x1b[0m" in text


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "github"])
def test_every_format_from_the_cli_on_a_clean_project(make_project, cli, output_format: str) -> None:
    outcome = cli("check", "--format", output_format, cwd=make_project({"a.py": "x = 1\n"}))
    assert outcome.code == 0
    if output_format in ("json", "sarif"):
        json.loads(outcome.out)
