"""Evaluation of the agent's fixes on the fixture projects, against the real Anthropic API.

For every finding in the chosen projects (the agent's own under tests/agent/projects and the engine's under
tests/fixtures), the agent is asked to fix it in a fresh copy of the project. A task succeeds when the job's
verification passes (the finding is gone, no new finding, every file parses) and the project's own tests, if
it has any, still pass with the change written. The report gives the success rate, turns, tokens, cache hits
and an estimated cost.

Runs only when ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) is set; otherwise it says so and exits 0. The
model comes from PLUMBLINE_MODEL or --model. It spends real money: --limit bounds the number of tasks.

    python bench/agent_eval.py --limit 5
    python bench/agent_eval.py --projects shop sqlalchemy_mapped --codes DB003 --json bench/out/agent_eval.json
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from analyzers.config import load_config  # noqa: E402
from analyzers.engine import Workspace  # noqa: E402
from analyzers.model import Finding  # noqa: E402
from lsp_server.agent.job import Job, run_job  # noqa: E402
from lsp_server.agent.loop import AgentError, AgentSettings, Usage  # noqa: E402
from lsp_server.agent.overlay import Overlay  # noqa: E402
from lsp_server.agent.policy import Policy  # noqa: E402
from lsp_server.agent.verify import EngineSnapshot  # noqa: E402

PROJECT_FOLDERS = (REPO / "tests" / "agent" / "projects", REPO / "tests" / "fixtures")
# US dollars per million tokens: input, output, cache write, cache read. Estimates: check current pricing.
PRICES = {
    "haiku": (1.0, 5.0, 1.25, 0.10),
    "sonnet": (3.0, 15.0, 3.75, 0.30),
    "opus": (5.0, 25.0, 6.25, 0.50),
}


@dataclass
class TaskResult:
    project: str
    fingerprint: str
    verified: bool = False
    tests_pass: bool | None = None  # None: the project has no tests
    error: str | None = None
    repair_rounds: int = 0
    seconds: float = 0.0
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.verified and self.tests_pass is not False


def project_paths(names: list[str] | None) -> list[Path]:
    found = [path for folder in PROJECT_FOLDERS if folder.is_dir() for path in sorted(folder.iterdir())
             if path.is_dir()]
    return [path for path in found if not names or path.name in names]


def findings_of(root: Path, codes: list[str] | None) -> list[Finding]:
    workspace = Workspace(root, load_config(root))
    workspace.scan()
    return [finding for finding in workspace.check().all_findings()
            if finding.code != "PLB001" and (not codes or finding.code in codes)]


async def run_task(project: Path, fingerprint: str, settings: AgentSettings) -> TaskResult:
    result = TaskResult(project.name, fingerprint)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="plumbline-eval-") as temporary:
        root = Path(temporary) / project.name
        shutil.copytree(project, root, ignore=shutil.ignore_patterns(".plumbline_cache", "__pycache__"))
        workspace = Workspace(root, load_config(root))
        workspace.scan()
        finding = next((f for f in workspace.check().all_findings() if f.fingerprint == fingerprint), None)
        if finding is None:
            result.error = "finding not reproduced in the copy"
            return result
        job = Job(EngineSnapshot.of(workspace), Overlay(Policy(root)), settings, finding=finding)
        try:
            outcome = await run_job(job)
        except AgentError as error:
            result.error = f"{error.kind}: {error.message.splitlines()[0]}"
            result.usage = (error.usage or Usage()).as_dict()
            result.seconds = time.monotonic() - started
            return result
        result.verified = True
        result.repair_rounds = outcome.repair_rounds
        result.usage = outcome.usage.as_dict()
        for change in outcome.changes:
            target = root / change.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(change.after, encoding="utf-8")
        result.tests_pass = project_tests_pass(root)
    result.seconds = time.monotonic() - started
    return result


def project_tests_pass(root: Path) -> bool | None:
    """The project's own tests (a tests/ folder), run with the change written; None when it has none."""
    if not (root / "tests").is_dir():
        return None
    completed = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                               cwd=root, capture_output=True, text=True, timeout=300)
    return completed.returncode == 0


