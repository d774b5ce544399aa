"""Fixtures for the agent's tests: the fake Messages API and copies of the small projects."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.fake_api import FakeMessagesAPI

PROJECTS = Path(__file__).parent / "projects"
# The projects are data for these tests, with tests of their own that the evaluation harness runs.
collect_ignore_glob = ["projects/*"]

# Written at run time (never committed): what the agent must never read or send.
DOTENV = ("DATABASE_URL=postgresql://shop:hunter2-very-secret@db.internal/shop\n"
          "STRIPE_API_KEY=sk_live_51HxAgentTestSecretValue000\n")
SECRET_VALUES = ("hunter2-very-secret", "sk_live_51HxAgentTestSecretValue000")


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMessagesAPI]:
    api = FakeMessagesAPI(key="test-key").start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("PLUMBLINE_MODEL", raising=False)
    yield api
    api.stop()


def copy_project(name: str, destination: Path) -> Path:
    root = destination / name
    shutil.copytree(PROJECTS / name, root)
    (root / ".env").write_text(DOTENV, encoding="utf-8")
    return root


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return copy_project("shop", tmp_path)
