"""Warm runs replay the last identical `plumbline check` only while nothing it read has changed.

The replay lives in `python -m lsp_server`'s entry point, before anything heavy is imported, so these tests run
the real command in a child process.
"""

from __future__ import annotations

import json
import marshal
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lsp_server import replay
from tests.cli.conftest import ORDERS_MODEL

CONFIG = '[project]\nname = "demo"\n\n[tool.plumbline]\nselect = ["DB003"]\n'
PLAIN_MODEL = ORDERS_MODEL.replace('customer_id = Column(Integer, ForeignKey("customers.id"))',
                                   'customer_id = Column(Integer, ForeignKey("customers.id"), index=True)')


@dataclass
class Run:
    code: int
    out: str
    err: str
    replayed: bool


def check(root: Path, *args: str) -> Run:
    """`plumbline check ARGS` in a child process; `replayed` tells whether the engine was ever imported."""
    env = {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "NO_COLOR")}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "lsp_server", "check", *args], cwd=root,
                          capture_output=True, text=True, env=env, check=False)
    imports = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    err = "".join(line + "\n" for line in done.stderr.splitlines() if not line.startswith("import time:"))
    return Run(done.returncode, done.stdout, err, replayed=not any("analyzers.engine" in line for line in imports)
               and not any("lsp_server.cli" in line for line in imports))


def codes(run: Run) -> list[str]:
    return [finding["code"] for finding in json.loads(run.out)["findings"]]


def test_an_unchanged_project_is_replayed_byte_for_byte(make_project) -> None:
    root = make_project({"pyproject.toml": CONFIG, "app/models.py": ORDERS_MODEL})
    first = check(root, "--format", "json")
    again = check(root, "--format", "json")
    assert not first.replayed and again.replayed
    assert (again.code, again.out, again.err) == (first.code, first.out, first.err)
    assert "DB003" in codes(again)


def test_each_command_line_keeps_its_own_output(make_project) -> None:
    root = make_project({"pyproject.toml": CONFIG, "app/models.py": ORDERS_MODEL})
    text, as_json = check(root), check(root, "--format", "json")
    assert check(root).out == text.out and check(root, "--format", "json").out == as_json.out
    assert check(root).replayed and check(root, "--format", "json").replayed
    assert not check(root, "--format", "json", "--ignore", "DB001").replayed  # never run before


def test_an_edit_is_seen_even_when_size_and_mtime_stay_the_same(make_project) -> None:
    root = make_project({"pyproject.toml": CONFIG, "app/models.py": PLAIN_MODEL})
    model = root / "app" / "models.py"
    assert codes(check(root, "--format", "json")) == []
    before = model.stat()
    edited = ORDERS_MODEL + " " * (before.st_size - len(ORDERS_MODEL.encode()))  # the index gone, same size
    model.write_text(edited, encoding="utf-8")
    os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns))  # a tool that restores timestamps
    assert model.stat().st_size == before.st_size
    after = check(root, "--format", "json")
    assert not after.replayed
    assert codes(after) == ["DB003"]


def test_a_new_file_a_deleted_file_and_a_config_change_are_all_seen(make_project) -> None:
    root = make_project({"pyproject.toml": CONFIG, "app/models.py": PLAIN_MODEL})
    assert codes(check(root, "--format", "json")) == []
    other_tables = ORDERS_MODEL.replace("customers", "buyers").replace('"orders"', '"sales"')
    (root / "app" / "orders.py").write_text(other_tables, encoding="utf-8")
    added = check(root, "--format", "json")
    assert not added.replayed and "DB003" in codes(added)
    (root / "app" / "orders.py").unlink()
    removed = check(root, "--format", "json")
    assert not removed.replayed and codes(removed) == []
    (root / "app" / "models.py").write_text(ORDERS_MODEL, encoding="utf-8")
    assert "DB003" in codes(check(root, "--format", "json"))
    (root / "pyproject.toml").write_text(CONFIG.replace("DB003", "DB001"), encoding="utf-8")
    configured = check(root, "--format", "json")
    assert not configured.replayed and "DB003" not in codes(configured)


