"""The conversation with Claude: `AsyncAnthropic`, streaming, tool use, limits, usage and errors.

Settings (model, credentials, endpoint) come from the process environment and the user-level initialization
option only, never from workspace files. Every API failure becomes an `AgentError` whose message tells the user
what to do; retries are ours (the SDK's are off) so that a spend-limit 429 is never retried.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported lazily below: the SDK costs ~0.8 s, paid only when the agent runs
    import anthropic

from lsp_server.agent.tools import ToolExecutor, ToolResult

# The newest Sonnet in the installed SDK's `Model` literal: strong at code, priced for interactive use.
DEFAULT_MODEL = "claude-sonnet-5-5"
MODEL_VARIABLE = "PLUMBLINE_MODEL"
KEY_HELP = ("set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) in the environment Plumbline runs in; in VS Code run "
            "\"Plumbline: Set API Key\". Keys are created at https://console.anthropic.com/settings/keys")
_SPEND_WORDS = ("spend limit", "spending limit", "usage limit", "credit balance", "billing", "quota", "budget")

Progress = Callable[[str], None]

# The SDK and its HTTP client log request bodies (prompts) and headers at debug level: keep them quiet.
for _name in ("anthropic", "httpx", "httpx2", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class AgentError(Exception):
    """A job that stops; `message` says why and what the user can do. Nothing is applied."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.usage: Usage | None = None  # what the job had spent when it stopped


@dataclass(frozen=True, slots=True)
class Limits:
    max_turns: int = 30
    max_tool_calls: int = 100
    max_total_tokens: int = 1_500_000  # input (cache reads included) + output, over the whole job
    max_seconds: float = 600.0
    max_output_tokens: int = 16_000  # room for a turn that creates several files
    request_timeout: float = 180.0
    retries: int = 2
    retry_delay: float = 2.0
    max_retry_wait: float = 30.0
    repair_rounds: int = 3


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    requests: int = 0
    turns: int = 0
    tool_calls: int = 0

    def add(self, usage: Any) -> None:
        self.requests += 1
        self.input_tokens += getattr(usage, "input_tokens", 0) or 0
        self.output_tokens += getattr(usage, "output_tokens", 0) or 0
        self.cache_read_tokens += getattr(usage, "cache_read_input_tokens", 0) or 0
        self.cache_creation_tokens += getattr(usage, "cache_creation_input_tokens", 0) or 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_creation_tokens + self.output_tokens

    def summary(self) -> str:
        return (f"{self.total_tokens:,} tokens ({self.cache_read_tokens:,} read from cache, "
                f"{self.output_tokens:,} written), {self.turns} turn{'s' if self.turns != 1 else ''}")

    def as_dict(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cache_read_tokens": self.cache_read_tokens, "cache_creation_tokens": self.cache_creation_tokens,
                "requests": self.requests, "turns": self.turns, "tool_calls": self.tool_calls}


@dataclass(frozen=True, slots=True)
class AgentSettings:
    model: str = DEFAULT_MODEL
    api_key: str | None = field(default=None, repr=False)
    auth_token: str | None = field(default=None, repr=False)
    base_url: str | None = None
    stream: bool = True
    limits: Limits = Limits()

    @classmethod
    def from_environment(cls, user_model: str | None = None, environ: Mapping[str, str] | None = None,
                         **overrides: Any) -> AgentSettings:
        """Settings from the environment; `user_model` is the user-level setting (initialization option)."""
        env = os.environ if environ is None else environ
        model = (user_model or "").strip() or env.get(MODEL_VARIABLE, "").strip() or DEFAULT_MODEL
        return cls(model=model, api_key=env.get("ANTHROPIC_API_KEY") or None,
                   auth_token=env.get("ANTHROPIC_AUTH_TOKEN") or None,
                   base_url=env.get("ANTHROPIC_BASE_URL") or None, **overrides)

    def require_credentials(self) -> None:
        if not self.api_key and not self.auth_token:
            raise AgentError("no_key", f"No Anthropic API key: {KEY_HELP}.")

    def client(self) -> anthropic.AsyncAnthropic:
        """A client with explicit credentials (so the SDK consults no profile files) and no SDK retries."""
        import anthropic
        self.require_credentials()
        if self.api_key:
            return anthropic.AsyncAnthropic(api_key=self.api_key, base_url=self.base_url, max_retries=0,
                                            timeout=self.limits.request_timeout)
        return anthropic.AsyncAnthropic(auth_token=self.auth_token, base_url=self.base_url, max_retries=0,
                                        timeout=self.limits.request_timeout)


