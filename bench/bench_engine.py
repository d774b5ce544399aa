"""Engine benchmark: `plumbline check` against the tree-sitter floor, as ratios measured in one run.

For each size, a synthetic backend (bench/synth.py) is written to a temporary folder, then three programs run
as child processes, each timed the same way (wall clock around the child, best of --repeat runs) with the
child's peak resident memory from `os.wait4`:

- floor: read and parse every .py/.sql file with tree-sitter, one process, nothing else;
- cold:  `plumbline check --no-cache --format json` (discovery, parse, facts, resolution, rules, report);
- warm:  `plumbline check --format json` with the cache already populated, nothing changed since;
- edit:  the same after one file changed (its facts are extracted again, the others come from the cache,
         then resolution and rules run over all of them).

Targets: cold within 1.5x the floor, warm within 0.2x. Nothing is written into the repository.

    python bench/bench_engine.py                 # 300 and 1200 files, a markdown table
    python bench/bench_engine.py --sizes 300 1200 2400 --repeat 5 --json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.dont_write_bytecode = True  # write nothing into the repository, not even bench/__pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import generate  # noqa: E402  (bench/ is not a package)

COLD_TARGET = 1.5
WARM_TARGET = 0.2

FLOOR_PROGRAM = """
import os, sys
from tree_sitter import Language, Parser
import tree_sitter_python, tree_sitter_sql
parsers = {".py": Parser(Language(tree_sitter_python.language())),
           ".sql": Parser(Language(tree_sitter_sql.language()))}
for folder, _, names in os.walk(sys.argv[1]):
    for name in names:
        parser = parsers.get(os.path.splitext(name)[1])
        if parser is not None:
            with open(os.path.join(folder, name), "rb") as handle:
                parser.parse(handle.read())
"""


@dataclass
class Run:
    seconds: float
    peak_mb: float


@dataclass
class Row:
    files: int
    megabytes: float
    floor_s: float
    cold_s: float
    warm_s: float
    edit_s: float
    cold_ratio: float
    warm_ratio: float
    edit_ratio: float
    floor_peak_mb: float
    cold_peak_mb: float
    warm_peak_mb: float
    edit_peak_mb: float
    findings: int


def child_environment(pycache: Path) -> dict[str, str]:
    """Children keep compiled bytecode, as an installed Plumbline does (pip compiles it), but in `pycache`,
    outside the repository; PYTHONDONTWRITEBYTECODE would make every child compile every module again."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


CHILD_ENV: dict[str, str] = {}


def run_child(command: list[str], cwd: Path) -> Run:
    """Run a child to completion; its wall time and peak RSS (largest of it and its own children)."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.PIPE, env=CHILD_ENV or None)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
        if child.returncode not in (0, 1):
            raise RuntimeError(f"{' '.join(command)} exited {child.returncode}: {stderr.strip()}")
    return Run(elapsed, usage.ru_maxrss / 1024)


def best_of(repeat: int, command: list[str], cwd: Path) -> Run:
    runs = [run_child(command, cwd) for _ in range(repeat)]
    return min(runs, key=lambda run: run.seconds)


def source_size(root: Path) -> tuple[int, int]:
    count = size = 0
    for path in root.rglob("*"):
        if path.suffix in (".py", ".sql") and path.is_file():
            count += 1
            size += path.stat().st_size
    return count, size


def count_findings(root: Path) -> int:
    done = subprocess.run([sys.executable, "-m", "lsp_server", "check", "--format", "json", "."], cwd=root,
                          capture_output=True, text=True, check=False, env=CHILD_ENV or None)
    return len(json.loads(done.stdout)["findings"])


def measure(size: int, repeat: int) -> Row:
    with tempfile.TemporaryDirectory(prefix="plumbline-bench-") as folder:
        root = Path(folder)
        generate(root, size)
        files, size_bytes = source_size(root)
        check = [sys.executable, "-m", "lsp_server", "check", "--format", "json", "."]
        floor = best_of(repeat, [sys.executable, "-c", FLOOR_PROGRAM, "."], root)
        cold = best_of(repeat, [*check, "--no-cache"], root)
        run_child(check, root)  # populate the cache
        warm = best_of(repeat, check, root)
        edits = []
        for number in range(repeat):
            with (root / "app" / "db.py").open("a", encoding="utf-8") as handle:
                handle.write(f"# edit {number}\n")
            edits.append(run_child(check, root))
        edit = min(edits, key=lambda run: run.seconds)
        return Row(
            files=files,
            megabytes=round(size_bytes / 1e6, 2),
            floor_s=round(floor.seconds, 3),
            cold_s=round(cold.seconds, 3),
            warm_s=round(warm.seconds, 3),
            edit_s=round(edit.seconds, 3),
            cold_ratio=round(cold.seconds / floor.seconds, 2),
            warm_ratio=round(warm.seconds / floor.seconds, 2),
            edit_ratio=round(edit.seconds / floor.seconds, 2),
            floor_peak_mb=round(floor.peak_mb, 1),
            cold_peak_mb=round(cold.peak_mb, 1),
            warm_peak_mb=round(warm.peak_mb, 1),
            edit_peak_mb=round(edit.peak_mb, 1),
            findings=count_findings(root),
        )


def startup_seconds(repeat: int) -> float:
    """Python's own start-up, a fixed cost inside every figure above."""
    return round(best_of(repeat, [sys.executable, "-c", "pass"], Path.cwd()).seconds, 3)


def markdown(rows: list[Row], startup: float) -> str:
    lines = [
        "| files | MB | floor (parse only) | cold | cold / floor | warm | warm / floor | one file edited "
        "| edit / floor | peak RSS floor / cold / warm / edit | findings |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.files} | {row.megabytes} | {row.floor_s:.3f} s | {row.cold_s:.3f} s | {row.cold_ratio}x "
            f"| {row.warm_s:.3f} s | {row.warm_ratio}x | {row.edit_s:.3f} s | {row.edit_ratio}x "
            f"| {row.floor_peak_mb:.0f} / {row.cold_peak_mb:.0f} / {row.warm_peak_mb:.0f} / {row.edit_peak_mb:.0f} MB "
            f"| {row.findings} |")
    lines.append("")
    lines.append(f"Targets: cold within {COLD_TARGET}x the floor, warm within {WARM_TARGET}x. Every figure is the "
                 f"best of its runs, wall clock of a child process, Python start-up ({startup:.3f} s) included; "
                 f"{os.cpu_count()} CPUs.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1200], help="project sizes in files")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best counts")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a markdown table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plumbline-bench-pycache-") as pycache:
        CHILD_ENV.update(child_environment(Path(pycache)))
        rows = [measure(size, args.repeat) for size in args.sizes]
        startup = startup_seconds(args.repeat)
    if args.json:
        print(json.dumps({"startup_s": startup, "cpus": os.cpu_count(), "cold_target": COLD_TARGET,
                          "warm_target": WARM_TARGET, "rows": [asdict(row) for row in rows]}, indent=2))
    else:
        print(markdown(rows, startup))


if __name__ == "__main__":
    main()