def cost(usage: dict[str, int], model: str) -> float:
    family = next((name for name in PRICES if name in model), "sonnet")
    price_in, price_out, price_write, price_read = PRICES[family]
    return (usage.get("input_tokens", 0) * price_in + usage.get("output_tokens", 0) * price_out
            + usage.get("cache_creation_tokens", 0) * price_write
            + usage.get("cache_read_tokens", 0) * price_read) / 1_000_000


@dataclass
class Report:
    model: str
    results: list[TaskResult]

    def rate(self, passed: int) -> float:
        return passed / len(self.results) if self.results else 0.0

    def totals(self) -> dict[str, int]:
        keys = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "turns", "tool_calls")
        return {key: sum(result.usage.get(key, 0) for result in self.results) for key in keys}

    def cache_hit_rate(self) -> float:
        totals = self.totals()
        prompt = totals["input_tokens"] + totals["cache_read_tokens"] + totals["cache_creation_tokens"]
        return totals["cache_read_tokens"] / prompt if prompt else 0.0

    def as_dict(self) -> dict[str, object]:
        results = self.results
        return {
            "model": self.model,
            "tasks": len(results),
            "success_rate": self.rate(sum(result.success for result in results)),
            "verified_rate": self.rate(sum(result.verified for result in results)),
            "mean_turns": self.totals()["turns"] / len(results) if results else 0.0,
            "tokens": self.totals(),
            "cache_hit_rate": self.cache_hit_rate(),
            "estimated_cost_usd": round(sum(cost(result.usage, self.model) for result in results), 4),
            "results": [dataclasses.asdict(result) | {"success": result.success} for result in results],
        }

    def text(self) -> str:
        lines = []
        for result in self.results:
            status = "ok  " if result.success else "FAIL"
            tests = {None: "no tests", True: "tests pass", False: "tests FAIL"}[result.tests_pass]
            detail = result.error or f"{result.repair_rounds} repair(s), {tests}"
            lines.append(f"{status} {result.project:<24} {result.fingerprint:<40} "
                         f"turns={result.usage.get('turns', 0):<3} cost=${cost(result.usage, self.model):.4f} "
                         f"{result.seconds:5.1f}s  {detail}")
        summary = self.as_dict()
        lines.append(f"\n{len(self.results)} tasks with {self.model}: success {summary['success_rate']:.0%} "
                     f"(verified {summary['verified_rate']:.0%}), mean turns {summary['mean_turns']:.1f}, "
                     f"cache hits {self.cache_hit_rate():.0%} of prompt tokens, "
                     f"estimated cost ${summary['estimated_cost_usd']}")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", nargs="*", help="project folder names (default: all)")
    parser.add_argument("--codes", nargs="*", help="rule codes to fix (default: all)")
    parser.add_argument("--limit", type=int, default=10, help="at most this many tasks (default 10)")
    parser.add_argument("--model", help="the model (default: PLUMBLINE_MODEL or Plumbline's default)")
    parser.add_argument("--json", type=Path, help="also write the report as JSON to this file")
    args = parser.parse_args(argv)
    if not (os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN")):
        print("agent_eval: skipped (set ANTHROPIC_API_KEY to run it against the real API)")
        return 0
    settings = AgentSettings.from_environment(args.model)
    tasks = [(project, finding.fingerprint) for project in project_paths(args.projects)
             for finding in findings_of(project, args.codes)][: args.limit]
    if not tasks:
        print("agent_eval: no findings to fix in the chosen projects")
        return 0
    results: list[TaskResult] = []
    for project, fingerprint in tasks:
        print(f"... {project.name}: {fingerprint}", file=sys.stderr, flush=True)
        results.append(asyncio.run(run_task(project, fingerprint, settings)))
    report = Report(settings.model, results)
    print(report.text())
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
