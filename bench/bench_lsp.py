"""Language server benchmark: keystroke → diagnostics, cross-file edits, initialize → all diagnostics.

A synthetic workspace of about 1,000 files (`synth.py`, plus a 3,000-line model module and a few model modules
that get their timestamps only from the shared mixin) is served by a real `plumbline serve` over stdio, driven by
a pygls client in this process. Each figure stands beside the bare tree-sitter parse of the same files, measured
in the same run, so the ratios travel between machines better than milliseconds do.

    python bench/bench_lsp.py                      # ~1,000 files, 200 keystrokes, a markdown table
    python bench/bench_lsp.py --files 300 --keys 100 --json

- keystroke: one character typed into a function body of the 3,000-line file (an Enter every 30 characters),
  timed from `didChange` to the `publishDiagnostics` of that version: the file re-parsed incrementally,
  re-extracted, the project re-resolved and re-checked. One keystroke at a time (p50/p95/p99).
  Floor: a full parse of that file, and its incremental re-parse after a one-character edit.
- cross-file: `created_at` removed from the mixin in an open `base.py`, timed until a model file that is not open
  shows DB001, and put back until it clears. Floor: parsing every file of the workspace (what a re-scan costs).
- initialize → all diagnostics: from the `initialize` request until every file with findings has its diagnostics
  (the scan runs in the background under `$/progress`). Floor: parsing every file once, in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from tree_sitter import Parser

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import synth  # noqa: E402

from analyzers.config import load_config  # noqa: E402
from analyzers.engine import Workspace  # noqa: E402
from analyzers.parsing import language  # noqa: E402

BIG_FILE = "app/models/catalog.py"
MIXIN_FILE = "app/models/base.py"
EXTRA_MODELS = 5  # model modules whose tables no migration declares: DB001 follows the mixin there
TARGETS = {"keystroke_p95_ms": 50.0, "cross_file_ms": 100.0}


# --------------------------------------------------------------------------------------------- the workspace


def big_module(lines: int = 3000) -> str:
    """A grown model module: models on the shared mixin, each with a helper function."""
    parts = ['"""The catalogue: products, variants, prices and their helpers."""\n\nfrom decimal import Decimal\n\n'
             "from sqlalchemy import ForeignKey, Numeric, String, Text\n"
             "from sqlalchemy.orm import Mapped, mapped_column\n\n"
             "from app.models.base import Base, TimestampMixin\n"]
    index = 0
    while sum(part.count("\n") for part in parts) < lines:
        parent = f"catalog_item{max(index - 1, 0)}s"
        parts.append(f'''

class CatalogItem{index}(TimestampMixin, Base):
    __tablename__ = "catalog_item{index}s"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    parent_id: Mapped[int] = mapped_column(ForeignKey("{parent}.id"), index=True)


def price_with_tax_{index}(item: CatalogItem{index}, rate: Decimal) -> Decimal:
    total = item.price
    for _ in range(3):
        total = total + total * rate / 3
    return round(total, 2)
''')
        index += 1
    return "".join(parts)


def extra_model(index: int) -> str:
    return f'''from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin


class Extra{index}(TimestampMixin, Base):
    __tablename__ = "extra{index}s"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
'''


def build_workspace(root: Path, files: int) -> None:
    synth.generate(root, files - 1 - EXTRA_MODELS)
    (root / BIG_FILE).write_text(big_module(), encoding="utf-8")
    for index in range(EXTRA_MODELS):
        (root / f"app/models/extra{index}.py").write_text(extra_model(index), encoding="utf-8")


def source_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.suffix in (".py", ".sql") and path.is_file())


def expected_files_with_findings(root: Path) -> set[str]:
    workspace = Workspace(root, load_config(root))
    workspace.scan(jobs=1)
    return {path for path, found in workspace.check().findings.items() if found}


# --------------------------------------------------------------------------------------------- floors


def parse_all_seconds(paths: list[Path]) -> float:
    python, sql = Parser(language("python")), Parser(language("sql"))
    started = time.perf_counter()
    for path in paths:
        (python if path.suffix == ".py" else sql).parse(path.read_bytes())
    return time.perf_counter() - started


def parse_big_file_ms(data: bytes, repeat: int = 20) -> tuple[float, float]:
    """A full parse of the file, and an incremental re-parse after a one-character edit (best of `repeat`)."""
    parser = Parser(language("python"))
    full, incremental = [], []
    at = data.index(b"total = item.price")
    for _ in range(repeat):
        started = time.perf_counter()
        tree = parser.parse(data)
        full.append(time.perf_counter() - started)
        edited = data[:at] + b"x" + data[at:]
        row = data[:at].count(b"\n")
        column = at - data.rfind(b"\n", 0, at) - 1
        tree.edit(start_byte=at, old_end_byte=at, new_end_byte=at + 1, start_point=(row, column),
                  old_end_point=(row, column), new_end_point=(row, column + 1))
        started = time.perf_counter()
        parser.parse(edited, tree)
        incremental.append(time.perf_counter() - started)
    return min(full) * 1000, min(incremental) * 1000


# --------------------------------------------------------------------------------------------- the client


class BenchClient(LanguageClient):
    def __init__(self) -> None:
        super().__init__("plumbline-bench", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.versions: dict[str, int | None] = {}
        self.changed = asyncio.Event()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)
            self.versions[params.uri] = params.version
            self.changed.set()

        @self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create_progress(params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @self.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            return None

        @self.feature(types.WINDOW_LOG_MESSAGE)
        def log(params: types.LogMessageParams) -> None:
            return None

        @self.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register(params: types.RegistrationParams) -> None:
            return None

    async def until(self, condition: Any, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            self.changed.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the server did not publish what was expected")
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass


def capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=True)),
        text_document=types.TextDocumentClientCapabilities(
            synchronization=types.TextDocumentSyncClientCapabilities(),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True)),
        window=types.WindowClientCapabilities(work_done_progress=True))


class Document:
    def __init__(self, client: BenchClient, path: Path) -> None:
        self.client = client
        self.uri = path.as_uri()
        self.text = path.read_text(encoding="utf-8")
        self.version = 1
        client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=self.uri, language_id="python", version=1, text=self.text)))

    def insert(self, line: int, character: int, text: str) -> None:
        self.version += 1
        lines = self.text.split("\n")
        lines[line] = lines[line][:character] + text + lines[line][character:]
        self.text = "\n".join(lines)
        self._send(line, character, line, character, text)

    def delete_line(self, line: int) -> str:
        lines = self.text.split("\n")
        removed = lines.pop(line)
        self.text = "\n".join(lines)
        self.version += 1
        self._send(line, 0, line + 1, 0, "")
        return removed

    def _send(self, line: int, character: int, end_line: int, end_character: int, text: str) -> None:
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=line, character=character),
                                  end=types.Position(line=end_line, character=end_character)), text=text)]))

    def published(self) -> bool:
        return self.client.versions.get(self.uri) == self.version


def codes(client: BenchClient, path: Path) -> list[str]:
    return [str(diagnostic.code) for diagnostic in client.diagnostics.get(path.as_uri(), [])]


# --------------------------------------------------------------------------------------------- measurements


async def measure(root: Path, expected: set[str], keys: int) -> dict[str, Any]:
    client = BenchClient()
    await client.start_io(sys.executable, "-m", "lsp_server", "serve", "--stdio")
    results: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        await client.initialize_async(types.InitializeParams(
            capabilities=capabilities(), root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))
        client.initialized(types.InitializedParams())
        wanted = {(root / path).as_uri() for path in expected}
        await client.until(lambda: wanted <= {uri for uri, found in client.diagnostics.items() if found})
        results["initialize_s"] = time.perf_counter() - started
        results["keystroke_ms"] = await keystrokes(client, root, keys)
        results["cross_file_ms"] = await cross_file(client, root)
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    return results


async def keystrokes(client: BenchClient, root: Path, keys: int) -> list[float]:
    document = Document(client, root / BIG_FILE)
    await client.until(document.published)
    line = document.text.split("\n").index("    for _ in range(3):", len(document.text.split("\n")) // 2)
    typed = "        total = total + 0  # adjusted\n"
    latencies: list[float] = []
    column = 0
    document.insert(line, 0, "\n")  # a fresh line to type into
    await client.until(document.published)
    for key in range(keys):
        char = typed[key % len(typed)]
        started = time.perf_counter()
        if char == "\n":
            document.insert(line, column, "\n")
            line, column = line + 1, 0
        else:
            document.insert(line, column, char)
            column += 1
        await client.until(document.published)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def cross_file(client: BenchClient, root: Path, rounds: int = 5) -> list[float]:
    mixin = Document(client, root / MIXIN_FILE)
    await client.until(mixin.published)
    unopened = root / "app/models/extra0.py"
    times: list[float] = []
    for _ in range(rounds):
        line = mixin.text.split("\n").index(next(text for text in mixin.text.split("\n") if "created_at" in text))
        started = time.perf_counter()
        removed = mixin.delete_line(line)
        await client.until(lambda: "DB001" in codes(client, unopened))
        times.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        mixin.insert(line, 0, removed + "\n")
        await client.until(lambda: "DB001" not in codes(client, unopened))
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


# --------------------------------------------------------------------------------------------- report


def summary(files: int, results: dict[str, Any], floors: dict[str, float]) -> dict[str, Any]:
    keys = results["keystroke_ms"]
    cross = results["cross_file_ms"]
    return {
        "files": files,
        "big_file_lines": floors["big_lines"],
        "keystroke_ms": {"p50": percentile(keys, 0.50), "p95": percentile(keys, 0.95),
                         "p99": percentile(keys, 0.99), "count": len(keys)},
        "cross_file_ms": {"median": statistics.median(cross), "max": max(cross), "count": len(cross)},
        "initialize_s": results["initialize_s"],
        "floor": {"parse_big_file_ms": floors["full_ms"], "reparse_big_file_ms": floors["incremental_ms"],
                  "parse_workspace_s": floors["workspace_s"]},
        "targets": TARGETS,
    }


def markdown(report: dict[str, Any]) -> str:
    keys, cross, floor = report["keystroke_ms"], report["cross_file_ms"], report["floor"]
    parse_ms = floor["parse_big_file_ms"]
    workspace_ms = floor["parse_workspace_s"] * 1000
    rows = [
        "| measurement | Plumbline | bare tree-sitter | ratio | target |",
        "|---|---|---|---|---|",
        f"| keystroke → diagnostics p50 ({report['big_file_lines']}-line file) | {keys['p50']:.0f} ms | "
        f"{parse_ms:.1f} ms full parse ({floor['reparse_big_file_ms']:.2f} ms incremental) | "
        f"{keys['p50'] / parse_ms:.1f}x | |",
        f"| keystroke → diagnostics p95 | {keys['p95']:.0f} ms | | {keys['p95'] / parse_ms:.1f}x | < 50 ms |",
        f"| keystroke → diagnostics p99 | {keys['p99']:.0f} ms | | {keys['p99'] / parse_ms:.1f}x | |",
        f"| cross-file edit → unopened file (median of {cross['count']}) | {cross['median']:.0f} ms "
        f"(max {cross['max']:.0f}) | {workspace_ms:.0f} ms to parse all files | "
        f"{cross['median'] / workspace_ms:.2f}x | < 100 ms |",
        f"| initialize → all diagnostics ({report['files']} files) | {report['initialize_s']:.2f} s | "
        f"{floor['parse_workspace_s']:.2f} s to parse all files | "
        f"{report['initialize_s'] / floor['parse_workspace_s']:.1f}x | |",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000, help="about how many files (default 1000)")
    parser.add_argument("--keys", type=int, default=200, help="keystrokes to time (default 200)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a markdown table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plumbline-lsp-bench-") as folder:
        root = Path(folder) / "workspace"
        build_workspace(root, args.files)
        paths = source_files(root)
        expected = expected_files_with_findings(root)
        big = (root / BIG_FILE).read_bytes()
        full_ms, incremental_ms = parse_big_file_ms(big)
        floors = {"full_ms": full_ms, "incremental_ms": incremental_ms, "big_lines": big.count(b"\n"),
                  "workspace_s": min(parse_all_seconds(paths) for _ in range(3))}
        results = asyncio.run(measure(root, expected, args.keys))
        report = summary(len(paths), results, floors)
    print(json.dumps(report, indent=2) if args.json else markdown(report))


if __name__ == "__main__":
    main()