def test_files_the_check_never_reads_do_not_cost_the_replay(make_project) -> None:
    root = make_project({"pyproject.toml": CONFIG, "app/models.py": ORDERS_MODEL, ".gitignore": "generated/\n",
                         "generated/keep.txt": ""})
    check(root, "--format", "json")
    (root / "generated" / "models.py").write_text(ORDERS_MODEL, encoding="utf-8")  # git-ignored
    (root / "app" / "notes.md").write_text("# not a source file\n", encoding="utf-8")
    # notes.md changed app/'s listing, which must be looked at again (a real run), and that run's output is
    # what later runs replay.
    check(root, "--format", "json")
    (root / "generated" / "more.py").write_text(ORDERS_MODEL, encoding="utf-8")
    assert check(root, "--format", "json").replayed


def test_a_damaged_snapshot_means_a_real_run(make_project) -> None:
    root = make_project({"pyproject.toml": CONFIG, "app/models.py": ORDERS_MODEL})
    first = check(root, "--format", "json")
    (root / replay.CACHE_DIR / replay.SNAPSHOT_NAME).write_bytes(b"\x00not marshal")
    again = check(root, "--format", "json")
    assert not again.replayed and (again.code, again.out) == (first.code, first.out)
    assert check(root, "--format", "json").replayed  # and the real run stored a good one


def test_no_cache_neither_replays_nor_records(make_project) -> None:
    root = make_project({"pyproject.toml": CONFIG, "app/models.py": ORDERS_MODEL})
    check(root, "--no-cache", "--format", "json")
    assert not (root / replay.CACHE_DIR / replay.SNAPSHOT_NAME).exists()
    check(root, "--format", "json")
    assert not check(root, "--no-cache", "--format", "json").replayed


def test_a_racy_entry_is_compared_by_content(tmp_path: Path) -> None:
    """On a file system whose clock did not tick between two writes, the signature cannot tell them apart."""
    file = tmp_path / "models.py"
    file.write_text("a = 1\n", encoding="utf-8")
    builder = replay.ManifestBuilder()
    builder.add(str(file))  # written just now: racy, so its content is kept
    paths, _, by_content = builder.manifest()
    assert str(file) in by_content
    file.write_text("a = 2\n", encoding="utf-8")
    same_signature = (paths, (replay.signature(str(file)),), by_content)
    assert not replay.unchanged(same_signature)
    file.write_text("a = 1\n", encoding="utf-8")
    assert replay.unchanged((paths, (replay.signature(str(file)),), by_content))


def test_only_simple_check_command_lines_are_replayed() -> None:
    assert replay.check_paths(["check"]) == ["."]
    assert replay.check_paths(["check", "--format", "json", "app", "--select=DB"]) == ["app"]
    assert replay.check_paths(["check", "--no-cache"]) is None
    assert replay.check_paths(["check", "--form", "json"]) is None  # argparse's abbreviations: a real run
    assert replay.check_paths(["check", "--format"]) is None
    assert replay.check_paths(["rules"]) is None


def test_racy_entries_settle_after_a_replay_and_edits_are_still_seen(make_project) -> None:
    """Recorded right after the files were written, every entry is racy (kept by content, hashed on each replay).
    Once a replay finds them unchanged and old enough, the snapshot drops their contents: signatures suffice."""
    root = make_project({"pyproject.toml": CONFIG, "app/models.py": PLAIN_MODEL})
    snapshot = root / replay.CACHE_DIR / replay.SNAPSHOT_NAME

    def kept_by_content() -> int:
        stored = marshal.loads(snapshot.read_bytes())
        return sum(len(entry[1][2]) for entry in stored["entries"].values())

    check(root, "--format", "json")
    assert kept_by_content() > 0
    time.sleep(replay.RACY_NS / 1e9 + 0.2)
    assert check(root, "--format", "json").replayed
    assert kept_by_content() == 0
    model = root / "app" / "models.py"
    before = model.stat()
    model.write_text(ORDERS_MODEL + " " * (before.st_size - len(ORDERS_MODEL.encode())), encoding="utf-8")
    os.utime(model, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = check(root, "--format", "json")
    assert not after.replayed and codes(after) == ["DB003"]


def test_settling_keeps_what_is_still_racy() -> None:
    now = time.time_ns()
    old, fresh = (now - 10 * replay.RACY_NS,) * 2 + (1, 1), (now,) * 2 + (1, 2)
    manifest: replay.Manifest = (("old", "fresh"), (old, fresh), {"old": b"a", "fresh": b"b"})
    assert replay._settled(manifest, now) == (("old", "fresh"), (old, fresh), {"fresh": b"b"})
    assert replay._settled((("fresh",), (fresh,), {"fresh": b"b"}), now) is None
