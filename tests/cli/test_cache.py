"""The on-disk facts cache: warm runs give the same findings, edits invalidate, `--no-cache` leaves no trace."""

from __future__ import annotations

import json
from pathlib import Path

from analyzers.cache import CACHE_DIR, RESULT_FILE, FactCache
from analyzers.config import Config
from analyzers.engine import PARALLEL_THRESHOLD, Workspace
from tests.cli.conftest import ORDERS_MODEL

UNUSED = "x = 1  # plumbline: ignore[DB003]\n"


def findings(cli, root: Path, *args: str) -> list[dict]:
    outcome = cli("check", "--format", "json", *args, cwd=root)
    assert outcome.code in (0, 1), outcome.err
    return json.loads(outcome.out)["findings"]


def test_warm_run_gives_identical_findings(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL, "app/a.py": UNUSED})
    cold = findings(cli, root)
    assert (root / CACHE_DIR).is_dir()
    warm = findings(cli, root)
    assert warm == cold and cold


def test_cache_folder_ignores_itself(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED})
    findings(cli, root)
    assert (root / CACHE_DIR / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"


def test_warm_run_reads_facts_from_the_cache(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL})
    findings(cli, root)
    cache = FactCache(root)
    assert set(cache.entries) >= {"app/models.py", "pyproject.toml"}
    workspace = Workspace(root, Config(), use_cache=True)
    workspace.scan()
    assert workspace.files["app/models.py"] is not None
    assert workspace.cache is not None and not workspace.cache.dirty  # nothing was re-extracted


def test_editing_a_file_invalidates_its_entry(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL})
    before = findings(cli, root, "--select", "DB003")
    assert [item["code"] for item in before] == ["DB003"]
    old_digest = FactCache(root).entries["app/models.py"][0]
    (root / "app/models.py").write_text(
        ORDERS_MODEL.replace('ForeignKey("customers.id"))', 'ForeignKey("customers.id"), index=True)'),
        encoding="utf-8")
    assert findings(cli, root, "--select", "DB003") == []
    assert FactCache(root).entries["app/models.py"][0] != old_digest


def test_deleted_files_leave_the_cache(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED, "app/b.py": UNUSED})
    assert len(findings(cli, root)) == 2
    (root / "app/b.py").unlink()
    assert len(findings(cli, root)) == 1
    assert "app/b.py" not in FactCache(root).entries


def test_no_cache_writes_nothing(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED})
    assert len(findings(cli, root, "--no-cache")) == 1
    assert not (root / CACHE_DIR).exists()


def test_cache_lives_at_the_project_root_not_the_working_directory(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED})
    findings(cli, root / "app")
    assert (root / CACHE_DIR).is_dir() and not (root / "app" / CACHE_DIR).exists()


def test_corrupt_cache_is_rebuilt(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED})
    cold = findings(cli, root)
    for stored in (root / CACHE_DIR).glob("*.pickle"):
        stored.write_bytes(b"\x80\x05garbage")
    assert findings(cli, root) == cold
    assert FactCache(root).entries  # written again


def test_unchanged_project_reuses_the_last_result(make_project, cli) -> None:
    root = make_project({"app/models.py": ORDERS_MODEL, "app/a.py": UNUSED})
    cold = findings(cli, root)
    facts_files = list((root / CACHE_DIR).glob("facts-*.pickle"))
    assert facts_files and (root / CACHE_DIR / RESULT_FILE).is_file()
    for stored in facts_files:
        stored.unlink()
    assert findings(cli, root) == cold
    assert not list((root / CACHE_DIR).glob("facts-*.pickle"))  # the engine did not run
    (root / "app/b.py").write_text(UNUSED, encoding="utf-8")
    assert len(findings(cli, root)) == len(cold) + 1
    assert list((root / CACHE_DIR).glob("facts-*.pickle"))


def test_stored_result_follows_the_configuration(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED})
    assert len(findings(cli, root)) == 1
    (root / "plumbline.toml").write_text('ignore = ["PLB001"]\n', encoding="utf-8")
    assert findings(cli, root) == []
    (root / "plumbline.toml").write_text('[per-file-ignores]\n"other/*" = ["PLB001"]\n', encoding="utf-8")
    assert len(findings(cli, root)) == 1
    assert findings(cli, root, "--ignore", "PLB001") == []


def test_stored_result_serves_narrower_paths(make_project, cli) -> None:
    root = make_project({"app/a.py": UNUSED, "lib/b.py": UNUSED})
    assert len(findings(cli, root)) == 2
    assert [item["path"] for item in findings(cli, root, "lib")] == ["lib/b.py"]


def test_parallel_cold_scan_equals_serial_and_warm(make_project, cli) -> None:
    """Enough files for the process pool: the cold (parallel) and warm runs agree."""
    files = {f"app/m{index}.py": ORDERS_MODEL.replace("orders", f"orders{index}").replace(
        "customers", f"customers{index}") for index in range(PARALLEL_THRESHOLD + 10)}
    root = make_project(files)
    cold = findings(cli, root, "--select", "DB003")
    assert len(cold) == PARALLEL_THRESHOLD + 10
    assert findings(cli, root, "--select", "DB003") == cold
    serial = Workspace(root, Config(select=["DB003"]))
    serial.scan(jobs=1)
    assert len(serial.check().all_findings()) == len(cold)


def test_fast_pickling_round_trips_facts_exactly() -> None:
    from analyzers.cache import dumps, loads
    from analyzers.extract import extract_file

    source = ORDERS_MODEL + (
        "\n\n@router.get('/x')\ndef handler(q: str = Query(None)):\n    return [i for i in f(q)]  # é\n")
    facts = extract_file("app/models.py", source.encode())
    restored = loads(dumps(facts))
    assert restored == facts
