"""Building agent jobs over a project copy, as the CLI and the server do."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analyzers.config import load_config
from analyzers.engine import Workspace
from lsp_server.agent.job import Job
from lsp_server.agent.loop import AgentSettings, Limits
from lsp_server.agent.overlay import OpenDocument, Overlay
from lsp_server.agent.policy import Policy
from lsp_server.agent.verify import EngineSnapshot

FK_LINE = '    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False)\n'
FK_FIXED = '    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), nullable=False, index=True)\n'
DB003 = "DB003:orders.customer_id"


def settings(stream: bool = True, **limits: Any) -> AgentSettings:
    base = Limits(retry_delay=0.01, max_retry_wait=0.05)
    return AgentSettings.from_environment(stream=stream, limits=dataclasses.replace(base, **limits))


def scan(root: Path) -> Workspace:
    workspace = Workspace(root, load_config(root))
    workspace.scan()
    return workspace


def fix_job(root: Path, fingerprint: str = DB003, stream: bool = True,
            documents: Mapping[str, OpenDocument] | None = None, **limits: Any) -> Job:
    workspace = scan(root)
    finding = next(f for f in workspace.check().all_findings() if f.fingerprint == fingerprint)
    overlay = Overlay(Policy(root), dict(documents or {}))
    return Job(EngineSnapshot.of(workspace), overlay, settings(stream, **limits), finding=finding)


def implement_job(root: Path, description: str, near: str | None = None, stream: bool = True, **limits: Any) -> Job:
    workspace = scan(root)
    overlay = Overlay(Policy(root))
    return Job(EngineSnapshot.of(workspace), overlay, settings(stream, **limits), description=description, near=near)