ToolRunner = Callable[[str, Any], Awaitable[ToolResult]]


class Conversation:
    """One job's messages with the model. `send` runs turns until the model ends its turn."""

    def __init__(self, settings: AgentSettings, system: list[dict[str, Any]], tools: list[dict[str, Any]],
                 executor: ToolExecutor, progress: Progress | None = None) -> None:
        self.settings = settings
        self.limits = settings.limits
        self.system = system
        self.tools = tools
        self.executor = executor
        self.progress = progress or (lambda message: None)
        self.messages: list[dict[str, Any]] = []
        self.usage = Usage()
        self.started = time.monotonic()
        self._client: anthropic.AsyncAnthropic | None = None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def send(self, text: str) -> str:
        """Add a user message and let the model work; returns its final text."""
        self.messages.append({"role": "user", "content": [{"type": "text", "text": text}]})
        while True:
            self._check_budget()
            self.usage.turns += 1
            self.progress(f"turn {self.usage.turns}: waiting for {self.settings.model}")
            message = await self._request()
            self.messages.append({"role": "assistant", "content": [_block_param(block) for block in message.content]})
            reason = message.stop_reason
            if reason == "tool_use":
                self.messages.append({"role": "user", "content": await self._run_tools(message.content)})
                continue
            if reason == "pause_turn":
                continue
            if reason in ("end_turn", "stop_sequence", None):
                return _text_of(message.content)
            if reason == "max_tokens":
                raise AgentError("budget", f"The model's reply reached the output limit "
                                           f"({self.limits.max_output_tokens} tokens) before it finished.")
            if reason == "refusal":
                raise AgentError("gave_up", "The model declined this task; nothing was changed.")
            if reason == "model_context_window_exceeded":
                raise AgentError("budget", "The conversation outgrew the model's context window.")
            raise AgentError("api", f"The model stopped for an unexpected reason ({reason}).")

    def _check_budget(self) -> None:
        limits = self.limits
        if self.usage.turns >= limits.max_turns:
            raise AgentError("budget", f"The agent ran out of budget: {limits.max_turns} turns used "
                                       f"({self.usage.summary()}).")
        if self.usage.total_tokens >= limits.max_total_tokens:
            raise AgentError("budget", f"The agent ran out of budget: {self.usage.total_tokens:,} tokens used "
                                       f"(limit {limits.max_total_tokens:,}).")
        if self._remaining() <= 0:
            raise AgentError("timeout", f"The agent ran out of time ({limits.max_seconds:.0f} s).")

    def _remaining(self) -> float:
        return self.limits.max_seconds - (time.monotonic() - self.started)

    async def _run_tools(self, content: list[Any]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for block in content:
            if getattr(block, "type", None) != "tool_use":
                continue
            if self.usage.tool_calls >= self.limits.max_tool_calls:
                raise AgentError("budget", f"The agent ran out of budget: {self.limits.max_tool_calls} tool calls.")
            self.usage.tool_calls += 1
            outcome = await asyncio.to_thread(self.executor.run, block.name, block.input)
            result: dict[str, Any] = {"type": "tool_result", "tool_use_id": block.id,
                                      "content": [{"type": "text", "text": outcome.content}]}
            if outcome.is_error:
                result["is_error"] = True
            results.append(result)
        if not results:
            raise AgentError("api", "The model asked for a tool without naming one.")
        return results

    # ------------------------------------------------------------------ requests

    def _request_body(self) -> dict[str, Any]:
        messages = copy.deepcopy(self.messages)
        # A moving breakpoint on the newest user message: each turn reads the previous turns from the cache
        # (tools, system and profile hold the other three of the four breakpoints allowed).
        last = messages[-1]
        if last["role"] == "user" and last["content"]:
            last["content"][-1]["cache_control"] = {"type": "ephemeral"}
        return {"model": self.settings.model, "max_tokens": self.limits.max_output_tokens, "system": self.system,
                "tools": self.tools, "messages": messages}

    async def _request(self) -> Any:
        import anthropic
        body = self._request_body()
        for attempt in range(self.limits.retries + 1):
            try:
                async with asyncio.timeout(max(self._remaining(), 0.001)):
                    return await self._call(body)
            except TimeoutError:
                raise AgentError("timeout", f"The agent ran out of time ({self.limits.max_seconds:.0f} s).") from None
            except anthropic.APIError as error:
                mapped = map_error(error, self.settings)
                wait = _retry_wait(error, mapped, attempt, self.limits)
                if wait is None or attempt == self.limits.retries or wait >= self._remaining():
                    raise mapped from None
                self.progress(f"{mapped.kind.replace('_', ' ')}: retrying in {wait:.0f} s")
                await asyncio.sleep(wait)
        raise AgentError("api", "The request failed.")  # not reached: the loop returns or raises

    async def _call(self, body: dict[str, Any]) -> Any:
        if self._client is None:
            self._client = self.settings.client()
        client = self._client
        if not self.settings.stream:
            message = await client.messages.create(**body)
            self.usage.add(message.usage)
            return message
        async with client.messages.stream(**body) as stream:
            message = await stream.get_final_message()
        self.usage.add(message.usage)
        return message


# --------------------------------------------------------------------------------------------- errors


def map_error(error: anthropic.APIError, settings: AgentSettings) -> AgentError:
    """An actionable message for each way the API can fail."""
    import anthropic
    detail = _error_detail(error)
    if isinstance(error, anthropic.APITimeoutError):
        waited = settings.limits.request_timeout
        return AgentError("timeout", f"The Anthropic API did not answer within {waited:.0f} s; try again, or later "
                                     "if it keeps happening.")
    if isinstance(error, anthropic.APIConnectionError):
        where = settings.base_url or "https://api.anthropic.com"
        return AgentError("connection", f"Cannot reach the Anthropic API at {where}: check the network, a proxy, "
                                        "or ANTHROPIC_BASE_URL.")
    status = getattr(error, "status_code", None)
    if status == 401:
        return AgentError("auth", f"The Anthropic API rejected the key (401 {detail}): check or replace it; "
                                  f"{KEY_HELP}.")
    if status == 403:
        return AgentError("permission", f"The key may not use {settings.model} (403 {detail}): choose another model "
                                        f"with the agent.model setting or {MODEL_VARIABLE}.")
    if status == 404:
        return AgentError("model", f"Model {settings.model!r} was not found (404 {detail}): set the agent.model "
                                   f"setting or {MODEL_VARIABLE} to a model your key can use.")
    if status == 402 or (status in (400, 429) and is_spend_limit(detail)):
        return AgentError("spend_limit", f"The Anthropic account's spend limit or credit is used up ({status} "
                                         f"{detail}): raise the limit or add credit in the Console (Settings → "
                                         "Limits / Billing). Not retried.")
    if status == 429:
        return AgentError("rate_limit", f"Rate limited by the Anthropic API (429 {detail}): wait a minute and try "
                                        "again, or ask for higher rate limits.")
    if status == 529:
        return AgentError("overloaded", "The Anthropic API is overloaded (529): try again in a few minutes.")
    if status == 413:
        return AgentError("budget", f"The request was too large for the API (413 {detail}).")
    if status is not None and status >= 500:
        return AgentError("api", f"The Anthropic API failed ({status} {detail}): try again later.")
    return AgentError("api", f"The Anthropic API refused the request ({status} {detail}).")


def is_spend_limit(detail: str) -> bool:
    lowered = detail.lower()
    return any(word in lowered for word in _SPEND_WORDS)


def _error_detail(error: anthropic.APIError) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"][:300]
    return str(getattr(error, "message", "") or error)[:300]


def _retry_wait(error: anthropic.APIError, mapped: AgentError, attempt: int, limits: Limits) -> float | None:
    """Seconds to wait before retrying, or None when retrying cannot help."""
    if mapped.kind not in ("rate_limit", "overloaded", "api", "connection"):
        return None
    if mapped.kind == "api" and (getattr(error, "status_code", None) or 0) < 500:
        return None
    wait = limits.retry_delay * (2 ** attempt)
    response = getattr(error, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    if header:
        try:
            wait = float(header)
        except ValueError:
            pass
    return min(max(wait, 0.0), limits.max_retry_wait)


# --------------------------------------------------------------------------------------------- messages


def _block_param(block: Any) -> dict[str, Any]:
    """An assistant content block as it is sent back in the next request."""
    kind = getattr(block, "type", None)
    if kind == "text":
        return {"type": "text", "text": block.text}
    if kind == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    if kind == "thinking":
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    if kind == "redacted_thinking":
        return {"type": "redacted_thinking", "data": block.data}
    return block.to_dict()


def _text_of(content: list[Any]) -> str:
    return "\n".join(block.text for block in content if getattr(block, "type", None) == "text").strip()
