"""One agent job, front-end neutral: the language server and the CLI both run it.

context → conversation with tools on the overlay → verification by the engine → (repair rounds) → a verified
set of changes. Nothing here writes to disk or talks to an editor: the caller delivers the result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from analyzers.model import Finding
from lsp_server.agent import context
from lsp_server.agent.loop import AgentError, AgentSettings, Conversation, Usage
from lsp_server.agent.overlay import Change, Overlay
from lsp_server.agent.tools import ToolExecutor, tool_definitions
from lsp_server.agent.verify import EngineSnapshot, Verification, verify

Progress = Callable[[str], None]


@dataclass(slots=True)
class JobResult:
    changes: list[Change]
    usage: Usage
    summary: str
    repair_rounds: int = 0
    refusals: list[str] = field(default_factory=list)
    model: str = ""

    def usage_line(self) -> str:
        return self.usage.summary()


@dataclass(slots=True)
class Job:
    """What to do: fix `finding`, or implement `description` near `near` (a workspace-relative path)."""

    snapshot: EngineSnapshot
    overlay: Overlay
    settings: AgentSettings
    finding: Finding | None = None
    description: str | None = None
    near: str | None = None
    progress: Progress = field(default=lambda message: None)

    @property
    def implementing(self) -> bool:
        return self.finding is None


async def run_job(job: Job) -> JobResult:
    job.settings.require_credentials()
    job.progress("reading the project")
    baseline = await asyncio.to_thread(job.snapshot.baseline)
    project = baseline.project
    profile = await asyncio.to_thread(context.project_profile, project, job.overlay)
    if job.finding is not None:
        task = await asyncio.to_thread(context.fix_task, job.finding, project, job.overlay)
    else:
        pack = await asyncio.to_thread(context.pattern_pack, project, job.overlay, job.near)
        task = await asyncio.to_thread(context.implement_task, job.description or "", pack, project, job.overlay)
    executor = ToolExecutor(job.overlay, job.snapshot.findings_provider(job.overlay), job.progress)
    conversation = Conversation(job.settings, context.system_blocks(profile), tool_definitions(), executor,
                                job.progress)
    try:
        return await _converse(job, conversation, executor, task)
    except AgentError as error:
        error.usage = conversation.usage
        raise
    finally:
        await conversation.close()


async def _converse(job: Job, conversation: Conversation, executor: ToolExecutor, task: str) -> JobResult:
    target = job.finding.fingerprint if job.finding is not None else None
    message = task
    for round_number in range(job.settings.limits.repair_rounds + 1):
        summary = await conversation.send(message)
        if not job.overlay.changes():
            said = f" The model said: {_first_lines(summary)}" if summary else ""
            raise AgentError("gave_up", f"The agent made no change.{said}")
        job.progress("verifying" if round_number == 0 else f"verifying repair {round_number}")
        verification = await asyncio.to_thread(verify, job.snapshot, job.overlay, target, job.implementing)
        if verification.ok:
            return JobResult(job.overlay.changes(), conversation.usage, summary, round_number,
                             list(executor.refusals), job.settings.model)
        if round_number == job.settings.limits.repair_rounds:
            raise AgentError("verification", _failure_message(verification, round_number, conversation.usage))
        job.progress(f"repair round {round_number + 1}: {len(verification.problems)} problem(s)")
        message = job.overlay.policy.mask(repair_message(verification))
    raise AgentError("verification", "verification failed")  # not reached


def repair_message(verification: Verification) -> str:
    return ("Plumbline's check of your change failed:\n" + verification.report() +
            "\n\nFix these (view the files again before editing), check with `file_findings`, then summarise.")


def _failure_message(verification: Verification, rounds: int, usage: Usage) -> str:
    return (f"The agent's change did not pass Plumbline's check after {rounds} repair round"
            f"{'s' if rounds != 1 else ''}; nothing was applied ({usage.summary()}):\n{verification.report()}")


def _first_lines(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
