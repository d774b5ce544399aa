"""Bad input never crashes the CLI: it yields fewer facts and a note, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.discovery import MAX_FILE_BYTES
from analyzers.extract import extract_file

UNUSED = "x = 1  # plumbline: ignore[DB003]\n"


def check_json(cli, root: Path, *args: str) -> dict:
    outcome = cli("check", "--format", "json", *args, cwd=root)
    assert outcome.code in (0, 1), outcome.err
    assert "Traceback" not in outcome.err
    return json.loads(outcome.out)


def notes_of(document: dict) -> dict[str, str]:
    return {note["path"]: note["message"] for note in document["notes"]}


def test_binary_file(make_project, cli) -> None:
    root = make_project({"app/blob.py": b"\x00\x01\x02\xff" * 64, "app/a.py": UNUSED})
    document = check_json(cli, root)
    assert notes_of(document) == {"app/blob.py": "skipped: binary file"}
    assert [item["path"] for item in document["findings"]] == ["app/a.py"]


def test_invalid_utf8(make_project, cli) -> None:
    root = make_project({"app/latin.py": "s = 'café'  # plumbline: ignore[DB003]\n".encode("latin-1")})
    document = check_json(cli, root)
    assert notes_of(document)["app/latin.py"].startswith("skipped: not valid UTF-8")
    assert document["findings"] == []


def test_huge_file_is_skipped_with_a_note(make_project, cli) -> None:
    root = make_project({"app/huge.py": "x = 1\n" * (MAX_FILE_BYTES // 6 + 10), "app/a.py": UNUSED})
    outcome = cli("check", cwd=root)
    assert outcome.code == 1
    assert "note: skipped: larger than 2 MB (1 file): app/huge.py" in outcome.out


@pytest.mark.parametrize("source", [
    "x = " + "(" * 20_000 + "1" + ")" * 20_000 + "\n",
    "x = " + "[" * 50_000 + "]" * 50_000 + "\n",
    "x = " + "f(" * 5_000 + ")" * 5_000 + "\n",
    "x = a" + ".b" * 50_000 + "\n",
    "x = 1" + " + 1" * 100_000 + "\n",
    "".join("    " * depth + "if x:\n" for depth in range(400)) + "    " * 400 + "pass\n",
    "".join("    " * depth + f"class C{depth}:\n" for depth in range(300)) + "    " * 300 + "pass\n",
], ids=["parens", "lists", "calls", "attributes", "binops", "ifs", "classes"])
def test_deep_nesting(make_project, cli, source: str) -> None:
    root = make_project({"app/deep.py": source, "app/a.py": UNUSED})
    document = check_json(cli, root)
    assert [item["path"] for item in document["findings"]] == ["app/a.py"]


def test_syntax_errors_are_analysed_partly(make_project, cli) -> None:
    root = make_project({"app/broken.py": "def f(:\n    class\nx = 1  # plumbline: ignore[DB003]\n"})
    outcome = cli("check", cwd=root)
    assert outcome.code == 1
    assert "note: syntax errors: analysed what could be parsed (1 file): app/broken.py" in outcome.out


@pytest.mark.parametrize("data", [
    b"",
    b"\xef\xbb\xbf",
    b"\xef\xbb\xbfx = 1\r\n",
    b"x = 1\ry = 2\r",
    b"\x0c\n\tdef f():\n\t\treturn 1\n",
    b"\n" * 10_000,
    "π = 'ünïcödé 😀'\n".encode(),
    b"# plumbline: ignore[\n# plumbline: ignore[]\n# plumbline: ignore-file\n# plumbline:\n",
], ids=["empty", "bom", "bom-crlf", "cr", "formfeed-tabs", "blank-lines", "unicode", "odd-directives"])
def test_odd_but_valid_files(make_project, cli, data: bytes) -> None:
    root = make_project({"app/odd.py": data, "db/odd.sql": data, "alembic.ini": data})
    check_json(cli, root)


def test_garbage_sql_and_config_files(make_project, cli) -> None:
    root = make_project({
        "db/001.sql": "CREATE TABLE (((( ; ALTER ;; -- plumbline: ignore[DB001\n" * 50,
        "alembic.ini": "[[[\nsqlalchemy.url = \x7f\n",
        "requirements.txt": "-e ../\x01\n",
    })
    check_json(cli, root)


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads every file")
def test_unreadable_file(make_project, cli) -> None:
    root = make_project({"app/secret.py": "x = 1\n", "app/a.py": UNUSED})
    (root / "app" / "secret.py").chmod(0)
    try:
        document = check_json(cli, root)
    finally:
        (root / "app" / "secret.py").chmod(0o644)
    assert notes_of(document)["app/secret.py"].startswith("skipped: cannot read")


def test_unreadable_folder_is_skipped(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED, "locked/b.py": UNUSED})
    (root / "locked").chmod(0)
    try:
        check_json(cli, root)
    finally:
        (root / "locked").chmod(0o755)


def test_unreadable_cache_folder_does_not_matter(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED})
    (root / ".plumbline_cache").write_text("not a folder", encoding="utf-8")
    document = check_json(cli, root)
    assert len(document["findings"]) == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode))
def test_extraction_never_raises(data: bytes) -> None:
    for path in ("app/models.py", "migrations/001.sql", "alembic.ini"):
        facts = extract_file(path, data)
        assert facts.path == path


PYTHON_PIECES = ["class ", "def ", "(", ")", ":", "\n", "    ", "=", "Column(", "ForeignKey(", "'x.id'", ",",
                 "@router.get('/')", "import ", "from ", " as ", "Base", "__tablename__", "#", "\"\"\"", "[", "]",
                 "mapped_column(", "index=True", "op.create_table(", "lambda", "**", "async ", "await "]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PYTHON_PIECES), max_size=80).map("".join))
def test_extraction_of_python_like_noise_never_raises(source: str) -> None:
    facts = extract_file("app/models.py", source.encode())
    assert not facts.failures, facts.failures
