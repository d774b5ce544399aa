"""API failures become actionable messages and nothing is applied: no key, 401, 429 (rate vs spend), 529,
timeouts, budgets; and a job cancelled mid-stream stops at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from lsp_server.agent.job import run_job
from lsp_server.agent.loop import AgentError, AgentSettings
from tests.agent.fake_api import FakeMessagesAPI, text, view
from tests.agent.helpers import fix_job


async def _error_of(job) -> AgentError:
    with pytest.raises(AgentError) as raised:
        await run_job(job)
    return raised.value


async def test_no_key_says_how_to_set_one(fake_api: FakeMessagesAPI, shop, monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    error = await _error_of(fix_job(shop))
    assert error.kind == "no_key"
    assert "ANTHROPIC_API_KEY" in error.message and "Set API Key" in error.message
    assert fake_api.requests == []


async def test_auth_token_is_sent_as_bearer(fake_api: FakeMessagesAPI, shop, monkeypatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "test-key")
    fake_api.reply(text("Nothing to do."))
    error = await _error_of(fix_job(shop))
    assert error.kind == "gave_up"
    assert fake_api.requests[0].headers["authorization"] == "Bearer test-key"


@pytest.mark.parametrize("stream", [True, False], ids=["streaming", "json"])
async def test_401_is_a_bad_key(fake_api: FakeMessagesAPI, shop, monkeypatch, stream: bool) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "wrong-key")
    error = await _error_of(fix_job(shop, stream=stream))
    assert error.kind == "auth" and "401" in error.message and "wrong-key" not in error.message
    assert len(fake_api.requests) == 1  # not retried


async def test_429_rate_limit_is_retried_then_reported(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.fail(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit",
                  {"retry-after": "0"}, times=3)
    error = await _error_of(fix_job(shop))
    assert error.kind == "rate_limit" and "wait a minute" in error.message
    assert len(fake_api.requests) == 3  # the first try and two retries


async def test_429_rate_limit_recovers(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.fail(429, "rate_limit_error", "rate limited", {"retry-after": "0"})
    fake_api.reply(text("Nothing to change."))
    error = await _error_of(fix_job(shop))
    assert error.kind == "gave_up"  # the retry got through to the model


async def test_429_spend_limit_is_not_retried(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.fail(429, "rate_limit_error", "You have reached your specified API usage limits (spend limit).")
    error = await _error_of(fix_job(shop))
    assert error.kind == "spend_limit" and "Billing" in error.message
    assert len(fake_api.requests) == 1


async def test_529_overloaded(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.fail(529, "overloaded_error", "Overloaded", times=3)
    error = await _error_of(fix_job(shop))
    assert error.kind == "overloaded" and "529" in error.message
    assert len(fake_api.requests) == 3


async def test_unknown_model(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.fail(404, "not_found_error", "model: claude-nonexistent")
    error = await _error_of(fix_job(shop))
    assert error.kind == "model" and "PLUMBLINE_MODEL" in error.message


async def test_request_timeout(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.reply(text("too late"), delay=2.0)
    error = await _error_of(fix_job(shop, stream=False, request_timeout=0.3))
    assert error.kind == "timeout"


async def test_wall_time_limit(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.reply(view("app/models.py"), delay=0.5)
    error = await _error_of(fix_job(shop, max_seconds=1.0))
    assert error.kind == "timeout" and "ran out of time" in error.message


async def test_turn_budget(fake_api: FakeMessagesAPI, shop) -> None:
    for _ in range(3):
        fake_api.reply(view("app/models.py"))
    error = await _error_of(fix_job(shop, max_turns=2))
    assert error.kind == "budget" and "2 turns" in error.message


async def test_tool_call_budget(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.reply(view("app/models.py"), view("app/db.py"), view("app/main.py"))
    error = await _error_of(fix_job(shop, max_tool_calls=2))
    assert error.kind == "budget" and "tool calls" in error.message


async def test_output_limit_reached(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.reply(text("a very long answer"), stop_reason="max_tokens")
    error = await _error_of(fix_job(shop))
    assert error.kind == "budget"


async def test_cancellation_mid_stream_stops_at_once(fake_api: FakeMessagesAPI, shop) -> None:
    fake_api.reply(text("thinking slowly about the model " * 3), view("app/models.py"), delay=1.0)
    task = asyncio.ensure_future(run_job(fix_job(shop)))
    while not fake_api.requests:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 0.5
    assert len(fake_api.requests) == 1


def test_model_setting_order(monkeypatch) -> None:
    monkeypatch.setenv("PLUMBLINE_MODEL", "claude-from-env")
    assert AgentSettings.from_environment().model == "claude-from-env"
    assert AgentSettings.from_environment("claude-user-setting").model == "claude-user-setting"
    monkeypatch.delenv("PLUMBLINE_MODEL")
    assert AgentSettings.from_environment().model.startswith("claude-")
    assert "sk-ant-secret" not in repr(AgentSettings.from_environment(environ={"ANTHROPIC_API_KEY": "sk-ant-secret"}))
