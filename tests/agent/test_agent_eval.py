"""The evaluation harness runs its tasks through the same job (here against the fake API) and reports."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from tests.agent.fake_api import FakeMessagesAPI, str_replace, text, view
from tests.agent.helpers import FK_FIXED, FK_LINE

HARNESS = Path(__file__).resolve().parents[2] / "bench" / "agent_eval.py"


def harness() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agent_eval", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["agent_eval"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_skipped_without_a_key(monkeypatch, capsys) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    assert harness().main([]) == 0
    assert "skipped" in capsys.readouterr().out


def test_reports_success_tokens_cache_and_cost(fake_api: FakeMessagesAPI, tmp_path: Path, capsys) -> None:
    fake_api.reply(view("app/models.py"))
    fake_api.reply(str_replace("app/models.py", FK_LINE, FK_FIXED))
    fake_api.reply(text("Indexed it."))
    out = tmp_path / "eval.json"

    assert harness().main(["--projects", "shop", "--codes", "DB003", "--limit", "1", "--json", str(out)]) == 0

    report = json.loads(out.read_text())
    assert report["tasks"] == 1 and report["success_rate"] == 1.0
    (result,) = report["results"]
    assert result["verified"] is True and result["tests_pass"] is True
    assert report["tokens"]["cache_read_tokens"] > 0 and report["cache_hit_rate"] > 0
    assert report["estimated_cost_usd"] > 0
    assert "success 100%" in capsys.readouterr().out
